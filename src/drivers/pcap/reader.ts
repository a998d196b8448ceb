/**
 * Reading a capture file from disk: the file-system half of `wire/capture.ts`.
 *
 * Contract: `readCaptureFile` (and its sync twin) never throws for anything about the
 * file. It tells apart a missing path, a directory, a file it may not read, an empty file
 * and one that is not a readable capture, each with a one-line message a CLI can print
 * before exiting 2. A capture that goes bad part way is still a success: the records read
 * before the damage are returned and `capture.error` says where reading stopped, so the
 * caller decides whether that is fatal. Files are read whole; capture files big enough for
 * that to matter are beyond what l4's tools replay.
 */
import { readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { Capture } from '../../wire/capture.js';
import { readCapture } from '../../wire/capture.js';

/** Why a capture file could not be opened at all. */
export type CaptureFileProblem = 'not-found' | 'is-directory' | 'unreadable' | 'empty' | 'corrupt';

/** The outcome of reading a capture file. */
export type CaptureFileResult =
  | { readonly ok: true; readonly path: string; readonly capture: Capture }
  | { readonly ok: false; readonly path: string; readonly problem: CaptureFileProblem; readonly message: string };

/** Node's fs errors carry a `code`; anything else is reported by its message. */
function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Turns an fs error on `path` into a problem and a one-line message. Exported so the
 * mapping can be tested for codes a test cannot provoke (EACCES as root).
 */
export function describeFileError(path: string, error: unknown): CaptureFileResult & { ok: false } {
  const code = errorCode(error);
  switch (code) {
    case 'ENOENT':
      return { ok: false, path, problem: 'not-found', message: `${path}: no such file` };
    case 'EISDIR':
      return { ok: false, path, problem: 'is-directory', message: `${path}: is a directory, not a capture file` };
    case 'EACCES':
    case 'EPERM':
      return { ok: false, path, problem: 'unreadable', message: `${path}: permission denied` };
    case 'ENOTDIR':
      return { ok: false, path, problem: 'not-found', message: `${path}: a component of the path is not a directory` };
    default: {
      const detail = error instanceof Error ? error.message : String(error);
      return { ok: false, path, problem: 'unreadable', message: `${path}: cannot read (${code ?? detail})` };
    }
  }
}

/** Parses the bytes of `path` into a result. */
export function captureFromBytes(path: string, bytes: Uint8Array): CaptureFileResult {
  if (bytes.length === 0) return { ok: false, path, problem: 'empty', message: `${path}: empty file, not a capture` };
  const parsed = readCapture(bytes);
  if (!parsed.ok) return { ok: false, path, problem: 'corrupt', message: `${path}: ${parsed.message}` };
  return { ok: true, path, capture: parsed.value };
}

function toBytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** Reads and parses a pcap or pcapng file; never throws for file or format problems. */
export async function readCaptureFile(path: string): Promise<CaptureFileResult> {
  try {
    // stat first: reading a directory fails with EISDIR on Linux but not on every platform.
    if ((await stat(path)).isDirectory()) return describeFileError(path, { code: 'EISDIR' });
    return captureFromBytes(path, toBytes(await readFile(path)));
  } catch (error) {
    return describeFileError(path, error);
  }
}

/** `readCaptureFile`, synchronously. */
export function readCaptureFileSync(path: string): CaptureFileResult {
  try {
    if (statSync(path).isDirectory()) return describeFileError(path, { code: 'EISDIR' });
    return captureFromBytes(path, toBytes(readFileSync(path)));
  } catch (error) {
    return describeFileError(path, error);
  }
}
