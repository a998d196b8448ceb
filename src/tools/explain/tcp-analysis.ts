/**
 * Sequence analysis of one TCP conversation, segment by segment, in capture order: what each
 * segment is (handshake step, data, pure ACK, FIN, RST) and what Wireshark's TCP analysis
 * would say of it (`tcp.analysis.*`), plus RTT samples, bytes each way and the state reached.
 *
 * The analysis flags follow Wireshark's `tcp_analyze_sequence_number` (epan/dissectors/
 * packet-tcp.c) so that l4 and tshark mark the same frames; its definitions, in short, per
 * direction of the conversation ("fwd" is the segment's direction, "rev" the other one):
 * - retransmission: the segment carries data, SYN or FIN and starts before the highest
 *   sequence number already seen in its direction (`nextseq`). Wireshark splits these into
 *   fast retransmission (there were at least 2 duplicate ACKs for exactly this seq in the
 *   other direction, the last one under 20 ms ago), out-of-order (it came sooner after the
 *   highest segment than the handshake took from the SYN to the first ACK — 3 ms when no
 *   SYN was seen — and does not end exactly at `nextseq`; tested after the next kind), spurious
 *   retransmission (everything in it was already acknowledged) and plain retransmission. tshark's `tcp.analysis.retransmission`
 *   filter matches the plain, fast and spurious kinds, not out-of-order ones. Note that a
 *   capture taken after a lossy hop never sees the lost original: its retransmission is
 *   still called one (it starts below `nextseq`) though its range was never seen before.
 * - duplicate ACK: no data, not SYN/FIN/RST, a non-zero window equal to the previous one
 *   in that direction, seq equal to `nextseq` and ack equal to the previous ack.
 * - zero window: a window of 0 on a segment that is not SYN, FIN or RST.
 * - window update: no data, a new non-zero window, same seq (`nextseq`) and ack.
 * - keep-alive: 0 or 1 byte starting one byte before `nextseq` (not SYN/FIN/RST).
 * - zero-window probe: exactly 1 byte at `nextseq` while the other side's window is 0 (it
 *   does not advance `nextseq`); its answer repeating the zero window is a probe ACK.
 * - previous segment not captured: the segment starts beyond `nextseq` (a gap).
 * - ACKed unseen segment: the ACK covers bytes the other direction was never seen to send.
 * Sequence numbers are compared with `wire/seq.ts` only. Wireshark treats a `nextseq` or
 * `lastack` of 0 as "not yet known"; that quirk is kept (it matters only for the rare
 * conversation whose numbers sit exactly there) so that both tools agree.
 *
 * RTT samples follow Karn's rule: a segment that occupies sequence space (data, SYN, FIN),
 * sent once, gives one sample from its capture time to the first ACK in the other
 * direction that covers its last byte; a retransmitted segment, and any earlier segment
 * whose bytes a retransmission repeated, give none (the ACK cannot say which copy it
 * answers). The samples are what the capture point sees: on the sending host the true
 * round trip, on the receiver its ACK delay, in between the part of the path beyond it.
 */
import { TcpFlags, formatTcpFlags, tcpOptionsSummary } from '../../wire/tcp.js';
import type { TcpRepr } from '../../wire/tcp.js';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from '../../wire/seq.js';

/** Which way a segment goes. */
export type Direction = 'client-to-server' | 'server-to-client';

/**
 * What a segment is and what the analysis says of it. The first group names the segment's
 * role; the second is Wireshark's `tcp.analysis.*` (hyphenated).
 */
export type TcpEventName =
  | 'handshake-syn' | 'handshake-syn-ack' | 'handshake-ack'
  | 'syn' | 'syn-ack' | 'data' | 'ack' | 'fin' | 'rst'
  | 'retransmission' | 'fast-retransmission' | 'spurious-retransmission' | 'out-of-order'
  | 'previous-segment-not-captured' | 'acked-unseen-segment'
  | 'duplicate-ack' | 'zero-window' | 'zero-window-probe' | 'zero-window-probe-ack'
  | 'window-update' | 'window-full' | 'keep-alive' | 'keep-alive-ack';

