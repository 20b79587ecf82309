"""benchmarks/bench_definitions.py prices cheaper definitions of the lowest
tier. Timings are not asserted (a benchmark, not a test); what is checked is
that each definition is the one its row names: an 8 kHz model rate that
covers the same time spans as the shipped low tier, runs in the native
library, and is planned cheaper per second."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_definitions  # noqa: E402


def test_the_8khz_definitions_cover_the_same_time_spans_and_are_planned_cheaper() -> None:
    from voiceskin_tooling.pack import tier_spec
    from voiceskin_tooling.student import Student

    defs = bench_definitions.definitions()
    base = defs["low (16 kHz, 4 ms)"]
    assert (base.sample_rate, base.hop) == (16000, 64)
    costs = {}
    for name, c in defs.items():
        ms = lambda n: 1000.0 * n / c.sample_rate  # noqa: E731
        assert ms(c.pitch.frame) == 1000.0 * base.pitch.frame / base.sample_rate  # the same 32 ms for YIN
        # harmonics and envelope bins scaled with the band: the same spacing in Hz
        assert c.max_harmonics / c.sample_rate == base.max_harmonics / base.sample_rate
        assert (c.harm_bins - 1) / c.sample_rate == (base.harm_bins - 1) / base.sample_rate
        spec = tier_spec("t", Student(c))
        assert spec.model_sample_rate == c.sample_rate and spec.hop_samples == c.hop
        costs[name] = spec.flops_per_second
    assert defs["8 kHz, 4 ms"].sample_rate == 8000 and 1000 * defs["8 kHz, 4 ms"].hop / 8000 == 4
    assert defs["8 kHz, 8 ms"].sample_rate == 8000 and 1000 * defs["8 kHz, 8 ms"].hop / 8000 == 8
    assert costs["8 kHz, 8 ms"] < costs["8 kHz, 4 ms"] < costs["low (16 kHz, 4 ms)"]


def test_the_definitions_benchmark_runs_every_row_through_the_native_library() -> None:
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_definitions.py"),
                        "--seconds", "0.5", "--rounds", "1"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    rows = [ln for ln in r.stdout.splitlines() if ln.startswith(("low (", "8 kHz"))]
    assert len(rows) == 6
    for ln in rows:
        med = float(ln.split()[-5])
        assert med > 0
