/**
 * Untrusted input (issue 3, "Bad input"): random and mutated segments fed into an established
 * connection that is also receiving a known byte stream never throw and never change the
 * delivered byte stream; random segments in every state never throw.
 *
 * What "never change the delivered stream" can mean: a segment whose sequence number lands
 * in the receive window with a plausible ACK is, to any TCP, data (RFC 5961 6 discusses such
 * blind injection; only cryptography stops it). So garbage that carries data either carries
 * the stream's own bytes for the sequence numbers it claims — which catches every off-by-one in
 * trimming, reassembly and the ring — or random bytes outside the window. A garbage RST at
 * exactly RCV.NXT or a garbage FIN may legitimately end the stream early; then what was
 * delivered must still be a prefix of the stream. When the connection survives, sending the
 * real segments once more must complete the stream exactly.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { TcpConnection } from '../../../src/core/tcp/connection.js';
import type { TcpOption, TcpRepr } from '../../../src/wire/tcp.js';
import { seqAdd, seqDiff } from '../../../src/wire/seq.js';
import { millis } from '../../../src/time/instant.js';
import { FUZZ_RUNS } from '../../support/runs.js';
import {
  ACK, FIN, LOCAL, PSH, REMOTE, RST, SYN, closeWaitConnection, closingConnection, establishedConnection, finWait1Connection,
  finWait2Connection, l, lastAckConnection, r, synReceivedConnection, synSentConnection, timeWaitConnection, write,
} from './harness.js';

/** The stream's byte at stream offset k (any integer, taken modulo 2^32): position-dependent. */
function streamByte(k: number): number {
  const x = k >>> 0;
  return (x * 7 + (x >>> 8) * 13 + (x >>> 16) * 17 + 5) & 0xff;
}

/** `len` bytes of the stream as they would sit at sequence number `seq` (stream offset 0 is r(1)). */
function streamBytes(seq: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  const base = seqDiff(seq >>> 0, r(1));
  for (let i = 0; i < len; i++) out[i] = streamByte(base + i);
  return out;
}

const OUR_DATA = 'hello';
const ACK_OF_OUR_DATA = l(1 + OUR_DATA.length);

function realSegment(offset: number, len: number, psh: boolean): TcpRepr {
  const seq = seqAdd(r(1), offset);
  return {
    srcPort: REMOTE.port, dstPort: LOCAL.port, seqNumber: seq, ackNumber: ACK_OF_OUR_DATA, flags: ACK | (psh ? PSH : 0),
    reserved: 0, window: 65535, urgentPointer: 0, options: [], optionsPadding: 0, payload: streamBytes(seq, len),
  };
}

const optionArb: fc.Arbitrary<TcpOption> = fc.oneof(
  fc.constant<TcpOption>({ kind: 'nop' }),
  fc.constant<TcpOption>({ kind: 'eol' }),
  fc.integer({ min: 0, max: 0xffff }).map<TcpOption>((value) => ({ kind: 'mss', value })),
  fc.integer({ min: 0, max: 255 }).map<TcpOption>((shift) => ({ kind: 'window-scale', shift })),
  fc.constant<TcpOption>({ kind: 'sack-permitted' }),
  fc.array(fc.record({ left: fc.nat(), right: fc.nat() }), { maxLength: 4 }).map<TcpOption>((blocks) => ({ kind: 'sack', blocks })),
  fc.record({ tsVal: fc.nat(), tsEcr: fc.nat() }).map<TcpOption>(({ tsVal, tsEcr }) => ({ kind: 'timestamps', tsVal, tsEcr })),
  fc.record({ type: fc.integer({ min: 0, max: 255 }), data: fc.uint8Array({ maxLength: 38 }) }).map<TcpOption>(({ type, data }) => ({ kind: 'unknown', type, data })),
);

