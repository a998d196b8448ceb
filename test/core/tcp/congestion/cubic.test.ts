/**
 * CUBIC's window arithmetic (RFC 9438) against the RFC's formulas, computed here: equation 1
 * (W_cubic), equation 2 (K), the target's bounds (4.2), the Reno-friendly region (4.3,
 * equation 4), the concave and convex regions (4.4, 4.5), multiplicative decrease (4.6), fast
 * convergence (4.7) and the timeout (4.8). Windows in segments of MSS = 1000 bytes; an ACK
 * acknowledges one segment unless a test says otherwise.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createCongestionController } from '../../../../src/core/tcp/congestion/index.js';
import { ALPHA_CUBIC, BETA_CUBIC, Cubic, CUBIC_C } from '../../../../src/core/tcp/congestion/cubic.js';
import { INITIAL_SSTHRESH } from '../../../../src/core/tcp/congestion/newreno.js';

const MSS = 1000;
/** The RFC's constants, written out (not taken from the implementation). */
const C = 0.4;
const BETA = 0.7;
const ALPHA = (3 * (1 - BETA)) / (1 + BETA);
const SECOND = 1_000_000;

/** Equation 1, in segments: W_cubic(t) = C * (t - K)^3 + W_max. */
function wCubic(t: number, k: number, wMax: number): number {
  return C * (t - k) ** 3 + wMax;
}

/** Equation 2: K = cubic_root((W_max - cwnd_epoch) / C). */
function kOf(wMax: number, cwndEpoch: number): number {
  return Math.cbrt((wMax - cwndEpoch) / C);
}

/** cwnd in segments (the controller reports whole bytes). */
function segs(cc: Cubic): number {
  return cc.window / MSS;
}

/**
 * A loss at cwnd = 100 segments with 100 in flight, and fast recovery ended with 69 segments
 * in flight: cwnd = ssthresh = 70 segments (RFC 6582: min(ssthresh, FlightSize + SMSS)).
 */
function afterLoss(options: { fastConvergence?: boolean } = {}): Cubic {
  const cc = new Cubic(MSS, 100 * MSS, options);
  cc.onLoss(0, 100 * MSS);
  cc.onRecoveryEnd(0, 69 * MSS);
  assert.equal(cc.window, 70 * MSS);
  assert.equal(cc.inRecovery, false);
  return cc;
}

/**
 * ACK-clocked congestion avoidance from `start` for `rounds` round trips of `rtt` µs: each
 * round, one ACK per segment of cwnd, spread evenly over the round trip, each carrying the
 * RTT sample `rtt`. Returns cwnd (segments) at the end of each round.
 */
function drive(cc: Cubic, start: number, rtt: number, rounds: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const n = Math.max(1, Math.floor(cc.window / MSS));
    for (let i = 0; i < n; i++) cc.onAck(MSS, start + r * rtt + Math.floor((i * rtt) / n), rtt);
    out.push(segs(cc));
  }
  return out;
}

