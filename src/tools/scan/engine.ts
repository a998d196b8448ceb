/**
 * The scan engine: which probe to send next, when a probe has waited long enough, when to
 * retransmit, and what each (host, port) came out as. It is sans-IO like the core (DESIGN.md):
 * time comes in as `now` from whoever drives it (the TUN driver, the virtual network, or the
 * connect scanner's loop), and it never sends, reads or sets a timer itself. Its surface:
 *
 * 1. `pollProbe(now)` until undefined: each result is one probe (host, port, try number)
 *    to send now; the engine has counted it as outstanding.
 * 2. `report(now, …)` for each reply that decides a port (see verdict.ts).
 * 3. `handleTimeout(now)` once `now` reaches `pollTimeout()`: tries that went unanswered
 *    are queued for retransmission or, after the last, decided by silence.
 * 4. `pollEvent()` until undefined, for what the driver wants to know (a port decided, a
 *    try expired).
 *
 * Timing follows nmap's (timing.cc, and nmap(1) "Timing and Performance"). "Nmap maintains
 * a running timeout value for determining how long it will wait for a probe response before
 * giving up or retransmitting the probe. This is calculated based on the response times of
 * previous probes": per host, srtt and rttvar from every reply whose try is known (the try
 * number travels in the probe, so a reply to a retransmission is never mistaken for one to
 * the first try), the first sample setting rttvar to the sample clamped to [5 ms, 2 s], then
 * gains 1/8 and 1/4; the timeout is srtt + 4·rttvar clamped to [minTimeout, maxTimeout],
 * and `initialTimeout` before the first sample. Congestion: at most `window` probes are
 * outstanding, the window growing by one per reply below `ssthresh` (slow start) and by
 * 1/window above; a reply to a retransmitted probe means an earlier try was lost, and halves
 * the window (at most once per round trip), as nmap's drop detection does. `rate`, when
 * given, caps probes per second with a token bucket (nmap's --max-rate). Retransmissions go
 * out before new probes. Probes are sent port by port across every host.
 */
import type { Duration, Instant } from '../../time/instant.js';
import { silenceVerdict, type ScanType, type Verdict } from './verdict.js';

/** Options of an engine. */
export interface EngineOptions {
  /** How many hosts (numbered 0..hosts-1). */
  readonly hosts: number;
  /** The ports, in the order to probe them (every host gets every port). */
  readonly ports: readonly number[];
  /** What silence means (filtered for TCP, open|filtered for UDP). */
  readonly type: ScanType;
  /** Tries after the first before silence decides; default 2. 0-10. */
  readonly retries?: number;
  /** Lower bound of the adaptive timeout; default 100 ms (nmap's --min-rtt-timeout). */
  readonly minTimeout?: Duration;
  /** Upper bound of the adaptive timeout; default 1 s (nmap -T4's is 1.25 s). */
  readonly maxTimeout?: Duration;
  /** Timeout before any reply measured an RTT; default `maxTimeout` (nmap's --initial-rtt-timeout). */
  readonly initialTimeout?: Duration;
  /** Probes per second at most (token bucket); default unlimited. */
  readonly rate?: number;
  /** Most probes outstanding at once; default 512. */
  readonly concurrency?: number;
  /** Window at the start; default 10 (nmap's initial congestion window). */
  readonly initialWindow?: number;
}

/** One probe the driver must send now. */
export interface Probe {
  readonly host: number;
  readonly port: number;
  /** 0 for the first try, 1 for the first retransmission, … */
  readonly tryNo: number;
}

/** Something the driver may want to act on. */
export type EngineEvent =
  | { readonly kind: 'decided'; readonly host: number; readonly port: number; readonly verdict: Verdict; readonly answered: boolean }
  | { readonly kind: 'expired'; readonly host: number; readonly port: number; readonly tryNo: number };

/** What a port came out as. */
export interface PortOutcome {
  readonly port: number;
  readonly verdict: Verdict;
  /** TTL (hop limit) of the reply, when a packet decided it. */
  readonly ttl?: number;
  /** Tries sent. */
  readonly tries: number;
}

