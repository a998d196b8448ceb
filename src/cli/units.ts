/**
 * Parsing the units people type: sizes (`8MiB`, `10M`, `1500`), rates (`10mbit`, `1gbit`,
 * `500kbps`), durations (`50ms`, `1.5s`, `200us`) and probabilities (`1%`, `0.01`). Each parser
 * throws a `UsageError` naming the option and the value, which the CLI prints as one line
 * with exit code 2.
 */
import { UsageError } from './errors.js';

const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3,
};

/** Bytes: a non-negative integer with an optional unit (k/M/G decimal, KiB/MiB/GiB binary). */
export function parseSize(option: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new UsageError(`${option}: '${text}' is not a size (try 1500, 64KiB, 8MiB, 1G)`);
  const value = Number(m[1]) * unit;
  if (!Number.isSafeInteger(Math.round(value))) throw new UsageError(`${option}: '${text}' is too large`);
  return Math.round(value);
}

const RATE_UNITS: Record<string, number> = {
  '': 1, bit: 1, bps: 1, kbit: 1e3, kbps: 1e3, k: 1e3, mbit: 1e6, mbps: 1e6, m: 1e6, gbit: 1e9, gbps: 1e9, g: 1e9,
};

/** Bits per second: a positive number with an optional unit (kbit, mbit, gbit; tc's spelling). */
export function parseRate(option: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?(?:e\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? RATE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new UsageError(`${option}: '${text}' is not a rate (try 10mbit, 1gbit, 500kbit)`);
  const value = Number(m[1]) * unit;
  if (!(value > 0) || !Number.isFinite(value)) throw new UsageError(`${option}: the rate must be positive, not '${text}'`);
  return value;
}

const DURATION_UNITS: Record<string, number> = { us: 1, µs: 1, ms: 1e3, s: 1e6, m: 60e6, min: 60e6 };

/** Microseconds: a non-negative number with a unit (us, ms, s, min); a bare number means milliseconds. */
export function parseDuration(option: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(us|µs|ms|s|m|min)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`${option}: '${text}' is not a duration (try 50ms, 1.5s, 200us)`);
  const unit = DURATION_UNITS[(m[2] ?? 'ms').toLowerCase()]!;
  return Math.round(Number(m[1]) * unit);
}

/** A probability: `0.01` or `1%`, within [0, 1]. */
export function parseProbability(option: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(text.trim());
  if (!m) throw new UsageError(`${option}: '${text}' is not a probability (try 0.01 or 1%)`);
  const value = Number(m[1]) / (m[2] ? 100 : 1);
  if (value > 1) throw new UsageError(`${option}: '${text}' is above 100%`);
  return value;
}

/** An integer within [min, max]. */
export function parseInteger(option: string, text: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(text.trim())) throw new UsageError(`${option}: '${text}' is not an integer`);
  const value = Number(text);
  if (value < min || value > max) throw new UsageError(`${option}: ${value} is outside ${min}..${max}`);
  return value;
}
