#!/usr/bin/env bash
# The BPF path's kernel executor and sweeper at scale (issue 18): netlink_batch_bench
# (a plan's writes with a socket per write vs one per namespace per diff) and
# sweep_bench (the connection sweep with lp_conns filled). Needs root and a build with
# the BPF path. Usage: bench/bpf/run.sh BUILD_DIR
set -euo pipefail
build=$(realpath "${1:-build}")
if [[ $(id -u) != 0 ]]; then echo "bpf bench: needs root, skipped"; exit 0; fi
if [[ ! -x $build/bench/bpf/netlink_batch_bench ]]; then echo "bpf bench: built without the BPF path, skipped"; exit 0; fi
"$build/bench/bpf/netlink_batch_bench" 20 10 3
"$build/bench/bpf/sweep_bench" 5 1 10000 100000
