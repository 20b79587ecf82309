"""The ``world2`` master (masters/world2.py): converts, follows the shared
PITCH_YIN + PITCH_MAP definition (shifted by ``yin_offset``), keeps its
source statistics causal, is deterministic, and round-trips its state."""
from __future__ import annotations

import numpy as np
import pytest
from small_voice import corpus_audio, english_utterances

from voiceskin_tooling.masters import available_masters, get_master
from voiceskin_tooling.masters.base import MasterError
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


def test_a_split_blend_keeps_the_source_envelope_below_the_split_and_the_targets_above() -> None:
    """``knn_split_hz`` with ``knn_blend_low`` 0 and ``knn_blend`` 1: below
    the split's octave the output envelope's shape is warp+EQ's (the
    source's), above it the kNN target frames'; per-frame level is set
    afterwards, so shapes are compared as differences between bins."""
    refs = _files("slt", 4, "target")
    masters = {}
    for name, kw in (("split", dict(knn_blend=1.0, knn_blend_low=0.0, knn_split_hz=2500.0)),
                     ("warp", dict(envelope="warp")), ("knn", dict(knn_blend=1.0))):
        masters[name] = m = get_master("world2", **kw)
        m.fit(refs, SR)
    w = masters["split"]._blend_weights(65)
    f = np.linspace(0, SR / 2, 65)
    assert np.all(w[f <= 2500 / np.sqrt(2)] == 0) and np.all(w[f >= 2500 * np.sqrt(2)] == 1)
    assert np.all(np.diff(w) >= 0)
    x = _files("kal", 1)[0]
    shape = {k: np.diff(m.convert(x, SR).features["log_env"], axis=1) for k, m in masters.items()}
    lo, hi = f[1:] <= 2500 / np.sqrt(2), f[:-1] >= 2500 * np.sqrt(2)
    np.testing.assert_allclose(shape["split"][:, lo], shape["warp"][:, lo], atol=1e-4)
    np.testing.assert_allclose(shape["split"][:, hi], shape["knn"][:, hi], atol=1e-4)
    assert np.abs(shape["warp"][:, hi] - shape["knn"][:, hi]).mean() > 0.05  # the two differ there


def test_knn_continuity_makes_the_picks_follow_the_targets_runs() -> None:
    """``knn_continuity`` prefers the successors of the previous frame's
    picks (the target's own trajectories): far more of the picks continue a
    run of target frames than when the preference is negligible, the
    envelope changes less from frame to frame, and the setting survives a
    state round trip."""
    refs = _files("slt", 4, "target")
    x = _files("awb", 1)[0]
    cont, jitter = {}, {}
    for c in (1e-9, 1.0):
        m = get_master("world2", knn_blend=1.0, knn_continuity=c)
        m.fit(refs, SR)
        out = m.convert(x, SR)
        cont[c] = out.info["knn_continued"]
        e = out.features["log_env"] - out.features["log_env"].mean(axis=1, keepdims=True)
        jitter[c] = float(np.abs(np.diff(e, axis=0)).mean())
        if c == 1.0:
            m2 = get_master("world2", knn_blend=1.0, knn_continuity=c)
            m2.load_state_dict(m.state_dict())
            np.testing.assert_allclose(m2.convert(x, SR).features["log_env"], out.features["log_env"],
                                       atol=1e-5)
    assert cont[1.0] > cont[1e-9] + 0.2, cont
    assert jitter[1.0] < jitter[1e-9], jitter
    with pytest.raises(Exception, match="knn_continuity"):
        get_master("world2", knn_continuity=-1.0)


