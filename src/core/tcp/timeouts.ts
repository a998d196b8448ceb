/**
 * What each of a connection's timers does when it expires (the table itself is `timers.ts`).
 *
 * Contract: `runExpiredTimers` runs every timer due at `now`, in the order of `TIMER_KINDS`,
 * disarming each before it runs (a handler re-arms what it needs) and stopping as soon as the
 * connection is CLOSED. Handlers only change the TCB and raise flags for `send.ts`.
 */
import type { Instant } from '../../time/instant.js';
import { probeTimeout, reorderTimeout, sackRetransmitTimeout } from './sack-recovery.js';
import { TIMER_KINDS } from './timers.js';
import type { TimerKind } from './timers.js';
import type { Tcb } from './tcb.js';

/** Runs the timers due at `now`. */
export function runExpiredTimers(tcb: Tcb, now: Instant): void {
  for (const kind of TIMER_KINDS) {
    if (tcb.state === 'CLOSED') return;
    if (!tcb.timers.isDue(kind, now)) continue;
    tcb.timers.clear(kind);
    HANDLERS[kind](tcb, now);
  }
}

const HANDLERS: Record<TimerKind, (tcb: Tcb, now: Instant) => void> = {
  // RFC 9293 3.10.8: "If the time-wait timeout expires on a connection, delete the TCB, enter
  // the CLOSED state, and return."
  'time-wait': (tcb) => tcb.enterClosed(),
  // RFC 9293 3.10.8: "For any state if the user timeout expires, flush all queues, signal the
  // user "error: connection aborted due to user timeout" in general and for any outstanding
  // calls, delete the TCB, enter the CLOSED state, and return."
  'user-timeout': (tcb) => tcb.fail('timed-out'),
  'retransmit': retransmissionTimeout,
  // RFC 8985 6.2: RACK's reorder timer, and 7.3: the tail loss probe's timeout.
  'reorder': reorderTimeout,
  'loss-probe': probeTimeout,
  // Pacing: the next segment may leave now; `pollTransmit` sends it.
  'pacing': () => {},
  'persist': persistTimeout,
  'keepalive': keepaliveTimeout,
  // RFC 9293 3.8.6.3: the delay is over, the ACK goes now.
  'delayed-ack': (tcb) => {
    tcb.ackNow = true;
  },
};

/** RFC 6298 5.4 to 5.7, RFC 5681 3.1 (loss window), RFC 6582 3.2 step 4. */
function retransmissionTimeout(tcb: Tcb, now: Instant): void {
  tcb.timeouts++;
  tcb.rttSeq = undefined;
  if (!tcb.synAcked) {
    // The SYN (SYN-SENT) or SYN,ACK (SYN-RECEIVED, or FIN-WAIT-1 after a CLOSE there) again.
    if (tcb.timeouts > tcb.config.maxSynRetransmissions) {
      tcb.fail('timed-out');
      return;
    }
    tcb.handshakeRetransmitted = true;
    tcb.rtt.backoff();
    tcb.synNeeded = true;
    tcb.timers.set('retransmit', now + tcb.rtt.rto);
    return;
  }
  if (tcb.flightSize === 0) return;
  if (tcb.timeouts > tcb.config.maxRetransmissions) {
    tcb.fail('timed-out');
    return;
  }
  tcb.counters.retransmitTimeouts++;
  // RFC 5681 3.1: ssthresh = max(FlightSize / 2, 2*SMSS) the first time, cwnd = 1 SMSS.
  tcb.congestion.onRetransmitTimeout(now, tcb.flightSize, tcb.timeouts > 1);
  // RFC 6582 3.2 step 4: "After a retransmit timeout, record the highest sequence number
  // transmitted in the variable recover, and exit the fast recovery procedure if applicable."
  tcb.recover = tcb.sndMax;
  tcb.dupAcks = 0;
  tcb.retransmitNow = false;
  // RFC 6298 5.4: "Retransmit the earliest segment that has not been acknowledged by the TCP
  // receiver." With SACK, RACK marks what is lost and only that is resent (RFC 8985 6.3).
  // Without, going back to SND.UNA, the window (now one segment) sends exactly that, and
  // later ACKs let the rest follow as in slow start.
  if (tcb.sackPermitted) sackRetransmitTimeout(tcb, now);
  else tcb.sndNxt = tcb.sndUna;
  // 5.5: "The host MUST set RTO <- RTO * 2 ("back off the timer")." 5.6: "Start the
  // retransmission timer, such that it expires after RTO seconds (for the value of RTO after
  // the doubling operation outlined in 5.5)."
  tcb.rtt.backoff();
  tcb.timers.set('retransmit', now + tcb.rtt.rto);
}

/**
 * The persist timer: with a zero peer window it sends a window probe and backs off (RFC 9293
 * 3.8.6.1: "SHOULD increase exponentially the interval between successive probes"); with an
 * open window it is the override timeout of sender SWS avoidance (3.8.6.2.1 (4)).
 */
function persistTimeout(tcb: Tcb, _now: Instant): void {
  if (tcb.sndWnd > 0) {
    tcb.forceSend = true;
    return;
  }
  // Probes are never answered only if the peer is gone: the same budget as retransmissions.
  tcb.probesUnanswered++;
  if (tcb.probesUnanswered > tcb.config.maxRetransmissions) {
    tcb.fail('timed-out');
    return;
  }
  tcb.probeNow = true;
  tcb.persistInterval = Math.min(tcb.config.maxRto, 2 * (tcb.persistInterval ?? tcb.rtt.rto));
}

/**
 * RFC 1122 4.2.3.6: keep-alive packets "MUST only be sent when no data or acknowledgement
 * packets have been received for the connection within an interval" (the idle time), and a
 * connection is dropped after `count` probes go unanswered.
 */
function keepaliveTimeout(tcb: Tcb, now: Instant): void {
  const idle = tcb.flightSize === 0 && !(tcb.canSendData && tcb.hasUnsent);
  if (!idle) {
    // Data is in flight: the retransmission and persist timers watch the peer instead.
    tcb.timers.set('keepalive', now + tcb.keepalive.idle);
    return;
  }
  if (tcb.keepaliveProbes >= tcb.keepalive.count) {
    tcb.fail('timed-out');
    return;
  }
  tcb.keepaliveProbes++;
  tcb.keepaliveNow = true;
  tcb.timers.set('keepalive', now + tcb.keepalive.interval);
}
