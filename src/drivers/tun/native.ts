/**
 * The TUN addon (`native/tun.c`, built by node-gyp when `npm install` runs), loaded lazily
 * so that everything else in l4 works on machines where it was not built (macOS, a browser
 * bundle). `loadTunAddon()` throws a `TunError` that says why when it is missing.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** What the addon exports (see native/tun.c). */
export interface TunAddon {
  readonly supported: boolean;
  open(name: string): { fd: number; name: string };
  setMtu(name: string, mtu: number): void;
  setUp(name: string, up: boolean): void;
  addAddress4(name: string, address: string, prefixLength: number): void;
  addAddress6(name: string, address: string, prefixLength: number): void;
  /** Bytes written, or a negative errno. */
  write(fd: number, packet: Uint8Array): number;
  watch(fd: number, callback: (packets: Buffer[], errno?: number) => void): unknown;
  unwatch(handle: unknown): void;
  close(fd: number): void;
}

/** An error of the TUN driver: `code` is an errno name (EPERM, ENOENT...) or 'ENOADDON'. */
export class TunError extends Error {
  readonly code: string;
  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TunError';
    this.code = code;
  }
}

let cached: TunAddon | undefined;

/** The package root: the nearest folder above this file that has a package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new TunError('l4 package root not found', 'ENOADDON');
    dir = up;
  }
}

/** Loads the addon once. Throws `TunError` ('ENOADDON') when it was not built or the platform has no TUN. */
export function loadTunAddon(): TunAddon {
  if (cached) return cached;
  const path = join(packageRoot(), 'build', 'Release', 'l4tun.node');
  let addon: TunAddon;
  try {
    addon = createRequire(import.meta.url)(path) as TunAddon;
  } catch (error) {
    throw new TunError(`the TUN addon is not built (${path}); run npm install on Linux with python3, make and g++`, 'ENOADDON', { cause: error });
  }
  if (!addon.supported) throw new TunError(`TUN devices are a Linux feature; this is ${process.platform}`, 'ENOADDON');
  cached = addon;
  return addon;
}
