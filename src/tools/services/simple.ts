/**
 * The small services of the early Internet, on l4 sockets: echo (RFC 862), discard (RFC 863),
 * character generator (RFC 864) and daytime (RFC 867), each over TCP and over UDP. A TCP
 * service is a function that takes an accepted `net.Socket` and returns a
 * {@link ServiceSession} whose `shutdown()` ends the connection gracefully (FIN, never RST);
 * a UDP service is a {@link UdpResponder} that maps one received datagram to the one datagram
 * sent back (or none). These functions only speak the protocols: listening, error handlers,
 * byte counts and the open/close reports are `index.ts`'s business. Everything here honours
 * backpressure (`write()` returning false waits for 'drain'), reads no clock but the one it
 * is given, and draws no random numbers, so a run on the virtual network is replayable.
 */
import type { Socket } from '../../api/net.js';

/** One accepted TCP connection as a service drives it. */
export interface ServiceSession {
  /**
   * Ends the connection gracefully: stop producing, send what is queued, then FIN. Input
   * that still arrives is read and dropped (unread data would make the close a RST).
   */
  shutdown(): void;
}

/** Maps a received datagram to the datagram sent back to its sender, or undefined for none. */
export type UdpResponder = (datagram: Buffer) => Buffer | undefined;

// --- RFC 864: the character generator pattern --------------------------------------------

/** The 95 printable ASCII characters, ' ' (32) to '~' (126): RFC 864's ring. */
const RING_SIZE = 95;
const FIRST_PRINTABLE = 0x20;
/** RFC 864: "72-character lines of the ASCII printing characters". */
export const CHARGEN_LINE_CHARS = 72;
/** A line with its CRLF. */
export const CHARGEN_LINE_BYTES = CHARGEN_LINE_CHARS + 2;
/** RFC 864 (UDP): "a random number (between 0 and 512) of characters". */
export const CHARGEN_UDP_MAX = 512;

/**
 * Line `index` of RFC 864's pattern, CRLF included: "line 0 contains the characters starting
 * with character 0 and continuing for 72 characters", line i starts at character i mod 95 of
 * the ring ' '..'~', wrapping from '~' back to ' '.
 */
export function chargenLine(index: number): Buffer {
  const line = Buffer.alloc(CHARGEN_LINE_BYTES);
  const start = ((index % RING_SIZE) + RING_SIZE) % RING_SIZE;
  for (let i = 0; i < CHARGEN_LINE_CHARS; i++) line[i] = FIRST_PRINTABLE + ((start + i) % RING_SIZE);
  line[CHARGEN_LINE_CHARS] = 0x0d;
  line[CHARGEN_LINE_CHARS + 1] = 0x0a;
  return line;
}

/** `lines` consecutive lines of the pattern from line `first`. */
export function chargenLines(first: number, lines: number): Buffer {
  return Buffer.concat(Array.from({ length: lines }, (_, i) => chargenLine(first + i)));
}

/** The pattern repeats every 95 lines: one whole cycle (7,030 bytes) always starts at line 0. */
const CHARGEN_CYCLE = chargenLines(0, RING_SIZE);
/** What one TCP write hands the socket: nine cycles (63,270 bytes), each starting at line 0. */
const CHARGEN_CHUNK = Buffer.concat(Array.from({ length: 9 }, () => CHARGEN_CYCLE));

// --- RFC 867: daytime ---------------------------------------------------------------------

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'] as const;

/**
 * RFC 867's answer for `date`, in UTC, ending CRLF. The RFC fixes no syntax ("it is
 * recommended that it be limited to the ASCII printing characters, space, carriage return,
 * and line feed"); this is the RFC's own first example, `Weekday, Month Day, Year HH:MM:SS-ZONE`:
 * `Saturday, November 21, 2026 23:52:05-UTC\r\n` (day not padded, 24-hour clock).
 */
