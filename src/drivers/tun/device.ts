/**
 * A Linux TUN device: a network interface whose far end is this process. The kernel routes
 * IP packets to it like to any interface, and they arrive here whole (IFF_TUN | IFF_NO_PI:
 * no link header, no packet-information prefix); what we write is handed to the kernel's IP
 * input as if it had arrived on that interface.
 *
 * `TunDevice.open` creates the interface (or attaches to an existing persistent one), sets its
 * MTU, gives the kernel's side its addresses and brings it up. Reading runs on libuv's own
 * loop (`uv_poll` in the addon): when the descriptor is readable a batch of packets is read
 * and handed over in one call, with no thread hop. `send` writes one packet synchronously.
 * `close` stops reading and closes the descriptor, which removes a non-persistent interface
 * and the kernel's routes through it.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { loadTunAddon, TunError, type TunAddon } from './native.js';

/** How to open a TUN device. */
export interface TunDeviceOptions {
  /** Interface name, 1 to 15 characters of [A-Za-z0-9_.-] (IFNAMSIZ). */
  readonly name: string;
  /** The interface MTU; default 1500. 68 (IPv4's minimum) to 65535. */
  readonly mtu?: number;
  /** The kernel side's IPv4 address with prefix, `'10.77.0.1/24'`: the kernel routes that prefix to the device. */
  readonly kernelAddress?: string;
  /** The kernel side's IPv6 address with prefix, `'fd00:77::1/64'`. */
  readonly kernelAddress6?: string;
}

/** Counters of a device. */
export interface TunDeviceStats {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  /** Writes the kernel refused (the packet is lost, as on a full queue). */
  txErrors: number;
}

const NAME = /^[A-Za-z0-9_.-]{1,15}$/;

/** Splits `'a.b.c.d/n'` or `'x::y/n'`, checking both parts. */
export function parseInterfaceAddress(text: string, family: 4 | 6): { address: string; prefixLength: number } {
  const slash = text.lastIndexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const prefixText = slash < 0 ? String(family === 4 ? 32 : 128) : text.slice(slash + 1);
  const max = family === 4 ? 32 : 128;
  const ok = family === 4 ? isIPv4(address) : isIPv6(address);
  if (!ok || !/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) {
    throw new TunError(`'${text}' is not an IPv${family} address with a prefix length (0-${max})`, 'EINVAL');
  }
  return { address, prefixLength: Number(prefixText) };
}

/** Turns an addon error into a TunError whose message says what to do. */
function explain(error: unknown, name: string): TunError {
  const code = (error as { code?: string }).code ?? 'EUNKNOWN';
  const detail = error instanceof Error ? error.message : String(error);
  switch (code) {
    case 'EPERM':
    case 'EACCES':
      return new TunError(`cannot create TUN interface ${name}: permission denied (needs root or CAP_NET_ADMIN)`, code, { cause: error });
    case 'ENOENT':
    case 'ENODEV':
    case 'ENXIO':
      return new TunError(`cannot create TUN interface ${name}: no /dev/net/tun on this machine (modprobe tun)`, code, { cause: error });
    case 'EBUSY':
      return new TunError(`TUN interface ${name} is in use by another process`, code, { cause: error });
    default:
      return new TunError(`TUN interface ${name}: ${detail}`, code, { cause: error });
  }
}

/** An open TUN device (see the module doc). */
export class TunDevice {
  /** The interface's name, as the kernel shows it in `ip link`. */
  readonly name: string;
  readonly mtu: number;
  readonly stats: TunDeviceStats = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, txErrors: 0 };
  readonly #addon: TunAddon;
  #fd: number;
  #watch: unknown;

  private constructor(addon: TunAddon, fd: number, name: string, mtu: number) {
    this.#addon = addon;
    this.#fd = fd;
    this.name = name;
    this.mtu = mtu;
  }

  /** Opens and configures the device. Throws `TunError` with a message that says what to do. */
  static open(options: TunDeviceOptions): TunDevice {
    if (!NAME.test(options.name)) {
      throw new TunError(`'${options.name}' is not an interface name (1-15 characters of letters, digits, _ . -)`, 'EINVAL');
    }
    const mtu = options.mtu ?? 1500;
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new TunError(`MTU ${mtu} is out of range (68-65535)`, 'EINVAL');
    const v4 = options.kernelAddress === undefined ? undefined : parseInterfaceAddress(options.kernelAddress, 4);
    const v6 = options.kernelAddress6 === undefined ? undefined : parseInterfaceAddress(options.kernelAddress6, 6);
    const addon = loadTunAddon();
    let opened: { fd: number; name: string };
    try {
      opened = addon.open(options.name);
    } catch (error) {
      throw explain(error, options.name);
    }
    const device = new TunDevice(addon, opened.fd, opened.name, mtu);
    try {
      addon.setMtu(opened.name, mtu);
      if (v4) addon.addAddress4(opened.name, v4.address, v4.prefixLength);
      addon.setUp(opened.name, true);
      // IPv6 addresses are accepted once the interface is up (before, IPv6 may not be enabled on it).
      if (v6) addon.addAddress6(opened.name, v6.address, v6.prefixLength);
    } catch (error) {
      device.close();
      throw explain(error, opened.name);
    }
    return device;
  }

  /** True until `close`. */
  get isOpen(): boolean {
    return this.#fd >= 0;
  }

  /** Starts reading: `handler` gets each batch of packets that arrived. Once per device. */
  onPackets(handler: (packets: readonly Uint8Array[]) => void): void {
    if (this.#fd < 0) throw new TunError(`TUN interface ${this.name} is closed`, 'EBADF');
    if (this.#watch !== undefined) throw new TunError(`TUN interface ${this.name} already has a reader`, 'EBUSY');
    this.#watch = this.#addon.watch(this.#fd, (packets) => {
      for (const p of packets) {
        this.stats.rxPackets++;
        this.stats.rxBytes += p.length;
      }
      if (packets.length > 0) handler(packets);
    });
  }

  /** Writes one IP packet. False when the kernel refused it (counted in `txErrors`; the packet is lost). */
  send(packet: Uint8Array): boolean {
    if (this.#fd < 0) return false;
    const n = this.#addon.write(this.#fd, packet);
    if (n !== packet.length) {
      this.stats.txErrors++;
      return false;
    }
    this.stats.txPackets++;
    this.stats.txBytes += n;
    return true;
  }

  /** Stops reading and closes the descriptor (the interface goes away unless persistent). Idempotent. */
  close(): void {
    if (this.#watch !== undefined) {
      this.#addon.unwatch(this.#watch);
      this.#watch = undefined;
    }
    if (this.#fd >= 0) {
      const fd = this.#fd;
      this.#fd = -1;
      this.#addon.close(fd);
    }
  }
}
