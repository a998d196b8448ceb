/**
 * SACK on the receive side: SACK-permitted on the SYNs (RFC 2018 2), SACK blocks on the ACKs
 * sent while out-of-order data is held (RFC 2018 4: the block of the latest segment first,
 * then the most recently reported ones, as many as fit beside the timestamps), and D-SACK
 * blocks for duplicate text (RFC 2883 4). Blocks ride only on pure ACKs; the sender does not
 * use the peer's blocks yet (RFC 6675 is to come).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TcpConnection } from '../../../src/core/tcp/connection.js';
import type { SackBlock, TcpOption } from '../../../src/wire/tcp.js';
import {
  ACK, PSH, REMOTE_ISS, SYN, WINDOW, drain, establishedConnection, expectSent, fromPeer, l, ourSyn, ourSynAck, ourTs, params, pattern,
  peerSyn, r, readAll, sackPermittedOptions, send, synSentConnection, toPeer, tsOptions, write,
} from './harness.js';
import type { FactoryOptions } from './harness.js';

const SACK: FactoryOptions = { peerSackPermitted: true };

function sack(...blocks: [number, number][]): TcpOption[] {
  return [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'sack', blocks: blocks.map(([a, b]): SackBlock => ({ left: r(a), right: r(b) })) }];
}

/** `n` bytes of the peer's stream from r(from) (stream byte from - 1 on). */
function data(from: number, n: number): ReturnType<typeof fromPeer> {
  return fromPeer({ seq: r(from), payload: pattern(n, from - 1) });
}

function hasSackPermitted(options: readonly TcpOption[]): boolean {
  return options.some((o) => o.kind === 'sack-permitted');
}

describe('SACK-permitted on the SYNs (RFC 2018 2)', () => {
  test('connect: our SYN carries SACK-permitted', () => {
    const [syn] = drain(TcpConnection.connect(params()));
    assert.deepEqual(syn!.options, [{ kind: 'mss', value: 1460 }, { kind: 'nop' }, { kind: 'window-scale', shift: 0 }, ...sackPermittedOptions(), ...tsOptions(0, 0)]);
    assert.deepEqual(syn!.options, ourSyn().options);
  });

  test('accept: the SYN,ACK carries SACK-permitted only when the peer\'s SYN had it', () => {
    const without = TcpConnection.accept(params(), peerSyn());
    const [plain] = drain(without);
    assert.equal(hasSackPermitted(plain!.options), false);
    assert.equal(without.info().sackPermitted, false);

    const withSack = TcpConnection.accept(params(), peerSyn(SACK));
    const [synAck] = drain(withSack);
    assert.deepEqual(synAck!.options, [{ kind: 'mss', value: 1460 }, ...sackPermittedOptions()]);
    assert.deepEqual(synAck!.options, ourSynAck(SACK).options);
    assert.equal(withSack.info().sackPermitted, true);
  });

  test('active open: SACK is permitted once the SYN,ACK carries it too', () => {
    const yes = synSentConnection();
    send(yes, fromPeer({ flags: SYN | ACK, seq: REMOTE_ISS, ack: l(1), options: [{ kind: 'mss', value: 1460 }, ...sackPermittedOptions()] }));
    assert.equal(yes.state, 'ESTABLISHED');
    assert.equal(yes.info().sackPermitted, true);

    const no = synSentConnection();
    send(no, fromPeer({ flags: SYN | ACK, seq: REMOTE_ISS, ack: l(1), options: [{ kind: 'mss', value: 1460 }] }));
    assert.equal(no.info().sackPermitted, false);
  });

  test('config sack: false: no SACK-permitted on the SYN nor the SYN,ACK, and SACK is not permitted', () => {
    const config = { sack: false };
    const [syn] = drain(TcpConnection.connect(params({ config })));
    assert.equal(hasSackPermitted(syn!.options), false);
    const conn = TcpConnection.accept(params({ config }), peerSyn(SACK));
    const [synAck] = drain(conn);
    assert.equal(hasSackPermitted(synAck!.options), false);
    assert.equal(conn.info().sackPermitted, false);
  });
});