/** Sequence numbers near the interesting places, and anywhere. */
const seqArb = fc.oneof(
  fc.integer({ min: 0, max: 0xffff_ffff }),
  fc.integer({ min: -70_000, max: 70_000 }).map((d) => seqAdd(r(1), d)),
  fc.integer({ min: -10, max: 10 }).map((d) => seqAdd(r(1), d)),
);
const ackArb = fc.oneof(
  fc.integer({ min: 0, max: 0xffff_ffff }),
  fc.integer({ min: -70_000, max: 70_000 }).map((d) => seqAdd(ACK_OF_OUR_DATA, d)),
  fc.constantFrom(l(0), l(1), ACK_OF_OUR_DATA, l(7)),
);

/** A garbage segment; `payloadMode` says how its bytes relate to the stream. */
interface Garbage {
  seq: number;
  ack: number;
  flags: number;
  window: number;
  urgentPointer: number;
  reserved: number;
  options: TcpOption[];
  len: number;
  randomBytes: Uint8Array;
  farAway: boolean;
}

const garbageArb: fc.Arbitrary<Garbage> = fc.record({
  seq: seqArb,
  ack: ackArb,
  flags: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(ACK, ACK | PSH, ACK | FIN, RST, RST | ACK, SYN, SYN | ACK, ACK | 0x20)),
  window: fc.integer({ min: 0, max: 0xffff }),
  urgentPointer: fc.integer({ min: 0, max: 0xffff }),
  reserved: fc.integer({ min: 0, max: 15 }),
  options: fc.array(optionArb, { maxLength: 6 }),
  len: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 3000 })),
  randomBytes: fc.uint8Array({ minLength: 1, maxLength: 100 }),
  farAway: fc.boolean(),
});

/** Turns a garbage description into a segment, given where the receive window is now. */
function garbageSegment(g: Garbage, rcvNxt: number): TcpRepr {
  let seq = g.seq >>> 0;
  let payload: Uint8Array;
  if (g.farAway && g.len > 0) {
    // Random bytes, but placed where no window reaches: half the sequence space away.
    seq = seqAdd(rcvNxt, 0x8000_0000 + (g.seq % 0x1000_0000));
    payload = g.randomBytes;
  } else {
    payload = streamBytes(seq, g.len);
  }
  return {
    srcPort: REMOTE.port, dstPort: LOCAL.port, seqNumber: seq, ackNumber: g.ack >>> 0, flags: g.flags, reserved: g.reserved,
    window: g.window, urgentPointer: g.urgentPointer, options: g.options, optionsPadding: 0, payload,
  };
}

type Mutation =
  | { k: 'flags'; flags: number }
  | { k: 'ack'; ack: number }
  | { k: 'seq'; delta: number }
  | { k: 'window'; window: number }
  | { k: 'truncate'; len: number }
  | { k: 'options'; options: TcpOption[] }
  | { k: 'urgent'; up: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.integer({ min: 0, max: 255 }).map<Mutation>((flags) => ({ k: 'flags', flags })),
  ackArb.map<Mutation>((ack) => ({ k: 'ack', ack })),
  fc.integer({ min: -3000, max: 3000 }).map<Mutation>((delta) => ({ k: 'seq', delta })),
  fc.integer({ min: 0, max: 0xffff }).map<Mutation>((window) => ({ k: 'window', window })),
  fc.integer({ min: 0, max: 2000 }).map<Mutation>((len) => ({ k: 'truncate', len })),
  fc.array(optionArb, { maxLength: 6 }).map<Mutation>((options) => ({ k: 'options', options })),
  fc.integer({ min: 0, max: 0xffff }).map<Mutation>((up) => ({ k: 'urgent', up })),
);

function mutate(seg: TcpRepr, m: Mutation): TcpRepr {
  switch (m.k) {
    case 'flags': return { ...seg, flags: m.flags };
    case 'ack': return { ...seg, ackNumber: m.ack >>> 0 };
    case 'seq': {
      const seq = seqAdd(seg.seqNumber, m.delta);
      return { ...seg, seqNumber: seq, payload: streamBytes(seq, seg.payload.length) };
    }
    case 'window': return { ...seg, window: m.window };
    case 'truncate': return { ...seg, payload: seg.payload.subarray(0, Math.min(seg.payload.length, m.len)) };
    case 'options': return { ...seg, options: m.options };
    case 'urgent': return { ...seg, flags: seg.flags | 0x20, urgentPointer: m.up };
  }
}

