/**
 * Two connections talking to each other over an in-memory link with seeded loss, delay,
 * jitter (reordering) and duplication, in virtual time: the bytes arrive intact and in order
 * both ways, both ends close, and no timer is left behind. This drives the connection alone
 * (no host, no IP); the virtual network's scenario tests do the same through whole hosts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TcpConnection } from '../../../src/core/tcp/connection.js';
import { TCP_DEFAULTS } from '../../../src/core/tcp/types.js';
import type { TcpConfig } from '../../../src/core/tcp/types.js';
import type { TcpRepr } from '../../../src/wire/tcp.js';
import { cutRecord } from './harness.js';
import { Rng } from '../../../src/time/rng.js';
import { millis, seconds } from '../../../src/time/instant.js';
import type { Instant } from '../../../src/time/instant.js';

interface Impairments {
  loss: number;
  duplicate: number;
  delay: number;
  jitter: number;
}

interface InFlight {
  at: Instant;
  order: number;
  to: 0 | 1;
  seg: TcpRepr;
}

function copy(seg: TcpRepr): TcpRepr {
  return { ...seg, options: [...seg.options], payload: seg.payload.slice() };
}

/** The application at one end: writes `toSend`, reads everything, closes once all is written. */
class App {
  readonly conn: TcpConnection;
  readonly toSend: Uint8Array;
  written = 0;
  readonly received: Uint8Array[] = [];
  receivedBytes = 0;
  peerClosed = false;
  closed = false;
  connected = false;
  error: string | undefined;
  closeCalled = false;
  /** Bytes to read before writing anything and closing (0: write at once). */
  readFirst = 0;

  constructor(conn: TcpConnection, toSend: Uint8Array) {
    this.conn = conn;
    this.toSend = toSend;
  }

  step(now: Instant): void {
    for (let e = this.conn.pollEvent(); e !== undefined; e = this.conn.pollEvent()) {
      if (e.type === 'connected') this.connected = true;
      else if (e.type === 'peer-closed') this.peerClosed = true;
      else if (e.type === 'closed') this.closed = true;
      else if (e.type === 'error') this.error = e.error;
    }
    for (let d = this.conn.recv(now); d !== undefined; d = this.conn.recv(now)) {
      this.received.push(d);
      this.receivedBytes += d.length;
    }
    if (this.receivedBytes < this.readFirst) return;
    if (this.connected && this.written < this.toSend.length) {
      this.written += this.conn.send(now, this.toSend.subarray(this.written, Math.min(this.toSend.length, this.written + 20_000)));
    }
    if (this.connected && this.written === this.toSend.length && !this.closeCalled) {
      this.closeCalled = true;
      this.conn.close(now);
    }
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.receivedBytes);
    let at = 0;
    for (const d of this.received) {
      out.set(d, at);
      at += d.length;
    }
    return out;
  }
}

function randomBytes(rng: Rng, n: number): Uint8Array {
  const b = new Uint8Array(n);
  rng.fill(b);
  return b;
}

interface Outcome {
  a: App;
  b: App;
  now: Instant;
}

/** One segment as it went onto the link: what a comparison of two runs looks at. */
type Traced = [to: 0 | 1, at: Instant, seq: number, ack: number, flags: number, window: number, length: number, options: string];

/** What a run put on the link, segment by segment, and how many records were cut into several. */
interface Trace {
  readonly segments: Traced[];
  bursts: number;
}

/** How a run drives the pair beyond the link and the configuration. */
interface RunOptions {
  /** Segmentation offload on both ends (bytes; 0 off), records cut as the host cuts them. */
  readonly offload?: number;
  /** Where to record the segments put on the link. */
  readonly trace?: Trace;
  /** Header prediction on both ends (default on). */
  readonly prediction?: boolean;
  /** B closes only once it has read all of A's bytes (a server answering a request), not once it has written its own. */
  readonly bReadsFirst?: boolean;
}

