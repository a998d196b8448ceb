/**
 * Segmentation offload (`TcpConnection.setSegmentationOffload`, Linux's GSO): new data that
 * would leave as several full-sized segments in a row comes out of `pollTransmit` as one
 * record, for the caller to cut at `segmentSize`. The differential property (the same
 * segments on the wire as one segment per record, over loss, reordering and every option) is
 * in pair.test.ts; here, the rules one at a time.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ACK, FIN, LOCAL_MSS, PSH, cutRecord, drain, drainCut, establishedConnection, fromPeer, l, pattern, toPeer, view, write } from './harness.js';
import type { SegView } from './harness.js';
import type { TcpConnection } from '../../../src/core/tcp/connection.js';
import { millis } from '../../../src/time/instant.js';

const MSS = LOCAL_MSS;

/** An established connection with a large send buffer and offload of `bytes`. */
function offloading(bytes = 65536, config = {}): TcpConnection {
  const conn = establishedConnection({ config: { sendBufferSize: 64 * 1024, ...config } });
  conn.setSegmentationOffload(bytes);
  return conn;
}

describe('segmentation offload', () => {
  test('off by default: one segment per record', () => {
    const conn = establishedConnection({ config: { sendBufferSize: 64 * 1024 } });
    write(conn, pattern(4 * MSS));
    // The initial window is 3 segments of 1460 bytes (RFC 5681 3.1).
    assert.deepEqual(drain(conn).map((s) => s.payload.length), [MSS, MSS, MSS]);
  });

  test('full-sized segments the window allows come as one record; the segment counter counts each', () => {
    const conn = offloading();
    write(conn, pattern(2 * MSS + 100));
    const before = conn.info().segmentsSent;
    // The two full segments are one record; the short one waits, as one segment at a time it
    // would (Nagle: data is outstanding).
    assert.deepEqual(drain(conn), [view(toPeer({ seq: l(1), payload: pattern(2 * MSS) }))]);
    assert.equal(conn.info().segmentsSent - before, 2);
    conn.setNoDelay(true);
    conn.send(0, new Uint8Array(0));
    assert.deepEqual(drain(conn), [view(toPeer({ seq: l(1 + 2 * MSS), flags: ACK | PSH, payload: pattern(100, 2 * MSS) }))]);
    assert.equal(conn.segmentSize, MSS);
  });

  test('PSH goes on a record whose last piece empties the queue (the caller puts it on that piece only)', () => {
    const conn = offloading();
    write(conn, pattern(3 * MSS));
    assert.deepEqual(drain(conn), [view(toPeer({ seq: l(1), flags: ACK | PSH, payload: pattern(3 * MSS) }))]);
  });

  test('the segment that carries the FIN is never part of a record', () => {
    const conn = offloading();
    write(conn, pattern(2 * MSS));
    conn.close(0);
    // One at a time, the second segment carries the FIN (the window has room for it): it still
    // does, so the first goes alone too.
    assert.deepEqual(drain(conn), [
      view(toPeer({ seq: l(1), payload: pattern(MSS) })),
      view(toPeer({ seq: l(1 + MSS), flags: ACK | PSH | FIN, payload: pattern(MSS, MSS) })),
    ]);
  });

  test('a record is at most the offload size, in whole segments', () => {
    const conn = offloading(2 * MSS + 700);
    write(conn, pattern(5 * MSS));
    assert.deepEqual(drain(conn).map((s) => s.payload.length), [2 * MSS, MSS]);
  });

  test('one full segment alone is an ordinary segment; so is everything past the window', () => {
    const conn = establishedConnection({ config: { sendBufferSize: 64 * 1024 }, peerWindow: MSS + 10 });
    conn.setSegmentationOffload(65536);
    write(conn, pattern(3 * MSS));
    assert.deepEqual(drain(conn).map((s) => s.payload.length), [MSS]);
  });

  test('refuses a size that is not a non-negative integer', () => {
    const conn = establishedConnection();
    for (const bad of [-1, 1.5, Number.NaN]) assert.throws(() => conn.setSegmentationOffload(bad), RangeError);
    conn.setSegmentationOffload(0);
  });

  test('with pacing, a record holds what the schedule lets leave now, as one segment at a time would', () => {
    const plain = establishedConnection({ config: { sendBufferSize: 64 * 1024, pacing: true } });
    const conn = offloading(65536, { pacing: true });
    for (const c of [plain, conn]) write(c, pattern(40 * MSS));
    // The initial window leaves at once (no RTT yet, no pacing rate); the ACK 100 ms later gives
    // the RTT, and from then on pacing spaces the segments.
    assert.deepEqual(drainCut(conn, 0), drain(plain, 0));
    const now = millis(100);
    for (const c of [plain, conn]) c.handleSegment(now, fromPeer({ ack: l(1 + 3 * MSS) }));
    let records = 0;
    const pieces: SegView[] = [];
    for (let seg = conn.pollTransmit(now); seg !== undefined; seg = conn.pollTransmit(now)) {
      records++;
      for (const piece of cutRecord(seg, MSS)) pieces.push(view(piece));
    }
    const segments = drain(plain, now);
    assert.deepEqual(pieces, segments);
    assert.ok(segments.length < 6, `pacing held some back: ${segments.length} of the 6 cwnd allows left at once`);
    assert.ok(records < segments.length, 'and offload made records of several');
  });
});
