#!/usr/bin/env bash
# Scale benchmark (issue 14): a real `linkplane serve` with the data plane on, built up
# through the EC2/ELBv2 API to V consumer VPCs x E interface endpoints over 10 services
# of 2 providers, then measured against issue 14's targets; prints a table
# "measure | value | target | met?". A benchmark, never a timed test.
#   bash bench/scale/run.sh [BUILD_DIR]                 full size: V=1000 E=10 (10,000 endpoints)
#   V=20 E=5 bash bench/scale/run.sh                    about a minute
# Environment: V, E, SERVICES, THREADS, CONSUMERS, WORKERS, IDLE_SECONDS, SAMPLE,
# CONVERGE_TIMEOUT, KILL9=0 (skips the kill -9 restart), KEEP=1 (see bench/scale/scale.py).
# Under `make bench` (bench/run.sh runs every bench/*/run.sh) LP_BENCH_SCALE=0 skips it.
# Needs root.
set -euo pipefail
build=$(realpath "${1:-build}")
here=$(cd "$(dirname "$0")" && pwd)
linkplane=$build/src/daemon/linkplane
if [[ ${LP_BENCH_SCALE:-1} == 0 ]]; then echo "bench scale: skipped (LP_BENCH_SCALE=0)"; exit 0; fi
[[ -x $linkplane ]] || { echo "bench scale: build first (missing $linkplane)" >&2; exit 1; }
[[ $(id -u) == 0 ]] || { echo "bench scale: needs root (namespaces, nftables)" >&2; exit 1; }
for tool in ip nft; do
  command -v $tool >/dev/null || { echo "bench scale: $tool missing (scripts/install-deps.sh)" >&2; exit 1; }
done
# The daemon inherits this shell's descriptor limit and lifts its soft limit to the
# hard one; at full size it needs tens of thousands (listeners per ENI and loop).
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true
exec /usr/bin/python3 "$here/scale.py" --binary "$linkplane"
