import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseIpAddress } from '../../src/wire/address.js';
import { TcpFlags } from '../../src/wire/tcp.js';
import { SocketTable } from '../../src/core/socket-table.js';
import type { ConnectionEntry } from '../../src/core/socket-table.js';
import type { Endpoint } from '../../src/core/endpoint.js';
import { TcpListener, listenAction } from '../../src/core/tcp/listener.js';
import type { TcpListenerOwner } from '../../src/core/tcp/listener.js';
import type { TcpConnection } from '../../src/core/tcp/connection.js';

function ip(text: string): Uint8Array {
  const a = parseIpAddress(text);
  assert.ok(a, text);
  return a;
}

const owner: TcpListenerOwner = { closeListener: () => undefined, connectionAccepted: () => undefined };

function listener(address: string | undefined, port: number, reuseAddress = false): TcpListener {
  const a = address === undefined ? undefined : ip(address);
  return new TcpListener(owner, { address: a ?? new Uint8Array(16), port }, { backlog: 8, dualStack: a === undefined, reuseAddress });
}

/** A stand-in connection: the table only reads local and remote. */
function entry(local: Endpoint, remote: Endpoint): ConnectionEntry {
  const connection = { local, remote } as unknown as TcpConnection;
  return {
    connection, iface: 'eth0', loopback: false, listener: undefined,
    connected: false, removed: false, ready: false, readableEvent: undefined, writableEvent: undefined, deadline: undefined, generation: 0,
  };
}

