"""The per-op profile of benchmarks/op_profile.py (native/bench/profile.c,
compiled from the library's sources): on a small two-branch graph at 16 kHz
streamed from 48 kHz buffers, it reports every node in graph order with its
op, the steps and buffers it timed, the steps per buffer, the voice's own
per-buffer times, and per-op shares that add up with what the voice spends
around the graph. Timings are only checked for being measured (positive,
finite), never against a speed bound (speed goals live in benchmarks)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

from voiceskin.format import BundleSpec, TierSpec, read_bundle, write_bundle
from voiceskin.graph import GraphBuilder, flops_per_step, parameter_count

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import op_profile  # noqa: E402

RATE, HOP, HOST, BUF = 16000, 64, 48000, 256


def _bundle() -> bytes:
    r = np.random.default_rng(0)
    b = GraphBuilder(HOP)
    f = b.frame(b.input, 256)
    s = b.stft_mag(f, np.hanning(256).astype(np.float32), 256)
    y1 = b.linear(s, (0.01 * r.standard_normal((HOP, 129))).astype(np.float32))
    p = b.pitch_yin(b.frame(b.input, 512), float(RATE), 60.0, 600.0, 0.15)
    y2 = b.linear(p, (1e-4 * r.standard_normal((HOP, 2))).astype(np.float32))
    g, t = b.finish(b.add(y1, y2))
    tier = TierSpec("one", RATE, HOP, HOP, parameter_count(t),
                    flops_per_step(g, t) * RATE // HOP, g, t)
    return write_bundle(BundleSpec("test.profile", "Profile", "1.0.0", [tier]))


def test_profile_reports_every_node(tmp_path: Path) -> None:
    data = _bundle()
    path = tmp_path / "p.vskin"
    path.write_bytes(data)
    seconds = 2.0
    n = int(seconds * HOST)
    t = np.arange(n) / HOST
    x48 = (0.3 * np.sin(2 * np.pi * 150 * t) + 0.01 * np.random.default_rng(1).standard_normal(n))
    exe = op_profile.build_profiler(tmp_path / "cache")
    xm = x48[::3].astype(np.float32)          # model rate (the profile does not care how)
    rec = op_profile.profile_tier(exe, path, 0, HOST, BUF, x48.astype(np.float32), xm)

    graph = read_bundle(data).tiers[0].graph
    names = {1: "FRAME", 2: "STFT_MAG", 3: "LINEAR", 10: "ADD", 13: "PITCH_YIN"}
    assert [nd["op"] for nd in rec["nodes"]] == [names[nd.op] for nd in graph.nodes]
    assert rec["tier"] == "one" and rec["model_rate"] == RATE and rec["hop"] == HOP
    assert math.isclose(rec["steps_per_buffer"], RATE * BUF / (HOST * HOP), rel_tol=1e-6)
    nbuf = n // BUF
    assert rec["buffers"] == nbuf - 20
    assert rec["steps"] == len(xm) // HOP - 20
    v = rec["voice_us"]
    assert 0 < v["median"] <= v["p99"] and 0 < v["mean"] and math.isfinite(v["mean"])
    for nd in rec["nodes"]:
        assert nd["mean_ns"] >= 0 and math.isfinite(nd["mean_ns"]) and nd["median_ns"] >= 0
    heavy = [nd for nd in rec["nodes"] if nd["op"] in ("STFT_MAG", "PITCH_YIN")]
    assert all(nd["mean_ns"] > 0 for nd in heavy)

    per = op_profile.by_op(rec)
    assert set(per) == {"FRAME", "STFT_MAG", "LINEAR", "ADD", "PITCH_YIN"}
    total = sum(nd["mean_ns"] for nd in rec["nodes"]) * rec["steps_per_buffer"] / 1e3
    assert math.isclose(sum(per.values()), total, rel_tol=1e-9)
    text = op_profile.format_profile([rec])
    for name in per:
        assert name in text
    assert "outside graph" in text and "voice median" in text
    # the cached executable is reused while the sources are unchanged
    assert op_profile.build_profiler(tmp_path / "cache") == exe
