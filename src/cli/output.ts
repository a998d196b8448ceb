/**
 * Output for the CLI: lines to stdout with back-pressure, and a quiet stop when the
 * reader closes the pipe (`l4 decode big.pcap | head` is not an error).
 */
let closed = false;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') closed = true;
  else throw err;
});

/** Writes one line; resolves false once stdout is closed. */
export async function writeLine(line: string): Promise<boolean> {
  if (closed) return false;
  if (!process.stdout.write(`${line}\n`)) {
    await new Promise<void>((resolve) => {
      const done = (): void => { process.stdout.off('drain', done); process.stdout.off('close', done); resolve(); };
      process.stdout.once('drain', done);
      process.stdout.once('close', done);
    });
  }
  return !closed;
}
