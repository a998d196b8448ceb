/**
 * The parts of `l4 scan` that need no network namespace: port lists and targets, the
 * top-ports table, nmap's verdict rules, the report's formats (table, XML, JSON), service
 * names from banners, and the connect scan and banner reader against servers on loopback
 * (127.0.0.1 only: the tests scan nothing else).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { once } from 'node:events';
import { formatPortRanges, parsePortSpec, topPorts, TOP_PORTS_MAX } from '../../src/tools/scan/ports.js';
import { TOP_TCP_PORTS, TOP_UDP_PORTS } from '../../src/tools/scan/top-ports-data.js';
import { expandRange, parseTarget, scanHosts, MAX_TARGETS } from '../../src/tools/scan/targets.js';
import {
  connectVerdict, icmpv4UnreachableVerdict, icmpv6UnreachableVerdict, silenceVerdict, tcpReplyVerdict,
} from '../../src/tools/scan/verdict.js';
import { identifyService, readBanner, webLikely } from '../../src/tools/scan/banners.js';
import { ScanEngine } from '../../src/tools/scan/engine.js';
import { runConnectScan } from '../../src/tools/scan/connect.js';
import { buildReport, type ScanReport } from '../../src/tools/scan/report.js';
import { formatTable, formatXml } from '../../src/tools/scan/format.js';
import { runScan } from '../../src/tools/scan/index.js';
import { formatIp, parseIpAddress } from '../../src/wire/address.js';
import { udpProbePayload } from '../../src/tools/scan/udp-payloads.js';

describe('port lists', () => {
  test('single ports, ranges, lists, open ranges, all', () => {
    const p = (t: string): readonly number[] => { const r = parsePortSpec(t); assert.ok(r.ok, t); return r.ports; };
    assert.deepEqual(p('22'), [22]);
    assert.deepEqual(p('80,22,80,21-23'), [21, 22, 23, 80]);
    assert.deepEqual(p('-3'), [1, 2, 3]);
    assert.equal(p('65530-').length, 6);
    assert.equal(p('-').length, 65535);
    assert.deepEqual(p('T:22, 25'), [22, 25]);
  });

  test('bad lists say what is wrong', () => {
    for (const [text, why] of [
      ['0-70000', /invalid: ports are 1-65535/], ['70000', /1-65535/], ['0', /1-65535/], ['100-10', /reversed/],
      ['abc', /not a port/], ['22,,23', /not a port/], ['', /not a port list/], ['1-2-3', /not a port/],
    ] as const) {
      const r = parsePortSpec(text);
      assert.ok(!r.ok, text);
      assert.match(r.error, why, text);
    }
  });

  test('nmap\'s range text', () => {
    assert.equal(formatPortRanges([1, 2, 3, 5, 7, 8, 100]), '1-3,5,7-8,100');
    assert.equal(formatPortRanges([]), '');
  });

  test('top ports: 1000 each, distinct, most frequent first (80 for TCP, 631 for UDP lead nmap-services)', () => {
    assert.equal(TOP_PORTS_MAX, 1000);
    for (const list of [TOP_TCP_PORTS, TOP_UDP_PORTS]) {
      assert.equal(list.length, 1000);
      assert.equal(new Set(list).size, 1000);
      assert.ok(list.every((p) => p >= 1 && p <= 65535));
    }
    assert.deepEqual(topPorts(5, 'tcp'), [80, 23, 443, 21, 22]);
    assert.deepEqual(topPorts(3, 'udp'), [631, 161, 137]);
    assert.throws(() => topPorts(0, 'tcp'), RangeError);
    assert.throws(() => topPorts(1001, 'udp'), RangeError);
  });
});

describe('targets', () => {
  test('addresses, ranges and names', () => {
    const t = (s: string) => { const r = parseTarget(s); assert.ok(r.ok, s); return r.target; };
    assert.equal(t('127.0.0.1').kind, 'address');
    assert.equal(t('::1').kind, 'address');
    assert.equal(t('[fd00::1]').kind, 'address');
    assert.equal(t('localhost').kind, 'name');
    assert.equal(t('scan-me.example.').kind, 'name');
    const range = t('10.0.0.5/30');
    assert.ok(range.kind === 'range');
    assert.deepEqual(expandRange(range).map(formatIp), ['10.0.0.4', '10.0.0.5', '10.0.0.6', '10.0.0.7']);
    const six = t('fd00::10/126');
    assert.ok(six.kind === 'range');
    assert.deepEqual(expandRange(six).map(formatIp), ['fd00::10', 'fd00::11', 'fd00::12', 'fd00::13']);
    const big = t('10.1.0.0/16');
    assert.ok(big.kind === 'range' && big.count === MAX_TARGETS);
    assert.equal(expandRange(big).map(formatIp).at(-1), '10.1.255.255');
  });

  test('bad targets say what is wrong', () => {
    for (const [text, why] of [
      ['10.0.0.0/33', /prefix length must be 0-32/], ['10.0.0.300/24', /not an IP address/], ['10.0.0.0/x', /prefix length/],
      ['10.0.0.0/8', /more than 65536/], ['fd00::/64', /more than 65536/], ['10.0.0.300', /not an IPv4 address/],
      ['fd00:::1', /not an IPv6 address/], ['bad_name!', /not an address/], ['', /empty/],
    ] as const) {
      const r = parseTarget(text);
      assert.ok(!r.ok, text);
      assert.match(r.error, why, text);
    }
  });

  test('hosts: expanded, duplicates dropped, names attached', () => {
    const specs = ['127.0.0.1', '127.0.0.0/31', 'localhost'].map((s) => { const r = parseTarget(s); assert.ok(r.ok); return r.target; });
    const hosts = scanHosts(specs, new Map([['localhost', parseIpAddress('127.0.0.1')!]]));
    assert.deepEqual(hosts.map((h) => h.address), ['127.0.0.1', '127.0.0.0']);
  });
});

describe('verdicts, as nmap(1) defines them', () => {
  test('SYN scan replies', () => {
    assert.deepEqual(tcpReplyVerdict(0x12), { state: 'open', reason: 'syn-ack' });
    assert.deepEqual(tcpReplyVerdict(0x14), { state: 'closed', reason: 'reset' });
    assert.deepEqual(tcpReplyVerdict(0x04), { state: 'closed', reason: 'reset' });
    assert.deepEqual(tcpReplyVerdict(0x02), { state: 'open', reason: 'split-handshake-syn' });
    assert.equal(tcpReplyVerdict(0x10), undefined);
  });

  test('ICMP unreachable codes 0 1 2 3 9 10 13: filtered for SYN; for UDP code 3 from the target closed', () => {
    const names = { 0: 'net-unreach', 1: 'host-unreach', 2: 'proto-unreach', 3: 'port-unreach', 9: 'net-prohibited', 10: 'host-prohibited', 13: 'admin-prohibited' } as const;
    for (const [code, reason] of Object.entries(names)) {
      assert.deepEqual(icmpv4UnreachableVerdict(Number(code), 'syn', true), { state: 'filtered', reason });
      assert.deepEqual(icmpv4UnreachableVerdict(Number(code), 'udp', true), { state: code === '3' ? 'closed' : 'filtered', reason });
    }
    assert.deepEqual(icmpv4UnreachableVerdict(3, 'udp', false), { state: 'filtered', reason: 'port-unreach' });
    for (const code of [4, 5, 6, 7, 8, 11, 12, 14, 15]) assert.equal(icmpv4UnreachableVerdict(code, 'syn', true), undefined);
    assert.deepEqual(icmpv6UnreachableVerdict(4, 'udp', true), { state: 'closed', reason: 'port-unreach' });
    assert.deepEqual(icmpv6UnreachableVerdict(1, 'syn', true), { state: 'filtered', reason: 'admin-prohibited' });
  });

  test('silence and connect outcomes', () => {
    assert.deepEqual(silenceVerdict('syn'), { state: 'filtered', reason: 'no-response' });
    assert.deepEqual(silenceVerdict('connect'), { state: 'filtered', reason: 'no-response' });
    assert.deepEqual(silenceVerdict('udp'), { state: 'open|filtered', reason: 'no-response' });
    assert.deepEqual(connectVerdict('connected'), { state: 'open', reason: 'syn-ack' });
    assert.deepEqual(connectVerdict('ECONNREFUSED'), { state: 'closed', reason: 'conn-refused' });
    assert.deepEqual(connectVerdict('EHOSTUNREACH'), { state: 'filtered', reason: 'host-unreach' });
    assert.deepEqual(connectVerdict('ENETUNREACH'), { state: 'filtered', reason: 'net-unreach' });
    assert.deepEqual(connectVerdict('EPERM'), { state: 'filtered', reason: 'perm-denied' });
    assert.equal(connectVerdict('EMFILE'), undefined);
  });

  test('UDP payloads: DNS on 53, NTP on 123, SNMP on 161, else empty', () => {
    assert.equal(udpProbePayload(53).length, 17);
    assert.equal(udpProbePayload(123)[0], 0xe3);
    assert.equal(udpProbePayload(161)[0], 0x30);
    assert.equal(udpProbePayload(9999).length, 0);
  });
});

describe('services from banners', () => {
  test('SSH, SMTP, FTP, HTTP, POP3, IMAP; the registry otherwise', () => {
    assert.deepEqual(identifyService(22, 'SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'),
      { name: 'ssh', method: 'probed', product: 'OpenSSH', version: '9.2p1', banner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2' });
    assert.equal(identifyService(2222, 'SSH-2.0-dropbear_2022.83\r\n').product, 'dropbear');
    assert.deepEqual(identifyService(25, '220 mx.test ESMTP Postfix (Debian/GNU)\r\n'),
      { name: 'smtp', method: 'probed', product: 'Postfix', banner: '220 mx.test ESMTP Postfix (Debian/GNU)' });
    assert.equal(identifyService(2525, '220 mail.test ESMTP ready\r\n').name, 'smtp');
    assert.equal(identifyService(21, '220 (vsFTPd 3.0.3)\r\n').name, 'ftp');
    assert.equal(identifyService(21, '220 (vsFTPd 3.0.3)\r\n').version, '3.0.3');
    assert.equal(identifyService(21, '220 Welcome\r\n').name, 'ftp');
    const http = identifyService(8000, 'HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: x\r\n\r\n');
    assert.deepEqual(http, { name: 'http', method: 'probed', product: 'nginx', version: '1.22.1', banner: 'HTTP/1.1 200 OK' });
    assert.equal(identifyService(110, '+OK POP3 ready\r\n').name, 'pop3');
    assert.equal(identifyService(143, '* OK IMAP4rev1\r\n').name, 'imap');
    assert.deepEqual(identifyService(3306, ''), { name: 'mysql', method: 'table' });
    assert.deepEqual(identifyService(4, ''), { method: 'table' });
    assert.equal(identifyService(9, 'x\u0000\u0007y\r\n').banner, 'x..y');
  });

  test('a HEAD goes where a web server is likely, never to TLS ports', () => {
    assert.ok(webLikely(80) && webLikely(8080) && webLikely(8000));
    assert.ok(!webLikely(443) && !webLikely(22) && !webLikely(8443));
  });
});

/** A TCP server on 127.0.0.1 that greets, or answers HEAD, or says nothing. */
async function server(kind: 'ssh' | 'smtp' | 'http' | 'silent'): Promise<{ server: Server; port: number }> {
  const s = createServer((socket) => {
    socket.on('error', () => { /* the scanner resets */ });
    if (kind === 'ssh') socket.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n');
    if (kind === 'smtp') socket.write('220 test.local ESMTP Postfix\r\n');
    if (kind === 'http') {
      socket.on('data', (d) => {
        if (d.toString().startsWith('HEAD /')) socket.end('HTTP/1.1 200 OK\r\nServer: l4-test/2.1\r\nContent-Length: 0\r\n\r\n');
      });
    }
  });
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  return { server: s, port: (s.address() as { port: number }).port };
}

