/**
 * A scan report as text: nmap's "normal" output (-oN, with --reason), and nmap's XML
 * (-oX). The XML follows nmap's DTD (nmap.dtd, xmloutputversion 1.05) element for element:
 * `nmaprun` with `scaninfo`, `verbose`, `debugging`, one `host` per address (`status`,
 * `address`, `hostnames`, `ports` with `extraports`/`extrareasons` for the collapsed
 * states and one `port` with `state` and `service` per listed port, `times`), and
 * `runstats`, so that programs that read nmap's XML read l4's. The DTD allows only
 * `scanner="nmap"`; l4 writes that, and says who it is in `args` ("l4 scan …") and
 * `version` ("l4 0.1.0").
 */
import type { HostReport, PortReport, ScanReport } from './report.js';
import { ignoredStates, reasonPlural } from './report.js';
import { formatPortRanges } from './ports.js';
import type { PortState, Reason } from './verdict.js';

/** Colours for the table (picocolors' shape); identity functions for none. */
export interface Colors {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
}

const PLAIN: Colors = { green: (s) => s, red: (s) => s, yellow: (s) => s, dim: (s) => s };

/** nmap's latency figure: seconds with two significant digits ("0.00011s"). */
function latency(micros: number): string {
  const s = micros / 1e6;
  if (s === 0) return '0.0000010s';
  return `${Number(s.toPrecision(2)).toFixed(Math.max(0, 1 - Math.floor(Math.log10(s))))}s`;
}

/** The "Not shown" summary of the collapsed states, with their reasons (nmap 7.9x's wording). */
function notShown(host: HostReport, protocol: string, states: readonly PortState[]): string {
  const parts = states
    .map((state) => {
      const ports = host.ports.filter((p) => p.state === state);
      const reasons = new Map<Reason, number>();
      for (const p of ports) reasons.set(p.reason, (reasons.get(p.reason) ?? 0) + 1);
      const list = [...reasons.entries()].sort((a, b) => b[1] - a[1]);
      const why = list.length === 1 ? list[0]![0] : list.map(([r, n]) => `${n} ${reasonPlural(r, n)}`).join(', ');
      return { count: ports.length, text: `${ports.length} ${state} ${protocol} ports (${why})` };
    })
    .sort((a, b) => b.count - a.count);
  return `Not shown: ${parts.map((p) => p.text).join(', ')}`;
}

function stateColor(state: PortState, c: Colors): (s: string) => string {
  return state === 'open' ? c.green : state === 'closed' ? c.red : c.yellow;
}

/** The port table of one host, nmap's columns: PORT STATE SERVICE REASON [VERSION]. */
function portTable(ports: readonly PortReport[], withVersion: boolean, c: Colors): string[] {
  const rows = ports.map((p) => {
    const version = [p.product, p.version].filter(Boolean).join(' ') || (p.banner ?? '');
    return [`${p.port}/${p.protocol}`, p.state, p.service ?? 'unknown', p.reasonTtl !== undefined ? `${p.reason} ttl ${p.reasonTtl}` : p.reason, ...(withVersion ? [version] : [])];
  });
  const head = ['PORT', 'STATE', 'SERVICE', 'REASON', ...(withVersion ? ['VERSION'] : [])];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[], color?: (s: string) => string): string => cells
    .map((cell, i) => {
      const padded = i === cells.length - 1 ? cell : cell.padEnd(widths[i]!);
      return i === 1 && color ? color(padded) : padded;
    })
    .join(' ')
    .trimEnd();
  return [line(head), ...rows.map((r, i) => line(r, stateColor(ports[i]!.state, c)))];
}

/** "1 IP address (1 host up)", nmap's closing count. */
function hostCount(report: ScanReport): string {
  const n = report.hosts.length;
  const up = report.hosts.filter((h) => h.state === 'up').length;
  return `${n} IP address${n === 1 ? '' : 'es'} (${up} host${up === 1 ? '' : 's'} up)`;
}

/** nmap's normal output, with the REASON column always (nmap's --reason) and VERSION with banners. */
export function formatTable(report: ScanReport, colors: Colors = PLAIN): string {
  const c = colors;
  const lines: string[] = [];
  const start = new Date(report.startTime);
  lines.push(`Starting l4 scan ${report.version} (${report.type} scan, ${report.protocol}) at ${start.toISOString().slice(0, 16).replace('T', ' ')} UTC`);
  const withVersion = report.hosts.some((h) => h.ports.some((p) => p.serviceMethod === 'probed' || p.banner !== undefined));
  for (const host of report.hosts) {
    lines.push(`l4 scan report for ${host.name !== undefined ? `${host.name} (${host.address})` : host.address}`);
    if (host.state === 'up') {
      lines.push(`Host is up, received ${host.reason}${host.srttMicros !== undefined ? ` (${latency(host.srttMicros)} latency)` : ''}.`);
    } else {
      lines.push(c.yellow(`Host seems down: nothing came back from it (${host.reason}); its ports as probed:`));
    }
    const ignored = ignoredStates(host);
    const shown = host.ports.filter((p) => !ignored.includes(p.state));
    if (shown.length === 0 && host.ports.length > 0) {
      lines.push(`All ${host.ports.length} scanned ports on ${host.name ?? host.address} are in ignored states.`);
    }
    if (ignored.length > 0) lines.push(notShown(host, report.protocol, ignored));
    if (shown.length > 0) lines.push(...portTable(shown, withVersion, c));
    if (host.undecided > 0) lines.push(c.dim(`${host.undecided} ports not decided (scan interrupted)`));
    lines.push('');
  }
  const interrupted = report.interrupted ? ' -- interrupted (Ctrl-C): ports not decided are left out' : '';
  lines.push(`l4 scan done: ${hostCount(report)} scanned in ${report.elapsedSeconds.toFixed(2)} seconds${interrupted}`);
  return lines.join('\n');
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')
    // nmap escapes "--" in args so that the comment stays valid; do the same in attributes for symmetry.
    .replace(/--/g, '-&#45;');
}