/** The analysis names that tshark's `tcp.analysis.retransmission` filter matches. */
export const RETRANSMISSION_EVENTS: readonly TcpEventName[] = ['retransmission', 'fast-retransmission', 'spurious-retransmission'];

/** One segment as seen in the capture. */
export interface TcpSegmentInput {
  /** Frame number (1-based). */
  readonly frame: number;
  /** Nanoseconds since the first frame of the capture. */
  readonly timeNs: number;
  readonly direction: Direction;
  readonly tcp: TcpRepr;
  /** TCP payload bytes (the original length for a frame cut by the snap length). */
  readonly payloadLength: number;
  /**
   * True when the frame's capture timestamp is the epoch itself (0 s), as in a capture of
   * l4's virtual network made without an epoch. Wireshark takes a zero time for "no SYN
   * seen" when it measures the handshake RTT, and so does this analysis.
   */
  readonly atEpoch?: boolean;
}

/** One segment, explained. */
export interface TcpSegmentReport {
  readonly frame: number;
  /** Seconds since the first frame of the capture. */
  readonly time: number;
  readonly direction: Direction;
  /** tcpdump's flag letters: `S`, `S.`, `.`, `P.`, `F.`, `R`, ... */
  readonly flags: string;
  /** Sequence number relative to the sender's initial one (Wireshark's relative seq: the SYN is 0). */
  readonly seq: number;
  /** Relative acknowledgment number; absent when the ACK flag is off. */
  readonly ack?: number;
  readonly len: number;
  /** The window in bytes: scaled when both SYNs were seen with the window-scale option, else as on the wire. */
  readonly window: number;
  readonly events: readonly TcpEventName[];
  /** For a duplicate ACK: its number in the run (1, 2, ...) and the frame of the ACK it repeats. */
  readonly duplicateAck?: { readonly number: number; readonly of: number };
  /** For a retransmission: the frame that had sent the highest sequence number before it. */
  readonly retransmits?: number;
}

/** One RTT sample. */
export interface RttSample {
  /** Direction of the segment measured (the ACK goes the other way). */
  readonly direction: Direction;
  /** The segment measured. */
  readonly frame: number;
  /** The first ACK that covered it. */
  readonly ackFrame: number;
  /** Milliseconds. */
  readonly ms: number;
}

/** RFC 9293 state names, for the end state each side is seen to reach; 'unknown' when the capture cannot tell. */
export type TcpStateName =
  | 'CLOSED' | 'LISTEN' | 'SYN-SENT' | 'SYN-RECEIVED' | 'ESTABLISHED' | 'FIN-WAIT-1' | 'FIN-WAIT-2'
  | 'CLOSE-WAIT' | 'CLOSING' | 'LAST-ACK' | 'TIME-WAIT' | 'unknown';

/** How far the conversation got. */
export interface TcpOutcome {
  /** One word: 'handshake-only' | 'established' | 'half-closed' | 'closing' | 'closed' | 'reset' | 'refused' | 'no-answer'. */
  readonly summary: 'no-answer' | 'refused' | 'handshake-only' | 'established' | 'half-closed' | 'closing' | 'closed' | 'reset';
  readonly client: TcpStateName;
  readonly server: TcpStateName;
  /** One sentence for people. */
  readonly description: string;
}

/** Per-direction counts. */
export interface DirectionFigures {
  readonly segments: number;
  /** Sum of the TCP payload lengths, retransmissions included (what `tcp.len` adds up to). */
  readonly payloadBytes: number;
  /** Distinct stream bytes: from the first to the highest sequence number sent, SYN and FIN not counted. */
  readonly streamBytes: number;
  readonly retransmissions: number;
  readonly duplicateAcks: number;
  readonly zeroWindows: number;
}

/** The analysis of one conversation. */
export interface TcpAnalysis {
  readonly segments: TcpSegmentReport[];
  readonly rtt: RttSample[];
  readonly clientToServer: DirectionFigures;
  readonly serverToClient: DirectionFigures;
  /** Handshake seen: SYN, SYN-ACK and the ACK completing it. */
  readonly handshake: { readonly syn?: number; readonly synAck?: number; readonly ack?: number };
  readonly outcome: TcpOutcome;
}

