#!/usr/bin/env bash
# Long libFuzzer runs of native/fuzz (issue 14): each target in turn for
# SECONDS (default 900), from the committed seeds plus the corpus grown by
# earlier runs (build/fuzz-corpus/<target>, kept between runs), with the
# format's dictionary, ASan + UBSan, a 10 s slow-input limit
# (VSK_FUZZ_TIMEOUT) and -print_final_stats=1 (executions, coverage: edges
# "cov", features "ft"). Findings go to build/fuzz-artifacts/; turn each into
# a regression (native/fuzz/regressions/<target>/, replayed by ctest in the
# fuzz build) and fix it. VSK_FUZZ_FORK=N runs N worker processes per target
# (libFuzzer -fork; they keep going after a finding, -ignore_crashes=1).
# Usage: bash scripts/fuzz.sh [SECONDS] [target ...]
#        (targets: fuzz_bundle_open fuzz_voice fuzz_registry; default all)
# Summaries: build/fuzz-logs/<target>.log (last lines = final stats).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# cmake and ninja come from pip (".[dev]", scripts/setup.sh) into .venv
# shellcheck disable=SC1091
[ -f .venv/bin/activate ] && . .venv/bin/activate

SECS="${1:-900}"
[ "$#" -gt 0 ] && shift
TARGETS=("$@")
[ "${#TARGETS[@]}" -eq 0 ] && TARGETS=(fuzz_bundle_open fuzz_voice fuzz_registry)
TIMEOUT="${VSK_FUZZ_TIMEOUT:-10}"
FORK="${VSK_FUZZ_FORK:-0}"
BUILD="${VSK_FUZZ_BUILD:-build/fuzz}"

GEN=()
command -v ninja >/dev/null 2>&1 && [ ! -f "$BUILD/CMakeCache.txt" ] && GEN=(-G Ninja)
cmake -S native -B "$BUILD" "${GEN[@]}" -DCMAKE_C_COMPILER=clang \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVSK_BUILD_TESTS=OFF \
  -DVSK_FUZZ=ON >/dev/null
cmake --build "$BUILD" --parallel "$(nproc 2>/dev/null || echo 2)"

export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
mkdir -p build/fuzz-artifacts build/fuzz-logs
status=0
for t in "${TARGETS[@]}"; do
  mkdir -p "build/fuzz-corpus/$t"
  extra=()
  [ "$FORK" -gt 0 ] && extra=(-fork="$FORK" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  echo "[fuzz] $t for $SECS s (log build/fuzz-logs/$t.log)"
  set +e
  "$BUILD/fuzz/$t" "build/fuzz-corpus/$t" "native/fuzz/corpus/$t" \
    -dict=native/fuzz/vskin.dict -max_total_time="$SECS" -timeout="$TIMEOUT" \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="build/fuzz-artifacts/$t-" \
    "${extra[@]}" >"build/fuzz-logs/$t.log" 2>&1
  rc=$?
  set -e
  grep -E "^#[0-9]+ +(DONE|NEW|REDUCE|pulse|INITED)" "build/fuzz-logs/$t.log" | tail -n 1 || true
  grep -E "^stat::|^INFO: (fuzzed for|exiting)|SUMMARY|ERROR: libFuzzer|crash-|timeout-|oom-" \
    "build/fuzz-logs/$t.log" | tail -n 12 || true
  if [ "$rc" -ne 0 ]; then
    echo "[fuzz] $t: exit $rc, findings in build/fuzz-artifacts/" >&2
    status=1
  fi
done
exit "$status"
