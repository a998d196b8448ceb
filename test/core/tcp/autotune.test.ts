/**
 * Receive-buffer autotuning (dynamic right-sizing): the window starts at 128 KiB, grows once a
 * round trip with what the application reads, never shrinks, and stays small for a reader
 * that does not read.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { millis } from '../../../src/time/instant.js';
import type { Instant } from '../../../src/time/instant.js';
import { AUTOTUNE_HEADROOM_SEGMENTS, ReceiveAutotuner } from '../../../src/core/tcp/autotune.js';
import type { TcpConnection } from '../../../src/core/tcp/connection.js';
import { AUTOTUNE_INITIAL_WINDOW } from '../../../src/core/tcp/types.js';
import { drain, establishedConnection, fromPeer, ourTs, r, send, tsOptions } from './harness.js';

const MIB = 1024 * 1024;
const RTT = millis(50);
const CHUNK = 16 * 1024;

/** A receiver with a 4 MiB buffer, window scaling and timestamps negotiated. */
function receiver(autotuning = true): TcpConnection {
  return establishedConnection({
    config: { receiveBufferSize: 4 * MIB, receiveBufferAutotuning: autotuning },
    peerWindowShift: 7, peerTsVal: 1,
  });
}

/**
 * The peer sends as much as the offered window allows at `now` (in 16 KiB segments), echoing
 * the timestamp of our ACKs one round trip ago; the application reads it all when `read`.
 * Returns the bytes the receiver took.
 */
function round(conn: TcpConnection, now: Instant, from: { seq: number; tsVal: number }, read: boolean): number {
  let taken = 0;
  const window = conn.info().receiveWindow;
  for (let sent = 0; sent + CHUNK <= window; sent += CHUNK) {
    const before = conn.info().bytesReceived;
    send(conn, fromPeer({ seq: r(1 + from.seq), payload: new Uint8Array(CHUNK), options: tsOptions(from.tsVal++, ourTs(Math.max(0, now - RTT))) }), now);
    const got = conn.info().bytesReceived - before;
    if (got === 0) break;
    from.seq += got;
    taken += got;
    if (read) conn.recv(now);
  }
  drain(conn, now);
  return taken;
}

describe('receive-buffer autotuning', () => {
  test('the first window is 128 KiB, not the 4 MiB buffer', () => {
    const conn = receiver();
    assert.equal(conn.info().receiveWindow, AUTOTUNE_INITIAL_WINDOW);
    assert.equal(receiver(false).info().receiveWindow, 4 * MIB - (4 * MIB) / 16, 'off: the buffer less the rounding reserve');
  });

  test('a reader that keeps up: the window grows round by round (never shrinking) up to the buffer', () => {
    const conn = receiver();
    const from = { seq: 0, tsVal: 2 };
    const windows: number[] = [];
    for (let k = 1; k <= 12; k++) {
      round(conn, k * RTT, from, true);
      windows.push(conn.info().receiveWindow);
    }
    for (let i = 1; i < windows.length; i++) assert.ok(windows[i]! >= windows[i - 1]!, `never shrinks: ${windows.join(', ')}`);
    assert.ok(windows[2]! > 2 * AUTOTUNE_INITIAL_WINDOW, `grew within three round trips: ${windows.join(', ')}`);
    assert.ok(windows.at(-1)! >= 3 * MIB, `reached most of the buffer: ${windows.join(', ')}`);
  });

  test('a reader that does not read: the peer can park at most the first window', () => {
    const conn = receiver();
    const from = { seq: 0, tsVal: 2 };
    let taken = 0;
    for (let k = 1; k <= 10; k++) taken += round(conn, k * RTT, from, false);
    assert.equal(taken, AUTOTUNE_INITIAL_WINDOW);
    assert.equal(conn.info().receiveWindow, 0);
  });

  test('the rule: twice what was read in a round trip plus headroom, and twice the growth (Linux\'s tcp_rcv_space_adjust)', () => {
    const mss = 1000;
    const tuner = new ReceiveAutotuner(0, mss);
    tuner.onText(0, millis(10), 0, 0);
    assert.equal(tuner.onRead(5_000, millis(5), undefined, mss), undefined, 'not a round trip yet');
    assert.equal(tuner.onRead(5_000, millis(10), undefined, mss), undefined, 'no more than the 10 segments assumed at first');
    const window = tuner.onRead(20_000, millis(20), undefined, mss);
    const base = 2 * 20_000 + AUTOTUNE_HEADROOM_SEGMENTS * mss;
    assert.equal(window, base + Math.floor((2 * base * (20_000 - 10_000)) / 10_000));
  });

  test('the receiver\'s RTT: from echoed timestamps, smoothed; without them, the time one window takes (the least kept)', () => {
    const echo = new ReceiveAutotuner(0, 1000);
    echo.onText(0, millis(80), 0, 1000);
    echo.onText(0, millis(40), 0, 1000);
    assert.equal(echo.rtt, millis(75));
    const windowed = new ReceiveAutotuner(0, 1000);
    windowed.onText(0, undefined, 0, 10_000);
    windowed.onText(millis(30), undefined, 5_000, 10_000);
    assert.equal(windowed.rtt, undefined, 'the window is not covered yet');
    windowed.onText(millis(60), undefined, 10_000, 10_000);
    assert.equal(windowed.rtt, millis(60));
    windowed.onText(millis(100), undefined, 20_000, 10_000);
    assert.equal(windowed.rtt, millis(40));
  });
});
