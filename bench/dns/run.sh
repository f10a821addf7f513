#!/usr/bin/env bash
# DNS benchmark: queries per second of linkplane's resolver (host listener, UDP and
# TCP) against dnsmasq serving the same A records, same run, with dnsperf (Debian's
# dnsperf), for three query mixes:
#   repeated  the same 48 queries byte for byte: linkplane answers from its answer cache;
#   case      the same mix as LP_BENCH_DNS_DISTINCT (default 40000) distinct queries,
#             names in random case: the cache is keyed by the lowercased name, so
#             these hit it too (each answer spelled as its query);
#   distinct  LP_BENCH_DNS_DISTINCT names that do not exist (NXDOMAIN), each once per
#             cycle: the cache (at most 16384 answers) never hits, so every answer
#             is built with ldns.
# Bounded: LP_BENCH_DNS_SECONDS (default 3) per server, transport and mix (12 runs),
# everything on 127.0.0.1, every process stopped on exit.
#   bash bench/dns/run.sh BUILD_DIR
set -euo pipefail
build=$(realpath "${1:-build}")
here=$(cd "$(dirname "$0")" && pwd)
seconds=${LP_BENCH_DNS_SECONDS:-3}
clients=${LP_BENCH_DNS_CLIENTS:-8}
linkplane=$build/src/daemon/linkplane
[[ -x $linkplane ]] || { echo "bench dns: build first (missing $linkplane)" >&2; exit 1; }
# The names' side first (no root, no tools): one endpoint change + snapshot at
# 10,000 endpoints, incremental NameTable vs the full rebuild (snapshot_bench.cc).
if [[ -x $build/bench/dns/snapshot_bench ]]; then
  echo "== names: one endpoint change + snapshot, incremental vs full rebuild"
  "$build/bench/dns/snapshot_bench"
fi
for tool in dnsperf dnsmasq dig; do
  command -v $tool >/dev/null || { echo "bench dns: $tool missing (scripts/install-deps.sh)" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/lp-bench-dns-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

api_port=$(free_port)
lp_dns=$(free_port)
cat >"$tmp/linkplane.toml" <<TOML
dataplane = false
log_level = "warn"
dns_listen = "127.0.0.1:$lp_dns"
TOML
"$linkplane" serve --config "$tmp/linkplane.toml" --state-dir "$tmp/state" --listen "127.0.0.1:$api_port" \
  >"$tmp/linkplane.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do
  (exec 3<>"/dev/tcp/127.0.0.1/$api_port") 2>/dev/null && break
  kill -0 "${pids[-1]}" 2>/dev/null || { cat "$tmp/linkplane.log" >&2; exit 1; }
  sleep 0.1
done
/usr/bin/python3 "$here/setup_records.py" "http://127.0.0.1:$api_port" "$lp_dns" "$tmp" "${LP_BENCH_DNS_ENDPOINTS:-8}" \
  "${LP_BENCH_DNS_DISTINCT:-40000}"

# dnsmasq: authoritative-like for the zone (local: unknown names NXDOMAIN, no
# upstream), the same A records from a hosts file, answering from memory.
dm_port=$(free_port)
dnsmasq --keep-in-foreground --port="$dm_port" --listen-address=127.0.0.1 --bind-interfaces --no-resolv \
  --no-hosts --addn-hosts="$tmp/hosts.txt" --local=/us-east-1.vpce.amazonaws.com/ --cache-size=10000 \
  --user=root --pid-file="$tmp/dnsmasq.pid" --log-facility="$tmp/dnsmasq.log" &
pids+=($!)
for _ in $(seq 100); do
  dig @127.0.0.1 -p "$dm_port" +short +time=1 +tries=1 "$(head -1 "$tmp/queries.txt" | cut -d' ' -f1)" | grep -q . && break
  sleep 0.1
done

# Both must give the same answers before they are timed, in either spelling.
for first in "$(head -1 "$tmp/queries.txt" | cut -d' ' -f1)" "$(head -1 "$tmp/queries-case.txt" | cut -d' ' -f1)"; do
  a=$(dig @127.0.0.1 -p "$lp_dns" +short "$first" | sort)
  b=$(dig @127.0.0.1 -p "$dm_port" +short "$first" | sort)
  [[ -n $a && $a == "$b" ]] || { echo "bench dns: answers differ for $first: linkplane [$a] dnsmasq [$b]" >&2; exit 1; }
done
nx=$(head -1 "$tmp/queries-distinct.txt" | cut -d' ' -f1)
for port in "$lp_dns" "$dm_port"; do
  dig @127.0.0.1 -p "$port" "$nx" | grep -q 'status: NXDOMAIN' || { echo "bench dns: $nx is not NXDOMAIN on $port" >&2; exit 1; }
done

QPS=""
run() {  # run NAME PORT MODE FILE: one dnsperf run, one line; its queries/s in $QPS
  local out
  out=$(dnsperf -s 127.0.0.1 -p "$2" -m "$3" -d "$4" -l "$seconds" -c "$clients" -T 1 -q 200 2>&1)
  local avg lost rcodes
  QPS=$(awk '/Queries per second:/ {print $4}' <<<"$out")
  avg=$(awk '/Average Latency/ {printf "%.3f", $4 * 1000; exit}' <<<"$out")
  lost=$(awk '/Queries lost:/ {print $3}' <<<"$out")
  rcodes=$(awk '/Response codes:/ {sub(/.*Response codes: /, ""); print}' <<<"$out")
  printf '%-10s %-4s %12s %10s %10s  %s\n' "$1" "$3" "$QPS" "$avg" "$lost" "$rcodes"
}
for mix in repeated case distinct; do
  if [[ $mix == repeated ]]; then
    file=$tmp/queries.txt
    echo "== repeated: $(wc -l <"$file") distinct queries, sent again and again (linkplane answers from its cache) =="
  elif [[ $mix == case ]]; then
    file=$tmp/queries-case.txt
    echo "== case: $(wc -l <"$file") distinct queries, the same mix in random case (linkplane answers from its cache) =="
  else
    file=$tmp/queries-distinct.txt
    echo "== distinct: $(wc -l <"$file") names that do not exist, NXDOMAIN (no linkplane cache hits) =="
  fi
  printf '%-10s %-4s %12s %10s %10s  %s\n' server mode "queries/s" "avg ms" "lost" "rcodes"
  for mode in udp tcp; do
    run linkplane "$lp_dns" $mode "$file"
    lp_qps=$QPS
    run dnsmasq "$dm_port" $mode "$file"
    awk -v a="$lp_qps" -v b="$QPS" -v m="$mode" 'BEGIN {if (b > 0) printf "%-15s linkplane/dnsmasq %.2fx\n", m, a / b}'
  done
done
echo "($clients clients, ${seconds}s each, $(nproc) cores shared by server and dnsperf)"
