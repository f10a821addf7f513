#!/usr/bin/env bash
# The build matrix of issue 20: Release, RelWithDebInfo and Debug with GCC 12 and
# Clang 14, each with warnings as errors (-DLP_WERROR=ON), every target (the daemon,
# unit_tests, the benches, the man page). Not part of `make test`: from scratch each
# build is an hour or more on a 2-core machine (docs/install.md has the last result).
#
#   scripts/build-matrix.sh                    # all six, in build/matrix/<name>
#   scripts/build-matrix.sh gcc-release clang-debug
#   MATRIX_DIR=/tmp/m JOBS=4 COMMIT=main scripts/build-matrix.sh
#
# Every build compiles one commit (COMMIT, default HEAD), checked out in the worktree
# MATRIX_DIR/src: a merge or an edit in the working tree while a build of an hour runs
# would otherwise mix objects of two commits (it happened twice, and each time
# the link of unit_tests failed for it). Uncommitted changes are not built.
# Each build goes on past a failed object (ninja -k 0), so one pass lists every
# warning; its log is MATRIX_DIR/<name>/build.log. A build that succeeds then runs its
# unit tests. Prints one table row per build and exits 1 if any failed.
set -uo pipefail

cd "$(dirname "$0")/.."
MATRIX_DIR=$(realpath -m "${MATRIX_DIR:-build/matrix}")
JOBS=${JOBS:-$(nproc)}
commit=$(git rev-parse --verify "${COMMIT:-HEAD}^{commit}") || exit 2
# One worktree, moved to the commit: git rewrites only the files that differ, so a build
# directory of an earlier pass rebuilds only what changed.
src=$MATRIX_DIR/src
if [ ! -e "$src/.git" ]; then
  mkdir -p "$MATRIX_DIR"
  git worktree add -q --detach "$src" "$commit" || exit 2
else
  git -C "$src" checkout -q --detach "$commit" || exit 2
fi
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
    # A directory configured from another source tree (before builds had their own worktree).
    if [ -f "$dir/CMakeCache.txt" ] && ! grep -q "^CMAKE_HOME_DIRECTORY:INTERNAL=$src\$" "$dir/CMakeCache.txt"; then
      rm -rf "$dir/CMakeCache.txt" "$dir/CMakeFiles"
    fi
    CC=$cc CXX=$cxx cmake -S "$src" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=$type -DLP_WERROR=ON &&
      nice -n 19 ninja -C "$dir" -k 0 -j "$JOBS"
  } >"$log" 2>&1
  rc=$?
  minutes=$(( ($(date +%s) - start + 59) / 60 ))
  errors=$(grep -c 'error:' "$log")
  objects=$(grep -c '^FAILED: ' "$log")
  if [ $rc -eq 0 ]; then
    result="built, no warning"
    units=$(cd "$dir" && nice -n 19 tests/unit_tests --gtest_brief=1 2>&1 | tail -5)
    passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) tests\?\..*/\1/p' <<<"$units")
    if [ -n "$passed" ] && ! grep -q 'FAILED' <<<"$units"; then
      result+="; its unit_tests pass ($passed tests)"
    else
      result+="; its unit_tests FAILED: $(tr '\n' ' ' <<<"$units")"
      failed=1
    fi
  else
    result="FAILED: $objects targets, $errors errors (see $log)"
    failed=1
  fi
  version=$($cxx --version | head -1)
  rows+=("| $name | $version | $type | $result | $minutes min |")
  echo "${rows[-1]}"
done

echo
echo "commit ${commit:0:7} (built in the worktree $src), $(date -u +%Y-%m-%d), -j$JOBS"
echo "| build | compiler | CMAKE_BUILD_TYPE | result | time |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
exit $failed
