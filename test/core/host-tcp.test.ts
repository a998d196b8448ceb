/**
 * The host with real TCP connections: a SYN at a listener read back as a SYN-ACK, then hosts
 * wired back to back by the tiny driver of ./support.ts (packets move at once; time jumps to
 * the earliest timer): handshake, transfer and close; refused connections; two clients and
 * then 1,000 connections on one server port; port exhaustion toward one destination; the
 * backlog; loopback without a driver; and replay from the seed.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { formatIp } from '../../src/wire/address.js';
import { TcpFlags, tcpOptionsSummary } from '../../src/wire/tcp.js';
import type { Host, HostEvent, TcpConnectionSocketInfo } from '../../src/core/host.js';
import type { TcpConnection } from '../../src/core/tcp/connection.js';
import type { TcpListener } from '../../src/core/tcp/listener.js';
import { seconds } from '../../src/time/instant.js';
import { BackToBack, drain, events, ip, makeHost, readPacket, tcpPacket } from './support.js';

const A = '10.0.0.1';
const B = '10.0.0.2';

function pair(extraA = {}, extraB = {}): { a: Host; b: Host; net: BackToBack } {
  const a = makeHost('a', [`${A}/24`, 'fd00::1/64'], extraA);
  const b = makeHost('b', [`${B}/24`, 'fd00::2/64'], extraB);
  return { a, b, net: new BackToBack(a, b) };
}

function connect(host: Host, now: number, remote: string, port: number): TcpConnection {
  const r = host.tcpConnect(now, { remote: { address: ip(remote), port } });
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.connection;
}

function listen(host: Host, port: number, backlog?: number): TcpListener {
  const r = host.tcpListen({ port, ...(backlog !== undefined ? { backlog } : {}) });
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.listener;
}

/** A connection from a to b's port 8080, accepted, with every host event so far taken. */
function established(): { a: Host; b: Host; net: BackToBack; client: TcpConnection; server: TcpConnection } {
  const { a, b, net } = pair();
  const listener = listen(b, 8080);
  const client = connect(a, net.now, B, 8080);
  let server: TcpConnection | undefined;
  net.settle(() => { server ??= listener.accept(); });
  assert.ok(server);
  events(a);
  events(b);
  return { a, b, net, client, server };
}

/** Events of one connection, by type, from a list of host events. */
function eventTypes(list: HostEvent[], connection: TcpConnection): string[] {
  return list.flatMap((e) => (e.type === 'connection' && e.connection === connection ? [e.event.type] : []));
}

function connectionRows(host: Host): TcpConnectionSocketInfo[] {
  return host.sockets().filter((s): s is TcpConnectionSocketInfo => s.kind === 'connection');
}

function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}

