/**
 * The receive side of a connection: segment text into the receive buffer (RFC 9293 3.10.7.4,
 * seventh step), the peer's FIN (eighth step), the application's reads, and when to
 * acknowledge (delayed ACK, RFC 9293 3.8.6.3 and RFC 5681 4.2) and to announce a larger window
 * (receiver SWS avoidance, RFC 9293 3.8.6.2.2).
 *
 * Contract: text arrives already trimmed to the window, starting at or after RCV.NXT. In-order
 * bytes are copied once into the receive ring; out-of-order bytes are copied once into the
 * ring's free space at their place and recorded in the assembler (bounded by
 * `config.outOfOrderLimit`), and become readable without another copy when the gap before
 * them fills. Reads copy once out of the ring. The advertised right edge never moves left,
 * so anything inside the window always fits in the ring.
 */
import type { Instant } from '../../time/instant.js';
import { seqAdd, seqDiff } from '../../wire/seq.js';
import type { SeqNumber } from '../../wire/seq.js';
import { noteDuplicate, noteOutOfOrder } from './sack-report.js';
import type { Tcb } from './tcb.js';

/** Text that the seventh step accepted, `dataSeq` at or after RCV.NXT. */
export function receiveText(tcb: Tcb, now: Instant, dataSeq: SeqNumber, data: Uint8Array): void {
  const offset = seqDiff(dataSeq, tcb.rcvNxt);
  if (offset < 0) return;
  let payload = data;
  // Nothing beyond a FIN we already hold belongs to the stream.
  if (tcb.peerFinOffset !== undefined) {
    const room = tcb.peerFinOffset - (tcb.rcvStreamOffset + offset);
    if (room <= 0) return;
    if (payload.length > room) payload = payload.subarray(0, room);
  }
  tcb.rcvMss = Math.max(tcb.rcvMss, Math.min(payload.length, tcb.localMss));

  if (offset > 0) {
    // Out of order: hold it, and RFC 5681 4.2: "A TCP receiver SHOULD send an immediate
    // duplicate ACK when an out-of-order segment arrives."
    const start = tcb.rcvStreamOffset + offset;
    // RFC 2883 4: a segment that repeats data already held is reported in a D-SACK block,
    // followed by the block that holds it (RFC 2883 4.1.4: "the first SACK block ... specifies
    // the duplicate ... the second SACK block ... the larger block of non-contiguous data").
    const duplicate = tcb.sackPermitted ? tcb.assembler.overlap(start, start + payload.length) : undefined;
    if (duplicate !== undefined) {
      noteDuplicate(tcb, seqAdd(tcb.rcvNxt, duplicate.start - tcb.rcvStreamOffset), seqAdd(tcb.rcvNxt, duplicate.end - tcb.rcvStreamOffset));
    }
    if (tcb.assembler.add(start, start + payload.length)) {
      tcb.receiveBuffer.writeUnallocated(offset, payload);
      noteOutOfOrder(tcb, start);
    } else {
      tcb.counters.outOfOrderDropped += payload.length;
    }
    tcb.oweDuplicateAck();
    return;
  }

  // In order. "Once the TCP endpoint takes responsibility for the data, it advances RCV.NXT over
  // the data accepted, and adjusts RCV.WND as appropriate to the current buffer availability.
  // The total of RCV.NXT and RCV.WND should not be reduced."
  const filledGap = tcb.holdsOutOfOrder;
  tcb.receiveBuffer.writeUnallocated(0, payload);
  tcb.receiveBuffer.commit(payload.length);
  let front = tcb.rcvStreamOffset + payload.length;
  let end = filledGap ? tcb.assembler.advance(front) : front;
  if (tcb.peerFinOffset !== undefined) end = Math.min(end, tcb.peerFinOffset);
  if (end > front) {
    tcb.receiveBuffer.commit(end - front);
    front = end;
  }
  const delivered = front - tcb.rcvStreamOffset;
  tcb.rcvStreamOffset = front;
  tcb.rcvNxt = seqAdd(tcb.rcvNxt, delivered);
  tcb.counters.bytesReceived += delivered;
  tcb.emit({ type: 'readable' });

  // A FIN that arrived ahead of this data is now in order.
  if (tcb.peerFinOffset !== undefined && tcb.rcvStreamOffset === tcb.peerFinOffset) acceptFin(tcb, now);

  if (filledGap) {
    // RFC 5681 4.2: "an immediate ACK SHOULD be sent when the incoming segment fills in all or
    // part of a gap in the sequence space".
    tcb.ackNow = true;
    return;
  }
  // RFC 9293 3.8.6.3: "an ACK SHOULD be generated for at least every second full-sized segment,
  // and MUST be generated within 500 ms of the arrival of the first unacknowledged packet"
  // (RFC 5681 4.2 says the same). l4 delays by at most `config.delayedAck` (itself at most
  // 200 ms); zero turns delaying off.
  tcb.bytesSinceAck += delivered;
  if (tcb.bytesSinceAck >= 2 * tcb.rcvMss) tcb.ackDue();
  else if (tcb.delayedAck <= 0) tcb.ackNow = true;
  else tcb.timers.setIfUnset('delayed-ack', now + tcb.delayedAck);
}

