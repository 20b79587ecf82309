"""Runtime demo: ``python -m voiceskin.demo``.

Builds a tiny synthetic two-tier bundle with GraphBuilder (no training, no
tooling needed), writes it to a temporary .vskin file, opens it through the
native library, streams a test tone through each tier at 48 kHz in 256-frame
blocks and prints latency and real-time factor per tier.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

from .format import BundleSpec, TierSpec, save_bundle
from .graph import Act, GraphBuilder, flops_per_step, parameter_count

MODEL_RATE = 16000


def _tier(name: str, hop: int, width: int, seed: int) -> TierSpec:
    """FRAME(4·hop) → STFT magnitude → log → LINEAR+tanh → GRU → envelope
    (exp_sigmoid) → HARMONIC(YIN f0) + NOISE: a toy vocoder-shaped graph with
    random weights (it sounds like a buzzy copy of the input's pitch)."""
    rng = np.random.default_rng(seed)
    win = 4 * hop
    bins = 33
    b = GraphBuilder(hop)
    frame = b.frame(b.input, win)
    mag = b.stft_mag(frame, np.hanning(win + 2)[1:-1], win)
    feat = b.log(mag, 1e-5)
    h = b.act(b.linear(feat, rng.standard_normal((width, mag.size)) * 0.05,
                       np.zeros(width)), Act.TANH)
    h = b.gru(h, rng.standard_normal((3 * width, width)) * 0.2,
              rng.standard_normal((3 * width, width)) * 0.2,
              np.zeros(3 * width), np.zeros(3 * width))
    env = b.act(b.linear(h, rng.standard_normal((bins, width)) * 0.1,
                         np.full(bins, -3.0)), Act.EXP_SIGMOID)
    f0 = b.slice(b.pitch_yin(frame, MODEL_RATE, 70.0, 600.0, 0.15), 0, 1)
    y = b.add(b.harmonic(f0, env, 32, MODEL_RATE), b.noise(b.affine(
        env, np.full(bins, 0.1), np.zeros(bins)), seed))
    graph, tensors = b.finish(y)
    return TierSpec(name, MODEL_RATE, hop, win, parameter_count(tensors),
                    flops_per_step(graph, tensors) * MODEL_RATE // hop, graph, tensors)


def demo_spec() -> BundleSpec:
    """The demo bundle: tiers "low" (hop 128, width 16) and "high" (hop 64,
    width 48), both with the same latency (4·128 samples at 16 kHz)."""
    low = _tier("low", 128, 16, 1)
    high = _tier("high", 64, 48, 2)
    high.latency_samples = low.latency_samples
    return BundleSpec("demo.synth", "Synthetic demo voice", "0.1.0", [low, high],
                      {"note": "random weights, built by voiceskin.demo"})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m voiceskin.demo", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=5.0, help="tone length (default 5)")
    ap.add_argument("--rate", type=int, default=48000, help="host sample rate (default 48000)")
    ap.add_argument("--block", type=int, default=256, help="frames per call (default 256)")
    ap.add_argument("--out", help="also write the demo bundle to this .vskin path")
    args = ap.parse_args(argv)

    from . import Bundle, Voice, library_version
    from ._ffi import library_path

    spec = demo_spec()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.out or os.path.join(tmp, "demo.vskin")
        save_bundle(spec, path)
        size = os.path.getsize(path)
        bundle = Bundle.open(path)
    print(f"libvoiceskin {library_version()} ({library_path()})")
    print(f"bundle {bundle.voice_id} {bundle.version}: {size} bytes, "
          f"{len(bundle.tiers)} tiers")

    n = int(args.seconds * args.rate)
    t = np.arange(n) / args.rate
    tone = (0.3 * np.sin(2 * np.pi * 220.0 * t) * (1 + 0.2 * np.sin(2 * np.pi * 3 * t)))
    tone = tone.astype(np.float32)
    out = np.empty_like(tone)
    ok = True
    for info in bundle.tiers:
        with Voice(bundle, sample_rate=args.rate, max_block=args.block, tier=info.name) as v:
            start = time.perf_counter()
            for i in range(0, n, args.block):
                v.process_into(tone[i:i + args.block], out[i:i + args.block])
            dt = time.perf_counter() - start
            finite = bool(np.all(np.isfinite(out)))
            ok &= finite
            rms = float(np.sqrt(np.mean(out[v.latency:] ** 2)))
            print(f"  tier {info.index} {info.name:<5} hop {info.hop_samples:>4} "
                  f"params {info.parameter_count:>6}  latency {v.latency} frames "
                  f"({1000 * v.latency / args.rate:.1f} ms)  "
                  f"{args.seconds / dt:6.1f}x real time  "
                  f"({1e6 * dt / max(1, n // args.block):.1f} us/block)  rms {rms:.3f}"
                  f"{'' if finite else '  NON-FINITE OUTPUT'}")
    bundle.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
