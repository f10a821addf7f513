#!/usr/bin/env bash
# Console benchmark (issue 17): the Endpoints page with N (1,000) endpoints in Debian's
# Chromium, time to first rows and to the full list, against the AWS CLI's
# describe-vpc-endpoints in the same run. Control plane only (no root needed).
#   bash bench/console/run.sh [BUILD_DIR]          N=1000 RUNS=3; about 1-2 minutes
# Under `make bench` (bench/run.sh runs every bench/*/run.sh) LP_BENCH_CONSOLE=0 skips it.
set -euo pipefail
build=$(realpath "${1:-build}")
here=$(cd "$(dirname "$0")" && pwd)
if [[ ${LP_BENCH_CONSOLE:-1} == 0 ]]; then echo "bench console: skipped (LP_BENCH_CONSOLE=0)"; exit 0; fi
[[ -x $build/src/daemon/linkplane ]] || { echo "bench console: build first (missing $build/src/daemon/linkplane)" >&2; exit 1; }
[[ -d $here/../../tests/browser/node_modules/playwright-core ]] ||
  { echo "bench console: run scripts/install-deps.sh (tests/browser/node_modules missing)" >&2; exit 1; }
[[ -x ${LP_CHROMIUM:-/usr/bin/chromium} ]] || { echo "bench console: chromium missing (scripts/install-deps.sh)" >&2; exit 1; }
LP_BUILD_DIR=$build exec node "$here/console_bench.mjs"
