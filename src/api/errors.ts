/**
 * Node's errors, as the `net` and `dgram` APIs raise them: an `Error` with `code`, `errno`
 * (negative, as libuv reports it), `syscall`, and `address`/`port` where Node sets them. The
 * message starts as Node's does (`connect ECONNREFUSED 10.0.0.2:80`) and then names the
 * socket pair, so a log line says which connection failed.
 */
import type { Endpoint } from '../core/endpoint.js';
import { formatEndpoint } from '../core/endpoint.js';
import type { TcpError } from '../core/tcp/types.js';
import { formatIp } from '../wire/address.js';

/** The error codes l4's sockets raise. */
export type NodeErrorCode =
  | 'ECONNREFUSED' | 'ECONNRESET' | 'ETIMEDOUT' | 'EADDRINUSE' | 'EADDRNOTAVAIL' | 'EACCES' | 'EPIPE'
  | 'ENETUNREACH' | 'EHOSTUNREACH' | 'ECONNABORTED';

/** Linux errno values (libuv reports them negated). */
const ERRNO: Readonly<Record<NodeErrorCode, number>> = {
  EACCES: 13, EPIPE: 32, EADDRINUSE: 98, EADDRNOTAVAIL: 99, ENETUNREACH: 101, ECONNABORTED: 103,
  ECONNRESET: 104, ETIMEDOUT: 110, ECONNREFUSED: 111, EHOSTUNREACH: 113,
};

/** The short description libuv gives each code (Node prints it for listen errors). */
const DESCRIPTION: Readonly<Record<NodeErrorCode, string>> = {
  EACCES: 'permission denied', EPIPE: 'broken pipe', EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available', ENETUNREACH: 'network is unreachable', ECONNABORTED: 'software caused connection abort',
  ECONNRESET: 'connection reset by peer', ETIMEDOUT: 'connection timed out', ECONNREFUSED: 'connection refused',
  EHOSTUNREACH: 'host is unreachable',
};

/** An error as Node's `net` produces it. */
export interface NodeSystemError extends Error {
  code: NodeErrorCode;
  errno: number;
  syscall: string;
  address?: string;
  port?: number;
}

/** Builds a Node-style system error. `remote` fills `address`/`port`; `local` is named in the message. */
export function systemError(code: NodeErrorCode, syscall: string, remote?: Endpoint, local?: Endpoint): NodeSystemError {
  let message = `${syscall} ${code}`;
  if (syscall === 'listen') message += `: ${DESCRIPTION[code]}`;
  if (remote) message += ` ${formatEndpoint(remote)}`;
  if (local) message += syscall === 'listen' ? '' : ` (local ${formatEndpoint(local)})`;
  const err = new Error(message) as NodeSystemError;
  err.code = code;
  err.errno = -ERRNO[code];
  err.syscall = syscall;
  if (remote) {
    err.address = formatIp(remote.address);
    err.port = remote.port;
  }
  return err;
}

/** The Node error for a TCP connection that failed, by the core's reason. */
export function tcpErrorToNode(error: TcpError, connecting: boolean, remote: Endpoint, local: Endpoint): NodeSystemError {
  switch (error) {
    case 'refused': return systemError('ECONNREFUSED', 'connect', remote, local);
    case 'reset': return systemError('ECONNRESET', 'read', remote, local);
    case 'timed-out': return systemError('ETIMEDOUT', connecting ? 'connect' : 'read', remote, local);
    case 'aborted': return systemError('ECONNABORTED', 'read', remote, local);
  }
}
