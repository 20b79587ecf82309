"""Calibrates the runtime's cost bound (docs/abi.md, "Bounded cost"): per
graph, the library's worst-case cost (``TierInfo.cost_per_second``,
computed from the graph) against the CPU time one second of audio really
takes, as nanoseconds per cost unit.

    python benchmarks/bench_cost.py [--seconds 2] [--no-family]

Graphs: the student family at every built-in tier preset (random weights,
as bench_runtime.py builds it), the hostile bundle of issue 14 item 7, and
one stress graph per op class (big matvec, libm-heavy LOG/softplus, YIN on a
non-sliding input, HARMONIC with every harmonic below Nyquist, WARP, ARGMIN,
STFT, NOISE, GRU, CONV1D). Each runs in a voice at its model rate (no
resampling) with 256-frame buffers under an unlimited cost limit. The bound
is honest when ns/unit stays below the conversion docs/abi.md states; the
default limit (VSK_DEFAULT_MAX_COST_PER_SECOND) is then at most that many
ns of CPU per second of audio.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT / "sdk", ROOT / "tooling", ROOT / "benchmarks"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import numpy as np  # noqa: E402

from voiceskin import Bundle, Voice  # noqa: E402
from voiceskin.format import BundleSpec, TierSpec, write_bundle  # noqa: E402
from voiceskin.graph import Act, GraphBuilder  # noqa: E402

RATE = 16000
UNLIMITED = 2**64 - 1


def _tier(name: str, b: GraphBuilder, y, rate: int = RATE) -> TierSpec:
    g, t = b.finish(y)
    return TierSpec(name, rate, b.hop, b.hop, 0, 1, g, t)


def hostile() -> TierSpec:
    """hop 1, FRAME 65536, PITCH_YIN fmin 0.24 Hz; the manifest claims
    1 FLOP/s."""
    b = GraphBuilder(1)
    f = b.frame(b.input, 65536)
    p = b.pitch_yin(f, 16000.0, 0.24, 8000.0, 0.1)
    return _tier("hostile", b, b.slice(p, 0, 1))


def stress() -> list[TierSpec]:
    rng = np.random.default_rng(0)
    r = lambda *s: (rng.standard_normal(s) * 0.01).astype(np.float32)  # noqa: E731
    out = []
    b = GraphBuilder(64)                                   # matvec
    f = b.frame(b.input, 2048)
    out.append(_tier("linear", b, b.linear(f, r(64, 2048), r(64))))
    b = GraphBuilder(64)                                   # libm: LOG
    f = b.frame(b.input, 4096)
    out.append(_tier("log", b, b.slice(b.log(f), 0, 64)))
    b = GraphBuilder(64)                                   # libm: softplus
    f = b.frame(b.input, 4096)
    out.append(_tier("softplus", b, b.slice(b.act(f, Act.SOFTPLUS), 0, 64)))
    b = GraphBuilder(64)                                   # SIMD tanh
    f = b.frame(b.input, 4096)
    out.append(_tier("tanh", b, b.slice(b.act(f, Act.TANH), 0, 64)))
    b = GraphBuilder(64)                                   # YIN, input not a FRAME's
    f = b.affine(b.frame(b.input, 2048), np.ones(2048, np.float32),
                 np.zeros(2048, np.float32))
    p = b.pitch_yin(f, 16000.0, 20.0, 1000.0, 0.1)
    out.append(_tier("yin-recompute", b, b.linear(p, r(64, 2))))
    b = GraphBuilder(64)                                   # YIN sliding
    p = b.pitch_yin(b.frame(b.input, 2048), 16000.0, 20.0, 1000.0, 0.1)
    out.append(_tier("yin-sliding", b, b.linear(p, r(64, 2))))
    b = GraphBuilder(256)                                  # HARMONIC, f0 = 20 Hz
    f = b.frame(b.input, 256)
    f0 = b.affine(b.slice(f, 0, 1), np.zeros(1, np.float32), np.full(1, 20.0, np.float32))
    env = b.affine(b.slice(f, 0, 64), np.zeros(64, np.float32), np.ones(64, np.float32))
    out.append(_tier("harmonic", b, b.harmonic(f0, env, 400, 16000.0)))
    b = GraphBuilder(64)                                   # WARP
    f = b.frame(b.input, 4096)
    s = b.slice(f, 0, 1)
    w = b.warp(f, s, np.linspace(1.0, 100.0, 4096).astype(np.float32))
    out.append(_tier("warp", b, b.slice(w, 0, 64)))
    b = GraphBuilder(64)                                   # ARGMIN
    f = b.frame(b.input, 16384)
    a = b.argmin(f)
    out.append(_tier("argmin", b, b.linear(a, r(64, 1))))
    b = GraphBuilder(64)                                   # STFT
    f = b.frame(b.input, 4096)
    m = b.stft_mag(f, np.hanning(4096).astype(np.float32), 4096)
    out.append(_tier("stft", b, b.slice(m, 0, 64)))
    b = GraphBuilder(1024)                                 # NOISE
    f = b.frame(b.input, 1024)
    out.append(_tier("noise", b, b.noise(b.slice(f, 0, 64), 7)))
    b = GraphBuilder(64)                                   # GRU
    f = b.frame(b.input, 256)
    h = b.gru(f, r(3 * 256, 256), r(3 * 256, 256), r(3 * 256), r(3 * 256))
    out.append(_tier("gru", b, b.slice(h, 0, 64)))
    b = GraphBuilder(64)                                   # CONV1D
    f = b.frame(b.input, 128)
    c = b.conv1d(f, r(128, 128, 5), r(128), dilation=3)
    out.append(_tier("conv1d", b, b.slice(c, 0, 64)))
    return out


def family() -> list[tuple[str, bytes]]:
    import bench_runtime as br
    return [("family", br.build_bundle())]


def measure(data: bytes, seconds: float) -> list[tuple[str, int, float]]:
    rows = []
    with Bundle.from_bytes(data) as bundle:
        for t in bundle.tiers:
            rate = t.model_sample_rate
            v = Voice(bundle, sample_rate=rate, channels=1, max_block=256, tier=t.index,
                      max_cost_per_second=UNLIMITED)
            x = (np.random.default_rng(1).standard_normal(int(seconds * rate)) * 0.1
                 ).astype(np.float32)
            y = np.empty_like(x)
            v.process_into(x[:256], y[:256])  # warm
            t0 = time.process_time()
            for i in range(0, len(x) - 255, 256):
                v.process_into(x[i:i + 256], y[i:i + 256])
            cpu = (time.process_time() - t0) / seconds   # s of CPU per s of audio
            rows.append((t.name, t.cost_per_second, cpu))
            v.close()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--no-family", action="store_true")
    a = ap.parse_args()
    bundles = [] if a.no_family else family()
    bundles.append(("stress", write_bundle(BundleSpec("bench.cost", "cost", "1.0.0",
                                                      stress()))))
    bundles.append(("hostile", write_bundle(BundleSpec("x.slow", "S", "1.0.0",
                                                       [hostile()]))))
    print(f"{'graph':16} {'cost ops/s':>12} {'CPU % core':>11} {'ns/unit':>8}")
    worst = 0.0
    for label, data in bundles:
        secs = min(a.seconds, 0.05) if label == "hostile" else a.seconds
        for name, cost, cpu in measure(data, secs):
            ns = cpu * 1e9 / cost
            worst = max(worst, ns)
            print(f"{label[:6] + ':' + name:16} {cost:12.3g} {100 * cpu:10.2f}% {ns:8.3f}")
    print(f"worst ns per unit: {worst:.3f}")


if __name__ == "__main__":
    main()
