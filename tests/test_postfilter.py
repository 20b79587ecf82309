"""The formant post-filter (student.fold_postfilter, distill.fit_postfilter).

A student's envelopes come out smoother than its master's; the post-filter
``I + β(I − S)`` gives the contrast back. It folds into the harmonic head's
weights (the graph and its cost stay as they are), and β is fitted on the
training utterances so that the student is exactly as sharp as the master.
Random-weight students on real corpus speech; the "master" envelope is the
student's own, sharpened or blurred by a known amount, so the fit has a
right answer to find.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from voiceskin_tooling import student as st
from voiceskin_tooling import tiers as tr
from voiceskin_tooling.distill import _Segments, fit_postfilter

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
WIDTH = 375.0


def _speech(speaker: str, i: int) -> np.ndarray:
    x, sr = sf.read(CORPUS / "speakers" / speaker / f"{speaker}_{i:02d}.flac", dtype="float32")
    assert sr == 16000
    return x[: len(x) // 64 * 64]


def _student(**over: float) -> st.Student:
    torch.manual_seed(0)
    return st.Student(st.config_from_tier(tr.get_tier_preset("low").with_overrides(**over))).eval()


def _preact(s: st.Student, fe: st.Frontend) -> torch.Tensor:
    with torch.no_grad():
        return s.head_preactivations(fe.logmel[None], fe.f0[None], fe.voicing[None])[0][0]


def _master_grid_log_env(s: st.Student, hp: torch.Tensor, beta: float, bins: int = 65) -> np.ndarray:
    """The student's log harmonic envelope after a post-filter of ``beta``,
    on a master envelope grid of ``bins`` linear frequencies."""
    A = st.postfilter_matrix(s.cfg.harm_bins, s.cfg.sample_rate, beta, WIDTH)
    le = torch.log(st.exp_sigmoid(torch.from_numpy(hp.double().numpy() @ A.T))).numpy()
    nyq = s.cfg.sample_rate / 2
    src, dst = np.linspace(0, nyq, s.cfg.harm_bins), np.linspace(0, nyq, bins)
    return np.stack([np.interp(dst, src, row) for row in le]).astype(np.float32)


def _utts_with_master_sharpness(s: st.Student, beta: float | None) -> list[dict]:
    """Cache-style utterances whose master ``log_env`` is the student's own
    envelope post-filtered by ``beta``, placed where train_tier aligns
    teacher frames (student step t ↔ teacher frame t + 1 − lookahead/hop)."""
    utts = []
    for spk, i in (("kal", 0), ("cs_dita", 1), ("awb", 2)):
        x = _speech(spk, i)
        fe = st.frontend(x, s.cfg)
        hp = _preact(s, fe)
        env = _master_grid_log_env(s, hp, beta)
        T, k = env.shape[0], 1 - s.cfg.lookahead_steps
        log_env = np.zeros((T + 1, env.shape[1]), np.float32)
        log_env[max(k, 0):T + k] = env[max(-k, 0):]
        utts.append({"input": torch.from_numpy(x), "master": torch.from_numpy(x), "f0": fe.f0,
                     "voicing": fe.voicing, "split": "train",
                     "features": {"log_env": torch.from_numpy(log_env),
                                  "_hop": np.array([float(s.cfg.hop)])}})
    return utts


def _segments(s: st.Student, utts: list[dict]) -> _Segments:
    data = _Segments(utts, s.cfg, 64, "cpu", np.random.default_rng(0))
    if s.cfg.norm_tau > 0:
        data.set_running_means(s)
    return data


@pytest.mark.parametrize("skip", [False, True], ids=["heads", "heads-and-skip"])
def test_postfilter_folds_into_the_harmonic_head_preactivation(skip: bool) -> None:
    s = _student(skip=skip)
    if skip:  # the skip path starts at zero: give it weights to fold
        torch.nn.init.normal_(s.harm_skip.weight, std=0.05)
    fe = st.frontend(_speech("rms", 0), s.cfg)
    with torch.no_grad():
        hp0, np0 = s.head_preactivations(fe.logmel[None], fe.f0[None], fe.voicing[None])
    A = torch.from_numpy(st.postfilter_matrix(s.cfg.harm_bins, s.cfg.sample_rate, 0.3, WIDTH)).float()
    s.fold_postfilter(0.3, WIDTH)
    with torch.no_grad():
        hp1, np1 = s.head_preactivations(fe.logmel[None], fe.f0[None], fe.voicing[None])
    assert torch.allclose(hp1, hp0 @ A.T, atol=1e-4)
    assert torch.equal(np1, np0)  # the noise envelope is left alone
    before = s.state_dict()
    s.fold_postfilter(0.0, WIDTH)
    assert all(torch.equal(v, s.state_dict()[k]) for k, v in before.items())


def test_unfold_postfilter_gives_back_the_student_as_trained() -> None:
    """QA scores each tier without its post-filter too ("<tier>-nopf"):
    unfolding with the same β restores the harmonic head's pre-activation."""
    s = _student(skip=True)
    torch.nn.init.normal_(s.harm_skip.weight, std=0.05)
    fe = st.frontend(_speech("rms", 0), s.cfg)
    with torch.no_grad():
        hp0, _ = s.head_preactivations(fe.logmel[None], fe.f0[None], fe.voicing[None])
        s.fold_postfilter(0.6, WIDTH)
        hp1, _ = s.head_preactivations(fe.logmel[None], fe.f0[None], fe.voicing[None])
        s.unfold_postfilter(0.6, WIDTH)
        hp2, _ = s.head_preactivations(fe.logmel[None], fe.f0[None], fe.voicing[None])
    assert float((hp1 - hp0).abs().max()) > 0.05  # the fold changed something
    assert torch.allclose(hp2, hp0, atol=1e-4)


