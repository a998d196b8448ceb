/**
 * The UDP half of the link simulator: a stream of datagrams at a fixed rate between two l4
 * hosts over an impaired virtual link, in virtual time — the seeds' vitals stream (small
 * datagrams, 50 a second, a sequence number in each). Each datagram carries its sequence
 * number and send time; the receiver reports what the application saw: delivered, lost,
 * reordered (arrived after a later one), duplicated, corrupted ones the checksum caught,
 * and latency percentiles. UDP itself recovers nothing: that is the point of the report.
 */
import { simNetwork, type SimLinkOptions } from './sim-link.js';
import { parseIpAddress } from '../wire/address.js';
import { seconds, type Duration, type Instant } from '../time/instant.js';

/** Bytes of the header every simulated datagram starts with: sequence (u32) and send time (f64 µs). */
export const UDP_SIM_HEADER = 12;

/** What to simulate. Times in microseconds, rates in bits per second, probabilities in [0, 1]. */
export interface UdpSimOptions extends SimLinkOptions {
  /** Datagrams per second. */
  readonly rate: number;
  /** How long the sender sends. */
  readonly duration: Duration;
  /** Payload bytes per datagram (at least {@link UDP_SIM_HEADER}). */
  readonly size: number;
}

/** Latency over the datagrams that arrived, in milliseconds. */
export interface LatencySummary {
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** What the receiving application saw. */
export interface UdpSimReport {
  readonly seed: number;
  readonly sent: number;
  /** Distinct datagrams received. */
  readonly delivered: number;
  /** Sent but never received. */
  readonly lost: number;
  /** Received after a datagram with a higher sequence number. */
  readonly reordered: number;
  /** Received again after their first copy. */
  readonly duplicated: number;
  /** Datagrams the receiver's checksum check dropped (the link corrupted them): counted in `lost` too. */
  readonly corruptedDropped: number;
  /** Longest run of consecutive sequence numbers lost: the gap a vitals display would show. */
  readonly longestGap: number;
  readonly latencyMs: LatencySummary | undefined;
  readonly durationSeconds: number;
}

const PORT = 5005;

function percentile(sorted: readonly number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** Runs the stream and reports it. Deterministic for its options. */
export function runUdpSim(options: UdpSimOptions): UdpSimReport {
  if (!(options.rate > 0)) throw new RangeError(`rate must be positive, got ${options.rate}`);
  if (options.size < UDP_SIM_HEADER) throw new RangeError(`size must be at least ${UDP_SIM_HEADER} bytes`);
  const { network, a: sender, b: receiver } = simNetwork(options, ['sender', 'receiver'], [0x3333, 0x4444]);

  const listening = receiver.udpBind({ port: PORT });
  const sending = sender.udpBind({ port: 0 });
  if (!listening.ok || !sending.ok) throw new Error('simulator: bind failed');
  const destination = { address: parseIpAddress('10.0.0.2')!, port: PORT };

  const interval = seconds(1) / options.rate;
  const total = Math.floor((options.duration / seconds(1)) * options.rate);
  const seen = new Uint8Array(total);
  const latencies: number[] = [];
  let highest = -1;
  let reordered = 0;
  let duplicated = 0;
  const payload = new Uint8Array(options.size);
  const view = new DataView(payload.buffer);

  const collect = (): void => {
    let e;
    while ((e = receiver.pollEvent()) !== undefined) {
      if (e.type !== 'udp' || e.event.type !== 'message' || e.event.data.length < UDP_SIM_HEADER) continue;
      const data = e.event.data;
      const dv = new DataView(data.buffer, data.byteOffset, data.length);
      const seq = dv.getUint32(0);
      const sentAt = dv.getFloat64(4);
      if (seq >= total) continue;
      if (seen[seq]) { duplicated++; continue; }
      seen[seq] = 1;
      if (seq < highest) reordered++;
      else highest = seq;
      latencies.push((network.now - sentAt) / 1000);
    }
    while (sender.pollEvent() !== undefined) { /* the sender expects nothing */ }
  };

  for (let seq = 0; seq < total; seq++) {
    const at: Instant = Math.round(seq * interval);
    network.runUntil(() => { collect(); return false; }, { time: at });
    view.setUint32(0, seq);
    view.setFloat64(4, network.now);
    sending.socket.send(network.now, payload, destination);
    network.wake(sender);
  }
  // Let the last datagrams arrive: a generous multiple of the path's delay.
  const drainUntil = network.now + seconds(2) + 4 * ((options.delay ?? 0) + (options.jitter ?? 0));
  network.runUntil(() => { collect(); return false; }, { time: drainUntil });
  collect();

  let delivered = 0;
  let longestGap = 0;
  let gap = 0;
  for (let i = 0; i < total; i++) {
    if (seen[i]) { delivered++; gap = 0; } else { gap++; longestGap = Math.max(longestGap, gap); }
  }
  const sorted = latencies.sort((a, b) => a - b);
  return {
    seed: options.seed,
    sent: total,
    delivered,
    lost: total - delivered,
    reordered,
    duplicated,
    corruptedDropped: receiver.stats.drops['bad-checksum'] ?? 0,
    longestGap,
    latencyMs: sorted.length === 0 ? undefined : {
      min: sorted[0]!, p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted[sorted.length - 1]!,
    },
    durationSeconds: options.duration / seconds(1),
  };
}
