/**
 * The TCP test harness, in smoltcp's `socket/tcp.rs` manner: segment templates for what the
 * peer sends (`fromPeer`, smoltcp's SEND_TEMPL) and what we expect back (`toPeer`,
 * RECV_TEMPL), state factories (`establishedConnection()` …), `send(conn, seg, now)`,
 * `expectSent(conn, now, [segs])` — exactly these segments, in order, then nothing — and
 * `expectNothing(conn, now)`.
 *
 * The connection under test is the local end (10.0.0.1:80); the peer is 10.0.0.2:49500. Our ISS
 * is LOCAL_ISS; the peer's, REMOTE_ISS, is close to 2^32 so that every test crosses the wrap of
 * sequence space. Sequence numbers are written `l(n)` (LOCAL_ISS + n) and `r(n)`
 * (REMOTE_ISS + n). Unless a test says otherwise: our buffers hold 8 KiB (so we advertise a
 * window of 8192; after the peer's FIN, 8191: the FIN takes a sequence number and the right
 * edge of the window stays where it was), our MSS is 1460, the peer announces MSS 1460 and a window of 65535, delayed
 * ACKs are off (every in-order segment is ACKed at once), Nagle is on.
 *
 * Window scaling and timestamps (RFC 7323) are on, as in l4's defaults: our SYN offers them
 * (window scale 0 for the 8 KiB buffer; TSval = `now` in ms, the harness's timestamp offset
 * being 0, TSecr 0). The peer's SYN carries neither unless a test asks (`peerWindowShift`,
 * `peerTsVal`), so after the handshake segments carry no options and windows are unscaled.
 *
 * SACK (RFC 2018) is on too: our SYN carries NOP, NOP, SACK-permitted after the window scale.
 * The peer's SYN carries it only when a test asks (`peerSackPermitted`), so by default our
 * SYN,ACK lacks it and no ACK carries SACK blocks.
 */
import assert from 'node:assert/strict';
import { formatTcpFlags, TcpFlags } from '../../../src/wire/tcp.js';
import type { TcpOption, TcpRepr } from '../../../src/wire/tcp.js';
import { seqAdd } from '../../../src/wire/seq.js';
import type { SeqNumber } from '../../../src/wire/seq.js';
import type { Instant } from '../../../src/time/instant.js';
import type { Endpoint } from '../../../src/core/endpoint.js';
import { TcpConnection } from '../../../src/core/tcp/connection.js';
import type { TcpConnectionParams } from '../../../src/core/tcp/connection.js';
import { TCP_DEFAULTS } from '../../../src/core/tcp/types.js';
import { windowShiftFor } from '../../../src/core/tcp/options.js';
import type { TcpConfig, TcpEvent } from '../../../src/core/tcp/types.js';

export const LOCAL: Endpoint = { address: Uint8Array.of(10, 0, 0, 1), port: 80 };
export const REMOTE: Endpoint = { address: Uint8Array.of(10, 0, 0, 2), port: 49500 };
export const LOCAL_ISS: SeqNumber = 10_000;
export const REMOTE_ISS: SeqNumber = 0xffff_ff00;
export const LOCAL_MSS = 1460;
export const BUFFER = 8192;
/** The window we advertise with empty buffers. */
export const WINDOW = BUFFER;
/** The window the peer advertises unless told otherwise. */
export const PEER_WINDOW = 65535;

export const { FIN, SYN, RST, PSH, ACK, URG } = TcpFlags;

/** l4 defaults with the harness's buffers and delayed ACK off. */
export const TEST_CONFIG: TcpConfig = {
  ...TCP_DEFAULTS,
  sendBufferSize: BUFFER,
  receiveBufferSize: BUFFER,
  delayedAck: 0,
};

/** LOCAL_ISS + n. */
export function l(n: number): SeqNumber {
  return seqAdd(LOCAL_ISS, n);
}

/** REMOTE_ISS + n. */
export function r(n: number): SeqNumber {
  return seqAdd(REMOTE_ISS, n);
}

