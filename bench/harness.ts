/**
 * A tiny benchmark harness: run a body in timed batches until a time budget is spent,
 * keep the best batch (the least disturbed by a shared machine), and report operations
 * per second. Benchmarks print ratios against a baseline measured in the same run; an
 * absolute figure alone means little on a shared 2-core machine.
 */

/** Result of one measurement. */
export interface Measurement {
  /** Operations per second in the best batch. */
  readonly opsPerSecond: number;
  /** Total operations run, all batches. */
  readonly operations: number;
}

/** Prevents the optimiser from discarding results. */
export let sink = 0;
export function consume(x: number): void {
  sink = (sink + x) | 0;
}

/**
 * Measures `body`, which performs `opsPerCall` operations per call. Warms up first, then
 * runs batches of about 50 ms for `budgetMs` and keeps the fastest batch.
 */
export function measure(body: () => void, opsPerCall = 1, budgetMs = 600): Measurement {
  // Warm-up: let the JIT settle and find a batch size of about 50 ms.
  let calls = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) body();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms >= 20) { calls = Math.max(1, Math.round((calls * 50) / ms)); break; }
    calls *= 2;
  }
  let best = 0;
  let operations = 0;
  const end = process.hrtime.bigint() + BigInt(budgetMs) * 1_000_000n;
  do {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) body();
    const ns = Number(process.hrtime.bigint() - t0);
    operations += calls * opsPerCall;
    best = Math.max(best, (calls * opsPerCall * 1e9) / ns);
  } while (process.hrtime.bigint() < end);
  return { opsPerSecond: best, operations };
}

/** Bits per second for `bytes` per operation, in Gbit/s. */
export function gbps(m: Measurement, bytesPerOp: number): number {
  return (m.opsPerSecond * bytesPerOp * 8) / 1e9;
}
