"""qa.BundleTier: a packed tier rendered through the native library for the
QA (benchmarks/int8_compare.py --listen scores float and int8 tiers with it).

It must return what Student.convert returns for the same input (same
length, sample i converts input sample i), and be the SDK's stream of that
tier (any block size, latency compensated), for a float and an int8 tier
picked by name or index.
"""
from __future__ import annotations

import numpy as np

from voiceskin import Bundle, Voice
from voiceskin import format as vformat
from voiceskin_tooling.pack import tier_spec
from voiceskin_tooling.qa import BundleTier

from test_student_graph import _speech, _student


def _stream(data: bytes, tier: int, x: np.ndarray, block: int) -> np.ndarray:
    with Bundle.from_bytes(data) as b:
        v = Voice(b, sample_rate=16000, max_block=block, tier=tier)
        lat = v.latency
        xin = np.concatenate([x, np.zeros(lat, np.float32)])
        y = np.zeros_like(xin)
        for i in range(0, len(xin), block):
            v.process_into(xin[i:i + block], y[i:i + block])
    return y[lat:]


def test_bundle_tier_is_the_student_and_the_sdk_stream(lib) -> None:
    s = _student(lookahead=128, warp_grid=7)
    x = _speech("rms")[:16000 * 2 + 37]          # a partial hop at the end
    data = vformat.write_bundle(vformat.BundleSpec(
        voice_id="t.bundletier", display_name="t", version="0.0.1",
        tiers=[tier_spec("float", s), tier_spec("int8", s, weights="int8")]))
    ys = s.convert(x)
    peak = float(np.max(np.abs(ys)))
    assert peak > 1e-3
    outs = {}
    for tier, i in (("float", 0), ("int8", 1)):
        bt = BundleTier(data, tier)
        assert (bt.tier, bt.name, bt.sample_rate) == (i, tier, 16000)
        y = bt.convert(x)
        assert y.dtype == np.float32 and y.shape == ys.shape     # Student.convert's length
        np.testing.assert_array_equal(BundleTier(data, i).convert(x), y)
        # the SDK's stream of the same tier, another block size
        np.testing.assert_allclose(y, _stream(data, i, x, 160)[: len(y)], rtol=0, atol=1e-6)
        # the student, aligned (bound of test_student_graph; int8 within it too)
        assert np.max(np.abs(y - ys)) < 0.02 * peak, tier
        outs[tier] = y
    # the int8 tier is rendered, not the float one again
    assert np.max(np.abs(outs["int8"] - outs["float"])) > 1e-5 * peak
