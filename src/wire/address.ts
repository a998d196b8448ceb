/**
 * IP addresses as bytes: an IPv4 address is a 4-byte `Uint8Array`, an IPv6 address a
 * 16-byte one, in network order. Records carry their own copies (never views into a
 * packet buffer that may be reused). Text forms follow dotted-quad for IPv4 and RFC 5952
 * (lower case, longest zero run compressed, IPv4-mapped shown with a dotted tail) for IPv6.
 * Parsing text returns `null` on anything malformed: addresses come from users and files.
 */

/** An IPv4 (4 bytes) or IPv6 (16 bytes) address in network byte order. */
export type IpAddress = Uint8Array;

/** Dotted-quad text of a 4-byte address. */
export function formatIpv4(a: Uint8Array): string {
  return `${a[0]}.${a[1]}.${a[2]}.${a[3]}`;
}

/** RFC 5952 text of a 16-byte address. */
export function formatIpv6(a: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((a[i]! << 8) | a[i + 1]!);
  // RFC 5952 5: IPv4-mapped addresses keep their dotted tail.
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    return `::ffff:${a[12]}.${a[13]}.${a[14]}.${a[15]}`;
  }
  // RFC 5952 4.2: compress the longest run of two or more zero words, the first if tied.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Text of either family, chosen by length. */
export function formatIp(a: Uint8Array): string {
  return a.length === 4 ? formatIpv4(a) : formatIpv6(a);
}

/** Parses dotted-quad text (four decimal octets, no leading zeros beyond a single `0`). */
export function parseIpv4Address(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

/** Parses IPv6 text: full, `::`-compressed, or with an embedded dotted IPv4 tail. Zone ids are refused. */
export function parseIpv6Address(text: string): Uint8Array | null {
  if (text.length === 0 || text.length > 45 || text.includes('%')) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const toWords = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    const groups = s.split(':');
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (i === groups.length - 1 && g.includes('.')) {
        const v4 = parseIpv4Address(g);
        if (!v4) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const head = toWords(halves[0]!);
  const tail = halves.length === 2 ? toWords(halves[1]!) : [];
  if (!head || !tail) return null;
  let words: number[];
  if (halves.length === 2) {
    if (head.length + tail.length > 7) return null;
    words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    if (head.length !== 8) return null;
    words = head;
  }
  const out = new Uint8Array(16);
  words.forEach((w, i) => { out[2 * i] = w >> 8; out[2 * i + 1] = w & 0xff; });
  return out;
}

/** Parses either family: IPv6 if the text has a colon, else IPv4. */
export function parseIpAddress(text: string): Uint8Array | null {
  return text.includes(':') ? parseIpv6Address(text) : parseIpv4Address(text);
}

/** Byte-wise equality of two addresses (different families are never equal). */
export function ipEquals(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The IPv4 address at `bytes[at, at + 4)` as an unsigned 32-bit number (network order: the
 * first byte is the most significant), for comparisons on a receive path that should not
 * allocate. The caller checked the bounds.
 */
export function ipv4Number(bytes: Uint8Array, at = 0): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}
