/**
 * `l4 scan` against nmap, in two network namespaces the test creates and deletes:
 *
 *   X (scanner): l4 scan and nmap run here. l4's TUN device l4scan0: l4 is 10.66.0.2, the
 *                kernel 10.66.0.1; ip_forward=1, so the kernel routes l4's probes to Y and
 *                the answers back. veth 10.66.1.1 <-> Y.
 *   Y (target):  10.66.1.2, route to 10.66.0.0/24 via X. Kernel listeners (python3): TCP 22
 *                (SSH-like banner), 25 (SMTP-like), 80 and 8080 (HTTP), 443, 1234, 1999
 *                (silent); UDP 53, 123, 161, 1500 (answer), 1600 (bound, silent). nftables
 *                drops TCP 135, 139, 445, 1433 and UDP 137, 138, 1900, and rejects TCP 1444
 *                and UDP 1445 with ICMP admin-prohibited.
 *
 * Linux rate-limits the ICMP errors a UDP scan depends on (net.ipv4.icmp_ratelimit, 1 s
 * between port unreachables per destination by default, and icmp_msgs_per_sec = 1000
 * overall): both are lifted in both namespaces, so that both scanners finish in seconds and
 * neither sees a closed port fall silent. nmap runs with -T4 --max-retries 2, l4 with its
 * defaults (2 retries). Everything is scanned only inside these namespaces.
 *
 * Shown: for connect, SYN and UDP scans over ports 1-2000, l4's state and reason for every
 * port equal nmap's from the same run; nmap's XML and l4's XML (--xml) read by one nmap-XML
 * reader give the same answer as l4's JSON; a full 1-65535 SYN scan finds the same open
 * ports as nmap -T4 -sS -p- (times printed; bench/scan.ts records them); banners name the
 * SSH-like, SMTP-like and HTTP servers; an unreachable target is reported, not thrown.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { needNetns, TestNamespace, waitForLine } from '../support/netns.js';
import { needTool } from '../support/tshark.js';
import type { ScanReport } from '../../src/tools/scan/report.js';

const TARGET = '10.66.1.2';
const TUN = ['--tun', 'l4scan0', '--address', '10.66.0.2/24', '--peer', '10.66.0.1'];
const L4 = new URL('../../../bin/l4.js', import.meta.url).pathname;

/** The target's services: one python3 process, TCP and UDP, with selectors. */
const SERVICES = String.raw`
import selectors, socket, sys
sel = selectors.DefaultSelector()
greet = {'ssh': b'SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n', 'smtp': b'220 target.test ESMTP Postfix (Debian/GNU)\r\n'}
tcp = {22: 'ssh', 25: 'smtp', 80: 'http', 8080: 'http', 443: 'silent', 1234: 'silent', 1999: 'silent'}
udp = {53: 'echo', 123: 'echo', 161: 'echo', 1500: 'echo', 1600: 'silent'}
for port, kind in tcp.items():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('0.0.0.0', port)); s.listen(256); s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, ('accept', kind))
for port, kind in udp.items():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('0.0.0.0', port)); s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, ('udp', kind))
print('ready', flush=True)
while True:
    for key, _ in sel.select():
        what, kind = key.data
        if what == 'accept':
            try:
                c, _ = key.fileobj.accept()
            except OSError:
                continue
            c.setblocking(False)
            if kind in greet:
                try: c.send(greet[kind])
                except OSError: pass
            sel.register(c, selectors.EVENT_READ, ('conn', kind))
        elif what == 'conn':
            try:
                data = key.fileobj.recv(4096)
            except OSError:
                data = b''
            if kind == 'http' and data.startswith((b'HEAD', b'GET')):
                try: key.fileobj.send(b'HTTP/1.0 200 OK\r\nServer: l4-test-httpd/1.0\r\nContent-Length: 0\r\n\r\n')
                except OSError: pass
                data = b''
            if not data:
                sel.unregister(key.fileobj); key.fileobj.close()
        elif what == 'udp':
            try:
                data, peer = key.fileobj.recvfrom(65535)
            except OSError:
                continue
            if kind == 'echo':
                key.fileobj.sendto(data or b'\0', peer)
`;

const NFT = `
table inet l4scan {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport { 135, 139, 445, 1433 } drop
    tcp dport 1444 reject with icmp type admin-prohibited
    udp dport { 137, 138, 1900 } drop
    udp dport 1445 reject with icmp type admin-prohibited
  }
}
`;

/**
 * An nmap-XML reader (Python's xml.etree, as tools that consume nmap's XML use): every port
 * of the first host, listed or collapsed into extraports/extrareasons, as "state/reason".
 */
