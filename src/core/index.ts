/**
 * The core's public face: the host, TCP connections and listeners, UDP sockets, and the
 * pieces a host is made of that tools and tests may want on their own (interfaces and
 * routes, the port allocator and IANA ranges, the ISN generator, SipHash, the counters, ICMP
 * error kinds, the path MTU cache, the rate limit, reassembly). The host's internal helpers (socket
 * table, deadline heap, packet builders) are imported from their files when needed.
 */
export * from './endpoint.js';
export * from './node.js';
export * from './host.js';
export * from './interfaces.js';
export * from './ports.js';
export * from './isn.js';
export * from './siphash.js';
export * from './stats.js';
export * from './tcp/types.js';
export * from './tcp/listener.js';
export * from './tcp/connection.js';
export * from './udp/socket.js';
export * from './udp/table.js';
export * from './icmp/errors.js';
export * from './icmp/pmtu.js';
export * from './icmp/rate-limit.js';
export * from './reassembly.js';
