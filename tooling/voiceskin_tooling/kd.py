"""Distillation losses, in the shape of ModelOpt's distillation API.

* :class:`MultiResolutionSTFTLoss` — the main objective: the student's audio
  against the master's audio (linear + log magnitude L1 at several FFT sizes).
* :class:`DistillationConfig` — ``criterion`` maps a (student layer, teacher
  feature) pair to a loss; ``loss_balancer`` reduces the dict of losses (plus
  the student's own loss) to one scalar.
* :class:`LayerDistiller` — owns one *prediction head* per pair (a linear map
  from the student's hidden width to the teacher feature's width, as in
  DistilHuBERT / DPHuBERT: the student layer is not forced to *be* the teacher
  feature, only to predict it). Heads train with the student and are dropped
  at export: they never ship. ``compute_kd_loss(student_hidden,
  teacher_features, student_loss=...)`` mirrors ModelOpt's
  ``DistillationModel.compute_kd_loss(student_loss=...)``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "MultiResolutionSTFTLoss", "L1CosineLoss", "MSELoss", "StaticLossBalancer",
    "DistillationConfig", "LayerDistiller",
]


class MultiResolutionSTFTLoss(nn.Module):
    """Σ over FFT sizes of mean|S − Ŝ| + mean|log S − log Ŝ| (Hann window,
    hop = n/4). Inputs [N, samples]."""

    def __init__(self, fft_sizes: tuple[int, ...] = (1024, 512, 256, 128),
                 eps: float = 1e-5) -> None:
        super().__init__()
        self.fft_sizes = tuple(fft_sizes)
        self.eps = eps
        for n in self.fft_sizes:
            self.register_buffer(f"win{n}", torch.hann_window(n), persistent=False)

    def spec(self, x: torch.Tensor, n: int) -> torch.Tensor:
        return torch.stft(x, n, n // 4, window=getattr(self, f"win{n}"),
                          return_complex=True, center=False).abs()

    def forward(self, y: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = y.new_zeros(())
        for n in self.fft_sizes:
            if y.shape[-1] < n:
                continue
            S, T = self.spec(y, n), self.spec(target, n)
            loss = loss + (S - T).abs().mean() \
                + (torch.log(S + self.eps) - torch.log(T + self.eps)).abs().mean()
        return loss


class L1CosineLoss(nn.Module):
    """DPHuBERT's layer loss: L1 − log σ(cosine similarity), per frame."""

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        cos = F.cosine_similarity(pred, target, dim=-1)
        return (pred - target).abs().mean() - F.logsigmoid(cos).mean()


class MSELoss(nn.Module):
    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(pred, target)


class StaticLossBalancer:
    """Weighted sum: ``student_loss·student_weight + Σ w_k·kd_k`` (weights
    default to 1; ``kd_loss_weight`` scales all KD terms)."""

    def __init__(self, weights: Mapping[str, float] | None = None,
                 kd_loss_weight: float = 1.0, student_weight: float = 1.0) -> None:
        self.weights = dict(weights or {})
        self.kd_loss_weight = kd_loss_weight
        self.student_weight = student_weight

    def __call__(self, kd_losses: Mapping[str, torch.Tensor],
                 student_loss: torch.Tensor | None = None) -> torch.Tensor:
        total: torch.Tensor | None = None
        for k, v in kd_losses.items():
            term = v * (self.weights.get(k, 1.0) * self.kd_loss_weight)
            total = term if total is None else total + term
        if student_loss is not None:
            s = student_loss * self.student_weight
            total = s if total is None else total + s
        if total is None:
            raise ValueError("nothing to balance: no KD losses and no student loss")
        return total


@dataclass
class DistillationConfig:
    """``criterion``: {(student_layer, teacher_feature): loss module};
    ``loss_balancer``: reduces the losses to a scalar (None only when there
    is exactly one loss and no student loss, as in ModelOpt)."""

    criterion: dict[tuple[str, str], nn.Module] = field(default_factory=dict)
    loss_balancer: Callable[..., torch.Tensor] | None = None


class LayerDistiller(nn.Module):
    """Prediction heads + criteria for layer-to-layer distillation.

    Built lazily: a head is created the first time its pair is seen (its
    widths are known then); call :meth:`build` with example tensors before
    making the optimiser so the heads' parameters are included."""

    def __init__(self, config: DistillationConfig) -> None:
        super().__init__()
        self.config = config
        self.heads = nn.ModuleDict()
        self.criteria = nn.ModuleDict()
        for (s, t), crit in config.criterion.items():
            self.criteria[self.key(s, t)] = crit

    @staticmethod
    def key(student_layer: str, teacher_feature: str) -> str:
        return f"{student_layer}__to__{teacher_feature}".replace(".", "_")

    def build(self, student_hidden: Mapping[str, torch.Tensor],
              teacher_features: Mapping[str, torch.Tensor]) -> "LayerDistiller":
        for (s, t) in self.config.criterion:
            if s not in student_hidden:
                raise KeyError(f"student has no layer {s!r}; has {sorted(student_hidden)}")
            if t not in teacher_features:
                raise KeyError(f"teacher has no feature {t!r}; has {sorted(teacher_features)}")
            k = self.key(s, t)
            if k not in self.heads:
                self.heads[k] = nn.Linear(student_hidden[s].shape[-1],
                                          teacher_features[t].shape[-1])
        return self

    def kd_losses(self, student_hidden: Mapping[str, torch.Tensor],
                  teacher_features: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        out: dict[str, torch.Tensor] = {}
        for (s, t) in self.config.criterion:
            k = self.key(s, t)
            pred = self.heads[k](student_hidden[s])
            out[k] = self.criteria[k](pred, teacher_features[t])
        return out

    def compute_kd_loss(self, student_hidden: Mapping[str, torch.Tensor],
                        teacher_features: Mapping[str, torch.Tensor],
                        student_loss: torch.Tensor | None = None
                        ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """(total, per-pair losses) — the total is what backward() gets."""
        losses = self.kd_losses(student_hidden, teacher_features)
        bal = self.config.loss_balancer
        if bal is None:
            if student_loss is not None or len(losses) != 1:
                raise ValueError("a loss_balancer is needed for several losses "
                                 "or when a student loss is given")
            return next(iter(losses.values())), losses
        return bal(losses, student_loss=student_loss), losses