def test_envelope_contrast_ignores_level_and_follows_the_postfilter() -> None:
    f = np.linspace(0, 8000, 65)
    formants = sum(a * np.exp(-0.5 * ((f - c) / 120.0) ** 2) for a, c in ((2.0, 700), (1.5, 1200), (1.0, 2600)))
    L = np.tile(formants - f / 4000.0, (10, 1))
    c0 = st.envelope_contrast(L, 16000, WIDTH)
    assert c0 > 0.05
    assert st.envelope_contrast(L + 3.0, 16000, WIDTH) == pytest.approx(c0)
    A = st.postfilter_matrix(65, 16000, 0.5, WIDTH)
    assert st.envelope_contrast(L @ A.T, 16000, WIDTH) > 1.5 * c0
    B = st.postfilter_matrix(65, 16000, -0.5, WIDTH)   # negative β blurs
    assert st.envelope_contrast(L @ B.T, 16000, WIDTH) < 0.6 * c0


def test_fit_postfilter_gives_back_a_known_loss_of_contrast() -> None:
    s = _student()
    utts = _utts_with_master_sharpness(s, 0.5)   # the master is the student sharpened by β = 0.5
    data = _segments(s, utts)
    fe = data.items[0][0]
    hp0 = _preact(s, fe)
    fit = fit_postfilter(s, data, WIDTH)
    assert fit["contrast_before"] < fit["contrast_master"]
    assert fit["beta"] == pytest.approx(0.5, abs=0.05)
    assert fit["contrast_after"] == pytest.approx(fit["contrast_master"], rel=0.01)
    # and the student now is that post-filtered student
    A = torch.from_numpy(st.postfilter_matrix(s.cfg.harm_bins, s.cfg.sample_rate, fit["beta"], WIDTH)).float()
    assert torch.allclose(_preact(s, fe), hp0 @ A.T, atol=1e-4)


def test_fit_postfilter_never_blurs_a_student_sharper_than_its_master() -> None:
    s = _student()
    data = _segments(s, _utts_with_master_sharpness(s, -0.4))
    before = {k: v.clone() for k, v in s.state_dict().items()}
    fit = fit_postfilter(s, data, WIDTH)
    assert fit["contrast_before"] > fit["contrast_master"]
    assert fit["beta"] == 0.0
    assert all(torch.equal(v, s.state_dict()[k]) for k, v in before.items())


def test_fit_postfilter_reads_a_black_box_masters_envelope_from_its_audio() -> None:
    """No log_env feature: asked for the feature, the fit is skipped; by
    default it reads the envelope from the master's audio instead."""
    s = _student()
    utts = _utts_with_master_sharpness(s, 0.5)
    for u in utts:
        del u["features"]["log_env"]
        u["features"]["other"] = torch.zeros(10, 3)
    fit = fit_postfilter(s, _segments(s, utts), WIDTH, reference="feature")
    assert fit["beta"] == 0.0 and "log_env" in fit["skipped"]
    fit = fit_postfilter(s, _segments(s, utts), WIDTH)
    assert "audio" in fit["reference"] and "skipped" not in fit
    assert fit["contrast_master"] > 0 and fit["contrast_after"] >= fit["contrast_before"]


def test_audio_log_env_reads_the_world_masters_own_envelope() -> None:
    """The envelope read back from a WORLD master's output audio is the
    envelope it synthesised with: the same sharpness within 10 %, and frame
    by frame close to its ``log_env`` feature (voiced frames) — so a black
    box's students learn from it (audio_features)."""
    from voiceskin_tooling.audio_features import audio_features
    from voiceskin_tooling.masters.world import WorldMaster
    from voiceskin_tooling.postfilter import audio_log_env

    m = WorldMaster(f0_method="yin")
    m.fit([sf.read(p, dtype="float32")[0] for p in sorted((CORPUS / "target" / "slt").glob("*.flac"))[:6]], 16000)
    feat, read, flat = [], [], []
    for spk, i in (("kal", 0), ("cs_dita", 1), ("awb", 2)):
        out = m.convert(_speech(spk, i), 16000)
        le = out.features["log_env"]
        ae = audio_log_env(out.audio, 16000, 64, le.shape[1])[: len(le)]
        assert np.array_equal(audio_features(out.audio, 16000, 64)["log_env"][: len(le)], ae.astype(np.float32))
        v = out.voicing[: len(ae)] > 0.5
        feat.append(le[v]), read.append(ae[v])
        flat.append(np.repeat(le[v].mean(0, keepdims=True), v.sum(), 0))
    feat, read, flat = (np.concatenate(a).astype(np.float64) for a in (feat, read, flat))
    c_feat, c_read = st.envelope_contrast(feat, 16000, WIDTH), st.envelope_contrast(read, 16000, WIDTH)
    assert c_read == pytest.approx(c_feat, rel=0.10)

    def shape_error(a: np.ndarray) -> float:  # level removed per frame
        return float(np.mean(np.abs((a - a.mean(1, keepdims=True)) - (feat - feat.mean(1, keepdims=True)))))

    # much closer to each frame's own envelope than the utterances' mean envelope is
    assert shape_error(read) < 0.5 * shape_error(flat)
