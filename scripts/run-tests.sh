#!/usr/bin/env bash
# Runs every test: unit tests (release and ASan/UBSan), end-to-end tests against
# the real daemon with the real AWS CLI and boto3, and a short run of each fuzzer.
# Everything goes through ctest, whose closing line counts what passed.
set -euo pipefail
build=${1:-build}
asan=${2:-build/asan}
export LP_BUILD_DIR=$(realpath "$build")
export LP_ASAN_BUILD_DIR=$(realpath "$asan")
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" --timeout 900
