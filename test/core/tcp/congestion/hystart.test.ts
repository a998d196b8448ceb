/**
 * HyStart++ (RFC 9406): rounds delimited by SND.UNA passing the SND.NXT recorded at the
 * round's start, the delay-increase exit into Conservative Slow Start, CSS growth and its
 * end after CSS_ROUNDS rounds, the return to slow start when the RTT falls back, the end of
 * HyStart++ at a loss; and both controllers using it, alone and in a connection over a
 * virtual link.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Host } from '../../../../src/core/host.js';
import type { TcpConnection } from '../../../../src/core/tcp/connection.js';
import { Cubic } from '../../../../src/core/tcp/congestion/cubic.js';
import { HYSTART_L, HyStart, type HyStartStep } from '../../../../src/core/tcp/congestion/hystart.js';
import { INITIAL_SSTHRESH, NewReno } from '../../../../src/core/tcp/congestion/newreno.js';
import type { CongestionAlgorithm } from '../../../../src/core/tcp/types.js';
import { VirtualNetwork } from '../../../../src/drivers/virtual/network.js';
import { millis, seconds } from '../../../../src/time/instant.js';
import { parseIpAddress } from '../../../../src/wire/address.js';
import { seqAdd } from '../../../../src/wire/seq.js';

const MSS = 1000;
/** RFC 9406 4.3's recommended constants, written out. */
const N_RTT_SAMPLE = 8;
const CSS_GROWTH_DIVISOR = 4;
const CSS_ROUNDS = 5;
const L = 8; // non-paced

/**
 * A sender's sequence space, round by round: each round sends `n` segments (SND.MAX moves
 * on), then their `n` ACKs arrive, one segment each, with the given RTT samples. The first
 * ACK of a round acknowledges data sent after the previous round's start, so it ends that
 * round ("When windowEnd is ACKed, the current round ends").
 */
class Flow {
  una = 0xffff_f000; // near the wrap of sequence space
  max = this.una;
  constructor(readonly hystart: HyStart) {}

  round(rttMs: number | number[], n = 10, bytes = MSS): HyStartStep[] {
    this.max = seqAdd(this.max, n * bytes);
    const steps: HyStartStep[] = [];
    for (let i = 0; i < n; i++) {
      this.una = seqAdd(this.una, bytes);
      const rtt = Array.isArray(rttMs) ? rttMs[i]! : rttMs;
      steps.push(this.hystart.onAck(bytes, MSS, millis(rtt), this.una, this.max));
    }
    return steps;
  }
}

/** Two rounds at 100 ms: lastRoundMinRTT is 100 ms when the third round starts. */
function steady(): Flow {
  const flow = new Flow(new HyStart());
  flow.round(100);
  flow.round(100);
  assert.equal(flow.hystart.phase, 'slow-start');
  assert.equal(flow.hystart.lastRoundMinRtt, millis(100));
  return flow;
}

/** RttThresh = max(MIN_RTT_THRESH, min(lastRoundMinRTT / MIN_RTT_DIVISOR, MAX_RTT_THRESH)), in ms. */
function rttThreshMs(lastMs: number): number {
  return Math.max(4, Math.min(lastMs / 8, 16));
}