function run(seed: number, sizeA: number, sizeB: number, imp: Impairments, config: Partial<TcpConfig> = {}, options: RunOptions = {}): Outcome {
  const { offload = 0, trace, prediction = true } = options;
  const rng = new Rng(seed);
  const cfg: TcpConfig = { ...TCP_DEFAULTS, sendBufferSize: 64 * 1024, receiveBufferSize: 64 * 1024, ...config };
  const ea = { address: Uint8Array.of(10, 0, 0, 1), port: 40000 };
  const eb = { address: Uint8Array.of(10, 0, 0, 2), port: 80 };
  const mss = 1460;
  const connA = TcpConnection.connect({ config: cfg, local: ea, remote: eb, iss: rng.nextU32(), mss, now: 0 });
  connA.setSegmentationOffload(offload);
  connA.setHeaderPrediction(prediction);
  const a = new App(connA, randomBytes(rng, sizeA));
  let b: App | undefined;
  const bData = randomBytes(rng, sizeB);
  const issB = rng.nextU32();
  const flight: InFlight[] = [];
  let order = 0;
  let now = 0;

  const transmit = (to: 0 | 1, record: TcpRepr): void => {
    const conn = to === 1 ? connA : b!.conn;
    const pieces = cutRecord(record, conn.segmentSize);
    if (trace !== undefined && pieces.length > 1) trace.bursts++;
    for (const seg of pieces) transmitSegment(to, seg);
  };
  const transmitSegment = (to: 0 | 1, seg: TcpRepr): void => {
    trace?.segments.push([to, now, seg.seqNumber, seg.ackNumber, seg.flags, seg.window, seg.payload.length, JSON.stringify(seg.options)]);
    if (rng.chance(imp.loss)) return;
    const copies = rng.chance(imp.duplicate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      flight.push({ at: now + imp.delay + (imp.jitter > 0 ? rng.nextBelow(imp.jitter) : 0), order: order++, to, seg: copy(seg) });
    }
  };

  const deadline = seconds(3600);
  for (let steps = 0; steps < 2_000_000; steps++) {
    // Outputs of both ends.
    for (let s = connA.pollTransmit(now); s !== undefined; s = connA.pollTransmit(now)) transmit(1, s);
    if (b !== undefined) for (let s = b.conn.pollTransmit(now); s !== undefined; s = b.conn.pollTransmit(now)) transmit(0, s);
    a.step(now);
    b?.step(now);
    for (let s = connA.pollTransmit(now); s !== undefined; s = connA.pollTransmit(now)) transmit(1, s);
    if (b !== undefined) for (let s = b.conn.pollTransmit(now); s !== undefined; s = b.conn.pollTransmit(now)) transmit(0, s);
    const doneA = connA.state === 'CLOSED' && a.closed;
    const doneB = b !== undefined && b.conn.state === 'CLOSED' && b.closed;
    if (doneA && doneB) break;
    if (doneA && b === undefined) break;
    // Next instant: a delivery or a timer.
    let next: Instant | undefined;
    for (const f of flight) if (next === undefined || f.at < next) next = f.at;
    for (const t of [connA.pollTimeout(), b?.conn.pollTimeout()]) if (t !== undefined && (next === undefined || t < next)) next = t;
    if (next === undefined || next > deadline) break;
    now = Math.max(now, next);
    flight.sort((x, y) => x.at - y.at || x.order - y.order);
    while (flight.length > 0 && flight[0]!.at <= now) {
      const f = flight.shift()!;
      if (f.to === 1) {
        if (b === undefined) {
          if ((f.seg.flags & 0x02) !== 0 && (f.seg.flags & 0x10) === 0) {
            b = new App(TcpConnection.accept({ config: cfg, local: eb, remote: ea, iss: issB, mss, now }, f.seg), bData);
            if (options.bReadsFirst === true) b.readFirst = a.toSend.length;
            b.conn.setSegmentationOffload(offload);
            b.conn.setHeaderPrediction(prediction);
          }
        } else {
          b.conn.handleSegment(now, f.seg);
        }
      } else {
        connA.handleSegment(now, f.seg);
      }
    }
    const ta = connA.pollTimeout();
    if (ta !== undefined && ta <= now) connA.handleTimeout(now);
    const tb = b?.conn.pollTimeout();
    if (b !== undefined && tb !== undefined && tb <= now) b.conn.handleTimeout(now);
  }
  assert.ok(b !== undefined, 'the SYN got through');
  return { a, b, now };
}

function checkOutcome(o: Outcome, label: string): void {
  const { a, b } = o;
  assert.equal(a.error, undefined, `${label}: A ended without error`);
  assert.equal(b.error, undefined, `${label}: B ended without error`);
  assert.equal(a.receivedBytes, b.toSend.length, `${label}: A received everything`);
  assert.equal(b.receivedBytes, a.toSend.length, `${label}: B received everything`);
  assert.ok(Buffer.from(a.bytes()).equals(Buffer.from(b.toSend)), `${label}: B's bytes arrived intact at A`);
  assert.ok(Buffer.from(b.bytes()).equals(Buffer.from(a.toSend)), `${label}: A's bytes arrived intact at B`);
  assert.equal(a.conn.state, 'CLOSED', `${label}: A closed`);
  assert.equal(b.conn.state, 'CLOSED', `${label}: B closed`);
  assert.ok(a.closed && b.closed, `${label}: both reported 'closed'`);
  assert.equal(a.conn.pollTimeout(), undefined, `${label}: no timer left at A`);
  assert.equal(b.conn.pollTimeout(), undefined, `${label}: no timer left at B`);
}