type Step =
  | { k: 'real'; index: number }
  | { k: 'garbage'; g: Garbage }
  | { k: 'mutated'; index: number; m: Mutation }
  | { k: 'read'; max: number }
  | { k: 'tick'; ms: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.nat().map<Step>((index) => ({ k: 'real', index })) },
  { weight: 3, arbitrary: garbageArb.map<Step>((g) => ({ k: 'garbage', g })) },
  { weight: 3, arbitrary: fc.record({ index: fc.nat(), m: mutationArb }).map<Step>(({ index, m }) => ({ k: 'mutated', index, m })) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 5000 }).map<Step>((max) => ({ k: 'read', max })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 300 }).map<Step>((ms) => ({ k: 'tick', ms })) },
);

/** Cuts [0, total) into segments of the given sizes (cycled). */
function cut(total: number, sizes: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let at = 0;
  let i = 0;
  while (at < total) {
    const len = Math.min(total - at, sizes[i % sizes.length]!);
    out.push([at, len]);
    at += len;
    i++;
  }
  return out;
}

class Receiver {
  readonly delivered: number[] = [];
  now = 0;
  constructor(readonly conn: TcpConnection) {}

  pump(): void {
    for (let seg = this.conn.pollTransmit(this.now); seg !== undefined; seg = this.conn.pollTransmit(this.now)) {
      assert.ok(Number.isInteger(seg.seqNumber) && seg.seqNumber >= 0 && seg.seqNumber <= 0xffff_ffff);
      assert.ok(Number.isInteger(seg.window) && seg.window >= 0 && seg.window <= 0xffff);
    }
    for (let e = this.conn.pollEvent(); e !== undefined; e = this.conn.pollEvent()) void e;
    const t = this.conn.pollTimeout();
    assert.ok(t === undefined || Number.isFinite(t));
  }

  read(max?: number): void {
    const data = this.conn.recv(this.now, max);
    if (data !== undefined) for (const b of data) this.delivered.push(b);
  }

  feed(seg: TcpRepr): void {
    this.conn.handleSegment(this.now, seg);
    this.pump();
  }

  tick(ms: number): void {
    this.now += millis(ms);
    const t = this.conn.pollTimeout();
    if (t !== undefined && t <= this.now) this.conn.handleTimeout(this.now);
    this.pump();
  }

  checkPrefix(): void {
    for (let i = 0; i < this.delivered.length; i++) {
      if (this.delivered[i] !== streamByte(i)) assert.fail(`delivered byte ${i} is ${this.delivered[i]}, the stream has ${streamByte(i)}`);
    }
  }
}

describe('fuzz: an established connection receiving a known stream', () => {
  test('random and mutated segments never throw and never change the delivered bytes', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 30_000 }),
      fc.array(fc.integer({ min: 1, max: 1460 }), { minLength: 1, maxLength: 8 }),
      // size 'max': fast-check's default size stopped the list at about 10 steps.
      fc.array(stepArb, { maxLength: 80, size: 'max' }),
      fc.boolean(),
      (total, sizes, steps, delayed) => {
        const conn = establishedConnection({ config: { delayedAck: delayed ? millis(40) : 0 } });
        const rx = new Receiver(conn);
        write(conn, OUR_DATA);
        rx.pump();
        const real = cut(total, sizes).map(([off, len], i, all) => realSegment(off, len, i === all.length - 1));
        // A garbage FIN inside the window ends the stream as legitimately as a real one.
        let garbageFin = false;
        const feedGarbage = (seg: TcpRepr): void => {
          if ((seg.flags & FIN) !== 0) garbageFin = true;
          rx.feed(seg);
        };
        for (const step of steps) {
          const rcvNxt = seqAdd(r(1), conn.info().bytesReceived);
          switch (step.k) {
            case 'real':
              if (real.length > 0) rx.feed(real[step.index % real.length]!);
              break;
            case 'garbage':
              feedGarbage(garbageSegment(step.g, rcvNxt));
              break;
            case 'mutated':
              if (real.length > 0) feedGarbage(mutate(real[step.index % real.length]!, step.m));
              break;
            case 'read':
              rx.read(step.max);
              break;
            case 'tick':
              rx.tick(step.ms);
              break;
          }
          rx.checkPrefix();
        }
        rx.read();
        rx.checkPrefix();
        if (conn.state !== 'ESTABLISHED') return;
        // The connection survived: the real stream, once more in order, must complete it.
        for (const seg of real) {
          rx.feed(seg);
          rx.read();
        }
        rx.checkPrefix();
        if (garbageFin) return;
        assert.equal(conn.state, 'ESTABLISHED');
        // Garbage may have carried the stream's own bytes beyond `total`: at least all of it.
        assert.ok(rx.delivered.length >= total, `all ${total} bytes delivered, got ${rx.delivered.length} (state ${conn.state})`);
      },
    ), { numRuns: Math.max(100, Math.floor(FUZZ_RUNS / 10)) });
  });
});

