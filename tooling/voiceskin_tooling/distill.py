"""Distil a master into one small streaming student per quality tier.

Read top to bottom:

1. :class:`DistillConfig` — every knob in one dataclass.
2. :func:`build_cache` — the master converts the corpus **once per voice**;
   inputs, master outputs, the student's pitch track (PITCH_MAP(PITCH_YIN),
   the runtime's definition) and the master's intermediate features are
   stored on disk. Every tier learns from the same cache.
3. :func:`train_tier` — the one training loop: random short segments, the
   student's audio against the master's (multi-resolution STFT loss), plus
   optional layer-to-layer losses through prediction heads
   (:mod:`voiceskin_tooling.kd`). Pitch is exact by construction, so it is not
   a loss. The loop stops at ``steps`` or at the wall-clock budget, whichever
   comes first; the learning-rate schedule follows the same progress.
4. :func:`distill` — cache, then every (voice, tier) job in ``jobs`` worker
   processes with rich progress bars, then QA per tier (``qa.py``), the JSON +
   HTML report, and a loud failure when a tier misses its bars.
"""
from __future__ import annotations

import hashlib
import json
import math
import multiprocessing as mp
import os
import queue
import random
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

__all__ = ["DistillConfig", "DistillError", "build_cache", "load_cache", "train_tier", "run_qa",
           "distill", "load_student", "tier_checkpoint", "voice_dir"]


class DistillError(RuntimeError):
    """Distillation could not run (bad input) or a tier missed its QA bars."""


# --------------------------------------------------------------- 1. config


@dataclass
class DistillConfig:
    voice: str                              # voice TOML
    out_dir: str = "out"                    # everything goes under out_dir/<voice id>/
    corpus: str | None = None               # a built corpus (manifest.json); default: the voice's [corpus]
    tiers: list[str] | None = None          # subset of the voice's tiers (default all)
    # training (None = take the voice TOML's [training] value)
    steps: int | None = None
    batch_size: int | None = None
    segment_seconds: float | None = None
    learning_rate: float | None = None
    weight_decay: float = 1e-4              # AdamW's decoupled weight decay
    # formant post-filter fitted after training (student.fold_postfilter):
    # restores the master's envelope contrast, measured over ±width Hz
    postfilter: bool = True
    postfilter_width_hz: float = 375.0
    postfilter_max_beta: float = 1.0        # an under-trained, flat student is not sharpened past this
    time_budget_s: float | None = None      # wall clock per tier (None: voice max_minutes or none)
    warmup_frames: int = 24                 # recurrent warm-up excluded from the loss
    fft_sizes: tuple[int, ...] = (1024, 512, 256, 128)
    kd_weight: float = 0.1                  # layer-to-layer losses (0 = off)
    kd_pairs: tuple[tuple[str, str], ...] = (("gru", "*"),)  # (student layer, teacher feature|*)
    device: str | None = None               # "auto" | "cpu" | "cuda" (None: the voice's)
    seed: int | None = None
    # speaker augmentation: each training chunk also enters the cache as
    # ``augment`` WORLD-perturbed copies (random F0 and formant scale, log-
    # uniform in the ranges; random gain), each converted by the master —
    # more "speakers" for the student to generalise from
    augment: int | None = None              # None: the voice's [training] augment
    augment_f0: tuple[float, float] = (0.7, 1.7)
    augment_formant: tuple[float, float] = (0.87, 1.18)
    augment_gain_db: tuple[float, float] = (-10.0, 6.0)
    # corpus limits (keep the master's one-off cost bounded)
    max_train_seconds: float | None = None
    max_heldout_seconds: float | None = 120.0   # the validation split (older name: held-out)
    max_test_seconds: float | None = None       # the test split (QA only; None: all of it)
    max_seen_qa_seconds: float = 30.0
    max_cohort_seconds: float = 30.0            # per identity-cohort speaker ([qa] cohort)
    # parallelism
    jobs: int = 1                           # worker processes (voices x tiers)
    threads: int = 1                        # torch threads per worker (small models: 1 is fastest)
    # after training
    qa: bool = True
    fail_on_qa: bool = True
    # QA: utterances per split (validation, test) that get WER and DNSMOS,
    # the costly measures (None: all); every other QA measure uses all
    qa_listen_max_per_split: int | None = None
    # QA also scores each tier without its formant post-filter ("<tier>-nopf")
    qa_without_postfilter: bool = True
    progress: bool = True