/**
 * The peer's FIN at `finSeq` (eighth step). "If the FIN bit is set, signal the user
 * "connection closing" and return any pending RECEIVEs with same message, advance RCV.NXT over
 * the FIN, and send an acknowledgment for the FIN." A FIN beyond RCV.NXT waits for the data
 * before it.
 */
export function receiveFin(tcb: Tcb, now: Instant, finSeq: SeqNumber): void {
  switch (tcb.state) {
    case 'ESTABLISHED': case 'FIN-WAIT-1': case 'FIN-WAIT-2':
      break;
    default:
      // "CLOSE-WAIT STATE: Remain in the CLOSE-WAIT state. CLOSING STATE: Remain in the CLOSING
      // state. LAST-ACK STATE: Remain in the LAST-ACK state." (TIME-WAIT's restart of the 2 MSL
      // timer is done where the retransmitted FIN arrives: it lies before RCV.NXT.)
      return;
  }
  const ahead = seqDiff(finSeq, tcb.rcvNxt);
  if (ahead < 0) return;
  if (ahead > 0) {
    // Out of order: remember the first one, ACK at once as for any out-of-order segment.
    if (tcb.peerFinOffset === undefined) tcb.peerFinOffset = tcb.rcvStreamOffset + ahead;
    tcb.oweDuplicateAck();
    return;
  }
  if (tcb.peerFinOffset !== undefined && tcb.peerFinOffset !== tcb.rcvStreamOffset) return;
  acceptFin(tcb, now);
}

/** The FIN is in order: advance over it and change state. */
function acceptFin(tcb: Tcb, now: Instant): void {
  tcb.rcvNxt = seqAdd(tcb.rcvNxt, 1);
  tcb.peerFinOffset = undefined;
  if (tcb.holdsOutOfOrder) tcb.assembler.clear();
  tcb.ackNow = true;
  tcb.timers.clear('delayed-ack');
  tcb.emit({ type: 'peer-closed' });
  switch (tcb.state) {
    case 'ESTABLISHED':
      // "SYN-RECEIVED STATE, ESTABLISHED STATE: Enter the CLOSE-WAIT state."
      tcb.state = 'CLOSE-WAIT';
      return;
    case 'FIN-WAIT-1':
      // "If our FIN has been ACKed (perhaps in this segment), then enter TIME-WAIT, start the
      // time-wait timer, turn off the other timers; otherwise, enter the CLOSING state."
      if (tcb.finAcked) tcb.enterTimeWait(now);
      else tcb.state = 'CLOSING';
      return;
    case 'FIN-WAIT-2':
      // "Enter the TIME-WAIT state. Start the time-wait timer, turn off the other timers."
      tcb.enterTimeWait(now);
      return;
    default:
      return;
  }
}

/**
 * RFC 9293 3.10.3 RECEIVE: up to `max` bytes in order, copied out. When the read opens the
 * window by the receiver-SWS amount (RFC 9293 3.8.6.2.2) while the advertised window is down
 * to half the buffer or less, a window update is owed at once: otherwise a sender facing a
 * closed window would wait for its persist timer.
 */
export function readReceived(tcb: Tcb, max: number | undefined, now: Instant): Uint8Array | undefined {
  const available = tcb.receiveBuffer.length;
  const n = max === undefined ? available : Math.min(available, Math.max(0, Math.floor(max)));
  if (!(n > 0)) return undefined;
  const out = new Uint8Array(n);
  tcb.receiveBuffer.dequeueInto(out);
  tcb.noteRead(n, now);
  const peerMaySend = tcb.state === 'ESTABLISHED' || tcb.state === 'FIN-WAIT-1' || tcb.state === 'FIN-WAIT-2';
  if (peerMaySend && tcb.rcvSynchronized) {
    const current = tcb.rcvWnd;
    if (tcb.potentialWindow - current >= tcb.windowUpdateThreshold && current <= tcb.receiveWindowMax / 2) tcb.ackNow = true;
  }
  return out;
}