describe('fuzz: random segments in every state', () => {
  const factories: Array<[string, () => TcpConnection]> = [
    ['SYN-SENT', () => synSentConnection()],
    ['SYN-RECEIVED', () => synReceivedConnection()],
    ['ESTABLISHED', () => establishedConnection()],
    ['FIN-WAIT-1', () => finWait1Connection()],
    ['FIN-WAIT-2', () => finWait2Connection()],
    ['CLOSE-WAIT', () => closeWaitConnection()],
    ['CLOSING', () => closingConnection()],
    ['LAST-ACK', () => lastAckConnection()],
    ['TIME-WAIT', () => timeWaitConnection()],
  ];
  for (const [name, make] of factories) {
    test(`${name}: never throws, keeps its invariants`, () => {
      fc.assert(fc.property(fc.array(fc.oneof(
        garbageArb.map((g) => ({ g, ms: 0 })),
        fc.integer({ min: 0, max: 5000 }).map((ms) => ({ g: undefined, ms })),
      ), { maxLength: 40, size: 'max' }), (steps) => { // size 'max': up to 40 steps, not about 10
        const conn = make();
        const rx = new Receiver(conn);
        if (conn.state === 'ESTABLISHED' || conn.state === 'CLOSE-WAIT') write(conn, OUR_DATA);
        rx.pump();
        for (const s of steps) {
          if (s.g !== undefined) rx.feed(garbageSegment(s.g, r(1)));
          else rx.tick(s.ms);
          rx.read();
          const info = conn.info();
          for (const v of [info.cwnd, info.ssthresh, info.rto, info.sendWindow, info.receiveWindow, info.mss, info.sendQueue, info.receiveQueue]) {
            assert.ok(Number.isFinite(v) && v >= 0, `finite figures in ${conn.state}`);
          }
          assert.ok(info.receiveWindow <= 0xffff);
          if (conn.state === 'CLOSED') assert.equal(conn.pollTimeout(), undefined, 'no timer after CLOSED');
        }
      }), { numRuns: Math.max(50, Math.floor(FUZZ_RUNS / 100)) });
    });
  }

  test('huge payloads and odd field values do not throw', () => {
    const conn = establishedConnection();
    const huge = new Uint8Array(1 << 20);
    const weird: TcpRepr = {
      srcPort: REMOTE.port, dstPort: LOCAL.port, seqNumber: r(1), ackNumber: l(1), flags: ACK, reserved: 0, window: 70000,
      urgentPointer: -5, options: [{ kind: 'mss', value: -1 }], optionsPadding: 0, payload: huge,
    };
    conn.handleSegment(0, weird);
    conn.handleSegment(0, { ...weird, seqNumber: Number.NaN, ackNumber: 2 ** 40, flags: 1e9, payload: huge.subarray(0, 10) });
    for (let s = conn.pollTransmit(0); s !== undefined; s = conn.pollTransmit(0)) void s;
    assert.equal(conn.receiveAvailable, 8192);
  });
});