const SYN = TcpFlags.SYN;
const ACK = TcpFlags.ACK;
const FIN = TcpFlags.FIN;
const RST = TcpFlags.RST;

/** Wireshark's fast-retransmission window after the last duplicate ACK: 20 ms. */
const FAST_RETRANSMISSION_NS = 20_000_000;
/** Wireshark's out-of-order threshold when the handshake RTT is unknown: 3 ms. */
const DEFAULT_OOO_THRESHOLD_NS = 3_000_000;
/** Wireshark's initial window value: G_MAXUINT32, so that the first segment is never a duplicate. */
const UNKNOWN_WINDOW = 0xffff_ffff;

/** A segment waiting for its ACK (for RTT samples). */
interface Outstanding {
  readonly start: number;
  readonly end: number;
  readonly frame: number;
  readonly timeNs: number;
  ambiguous: boolean;
}

/** What is tracked per direction: Wireshark's `tcp_flow_t` fields, and ours. */
class Flow {
  /** Base for relative numbers: the ISN (SYN seen) or seq - 1. */
  base: number | undefined;
  /** Wireshark's `nextseq`, 0 = unknown. */
  nextseq = 0;
  nextseqTimeNs = 0;
  nextseqFrame = 0;
  maxSeqToBeAcked = 0;
  /** Wireshark's `lastack`, 0 = unknown. */
  lastack = 0;
  lastackTimeNs = 0;
  /** Raw window of the last segment. */
  window = UNKNOWN_WINDOW;
  /** -1 unknown, -2 no scaling, else the shift. */
  winScale = -1;
  dupAckNum = 0;
  lastNonDupAck = 0;
  lastSegmentEvents: ReadonlySet<TcpEventName> = new Set();
  // Our own figures.
  segments = 0;
  payloadBytes = 0;
  firstDataSeq: number | undefined;
  highestEnd: number | undefined;
  retransmissions = 0;
  duplicateAcks = 0;
  zeroWindows = 0;
  synFrame: number | undefined;
  synSeq: number | undefined;
  finFrame: number | undefined;
  /** Sequence number just after our FIN. */
  finEnd: number | undefined;
  finAckedAt: number | undefined;
  rstFrame: number | undefined;
  /** End of the highest sequence range sent (for Karn's rule). */
  highestSent: number | undefined;
  readonly outstanding: Outstanding[] = [];

  figures(): DirectionFigures {
    const stream = this.firstDataSeq !== undefined && this.highestEnd !== undefined ? Math.max(0, seqDiff(this.highestEnd, this.firstDataSeq)) : 0;
    return {
      segments: this.segments, payloadBytes: this.payloadBytes, streamBytes: stream,
      retransmissions: this.retransmissions, duplicateAcks: this.duplicateAcks, zeroWindows: this.zeroWindows,
    };
  }
}

/** Window-scale shift from a segment's options, or undefined without the option. */
function windowScaleOption(tcp: TcpRepr): number | undefined {
  const shift = tcpOptionsSummary(tcp.options).windowScale;
  // RFC 7323 2.3: a shift above 14 is used as 14 (Wireshark does the same).
  return shift === undefined ? undefined : Math.min(14, shift);
}

/**
 * Analyses the segments of one conversation, given in capture order. Pure: the same input
 * gives the same report.
 */
