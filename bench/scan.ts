/**
 * A full 1-65535 TCP SYN scan of one host by `l4 scan --type syn` (l4's own packets on a
 * TUN device) beside `nmap -T4 -sS -p-` of the same host, in the same run (issue 8). The
 * topology is the interop test's: namespace `l4b-scanx` holds both scanners and l4's TUN
 * device (l4 10.67.0.2, the kernel 10.67.0.1, forwarding on), joined by a veth pair to
 * `l4b-scany` (10.67.1.2), where python3 listens on a few TCP ports and nftables, when
 * present, drops two. Each figure is the wall time of the whole command (process start to
 * exit), best of `runs`; both scanners must find the same open ports, or the run throws.
 *
 * Needs root, iproute2, nmap, python3 and the TUN addon; without them it says why and
 * returns no figures. The namespaces are removed afterwards.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Figure } from './wire.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const X = 'l4b-scanx';
const Y = 'l4b-scany';
const TARGET = '10.67.1.2';
const OPEN = [22, 80, 443, 8080];

/** Why this benchmark cannot run here, or undefined. */
export function scanBenchUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const tool of ['ip', 'nmap', 'python3']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `needs ${tool}`;
  }
  if (spawnSync('sh', ['-c', 'test -e build/Release/l4tun.node'], { cwd: ROOT }).status !== 0) return 'the TUN addon is not built';
  return undefined;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'ignore' });
}

function inNs(ns: string, command: string, args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', ns, command, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
}

/** Wall seconds of `command args` in `ns`, and its stdout. */
function timed(ns: string, command: string, args: string[]): { seconds: number; stdout: string } {
  const t0 = performance.now();
  const stdout = inNs(ns, command, args);
  return { seconds: (performance.now() - t0) / 1000, stdout };
}

const LISTENERS = `
import socket, sys
socks = []
for p in ${JSON.stringify(OPEN)}:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', p)); s.listen(256); socks.append(s)
print('ready', flush=True)
sys.stdin.read()
`;

/** Runs the comparison (see the module doc). */
export async function benchScan(runs = 3): Promise<Figure[]> {
  const why = scanBenchUnavailable();
  if (why !== undefined) {
    console.error(`bench scan: skipped (${why})`);
    return [];
  }
  for (const ns of [X, Y]) spawnSync('ip', ['netns', 'del', ns]);
  let listeners: ChildProcess | undefined;
  try {
    for (const ns of [X, Y]) {
      ip('netns', 'add', ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    ip('link', 'add', 'l4bsx0', 'netns', X, 'type', 'veth', 'peer', 'name', 'l4bsy0', 'netns', Y);
    ip('-n', X, 'addr', 'add', '10.67.1.1/24', 'dev', 'l4bsx0');
    ip('-n', Y, 'addr', 'add', `${TARGET}/24`, 'dev', 'l4bsy0');
    ip('-n', X, 'link', 'set', 'l4bsx0', 'up');
    ip('-n', Y, 'link', 'set', 'l4bsy0', 'up');
    ip('-n', Y, 'route', 'add', '10.67.0.0/24', 'via', '10.67.1.1');
    inNs(X, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    if (spawnSync('sh', ['-c', 'command -v nft']).status === 0) {
      execFileSync('ip', ['netns', 'exec', Y, 'nft', '-f', '-'], {
        input: 'table inet l4b {\n chain input {\n  type filter hook input priority 0; policy accept;\n  tcp dport { 135, 139 } drop\n }\n}\n',
      });
    }
    listeners = spawn('ip', ['netns', 'exec', Y, 'python3', '-c', LISTENERS], { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: listeners!.stdout! }).on('line', (l) => { if (l === 'ready') resolve(); });
      listeners!.once('exit', (code) => reject(new Error(`listeners exited ${code}`)));
    });

    let l4Best = Infinity;
    let nmapBest = Infinity;
    for (let i = 0; i < runs; i++) {
      const l4 = timed(X, process.execPath, [`${ROOT}bin/l4.js`, 'scan', TARGET, '--type', 'syn', '-p-', '--tun', 'l4bscan0', '--address', '10.67.0.2/24', '--peer', '10.67.0.1', '--json']);
      const report = JSON.parse(l4.stdout) as { hosts: Array<{ ports: Array<{ port: number; state: string }> }> };
      const l4Open = report.hosts[0]!.ports.filter((p) => p.state === 'open').map((p) => p.port);
      const nmap = timed(X, 'nmap', ['-Pn', '-n', '-T4', '-sS', '-p-', '-oG', '-', TARGET]);
      const nmapOpen = [...nmap.stdout.matchAll(/(\d+)\/open\/tcp/g)].map((m) => Number(m[1]));
      if (JSON.stringify(l4Open) !== JSON.stringify(OPEN) || JSON.stringify(nmapOpen) !== JSON.stringify(OPEN)) {
        throw new Error(`open ports differ: l4 ${l4Open.join(',')}, nmap ${nmapOpen.join(',')}, expected ${OPEN.join(',')}`);
      }
      l4Best = Math.min(l4Best, l4.seconds);
      nmapBest = Math.min(nmapBest, nmap.seconds);
    }
    return [
      { name: 'scan_nmap_t4_syn_65535_seconds', value: nmapBest, unit: 's' },
      { name: 'scan_l4_syn_65535_seconds', value: l4Best, unit: 's', ratio: l4Best / nmapBest, baseline: 'scan_nmap_t4_syn_65535_seconds' },
    ];
  } finally {
    listeners?.kill('SIGKILL');
    for (const ns of [X, Y]) spawnSync('ip', ['netns', 'del', ns]);
  }
}
