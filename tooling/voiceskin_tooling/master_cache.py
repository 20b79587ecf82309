"""The master converts the corpus **once per voice**: inputs, master
outputs, the student's pitch track (PITCH_MAP(PITCH_YIN), the runtime's
definition) and the master's intermediate features are stored in one cache
file that every tier learns from (:func:`build_cache`, :func:`load_cache`)."""
from __future__ import annotations

import hashlib
import json
import math
import multiprocessing as mp
import os
import random
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from .distill_common import DistillConfig, DistillInputError, _atomic_torch_save, _progress, voice_dir

__all__ = ["build_cache", "load_cache", "master_exposes_pitch", "pitch_spec_for"]

_PITCH_ATTRS = ("pitch_spec", "pitch_params", "pitch_map_params")


def master_exposes_pitch(master: Any) -> bool:
    """Whether the master hands the student its PITCH_MAP parameters."""
    return any(getattr(master, a, None) is not None for a in _PITCH_ATTRS)


def pitch_spec_for(master: Any, preset: Any = None) -> "Any":
    """The PITCH_YIN/PITCH_MAP parameters the student shares with the
    master. Masters that follow the streaming pitch definition expose them
    (``pitch_spec()`` / ``pitch_params``); otherwise the tier preset's YIN
    settings and neutral mapping statistics are used, and :func:`build_cache`
    fits the mapping's target statistics from the master's input/output
    pairs (:mod:`voiceskin_tooling.pitchfit`)."""
    from .student import PitchSpec

    spec = _yin_spec(master, preset)
    for attr in _PITCH_ATTRS:
        v = getattr(master, attr, None)
        if v is None:
            continue
        v = v() if callable(v) else v
        if isinstance(v, PitchSpec):
            return v
        d = v if isinstance(v, dict) else (asdict(v) if hasattr(v, "__dataclass_fields__") else vars(v))
        d = dict(d)
        for a, b in (("pitch_window", "frame"), ("window", "frame"), ("frame_length", "frame")):
            if a in d and "frame" not in d:
                d["frame"] = d[a]
        return PitchSpec.from_mapping({**asdict(spec), **d})
    return spec


def _yin_spec(master: Any, preset: Any) -> Any:
    """YIN settings: the master's when it tracks pitch with the runtime's
    causal YIN (``f0_method = "yin"``: then master and student share the
    tracker, not only the mapping), else the tier preset's."""
    from .student import PitchSpec

    spec = PitchSpec()
    cfg = master.config() if hasattr(master, "config") else {}
    if cfg.get("f0_method") == "yin":
        spec.frame = int(cfg.get("yin_frame", spec.frame))
        spec.fmin = float(cfg.get("f0_floor", spec.fmin))
        spec.fmax = float(cfg.get("f0_ceil", spec.fmax))
        spec.threshold = float(cfg.get("yin_threshold", spec.threshold))
    elif preset is not None:
        spec.frame = int(getattr(preset, "pitch_window", spec.frame))
        spec.fmin = float(getattr(preset, "fmin", spec.fmin))
        spec.fmax = float(getattr(preset, "fmax", spec.fmax))
    return spec


def _select(entries: list[Any], max_seconds: float | None, seed: int) -> list[Any]:
    """A deterministic subset of corpus entries, spread over speakers."""
    if max_seconds is None or sum(e.seconds for e in entries) <= max_seconds:
        return list(entries)
    rng = random.Random(seed)
    by_spk: dict[str, list[Any]] = {}
    for e in entries:
        by_spk.setdefault(e.speaker, []).append(e)
    for v in by_spk.values():
        rng.shuffle(v)
    out, total = [], 0.0
    while total < max_seconds and any(by_spk.values()):
        for spk in sorted(by_spk):
            if by_spk[spk] and total < max_seconds:
                e = by_spk[spk].pop()
                out.append(e)
                total += e.seconds
    return sorted(out, key=lambda e: e.path)


def _corpus_for(cfg: DistillConfig, voice: Any) -> Any:
    from .corpus import build_corpus, load_manifest

    if cfg.corpus:
        return load_manifest(cfg.corpus)
    if voice.corpus is None:
        raise DistillInputError(f"{voice.path}: no [corpus] in the voice and no --corpus given")
    ins = [Path(p) for p in voice.corpus.inputs]
    if len(ins) == 1 and (ins[0] / "manifest.json").is_file():
        return load_manifest(ins[0])
    out = voice_dir(cfg, voice.id) / "corpus"
    m = load_manifest(out) if (out / "manifest.json").is_file() else None
    want_test = sorted(voice.corpus.test_speakers or [])
    want_val = voice.corpus.validation_speakers
    if m is not None and sorted(m.test_speakers) == want_test and m.version >= 2 and \
            (want_val is None or sorted(m.validation_speakers) == sorted(want_val)):
        return m
    return build_corpus(ins, out, sample_rate=16000, chunk_seconds=voice.corpus.chunk_seconds,
                        validation_speakers=want_val, test_speakers=want_test,
                        heldout_fraction=voice.corpus.heldout_fraction)


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(np.exp(rng.uniform(math.log(bounds[0]), math.log(bounds[1]))))


