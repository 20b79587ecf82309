"""What every stage of the distillation shares: :class:`DistillConfig`
(every knob in one dataclass), the error types, where files go, and the
small I/O helpers (atomic writes, progress bars).

Stages: :mod:`.master_cache` (the master converts the corpus once),
:mod:`.training` (one training loop per tier, its values resolved by
:mod:`.trainplan`), :mod:`.postfilter` (the formant post-filter fitted after
training), :mod:`.distill` (orchestration and QA).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

__all__ = ["DistillConfig", "DistillError", "DistillInputError", "QABarsMissed", "selected_tiers",
           "tier_checkpoint", "voice_dir"]

class DistillError(RuntimeError):
    """Distillation could not run (bad input) or a tier missed its QA bars:
    catch :class:`DistillInputError` or :class:`QABarsMissed` to tell them apart."""


class DistillInputError(DistillError):
    """Bad input: a voice, corpus or setting the distillation cannot use."""


class QABarsMissed(DistillError):
    """The distillation ran, and a tier missed its QA bars (``failures``)."""

    def __init__(self, failures: list[str]) -> None:
        super().__init__("QA bars missed:\n  " + "\n  ".join(failures))
        self.failures = list(failures)


def selected_tiers(voice: Any, wanted: Sequence[str] | None) -> list[str]:
    """The voice's tier names, in its order, kept to ``wanted`` (--tiers)
    when given; a wanted tier the voice lacks is a DistillInputError."""
    names = [t.name for t in voice.tiers]
    if not wanted:
        return names
    bad = [t for t in wanted if t not in names]
    if bad:
        raise DistillInputError(f"voice {voice.id!r} has no tier(s) {bad}; tiers: {names}")
    return [t for t in names if t in wanted]


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
    # pruned tiers (a preset with prune_target): the share of the steps that
    # learns the gates towards the target cost; the rest fine-tunes the
    # pruned student (voiceskin_tooling.prune)
    prune_fraction: float = 0.6
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
    max_heldout_seconds: float | None = 150.0   # the validation split (older name: held-out; the demo corpus has 139 s)
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
        raise DistillInputError("device 'cuda' requested but CUDA is not available")
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


def _progress(cfg: DistillConfig, console: Any = None) -> Any:
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                    console=console, disable=not cfg.progress, transient=False)


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