describe('Host: a SYN at a listener', () => {
  test('SYN -> SYN-ACK with ACK = SEG.SEQ+1 and MSS = MTU - 40; the connection waits unaccepted in SYN-RECEIVED', () => {
    const h = makeHost('h', [`${A}/24`, 'fd00::1/64']);
    const listener = listen(h, 8080);
    h.handle(0, tcpPacket(B, A, { srcPort: 40000, dstPort: 8080, seqNumber: 1000, flags: TcpFlags.SYN, window: 65535 }), 'eth0');
    const out = drain(h, 0);
    assert.equal(out.length, 1);
    const p = readPacket(out[0]!.packet);
    assert.equal(formatIp(p.src), A);
    const synAck = p.tcp!;
    assert.equal(synAck.flags & (TcpFlags.SYN | TcpFlags.ACK | TcpFlags.RST), TcpFlags.SYN | TcpFlags.ACK);
    assert.deepEqual([synAck.srcPort, synAck.dstPort, synAck.ackNumber], [8080, 40000, 1001]);
    assert.equal(tcpOptionsSummary(synAck.options).mss, 1460);
    assert.equal(listener.synReceived, 1);
    assert.equal(listener.accept(), undefined);
    const rows = connectionRows(h);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.state, 'SYN-RECEIVED');
    assert.equal(rows[0]!.unaccepted, true);
    assert.equal(h.stats.tcp.passiveOpens, 1);
    assert.deepEqual(events(h), [], 'an unaccepted connection raises nothing');
  });

  test('IPv6: MSS = MTU - 60; a specific listener wins over the wildcard', () => {
    const h = makeHost('h', [`${A}/24`, 'fd00::1/64']);
    const wildcard = listen(h, 8080);
    const specific = h.tcpListen({ address: ip('fd00::1'), port: 8080, reuseAddress: true });
    assert.ok(!specific.ok, 'the dual-stack wildcard conflicts without reuseAddress on both');
    const h2 = makeHost('h2', [`${A}/24`, 'fd00::1/64']);
    const w = h2.tcpListen({ port: 8080, reuseAddress: true });
    const s = h2.tcpListen({ address: ip('fd00::1'), port: 8080, reuseAddress: true });
    assert.ok(w.ok && s.ok);
    h2.handle(0, tcpPacket('fd00::2', 'fd00::1', { srcPort: 40000, dstPort: 8080, seqNumber: 5, flags: TcpFlags.SYN }), 'eth0');
    const synAck = readPacket(drain(h2, 0)[0]!.packet).tcp!;
    assert.equal(tcpOptionsSummary(synAck.options).mss, 1440);
    assert.equal(s.listener.synReceived, 1);
    assert.equal(w.listener.synReceived, 0);
    void wildcard;
  });

  test('a full backlog drops the SYN (listen-overflow) without an answer', () => {
    const h = makeHost('h', [`${A}/24`]);
    listen(h, 8080, 2);
    for (let port = 40000; port < 40003; port++) {
      h.handle(0, tcpPacket(B, A, { srcPort: port, dstPort: 8080, seqNumber: 1, flags: TcpFlags.SYN }), 'eth0');
    }
    assert.equal(drain(h, 0).length, 2);
    assert.equal(h.stats.drops['listen-overflow'], 1);
  });

  test('a retransmitted SYN goes to the connection it created, not to the listener', () => {
    const h = makeHost('h', [`${A}/24`]);
    const listener = listen(h, 8080);
    const syn = tcpPacket(B, A, { srcPort: 40000, dstPort: 8080, seqNumber: 1, flags: TcpFlags.SYN });
    h.handle(0, syn, 'eth0');
    h.handle(1000, syn, 'eth0');
    drain(h, 1000);
    assert.equal(listener.synReceived, 1);
    assert.equal(h.stats.tcp.passiveOpens, 1);
  });
});

