#!/usr/bin/env bash
# The main job: setup, then `python -m voiceskin_tooling.mainjob` if that
# module exists, else the runtime demo (`python -m voiceskin.demo`).
# Extra arguments are passed to whichever runs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# The whole command, set-up included, keeps to 15 minutes: the main job
# plans its training budget from this start time.
export VOICESKIN_MAIN_START="${VOICESKIN_MAIN_START:-$(date +%s)}"
VOICESKIN_EXTRAS="${VOICESKIN_EXTRAS:-tooling}" bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate

if python -c 'import importlib.util, sys; sys.exit(0 if importlib.util.find_spec("voiceskin_tooling.mainjob") else 1)' 2>/dev/null; then
  echo "[main] python -m voiceskin_tooling.mainjob $*"
  exec python -m voiceskin_tooling.mainjob "$@"
fi
echo "[main] python -m voiceskin.demo $* (voiceskin_tooling.mainjob not present yet)"
exec python -m voiceskin.demo "$@"
