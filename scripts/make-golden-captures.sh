#!/usr/bin/env bash
# Make the golden packet captures in test/fixtures/golden/ from real kernel traffic.
#
# Two network namespaces (l4g-a, l4g-b) joined by one veth pair; every packet goes
# between those two namespaces and nowhere else (no default route, no other link).
# tcpdump runs on the veth end in l4g-a. The namespaces are deleted at exit, always.
#
# Usage (as root):  scripts/make-golden-captures.sh [OUTPUT_DIR]
#   OUTPUT_DIR defaults to test/fixtures/golden next to this script's repository.
# Needs: ip, tcpdump, editcap, curl, dig, ping, ss, python3; ethtool (installed with
# apt-get if missing). Safe to run again: it replaces the namespaces and the files.
set -euo pipefail

NS_A=l4g-a
NS_B=l4g-b
DEV_A=l4g-va
DEV_B=l4g-vb
A4=10.99.0.1
B4=10.99.0.2
A6=fd00:99::1
B6=fd00:99::2
HTTP_PORT=8080
DNS_PORT=53
CLOSED_PORT=9 # discard: nothing listens there in l4g-b, so the kernel answers port unreachable

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out_dir=${1:-$repo_root/test/fixtures/golden}

if [[ $(id -u) -ne 0 ]]; then
  echo "make-golden-captures: must run as root (network namespaces, tcpdump)" >&2
  exit 1
fi

for tool in ip tcpdump editcap curl dig ping ss python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "make-golden-captures: missing tool: $tool" >&2
    exit 1
  fi
done
if ! command -v ethtool >/dev/null; then
  echo "make-golden-captures: installing ethtool" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ethtool >/dev/null
fi
python=$(command -v python3)

work=$(mktemp -d /tmp/l4-golden.XXXXXX)
server_pids=()
capture_pids=()

