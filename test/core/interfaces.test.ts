import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { formatIp, parseIpAddress } from '../../src/wire/address.js';
import {
  InterfaceTable, LOOPBACK_MTU, maskAddress, parseCidr, prefixContains,
} from '../../src/core/interfaces.js';

function ip(text: string): Uint8Array {
  const a = parseIpAddress(text);
  assert.ok(a, text);
  return a;
}

function routeText(table: InterfaceTable, dst: string): string | undefined {
  const r = table.route(ip(dst));
  return r && `${r.iface} src ${formatIp(r.source)} via ${formatIp(r.nextHop)}${r.local ? ' local' : ''}`;
}

describe('prefixes', () => {
  test('parseCidr reads both families and refuses malformed text', () => {
    assert.deepEqual(parseCidr('10.0.0.1/24'), { address: ip('10.0.0.1'), prefixLength: 24 });
    assert.deepEqual(parseCidr('fd00::1/64'), { address: ip('fd00::1'), prefixLength: 64 });
    assert.deepEqual(parseCidr('0.0.0.0/0'), { address: ip('0.0.0.0'), prefixLength: 0 });
    for (const bad of ['10.0.0.1', '10.0.0.1/33', 'fd00::1/129', '10.0.0.1/', '10.0.0.1/024', 'x/8', '10.0.0.1/-1', '/8']) {
      assert.equal(parseCidr(bad), null, bad);
    }
  });

  test('prefixContains compares whole and partial bytes, never across families', () => {
    assert.ok(prefixContains(ip('10.0.0.0'), 8, ip('10.255.1.2')));
    assert.ok(!prefixContains(ip('10.0.0.0'), 8, ip('11.0.0.1')));
    assert.ok(prefixContains(ip('192.168.0.0'), 20, ip('192.168.15.255')));
    assert.ok(!prefixContains(ip('192.168.0.0'), 20, ip('192.168.16.0')));
    assert.ok(prefixContains(ip('0.0.0.0'), 0, ip('1.2.3.4')));
    assert.ok(!prefixContains(ip('0.0.0.0'), 0, ip('::1')));
    assert.ok(prefixContains(ip('fd00::'), 7, ip('fc00::1')));
    assert.ok(prefixContains(ip('10.1.2.3'), 32, ip('10.1.2.3')));
    assert.ok(!prefixContains(ip('10.1.2.3'), 32, ip('10.1.2.4')));
  });

  test('maskAddress clears the host bits', () => {
    assert.equal(formatIp(maskAddress(ip('10.1.2.3'), 20)), '10.1.0.0');
    assert.equal(formatIp(maskAddress(ip('fd00:1:2:3::7'), 48)), 'fd00:1:2::');
  });
});

