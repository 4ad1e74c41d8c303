#!/usr/bin/env bash
# Offline replay throughput, Lateral vs Suricata 7 (`suricata -r --runmode single`), same
# pcaps, same ruleset, in one run. Rule-load time is measured on a one-packet pcap; packet
# rate is packets / (total time - load time), so the rate is about inspection, not start-up.
# Usage: bench/replay.sh [RULES] [PCAP...]   (defaults: ET Open; a captured lab workload)
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${LATERAL_SHARED:-$(cd .. && pwd)/shared}
rules=${1:-$shared/corpus/et-open/et-open.rules}
shift || true
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pcaps=("$@")
if [ ${#pcaps[@]} -eq 0 ]; then
  bench/makeWorkloadPcap.sh "$work/workload.pcap" >&2
  pcaps=("$work/workload.pcap")
fi
command -v suricata >/dev/null || { echo "bench: suricata missing: apt-get install -t bookworm-backports suricata" >&2; exit 1; }
./scripts/setup

one_packet="$work/one.pcap"
tcpdump -r "${pcaps[0]}" -c 1 -w "$one_packet" 2>/dev/null

now() { date +%s.%N; }
run_suricata() { # pcap -> seconds
  local t0 t1; t0=$(now)
  suricata -r "$1" -S "$rules" -k none --runmode single -l "$work" \
    --set vars.address-groups.HOME_NET=any --set vars.address-groups.EXTERNAL_NET=any >/dev/null 2>&1 || true
  t1=$(now); echo "$t1 - $t0" | bc
}
run_lateral() { # pcap -> seconds
  local t0 t1; t0=$(now)
  ./scripts/lateral replay "$1" --rules "$rules" -k none --eve "$work/lateral-eve.json" \
    --set vars.address-groups.HOME_NET=any --set vars.address-groups.EXTERNAL_NET=any >/dev/null 2>&1
  t1=$(now); echo "$t1 - $t0" | bc
}

printf '%-28s %10s %12s %12s %12s %8s\n' pcap packets engine load_s total_s pkts/s ratio
for pcap in "${pcaps[@]}"; do
  packets=$(tcpdump -r "$pcap" 2>/dev/null | wc -l)
  s_load=$(run_suricata "$one_packet"); s_total=$(run_suricata "$pcap")
  l_load=$(run_lateral "$one_packet"); l_total=$(run_lateral "$pcap")
  s_pps=$(echo "$packets / ($s_total - $s_load)" | bc)
  l_pps=$(echo "$packets / ($l_total - $l_load)" | bc)
  printf '%-28s %10s %12s %12.2f %12.2f %8s\n' "$(basename "$pcap")" "$packets" suricata "$s_load" "$s_total" "$s_pps"
  printf '%-28s %10s %12s %12.2f %12.2f %8s  pps %.2fx, load %.2fx\n' "" "" lateral "$l_load" "$l_total" "$l_pps" \
    "$(echo "$l_pps / $s_pps" | bc -l)" "$(echo "$s_load / $l_load" | bc -l)"
done
