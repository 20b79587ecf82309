"""One training plan (trainplan.py): every effective value in one frozen
object, with where it came from; the learning-rate schedule."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from voiceskin_tooling.distill import DistillConfig
from voiceskin_tooling.trainplan import TrainPlan, get_lr, resolve
from voiceskin_tooling.voicedef import load_voice

ROOT = Path(__file__).resolve().parents[1]


def test_cli_wins_over_the_voice_which_wins_over_the_defaults() -> None:
    voice = load_voice(ROOT / "voices" / "demo.toml")
    plan = resolve(DistillConfig(voice="", steps=77, weight_decay=0.5), voice, "high")
    assert plan.steps == 77 and plan.sources["steps"] == "cli"
    assert plan.batch_size == voice.training.batch_size == 8 and plan.sources["batch_size"] == "voice"
    assert plan.learning_rate == voice.training.learning_rate and plan.sources["learning_rate"] == "voice"
    assert plan.weight_decay == 0.5 and plan.sources["weight_decay"] == "cli"
    assert plan.grad_clip == 2.0 and plan.sources["grad_clip"] == "default"
    assert plan.time_budget_s is None  # no --minutes, no [training] max_minutes
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.steps = 1  # type: ignore[misc]
    d = plan.to_dict()
    assert d["tier"] == "high" and d["model_sample_rate"] == 16000 and d["sources"]["steps"] == "cli"


def test_lr_warms_up_linearly_then_decays_by_cosine_to_the_floor() -> None:
    p = TrainPlan(tier="t", steps=1000, batch_size=1, segment_seconds=1.0, learning_rate=1e-2, seed=0,
                  device="cpu", time_budget_s=None)
    assert get_lr(p, 0, 0.0) == pytest.approx(1e-2 / 50)
    assert get_lr(p, 24, 0.0) == pytest.approx(1e-2 * 25 / 50)
    assert get_lr(p, 49, 0.0) == pytest.approx(1e-2)
    assert get_lr(p, 500, 0.5) == pytest.approx(1e-2 * (0.05 + 0.95 * 0.5))
    assert get_lr(p, 999, 1.0) == pytest.approx(1e-2 * 0.05)
    assert get_lr(p, 999, 3.0) == pytest.approx(1e-2 * 0.05)  # past the budget: stays at the floor
    lrs = [get_lr(p, s, s / 1000) for s in range(50, 1000)]
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))