_WORKER_MASTER: Any = None


def _convert_one(args: tuple[np.ndarray, int, int, tuple[float, float, float] | None]
                 ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """(input, master output at model_sr, master features); the input is
    first perturbed when a (f0 scale, formant scale, gain dB) is given."""
    audio, sr, model_sr, aug = args
    from .masters.base import resample

    if aug is not None:
        from .corpus_gen import perturb

        f0s, fs, gain_db = aug
        audio = perturb(np.asarray(audio, np.float32), sr, f0s, fs, f0_method="dio")
        audio = np.clip(audio * np.float32(10 ** (gain_db / 20)), -1.0, 1.0).astype(np.float32)
    out = _WORKER_MASTER.convert(audio, sr)
    y = resample(np.asarray(out.audio, np.float32), int(out.sample_rate), model_sr)
    feats = {k: np.asarray(v, np.float32) for k, v in (out.features or {}).items()
             if np.ndim(v) == 2}
    feats["_hop"] = np.array([out.hop * model_sr / out.sample_rate], np.float32)
    if not feats.keys() - {"_hop"}:  # a black box: read its envelope from its audio
        from .audio_features import audio_features
        from .student import StudentConfig

        hop = StudentConfig().hop
        feats = {**audio_features(y, model_sr, hop), "_hop": np.array([float(hop)], np.float32),
                 "_read_from_audio": np.array([1.0], np.float32)}
    return audio, y, feats


def _init_worker(master: Any) -> None:
    global _WORKER_MASTER
    import torch

    torch.set_num_threads(1)
    _WORKER_MASTER = master


def build_cache(cfg: DistillConfig, voice: Any, console: Any = None, convert: Any = None) -> Path:
    """Fits the master and converts the corpus once; returns the cache file
    (reused when master, corpus selection and pitch definition match).
    ``convert(master, tasks)``, when given, yields :func:`_convert_one`'s
    result for every task, in order, instead of the local processes
    (``voiceskin_tooling.cluster``: Ray tasks over chunks)."""
    import torch

    from .masters.base import resample
    from .student import StudentConfig, pitch_track

    seed = cfg.seed if cfg.seed is not None else voice.training.seed
    augment = cfg.augment if cfg.augment is not None else voice.training.augment
    master = voice.make_master()
    from .trainplan import MODEL_SAMPLE_RATE

    model_sr = MODEL_SAMPLE_RATE
    refs, ref_sr = voice.load_reference_audio()  # bad reference audio fails before any work
    master.fit(refs, ref_sr)
    manifest = _corpus_for(cfg, voice)
    train = _select(manifest.train, cfg.max_train_seconds, seed)
    held = _select(manifest.validation, cfg.max_heldout_seconds, seed)
    test = _select(manifest.test, cfg.max_test_seconds, seed)
    seen_qa = _select(train, cfg.max_seen_qa_seconds, seed + 1)
    if not train:
        raise DistillInputError(f"corpus {manifest.root} has no training speech")
    if not held:
        raise DistillInputError(f"corpus {manifest.root} has no validation (held-out) speakers (QA needs them)")
    cohort_names = list(getattr(voice, "cohort", []) or [])
    missing = [s for s in cohort_names if s not in manifest.speakers]
    if missing:
        raise DistillInputError(f"{voice.path}: [qa] cohort speaker(s) {missing} are not in corpus {manifest.root} "
                           f"(speakers: {', '.join(manifest.speakers)})")
    bad = [s for s in cohort_names if s in manifest.test_speakers]
    if bad:
        raise DistillInputError(f"{voice.path}: [qa] cohort names test speaker(s) {bad}; test speakers are never "
                           "used for a choice")
    cohort_entries = {s: _select([e for e in manifest.entries if e.speaker == s], cfg.max_cohort_seconds, seed)
                      for s in cohort_names}

    preset = voice.tiers[0].preset
    pitch = pitch_spec_for(master, preset)
    key_src = json.dumps({"master": master.fingerprint(), "pitch": asdict(pitch),
                          "train": [e.path for e in train], "held": [e.path for e in held],
                          "test": [e.path for e in test],
                          "cohort": {s: [e.path for e in es] for s, es in cohort_entries.items()},
                          "text": [[e.text, e.language] for e in train + held + test],
                          "corpus": str(manifest.root.resolve()), "sr": model_sr, "v": 6,
                          "augment": [augment, cfg.augment_f0, cfg.augment_formant,
                                      cfg.augment_gain_db]},
                         sort_keys=True)
    key = hashlib.sha256(key_src.encode()).hexdigest()[:16]
    path = voice_dir(cfg, voice.id) / "cache" / f"master-{key}.pt"
    if path.is_file():
        return path

    # test utterances are converted too: QA only, never trained on (_Segments takes split "train" only)
    entries = [(e, "train", None) for e in train] + [(e, "validation", None) for e in held] \
        + [(e, "test", None) for e in test]
    arng = np.random.default_rng(seed + 7)
    for _ in range(augment):
        for e in train:
            f0s = _log_uniform(arng, cfg.augment_f0)
            fs = _log_uniform(arng, cfg.augment_formant)
            entries.append((e, "train", (f0s, fs, float(arng.uniform(*cfg.augment_gain_db)))))
    tasks = [(manifest.load(e), manifest.sample_rate, model_sr, aug) for e, _, aug in entries]
    jobs = max(1, cfg.jobs)
    t0 = time.time()
    prog = _progress(cfg, console)
    with prog:
        task = prog.add_task(f"{voice.id}: master converts {len(tasks)} chunks", total=len(tasks), info="")
        results: list[Any] = []
        if convert is not None:
            for r in convert(master, tasks):
                results.append(r)
                prog.advance(task)
        elif jobs > 1:
            ctx = mp.get_context("fork")
            with ctx.Pool(jobs, initializer=_init_worker, initargs=(master,)) as pool:
                for r in pool.imap(_convert_one, tasks):
                    results.append(r)
                    prog.advance(task)
        else:
            _init_worker(master)
            torch.set_num_threads(max(1, os.cpu_count() or 1))
            for t in tasks:
                results.append(_convert_one(t))
                prog.advance(task)
    pitch_fit = None
    if not master_exposes_pitch(master):  # audio-only master: fit PITCH_MAP from its pairs
        from .pitchfit import fit_pitch_from_pairs

        pairs = [(resample(a, manifest.sample_rate, model_sr), y)
                 for (_, split, _), (a, y, _) in zip(entries, results) if split == "train"]
        pitch, pitch_fit = fit_pitch_from_pairs(pitch, pairs, model_sr, StudentConfig().hop)
        if console is not None:
            console.log(f"{voice.id}: master exposes no pitch definition; PITCH_MAP fitted from "
                        f"its input/output pairs: {pitch_fit}")
    scfg = StudentConfig(pitch=pitch)
    utts = []
    for (e, split, aug), (a, y, feats) in zip(entries, results):
        x = resample(a, manifest.sample_rate, model_sr)
        n = min(len(x), len(y)) // scfg.hop * scfg.hop
        x, y = x[:n], y[:n]
        f0, v = pitch_track(torch.from_numpy(x), scfg)
        tag = "" if aug is None else "+aug(f0 x{:.2f}, formants x{:.2f}, {:+.1f} dB)".format(*aug)
        utts.append({"path": e.path + tag, "speaker": e.speaker + ("+aug" if aug else ""),
                     "split": split, "augmented": aug is not None,
                     "text": None if aug is not None else e.text, "language": e.language,
                     "seen_qa": split == "train" and aug is None and e in seen_qa,
                     "input": torch.from_numpy(x.copy()), "master": torch.from_numpy(y.copy()),
                     "f0": f0.float(), "voicing": v.float(),
                     "features": {k: torch.from_numpy(v2) for k, v2 in feats.items()}})
    refs16 = [resample(r, ref_sr, model_sr) for r in refs]
    # the identity cohort ([qa] cohort): {speaker: [16 kHz float32 tensors]}
    cohort = {s: [torch.from_numpy(resample(manifest.load(e), manifest.sample_rate, model_sr).astype(np.float32))
                  for e in es] for s, es in cohort_entries.items()}
    _atomic_torch_save({"key": key, "pitch": asdict(pitch), "pitch_fit": pitch_fit,
                        "master": master.config(),
                        "master_name": voice.master.name, "sample_rate": model_sr,
                        "utts": utts, "reference": [torch.from_numpy(r) for r in refs16],
                        "cohort": cohort,
                        "master_seconds": time.time() - t0}, path)
    return path


def load_cache(path: str | Path) -> dict[str, Any]:
    import torch

    return torch.load(path, weights_only=False)
