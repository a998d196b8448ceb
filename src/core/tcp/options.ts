/**
 * The options of a connection beyond the MSS: the Window Scale option (RFC 7323 2) and the
 * Timestamps option (RFC 7323 3) with what they are for, RTT measurement (RTTM, section 4)
 * and protection against wrapped sequence numbers (PAWS, section 5); and reading the SACK
 * options (RFC 2018: SACK-permitted on the SYNs, the blocks of an ACK).
 *
 * Contract: pure helpers, no state. The TCB keeps the variables (Snd.Wind.Shift,
 * Rcv.Wind.Shift, TS.Recent, Last.ACK.sent, Snd.TS.OK); these functions choose our shift,
 * read the peer's options, run the timestamp clock and compare timestamps. Timestamps are
 * 32-bit values compared in modular arithmetic (RFC 7323 5.2: "the arithmetic ... is modular,
 * like the sequence number space"), through the helpers here and nowhere else.
 */
import type { Duration, Instant } from '../../time/instant.js';
import { seqDiff, seqLt } from '../../wire/seq.js';
import type { SackBlock, TcpOption } from '../../wire/tcp.js';

/** The largest value of the 16-bit window field (RFC 9293 3.1). */
export const MAX_WINDOW_FIELD = 0xffff;

/**
 * RFC 7323 2.3: "the shift count MUST be limited to 14 (which allows windows of 2^30 =
 * 1 GiB)".
 */
export const MAX_WINDOW_SHIFT = 14;

/**
 * Option bytes every non-SYN segment carries once timestamps are on: NOP, NOP and the 10-byte
 * TSopt, the layout of RFC 7323 Appendix A. RFC 9293 3.7.1: the effective send MSS is the
 * MSS "minus ... TCPhdrsize" with the options, so the payload shrinks by this much.
 */
export const TIMESTAMPS_OPTION_SPACE = 12;

/** One tick of l4's timestamp clock: a millisecond (RFC 7323 5.4: "between 1 ms and 1 sec per tick"). */
export const TS_CLOCK_TICK: Duration = 1_000;

/**
 * RFC 7323 5.5: "an implementation of PAWS [must] include a mechanism to "invalidate" the
 * TS.Recent value when a connection is idle for more than 24 days".
 */
export const PAWS_IDLE_LIMIT: Duration = 24 * 86_400 * 1_000_000;

const NOP: TcpOption = Object.freeze({ kind: 'nop' });

/**
 * The shift we offer for a receive buffer of `bufferSize` bytes (RFC 7323 2.3): the smallest
 * that lets the whole buffer be announced, 65,535 << shift >= bufferSize, at most 14.
 */
export function windowShiftFor(bufferSize: number): number {
  // Doubling, not 2 ** shift: every connection asks, and the power is the costly part.
  let shift = 0;
  let window = MAX_WINDOW_FIELD;
  while (shift < MAX_WINDOW_SHIFT && window < bufferSize) {
    shift++;
    window *= 2;
  }
  return shift;
}

/**
 * 2^shift, the bytes one unit of a scaled window field stands for. Shifts are at most 14 (RFC
 * 7323 2.3: a larger one received is taken as 14), so a bit shift gives it exactly; `2 ** shift`
 * with a variable exponent is a floating-point power, a cost on every segment.
 */
export function windowUnit(shift: number): number {
  return 1 << shift;
}

/** The peer's Window Scale shift, raw as sent (a later option wins), or undefined without one. */
export function findWindowScale(options: readonly TcpOption[]): number | undefined {
  let shift: number | undefined;
  for (let k = 0; k < options.length; k++) {
    const o = options[k]!;
    if (o !== null && typeof o === 'object' && o.kind === 'window-scale' && Number.isInteger(o.shift) && o.shift >= 0) shift = o.shift;
  }
  return shift;
}

/** The SACK blocks of a segment's options (the last SACK option, as a receiver may only send one), or undefined. */
export function sackBlocksOf(options: readonly TcpOption[]): readonly SackBlock[] | undefined {
  let blocks: readonly SackBlock[] | undefined;
  for (let k = 0; k < options.length; k++) {
    const o = options[k]!;
    if (o !== null && typeof o === 'object' && o.kind === 'sack' && Array.isArray(o.blocks)) blocks = o.blocks;
  }
  return blocks;
}

