/**
 * The result of a scan as one plain record (`l4 scan --json` prints it as is), built from
 * the engine's outcomes. Field names are stable. Every scanned port is listed, whatever its
 * state, so that a reader can compare port by port; the table and XML formats collapse the
 * common states as nmap does.
 *
 * A host is `up` when something came back from the host itself (a SYN-ACK, a RST, a
 * refusal, a UDP reply, an ICMP error sent by the host), with the reason of the first such
 * reply; otherwise `down`, with the reason most of its ports got (no-response, or an
 * unreachable error from a router): l4 scans every port it was asked to either way, as
 * nmap -Pn does, but says plainly when nothing answered.
 */
import type { ScanEngine } from './engine.js';
import type { ServiceInfo } from './banners.js';
import type { ScanHost } from './targets.js';
import { serviceName } from '../registry.js';
import type { PortState, Reason, ScanType } from './verdict.js';

/** One port of one host. */
export interface PortReport {
  readonly port: number;
  readonly protocol: 'tcp' | 'udp';
  readonly state: PortState;
  readonly reason: Reason;
  /** TTL or hop limit of the reply that decided it. */
  readonly reasonTtl?: number;
  /** Probes sent to it. */
  readonly tries: number;
  /** Service name: from the banner (`serviceMethod` probed) or the IANA registry (table). */
  readonly service?: string;
  readonly serviceMethod: 'probed' | 'table';
  readonly product?: string;
  readonly version?: string;
  /** First line the service sent (with --banners). */
  readonly banner?: string;
}

/** One scanned host. */
export interface HostReport {
  /** The address scanned. */
  readonly address: string;
  readonly family: 4 | 6;
  /** The host name it was given as, if any. */
  readonly name?: string;
  readonly state: 'up' | 'down';
  readonly reason: Reason;
  /** Smoothed RTT, µs (undefined before any sample). */
  readonly srttMicros?: number;
  readonly rttvarMicros?: number;
  /** The probe timeout in force at the end, µs. */
  readonly timeoutMicros: number;
  /** Ports per state. */
  readonly counts: Readonly<Record<PortState, number>>;
  /** Ports left undecided (an interrupted scan). */
  readonly undecided: number;
  readonly ports: readonly PortReport[];
}

/** A whole scan. */
export interface ScanReport {
  readonly scanner: 'l4';
  readonly version: string;
  readonly type: ScanType;
  readonly protocol: 'tcp' | 'udp';
  /** The command line, for the XML `args`. */
  readonly args: string;
  /** ISO 8601 start time. */
  readonly startTime: string;
  readonly endTime: string;
  readonly elapsedSeconds: number;
  /** True when stopped by Ctrl-C before every port was decided. */
  readonly interrupted: boolean;
  /** The ports asked for, ascending. */
  readonly ports: readonly number[];
  readonly hosts: readonly HostReport[];
  readonly stats: { readonly probesSent: number; readonly retransmissions: number; readonly replies: number; readonly drops: number };
}

/** What `buildReport` needs besides the engine. */
export interface ReportContext {
  readonly version: string;
  readonly type: ScanType;
  readonly args: string;
  readonly start: Date;
  readonly end: Date;
  readonly hosts: readonly ScanHost[];
  /** Services named from banners, by `host index:port`. */
  readonly services?: ReadonlyMap<string, ServiceInfo>;
}

/** Builds the report from a finished (or aborted) engine. */
export function buildReport(engine: ScanEngine, context: ReportContext): ScanReport {
  const protocol = context.type === 'udp' ? 'udp' : 'tcp';
  const hosts: HostReport[] = context.hosts.map((h, index) => {
    const timing = engine.hostTiming(index);
    const counts: Record<PortState, number> = { 'open': 0, 'open|filtered': 0, 'filtered': 0, 'closed': 0 };
    const reasons = new Map<Reason, number>();
    const ports: PortReport[] = engine.outcomes(index).map((o) => {
      counts[o.verdict.state]++;
      reasons.set(o.verdict.reason, (reasons.get(o.verdict.reason) ?? 0) + 1);
      const info = context.services?.get(`${index}:${o.port}`);
      const name = info?.name ?? serviceName(o.port, protocol);
      return {
        port: o.port, protocol, state: o.verdict.state, reason: o.verdict.reason,
        ...(o.ttl !== undefined ? { reasonTtl: o.ttl } : {}),
        tries: o.tries,
        ...(name !== undefined ? { service: name } : {}),
        serviceMethod: info?.method ?? 'table',
        ...(info?.product !== undefined ? { product: info.product } : {}),
        ...(info?.version !== undefined ? { version: info.version } : {}),
        ...(info?.banner !== undefined ? { banner: info.banner } : {}),
      };
    });
    const firstAnswer = ports.find((p) => ['syn-ack', 'reset', 'conn-refused', 'udp-response', 'split-handshake-syn'].includes(p.reason)
      || (p.reason === 'port-unreach' && p.state === 'closed'));
    const common = [...reasons.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'no-response';
    const up = timing.answered;
    return {
      address: h.address,
      family: h.bytes.length === 4 ? 4 : 6,
      ...(h.name !== undefined ? { name: h.name } : {}),
      state: up ? 'up' : 'down',
      reason: up ? (firstAnswer?.reason ?? common) : common,
      ...(timing.srtt !== undefined ? { srttMicros: timing.srtt, rttvarMicros: timing.rttvar! } : {}),
      timeoutMicros: timing.timeout,
      counts,
      undecided: engine.ports.length - ports.length,
      ports,
    };
  });
  return {
    scanner: 'l4',
    version: context.version,
    type: context.type,
    protocol,
    args: context.args,
    startTime: context.start.toISOString(),
    endTime: context.end.toISOString(),
    elapsedSeconds: (context.end.getTime() - context.start.getTime()) / 1000,
    interrupted: engine.aborted,
    ports: [...engine.ports].sort((a, b) => a - b),
    hosts,
    stats: { probesSent: engine.stats.probesSent, retransmissions: engine.stats.retransmissions, replies: engine.stats.replies, drops: engine.stats.drops },
  };
}

/** nmap's plural of a reason name ("resets", "no-responses", "port-unreaches"; reason.cc). */
export function reasonPlural(reason: Reason, count: number): string {
  if (count === 1 || reason === 'conn-refused') return reason;
  return reason.endsWith('h') ? `${reason}es` : `${reason}s`;
}

/**
 * nmap's rule for what a listing leaves out (portlist.cc `isIgnoredState`): a state other
 * than open with more than 25 ports is summarised in a "Not shown" line instead of listed.
 */
export function ignoredStates(host: HostReport): PortState[] {
  return (Object.keys(host.counts) as PortState[]).filter((s) => s !== 'open' && host.counts[s] > 25);
}
