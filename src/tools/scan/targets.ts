/**
 * What a scan is aimed at: the TARGETS of `l4 scan`, each an IPv4 or IPv6 address, a CIDR
 * range (`10.0.0.0/24`, `fd00::/120`) or a host name. Names are not resolved here (that is
 * I/O: the CLI resolves them with node:dns); this module parses and expands.
 *
 * Contract: `parseTarget` never throws: it returns a target or one line saying what is
 * wrong. A CIDR range covers every address of the network, host bits cleared first
 * (`10.0.0.5/30` is 10.0.0.4-10.0.0.7), network and broadcast addresses included, as nmap
 * scans them. A range is refused when it holds more than {@link MAX_TARGETS} addresses (an
 * IPv6 prefix shorter than /112, an IPv4 one shorter than /16): a scan is for a network one
 * is allowed to test, and a larger one is almost always a typo. Text that looks like a
 * dotted address but is not one (`10.0.0.300`) is an error, not a host name.
 */
import { formatIp, parseIpv4Address, parseIpv6Address } from '../../wire/address.js';

/** The most addresses one scan expands to. */
export const MAX_TARGETS = 65536;

/** One parsed TARGETS argument. */
export type TargetSpec =
  | { readonly kind: 'address'; readonly text: string; readonly address: Uint8Array }
  | { readonly kind: 'range'; readonly text: string; readonly network: Uint8Array; readonly prefixLength: number; readonly count: number }
  | { readonly kind: 'name'; readonly text: string; readonly name: string };

/** A target, or why it is not one. */
export type TargetResult = { readonly ok: true; readonly target: TargetSpec } | { readonly ok: false; readonly error: string };

const HOST_NAME = /^(?=.{1,253}\.?$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** Reads one TARGETS argument (see the module doc). */
export function parseTarget(text: string): TargetResult {
  const t = text.trim();
  if (t === '') return { ok: false, error: 'an empty target: give an address, a CIDR range or a host name' };
  const slash = t.indexOf('/');
  if (slash >= 0) {
    const base = t.slice(0, slash);
    const prefixText = t.slice(slash + 1);
    const address = base.includes(':') ? parseIpv6Address(base) : parseIpv4Address(base);
    if (!address) return { ok: false, error: `'${t}' is not a CIDR range: '${base}' is not an IP address` };
    const bits = address.length * 8;
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
      return { ok: false, error: `'${t}' is not a CIDR range: the prefix length must be 0-${bits}` };
    }
    const prefixLength = Number(prefixText);
    const hostBits = bits - prefixLength;
    if (hostBits > 16) {
      return { ok: false, error: `'${t}' holds 2^${hostBits} addresses, more than ${MAX_TARGETS} (use /${bits - 16} or longer)` };
    }
    return { ok: true, target: { kind: 'range', text: t, network: maskAddress(address, prefixLength), prefixLength, count: 2 ** hostBits } };
  }
  if (t.includes(':')) {
    const address = parseIpv6Address(t.startsWith('[') && t.endsWith(']') ? t.slice(1, -1) : t);
    return address ? { ok: true, target: { kind: 'address', text: t, address } } : { ok: false, error: `'${t}' is not an IPv6 address` };
  }
  if (/^[\d.]+$/.test(t)) {
    const address = parseIpv4Address(t);
    return address ? { ok: true, target: { kind: 'address', text: t, address } } : { ok: false, error: `'${t}' is not an IPv4 address` };
  }
  if (!HOST_NAME.test(t)) return { ok: false, error: `'${t}' is not an address, a CIDR range or a host name` };
  return { ok: true, target: { kind: 'name', text: t, name: t.replace(/\.$/, '') } };
}

/** `address` with every bit past `prefixLength` cleared (a copy). */
export function maskAddress(address: Uint8Array, prefixLength: number): Uint8Array {
  const out = address.slice();
  for (let bit = prefixLength; bit < out.length * 8; bit++) out[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return out;
}

/** The addresses of a range, in order (`spec.count` of them). */
export function expandRange(spec: Extract<TargetSpec, { kind: 'range' }>): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < spec.count; i++) {
    const a = spec.network.slice();
    // Add i to the low 16 bits (the host part is at most 16 bits, and the network's host bits are zero).
    const low = ((a[a.length - 2]! << 8) | a[a.length - 1]!) + i;
    a[a.length - 2] = (low >> 8) & 0xff;
    a[a.length - 1] = low & 0xff;
    out.push(a);
  }
  return out;
}

/** One address to scan, with the name or range it came from. */
export interface ScanHost {
  /** The address as text (RFC 5952 for IPv6). */
  readonly address: string;
  /** The address as bytes (4 or 16). */
  readonly bytes: Uint8Array;
  /** The host name the user gave, when the address came from one. */
  readonly name?: string;
}

/** Hosts from already-resolved specs: addresses and ranges expanded, duplicates dropped, names given by `resolved`. */
export function scanHosts(specs: readonly TargetSpec[], resolved: ReadonlyMap<string, Uint8Array> = new Map()): ScanHost[] {
  const out: ScanHost[] = [];
  const seen = new Set<string>();
  const add = (bytes: Uint8Array, name?: string): void => {
    const address = formatIp(bytes);
    if (seen.has(address)) return;
    seen.add(address);
    out.push(name === undefined ? { address, bytes } : { address, bytes, name });
  };
  for (const spec of specs) {
    if (spec.kind === 'address') add(spec.address);
    else if (spec.kind === 'range') for (const a of expandRange(spec)) add(a);
    else {
      const bytes = resolved.get(spec.name);
      if (bytes) add(bytes, spec.name);
    }
  }
  return out;
}
