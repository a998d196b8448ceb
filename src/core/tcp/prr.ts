/**
 * Proportional Rate Reduction (RFC 6937): how much a SACK sender may transmit on each ACK of
 * fast recovery, so that the flight shrinks smoothly from where it was to ssthresh instead of
 * stopping for half a round trip (RFC 6675's "cwnd = ssthresh" at once) or bursting.
 *
 * Contract: `start` at the beginning of recovery with RecoverFS; `onAck` on every ACK during
 * recovery with the data it delivered (cumulatively or by SACK) and the pipe after it, which
 * returns the ACK's sndcnt; `sent` for every byte (re)transmitted in recovery. The connection
 * turns sndcnt into a budget that its transmissions spend. Pure arithmetic on bytes.
 */

/** The PRR variables of RFC 6937 3. */
export class Prr {
  /** RecoverFS: the flight when recovery began. */
  recoverFs = 0;
  /** prr_delivered: data the receiver got during recovery. */
  delivered = 0;
  /** prr_out: data sent during recovery. */
  out = 0;

  /** RFC 6937 3: "At the beginning of recovery, initialize PRR state." */
  start(recoverFs: number): void {
    this.recoverFs = Math.max(1, recoverFs);
    this.delivered = 0;
    this.out = 0;
  }

  /**
   * RFC 6937 3, "On every ACK during recovery compute:
   *   DeliveredData = change_in(snd.una) + change_in(SACKd)
   *   prr_delivered += DeliveredData
   *   pipe = (RFC 6675 pipe algorithm)
   *   if (pipe > ssthresh) {
   *      // Proportional Rate Reduction
   *      sndcnt = CEIL(prr_delivered * ssthresh / RecoverFS) - prr_out
   *   } else {
   *      // Two versions of the Reduction Bound
   *      if (conservative) {    // PRR-CRB
   *        limit = prr_delivered - prr_out
   *      } else {               // PRR-SSRB
   *        limit = MAX(prr_delivered - prr_out, DeliveredData) + MSS
   *      }
   *      // Attempt to catch up, as permitted by limit
   *      sndcnt = MIN(ssthresh - pipe, limit)
   *   }"
   * with the slow-start reduction bound, the RFC's recommendation. As Linux does, the first ACK
   * of recovery may always send one segment: the fast retransmit itself.
   */
  onAck(deliveredData: number, pipe: number, ssthresh: number, mss: number): number {
    this.delivered += Math.max(0, deliveredData);
    let sndcnt: number;
    if (pipe > ssthresh) {
      sndcnt = Math.ceil((this.delivered * ssthresh) / this.recoverFs) - this.out;
    } else {
      const limit = Math.max(this.delivered - this.out, deliveredData) + mss;
      sndcnt = Math.min(ssthresh - pipe, limit);
    }
    sndcnt = Math.max(0, sndcnt);
    if (this.out === 0 && sndcnt < mss) sndcnt = mss;
    return sndcnt;
  }

  /** RFC 6937 3: "On any data transmission or retransmission: prr_out += (data sent)". */
  sent(bytes: number): void {
    this.out += bytes;
  }
}
