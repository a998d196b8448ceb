/**
 * Running real tools from tests. `needTool` decides between running and skipping: off CI a
 * missing tool skips the test with the reason printed; under CI=true nothing may skip, so a
 * missing tool is a failure. `tsharkFields` reads a capture through `tshark -T fields`.
 */
import { execFileSync, spawnSync } from 'node:child_process';

/** Whether a program is on PATH. */
function onPath(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Returns undefined when `name` can be run; otherwise the reason to skip. Under CI=true a
 * missing tool throws instead: CI installs every tool the tests need (.ci/run).
 */
export function needTool(name: string): string | undefined {
  if (onPath(name)) return undefined;
  const why = `${name} is not installed (CI installs it; apt-get install ${name === 'tshark' ? 'tshark' : name})`;
  if (process.env.CI === 'true') throw new Error(`${why}: under CI=true tests may not skip`);
  return why;
}

/** Whether tshark can be run, and why not. */
export function tsharkAvailable(): { ok: true } | { ok: false; why: string } {
  return onPath('tshark') ? { ok: true } : { ok: false, why: 'tshark is not installed' };
}

/** Options of {@link tsharkFields}. */
export interface TsharkFieldOptions {
  /** A display filter (`-Y`). */
  displayFilter?: string;
  /** Turn on IP, TCP and UDP checksum validation (off by default in tshark). */
  validateChecksums?: boolean;
  /** Anything else to pass. */
  extraArgs?: string[];
}

/**
 * One record per frame, keyed by field name. A field that occurs several times in a frame
 * (an ICMP error's quoted IP header, say) gives its values joined by commas, outer first.
 */
export function tsharkFields(file: string, fields: readonly string[], options: TsharkFieldOptions = {}): Array<Record<string, string>> {
  const args = ['-r', file, '-n', '-T', 'fields', '-E', 'header=n', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  if (options.validateChecksums) {
    args.push('-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE');
  }
  if (options.displayFilter) args.push('-Y', options.displayFilter);
  args.push(...(options.extraArgs ?? []));
  for (const f of fields) args.push('-e', f);
  const out = execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  return out.split('\n').filter((line) => line.length > 0).map((line) => {
    const values = line.split('\t');
    return Object.fromEntries(fields.map((f, i) => [f, values[i] ?? '']));
  });
}