describe('on loopback (127.0.0.1)', () => {
  test('connect scan: listeners open (syn-ack), the rest closed (conn-refused)', async () => {
    const servers = await Promise.all([server('silent'), server('silent')]);
    const open = servers.map((s) => s.port);
    // Ports just freed by closed servers are certainly closed.
    const closedServers = await Promise.all([server('silent'), server('silent'), server('silent')]);
    const closed = closedServers.map((s) => s.port);
    for (const s of closedServers) s.server.close();
    try {
      const ports = [...open, ...closed].sort((a, b) => a - b);
      const engine = new ScanEngine({ hosts: 1, ports, type: 'connect' });
      await runConnectScan(engine, { targets: ['127.0.0.1'] });
      for (const p of open) assert.deepEqual(engine.outcome(0, p)!.verdict, { state: 'open', reason: 'syn-ack' });
      for (const p of closed) assert.deepEqual(engine.outcome(0, p)!.verdict, { state: 'closed', reason: 'conn-refused' });
      assert.ok(engine.hostTiming(0).answered);
    } finally {
      for (const s of servers) s.server.close();
    }
  });

  test('banners of an SSH-like, an SMTP-like and an HTTP server', async () => {
    const ssh = await server('ssh');
    const smtp = await server('smtp');
    const http = await server('http');
    try {
      const a = await readBanner('127.0.0.1', ssh.port);
      assert.deepEqual([a.name, a.product, a.version, a.method], ['ssh', 'OpenSSH', '9.2p1', 'probed']);
      const b = await readBanner('127.0.0.1', smtp.port);
      assert.deepEqual([b.name, b.product, b.banner], ['smtp', 'Postfix', '220 test.local ESMTP Postfix']);
      const c = await readBanner('127.0.0.1', http.port, { web: true, quietMs: 100 });
      assert.deepEqual([c.name, c.product, c.version, c.banner], ['http', 'l4-test', '2.1', 'HTTP/1.1 200 OK']);
    } finally {
      for (const s of [ssh, smtp, http]) s.server.close();
    }
  });

  test('runScan with banners: the report names each service and lists every port', async () => {
    const ssh = await server('ssh');
    const http = await server('http');
    try {
      const report = await runScan({
        type: 'connect', hosts: [{ address: '127.0.0.1', bytes: parseIpAddress('127.0.0.1')! }],
        ports: [ssh.port, http.port], banners: { quietMs: 100 }, version: '9.9.9', args: 'l4 scan 127.0.0.1',
      });
      const host = report.hosts[0]!;
      assert.equal(host.state, 'up');
      assert.equal(host.ports.length, 2);
      const byPort = new Map(host.ports.map((p) => [p.port, p]));
      assert.equal(byPort.get(ssh.port)!.service, 'ssh');
      // A port the registry does not call http gets no HEAD unless asked; it stays unnamed or table-named.
      assert.notEqual(byPort.get(http.port)!.serviceMethod, undefined);
    } finally {
      ssh.server.close();
      http.server.close();
    }
  });
});

