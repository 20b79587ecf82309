"""Per-op cost profile of a bundle's tiers (used by bench_runtime.py).

    python benchmarks/op_profile.py BUNDLE.vskin [--seconds 10]

The shipped library reads no clock on its audio path. The profile comes
from ``native/bench/profile.c``, a small program compiled here from the
library's own sources with the library's flags (``cc``; cached by a hash of
the sources). For each tier it streams the same signal buffer by buffer
(48 kHz, 256 frames) and, interleaved in one loop, times the real voice per
buffer and runs the tier's graph steps on a second runtime with one clock
read between nodes (the read's own cost, measured, is subtracted).

Per op type it reports µs per buffer (mean ns per graph step × graph steps
per buffer) and the share of the voice's mean time per buffer; what the
nodes do not account for is the voice around the graph (resampling down
and up, FIFOs, input/output guards, copies).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from native_bench import build_native_bench


def build_profiler(cache: Path | None = None) -> Path:
    """Compiles native/bench/profile.c with the library's sources; returns
    the executable (reused while the sources are unchanged)."""
    return build_native_bench("profile", cache)


def profile_tier(exe: Path, bundle_path: Path, tier: int, host_rate: int, buffer: int,
                 x_host: np.ndarray, x_model: np.ndarray) -> dict:
    """Runs the profiler on one tier; returns its JSON record."""
    with tempfile.TemporaryDirectory() as d:
        fh, fm = Path(d) / "host.f32", Path(d) / "model.f32"
        np.asarray(x_host, np.float32).tofile(fh)
        np.asarray(x_model, np.float32).tofile(fm)
        r = subprocess.run([str(exe), str(bundle_path), str(tier), str(host_rate), str(buffer),
                            str(fh), str(fm)], check=True, capture_output=True, text=True)
    return json.loads(r.stdout)


def by_op(rec: dict) -> dict[str, float]:
    """µs per buffer per op type (mean per step × steps per buffer)."""
    out: dict[str, float] = {}
    for n in rec["nodes"]:
        out[n["op"]] = out.get(n["op"], 0.0) + n["mean_ns"] * rec["steps_per_buffer"] / 1e3
    return out


def format_profile(recs: list[dict]) -> str:
    """One table: op types as rows, tiers as columns (µs per buffer and %
    of the voice's mean per buffer), then the graph and the voice around it."""
    ops: dict[str, None] = {}
    per = [by_op(r) for r in recs]
    for p in per:
        for k in sorted(p, key=lambda k: -p[k]):
            ops.setdefault(k, None)
    order = sorted(ops, key=lambda k: -max(p.get(k, 0.0) for p in per))
    w = 16
    lines = [f"{'op (us/buffer)':<16}" + "".join(f"{r['tier']:>{w}}" for r in recs)]
    lines.append("-" * len(lines[0]))
    for k in order:
        row = f"{k:<16}"
        for r, p in zip(recs, per):
            v = p.get(k, 0.0)
            row += f"{v:>9.2f} {100 * v / r['voice_us']['mean']:>4.0f}% " if k in p else f"{'-':>{w}}"
        lines.append(row)
    graph = [sum(p.values()) for p in per]
    lines.append(f"{'graph (sum)':<16}" + "".join(
        f"{g:>9.2f} {100 * g / r['voice_us']['mean']:>4.0f}% " for g, r in zip(graph, recs)))
    lines.append(f"{'outside graph':<16}" + "".join(
        f"{r['voice_us']['mean'] - g:>9.2f} {100 * (r['voice_us']['mean'] - g) / r['voice_us']['mean']:>4.0f}% "
        for g, r in zip(graph, recs)))
    lines.append(f"{'voice mean':<16}" + "".join(f"{r['voice_us']['mean']:>10.2f}us     " for r in recs))
    lines.append(f"{'voice median':<16}" + "".join(f"{r['voice_us']['median']:>10.2f}us     " for r in recs))
    r0 = recs[0]
    lines.append(f"(means over {r0['buffers']} buffers / {r0['steps']} graph steps, "
                 f"{r0['steps_per_buffer']:.3f} steps per buffer, ISA {r0['isa']}; one clock read "
                 f"({r0['clock_ns']:.0f} ns) subtracted per node; 'outside graph' = resampling, "
                 f"FIFOs, guards, copies)")
    return "\n".join(lines)


def profile_bundle(bundle_path: Path, x48: np.ndarray, host_rate: int = 48000,
                   buffer: int = 256) -> list[dict]:
    import soxr
    from voiceskin import format as vformat

    spec = vformat.read_bundle(bundle_path.read_bytes())
    exe = build_profiler()
    recs = []
    for i, t in enumerate(spec.tiers):
        xm = soxr.resample(x48, host_rate, t.model_sample_rate).astype(np.float32)
        recs.append(profile_tier(exe, bundle_path, i, host_rate, buffer, x48, xm))
    return recs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bundle", type=Path)
    ap.add_argument("--seconds", type=float, default=10.0)
    a = ap.parse_args()
    from bench_runtime import HOST_RATE, BUFFER, _speech
    x48 = _speech(a.seconds, HOST_RATE)
    print(format_profile(profile_bundle(a.bundle, x48, HOST_RATE, BUFFER)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
