/**
 * How hard property tests push. Under CI=true every parser gets at least 100,000 cases
 * (issue 2); on a laptop a tenth of that keeps `npm test` quick. `L4_FUZZ_RUNS` overrides
 * both for long campaigns.
 */
const fromEnv = Number(process.env.L4_FUZZ_RUNS);

/** Cases for a "parse never throws" property. */
export const FUZZ_RUNS = Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : process.env.CI === 'true' ? 100_000 : 10_000;

/** Cases for round-trip properties, which build records and are slower per case. */
export const ROUND_TRIP_RUNS = Math.max(1_000, Math.floor(FUZZ_RUNS / 10));
