/**
 * `l4 explain` as a person runs it: the text report, `--json`, `--packet N`, bad input
 * (one line on stderr, exit 2) and a damaged tail (explained up to the damage, exit 1).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goldenCapture, needTshark, tsharkFields } from '../support/tshark.js';
import { assertOneLineError, l4 } from '../support/cli.js';

describe('l4 explain', () => {
  const http = goldenCapture('http-curl.pcap');

  test('--help shows examples', () => {
    const r = l4('explain', '--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--packet/);
    assert.match(r.stdout, /Examples:/);
  });

  test('the text report: conversation, state, bytes, and the diagram with every segment named', () => {
    const r = l4('explain', http);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const out = r.stdout;
    assert.match(out, /42 frames \(EN10MB\)/);
    assert.match(out, /1 TCP conversation, 0 UDP flows/);
    assert.match(out, /TCP conversation 1: 10\.99\.0\.1:\d+ -> 10\.99\.0\.2:8080 \(client -> server\)/);
    assert.match(out, /state {6}closed: closed by the client first/);
    assert.match(out, /client -> server 86, server -> client 22189/);
    assert.match(out, /\|--- S seq=0 len=0 win=64240 -+>\| {2}3-way handshake \(SYN\)/);
    assert.match(out, /\|<-- S\. seq=0 ack=1 len=0 win=65160 -+\| {2}3-way handshake \(SYN\/ACK\)/);
    assert.match(out, /\| {2}3-way handshake \(ACK\)/);
    assert.equal(out.match(/teardown \(FIN\)/g)?.length, 2);
    assert.match(out, /0 retransmissions, 0 duplicate ACKs, 0 zero windows/);
    assert.ok(!out.includes('\u001b['), 'no colours in a pipe');
  });

  test('--json: one object with stable names', () => {
    const r = l4('explain', '--json', http);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as {
      frames: number; tcp: Array<{ id: number; bytes: { clientToServer: number; serverToClient: number }; state: { summary: string };
        segments: Array<{ frame: number; events: string[]; seq: number; ack?: number }>; rtt: { count: number } }>; udp: unknown[];
    };
    assert.equal(report.frames, 42);
    assert.equal(report.tcp.length, 1);
    assert.deepEqual(report.tcp[0]!.bytes, { clientToServer: 86, serverToClient: 22189 });
    assert.equal(report.tcp[0]!.state.summary, 'closed');
    assert.deepEqual(report.tcp[0]!.segments[0], { ...report.tcp[0]!.segments[0], frame: 3, events: ['handshake-syn'], seq: 0 });
    assert.ok(report.tcp[0]!.rtt.count > 0);
    assert.deepEqual(report.udp, []);
  });

  test('--packet on the SYN: the seeds\' layer table', { skip: needTshark() }, () => {
    const [syn] = tsharkFields(http, ['frame.number', 'tcp.srcport', 'eth.src', 'eth.dst'], { displayFilter: 'tcp.flags.syn == 1 && tcp.flags.ack == 0' });
    const r = l4('explain', http, '--packet', syn!['frame.number']!);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.match(lines[0]!, /^frame 3 at 0\.000032 s, 74 bytes on the wire: 3-way handshake \(SYN\)$/);
    for (const column of ['Layer', 'Protocol', 'PDU', 'Info', 'Ports', 'IPs', 'MACs']) assert.ok(lines[2]!.includes(` ${column} `), column);
    const order = ['Transport Layer', 'Network Layer', 'Data Link Layer', 'Physical Layer'].map((l) => lines.findIndex((x) => x.includes(l)));
    assert.ok(order.every((i, k) => i > 0 && (k === 0 || i > order[k - 1]!)), `layers in order: ${order.join(',')}`);
    const transport = lines[order[0]!]!;
    assert.match(transport, /│ TCP +│ Segments +│ 3-way handshake \(SYN\) +│ Src Port: \d+ Dst Port: 8080 +│/);
    assert.ok(transport.includes(`Src Port: ${syn!['tcp.srcport']} `));
    assert.match(lines[order[1]!]!, /│ IP +│ Packets +│.*Src IP: 10\.99\.0\.1 Dst IP: 10\.99\.0\.2/);
    assert.ok(lines[order[2]!]!.includes(`Src MAC: ${syn!['eth.src']} Dst MAC: ${syn!['eth.dst']}`));
    assert.match(lines[order[3]!]!, /│ Bits +│ [01]{8} [01]{8} [01]{8} +│/);
    const json = JSON.parse(l4('explain', http, '--packet', '3', '--json').stdout) as { frame: number; info: string; layers: Array<{ layer: string }> };
    assert.equal(json.frame, 3);
    assert.equal(json.info, '3-way handshake (SYN)');
    assert.equal(json.layers.length, 4);
  });

  test('an l4 sim capture with loss: retransmissions and duplicate ACKs are named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'l4-explain-cli-'));
    try {
      const file = join(dir, 'lossy.pcap');
      const sim = l4('sim', '--bytes', '200000', '--loss', '5%', '--delay', '10ms', '--seed', '3', '--pcap', file);
      assert.equal(sim.code, 0, sim.stderr);
      const r = l4('explain', file);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Raw IP|RAW/);
      assert.match(r.stdout, /(fast )?retransmission$/m);
      assert.match(r.stdout, /duplicate ACK #\d+ of frame \d+$/m);
      assert.match(r.stdout, /[1-9]\d* retransmissions?/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('l4 explain: bad input', () => {
  let dir = '';
  before(() => { dir = mkdtempSync(join(tmpdir(), 'l4-explain-bad-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const http = goldenCapture('http-curl.pcap');

  test('missing file', () => assertOneLineError(l4('explain', join(dir, 'nope.pcap')), /nope\.pcap: no such file/));
  test('not a capture', () => {
    writeFileSync(join(dir, 'text.pcap'), 'not a capture at all\n');
    assertOneLineError(l4('explain', join(dir, 'text.pcap')), /text\.pcap/);
  });
  test('--packet 0', () => assertOneLineError(l4('explain', http, '--packet', '0'), /--packet/));
  test('--packet 99999 (beyond the last frame)', () => assertOneLineError(l4('explain', http, '--packet', '99999'), /--packet 99999: .* has only 42 frames/));
  test('--packet abc', () => assertOneLineError(l4('explain', http, '--packet', 'abc'), /--packet/));
  test('a damaged tail: explained up to the damage, one line, exit 1', () => {
    const good = readFileSync(http);
    writeFileSync(join(dir, 'cut.pcap'), good.subarray(0, good.length - 10));
    const r = l4('explain', join(dir, 'cut.pcap'));
    assert.equal(r.code, 1);
    assert.match(r.stdout, /41 frames/);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1);
    assert.match(r.stderr, /^l4: .*cut\.pcap/);
  });
});
