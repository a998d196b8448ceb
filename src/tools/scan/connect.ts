/**
 * The connect scan: each probe is a `connect()` through the operating system's TCP (Node's
 * `node:net`), so it needs no privilege, as nmap's -sT: "Instead of writing raw packets as
 * most other scan types do, Nmap asks the underlying operating system to establish a
 * connection with the target machine and port by issuing the connect system call". A
 * connection that completes is open and is reset at once (no data, no TIME-WAIT left
 * behind); ECONNREFUSED is closed; unreachable errors are filtered with their reason
 * (verdict.ts `connectVerdict`); a connect still pending when the engine's timeout for that
 * try runs out is abandoned (the socket destroyed) and retried, and silence after the last
 * try is filtered.
 *
 * This module is the engine's driver for that case: it reads a real clock
 * (`performance.now`), sets one Node timer at the engine's next deadline, and turns socket
 * events into `report` calls. It resolves when the engine is done or `signal` aborts.
 */
import { Socket } from 'node:net';
import type { ScanEngine, EngineEvent } from './engine.js';
import { connectVerdict } from './verdict.js';

/** Options of `runConnectScan`. */
export interface ConnectScanOptions {
  /** The address of each host the engine numbers, as text. */
  readonly targets: readonly string[];
  /** Stops the scan (Ctrl-C): the engine is aborted and the promise resolves. */
  readonly signal?: AbortSignal;
  /** Every engine event (progress). */
  readonly onEvent?: (event: EngineEvent) => void;
}

/** Runs `engine` with `connect()` probes until it is done (see the module doc). */
export function runConnectScan(engine: ScanEngine, options: ConnectScanOptions): Promise<void> {
  const start = performance.now();
  const now = (): number => Math.floor((performance.now() - start) * 1000);
  const sockets = new Map<number, { socket: Socket; tryNo: number }>();
  const keyOf = (host: number, port: number): number => host * 65536 + port;
  let timer: NodeJS.Timeout | undefined;
  let timerAt: number | undefined;
  let immediate: NodeJS.Immediate | undefined;
  let finished = false;

  return new Promise<void>((resolve) => {
    const finish = (): void => {
      if (finished) return;
      finished = true;
      if (timer !== undefined) clearTimeout(timer);
      if (immediate !== undefined) clearImmediate(immediate);
      for (const { socket } of sockets.values()) socket.destroy();
      sockets.clear();
      options.signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    const onAbort = (): void => {
      engine.abort();
      finish();
    };
    if (options.signal?.aborted) {
      onAbort();
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const drop = (host: number, port: number, tryNo?: number): void => {
      const key = keyOf(host, port);
      const entry = sockets.get(key);
      if (!entry || (tryNo !== undefined && entry.tryNo !== tryNo)) return;
      sockets.delete(key);
      entry.socket.destroy();
    };

    const schedule = (): void => {
      if (finished || immediate !== undefined) return;
      immediate = setImmediate(() => {
        immediate = undefined;
        pump();
      });
    };

    const start = (host: number, port: number, tryNo: number): void => {
      drop(host, port);
      const socket = new Socket();
      const key = keyOf(host, port);
      sockets.set(key, { socket, tryNo });
      const settle = (outcome: string): void => {
        const entry = sockets.get(key);
        if (!entry || entry.socket !== socket) return;
        sockets.delete(key);
        const verdict = connectVerdict(outcome);
        if (outcome === 'connected') socket.resetAndDestroy();
        else socket.destroy();
        // An error that says nothing about the port: leave the try to time out and be retried.
        if (verdict) engine.report(now(), host, port, tryNo, verdict, { answered: outcome === 'connected' || outcome === 'ECONNREFUSED' || outcome === 'ECONNRESET' });
        schedule();
      };
      socket.once('connect', () => settle('connected'));
      socket.once('error', (error: NodeJS.ErrnoException) => settle(error.code ?? 'EUNKNOWN'));
      socket.connect({ host: options.targets[host]!, port });
    };

    const pump = (): void => {
      if (finished) return;
      const t = now();
      const due = engine.pollTimeout();
      if (due !== undefined && due <= t) engine.handleTimeout(t);
      for (let p = engine.pollProbe(t); p !== undefined; p = engine.pollProbe(t)) start(p.host, p.port, p.tryNo);
      for (let e = engine.pollEvent(); e !== undefined; e = engine.pollEvent()) {
        if (e.kind === 'expired') drop(e.host, e.port, e.tryNo);
        else drop(e.host, e.port);
        options.onEvent?.(e);
      }
      if (engine.done) {
        finish();
        return;
      }
      const next = engine.pollTimeout();
      if (next === timerAt) return;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      timerAt = next;
      if (next === undefined) return;
      timer = setTimeout(() => {
        timer = undefined;
        timerAt = undefined;
        pump();
      }, Math.max(0, Math.ceil((next - now()) / 1000)));
    };
    pump();
  });
}