describe('CUBIC (RFC 9438)', () => {
  test('the constants: C = 0.4, beta_cubic = 0.7, alpha_cubic = 3(1 - beta)/(1 + beta)', () => {
    assert.equal(CUBIC_C, C);
    assert.equal(BETA_CUBIC, BETA);
    assert.ok(Math.abs(ALPHA_CUBIC - 0.9 / 1.7) < 1e-12);
  });

  test('the factory makes CUBIC; an unknown name makes nothing', () => {
    const cc = createCongestionController('cubic', { mss: MSS, initialWindow: 3000 });
    assert.equal(cc.algorithm, 'cubic');
    assert.equal(cc.window, 3000);
    assert.equal(cc.ssthresh, INITIAL_SSTHRESH);
    assert.equal(createCongestionController('vegas', { mss: MSS, initialWindow: 3000 }), undefined);
    const carried = createCongestionController('cubic', { mss: MSS, initialWindow: 12_345, ssthresh: 9000 });
    assert.deepEqual([carried.window, carried.ssthresh], [12_345, 9000]);
  });

  test('slow start below ssthresh as RFC 5681 says: cwnd += min(N, SMSS)', () => {
    const cc = new Cubic(MSS, 4000);
    cc.onAck(500, 0, 1000);
    assert.equal(cc.window, 4500);
    cc.onAck(3000, 0, 1000);
    assert.equal(cc.window, 5500);
  });

  test('multiplicative decrease (4.6): ssthresh = flight_size * 0.7, cwnd = ssthresh (+ 3 SMSS in fast recovery), W_max = cwnd', () => {
    const cc = new Cubic(MSS, 100 * MSS);
    cc.onLoss(0, 100 * MSS);
    assert.equal(cc.ssthresh, 100 * MSS * BETA);
    assert.equal(cc.window, 70 * MSS + 3 * MSS, 'RFC 5681 3.2 step 3 inflation on top of ssthresh');
    assert.equal(cc.wMax, 100 * MSS);
    assert.equal(cc.inRecovery, true);
    cc.onRecoveryEnd(0, 80 * MSS);
    assert.equal(cc.window, 70 * MSS, 'min(ssthresh, FlightSize + SMSS)');

    // flight_size, not cwnd: a sender with 60 segments in flight and cwnd 100.
    const limited = new Cubic(MSS, 100 * MSS);
    limited.onLoss(0, 60 * MSS);
    assert.equal(limited.ssthresh, 42 * MSS);
    assert.equal(limited.wMax, 100 * MSS, 'W_max remembers cwnd before the reduction');

    // "ssthresh is at least 2 MSS".
    const tiny = new Cubic(MSS, 4 * MSS);
    tiny.onLoss(0, 1500);
    assert.equal(tiny.ssthresh, 2 * MSS);
  });

  test('K by equation 2 after a loss at W_max = 100 segments with cwnd_epoch = 70', () => {
    const cc = afterLoss();
    cc.onAck(MSS, SECOND, 100_000);
    const k = kOf(100, 70);
    assert.ok(Math.abs(k - Math.cbrt(75)) < 1e-12);
    assert.ok(Math.abs(cc.k - k) < 1e-9, `K ${cc.k}, expected ${k}`);
  });

  test('at t + RTT = K the target is W_max: cwnd += (W_max - cwnd) / cwnd', () => {
    const rtt = 0.1;
    const cc = afterLoss();
    const t0 = SECOND;
    const k = kOf(100, 70);
    // The first ACK in congestion avoidance starts the epoch (t = 0): W_cubic(0) = cwnd_epoch =
    // 70, W_est = 70 + alpha / 70 > W_cubic(0): the Reno-friendly region, cwnd = W_est.
    cc.onAck(MSS, t0, rtt * SECOND);
    const west1 = 70 + ALPHA / 70;
    assert.ok(Math.abs(wCubic(0, k, 100) - 70) < 1e-9);
    assert.equal(cc.window, Math.floor(west1 * MSS));
    // At t = K - RTT, W_cubic(t) is just below W_max, far above W_est: the concave region, with
    // target = W_cubic(t + RTT) = W_cubic(K) = W_max = 100 (within [cwnd, 1.5 cwnd]).
    const t = k - rtt;
    cc.onAck(MSS, t0 + Math.round(t * SECOND), rtt * SECOND);
    assert.ok(wCubic(t, k, 100) > west1 + ALPHA / west1);
    const target = wCubic(k, k, 100);
    assert.equal(target, 100);
    const expected = west1 + (target - west1) / west1;
    assert.ok(Math.abs(cc.window - expected * MSS) <= 1, `cwnd ${cc.window}, expected ${expected * MSS}`);
  });

  test('the target is clamped to [cwnd, 1.5 cwnd] (4.2)', () => {
    // Long after the epoch began W_cubic(t + RTT) is far above 1.5 cwnd: one ACK of a whole
    // window (cwnd bytes) then adds (1.5 cwnd - cwnd) / cwnd * cwnd = cwnd / 2.
    const cc = afterLoss();
    cc.onAck(MSS, SECOND, 100_000);
    const before = cc.window;
    const t = 30;
    assert.ok(wCubic(t + 0.1, kOf(100, 70), 100) > 1.5 * (before / MSS));
    cc.onAck(before, SECOND + t * SECOND, 100_000);
    assert.ok(Math.abs(cc.window - 1.5 * before) <= 2, `${cc.window} vs ${1.5 * before}`);
  });

  test('concave up to W_max, a plateau around t = K, convex beyond: cwnd follows W_cubic(t) of equation 1', () => {
    const rtt = 100_000;
    const cc = afterLoss();
    const k = kOf(100, 70);
    const rounds = Math.round((2 * k) / 0.1);
    const w = drive(cc, SECOND, rtt, rounds);
    // cwnd at the end of round r (time (r + 1) * RTT after the epoch) sits on the curve.
    for (const frac of [0.5, 1, 1.5, 2]) {
      const r = Math.round((frac * k) / 0.1) - 1;
      const t = (r + 1) * 0.1;
      const expected = wCubic(t, k, 100);
      assert.ok(Math.abs(w[r]! - expected) / expected < 0.03, `t=${t.toFixed(2)} s: cwnd ${w[r]!.toFixed(2)}, W_cubic ${expected.toFixed(2)}`);
    }
    const at = (t: number): number => w[Math.round(t / 0.1) - 1]!;
    // Concave: the first half of [0, K] grows more than the second; convex: the reverse after K.
    assert.ok(at(k / 2) - 70 > at(k) - at(k / 2), 'concave before K');
    assert.ok(at(2 * k) - at(1.5 * k) > at(1.5 * k) - at(k), 'convex after K');
    assert.ok(Math.max(...w.slice(0, Math.round(k / 0.1) - 2)) <= 100.5, 'below W_max until K');
    // Never a decrease without a congestion event.
    for (let i = 1; i < w.length; i++) assert.ok(w[i]! >= w[i - 1]!);
  });

  test('on a short RTT the Reno-friendly region dominates: W_est grows by alpha_cubic per RTT (equation 4), then by 1 once W_est >= cwnd_prior', () => {
    const rtt = 1000; // 1 ms
    const cc = afterLoss();
    const k = kOf(100, 70);
    const w = drive(cc, SECOND, rtt, 80);
    // Equation 4 over the same ACKs: W_est += alpha * segments_acked / cwnd, cwnd = W_est.
    let west = 70;
    const expected: number[] = [];
    for (let r = 0; r < 80; r++) {
      const n = Math.max(1, Math.floor(west));
      for (let i = 0; i < n; i++) west += (west >= 100 ? 1 : ALPHA) / west;
      expected.push(west);
    }
    for (const r of [10, 40, 79]) {
      assert.ok(Math.abs(w[r]! - expected[r]!) < 0.02 * expected[r]!, `round ${r}: cwnd ${w[r]}, W_est ${expected[r]}`);
      assert.ok(w[r]! > wCubic(((r + 1) * rtt) / SECOND, k, 100) + 3, 'well above W_cubic(t)');
    }
    const perRtt = (w[40]! - w[10]!) / 30;
    assert.ok(Math.abs(perRtt - ALPHA) < 0.05, `${perRtt} segments per RTT, alpha_cubic ${ALPHA}`);
    const reached = expected.findIndex((x) => x >= 100);
    assert.ok(reached > 0 && reached < 70);
    assert.ok(Math.abs((w[79]! - w[69]!) / 10 - 1) < 0.05, 'Reno\'s one segment per RTT after cwnd_prior');
  });

  test('fast convergence (4.7): a loss below W_max lowers W_max to cwnd * (1 + beta) / 2', () => {
    const cc = afterLoss();
    cc.onLoss(SECOND, 70 * MSS);
    assert.equal(cc.wMax, (70 * MSS * (1 + BETA)) / 2);
    assert.equal(cc.ssthresh, 49 * MSS);
    const off = afterLoss({ fastConvergence: false });
    off.onLoss(SECOND, 70 * MSS);
    assert.equal(off.wMax, 70 * MSS);
    // A loss above the last W_max just remembers cwnd.
    const up = new Cubic(MSS, 100 * MSS);
    up.onLoss(0, 100 * MSS);
    up.onRecoveryEnd(0, 69 * MSS);
    drive(up, SECOND, 100_000, 80);
    const cwnd = up.window;
    assert.ok(cwnd > 100 * MSS);
    up.onLoss(10 * SECOND, cwnd);
    assert.equal(Math.floor(up.wMax!), cwnd);
  });

  test('timeout (4.8): ssthresh = flight_size * 0.7 (kept on a repeated timeout), cwnd = 1 MSS; then K = 0 and W_max = cwnd_epoch', () => {
    const cc = new Cubic(MSS, 50 * MSS);
    cc.onRetransmitTimeout(0, 50 * MSS, false);
    assert.equal(cc.window, MSS);
    assert.equal(cc.ssthresh, 35 * MSS);
    cc.onRetransmitTimeout(SECOND, 10 * MSS, true);
    assert.equal(cc.ssthresh, 35 * MSS, 'not set again for the same segment');
    assert.equal(cc.window, MSS);
    // Slow start back to ssthresh (one SMSS per ACK), then the first ACK in congestion avoidance.
    for (let i = 0; i < 34; i++) cc.onAck(MSS, 2 * SECOND, 100_000);
    assert.equal(cc.window, 35 * MSS);
    cc.onAck(MSS, 3 * SECOND, 100_000);
    assert.equal(cc.k, 0);
    assert.equal(cc.wMax, 35 * MSS);
    // Timeout during fast recovery ends it.
    const rec = new Cubic(MSS, 50 * MSS);
    rec.onLoss(0, 50 * MSS);
    rec.onRetransmitTimeout(SECOND, 50 * MSS, false);
    assert.equal(rec.inRecovery, false);
    assert.equal(rec.window, MSS);
  });

  test('fast recovery is RFC 6582\'s: +SMSS per further duplicate ACK, partial ACKs deflate, no growth from onAck', () => {
    const cc = new Cubic(MSS, 10 * MSS);
    cc.onLoss(0, 10 * MSS);
    assert.equal(cc.window, 7 * MSS + 3 * MSS);
    cc.onDuplicateAck(0);
    assert.equal(cc.window, 11 * MSS);
    cc.onAck(5 * MSS, 0, 1000);
    assert.equal(cc.window, 11 * MSS);
    cc.onPartialAck(2 * MSS, 0);
    assert.equal(cc.window, 11 * MSS - 2 * MSS + MSS);
    cc.onRecoveryEnd(0, 0);
    assert.equal(cc.window, 2 * MSS);
  });

  test('the smallest RTT sample is the RTT of W_cubic(t + RTT)', () => {
    const cc = new Cubic(MSS, 4000);
    cc.onAck(MSS, 0, 50_000);
    cc.onAck(MSS, 0, 30_000);
    cc.onAck(MSS, 0, undefined);
    cc.onAck(MSS, 0, 80_000);
    assert.equal(cc.minRtt, 30_000);
  });

  test('property: cwnd never below one SMSS, ssthresh never below 2 SMSS after an event, never NaN', () => {
    fc.assert(fc.property(
      // size 'max': up to 300 events, many loss and recovery epochs (fast-check's default size stopped near 10).
      fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 200_000 }), fc.integer({ min: 0, max: 2_000_000 })), { maxLength: 300, size: 'max' }),
      (events) => {
        const cc = new Cubic(MSS, 4 * MSS);
        let now = 0;
        for (const [kind, bytes, dt] of events) {
          now += dt;
          switch (kind) {
            case 0: case 1: cc.onAck(bytes, now, dt % 3 === 0 ? undefined : dt); break;
            case 2: cc.onLoss(now, bytes); break;
            case 3: cc.onDuplicateAck(now); break;
            case 4: cc.onPartialAck(bytes, now); break;
            case 5: cc.onRecoveryEnd(now, bytes); break;
            default: cc.onRetransmitTimeout(now, bytes, bytes % 2 === 0); break;
          }
          assert.ok(Number.isFinite(cc.window) && cc.window >= MSS);
          assert.ok(Number.isInteger(cc.window) && Number.isInteger(cc.ssthresh));
          if (cc.ssthresh !== INITIAL_SSTHRESH) assert.ok(cc.ssthresh >= 2 * MSS);
        }
      },
    ));
  });
});
