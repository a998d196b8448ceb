/**
 * A socket-table row of `l4 serve` for tests of its text: an established TCP connection with
 * window scaling, timestamps and SACK on, out of loss recovery, every TCP field set.
 */
import type { ServeSocketRow } from '../../src/tools/serve-control.js';

/** An established connection of 10.77.0.2:80, nothing lost (spread it and change fields for others). */
export const CONNECTION_ROW: ServeSocketRow = Object.freeze({
  proto: 'tcp', local: '10.77.0.2:80', remote: '10.77.0.1:40000', state: 'ESTABLISHED', recvQ: 0, sendQ: 5000,
  srttMs: 1.5, rttvarMs: 0.5, rtoMs: 201, cwnd: 14600, ssthresh: 0x7fffffff, mss: 1448, sendWindow: 65535, receiveWindow: 131072,
  retransmissions: 0, bytesSent: 5000, bytesReceived: 87, segmentsSent: 6, segmentsReceived: 5, congestionControl: 'cubic',
  sendWindowShift: 7, receiveWindowShift: 9, timestamps: true, sackPermitted: true, lossRecovery: 'open',
  sackedBytes: 0, lostBytes: 0, pipe: 0, retransmitTimeouts: 0, fastRecoveries: 0, tailLossProbes: 0, tailLossRecoveries: 0,
});
