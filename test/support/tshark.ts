/**
 * tshark as a test oracle, and the rule for tests that need an outside tool.
 *
 * Tests compare what l4 decodes or writes with what Wireshark's dissectors say about
 * the same bytes: `tsharkFields` runs `tshark -T fields` and returns one record per
 * frame, `tsharkMalformed` lists the frames tshark finds malformed or with a bad
 * checksum, `tsharkExpertInfo` the frames with expert info at or above a severity.
 * Everything runs synchronously with `execFileSync` (no shell), with name resolution
 * off (`-n`), so a test never looks anything up on the network.
 *
 * Skipping: a test that needs a tool passes `{ skip: needTool('tshark') }` (or
 * `needTshark()`) to `test()`. Off CI a missing tool gives a reason string and the
 * test is skipped with it printed; under `CI=true` the helper throws instead, because
 * tests must never skip on CI (DESIGN.md, Tests).
 *
 * Field names used (checked against `tshark -G fields`, tshark 4.0): the per-protocol
 * checksum verdicts `ip.checksum.status`, `tcp.checksum.status`, `udp.checksum.status`,
 * `icmp.checksum.status`, `icmpv6.checksum.status` (0 bad, 1 good, 2 unverified, printed
 * as numbers), `_ws.malformed` (present on malformed frames) and `_ws.expert.severity`,
 * `_ws.expert.group`, `_ws.expert.message`.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Outcome of probing for tshark. */
export type ToolCheck = { ok: true } | { ok: false; why: string };

/** Options of {@link tsharkFields}. */
export interface TsharkFieldsOptions {
  /** A Wireshark display filter (`-Y`): only matching frames are returned. */
  displayFilter?: string;
  /** Turn on checksum validation for IPv4, TCP and UDP (off by default in tshark), so the `*.checksum.status` fields say good or bad instead of unverified. ICMP and ICMPv6 checksums are always validated. */
  validateChecksums?: boolean;
  /** More tshark arguments, placed before the field list (e.g. `['-o', 'tcp.analyze_sequence_numbers:FALSE']`). */
  extraArgs?: string[];
  /** Character joining several occurrences of a field in one frame (`-E aggregator`); default `,`. */
  aggregator?: string;
}

/** The earlier name of {@link TsharkFieldsOptions}, kept for existing tests. */
export type TsharkFieldOptions = TsharkFieldsOptions;

/** Options of {@link tsharkExpertInfo}. */
export interface TsharkExpertOptions {
  /** Lowest severity reported; default `'warning'`. */
  minSeverity?: ExpertSeverity;
  /** Validate IPv4/TCP/UDP checksums so bad ones show up as errors; default true. */
  validateChecksums?: boolean;
}

/** Wireshark's expert severities, lowest first. */
export type ExpertSeverity = 'comment' | 'chat' | 'note' | 'warning' | 'error';

/** One expert info item of a frame. */
export interface ExpertItem {
  severity: ExpertSeverity;
  /** Group name as Wireshark spells it in its UI, lower case: `'checksum'`, `'sequence'`, `'malformed'`, … */
  group: string;
  message: string;
}

/** A frame tshark had something to say about. */
export interface TsharkExpertFrame {
  /** 1-based frame number, as Wireshark counts. */
  frame: number;
  items: ExpertItem[];
}

/** A frame tshark finds malformed or with a bad checksum (see {@link tsharkMalformed}). */
export interface TsharkProblemFrame {
  frame: number;
  /** tshark's dissectors gave up on the frame (`_ws.malformed`). */
  malformed: boolean;
  /** Protocols whose checksum is bad in this frame, e.g. `['tcp']`; `'ip'` may appear twice when an ICMP error quotes a bad header. */
  badChecksums: string[];
  /** The frame's warning and error expert messages, for the assertion message. */
  messages: string[];
}

/** tshark prints severities and groups as their numeric values (epan/proto.h PI_*). */
const severityByValue = new Map<number, ExpertSeverity>([
  [0x0010_0000, 'comment'],
  [0x0020_0000, 'chat'],
  [0x0040_0000, 'note'],
  [0x0060_0000, 'warning'],
  [0x0080_0000, 'error'],
]);
const severityRank: Record<ExpertSeverity, number> = { comment: 0, chat: 1, note: 2, warning: 3, error: 4 };
const groupByValue = new Map<number, string>([
  [0x0100_0000, 'checksum'], [0x0200_0000, 'sequence'], [0x0300_0000, 'response-code'],
  [0x0400_0000, 'request-code'], [0x0500_0000, 'undecoded'], [0x0600_0000, 'reassemble'],
  [0x0700_0000, 'malformed'], [0x0800_0000, 'debug'], [0x0900_0000, 'protocol'],
  [0x0a00_0000, 'security'], [0x0b00_0000, 'comments'], [0x0c00_0000, 'decryption'],
  [0x0d00_0000, 'assumption'], [0x0e00_0000, 'deprecated'],
]);

