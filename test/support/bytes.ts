/**
 * Small helpers shared by the wire tests: hex text to bytes, and unwrapping a parse that
 * must succeed (failing the test with the parser's reason otherwise).
 */
import assert from 'node:assert/strict';
import type { ParseResult } from '../../src/wire/result.js';

/** Bytes from hex text; whitespace is ignored, so packets can be laid out as tcpdump -xx prints them. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  assert.match(clean, /^([0-9a-fA-F]{2})*$/, 'hex text has an even number of hex digits');
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

/** The value of a parse that must succeed. */
export function value<T>(r: ParseResult<T>): T {
  if (!r.ok) assert.fail(`expected a parse, got '${r.reason}'`);
  return r.value;
}
