/**
 * l4 on a Linux TUN device: `openTunStack` makes the device, gives the kernel's side its
 * addresses, builds an l4 host whose interface is the device (its own address, a default
 * route through the kernel's side) and runs it in real time. The kernel and every program on
 * the machine (curl, ping, nmap) then reach l4's sockets through ordinary routing.
 */
import { randomInt } from 'node:crypto';
import { Host, type HostConfig } from '../../core/host.js';
import { Stack } from '../../api/stack.js';
import type { TcpConfig } from '../../core/tcp/types.js';
import { TunDevice, parseInterfaceAddress } from './device.js';
import { TunDriver, type TunDriverOptions } from './driver.js';
import { TunError } from './native.js';

export { TunDevice, parseInterfaceAddress } from './device.js';
export type { TunDeviceOptions, TunDeviceStats } from './device.js';
export { TunDriver } from './driver.js';
export type { TunDriverOptions, TunDriverStats } from './driver.js';
export { TunError, loadTunAddon } from './native.js';

/** How to put an l4 host on a TUN device. */
export interface TunStackOptions {
  /** The interface name (`l4tun0`, say). */
  readonly tun: string;
  /** l4's own IPv4 address with prefix, `'10.77.0.2/24'`. */
  readonly address: string;
  /** The kernel's side, in the same prefix, `'10.77.0.1'`: its address on the device and l4's gateway. */
  readonly peer: string;
  /** l4's IPv6 address with prefix, `'fd00:77::2/64'` (optional). */
  readonly address6?: string;
  /** The kernel's IPv6 address on the device (required with `address6`). */
  readonly peer6?: string;
  /** Default 1500. */
  readonly mtu?: number;
  /** Host seed (ISNs, ports); a random one unless given. */
  readonly seed?: number;
  /** May bind ports below 1024 (default true: a server). */
  readonly privileged?: boolean;
  readonly tcp?: Partial<TcpConfig>;
  /** Sees every packet crossing the device (see `TunDriverOptions.capture`). */
  readonly capture?: TunDriverOptions['capture'];
}

/** An l4 host running on a TUN device. */
export interface TunStack {
  readonly stack: Stack;
  readonly driver: TunDriver;
  readonly device: TunDevice;
  /** Stops the driver and closes the device (the interface disappears). */
  close(): Promise<void>;
}

/**
 * The configuration of the host `openTunStack` runs: one interface named after the device,
 * with l4's addresses and the MTU, and default routes through the kernel's side. Its
 * checksums are 'verified' like every interface's, and the driver pins them so (`TunDriver`).
 * Throws `TunError` on bad addresses.
 */
export function tunHostConfig(options: TunStackOptions): HostConfig {
  const own = parseInterfaceAddress(options.address, 4);
  const peer = parseInterfaceAddress(options.peer, 4);
  if (peer.address === own.address) throw new TunError(`--peer ${options.peer} is l4's own address`, 'EINVAL');
  let peer6: { address: string; prefixLength: number } | undefined;
  if (options.address6 !== undefined) {
    if (options.peer6 === undefined) throw new TunError('an IPv6 address needs the kernel side\'s IPv6 address too (--peer6)', 'EINVAL');
    parseInterfaceAddress(options.address6, 6);
    peer6 = parseInterfaceAddress(options.peer6, 6);
  }
  return {
    name: options.tun,
    seed: options.seed ?? randomInt(0, 2 ** 31),
    privileged: options.privileged ?? true,
    interfaces: [{
      name: options.tun,
      addresses: [options.address, ...(options.address6 !== undefined ? [options.address6] : [])],
      mtu: options.mtu ?? 1500,
    }],
    routes: [
      { destination: '0.0.0.0/0', gateway: peer.address, iface: options.tun },
      ...(peer6 ? [{ destination: '::/0', gateway: peer6.address, iface: options.tun }] : []),
    ],
    ...(options.tcp ? { tcp: options.tcp } : {}),
  };
}

/** Opens the device and runs a host on it (see the module doc). Throws `TunError` on bad options or a device it cannot open. */
export function openTunStack(options: TunStackOptions): TunStack {
  const config = tunHostConfig(options);
  const own = parseInterfaceAddress(options.address, 4);
  const peer = parseInterfaceAddress(options.peer, 4);
  const own6 = options.address6 !== undefined ? parseInterfaceAddress(options.address6, 6) : undefined;
  const peer6 = options.peer6 !== undefined && own6 !== undefined ? parseInterfaceAddress(options.peer6, 6) : undefined;
  let host: Host;
  try {
    host = new Host(config);
  } catch (error) {
    throw new TunError(error instanceof Error ? error.message : String(error), 'EINVAL', { cause: error });
  }
  const device = TunDevice.open({
    name: options.tun,
    mtu: options.mtu ?? 1500,
    kernelAddress: `${peer.address}/${own.prefixLength}`,
    ...(peer6 && own6 ? { kernelAddress6: `${peer6.address}/${own6.prefixLength}` } : {}),
  });
  const stack = new Stack(host);
  const driver = new TunDriver(device, stack, { iface: options.tun, ...(options.capture ? { capture: options.capture } : {}) });
  stack.attach(driver);
  driver.start();
  return { stack, driver, device, close: () => driver.close() };
}