/** A host's timing, for reports (µs). */
export interface HostTiming {
  /** Smoothed RTT, or undefined before any sample. */
  readonly srtt: Duration | undefined;
  readonly rttvar: Duration | undefined;
  /** The timeout in force. */
  readonly timeout: Duration;
  /** True when something came back from the host itself. */
  readonly answered: boolean;
}

/** Counters of an engine. */
export interface EngineStats {
  probesSent: number;
  retransmissions: number;
  replies: number;
  /** Replies that showed an earlier try had been lost. */
  drops: number;
  /** Replies for a port already decided, or never probed. */
  ignored: number;
}

/** Limits on the engine's size. */
export const MAX_PROBE_SLOTS = 1 << 24;
/** The most retries. */
export const MAX_RETRIES = 10;

const PENDING = 0;
const OUTSTANDING = 1;
const QUEUED = 2;
const DONE = 3;

/** A min-heap of (deadline, slot, try) with lazy deletion. */
class DeadlineHeap {
  #at: number[] = [];
  #slot: number[] = [];
  #try: number[] = [];

  get size(): number { return this.#at.length; }
  peekAt(): number | undefined { return this.#at[0]; }
  peekSlot(): number { return this.#slot[0]!; }
  peekTry(): number { return this.#try[0]!; }

  push(at: number, slot: number, tryNo: number): void {
    const a = this.#at, s = this.#slot, t = this.#try;
    let i = a.length;
    a.push(at); s.push(slot); t.push(tryNo);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= at) break;
      a[i] = a[p]!; s[i] = s[p]!; t[i] = t[p]!;
      i = p;
    }
    a[i] = at; s[i] = slot; t[i] = tryNo;
  }

  pop(): void {
    const a = this.#at, s = this.#slot, t = this.#try;
    const lastAt = a.pop()!, lastSlot = s.pop()!, lastTry = t.pop()!;
    const n = a.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const c = l + 1 < n && a[l + 1]! < a[l]! ? l + 1 : l;
      if (a[c]! >= lastAt) break;
      a[i] = a[c]!; s[i] = s[c]!; t[i] = t[c]!;
      i = c;
    }
    a[i] = lastAt; s[i] = lastSlot; t[i] = lastTry;
  }
}

/** The engine (see the module doc). */
export class ScanEngine {
  readonly hosts: number;
  readonly ports: readonly number[];
  readonly type: ScanType;
  readonly retries: number;
  readonly minTimeout: Duration;
  readonly maxTimeout: Duration;
  readonly initialTimeout: Duration;
  readonly rate: number | undefined;
  readonly concurrency: number;
  readonly stats: EngineStats = { probesSent: 0, retransmissions: 0, replies: 0, drops: 0, ignored: 0 };

  readonly #portIndex = new Int32Array(65536).fill(-1);
  readonly #slots: number;
  readonly #state: Uint8Array;
  readonly #tries: Uint8Array;
  readonly #sentAt: Float64Array;
  /** Send times of earlier tries, for slots retransmitted (try -> instant). */
  readonly #earlier = new Map<number, number[]>();
  readonly #verdict: (Verdict | undefined)[];
  readonly #ttl: Int16Array;
  readonly #srtt: Float64Array;
  readonly #rttvar: Float64Array;
  readonly #answered: Uint8Array;
  readonly #deadlines = new DeadlineHeap();
  #retransmit: number[] = [];
  #retransmitHead = 0;
  #nextNew = 0;
  #outstanding = 0;
  #decided = 0;
  #window: number;
  #ssthresh: number;
  #lastDropAt = -Infinity;
  #tokens: number;
  readonly #burst: number;
  #refilledAt: Instant | undefined;
  #aborted = false;
  readonly #events: EngineEvent[] = [];
  #eventHead = 0;

