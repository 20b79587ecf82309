"""Writes the libFuzzer seed corpora of native/fuzz (corpus/<target>/).

Seeds are real bundles, written by the SDK's bundle writer:

* small hand-built graphs from ``voiceskin.graph.GraphBuilder`` (identity,
  linear, two tiers, one with a QA section);
* the student family the runtime benchmark packs
  (``benchmarks/bench_runtime.py``: every built-in tier preset, random
  weights), shrunk in capacity (mels, channels, hidden sizes, harmonics,
  pitch frame) so each bundle is a few KB and a fuzz iteration stays fast —
  the graphs keep every op and option of their preset (running mean, warp,
  skip, lookahead, ...) — and the low one again with int8 weights.

fuzz_bundle_open gets the bundles as they are; fuzz_voice gets them behind
its 32 parameter bytes (a few rates, channel counts, block sizes); and
fuzz_registry gets records of several bundles (the same voice ID at several
versions, other IDs). Deterministic (fixed seeds): rerunning rewrites the
same files. Usage: ``python native/fuzz/make_seeds.py [out_dir]``.
"""

from __future__ import annotations

import dataclasses
import struct
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
for p in (ROOT / "sdk", ROOT / "tooling"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from voiceskin.format import BundleSpec, TierSpec, write_bundle  # noqa: E402
from voiceskin.graph import GraphBuilder, flops_per_step, parameter_count  # noqa: E402

PRESETS = ("low", "medium", "high", "ultra")
SHRINK = dict(n_mels=8, conv_channels=4, conv_layers=1, gru_hidden=4, gru_layers=1, hidden=4,
              harm_bins=5, noise_bins=4, max_harmonics=4)


def _tier(name: str, hop: int, gain: float | None, rate: int = 16000) -> TierSpec:
    b = GraphBuilder(hop)
    y = b.frame(b.input, hop)
    if gain is not None:
        y = b.linear(y, gain * np.eye(hop, dtype=np.float32), np.zeros(hop, np.float32))
    g, t = b.finish(y)
    return TierSpec(name, rate, hop, hop, parameter_count(t), flops_per_step(g, t) * rate // hop, g, t)


def small_bundles() -> dict[str, bytes]:
    out = {
        "identity": BundleSpec("seed.identity", "Identity", "1.0.0", [_tier("base", 64, None)]),
        "linear": BundleSpec("seed.linear", "Linear", "1.0.0", [_tier("base", 16, 0.5, 48000)]),
        "two_tiers_qa": BundleSpec("seed.multi", "Two tiers", "2.1.3",
                                   [_tier("low", 32, None), _tier("high", 16, 0.25, 22050)],
                                   {"identity": 0.9, "note": "seed"}),
    }
    return {k: write_bundle(v) for k, v in out.items()}


def student_tiers() -> list[TierSpec]:
    import torch

    from voiceskin_tooling import student as st
    from voiceskin_tooling import tiers as tr
    from voiceskin_tooling.pack import tier_spec

    torch.manual_seed(0)
    specs = []
    for name in PRESETS:
        cfg = st.config_from_tier(tr.get_tier_preset(name))
        cfg = dataclasses.replace(cfg, **SHRINK)
        cfg.win = cfg.n_fft = max(64, 1 << (cfg.hop - 1).bit_length())
        cfg.pitch = dataclasses.replace(cfg.pitch, frame=min(cfg.pitch.frame, 128), fmin=80.0)
        if cfg.warp_grid:
            cfg.warp_grid = min(cfg.warp_grid, 3)
        specs.append(tier_spec(name, st.Student(cfg)))
    return specs


def student_bundles(tiers: list[TierSpec]) -> dict[str, bytes]:
    out = {f"student_{t.name}": write_bundle(BundleSpec(f"seed.{t.name}", t.name, "0.0.1", [t]))
           for t in tiers}
    out["student_family"] = write_bundle(
        BundleSpec("bench.random", "Benchmark (random weights, shrunk)", "0.0.1", tiers))
    # the low student with every LINEAR/GRU weight int8 (tensor dtype 2)
    from voiceskin_tooling.quantise import quantise_tier

    low8 = quantise_tier(dataclasses.replace(tiers[0], name="low-int8"), min_rows=1)
    out["student_low_int8"] = write_bundle(BundleSpec("seed.low-int8", "low int8", "0.0.1", [low8]))
    return out


def voice_params(rate_index: int, channels: int, block: int, tier: int, mix: int, bypass: int,
                 flags: int, calls: list[tuple[int, int, int]]) -> bytes:
    """fuzz_voice's 32 parameter bytes (see fuzz_voice.c for the layout)."""
    p = struct.pack("<BIBHBBBB", rate_index, 0, channels, block, tier, mix, bypass, flags)
    p += bytes([len(calls) - 1])
    for op, frames, arg in calls:
        p += struct.pack("<BHB", op, frames, arg)
    return p[:32].ljust(32, b"\0")


def registry_input(config: int, records: list[tuple[int, bytes]]) -> bytes:
    out = bytes([config])
    for op, data in records:
        out += struct.pack("<BH", op, min(len(data), 0xFFFF)) + data[:0xFFFF]
    return out


def main(out_dir: Path) -> None:
    small = small_bundles()
    bundles = {**small, **student_bundles(student_tiers())}
    for target in ("fuzz_bundle_open", "fuzz_voice", "fuzz_registry"):
        (out_dir / target).mkdir(parents=True, exist_ok=True)
    for name, data in bundles.items():
        (out_dir / "fuzz_bundle_open" / f"{name}.vskin").write_bytes(data)

    # voice: (rate index into fuzz_voice.c's table, channels, block, ...);
    # op: bit 0 in place, bits 1-3 the control call, bits 5-7 the signal
    calls_a = [(0x00 | 0, 256, 0), (0x20 | 1, 1000, 1), (0x02 | 0, 64, 1), (0x06, 2048, 0)]
    calls_b = [(0x61, 480, 0), (0xE4, 31, 1), (0x08, 4095, 0)]
    vparams = [voice_params(0, 1, 256, 0, 200, 0, 0, calls_a),
               voice_params(1, 2, 512, 1, 100, 0, 1, calls_b),
               voice_params(2, 8, 64, 0, 200, 1, 0, calls_a),
               voice_params(5, 1, 4096, 3, 200, 0, 0, calls_b)]
    for name, data in bundles.items():
        for k, p in enumerate(vparams):
            if k and not name.startswith("student_family") and k != len(name) % len(vparams):
                continue
            (out_dir / "fuzz_voice" / f"{name}_{k}.bin").write_bytes(p + data)

    # registry: the same ID at versions 1.0.0 < 1.2.0 < 10.0.0, another ID
    def ident(vid: str, version: str) -> bytes:
        return write_bundle(BundleSpec(vid, "Seed", version, [_tier("base", 32, None)]))

    v1, v2, v10 = ident("seed.same", "1.0.0"), ident("seed.same", "1.2.0"), ident("seed.same", "10.0.0")
    other = ident("seed.other", "0.0.1")
    regs = {
        "upgrade": registry_input(0, [(0x08, v1), (0x09, v2), (0x08, v10), (0x0B, other)]),
        "downgrade_refused": registry_input(0, [(0x08, v10), (0x00, v1), (0x03, v2)]),
        "max_two": registry_input(2, [(0x08, v1), (0x08, other), (0x08, small["linear"]),
                                      (0x09, small["two_tiers_qa"])]),
        "family": registry_input(0, [(0x0B, bundles["student_low"]), (0x08, bundles["student_high"]),
                                     (0x0A, small["identity"])]),
    }
    for name, data in regs.items():
        (out_dir / "fuzz_registry" / f"{name}.bin").write_bytes(data)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "corpus")