cleanup() {
  local pid
  for pid in "${capture_pids[@]}" "${server_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  ip netns del "$NS_A" 2>/dev/null || true
  ip netns del "$NS_B" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_a() { ip netns exec "$NS_A" "$@"; }
in_b() { ip netns exec "$NS_B" "$@"; }

started=$(date +%s.%N)

# --- namespaces -------------------------------------------------------------------
ip netns del "$NS_A" 2>/dev/null || true
ip netns del "$NS_B" 2>/dev/null || true
ip netns add "$NS_A"
ip netns add "$NS_B"
ip link add "$DEV_A" netns "$NS_A" type veth peer name "$DEV_B" netns "$NS_B"
for ns in "$NS_A" "$NS_B"; do
  ip -n "$ns" link set lo up
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0
done
ip -n "$NS_A" addr add "$A4/24" dev "$DEV_A"
ip -n "$NS_B" addr add "$B4/24" dev "$DEV_B"
# nodad: usable at once, no wait for duplicate address detection.
ip -n "$NS_A" addr add "$A6/64" dev "$DEV_A" nodad
ip -n "$NS_B" addr add "$B6/64" dev "$DEV_B" nodad
# Quiet IPv6 start-up, so each capture holds only the traffic we make and the files
# come out the same on every run: no router solicitations (there is no router), no
# duplicate address detection on the link-local address, and the unsolicited MLD
# reports of link-up sent within milliseconds instead of over the next second or two.
for pair in "$NS_A:$DEV_A" "$NS_B:$DEV_B"; do
  ns=${pair%%:*} dev=${pair#*:}
  ip netns exec "$ns" sysctl -qw \
    "net.ipv6.conf.$dev.accept_ra=0" \
    "net.ipv6.conf.$dev.router_solicitations=0" \
    "net.ipv6.conf.$dev.dad_transmits=0" \
    "net.ipv6.conf.$dev.mldv2_unsolicited_report_interval=10"
done
ip -n "$NS_A" link set "$DEV_A" up
ip -n "$NS_B" link set "$DEV_B" up

# Offload is on by default on a veth: captured outgoing TCP/UDP segments then carry
# only the pseudo-header sum (a "bad" checksum), and the kernel may hand over TSO
# super-segments. The first capture keeps that on purpose; the rest turn it off.
# tx off also turns TSO off; gso/gro off too so every captured frame is wire-sized.
offload_off() {
  in_a ethtool -K "$DEV_A" tx off rx off tso off gso off gro off >/dev/null
  in_b ethtool -K "$DEV_B" tx off rx off tso off gso off gro off >/dev/null
}

# --- servers in l4g-b -------------------------------------------------------------
www="$work/www"
mkdir -p "$www"
# ~20 KB of deterministic text: several full-size segments of HTTP body.
"$python" - "$www/file.txt" <<'EOF'
import sys
with open(sys.argv[1], 'w') as f:
    for i in range(400):
        f.write(f'l4 golden capture line {i:04d}: the quick brown fox jumps\n')
EOF
printf 'small\n' >"$www/small.txt"

cat >"$work/dns.py" <<'EOF'
# A tiny authoritative DNS responder: answers every A question with 192.0.2.80
# (TEST-NET-1), anything else with an empty NOERROR answer. RFC 1035 4.1.
import socket, struct, sys
host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((host, port))
while True:
    q, peer = s.recvfrom(4096)
    if len(q) < 17:
        continue
    qid, flags, qdcount = struct.unpack('!HHH', q[:6])
    if flags & 0x8000 or qdcount != 1:
        continue
    i = 12
    while i < len(q) and q[i] != 0:  # walk the QNAME labels
        i += 1 + q[i]
    if i + 5 > len(q):
        continue
    question = q[12:i + 5]
    qtype, qclass = struct.unpack('!HH', q[i + 1:i + 5])
    answer, ancount = b'', 0
    if qtype == 1 and qclass == 1:
        # Name is a pointer to offset 12 (the question), TTL 300, RDLENGTH 4.
        answer = b'\xc0\x0c' + struct.pack('!HHIH', 1, 1, 300, 4) + socket.inet_aton('192.0.2.80')
        ancount = 1
    # QR=1, AA=1, RD copied from the query, RCODE=0.
    header = struct.pack('!HHHHHH', qid, 0x8400 | (flags & 0x0100), 1, ancount, 0, 0)
    s.sendto(header + question + answer, peer)
EOF

# Started as plain commands (not through in_b) so that $! is the process itself:
# `ip netns exec` execs its command, so signals reach the server, not a subshell.
ip netns exec "$NS_B" "$python" -m http.server --bind :: --directory "$www" "$HTTP_PORT" >"$work/http.log" 2>&1 &
server_pids+=($!)
ip netns exec "$NS_B" "$python" "$work/dns.py" "$B4" "$DNS_PORT" >"$work/dns.log" 2>&1 &
server_pids+=($!)

wait_for() { # description, command...
  local what=$1; shift
  for _ in $(seq 1 100); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.05
  done
  echo "make-golden-captures: timed out waiting for $what" >&2
  exit 1
}
wait_for "HTTP server" bash -c "ip netns exec $NS_B ss -Hltn 'sport = :$HTTP_PORT' | grep -q ."
wait_for "DNS responder" bash -c "ip netns exec $NS_B ss -Hlun 'sport = :$DNS_PORT' | grep -q ."

# --- capture helpers --------------------------------------------------------------
# start_capture FILE IFACE [tcpdump options...]: tcpdump in l4g-a; returns when
# tcpdump reports it is listening. --immediate-mode: libpcap's TPACKET_V3 ring
# otherwise holds packets until a block fills or a 1 s timeout, and tcpdump does not
# drain the ring on SIGINT, so a short capture would end up empty. -U: each packet
# is written to the file at once.
start_capture() {
  local file=$1 iface=$2; shift 2
  local log="$work/$(basename "$file").log"
  # A plain command, so $! is tcpdump itself (through ip's exec): a function or
  # subshell in between would swallow the SIGINT (async jobs ignore SIGINT in bash).
  ip netns exec "$NS_A" tcpdump -Z root -U --immediate-mode -n -i "$iface" -w "$file" "$@" >"$log" 2>&1 &
  capture_pids+=($!)
  wait_for "tcpdump on $iface" grep -q 'listening on' "$log"
}
# stop_captures: let late packets (last ACKs, ICMP errors) arrive, then SIGINT and
# wait so tcpdump flushes and closes its files.
stop_captures() {
  local pid
  sleep 0.3
  for pid in "${capture_pids[@]}"; do kill -INT "$pid"; done
  for pid in "${capture_pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "make-golden-captures: tcpdump $pid ignored SIGINT" >&2
      exit 1
    fi
    wait "$pid" || true
  done
  capture_pids=()
}
# Forget neighbours so every capture starts with ARP / neighbour discovery.
flush_neighbours() {
  ip -n "$NS_A" neigh flush dev "$DEV_A"
  ip -n "$NS_B" neigh flush dev "$DEV_B"
}
# No proxy, no retries, no keep-alive surprises: one connection, one GET.
fetch() { in_a env -u http_proxy -u HTTP_PROXY -u all_proxy -u ALL_PROXY curl -sS --noproxy '*' --max-time 5 -o /dev/null "$@"; }
udp_to_closed_port() { # address family
  in_a "$python" -c 'import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.sendto(b"l4 golden: nobody listens here\n", (sys.argv[1], int(sys.argv[2])))' "$1" "$CLOSED_PORT"
}

# settle: wait for link-up chatter to end before a capture. The kernel brings up the
# link-local addresses (and sends MLD reports for them) only when it sees carrier,
# which linkwatch may delay by up to a second; then the reports go out within ~20 ms.
settle() {
  wait_for "link-local addresses" bash -c "
    ip -n $NS_A -6 addr show dev $DEV_A scope link | grep -q inet6 &&
    ip -n $NS_B -6 addr show dev $DEV_B scope link | grep -q inet6 &&
    ! ip -n $NS_A -6 addr show dev $DEV_A tentative | grep -q inet6 &&
    ! ip -n $NS_B -6 addr show dev $DEV_B tentative | grep -q inet6"
  sleep 0.3
}
settle

# --- 1. offload left at the veth defaults (on): a short curl ------------------------
flush_neighbours
start_capture "$work/offload-on.pcap" "$DEV_A"
fetch "http://$B4:$HTTP_PORT/file.txt"
stop_captures

offload_off
settle

# --- 2. HTTP over IPv4 --------------------------------------------------------------
flush_neighbours
start_capture "$work/http-curl.pcap" "$DEV_A"
fetch "http://$B4:$HTTP_PORT/file.txt"
stop_captures
editcap -F pcapng "$work/http-curl.pcap" "$work/http-curl.pcapng"

# --- 3. DNS over UDP, microsecond and nanosecond captures of the same traffic -------
flush_neighbours
start_capture "$work/dns-udp.pcap" "$DEV_A"
start_capture "$work/dns-udp-ns.pcap" "$DEV_A" --time-stamp-precision=nano
in_a dig +tries=1 +time=3 @"$B4" -p "$DNS_PORT" example.test A >"$work/dig.out"
grep -q '192\.0\.2\.80' "$work/dig.out" || { echo "make-golden-captures: no DNS answer" >&2; cat "$work/dig.out" >&2; exit 1; }
stop_captures

# --- 4. ICMP: echo, then port unreachable; on the veth and on "any" (SLL2) ----------
flush_neighbours
start_capture "$work/icmp.pcap" "$DEV_A"
start_capture "$work/icmp-any.pcap" any
in_a ping -n -q -c 3 -i 0.2 -W 2 "$B4" >/dev/null
udp_to_closed_port "$B4"
stop_captures

# --- 5. IPv6: echo, TCP, port unreachable, and an MLD report (Hop-by-Hop header) ---
flush_neighbours
start_capture "$work/ipv6.pcap" "$DEV_A"
# Joining a link-scope group makes the kernel send MLDv2 reports (join, then leave
# at exit), which carry a Hop-by-Hop Options header with Router Alert (RFC 3810 5).
in_a "$python" -c 'import socket, struct, time
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
group = socket.inet_pton(socket.AF_INET6, "ff02::1:3")
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, group + struct.pack("@I", socket.if_nametoindex("'"$DEV_A"'")))
time.sleep(0.1)'
in_a ping -6 -n -q -c 2 -i 0.2 -W 2 "$B6" >/dev/null
fetch -g "http://[$B6]:$HTTP_PORT/small.txt"
udp_to_closed_port "$B6"
stop_captures

# --- publish ----------------------------------------------------------------------
mkdir -p "$out_dir"
files=(http-curl.pcap http-curl.pcapng dns-udp.pcap dns-udp-ns.pcap icmp.pcap icmp-any.pcap ipv6.pcap offload-on.pcap)
for f in "${files[@]}"; do
  size=$(stat -c %s "$work/$f")
  if ((size > 100 * 1024)); then
    echo "make-golden-captures: $f is $size bytes (> 100 KB)" >&2
    exit 1
  fi
  cp "$work/$f" "$out_dir/$f"
done

elapsed=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
echo "make-golden-captures: wrote to $out_dir in ${elapsed}s:"
for f in "${files[@]}"; do
  frames=$(tcpdump -r "$out_dir/$f" -n 2>/dev/null | wc -l)
  printf '  %-18s %6d bytes %4d frames\n' "$f" "$(stat -c %s "$out_dir/$f")" "$frames"
done
