"""The fair race (benchmarks/bench_race.py, race_peers.py) and the lobby
benchmark (benchmarks/bench_lobby.py, native/bench/lobby.c) in tiny
configurations, so that they keep running: the straight-line PyTorch student
computes what the library computes (eagerly, as TorchScript, in its ONNX
form through onnxruntime), and the lobby reports every voice count with its
memory. Timings are only checked for being measured, never against a bound
(speed goals live in the benchmarks)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_lobby  # noqa: E402
import bench_race  # noqa: E402
from bench_runtime import _speech, build_bundle, tier_students  # noqa: E402

import voiceskin  # noqa: E402


@pytest.fixture(scope="module")
def low() -> tuple[torch.nn.Module, bytes]:
    s = tier_students()["low"]
    return s, build_bundle({"low": s})


def test_lobby_reports_each_voice_count_and_memory(lib, low, tmp_path: Path) -> None:
    path = tmp_path / "low.vskin"
    path.write_bytes(low[1])
    exe = bench_lobby.build_lobby(tmp_path / "cache")
    recs = bench_lobby.run_lobby(exe, path, 0, _speech(0.5, 48000), [1, 2], skip=5)
    assert [r["voices"] for r in recs] == [1, 2]
    for r in recs:
        assert r["buffers"] == 48000 // 2 // 256 - 5
        assert 0 < r["median_us"] <= r["p99_us"] <= r["max_us"]
        assert r["voice_bytes"] > 0 and r["voice_alloc_bytes"] == r["voice_bytes"]
        assert r["bundle_file_bytes"] == len(low[1])
    assert recs[0]["bundle_heap_bytes"] >= len(low[1])  # the library keeps a copy of the file
    text = bench_lobby.format_lobby({"low": recs})
    assert "us/voice" in text and "shared per bundle" in text
    assert bench_lobby.build_lobby(tmp_path / "cache") == exe   # cached


def test_race_peers_compute_the_librarys_function(lib, low, tmp_path: Path) -> None:
    s, data = low
    x = _speech(4.0, 16000)
    path = tmp_path / "low.vskin"
    path.write_bytes(data)
    with voiceskin.Bundle.from_bytes(data) as b:
        r = bench_race.race_tier("low", s, b, path, 0, x, steps=20,
                                 check_seconds=0.5, compile_=False, rounds=2)
    assert r["peak"] > 1e-3
    # same function: within 1 % of the output's peak (float32 vs the library's doubles)
    assert set(r["check"]) == {"eager", "TorchScript", "onnxruntime"}
    assert max(r["check"].values()) < 0.01, r["check"]
    for name in ("voiceskin", "eager", "TorchScript", "onnxruntime", "ort floor"):
        p = r["peers"][name]
        assert 0 < p["median_us"] <= p["p99_us"] and p["steps"] == 18
    assert r["peers"]["voiceskin"]["model_bytes"] > 0 and r["peers"]["voiceskin"]["voice_bytes"] > 0
    assert 0 < r["peers"]["eager"]["voice_bytes"] < r["peers"]["onnxruntime"]["voice_bytes"]
    assert r["c"]["voices"] == 1 and r["c"]["rate"] == 16000 and r["c"]["buffer"] == 64   # timed in C
    text = bench_race.format_race([r])
    assert "best peer" in text and "per-call floor" in text and "timed in C" in text


def test_straight_student_follows_a_pitch_advance(lib) -> None:
    """A student whose master reads its pitch one step ahead delays its
    synthesis pitch by lookahead − 1 steps; the straight-line module too."""
    from voiceskin_tooling import student as st
    from voiceskin_tooling import tiers as tr
    from race_peers import StraightStudent, stream

    torch.manual_seed(1)
    cfg = st.config_from_tier(tr.get_tier_preset("low"))
    cfg.pitch_advance = 1
    s = st.Student(cfg)
    x = _speech(0.5, 16000)
    x = x[: len(x) // 64 * 64]
    m = StraightStudent(s)
    y = stream(m, x, 64, m.initial_state())
    with voiceskin.Bundle.from_bytes(build_bundle({"low": s})) as b:
        v = voiceskin.Voice(b, sample_rate=16000, max_block=64, tier=0)
        ref = v.process(np.concatenate([x, np.zeros(63, np.float32)]))[63:]
    assert np.max(np.abs(y - ref)) < 0.01 * np.max(np.abs(ref))
