#!/usr/bin/env bash
# Measures the three sample hosts as in docs/hosts.md: vsk_host (tight and
# real-time paced, SCHED_FIFO), voiceskin.lv2 (lv2_rt_check, paced,
# SCHED_FIFO) and host_app on a private JACK dummy server, for every tier of
# a 4-tier student bundle (random weights) on 6 s of corpus speech at 48 kHz,
# 256-frame buffers.
#   samples/c_host/measure_hosts.sh [BUILD_DIR]     (default build/hosts)
# Needs: the samples built (cmake -S native -B build/hosts), the venv, jackd2.
set -u
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
B="$(cd "${1:-build/hosts}" && pwd)"
# shellcheck disable=SC1091
. .venv/bin/activate
export PYTHONPATH="$ROOT/sdk:$ROOT/tooling:$ROOT/tests"
W="$(mktemp -d)"
trap 'rm -rf "$W"' EXIT
python - "$W" <<'PY'
import sys
import soundfile as sf
from hosts_helpers import speech, student_bundle_bytes
w = sys.argv[1]
open(f"{w}/student4.vskin", "wb").write(
    student_bundle_bytes("measure.student", ("low", "medium", "high", "ultra")))
sf.write(f"{w}/speech48.wav", speech(6.0), 48000, subtype="PCM_16")
PY
H="$B/samples/c_host/vsk_host"
"$H" list "$W" | grep tier
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== vsk_host: tight --rt, then --pace --rt"
for t in 0 1 2 3; do
  echo "tier $t: $("$H" render "$W" 0 "$W/speech48.wav" "$W/o.wav" --tier $t --rt | grep timing)"
  echo "tier $t: $("$H" render "$W" 0 "$W/speech48.wav" "$W/o.wav" --tier $t --pace --rt | grep timing)"
done
echo "stress: $("$H" render "$W" 0 "$W/speech48.wav" "$W/o.wav" --stress --rt | grep timing)"
echo "== voiceskin.lv2 (lv2_rt_check, paced, chrt -f 10 where permitted)"
CHRT=(chrt -f 10); "${CHRT[@]}" true 2>/dev/null || CHRT=()
for u in mono stereo; do for t in 0 1 2 3; do
  echo "$u tier $t: $(VOICESKIN_LV2_VOICES="$W" "${CHRT[@]}" "$B/plugins/lv2/lv2_rt_check" \
    "$B/lv2/voiceskin.lv2" "http://voiceskin.dev/plugins/lv2/voiceskin#$u" 48000 1000 256 0 $t 1 | tr '\n' ' ')"
done; done
echo "== host_app on JACK (dummy, 48 kHz, 256)"
export JACK_NO_AUDIO_RESERVATION=1 JACK_DEFAULT_SERVER="vskmeasure$$" JACK_NO_START_SERVER=1
jackd -n "$JACK_DEFAULT_SERVER" -d dummy -r 48000 -p 256 > "$W/jackd.log" 2>&1 &
JP=$!
sleep 1; jack_wait -w -t 10 >/dev/null 2>&1
for t in 0 1 2 3; do
  echo "tier $t: $(python samples/host_app/host_app.py --hostapi JACK --bundle "$W/student4.vskin" \
    --tier $t --input "$W/speech48.wav" --duration 6 --no-keys 2>/dev/null | grep summary)"
done
kill "$JP"; wait "$JP" 2>/dev/null
echo "JACK server xrun reports: $(grep -ci xrun "$W/jackd.log")"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
