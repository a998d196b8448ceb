/**
 * Checksum repair for fuzz tests: a mutated packet whose checksums are made right again gets
 * past the checksum checks, so the fuzzer reaches the code behind them.
 */
import { checksumAdd, checksumFinish, internetChecksum, pseudoHeaderSum } from '../../src/wire/checksum.js';

/**
 * Makes the IP length field match the buffer (when `lengths`), recomputes the IPv4 header
 * checksum, and, for an unfragmented packet, the TCP/UDP/ICMP/ICMPv6 checksum where the
 * structure allows (a fragment's transport checksum covers bytes not in it).
 */
export function fixChecksums(p: Uint8Array, lengths = false): Uint8Array {
  const version = p[0]! >>> 4;
  if (lengths && version === 4 && p.length >= 20 && p.length <= 65535) { p[2] = p.length >>> 8; p[3] = p.length & 0xff; }
  if (lengths && version === 6 && p.length >= 40 && p.length <= 65575) { p[4] = (p.length - 40) >>> 8; p[5] = (p.length - 40) & 0xff; }
  if (version === 4 && p.length >= 20) {
    const ihl = (p[0]! & 0x0f) * 4;
    if (ihl < 20 || ihl > p.length) return p;
    const total = Math.min(p.length, (p[2]! << 8) | p[3]!);
    const unfragmented = (((p[6]! << 8) | p[7]!) & 0x3fff) === 0;
    if (unfragmented && total >= ihl) fixTransport(p, ihl, total, p[9]!, p.subarray(12, 16), p.subarray(16, 20));
    p[10] = 0;
    p[11] = 0;
    const c = internetChecksum(p, 0, ihl);
    p[10] = c >>> 8;
    p[11] = c & 0xff;
  } else if (version === 6 && p.length >= 40) {
    const end = Math.min(p.length, 40 + ((p[4]! << 8) | p[5]!));
    fixTransport(p, 40, end, p[6]!, p.subarray(8, 24), p.subarray(24, 40));
  }
  return p;
}

function fixTransport(p: Uint8Array, start: number, end: number, protocol: number, src: Uint8Array, dst: Uint8Array): void {
  const at = protocol === 6 ? 16 : protocol === 17 ? 6 : protocol === 1 || protocol === 58 ? 2 : -1;
  if (at < 0 || end - start < at + 2) return;
  p[start + at] = 0;
  p[start + at + 1] = 0;
  const pseudo = protocol === 1 ? 0 : pseudoHeaderSum(src, dst, protocol, end - start);
  const c = checksumFinish(pseudo + checksumAdd(0, p, start, end));
  p[start + at] = c >>> 8;
  p[start + at + 1] = c & 0xff;
}
