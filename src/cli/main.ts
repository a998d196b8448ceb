/**
 * The `l4` command: one program, one style, subcommands for each tool. This module owns
 * argument parsing (commander) and the exit-code contract every subcommand follows:
 * 0 success, 1 the tool ran and found a failure, 2 bad usage or unusable input, reported
 * as one clear line on stderr (never a stack trace).
 */
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { registerDecode } from './decode.js';
import { registerSim } from './sim.js';
import { registerExplain } from './explain.js';
import { registerPorts } from './ports.js';
import { registerNetstat } from './netstat.js';
import { registerDemo } from './demo.js';
import { registerNc } from './nc.js';
import { registerServe } from './serve.js';
import { registerScan } from './scan.js';
import { registerBench } from './bench.js';
import { UsageError } from './errors.js';

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Builds the command tree. Exposed so tests can inspect it. */
export function buildProgram(): Command {
  const program = new Command('l4')
    .description('The transport layer (TCP, UDP, IPv4, IPv6, ICMP) in TypeScript, and the tools to see it.')
    .version(packageVersion(), '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    // One line, always: commander's "(Did you mean --x?)" joins the error's line.
    .configureOutput({ outputError: (text, write) => write(`l4: ${text.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ')}\n`) });
  program.addHelpText('after', `
Examples:
  l4 decode capture.pcap            one line per packet, in tcpdump's manner
  l4 decode capture.pcapng --json   one JSON record per packet, every field
  l4 sim --bytes 8MiB --bandwidth 10mbit --delay 20ms --loss 1%
                                    a TCP transfer over an impaired virtual link

Exit codes: 0 ok, 1 failure found, 2 bad usage or unreadable input.`);
  registerDecode(program);
  registerSim(program);
  registerExplain(program);
  registerPorts(program);
  registerNetstat(program);
  registerDemo(program);
  registerNc(program);
  registerServe(program);
  registerScan(program);
  registerBench(program);
  return program;
}

/** Runs the command line and returns the exit code (the caller sets process.exitCode). */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    // Subcommands report a non-zero outcome (1: the tool found a failure) through process.exitCode.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are not errors; everything else commander refuses is bad usage.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`l4: ${err.message}\n`);
      return 2;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`l4: internal error: ${message}\n`);
    if (process.env.L4_DEBUG) console.error(err);
    return 1;
  }
}