describe('interrupting a scan (Ctrl-C)', () => {
  test('abort: the report holds what was decided and says it was interrupted', async () => {
    const controller = new AbortController();
    const report = await runScan({
      type: 'connect', hosts: [{ address: '127.0.0.1', bytes: parseIpAddress('127.0.0.1')! }],
      ports: Array.from({ length: 1000 }, (_, i) => 40000 + i), rate: 200, signal: controller.signal,
      onProgress: (decided) => { if (decided === 5) controller.abort(); },
    });
    assert.equal(report.interrupted, true);
    const host = report.hosts[0]!;
    assert.ok(host.ports.length >= 5 && host.ports.length < 1000, `${host.ports.length} decided`);
    assert.equal(host.undecided, 1000 - host.ports.length);
    assert.match(formatTable(report), /interrupted \(Ctrl-C\)/);
    assert.match(formatXml(report), /exit="error" errormsg="interrupted"/);
  });
});

/** A report made by hand through the engine: 1000 ports, 3 open, 2 filtered, 1 admin-prohibited, the rest closed. */
function sampleReport(): ScanReport {
  const ports = Array.from({ length: 1000 }, (_, i) => i + 1);
  const e = new ScanEngine({ hosts: 2, ports, type: 'syn', concurrency: 5000, initialWindow: 5000 });
  for (let p = e.pollProbe(0); p; p = e.pollProbe(0)) { /* send everything */ }
  for (let host = 0; host < 2; host++) {
    for (const port of ports) {
      if (host === 1) continue;
      const v = [22, 25, 80].includes(port) ? { state: 'open', reason: 'syn-ack' } as const
        : [135, 139].includes(port) ? undefined
          : port === 445 ? { state: 'filtered', reason: 'admin-prohibited' } as const : { state: 'closed', reason: 'reset' } as const;
      if (v) e.report(1000, host, port, 0, v, { ttl: 64 });
    }
  }
  while (!e.done) { const t = e.pollTimeout()!; e.handleTimeout(t); for (let p = e.pollProbe(t); p; p = e.pollProbe(t)) { /* retry */ } }
  const start = new Date('2026-01-02T03:04:05Z');
  return buildReport(e, {
    version: '0.1.0', type: 'syn', args: 'l4 scan 10.0.0.2 10.0.0.3 --type syn -p 1-1000', start, end: new Date(start.getTime() + 1500),
    hosts: [{ address: '10.0.0.2', bytes: parseIpAddress('10.0.0.2')! }, { address: '10.0.0.3', bytes: parseIpAddress('10.0.0.3')!, name: 'gone.test' }],
  });
}