const READ_NMAP_XML = String.raw`
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.stdin).getroot()
assert root.tag == 'nmaprun' and root.get('scanner') == 'nmap', root.tag
host = root.find('host')
out = {}
ports = host.find('ports')
for extra in ports.findall('extraports'):
    for r in extra.findall('extrareasons'):
        for part in r.get('ports').split(','):
            a, _, b = part.partition('-')
            for p in range(int(a), int(b or a) + 1):
                out[p] = extra.get('state') + '/' + r.get('reason')
for port in ports.findall('port'):
    st = port.find('state')
    out[int(port.get('portid'))] = st.get('state') + '/' + st.get('reason')
print(json.dumps({'status': host.find('status').get('state'), 'ports': out}))
`;

function readNmapXml(xml: string): { status: string; ports: Map<number, string> } {
  const r = spawnSync('python3', ['-c', READ_NMAP_XML], { input: xml, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr);
  const parsed = JSON.parse(r.stdout) as { status: string; ports: Record<string, string> };
  return { status: parsed.status, ports: new Map(Object.entries(parsed.ports).map(([p, s]) => [Number(p), s])) };
}

function fromJson(report: ScanReport): Map<number, string> {
  return new Map(report.hosts[0]!.ports.map((p) => [p.port, `${p.state}/${p.reason}`]));
}

/** Port -> verdict differences, for a readable failure. */
function differences(ours: Map<number, string>, theirs: Map<number, string>): string[] {
  const out: string[] = [];
  for (const port of new Set([...ours.keys(), ...theirs.keys()])) {
    if (ours.get(port) !== theirs.get(port)) out.push(`${port}: l4 ${ours.get(port)} nmap ${theirs.get(port)}`);
  }
  return out.sort();
}

function countStates(ports: Map<number, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of ports.values()) out[v] = (out[v] ?? 0) + 1;
  return out;
}

const skip = needNetns() ?? needTool('nmap') ?? needTool('nft') ?? needTool('python3');

