/**
 * The core's public face: the host, TCP connections and listeners, and the pieces a host is
 * made of that tools and tests may want on their own (interfaces and routes, the port
 * allocator, the ISN generator, SipHash, the counters). The host's internal helpers (socket
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
