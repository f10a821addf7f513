#!/usr/bin/env bash
# Runs the benchmarks: `make bench` or `bash bench/run.sh BUILD_DIR`.
#
# API: linkplane (control plane only, temp state dir, free loopback port) against
# moto's server (`python3 -m moto.server`, the python3 first on PATH, which has
# moto 5), signed DescribeVpcs / CreateSecurityGroup / CreateTags / GetCallerIdentity at 1 and 8
# concurrent clients, LP_BENCH_SECONDS (default 5) per scenario and target.
# Then every other bench/<name>/run.sh, with the build dir as its argument.
set -euo pipefail
build=$(realpath "${1:-build}")
here=$(cd "$(dirname "$0")" && pwd)
seconds=${LP_BENCH_SECONDS:-5}
linkplane=$build/src/daemon/linkplane
bench=$build/bench/api_bench
[[ -x $linkplane && -x $bench ]] || { echo "bench: build first (missing $linkplane or $bench)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/lp-bench-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_http PORT PID NAME: until something answers HTTP on PORT (30 s at most).
wait_http() {
  for _ in $(seq 300); do
    if ! kill -0 "$2" 2>/dev/null; then echo "bench: $3 exited; log:" >&2; cat "$tmp/$3.log" >&2; exit 1; fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "bench: $3 did not start" >&2
  exit 1
}

echo "== API: linkplane vs moto, ${seconds}s per scenario =="
# Control plane only (no root needed); no quota in the way of the create loop.
cat >"$tmp/linkplane.toml" <<TOML
dataplane = false
log_level = "warn"
[limits]
security_groups_per_vpc = 10000000
TOML
lp_port=$(free_port)
"$linkplane" serve --config "$tmp/linkplane.toml" --state-dir "$tmp/state" --listen "127.0.0.1:$lp_port" \
  >"$tmp/linkplane.log" 2>&1 &
pids+=($!)
wait_http "$lp_port" "${pids[-1]}" linkplane

moto_args=()
moto_port=$(free_port)
if python3 -c 'import moto.server' 2>/dev/null; then
  python3 -m moto.server -H 127.0.0.1 -p "$moto_port" >"$tmp/moto.log" 2>&1 &
  pids+=($!)
  wait_http "$moto_port" "${pids[-1]}" moto
  moto_args=(--target "moto=http://127.0.0.1:$moto_port")
else
  echo "bench: moto is not installed for $(command -v python3); measuring linkplane alone" >&2
fi

"$bench" --seconds "$seconds" --target "linkplane=http://127.0.0.1:$lp_port" "${moto_args[@]}"

# Hook: other benchmarks, each bench/<name>/run.sh BUILD_DIR (LP_BENCH_ONLY=api skips them).
for other in "$here"/*/run.sh; do
  [[ -e $other && ${LP_BENCH_ONLY:-} != api ]] || continue
  echo
  echo "== $(basename "$(dirname "$other")") =="
  bash "$other" "$build"
done
