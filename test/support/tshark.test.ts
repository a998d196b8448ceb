/**
 * The tshark helper against the project's own golden captures: icmp.pcap (ARP, three
 * pings, a UDP datagram to a closed port and its ICMP port unreachable; checksum offload
 * off, so every checksum is real) and offload-on.pcap (checksum offload left on, so the
 * captured TCP checksums are partial and tshark calls them bad).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  goldenCapture, needTool, needTshark, tsharkAvailable, tsharkExpertInfo, tsharkFields, tsharkMalformed,
} from './tshark.js';

const skip = needTshark();
const icmp = goldenCapture('icmp.pcap');
const offloadOn = goldenCapture('offload-on.pcap');

describe('tshark helper', { skip }, () => {
  test('tsharkAvailable says yes', () => {
    assert.deepEqual(tsharkAvailable(), { ok: true });
  });

  test('icmp.pcap: one record per frame, keyed by field, ICMP types in order', () => {
    const frames = tsharkFields(icmp, ['frame.number', 'icmp.type', 'icmp.code']);
    assert.equal(frames.length, 10);
    assert.deepEqual(frames.map((f) => f['frame.number']), ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
    // ARP, ARP, 3 x (echo request, echo reply), the UDP datagram, port unreachable.
    assert.deepEqual(frames.map((f) => f['icmp.type']), ['', '', '8', '0', '8', '0', '8', '0', '', '3']);
    assert.equal(frames[9]!['icmp.code'], '3');
  });

  test('a frame without the only field asked for is an empty record, not a dropped line', () => {
    const frames = tsharkFields(icmp, ['icmp.type']);
    assert.equal(frames.length, 10);
    assert.deepEqual(frames[0], { 'icmp.type': '' });
  });

  test('display filter, and repeated fields joined by the aggregator', () => {
    const unreachable = tsharkFields(icmp, ['frame.number', 'ip.src', 'udp.dstport'], { displayFilter: 'icmp.type == 3' });
    assert.equal(unreachable.length, 1);
    // The ICMP error's own IP header, then the quoted one.
    assert.equal(unreachable[0]!['ip.src'], '10.99.0.2,10.99.0.1');
    assert.equal(unreachable[0]!['udp.dstport'], '9');
    const semicolon = tsharkFields(icmp, ['ip.src'], { displayFilter: 'icmp.type == 3', aggregator: ';' });
    assert.equal(semicolon[0]!['ip.src'], '10.99.0.2;10.99.0.1');
  });

  test('validateChecksums turns IPv4 header checksums from unverified (2) into good (1)', () => {
    const echo = 'icmp.type == 8';
    const plain = tsharkFields(icmp, ['ip.checksum.status', 'icmp.checksum.status'], { displayFilter: echo });
    const checked = tsharkFields(icmp, ['ip.checksum.status', 'icmp.checksum.status'], { displayFilter: echo, validateChecksums: true });
    assert.deepEqual(plain.map((f) => f['ip.checksum.status']), ['2', '2', '2']);
    assert.deepEqual(checked.map((f) => f['ip.checksum.status']), ['1', '1', '1']);
    assert.deepEqual(checked.map((f) => f['icmp.checksum.status']), ['1', '1', '1']);
  });

  test('icmp.pcap has no malformed frame and no bad checksum', () => {
    assert.deepEqual(tsharkMalformed(icmp), []);
    assert.deepEqual(tsharkExpertInfo(icmp), []);
  });

  test('offload-on.pcap: every TCP segment has a bad checksum, nothing else is wrong', () => {
    const tcpFrames = tsharkFields(offloadOn, ['frame.number'], { displayFilter: 'tcp' }).map((f) => Number(f['frame.number']));
    const problems = tsharkMalformed(offloadOn);
    assert.deepEqual(problems.map((p) => p.frame), tcpFrames);
    for (const p of problems) {
      assert.equal(p.malformed, false);
      assert.deepEqual(p.badChecksums, ['tcp']);
      assert.ok(p.messages.some((m) => m.startsWith('Bad checksum')), p.messages.join('; '));
    }
    const errors = tsharkExpertInfo(offloadOn, { minSeverity: 'error' });
    assert.deepEqual(errors.map((f) => f.frame), tcpFrames);
    assert.ok(errors.every((f) => f.items.every((i) => i.severity === 'error' && i.group === 'checksum')));
    // Without validation tshark does not look at the TCP checksum at all.
    assert.deepEqual(tsharkMalformed(offloadOn, { validateChecksums: false }), []);
  });

  test('a tshark failure throws with its message', () => {
    assert.throws(() => tsharkFields(icmp, ['no.such.field']), /no\.such\.field|not a valid field/i);
  });
});

describe('needTool', () => {
  test('a tool on PATH needs no skip', () => {
    assert.equal(needTool('sh'), undefined);
  });

  test('a missing tool: a skip reason off CI, an error under CI=true', () => {
    const name = 'l4-no-such-tool-anywhere';
    const saved = process.env.CI;
    try {
      process.env.CI = 'true';
      assert.throws(() => needTool(name), /must not skip under CI=true/);
      delete process.env.CI;
      assert.match(needTool(name) ?? '', /l4-no-such-tool-anywhere not found on PATH/);
      process.env.CI = 'false';
      assert.match(needTool(name) ?? '', /not found/);
    } finally {
      if (saved === undefined) delete process.env.CI;
      else process.env.CI = saved;
    }
  });
});
