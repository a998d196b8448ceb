/**
 * `l4 explain FILE [--json] [--packet N]`: what happened in a pcap or pcapng capture. For
 * each TCP conversation its socket pair, state, bytes each way, RTT samples and a sequence
 * diagram with every segment named (handshake, data, ACK, retransmission, duplicate ACK,
 * zero window, teardown, ...); UDP flows with counts each way; ICMP errors with the flow
 * they quote. `--packet N` prints frame N layer by layer in the seeds' table (Layer,
 * Protocol, PDU, Info, Ports, IPs, MACs). A missing or unreadable file, or a frame number
 * beyond the capture, is one line on stderr and exit 2; a capture whose tail is damaged is
 * explained up to the damage, then one line says where it stopped, and the exit code is 1.
 */
import type { Command } from 'commander';
import Table from 'cli-table3';
import pc from 'picocolors';
import { readCaptureFileSync } from '../drivers/pcap/reader.js';
import {
  conversationDiagram, explainCapture, formatEndpoint, frameInfo, layerTable, LAYER_COLUMNS,
  type Explained, type ExplainReport, type TcpConversationReport, type TcpEventName,
} from '../tools/explain/index.js';
import { UsageError } from './errors.js';
import { LineWriter } from './output.js';
import { parseInteger } from './units.js';

interface ExplainOptions {
  json?: boolean;
  packet?: number;
}

/** Adds the `explain` subcommand. */
export function registerExplain(program: Command): void {
  program.command('explain')
    .description('explain a pcap or pcapng capture: TCP conversations as sequence diagrams, UDP flows, ICMP errors; or one frame layer by layer')
    .argument('<file>', 'a pcap or pcapng file (tcpdump, tshark, Wireshark or l4)')
    .option('--json', 'print one JSON object: every conversation with its segments, events and figures')
    .option('--packet <n>', 'explain frame n (1-based, as Wireshark numbers frames) layer by layer',
      (v: string) => parseInteger('--packet', v, 1, 2 ** 32 - 1))
    .addHelpText('after', `
Examples:
  l4 explain capture.pcap              every TCP conversation as a sequence diagram, UDP flows, ICMP errors
  l4 explain capture.pcapng --json     the same as one JSON object (stable field names)
  l4 explain capture.pcap --packet 3   frame 3 layer by layer: Transport, Network, Data Link, Physical

Segments are named as Wireshark's TCP analysis names them (tcp.analysis.*): retransmission,
fast retransmission, spurious retransmission, out-of-order, duplicate ACK, zero window,
window update, keep-alive, ... Times are seconds since the first frame; seq and ack are
relative to each side's initial sequence number.`)
    .action(async (file: string, options: ExplainOptions) => {
      process.exitCode = await explainCommand(file, options);
    });
}

async function explainCommand(file: string, options: ExplainOptions): Promise<number> {
  const read = readCaptureFileSync(file);
  if (!read.ok) throw new UsageError(read.message);
  const capture = read.capture;
  if (options.packet !== undefined && options.packet > capture.records.length) {
    const readable = capture.error ? ' readable' : '';
    throw new UsageError(`--packet ${options.packet}: ${file} has only ${capture.records.length}${readable} frame${capture.records.length === 1 ? '' : 's'}`);
  }
  const explained = explainCapture(capture.records);
  const out = new LineWriter();
  const lines = options.packet !== undefined ? packetLines(explained, options.packet, options.json === true)
    : options.json ? [JSON.stringify(explained.report, null, 2)] : reportLines(file, explained.report);
  for (const line of lines) {
    if (!(await out.line(line))) return 0; // the reader went away (`| head`): stop quietly
  }
  await out.flush();
  if (capture.error && options.packet === undefined) {
    process.stderr.write(`l4: ${file}: ${capture.error.message}\n`);
    return 1;
  }
  return 0;
}

function colors(): ReturnType<typeof pc.createColors> {
  return pc.createColors(process.stdout.isTTY === true);
}

