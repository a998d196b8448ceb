/**
 * TCP versus UDP on the same impaired link: a DICOM-sized file over TCP (it arrives whole,
 * however late) and a vital-signs stream over UDP (on time, with gaps). The seeds' trade-off,
 * measured. The UDP stream lasts as long as the TCP transfer took (at least `minUdpDuration`),
 * so both saw the link for the same time. Deterministic for its options.
 */
import type { CongestionAlgorithm } from '../core/tcp/types.js';
import type { Duration } from '../time/instant.js';
import { seconds } from '../time/instant.js';
import { runTcpSim, type TcpSimReport } from './sim.js';
import { runUdpSim, type UdpSimReport } from './sim-udp.js';
import type { SimLinkOptions } from './sim-link.js';

/** The link both runs share, and what each sends. */
export interface CompareOptions extends Omit<SimLinkOptions, 'pcap'> {
  /** Bytes of the file sent over TCP. Default 16 MiB (a DICOM study). */
  readonly tcpBytes?: number;
  /** UDP datagrams per second and payload bytes. Default 50 and 64 (a vitals monitor). */
  readonly udpRate?: number;
  readonly udpSize?: number;
  /** The shortest UDP stream. Default 10 s. */
  readonly minUdpDuration?: Duration;
  /** The congestion control of the TCP transfer; default l4's (CUBIC). */
  readonly congestionControl?: CongestionAlgorithm;
}

/** Both reports, and the figures to set side by side. */
export interface CompareReport {
  readonly seed: number;
  readonly tcp: TcpSimReport;
  readonly udp: UdpSimReport;
  readonly summary: {
    readonly tcp: { readonly intact: boolean; readonly completionSeconds: number; readonly retransmissions: number };
    readonly udp: {
      readonly deliveredPercent: number; readonly lost: number; readonly reordered: number;
      readonly latencyP50Ms: number | undefined; readonly latencyP99Ms: number | undefined;
    };
  };
}

export const COMPARE_DEFAULTS = { tcpBytes: 16 * 1024 * 1024, udpRate: 50, udpSize: 64, minUdpDuration: seconds(10) } as const;

/** Runs the TCP transfer, then the UDP stream for as long, on the same link options. */
export function runCompare(options: CompareOptions): CompareReport {
  const link: SimLinkOptions = {
    seed: options.seed, bandwidth: options.bandwidth, delay: options.delay, jitter: options.jitter, loss: options.loss,
    reorder: options.reorder, duplicate: options.duplicate, corrupt: options.corrupt, mtu: options.mtu,
  };
  const tcp = runTcpSim({ ...link, bytes: options.tcpBytes ?? COMPARE_DEFAULTS.tcpBytes, congestionControl: options.congestionControl });
  const minDuration = options.minUdpDuration ?? COMPARE_DEFAULTS.minUdpDuration;
  const duration = Math.max(minDuration, Math.ceil(tcp.completionSeconds * 1e6));
  const udp = runUdpSim({ ...link, rate: options.udpRate ?? COMPARE_DEFAULTS.udpRate, size: options.udpSize ?? COMPARE_DEFAULTS.udpSize, duration });
  return {
    seed: options.seed,
    tcp,
    udp,
    summary: {
      tcp: { intact: tcp.completed && tcp.sha256Sent === tcp.sha256Received, completionSeconds: tcp.completionSeconds, retransmissions: tcp.retransmissions },
      udp: {
        deliveredPercent: udp.sent === 0 ? 0 : (udp.delivered / udp.sent) * 100,
        lost: udp.lost,
        reordered: udp.reordered,
        latencyP50Ms: udp.latencyMs?.p50,
        latencyP99Ms: udp.latencyMs?.p99,
      },
    },
  };
}

/** The two outcomes side by side: rows of [figure, TCP, UDP]. */
export function compareRows(r: CompareReport): string[][] {
  const t = r.tcp;
  const u = r.udp;
  const ms = (v: number | undefined): string => (v === undefined ? '-' : `${v.toFixed(3)} ms`);
  return [
    ['sent', `a file of ${t.bytes} bytes`, `${u.sent} datagrams over ${u.durationSeconds} s`],
    ['arrived', r.summary.tcp.intact ? `whole (${t.bytesReceived} bytes, sha256 equal)` : `NOT whole (${t.bytesReceived} bytes, ${t.outcome})`,
      `${u.delivered} (${r.summary.udp.deliveredPercent.toFixed(2)}%)`],
    ['lost', r.summary.tcp.intact ? '0 (lost segments resent)' : 'bytes missing', `${u.lost}, longest gap ${u.longestGap}`],
    ['retransmissions', String(t.retransmissions), 'none (UDP never resends)'],
    ['reordered', '0 (reassembled in order)', String(u.reordered)],
    ['time', `complete after ${t.completionSeconds.toFixed(3)} s`, `latency p50 ${ms(u.latencyMs?.p50)}, p99 ${ms(u.latencyMs?.p99)}`],
  ];
}
