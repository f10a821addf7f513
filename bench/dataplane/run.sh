#!/usr/bin/env bash
# Data plane benchmark: direct vs linkplane vs HAProxy on the same two-VPC topology
# (see bench.py). Bounded: DURATION seconds per measurement (default 5), REPEAT
# rounds (default 3) of 16 measurements (each load for two contenders back to back, in
# alternating order); medians and per-round linkplane/HAProxy ratios reported; at
# most 20 minutes. Contenders: direct, the kernel fast path, the splice path, HAProxy;
# then IDLE_CONNS (default 10000) idle connections on the fast path, an echo on each,
# memory per connection. Needs root and iperf3, wrk, nginx, haproxy (scripts/install-deps.sh).
#   LP_BUILD_DIR=build DURATION=5 REPEAT=3 bench/dataplane/run.sh
# LP_DP_WORKERS=N sets linkplane's forwarding loops (default: one per core).
# LP_METRICS_SAMPLE_SECONDS=N sets [metrics] sample_seconds; metrics_on_off.sh compares 1 and 60.
# conns.py (not run from here): only the new-connection load, fast path against direct,
# with each namespace's TCP and conntrack counters, a few seconds per figure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export LP_BUILD_DIR="${LP_BUILD_DIR:-$here/../../build}"
exec timeout 1200 /usr/bin/python3 "$here/bench.py"