/** The fields a test names; `payload` may be text. */
export interface SegFields {
  seq?: SeqNumber;
  ack?: SeqNumber;
  flags?: number;
  window?: number;
  urgentPointer?: number;
  options?: readonly TcpOption[];
  payload?: string | Uint8Array;
}

function bytes(p: string | Uint8Array | undefined): Uint8Array {
  if (p === undefined) return new Uint8Array(0);
  return typeof p === 'string' ? Uint8Array.from(Buffer.from(p, 'latin1')) : p;
}

/** A segment from the peer: SEQ=r(1), ACK=l(1), flags ACK, window 65535 unless given. */
export function fromPeer(f: SegFields = {}): TcpRepr {
  return {
    srcPort: REMOTE.port, dstPort: LOCAL.port,
    seqNumber: f.seq ?? r(1), ackNumber: f.ack ?? l(1), flags: f.flags ?? ACK, reserved: 0,
    window: f.window ?? PEER_WINDOW, urgentPointer: f.urgentPointer ?? 0, options: f.options ?? [], optionsPadding: 0,
    payload: bytes(f.payload),
  };
}

/** A segment we expect: SEQ=l(1), ACK=r(1), flags ACK, window 8192 unless given. */
export function toPeer(f: SegFields = {}): TcpRepr {
  return {
    srcPort: LOCAL.port, dstPort: REMOTE.port,
    seqNumber: f.seq ?? l(1), ackNumber: f.ack ?? r(1), flags: f.flags ?? ACK, reserved: 0,
    window: f.window ?? WINDOW, urgentPointer: f.urgentPointer ?? 0, options: f.options ?? [], optionsPadding: 0,
    payload: bytes(f.payload),
  };
}

/** A segment as tests compare it: readable flags and sequence numbers relative to the ISSs, payload as text. */
export interface SegView {
  flags: string;
  seq: string;
  ack: string;
  window: number;
  urgentPointer: number;
  options: readonly TcpOption[];
  payload: string;
  ports: string;
}

function relative(n: number, base: number, name: string): string {
  return `${name}+${(n - base) >>> 0}`;
}

/** The comparable form of a segment (copied: the payload may be a view that the next poll reuses). */
export function view(seg: TcpRepr, fromLocal = true): SegView {
  const [ours, theirs] = fromLocal ? [LOCAL_ISS, REMOTE_ISS] : [REMOTE_ISS, LOCAL_ISS];
  const [oursName, theirsName] = fromLocal ? ['l', 'r'] : ['r', 'l'];
  return {
    flags: formatTcpFlags(seg.flags),
    seq: relative(seg.seqNumber, ours, oursName),
    ack: (seg.flags & ACK) !== 0 || seg.ackNumber !== 0 ? relative(seg.ackNumber, theirs, theirsName) : '0',
    window: seg.window,
    urgentPointer: seg.urgentPointer,
    options: seg.options,
    payload: Buffer.from(seg.payload).toString('latin1'),
    ports: `${seg.srcPort}>${seg.dstPort}`,
  };
}

/** Feeds a segment to the connection. */
export function send(conn: TcpConnection, seg: TcpRepr, now: Instant = 0): void {
  conn.handleSegment(now, seg);
}

/** Everything the connection transmits at `now`, in order (comparable copies). */
export function drain(conn: TcpConnection, now: Instant = 0, limit = 10_000): SegView[] {
  const out: SegView[] = [];
  for (let i = 0; i < limit; i++) {
    const seg = conn.pollTransmit(now);
    if (seg === undefined) return out;
    out.push(view(seg));
  }
  assert.fail(`more than ${limit} segments at once`);
}

/**
 * A record from `pollTransmit` cut into segments of `mss` payload bytes, as the host cuts one
 * under segmentation offload (written here apart from the host, as the tests' oracle): the
 * record's header on each piece, its own sequence number, PSH and FIN only on the last.
 */
