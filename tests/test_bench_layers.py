"""The layer race harness (benchmarks/bench_layers.py, native/bench/layers.c):
it builds from the library's sources and races the real GRU and LINEAR ops,
float and int8. Timings are not asserted (benchmarks, not tests); what is
checked is that each contestant ran the layer it claims to."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_layers  # noqa: E402


def test_layer_race_runs_the_float_and_int8_ops_on_the_same_layer(tmp_path: Path) -> None:
    res = bench_layers.run_race([48], 3, {}, cache=tmp_path)
    got = {(r["layer"], r["who"]): r for r in res["results"]}
    assert set(got) == {(k, w) for k in ("gru", "dense") for w in ("voiceskin", "voiceskin_int8")}
    for kind in ("gru", "dense"):
        q = got[(kind, "voiceskin_int8")]
        # int8 weights: the same layer to within 8-bit rounding, and not the float path
        assert 1e-5 < q["max_abs_diff"] < 0.05
        assert all(got[(kind, w)]["median_us"] > 0 for w in ("voiceskin", "voiceskin_int8"))
    table = bench_layers.format_race(res)
    assert "gru 48" in table and "voiceskin_int8" in table
