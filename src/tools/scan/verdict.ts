/**
 * Port states and the reasons for them, exactly as nmap defines them, and the rules that
 * turn what came back (a TCP segment, a UDP datagram, an ICMP error, a `connect()` outcome,
 * or silence) into a verdict. Every rule quotes the nmap reference guide ("Port Scanning
 * Techniques", nmap(1)) or names the nmap source that decides it (scan_engine_raw.cc,
 * scan_engine_connect.cc, reason.cc), so that a difference from nmap is a bug here.
 *
 * Contract: pure functions, no I/O. A reply that decides nothing (an ICMP code nmap does
 * not act on, a TCP segment with neither SYN nor RST) gives `undefined`: the probe stays
 * outstanding and may still time out or be answered.
 */

/**
 * nmap's port states (nmap(1), "Port Scanning Basics"): "open", "closed", "filtered" ("Nmap
 * cannot determine whether the port is open because packet filtering prevents its probes
 * from reaching the port") and "open|filtered" ("Nmap places ports in this state when it is
 * unable to determine whether a port is open or filtered. This occurs for scan types in
 * which open ports give no response").
 */
export type PortState = 'open' | 'closed' | 'filtered' | 'open|filtered';

/** Every state, in the order reports list them. */
export const PORT_STATES: readonly PortState[] = ['open', 'open|filtered', 'filtered', 'closed'];

/**
 * nmap's reason names (reason.cc, `reason_map`) for the replies l4 acts on: what `--reason`
 * prints and the XML `reason` attribute holds.
 */
export type Reason =
  | 'syn-ack' | 'reset' | 'conn-refused' | 'split-handshake-syn' | 'udp-response' | 'no-response'
  | 'net-unreach' | 'host-unreach' | 'proto-unreach' | 'port-unreach'
  | 'net-prohibited' | 'host-prohibited' | 'admin-prohibited'
  | 'no-route' | 'beyond-scope' | 'reject-route' | 'perm-denied';

/** The three ways l4 scans. */
export type ScanType = 'connect' | 'syn' | 'udp';

/** The transport protocol a scan type probes. */
export function scanProtocol(type: ScanType): 'tcp' | 'udp' {
  return type === 'udp' ? 'udp' : 'tcp';
}

/** A decided port. */
export interface Verdict {
  readonly state: PortState;
  readonly reason: Reason;
}

const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_ACK = 0x10;

/**
 * A TCP segment from the target port in answer to a SYN probe. nmap(1), -sS: "A SYN/ACK
 * indicates the port is listening (open), while a RST (reset) is indicative of a
 * non-listener. [...] The port is also considered open if a SYN packet (without the ACK
 * flag) is received in response." Anything else decides nothing.
 */
export function tcpReplyVerdict(flags: number): Verdict | undefined {
  if ((flags & TCP_RST) !== 0) return { state: 'closed', reason: 'reset' };
  if ((flags & TCP_SYN) !== 0) return (flags & TCP_ACK) !== 0 ? { state: 'open', reason: 'syn-ack' } : { state: 'open', reason: 'split-handshake-syn' };
  return undefined;
}

/**
 * A UDP datagram from the target port. nmap(1), -sU: "Occasionally, a service will respond
 * with a UDP packet, proving that it is open."
 */
export const UDP_RESPONSE: Verdict = { state: 'open', reason: 'udp-response' };

/**
 * An ICMPv4 destination unreachable (type 3) quoting a probe. nmap(1), -sS: "The port is
 * also marked filtered if an ICMP unreachable error (type 3, code 0, 1, 2, 3, 9, 10, or 13)
 * is received." -sU: "If an ICMP port unreachable error (type 3, code 3) is returned, the
 * port is closed. Other ICMP unreachable errors (type 3, codes 0, 1, 2, 9, 10, or 13) mark
 * the port as filtered." scan_engine_raw.cc adds that a port unreachable makes a UDP port
 * closed only when it comes from the target itself (from a router it is filtered). Other
 * codes are not acted on (nmap reports them as unexpected and ignores them). The reason is
 * reason.cc's `icmp_to_reason`.
 */
