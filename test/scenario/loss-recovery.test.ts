/**
 * Loss recovery end to end: the same transfers over the same lossy or reordering links, for
 * many seeds, once with SACK (RACK-TLP, RFC 6675 recovery with PRR) and once without
 * (NewReno, RFC 6582). Every byte arrives intact either way; with SACK, fewer retransmission
 * timeouts happen, the transfers finish sooner in all, and reordering alone costs few
 * spurious retransmissions (RACK's reordering window, opened by the first D-SACK).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Host } from '../../src/core/host.js';
import type { TcpConnection } from '../../src/core/tcp/connection.js';
import type { TcpConnectionInfo } from '../../src/core/tcp/types.js';
import { VirtualNetwork } from '../../src/drivers/virtual/network.js';
import type { LinkOptions } from '../../src/drivers/virtual/impairments.js';
import { parseIpAddress } from '../../src/wire/address.js';
import { Rng } from '../../src/time/rng.js';
import { millis, seconds, toSeconds } from '../../src/time/instant.js';

const SEEDS = Number(process.env.L4_SCENARIO_SEEDS ?? 200) >= 200 ? 16 : 4;
const BYTES = 1024 * 1024;

interface Outcome {
  seconds: number;
  intact: boolean;
  info: TcpConnectionInfo;
}

/** BYTES from a to b over one link with `link`'s impairments; SACK as `sack` says. */
function transfer(seed: number, link: LinkOptions, sack: boolean): Outcome {
  const network = new VirtualNetwork({ seed });
  const tcp = { sack, congestionControl: 'cubic' as const };
  const a = network.addNode('a', new Host({ name: 'a', seed, tcp, interfaces: [{ name: 'eth0', addresses: ['10.0.0.1/24'] }] }));
  const b = network.addNode('b', new Host({ name: 'b', seed: seed + 1, tcp, interfaces: [{ name: 'eth0', addresses: ['10.0.0.2/24'] }] }));
  network.link(a, 'eth0', b, 'eth0', link);
  assert.ok(b.tcpListen({ port: 9000 }).ok);
  const opened = a.tcpConnect(network.now, { remote: { address: parseIpAddress('10.0.0.2')!, port: 9000 } });
  assert.ok(opened.ok);
  const sender = opened.connection;
  network.wake(a);
  const data = new Rng(seed).fill(new Uint8Array(BYTES));
  const got = createHash('sha256');
  let receiver: TcpConnection | undefined;
  let written = 0;
  let received = 0;
  const start = network.now;
  const deadline = start + seconds(600);
  while (received < BYTES && network.now < deadline) {
    let e;
    while ((e = b.pollEvent()) !== undefined) if (e.type === 'incoming') receiver ??= e.listener.accept();
    while (a.pollEvent() !== undefined) { /* nothing to do with a's events */ }
    let acted = false;
    if (written < BYTES) {
      const n = sender.send(network.now, data.subarray(written));
      written += n;
      acted = n > 0;
    }
    let d;
    while (receiver && (d = receiver.recv(network.now)) !== undefined) {
      got.update(d);
      received += d.length;
      acted = true;
    }
    if (acted) { network.wake(a); network.wake(b); }
    if (!network.step()) break;
  }
  const intact = received === BYTES && got.digest('hex') === createHash('sha256').update(data).digest('hex');
  return { seconds: toSeconds(network.now - start), intact, info: sender.info() };
}

/** Totals over the seeds, with and without SACK, for links drawn by `link(seed)`. */
function compare(link: (seed: number) => LinkOptions): { sack: Outcome[]; noSack: Outcome[] } {
  const sack: Outcome[] = [];
  const noSack: Outcome[] = [];
  for (let seed = 1; seed <= SEEDS; seed++) {
    sack.push(transfer(seed, link(seed), true));
    noSack.push(transfer(seed, link(seed), false));
  }
  return { sack, noSack };
}

const sum = (xs: Outcome[], f: (o: Outcome) => number): number => xs.reduce((acc, o) => acc + f(o), 0);

describe(`scenario: loss recovery with and without SACK (${SEEDS} seeds, 1 MiB each)`, () => {
  test('random loss of 2-5% at 10 Mbit/s, 40 ms RTT: intact both ways; with SACK fewer timeouts and less time', (t) => {
    const { sack, noSack } = compare((seed) => ({ loss: 0.02 + (seed % 4) * 0.01, delay: millis(20), bandwidth: 10e6 }));
    for (const o of [...sack, ...noSack]) assert.ok(o.intact, 'every byte arrives intact');
    const rto = [sum(sack, (o) => o.info.retransmitTimeouts), sum(noSack, (o) => o.info.retransmitTimeouts)];
    const time = [sum(sack, (o) => o.seconds), sum(noSack, (o) => o.seconds)];
    t.diagnostic(`retransmission timeouts: ${rto[0]} with SACK, ${rto[1]} without; virtual seconds: ${time[0]!.toFixed(1)} with, ${time[1]!.toFixed(1)} without`);
    t.diagnostic(`with SACK: ${sum(sack, (o) => o.info.fastRecoveries)} fast recoveries, ${sum(sack, (o) => o.info.tailLossProbes)} tail loss probes`);
    assert.ok(rto[0]! < rto[1]!, 'fewer retransmission timeouts with SACK');
    assert.ok(time[0]! < time[1]!, 'less time in all with SACK');
    assert.ok(sum(sack, (o) => o.info.fastRecoveries) > 0, 'SACK recovery ran');
  });

  test('reordering without loss: with SACK, spurious retransmissions stay few (RACK\'s reordering window)', (t) => {
    const { sack } = compare(() => ({ reorder: 0.02, reorderDelay: millis(5), delay: millis(20), bandwidth: 10e6 }));
    for (const o of sack) assert.ok(o.intact);
    const segments = sum(sack, (o) => o.info.segmentsSent);
    const retransmitted = sum(sack, (o) => o.info.retransmissions);
    t.diagnostic(`${retransmitted} retransmissions of ${segments} segments`);
    // The link holds back 2% of packets; a reordering window of 0 would resend most of them.
    assert.ok(retransmitted < 0.005 * segments, `${retransmitted} of ${segments}: under a quarter of the 2% the link reorders`);
  });
});
