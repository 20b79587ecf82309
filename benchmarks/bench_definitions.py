"""What a cheaper *definition* of the lowest tier would buy (issue 18 item 2).

    python benchmarks/bench_definitions.py [--seconds 20] [--rounds 5]

The lowest tier's cost is mostly its front end (PITCH_YIN, STFT, harmonic
and noise synthesis, resampling), fixed by definitions the master shares;
faster kernels leave it at ~12 µs per 48 kHz/256 buffer against the goal of
5.3 µs. This asks what a cheaper definition would cost instead, before anyone
trains one: the ``low`` preset as shipped (16 kHz model rate, 4 ms hop) and
the same student at an 8 kHz model rate with every length halved (4 ms hop,
telephone band) or kept in samples (8 ms hop: half the graph steps), each
with float and int8 weights (random weights: a graph's cost does not depend
on its values). All voices run side by side in one process, buffer by
buffer in turn (48 kHz mono host, 256-frame buffers, the same speech), so
the machine's drift hits them alike. Prints per definition the median, p99
and mean µs per buffer and the ratios to the shipped definition's.
Nothing here is trained: quality at these definitions is not measured.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT / "sdk", ROOT / "tooling", ROOT / "benchmarks"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import voiceskin  # noqa: E402
from voiceskin import format as vformat  # noqa: E402

from bench_runtime import BUFFER, HOST_RATE, _speech, interleaved_times  # noqa: E402


def definitions() -> dict[str, "object"]:
    """name -> StudentConfig: the shipped low preset and its 8 kHz variants."""
    from voiceskin_tooling import student as st
    from voiceskin_tooling import tiers as tr

    base = st.config_from_tier(tr.get_tier_preset("low"))

    def at_8k(hop_ms: int) -> "st.StudentConfig":
        c = st.config_from_tier(tr.get_tier_preset("low"))
        c.sample_rate = 8000
        c.hop = 8 * hop_ms                                  # samples at 8 kHz
        c.win, c.lookahead = c.win // 2 * (hop_ms // 4), c.lookahead // 2 * (hop_ms // 4)
        c.n_fft = 1 << (c.win - 1).bit_length()
        c.pitch.frame = base.pitch.frame // 2               # the same 32 ms of signal
        c.harm_bins = (base.harm_bins - 1) // 2 + 1         # the same bin spacing, 0..4 kHz
        c.noise_bins = max(base.noise_bins // 2, 8)
        c.max_harmonics = base.max_harmonics // 2
        return c

    return {"low (16 kHz, 4 ms)": base, "8 kHz, 4 ms": at_8k(4), "8 kHz, 8 ms": at_8k(8)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()

    import torch

    from voiceskin_tooling.pack import tier_spec
    from voiceskin_tooling.student import Student

    torch.manual_seed(0)
    names, specs = [], []
    for name, cfg in definitions().items():
        s = Student(cfg)
        for w in ("f32", "int8"):
            names.append(f"{name}, {w}")
            specs.append(tier_spec(f"t{len(specs)}", s, weights=w))
    bundle = voiceskin.Bundle.from_bytes(vformat.write_bundle(vformat.BundleSpec(
        voice_id="bench.definitions", display_name="definitions", version="0.0.1", tiers=specs)))
    x = _speech(a.seconds, HOST_RATE)
    new_voices = lambda: [voiceskin.Voice(bundle, sample_rate=HOST_RATE, channels=1,  # noqa: E731
                                          max_block=BUFFER, tier=i) for i in range(len(names))]
    best = interleaved_times(new_voices, x, a.rounds).min(axis=0)  # per buffer, the least noisy round
    ref_med, ref_mean = float(np.median(best[0])), float(np.mean(best[0]))
    print(f"cheaper definitions of the lowest tier (random weights; {a.seconds:g} s of speech, "
          f"{HOST_RATE} Hz, {BUFFER}-frame buffers, per-buffer minimum over {a.rounds} rounds, "
          f"cffi call included), µs per buffer:")
    print(f"{'definition':28s} {'median':>8s} {'p99':>8s} {'mean':>8s} {'med/low':>8s} {'mean/low':>9s}")
    for i, n in enumerate(names):
        t = best[i]
        print(f"{n:28s} {np.median(t):8.2f} {np.percentile(t, 99):8.2f} {np.mean(t):8.2f} "
              f"{np.median(t) / ref_med:8.2f} {np.mean(t) / ref_mean:9.2f}")
    print("goal: lowest tier <= 5.3 us median per buffer (0.1 % of a core)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