describe('SACK blocks on our ACKs (RFC 2018 4)', () => {
  test('after a hole, the ACK carries a block for the out-of-order segment', () => {
    const conn = establishedConnection(SACK);
    send(conn, data(101, 100));
    expectSent(conn, 0, [toPeer({ options: sack([101, 201]) })]);
  });

  test('with two holes the block of the most recent segment comes first; a segment that extends a block brings it first', () => {
    const conn = establishedConnection(SACK);
    send(conn, data(101, 100));
    expectSent(conn, 0, [toPeer({ options: sack([101, 201]) })]);
    send(conn, data(301, 100));
    expectSent(conn, 0, [toPeer({ options: sack([301, 401], [101, 201]) })]);
    send(conn, data(201, 50));
    expectSent(conn, 0, [toPeer({ options: sack([101, 251], [301, 401]) })]);
  });

  test('a block disappears once its hole fills', () => {
    const conn = establishedConnection(SACK);
    send(conn, data(101, 100));
    send(conn, data(301, 100));
    drain(conn);
    // The first hole fills: RCV.NXT moves to r(201), only the second block is left.
    send(conn, data(1, 100));
    expectSent(conn, 0, [toPeer({ ack: r(201), window: WINDOW - 200, options: sack([301, 401]) })]);
    // The second fills: nothing is held, no SACK option.
    send(conn, data(201, 100));
    expectSent(conn, 0, [toPeer({ ack: r(401), window: WINDOW - 400 })]);
    assert.equal(readAll(conn), pattern(400));
  });

  test('at most 3 blocks beside the timestamps, 4 without; the most recent first', () => {
    const withTs = establishedConnection({ ...SACK, peerTsVal: 1 });
    for (const from of [101, 301, 501, 701, 901]) send(withTs, fromPeer({ seq: r(from), payload: pattern(50), options: tsOptions(2, 0) }));
    const acks = drain(withTs);
    assert.equal(acks.length, 5);
    assert.deepEqual(acks.at(-1)!.options, [...tsOptions(ourTs(0), 1), ...sack([901, 951], [701, 751], [501, 551])]);

    const plain = establishedConnection(SACK);
    for (const from of [101, 301, 501, 701, 901]) send(plain, data(from, 50));
    assert.deepEqual(drain(plain).at(-1)!.options, sack([901, 951], [701, 751], [501, 551], [301, 351]));
  });

  test('no SACK blocks when SACK is not permitted', () => {
    const conn = establishedConnection();
    assert.equal(conn.info().sackPermitted, false);
    send(conn, data(101, 100));
    expectSent(conn, 0, [toPeer()]);
  });

  test('data segments carry no SACK blocks, only pure ACKs do (the send MSS stays whole)', () => {
    const conn = establishedConnection(SACK);
    send(conn, data(101, 100));
    write(conn, 'x');
    expectSent(conn, 0, [toPeer({ options: sack([101, 201]) }), toPeer({ flags: ACK | PSH, payload: 'x' })]);
  });
});

describe('D-SACK (RFC 2883 4)', () => {
  test('a duplicate segment below RCV.NXT is reported in the first block of the next ACK, once', () => {
    const conn = establishedConnection(SACK);
    send(conn, data(1, 5));
    expectSent(conn, 0, [toPeer({ ack: r(6), window: WINDOW - 5 })]);
    send(conn, data(1, 5));
    expectSent(conn, 0, [toPeer({ ack: r(6), window: WINDOW - 5, options: sack([1, 6]) })]);
    // The next ACK carries no D-SACK block.
    send(conn, data(6, 5));
    expectSent(conn, 0, [toPeer({ ack: r(11), window: WINDOW - 10 })]);
  });

  test('the D-SACK block comes before the normal blocks', () => {
    const conn = establishedConnection(SACK);
    send(conn, data(1, 5));
    send(conn, data(101, 100));
    drain(conn);
    send(conn, data(1, 5));
    expectSent(conn, 0, [toPeer({ ack: r(6), window: WINDOW - 5, options: sack([1, 6], [101, 201]) })]);
  });

  test('a partly duplicate segment reports the duplicated part (RFC 2883 4.1.3)', () => {
    const conn = establishedConnection(SACK);
    send(conn, data(1, 5));
    drain(conn);
    send(conn, data(3, 8));
    // The new bytes give an ACK owed for data; the D-SACK rides the pure ACK that carries it.
    expectSent(conn, 0, [toPeer({ ack: r(11), window: WINDOW - 10, options: sack([3, 6]) })]);
  });

  test('a segment that repeats held out-of-order data: the duplicate first, then the block holding it', () => {
    const conn = establishedConnection(SACK);
    send(conn, data(101, 100));
    send(conn, data(301, 100));
    drain(conn);
    send(conn, data(121, 30));
    expectSent(conn, 0, [toPeer({ options: sack([121, 151], [101, 201], [301, 401]) })]);
  });

  test('no D-SACK block when SACK is not permitted', () => {
    const conn = establishedConnection();
    send(conn, data(1, 5));
    drain(conn);
    send(conn, data(1, 5));
    expectSent(conn, 0, [toPeer({ ack: r(6), window: WINDOW - 5 })]);
  });
});