describe('Host: back to back', () => {
  test('what sockets() and info() give is a copy: writing into it harms no connection of that peer', () => {
    const { a, b, net } = pair();
    const listener = listen(b, 8080);
    const first = connect(a, net.now, B, 8080);
    net.settle(() => { listener.accept(); });
    assert.equal(first.state, 'ESTABLISHED');
    // An observer scribbles over the addresses it was shown.
    for (const row of connectionRows(b)) row.remote.address.fill(9);
    first.info().local.address.fill(9);
    const second = connect(a, net.now, B, 8080);
    net.settle(() => { listener.accept(); });
    assert.equal(second.state, 'ESTABLISHED', 'a new connection from the same peer still opens');
    assert.deepEqual(connectionRows(b).map((r) => formatIp(r.remote.address)), [A, A]);
    assert.equal(Object.values(b.stats.drops).reduce((x, y) => x + y, 0), 0, 'nothing dropped (no bad checksum)');
  });

  test("'readable' waits in the host's queue once, whatever number of segments arrive before the application takes it; then the next data queues it again", () => {
    const { b, net, client, server } = established();
    const before = b.stats.tcp.segmentsIn;
    assert.equal(client.send(net.now, bytes(20_000, 3)), 20_000);
    net.settle();
    assert.ok(b.stats.tcp.segmentsIn - before >= 10, 'the data came in many segments');
    assert.deepEqual(eventTypes(events(b), server), ['readable']);
    // Taken from the queue: the next data queues it again, even though nothing was read.
    client.send(net.now, bytes(3_000, 4));
    client.close(net.now);
    net.settle();
    assert.deepEqual(eventTypes(events(b), server), ['readable', 'peer-closed']);
    let got = 0;
    for (let c = server.recv(net.now); c !== undefined; c = server.recv(net.now)) got += c.length;
    assert.equal(got, 23_000);
  });

  test("'writable' too waits in the host's queue once, however often ACKs free the send buffer", () => {
    const { a, net, client, server } = established();
    let queued = 0;
    for (let n = client.send(net.now, bytes(65_536, 5)); n > 0; n = client.send(net.now, bytes(65_536, 5))) queued += n;
    assert.ok(queued > 0);
    const before = a.stats.tcp.segmentsIn;
    // The server reads as the data comes, so ACK after ACK frees the client's buffer, and the
    // client fills it again each time (up to 1 MB), so the TCB reports 'writable' again and
    // again; the application takes no host event meanwhile.
    let blocked = 0;
    let more = 0;
    net.settle(() => {
      for (let c = server.recv(net.now); c !== undefined; c = server.recv(net.now));
      while (more < 1_000_000) {
        const n = client.send(net.now, bytes(16_384, 6));
        more += n;
        if (n < 16_384) { blocked++; break; }
      }
    });
    assert.ok(a.stats.tcp.segmentsIn - before >= 2, 'several ACKs came back');
    assert.ok(blocked >= 2, `the client blocked again after space freed (${blocked} times)`);
    assert.deepEqual(eventTypes(events(a), client), ['writable']);
  });

  test('handshake, a transfer each way, an orderly close; the tables empty after TIME-WAIT', () => {
    const { a, b, net } = pair();
    const listener = listen(b, 8080);
    const client = connect(a, net.now, B, 8080);
    let server: TcpConnection | undefined;
    const toServer = bytes(300_000, 1);
    const toClient = bytes(120_000, 2);
    const gotByServer: Uint8Array[] = [];
    const gotByClient: Uint8Array[] = [];
    let sentToServer = 0;
    let sentToClient = 0;
    const aEvents: HostEvent[] = [];
    const bEvents: HostEvent[] = [];
    let clientClosed = false;
    let serverClosed = false;
    const app = () => {
      aEvents.push(...events(a));
      bEvents.push(...events(b));
      server ??= listener.accept();
      if (sentToServer < toServer.length) sentToServer += client.send(net.now, toServer.subarray(sentToServer));
      else if (!clientClosed) { client.close(net.now); clientClosed = true; }
      for (let c = client.recv(net.now); c !== undefined; c = client.recv(net.now)) gotByClient.push(c);
      if (server === undefined) return;
      for (let c = server.recv(net.now); c !== undefined; c = server.recv(net.now)) gotByServer.push(c);
      if (sentToClient < toClient.length) sentToClient += server.send(net.now, toClient.subarray(sentToClient));
      else if (!serverClosed && server.state === 'CLOSE-WAIT') { server.close(net.now); serverClosed = true; }
    };
    net.run(() => connectionRows(a).length === 0 && connectionRows(b).length === 0, app);
    assert.deepEqual(concat(gotByServer), toServer);
    assert.deepEqual(concat(gotByClient), toClient);
    assert.ok(server);
    assert.deepEqual(eventTypes(aEvents, client).filter((t) => t !== 'readable' && t !== 'writable'), ['connected', 'peer-closed', 'closed']);
    assert.deepEqual(eventTypes(bEvents, server).filter((t) => t !== 'readable' && t !== 'writable'), ['peer-closed', 'closed']);
    assert.ok(bEvents.some((e) => e.type === 'incoming' && e.listener === listener));
    assert.ok(net.now >= seconds(60), 'the client waited 2 MSL in TIME-WAIT');
    const sa = a.stats;
    const sb = b.stats;
    assert.equal(sa.tcp.activeOpens, 1);
    assert.equal(sb.tcp.passiveOpens, 1);
    assert.equal(sa.tcp.failedOpens + sb.tcp.failedOpens, 0);
    assert.equal(sa.tcp.established + sb.tcp.established, 0);
    assert.equal(sa.tcp.resetsSent + sb.tcp.resetsSent, 0);
    assert.equal(sa.tcp.segmentsOut, sb.tcp.segmentsIn);
    assert.equal(sb.tcp.segmentsOut, sa.tcp.segmentsIn);
    assert.equal(sa.ip.sent, sb.ip.received);
    assert.equal(Object.values(sa.drops).reduce((x, y) => x + y, 0) + Object.values(sb.drops).reduce((x, y) => x + y, 0), 0);
    assert.equal(a.pollTimeout(), undefined, 'no timer left behind');
    assert.equal(b.pollTimeout(), undefined);
  });

  test('segmentation offload: what leaves the host is segments of at most the MSS, in order, each counted; PSH only where the queue empties', () => {
    const { a, b, net } = pair();
    const listener = listen(b, 8080);
    const client = connect(a, net.now, B, 8080);
    const data = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
    const segments: Array<{ seq: number; length: number; psh: boolean }> = [];
    net.filter = (packet, from) => {
      const seg = readPacket(packet).tcp; // every checksum verified
      if (from === a && seg !== undefined && seg.payload.length > 0) {
        segments.push({ seq: seg.seqNumber, length: seg.payload.length, psh: (seg.flags & TcpFlags.PSH) !== 0 });
      }
      return true;
    };
    let server: TcpConnection | undefined;
    let sent = 0;
    const got: Uint8Array[] = [];
    net.run(() => concat(got).length === data.length, () => {
      server ??= listener.accept();
      if (client.state === 'ESTABLISHED' && sent < data.length) sent += client.send(net.now, data.subarray(sent));
      for (let c = server?.recv(net.now); c !== undefined; c = server!.recv(net.now)) got.push(c);
    });
    assert.deepEqual(concat(got), data);
    const mss = client.info().mss;
    assert.ok(segments.every((s) => s.length <= mss), 'no segment longer than the MSS');
    for (let i = 1; i < segments.length; i++) assert.equal(segments[i]!.seq, (segments[i - 1]!.seq + segments[i - 1]!.length) >>> 0, `segment ${i} follows the one before`);
    assert.equal(segments.reduce((n, s) => n + s.length, 0), data.length, 'no byte sent twice (no loss here)');
    // The application wrote as fast as the buffer took it: PSH marks only the segments that
    // emptied the send queue, never a piece in the middle of a record.
    assert.ok(segments.filter((s) => s.psh).length < segments.length / 10, `${segments.filter((s) => s.psh).length} PSH of ${segments.length}`);
    assert.equal(a.stats.tcp.segmentsOut, b.stats.tcp.segmentsIn);
    assert.equal(client.info().segmentsSent, a.stats.tcp.segmentsOut, 'the connection counts each piece');
    // Three full segments written at once, with the window open: one record that empties the
    // queue, cut into three segments of which only the last has PSH.
    segments.length = 0;
    const more = new Uint8Array(3 * mss).fill(0x5a);
    assert.equal(client.send(net.now, more), more.length);
    net.run(() => concat(got).length === data.length + more.length, () => {
      for (let c = server?.recv(net.now); c !== undefined; c = server!.recv(net.now)) got.push(c);
    });
    assert.deepEqual(segments.map((x) => [x.length, x.psh]), [[mss, false], [mss, false], [mss, true]]);
  });

  test('stats while established: established counts both ends, retransmissions after loss', () => {
    const { a, b, net } = pair();
    const listener = listen(b, 8080);
    const client = connect(a, net.now, B, 8080);
    net.run(() => client.state === 'ESTABLISHED' && listener.pending === 1);
    assert.equal(a.stats.tcp.established, 1);
    assert.equal(b.stats.tcp.established, 1, 'an unaccepted connection is established too');
    const server = listener.accept()!;
    assert.equal(server.state, 'ESTABLISHED');
    // Lose the first data segment: the client retransmits it.
    let dropped = false;
    net.filter = (packet, from) => {
      if (from !== a || dropped || readPacket(packet).tcp!.payload.length === 0) return true;
      dropped = true;
      return false;
    };
    assert.equal(client.send(net.now, bytes(1000, 3)), 1000);
    let got = 0;
    net.run(() => got === 1000, () => { for (let c = server.recv(net.now); c; c = server.recv(net.now)) got += c.length; });
    assert.ok(a.stats.tcp.retransmissions >= 1);
    assert.deepEqual(a.sockets().map((s) => s.state), ['ESTABLISHED']);
  });

  test('application calls are seen by the host: output and timers follow without a scan', () => {
    const { a, b, net } = pair();
    const listener = listen(b, 8080);
    const clients = [connect(a, net.now, B, 8080), connect(a, net.now, B, 8080), connect(a, net.now, B, 8080)];
    net.run(() => listener.pending === 3 && clients.every((c) => c.state === 'ESTABLISHED'));
    assert.equal(a.pollTransmit(net.now), undefined);
    // A write makes a segment ready at once.
    assert.equal(clients[1]!.send(net.now, Uint8Array.of(1, 2, 3)), 3);
    const out = a.pollTransmit(net.now);
    assert.ok(out);
    const seg = readPacket(out.packet).tcp!;
    assert.equal(seg.srcPort, clients[1]!.local.port);
    assert.deepEqual(seg.payload, Uint8Array.of(1, 2, 3));
    // The host's deadline is always the earliest of its connections'.
    const earliestOf = (cs: TcpConnection[]) => Math.min(...cs.map((c) => c.pollTimeout() ?? Infinity));
    assert.equal(a.pollTimeout(), earliestOf(clients));
    clients[2]!.setKeepAlive(true, seconds(5));
    assert.equal(a.pollTransmit(net.now), undefined);
    assert.equal(a.pollTimeout(), earliestOf(clients));
    assert.ok(clients[2]!.pollTimeout() !== undefined);
    clients[0]!.close(net.now);
    const fin = readPacket(a.pollTransmit(net.now)!.packet).tcp!;
    assert.ok(fin.flags & TcpFlags.FIN);
    assert.equal(fin.srcPort, clients[0]!.local.port);
  });

  test('stats are snapshots: a copy taken earlier does not move', () => {
    const { a, b, net } = pair();
    const before = b.stats;
    connect(a, net.now, B, 9);
    net.settle();
    assert.equal(before.ip.received, 0);
    assert.equal(before.drops['no-socket'], 0);
    assert.equal(b.stats.drops['no-socket'], 1);
  });

  test('a connection to a closed port is refused: RST, error refused, then closed', () => {
    const { a, b, net } = pair();
    const client = connect(a, net.now, B, 9);
    const seen: HostEvent[] = [];
    net.run(() => client.state === 'CLOSED', () => seen.push(...events(a)));
    net.settle(() => seen.push(...events(a)));
    assert.deepEqual(seen.map((e) => (e.type === 'connection' ? e.event : e.type)), [{ type: 'error', error: 'refused' }, { type: 'closed' }]);
    assert.equal(b.stats.drops['no-socket'], 1);
    assert.equal(b.stats.tcp.resetsSent, 1);
    assert.equal(a.stats.tcp.failedOpens, 1);
    assert.deepEqual(a.sockets(), []);
    assert.equal(a.pollTimeout(), undefined);
  });

  test('two clients on one host connect to the same server port', () => {
    const { a, b, net } = pair();
    const listener = listen(b, 8080);
    const c1 = connect(a, net.now, B, 8080);
    const c2 = connect(a, net.now, B, 8080);
    const accepted: TcpConnection[] = [];
    net.run(() => accepted.length === 2 && c1.state === 'ESTABLISHED' && c2.state === 'ESTABLISHED', () => {
      for (let c = listener.accept(); c; c = listener.accept()) accepted.push(c);
    });
    assert.notEqual(c1.local.port, c2.local.port);
    const rows = connectionRows(b);
    assert.equal(rows.length, 2);
    assert.ok(rows.every((r) => r.local.port === 8080 && formatIp(r.local.address) === B && r.state === 'ESTABLISHED'));
    assert.deepEqual(new Set(rows.map((r) => r.remote.port)), new Set([c1.local.port, c2.local.port]));
    // Each server connection talks to its own client.
    c1.send(net.now, Uint8Array.of(1));
    c2.send(net.now, Uint8Array.of(2, 2));
    net.settle();
    const byPort = new Map(accepted.map((s) => [s.remote.port, s.recv(net.now)]));
    assert.deepEqual(byPort.get(c1.local.port), Uint8Array.of(1));
    assert.deepEqual(byPort.get(c2.local.port), Uint8Array.of(2, 2));
  });

  test('1,000 concurrent connections to one listener: 1,000 distinct socket pairs on one local port', () => {
    const { a, b, net } = pair();
    // All 1,000 SYNs arrive before the application runs: a backlog of 1,000 takes them at once
    // (with Node's 511 the rest would get in on their SYN retransmission, a second later).
    const listener = listen(b, 8080, 1000);
    const clients = Array.from({ length: 1000 }, () => connect(a, net.now, B, 8080));
    const accepted: TcpConnection[] = [];
    net.run(() => accepted.length === 1000 && clients.every((c) => c.state === 'ESTABLISHED'), () => {
      events(a);
      events(b);
      for (let c = listener.accept(); c; c = listener.accept()) accepted.push(c);
    });
    const rows = connectionRows(b);
    assert.equal(rows.length, 1000);
    assert.ok(rows.every((r) => r.local.port === 8080 && r.state === 'ESTABLISHED'));
    const pairs = new Set(rows.map((r) => `${formatIp(r.local.address)}:${r.local.port} ${formatIp(r.remote.address)}:${r.remote.port}`));
    assert.equal(pairs.size, 1000);
    assert.equal(new Set(clients.map((c) => c.local.port)).size, 1000);
    assert.equal(b.stats.tcp.established, 1000);
    assert.equal(b.stats.drops['listen-overflow'], 0);
    // Every connection carries its own bytes, then all close.
    clients.forEach((c, i) => assert.equal(c.send(net.now, Uint8Array.of(i & 0xff, i >> 8)), 2));
    net.settle(() => { events(a); events(b); });
    const received = new Map(accepted.map((s) => [s.remote.port, s.recv(net.now)]));
    clients.forEach((c, i) => assert.deepEqual(received.get(c.local.port), Uint8Array.of(i & 0xff, i >> 8)));
    for (const c of clients) c.close(net.now);
    for (const s of accepted) s.close(net.now);
    net.run(() => a.sockets().length === 0 && connectionRows(b).length === 0, () => { events(a); events(b); });
    assert.equal(a.pollTimeout(), undefined);
  });

  test('the ephemeral range exhausted toward one destination (EADDRNOTAVAIL), not toward another', () => {
    const { a, b, net } = pair({ ephemeralPorts: { low: 50000, high: 50003 } });
    listen(b, 8080);
    listen(b, 8081);
    const first = Array.from({ length: 4 }, () => connect(a, net.now, B, 8080));
    assert.deepEqual(new Set(first.map((c) => c.local.port)), new Set([50000, 50001, 50002, 50003]));
    assert.deepEqual(a.tcpConnect(net.now, { remote: { address: ip(B), port: 8080 } }), { ok: false, error: 'address-not-available' });
    const other = Array.from({ length: 4 }, () => connect(a, net.now, B, 8081));
    assert.deepEqual(new Set(other.map((c) => c.local.port)), new Set([50000, 50001, 50002, 50003]), 'the same ports toward another remote port');
    net.run(() => [...first, ...other].every((c) => c.state === 'ESTABLISHED'), () => { events(a); events(b); });
    assert.equal(connectionRows(a).length, 8);
    // Aborting one frees exactly its socket pair.
    first[2]!.abort(net.now);
    net.settle(() => { events(a); events(b); });
    assert.equal(connect(a, net.now, B, 8080).local.port, first[2]!.local.port);
  });

  test('tcpConnect errors: no-route, address-not-available, access-denied, address-in-use', () => {
    const { a, b, net } = pair();
    listen(b, 8080);
    const held = listen(a, 7000);
    void held;
    assert.deepEqual(a.tcpConnect(0, { remote: { address: ip('192.0.2.1'), port: 80 } }), { ok: false, error: 'no-route' });
    assert.deepEqual(a.tcpConnect(0, { remote: { address: ip('224.0.0.1'), port: 80 } }), { ok: false, error: 'no-route' });
    assert.deepEqual(a.tcpConnect(0, { remote: { address: ip(B), port: 8080 }, local: { address: ip('10.0.0.77') } }), { ok: false, error: 'address-not-available' });
    assert.deepEqual(a.tcpConnect(0, { remote: { address: ip(B), port: 8080 }, local: { address: ip('fd00::1') } }), { ok: false, error: 'address-not-available' });
    assert.deepEqual(a.tcpConnect(0, { remote: { address: ip(B), port: 8080 }, local: { port: 1000 } }), { ok: false, error: 'access-denied' });
    assert.deepEqual(a.tcpConnect(0, { remote: { address: ip(B), port: 8080 }, local: { port: 7000 } }), { ok: false, error: 'address-in-use' });
    const c = a.tcpConnect(0, { remote: { address: ip(B), port: 8080 }, local: { address: ip(A), port: 6000 } });
    assert.ok(c.ok && c.connection.local.port === 6000);
    assert.deepEqual(a.tcpConnect(0, { remote: { address: ip(B), port: 8080 }, local: { port: 6000 } }), { ok: false, error: 'address-in-use' });
    assert.ok(a.tcpConnect(0, { remote: { address: ip(B), port: 8081 }, local: { port: 6000 } }).ok, 'the same local port toward another remote end');
    assert.ok(makeHost('p', [`${A}/24`], { privileged: true }).tcpConnect(0, { remote: { address: ip(B), port: 80 }, local: { port: 1000 } }).ok);
    assert.throws(() => a.tcpConnect(0, { remote: { address: ip(B), port: 0 } }), RangeError);
    void net;
  });

  test('closing a listener resets the connections it still holds; accepted ones live on', () => {
    const { a, b, net } = pair();
    const listener = listen(b, 8080);
    const c1 = connect(a, net.now, B, 8080);
    net.run(() => listener.pending === 1);
    const kept = listener.accept()!;
    const c2 = connect(a, net.now, B, 8080);
    const seen: HostEvent[] = [];
    net.run(() => listener.pending === 1, () => seen.push(...events(a)));
    listener.close(net.now);
    assert.equal(b.tcpListen({ port: 8080 }).ok, true, 'the port is free again at once');
    net.settle(() => seen.push(...events(a)));
    assert.deepEqual(eventTypes(seen, c2).slice(-2), ['error', 'closed']);
    assert.ok(seen.some((e) => e.type === 'connection' && e.connection === c2 && e.event.type === 'error' && e.event.error === 'reset'));
    assert.equal(c1.state, 'ESTABLISHED');
    assert.equal(kept.state, 'ESTABLISHED');
    assert.equal(connectionRows(b).length, 1);
  });

  test('a SYN over the backlog is dropped; the client\'s retransmission gets in once there is room', () => {
    const { a, b, net } = pair();
    const listener = listen(b, 8080, 1);
    const c1 = connect(a, net.now, B, 8080);
    const c2 = connect(a, net.now, B, 8080);
    net.run(() => c1.state === 'ESTABLISHED');
    assert.equal(b.stats.drops['listen-overflow'], 1);
    assert.equal(c2.state, 'SYN-SENT');
    const accepted: TcpConnection[] = [];
    net.run(() => c2.state === 'ESTABLISHED' && accepted.length === 2, () => {
      for (let c = listener.accept(); c; c = listener.accept()) accepted.push(c);
    });
    assert.ok(net.now >= seconds(1), 'after the SYN retransmission timeout');
  });

  test('the same seeds replay the same packets, byte for byte', () => {
    const trace = (): string[] => {
      const { a, b, net } = pair();
      const listener = listen(b, 8080);
      const client = connect(a, net.now, B, 8080);
      const seen: string[] = [];
      net.filter = (packet) => { seen.push(Buffer.from(packet).toString('hex')); return true; };
      net.run(() => listener.pending === 1);
      client.send(net.now, bytes(5000, 9));
      net.settle();
      return seen;
    };
    const first = trace();
    assert.ok(first.length >= 5);
    assert.deepEqual(trace(), first);
    // And another seed changes the ISNs and the port.
    const { a } = pair({ seed: 99 });
    const other = a.tcpConnect(0, { remote: { address: ip(B), port: 8080 } });
    assert.ok(other.ok);
    const syn = readPacket(drain(a, 0)[0]!.packet).tcp!;
    assert.ok(!first.some((hex) => hex.includes(syn.seqNumber.toString(16).padStart(8, '0'))));
  });
});

