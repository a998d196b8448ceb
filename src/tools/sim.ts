/**
 * The link simulator: one TCP transfer between two l4 hosts joined by an impaired virtual
 * link, run in virtual time (deterministic for a seed, as fast as the CPU allows). The bytes
 * sent are drawn from the seed, hashed as they are written and as they are read, so the
 * report proves (sha256) that what arrived is exactly what was sent, in order.
 *
 * It drives the core directly (no streams), so one loop iteration is: let the applications
 * act (write while the send buffer has room, read what arrived, close when done), then run
 * one round of the network.
 */
import { createHash } from 'node:crypto';
import type { TcpConnection } from '../core/tcp/connection.js';
import type { CongestionAlgorithm, TcpConfig } from '../core/tcp/types.js';
import type { LinkStats } from '../drivers/virtual/link.js';
import { simNetwork, type SimLinkOptions } from './sim-link.js';
import { parseIpAddress } from '../wire/address.js';
import { Rng } from '../time/rng.js';
import { seconds, toSeconds, type Duration } from '../time/instant.js';

/** What to simulate. Times in microseconds, rates in bits per second, probabilities in [0, 1]. */
export interface TcpSimOptions extends SimLinkOptions {
  readonly bytes: number;
  /** Stop (and report incomplete) after this much virtual time. Default one hour. */
  readonly timeLimit?: Duration;
  /** TCP settings of both hosts. */
  readonly tcp?: Partial<TcpConfig>;
  /** The congestion control of both hosts (`tcp.congestionControl`); default l4's (CUBIC). */
  readonly congestionControl?: CongestionAlgorithm;
  /** Called now and then with the bytes received so far (for a progress bar). */
  readonly progress?: (received: number, total: number) => void;
}

/** What happened. */
export interface TcpSimReport {
  readonly seed: number;
  readonly bytes: number;
  /** The congestion-control algorithm the sender used. */
  readonly congestionControl: CongestionAlgorithm;
  /** Every byte arrived and both ends closed. */
  readonly completed: boolean;
  readonly bytesReceived: number;
  readonly sha256Sent: string;
  readonly sha256Received: string;
  /** Virtual seconds from the first SYN until the receiver had the last byte. */
  readonly completionSeconds: number;
  /** bytes * 8 / completionSeconds. */
  readonly goodputBitsPerSecond: number;
  /** Segments the sender retransmitted. */
  readonly retransmissions: number;
  readonly sender: { readonly segmentsSent: number; readonly srttMs: number | undefined; readonly rtoMs: number; readonly cwnd: number };
  readonly link: { readonly forward: LinkStats; readonly reverse: LinkStats };
  /** How the receiving connection ended ('closed', or the error it reported). */
  readonly outcome: string;
}

const CHUNK = 64 * 1024;
const PORT = 5001;