/** ctime(3)'s text, as nmap writes startstr and timestr ("Sun Nov 22 00:15:57 2026"), in UTC. */
function ctime(date: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${days[date.getUTCDay()]} ${months[date.getUTCMonth()]} ${String(date.getUTCDate()).padStart(2, ' ')} `
    + `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} ${date.getUTCFullYear()}`;
}

function xmlPort(p: PortReport): string {
  const ttl = p.reasonTtl ?? 0;
  // nmap writes a service element for every listed port, "unknown" when it has no name.
  const service = `<service name="${esc(p.service ?? 'unknown')}"${p.product !== undefined ? ` product="${esc(p.product)}"` : ''}`
      + `${p.version !== undefined ? ` version="${esc(p.version)}"` : ''}${p.banner !== undefined && p.serviceMethod === 'probed' ? ` extrainfo="${esc(p.banner)}"` : ''}`
      + ` method="${p.serviceMethod}" conf="${p.serviceMethod === 'probed' ? 10 : 3}"/>`;
  return `<port protocol="${p.protocol}" portid="${p.port}"><state state="${p.state}" reason="${p.reason}" reason_ttl="${ttl}"/>${service}</port>`;
}

/** nmap's XML (-oX) of the report (see the module doc). */
export function formatXml(report: ScanReport): string {
  const start = new Date(report.startTime);
  const end = new Date(report.endTime);
  const startSec = Math.floor(start.getTime() / 1000);
  const endSec = Math.floor(end.getTime() / 1000);
  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push('<!DOCTYPE nmaprun>');
  out.push(`<!-- l4 scan ${report.version} scan initiated ${ctime(start)} as: ${report.args.replace(/--/g, '-&#45;')} -->`);
  out.push(`<nmaprun scanner="nmap" args="${esc(report.args)}" start="${startSec}" startstr="${ctime(start)}" version="l4 ${esc(report.version)}" xmloutputversion="1.05">`);
  out.push(`<scaninfo type="${report.type}" protocol="${report.protocol}" numservices="${report.ports.length}" services="${formatPortRanges(report.ports)}"/>`);
  out.push('<verbose level="0"/>');
  out.push('<debugging level="0"/>');
  for (const host of report.hosts) {
    out.push(`<host starttime="${startSec}" endtime="${endSec}"><status state="${host.state}" reason="${host.reason}" reason_ttl="0"/>`);
    out.push(`<address addr="${host.address}" addrtype="${host.family === 4 ? 'ipv4' : 'ipv6'}"/>`);
    out.push('<hostnames>');
    if (host.name !== undefined) out.push(`<hostname name="${esc(host.name)}" type="user"/>`);
    out.push('</hostnames>');
    const ignored = ignoredStates(host);
    let ports = '<ports>';
    for (const state of ignored) {
      const inState = host.ports.filter((p) => p.state === state);
      ports += `<extraports state="${state}" count="${inState.length}">\n`;
      const byReason = new Map<Reason, number[]>();
      for (const p of inState) {
        const list = byReason.get(p.reason) ?? [];
        list.push(p.port);
        byReason.set(p.reason, list);
      }
      for (const [reason, list] of byReason) {
        ports += `<extrareasons reason="${reason}" count="${list.length}" proto="${report.protocol}" ports="${formatPortRanges(list)}"/>\n`;
      }
      ports += '</extraports>\n';
    }
    out.push(ports.replace(/\n$/, ''));
    for (const p of host.ports) if (!ignored.includes(p.state)) out.push(xmlPort(p));
    out.push('</ports>');
    out.push(`<times srtt="${host.srttMicros ?? -1}" rttvar="${host.rttvarMicros ?? -1}" to="${host.timeoutMicros}"/>`);
    out.push('</host>');
  }
  const up = report.hosts.filter((h) => h.state === 'up').length;
  const summary = `l4 scan done at ${ctime(end)}; ${hostCount(report)} scanned in ${report.elapsedSeconds.toFixed(2)} seconds`;
  const exit = report.interrupted ? ' exit="error" errormsg="interrupted"' : ' exit="success"';
  out.push(`<runstats><finished time="${endSec}" timestr="${ctime(end)}" summary="${esc(summary)}" elapsed="${report.elapsedSeconds.toFixed(2)}"${exit}/>`
    + `<hosts up="${up}" down="${report.hosts.length - up}" total="${report.hosts.length}"/>`);
  out.push('</runstats>');
  out.push('</nmaprun>');
  return `${out.join('\n')}\n`;
}