/** The layer table of one frame (or its JSON). */
function packetLines(explained: Explained, frame: number, json: boolean): string[] {
  const packet = explained.packets[frame - 1]!;
  const info = frameInfo(explained.report, packet);
  const rows = layerTable(packet, info);
  const time = explained.packets.length > 0 ? Number(packet.record.timestamp - explained.packets[0]!.record.timestamp) / 1e9 : 0;
  if (json) return [JSON.stringify({ frame, time, info, layers: rows }, null, 2)];
  const c = colors();
  const table = new Table({ head: [...LAYER_COLUMNS].map((h) => c.bold(h)), style: { head: [], border: [] } });
  for (const r of rows) table.push([r.layer, r.protocol, r.pdu, r.info, r.ports, r.ips, r.macs]);
  return [`frame ${frame} at ${time.toFixed(6)} s, ${packet.record.originalLength} bytes on the wire${packet.missingBytes > 0 ? ` (${packet.record.capturedLength} captured)` : ''}: ${info}`, ...table.toString().split('\n')];
}

/** Figures as `n word`, with a plural s. */
function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function ms(value: number | undefined): string {
  return value === undefined ? '-' : `${value.toFixed(3)} ms`;
}

function n(conv: TcpConversationReport, ...names: TcpEventName[]): number {
  return names.reduce((sum, e) => sum + (conv.counts[e] ?? 0), 0);
}

