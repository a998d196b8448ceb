/**
 * Which ports a scan probes: `-p` lists and ranges in nmap's syntax, or the N ports most
 * often found open (`--top-ports`, from the generated table in `top-ports-data.ts`).
 *
 * Contract: `parsePortSpec` never throws; it returns the ports sorted and without
 * duplicates, or an error with one line of text that names the bad part. Accepted: single
 * ports (`22`), ranges (`1-1024`), open ranges as nmap reads them (`-1024` is 1-1024,
 * `60000-` is 60000-65535, `-` alone is every port), comma-separated lists of those, and
 * a `T:`/`U:` prefix on the whole list (nmap's protocol qualifier, accepted and ignored:
 * the scan type decides the protocol). Ports are 1-65535.
 */
import { TOP_TCP_PORTS, TOP_UDP_PORTS } from './top-ports-data.js';

/** The largest port number. */
export const MAX_PORT = 65535;

/** A parsed port list, or why it could not be parsed. */
export type PortSpecResult = { readonly ok: true; readonly ports: readonly number[] } | { readonly ok: false; readonly error: string };

/** Reads `-p`'s argument (see the module doc). */
export function parsePortSpec(text: string): PortSpecResult {
  let spec = text.trim();
  const qualifier = /^[TU]:/i.exec(spec);
  if (qualifier) spec = spec.slice(2);
  if (spec === '') return { ok: false, error: `'${text}' is not a port list (try 22, 1-1024, 22,80,443 or -)` };
  const seen = new Uint8Array(MAX_PORT + 1);
  for (const raw of spec.split(',')) {
    const part = raw.trim();
    const m = /^(\d*)(?:(-)(\d*))?$/.exec(part);
    if (!m || part === '') return { ok: false, error: `'${part}' in '${text}' is not a port or a range (try 22, 1-1024, 22,80,443 or -)` };
    const first = m[1] === '' ? 1 : Number(m[1]);
    const last = m[2] === undefined ? first : m[3] === '' ? MAX_PORT : Number(m[3]);
    if (m[1] === '' && m[2] === undefined) return { ok: false, error: `'${part}' in '${text}' is not a port` };
    for (const p of [first, last]) {
      if (!Number.isSafeInteger(p) || p < 1 || p > MAX_PORT) {
        return { ok: false, error: `port range '${part}' is invalid: ports are 1-${MAX_PORT}` };
      }
    }
    if (last < first) return { ok: false, error: `port range '${part}' is reversed (${first} > ${last})` };
    seen.fill(1, first, last + 1);
  }
  const ports: number[] = [];
  for (let p = 1; p <= MAX_PORT; p++) if (seen[p] === 1) ports.push(p);
  return { ok: true, ports };
}

/**
 * The `n` ports most often found open for `protocol`, in that order (most frequent first):
 * nmap-services' open-frequency order, as generated into `top-ports-data.ts`. `n` is 1-1000.
 * Throws RangeError outside that.
 */
export function topPorts(n: number, protocol: 'tcp' | 'udp'): readonly number[] {
  const list = protocol === 'tcp' ? TOP_TCP_PORTS : TOP_UDP_PORTS;
  if (!Number.isInteger(n) || n < 1 || n > list.length) throw new RangeError(`--top-ports ${n} is outside 1-${list.length}`);
  return list.slice(0, n);
}

/** How many ports `topPorts` can give per protocol. */
export const TOP_PORTS_MAX = Math.min(TOP_TCP_PORTS.length, TOP_UDP_PORTS.length);

/**
 * nmap's compact text of a port set: sorted, consecutive runs joined (`1-21,23,25-79`), as
 * in the XML `scaninfo services` and `extrareasons ports` attributes.
 */
export function formatPortRanges(ports: Iterable<number>): string {
  const sorted = [...ports].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return out.join(',');
}
