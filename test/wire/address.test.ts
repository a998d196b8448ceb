import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatIp, formatIpv6, ipEquals, parseIpAddress, parseIpv4Address, parseIpv6Address } from '../../src/wire/address.js';
import { ROUND_TRIP_RUNS } from '../support/runs.js';

describe('IP address text', () => {
  test('IPv4 dotted quad', () => {
    assert.deepEqual(parseIpv4Address('10.77.0.2'), Uint8Array.of(10, 77, 0, 2));
    for (const bad of ['10.0.0', '256.1.1.1', '01.2.3.4', '1.2.3.4.5', '', 'a.b.c.d', '1..2.3']) {
      assert.equal(parseIpv4Address(bad), null, bad);
    }
  });

  test('IPv6 per RFC 5952: longest zero run, lower case, first of equal runs', () => {
    const cases: Array<[string, string]> = [
      ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['::', '::'],
      ['::1', '::1'],
      ['fe80::', 'fe80::'],
      ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
      ['fd00:77::2', 'fd00:77::2'],
    ];
    for (const [input, canonical] of cases) assert.equal(formatIpv6(parseIpv6Address(input)!), canonical, input);
    for (const bad of [':::', '1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', 'fe80::1%eth0']) {
      assert.equal(parseIpv6Address(bad), null, bad);
    }
  });

  test('format then parse is the identity for any address', () => {
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 16, maxLength: 16 })), (a) => {
      const back = parseIpAddress(formatIp(a));
      assert.ok(back && ipEquals(back, a), formatIp(a));
    }), { numRuns: ROUND_TRIP_RUNS });
  });
});
