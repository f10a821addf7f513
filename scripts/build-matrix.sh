#!/usr/bin/env bash
# The build matrix of issue 20: Release, RelWithDebInfo and Debug with GCC 12 and
# Clang 14, each with warnings as errors (-DLP_WERROR=ON), every target (the daemon,
# unit_tests, the benches, the man page). Not part of `make test`: from scratch each
# build is an hour or more on a 2-core machine (docs/install.md has the last result).
#
#   scripts/build-matrix.sh                    # all six, in build/matrix/<name>
#   scripts/build-matrix.sh gcc-release clang-debug
#   MATRIX_DIR=/tmp/m JOBS=4 scripts/build-matrix.sh
#
# Each build goes on past a failed object (ninja -k 0), so one pass lists every
# warning; its log is build/matrix/<name>/build.log. Prints one table row per build
# and exits 1 if any failed.
set -uo pipefail

cd "$(dirname "$0")/.."
MATRIX_DIR=${MATRIX_DIR:-build/matrix}
JOBS=${JOBS:-$(nproc)}
ALL=(gcc-release clang-release gcc-debug clang-relwithdebinfo clang-debug gcc-relwithdebinfo)
CONFIGS=("$@")
[ ${#CONFIGS[@]} -eq 0 ] && CONFIGS=("${ALL[@]}")

rows=()
failed=0
for name in "${CONFIGS[@]}"; do
  compiler=${name%%-*}
  case ${name#*-} in
    release) type=Release ;;
    relwithdebinfo) type=RelWithDebInfo ;;
    debug) type=Debug ;;
    *) echo "unknown build '$name' (one of: ${ALL[*]})" >&2; exit 2 ;;
  esac
  case $compiler in
    gcc) cc=gcc-12 cxx=g++-12 ;;
    clang) cc=clang-14 cxx=clang++-14 ;;
    *) echo "unknown compiler in '$name' (gcc or clang)" >&2; exit 2 ;;
  esac
  dir=$MATRIX_DIR/$name
  mkdir -p "$dir"
  log=$dir/build.log
  start=$(date +%s)
  {
    CC=$cc CXX=$cxx cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=$type -DLP_WERROR=ON &&
      nice -n 19 ninja -C "$dir" -k 0 -j "$JOBS"
  } >"$log" 2>&1
  rc=$?
  minutes=$(( ($(date +%s) - start + 59) / 60 ))
  errors=$(grep -c 'error:' "$log")
  objects=$(grep -c '^FAILED: ' "$log")
  if [ $rc -eq 0 ]; then
    result="built, no warning"
  else
    result="FAILED: $objects targets, $errors errors (see $log)"
    failed=1
  fi
  version=$($cxx --version | head -1)
  rows+=("| $name | $version | $type | $result | $minutes min |")
  echo "${rows[-1]}"
done

echo
echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' (with local changes)'), $(date -u +%Y-%m-%d), -j$JOBS"
echo "| build | compiler | CMAKE_BUILD_TYPE | result | time |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
exit $failed