/** The options carry SACK-permitted (RFC 2018 2). */
export function hasSackPermitted(options: readonly TcpOption[]): boolean {
  for (let k = 0; k < options.length; k++) {
    const o = options[k]!;
    if (o !== null && typeof o === 'object' && o.kind === 'sack-permitted') return true;
  }
  return false;
}

/**
 * SACK blocks an ACK can carry beside the other options (RFC 2018 3: "A SACK option that
 * specifies n blocks will have a length of 8*n+2 bytes, so the 40 bytes available for TCP
 * options can specify a maximum of 4 blocks ... if SACK is used with the Timestamp option ...
 * a maximum of 3 SACK blocks"): with NOP, NOP before the option, (40 - other - 4) / 8.
 */
export function sackBlocksThatFit(otherOptionBytes: number): number {
  return Math.max(0, Math.min(4, Math.floor((40 - otherOptionBytes - 4) / 8)));
}

/** Where `findTimestamps` puts what it found. */
export interface TimestampValues {
  tsVal: number;
  tsEcr: number;
}

/**
 * Reads the Timestamps option of `options` into `out`: true when there is one (a later one
 * wins). Values are reduced to 32 bits; nothing is allocated.
 */
export function findTimestamps(options: readonly TcpOption[], out: TimestampValues): boolean {
  let found = false;
  for (let k = 0; k < options.length; k++) {
    const o = options[k]!;
    if (o !== null && typeof o === 'object' && o.kind === 'timestamps') {
      out.tsVal = Number(o.tsVal) >>> 0;
      out.tsEcr = Number(o.tsEcr) >>> 0;
      found = true;
    }
  }
  return found;
}

/**
 * The timestamp clock (RFC 7323 4.1 "Snd.TSclock"): `now` in milliseconds plus the
 * connection's random offset, on 32 bits. RFC 7323 5.4 and 7.1: a per-connection offset
 * keeps the clock's value from telling an observer the host's uptime or linking
 * connections, as RFC 6528 does for the ISN.
 */
export function tsClock(now: Instant, offset: number): number {
  return (Math.floor(now / TS_CLOCK_TICK) + offset) >>> 0;
}

/** `a` is older than `b` on the 32-bit timestamp circle (RFC 7323 5.2 / 5.3 R1 "SEG.TSval < TS.Recent"). */
export function tsBefore(a: number, b: number): boolean {
  return seqLt(a >>> 0, b >>> 0);
}

/**
 * The round-trip time in ticks that an echoed timestamp gives (RFC 7323 4.1: "RTT =
 * Snd.TSclock - SEG.TSecr"), or undefined when `tsEcr` is not one we can have sent: it must
 * not be ahead of `current` (our clock now) nor more than `age` ticks (the connection's age)
 * behind it. That rejects the zero a confused peer echoes and anything forged or mangled.
 */
export function tsElapsed(current: number, tsEcr: number, age: number): number | undefined {
  const elapsed = seqDiff(current >>> 0, tsEcr >>> 0);
  if (elapsed < 0 || elapsed > age) return undefined;
  return elapsed;
}

/** NOP, NOP, TSopt (RFC 7323 Appendix A): what every segment carries once timestamps are on. */
export function timestampsOptions(tsVal: number, tsEcr: number): TcpOption[] {
  return [NOP, NOP, { kind: 'timestamps', tsVal: tsVal >>> 0, tsEcr: tsEcr >>> 0 }];
}

/**
 * RFC 7323 Appendix G: "ExpectedSamples = ceiling(FlightSize / (SMSS * 2))", the number of
 * RTT samples one round trip brings when every ACK (one per two segments, delayed ACKs)
 * gives one. At least 1.
 */
export function expectedSamples(flightSize: number, smss: number): number {
  return Math.max(1, Math.ceil(flightSize / (Math.max(1, smss) * 2)));
}
