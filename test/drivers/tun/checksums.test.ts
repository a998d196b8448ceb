/**
 * A TUN device never skips checksums (issue 6, "Engine": "never on TUN"). Without root: the
 * host `openTunStack` would build (`tunHostConfig`) runs under a `TunDriver` on a stand-in
 * device; the driver pins the interface, so nothing can trust it afterwards, refuses a host
 * that trusts it already, and every packet it writes to the device carries valid checksums.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Stack } from '../../../src/api/stack.js';
import { Host } from '../../../src/core/host.js';
import { TunDriver, tunHostConfig } from '../../../src/drivers/tun/index.js';
import type { TunDevice } from '../../../src/drivers/tun/index.js';
import { parseIpAddress } from '../../../src/wire/address.js';
import { IpProtocol } from '../../../src/wire/ip-protocol.js';
import { ipv4HeaderChecksumValid } from '../../../src/wire/ipv4.js';
import { TcpFlags, tcpChecksumValid } from '../../../src/wire/tcp.js';
import { ipPacket, tcpPacket } from '../../core/support.js';

const OPTIONS = { tun: 'l4test0', address: '10.99.0.2/24', peer: '10.99.0.1', seed: 5 } as const;

/** The device's side of the driver, in memory: what the driver writes is kept. */
class FakeDevice {
  readonly name = OPTIONS.tun;
  readonly sent: Uint8Array[] = [];
  handler: ((packets: readonly Uint8Array[]) => void) | undefined;
  onPackets(handler: (packets: readonly Uint8Array[]) => void): void { this.handler = handler; }
  send(packet: Uint8Array): boolean { this.sent.push(packet.slice()); return true; }
  close(): void { this.handler = undefined; }
}

function device(fake: FakeDevice): TunDevice {
  return fake as unknown as TunDevice;
}

test('the TUN host starts verified, and the driver pins it: it can never be trusted', async () => {
  const host = new Host(tunHostConfig(OPTIONS));
  assert.equal(host.interfaces().find((i) => i.name === OPTIONS.tun)!.checksums, 'verified');
  const driver = new TunDriver(device(new FakeDevice()), new Stack(host), { iface: OPTIONS.tun });
  assert.throws(() => host.setInterfaceChecksums(OPTIONS.tun, 'trusted'), /real device/);
  assert.equal(host.interfaces().find((i) => i.name === OPTIONS.tun)!.checksums, 'verified');
  await driver.close();
});

test('a TUN driver refuses a host that already trusts its interface', () => {
  const host = new Host(tunHostConfig(OPTIONS));
  host.setInterfaceChecksums(OPTIONS.tun, 'trusted');
  assert.throws(() => new TunDriver(device(new FakeDevice()), host, { iface: OPTIONS.tun }), (e: unknown) => e instanceof RangeError && /is trusted/.test(e.message));
});

test('what the TUN host writes to the device has valid checksums, and a bad checksum from the device is dropped', async () => {
  const host = new Host(tunHostConfig(OPTIONS));
  const fake = new FakeDevice();
  const driver = new TunDriver(device(fake), host, { iface: OPTIONS.tun }).start();
  assert.ok(host.tcpListen({ port: 8080 }).ok);
  const syn = tcpPacket('10.99.0.1', '10.99.0.2', { srcPort: 40000, dstPort: 8080, seqNumber: 1, flags: TcpFlags.SYN, window: 1000 });
  const spoiled = syn.slice();
  spoiled[20 + 16]! ^= 0xff;
  fake.handler!([spoiled]);
  assert.equal(fake.sent.length, 0);
  assert.equal(host.stats.drops['bad-checksum'], 1);
  fake.handler!([syn]);
  assert.equal(fake.sent.length, 1, 'the SYN-ACK');
  const synAck = fake.sent[0]!;
  assert.equal(synAck[9], IpProtocol.Tcp);
  assert.ok(ipv4HeaderChecksumValid(synAck), 'IPv4 header checksum');
  assert.ok(tcpChecksumValid(synAck.subarray(20), parseIpAddress('10.99.0.2')!, parseIpAddress('10.99.0.1')!), 'TCP checksum');
  assert.notEqual((synAck[36]! << 8) | synAck[37]!, 0);
  // And a UDP datagram to a closed port draws a valid ICMP error.
  fake.handler!([ipPacket('10.99.0.1', '10.99.0.2', IpProtocol.Udp, Uint8Array.of(0x9c, 0x40, 0x1f, 0x91, 0, 8, 0, 0))]);
  assert.equal(fake.sent.length, 2);
  assert.ok(ipv4HeaderChecksumValid(fake.sent[1]!));
  await driver.close();
});