export function daytimeLine(date: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${WEEKDAYS[date.getUTCDay()]}, ${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()}, ${date.getUTCFullYear()} `
    + `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}-UTC\r\n`;
}

// --- TCP ------------------------------------------------------------------------------------

/** Reads and drops whatever arrives from now on. */
function drainInput(socket: Socket): void {
  socket.resume();
}

/** Ends the writable side once (a second `end()` is harmless, but says nothing more). */
function endOnce(socket: Socket): void {
  if (!socket.writableEnded && !socket.destroyed) socket.end();
}

/**
 * RFC 862 echo over TCP: "any data received is sent back", through `pipe`, so a slow reader
 * on the far end slows the read side here (backpressure). When the peer ends (half-close),
 * `pipe` finishes writing what is queued and then ends: the client gets everything back,
 * then FIN.
 */
export function echoTcp(socket: Socket): ServiceSession {
  socket.pipe(socket);
  return {
    shutdown() {
      socket.unpipe(socket);
      drainInput(socket);
      endOnce(socket);
    },
  };
}

/** RFC 863 discard over TCP: "any data received is thrown away"; ends when the peer ends. */
export function discardTcp(socket: Socket): ServiceSession {
  socket.resume();
  socket.once('end', () => endOnce(socket));
  return {
    shutdown() {
      endOnce(socket);
    },
  };
}

/**
 * RFC 864 character generator over TCP: "once a connection is established a stream of data
 * is sent out the connection (and any data received is thrown away). This continues until
 * the calling user terminates the connection." Writes while `write()` returns true, resumes
 * on 'drain', stops (and ends) when the peer ends or on `shutdown()`.
 */
export function chargenTcp(socket: Socket): ServiceSession {
  let stopped = false;
  const pump = (): void => {
    while (!stopped && !socket.destroyed && !socket.writableEnded) {
      if (!socket.write(CHARGEN_CHUNK)) return; // 'drain' calls us again
    }
  };
  const stop = (): void => {
    stopped = true;
    socket.off('drain', pump);
    endOnce(socket);
  };
  socket.on('drain', pump);
  socket.once('end', stop); // the calling user closed its side: "this continues until"
  socket.once('close', () => { stopped = true; });
  socket.resume(); // "any data received is thrown away"
  pump();
  return { shutdown: stop };
}

/**
 * RFC 867 daytime over TCP: "once a connection is established the current date and time is
 * sent out the connection as a ascii character string (and any data received is thrown
 * away). The service closes the connection after sending the quote."
 */
export function daytimeTcp(socket: Socket, clock: () => Date): ServiceSession {
  socket.resume();
  socket.end(daytimeLine(clock()));
  return {
    shutdown() {
      endOnce(socket);
    },
  };
}

// --- UDP ------------------------------------------------------------------------------------

/** RFC 862 echo over UDP: "when a datagram is received, the data from it is sent back in an answering datagram". */
export function echoUdp(): UdpResponder {
  return (datagram) => datagram;
}

/** RFC 863 discard over UDP: "when a datagram is received, it is thrown away. No response is sent." */
export function discardUdp(): UdpResponder {
  return () => undefined;
}

/**
 * RFC 864 character generator over UDP: "when a datagram is received, an answering datagram
 * is sent containing a random number (between 0 and 512) of characters (the data in the
 * received datagram is ignored)". The length is not random here but deterministic: for the
 * n-th datagram (n = 0, 1, ...) it is `(n * 149 + 72) mod 513`, which visits every length
 * 0..512 once per 513 datagrams (149 and 513 are coprime); the characters are the TCP
 * pattern's lines from line n on, cut to that length.
 */
export function chargenUdp(): UdpResponder {
  let n = 0;
  return () => {
    const length = chargenUdpLength(n);
    const lines = Math.ceil(length / CHARGEN_LINE_BYTES);
    const answer = chargenLines(n, lines).subarray(0, length);
    n++;
    return answer;
  };
}

/** The length of the answer to the n-th datagram a UDP chargen service receives (see {@link chargenUdp}). */
export function chargenUdpLength(n: number): number {
  return (n * 149 + 72) % (CHARGEN_UDP_MAX + 1);
}

/** RFC 867 daytime over UDP: each datagram is answered with the date line (its data is ignored). */
export function daytimeUdp(clock: () => Date): UdpResponder {
  return () => Buffer.from(daytimeLine(clock()), 'latin1');
}
