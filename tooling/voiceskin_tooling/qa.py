"""QA of distilled students: what a listener hears, for the input, the master
and every tier, per split and per speaker; and the original per-tier scores
against the master that today's quality bars rest on.

Splits: ``validation`` (the cache's "validation", or a legacy "heldout":
speakers the recipe is tuned on), ``test`` (new people and sentences, never
used for a design choice), ``seen`` (training utterances marked
``seen_qa``).

**Listener-side measures** (per system = input, master, each tier; each as
``{"value", "ci95": [lo, hi], "n"}``, 95 % percentile bootstrap over
utterances, 1000 seeded resamples, :mod:`.bootstrap`):

* ``wer`` — word error rate of pocketsphinx (:mod:`.intelligibility`)
  against the known sentence; English utterances with a transcript only
  (``wer_scored`` says how many); Σ errors / Σ reference words.
* ``dnsmos_ovrl`` / ``dnsmos_sig`` / ``dnsmos_bak`` / ``dnsmos_p808`` —
  DNSMOS (:mod:`.naturalness`) on each speaker's utterances of the split
  joined and cut into 9.01-s windows (DNSMOS' input length; ``n`` counts
  windows); joining avoids scoring one 4-s chunk tiled 2.25 times.
* ``similarity`` — resemblyzer cosine to the target's mean reference
  embedding; ``identity_margin`` — similarity minus the highest similarity
  to a cohort voice (the cache's ``cohort``: other voices of the target's
  sex from the voice TOML), ``target_rank`` (1 = the target is the nearest
  voice) and ``target_nearest`` (fraction of utterances with rank 1)
  (:mod:`.identity`).
* ``envelope_error`` (tiers) — dB between the tier's and the master's WORLD
  envelopes on frames voiced in both (:mod:`.envelope`): faithfulness to
  the master where the students actually differ from it.
* ``logmel_ratio``, ``identity_recovery`` (tiers) — as below, with
  intervals (Σ over utterances / Σ, pairs resampled together).
* pitch: the F0 of master and students is shared **by construction** (both
  synthesise from the same PITCH_YIN + PITCH_MAP track), so F0 error against
  the master cannot show what goes wrong with pitch. Instead
  (:mod:`.pitch_checks`): on the **input**, the causal tracker's errors
  against Praat (``yin_octave_error``, ``yin_gross_error``,
  ``yin_voicing_error``, ``yin_missed_voicing``, ``yin_false_voicing``,
  frame fractions); and per system whether the output's F0 register matches
  the target reference's (Praat on both): ``f0_mean_offset_cents`` (log-F0
  mean, output − target) and ``f0_spread_ratio`` (log-F0 σ, output / target).

``qa.json`` (schema ``voiceskin-qa/2``)::

    {"schema", "tracker", "speaker_encoder", "recogniser", "dnsmos_model",
     "cohort": [speaker, ...], "target_f0": {"mu", "sigma", "hz"},
     "systems": ["input", "master", tier, ...], "notes": [...],
     "timings": {step: seconds}, "seconds",
     "splits": {split: {"utterances", "speakers_list", "seconds",
                        "wer_scored", "dnsmos_windows", "listen_utterances",
                        "systems": {system: {measure: {"value", "ci95", "n"}}},
                        "speakers": {speaker: {"utterances", "wer_scored",
                                               system: {measure: {...}}}}}},
     "reference": {"heldout" | "test" | "seen": {utterances, speakers,
                   seconds, input_logmel_distance, sim_input, sim_master}},
     "tiers": {tier: {"heldout" | "test" | "seen": {original scores below},
                      "parameters", "flops_per_second",
                      "algorithmic_latency_ms", "core_percent_48k", ...,
                      "bars", "failures"}},
     "examples": [{"id", "split", "speaker", "path", "text", "seconds",
                   "files": {system: wav file name},
                   "scores": {system: {"wer", "heard", "similarity",
                              "identity_margin", "target_rank",
                              "envelope_error", "f0_mean_offset_cents",
                              "speaker_dnsmos_ovrl"}}}]}

The per-tier ``"heldout"`` entry is the validation split under its old name
(:func:`check_thresholds` and the bundle's QA section read it).

**Original per-tier scores** (against the master's output for the same
input). Every score compares the student's output with the **master's output for the
same input** (and, for ratios, the unconverted input with the master's
output), on held-out speakers and separately on seen (training) speakers:

* ``logmel_distance`` — mean |log-mel(student) − log-mel(master)| (80 mels,
  1024-point FFT, 16 ms hop); ``logmel_ratio`` divides it by the input's
  distance to the master (1.0 = no better than not converting at all).
* ``f0_median_cents`` / ``f0_gross_fraction`` — on frames voiced in both,
  median |1200·log2(f0_student / f0_master)| and the fraction more than a
  semitone (100 cents) off; ``voicing_error`` — fraction of frames whose
  voiced/unvoiced decision differs. One pitch tracker runs on both outputs:
  **Praat's autocorrelation tracker** (parselmouth, 5 ms, 50–800 Hz),
  independent of the student's own (causal YIN). It was chosen by how well
  it reads the master's own output, whose F0 is known exactly (the master
  synthesises PITCH_MAP's track): on the shipped corpus' QA utterances Praat
  is 1.7 % gross / 7.7 cents median off that known F0, DIO + StoneMask
  3.3 % / 8.5, pYIN 5.9 % / 16.4 and WORLD's Harvest 7.6 % / 10.8 (Harvest
  glides through weakly voiced stretches and labels 98 % of the frames
  voiced). A tracker's own errors on either output count against the
  student, so the most accurate one is used; with ``qa_voice(harvest=True)``
  Harvest's scores go into the JSON (``*_harvest``) for comparison (off by
  default since issue 15: it cost QA time and no bar reads it). torchcrepe was not usable: it imports
  torchaudio, and no torchaudio build matches torch 2.13.
* ``identity_recovery`` — speaker similarity to the target (resemblyzer
  d-vectors, cosine to the mean reference embedding), as the fraction of the
  master's gain over the input that the tier keeps:
  ``(sim_tier − sim_input) / (sim_master − sim_input)``. When resemblyzer is
  not installed the scores are ``None`` and the report says so.
* cost: parameters, FLOPs per second (the graph's estimate), algorithmic
  latency, and the CPU time the **native library** spends per second of
  48 kHz audio (``voiceskin.Voice``), as a percentage of one core.

:data:`DEFAULT_THRESHOLDS` are the project's quality bars for the highest
and the lowest tier (tiers in between get interpolated bars, by rank on the
ladder, not by place in the voice's list); a voice TOML's
``[qa]`` / ``[tiers.qa]`` values override them.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from .identity import SpeakerEncoder  # noqa: F401 - re-exported (moved to identity.py)
from .identity import cosine as _cos
from .tiers import ladder_fraction

__all__ = ["DEFAULT_THRESHOLDS", "bars_for_tier", "check_thresholds", "qa_voice",
           "logmel_distance", "f0_track", "f0_track_harvest", "f0_errors", "SpeakerEncoder", "native_cost",
           "BundleTier"]

#: Quality bars on held-out speakers: (highest tier, lowest tier).
DEFAULT_THRESHOLDS: dict[str, tuple[float, float]] = {
    "min_identity_recovery": (0.80, 0.60),
    "max_f0_median_cents": (50.0, 100.0),
    "max_f0_gross_fraction": (0.15, 0.25),
    "max_logmel_ratio": (0.60, 0.75),
}

#: score each threshold is checked against (held-out set)
_METRIC = {
    "min_identity_recovery": "identity_recovery",
    "max_f0_median_cents": "f0_median_cents",
    "max_f0_gross_fraction": "f0_gross_fraction",
    "max_voicing_error": "voicing_error",
    "max_logmel_ratio": "logmel_ratio",
}


def bars_for_tier(tier: str, tier_names: Sequence[str] | Mapping[str, float]) -> dict[str, float]:
    """Default bars for ``tier``: the highest-ranked tier gets the strict
    bar, the lowest-ranked the loose one, ranks between are interpolated
    (:func:`.tiers.ladder_fraction`). ``tier_names``: name -> rank (the
    voice's ``TierSpec.rank``; equal ranks, e.g. a tier and its pruned twin,
    get equal bars), or a plain list ranked by position."""
    pos = ladder_fraction(tier, tier_names)
    return {k: lo + (hi - lo) * pos for k, (hi, lo) in DEFAULT_THRESHOLDS.items()}


def check_thresholds(scores: dict[str, Any], overrides: Any, tier: str,
                     tier_names: Sequence[str] | Mapping[str, float]) -> list[str]:
    """Failures (human-readable) of one tier's held-out scores against the
    default bars (:func:`bars_for_tier`) merged with the voice TOML's
    thresholds."""
    bars: dict[str, float] = bars_for_tier(tier, tier_names)
    ov = overrides.to_dict() if hasattr(overrides, "to_dict") else dict(overrides or {})
    bars.update({k: float(v) for k, v in ov.items() if v is not None})
    held = scores.get("heldout", {})
    out = []
    for k, bar in sorted(bars.items()):
        val = held.get(_METRIC[k])
        if val is None:
            if k == "min_identity_recovery" and held.get("identity_note"):
                continue  # resemblyzer missing: reported, not failed
            out.append(f"{_METRIC[k]} not measured (bar {k} = {bar:g})")
            continue
        ok = val >= bar if k.startswith("min_") else val <= bar
        if not ok:
            out.append(f"{_METRIC[k]} = {val:.3f} misses {k} = {bar:.3f}")
    scores["bars"] = bars
    return out


# ----------------------------------------------------------------- metrics


_MEL_CACHE: dict[int, np.ndarray] = {}


def _logmel(x: np.ndarray, sr: int = 16000) -> np.ndarray:
    import torch

    from .student import mel_filterbank

    n, hop = 1024, 256
    if sr not in _MEL_CACHE:
        _MEL_CACHE[sr] = mel_filterbank(sr, n, 80, fmin=40.0)
    t = torch.from_numpy(np.asarray(x, np.float32))
    S = torch.stft(t, n, hop, window=torch.hann_window(n), return_complex=True, center=True).abs()
    mel = torch.from_numpy(_MEL_CACHE[sr]) @ S
    return torch.log(mel + 1e-4).numpy()


def logmel_distance(a: np.ndarray, b: np.ndarray, sr: int = 16000) -> float:
    """Mean absolute log-mel difference (natural log, 80 bands)."""
    n = min(len(a), len(b))
    A, B = _logmel(a[:n], sr), _logmel(b[:n], sr)
    return float(np.mean(np.abs(A - B)))


def f0_track(x: np.ndarray, sr: int = 16000) -> np.ndarray:
    """Praat's autocorrelation F0 (Hz, 0 = unvoiced), 5 ms frames from t = 0,
    50–800 Hz (Praat's other settings at their defaults)."""
    import parselmouth

    x64 = np.asarray(x, np.float64)
    n = int(len(x64) / sr / 0.005) + 1
    if len(x64) < int(3 / 50.0 * sr) + 1:  # shorter than Praat's analysis window
        return np.zeros(n)
    p = parselmouth.Sound(x64, sampling_frequency=sr).to_pitch_ac(
        time_step=0.005, pitch_floor=50.0, pitch_ceiling=800.0)
    f = p.selected_array["frequency"]
    # Praat's frames are centred from p.xs()[0]; place them on the 5 ms grid
    idx = np.round(np.asarray(p.xs()) / 0.005).astype(int)
    out = np.zeros(n)
    ok = (idx >= 0) & (idx < n)
    out[idx[ok]] = f[ok]
    return out


def f0_track_harvest(x: np.ndarray, sr: int = 16000) -> np.ndarray:
    """WORLD Harvest F0 (Hz, 0 = unvoiced) at 5 ms frames (kept for comparison)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pyworld as pw
    x64 = np.asarray(x, np.float64)
    f0, _ = pw.harvest(x64, sr, f0_floor=50.0, f0_ceil=800.0, frame_period=5.0)
    return f0


def f0_errors(ref: np.ndarray, est: np.ndarray) -> dict[str, float]:
    """Cents errors on frames voiced in both, and voicing disagreement."""
    n = min(len(ref), len(est))
    r, e = ref[:n], est[:n]
    both = (r > 0) & (e > 0)
    cents = np.abs(1200 * np.log2(e[both] / r[both])) if both.any() else np.array([])
    return {"frames": int(n), "voiced_both": int(both.sum()),
            "cents": cents, "voicing_disagree": int(np.sum((r > 0) != (e > 0)))}


# -------------------------------------------------------------- native cost


def native_cost(bundle_bytes: bytes, tier: int, seconds: float = 5.0, sample_rate: int = 48000,
                block: int = 480, seed: int = 0) -> dict[str, Any]:
    """Runs the tier in the native library on speech-like noise at the host
    rate and measures CPU time per second of audio (``% of one core``)."""
    from voiceskin import Bundle, Voice

    rng = np.random.default_rng(seed)
    n = int(seconds * sample_rate) // block * block
    t = np.arange(n) / sample_rate
    x = (0.2 * np.sin(2 * np.pi * 140 * t * (1 + 0.1 * np.sin(2 * np.pi * 0.5 * t)))
         + 0.02 * rng.standard_normal(n)).astype(np.float32)
    with Bundle.from_bytes(bundle_bytes) as b:
        v = Voice(b, sample_rate=sample_rate, max_block=block, tier=tier)
        out = np.empty(block, np.float32)
        for i in range(0, min(n, sample_rate), block):  # warm-up second
            v.process_into(x[i:i + block], out)
        best = math.inf
        for _ in range(3):
            c0 = time.process_time()
            w0 = time.perf_counter()
            for i in range(0, n, block):
                v.process_into(x[i:i + block], out)
            cpu = time.process_time() - c0
            wall = time.perf_counter() - w0
            best = min(best, min(cpu, wall) if cpu > 0 else wall)
        latency = v.latency
    return {"core_percent_48k": round(100.0 * best / (n / sample_rate), 4),
            "latency_ms_48k": round(1000.0 * latency / sample_rate, 2)}


class BundleTier:
    """One tier of a packed bundle as a QA system: :meth:`convert` renders
    through the native library (the SDK's stream at the tier's model rate,
    :func:`voiceskin_tooling.cli.convert_native`, latency compensated) and
    returns what :meth:`Student.convert` returns for the same input: sample
    i converts input sample i, and the last ``lookahead`` samples and any
    partial hop are left out. The runtime tracks pitch itself (PITCH_YIN in
    the graph), so ``pitch`` is ignored. For :func:`qa_voice`'s
    ``variants``: the QA of what ships, e.g. a bundle's float and int8 tiers
    (benchmarks/int8_compare.py ``--listen``)."""

    def __init__(self, data: bytes, tier: int | str = 0):
        from voiceskin.format import read_bundle

        tiers = read_bundle(data).tiers
        i = tier if isinstance(tier, int) else [t.name for t in tiers].index(tier)
        t = tiers[i]
        self.data, self.tier, self.name = data, i, t.name
        self.sample_rate, self.hop = int(t.model_sample_rate), int(t.hop_samples)
        self.lookahead = int(t.latency_samples - t.hop_samples)

    def convert(self, audio: np.ndarray, pitch: Any = None, deterministic: bool = True) -> np.ndarray:
        from .cli import convert_native

        x = np.asarray(audio, np.float32)
        y, _ = convert_native(self.data, x[:, None], self.sample_rate, self.tier)
        n = max(len(x) // self.hop * self.hop - self.lookahead, 0)
        return np.ascontiguousarray(y[:n, 0])


# --------------------------------------------------------------- the QA run

#: QA splits in report order (output names). The cache's "validation" (or a
#: legacy "heldout"), "test", and the "train" utterances marked ``seen_qa``.
SPLITS = ("validation", "test", "seen")
#: per-tier keys of the original scores (check_thresholds reads "heldout")
LEGACY_KEY = {"validation": "heldout", "test": "test", "seen": "seen"}
#: listener-side measures per system, report order: (key, label, format, better)
MEASURES: list[tuple[str, str, str, str]] = [
    ("wer", "WER", "{:.2f}", "lower"),
    ("dnsmos_ovrl", "DNSMOS ovrl", "{:.2f}", "higher"),
    ("dnsmos_sig", "sig", "{:.2f}", "higher"),
    ("dnsmos_bak", "bak", "{:.2f}", "higher"),
    ("dnsmos_p808", "P.808", "{:.2f}", "higher"),
    ("similarity", "sim→target", "{:.3f}", "higher"),
    ("identity_margin", "margin", "{:+.3f}", "higher"),
    ("target_rank", "rank", "{:.2f}", "lower"),
    ("target_nearest", "target nearest", "{:.0%}", "higher"),
    ("envelope_error", "env. err dB", "{:.2f}", "lower"),
    ("logmel_ratio", "log-mel ratio", "{:.2f}", "lower"),
    ("identity_recovery", "recovery", "{:.2f}", "higher"),
    ("f0_mean_offset_cents", "F0 mean ¢ vs target", "{:+.0f}", "zero"),
    ("f0_spread_ratio", "F0 spread ×", "{:.2f}", "one"),
]
#: the causal tracker (PITCH_YIN) against Praat on the input: frame fractions
TRACKER_MEASURES: list[tuple[str, str]] = [
    ("yin_octave_error", "octave errors (≥600 ¢; of frames voiced in both)"),
    ("yin_gross_error", "gross errors (>100 ¢; of frames voiced in both)"),
    ("yin_voicing_error", "voicing decisions that differ (of all frames)"),
    ("yin_missed_voicing", "Praat-voiced frames YIN calls unvoiced"),
    ("yin_false_voicing", "Praat-unvoiced frames YIN calls voiced"),
]


def _qa_split(u: dict[str, Any]) -> str | None:
    s = u.get("split")
    if s in ("validation", "heldout"):
        return "validation"
    if s == "test":
        return "test"
    if s == "train" and u.get("seen_qa"):
        return "seen"
    return None


def _english_text(u: dict[str, Any]) -> str | None:
    t = u.get("text")
    if not t:
        return None
    lang = str(u.get("language") or "en").lower()
    return str(t) if lang.startswith("en") else None


@dataclass
class _Utt:
    split: str          # "validation" | "test" | "seen"
    speaker: str
    x: np.ndarray
    master: np.ndarray
    f0: Any
    voicing: Any
    text: str | None = None     # known English sentence (else None: no WER)
    path: str = ""


def _f0_pool(signals: list[np.ndarray], jobs: int, fn: Any = None) -> list[np.ndarray]:
    fn = fn or f0_track
    if jobs <= 1 or len(signals) < 2:
        return [fn(s) for s in signals]
    import multiprocessing as mp

    with mp.get_context("fork").Pool(jobs) as pool:
        return pool.map(fn, signals, chunksize=1)


def _signal_job(job: dict[str, Any]) -> dict[str, Any]:
    """Per-signal QA work, run in forked workers without torch: Praat F0
    (and Harvest), word errors against the known sentence, envelope error
    against the master, the causal tracker's errors (input only)."""
    sr = job["sr"]
    x = job["audio"]
    cpu: dict[str, float] = {}
    c0 = time.process_time()

    def lap(name: str) -> None:
        nonlocal c0
        c1 = time.process_time()
        cpu[name] = c1 - c0
        c0 = c1

    out: dict[str, Any] = {"key": job["key"], "f0": f0_track(x, sr), "cpu": cpu}
    lap("praat")
    if job.get("harvest"):
        out["f0_h"] = f0_track_harvest(x, sr)
        lap("harvest")
    if job.get("text"):
        from .intelligibility import transcribe, word_errors

        hyp = transcribe(x, sr)
        out["hyp"] = hyp
        out["words"] = word_errors(job["text"], hyp)
        lap("recogniser")
    if job.get("master") is not None:
        from .envelope import envelope_error

        out["envelope_error"] = envelope_error(x, job["master"], sr)
        lap("envelope")
    if job.get("pitch") is not None:
        from .pitch_checks import causal_tracker_errors

        out["yin"] = causal_tracker_errors(x, sr, job["pitch"], offline_f0=out["f0"])
        lap("causal_tracker")
    return out


def _dnsmos_job(job: tuple[Any, np.ndarray]) -> tuple[Any, dict[str, float], float]:
    from .naturalness import dnsmos

    c0 = time.process_time()
    r = dnsmos(job[1], 16000)
    return job[0], r, time.process_time() - c0


def _dnsmos_windows(signals: list[np.ndarray], sr: int, seconds: float = 9.01) -> list[np.ndarray]:
    """A speaker's utterances (one system, one split) joined and cut into
    DNSMOS windows; the last window is completed with the speech from the
    start (a speaker with less than one window's speech is tiled)."""
    cat = np.concatenate([np.asarray(s, np.float32) for s in signals]) if signals else np.zeros(0)
    L = int(round(seconds * sr))
    if cat.size == 0:
        return []
    n = max(1, int(round(cat.size / L)))
    full = np.resize(cat, n * L)
    return [full[k * L:(k + 1) * L] for k in range(n)]


def _run_pool(fn: Any, jobs_list: list[Any], jobs: int, progress: Any = None,
              label: str = "", main_work: Any = None) -> list[Any]:
    """``fn`` over ``jobs_list`` in a fork pool (in order); ``main_work()``
    runs in this process meanwhile (torch work stays out of the workers)."""
    if jobs <= 1 or len(jobs_list) < 2:
        extra = main_work() if main_work is not None else None
        return [fn(j) for j in jobs_list] + ([extra] if main_work is not None else [])
    import multiprocessing as mp

    with mp.get_context("fork").Pool(jobs) as pool:
        res = pool.map_async(fn, jobs_list, chunksize=1)
        extra = main_work() if main_work is not None else None
        out = res.get()
    return out + ([extra] if main_work is not None else [])


def listen_subset(items: Sequence[tuple[int, str]], max_n: int | None, seed: int = 0) -> list[int]:
    """The indices of ``items`` ((index, speaker) of one split) that get the
    listener measures when only ``max_n`` may: taken round-robin over the
    speakers (in a fixed random order within each), so every speaker is
    heard before any is heard twice. All of them when ``max_n`` is None or
    not smaller."""
    if max_n is None or len(items) <= max_n:
        return sorted(i for i, _ in items)
    rng = np.random.default_rng(seed)
    by: dict[str, list[int]] = {}
    for i, spk in items:
        by.setdefault(spk, []).append(i)
    queues = [list(rng.permutation(v)) for _, v in sorted(by.items())]
    out: list[int] = []
    while len(out) < max_n:
        for q in queues:
            if q and len(out) < max_n:
                out.append(int(q.pop(0)))
    return sorted(out)


def qa_voice(cache: dict[str, Any], students: dict[str, Any], tier_names: Sequence[str],
             bundle_bytes: bytes | None = None, jobs: int = 1,
             progress: Any = None, harvest: bool = False, n_examples: int = 4,
             listen_max_per_split: int | None = None,
             listen_splits: Sequence[str] = ("validation", "test"),
             variants: dict[str, Any] | None = None,
             renderers: dict[str, Any] | None = None) -> dict[str, Any]:
    """Scores input, master and every tier of a voice (schema: module
    docstring). ``students`` maps tier name -> trained
    :class:`~voiceskin_tooling.student.Student`; ``bundle_bytes`` (the packed
    bundle, tiers in ``tier_names`` order) enables the native cost;
    ``harvest`` adds the Harvest-tracker F0 scores; ``listen_max_per_split``
    caps the utterances per split that get the listener measures (WER and
    DNSMOS, the costly ones: only on ``listen_splits``; every other measure
    uses every utterance of every split); ``n_examples`` test
    (else validation) utterances are kept for the report's players.
    ``variants`` (name -> Student) are scored like tiers on every listener
    measure (e.g. each tier without its formant post-filter) but get no
    per-tier scores, bars or cost. ``renderers`` (tier name -> system with
    ``convert``, e.g. a :class:`BundleTier`) render that tier's outputs
    instead of its Student — the QA of what ships when packing changes the
    tier (int8 weights); the Student still gives its cost.
    Returns the qa dict with ``examples`` (audio arrays; the caller saves and
    removes them)."""
    import torch

    t_start = time.time()
    sr = int(cache["sample_rate"])
    utts = []
    for u in cache["utts"]:
        sp = _qa_split(u)
        if sp is not None:
            utts.append(_Utt(sp, u["speaker"], u["input"].numpy(), u["master"].numpy(), u["f0"],
                             u["voicing"], _english_text(u), str(u.get("path", ""))))
    variants = dict(variants or {})
    students = {**students, **variants}
    student_systems = list(tier_names) + [v for v in variants if v not in tier_names]
    systems = ["input", "master"] + student_systems
    timings: dict[str, float] = {}

    def step(msg: str) -> None:
        if progress is not None:
            progress(msg)

    step(f"rendering {len(student_systems)} students on {len(utts)} utterances")
    t0 = time.time()
    outs: dict[str, list[np.ndarray]] = {}
    with torch.no_grad():
        for name in student_systems:
            st = (renderers or {}).get(name) or students[name]
            outs[name] = [st.convert(u.x, (u.f0, u.voicing)) for u in utts]
    timings["render"] = time.time() - t0

    def sig(system: str, i: int) -> np.ndarray:
        if system == "input":
            return utts[i].x
        if system == "master":
            return utts[i].master
        return outs[system][i]

    # which utterances get the listener measures (WER, DNSMOS)
    listen = set()
    for split in listen_splits:
        listen.update(listen_subset([(i, u.speaker) for i, u in enumerate(utts) if u.split == split],
                                    listen_max_per_split))

    # 1. per-signal work in worker processes; speaker embeddings here meanwhile
    jobs_list: list[dict[str, Any]] = []
    pitch = cache.get("pitch") or {}
    for s in systems:
        for i, u in enumerate(utts):
            jobs_list.append({"key": (s, i), "sr": sr, "audio": sig(s, i),
                              "harvest": harvest and s != "input",
                              "text": u.text if i in listen else None,
                              "master": u.master if s in outs else None,
                              "pitch": pitch if s == "input" else None})
    # DNSMOS windows: per split, speaker and system
    dn_jobs: list[tuple[Any, np.ndarray]] = []
    for split in SPLITS:
        spk_idx: dict[str, list[int]] = {}
        for i, u in enumerate(utts):
            if u.split == split and i in listen:
                spk_idx.setdefault(u.speaker, []).append(i)
        for spk, idx in spk_idx.items():
            for s in systems:
                for k, w in enumerate(_dnsmos_windows([sig(s, i) for i in idx], sr)):
                    dn_jobs.append(((split, spk, s, k), w))
    enc = SpeakerEncoder()

    def embed_all() -> dict[str, Any]:
        # one torch thread: the workers have the other cores (spinning
        # intra-op threads doubled the embeddings' CPU time on 2 cores)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return _embed_all()
        finally:
            torch.set_num_threads(threads)

    def _embed_all() -> dict[str, Any]:
        t, c = time.time(), time.process_time()
        e = {"target": enc.target([r.numpy() for r in cache.get("reference", [])], sr)}
        coh = cache.get("cohort") or {}
        e["cohort"] = {spk: enc.target([a.numpy() if hasattr(a, "numpy") else np.asarray(a) for a in xs], sr)
                       for spk, xs in coh.items()}
        e["cohort"] = {k: v for k, v in e["cohort"].items() if v is not None}
        e["utt"] = {(s, i): enc.embed(sig(s, i), sr) for s in systems for i in range(len(utts))}
        e["seconds"] = time.time() - t
        e["cpu"] = time.process_time() - c
        return e

    step(f"per-signal measures on {len(jobs_list)} signals and {len(dn_jobs)} DNSMOS windows "
         f"({jobs} processes)")
    t0 = time.time()
    res = _run_pool(_signal_job, jobs_list, jobs, main_work=embed_all)
    emb = res.pop()
    per = {r["key"]: r for r in res}
    timings["signals+embeddings"] = time.time() - t0
    timings["embeddings_main_process"] = emb["seconds"]
    t0 = time.time()
    dn_res = _run_pool(_dnsmos_job, dn_jobs, jobs) if dn_jobs else []
    dn = {k: v for k, v, _ in dn_res}
    timings["dnsmos"] = time.time() - t0
    cpu_s: dict[str, float] = {"dnsmos": sum(c for _, _, c in dn_res)}
    for r_ in res:
        for k, v in r_["cpu"].items():
            cpu_s[k] = cpu_s.get(k, 0.0) + v

    # target reference F0 register (Praat on the references)
    from .identity import identity_margin
    from .pitch_checks import log_f0_stats, register_match

    ref_tracks = _f0_pool([r.numpy() for r in cache.get("reference", [])], jobs)
    mu_t, sd_t, _ = log_f0_stats(ref_tracks) if ref_tracks else (math.nan, math.nan, 0)
    target, cohort = emb["target"], emb["cohort"]

    # 2. per-utterance records
    rec: dict[str, list[dict[str, Any]]] = {s: [] for s in systems}
    d_in = [logmel_distance(u.x, u.master, sr) for u in utts]
    for s in systems:
        for i, u in enumerate(utts):
            p = per[(s, i)]
            r: dict[str, Any] = {"words": p.get("words"), "hyp": p.get("hyp"),
                                 "envelope_error": p.get("envelope_error")}
            e = emb["utt"][(s, i)]
            r["similarity"] = _cos(e, target)
            if e is not None and target is not None and cohort:
                r["identity_margin"], r["target_rank"] = identity_margin(e, target, cohort)
                r["target_nearest"] = float(r["target_rank"] == 1)
            if math.isfinite(mu_t):
                m = register_match(p["f0"], (mu_t, sd_t))
                if m:
                    r.update(m)
            if s in outs:
                r["logmel_distance"] = logmel_distance(sig(s, i), u.master, sr)
            if s == "input":
                r["yin"] = p.get("yin")
            rec[s].append(r)

    from .bootstrap import summarise, summarise_ratio

    def measures(idx: list[int], s: str, split: str, speakers: set[str]) -> dict[str, Any]:
        R = [rec[s][i] for i in idx]
        m: dict[str, Any] = {}
        w = [r["words"] for r in R if r["words"] is not None]
        m["wer"] = summarise_ratio([a for a, _ in w], [b for _, b in w]) if w else None
        wins = [v for (sp, spk, s_, _), v in dn.items() if sp == split and s_ == s and spk in speakers]
        for k in ("dnsmos_ovrl", "dnsmos_sig", "dnsmos_bak", "dnsmos_p808"):
            m[k] = summarise([v[k] for v in wins]) if wins else None
        for k in ("similarity", "identity_margin", "target_rank", "target_nearest",
                  "envelope_error", "f0_mean_offset_cents", "f0_spread_ratio"):
            vals = [r.get(k) for r in R]
            m[k] = summarise([v for v in vals if v is not None]) if any(v is not None for v in vals) else None
        if s in outs:
            m["logmel_ratio"] = summarise_ratio([r["logmel_distance"] for r in R], [d_in[i] for i in idx])
            si = [rec["input"][i]["similarity"] for i in idx]
            sm = [rec["master"][i]["similarity"] for i in idx]
            st = [r["similarity"] for r in R]
            if all(v is not None for v in si + sm + st):
                m["identity_recovery"] = summarise_ratio(np.subtract(st, si), np.subtract(sm, si))
        if s == "input":
            Y = [rec["input"][i]["yin"] for i in idx if rec["input"][i].get("yin")]
            if Y:
                g = {k: np.array([y[k] for y in Y], float) for k in Y[0]}
                m["yin_octave_error"] = summarise_ratio(g["octave"], g["voiced_both"])
                m["yin_gross_error"] = summarise_ratio(g["gross"], g["voiced_both"])
                m["yin_voicing_error"] = summarise_ratio(g["voicing"], g["frames"])
                m["yin_missed_voicing"] = summarise_ratio(g["missed"], g["offline_voiced"])
                m["yin_false_voicing"] = summarise_ratio(g["false_voiced"], g["frames"] - g["offline_voiced"])
        return {k: v for k, v in m.items() if v is not None}

    # 3. the original per-tier scores (check_thresholds reads "heldout")
    mtracks = [per[("master", i)]["f0"] for i in range(len(utts))]

    def agg(split: str, name: str | None) -> dict[str, Any]:
        idx = [i for i, u in enumerate(utts) if u.split == split]
        if not idx:
            return {}
        res: dict[str, Any] = {"utterances": len(idx),
                               "speakers": sorted({utts[i].speaker for i in idx}),
                               "seconds": round(sum(len(utts[i].x) for i in idx) / sr, 1),
                               "input_logmel_distance": float(np.mean([d_in[i] for i in idx]))}
        s_in = [rec["input"][i]["similarity"] for i in idx]
        s_m = [rec["master"][i]["similarity"] for i in idx]
        if s_in[0] is not None:
            res["sim_input"] = float(np.mean(s_in))
            res["sim_master"] = float(np.mean(s_m))
        else:
            res["identity_note"] = enc.error
        if name is None:
            return res
        d = [rec[name][i]["logmel_distance"] for i in idx]
        res["logmel_distance"] = float(np.mean(d))
        res["logmel_ratio"] = res["logmel_distance"] / max(res["input_logmel_distance"], 1e-9)
        cents, vd, nf = [], 0, 0
        for i in idx:
            e = f0_errors(mtracks[i], per[(name, i)]["f0"])
            cents.append(e["cents"])
            vd += e["voicing_disagree"]
            nf += e["frames"]
        c = np.concatenate(cents) if cents else np.array([])
        res["f0_median_cents"] = float(np.median(c)) if c.size else None
        res["f0_gross_fraction"] = float(np.mean(c > 100)) if c.size else None
        res["voicing_error"] = vd / max(nf, 1)
        if harvest:
            ch = [f0_errors(per[("master", i)]["f0_h"], per[(name, i)]["f0_h"])["cents"] for i in idx]
            ch_ = np.concatenate(ch) if ch else np.array([])
            res["f0_median_cents_harvest"] = float(np.median(ch_)) if ch_.size else None
            res["f0_gross_fraction_harvest"] = float(np.mean(ch_ > 100)) if ch_.size else None
        if "sim_input" in res:
            res["sim_tier"] = float(np.mean([rec[name][i]["similarity"] for i in idx]))
            gain = res["sim_master"] - res["sim_input"]
            res["identity_recovery"] = (res["sim_tier"] - res["sim_input"]) / gain \
                if abs(gain) > 1e-6 else None
            if abs(gain) <= 1e-6:
                res["identity_note"] = "master gains no similarity over the input"
        return res

    present = [s for s in SPLITS if any(u.split == s for u in utts)]
    notes: list[str] = []
    if not cohort:
        notes.append("identity_margin not measured: the cache has no cohort (voice TOML [qa] cohort)")
    if target is None:
        notes.append(f"speaker identity not measured: {enc.error}")
    result: dict[str, Any] = {
        "schema": "voiceskin-qa/2",
        "tracker": "Praat autocorrelation via parselmouth (5 ms, 50-800 Hz)"
                   + ("; *_harvest: pyworld.harvest" if harvest else ""),
        "speaker_encoder": "resemblyzer VoiceEncoder" if enc.available else enc.error,
        "recogniser": None, "dnsmos_model": None,
        "cohort": sorted(cohort) if cohort else [],
        "target_f0": {"mu": mu_t, "sigma": sd_t, "hz": math.exp(mu_t) if math.isfinite(mu_t) else None},
        "systems": systems, "notes": notes,
        "reference": {LEGACY_KEY[s]: agg(s, None) for s in present},
        "tiers": {}, "splits": {},
    }
    from .intelligibility import RECOGNISER
    from .naturalness import DNSMOS_MODEL

    result["recogniser"], result["dnsmos_model"] = RECOGNISER, DNSMOS_MODEL
    for split in present:
        idx = [i for i, u in enumerate(utts) if u.split == split]
        spk_all = sorted({utts[i].speaker for i in idx})
        li = [i for i in idx if i in listen]
        entry: dict[str, Any] = {
            "utterances": len(idx), "speakers_list": spk_all,
            "seconds": round(sum(len(utts[i].x) for i in idx) / sr, 1),
            "wer_scored": sum(1 for i in li if utts[i].text),
            "dnsmos_windows": sum(1 for (sp, _, s_, _) in dn if sp == split and s_ == "input"),
            "listen_utterances": len(li),
            "systems": {s: measures(idx, s, split, set(spk_all)) for s in systems},
            "speakers": {},
        }
        for spk in spk_all:
            si = [i for i in idx if utts[i].speaker == spk]
            entry["speakers"][spk] = {"utterances": len(si),
                                      "wer_scored": sum(1 for i in si if i in listen and utts[i].text),
                                      **{s: measures(si, s, split, {spk}) for s in systems}}
        result["splits"][split] = entry
    for ti, name in enumerate(tier_names):
        st = students[name]
        from .student import tier_cost

        cost = tier_cost(st)
        c = st.cfg
        r: dict[str, Any] = {**{LEGACY_KEY[s]: agg(s, name) for s in present},
                             "parameters": cost["parameter_count"],
                             "flops_per_second": cost["flops_per_second"],
                             "algorithmic_latency_ms": round(1000 * (c.hop + c.lookahead) / c.sample_rate, 2)}
        if bundle_bytes is not None:
            step(f"native cost of {name}")
            try:
                r.update(native_cost(bundle_bytes, ti))
            except Exception as exc:  # noqa: BLE001 - report, do not crash QA
                r["native_error"] = f"{type(exc).__name__}: {exc}"
        result["tiers"][name] = r
    # examples for the report: a few test (else validation) utterances, one per speaker
    pool_split = "test" if "test" in present else ("validation" if "validation" in present else None)
    cands = [i for i, u in enumerate(utts) if u.split == pool_split]
    cands.sort(key=lambda i: (utts[i].text is None, i))
    chosen: list[int] = []
    for i in cands:
        if len(chosen) >= n_examples:
            break
        if utts[i].speaker not in {utts[j].speaker for j in chosen}:
            chosen.append(i)
    ex_list = []
    for k, i in enumerate(chosen):
        u = utts[i]
        scores = {}
        for s in systems:
            r = rec[s][i]
            w = r.get("words")
            dn_spk = [v["dnsmos_ovrl"] for (sp, spk, s_, _), v in dn.items()
                      if sp == pool_split and spk == u.speaker and s_ == s]
            scores[s] = {"wer": (w[0] / w[1]) if w and w[1] else None, "heard": r.get("hyp"),
                         "similarity": r.get("similarity"), "identity_margin": r.get("identity_margin"),
                         "target_rank": r.get("target_rank"), "envelope_error": r.get("envelope_error"),
                         "f0_mean_offset_cents": r.get("f0_mean_offset_cents"),
                         "speaker_dnsmos_ovrl": float(np.mean(dn_spk)) if dn_spk else None}
        ex_list.append({"id": f"ex{k:02d}", "split": pool_split, "speaker": u.speaker, "path": u.path,
                        "text": u.text, "seconds": round(len(u.x) / sr, 2), "scores": scores,
                        "audio": {s: sig(s, i) for s in systems}})
    result["example_sets"] = ex_list
    first = chosen[0] if chosen else next((i for i, u in enumerate(utts) if u.split == "validation"), 0)
    result["examples"] = {"input": utts[first].x, "master": utts[first].master,
                          **{n: outs[n][first] for n in tier_names}}
    timings["total"] = time.time() - t_start
    result["timings"] = {k: round(v, 1) for k, v in timings.items()}
    # CPU seconds per measure (workers' process time + the embeddings here):
    # what the QA costs whatever else the machine is doing
    cpu_s["embeddings"] = emb["cpu"]
    result["cpu_seconds"] = {k: round(v, 1) for k, v in sorted(cpu_s.items())}
    return result


def qa_table_rows(qa: dict[str, Any], split: str = "heldout") -> list[dict[str, Any]]:
    """Flat rows (one per tier) for printing."""
    rows = []
    for name, r in qa["tiers"].items():
        h = r.get(split, {})
        rows.append({"tier": name, "identity_recovery": h.get("identity_recovery"),
                     "f0_median_cents": h.get("f0_median_cents"),
                     "f0_gross_fraction": h.get("f0_gross_fraction"),
                     "voicing_error": h.get("voicing_error"),
                     "logmel_ratio": h.get("logmel_ratio"),
                     "parameters": r.get("parameters"),
                     "mflops_per_second": r.get("flops_per_second", 0) / 1e6,
                     "core_percent_48k": r.get("core_percent_48k"),
                     "failures": r.get("failures", [])})
    return rows


def listening_rows(qa: dict[str, Any], split: str,
                   keys: Sequence[str] | None = None) -> list[list[str]]:
    """Rows of strings (header first) of the listener-side table of one
    split: one row per system (input, master, tiers), each measure as
    ``value [lo, hi]``."""
    sp = (qa.get("splits") or {}).get(split)
    if not sp:
        return []
    ms = [m for m in MEASURES if keys is None or m[0] in keys]
    head = ["system"] + [m[1] for m in ms]
    rows = [head]
    for s, vals in sp["systems"].items():
        row = [s]
        for key, _, f, _ in ms:
            v = vals.get(key)
            row.append(format_interval(v, f))
        rows.append(row)
    return rows


def format_interval(v: dict[str, Any] | None, f: str, ci: bool = True) -> str:
    """``value [lo, hi]`` of a summarised measure (``—`` when absent)."""
    if not v or v.get("value") is None:
        return "—"
    s = f.format(v["value"])
    lo, hi = (v.get("ci95") or [None, None])
    if ci and lo is not None and hi is not None and v.get("n", 0) > 1:
        s += f" [{f.format(lo)}, {f.format(hi)}]"
    return s
