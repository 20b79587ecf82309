"""The ``world2`` master (masters/world2.py): converts, follows the shared
PITCH_YIN + PITCH_MAP definition (shifted by ``yin_offset``), keeps its
source statistics causal, is deterministic, and round-trips its state."""
from __future__ import annotations

import numpy as np
import pytest
from small_voice import corpus_audio

from voiceskin_tooling.masters import available_masters, get_master
from voiceskin_tooling.masters.world import yin_track
from voiceskin_tooling.pitchmap import pitch_map_np

SR = 16000


def _files(speaker: str, n: int, sub: str = "speakers") -> list[np.ndarray]:
    return corpus_audio(speaker, n, sub, SR)


@pytest.fixture(scope="module")
def world2():
    m = get_master("world2")
    m.fit(_files("slt", 4, "target"), SR)
    return m


def test_world2_registered_next_to_world() -> None:
    avail = available_masters()
    assert avail["world2"] == "builtin" and avail["world"] == "builtin"


def test_world2_converts_with_the_shared_pitch_path(world2) -> None:
    x = _files("rms", 1)[0]
    out = world2.convert(x, SR)
    n = len(x) // 64 + 1
    assert out.audio.dtype == np.float32 and len(out.audio) == len(x)
    assert out.f0.shape == (n,) and all(v.shape[0] == n for v in out.features.values())
    assert np.abs(out.audio).max() <= 1.0
    rms_db = lambda a: 10 * np.log10(np.mean(a.astype(np.float64) ** 2))  # noqa: E731
    assert abs(rms_db(out.audio) - rms_db(x)) < 2.0
    # F0 = PITCH_MAP(PITCH_YIN) of the student's stream, read yin_offset frames later
    o = world2.yin_offset
    assert 0 <= o <= 2  # within the tier presets' 8 ms lookahead
    yf, yv = yin_track(x, SR, 64, world2.yin_frame, world2.f0_floor, world2.f0_ceil, world2.yin_threshold)
    ref = pitch_map_np(yf, yv, world2.pitch_params())
    voiced = (yv >= world2.vthreshold) & (yf > 0)
    m = n - o
    sel = np.flatnonzero(voiced[o:])
    assert len(sel) > 100
    np.testing.assert_allclose(out.f0[:m][sel], ref[o:][sel], rtol=1e-6)
    assert np.all(out.f0[:m][~voiced[o:]] == 0)
    # the output is moved up toward the (female) target
    assert out.features["warp"][-1] > 1.05


def test_world2_is_causal_and_deterministic(world2) -> None:
    a = np.concatenate(_files("kal", 2))
    b = np.concatenate(_files("awb_hi", 1))
    out_a = world2.convert(a, SR)
    out_a2 = world2.convert(a, SR)
    np.testing.assert_array_equal(out_a.audio, out_a2.audio)  # deterministic
    out_ab = world2.convert(np.concatenate([a, b]), SR)
    k = len(a) // 64 - 40  # WORLD's own analysis window near the junction
    np.testing.assert_allclose(out_ab.features["warp"][:k], out_a.features["warp"][:k], rtol=2e-3)
    np.testing.assert_allclose(out_ab.f0[:k], out_a.f0[:k], rtol=2e-3, atol=0.5)
    np.testing.assert_allclose(out_ab.features["log_env"][:k], out_a.features["log_env"][:k], atol=0.05)


def test_world2_state_roundtrip(world2) -> None:
    m2 = get_master("world2")
    m2.load_state_dict(world2.state_dict())
    assert m2.fingerprint() == world2.fingerprint()
    assert get_master("world2", knn_k=8).fingerprint() != get_master("world2").fingerprint()
    x = _files("rms", 1)[0]
    np.testing.assert_allclose(m2.convert(x, SR).audio, world2.convert(x, SR).audio, atol=1e-6)