describe('InterfaceTable', () => {
  const table = new InterfaceTable(
    [
      { name: 'eth0', addresses: ['10.0.0.1/24', 'fd00::1/64'] },
      { name: 'eth1', addresses: ['192.168.1.10/24', '192.168.1.11/24'], mtu: 9000 },
    ],
    [
      { destination: '0.0.0.0/0', gateway: '10.0.0.254', iface: 'eth0' },
      { destination: '172.16.0.0/12', gateway: '192.168.1.1', iface: 'eth1' },
      { destination: '172.16.5.0/24', gateway: '10.0.0.253', iface: 'eth0' },
      { destination: '::/0', gateway: 'fd00::fe', iface: 'eth0' },
    ],
  );

  test('connected routes come from the addresses, then the configured ones', () => {
    const text = table.routes().map((r) => `${formatIp(r.destination)}/${r.prefixLength} ${r.iface} ${r.kind}`);
    assert.deepEqual(text, [
      '10.0.0.0/24 eth0 connected', 'fd00::/64 eth0 connected',
      '192.168.1.0/24 eth1 connected', '192.168.1.0/24 eth1 connected',
      '127.0.0.0/8 lo connected', '::1/128 lo connected',
      '0.0.0.0/0 eth0 static', '172.16.0.0/12 eth1 static', '172.16.5.0/24 eth0 static', '::/0 eth0 static',
    ]);
  });

  test('longest prefix match', () => {
    assert.equal(routeText(table, '10.0.0.7'), 'eth0 src 10.0.0.1 via 10.0.0.7');
    assert.equal(routeText(table, '192.168.1.99'), 'eth1 src 192.168.1.10 via 192.168.1.99');
    assert.equal(routeText(table, '172.20.0.1'), 'eth1 src 192.168.1.10 via 192.168.1.1');
    assert.equal(routeText(table, '172.16.5.9'), 'eth0 src 10.0.0.1 via 10.0.0.253');
    assert.equal(routeText(table, 'fd00::9'), 'eth0 src fd00::1 via fd00::9');
  });

  test('the default route catches the rest; the MTU is the interface\'s', () => {
    assert.equal(routeText(table, '8.8.8.8'), 'eth0 src 10.0.0.1 via 10.0.0.254');
    assert.equal(routeText(table, '2001:db8::1'), 'eth0 src fd00::1 via fd00::fe');
    assert.equal(table.route(ip('8.8.8.8'))!.mtu, 1500);
    assert.equal(table.route(ip('192.168.1.2'))!.mtu, 9000);
  });

  test('no route without a covering prefix', () => {
    const bare = new InterfaceTable([{ name: 'eth0', addresses: ['10.0.0.1/24'] }]);
    assert.equal(bare.route(ip('10.0.1.1')), undefined);
    assert.equal(bare.route(ip('fd00::1')), undefined);
    assert.equal(bare.route(new Uint8Array(5)), undefined);
  });

  test('our own addresses route locally, 127.0.0.0/8 and ::1 included', () => {
    assert.equal(routeText(table, '10.0.0.1'), 'eth0 src 10.0.0.1 via 10.0.0.1 local');
    assert.equal(routeText(table, '192.168.1.11'), 'eth1 src 192.168.1.11 via 192.168.1.11 local');
    assert.equal(routeText(table, '127.0.0.1'), 'lo src 127.0.0.1 via 127.0.0.1 local');
    assert.equal(routeText(table, '127.3.2.1'), 'lo src 127.3.2.1 via 127.3.2.1 local');
    assert.equal(routeText(table, '::1'), 'lo src ::1 via ::1 local');
    assert.equal(table.get('lo')!.mtu, LOOPBACK_MTU);
    assert.ok(table.isLocal(ip('127.9.9.9')));
    assert.ok(!table.isLocal(ip('10.0.0.2')));
    assert.equal(table.ownerOf(ip('fd00::1')), 'eth0');
  });

  test('egress names the interface, MTU and locality route() would, for every kind of destination', () => {
    const bare = new InterfaceTable([{ name: 'eth0', addresses: ['10.0.0.1/24'] }], [{ destination: '::/0', iface: 'eth0' }]);
    for (const [t, dst] of [
      [table, '10.0.0.7'], [table, '192.168.1.99'], [table, '172.20.0.1'], [table, '172.16.5.9'], [table, 'fd00::9'],
      [table, '8.8.8.8'], [table, '2001:db8::1'], [table, '10.0.0.1'], [table, '127.3.2.1'], [table, '::1'],
      [bare, '10.0.1.1'], [bare, '2001:db8::1'], [bare, '10.0.0.9'],
    ] as const) {
      const r = t.route(ip(dst));
      const e = t.egress(ip(dst));
      assert.deepEqual(e, r === undefined ? undefined : { iface: r.iface, mtu: r.mtu, local: r.local }, dst);
    }
    assert.equal(bare.egress(ip('2001:db8::1')), undefined, 'a route, but no IPv6 source address');
    assert.equal(table.egress(new Uint8Array(5)), undefined);
  });

  test('the loopback interface can be left out', () => {
    const t = new InterfaceTable([{ name: 'eth0', addresses: ['10.0.0.1/24'] }], [], { loopback: false });
    assert.deepEqual(t.interfaces().map((i) => i.name), ['eth0']);
    assert.equal(t.route(ip('127.0.0.1')), undefined);
  });

  test('source address: on the destination\'s prefix, else the interface\'s first, else another interface\'s (weak host)', () => {
    const t = new InterfaceTable(
      [
        { name: 'eth0', addresses: ['10.0.0.1/24', '10.0.1.1/24'] },
        { name: 'tun0', addresses: ['fd00::1/64'] },
      ],
      [{ destination: '0.0.0.0/0', gateway: '10.0.1.254', iface: 'eth0' }, { destination: '198.51.100.0/24', iface: 'tun0' }],
    );
    assert.equal(routeText(t, '10.0.1.9'), 'eth0 src 10.0.1.1 via 10.0.1.9');
    assert.equal(routeText(t, '8.8.8.8'), 'eth0 src 10.0.1.1 via 10.0.1.254'); // the gateway's prefix
    assert.equal(routeText(t, '198.51.100.7'), 'tun0 src 10.0.0.1 via 198.51.100.7'); // tun0 has no IPv4 address
  });

  test('a bad configuration is a RangeError that names the problem', () => {
    const cases: Array<[() => unknown, RegExp]> = [
      [() => new InterfaceTable([{ name: '', addresses: [] }]), /non-empty name/],
      [() => new InterfaceTable([{ name: 'a', addresses: [] }, { name: 'a', addresses: [] }]), /configured twice/],
      [() => new InterfaceTable([{ name: 'a', addresses: ['10.0.0.1'] }]), /'10.0.0.1' is not an address with a prefix/],
      [() => new InterfaceTable([{ name: 'a', addresses: ['10.0.0.1/24'], mtu: 67 }]), /MTU 67/],
      [() => new InterfaceTable([{ name: 'a', addresses: ['10.0.0.1/24'], mtu: 70000 }]), /MTU 70000/],
      [() => new InterfaceTable([{ name: 'a', addresses: ['fd00::1/64'], mtu: 1279 }]), /1280 IPv6 requires/],
      [() => new InterfaceTable([{ name: 'a', addresses: ['224.0.0.1/4'] }]), /not a unicast/],
      [() => new InterfaceTable([{ name: 'a', addresses: ['0.0.0.0/0'] }]), /not a unicast/],
      [() => new InterfaceTable([{ name: 'a', addresses: ['10.0.0.1/24'] }, { name: 'b', addresses: ['10.0.0.1/16'] }]), /already on 'a'/],
      [() => new InterfaceTable([{ name: 'a', addresses: ['10.0.0.1/24'] }], [{ destination: '0.0.0.0/0', iface: 'b' }]), /no interface 'b'/],
      [() => new InterfaceTable([{ name: 'a', addresses: ['10.0.0.1/24'] }], [{ destination: '10.1.0.1/16', iface: 'a' }]), /bits set past its prefix/],
      [() => new InterfaceTable([{ name: 'a', addresses: ['10.0.0.1/24'] }], [{ destination: 'default', iface: 'a' }]), /not a prefix/],
      [() => new InterfaceTable([{ name: 'a', addresses: ['10.0.0.1/24'] }], [{ destination: '0.0.0.0/0', gateway: '10.9.0.1', iface: 'a' }]), /not on a prefix of 'a'/],
      [() => new InterfaceTable([{ name: 'a', addresses: ['10.0.0.1/24'] }], [{ destination: '0.0.0.0/0', gateway: 'fd00::1', iface: 'a' }]), /family/],
    ];
    for (const [make, message] of cases) assert.throws(make, (e: unknown) => e instanceof RangeError && message.test(e.message), String(message));
  });
});
