#!/usr/bin/env bash
# Captures a real east-west workload into a pcap for the replay benchmark: HTTP requests
# (busybox httpd, curl) and Redis commands (redis-server, redis-benchmark) between two
# network namespaces on a private bridge that exists only on this machine.
# Usage: bench/makeWorkloadPcap.sh OUT.pcap [HTTP_REQUESTS] [REDIS_REQUESTS]
set -euo pipefail
out=${1:?usage: makeWorkloadPcap.sh OUT.pcap [HTTP_REQUESTS] [REDIS_REQUESTS]}
http_requests=${2:-3000}
redis_requests=${3:-20000}
p=lbw$$
br=${p}br
work=$(mktemp -d)
cleanup() {
  for f in "$work"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
  ip netns del ${p}c 2>/dev/null || true
  ip netns del ${p}s 2>/dev/null || true
  ip link del "$br" 2>/dev/null || true
  iptables -D FORWARD -i "$br" -o "$br" -m comment --comment "lateral-bench:$p" -j ACCEPT 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

ip link add "$br" type bridge && ip link set "$br" up
# With br_netfilter, bridged frames traverse FORWARD; a Docker host sets its policy to DROP.
iptables -I FORWARD 1 -i "$br" -o "$br" -m comment --comment "lateral-bench:$p" -j ACCEPT
for side in c s; do
  ip netns add ${p}$side
  ip link add ${p}$side type veth peer name eth0 netns ${p}$side
  ip link set ${p}$side master "$br" up
  ip -n ${p}$side link set lo up
  ip -n ${p}$side link set eth0 up
done
ip -n ${p}c addr add 10.213.0.2/24 dev eth0
ip -n ${p}s addr add 10.213.0.3/24 dev eth0

mkdir -p "$work/www"
head -c 3000 /dev/urandom | base64 > "$work/www/index.html"
ip netns exec ${p}s busybox httpd -f -p 80 -h "$work/www" & echo $! > "$work/httpd.pid"
ip netns exec ${p}s redis-server --port 6379 --bind 10.213.0.3 --protected-mode no --save '' --appendonly no --daemonize no >/dev/null & echo $! > "$work/redis.pid"
sleep 1
tcpdump -i "$br" -w "$out" -s 0 -U -q 2>/dev/null & echo $! > "$work/tcpdump.pid"
sleep 1
for i in $(seq 1 "$http_requests"); do echo "url = \"http://10.213.0.3/index.html?q=$i\""; done > "$work/urls"
ip netns exec ${p}c curl -s -o /dev/null -K "$work/urls" --parallel --parallel-max 4 --max-time 10 --no-progress-meter
ip netns exec ${p}c redis-benchmark -h 10.213.0.3 -q -n "$redis_requests" -c 4 -t set,get >/dev/null
sleep 1
kill "$(cat "$work/tcpdump.pid")"; rm "$work/tcpdump.pid"; sleep 1
echo "wrote $out: $(tcpdump -r "$out" 2>/dev/null | wc -l) packets"
