/**
 * `l4 sim`: one TCP transfer between two l4 hosts over an impaired virtual link, in virtual
 * time. Prints goodput, completion time, retransmissions and the sha256 of the bytes sent
 * and received (equal when TCP did its job); `--json` prints one object. Same seed, same
 * report.
 */
import type { Command } from 'commander';
import pc from 'picocolors';
import { CONGESTION_ALGORITHMS, type CongestionAlgorithm } from '../core/tcp/types.js';
import { PcapFileWriter } from '../drivers/pcap/writer.js';
import { runTcpSim, type TcpSimOptions, type TcpSimReport } from '../tools/sim.js';
import { runUdpSim, UDP_SIM_HEADER, type UdpSimReport } from '../tools/sim-udp.js';
import { UsageError } from './errors.js';
import { compareCommand } from './demo.js';
import { parseDuration, parseInteger, parseProbability, parseRate, parseSize } from './units.js';

interface SimCliOptions {
  bytes: number; bandwidth?: number; delay?: number; jitter?: number; loss?: number; reorder?: number;
  duplicate?: number; corrupt?: number; mtu: number; seed: number; pcap?: string; json?: boolean; protocol: string;
  rate: number; duration: number; size: number; compare?: boolean; cc: CongestionAlgorithm;
}

/** `--cc`: a congestion-control algorithm l4 has. */
function parseCongestionControl(text: string): CongestionAlgorithm {
  const name = text.trim().toLowerCase();
  const found = CONGESTION_ALGORITHMS.find((a) => a === name);
  if (found === undefined) throw new UsageError(`--cc: '${text}' is not ${CONGESTION_ALGORITHMS.join(' or ')}`);
  return found;
}

/** Adds the `sim` subcommand. */
export function registerSim(program: Command): void {
  program.command('sim')
    .description('run a TCP transfer or a UDP stream between two l4 hosts over an impaired virtual link, in virtual time')
    .option('--protocol <name>', 'tcp (one transfer) or udp (a datagram stream)', 'tcp')
    .option('--bytes <size>', 'tcp: bytes to transfer (e.g. 1MiB, 8MiB, 100000)', (v) => parseSize('--bytes', v), 1024 * 1024)
    .option('--rate <n>', 'udp: datagrams per second', (v) => parseInteger('--rate', v, 1, 1_000_000), 50)
    .option('--duration <time>', 'udp: how long to send (e.g. 10s)', (v) => parseDuration('--duration', v), 10_000_000)
    .option('--size <bytes>', `udp: payload bytes per datagram (${UDP_SIM_HEADER}-65507)`, (v) => parseInteger('--size', v, UDP_SIM_HEADER, 65_507), 64)
    .option('--bandwidth <rate>', 'link rate each way (e.g. 10mbit, 1gbit); default unlimited', (v) => parseRate('--bandwidth', v))
    .option('--delay <time>', 'one-way propagation delay (e.g. 20ms)', (v) => parseDuration('--delay', v))
    .option('--jitter <time>', 'delay variation, uniform +/- (order kept)', (v) => parseDuration('--jitter', v))
    .option('--loss <p>', 'packet loss probability (e.g. 1% or 0.01)', (v) => parseProbability('--loss', v))
    .option('--reorder <p>', 'probability a packet is held back and overtaken', (v) => parseProbability('--reorder', v))
    .option('--duplicate <p>', 'probability a packet is delivered twice', (v) => parseProbability('--duplicate', v))
    .option('--corrupt <p>', 'probability of flipped bits (checksums must catch them)', (v) => parseProbability('--corrupt', v))
    .option('--cc <name>', 'tcp: congestion control of both hosts, cubic or newreno', parseCongestionControl, 'cubic')
    .option('--mtu <bytes>', 'link MTU', (v) => parseInteger('--mtu', v, 576, 65535), 1500)
    .option('--seed <n>', 'seed of every random choice', (v) => parseInteger('--seed', v, -(2 ** 31), 2 ** 32 - 1), 1)
    .option('--pcap <file>', 'write the link\'s packets to a pcap file')
    .option('--json', 'print one JSON object')
    .option('--compare', 'TCP vs UDP on this link: a 16 MiB file over TCP, 50 datagrams/s of 64 bytes over UDP for as long')
    .action((options: SimCliOptions) => {
      if (options.compare) {
        compareCommand({
          seed: options.seed, mtu: options.mtu, bandwidth: options.bandwidth, delay: options.delay, jitter: options.jitter,
          loss: options.loss, reorder: options.reorder, duplicate: options.duplicate, corrupt: options.corrupt,
          congestionControl: options.cc,
        }, options.json === true);
        return;
      }
      if (options.protocol !== 'tcp' && options.protocol !== 'udp') throw new UsageError(`--protocol: '${options.protocol}' is not tcp or udp`);
      if (options.protocol === 'udp') {
        udpCommand(options);
        return;
      }
      const writer = options.pcap ? PcapFileWriter.open(options.pcap, { linkType: 101 }) : undefined;
      const showProgress = !options.json && process.stderr.isTTY;
      const sim: TcpSimOptions = {
        bytes: options.bytes, seed: options.seed, mtu: options.mtu, bandwidth: options.bandwidth, delay: options.delay,
        jitter: options.jitter, loss: options.loss, reorder: options.reorder, duplicate: options.duplicate,
        corrupt: options.corrupt, pcap: writer, progress: showProgress ? progressBar() : undefined,
        congestionControl: options.cc,
      };
      let report: TcpSimReport;
      try {
        report = runTcpSim(sim);
      } finally {
        writer?.close();
        if (showProgress) process.stderr.write('\r\x1b[K');
      }
      if (options.json) console.log(JSON.stringify(report, null, 2));
      else printReport(report);
      process.exitCode = report.completed && report.sha256Sent === report.sha256Received ? 0 : 1;
    });
}