describe('connection pair over an impaired link', () => {
  test('a clean link: 200 KB each way, then an orderly close', () => {
    const o = run(1, 200_000, 200_000, { loss: 0, duplicate: 0, delay: millis(10), jitter: 0 });
    checkOutcome(o, 'clean');
    assert.equal(o.a.conn.info().retransmissions, 0);
    assert.equal(o.b.conn.info().retransmissions, 0);
  });

  test('empty transfers: handshake and close only', () => {
    checkOutcome(run(2, 0, 0, { loss: 0, duplicate: 0, delay: millis(5), jitter: 0 }), 'empty');
  });

  test('one way only, the other side just reads', () => {
    checkOutcome(run(3, 300_000, 0, { loss: 0, duplicate: 0, delay: millis(20), jitter: 0 }), 'one way');
  });

  for (let seed = 10; seed < 110; seed++) {
    test(`seed ${seed}: loss, duplication, reordering`, () => {
      const rng = new Rng(seed * 7919);
      const imp: Impairments = {
        loss: rng.nextFloat() * 0.2,
        duplicate: rng.nextFloat() * 0.05,
        delay: millis(1 + rng.nextBelow(50)),
        jitter: rng.chance(0.5) ? millis(rng.nextBelow(20)) : 0,
      };
      const sizeA = rng.chance(0.2) ? rng.nextBelow(10) : rng.nextBelow(120_000);
      const sizeB = rng.chance(0.3) ? 0 : rng.nextBelow(60_000);
      const config: Partial<TcpConfig> = { delayedAck: rng.chance(0.5) ? millis(40) : 0, nagle: rng.chance(0.5), minRto: millis(200) };
      checkOutcome(run(seed, sizeA, sizeB, imp, config), `seed ${seed} ${JSON.stringify(imp)} ${sizeA}/${sizeB}`);
    });
  }
});

/** A random scenario for the differential tests: a clean or impaired link, the sizes, every option drawn. */
function scenario(seed: number) {
  const rng = new Rng(seed * 104729);
  const clean = rng.chance(0.3);
  const imp: Impairments = {
    loss: clean ? 0 : rng.nextFloat() * 0.1,
    duplicate: clean ? 0 : rng.nextFloat() * 0.05,
    delay: millis(1 + rng.nextBelow(50)),
    jitter: !clean && rng.chance(0.5) ? millis(rng.nextBelow(20)) : 0,
  };
  const sizeA = rng.nextBelow(400_000);
  const sizeB = rng.chance(0.5) ? 0 : rng.nextBelow(100_000);
  const config: Partial<TcpConfig> = {
    delayedAck: rng.chance(0.5) ? millis(40) : 0, nagle: rng.chance(0.5), minRto: millis(200),
    sack: rng.chance(0.7), timestamps: rng.chance(0.7), pacing: rng.chance(0.5), windowScaling: rng.chance(0.8),
    congestionControl: rng.chance(0.5) ? 'cubic' : 'newreno',
    keepalive: { ...TCP_DEFAULTS.keepalive, enabled: rng.chance(0.3), idle: millis(100 + rng.nextBelow(1000)) },
    sendBufferSize: 256 * 1024, receiveBufferSize: 256 * 1024,
  };
  const bReadsFirst = rng.chance(0.6);
  return { clean, imp, sizeA, sizeB, config, bReadsFirst, label: `seed ${seed} ${JSON.stringify(imp)} ${JSON.stringify(config)} ${sizeA}/${sizeB} bReadsFirst ${bReadsFirst}` };
}

/**
 * Runs scenario `seed` with `reference` options and with `changed` ones, and asserts the same
 * segments at the same instants and the same end states (the second run must also end well).
 * Returns the changed run's trace.
 */
function sameOnTheWire(seed: number, reference: RunOptions, changed: RunOptions): { trace: Trace; referenceTrace: Trace; clean: boolean; sizeA: number } {
  const { imp, sizeA, sizeB, config, bReadsFirst, label, clean } = scenario(seed);
  const referenceTrace: Trace = { segments: [], bursts: 0 };
  const trace: Trace = { segments: [], bursts: 0 };
  const r = run(seed, sizeA, sizeB, imp, config, { ...reference, bReadsFirst, trace: referenceTrace });
  const c = run(seed, sizeA, sizeB, imp, config, { ...changed, bReadsFirst, trace });
  checkOutcome(c, label);
  assert.deepEqual(trace.segments, referenceTrace.segments, `${label}: the same segments`);
  assert.deepEqual(c.a.conn.info(), r.a.conn.info(), `${label}: A ends the same`);
  assert.deepEqual(c.b.conn.info(), r.b.conn.info(), `${label}: B ends the same`);
  return { trace, referenceTrace, clean, sizeA };
}

describe('segmentation offload: records of several segments, cut as the host cuts them', () => {
  for (let seed = 300; seed < 360; seed++) {
    test(`seed ${seed}: the same segments at the same instants as one segment per record, and the same outcome`, () => {
      const { trace, referenceTrace, clean, sizeA } = sameOnTheWire(seed, {}, { offload: 65536 });
      assert.equal(referenceTrace.bursts, 0, 'without offload every record is one segment');
      if (sizeA > 200_000 && clean) assert.ok(trace.bursts > 0, `seed ${seed}: offload was used`);
    });
  }
});

describe('header prediction: the fast path for in-order text does what the full path does', () => {
  for (let seed = 400; seed < 440; seed++) {
    test(`seed ${seed}: the same segments at the same instants, the same timers and the same outcome with it off`, () => {
      sameOnTheWire(seed, { offload: 65536, prediction: false }, { offload: 65536 });
    });
  }
});
