/**
 * Errors the CLI reports as one line with exit code 2: a bad argument, a missing or
 * unreadable input file. Anything else that escapes a subcommand is a bug (exit 1).
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
