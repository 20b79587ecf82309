#!/usr/bin/env bash
# Native CI jobs (issue 14), run by .ci/run after scripts/test.sh:
#   1. ASan + UBSan (GCC, -DVSK_SANITIZE=address,undefined): every C test;
#   2. TSan (GCC, -DVSK_SANITIZE=thread): the threaded C tests (label "threads");
#   3. MSan (clang, -DVSK_SANITIZE=memory, origins tracked): every C test;
#      reads of uninitialised memory, which ASan does not see (a test's
#      stack struct left half-set once passed here and crashed on CI);
#   4. libFuzzer (clang, -DVSK_FUZZ=ON, ASan + UBSan): the committed
#      regression inputs and seeds replayed (ctest), then each target fuzzed
#      for VSK_CI_FUZZ_SECONDS (default 60) from the seeds in native/fuzz/corpus
#      with the format's dictionary; a crash, a sanitizer report, a leak, an
#      input slower than VSK_CI_FUZZ_TIMEOUT seconds (default 10) or more than
#      2 GB fails the job (the input is left in build/ci-fuzz/artifacts/).
# No sanitizer suppressions: none are set, and any *_OPTIONS given from
# outside that mention suppressions are refused.
# Usage: bash scripts/ci_native.sh [asan|tsan|msan|fuzz ...]   (default: all four)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# cmake and ninja come from pip (".[dev]", scripts/setup.sh) into .venv
# shellcheck disable=SC1091
[ -f .venv/bin/activate ] && . .venv/bin/activate

JOBS="$(nproc 2>/dev/null || echo 2)"
FUZZ_SECONDS="${VSK_CI_FUZZ_SECONDS:-60}"
FUZZ_TIMEOUT="${VSK_CI_FUZZ_TIMEOUT:-10}"
GEN=()
command -v ninja >/dev/null 2>&1 && GEN=(-G Ninja)

for v in ASAN_OPTIONS UBSAN_OPTIONS TSAN_OPTIONS LSAN_OPTIONS MSAN_OPTIONS; do
  if [[ "${!v:-}" == *suppressions* ]]; then
    echo "[native] ERROR: $v sets suppressions; the sanitizer jobs keep none" >&2
    exit 1
  fi
done
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"

configure() {  # build dir, extra cmake args...
  local dir="$1"; shift
  local gen=("${GEN[@]}")
  [ -f "$dir/CMakeCache.txt" ] && gen=()   # keep the existing generator
  cmake -S native -B "$dir" "${gen[@]}" "$@" >/dev/null   # native/: library and C tests, no samples
  cmake --build "$dir" --parallel "$JOBS"
}

run_asan() {
  echo "[native] ASan + UBSan: all C tests (build/ci-asan)"
  local t0=$SECONDS
  configure build/ci-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVSK_BUILD_TESTS=ON \
    "-DVSK_SANITIZE=address,undefined"
  ctest --test-dir build/ci-asan --output-on-failure --no-tests=error --parallel "$JOBS"
  echo "[native] ASan + UBSan: $((SECONDS - t0)) s"
}

run_tsan() {
  echo "[native] TSan: threaded C tests (build/ci-tsan)"
  local t0=$SECONDS
  configure build/ci-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVSK_BUILD_TESTS=ON \
    -DVSK_SANITIZE=thread
  ctest --test-dir build/ci-tsan --output-on-failure --no-tests=error -L threads
  echo "[native] TSan: $((SECONDS - t0)) s"
}

run_msan() {
  echo "[native] MSan: all C tests (build/ci-msan)"
  local t0=$SECONDS
  configure build/ci-msan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DVSK_BUILD_TESTS=ON -DVSK_SANITIZE=memory -DCMAKE_C_FLAGS=-fsanitize-memory-track-origins
  MSAN_OPTIONS="halt_on_error=1" \
    ctest --test-dir build/ci-msan --output-on-failure --no-tests=error --parallel "$JOBS"
  echo "[native] MSan: $((SECONDS - t0)) s"
}

run_fuzz() {
  echo "[native] libFuzzer: ${FUZZ_SECONDS} s per target, -timeout=${FUZZ_TIMEOUT} (build/ci-fuzz)"
  local t0=$SECONDS
  configure build/ci-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DVSK_BUILD_TESTS=OFF -DVSK_FUZZ=ON
  ctest --test-dir build/ci-fuzz --output-on-failure --no-tests=error
  mkdir -p build/ci-fuzz/artifacts
  local target work
  for target in fuzz_bundle_open fuzz_voice fuzz_registry; do
    work="$(mktemp -d)"
    echo "[native] fuzzing $target"
    # -fork=0: one process, so a finding stops the run and fails the job
    if ! build/ci-fuzz/fuzz/"$target" "$work" "native/fuzz/corpus/$target" \
        -dict=native/fuzz/vskin.dict -max_total_time="$FUZZ_SECONDS" \
        -timeout="$FUZZ_TIMEOUT" -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="build/ci-fuzz/artifacts/$target-" 2>"build/ci-fuzz/$target.log"; then
      tail -n 80 "build/ci-fuzz/$target.log" >&2
      echo "[native] ERROR: $target found a failure; input in build/ci-fuzz/artifacts/" >&2
      rm -rf "$work"
      return 1
    fi
    grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)" \
      "build/ci-fuzz/$target.log" || true
    rm -rf "$work"
  done
  echo "[native] libFuzzer: $((SECONDS - t0)) s"
}

jobs=("$@")
[ "${#jobs[@]}" -eq 0 ] && jobs=(asan tsan msan fuzz)
for j in "${jobs[@]}"; do
  case "$j" in
    asan) run_asan ;;
    tsan) run_tsan ;;
    msan) run_msan ;;
    fuzz) run_fuzz ;;
    *) echo "usage: $0 [asan|tsan|msan|fuzz ...]" >&2; exit 2 ;;
  esac
done
echo "[native] OK: ${jobs[*]}"
