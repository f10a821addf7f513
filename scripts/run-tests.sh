#!/usr/bin/env bash
# Runs every test: unit tests (release and ASan/UBSan), end-to-end tests against
# the real daemon with the real AWS CLI and boto3, and a short run of each fuzzer.
# The closing line counts what passed: "N passed, N failed" (ctest's tests, the
# ASan/UBSan unit tests, one per fuzz target).
set -euo pipefail
# Absolute: the fuzz runs below work from a temporary directory.
build=$(realpath "${1:-build}")
asan=$(realpath "${2:-build/asan}")
export LP_BUILD_DIR=$build
export LP_ASAN_BUILD_DIR=$asan
logs=$(mktemp -d /tmp/lp-test-logs-XXXXXX)
trap 'rm -rf "$logs"' EXIT
passed=0 failed=0

# 1. ctest: unit tests and end-to-end tests of the release build.
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" --timeout 900 2>&1 | tee "$logs/ctest.log" || true
summary=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$logs/ctest.log" | tail -1 || true)
if [[ $summary =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
  failed=$((failed + BASH_REMATCH[1])) passed=$((passed + BASH_REMATCH[2] - BASH_REMATCH[1]))
else
  echo "run-tests: ctest did not report a summary" >&2
  failed=$((failed + 1))
fi

# 2. The unit tests built with AddressSanitizer + UBSan (the net tests need root, as above).
echo "== ASan/UBSan unit tests: $asan/tests/unit_tests"
if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  timeout 1800 "$asan/tests/unit_tests" --gtest_brief=1 >"$logs/asan.log" 2>&1; then
  n=$(grep -oE '\[  PASSED  \] [0-9]+' "$logs/asan.log" | grep -oE '[0-9]+$' || echo 0)
  echo "ASan/UBSan unit tests: $n passed"
  passed=$((passed + n))
else
  tail -n 80 "$logs/asan.log"
  echo "ASan/UBSan unit tests FAILED"
  failed=$((failed + 1))
fi

# 3. Each fuzz target for a short bounded run from a copy of its seed corpus.
fuzz_seconds=${LP_FUZZ_SECONDS:-20}
for fuzzer in "$asan"/tests/fuzz_*; do
  [[ -x $fuzzer ]] || continue
  name=$(basename "$fuzzer")
  corpus=$logs/corpus-$name
  mkdir -p "$corpus"
  cp -r "$(dirname "$0")/../tests/fuzz/corpus/$name/." "$corpus/" 2>/dev/null || true
  echo "== fuzz: $name for ${fuzz_seconds}s"
  mkdir -p "$build/fuzz-artifacts"
  if (cd "$logs" && timeout $((fuzz_seconds * 3 + 60)) "$fuzzer" -max_total_time="$fuzz_seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$name-" "$corpus" >"$logs/$name.log" 2>&1); then
    echo "$name: $(grep -E 'stat::number_of_executed_units' "$logs/$name.log" | grep -oE '[0-9]+$') runs, no crash"
    passed=$((passed + 1))
  else
    tail -n 60 "$logs/$name.log"
    echo "$name FAILED: reproduce with $fuzzer $build/fuzz-artifacts/$name-*"
    failed=$((failed + 1))
  fi
done

# 4. The VPC console in a real browser (Debian's chromium, playwright-core, axe-core):
# one count per test file. Screenshots go to $build/browser-artifacts.
browser_dir=$(dirname "$0")/../tests/browser
for t in "$browser_dir"/*.test.mjs; do
  [[ -f $t ]] || continue
  name=$(basename "$t" .test.mjs)
  echo "== browser: $name"
  if LP_BROWSER_ARTIFACTS="$build/browser-artifacts" PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
    timeout 900 node --test --test-reporter=spec "$t" >"$logs/browser-$name.log" 2>&1; then
    grep -E '(pass|fail) [0-9]+$' "$logs/browser-$name.log" || true
    passed=$((passed + 1))
  else
    tail -n 120 "$logs/browser-$name.log"
    echo "browser test $name FAILED (screenshots: $build/browser-artifacts)"
    failed=$((failed + 1))
  fi
done

echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
