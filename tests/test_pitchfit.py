"""A master that exposes audio only still gets a student that follows its
pitch: PITCH_MAP's target statistics are fitted from the master's
input/output pairs (voiceskin_tooling.pitchfit).

The master here is the real WORLD master, wrapped so that it hides its
pitch definition, F0 and features — what a TorchScript/ONNX file or a
studio's own class gives. Its white-box parameters are known, so the fit
can be checked against them, and the student's F0 track (what drives its
harmonic synthesis) is compared with Praat's reading of the master's output
on validation speakers, as the QA would.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from voiceskin_tooling.masters.base import AudioOnlyMaster
from voiceskin_tooling.masters.world import WorldMaster
from voiceskin_tooling.pitchfit import fit_pitch_from_pairs
from voiceskin_tooling.student import PitchSpec

ROOT = Path(__file__).resolve().parents[1]
SPK = ROOT / "data" / "corpus" / "speakers"
TRAIN = ["kal/kal_00", "awb/awb_01", "cs_dita/cs_dita_00", "ked/ked_08", "it_pc/it_pc_00",
         "fi_lj/fi_lj_00", "esp_us_m3/esp_us_m3_00", "ca_ona/ca_ona_01"]
VALID = ["rms/rms_00", "it_lp/it_lp_01", "fi_mv/fi_mv_00", "rms_hi/rms_hi_01"]


def _load(names: list[str]) -> list[np.ndarray]:
    return [sf.read(str(SPK / f"{n}.flac"), dtype="float32")[0] for n in names]


@pytest.fixture(scope="module")
def world() -> WorldMaster:
    m = WorldMaster(f0_method="yin", pitch_warmup=50, pitch_tau=2500)
    refs = [sf.read(str(p), dtype="float32")[0]
            for p in sorted((ROOT / "data" / "corpus" / "target" / "slt").glob("*.flac"))]
    m.fit(refs, 16000)
    return m


def _neutral(white: PitchSpec) -> PitchSpec:
    """What an audio-only master gets before the fit: the same YIN and
    source-side settings, neutral target statistics."""
    return PitchSpec(frame=white.frame, fmin=white.fmin, fmax=white.fmax, threshold=white.threshold,
                     prior_mu=white.prior_mu, prior_sigma=white.prior_sigma, warmup=white.warmup,
                     tau=white.tau, vthreshold=white.vthreshold)


@pytest.fixture(scope="module")
def fitted(world: WorldMaster) -> tuple[PitchSpec, PitchSpec, dict[str, Any]]:
    from voiceskin_tooling.distill import master_exposes_pitch, pitch_spec_for

    wrapped = AudioOnlyMaster(world)
    assert master_exposes_pitch(world) and not master_exposes_pitch(wrapped)
    white = pitch_spec_for(world)
    neutral = pitch_spec_for(wrapped)
    assert neutral.target_mu != white.target_mu  # what the student would get without the fit
    pairs = [(x, wrapped.convert(x, 16000).audio) for x in _load(TRAIN)]
    # what distill gives an audio-only master: the student's own source-side
    # defaults (tau, prior, YIN range), not the master's
    assert neutral.tau != white.tau
    spec, report = fit_pitch_from_pairs(neutral, pairs, 16000, 64)
    print("fit:", {k: report[k] for k in ("tau", "fmin", "fmax", "residual_cents", "residual_cents_by_setting")})
    return white, spec, report


def test_fit_recovers_the_masters_own_pitch_mapping(fitted: tuple[PitchSpec, PitchSpec, dict[str, Any]]) -> None:
    white, spec, report = fitted
    assert report["fitted"] and report["frames"] > 2000
    # the master's own YIN range is found (the student's default range left
    # 48 cents of residual against 30); the time constant is not identifiable
    # from these 4-s utterances (every tau >= 1000 fits alike), so not checked
    assert (report["fmin"], report["fmax"]) == (white.fmin, white.fmax), report["residual_cents_by_setting"]
    mu_cents = 1200 / math.log(2) * abs(spec.target_mu - white.target_mu)
    assert mu_cents < 25, (mu_cents, report)
    assert abs(spec.target_sigma / white.target_sigma - 1) < 0.15, (spec.target_sigma, white.target_sigma)


def test_student_pitch_follows_the_audio_only_master_on_validation_speakers(
        world: WorldMaster, fitted: tuple[PitchSpec, PitchSpec, dict[str, Any]]) -> None:
    """Praat on the master's output vs the student's F0 track (its harmonic
    synthesis follows that track exactly): median ≤ 50 cents, ≤ 15 % of
    frames a semitone off — and the neutral mapping misses, so the fit is
    what makes the difference."""
    import torch

    from voiceskin_tooling.qa import f0_errors, f0_track
    from voiceskin_tooling.student import StudentConfig, pitch_track

    white, spec, _ = fitted
    wrapped = AudioOnlyMaster(world)

    def errors(s: PitchSpec) -> tuple[float, float]:
        cents = []
        for x in _load(VALID):
            y = wrapped.convert(x, 16000).audio
            f, v = pitch_track(torch.from_numpy(x), StudentConfig(pitch=s))
            f = np.where(v.numpy() >= s.vthreshold, f.numpy(), 0.0)
            # the 4 ms track on Praat's 5 ms grid (the student's frame t ends at (t+1)·64)
            t5 = np.arange(len(f0_track(y))) * 0.005
            idx = np.clip(np.round(t5 * 16000 / 64 - 1).astype(int), 0, len(f) - 1)
            cents.append(f0_errors(f0_track(y), f[idx])["cents"])
        c = np.concatenate(cents)
        return float(np.median(c)), float(np.mean(c > 100))

    med, gross = errors(spec)
    assert med <= 50 and gross <= 0.15, (med, gross)
    med0, gross0 = errors(_neutral(white))
    assert med0 > 100, (med0, gross0)


def test_too_little_voiced_speech_leaves_the_spec_alone() -> None:
    spec = PitchSpec()
    noise = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    out, report = fit_pitch_from_pairs(spec, [(noise, noise)], 16000, 64)
    assert out == spec and not report["fitted"] and "frames" in report["note"]
