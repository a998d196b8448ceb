/**
 * `l4 decode FILE [--json]`: prints every packet of a pcap or pcapng file, one line each in
 * tcpdump's manner, or one JSON record each. A missing, empty or corrupt file is one line on
 * stderr and exit 2; a file whose tail is damaged prints the packets before the damage,
 * then says where it stopped, and exits 1.
 */
import type { Command } from 'commander';
import { readCaptureFileSync } from '../drivers/pcap/reader.js';
import { decodePacket, decodedToJson, TcpdumpFormatter } from '../tools/decode/index.js';
import { UsageError } from './errors.js';
import { LineWriter } from './output.js';

interface DecodeOptions {
  json?: boolean;
  count?: number;
}

/** Adds the `decode` subcommand to the program. */
export function registerDecode(program: Command): void {
  program.command('decode')
    .description('print the packets of a pcap or pcapng capture, one line each in tcpdump\'s manner')
    .argument('<file>', 'a pcap or pcapng file (tcpdump, tshark, Wireshark or l4)')
    .option('--json', 'one JSON record per packet, with every field of every layer')
    .option('-c, --count <n>', 'stop after n packets', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`--count must be a positive integer, not '${v}'`);
      return n;
    })
    .action(async (file: string, options: DecodeOptions) => {
      process.exitCode = await decodeCommand(file, options);
    });
}

async function decodeCommand(file: string, options: DecodeOptions): Promise<number> {
  const read = readCaptureFileSync(file);
  if (!read.ok) throw new UsageError(read.message);
  const capture = read.capture;
  const formatter = new TcpdumpFormatter();
  const out = new LineWriter();
  let printed = 0;
  for (const record of capture.records) {
    if (options.count !== undefined && printed >= options.count) break;
    const packet = decodePacket(record);
    const line = options.json ? JSON.stringify(decodedToJson(packet)) : formatter.format(packet);
    if (!(await out.line(line))) return 0; // the reader went away (e.g. `| head`): stop quietly
    printed++;
  }
  await out.flush();
  if (capture.error && (options.count === undefined || printed < options.count)) {
    process.stderr.write(`l4: ${file}: ${capture.error.message}\n`);
    return 1;
  }
  return 0;
}
