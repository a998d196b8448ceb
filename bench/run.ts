/**
 * `npm run bench`: runs every benchmark and prints figures with their ratios to the
 * same-run baseline; `--json` prints them as one JSON object keyed by stable names.
 * Benchmarks never pass or fail on time: they report.
 */
import { benchChecksum, benchTcp, type Figure } from './wire.js';
import { benchTun } from './tun.js';
import { benchScan } from './scan.js';

const json = process.argv.includes('--json');
const budgetMs = Number(process.env.L4_BENCH_MS ?? 600);

const figures: Figure[] = [...benchChecksum(budgetMs), ...benchTcp(budgetMs)];
if (!process.argv.includes('--no-tun')) figures.push(...await benchTun(), ...await benchScan());

if (json) {
  const out: Record<string, number> = {};
  for (const f of figures) {
    out[f.name] = Number(f.value.toPrecision(4));
    if (f.ratio !== undefined) out[`${f.name}_ratio`] = Number(f.ratio.toPrecision(3));
  }
  console.log(JSON.stringify({ node: process.version, figures: out }, null, 2));
} else {
  console.log(`l4 bench  node ${process.version}  best of batches over ${budgetMs} ms each\n`);
  for (const f of figures) {
    const ratio = f.ratio === undefined ? '' : `  ${f.ratio.toFixed(2)} x ${f.baseline}`;
    console.log(`${f.name.padEnd(34)} ${f.value.toFixed(2).padStart(12)} ${f.unit.padEnd(8)}${ratio}`);
  }
}