export function analyzeTcpConversation(input: readonly TcpSegmentInput[]): TcpAnalysis {
  const c2s = new Flow();
  const s2c = new Flow();
  const segments: TcpSegmentReport[] = [];
  const rtt: RttSample[] = [];
  const handshake: { syn?: number; synAck?: number; ack?: number } = {};
  /** Wireshark's `ts_mru_syn` and `ts_first_rtt` (ns; undefined = zero). */
  let mruSynNs: number | undefined;
  let firstRttNs: number | undefined;
  let synAckAck: number | undefined; // the ack number that completes the handshake

  for (const seg of input) {
    const fwd = seg.direction === 'client-to-server' ? c2s : s2c;
    const rev = seg.direction === 'client-to-server' ? s2c : c2s;
    const { tcp } = seg;
    const flags = tcp.flags;
    const seq = tcp.seqNumber;
    const ack = tcp.ackNumber;
    const seglen = seg.payloadLength;
    const window = tcp.window;
    const now = seg.timeNs;
    const events = new Set<TcpEventName>();
    let duplicateAck: { number: number; of: number } | undefined;
    let retransmits: number | undefined;

    // Relative-number bases, as Wireshark sets them (base = ISN, or seq - 1 mid-stream).
    if (fwd.base === undefined) fwd.base = flags & SYN ? seq : seqAdd(seq, -1);
    if (rev.base === undefined && flags & ACK) rev.base = seqAdd(ack, -1);

    // Window scaling (Wireshark's verify_tcp_window_scaling): known only when both SYNs carry the option.
    if (flags & SYN) {
      const shift = windowScaleOption(tcp);
      if (shift !== undefined) fwd.winScale = shift;
      const isSynAck = (flags & ACK) !== 0;
      if (fwd.winScale === -1) {
        fwd.winScale = -2;
        rev.winScale = -2;
      } else if (isSynAck && rev.winScale === -2) {
        fwd.winScale = -2;
      }
    }

    // --- Wireshark's analysis, in its order ---
    let skipToAckBookkeeping = false;
    if (seglen === 1 && fwd.nextseq !== 0 && seq === fwd.nextseq && rev.window === 0) {
      events.add('zero-window-probe');
      skipToAckBookkeeping = true;
    }
    if (!skipToAckBookkeeping) {
      if (window === 0 && (flags & (RST | FIN | SYN)) === 0) events.add('zero-window');
      if (fwd.nextseq !== 0 && seqGt(seq, fwd.nextseq) && (flags & RST) === 0) events.add('previous-segment-not-captured');
      if ((seglen === 0 || seglen === 1) && fwd.nextseq !== 0 && seq === seqAdd(fwd.nextseq, -1) && (flags & (SYN | FIN | RST)) === 0) {
        events.add('keep-alive');
      }
      const sameSeqAck = seq === fwd.nextseq && ack === fwd.lastack && (flags & (SYN | FIN | RST)) === 0;
      if (seglen === 0 && window !== 0 && window !== fwd.window && sameSeqAck) events.add('window-update');
      if (seglen > 0 && rev.winScale !== -1 && (flags & (SYN | FIN | RST)) === 0) {
        const shift = rev.winScale === -2 ? 0 : rev.winScale;
        if (seqAdd(seq, seglen) === seqAdd(rev.lastack, rev.window * 2 ** shift)) events.add('window-full');
      }
      if (seglen === 0 && window !== 0 && window === fwd.window && sameSeqAck && rev.lastSegmentEvents.has('keep-alive')) {
        events.add('keep-alive-ack');
      } else if (seglen === 0 && window === 0 && window === fwd.window && sameSeqAck && rev.lastSegmentEvents.has('zero-window-probe')) {
        events.add('zero-window-probe-ack');
      } else if (seglen === 0 && window !== 0 && window === fwd.window && sameSeqAck) {
        fwd.dupAckNum++;
        events.add('duplicate-ack');
        duplicateAck = { number: fwd.dupAckNum, of: fwd.lastNonDupAck };
      }
    }
    // finished_fwd: a new ack number restarts the duplicate count.
    if (ack !== fwd.lastack) {
      fwd.lastNonDupAck = seg.frame;
      fwd.dupAckNum = 0;
    }
    if (rev.maxSeqToBeAcked !== 0 && seqGt(ack, rev.maxSeqToBeAcked) && (flags & ACK) !== 0) {
      events.add('acked-unseen-segment');
      rev.maxSeqToBeAcked = rev.nextseq;
    }
    // Retransmission, fast retransmission, out-of-order, spurious retransmission.
    if ((seglen > 0 || (flags & (SYN | FIN)) !== 0) && !events.has('keep-alive')) {
      let notAdvanced = fwd.nextseq !== 0 && seqLt(seq, fwd.nextseq);
      // A segment of more than one byte starting just below nextseq follows a zero-window
      // probe: it adds new data, it is not a retransmission.
      if (seglen > 1 && fwd.nextseq !== 0 && seqAdd(fwd.nextseq, -1) === seq) notAdvanced = false;
      const endSeq = seqAdd(seq, seglen + (flags & (SYN | FIN) ? 1 : 0));
      // A first RTT of zero counts as unknown, as in Wireshark (nstime_is_zero).
      const oooThreshold = firstRttNs === undefined || firstRttNs === 0 ? DEFAULT_OOO_THRESHOLD_NS : firstRttNs;
      if (notAdvanced && rev.dupAckNum >= 2 && rev.lastack === seq && now - rev.lastackTimeNs < FAST_RETRANSMISSION_NS) {
        events.add('fast-retransmission');
      } else if (seglen > 0 && rev.lastack !== 0 && seqLe(seqAdd(seq, seglen), rev.lastack)) {
        events.add('spurious-retransmission');
      } else if (notAdvanced && now - fwd.nextseqTimeNs < oooThreshold && fwd.nextseq !== seqAdd(seq, seglen) && fwd.nextseq !== endSeq) {
        events.add('out-of-order');
      } else if (notAdvanced) {
        events.add('retransmission');
      }
      if (RETRANSMISSION_EVENTS.some((e) => events.has(e))) retransmits = fwd.nextseqFrame;
    }
    // Bookkeeping of nextseq (zero-window probes do not advance it).
    let nextseq = seqAdd(seq, seglen);
    if (flags & (SYN | FIN)) nextseq = seqAdd(nextseq, 1);
    if ((fwd.nextseq === 0 || seqGt(nextseq, fwd.nextseq)) && !events.has('zero-window-probe')) {
      fwd.nextseq = nextseq;
      fwd.nextseqFrame = seg.frame;
      fwd.nextseqTimeNs = now;
    }
    if ((fwd.maxSeqToBeAcked === 0 || seq === fwd.maxSeqToBeAcked) && !events.has('zero-window-probe')) {
      fwd.maxSeqToBeAcked = fwd.nextseq;
    }
    fwd.window = window;
    fwd.lastack = ack;
    fwd.lastackTimeNs = now;
    fwd.lastSegmentEvents = events;

    // --- The segment's role ---
    const roles: TcpEventName[] = [];
    if ((flags & (SYN | ACK)) === SYN) {
      const first = fwd.synSeq === undefined || fwd.synSeq === seq;
      roles.push(seg.direction === 'client-to-server' && first ? 'handshake-syn' : 'syn');
      handshake.syn ??= seg.frame;
      fwd.synSeq ??= seq;
      fwd.synFrame ??= seg.frame;
      // Wireshark's ts_mru_syn: a SYN stamped at time zero counts as no SYN (nstime_is_zero).
      mruSynNs = seg.atEpoch ? undefined : now;
    } else if ((flags & (SYN | ACK)) === (SYN | ACK)) {
      roles.push(seg.direction === 'server-to-client' ? 'handshake-syn-ack' : 'syn-ack');
      handshake.synAck ??= seg.frame;
      fwd.synSeq ??= seq;
      fwd.synFrame ??= seg.frame;
      if (seg.direction === 'server-to-client') synAckAck = seqAdd(seq, 1);
    } else if (flags & ACK && seg.direction === 'client-to-server' && handshake.ack === undefined
      && synAckAck !== undefined && ack === synAckAck && (flags & RST) === 0) {
      roles.push('handshake-ack');
      handshake.ack = seg.frame;
    }
    if (seglen > 0) roles.push('data');
    if (flags & FIN) roles.push('fin');
    if (flags & RST) roles.push('rst');
    if (roles.length === 0 && flags & ACK) roles.push('ack');
    // Wireshark's first RTT: the first ACK without SYN after a SYN (measured again while it is zero).
    if ((flags & (SYN | ACK)) === ACK && mruSynNs !== undefined && (firstRttNs === undefined || firstRttNs === 0)) firstRttNs = now - mruSynNs;

    // --- Our figures ---
    fwd.segments++;
    fwd.payloadBytes += seglen;
    const isRetransmission = RETRANSMISSION_EVENTS.some((e) => events.has(e));
    if (isRetransmission) fwd.retransmissions++;
    if (events.has('duplicate-ack')) fwd.duplicateAcks++;
    if (events.has('zero-window')) fwd.zeroWindows++;
    if (seglen > 0) {
      const dataStart = seq;
      const dataEnd = seqAdd(seq, seglen);
      if (fwd.firstDataSeq === undefined || seqLt(dataStart, fwd.firstDataSeq)) fwd.firstDataSeq = dataStart;
      if (fwd.highestEnd === undefined || seqGt(dataEnd, fwd.highestEnd)) fwd.highestEnd = dataEnd;
    }
    if (flags & FIN) {
      fwd.finFrame ??= seg.frame;
      fwd.finEnd ??= seqAdd(seq, seglen + 1 + (flags & SYN ? 1 : 0));
    }
    if (flags & RST) fwd.rstFrame ??= seg.frame;
    if (flags & ACK && rev.finEnd !== undefined && rev.finAckedAt === undefined && seqGe(ack, rev.finEnd)) rev.finAckedAt = seg.frame;

    // RTT (Karn): register what this segment occupies, then let its ACK answer the other side.
    const occupies = seglen + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0);
    if (occupies > 0 && !events.has('zero-window-probe') && !events.has('keep-alive')) {
      const start = seq;
      const end = seqAdd(seq, occupies);
      const repeats = isRetransmission || (fwd.highestSent !== undefined && seqLt(start, fwd.highestSent));
      if (repeats) {
        for (const o of fwd.outstanding) if (seqLt(o.start, end) && seqLt(start, o.end)) o.ambiguous = true;
      }
      fwd.outstanding.push({ start, end, frame: seg.frame, timeNs: now, ambiguous: isRetransmission });
      if (fwd.highestSent === undefined || seqGt(end, fwd.highestSent)) fwd.highestSent = end;
    }
    if (flags & ACK && rev.outstanding.length > 0) {
      let kept = 0;
      for (const o of rev.outstanding) {
        if (seqLe(o.end, ack)) {
          if (!o.ambiguous) rtt.push({ direction: seg.direction === 'client-to-server' ? 'server-to-client' : 'client-to-server', frame: o.frame, ackFrame: seg.frame, ms: (now - o.timeNs) / 1e6 });
        } else {
          rev.outstanding[kept++] = o;
        }
      }
      rev.outstanding.length = kept;
    }

    const relSeq = seqDiff(seq, fwd.base) >>> 0;
    const relAck = flags & ACK && rev.base !== undefined ? seqDiff(ack, rev.base) >>> 0 : undefined;
    const scale = flags & SYN || fwd.winScale < 0 ? 0 : fwd.winScale;
    segments.push({
      frame: seg.frame,
      time: now / 1e9,
      direction: seg.direction,
      flags: formatTcpFlags(flags),
      seq: relSeq,
      ...(relAck !== undefined ? { ack: relAck } : {}),
      len: seglen,
      window: window * 2 ** scale,
      events: [...roles, ...orderEvents(events)],
      ...(duplicateAck ? { duplicateAck } : {}),
      ...(retransmits !== undefined ? { retransmits } : {}),
    });
  }

  return {
    segments,
    rtt,
    clientToServer: c2s.figures(),
    serverToClient: s2c.figures(),
    handshake,
    outcome: outcome(c2s, s2c, handshake),
  };
}

