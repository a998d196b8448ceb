/**
 * The TUN driver: option checks (no root needed), and in a namespace the test creates, a
 * host on a TUN device that answers ping and ping -6 and echoes a TCP stream, then goes
 * away with its interface when closed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TunDevice, TunError, openTunStack, parseInterfaceAddress } from '../../../src/drivers/tun/index.js';
import { needNetns, TestNamespace, waitForLine } from '../../support/netns.js';

const DIST = new URL('../../../src/drivers/tun/index.js', import.meta.url).href;

test('interface addresses: prefix defaults to a host route; bad ones are TunError EINVAL', () => {
  assert.deepEqual(parseInterfaceAddress('10.77.0.2/24', 4), { address: '10.77.0.2', prefixLength: 24 });
  assert.deepEqual(parseInterfaceAddress('10.77.0.2', 4), { address: '10.77.0.2', prefixLength: 32 });
  assert.deepEqual(parseInterfaceAddress('fd00:77::2/64', 6), { address: 'fd00:77::2', prefixLength: 64 });
  for (const [text, family] of [['10.77.0.2/33', 4], ['10.77.0/24', 4], ['fd00::1/129', 6], ['10.0.0.1/8', 6], ['x/1', 4], ['10.0.0.1/-1', 4]] as const) {
    assert.throws(() => parseInterfaceAddress(text, family), (e: unknown) => e instanceof TunError && e.code === 'EINVAL', text);
  }
});

test('TunDevice.open refuses a bad name or MTU before touching the kernel', () => {
  for (const name of ['', 'a-name-far-too-long', 'has space', 'sl/ash']) {
    assert.throws(() => TunDevice.open({ name }), (e: unknown) => e instanceof TunError && e.code === 'EINVAL' && /interface name/.test(e.message), name);
  }
  for (const mtu of [0, 67, 65536, 1500.5]) {
    assert.throws(() => TunDevice.open({ name: 'l4x', mtu }), (e: unknown) => e instanceof TunError && /MTU/.test(e.message), String(mtu));
  }
  assert.throws(() => openTunStack({ tun: 'l4x', address: '10.77.0.2/24', peer: '10.77.0.2' }), /own address/);
  assert.throws(() => openTunStack({ tun: 'l4x', address: '10.77.0.2/24', peer: '10.77.0.1', address6: 'fd00::2/64' }), /peer6/);
});

// A host on a TUN device with a TCP echo on port 7; it prints "ready", then closes when stdin ends.
const ECHO_HOST = `
import { openTunStack } from ${JSON.stringify(DIST)};
const t = openTunStack({ tun: 'l4tun0', address: '10.77.0.2/24', peer: '10.77.0.1', address6: 'fd00:77::2/64', peer6: 'fd00:77::1' });
t.stack.net.createServer((s) => { s.on('error', () => {}); s.pipe(s); }).listen(7, () => console.log('ready'));
process.stdin.on('data', () => {});
process.stdin.on('end', async () => { await t.close(); console.log(JSON.stringify(t.driver.stats)); });
`;

test('a host on a TUN device answers ping and ping -6 and echoes TCP; the interface goes with it', { skip: needNetns() }, async () => {
  const ns = TestNamespace.create('tundev');
  try {
    const host = ns.spawn(process.execPath, ['--input-type=module', '-e', ECHO_HOST]);
    await waitForLine(host, /^ready$/);
    assert.match(ns.must('ip', ['addr', 'show', 'l4tun0']), /inet 10\.77\.0\.1\/24[\s\S]*inet6 fd00:77::1\/64/);
    assert.match(ns.must('ping', ['-c', '3', '-i', '0.2', '-W', '5', '10.77.0.2']), /3 received/);
    assert.match(ns.must('ping', ['-6', '-c', '3', '-i', '0.2', '-W', '5', 'fd00:77::2']), /3 received/);
    const payload = 'hello over a TUN device\n'.repeat(1000);
    const echoed = ns.must('nc', ['-N', '-w', '10', '10.77.0.2', '7'], { input: payload });
    assert.equal(echoed, payload);
    host.stdin!.end();
    const stats = JSON.parse(await waitForLine(host, /^\{/)) as { handled: number; transmitted: number; misrouted: number };
    assert.ok(stats.handled > 10 && stats.transmitted > 10, JSON.stringify(stats));
    assert.equal(stats.misrouted, 0);
    await new Promise((resolve) => host.once('exit', resolve));
    assert.notEqual(ns.run('ip', ['link', 'show', 'l4tun0']).status, 0, 'the interface is gone once the device is closed');
  } finally {
    ns.delete();
  }
});
