#!/usr/bin/env bash
# Idempotent project setup:
#   1. Debian packages from scripts/apt-packages.txt that are missing (apt-get);
#   2. .venv (created if missing);
#   3. the CPU build of PyTorch (so no multi-GB CUDA build is pulled);
#   4. this project, editable, with dev extras: builds libvoiceskin (native/)
#      through scikit-build-core into build/<wheel tag> (incremental).
# Safe to run again at any time; later runs only do what changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf '[setup] %s\n' "$*"; }

# ---------------------------------------------------------------- apt
missing=()
while IFS= read -r line || [ -n "$line" ]; do
  pkg="${line%%#*}"; pkg="$(echo "$pkg" | tr -d '[:space:]')"
  [ -z "$pkg" ] && continue
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done < scripts/apt-packages.txt
if [ "${#missing[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    log "WARNING: missing Debian packages (no apt-get here): ${missing[*]}"
  else
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
      if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        log "ERROR: need root or sudo to install: ${missing[*]}"; exit 1; fi
    fi
    log "installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

# ---------------------------------------------------------------- venv
PYTHON="${PYTHON:-python3}"
# A venv is only usable where it was made (its scripts hard-code the path):
# one copied or cloned from elsewhere is recreated.
venv_ok() {
  [ -x .venv/bin/python ] && .venv/bin/python -c 'import sys' 2>/dev/null \
    && grep -qF "VIRTUAL_ENV=\"$ROOT/.venv\"" .venv/bin/activate 2>/dev/null
}
if ! venv_ok; then
  if [ -e .venv ]; then
    log "recreating .venv (it was made for another location)"
    "$PYTHON" -m venv --clear .venv
  else
    log "creating .venv with $($PYTHON --version 2>&1)"
    "$PYTHON" -m venv .venv
  fi
fi
# shellcheck disable=SC1091
. .venv/bin/activate
export PIP_DISABLE_PIP_VERSION_CHECK=1

# ---------------------------------------------------------------- torch (CPU)
torch_version="$(python -c 'from importlib.metadata import version; print(version("torch"))' 2>/dev/null || true)"
if [ "${torch_version%%+*}" = "2.13.0" ]; then
  log "torch $torch_version present"
else
  log "installing torch 2.13.0 (CPU)"
  # pip's find-links (here /opt/wheels) holds the CPU wheel, so no multi-GB
  # CUDA build is pulled. Elsewhere set VOICESKIN_TORCH_INDEX, e.g.
  # https://download.pytorch.org/whl/cpu, to get the CPU build.
  if [ -n "${VOICESKIN_TORCH_INDEX:-}" ]; then
    pip install -q torch==2.13.0 --extra-index-url "$VOICESKIN_TORCH_INDEX"
  else
    pip install -q torch==2.13.0
  fi
fi

# ---------------------------------------------------------------- project
# Extras to install: VOICESKIN_EXTRAS (default "dev": the tooling plus what
# the tests need; scripts/main.sh asks for "tooling" only, which a "dev"
# install already covers). Reinstall only when the build inputs changed
# (pyproject, native sources, Python version), the extras are not covered
# yet, or the library cannot be loaded; VOICESKIN_SETUP_FORCE=1 forces it.
# Python sources need no reinstall (editable install).
extras="${VOICESKIN_EXTRAS:-dev}"
stamp_file=build/.setup-stamp
stamp="$( {
  cat pyproject.toml
  find native -type f \( -name '*.c' -o -name '*.h' -o -name 'CMakeLists.txt' -o -name '*.in' \) \
       -not -path 'native/tests/*' | LC_ALL=C sort | xargs sha256sum
  python -c 'import sys; print(sys.version)'
} | sha256sum | cut -d' ' -f1)"
covered() {  # the recorded install covers the requested extras
  local have
  have="$(cat "$stamp_file" 2>/dev/null)" || return 1
  [ "$have" = "$stamp $extras" ] || [ "$have" = "$stamp dev" ]
}
if [ "${VOICESKIN_SETUP_FORCE:-0}" != 1 ] && covered \
   && (cd / && env -u PYTHONPATH -u VOICESKIN_LIBRARY python -c 'import voiceskin._ffi as f; f.get_lib()') 2>/dev/null; then
  log "voiceskin up to date (build inputs unchanged, extras: $(cut -d' ' -f2 "$stamp_file"))"
else
  log "pip install -e .[$extras] (builds libvoiceskin into build/)"
  mkdir -p build
  # Build requirements live in the venv, so no isolated build env is made
  # on every run (saves ~20 s); cmake/ninja come from pip.
  pip install -q "scikit-build-core>=0.10" "cffi>=1.16" "cmake>=3.20" "ninja>=1.10"
  # Dependencies first, each built in pip's isolated build environment:
  # some come only as source (pyworld, resemblyzer's webrtcvad) and their
  # setup imports numpy, which an empty machine does not have yet. Only the
  # project itself is built without isolation (its requirements are above).
  python scripts/project_requirements.py "$extras" > build/.requirements.txt
  pip install -q -r build/.requirements.txt
  pip install -q --no-build-isolation --no-deps -e .
  echo "$stamp $extras" > "$stamp_file"
fi
(cd / && env -u PYTHONPATH -u VOICESKIN_LIBRARY python - <<'PY'
from voiceskin import library_version
from voiceskin._ffi import library_path
print(f"[setup] voiceskin ready: libvoiceskin {library_version()} at {library_path()}")
PY
)
