/**
 * Network namespaces for the interop tests (DESIGN.md: "put l4 on a TUN device in a network
 * namespace that the test creates"). `TestNamespace.create` makes a namespace with its
 * loopback up; `spawnL4` runs the real `l4` command inside it (so `l4 serve` opens its TUN
 * device there, and the kernel side of the device, with curl, ping, nmap, lives only in that
 * namespace); `run` runs any program there to completion; `delete` kills what still runs in
 * it and removes it. Nothing here sends a packet outside the namespace.
 *
 * Skipping: `needNetns()` is the reason to skip (not root, no `ip`, no /dev/net/tun, the TUN
 * addon not built), or undefined; under CI=true it throws instead, as `needTool` does.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { missing, needTool } from './tshark.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const L4 = `${ROOT}bin/l4.js`;

/** Why interop tests cannot run here (a skip reason), or undefined when they can. Throws under CI=true. */
export function needNetns(): string | undefined {
  if (process.platform !== 'linux') return missing('network namespaces and TUN are Linux only');
  if (process.getuid?.() !== 0) return missing('needs root (network namespaces, TUN)');
  const ip = needTool('ip');
  if (ip !== undefined) return ip;
  try {
    accessSync('/dev/net/tun', constants.R_OK | constants.W_OK);
  } catch {
    return missing('no /dev/net/tun');
  }
  if (!existsSync(`${ROOT}build/Release/l4tun.node`)) return missing('the TUN addon is not built (npm install builds it)');
  return undefined;
}

let counter = 0;

/** A network namespace the test owns. */
export class TestNamespace {
  readonly name: string;
  readonly #children = new Set<ChildProcess>();

  private constructor(name: string) {
    this.name = name;
  }

  /** Creates `l4-<tag>-<pid>-<n>` with loopback up. */
  static create(tag: string): TestNamespace {
    const name = `l4-${tag}-${process.pid}-${counter++}`.slice(0, 40);
    execFileSync('ip', ['netns', 'add', name]);
    const ns = new TestNamespace(name);
    ns.must('ip', ['link', 'set', 'lo', 'up']);
    return ns;
  }

  /** Runs `command args` in the namespace to completion. */
  run(command: string, args: readonly string[], options: { input?: string | Uint8Array; timeoutMs?: number; encoding?: 'buffer' } = {}): SpawnSyncReturns<Buffer> {
    return spawnSync('ip', ['netns', 'exec', this.name, command, ...args], {
      input: options.input,
      timeout: options.timeoutMs ?? 120_000,
      maxBuffer: 256 * 1024 * 1024,
    });
  }

  /** Like `run`, but throws with its stderr unless it exits 0; returns stdout as text. */
  must(command: string, args: readonly string[], options: { input?: string | Uint8Array; timeoutMs?: number } = {}): string {
    const r = this.run(command, args, options);
    if (r.status !== 0) {
      throw new Error(`${command} ${args.join(' ')} in ${this.name} exited ${r.status ?? r.signal}: ${r.stderr.toString()}${r.error ? ` (${r.error.message})` : ''}`);
    }
    return r.stdout.toString();
  }

  /** Starts `command args` in the namespace; killed by `delete` if still running. */
  spawn(command: string, args: readonly string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.name, command, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    return child;
  }

  /** Starts the real `l4 ...args` in the namespace. */
  spawnL4(...args: string[]): ChildProcess {
    return this.spawn(process.execPath, [L4, ...args]);
  }

  /** Kills every process still in the namespace and deletes it. Safe to call twice. */
  delete(): void {
    for (const child of this.#children) child.kill('SIGKILL');
    const pids = spawnSync('ip', ['netns', 'pids', this.name], { encoding: 'utf8' }).stdout ?? '';
    for (const pid of pids.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
    spawnSync('ip', ['netns', 'del', this.name]);
  }
}

/**
 * Resolves with the first line of `child`'s stdout (or stderr) that matches `pattern` (a server's
 * "listening" line). Rejects if the child exits first, or after `timeoutMs` (a guard against
 * a hung test, not a timing assertion), with what it printed on stderr.
 */
export function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs = 20_000, stream: 'stdout' | 'stderr' = 'stdout'): Promise<string> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const lines = createInterface({ input: stream === 'stdout' ? child.stdout! : child.stderr! });
    const done = (error?: Error, line?: string): void => {
      clearTimeout(timer);
      lines.off('line', onLine);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(line!);
    };
    const onLine = (line: string): void => {
      if (pattern.test(line)) done(undefined, line);
    };
    const onExit = (code: number | null): void => done(new Error(`exited ${code} before printing ${pattern}: ${stderr}`));
    const timer = setTimeout(() => done(new Error(`no line matching ${pattern} within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    lines.on('line', onLine);
    child.once('exit', onExit);
  });
}
