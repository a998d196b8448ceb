/**
 * SACK reporting, the receiver's side of RFC 2018 and RFC 2883: which out-of-order ranges the
 * next pure ACK reports, in which order, and the D-SACK block for text that arrived twice.
 *
 * Contract: the TCB keeps the state (`sackRecent`, the latest out-of-order arrivals by stream
 * offset, and `dsack`, a duplicate to report once); `receive.ts` and `segment-arrival.ts`
 * note arrivals here, and `Tcb.segmentOptions` asks for the blocks of each pure ACK. Held
 * ranges come from the assembler as stream offsets and become sequence numbers relative to
 * RCV.NXT. Nothing here sends.
 */
import { seqAdd, seqLt } from '../../wire/seq.js';
import type { SeqNumber } from '../../wire/seq.js';
import type { SackBlock } from '../../wire/tcp.js';
import type { Tcb } from './tcb.js';

/**
 * Out-of-order arrivals remembered for the order of SACK blocks (RFC 2018 4: the most recent
 * first, then "the most recently reported SACK blocks"): more than the 4 an ACK can carry.
 */
export const MAX_SACK_RECENT = 8;

/**
 * The SACK blocks of the next ACK, at most `max`, or undefined when there is nothing to
 * report. RFC 2883 4: "If the D-SACK block reports a duplicate contiguous sequence from the
 * receiver's data queue ... the first SACK block ... should specify the contiguous sequence
 * of duplicate data". RFC 2018 4: "The first SACK block (i.e., the one immediately following
 * the kind and length fields in the option) MUST specify the contiguous block of data
 * containing the segment which triggered this ACK" ... "The SACK option SHOULD be filled out
 * by repeating the most recently reported SACK blocks ... that are not subsets of a SACK
 * block already included in the SACK option being constructed." Held ranges are stream
 * offsets; they become sequence numbers relative to RCV.NXT.
 */
export function sackBlocks(tcb: Tcb, max: number): SackBlock[] | undefined {
  const blocks: SackBlock[] = [];
  if (tcb.dsack !== undefined && max > 0) blocks.push(tcb.dsack);
  const firstNormal = blocks.length;
  let kept = 0;
  for (const offset of tcb.sackRecent) {
    const range = tcb.assembler.rangeContaining(offset);
    if (range === undefined) continue;
    // Forget offsets the in-order front has passed; keep the rest in their order.
    tcb.sackRecent[kept++] = offset;
    if (blocks.length >= max) continue;
    const left = seqAdd(tcb.rcvNxt, range.start - tcb.rcvStreamOffset);
    let repeated = false;
    for (let i = firstNormal; i < blocks.length; i++) if (blocks[i]!.left === left) repeated = true;
    if (!repeated) blocks.push({ left, right: seqAdd(tcb.rcvNxt, range.end - tcb.rcvStreamOffset) });
  }
  tcb.sackRecent.length = kept;
  return blocks.length === 0 ? undefined : blocks;
}

/** Out-of-order data at stream offset `start` is held: its range is the first to report (RFC 2018 4). */
export function noteOutOfOrder(tcb: Tcb, start: number): void {
  if (!tcb.sackPermitted) return;
  const range = tcb.assembler.rangeContaining(start);
  if (range === undefined) return;
  let kept = 0;
  for (const offset of tcb.sackRecent) {
    // An offset inside the same (merged) range is that range already.
    if (offset < range.start || offset >= range.end) tcb.sackRecent[kept++] = offset;
  }
  tcb.sackRecent.length = Math.min(kept, MAX_SACK_RECENT - 1);
  tcb.sackRecent.unshift(start);
}

/**
 * RFC 2883 4: "If the D-SACK block reports a duplicate contiguous sequence from the receiver's
 * data queue" — the part of text `[dataSeq, dataSeq + length)` that lies before RCV.NXT,
 * received already, whether the whole segment is old (the peer retransmitted what we had, our
 * ACK being lost or its timer too quick) or only its start (4.1.3's partially duplicate
 * segment): the block the next ACK reports first, or undefined when nothing is old.
 */
export function duplicateText(dataSeq: SeqNumber, length: number, rcvNxt: SeqNumber): SackBlock | undefined {
  if (length === 0 || !seqLt(dataSeq, rcvNxt)) return undefined;
  const end = seqAdd(dataSeq, length);
  return { left: dataSeq >>> 0, right: (seqLt(end, rcvNxt) ? end : rcvNxt) >>> 0 };
}

/** Text `[left, right)` arrived a second time: the next ACK reports it first in a D-SACK block (RFC 2883 4). */
export function noteDuplicate(tcb: Tcb, left: SeqNumber, right: SeqNumber): void {
  if (!tcb.sackPermitted || left === right) return;
  tcb.dsack = { left: left >>> 0, right: right >>> 0 };
}