/** Protocols whose `<proto>.checksum.status` {@link tsharkMalformed} inspects. */
const checksumProtocols = ['ip', 'tcp', 'udp', 'icmp', 'icmpv6'] as const;
/** Value of a `*.checksum.status` field for a checksum that does not verify (PROTO_CHECKSUM_E_BAD). */
const CHECKSUM_BAD = '0';
/** Separator for expert messages, which may themselves contain commas. */
const UNIT_SEPARATOR = '\x1f';

const validationArgs = [
  '-o', 'ip.check_checksum:TRUE',
  '-o', 'tcp.check_checksum:TRUE',
  '-o', 'udp.check_checksum:TRUE',
];

/** tshark may print a lot for a large capture; a test capture stays far below this. */
const MAX_BUFFER = 256 * 1024 * 1024;

let availability: ToolCheck | undefined;

/**
 * Whether `tshark` can run here (it is on PATH and `tshark --version` succeeds).
 * The answer is computed once per process.
 */
export function tsharkAvailable(): ToolCheck {
  if (availability === undefined) {
    try {
      execFileSync('tshark', ['--version'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
      availability = { ok: true };
    } catch (error) {
      availability = { ok: false, why: `tshark cannot run: ${describeError(error)}` };
    }
  }
  return availability;
}

/** The first line of `tshark --version`, e.g. `TShark (Wireshark) 4.0.17 (…)`, for reports. */
export function tsharkVersion(): string {
  const out = execFileSync('tshark', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out.split('\n', 1)[0] ?? '';
}

/**
 * Runs `tshark -r FILE -T fields -e f1 -e f2 …` and returns one record per frame (in
 * file order, only frames matching `displayFilter` if one is given), keyed by field
 * name. A field absent from a frame is `''`; a field present several times (e.g.
 * `ip.src` in an ICMP error that quotes an IP header) has its values joined with
 * `aggregator` (default `,`). Values are tshark's text: numbers in decimal, flags and
 * some integers in hex (`0x0002`), addresses formatted, value-string fields (such as
 * `*.checksum.status`) as their numbers.
 *
 * Throws if tshark fails (unreadable file, unknown field, bad filter), with tshark's
 * error text in the message.
 */
export function tsharkFields(file: string, fields: readonly string[], options: TsharkFieldsOptions = {}): Array<Record<string, string>> {
  if (fields.length === 0) throw new RangeError('tsharkFields: name at least one field');
  const aggregator = options.aggregator ?? ',';
  const args = ['-r', file, '-n'];
  if (options.validateChecksums === true) args.push(...validationArgs);
  if (options.displayFilter !== undefined) args.push('-Y', options.displayFilter);
  if (options.extraArgs !== undefined) args.push(...options.extraArgs);
  args.push('-T', 'fields', '-E', 'header=n', '-E', 'separator=/t', '-E', 'quote=n',
    '-E', 'occurrence=a', '-E', `aggregator=${aggregator}`);
  for (const field of fields) args.push('-e', field);

  let out: string;
  try {
    out = execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: MAX_BUFFER, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    throw new Error(`tshark ${args.join(' ')} failed: ${describeError(error)}`, { cause: error });
  }
  // One line per frame. With a single field, a frame lacking it is an empty line, so
  // only the final newline's empty remainder is dropped, never inner empty lines.
  const lines = out.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((line, index) => {
    const values = line.split('\t');
    if (values.length !== fields.length) {
      throw new Error(`tshark printed ${values.length} columns for ${fields.length} fields in line ${index + 1}: ${JSON.stringify(line)}`);
    }
    const record: Record<string, string> = {};
    fields.forEach((field, i) => { record[field] = values[i] ?? ''; });
    return record;
  });
}

/**
 * Frames with expert info at or above `minSeverity` (default `'warning'`), with their
 * items. With checksum validation (the default) a bad IPv4/TCP/UDP checksum is an
 * `error` in group `checksum`. Note that TCP analysis also raises warnings on healthy
 * captures taken mid-stream (`Previous segment not captured`, …).
 */
export function tsharkExpertInfo(file: string, options: TsharkExpertOptions = {}): TsharkExpertFrame[] {
  const minRank = severityRank[options.minSeverity ?? 'warning'];
  const rows = tsharkFields(file, ['frame.number', '_ws.expert.severity', '_ws.expert.group', '_ws.expert.message'], {
    displayFilter: '_ws.expert',
    validateChecksums: options.validateChecksums ?? true,
    aggregator: UNIT_SEPARATOR,
  });
  const frames: TsharkExpertFrame[] = [];
  for (const row of rows) {
    const items = expertItems(row).filter((item) => severityRank[item.severity] >= minRank);
    if (items.length > 0) frames.push({ frame: Number(row['frame.number']), items });
  }
  return frames;
}

/**
 * Frames tshark finds malformed (`_ws.malformed`) or with a checksum that does not
 * verify in any of IPv4, TCP, UDP, ICMP, ICMPv6 (`<proto>.checksum.status` = bad).
 * Checksum validation is on unless `validateChecksums: false`. An empty array means
 * tshark is happy with every frame: the check for a capture l4 wrote.
 */
export function tsharkMalformed(file: string, options: { validateChecksums?: boolean; extraArgs?: string[] } = {}): TsharkProblemFrame[] {
  const statusFields = checksumProtocols.map((proto) => `${proto}.checksum.status`);
  const filter = ['_ws.malformed', ...statusFields.map((field) => `${field} == 0`)].join(' || ');
  const rows = tsharkFields(file,
    ['frame.number', '_ws.malformed', ...statusFields, '_ws.expert.severity', '_ws.expert.group', '_ws.expert.message'], {
      displayFilter: filter,
      validateChecksums: options.validateChecksums ?? true,
      aggregator: UNIT_SEPARATOR,
      ...(options.extraArgs ? { extraArgs: options.extraArgs } : {}),
    });
  return rows.map((row) => {
    const badChecksums: string[] = [];
    for (const proto of checksumProtocols) {
      for (const status of split(row[`${proto}.checksum.status`])) {
        if (status === CHECKSUM_BAD) badChecksums.push(proto);
      }
    }
    return {
      frame: Number(row['frame.number']),
      // _ws.malformed is an FT_PROTOCOL: printed (as its name) only when present.
      malformed: (row['_ws.malformed'] ?? '') !== '',
      badChecksums,
      messages: expertItems(row).filter((item) => severityRank[item.severity] >= severityRank.warning)
        .map((item) => item.message),
    };
  });
}

/**
 * tshark options for a per-packet look at a big capture: no TCP stream reassembly and no
 * sequence analysis. With them on, tshark may reassemble a 50 MiB stream for a dissector
 * that guessed wrong, which takes minutes; the checksum and header checks do not need them.
 */
export const TSHARK_PER_PACKET = ['-o', 'tcp.desegment_tcp_streams:FALSE', '-o', 'tcp.analyze_sequence_numbers:FALSE'];

/**
 * The skip rule for tests that need an outside program. Returns `undefined` when
 * `name` is an executable on PATH. When it is not: off CI, returns a reason to hand
 * to `test(name, { skip: reason }, …)` so node:test prints why it skipped; under
 * `CI=true`, throws, because tests must never skip on CI.
 *
 * @example test('tshark agrees', { skip: needTool('tshark') }, () => { … })
 */
export function needTool(name: string): string | undefined {
  if (onPath(name)) return undefined;
  return missing(`${name} not found on PATH`);
}

/** {@link needTool} for tshark, also requiring that it runs (`tshark --version`). */
export function needTshark(): string | undefined {
  const check = tsharkAvailable();
  return check.ok ? undefined : missing(check.why);
}

/**
 * Absolute path of a capture in `test/fixtures/golden/` (made by
 * `scripts/make-golden-captures.sh`), found from this module's location whether it
 * runs from `dist/test/support/` or from the sources.
 */
export function goldenCapture(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'test', 'fixtures', 'golden', name);
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`goldenCapture: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** The skip reason for `why` off CI; under CI=true, throws instead (tests never skip on CI). */
export function missing(why: string): string {
  if (process.env.CI === 'true') throw new Error(`${why}; tests must not skip under CI=true`);
  return `${why} (skipped; under CI=true this fails)`;
}

function onPath(name: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

function split(value: string | undefined): string[] {
  return value === undefined || value === '' ? [] : value.split(UNIT_SEPARATOR);
}

function expertItems(row: Record<string, string>): ExpertItem[] {
  const severities = split(row['_ws.expert.severity']);
  const groups = split(row['_ws.expert.group']);
  const messages = split(row['_ws.expert.message']);
  return severities.map((value, i) => ({
    severity: severityByValue.get(Number(value)) ?? 'error',
    group: groupByValue.get(Number(groups[i])) ?? `0x${Number(groups[i]).toString(16)}`,
    message: messages[i] ?? '',
  }));
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    const text = typeof stderr === 'string' ? stderr : stderr instanceof Uint8Array ? new TextDecoder().decode(stderr) : '';
    // tshark warns about running as root on every call; that line explains nothing.
    const useful = text.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('Running as user')).join('; ');
    return useful !== '' ? useful : error.message;
  }
  return String(error);
}
