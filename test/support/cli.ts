/**
 * Running the real `l4` command from tests (bin/l4.js on the compiled output), and the
 * house rule for bad input: exit 2, nothing on stdout, exactly one line on stderr that
 * starts with `l4:` and names what was wrong.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';

const L4 = new URL('../../../bin/l4.js', import.meta.url).pathname;

/** What one run printed and how it exited. */
export interface L4Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `l4 ...args` to completion (synchronously: a test's own sockets stay open meanwhile), with TZ=UTC. */
export function l4(...args: string[]): L4Run {
  const r = spawnSync(process.execPath, [L4, ...args], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs `l4 ...args` while this process goes on (for a command that talks to a server this
 * test runs, such as a control socket), with TZ=UTC and `env` added to the environment.
 */
export function l4Async(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<L4Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [L4, ...args], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC', ...env } }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

/** Asserts the bad-input contract: exit 2, no stdout, one `l4: …` line on stderr matching `mentions`. */
export function assertOneLineError(r: L4Run, mentions: RegExp): void {
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line, got: ${r.stderr}`);
  assert.match(lines[0]!, /^l4: /);
  assert.match(lines[0]!, mentions);
}