/** Runs one transfer and reports it. Deterministic: the same options give the same report. */
export function runTcpSim(options: TcpSimOptions): TcpSimReport {
  const tcp: Partial<TcpConfig> = options.congestionControl === undefined ? options.tcp ?? {} : { ...options.tcp, congestionControl: options.congestionControl };
  const { network, a: client, b: server, link: wire } = simNetwork(options, ['client', 'server'], [0x1111, 0x2222], tcp);

  const listen = server.tcpListen({ port: PORT });
  if (!listen.ok) throw new Error(`simulator: listen failed: ${listen.error}`);
  const opened = client.tcpConnect(network.now, { remote: { address: parseIpAddress('10.0.0.2')!, port: PORT } });
  if (!opened.ok) throw new Error(`simulator: connect failed: ${opened.error}`);
  const sender: TcpConnection = opened.connection;
  network.wake(client); // the SYN is ready
  let receiver: TcpConnection | undefined;

  const source = new Rng(options.seed ^ 0x5eed);
  const sentHash = createHash('sha256');
  const receivedHash = createHash('sha256');
  let written = 0;
  let received = 0;
  let pendingChunk: Uint8Array | undefined;
  let pendingOffset = 0;
  let senderClosed = false;
  let receiverDone = false;
  let outcome = 'incomplete';
  let lastByteAt = 0;
  const start = network.now;
  const limit = start + (options.timeLimit ?? seconds(3600));
  let lastProgress = -1;

  /** Lets both applications act; true when they did something that may have made packets ready. */
  const act = (): boolean => {
    const now = network.now;
    let acted = false;
    // Drain events: an accepted connection, errors, the end.
    for (const host of [client, server]) {
      let e;
      while ((e = host.pollEvent()) !== undefined) {
        if (e.type === 'incoming') receiver ??= e.listener.accept();
        else if (e.type !== 'connection') continue;
        else if (e.event.type === 'error') outcome = e.connection === receiver ? `receiver error: ${e.event.error}` : `sender error: ${e.event.error}`;
        else if (e.event.type === 'peer-closed' && e.connection === receiver) receiverDone = true;
      }
    }
    // Sender: write while the send buffer takes bytes, then close.
    while (written < options.bytes && !senderClosed) {
      if (!pendingChunk) {
        const size = Math.min(CHUNK, options.bytes - written - pendingOffset);
        pendingChunk = source.fill(new Uint8Array(size));
        pendingOffset = 0;
        sentHash.update(pendingChunk);
      }
      const taken = sender.send(now, pendingChunk.subarray(pendingOffset));
      if (taken > 0) acted = true;
      pendingOffset += taken;
      if (pendingOffset === pendingChunk.length) {
        written += pendingChunk.length;
        pendingChunk = undefined;
        pendingOffset = 0;
      }
      if (taken === 0) break;
    }
    // CLOSE in SYN-SENT deletes the connection (RFC 9293 3.10.4): close after the handshake,
    // as an application using Node's net would (it ends the socket after 'connect').
    if (written === options.bytes && !senderClosed && sender.state !== 'SYN-SENT') {
      sender.close(now);
      senderClosed = true;
      acted = true;
    }
    // Receiver: read everything that arrived.
    if (receiver) {
      let data;
      while ((data = receiver.recv(now)) !== undefined) {
        receivedHash.update(data);
        received += data.length;
        lastByteAt = now;
        acted = true;
      }
      if (receiverDone && receiver.state === 'CLOSE-WAIT') {
        receiver.close(now);
        acted = true;
      }
    }
    // Only wake the hosts when something changed: a wake runs another round at this same
    // instant, so waking unconditionally would stop virtual time.
    if (acted) {
      network.wake(client);
      network.wake(server);
    }
    if (options.progress && received !== lastProgress) {
      lastProgress = received;
      options.progress(received, options.bytes);
    }
    return acted;
  };

  for (;;) {
    act();
    if (receiverDone && received === options.bytes && senderClosed && sender.state !== 'FIN-WAIT-1' && receiver?.state !== 'LAST-ACK') break;
    if (outcome !== 'incomplete' && outcome !== 'closed') break;
    if (network.now >= limit) break;
    if (!network.step()) break;
  }
  const completed = received === options.bytes && receiverDone;
  if (completed) outcome = 'closed';
  const elapsed = toSeconds((options.bytes === 0 ? network.now : lastByteAt) - start);
  const info = sender.info();
  return {
    seed: options.seed,
    bytes: options.bytes,
    congestionControl: info.congestionControl,
    completed,
    bytesReceived: received,
    sha256Sent: sentHash.digest('hex'),
    sha256Received: receivedHash.digest('hex'),
    completionSeconds: elapsed,
    goodputBitsPerSecond: elapsed > 0 ? (received * 8) / elapsed : 0,
    retransmissions: info.retransmissions,
    sender: { segmentsSent: info.segmentsSent, srttMs: info.srtt === undefined ? undefined : info.srtt / 1000, rtoMs: info.rto / 1000, cwnd: info.cwnd },
    link: { forward: wire.aToB.stats, reverse: wire.bToA.stats },
    outcome,
  };
}