def voice_dir(cfg: DistillConfig, voice_id: str) -> Path:
    return Path(cfg.out_dir) / voice_id


def tier_checkpoint(cfg: DistillConfig, voice_id: str, tier: str) -> Path:
    return voice_dir(cfg, voice_id) / "tiers" / f"{tier}.pt"


def _resolve_device(name: str) -> str:
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise DistillError("device 'cuda' requested but CUDA is not available")
    return name


def _atomic_torch_save(obj: Any, path: Path) -> None:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# ---------------------------------------------------------------- 2. cache


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
        raise DistillError(f"{voice.path}: no [corpus] in the voice and no --corpus given")
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
    from .student import StudentConfig, config_from_tier, pitch_track

    seed = cfg.seed if cfg.seed is not None else voice.training.seed
    augment = cfg.augment if cfg.augment is not None else voice.training.augment
    master = voice.make_master()
    model_sr = 16000
    refs, ref_sr = voice.load_reference_audio()  # bad reference audio fails before any work
    master.fit(refs, ref_sr)
    manifest = _corpus_for(cfg, voice)
    train = _select(manifest.train, cfg.max_train_seconds, seed)
    held = _select(manifest.validation, cfg.max_heldout_seconds, seed)
    test = _select(manifest.test, cfg.max_test_seconds, seed)
    seen_qa = _select(train, cfg.max_seen_qa_seconds, seed + 1)
    if not train:
        raise DistillError(f"corpus {manifest.root} has no training speech")
    if not held:
        raise DistillError(f"corpus {manifest.root} has no validation (held-out) speakers (QA needs them)")
    cohort_names = list(getattr(voice, "cohort", []) or [])
    missing = [s for s in cohort_names if s not in manifest.speakers]
    if missing:
        raise DistillError(f"{voice.path}: [qa] cohort speaker(s) {missing} are not in corpus {manifest.root} "
                           f"(speakers: {', '.join(manifest.speakers)})")
    bad = [s for s in cohort_names if s in manifest.test_speakers]
    if bad:
        raise DistillError(f"{voice.path}: [qa] cohort names test speaker(s) {bad}; test speakers are never "
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
                          "corpus": str(manifest.root.resolve()), "sr": model_sr, "v": 5,
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


# ----------------------------------------------------------- 3. training


def _teacher_frames(start: int, n: int, hop: int, lookahead: int, thop: float, frames: int) -> Any:
    """Teacher frame index for student steps start..start+n−1: teacher frame i
    is centred on sample i·thop; student step t ends at (t+1)·hop and speaks
    for the master ``lookahead`` samples earlier."""
    import torch

    ends = (torch.arange(start, start + n) + 1) * hop - lookahead
    return torch.clamp(torch.round(ends / thop).long(), 0, frames - 1)


class _Segments:
    """Random fixed-length segments of (features, f0, voicing, master audio,
    teacher features) from the cache's training utterances."""

    def __init__(self, utts: list[dict[str, Any]], scfg: Any, seg_frames: int,
                 device: str, rng: np.random.Generator) -> None:
        from .student import frontend

        leak = sorted({str(u.get("split")) for u in utts} - {"train"})
        if leak:  # validation and test speech is QA only: never a training batch
            raise DistillError(f"training segments must come from split 'train' only, got {leak}")
        self.hop = scfg.hop
        self.lookahead = scfg.lookahead  # the student outputs the master this many samples late
        self.vthreshold = scfg.pitch.vthreshold
        self.rmeans: list[Any] | None = None
        self.L = seg_frames
        self.device = device
        self.rng = rng
        self.items = []
        for u in utts:
            if u["input"].numel() < (seg_frames + 1 + scfg.lookahead_steps) * scfg.hop:
                continue
            fe = frontend(u["input"].numpy(), scfg, (u["f0"], u["voicing"]))
            feats = {k: v for k, v in u["features"].items() if not k.startswith("_")}
            thop = float(u["features"].get("_hop", np.array([scfg.hop]))[0])
            self.items.append((fe, u["master"], feats, thop))
        if not self.items:
            raise DistillError(f"no training chunk is longer than a segment ({seg_frames} frames)")
        self.weights = np.array([it[0].f0.numel() for it in self.items], np.float64)
        self.weights /= self.weights.sum()

    def feature_stats(self) -> tuple[Any, Any, Any]:
        """(mean, std, voiced mean) of the log-mel features over the corpus;
        the voiced mean is the RUNNING_MEAN prior."""
        import torch

        allm = torch.cat([it[0].logmel for it in self.items], 0)
        voiced = torch.cat([it[0].voicing for it in self.items], 0) >= self.vthreshold
        prior = allm[voiced].mean(0) if bool(voiced.any()) else allm.mean(0)
        return allm.mean(0), allm.std(0).clamp(min=1e-3), prior

    def set_running_means(self, model: Any) -> None:
        """Precomputes each utterance's RUNNING_MEAN from its first step (as
        the master's own running statistics start there); segments slice it."""
        self.rmeans = [model.running_mean(fe.logmel, fe.voicing) for fe, *_ in self.items]

    def teacher_dims(self) -> dict[str, int]:
        return {k: int(v.shape[-1]) for k, v in self.items[0][2].items()}

    def batch(self, n: int) -> dict[str, Any]:
        import torch

        idx = self.rng.choice(len(self.items), size=n, p=self.weights)
        lm, rm, f0, vo, y, tf = [], [], [], [], [], {}
        D = self.lookahead
        for i in idx:
            fe, m, feats, thop = self.items[i]
            T = fe.f0.numel()
            s = int(self.rng.integers(D // self.hop, T - self.L))
            lm.append(fe.logmel[s:s + self.L])
            if self.rmeans is not None:
                rm.append(self.rmeans[i][s:s + self.L])
            f0.append(fe.f0[s:s + self.L])
            vo.append(fe.voicing[s:s + self.L])
            y.append(m[s * self.hop - D:(s + self.L) * self.hop - D])
            for k, v in feats.items():
                tf.setdefault(k, []).append(v[_teacher_frames(s, self.L, self.hop, D, thop, v.shape[0])])
        d = self.device
        return {"logmel": torch.stack(lm).to(d), "f0": torch.stack(f0).to(d),
                "rmean": torch.stack(rm).to(d) if rm else None,
                "voicing": torch.stack(vo).to(d), "target": torch.stack(y).to(d),
                "teacher": {k: torch.stack(v).to(d) for k, v in tf.items()}}


def _kd_config(cfg: DistillConfig, teacher_dims: dict[str, int]) -> Any:
    from .kd import DistillationConfig, L1CosineLoss, StaticLossBalancer

    crit = {}
    for s, t in cfg.kd_pairs:
        for name in (sorted(teacher_dims) if t == "*" else [t]):
            if name in teacher_dims:
                crit[(s, name)] = L1CosineLoss()
    if not crit or cfg.kd_weight <= 0:
        return None
    return DistillationConfig(criterion=crit,
                              loss_balancer=StaticLossBalancer(kd_loss_weight=cfg.kd_weight))


def _target_logmel_mean(cache: dict[str, Any], scfg: Any) -> Any:
    """Mean log-mel of the target's reference audio over voiced steps."""
    import torch

    from .student import frontend

    fes = [frontend(r.numpy(), scfg) for r in cache.get("reference", [])]
    if not fes:
        raise DistillError("warp_grid needs the target's reference audio in the cache")
    lm = torch.cat([f.logmel for f in fes], 0)
    v = torch.cat([f.voicing for f in fes], 0) >= scfg.pitch.vthreshold
    return lm[v].mean(0) if bool(v.any()) else lm.mean(0)


def fit_postfilter(model: Any, data: _Segments, width_hz: float, max_utts: int = 48,
                   max_beta: float = 1.0) -> dict[str, Any]:
    """Fits and folds the formant post-filter (``Student.fold_postfilter``):
    β such that the student's log harmonic envelope on the training
    utterances (voiced steps, resampled to the master's envelope grid) is as
    sharp (``envelope_contrast``) as the master's ``log_env`` feature at the
    same instants. β stays 0 when the student is already as sharp, or when
    the master exposes no envelope, and stops at ``max_beta`` (a barely
    trained student's flat envelope would only have its noise amplified).
    Returns what it measured."""
    import torch

    from .student import delay_steps, envelope_contrast, exp_sigmoid, postfilter_matrix

    c = model.cfg
    out: dict[str, Any] = {"beta": 0.0, "width_hz": width_hz}
    items = [(i, it) for i, it in enumerate(data.items) if "log_env" in it[2]]
    if not items:
        out["skipped"] = "the master exposes no log_env feature"
        return out
    items = items[:: max(1, len(items) // max_utts)][:max_utts]
    pre, master = [], []
    with torch.no_grad():
        for i, (fe, _, feats, thop) in items:
            rmean = data.rmeans[i][None] if data.rmeans is not None else None
            hp, _ = model.head_preactivations(fe.logmel[None], fe.f0[None], fe.voicing[None], rmean=rmean)
            voiced = delay_steps(fe.voicing[None], c.lookahead_steps)[0] >= c.pitch.vthreshold
            env = feats["log_env"]
            j = _teacher_frames(0, hp.shape[1], c.hop, c.lookahead, thop, env.shape[0])
            pre.append(hp[0][voiced].double().numpy())
            master.append(env[j][voiced].double().numpy())
    hp0, lm = np.concatenate(pre), np.concatenate(master)
    if len(hp0) == 0:
        out["skipped"] = "no voiced training steps"
        return out
    B, Bm, sr = c.harm_bins, lm.shape[1], c.sample_rate
    grid = np.linspace(0, sr / 2, Bm)
    # student bins → the master's envelope grid (linear interpolation)
    R = np.stack([np.interp(grid, np.linspace(0, sr / 2, B), e) for e in np.eye(B)], 1)  # [Bm, B]

    def contrast(beta: float) -> float:
        h = hp0 @ postfilter_matrix(B, sr, beta, width_hz).T
        le = torch.log(exp_sigmoid(torch.from_numpy(h))).numpy() @ R.T
        return envelope_contrast(le, sr, width_hz)

    target, before = envelope_contrast(lm, sr, width_hz), contrast(0.0)
    out.update(contrast_master=round(target, 5), contrast_before=round(before, 5))
    lo, hi = 0.0, max_beta
    if before < target:
        if contrast(hi) <= target:
            lo = hi
        else:
            for _ in range(30):   # contrast grows with β: bisection
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if contrast(mid) < target else (lo, mid)
        out["beta"] = round(lo, 4)
        model.fold_postfilter(out["beta"], width_hz)
    out["contrast_after"] = round(contrast(out["beta"]), 5)
    return out


def train_tier(cfg: DistillConfig, cache_path: str | Path, voice: Any, tier_name: str,
               report: Any = None) -> dict[str, Any]:
    """Trains one tier's student on the cache; saves its checkpoint and
    returns {"checkpoint", "steps", "seconds", "curve", ...}."""
    import torch

    from .kd import LayerDistiller, MultiResolutionSTFTLoss
    from .student import PitchSpec, Student, config_from_tier

    tb = voice.training
    steps = cfg.steps if cfg.steps is not None else tb.steps
    bs = cfg.batch_size or tb.batch_size
    seg_s = cfg.segment_seconds or tb.segment_seconds
    lr = cfg.learning_rate or tb.learning_rate
    seed = cfg.seed if cfg.seed is not None else tb.seed
    budget = cfg.time_budget_s if cfg.time_budget_s is not None else (tb.max_minutes * 60 or None)
    device = _resolve_device(cfg.device or tb.device)
    torch.manual_seed(seed)
    torch.set_flush_denormal(True)
    rng = np.random.default_rng(seed)

    cache = load_cache(cache_path)
    tier = voice.tier(tier_name)
    scfg = config_from_tier(tier.preset, PitchSpec.from_mapping(cache["pitch"]))
    scfg.sample_rate = int(cache["sample_rate"])
    master_range = (cache.get("master") or {}).get("warp_range")
    if master_range is not None:  # the student picks α from the master's own factors
        scfg.warp_range = (float(master_range[0]), float(master_range[1]))
    seg_frames = max(cfg.warmup_frames + 8, int(round(seg_s * scfg.sample_rate / scfg.hop)))
    data = _Segments([u for u in cache["utts"] if u["split"] == "train"], scfg, seg_frames,
                     device, rng)
    model = Student(scfg).to(device)
    mean, std, prior = data.feature_stats()
    model.feat_mean.copy_(mean)
    model.feat_std.copy_(std)
    model.norm_prior.copy_(prior)
    if scfg.norm_tau > 0:
        data.set_running_means(model)
    if scfg.warp_grid:
        model.set_warp_target(_target_logmel_mean(cache, scfg))
    stft_loss = MultiResolutionSTFTLoss(cfg.fft_sizes).to(device)
    kd_cfg = _kd_config(cfg, data.teacher_dims())
    distiller = None
    params = list(model.parameters())
    if kd_cfg is not None:
        b = data.batch(2)
        _, hid = model(b["logmel"], b["f0"], b["voicing"], return_hidden=True, rmean=b["rmean"])
        distiller = LayerDistiller(kd_cfg).build(hid, b["teacher"]).to(device)
        params += list(distiller.parameters())
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=cfg.weight_decay)

    w0 = cfg.warmup_frames * scfg.hop
    curve: list[tuple[int, float, float]] = []
    t0 = time.time()
    step, ema = 0, None
    while step < steps:
        elapsed = time.time() - t0
        if budget is not None and elapsed >= budget:
            break
        progress = max(step / steps, elapsed / budget if budget else 0.0)
        for g in opt.param_groups:   # linear warm-up, cosine decay to 5%
            g["lr"] = lr * min(1.0, (step + 1) / 50) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))
        b = data.batch(bs)
        y, hid = model(b["logmel"], b["f0"], b["voicing"], return_hidden=True,
                       rmean=b["rmean"])
        loss_main = stft_loss(y[:, w0:], b["target"][:, w0:])
        if distiller is not None:
            w = cfg.warmup_frames
            loss, _ = distiller.compute_kd_loss({k: v[:, w:] for k, v in hid.items()},
                                                {k: v[:, w:] for k, v in b["teacher"].items()},
                                                student_loss=loss_main)
        else:
            loss = loss_main
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 2.0)
        opt.step()
        step += 1
        lm = float(loss_main.detach())
        ema = lm if ema is None else 0.95 * ema + 0.05 * lm
        if step % 10 == 0 or step == 1:
            curve.append((step, round(time.time() - t0, 2), round(lm, 4)))
            if report is not None:
                report(step, steps, time.time() - t0, budget, ema)
    seconds = time.time() - t0
    model = model.cpu().eval()
    audio_s = step * bs * seg_frames * scfg.hop / scfg.sample_rate
    info = {"tier": tier_name, "steps": step, "seconds": round(seconds, 2), "device": device,
            "batch_size": bs, "segment_frames": seg_frames,
            "audio_seconds_trained": round(audio_s, 1),
            "audio_seconds_per_second": round(audio_s / max(seconds, 1e-9), 1),
            "final_loss": round(ema or float("nan"), 4), "curve": curve,
            "kd_pairs": sorted(distiller.heads.keys()) if distiller else []}
    if cfg.postfilter:
        info["postfilter"] = fit_postfilter(model, data, cfg.postfilter_width_hz,
                                            max_beta=cfg.postfilter_max_beta)
    ckpt = tier_checkpoint(cfg, voice.id, tier_name)
    _atomic_torch_save({"config": scfg.to_dict(), "state": model.state_dict(), "train": info,
                        "cache": str(cache_path)}, ckpt)
    info["checkpoint"] = str(ckpt)
    return info


def load_student(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """(Student in eval mode, checkpoint dict) from a tier checkpoint."""
    import torch

    from .student import Student, StudentConfig

    ck = torch.load(path, weights_only=False, map_location="cpu")
    model = Student(StudentConfig.from_dict(ck["config"]))
    model.load_state_dict(ck["state"])
    return model.eval(), ck


# ------------------------------------------------------------ 4. driver


def _progress(cfg: DistillConfig, console: Any = None) -> Any:
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                    console=console, disable=not cfg.progress, transient=False)


def _job(args: tuple[DistillConfig, str, str, str, int, Any]) -> dict[str, Any]:
    cfg, voice_path, cache_path, tier, threads, q = args
    import torch

    from .voicedef import load_voice

    torch.set_num_threads(threads)
    voice = load_voice(voice_path)
    key = f"{voice.id}/{tier}"

    def report(step: int, steps: int, el: float, budget: float | None, loss: float) -> None:
        if q is not None:
            q.put((key, step, steps, el, budget, loss))

    return train_tier(cfg, cache_path, voice, tier, report)


def distill(cfg: DistillConfig, voices: Sequence[str] | None = None,
            console: Any = None) -> dict[str, Any]:
    """Runs the whole distillation for ``cfg.voice`` (or several ``voices``):
    cache, training of every tier, QA and report. Returns the summary; raises
    :class:`DistillError` when a tier misses its QA bars (``fail_on_qa``)."""
    import torch
    from rich.console import Console

    from .voicedef import load_voice

    console = console or Console(stderr=True)
    paths = list(voices) if voices else [cfg.voice]
    loaded = [load_voice(p) for p in paths]
    t_start = time.time()
    jobs: list[tuple[Any, str, str]] = []
    caches: dict[str, str] = {}
    for v in loaded:
        names = [t.name for t in v.tiers]
        if cfg.tiers:
            bad = [t for t in cfg.tiers if t not in names]
            if bad:
                raise DistillError(f"voice {v.id!r} has no tier(s) {bad}; tiers: {names}")
            names = [t for t in names if t in cfg.tiers]
        console.log(f"[bold]{v.id}[/]: master {v.master.name!r}, corpus → master outputs (cached)")
        caches[v.id] = str(build_cache(cfg, v, console))
        for t in names:
            jobs.append((v, t, caches[v.id]))
    cache_s = time.time() - t_start

    n = max(1, min(cfg.jobs, len(jobs)))
    cores = os.cpu_count() or 1
    threads = cfg.threads or max(1, cores // n)
    results: list[dict[str, Any]] = []
    prog = _progress(cfg, console)
    tasks: dict[str, Any] = {}
    t_train = time.time()
    with prog:
        for v, t, _ in jobs:
            tasks[f"{v.id}/{t}"] = prog.add_task(f"train {v.id}/{t}", total=None, info="")
        if n == 1:
            torch.set_num_threads(threads)
            for v, t, c in jobs:
                key = f"{v.id}/{t}"

                def rep(step: int, steps: int, el: float, budget: float | None, loss: float,
                        key: str = key) -> None:
                    _update(prog, tasks[key], step, steps, el, budget, loss)

                info = train_tier(cfg, c, v, t, rep)
                prog.update(tasks[key], info=f"loss {info['final_loss']:.3f} · done")
                results.append({"voice": v.id, **info})
        else:
            ctx = mp.get_context("spawn")
            with ctx.Manager() as mgr:
                q = mgr.Queue()
                with ctx.Pool(n) as pool:
                    asyncs = [(v.id, pool.apply_async(_job, ((cfg, str(v.path), c, t, threads, q),)))
                              for v, t, c in jobs]
                    while not all(a.ready() for _, a in asyncs):
                        try:
                            key, step, steps, el, budget, loss = q.get(timeout=0.5)
                        except queue.Empty:
                            continue
                        _update(prog, tasks[key], step, steps, el, budget, loss)
                    for vid, a in asyncs:
                        info = a.get()
                        prog.update(tasks[f"{vid}/{info['tier']}"],
                                    info=f"loss {info['final_loss']:.3f} · done")
                        results.append({"voice": vid, **info})
    train_s = time.time() - t_train
    summary: dict[str, Any] = {"voices": {}, "cache_seconds": round(cache_s, 1),
                               "train_seconds": round(train_s, 1)}
    failures: list[str] = []
    for v in loaded:
        rs = [r for r in results if r["voice"] == v.id]
        order = {t.name: i for i, t in enumerate(v.tiers)}
        rs.sort(key=lambda r: order[r["tier"]])
        vs: dict[str, Any] = {"voice": v.id, "display_name": v.display_name,
                              "version": v.version, "master": v.master.name,
                              "cache": caches[v.id], "cache_seconds": round(cache_s, 1),
                              "train_seconds": round(train_s, 1),
                              "training": {r["tier"]: {k: r[k] for k in r if k != "voice"} for r in rs}}
        if cfg.qa and rs:
            vs["qa"] = run_qa(cfg, v, [r["tier"] for r in rs], caches[v.id], console)
            failures += [f"{v.id}/{t}: {m}" for t, q in vs["qa"]["tiers"].items()
                         for m in q["failures"]]
        _write_json(voice_dir(cfg, v.id) / "distill.json", vs)
        if cfg.qa and rs:
            from .report import write_report

            vs["report"] = str(write_report(vs, voice_dir(cfg, v.id)))
        summary["voices"][v.id] = vs
    summary["total_seconds"] = round(time.time() - t_start, 1)
    summary["failures"] = failures
    if failures and cfg.fail_on_qa:
        raise DistillError("QA bars missed:\n  " + "\n  ".join(failures))
    return summary


def run_qa(cfg: DistillConfig, voice: Any, tiers: list[str], cache_path: str,
           console: Any = None) -> dict[str, Any]:
    """QA of the trained tiers (held-out and seen speakers) against the
    voice's bars; writes ``qa.json`` (and the example audio) next to the
    checkpoints and returns the QA dict (with ``failures`` per tier)."""
    from .pack import bundle_bytes
    from .qa import check_thresholds, qa_voice

    import copy

    from .listener_bars import check_listener_bars

    cache = load_cache(cache_path)
    students, variants = {}, {}
    for t in tiers:
        students[t], ckpt = load_student(tier_checkpoint(cfg, voice.id, t))
        pf = (ckpt.get("train") or {}).get("postfilter") or {}
        if cfg.qa_without_postfilter and pf.get("beta"):
            raw = copy.deepcopy(students[t])
            raw.unfold_postfilter(float(pf["beta"]), float(pf["width_hz"]))
            variants[f"{t}-nopf"] = raw
    try:
        blob = bundle_bytes(voice, students, qa=None)
    except Exception as exc:  # noqa: BLE001 - QA still runs without the native cost
        blob = None
        if console is not None:
            console.log(f"[yellow]native cost skipped: {exc}")

    def say(msg: str) -> None:
        if console is not None:
            console.log(f"QA {voice.id}: {msg}")

    t0 = time.time()
    q = qa_voice(cache, students, tiers, blob, jobs=max(1, os.cpu_count() or 1), progress=say,
                 listen_max_per_split=cfg.qa_listen_max_per_split, variants=variants)
    q["seconds"] = round(time.time() - t0, 1)
    q["listener_bars"] = check_listener_bars(q, tiers)
    for t in tiers:
        q["tiers"][t]["failures"] = check_thresholds(q["tiers"][t], voice.tier(t).qa, t, tiers)
    ex = q.pop("examples")
    vd = voice_dir(cfg, voice.id)
    _save_examples(vd / "examples", ex, int(cache["sample_rate"]))
    q["examples"] = _save_example_sets(vd / "examples", q.pop("example_sets", []),
                                       int(cache["sample_rate"]))
    _write_json(vd / "qa.json", q)
    return q


def _save_examples(folder: Path, ex: dict[str, np.ndarray], sr: int) -> None:
    from .corpus import write_audio_atomic

    for k, a in ex.items():
        write_audio_atomic(folder / f"{k}.wav", np.asarray(a, np.float32), sr)


def _save_example_sets(folder: Path, sets: list[dict[str, Any]], sr: int) -> list[dict[str, Any]]:
    """Writes each example's systems as ``<id>_<system>.wav`` (the report's
    side-by-side players) and returns the examples without audio."""
    out = []
    for e in sets:
        audio = e.pop("audio", {})
        files = {}
        for system, a in audio.items():
            name = f"{e['id']}_{system}.wav"
            _save_examples(folder, {name[:-4]: a}, sr)
            files[system] = name
        out.append({**e, "files": files})
    return out


def _update(prog: Any, task: Any, step: int, steps: int, el: float, budget: float | None,
            loss: float) -> None:
    if budget:  # the bar shows the binding limit: steps or wall time
        frac = max(step / steps, el / budget)
        prog.update(task, total=1000, completed=int(1000 * min(frac, 1.0)),
                    info=f"step {step} · loss {loss:.3f}")
    else:
        prog.update(task, total=steps, completed=step, info=f"loss {loss:.3f}")


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=_jdefault), encoding="utf-8")
    os.replace(tmp, path)


def _jdefault(o: Any) -> Any:
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    return str(o)
