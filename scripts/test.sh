#!/usr/bin/env bash
# Full test run: setup, the C tests (ctest, build/ctest), then pytest.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -k registry`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate

echo "[test] C library + ctest (build/ctest)"
GEN=()
command -v ninja >/dev/null 2>&1 && GEN=(-G Ninja)
if [ -f build/ctest/CMakeCache.txt ]; then GEN=(); fi   # keep the existing generator
cmake -S native -B build/ctest "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DVSK_BUILD_TESTS=ON >/dev/null
cmake --build build/ctest --parallel "$(nproc 2>/dev/null || echo 2)"
ctest --test-dir build/ctest --output-on-failure --parallel "$(nproc 2>/dev/null || echo 2)"

echo "[test] pytest"
set +e
python -m pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "[test] ERROR: pytest collected no tests" >&2
  exit 1
fi
exit "$rc"