export function icmpv4UnreachableVerdict(code: number, type: ScanType, fromTarget: boolean): Verdict | undefined {
  switch (code) {
    case 0: return { state: 'filtered', reason: 'net-unreach' };
    case 1: return { state: 'filtered', reason: 'host-unreach' };
    case 2: return { state: 'filtered', reason: 'proto-unreach' };
    case 3: return { state: type === 'udp' && fromTarget ? 'closed' : 'filtered', reason: 'port-unreach' };
    case 9: return { state: 'filtered', reason: 'net-prohibited' };
    case 10: return { state: 'filtered', reason: 'host-prohibited' };
    case 13: return { state: 'filtered', reason: 'admin-prohibited' };
    default: return undefined;
  }
}

/**
 * An ICMPv6 destination unreachable (type 1) quoting a probe: scan_engine_raw.cc treats
 * codes 0-3 (no route, administratively prohibited, beyond scope, address unreachable) as
 * filtered and code 4 (port unreachable) as the IPv4 code 3; codes 5 and 6 (source address
 * failed policy, reject route: RFC 4443 3.1) are filtering too. Reasons per `icmp_to_reason`.
 */
export function icmpv6UnreachableVerdict(code: number, type: ScanType, fromTarget: boolean): Verdict | undefined {
  switch (code) {
    case 0: return { state: 'filtered', reason: 'no-route' };
    case 1: return { state: 'filtered', reason: 'admin-prohibited' };
    case 2: return { state: 'filtered', reason: 'beyond-scope' };
    case 3: return { state: 'filtered', reason: 'host-unreach' };
    case 4: return { state: type === 'udp' && fromTarget ? 'closed' : 'filtered', reason: 'port-unreach' };
    case 5: return { state: 'filtered', reason: 'admin-prohibited' };
    case 6: return { state: 'filtered', reason: 'reject-route' };
    default: return undefined;
  }
}

/**
 * No answer to any try. nmap(1): -sS "If no response is received after several
 * retransmissions, the port is marked as filtered"; -sU "If no response is received after
 * retransmissions, the port is classified as open|filtered"; -sT: a connect that neither
 * succeeds nor is refused is filtered (scan_engine_connect.cc).
 */
export function silenceVerdict(type: ScanType): Verdict {
  return type === 'udp' ? { state: 'open|filtered', reason: 'no-response' } : { state: 'filtered', reason: 'no-response' };
}

/**
 * The outcome of a `connect()` (scan_engine_connect.cc): success is open ("syn-ack", the
 * kernel completed the handshake); ECONNREFUSED is closed ("conn-refused", the kernel got a
 * RST); unreachable errors (the kernel got an ICMP error, or has no route) are filtered with
 * their reason; EACCES/EPERM (a local firewall refused) are filtered "perm-denied".
 * `undefined` for an error that says nothing about the port (EMFILE, EADDRNOTAVAIL…): the
 * try counts as unanswered and may be retried.
 */
export function connectVerdict(outcome: 'connected' | string): Verdict | undefined {
  switch (outcome) {
    case 'connected': return { state: 'open', reason: 'syn-ack' };
    case 'ECONNREFUSED': return { state: 'closed', reason: 'conn-refused' };
    case 'ECONNRESET': return { state: 'closed', reason: 'reset' };
    case 'EHOSTUNREACH':
    case 'EHOSTDOWN': return { state: 'filtered', reason: 'host-unreach' };
    case 'ENETUNREACH':
    case 'ENETDOWN':
    case 'ENONET': return { state: 'filtered', reason: 'net-unreach' };
    case 'EACCES':
    case 'EPERM': return { state: 'filtered', reason: 'perm-denied' };
    default: return undefined;
  }
}

/** True for a reason that says the host answered (the host is up): anything but silence and "no route" verdicts made locally. */
export function reasonShowsHostUp(reason: Reason): boolean {
  switch (reason) {
    case 'syn-ack': case 'reset': case 'conn-refused': case 'split-handshake-syn': case 'udp-response': case 'port-unreach':
      return true;
    default:
      return false;
  }
}