describe('SocketTable', () => {
  test('connections by exact socket pair: many share one local port', () => {
    const t = new SocketTable();
    const local = { address: ip('10.0.0.1'), port: 80 };
    const entries = [1, 2, 3].map((i) => entry(local, { address: ip(`10.0.0.${i + 1}`), port: 50000 }));
    for (const e of entries) t.addConnection(e);
    assert.equal(t.connectionCount, 3);
    assert.equal(t.connection(local, { address: ip('10.0.0.3'), port: 50000 }), entries[1]);
    assert.equal(t.connection(local, { address: ip('10.0.0.3'), port: 50001 }), undefined);
    assert.equal(t.connection({ address: ip('10.0.0.9'), port: 80 }, { address: ip('10.0.0.3'), port: 50000 }), undefined);
    assert.throws(() => t.addConnection(entry(local, { address: ip('10.0.0.2'), port: 50000 })));
    assert.ok(!t.portUnused(80));
    for (const e of entries) t.removeConnection(e);
    assert.ok(t.portUnused(80));
  });

  test('5,000 peers on one pair of ports (a spoofed SYN flood): each found, buckets stay small, removal keeps the rest', () => {
    const t = new SocketTable(0x1234_5678);
    const local = { address: ip('10.0.0.1'), port: 80 };
    const remote = (i: number): Endpoint => ({ address: ip(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`), port: 4444 });
    const entries = Array.from({ length: 5000 }, (_, i) => entry(local, remote(i + 1)));
    for (const e of entries) t.addConnection(e);
    assert.ok(t.largestBucket <= 8, `largest bucket ${t.largestBucket}`);
    for (let i = 0; i < entries.length; i += 2) t.removeConnection(entries[i]!);
    for (let i = 0; i < entries.length; i++) {
      assert.equal(t.connection(local, remote(i + 1)), i % 2 === 0 ? undefined : entries[i], `peer ${i + 1}`);
    }
  });

  test('an IPv4 and an IPv6 connection with the same ports are told apart', () => {
    const t = new SocketTable();
    const v4 = entry({ address: ip('10.0.0.1'), port: 80 }, { address: ip('10.0.0.2'), port: 5000 });
    const v6 = entry({ address: ip('fd00::1'), port: 80 }, { address: ip('fd00::2'), port: 5000 });
    t.addConnection(v4);
    t.addConnection(v6);
    assert.equal(t.connection({ address: ip('fd00::1'), port: 80 }, { address: ip('fd00::2'), port: 5000 }), v6);
    t.removeConnection(v4);
    assert.equal(t.connection({ address: ip('10.0.0.1'), port: 80 }, { address: ip('10.0.0.2'), port: 5000 }), undefined);
    assert.equal(t.connection({ address: ip('fd00::1'), port: 80 }, { address: ip('fd00::2'), port: 5000 }), v6);
  });

  test('removing a stale entry leaves the current one with that socket pair', () => {
    const t = new SocketTable();
    const local = { address: ip('10.0.0.1'), port: 80 };
    const remote = { address: ip('10.0.0.2'), port: 50000 };
    const old = entry(local, remote);
    t.addConnection(old);
    t.removeConnection(old);
    const fresh = entry(local, remote);
    t.addConnection(fresh);
    t.removeConnection(old);
    assert.equal(t.connection(local, remote), fresh);
  });

  test('listeners: a specific address first, then the wildcard of the family; dual-stack covers both', () => {
    const t = new SocketTable();
    const specific = listener('10.0.0.1', 80);
    const v4 = listener('0.0.0.0', 80, true);
    const specific2 = listener('10.0.0.1', 80, true);
    t.addListener(v4);
    assert.equal(t.findListener(ip('10.0.0.1'), 80), v4);
    assert.ok(t.listenConflict(ip('10.0.0.1'), 80, false), 'a wildcard and a specific address conflict without reuse');
    assert.ok(!t.listenConflict(ip('10.0.0.1'), 80, true), '...but not when both ask for reuse');
    t.addListener(specific2);
    assert.equal(t.findListener(ip('10.0.0.1'), 80), specific2);
    assert.equal(t.findListener(ip('10.0.0.2'), 80), v4);
    assert.equal(t.findListener(ip('fd00::1'), 80), undefined);
    assert.equal(t.findListener(ip('10.0.0.1'), 81), undefined);
    assert.ok(t.listenConflict(ip('10.0.0.1'), 80, true), 'never two listeners on an identical binding');
    void specific;

    const dual = listener(undefined, 443);
    t.addListener(dual);
    assert.equal(t.findListener(ip('10.0.0.1'), 443), dual);
    assert.equal(t.findListener(ip('fd00::1'), 443), dual);
    assert.ok(t.listenConflict(ip('0.0.0.0'), 443, true), 'dual-stack is identical to 0.0.0.0');
    assert.ok(t.listenConflict(ip('::'), 443, true), 'dual-stack is identical to ::');
    assert.ok(t.listenConflict(ip('fd00::1'), 443, false));
    assert.deepEqual(new Set(t.listeners()), new Set([v4, specific2, dual]));

    t.removeListener(dual);
    assert.equal(t.findListener(ip('fd00::1'), 443), undefined);
    assert.ok(!t.portHasListener(443));
    assert.ok(t.portHeldByListener(ip('10.0.0.7'), 80));
    assert.ok(!t.portHeldByListener(ip('fd00::7'), 80));
  });

  test('an IPv4 and an IPv6 wildcard listener coexist on one port', () => {
    const t = new SocketTable();
    t.addListener(listener('0.0.0.0', 80));
    assert.ok(!t.listenConflict(ip('::'), 80, false));
    assert.ok(t.listenConflict(undefined, 80, true));
  });
});

describe('TcpListener', () => {
  test('RFC 9293 3.10.7.2 order: RST, then ACK, then SYN, else drop', () => {
    assert.equal(listenAction({ flags: TcpFlags.RST }), 'ignore');
    assert.equal(listenAction({ flags: TcpFlags.RST | TcpFlags.ACK }), 'ignore');
    assert.equal(listenAction({ flags: TcpFlags.RST | TcpFlags.SYN }), 'ignore');
    assert.equal(listenAction({ flags: TcpFlags.ACK }), 'reset');
    assert.equal(listenAction({ flags: TcpFlags.SYN | TcpFlags.ACK }), 'reset');
    assert.equal(listenAction({ flags: TcpFlags.SYN }), 'open');
    assert.equal(listenAction({ flags: TcpFlags.SYN | TcpFlags.FIN }), 'open');
    assert.equal(listenAction({ flags: TcpFlags.FIN }), 'drop');
    assert.equal(listenAction({ flags: 0 }), 'drop');
  });

  test('the backlog bounds SYN-RECEIVED plus not-yet-accepted; accept takes the oldest', () => {
    const accepted: TcpConnection[] = [];
    const l = new TcpListener({ closeListener: () => undefined, connectionAccepted: (_l, c) => accepted.push(c) },
      { address: new Uint8Array(4), port: 80 }, { backlog: 2, dualStack: false, reuseAddress: false });
    const [a, b, c] = ['a', 'b', 'c'].map((name) => ({ name }) as unknown as TcpConnection);
    assert.ok(l.hasRoom());
    l.adopt(a!);
    l.adopt(b!);
    assert.ok(!l.hasRoom());
    assert.equal(l.accept(), undefined, 'nothing established yet');
    l.promote(b!);
    l.promote(a!);
    assert.equal(l.pending, 2);
    assert.equal(l.synReceived, 0);
    assert.equal(l.accept(), b);
    assert.ok(l.hasRoom());
    l.adopt(c!);
    l.forget(c!);
    assert.deepEqual(l.info(), { kind: 'listener', state: 'LISTEN', local: l.local, dualStack: false, backlog: 2, pending: 1, synReceived: 0 });
    assert.deepEqual(accepted, [b]);
    assert.deepEqual(l.takeAll(), [a]);
  });

  test('a backlog of 0 still takes one connection (as Linux does)', () => {
    const l = new TcpListener(owner, { address: new Uint8Array(4), port: 80 }, { backlog: 0, dualStack: false, reuseAddress: false });
    assert.equal(l.backlog, 1);
  });
});
