#!/usr/bin/env bash
# nft_bench (see nft_bench.cc): one nftables call in process vs through the helper.
# Needs root. Usage: bench/nftables/run.sh BUILD_DIR [CALLS]
set -euo pipefail
build=$(realpath "${1:-build}")
if [[ $(id -u) != 0 ]]; then echo "nftables bench: needs root, skipped"; exit 0; fi
[[ -x $build/bench/nftables/nft_bench ]] || { echo "nftables bench: build nft_bench first" >&2; exit 1; }
echo "== nftables: ${2:-200} calls of a small ruleset in one namespace"
"$build/bench/nftables/nft_bench" "${2:-200}"
