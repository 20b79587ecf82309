"""One training plan: every value that trains one tier, in one frozen object.

A value comes from (first found wins) the command line / :class:`DistillConfig`
(``cli``), the voice TOML's ``[training]`` (``voice``) or the defaults below
(``default``). :func:`resolve` builds the plan, :func:`get_lr` is the
learning-rate schedule, and ``distill.json`` records the plan of every tier
(``training.<tier>.plan``) with where each value came from.

Model-side settings (network sizes, hop, lookahead) belong to the tier
preset (:mod:`.tiers`); the master's settings to ``[master.settings]``.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

__all__ = ["TrainPlan", "resolve", "get_lr", "MODEL_SAMPLE_RATE"]

#: the rate every student trains and runs its graph at; the runtime
#: resamples to and from the device's rate
MODEL_SAMPLE_RATE = 16000


@dataclass(frozen=True)
class TrainPlan:
    tier: str
    steps: int
    batch_size: int
    segment_seconds: float
    learning_rate: float
    seed: int
    device: str                       # "auto" | "cpu" | "cuda" (as asked; train_tier resolves it)
    time_budget_s: float | None       # wall clock per tier (None: none)
    weight_decay: float = 1e-4        # AdamW's decoupled weight decay
    warmup_steps: int = 50            # linear learning-rate warm-up
    lr_floor: float = 0.05            # cosine decay ends at lr_floor × learning_rate
    grad_clip: float = 2.0            # global gradient-norm clip
    warmup_frames: int = 24           # recurrent warm-up excluded from the loss
    fft_sizes: tuple[int, ...] = (1024, 512, 256, 128)
    kd_weight: float = 0.1
    kd_pairs: tuple[tuple[str, str], ...] = (("gru", "*"),)
    postfilter: bool = True
    postfilter_width_hz: float = 375.0
    postfilter_max_beta: float = 1.0
    prune_fraction: float = 0.6      # pruned tiers: gate-learning share of the steps
    model_sample_rate: int = MODEL_SAMPLE_RATE
    #: field -> "cli" | "voice" | "default"
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def resolve(cfg: Any, voice: Any, tier: str) -> TrainPlan:
    """The plan for ``tier`` of ``voice`` under ``cfg`` (a DistillConfig):
    a ``cfg`` value that is set (not None) wins over the voice's
    ``[training]`` value, which wins over the default."""
    tb = voice.training
    src: dict[str, str] = {}

    def pick(name: str, cli: Any, voice_value: Any) -> Any:
        if cli is not None:
            src[name] = "cli"
            return cli
        src[name] = "voice"
        return voice_value

    budget_voice = tb.max_minutes * 60 or None
    vals = {
        "steps": pick("steps", cfg.steps, tb.steps),
        "batch_size": pick("batch_size", cfg.batch_size, tb.batch_size),
        "segment_seconds": pick("segment_seconds", cfg.segment_seconds, tb.segment_seconds),
        "learning_rate": pick("learning_rate", cfg.learning_rate, tb.learning_rate),
        "seed": pick("seed", cfg.seed, tb.seed),
        "device": pick("device", cfg.device, tb.device),
        "time_budget_s": pick("time_budget_s", cfg.time_budget_s, budget_voice),
    }
    fixed = {k: getattr(cfg, k) for k in ("weight_decay", "warmup_frames", "fft_sizes", "kd_weight",
                                          "kd_pairs", "postfilter", "postfilter_width_hz",
                                          "postfilter_max_beta", "prune_fraction")}
    defaults = {f.name: f.default for f in fields(TrainPlan)}
    for k, v in fixed.items():
        src[k] = "default" if v == defaults[k] else "cli"
    for k in ("warmup_steps", "lr_floor", "grad_clip", "model_sample_rate"):
        src[k] = "default"
    return TrainPlan(tier=tier, **vals, **{k: (tuple(v) if isinstance(v, list) else v) for k, v in fixed.items()},
                     sources=src)


def get_lr(plan: TrainPlan, step: int, progress: float) -> float:
    """Learning rate at ``step`` (0-based): linear warm-up over
    ``warmup_steps``, then cosine decay from ``learning_rate`` to
    ``lr_floor × learning_rate`` over ``progress`` ∈ [0, 1] (the larger of
    the step fraction and the wall-clock fraction of the budget)."""
    warm = min(1.0, (step + 1) / max(1, plan.warmup_steps))
    cos = 0.5 * (1.0 + math.cos(math.pi * min(max(progress, 0.0), 1.0)))
    return plan.learning_rate * warm * (plan.lr_floor + (1.0 - plan.lr_floor) * cos)