function udpCommand(options: SimCliOptions): void {
  const writer = options.pcap ? PcapFileWriter.open(options.pcap, { linkType: 101 }) : undefined;
  let report: UdpSimReport;
  try {
    report = runUdpSim({
      rate: options.rate, duration: options.duration, size: options.size, seed: options.seed, mtu: options.mtu,
      bandwidth: options.bandwidth, delay: options.delay, jitter: options.jitter, loss: options.loss,
      reorder: options.reorder, duplicate: options.duplicate, corrupt: options.corrupt, pcap: writer,
    });
  } finally {
    writer?.close();
  }
  if (options.json) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  const pct = (n: number): string => (report.sent === 0 ? '0' : ((n / report.sent) * 100).toFixed(2));
  const l = report.latencyMs;
  console.log([
    `sent         ${report.sent} datagrams over ${report.durationSeconds} s`,
    `delivered    ${report.delivered} (${pct(report.delivered)}%)`,
    `lost         ${report.lost} (${pct(report.lost)}%), longest gap ${report.longestGap}, ${report.corruptedDropped} dropped by checksum`,
    `reordered    ${report.reordered}`,
    `duplicated   ${report.duplicated}`,
    `latency ms   ${l ? `min ${l.min.toFixed(3)}  p50 ${l.p50.toFixed(3)}  p90 ${l.p90.toFixed(3)}  p99 ${l.p99.toFixed(3)}  max ${l.max.toFixed(3)}` : '-'}`,
    `seed         ${report.seed}`,
  ].join('\n'));
}

function progressBar(): (received: number, total: number) => void {
  let last = -1;
  return (received, total) => {
    const pct = total === 0 ? 100 : Math.floor((received / total) * 100);
    if (pct === last) return;
    last = pct;
    const width = 30;
    const filled = Math.round((pct / 100) * width);
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct}%`);
  };
}

function printReport(r: TcpSimReport): void {
  const ok = r.completed && r.sha256Sent === r.sha256Received;
  const mbps = (r.goodputBitsPerSecond / 1e6).toFixed(3);
  const lines = [
    `transfer     ${r.bytesReceived} of ${r.bytes} bytes ${ok ? pc.green('intact') : pc.red(`NOT intact (${r.outcome})`)}`,
    `completion   ${r.completionSeconds.toFixed(6)} s (virtual)`,
    `goodput      ${mbps} Mbit/s`,
    `retransmits  ${r.retransmissions} of ${r.sender.segmentsSent} segments sent`,
    `congestion   ${r.congestionControl}`,
    `srtt / rto   ${r.sender.srttMs === undefined ? '-' : r.sender.srttMs.toFixed(3)} ms / ${r.sender.rtoMs.toFixed(1)} ms`,
    `link ->      ${r.link.forward.delivered.packets} delivered, ${r.link.forward.dropped.loss} lost, ${r.link.forward.dropped.queueFull} queue drops, ${r.link.forward.duplicated} duplicated, ${r.link.forward.reordered} reordered, ${r.link.forward.corrupted} corrupted`,
    `link <-      ${r.link.reverse.delivered.packets} delivered, ${r.link.reverse.dropped.loss} lost, ${r.link.reverse.dropped.queueFull} queue drops, ${r.link.reverse.duplicated} duplicated, ${r.link.reverse.reordered} reordered, ${r.link.reverse.corrupted} corrupted`,
    `sha256 sent  ${r.sha256Sent}`,
    `sha256 recv  ${r.sha256Received}`,
    `seed         ${r.seed}`,
  ];
  console.log(lines.join('\n'));
}
