import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseIpAddress } from '../../src/wire/address.js';
import { socketPairKey } from '../../src/core/endpoint.js';
import type { Endpoint } from '../../src/core/endpoint.js';
import { DEFAULT_EPHEMERAL_PORTS, EphemeralPortAllocator } from '../../src/core/ports.js';
import { Rng } from '../../src/time/rng.js';

function ip(text: string): Uint8Array {
  const a = parseIpAddress(text);
  assert.ok(a, text);
  return a;
}

function key(seed: number): Uint8Array {
  return new Rng(seed).fill(new Uint8Array(16));
}

/** A miniature socket table: the socket pairs in use. */
class Pairs {
  readonly used = new Set<string>();
  free(local: Uint8Array, remote: Endpoint): (port: number) => boolean {
    return (port) => !this.used.has(socketPairKey({ address: local, port }, remote));
  }
  take(allocator: EphemeralPortAllocator, local: Uint8Array, remote: Endpoint): number | undefined {
    const port = allocator.allocate(local, remote, this.free(local, remote));
    if (port !== undefined) this.used.add(socketPairKey({ address: local, port }, remote));
    return port;
  }
}

const LOCAL = ip('10.0.0.1');

describe('EphemeralPortAllocator (RFC 6056 Algorithm 3)', () => {
  test('ports stay in the range; the default range is 49152-65535', () => {
    assert.deepEqual(DEFAULT_EPHEMERAL_PORTS, { low: 49152, high: 65535 });
    const a = new EphemeralPortAllocator(DEFAULT_EPHEMERAL_PORTS, key(1));
    const pairs = new Pairs();
    for (let i = 0; i < 2000; i++) {
      const port = pairs.take(a, LOCAL, { address: ip(`10.0.${i >> 8}.${i & 0xff}`), port: 80 })!;
      assert.ok(port >= 49152 && port <= 65535, String(port));
    }
  });

  test('the start is randomized per destination, not sequential across destinations', () => {
    const a = new EphemeralPortAllocator(DEFAULT_EPHEMERAL_PORTS, key(2));
    const pairs = new Pairs();
    const ports = Array.from({ length: 50 }, (_, i) => pairs.take(a, LOCAL, { address: ip(`192.0.2.${i + 1}`), port: 443 })!);
    assert.equal(new Set(ports).size, ports.length);
    // Sequential allocation would make nearly every step +1; hashed offsets scatter them.
    const steps = ports.slice(1).map((p, i) => p - ports[i]!);
    assert.ok(steps.filter((s) => Math.abs(s) <= 2).length < 5, `steps ${steps.join(' ')}`);
    // And the spread covers much of the range.
    assert.ok(Math.max(...ports) - Math.min(...ports) > 8000);
  });

  test('another key gives other ports (the offset is a keyed hash)', () => {
    const remote = { address: ip('192.0.2.1'), port: 443 };
    const offsets = [1, 2, 3, 4, 5].map((s) => new EphemeralPortAllocator(DEFAULT_EPHEMERAL_PORTS, key(s)).offset(LOCAL, remote));
    assert.equal(new Set(offsets).size, 5);
    // The offset depends on the remote port and the local address too.
    const a = new EphemeralPortAllocator(DEFAULT_EPHEMERAL_PORTS, key(1));
    assert.notEqual(a.offset(LOCAL, remote), a.offset(LOCAL, { ...remote, port: 444 }));
    assert.notEqual(a.offset(LOCAL, remote), a.offset(ip('10.0.0.2'), remote));
  });

  test('one destination takes consecutive ports; the same seed replays the same ports', () => {
    const remote = { address: ip('192.0.2.1'), port: 80 };
    const run = () => {
      const a = new EphemeralPortAllocator(DEFAULT_EPHEMERAL_PORTS, key(9));
      const pairs = new Pairs();
      return Array.from({ length: 10 }, () => pairs.take(a, LOCAL, remote)!);
    };
    const ports = run();
    assert.deepEqual(run(), ports);
    for (let i = 1; i < ports.length; i++) {
      assert.equal(ports[i], ports[i - 1] === 65535 ? 49152 : ports[i - 1]! + 1);
    }
  });

  test('exhaustion toward one destination, while another destination still gets ports', () => {
    const range = { low: 50000, high: 50015 };
    const a = new EphemeralPortAllocator(range, key(3));
    const pairs = new Pairs();
    const server = { address: ip('192.0.2.1'), port: 80 };
    const got = Array.from({ length: 16 }, () => pairs.take(a, LOCAL, server));
    assert.deepEqual([...got].sort((x, y) => x! - y!), Array.from({ length: 16 }, (_, i) => 50000 + i));
    assert.equal(pairs.take(a, LOCAL, server), undefined, 'range exhausted toward 192.0.2.1:80');
    // The same ports serve another remote port, and another remote address.
    const other = { address: ip('192.0.2.1'), port: 81 };
    const third = { address: ip('192.0.2.2'), port: 80 };
    const otherPorts = Array.from({ length: 16 }, () => pairs.take(a, LOCAL, other));
    const thirdPorts = Array.from({ length: 16 }, () => pairs.take(a, LOCAL, third));
    assert.ok(otherPorts.every((p) => p !== undefined) && thirdPorts.every((p) => p !== undefined));
    assert.deepEqual(new Set(otherPorts), new Set(got), 'ports shared across different remotes');
    assert.deepEqual(new Set(thirdPorts), new Set(got));
    // Freeing one pair makes exactly that port available again toward the exhausted destination.
    pairs.used.delete(socketPairKey({ address: LOCAL, port: got[5]! }, server));
    assert.equal(pairs.take(a, LOCAL, server), got[5]);
  });

  test('allocateUnused finds a port no socket uses', () => {
    const a = new EphemeralPortAllocator({ low: 1000, high: 1009 }, key(4));
    const busy = new Set([1000, 1001, 1002, 1003, 1004, 1005, 1006, 1008, 1009]);
    assert.equal(a.allocateUnused(123456, (p) => !busy.has(p)), 1007);
    busy.add(1007);
    assert.equal(a.allocateUnused(0, (p) => !busy.has(p)), undefined);
  });

  test('a bad range or key is a RangeError', () => {
    for (const range of [{ low: 0, high: 10 }, { low: 10, high: 9 }, { low: 1, high: 65536 }, { low: 1.5, high: 9 }]) {
      assert.throws(() => new EphemeralPortAllocator(range, key(1)), RangeError);
    }
    assert.throws(() => new EphemeralPortAllocator(DEFAULT_EPHEMERAL_PORTS, new Uint8Array(8)), RangeError);
  });
});