describe('l4 scan against nmap, in namespaces', { skip }, () => {
  let x: TestNamespace;
  let y: TestNamespace;
  let services: ChildProcess;

  /** Runs `l4 scan ...args` in X; exit 0 and nothing on stderr expected. */
  const scan = (...args: string[]): string => {
    const r = x.run(process.execPath, [L4, 'scan', ...args], { timeoutMs: 120_000 });
    assert.equal(r.status, 0, `l4 scan ${args.join(' ')}: ${r.stderr.toString()}`);
    assert.equal(r.stderr.toString(), '');
    return r.stdout.toString();
  };
  const nmap = (...args: string[]): string => x.must('nmap', ['-Pn', '-n', '-T4', '--max-retries', '2', '-oX', '-', ...args], { timeoutMs: 120_000 });

  before(async () => {
    x = TestNamespace.create('scanx');
    y = TestNamespace.create('scany');
    execFileSync('ip', ['link', 'add', 'l4sx0', 'netns', x.name, 'type', 'veth', 'peer', 'name', 'l4sy0', 'netns', y.name]);
    x.must('ip', ['addr', 'add', '10.66.1.1/24', 'dev', 'l4sx0']);
    y.must('ip', ['addr', 'add', `${TARGET}/24`, 'dev', 'l4sy0']);
    x.must('ip', ['link', 'set', 'l4sx0', 'up']);
    y.must('ip', ['link', 'set', 'l4sy0', 'up']);
    y.must('ip', ['route', 'add', '10.66.0.0/24', 'via', '10.66.1.1']);
    x.must('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    for (const ns of [x, y]) {
      ns.must('sysctl', ['-qw', 'net.ipv4.icmp_ratelimit=0']);
      ns.must('sysctl', ['-qw', 'net.ipv4.icmp_msgs_per_sec=1000000']);
      ns.must('sysctl', ['-qw', 'net.ipv4.icmp_msgs_burst=1000000']);
    }
    y.must('nft', ['-f', '-'], { input: NFT });
    services = y.spawn('python3', ['-c', SERVICES]);
    await waitForLine(services, /^ready$/);
  });

  after(() => {
    services?.kill('SIGKILL');
    x?.delete();
    y?.delete();
  });

  for (const [type, nmapType] of [['connect', '-sT'], ['syn', '-sS'], ['udp', '-sU']] as const) {
    test(`${type} scan of ports 1-2000: every port's state and reason equal nmap's`, () => {
      const theirs = readNmapXml(nmap(nmapType, '-p', '1-2000', TARGET));
      const tun = type === 'connect' ? [] : TUN;
      const report = JSON.parse(scan(TARGET, '--type', type, '-p', '1-2000', ...tun, '--json')) as ScanReport;
      const ours = fromJson(report);
      assert.equal(ours.size, 2000);
      assert.equal(theirs.ports.size, 2000);
      assert.deepEqual(differences(ours, theirs.ports), []);
      assert.equal(report.hosts[0]!.state, theirs.status);
      // The topology is what the test says it is (so equality is not vacuous).
      const counts = countStates(ours);
      if (type === 'udp') {
        assert.deepEqual(counts, {
          'closed/port-unreach': 1991, 'open/udp-response': 4, 'open|filtered/no-response': 4, 'filtered/admin-prohibited': 1,
        });
      } else {
        assert.deepEqual(counts, {
          [type === 'connect' ? 'closed/conn-refused' : 'closed/reset']: 1989, 'open/syn-ack': 6, 'filtered/no-response': 4,
          // Linux's connect() gets EHOSTUNREACH for ICMP admin-prohibited, which nmap -sT and l4 both call host-unreach.
          [type === 'connect' ? 'filtered/host-unreach' : 'filtered/admin-prohibited']: 1,
        });
      }
      console.log(`# ${type} 1-2000: ${JSON.stringify(counts)}; l4 ${report.elapsedSeconds.toFixed(2)} s`);
    });
  }

  test('l4\'s XML, read as nmap XML, says what its JSON says', () => {
    const json = fromJson(JSON.parse(scan(TARGET, '--type', 'syn', '-p', '1-2000', ...TUN, '--json')) as ScanReport);
    const xml = readNmapXml(scan(TARGET, '--type', 'syn', '-p', '1-2000', ...TUN, '--xml', '-'));
    assert.deepEqual(differences(xml.ports, json), []);
    assert.equal(xml.status, 'up');
  });

  test('full 1-65535 SYN scan: the same open ports as nmap -T4 -sS -p-', () => {
    const t0 = performance.now();
    const report = JSON.parse(scan(TARGET, '--type', 'syn', '-p-', ...TUN, '--json')) as ScanReport;
    const l4Seconds = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    const theirs = readNmapXml(x.must('nmap', ['-Pn', '-n', '-T4', '-sS', '-p-', '-oX', '-', TARGET], { timeoutMs: 300_000 }));
    const nmapSeconds = (performance.now() - t1) / 1000;
    const open = (m: Map<number, string>): number[] => [...m].filter(([, v]) => v.startsWith('open/')).map(([p]) => p).sort((a, b) => a - b);
    const ours = fromJson(report);
    assert.equal(ours.size, 65535);
    assert.deepEqual(open(ours), open(theirs.ports));
    assert.deepEqual(open(ours), [22, 25, 80, 443, 1234, 1999, 8080]);
    console.log(`# full SYN scan: l4 ${l4Seconds.toFixed(2)} s (${report.stats.probesSent} probes, ${report.stats.retransmissions} retransmitted), nmap -T4 ${nmapSeconds.toFixed(2)} s, ratio ${(l4Seconds / nmapSeconds).toFixed(2)}`);
  });

  test('banners name the SSH-like, SMTP-like and HTTP servers (SYN scan, then banners)', () => {
    const report = JSON.parse(scan(TARGET, '--type', 'syn', '-p', '22,25,80,443', ...TUN, '--banners', '--json')) as ScanReport;
    const byPort = new Map(report.hosts[0]!.ports.map((p) => [p.port, p]));
    assert.deepEqual([byPort.get(22)!.service, byPort.get(22)!.product, byPort.get(22)!.version, byPort.get(22)!.serviceMethod], ['ssh', 'OpenSSH', '9.2p1', 'probed']);
    assert.equal(byPort.get(22)!.banner, 'SSH-2.0-OpenSSH_9.2p1 Debian-2');
    assert.deepEqual([byPort.get(25)!.service, byPort.get(25)!.product, byPort.get(25)!.serviceMethod], ['smtp', 'Postfix', 'probed']);
    assert.deepEqual([byPort.get(80)!.service, byPort.get(80)!.product, byPort.get(80)!.version, byPort.get(80)!.banner],
      ['http', 'l4-test-httpd', '1.0', 'HTTP/1.0 200 OK']);
    // A silent port that is not a web port keeps the registry's name.
    assert.deepEqual([byPort.get(443)!.service, byPort.get(443)!.serviceMethod], ['https', 'table']);
    const table = scan(TARGET, '-p', '22,25,80', '--banners');
    assert.match(table, /22\/tcp +open +ssh +syn-ack +OpenSSH 9\.2p1/);
    assert.match(table, /80\/tcp +open +http +syn-ack +l4-test-httpd 1\.0/);
  });

  test('unreachable targets are reported filtered and down, not thrown', () => {
    // No route in X to 10.99.0.0/16: connect() fails at once with ENETUNREACH; for SYN probes
    // the kernel answers l4 with ICMP net unreachable.
    for (const tun of [[], TUN]) {
      const report = JSON.parse(scan('10.99.9.9', '-p', '22,80', ...(tun.length ? ['--type', 'syn', ...tun] : []), '--json')) as ScanReport;
      const host = report.hosts[0]!;
      assert.equal(host.state, 'down');
      assert.deepEqual(host.ports.map((p) => `${p.state}/${p.reason}`), ['filtered/net-unreach', 'filtered/net-unreach']);
    }
    const table = scan('10.99.9.9', '-p', '22');
    assert.match(table, /Host seems down/);
    assert.match(table, /22\/tcp +filtered +ssh +net-unreach/);
  });
});
