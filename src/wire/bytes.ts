/**
 * Big-endian integers in a `Uint8Array`: the one set of readers and writers the wire modules
 * share. Every protocol l4 speaks puts its multi-byte fields in network byte order, most
 * significant byte first (RFC 791 Appendix B, "Data Transmission Order").
 *
 * Contract: the caller has checked the bounds (a checked view or a parser's length checks);
 * nothing here checks them again, and none of it throws or allocates. The readers return
 * unsigned values. The writers store the low 16 or 32 bits of a value the caller has already
 * range-checked. Bytes are read and written one by one, with no `DataView`: these run for
 * every packet, and a `DataView` is an allocation per buffer.
 */

/** The unsigned 16-bit big-endian value at `b[at]` (0 to 65,535). */
export function readU16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

/** The unsigned 32-bit big-endian value at `b[at]` (0 to 2^32 - 1; `>>> 0` keeps it unsigned). */
export function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** Writes the low 16 bits of `v` big-endian at `b[at]`. */
export function writeU16(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 8;
  b[at + 1] = v & 0xff;
}

/** Writes the low 32 bits of `v` (an unsigned 32-bit value) big-endian at `b[at]`. */
export function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}
