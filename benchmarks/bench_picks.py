"""What target-frame picks cost (tier field ``pick_k``): per buffer through
the native library, a picking student against the same tier without picks,
run side by side in this process.

    python benchmarks/bench_picks.py [--seconds 10] [--rounds 5] [--tiers low,high]

Each tier preset is packed plain and with ``pick_k = 4`` over 4096 and over
all of slt's steps (random network weights: a graph's cost does not depend
on its values; the table is built from slt's reference speech as training
builds it). The voices run interleaved buffer by buffer on the same input
(48 kHz, 256-frame buffers, one thread; benchmarks/bench_runtime.py's
``interleaved_times``), so they see the same machine state. Prints, per
voice, the graph's FLOP estimate, median and p99 µs per buffer over all
rounds, and the ratio of medians to the plain tier's.
"""
from __future__ import annotations

import argparse
import glob
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
import torch  # noqa: E402

import voiceskin  # noqa: E402
from voiceskin import format as vformat  # noqa: E402

from bench_runtime import BUFFER, HOST_RATE, _speech, interleaved_times  # noqa: E402


def students(tier: str) -> dict[str, "torch.nn.Module"]:
    """The tier plain, and picking over 4096 and over all of slt's steps."""
    from voiceskin_tooling import student as st
    from voiceskin_tooling import tiers as tr
    from voiceskin_tooling.distill import _target_logmel_mean
    from voiceskin_tooling.training import _pick_sources

    ref = [torch.from_numpy(sf.read(f, dtype="float32")[0])
           for f in sorted(glob.glob(str(ROOT / "data" / "corpus" / "target" / "slt" / "*.flac")))]
    cache = {"reference": ref, "sample_rate": 16000}
    torch.manual_seed(0)
    out = {tier: st.Student(st.config_from_tier(tr.get_tier_preset(tier)))}
    for frames in (4096, 10 ** 6):
        cfg = st.config_from_tier(tr.get_tier_preset(tier).with_overrides(pick_k=4, pick_frames=frames))
        src = _pick_sources(cache, cfg, np.random.default_rng(0))
        s = st.Student(cfg)
        s.set_warp_target(_target_logmel_mean(cache, cfg))
        s.set_pick_table(src)
        out[f"{tier}-pick{cfg.pick_frames}"] = s
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--tiers", default="low,high")
    a = ap.parse_args()
    torch.set_num_threads(1)
    from voiceskin_tooling.pack import tier_spec
    from voiceskin_tooling.student import tier_cost

    x48 = _speech(a.seconds, HOST_RATE)
    for tier in a.tiers.split(","):
        studs = students(tier)
        specs = [tier_spec(name, s) for name, s in studs.items()]
        data = vformat.write_bundle(vformat.BundleSpec(voice_id="bench.picks", display_name="picks",
                                                       version="0.0.1", tiers=specs))
        with voiceskin.Bundle.from_bytes(data) as b:
            n = len(specs)
            t = interleaved_times(lambda: [voiceskin.Voice(b, sample_rate=HOST_RATE, channels=1,
                                                           max_block=BUFFER, tier=i) for i in range(n)],
                                  x48, a.rounds)
        base = float(np.median(t[:, 0, :]))
        print(f"{tier}: {a.rounds} rounds x {t.shape[2]} buffers of {BUFFER} frames at {HOST_RATE} Hz "
              f"({1e6 * BUFFER / HOST_RATE:.0f} us of audio each)")
        print(f"  {'voice':<20} {'MFLOP/s':>8} {'median us':>10} {'p99 us':>8} {'x plain':>8}")
        for i, (name, s) in enumerate(studs.items()):
            us = t[:, i, :].reshape(-1)
            med, p99 = float(np.median(us)), float(np.percentile(us, 99))
            mf = tier_cost(s)["flops_per_second"] / 1e6
            print(f"  {name:<20} {mf:8.0f} {med:10.1f} {p99:8.1f} {med / base:8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