/** Analysis names in a fixed order, so output is stable. */
const EVENT_ORDER: readonly TcpEventName[] = [
  'retransmission', 'fast-retransmission', 'spurious-retransmission', 'out-of-order', 'previous-segment-not-captured',
  'acked-unseen-segment', 'duplicate-ack', 'zero-window', 'zero-window-probe', 'zero-window-probe-ack', 'window-update',
  'window-full', 'keep-alive', 'keep-alive-ack',
];

function orderEvents(events: ReadonlySet<TcpEventName>): TcpEventName[] {
  return EVENT_ORDER.filter((e) => events.has(e));
}

/** The end state each side reached, as far as the capture shows it. */
function outcome(client: Flow, server: Flow, handshake: { syn?: number; synAck?: number; ack?: number }): TcpOutcome {
  const rst = client.rstFrame ?? server.rstFrame;
  if (rst !== undefined) {
    const by = client.rstFrame !== undefined && (server.rstFrame === undefined || client.rstFrame < server.rstFrame) ? 'client' : 'server';
    if (handshake.syn !== undefined && handshake.synAck === undefined && by === 'server') {
      return { summary: 'refused', client: 'CLOSED', server: 'unknown', description: `refused: the server answered the SYN with RST (frame ${rst})` };
    }
    return { summary: 'reset', client: 'CLOSED', server: 'CLOSED', description: `reset by the ${by} (RST, frame ${rst})` };
  }
  const cf = client.finFrame;
  const sf = server.finFrame;
  if (cf !== undefined && sf !== undefined) {
    const allAcked = client.finAckedAt !== undefined && server.finAckedAt !== undefined;
    // The active closer sent its FIN before the other's FIN acknowledged it.
    const clientFirst = cf < sf && server.finAckedAt !== undefined && client.finAckedAt !== undefined && client.finAckedAt <= sf;
    const serverFirst = sf < cf && client.finAckedAt !== undefined && server.finAckedAt !== undefined && server.finAckedAt <= cf;
    if (clientFirst) {
      return {
        summary: allAcked ? 'closed' : 'closing', client: server.finAckedAt !== undefined ? 'TIME-WAIT' : 'FIN-WAIT-2',
        server: allAcked ? 'CLOSED' : 'LAST-ACK',
        description: `closed by the client first (FIN frame ${cf}, server FIN frame ${sf})${allAcked ? ', both FINs acknowledged' : ', last ACK not seen'}`,
      };
    }
    if (serverFirst) {
      return {
        summary: allAcked ? 'closed' : 'closing', server: client.finAckedAt !== undefined ? 'TIME-WAIT' : 'FIN-WAIT-2',
        client: allAcked ? 'CLOSED' : 'LAST-ACK',
        description: `closed by the server first (FIN frame ${sf}, client FIN frame ${cf})${allAcked ? ', both FINs acknowledged' : ', last ACK not seen'}`,
      };
    }
    return {
      summary: allAcked ? 'closed' : 'closing', client: allAcked ? 'TIME-WAIT' : 'CLOSING', server: allAcked ? 'TIME-WAIT' : 'CLOSING',
      description: `simultaneous close (FINs in frames ${Math.min(cf, sf)} and ${Math.max(cf, sf)} crossed)${allAcked ? ', both acknowledged' : ''}`,
    };
  }
  if (cf !== undefined || sf !== undefined) {
    const closer = cf !== undefined ? client : server;
    const who = cf !== undefined ? 'client' : 'server';
    const acked = closer.finAckedAt !== undefined;
    const closerState: TcpStateName = acked ? 'FIN-WAIT-2' : 'FIN-WAIT-1';
    const otherState: TcpStateName = acked ? 'CLOSE-WAIT' : 'ESTABLISHED';
    return {
      summary: 'half-closed',
      client: who === 'client' ? closerState : otherState,
      server: who === 'server' ? closerState : otherState,
      description: `half-closed: the ${who} sent FIN (frame ${closer.finFrame})${acked ? ' and it was acknowledged' : ', not acknowledged yet'}; the other side has not closed`,
    };
  }
  if (handshake.syn !== undefined && handshake.synAck === undefined && client.payloadBytes === 0 && server.segments === 0) {
    return { summary: 'no-answer', client: 'SYN-SENT', server: 'unknown', description: 'SYN sent, no answer seen' };
  }
  if (handshake.synAck !== undefined && handshake.ack === undefined && client.payloadBytes === 0 && server.payloadBytes === 0) {
    return { summary: 'handshake-only', client: 'SYN-SENT', server: 'SYN-RECEIVED', description: 'SYN and SYN-ACK seen, the final ACK not (yet)' };
  }
  const midStream = handshake.syn === undefined && handshake.synAck === undefined;
  return {
    summary: 'established', client: 'ESTABLISHED', server: 'ESTABLISHED',
    description: midStream ? 'established (the capture starts mid-conversation: no handshake seen), not closed' : 'established, not closed',
  };
}