describe('Host: loopback without a driver', () => {
  for (const [name, address] of [['127.0.0.1', '127.0.0.1'], ['its own interface address', A], ['::1', '::1']] as const) {
    test(`a host connects to itself over ${name}`, () => {
      const h = makeHost('solo', [`${A}/24`]);
      const listener = listen(h, 8080);
      let now = 0;
      const client = connect(h, now, address, 8080);
      let server: TcpConnection | undefined;
      const data = bytes(100_000, 4);
      let sent = 0;
      const got: Uint8Array[] = [];
      for (let step = 0; step < 10_000; step++) {
        assert.equal(h.pollTransmit(now), undefined, 'nothing leaves the host');
        events(h);
        server ??= listener.accept();
        if (sent < data.length) sent += client.send(now, data.subarray(sent));
        if (server) for (let c = server.recv(now); c; c = server.recv(now)) got.push(c);
        if (got.reduce((n, c) => n + c.length, 0) === data.length) break;
        const t = h.pollTimeout();
        if (t !== undefined && t > now) now = t;
        if (t !== undefined) h.handleTimeout(now);
      }
      assert.deepEqual(concat(got), data);
      const s = h.stats;
      assert.equal(s.ip.sent, s.ip.received, 'every looped packet came back in');
      assert.equal(server!.remote.port, client.local.port);
      assert.equal(formatIp(server!.local.address), address);
    });
  }
});

