/**
 * `l4 scan` as a user runs it: bad input is one line and exit 2 before any packet is sent;
 * a connect scan of 127.0.0.1 (the only address these tests scan) finds the test's own
 * listener open and reports in the table, JSON and nmap's XML.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertOneLineError, l4 } from '../support/cli.js';
import type { ScanReport } from '../../src/tools/scan/report.js';

describe('l4 scan: bad input is one line and exit 2', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['an invalid port range', ['127.0.0.1', '-p', '0-70000'], /port range '0-70000' is invalid/],
    ['a reversed range', ['127.0.0.1', '-p', '90-80'], /reversed/],
    ['a bad CIDR (prefix)', ['10.0.0.0/33'], /not a CIDR range: the prefix length must be 0-32/],
    ['a bad CIDR (address)', ['10.0.0.300/24'], /not a CIDR range/],
    ['a range too large', ['10.0.0.0/8'], /more than 65536/],
    ['an unknown option', ['127.0.0.1', '--frobnicate'], /unknown option/],
    ['an unknown scan type', ['127.0.0.1', '--type', 'xmas'], /not a scan type/],
    ['a SYN scan without a TUN device', ['127.0.0.1', '--type', 'syn'], /--tun NAME --address A\/P --peer K/],
    ['a connect scan with a TUN device', ['127.0.0.1', '--type', 'connect', '--tun', 'x', '--address', '10.0.0.2/24', '--peer', '10.0.0.1'], /operating system's TCP/],
    ['-p and --top-ports together', ['127.0.0.1', '-p', '22', '--top-ports', '10'], /not both/],
    ['--top-ports out of range', ['127.0.0.1', '--top-ports', '5000'], /outside 1\.\.1000/],
    ['--retries out of range', ['127.0.0.1', '--retries', '99'], /outside 0\.\.10/],
    ['--json with --xml', ['127.0.0.1', '--json', '--xml', 'x.xml'], /not both/],
    ['no target', [], /missing required argument/],
    ['a name that does not resolve', ['no-such-host.invalid', '-p', '1'], /cannot resolve 'no-such-host\.invalid'/],
  ];
  for (const [what, args, why] of cases) {
    test(what, () => assertOneLineError(l4('scan', ...args), why));
  }

  test('--help says scans are for networks one may test, and where --top-ports comes from', () => {
    const r = l4('scan', '--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Scan only networks you are allowed to test/);
    assert.match(r.stdout, /nmap-services' open-frequency column/);
  });
});

describe('l4 scan 127.0.0.1 (connect)', () => {
  let server: Server;
  let open: number;
  let closed: number;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'l4-scan-cli-'));
    server = createServer((s) => s.on('error', () => { /* reset by the scanner */ })).listen(0, '127.0.0.1');
    await once(server, 'listening');
    open = (server.address() as { port: number }).port;
    // A port certainly closed: one a server just released.
    const gone = createServer().listen(0, '127.0.0.1');
    await once(gone, 'listening');
    closed = (gone.address() as { port: number }).port;
    await new Promise((resolve) => gone.close(resolve));
  });

  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the table: the listener open (syn-ack), the released port closed (conn-refused)', () => {
    const r = l4('scan', '127.0.0.1', '-p', `${open},${closed}`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^Starting l4 scan .* \(connect scan, tcp\)/);
    assert.match(r.stdout, /l4 scan report for 127\.0\.0\.1\nHost is up, received (syn-ack|conn-refused)/);
    assert.match(r.stdout, new RegExp(`\\n${open}/tcp +open +\\S+ +syn-ack\\n`));
    assert.match(r.stdout, new RegExp(`\\n${closed}/tcp +closed +\\S+ +conn-refused\\n`));
    assert.match(r.stdout, /l4 scan done: 1 IP address \(1 host up\) scanned in [\d.]+ seconds\n$/);
  });

  test('--json: every port with state and reason; localhost resolves to 127.0.0.1', () => {
    const r = l4('scan', 'localhost', '-p', `${open},${closed}`, '--json');
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as ScanReport;
    assert.equal(report.type, 'connect');
    const host = report.hosts[0]!;
    assert.equal(host.address, '127.0.0.1');
    assert.equal(host.name, 'localhost');
    const states = Object.fromEntries(host.ports.map((p) => [p.port, `${p.state}/${p.reason}`]));
    assert.deepEqual(states, { [open]: 'open/syn-ack', [closed]: 'closed/conn-refused' });
  });

  test('--xml FILE writes nmap\'s XML beside the table', () => {
    const file = join(dir, 'scan.xml');
    const r = l4('scan', '127.0.0.1', '-p', `${open},${closed}`, '--xml', file);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /l4 scan report for 127\.0\.0\.1/);
    const xml = readFileSync(file, 'utf8');
    assert.match(xml, /<nmaprun scanner="nmap" args="l4 scan 127\.0\.0\.1 -p [\d,]+ -&#45;xml [^"]+"/);
    assert.match(xml, new RegExp(`<port protocol="tcp" portid="${open}"><state state="open" reason="syn-ack" reason_ttl="0"/>`));
    assert.match(xml, new RegExp(`<port protocol="tcp" portid="${closed}"><state state="closed" reason="conn-refused" reason_ttl="0"/>`));
  });

  test('--top-ports 20 scans nmap\'s 20 most often open ports', () => {
    const r = l4('scan', '127.0.0.1', '--top-ports', '20', '--json');
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as ScanReport;
    assert.deepEqual(report.ports, [21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 443, 445, 993, 995, 1723, 3306, 3389, 5900, 8080]);
    assert.equal(report.hosts[0]!.ports.length, 20);
  });
});