export function cutRecord(seg: TcpRepr, mss: number): TcpRepr[] {
  if (seg.payload.length <= mss) return [seg];
  const pieces: TcpRepr[] = [];
  for (let at = 0; at < seg.payload.length; at += mss) {
    const end = Math.min(seg.payload.length, at + mss);
    const flags = end === seg.payload.length ? seg.flags : seg.flags & ~(PSH | FIN);
    pieces.push({ ...seg, seqNumber: (seg.seqNumber + at) >>> 0, flags, payload: seg.payload.subarray(at, end) });
  }
  return pieces;
}

/** Everything the connection transmits at `now`, records cut at `mss` as the host cuts them (comparable copies). */
export function drainCut(conn: TcpConnection, now: Instant = 0, mss = conn.segmentSize): SegView[] {
  const out: SegView[] = [];
  for (let seg = conn.pollTransmit(now); seg !== undefined; seg = conn.pollTransmit(now)) {
    for (const piece of cutRecord(seg, mss)) out.push(view(piece));
  }
  return out;
}

/** Exactly these segments, in order, then nothing. */
export function expectSent(conn: TcpConnection, now: Instant, expected: readonly TcpRepr[]): void {
  assert.deepEqual(drain(conn, now), expected.map((s) => view(s)));
}

/** Nothing to transmit at `now`. */
export function expectNothing(conn: TcpConnection, now: Instant = 0): void {
  assert.deepEqual(drain(conn, now), []);
}

/** Every event queued, drained. */
export function events(conn: TcpConnection): TcpEvent[] {
  const out: TcpEvent[] = [];
  for (let e = conn.pollEvent(); e !== undefined; e = conn.pollEvent()) out.push(e);
  return out;
}

/** Exactly these events are queued. */
export function expectEvents(conn: TcpConnection, expected: TcpEvent[]): void {
  assert.deepEqual(events(conn), expected);
}

/** Reads everything available as text. */
export function readAll(conn: TcpConnection, now: Instant = 0): string {
  const data = conn.recv(now);
  return data === undefined ? '' : Buffer.from(data).toString('latin1');
}

/** Writes text; asserts it was all taken. */
export function write(conn: TcpConnection, text: string | Uint8Array, now: Instant = 0): void {
  const data = bytes(text);
  assert.equal(conn.send(now, data), data.length, 'the send buffer took everything');
}

/** Options of the state factories. */
export interface FactoryOptions {
  config?: Partial<TcpConfig>;
  /** Our MSS (the params' `mss`). */
  mss?: number;
  /** The peer's MSS option; `null` for none. */
  peerMss?: number | null;
  /** The window of the peer's SYN and of its handshake ACK. */
  peerWindow?: number;
  /** The peer's SYN carries a Window Scale option with this shift (none when undefined). */
  peerWindowShift?: number;
  /** The peer's SYN carries a Timestamps option with this TSval (none when undefined). */
  peerTsVal?: number;
  /** The peer's SYN carries SACK-permitted (RFC 2018 2). */
  peerSackPermitted?: boolean;
  now?: Instant;
}

/** Connection parameters for the harness's socket pair. */
export function params(o: FactoryOptions = {}): TcpConnectionParams {
  return {
    config: configOf(o),
    local: LOCAL, remote: REMOTE, iss: LOCAL_ISS, mss: o.mss ?? LOCAL_MSS, now: o.now ?? 0,
  };
}

function mssOption(value: number): TcpOption[] {
  return [{ kind: 'mss', value }];
}

/** NOP, NOP, TSopt: what a segment carries once timestamps are on (RFC 7323 Appendix A). */
export function tsOptions(tsVal: number, tsEcr: number): TcpOption[] {
  return [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsVal, tsEcr }];
}

/** NOP, NOP, SACK-permitted: what our SYN carries with SACK on (RFC 2018 2). */
export function sackPermittedOptions(): TcpOption[] {
  return [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'sack-permitted' }];
}

/** Our timestamp clock at `now` (the harness's offset is 0): milliseconds. */
export function ourTs(now: Instant = 0): number {
  return Math.floor(now / 1000);
}