describe('HyStart++ (RFC 9406)', () => {
  test('RttThresh: 4 ms <= lastRoundMinRTT / 8 <= 16 ms', () => {
    assert.equal(rttThreshMs(10), 4);
    assert.equal(rttThreshMs(100), 12.5);
    assert.equal(rttThreshMs(400), 16);
  });

  test('slow start: cwnd += min(N, L * SMSS) with L = 8 (not paced)', () => {
    const flow = new Flow(new HyStart());
    const [step] = flow.round(100, 1, 3 * MSS);
    assert.deepEqual(step, { increase: 3 * MSS, exitSlowStart: false });
    const [big] = flow.round(100, 1, 20 * MSS);
    assert.equal(big!.increase, L * MSS);
  });

  test('an RTT increase of RttThresh enters CSS once N_RTT_SAMPLE samples are in; less does not', () => {
    const flow = steady();
    const up = 100 + rttThreshMs(100);
    const steps = flow.round(up);
    assert.equal(flow.hystart.phase, 'css');
    // Entered on the N_RTT_SAMPLE-th sample of the round, not before.
    for (let i = 0; i < N_RTT_SAMPLE - 1; i++) assert.equal(steps[i]!.increase, MSS, `ACK ${i} grows as slow start`);
    assert.equal(steps[N_RTT_SAMPLE]!.increase, MSS / CSS_GROWTH_DIVISOR, 'the next ACK grows as CSS');

    const below = steady();
    below.round(up - 0.5);
    below.round(up - 0.5);
    assert.equal(below.hystart.phase, 'slow-start', 'an increase of RttThresh - 0.5 ms keeps slow start (and the next round compares with it)');

    // Fewer than N_RTT_SAMPLE samples in a round: no verdict.
    const few = steady();
    few.round(up + 50, N_RTT_SAMPLE - 1);
    assert.equal(few.hystart.phase, 'slow-start');
  });

  test('CSS grows cwnd at 1/CSS_GROWTH_DIVISOR of slow start\'s rate', () => {
    const flow = steady();
    flow.round(150);
    assert.equal(flow.hystart.phase, 'css');
    const [step] = flow.round(150, 1, 2 * MSS);
    assert.equal(step!.increase, Math.min(2 * MSS, L * MSS) / CSS_GROWTH_DIVISOR);
    const [big] = flow.round(150, 1, 20 * MSS);
    assert.equal(big!.increase, (L * MSS) / CSS_GROWTH_DIVISOR);
  });

  test('after CSS_ROUNDS rounds (the partial one counted) CSS exits to congestion avoidance', () => {
    const flow = steady();
    flow.round(150); // CSS begins in this round: it counts
    for (let r = 1; r < CSS_ROUNDS; r++) {
      const steps = flow.round(150);
      assert.ok(steps.every((s) => !s.exitSlowStart), `round ${r}`);
      assert.equal(flow.hystart.phase, 'css');
    }
    // The first ACK after the fifth round ends it: congestion avoidance.
    const [first, second] = flow.round(150, 2);
    assert.equal(first!.exitSlowStart, true);
    assert.equal(flow.hystart.phase, 'done');
    assert.equal(flow.hystart.active, false);
    assert.deepEqual(second, { increase: MSS, exitSlowStart: false }, 'standard slow start from now on (if the controller still asks)');
  });

  test('an RTT that falls below the CSS baseline returns to slow start, HyStart++ included', () => {
    const flow = steady();
    flow.round(150);
    assert.equal(flow.hystart.phase, 'css');
    const steps = flow.round([120, 120, 120, 120, 120, 120, 120, 149, 150, 150]);
    assert.equal(flow.hystart.phase, 'slow-start', 'the round\'s minimum (120 ms) < baseline (150 ms) after N_RTT_SAMPLE samples');
    assert.equal(steps[N_RTT_SAMPLE - 2]!.increase, MSS / CSS_GROWTH_DIVISOR);
    assert.equal(steps[N_RTT_SAMPLE]!.increase, MSS);
    // And HyStart++ still watches: a new rise enters CSS again.
    flow.round(120);
    flow.round(120 + rttThreshMs(120) + 1);
    assert.equal(flow.hystart.phase, 'css');
  });

  test('L: an ACK of many segments adds at most L = 8 segments unpaced, all of them paced (RFC 9406 4.3)', () => {
    const unpaced = new HyStart();
    assert.equal(unpaced.onAck(20 * MSS, MSS, millis(100), undefined, undefined).increase, HYSTART_L * MSS);
    const paced = new HyStart(true);
    assert.equal(paced.onAck(20 * MSS, MSS, millis(100), undefined, undefined).increase, 20 * MSS);
  });

  test('without SND.UNA and SND.MAX no round ends, so nothing is judged', () => {
    const h = new HyStart();
    for (let i = 0; i < 50; i++) h.onAck(MSS, MSS, millis(100 + i * 10), undefined, undefined);
    assert.equal(h.phase, 'slow-start');
    assert.equal(h.lastRoundMinRtt, Infinity);
  });
});