/** The whole report for people. */
function reportLines(file: string, r: ExplainReport): string[] {
  const c = colors();
  const lines: string[] = [];
  const other = Object.entries(r.other).map(([kind, k]) => `${kind} ${k}`).join(', ');
  lines.push(`${file}: ${count(r.frames, 'frame')} (${r.linkTypes.join(', ') || 'no link type'}), ${r.duration.toFixed(6)} s${r.firstTimestamp ? `, from ${r.firstTimestamp}` : ''}`);
  lines.push(`${count(r.tcp.length, 'TCP conversation')}, ${count(r.udp.length, 'UDP flow')}, ${count(r.icmpErrors.length, 'ICMP error')}${other ? `; other frames: ${other}` : ''}`);

  if (r.tcp.length > 0) {
    lines.push('');
    const table = new Table({
      head: ['#', 'Client', 'Server', 'State', 'Frames', 'Bytes c->s', 'Bytes s->c', 'Retrans', 'Dup ACKs', 'Zero win', 'RTT median'].map((h) => c.bold(h)),
      style: { head: [], border: [], compact: true },
      colAligns: ['right', 'left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    });
    for (const conv of r.tcp) {
      table.push([
        conv.id, formatEndpoint(conv.client) + (conv.clientKnown ? '' : ' ?'), formatEndpoint(conv.server), conv.state.summary,
        conv.frames, conv.bytes.clientToServer, conv.bytes.serverToClient,
        n(conv, 'retransmission', 'fast-retransmission', 'spurious-retransmission'), n(conv, 'duplicate-ack'), n(conv, 'zero-window'),
        ms(conv.rtt.medianMs),
      ]);
    }
    lines.push(...table.toString().split('\n'));
    if (r.tcp.some((conv) => !conv.clientKnown)) lines.push('? the handshake was not captured: the client is a guess (the first sender)');
  }

  for (const conv of r.tcp) {
    lines.push('', c.bold(`TCP conversation ${conv.id}: ${formatEndpoint(conv.client)} -> ${formatEndpoint(conv.server)}${conv.clientKnown ? ' (client -> server)' : ' (first sender -> other end)'}`));
    lines.push(`  state      ${conv.state.summary}: ${conv.state.description}; client ${conv.state.client}, server ${conv.state.server}`);
    const h = conv.handshake;
    lines.push(`  handshake  ${h.syn !== undefined || h.synAck !== undefined ? `SYN ${h.syn ?? 'not seen'}, SYN/ACK ${h.synAck ?? 'not seen'}, ACK ${h.ack ?? 'not seen'} (frames)` : 'not captured'}`);
    lines.push(`  frames     ${conv.frames}: ${conv.firstFrame} to ${conv.lastFrame}, ${conv.start.toFixed(6)} s to ${conv.end.toFixed(6)} s, duration ${conv.duration.toFixed(6)} s`);
    lines.push(`  bytes      client -> server ${conv.bytes.clientToServer}, server -> client ${conv.bytes.serverToClient} (TCP payload, retransmissions included)`);
    // Always the figures people look for first; the rarer ones only when they occur.
    const retransmissions = n(conv, 'retransmission', 'fast-retransmission', 'spurious-retransmission');
    const detail = n(conv, 'fast-retransmission', 'spurious-retransmission') > 0
      ? ` (${n(conv, 'fast-retransmission')} fast, ${n(conv, 'spurious-retransmission')} spurious)` : '';
    const events = [
      count(n(conv, 'data'), 'data segment'), count(n(conv, 'ack'), 'pure ACK'),
      count(retransmissions, 'retransmission') + detail, count(n(conv, 'duplicate-ack'), 'duplicate ACK'),
      count(n(conv, 'zero-window'), 'zero window'),
    ];
    const rare: Array<[TcpEventName, string, string]> = [
      ['out-of-order', 'out-of-order segment', 'out-of-order segments'], ['window-update', 'window update', 'window updates'],
      ['window-full', 'window full', 'windows full'], ['zero-window-probe', 'zero-window probe', 'zero-window probes'],
      ['keep-alive', 'keep-alive', 'keep-alives'],
      ['previous-segment-not-captured', 'gap (previous segment not captured)', 'gaps (previous segment not captured)'],
      ['acked-unseen-segment', 'ACK of an uncaptured segment', 'ACKs of uncaptured segments'],
      ['fin', 'FIN', 'FINs'], ['rst', 'RST', 'RSTs'],
    ];
    for (const [name, one, many] of rare) {
      const k = n(conv, name);
      if (k > 0) events.push(`${k} ${k === 1 ? one : many}`);
    }
    lines.push(`  events     ${events.join(', ')}`);
    const rtt = conv.rtt;
    lines.push(`  RTT        ${rtt.count === 0 ? 'no sample' : `${count(rtt.count, 'sample')} (Karn: none from retransmitted segments): min ${ms(rtt.minMs)}, median ${ms(rtt.medianMs)}, max ${ms(rtt.maxMs)}`}`);
    for (const e of conv.icmpErrors) lines.push(`  ICMP       frame ${e.frame} from ${e.from}: ${e.description}`);
    lines.push('');
    lines.push(...conversationDiagram(conv).map((l) => `  ${l}`));
  }

  if (r.udp.length > 0) {
    lines.push('', c.bold('UDP flows'));
    const table = new Table({
      head: ['#', 'A (first sender)', 'B', 'A->B pkts', 'A->B bytes', 'B->A pkts', 'B->A bytes', 'First (s)', 'Last (s)', 'ICMP errors'].map((x) => c.bold(x)),
      style: { head: [], border: [], compact: true },
      colAligns: ['right', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
    });
    for (const f of r.udp) {
      table.push([
        f.id, formatEndpoint(f.a), formatEndpoint(f.b), f.aToB.packets, f.aToB.bytes, f.bToA.packets, f.bToA.bytes,
        f.first.toFixed(6), f.last.toFixed(6), f.icmpErrors.map((e) => `frame ${e.frame}: ${e.description}`).join('\n'),
      ]);
    }
    lines.push(...table.toString().split('\n'));
  }

  const unlinked = r.icmpErrors.filter((e) => e.flow === undefined);
  if (unlinked.length > 0) {
    lines.push('', c.bold('ICMP errors about flows not in the capture'));
    for (const e of unlinked) {
      const q = e.quoted;
      const what = typeof q.protocol === 'string' ? `${q.protocol} ${formatEndpoint(q.src)} -> ${formatEndpoint(q.dst)}` : `ip protocol ${q.protocol} ${q.src.ip} -> ${q.dst.ip}`;
      lines.push(`  frame ${e.frame} from ${e.from}: ${e.description} (quotes ${what})`);
    }
  }
  return lines;
}