/** The options of the peer's SYN (or SYN,ACK, echoing `tsEcr`) for these factory options. */
export function peerSynOptions(o: FactoryOptions = {}, tsEcr = 0): TcpOption[] {
  const options = o.peerMss === null ? [] : mssOption(o.peerMss ?? 1460);
  if (o.peerWindowShift !== undefined) options.push({ kind: 'nop' }, { kind: 'window-scale', shift: o.peerWindowShift });
  if (o.peerSackPermitted === true) options.push(...sackPermittedOptions());
  if (o.peerTsVal !== undefined) options.push(...tsOptions(o.peerTsVal, tsEcr));
  return options;
}

/** The configuration the factories run with. */
function configOf(o: FactoryOptions): TcpConfig {
  return { ...TEST_CONFIG, ...o.config };
}

/** The shift our SYN offers for this configuration (undefined: window scaling off). */
export function ourWindowShift(o: FactoryOptions = {}): number | undefined {
  const config = configOf(o);
  return config.windowScaling ? windowShiftFor(config.receiveBufferSize) : undefined;
}

/** The SYN we send (window: our buffer, capped at 65535; window scale, SACK-permitted and timestamps as configured). */
export function ourSyn(o: FactoryOptions = {}): TcpRepr {
  const options = mssOption(o.mss ?? LOCAL_MSS);
  const shift = ourWindowShift(o);
  if (shift !== undefined) options.push({ kind: 'nop' }, { kind: 'window-scale', shift });
  if (configOf(o).sack) options.push(...sackPermittedOptions());
  if (configOf(o).timestamps) options.push(...tsOptions(ourTs(o.now), 0));
  return toPeer({ flags: SYN, seq: LOCAL_ISS, ack: 0, options, window: Math.min(65535, o.config?.receiveBufferSize ?? BUFFER) });
}

/** The SYN,ACK we send: window scale, SACK-permitted and timestamps only when the peer's SYN had them (RFC 7323 2.2, 3.2; RFC 2018 2). */
export function ourSynAck(o: FactoryOptions = {}): TcpRepr {
  const options = mssOption(o.mss ?? LOCAL_MSS);
  const shift = ourWindowShift(o);
  if (shift !== undefined && o.peerWindowShift !== undefined) options.push({ kind: 'nop' }, { kind: 'window-scale', shift });
  if (configOf(o).sack && o.peerSackPermitted === true) options.push(...sackPermittedOptions());
  if (configOf(o).timestamps && o.peerTsVal !== undefined) options.push(...tsOptions(ourTs(o.now), o.peerTsVal));
  return toPeer({ flags: SYN | ACK, seq: LOCAL_ISS, ack: r(1), options, window: Math.min(65535, o.config?.receiveBufferSize ?? BUFFER) });
}

/** The peer's SYN. */
export function peerSyn(o: FactoryOptions = {}): TcpRepr {
  return fromPeer({ flags: SYN, seq: REMOTE_ISS, ack: 0, options: peerSynOptions(o), window: o.peerWindow ?? PEER_WINDOW });
}

/** SYN-SENT: `connect`, the SYN taken. */
export function synSentConnection(o: FactoryOptions = {}): TcpConnection {
  const conn = TcpConnection.connect(params(o));
  assert.equal(conn.state, 'SYN-SENT');
  expectSent(conn, o.now ?? 0, [ourSyn(o)]);
  return conn;
}

/** SYN-RECEIVED: `accept` of the peer's SYN, the SYN,ACK taken. */
export function synReceivedConnection(o: FactoryOptions = {}): TcpConnection {
  const conn = TcpConnection.accept(params(o), peerSyn(o));
  assert.equal(conn.state, 'SYN-RECEIVED');
  expectSent(conn, o.now ?? 0, [ourSynAck(o)]);
  return conn;
}

/** ESTABLISHED (passive open), the 'connected' event drained. RTO is the minimum (the handshake's RTT is 0). */
export function establishedConnection(o: FactoryOptions = {}): TcpConnection {
  const conn = synReceivedConnection(o);
  const options = o.peerTsVal !== undefined ? tsOptions(o.peerTsVal, ourTs(o.now)) : [];
  send(conn, fromPeer({ window: o.peerWindow ?? PEER_WINDOW, options }), o.now ?? 0);
  assert.equal(conn.state, 'ESTABLISHED');
  expectNothing(conn, o.now ?? 0);
  expectEvents(conn, [{ type: 'connected' }]);
  return conn;
}

