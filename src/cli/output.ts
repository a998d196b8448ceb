/**
 * Output for the CLI: lines to stdout gathered into chunks of about 64 KiB (one write per
 * line would cost a system call each: most of the time of `l4 decode` on a large capture),
 * with back-pressure, and a quiet stop when the reader closes the pipe
 * (`l4 decode big.pcap | head` is not an error).
 */
const CHUNK_BYTES = 64 * 1024;

let closed = false;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') closed = true;
  else throw err;
});

/** Buffers lines and writes them to stdout in chunks. Call `flush()` at the end. */
export class LineWriter {
  #pending: string[] = [];
  #pendingLength = 0;

  /** Queues one line; resolves false once stdout is closed (stop producing). */
  async line(text: string): Promise<boolean> {
    this.#pending.push(text);
    this.#pendingLength += text.length + 1;
    if (this.#pendingLength >= CHUNK_BYTES) await this.flush();
    return !closed;
  }

  /** Writes what is queued and waits for stdout to drain if it asked us to. */
  async flush(): Promise<void> {
    if (this.#pending.length === 0 || closed) return;
    const chunk = `${this.#pending.join('\n')}\n`;
    this.#pending = [];
    this.#pendingLength = 0;
    if (!process.stdout.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = (): void => { process.stdout.off('drain', done); process.stdout.off('close', done); resolve(); };
        process.stdout.once('drain', done);
        process.stdout.once('close', done);
      });
    }
  }
}
