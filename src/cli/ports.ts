/**
 * `l4 ports QUERY [--json] [--about]`: the IANA port registry offline. QUERY is a port
 * (`443`), a service name (`https`) or a word of the description (`dicom`), optionally with
 * a protocol (`443/tcp`). Prints every name the port has on TCP and UDP, its RFC 6335
 * range, and the seeds' notes: cleartext ports with their secure alternative, healthcare
 * ports. A bad query (port 70000, empty) is one line and exit 2; no match is exit 1.
 */
import type { Command } from 'commander';
import Table from 'cli-table3';
import pc from 'picocolors';
import { lookup, parseQuery, registryAbout, type PortRecord } from '../tools/registry.js';
import { CLEARTEXT_REMINDER, HEALTHCARE_REMINDER } from '../tools/registry-data.js';
import { UsageError } from './errors.js';
import { LineWriter } from './output.js';

interface PortsOptions {
  json?: boolean;
  about?: boolean;
}

/** Adds the `ports` subcommand to the program. */
export function registerPorts(program: Command): void {
  program.command('ports')
    .description('look up the IANA service-name and port-number registry, offline: by port, name or word')
    .argument('[query]', 'a port (443), port/protocol (53/udp), service name (https) or word (dicom)')
    .option('--json', 'print an array of records (port, protocol, service, description, range, note, …)')
    .option('--about', 'say where the data comes from: source, package version and date')
    .addHelpText('after', `
Examples:
  l4 ports 443          https on tcp and udp, its range, and that it is the secure port
  l4 ports 53/udp       domain on udp only
  l4 ports telnet       port 23, with the warning and the secure alternative (ssh 22)
  l4 ports dicom        DICOM ports: 104 (acr-nema), 2761, 2762 (TLS), 11112
  l4 ports 49152        the first dynamic/ephemeral port (never assigned)
  l4 ports --about      the registry's source and date

Ranges (RFC 6335): 0-1023 system (well-known), 1024-49151 user (registered),
49152-65535 dynamic (ephemeral).
Exit codes: 0 found, 1 no match, 2 bad query.`)
    .action(async (query: string | undefined, options: PortsOptions) => {
      process.exitCode = await portsCommand(query, options);
    });
}

async function portsCommand(query: string | undefined, options: PortsOptions): Promise<number> {
  if (options.about) {
    printAbout(options.json === true);
    return 0;
  }
  if (query === undefined) throw new UsageError('ports: give a port (443), a service name (https) or a word (dicom); or --about');
  const parsed = parseQuery(query);
  if (parsed.kind === 'error') throw new UsageError(`ports: ${parsed.message}`);
  const records = lookup(parsed);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
  } else if (records.length > 0) {
    await printTable(records);
  }
  if (records.length === 0) {
    process.stderr.write(`l4: ports: nothing in the registry matches '${query}'\n`);
    return 1;
  }
  return 0;
}

function printAbout(json: boolean): void {
  const about = registryAbout();
  if (json) {
    process.stdout.write(`${JSON.stringify(about, null, 2)}\n`);
    return;
  }
  const lines = [
    `Source:   ${about.source}`,
    `          ${about.url}`,
    `Package:  ${about.package} ${about.packageVersion} (npm; built from IANA's CSV)`,
    `Date:     ${about.published ? `${about.published} (the package's publish date)` : 'unknown'}`,
    `          ${about.dateNote}`,
    `Entries:  ${about.entries} TCP and UDP names (${about.restoredNames} of them restored by l4 where the package keeps only the last name of a port)`,
    `Ranges:   ${about.ranges.map((r) => `${r.first}-${r.last} ${r.label} (${r.kind})`).join(', ')} (RFC 6335)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

const RANGE_CELL: Record<PortRecord['range'], string> = {
  system: 'system (well-known)',
  user: 'user (registered)',
  dynamic: 'dynamic (ephemeral)',
};

/** The Note column: the seeds' warning and alternative for a cleartext port, "secure" for a secure one, the healthcare use. */
export function noteCell(r: PortRecord, c: ReturnType<typeof pc.createColors> = pc.createColors(false)): string {
  let note = r.note ?? '';
  if (r.healthcare && !note.toLowerCase().includes(r.healthcare.toLowerCase())) note = `${r.healthcare}${note ? `: ${note}` : ''}`;
  if (r.cleartext) return c.yellow(`⚠ ${note}${r.secureAlternative ? `; use ${r.secureAlternative}` : ''}`);
  if (r.secure) return c.green(/secure/i.test(note) ? note : `secure: ${note}`);
  return note;
}

async function printTable(records: readonly PortRecord[]): Promise<void> {
  const tty = process.stdout.isTTY === true;
  const c = pc.createColors(tty);
  const width = tty ? process.stdout.columns : 0;
  // On a terminal, wrap the two long columns to fit; in a pipe, keep each row on one line.
  const wrap = width >= 80 ? Math.max(16, Math.floor((width - 52) / 2)) : null;
  const table = new Table({
    head: ['Port', 'Protocol', 'Service', 'Description', 'Range', 'Note'],
    style: { head: [], border: [], compact: true },
    ...(wrap ? { colWidths: [null, null, null, wrap, null, wrap], wordWrap: true } : {}),
  });
  for (const r of records) {
    table.push([
      r.port,
      r.protocol,
      r.service === '' ? '-' : r.service,
      r.listed ? r.description : c.dim(`(not listed) ${r.description}`),
      RANGE_CELL[r.range],
      noteCell(r, c),
    ]);
  }
  const out = new LineWriter();
  for (const line of table.toString().split('\n')) {
    if (!(await out.line(line))) return;
  }
  if (records.some((r) => r.cleartext)) await out.line(`⚠ ${CLEARTEXT_REMINDER}`);
  if (records.some((r) => r.healthcare)) await out.line(HEALTHCARE_REMINDER);
  await out.flush();
}