describe('Host: TIME-WAIT after the connection retires', () => {
  /** The server closes first; returns once the client's end is CLOSED (the server's is in TIME-WAIT), with the client's FIN as sent. */
  function serverClosesFirst(): { a: Host; b: Host; net: BackToBack; client: TcpConnection; server: TcpConnection; bEvents: HostEvent[]; clientFin: Uint8Array } {
    const { a, b, net } = pair();
    const listener = listen(b, 8080);
    const client = connect(a, net.now, B, 8080);
    let server: TcpConnection | undefined;
    let clientFin: Uint8Array | undefined;
    net.filter = (packet, from) => {
      if (from === a && (readPacket(packet).tcp!.flags & TcpFlags.FIN) !== 0) clientFin = packet.slice();
      return true;
    };
    const bEvents: HostEvent[] = [];
    net.run(() => client.state === 'CLOSED', () => {
      bEvents.push(...events(b));
      events(a);
      if (server === undefined && (server = listener.accept()) !== undefined) {
        server.send(net.now, bytes(5000, 3));
        server.close(net.now);
      }
      for (let c = client.recv(net.now); c !== undefined; c = client.recv(net.now)) { /* read it all */ }
      if (client.state === 'CLOSE-WAIT') client.close(net.now);
    });
    net.filter = undefined;
    bEvents.push(...events(b));
    return { a, b, net, client, server: server!, bEvents, clientFin: clientFin! };
  }

  test('the application hears "closed" at once; the socket pair stays listed in TIME-WAIT for 2 MSL, then leaves no timer', () => {
    const { b, net, client, server, bEvents } = serverClosesFirst();
    assert.ok(net.now < seconds(1), 'the exchange took well under a second');
    assert.equal(server.state, 'CLOSED');
    assert.deepEqual(eventTypes(bEvents, server).filter((t) => t !== 'readable' && t !== 'writable'), ['peer-closed', 'closed']);
    const rows = connectionRows(b);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.state, 'TIME-WAIT');
    assert.deepEqual([rows[0]!.local.port, rows[0]!.remote.port, rows[0]!.iface], [8080, client.local.port, 'eth0']);
    assert.equal(b.stats.tcp.established, 0);
    const until = b.pollTimeout();
    assert.ok(until !== undefined && until >= seconds(60) && until < seconds(61), `the 2 MSL timer: ${until}`);
    net.run(() => connectionRows(b).length === 0);
    assert.equal(net.now, until, 'the row leaves when 2 MSL has run out');
    assert.equal(b.pollTimeout(), undefined);
  });

  test('a retransmitted FIN draws an ACK (not a reset) and restarts 2 MSL; an old SYN on the pair draws a challenge ACK, not a connection', () => {
    const { b, net, clientFin } = serverClosesFirst();
    const fin = readPacket(clientFin).tcp!;
    const before = b.stats;
    const at = seconds(30);
    b.handle(at, clientFin, 'eth0');
    const out = drain(b, at).map((t) => readPacket(t.packet).tcp!);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.flags, TcpFlags.ACK);
    assert.equal(out[0]!.ackNumber, (fin.seqNumber + 1) >>> 0);
    assert.equal(out[0]!.seqNumber, fin.ackNumber);
    const after = b.stats;
    assert.equal(after.tcp.segmentsOut, before.tcp.segmentsOut + 1);
    assert.equal(after.tcp.resetsSent, before.tcp.resetsSent);
    assert.equal(b.pollTimeout(), at + seconds(60));
    // Behind RCV.NXT, so not a new incarnation (RFC 6191): it may be an old duplicate.
    b.handle(at, tcpPacket(A, B, { srcPort: fin.srcPort, dstPort: 8080, seqNumber: (fin.seqNumber - 100_000) >>> 0, flags: TcpFlags.SYN, window: 65535 }), 'eth0');
    const answer = drain(b, at).map((t) => readPacket(t.packet).tcp!);
    assert.deepEqual(answer.map((s) => s.flags), [TcpFlags.ACK], 'a challenge ACK (RFC 5961 4)');
    assert.equal(connectionRows(b).length, 1);
    assert.equal(connectionRows(b)[0]!.state, 'TIME-WAIT');
    net.now = at;
    net.run(() => connectionRows(b).length === 0);
    assert.equal(net.now, at + seconds(60));
  });

  test('a new connection from the same port reopens the pair at once (RFC 6191), its ISS a window beyond the old SND.NXT', () => {
    const { a, b, net, client, clientFin } = serverClosesFirst();
    const fin = readPacket(clientFin).tcp!;
    const listener = b.sockets().find((s) => s.kind === 'listener');
    assert.ok(listener);
    net.now += 5000; // a few milliseconds: the client's timestamp clock has moved on
    let synAck: number | undefined;
    net.filter = (packet, from) => {
      const seg = readPacket(packet).tcp!;
      if (from === b && (seg.flags & TcpFlags.SYN) !== 0) synAck = seg.seqNumber;
      return true;
    };
    const again = a.tcpConnect(net.now, { remote: { address: ip(B), port: 8080 }, local: { port: client.local.port } });
    assert.ok(again.ok);
    const start = net.now;
    net.run(() => again.connection.state === 'ESTABLISHED');
    assert.equal(net.now, start, 'no retransmission, no wait');
    assert.equal(synAck, (fin.ackNumber + 65537) >>> 0);
    assert.ok(!connectionRows(b).some((row) => row.state === 'TIME-WAIT'), 'the TIME-WAIT row is gone');
    assert.equal(a.stats.tcp.resetsSent + b.stats.tcp.resetsSent, 0);
    assert.equal(a.stats.tcp.retransmissions, 0);
  });
});
