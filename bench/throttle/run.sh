#!/usr/bin/env bash
# Noisy-neighbour benchmark (issue 19): one account floods mutating calls from many
# threads while another account's DescribeVpcs latency is measured, quiet and under
# the flood, against a daemon with the default [throttle] buckets and, in the same
# run, the same daemon with throttling off (the peer). Reports p50/p99 and the
# flood/quiet p99 ratio for both; the target is a ratio under 2 with throttling on.
# Each twice: unpinned, and pinned (daemon and victim on CPU 0, flooder on CPU 1;
# LP_BENCH_PIN=on/off for one). Bounded: LP_BENCH_SAMPLES DescribeVpcs per phase (default 1000), each phase at most
# LP_BENCH_PHASE_SECONDS (default 20), everything on 127.0.0.1, under `timeout 400`.
# Also printed: the daemon's CPU per second of each phase, per flood call, and its context
# switches. LP_BENCH_PEER=LINKPLANE adds a throttled run of another build (an A/B in the
# same run); LP_BENCH_PERF=FILE records perf profiles of the throttled flood phases.
# The machine's load is printed before and after: compare ratios within one run only.
#   bash bench/throttle/run.sh BUILD_DIR
set -euo pipefail
build=$(realpath "${1:-build}")
here=$(cd "$(dirname "$0")" && pwd)
[[ -x $build/src/daemon/linkplane ]] || { echo "bench throttle: build first" >&2; exit 1; }
echo "load before: $(uptime)"
timeout 400 /usr/bin/python3 "$here/bench.py" "$build/src/daemon/linkplane"
echo "load after: $(uptime)"