def test_a_content_key_makes_the_picks_carry_the_inputs_phones() -> None:
    """With ``knn_content`` the nearest target frame of each voiced input
    frame more often carries the same phone — by labels the classifier never
    made: pocketsphinx force-aligns both sides to their known sentences."""
    from voiceskin_tooling.masters import phones

    refs = english_utterances("slt", 8)
    inputs = english_utterances("rms", 3)  # a validation voice, never in the classifier's training
    agreement = {}
    for weight in (0.0, 3.0):
        m = get_master("world2", knn_blend=1.0, knn_content=weight)
        m.fit([x for x, _ in refs], SR)
        pool_phones = np.concatenate([phones.align(x, t)[m._analyze(x)[0] > 0] for x, t in refs])
        assert len(pool_phones) == len(m._target["frames_v"])
        same = []
        for x, text in inputs:
            labels = phones.align(x, text)
            out = m.convert(x, SR)
            v = out.f0 > 0
            same.append(np.mean(pool_phones[out.info["knn_nearest"][v]] == labels[v]))
        agreement[weight] = float(np.mean(same))
    # measured on rms with 16 reference files: 0.29 without, 0.44 with
    assert agreement[3.0] > agreement[0.0] + 0.08, agreement


def test_a_content_keyed_state_round_trips_and_an_old_state_is_refused() -> None:
    refs = _files("slt", 3, "target")
    x = _files("awb", 1)[0]
    m = get_master("world2", knn_content=3.0)
    m.fit(refs, SR)
    assert m.config()["phones_model"] and m.config()["knn_content"] == 3.0
    m2 = get_master("world2", knn_content=3.0)
    m2.load_state_dict(m.state_dict())
    np.testing.assert_array_equal(m.convert(x, SR).audio, m2.convert(x, SR).audio)
    plain = get_master("world2")
    plain.fit(refs, SR)
    assert not np.allclose(plain.convert(x, SR).audio, m.convert(x, SR).audio)
    with pytest.raises(MasterError, match="no content keys"):
        get_master("world2", knn_content=3.0).load_state_dict(plain.state_dict())


def test_the_content_key_is_a_teacher_feature_the_student_learns() -> None:
    """A content-keyed master hands the key its picks used to the student as
    the ``content`` feature (a layer-to-layer target, training.kd_pairs):
    one row per output frame, the input's square-root phone posteriors (unit
    rows), and it says so in its fingerprint; a master without the key has
    no such feature."""
    from voiceskin_tooling.masters import phones

    refs = _files("slt", 3, "target")
    x = _files("rms", 1)[0]
    m = get_master("world2", knn_content=3.0)
    m.fit(refs, SR)
    out = m.convert(x, SR)
    c = out.features["content"]
    post = phones.PhoneModel.load(phones.MODEL_FILE).posteriors(phones.features(x))
    assert c.dtype == np.float32 and c.shape == (len(out.f0), post.shape[1])
    np.testing.assert_allclose(np.sum(c.astype(np.float64) ** 2, axis=1), 1.0, atol=1e-4)
    np.testing.assert_allclose(c, np.sqrt(post), atol=1e-6)
    assert "features" not in out.info
    assert m.config()["teacher_features"] == ["content"]
    plain = get_master("world2")
    plain.fit(refs, SR)
    assert "content" not in plain.convert(x, SR).features
    assert "teacher_features" not in plain.config()


def test_the_key_bands_average_the_envelope_over_htk_mel_triangles() -> None:
    from voiceskin_tooling.masters.evaluate import mel_fb, mel_triangles
    from voiceskin_tooling.masters.world2 import _mel_matrix

    freqs = np.linspace(0, 8000, 513)
    fb = _mel_matrix(freqs, 24)
    assert fb.shape == (24, 513) and np.allclose(fb.sum(axis=1), 1.0)
    centres = (fb * freqs).sum(axis=1)
    assert np.all(np.diff(centres) > 0) and 80 < centres[0] < centres[-1] < 7600
    assert np.all(fb[:, freqs < 80] == 0) and np.all(fb[:, freqs > 7600] == 0)
    # peak-1 triangles on the FFT grid: the phone classifier's mel bank
    tri = mel_fb(16000, 512, 40)
    assert np.allclose(tri.max(axis=1), 1.0, atol=0.35) and np.all(tri.sum(axis=1) > 0)
    # a band narrower than the grid's spacing still reads its nearest bin
    coarse = mel_triangles(np.linspace(0, 8000, 33), 40)
    assert np.all(coarse.sum(axis=1) > 0)
