/**
 * How the host learns that the application called a connection directly.
 *
 * The application holds `TcpConnection` objects and calls `send`, `recv`, `close`, `abort`,
 * `setNoDelay` and `setKeepAlive` on them; each may make a segment ready or move a timer.
 * The host must then poll that connection for output and re-file its deadline, without
 * asking every connection at every `pollTransmit` (which would cost O(connections) per
 * packet). So, once per connection, the host wraps those methods on the instance: each call
 * runs the connection's own method, then tells the host. The connection class stays unaware
 * of its owner, and the application cannot forget to say "I wrote something".
 */
import type { TcpConnection } from './tcp/connection.js';

/** The `TcpConnection` methods an application calls that can change what the host must do next. */
export const APPLICATION_CALLS = ['send', 'recv', 'close', 'abort', 'setNoDelay', 'setKeepAlive'] as const;

/** Makes `after()` run after each application call on `connection` (even one that throws). */
export function observeApplicationCalls(connection: TcpConnection, after: () => void): void {
  for (const name of APPLICATION_CALLS) {
    const method = connection[name] as (...args: unknown[]) => unknown;
    Object.defineProperty(connection, name, {
      configurable: true,
      writable: true,
      enumerable: false,
      value: (...args: unknown[]): unknown => {
        try {
          return method.apply(connection, args);
        } finally {
          after();
        }
      },
    });
  }
}
