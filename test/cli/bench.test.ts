/**
 * `l4 bench --quick --json`: every figure the README documents is there under its stable
 * name, finite and positive, and ratios sit beside their figures. No figure is asserted
 * against a time: benchmarks report, they never pass or fail on speed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertOneLineError, l4 } from '../support/cli.js';

const NAMES = [
  'bulk_kernel_loopback_gbps', 'bulk_l4_mtu1500_gbps', 'bulk_l4_mtu1500_gbps_ratio', 'bulk_l4_mtu65535_gbps', 'bulk_l4_mtu65535_gbps_ratio',
  'bulk_l4_mtu1500_trusted_gbps', 'bulk_l4_mtu1500_trusted_gbps_ratio', 'bulk_l4_mtu65535_trusted_gbps', 'bulk_l4_mtu65535_trusted_gbps_ratio',
  'connections_kernel_loopback_per_s', 'connections_l4_per_s', 'connections_l4_per_s_ratio',
  'connections_l4_trusted_per_s', 'connections_l4_trusted_per_s_ratio',
  'heap_bytes_per_idle_connection', 'heap_bytes_per_time_wait', 'open_5000_connections_seconds', 'close_5000_connections_seconds', 'peak_rss_5000_connections_mib',
  'lfn_goodput_fraction', 'lfn_sim_speed', 'lfn_bdp_queue_goodput_fraction', 'mathis_bound_1pct_mbps', 'lfn_loss_1pct_goodput_mbps', 'lfn_loss_1pct_goodput_mbps_ratio',
  'lfn_loss_1pct_sim_speed',
];

test('l4 bench --quick --json: every documented figure, finite and positive', { timeout: 120_000 }, () => {
  const r = l4('bench', '--quick', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { node: string; quick: boolean; figures: Record<string, number> };
  assert.equal(out.quick, true);
  assert.deepEqual(Object.keys(out.figures).sort(), [...NAMES].sort());
  for (const name of NAMES) assert.ok(Number.isFinite(out.figures[name]) && out.figures[name]! > 0, `${name} = ${out.figures[name]}`);
  // A ratio is its figure over its baseline.
  const f = out.figures;
  assert.ok(Math.abs(f.bulk_l4_mtu1500_gbps! / f.bulk_kernel_loopback_gbps! - f.bulk_l4_mtu1500_gbps_ratio!) < 0.01 * f.bulk_l4_mtu1500_gbps_ratio! + 1e-3);
  assert.ok(f.lfn_goodput_fraction! <= 1, 'goodput cannot exceed the link');
  assert.ok(f.lfn_bdp_queue_goodput_fraction! <= 1, 'goodput cannot exceed the link');
});

test('l4 bench: a bad option gets one line and exit 2', () => {
  assertOneLineError(l4('bench', '--fast'), /unknown option '--fast'/);
  // commander's suggestion for a near miss stays on the same line.
  assertOneLineError(l4('bench', '--quik'), /unknown option '--quik' \(Did you mean --quick\?\)/);
});
