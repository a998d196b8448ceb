/**
 * The three IANA port ranges (RFC 6335 6), shared by TCP and UDP, and which ports need the
 * host's `privileged` option.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FIRST_UNPRIVILEGED_PORT, IANA_PORT_RANGES, isPrivilegedPort, portRange } from '../../src/core/ports.js';

describe('IANA port ranges', () => {
  test('well-known 0-1023, registered 1024-49151, dynamic 49152-65535', () => {
    assert.deepEqual(IANA_PORT_RANGES, {
      'well-known': { low: 0, high: 1023 }, 'registered': { low: 1024, high: 49151 }, 'dynamic': { low: 49152, high: 65535 },
    });
    const cases: Array<[number, string]> = [[0, 'well-known'], [53, 'well-known'], [1023, 'well-known'], [1024, 'registered'],
      [8080, 'registered'], [49151, 'registered'], [49152, 'dynamic'], [65535, 'dynamic']];
    for (const [port, range] of cases) assert.equal(portRange(port), range, String(port));
    for (const [name, r] of Object.entries(IANA_PORT_RANGES)) {
      assert.equal(portRange(r.low), name);
      assert.equal(portRange(r.high), name);
    }
  });

  test('not a port: RangeError', () => {
    for (const bad of [-1, 65536, 1.5, Number.NaN]) assert.throws(() => portRange(bad), RangeError, String(bad));
  });

  test('privileged: 1-1023; 0 asks for an ephemeral port and needs nothing', () => {
    assert.equal(FIRST_UNPRIVILEGED_PORT, 1024);
    assert.deepEqual([0, 1, 80, 1023, 1024, 65535].map(isPrivilegedPort), [false, true, true, true, false, false]);
  });
});
