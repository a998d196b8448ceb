/**
 * `l4 demo`: the seeds' scenes on a virtual network (what `npm start` runs), and the
 * printing of `l4 sim --compare` (TCP versus UDP on one impaired link), which the demo
 * shows too. Tables on stdout; `--json` prints one object.
 */
import type { Command } from 'commander';
import Table from 'cli-table3';
import pc from 'picocolors';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo, type DemoReport } from '../tools/demo.js';
import { LAYER_COLUMNS } from '../tools/explain/index.js';
import { compareRows, runCompare, type CompareOptions, type CompareReport } from '../tools/compare.js';
import { UsageError } from './errors.js';

interface DemoCliOptions { pcap?: string; json?: boolean }

function colors(): ReturnType<typeof pc.createColors> {
  return pc.createColors(process.stdout.isTTY === true);
}

function table(head: readonly string[]): Table.Table {
  const c = colors();
  return new Table({ head: head.map((h) => c.bold(h)), style: { head: [], border: [] } });
}

/** The comparison, side by side. */
export function compareLines(r: CompareReport): string[] {
  const t = table(['', 'TCP: a DICOM-sized file', 'UDP: a vital-signs stream']);
  for (const row of compareRows(r)) t.push(row);
  const c = colors();
  const tcp = r.summary.tcp;
  const verdict = tcp.intact
    ? `TCP: the file arrived whole but took ${tcp.completionSeconds.toFixed(3)} s (${tcp.retransmissions} retransmissions); UDP: each reading on time, ${r.udp.lost} of ${r.udp.sent} never came.`
    : 'TCP: the file did NOT arrive whole.';
  return [...t.toString().split('\n'), c.dim(verdict)];
}

/** `l4 sim --compare`: runs both and prints them (exit 1 if the TCP file did not arrive whole). */
export function compareCommand(options: CompareOptions, json: boolean): void {
  const report = runCompare(options);
  if (json) console.log(JSON.stringify(report, null, 2));
  else console.log(compareLines(report).join('\n'));
  process.exitCode = report.summary.tcp.intact ? 0 : 1;
}

/** The demo's text. */
export function demoLines(r: DemoReport, pcapPath: string): string[] {
  const c = colors();
  const out: string[] = [];
  out.push(c.bold(`A client at ${r.client} and a server at ${r.server} on one virtual link (10 ms each way).`), '');
  out.push(c.bold('What the client did (destination port: the service; source port: the session):'));
  const ex = table(['Service', 'Proto', 'Client (source)', 'Server (destination)', 'Reply']);
  for (const e of r.exchanges) ex.push([e.service.toUpperCase(), e.protocol.toUpperCase(), e.local, e.remote, e.reply]);
  out.push(...ex.toString().split('\n'), '');
  out.push(c.bold('The server\'s log:'), ...r.serverLog.map((l) => `  ${l}`), '');
  out.push(c.bold('netstat -an on the client while everything is open:'));
  const ns = table(['Proto', 'Local Address', 'Foreign Address', 'State']);
  for (const s of r.sockets) ns.push([s.proto, s.local, s.foreign, s.state]);
  out.push(...ns.toString().split('\n'), '');
  out.push(c.bold('The first page\'s three-way handshake, layer by layer:'));
  for (const f of r.handshake) {
    out.push(`frame ${f.frame} at ${f.timeSeconds.toFixed(6)} s: ${f.name}`);
    const t = table(LAYER_COLUMNS);
    for (const l of f.layers) t.push([l.layer, l.protocol, l.pdu, l.info, l.ports, l.ips, l.macs]);
    out.push(...t.toString().split('\n'));
  }
  out.push('');
  const cmp = r.comparison;
  out.push(c.bold(`TCP versus UDP on a lossy link (${(cmp.tcp.link.forward.dropped.loss + cmp.tcp.link.reverse.dropped.loss)} TCP packets lost at 2% loss, 20 ms delay):`));
  out.push(...compareLines(cmp), '');
  out.push(`capture: ${r.capture.packets} packets written to ${pcapPath} (try: l4 explain ${pcapPath})`);
  return out;
}

/** Adds the `demo` subcommand. */
export function registerDemo(program: Command): void {
  program.command('demo')
    .description('the seeds\' scenes on a virtual network: socket pairs, netstat, the handshake layer by layer, TCP vs UDP')
    .option('--pcap <file>', 'where to write the capture of the link (default: a file in the OS temp dir)')
    .option('--json', 'print one JSON object')
    .action(async (options: DemoCliOptions) => {
      const report = await runDemo();
      const path = options.pcap ?? join(tmpdir(), 'l4-demo.pcap');
      try {
        writeFileSync(path, report.capture.bytes);
      } catch (err) {
        throw new UsageError(`--pcap ${path}: cannot write (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      }
      if (options.json) {
        const { capture, ...rest } = report;
        console.log(JSON.stringify({ ...rest, capture: { packets: capture.packets, path } }, null, 2));
      } else {
        console.log(demoLines(report, path).join('\n'));
      }
    });
}
