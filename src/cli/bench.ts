/**
 * `l4 bench [--json] [--quick]`: l4's stack measured beside the kernel's in the same run
 * (src/tools/bench/l4.ts), with issue 6's targets shown next to each figure. Benchmarks
 * report; they never fail on time.
 */
import type { Command } from 'commander';
import Table from 'cli-table3';
import pc from 'picocolors';
import { runL4Bench, type BenchFigure } from '../tools/bench/l4.js';
import { LineWriter } from './output.js';

interface BenchCliOptions {
  json?: boolean;
  quick?: boolean;
}

/**
 * The goals each figure is held against (issue 6), as text, and whether the figure meets it.
 *
 * The kernel-relative goals are held against the runs over a trusted link, where l4 skips
 * checksums: the kernel computes none on its loopback either (the lo device offloads them, so
 * the TCP checksum of every segment a capture on lo shows is wrong). The runs that do compute
 * them are printed beside them with their ratios, without a goal. The long fat link's goal
 * is held against the run with a queue one bandwidth-delay product deep, the path the issue
 * describes as without loss; the 1,000-packet queue drops packets, and is printed without one.
 */
const TARGETS: Record<string, { text: string; met: (f: BenchFigure) => boolean }> = {
  bulk_l4_mtu65535_trusted_gbps: { text: '>= 1.0 x kernel', met: (f) => (f.ratio ?? 0) >= 1 },
  bulk_l4_mtu1500_trusted_gbps: { text: '>= 0.4 x kernel', met: (f) => (f.ratio ?? 0) >= 0.4 },
  connections_l4_trusted_per_s: { text: '>= 3 x kernel', met: (f) => (f.ratio ?? 0) >= 3 },
  heap_bytes_per_idle_connection: { text: '<= 4096 B', met: (f) => f.value <= 4096 },
  peak_rss_100000_connections_mib: { text: '<= 1024 MiB', met: (f) => f.value <= 1024 },
  lfn_bdp_queue_goodput_fraction: { text: '>= 0.90', met: (f) => f.value >= 0.9 },
  lfn_loss_1pct_goodput_mbps: { text: '>= Mathis bound', met: (f) => (f.ratio ?? 0) >= 1 },
};

/** Adds the `bench` subcommand to the program. */
export function registerBench(program: Command): void {
  program.command('bench')
    .description('measure l4\'s TCP beside the kernel\'s, in this process and this run')
    .option('--json', 'print one JSON object: every figure and ratio under stable names')
    .option('--quick', 'small sizes: a quick look (about ten seconds), not the figures to quote')
    .addHelpText('after', `
Measures: bulk throughput between two l4 hosts (MTU 1500 and 65535) beside Node's net on the
kernel loopback; connections opened and closed per second beside the same; both again over a
trusted virtual link, where the hosts skip checksums (the *_trusted_* figures); heap per idle
connection and 100,000 concurrent connections; goodput on a 1 Gbit/s, 100 ms virtual link
over 30 virtual seconds (with a queue of one bandwidth-delay product, and with a 1,000-packet
one), and with 1% loss beside the Mathis bound; simulation speed.
The full run takes a few minutes. Figures are never pass/fail; targets are shown beside them.
The kernel-relative targets sit beside the trusted-link figures: the kernel computes no TCP
checksum on its loopback either.

Examples:
  l4 bench
  l4 bench --quick --json`)
    .action(async (options: BenchCliOptions) => {
      const interactive = process.stderr.isTTY === true && !options.json;
      const figures = await runL4Bench({
        quick: options.quick === true,
        onStart: (what) => { if (interactive) process.stderr.write(`\r\x1b[K${pc.dim(`measuring ${what}...`)}`); },
      });
      if (interactive) process.stderr.write('\r\x1b[K');
      if (options.json) {
        const out: Record<string, number> = {};
        for (const f of figures) {
          out[f.name] = Number(f.value.toPrecision(4));
          if (f.ratio !== undefined) out[`${f.name}_ratio`] = Number(f.ratio.toPrecision(3));
        }
        process.stdout.write(`${JSON.stringify({ node: process.version, quick: options.quick === true, figures: out }, null, 2)}\n`);
        return;
      }
      const c = pc.createColors(process.stdout.isTTY === true);
      const table = new Table({ head: ['figure', 'value', 'unit', 'ratio', 'baseline (same run)', 'target'], style: { head: [], border: [] } });
      for (const f of figures) {
        const target = TARGETS[f.name];
        const mark = target ? (target.met(f) ? c.green(target.text) : c.yellow(`${target.text} (not yet)`)) : '';
        table.push([f.name, f.value >= 100 ? f.value.toFixed(0) : f.value.toPrecision(3), f.unit, f.ratio === undefined ? '' : `${f.ratio.toFixed(2)} x`, f.baseline ?? f.note ?? '', mark]);
      }
      const out = new LineWriter();
      if (!(await out.line(`l4 bench${options.quick ? ' (quick)' : ''}  node ${process.version}`))) return;
      for (const line of table.toString().split('\n')) if (!(await out.line(line))) return;
      await out.flush();
    });
}