describe('HyStart++ in the controllers', () => {
  for (const make of [
    (o: { hystart?: boolean }) => new NewReno(MSS, 4 * MSS, o),
    (o: { hystart?: boolean }) => new Cubic(MSS, 4 * MSS, o),
  ]) {
    const name = make({}).algorithm;

    test(`${name}: leaving CSS sets ssthresh = cwnd and enters congestion avoidance`, () => {
      const cc = make({ hystart: true });
      let una = 1;
      let max = 1;
      let now = 0;
      const round = (rttMs: number, n = 10): void => {
        max += n * MSS;
        now += millis(rttMs);
        for (let i = 0; i < n; i++) {
          una += MSS;
          cc.onAck(MSS, now, millis(rttMs), una, max);
        }
      };
      round(100);
      round(100);
      assert.equal(cc.window, 24 * MSS, 'slow start: one SMSS per ACK of one segment');
      round(150);
      assert.equal(cc.hystartPhase, 'css');
      for (let r = 0; r < 5; r++) round(150);
      assert.equal(cc.hystartPhase, 'done');
      assert.notEqual(cc.ssthresh, INITIAL_SSTHRESH);
      assert.ok(cc.window >= cc.ssthresh && cc.window - cc.ssthresh < 2 * MSS, `cwnd ${cc.window}, ssthresh ${cc.ssthresh}`);
      // Congestion avoidance from here: a round of ACKs adds about what the algorithm's
      // avoidance adds, far less than slow start's doubling.
      const before = cc.window;
      round(150, Math.floor(before / MSS));
      assert.ok(cc.window - before < before / 4, `${before} -> ${cc.window}`);
    });

    test(`${name}: a loss in slow start ends HyStart++ for good`, () => {
      const cc = make({ hystart: true });
      assert.equal(cc.hystartPhase, 'slow-start');
      cc.onLoss(0, 4 * MSS);
      assert.equal(cc.hystartPhase, 'done');
      cc.onRecoveryEnd(0, 0);
      cc.onRetransmitTimeout(0, 4 * MSS, false);
      // Standard slow start after the timeout: one SMSS per ACK whatever it covers (L = 1).
      cc.onAck(3 * MSS, 0, 1000, 3 * MSS, 10 * MSS);
      assert.equal(cc.window, 2 * MSS);
      const rto = make({ hystart: true });
      rto.onRetransmitTimeout(0, 4 * MSS, false);
      assert.equal(rto.hystartPhase, 'done');
    });

    test(`${name}: HyStart++ only in the initial slow start; off unless asked`, () => {
      assert.equal(make({}).hystartPhase, undefined);
      const carried = name === 'cubic' ? new Cubic(MSS, 4 * MSS, { hystart: true, ssthresh: 20 * MSS }) : new NewReno(MSS, 4 * MSS, { hystart: true, ssthresh: 20 * MSS });
      assert.equal(carried.hystartPhase, undefined, 'a known ssthresh: standard slow start');
    });
  }
});

/**
 * A transfer of `bytes` from 10.0.0.1 to 10.0.0.2 over a link of `bandwidth` bit/s and
 * `delay` each way, without loss; returns the sender's connection once all arrived.
 */
function transfer(tcp: { congestionControl: CongestionAlgorithm; hystart: boolean }, bandwidth: number, delay: number, bytes: number): TcpConnection {
  const network = new VirtualNetwork({ seed: 1 });
  const a = network.addNode('a', new Host({ name: 'a', seed: 1, interfaces: [{ name: 'eth0', addresses: ['10.0.0.1/24'], mtu: 1500 }], tcp }));
  const b = network.addNode('b', new Host({ name: 'b', seed: 2, interfaces: [{ name: 'eth0', addresses: ['10.0.0.2/24'], mtu: 1500 }], tcp }));
  network.link(a, 'eth0', b, 'eth0', { bandwidth, delay });
  assert.ok(b.tcpListen({ port: 5001 }).ok);
  const opened = a.tcpConnect(network.now, { remote: { address: parseIpAddress('10.0.0.2')!, port: 5001 } });
  assert.ok(opened.ok);
  const sender = opened.connection;
  network.wake(a);
  let receiver: TcpConnection | undefined;
  let sent = 0;
  let received = 0;
  const chunk = new Uint8Array(64 * 1024);
  while (received < bytes && network.now < seconds(600)) {
    let e;
    while ((e = b.pollEvent()) !== undefined) if (e.type === 'incoming') receiver ??= e.listener.accept();
    while (a.pollEvent() !== undefined) { /* drain */ }
    let acted = false;
    while (sent < bytes) {
      const n = sender.send(network.now, chunk.subarray(0, Math.min(chunk.length, bytes - sent)));
      if (n === 0) break;
      sent += n;
      acted = true;
    }
    let data;
    while (receiver && (data = receiver.recv(network.now)) !== undefined) {
      received += data.length;
      acted = true;
    }
    if (acted) {
      network.wake(a);
      network.wake(b);
    }
    if (!network.step()) break;
  }
  assert.equal(received, bytes);
  return sender;
}

describe('HyStart++ in a connection (per-ACK RTT samples, rounds from SND.UNA and SND.MAX)', () => {
  for (const congestionControl of ['cubic', 'newreno'] as const) {
    test(`${congestionControl}: on a 1 Mbit/s, 50 ms path the 64 KiB window builds a queue; HyStart++ leaves slow start before any loss`, () => {
      const on = transfer({ congestionControl, hystart: true }, 1e6, millis(50), 600_000).info();
      assert.equal(on.congestionControl, congestionControl);
      assert.equal(on.retransmissions, 0);
      assert.ok(on.ssthresh < INITIAL_SSTHRESH, 'slow start ended by the RTT rise');
      const off = transfer({ congestionControl, hystart: false }, 1e6, millis(50), 600_000).info();
      assert.equal(off.retransmissions, 0);
      assert.equal(off.ssthresh, INITIAL_SSTHRESH, 'without HyStart++ only a loss ends slow start');
    });
  }
});
