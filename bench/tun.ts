/**
 * Download throughput from l4 over a TUN device, beside the same download from a kernel
 * TCP server across a veth pair, in the same run (issue 5). Both servers are Node serving
 * the same file from memory over HTTP; the client is curl in a network namespace:
 *
 * - l4: `l4 serve --http` on a TUN device in namespace `l4b-tun`; curl in that namespace.
 * - kernel: Node's http on the kernel's TCP in namespace `l4b-srv`, joined to `l4b-cli` by a
 *   veth pair (MTU 1500 both, like the TUN device); curl in `l4b-cli`.
 *
 * Needs root, iproute2, curl and the TUN addon; without them it reports why and returns no
 * figures. The namespaces are removed afterwards.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Figure } from './wire.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MiB = 1024 * 1024;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'ignore' });
}

function inNs(ns: string, command: string, args: string[]): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function ready(child: ChildProcess, pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    let err = '';
    child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
    lines.on('line', (line) => { if (pattern.test(line)) resolve(); });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
}

/** Best of `runs` curl downloads of `url` in `ns`, in Gbit/s. */
function curlGbps(ns: string, url: string, bytes: number, runs: number): number {
  let best = 0;
  for (let i = 0; i < runs; i++) {
    const r = spawnSync('ip', ['netns', 'exec', ns, 'curl', '-sS', '-o', '/dev/null', '-w', '%{size_download} %{time_total}', url], { encoding: 'utf8' });
    const [size, seconds] = r.stdout.split(' ').map(Number);
    if (r.status !== 0 || size !== bytes) throw new Error(`curl ${url} failed: ${r.stderr}`);
    best = Math.max(best, (bytes * 8) / seconds! / 1e9);
  }
  return best;
}

/** Why this benchmark cannot run here, or undefined. */
export function tunBenchUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const tool of ['ip', 'curl']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `needs ${tool}`;
  }
  if (spawnSync('sh', ['-c', 'test -e build/Release/l4tun.node'], { cwd: ROOT }).status !== 0) return 'the TUN addon is not built';
  return undefined;
}

const KERNEL_SERVER = `
const http = require('node:http');
const body = require('node:fs').readFileSync(process.argv[1]);
http.createServer((req, res) => { res.writeHead(200, { 'content-length': body.length }); res.end(body); })
  .listen(80, '10.79.1.2', () => console.log('ready'));
`;

/** Runs the comparison (see the module doc). */
export async function benchTun(sizeMiB = 200, runs = 3): Promise<Figure[]> {
  const why = tunBenchUnavailable();
  if (why !== undefined) {
    console.error(`bench tun: skipped (${why})`);
    return [];
  }
  const dir = mkdtempSync(join(tmpdir(), 'l4-bench-'));
  const bytes = sizeMiB * MiB;
  const file = join(dir, 'file.bin');
  writeFileSync(file, Buffer.alloc(bytes, 0x5a));
  const spaces = ['l4b-tun', 'l4b-srv', 'l4b-cli'];
  for (const ns of spaces) spawnSync('ip', ['netns', 'del', ns]);
  const children: ChildProcess[] = [];
  try {
    for (const ns of spaces) {
      ip('netns', 'add', ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    ip('link', 'add', 'l4b0', 'netns', 'l4b-cli', 'type', 'veth', 'peer', 'name', 'l4b1', 'netns', 'l4b-srv');
    ip('-n', 'l4b-cli', 'addr', 'add', '10.79.1.1/24', 'dev', 'l4b0');
    ip('-n', 'l4b-srv', 'addr', 'add', '10.79.1.2/24', 'dev', 'l4b1');
    ip('-n', 'l4b-cli', 'link', 'set', 'l4b0', 'up');
    ip('-n', 'l4b-srv', 'link', 'set', 'l4b1', 'up');

    const kernel = inNs('l4b-srv', process.execPath, ['-e', KERNEL_SERVER, file]);
    children.push(kernel);
    await ready(kernel, /^ready$/);
    const l4 = inNs('l4b-tun', process.execPath, [join(ROOT, 'bin/l4.js'), 'serve', '--tun', 'l4b', '--address', '10.79.0.2/24', '--peer', '10.79.0.1', '--http', `80=${dir}`, '--no-control']);
    children.push(l4);
    await ready(l4, /^l4 serve: ready/);

    const kernelGbps = curlGbps('l4b-cli', 'http://10.79.1.2/', bytes, runs);
    const l4Gbps = curlGbps('l4b-tun', 'http://10.79.0.2/file.bin', bytes, runs);
    return [
      { name: 'tun_kernel_veth_download_gbps', value: kernelGbps, unit: 'Gbit/s' },
      { name: 'tun_l4_download_gbps', value: l4Gbps, unit: 'Gbit/s', ratio: l4Gbps / kernelGbps, baseline: 'tun_kernel_veth_download_gbps' },
    ];
  } finally {
    for (const c of children) c.kill('SIGKILL');
    for (const ns of spaces) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  }
}