  constructor(options: EngineOptions) {
    if (!Number.isInteger(options.hosts) || options.hosts < 0) throw new RangeError(`hosts ${options.hosts} is not a count`);
    this.hosts = options.hosts;
    this.ports = options.ports;
    this.type = options.type;
    this.retries = options.retries ?? 2;
    if (!Number.isInteger(this.retries) || this.retries < 0 || this.retries > MAX_RETRIES) throw new RangeError(`retries ${this.retries} is outside 0-${MAX_RETRIES}`);
    this.maxTimeout = options.maxTimeout ?? 1_000_000;
    this.minTimeout = Math.min(options.minTimeout ?? 100_000, this.maxTimeout);
    this.initialTimeout = Math.min(Math.max(options.initialTimeout ?? this.maxTimeout, this.minTimeout), this.maxTimeout);
    this.rate = options.rate;
    if (this.rate !== undefined && !(this.rate > 0)) throw new RangeError(`rate ${this.rate} is not positive`);
    this.concurrency = options.concurrency ?? 512;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) throw new RangeError(`concurrency ${this.concurrency} is not a positive integer`);
    this.#window = Math.min(options.initialWindow ?? 10, this.concurrency);
    this.#ssthresh = this.concurrency;
    this.#burst = this.rate === undefined ? Infinity : Math.max(1, Math.min(this.rate / 50, 100));
    this.#tokens = this.rate === undefined ? Infinity : 1;
    options.ports.forEach((port, i) => {
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port ${port} is not a port number`);
      if (this.#portIndex[port] !== -1) throw new RangeError(`port ${port} is listed twice`);
      this.#portIndex[port] = i;
    });
    this.#slots = this.hosts * options.ports.length;
    if (this.#slots > MAX_PROBE_SLOTS) throw new RangeError(`${this.hosts} hosts × ${options.ports.length} ports is more than ${MAX_PROBE_SLOTS} probes`);
    this.#state = new Uint8Array(this.#slots);
    this.#tries = new Uint8Array(this.#slots);
    this.#sentAt = new Float64Array(this.#slots);
    this.#verdict = new Array<Verdict | undefined>(this.#slots);
    this.#ttl = new Int16Array(this.#slots).fill(-1);
    this.#srtt = new Float64Array(this.hosts).fill(-1);
    this.#rttvar = new Float64Array(this.hosts).fill(-1);
    this.#answered = new Uint8Array(this.hosts);
  }

  /** Probes in all: hosts × ports. */
  get total(): number { return this.#slots; }
  /** (host, port) pairs decided so far. */
  get decided(): number { return this.#decided; }
  /** Probes sent and not yet answered or expired. */
  get outstanding(): number { return this.#outstanding; }
  /** The congestion window (probes). */
  get window(): number { return this.#window; }
  /** True once every port of every host is decided, or after `abort()`. */
  get done(): boolean { return this.#aborted || this.#decided === this.#slots; }
  /** True after `abort()`. */
  get aborted(): boolean { return this.#aborted; }

  /** Stops: no more probes; undecided ports stay undecided. */
  abort(): void {
    this.#aborted = true;
  }

  /** The timeout in force for `host`, µs. */
  timeoutFor(host: number): Duration {
    const srtt = this.#srtt[host]!;
    if (srtt < 0) return this.initialTimeout;
    return Math.min(this.maxTimeout, Math.max(this.minTimeout, Math.round(srtt + 4 * this.#rttvar[host]!)));
  }

  /** The next probe to send at `now`, or undefined (window full, rate limit, nothing left). */
  pollProbe(now: Instant): Probe | undefined {
    if (this.#aborted) return undefined;
    if (this.#outstanding >= Math.floor(this.#window)) return undefined;
    if (this.rate !== undefined) {
      this.#refill(now);
      if (this.#tokens < 1) return undefined;
    }
    const slot = this.#nextSlot();
    if (slot === undefined) return undefined;
    if (this.rate !== undefined) this.#tokens -= 1;
    const tryNo = this.#tries[slot]!;
    if (tryNo > 0) {
      let list = this.#earlier.get(slot);
      if (!list) this.#earlier.set(slot, list = []);
      list[tryNo - 1] = this.#sentAt[slot]!;
      this.stats.retransmissions++;
    }
    this.#tries[slot] = tryNo + 1;
    this.#sentAt[slot] = now;
    this.#state[slot] = OUTSTANDING;
    this.#outstanding++;
    this.stats.probesSent++;
    const host = (slot / this.ports.length) | 0;
    this.#deadlines.push(now + this.timeoutFor(host), slot, tryNo);
    return { host, port: this.ports[slot - host * this.ports.length]!, tryNo };
  }

  /**
   * A reply decided `port` of `host`. `tryNo` is the try it answers when the reply tells
   * (then it is an RTT sample), else undefined. `answered`: the reply came from the host
   * itself (not a router), so the host is up. A port already decided keeps its first verdict.
   */
  report(now: Instant, host: number, port: number, tryNo: number | undefined, verdict: Verdict, info: { ttl?: number; answered?: boolean } = {}): void {
    const slot = this.#slotOf(host, port);
    if (slot === undefined || this.#state[slot] === DONE || this.#state[slot] === PENDING) {
      this.stats.ignored++;
      return;
    }
    this.stats.replies++;
    if (info.answered !== false) this.#answered[host] = 1;
    const tries = this.#tries[slot]!;
    if (tryNo !== undefined && tryNo < tries) {
      const sent = tryNo === tries - 1 ? this.#sentAt[slot]! : this.#earlier.get(slot)?.[tryNo];
      if (sent !== undefined) {
        this.#sample(host, now - sent);
        if (tryNo > 0) this.#drop(now, sent);
        else this.#grow();
      }
    } else {
      this.#grow();
    }
    if (this.#state[slot] === OUTSTANDING) this.#outstanding--;
    this.#decide(slot, host, port, verdict, info.ttl, info.answered !== false);
  }

  /** When `handleTimeout` must next run (or the next token of the rate limit arrives), or undefined. */
  pollTimeout(): Instant | undefined {
    if (this.#aborted) return undefined;
    let next = this.#deadlines.peekAt();
    if (this.rate !== undefined && this.#tokens < 1 && this.#outstanding < Math.floor(this.#window) && this.#hasWork() && this.#refilledAt !== undefined) {
      const tokenAt = this.#refilledAt + Math.ceil(((1 - this.#tokens) * 1e6) / this.rate);
      if (next === undefined || tokenAt < next) next = tokenAt;
    }
    return next;
  }

  /** Expires every try whose deadline is at or before `now`. */
  handleTimeout(now: Instant): void {
    const heap = this.#deadlines;
    while (heap.size > 0 && heap.peekAt()! <= now) {
      const slot = heap.peekSlot();
      const tryNo = heap.peekTry();
      heap.pop();
      // Stale entries: the port was decided, or a later try is out.
      if (this.#state[slot] !== OUTSTANDING || this.#tries[slot]! - 1 !== tryNo) continue;
      this.#outstanding--;
      const host = (slot / this.ports.length) | 0;
      const port = this.ports[slot - host * this.ports.length]!;
      this.#events.push({ kind: 'expired', host, port, tryNo });
      if (tryNo < this.retries && !this.#aborted) {
        this.#state[slot] = QUEUED;
        this.#retransmit.push(slot);
      } else {
        this.#decide(slot, host, port, silenceVerdict(this.type), undefined, false);
      }
    }
  }

  /** The next event, or undefined. */
  pollEvent(): EngineEvent | undefined {
    if (this.#eventHead >= this.#events.length) {
      if (this.#events.length > 0) { this.#events.length = 0; this.#eventHead = 0; }
      return undefined;
    }
    return this.#events[this.#eventHead++];
  }

  /** What `port` of `host` came out as, or undefined while undecided. */
  outcome(host: number, port: number): PortOutcome | undefined {
    const slot = this.#slotOf(host, port);
    if (slot === undefined) return undefined;
    const verdict = this.#verdict[slot];
    if (verdict === undefined) return undefined;
    const ttl = this.#ttl[slot]!;
    return ttl >= 0 ? { port, verdict, ttl, tries: this.#tries[slot]! } : { port, verdict, tries: this.#tries[slot]! };
  }

  /** Every decided port of `host`, in port order. */
  outcomes(host: number): PortOutcome[] {
    const out: PortOutcome[] = [];
    for (const port of [...this.ports].sort((a, b) => a - b)) {
      const o = this.outcome(host, port);
      if (o) out.push(o);
    }
    return out;
  }

  /** A host's timing and whether it answered. */
  hostTiming(host: number): HostTiming {
    const srtt = this.#srtt[host]!;
    return {
      srtt: srtt < 0 ? undefined : Math.round(srtt),
      rttvar: srtt < 0 ? undefined : Math.round(this.#rttvar[host]!),
      timeout: this.timeoutFor(host),
      answered: this.#answered[host] === 1,
    };
  }

  #slotOf(host: number, port: number): number | undefined {
    if (!Number.isInteger(host) || host < 0 || host >= this.hosts || !Number.isInteger(port) || port < 0 || port > 65535) return undefined;
    const i = this.#portIndex[port]!;
    return i < 0 ? undefined : host * this.ports.length + i;
  }

  #hasWork(): boolean {
    return this.#retransmitHead < this.#retransmit.length || this.#nextNew < this.#slots;
  }

  #nextSlot(): number | undefined {
    while (this.#retransmitHead < this.#retransmit.length) {
      const slot = this.#retransmit[this.#retransmitHead++]!;
      if (this.#retransmitHead > 4096 && this.#retransmitHead * 2 > this.#retransmit.length) {
        this.#retransmit = this.#retransmit.slice(this.#retransmitHead);
        this.#retransmitHead = 0;
      }
      if (this.#state[slot] === QUEUED) return slot;
    }
    if (this.#nextNew >= this.#slots) return undefined;
    // Port-major order: every host gets port 0, then port 1, …
    const i = this.#nextNew++;
    const portIdx = (i / this.hosts) | 0;
    const host = i - portIdx * this.hosts;
    return host * this.ports.length + portIdx;
  }

  #refill(now: Instant): void {
    if (this.#refilledAt === undefined) {
      this.#refilledAt = now;
      return;
    }
    if (now <= this.#refilledAt) return;
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#refilledAt) * this.rate!) / 1e6);
    this.#refilledAt = now;
  }

  /** timing.cc adjust_timeouts2: the RTT estimator nmap keeps per host. */
  #sample(host: number, rtt: Duration): void {
    const delta = Math.max(0, rtt);
    const srtt = this.#srtt[host]!;
    if (srtt < 0) {
      this.#srtt[host] = delta;
      this.#rttvar[host] = Math.max(5_000, Math.min(delta, 2_000_000));
      return;
    }
    const rttdelta = delta - srtt;
    // nmap discards a sample wildly beyond the estimate ("probably a bogus packet").
    if (rttdelta > 1_500_000 && rttdelta > 3 * srtt + 2 * this.#rttvar[host]!) return;
    this.#srtt[host] = srtt + rttdelta / 8;
    this.#rttvar[host] = this.#rttvar[host]! + (Math.abs(rttdelta) - this.#rttvar[host]!) / 4;
  }

  #grow(): void {
    if (this.#window < this.#ssthresh) this.#window = Math.min(this.concurrency, this.#window + 1);
    else this.#window = Math.min(this.concurrency, this.#window + 1 / this.#window);
  }

  /** A reply to a retransmission: a try sent at `sentAt` or before was lost. Halve once per round of probes. */
  #drop(now: Instant, sentAt: Instant): void {
    this.stats.drops++;
    if (sentAt <= this.#lastDropAt) return;
    this.#ssthresh = Math.max(2, Math.floor(this.#window / 2));
    this.#window = this.#ssthresh;
    this.#lastDropAt = now;
  }

  #decide(slot: number, host: number, port: number, verdict: Verdict, ttl: number | undefined, answered: boolean): void {
    this.#state[slot] = DONE;
    this.#verdict[slot] = verdict;
    if (ttl !== undefined) this.#ttl[slot] = ttl;
    this.#earlier.delete(slot);
    this.#decided++;
    this.#events.push({ kind: 'decided', host, port, verdict, answered });
  }
}
