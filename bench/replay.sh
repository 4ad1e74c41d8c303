#!/usr/bin/env bash
# Offline replay throughput, Lateral vs Suricata 7 (`suricata -r --runmode single`), same
# pcaps, same ruleset, in one run. Rule-load time is measured on a one-packet pcap (median of 3); packet
# rate is packets / (total time - load time), so the rate is about inspection, not start-up.
# A rule file with broken rules is run as Suricata runs it: those rules are left out.
# MB/s counts the captured bytes of the pcap (file size minus pcap headers).
# Suricata spends ~20 s CPU loading ET Open and ~2 s inspecting the lab workload, so load-time
# noise on a busy machine can swamp the difference; each pcap is therefore replayed as
# LATERAL_BENCH_REPEAT (default 16) back-to-back copies, each shifted by an hour (editcap -t,
# mergecap -a) so the copies' flows are new flows to both engines.
# Usage: bench/replay.sh [RULES] [PCAP...]   (defaults: ET Open; two captured lab workloads:
#   the mixed one (3,000 HTTP requests + 20,000 Redis commands) and an HTTP-heavy one (12,000
#   HTTP requests, 3 KiB responses))
# Per-packet engine cost without start-up, allocations per packet and the raw Aho-Corasick
# rate: node --trace-gc dist/bench/enginePerf.js RULES PCAP (see docs/performance.md).
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
  bench/makeWorkloadPcap.sh "$work/http-heavy.pcap" 12000 1 >&2
  pcaps=("$work/workload.pcap" "$work/http-heavy.pcap")
fi
command -v suricata >/dev/null || { echo "bench: suricata missing: apt-get install -t bookworm-backports suricata" >&2; exit 1; }
./scripts/setup

one_packet="$work/one.pcap"
tcpdump -r "${pcaps[0]}" -c 1 -w "$one_packet" 2>/dev/null

# Both wall-clock and CPU (user+sys) seconds: on a shared, loaded machine wall time mostly
# measures the neighbours, CPU time the engine. Rates are packets / (total - load) of each.
measure() { # cmd... -> "wall cpu"
  local f="$work/time.$$"
  /usr/bin/time -f '%e %U %S' -o "$f" "$@" >/dev/null 2>&1 || true
  awk '{ printf "%.2f %.2f", $1, $2 + $3 }' "$f"
}
run_suricata() { # pcap -> "wall cpu"
  measure suricata -r "$1" -S "$rules" -k none --runmode single -l "$work" \
    --set vars.address-groups.HOME_NET=any --set vars.address-groups.EXTERNAL_NET=any
}
run_lateral() { # pcap -> "wall cpu"
  rm -f "$work/lateral-eve.json" # the EVE writer appends: count this run's alerts only
  measure ./scripts/lateral replay "$1" --rules "$rules" -k none --eve "$work/lateral-eve.json" \
    --set vars.address-groups.HOME_NET=any --set vars.address-groups.EXTERNAL_NET=any
}
rate() { # packets total load -> packets/s (0 when the difference is not positive)
  echo "$1 $2 $3" | awk '{ d = $2 - $3; r = 0; if (d > 0) r = $1 / d; printf "%d", r }'
}
mbps() { # bytes total load -> MB/s
  echo "$1 $2 $3" | awk '{ d = $2 - $3; r = 0; if (d > 0) r = $1 / 1e6 / d; printf "%.1f", r }'
}

repeat=${LATERAL_BENCH_REPEAT:-16}
command -v mergecap >/dev/null || { echo "bench: mergecap/editcap missing: apt-get install wireshark-common" >&2; exit 1; }
stretch() { # pcap -> path of a pcap holding $repeat time-shifted copies of it
  local out="$work/$(basename "$1" .pcap).x$repeat.pcap" parts=() k
  for ((k = 0; k < repeat; k++)); do
    editcap -F pcap -t $((k * 3600)) "$1" "$work/part$k.pcap"
    parts+=("$work/part$k.pcap")
  done
  mergecap -F pcap -a -w "$out" "${parts[@]}"
  rm -f "${parts[@]}"
  echo "$out"
}

# Suricata's ET Open load varies by several CPU seconds from run to run (16.6 vs 22.5 s seen in
# two runs minutes apart), which alone moved a rate by 2x: the load is the median of
# LATERAL_BENCH_LOAD_RUNS one-packet runs (default 3), wall and CPU each.
load_runs=${LATERAL_BENCH_LOAD_RUNS:-3}
load_median() { # run_suricata|run_lateral -> "wall cpu" medians over $load_runs one-packet runs
  local k runs=()
  for ((k = 0; k < load_runs; k++)); do runs+=("$("$1" "$one_packet")"); done
  local m=$(( (load_runs + 1) / 2 ))
  printf '%s %s' "$(printf '%s\n' "${runs[@]}" | awk '{ print $1 }' | sort -g | sed -n "${m}p")" \
    "$(printf '%s\n' "${runs[@]}" | awk '{ print $2 }' | sort -g | sed -n "${m}p")"
}

printf '%-22s %8s %9s %8s %8s %8s %8s %9s %9s %8s\n' pcap packets engine load_s load_cpu total_s tot_cpu pkt/s pkt/s_cpu MB/s_cpu
for original in "${pcaps[@]}"; do
  pcap=$(stretch "$original")
  packets=$(tcpdump -r "$pcap" 2>/dev/null | wc -l)
  bytes=$(( $(stat -c %s "$pcap") - 24 - 16 * packets ))
  read -r s_lw s_lc <<<"$(load_median run_suricata)"; read -r s_tw s_tc <<<"$(run_suricata "$pcap")"
  read -r l_lw l_lc <<<"$(load_median run_lateral)"; read -r l_tw l_tc <<<"$(run_lateral "$pcap")"
  s_pps=$(rate "$packets" "$s_tw" "$s_lw"); s_cpps=$(rate "$packets" "$s_tc" "$s_lc")
  l_pps=$(rate "$packets" "$l_tw" "$l_lw"); l_cpps=$(rate "$packets" "$l_tc" "$l_lc")
  alerts=$(grep -c '"event_type":"alert"' "$work/lateral-eve.json" || true)
  s_mb=$(mbps "$bytes" "$s_tc" "$s_lc"); l_mb=$(mbps "$bytes" "$l_tc" "$l_lc")
  printf '%-22s %8s %9s %8s %8s %8s %8s %9s %9s %8s\n' "$(basename "$pcap")" "$packets" suricata "$s_lw" "$s_lc" "$s_tw" "$s_tc" "$s_pps" "$s_cpps" "$s_mb"
  printf '%-22s %8s %9s %8s %8s %8s %8s %9s %9s %8s\n' "" "" lateral "$l_lw" "$l_lc" "$l_tw" "$l_tc" "$l_pps" "$l_cpps" "$l_mb"
  echo "$l_cpps $s_cpps $s_lc $l_lc $alerts" | awk '{ p = 0; l = 0; if ($2 > 0) p = $1 / $2; if ($4 > 0) l = $3 / $4;
    printf "ratios lateral/suricata: pkt/s (cpu) %.2fx; rule load (cpu) %.2fx faster; lateral alerts %d\n", p, l, $5 }'
done
