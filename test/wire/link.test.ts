import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  decapsulate, formatMac, isSupportedLinkType, linkTypeName, EtherType, LinkType, SllPacketType,
} from '../../src/wire/link.js';
import type { LinkFrame } from '../../src/wire/link.js';
import { readCapture } from '../../src/wire/capture.js';
import type { ParseResult } from '../../src/wire/result.js';
import { FUZZ_RUNS } from '../support/runs.js';
import { bytesUpTo } from '../support/arbitraries.js';
import { hex } from '../support/bytes.js';

// Real frames come from the loopback captures in test/fixtures/pcap/ (see pcap.test.ts for
// how they were made); expected fields are tshark's (eth.*, sll.*).
const FIXTURES = new URL('../../../test/fixtures/pcap/', import.meta.url);
function frames(name: string): { linkType: number; data: Uint8Array }[] {
  const b = readFileSync(new URL(name, FIXTURES));
  const r = readCapture(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
  if (!r.ok) assert.fail(r.message);
  return r.value.records;
}

function frame(r: ParseResult<LinkFrame>): LinkFrame {
  if (!r.ok) assert.fail(`decapsulate failed: ${r.reason}`);
  return r.value;
}

const IPV4_HEADER = '45000054e49a40004001' + '00007f0000017f000001';
const MAC_A = '020000000001';
const MAC_B = '020000000002';

describe('Ethernet (LINKTYPE 1)', () => {
  test('tcpdump -i lo: zero MACs, IPv4 and IPv6', () => {
    const [v4] = frames('lo-ping.pcap');
    const f = frame(decapsulate(v4!.linkType, v4!.data));
    assert.equal(f.linkType, LinkType.Ethernet);
    assert.equal(f.network, 'ipv4');
    assert.equal(f.etherType, 0x0800);
    assert.equal(formatMac(f.dstMac!), '00:00:00:00:00:00');
    assert.equal(formatMac(f.srcMac!), '00:00:00:00:00:00');
    assert.equal(f.vlan, undefined);
    assert.equal(f.headerLength, 14);
    assert.equal(f.payload.length, 84);
    assert.equal(f.payload[0], 0x45);
    assert.equal(f.payload.buffer, v4!.data.buffer, 'payload is a view');
    const v6 = frames('lo-ping.pcapng')[2]!;
    const g = frame(decapsulate(v6.linkType, v6.data));
    assert.equal(g.network, 'ipv6');
    assert.equal(g.etherType, EtherType.Ipv6);
    assert.equal(g.payload.length, 104);
    assert.equal(g.payload[0]! >> 4, 6);
  });

  test('MAC addresses are copies, formatted as tcpdump prints them', () => {
    const bytes = hex(`${MAC_A} 0a1b2c3d4eff 0800 ${IPV4_HEADER}`);
    const f = frame(decapsulate(1, bytes));
    assert.equal(formatMac(f.dstMac!), '02:00:00:00:00:01');
    assert.equal(formatMac(f.srcMac!), '0a:1b:2c:3d:4e:ff');
    bytes[0] = 0xff;
    assert.equal(f.dstMac![0], 0x02);
  });

  test('802.1Q tag: VLAN id kept, inner EtherType used', () => {
    const f = frame(decapsulate(1, hex(`${MAC_A}${MAC_B} 8100 a064 86dd 6000000000003a40`)));
    assert.deepEqual(f.vlan, [100]); // TCI a064: PCP 5, DEI 0, VID 100
    assert.equal(f.etherType, 0x86dd);
    assert.equal(f.network, 'ipv6');
    assert.equal(f.headerLength, 18);
    assert.equal(f.payload[0], 0x60);
  });

  test('802.1ad QinQ and the legacy 0x9100 outer tag: both tags walked, outermost first', () => {
    const f = frame(decapsulate(1, hex(`${MAC_A}${MAC_B} 88a8 000a 8100 0014 0800 ${IPV4_HEADER}`)));
    assert.deepEqual(f.vlan, [10, 20]);
    assert.equal(f.network, 'ipv4');
    assert.equal(f.headerLength, 22);
    const g = frame(decapsulate(1, hex(`${MAC_A}${MAC_B} 9100 0fff 8100 0001 0806 0001`)));
    assert.deepEqual(g.vlan, [4095, 1]);
    assert.equal(g.network, 'arp');
  });

  test('ARP, 802.3 length field and unknown EtherTypes', () => {
    assert.equal(frame(decapsulate(1, hex(`${MAC_A}${MAC_B} 0806 00010800`))).network, 'arp');
    const llc = frame(decapsulate(1, hex(`${MAC_A}${MAC_B} 0026 424203`)));
    assert.equal(llc.network, 'other');
    assert.equal(llc.etherType, 0x26);
    assert.equal(frame(decapsulate(1, hex(`${MAC_A}${MAC_B} 88cc 0000`))).network, 'other');
  });

  test('shorter than 14 bytes, or a VLAN tag cut short -> truncated', () => {
    assert.deepEqual(decapsulate(1, hex(`${MAC_A}${MAC_B} 08`)), { ok: false, reason: 'truncated' });
    assert.deepEqual(decapsulate(1, new Uint8Array(0)), { ok: false, reason: 'truncated' });
    assert.deepEqual(decapsulate(1, hex(`${MAC_A}${MAC_B} 8100 0064 08`)), { ok: false, reason: 'truncated' });
    assert.deepEqual(decapsulate(1, hex(`${MAC_A}${MAC_B} 8100 0064 8100`)), { ok: false, reason: 'truncated' });
    // A frame that ends right after the tags is fine: an empty payload.
    assert.equal(frame(decapsulate(1, hex(`${MAC_A}${MAC_B} 8100 0064 0800`))).payload.length, 0);
  });
});

describe('Linux cooked captures (LINKTYPE 113 and 276)', () => {
  test('SLL v1 from tcpdump -i any: loopback, IPv4 then IPv6', () => {
    const [a, , c] = frames('any-sll.pcap');
    const f = frame(decapsulate(a!.linkType, a!.data));
    assert.equal(f.linkType, LinkType.LinuxSll);
    assert.equal(f.sllPacketType, SllPacketType.Host); // sll.pkttype 0
    assert.equal(f.arphrdType, 772); // sll.hatype: ARPHRD_LOOPBACK
    assert.equal(formatMac(f.srcMac!), '00:00:00:00:00:00'); // sll.src.eth, sll.halen 6
    assert.equal(f.etherType, 0x0800);
    assert.equal(f.network, 'ipv4');
    assert.equal(f.headerLength, 16);
    assert.equal(f.payload.length, 124);
    assert.equal(f.payload[0], 0x4f); // IPv4 with 40 bytes of options (record route)
    assert.equal(f.interfaceIndex, undefined);
    const g = frame(decapsulate(c!.linkType, c!.data));
    assert.equal(g.network, 'ipv6');
    assert.equal(g.payload.length, 56);
  });

  test('SLL v2 from tcpdump -i any -y LINUX_SLL2: interface index', () => {
    const [a] = frames('any-sll2.pcap');
    const f = frame(decapsulate(a!.linkType, a!.data));
    assert.equal(f.linkType, LinkType.LinuxSll2);
    assert.equal(f.interfaceIndex, 1); // sll.ifindex
    assert.equal(f.arphrdType, 772);
    assert.equal(f.sllPacketType, 0);
    assert.equal(f.etherType, 0x0800);
    assert.equal(f.network, 'ipv4');
    assert.equal(f.headerLength, 20);
    assert.equal(f.payload.length, 84);
  });

  test('SLL v2 built: outgoing, Ethernet address, VLAN tag re-inserted by libpcap', () => {
    const f = frame(decapsulate(276, hex(`8100 0000 00000007 0001 04 06 ${MAC_A}0000 0005 86dd 60`)));
    assert.equal(f.sllPacketType, SllPacketType.Outgoing);
    assert.equal(f.interfaceIndex, 7);
    assert.equal(f.arphrdType, 1);
    assert.equal(formatMac(f.srcMac!), '02:00:00:00:00:01');
    assert.deepEqual(f.vlan, [5]);
    assert.equal(f.network, 'ipv6');
    assert.equal(f.headerLength, 24);
  });

  test('SLL: netlink devices and Linux pseudo-protocols are "other"; no srcMac unless 6 bytes', () => {
    const netlink = frame(decapsulate(113, hex('0004 0338 0000 0000000000000000 0800 00')));
    assert.equal(netlink.network, 'other'); // ARPHRD_NETLINK 824: protocol is a netlink family
    assert.equal(netlink.srcMac, undefined);
    const llc = frame(decapsulate(113, hex('0000 0001 0006 020000000001 0000 0004 aa')));
    assert.equal(llc.network, 'other'); // ETH_P_802_2
    assert.equal(formatMac(llc.srcMac!), '02:00:00:00:00:01');
  });

  test('short cooked headers -> truncated', () => {
    assert.deepEqual(decapsulate(113, new Uint8Array(15)), { ok: false, reason: 'truncated' });
    assert.deepEqual(decapsulate(276, new Uint8Array(19)), { ok: false, reason: 'truncated' });
    assert.deepEqual(decapsulate(113, hex('0000 0001 0006 020000000001 0000 8100 00')), { ok: false, reason: 'truncated' });
  });
});

describe('raw IP and loopback', () => {
  test('LINKTYPE_RAW (101) and 12: version from the first nibble', () => {
    const records = frames('rawip.pcapng');
    assert.deepEqual(records.map((r) => frame(decapsulate(r.linkType, r.data)).network), ['ipv4', 'ipv4', 'ipv6', 'ipv6']);
    const f = frame(decapsulate(12, hex(IPV4_HEADER)));
    assert.equal(f.network, 'ipv4');
    assert.equal(f.headerLength, 0);
    assert.equal(f.payload.length, 20);
    assert.equal(frame(decapsulate(101, hex('50'))).network, 'other');
    assert.deepEqual(decapsulate(101, new Uint8Array(0)), { ok: false, reason: 'truncated' });
  });

  test('LINKTYPE_IPV4 (228) and IPV6 (229) are taken at their word', () => {
    assert.equal(frame(decapsulate(228, hex('60'))).network, 'ipv4');
    assert.equal(frame(decapsulate(229, hex('45'))).network, 'ipv6');
  });

  test('NULL (0): family in either byte order; IPv6 as 24, 28 or 30', () => {
    const cases: [string, number, string][] = [
      ['02000000', 2, 'ipv4'], ['00000002', 2, 'ipv4'],
      ['18000000', 24, 'ipv6'], ['1c000000', 28, 'ipv6'], ['0000001e', 30, 'ipv6'],
      ['11000000', 17, 'other'],
    ];
    for (const [header, family, network] of cases) {
      const f = frame(decapsulate(0, hex(`${header} 45`)));
      assert.equal(f.addressFamily, family, header);
      assert.equal(f.network, network, header);
      assert.equal(f.headerLength, 4);
      assert.equal(f.payload.length, 1);
    }
    assert.deepEqual(decapsulate(0, hex('020000')), { ok: false, reason: 'truncated' });
  });

  test('LOOP (108): family always big-endian', () => {
    assert.equal(frame(decapsulate(108, hex('00000018 60'))).network, 'ipv6');
    assert.equal(frame(decapsulate(108, hex('02000000 45'))).network, 'other');
  });

  test('unknown link types give network "other" and the whole frame', () => {
    const bytes = hex('0102030405');
    const f = frame(decapsulate(147, bytes));
    assert.deepEqual({ ...f }, { linkType: 147, network: 'other', headerLength: 0, payload: bytes });
  });
});

describe('names and helpers', () => {
  test('linkTypeName uses tcpdump\'s names', () => {
    assert.deepEqual([0, 1, 12, 101, 108, 113, 228, 229, 276, 147].map(linkTypeName),
      ['NULL', 'EN10MB', 'RAW', 'RAW', 'LOOP', 'LINUX_SLL', 'IPV4', 'IPV6', 'LINUX_SLL2', 'LINKTYPE_147']);
  });

  test('isSupportedLinkType', () => {
    assert.deepEqual(Object.values(LinkType).map(isSupportedLinkType), Object.values(LinkType).map(() => true));
    assert.equal(isSupportedLinkType(105), false);
  });
});

describe('decapsulate never throws', () => {
  const linkTypes = [...Object.values(LinkType), 105, 0xffff];
  test('random frames on every link type', () => {
    // Up to 64 bytes: past the longest link header (SLL2, 20 bytes; Ethernet with two VLAN tags, 22).
    fc.assert(fc.property(fc.constantFrom(...linkTypes), bytesUpTo(64), (linkType, bytes) => {
      const r = decapsulate(linkType, bytes);
      if (!r.ok) { assert.equal(r.reason, 'truncated'); return; }
      assert.equal(r.value.headerLength + r.value.payload.length, bytes.length);
      assert.equal(r.value.payload.buffer, bytes.buffer);
    }), { numRuns: FUZZ_RUNS });
  });

  test('mutated real frames, with VLAN tags spliced in', () => {
    const real = [...frames('lo-ping.pcap'), ...frames('any-sll.pcap'), ...frames('any-sll2.pcap')];
    fc.assert(fc.property(
      fc.nat(real.length - 1), fc.array(fc.tuple(fc.nat(30), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      fc.nat(40), fc.boolean(),
      (which, flips, cut, tag) => {
        const { linkType, data } = real[which]!;
        const bytes = data.slice(0, cut);
        for (const [at, v] of flips) if (at < bytes.length) bytes[at] = v;
        if (tag && bytes.length > 14) { bytes[12] = 0x81; bytes[13] = 0x00; }
        const r = decapsulate(linkType, bytes);
        if (r.ok) assert.equal(r.value.headerLength + r.value.payload.length, bytes.length);
      },
    ), { numRuns: FUZZ_RUNS });
  });
});
