/**
 * RFC 7323 at the host: the SYN-ACK a listener sends answers window scale and timestamps,
 * each socket pair's timestamp clock starts at its own offset drawn from the host's seed
 * (RFC 7323 5.4), and a segment PAWS drops is counted in the host's drop counters.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { TcpFlags, tcpOptionsSummary } from '../../src/wire/tcp.js';
import type { TcpOption } from '../../src/wire/tcp.js';
import type { Host } from '../../src/core/host.js';
import { millis } from '../../src/time/instant.js';
import { drain, makeHost, readPacket, tcpPacket } from './support.js';

const A = '10.0.0.1';
const B = '10.0.0.2';

function ts(tsVal: number, tsEcr: number): TcpOption[] {
  return [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsVal, tsEcr }];
}

/** The host's answer to a SYN from B:`port` carrying window scale 7 and TSval 100. */
function synAck(h: Host, port: number, now: number): { seq: number; tsVal: number; tsEcr: number; shift: number | undefined } {
  h.handle(now, tcpPacket(B, A, {
    srcPort: port, dstPort: 8080, seqNumber: 1000, flags: TcpFlags.SYN, window: 65535,
    options: [{ kind: 'mss', value: 1460 }, { kind: 'nop' }, { kind: 'window-scale', shift: 7 }, ...ts(100, 0)],
  }), 'eth0');
  const out = drain(h, now);
  assert.equal(out.length, 1);
  const seg = readPacket(out[0]!.packet).tcp!;
  assert.equal(seg.flags, TcpFlags.SYN | TcpFlags.ACK);
  const s = tcpOptionsSummary(seg.options);
  assert.ok(s.timestamps);
  return { seq: seg.seqNumber, tsVal: s.timestamps.tsVal, tsEcr: s.timestamps.tsEcr, shift: s.windowScale };
}

describe('Host: RFC 7323', () => {
  test('a SYN-ACK answers window scale (our shift for 16 MiB: 9) and timestamps (TSecr = the SYN\'s TSval)', () => {
    const h = makeHost('h', [`${A}/24`]);
    assert.ok(h.tcpListen({ port: 8080 }).ok);
    const a = synAck(h, 40000, millis(5));
    assert.equal(a.shift, 9);
    assert.equal(a.tsEcr, 100);
  });

  test('each socket pair\'s timestamp clock has its own offset, from the seed: the same seed replays it', () => {
    const tsVals = (seed: number): number[] => {
      const h = makeHost('h', [`${A}/24`], { seed });
      assert.ok(h.tcpListen({ port: 8080 }).ok);
      return [synAck(h, 40000, millis(5)).tsVal, synAck(h, 40001, millis(5)).tsVal];
    };
    const [x, y] = tsVals(1);
    assert.notEqual(x, y, 'two socket pairs, two offsets');
    assert.notEqual(x, 5, 'not the bare clock: an offset hides the host\'s uptime');
    assert.deepEqual(tsVals(1), [x, y], 'the same seed, the same offsets');
    assert.notDeepEqual(tsVals(2), [x, y]);
  });

  test('a segment with an old timestamp is dropped by PAWS, counted as a \'paws\' drop, and answered with an ACK', () => {
    const h = makeHost('h', [`${A}/24`], { tcp: { delayedAck: 0 } });
    const listener = h.tcpListen({ port: 8080 });
    assert.ok(listener.ok);
    const sa = synAck(h, 40000, 0);
    const segment = (tsVal: number, payload: string, seq = 1001) => tcpPacket(B, A, {
      srcPort: 40000, dstPort: 8080, seqNumber: seq, ackNumber: (sa.seq + 1) >>> 0, flags: TcpFlags.ACK, window: 512,
      options: ts(tsVal, sa.tsVal), payload: new TextEncoder().encode(payload),
    });
    h.handle(millis(1), segment(101, ''), 'eth0');
    const conn = listener.listener.accept()!;
    assert.equal(conn.state, 'ESTABLISHED');
    assert.deepEqual(conn.info().windowScaling, { send: 7, receive: 9 });
    assert.equal(conn.info().timestamps, true);
    assert.equal(conn.info().sendWindow, 512 << 7);
    h.handle(millis(2), segment(102, 'fresh'), 'eth0');
    assert.equal(drain(h, millis(2)).length, 1, 'the data is ACKed');
    assert.equal(h.stats.drops.paws, 0);

    h.handle(millis(3), segment(90, 'stale', 1006), 'eth0');
    assert.equal(h.stats.drops.paws, 1);
    const out = drain(h, millis(3));
    assert.equal(out.length, 1);
    const ack = readPacket(out[0]!.packet).tcp!;
    assert.equal(ack.flags, TcpFlags.ACK);
    assert.equal(ack.ackNumber, 1006, 'RCV.NXT did not move');
    assert.equal(tcpOptionsSummary(ack.options).timestamps?.tsEcr, 102, 'TS.Recent did not move');
    assert.equal(new TextDecoder().decode(conn.recv(millis(3))), 'fresh');
  });
});
