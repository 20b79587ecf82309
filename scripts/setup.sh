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
if [ ! -x .venv/bin/python ]; then
  log "creating .venv with $($PYTHON --version 2>&1)"
  "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
export PIP_DISABLE_PIP_VERSION_CHECK=1

# ---------------------------------------------------------------- torch (CPU)
if python -c 'import torch, sys; sys.exit(0 if torch.__version__.split("+")[0] == "2.13.0" else 1)' 2>/dev/null; then
  log "torch $(python -c 'import torch; print(torch.__version__)') present"
else
  log "installing torch 2.13.0 (CPU)"
  # A local wheel (pip's find-links, e.g. /opt/wheels) is preferred; elsewhere
  # the CPU index keeps pip from pulling the CUDA build.
  pip install -q torch==2.13.0 --extra-index-url https://download.pytorch.org/whl/cpu
fi

# ---------------------------------------------------------------- project
log "pip install -e .[dev] (builds libvoiceskin)"
pip install -q -e ".[dev]"
python - <<'PY'
from voiceskin import library_version
from voiceskin._ffi import library_path
print(f"[setup] voiceskin ready: libvoiceskin {library_version()} at {library_path()}")
PY