describe('report formats', () => {
  test('table: nmap\'s layout, common states collapsed with their reasons', () => {
    const text = formatTable(sampleReport());
    const lines = text.split('\n');
    assert.match(lines[0]!, /^Starting l4 scan 0\.1\.0 \(syn scan, tcp\) at 2026-01-02 03:04 UTC$/);
    assert.equal(lines[1], 'l4 scan report for 10.0.0.2');
    assert.match(lines[2]!, /^Host is up, received reset \(0\.00\d+s latency\)\.$/);
    assert.equal(lines[3], 'Not shown: 994 closed tcp ports (reset)');
    assert.equal(lines[4], 'PORT    STATE    SERVICE      REASON');
    assert.equal(lines[5], '22/tcp  open     ssh          syn-ack ttl 64');
    assert.ok(lines.includes('135/tcp filtered epmap        no-response'), text);
    assert.ok(lines.includes('445/tcp filtered microsoft-ds admin-prohibited ttl 64'), text);
    assert.ok(lines.includes('l4 scan report for gone.test (10.0.0.3)'), text);
    assert.ok(lines.some((l) => /^Host seems down/.test(l)), text);
    assert.ok(lines.includes('All 1000 scanned ports on gone.test are in ignored states.'), text);
    assert.ok(lines.includes('Not shown: 1000 filtered tcp ports (no-response)'), text);
    assert.equal(lines.at(-1), 'l4 scan done: 2 IP addresses (1 host up) scanned in 1.50 seconds');
  });

  test('XML: nmap -oX\'s elements and attributes', () => {
    const xml = formatXml(sampleReport());
    assert.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<!DOCTYPE nmaprun>\n/);
    assert.match(xml, /<nmaprun scanner="nmap" args="l4 scan 10\.0\.0\.2 10\.0\.0\.3 -&#45;type syn -p 1-1000" start="1767323045" startstr="Fri Jan {2}2 03:04:05 2026" version="l4 0\.1\.0" xmloutputversion="1\.05">/);
    assert.match(xml, /<scaninfo type="syn" protocol="tcp" numservices="1000" services="1-1000"\/>/);
    assert.match(xml, /<extraports state="closed" count="994">\n<extrareasons reason="reset" count="994" proto="tcp" ports="1-21,23-24,26-79,81-134,136-138,140-444,446-1000"\/>\n<\/extraports>/);
    assert.match(xml, /<port protocol="tcp" portid="22"><state state="open" reason="syn-ack" reason_ttl="64"\/><service name="ssh" method="table" conf="3"\/><\/port>/);
    assert.match(xml, /<port protocol="tcp" portid="135"><state state="filtered" reason="no-response" reason_ttl="0"\/>/);
    assert.match(xml, /<status state="down" reason="no-response" reason_ttl="0"\/>\n<address addr="10\.0\.0\.3" addrtype="ipv4"\/>\n<hostnames>\n<hostname name="gone\.test" type="user"\/>/);
    assert.match(xml, /<finished time="1767323046" timestr="Fri Jan {2}2 03:04:06 2026" summary="[^"]+" elapsed="1\.50" exit="success"\/><hosts up="1" down="1" total="2"\/>/);
    assert.match(xml, /<\/nmaprun>\n$/);
    // Every element opened is closed (a well-formedness check without a parser).
    const opened = [...xml.matchAll(/<([a-z]+)[ >]/g)].map((m) => m[1]);
    const selfClosed = [...xml.matchAll(/<([a-z]+)[^<>]*\/>/g)].map((m) => m[1]);
    const closed = [...xml.matchAll(/<\/([a-z]+)>/g)].map((m) => m[1]);
    const count = (list: (string | undefined)[]): Map<string, number> => list.reduce((m, x) => m.set(x!, (m.get(x!) ?? 0) + 1), new Map<string, number>());
    const o = count(opened);
    const s = count(selfClosed);
    for (const [name, n] of count(closed)) assert.equal(n, o.get(name)! - (s.get(name) ?? 0), name);
  });

  test('JSON: every port listed with state, reason and service', () => {
    const r = JSON.parse(JSON.stringify(sampleReport())) as ScanReport;
    assert.equal(r.hosts[0]!.ports.length, 1000);
    assert.deepEqual(r.hosts[0]!.counts, { 'open': 3, 'open|filtered': 0, 'filtered': 3, 'closed': 994 });
    assert.deepEqual(r.hosts[0]!.ports[21], { port: 22, protocol: 'tcp', state: 'open', reason: 'syn-ack', reasonTtl: 64, tries: 1, service: 'ssh', serviceMethod: 'table' });
    assert.equal(r.hosts[1]!.state, 'down');
  });
});