/** ESTABLISHED by an active open. */
export function activeEstablishedConnection(o: FactoryOptions = {}): TcpConnection {
  const conn = synSentConnection(o);
  send(conn, fromPeer({ flags: SYN | ACK, seq: REMOTE_ISS, ack: l(1), options: peerSynOptions(o, ourTs(o.now)), window: o.peerWindow ?? PEER_WINDOW }), o.now ?? 0);
  assert.equal(conn.state, 'ESTABLISHED');
  const timestamps = configOf(o).timestamps && o.peerTsVal !== undefined;
  expectSent(conn, o.now ?? 0, [toPeer({ options: timestamps ? tsOptions(ourTs(o.now), o.peerTsVal!) : [] })]);
  expectEvents(conn, [{ type: 'connected' }]);
  return conn;
}

/** FIN-WAIT-1: established, closed by us, our FIN (l(1)) sent and not acknowledged. */
export function finWait1Connection(o: FactoryOptions = {}): TcpConnection {
  const conn = establishedConnection(o);
  conn.close(0);
  assert.equal(conn.state, 'FIN-WAIT-1');
  expectSent(conn, 0, [toPeer({ flags: FIN | ACK })]);
  return conn;
}

/** FIN-WAIT-2: our FIN acknowledged. */
export function finWait2Connection(o: FactoryOptions = {}): TcpConnection {
  const conn = finWait1Connection(o);
  send(conn, fromPeer({ ack: l(2) }));
  assert.equal(conn.state, 'FIN-WAIT-2');
  expectNothing(conn);
  return conn;
}

/** CLOSING: our FIN sent, the peer's FIN (r(1)) received, ours not yet acknowledged. */
export function closingConnection(o: FactoryOptions = {}): TcpConnection {
  const conn = finWait1Connection(o);
  send(conn, fromPeer({ flags: FIN | ACK }));
  assert.equal(conn.state, 'CLOSING');
  expectSent(conn, 0, [toPeer({ seq: l(2), ack: r(2), window: WINDOW - 1 })]);
  expectEvents(conn, [{ type: 'peer-closed' }]);
  return conn;
}

/** TIME-WAIT: both FINs sent and acknowledged, entered at `now`. */
export function timeWaitConnection(o: FactoryOptions = {}): TcpConnection {
  const conn = finWait2Connection(o);
  send(conn, fromPeer({ flags: FIN | ACK, ack: l(2) }), o.now ?? 0);
  assert.equal(conn.state, 'TIME-WAIT');
  expectSent(conn, o.now ?? 0, [toPeer({ seq: l(2), ack: r(2), window: WINDOW - 1 })]);
  expectEvents(conn, [{ type: 'peer-closed' }]);
  return conn;
}

/** CLOSE-WAIT: the peer's FIN (r(1)) received and acknowledged. */
export function closeWaitConnection(o: FactoryOptions = {}): TcpConnection {
  const conn = establishedConnection(o);
  send(conn, fromPeer({ flags: FIN | ACK }));
  assert.equal(conn.state, 'CLOSE-WAIT');
  expectSent(conn, 0, [toPeer({ ack: r(2), window: WINDOW - 1 })]);
  expectEvents(conn, [{ type: 'peer-closed' }]);
  return conn;
}

/** LAST-ACK: CLOSE-WAIT, then closed by us, our FIN (l(1)) sent. */
export function lastAckConnection(o: FactoryOptions = {}): TcpConnection {
  const conn = closeWaitConnection(o);
  conn.close(0);
  assert.equal(conn.state, 'LAST-ACK');
  expectSent(conn, 0, [toPeer({ flags: FIN | ACK, ack: r(2), window: WINDOW - 1 })]);
  return conn;
}

/** Bytes 0..n-1 of a recognizable pattern, as text. */
export function pattern(n: number, from = 0): string {
  let s = '';
  for (let i = from; i < from + n; i++) s += String.fromCharCode(97 + (i % 26));
  return s;
}
