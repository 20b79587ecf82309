"""Tiers by structured pruning (DPHuBERT's recipe on the student family).

A pruned tier starts from a wide student (the tier preset's own conv, GRU
and dense widths, e.g. ultra's) and learns which units to keep while it
distils:

1. **Gates.** Every conv output channel, GRU hidden unit and dense unit gets
   a hard-concrete gate (Louizos et al., "Learning sparse neural networks
   through L0 regularization"): a stretched, clipped binary-concrete sample
   ``z ∈ [0, 1]`` with a learned ``log α``; the probability that a gate is
   non-zero, ``P(z ≠ 0)``, is differentiable, so the *expected* network cost
   (:func:`network_flops` of the expected widths) is too.
2. **Joint training towards a cost.** ``loss = distill + λ₁(c/t − 1) +
   λ₂(c/t − 1)²`` with ``c`` the expected cost and ``t`` the target (the
   network cost of the preset named by ``prune_target``, ramped down from the
   wide student's cost over the first half of the phase); λ₁, λ₂ are
   trained by gradient *ascent*, so the constraint holds at the end.
3. **Hard pruning.** Each group keeps its ``round(E[kept])`` units of largest
   ``log α`` (then the lowest-``log α`` units go until the cost is at most
   the target), scaled by their deterministic gate value, and the scales
   are folded into the weights: :func:`prune_student` returns a plain,
   smaller :class:`~.student.Student` that computes exactly what the gated
   one did. It exports as an ordinary graph (no new op in the runtime).
4. **Distil-only fine-tune** of that student for the rest of the steps.

Only the network is pruned: the front end (features, pitch, synthesis) is
the target preset's, so a pruned tier and its width-scaled twin cost the
same outside the network and are compared at equal cost
(``benchmarks/prune_compare.py``).
"""
from __future__ import annotations

import copy
import math
from typing import Any, Mapping

import torch
from torch import nn

from .student import Student, StudentConfig

__all__ = ["HardConcrete", "PruneGates", "Pruner", "network_flops", "prune_student",
           "slice_consumer_inputs", "student_network_flops"]

# hard-concrete constants (Louizos et al.): temperature and stretch interval
BETA = 2.0 / 3.0
LIMIT_L, LIMIT_R = -0.1, 1.1


class HardConcrete(nn.Module):
    """``n`` hard-concrete gates. In training mode a call samples them; in
    eval mode it returns the deterministic gate (the sample's median)."""

    def __init__(self, n: int, init_keep: float = 0.95) -> None:
        super().__init__()
        # P(z != 0) = sigmoid(log_alpha - BETA * ln(-l / r)) = init_keep
        la = math.log(init_keep / (1 - init_keep)) + BETA * math.log(-LIMIT_L / LIMIT_R)
        self.log_alpha = nn.Parameter(torch.full((n,), la) + 0.01 * torch.randn(n))

    def prob_nonzero(self) -> torch.Tensor:
        return torch.sigmoid(self.log_alpha - BETA * math.log(-LIMIT_L / LIMIT_R))

    def expected_kept(self) -> torch.Tensor:
        return self.prob_nonzero().sum()

    def deterministic(self) -> torch.Tensor:
        return torch.clamp(torch.sigmoid(self.log_alpha) * (LIMIT_R - LIMIT_L) + LIMIT_L, 0.0, 1.0)

    def forward(self) -> torch.Tensor:
        if not self.training:
            return self.deterministic()
        u = torch.rand_like(self.log_alpha).clamp(1e-6, 1 - 1e-6)
        s = torch.sigmoid((torch.log(u) - torch.log1p(-u) + self.log_alpha) / BETA)
        return torch.clamp(s * (LIMIT_R - LIMIT_L) + LIMIT_L, 0.0, 1.0)


def network_flops(cfg: StudentConfig, conv: list[Any], gru: Any, dense: Any) -> Any:
    """FLOPs per step (2 × multiply-adds) of the student's network part for
    the given widths (ints, or expected counts as tensors): the causal convs,
    the GRU, the dense layer and the two heads (plus the skip paths). The
    front end is the same for every width and is left out."""
    F_ = cfg.n_features
    K = cfg.kernel
    macs: Any = 0
    cin: Any = F_
    for c in conv:
        macs = macs + K * cin * c
        cin = c
    gin = (conv[-1] + F_) if conv else F_
    macs = macs + 3 * gru * (gin + gru)
    top = gru
    if cfg.hidden:
        macs = macs + gru * dense
        top = dense
    macs = macs + top * (cfg.harm_bins + cfg.noise_bins)
    if cfg.skip:
        macs = macs + F_ * (cfg.harm_bins + cfg.noise_bins)
    return 2 * macs


class PruneGates(nn.Module):
    """One :class:`HardConcrete` group per prunable layer of ``student``:
    ``conv{i}``, ``gru`` and (with a dense layer) ``dense``."""

    def __init__(self, student: Student, init_keep: float = 0.95) -> None:
        super().__init__()
        c = student.cfg
        if c.gru_layers != 1:
            raise ValueError(f"pruning needs a one-layer GRU (gru_layers = {c.gru_layers})")
        self.cfg = c
        self.groups = nn.ModuleDict()
        for i in range(c.conv_layers):
            self.groups[f"conv{i}"] = HardConcrete(c.conv_width(i), init_keep)
        self.groups["gru"] = HardConcrete(c.gru_hidden, init_keep)
        if c.hidden:
            self.groups["dense"] = HardConcrete(c.hidden, init_keep)

    def forward(self) -> dict[str, torch.Tensor]:
        """Masks by name (sampled in training mode), for ``Student(masks=...)``."""
        return {k: g() for k, g in self.groups.items()}

    def _widths(self, counts: Mapping[str, Any]) -> tuple[list[Any], Any, Any]:
        c = self.cfg
        return ([counts[f"conv{i}"] for i in range(c.conv_layers)], counts["gru"],
                counts.get("dense", 0))

    def expected_flops(self) -> torch.Tensor:
        return network_flops(self.cfg, *self._widths({k: g.expected_kept() for k, g in self.groups.items()}))

    def full_flops(self) -> int:
        return student_network_flops(self.cfg)  # the gates cover every unit of the config's widths

    @torch.no_grad()
    def keep(self, target_flops: float | None = None) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """{group: (kept unit indices, their gate values)}: ``round(E[kept])``
        units of largest log α per group (at least one), then, while the
        cost is above ``target_flops``, the unit of lowest log α among all
        groups goes (a group keeps at least one)."""
        order = {k: torch.argsort(g.log_alpha, descending=True) for k, g in self.groups.items()}
        n = {k: max(1, int(round(float(g.expected_kept())))) for k, g in self.groups.items()}
        if target_flops is not None:
            while network_flops(self.cfg, *self._widths(n)) > target_flops:
                cands = [(float(self.groups[k].log_alpha[order[k][n[k] - 1]]), k) for k in n if n[k] > 1]
                if not cands:
                    break
                n[min(cands)[1]] -= 1
        out = {}
        for k, g in self.groups.items():
            idx = torch.sort(order[k][: n[k]]).values
            # a kept unit's scale: its deterministic gate, never 0 (a unit
            # kept only to meet "at least one" would otherwise be dead)
            out[k] = (idx, g.deterministic()[idx].clamp(min=1e-3))
        return out


def _rows(t: torch.Tensor, idx: torch.Tensor, blocks: int = 1) -> torch.Tensor:
    """Rows ``idx`` of each of ``blocks`` equal row blocks of ``t`` (GRU gates)."""
    n = t.shape[0] // blocks
    return torch.cat([t[b * n:(b + 1) * n][idx] for b in range(blocks)], 0)


@torch.no_grad()
def prune_student(student: Student, keep: Mapping[str, tuple[torch.Tensor, torch.Tensor]]
                  ) -> tuple[Student, dict[str, tuple[torch.Tensor, torch.Tensor]]]:
    """A smaller student that computes exactly what ``student`` computes
    with masks equal to the kept gate values (0 elsewhere), and for each
    pruned layer ``(kept indices, scale)`` of its output columns as seen by
    a consumer outside the student (a distillation head: see
    :func:`slice_consumer_inputs`)."""
    c = student.cfg
    conv_idx = [keep[f"conv{i}"] for i in range(c.conv_layers)]
    gi, gs = keep["gru"]
    di, ds = keep["dense"] if "dense" in keep else (None, None)
    cfg = copy.deepcopy(c)
    cfg.conv_widths = tuple(len(i) for i, _ in conv_idx)
    if cfg.conv_widths:
        cfg.conv_channels = max(cfg.conv_widths)
    cfg.gru_hidden = len(gi)
    if c.hidden:
        cfg.hidden = len(di)
    new = Student(cfg)
    new.load_state_dict({k: v for k, v in student.state_dict().items()
                         if not k.startswith(("convs.", "gru.", "dense.", "harm_head.", "noise_head."))},
                        strict=False)
    # convs: output rows scaled by the gate (relu(s·a) = s·relu(a), s > 0),
    # input columns of the previous layer's kept channels
    prev = None
    for i, (conv, (idx, s)) in enumerate(zip(student.convs, conv_idx)):
        W = conv.weight[idx]
        if prev is not None:
            W = W[:, prev]
        new.convs[i].weight.copy_(W * s[:, None, None])
        new.convs[i].bias.copy_(conv.bias[idx] * s)
        prev = idx
    # GRU: gate rows of the kept units (r, z, n blocks), input columns of the
    # kept conv channels then all features; the recurrent input scaled by the
    # gate, as the masked forward does
    F_ = c.n_features
    if c.conv_layers:
        cols = torch.cat([prev, c.conv_width(c.conv_layers - 1) + torch.arange(F_)])
    else:
        cols = torch.arange(F_)
    g, ng = student.gru, new.gru
    ng.weight_ih_l0.copy_(_rows(g.weight_ih_l0, gi, 3)[:, cols])
    ng.weight_hh_l0.copy_(_rows(g.weight_hh_l0, gi, 3)[:, gi] * gs[None, :])
    ng.bias_ih_l0.copy_(_rows(g.bias_ih_l0, gi, 3))
    ng.bias_hh_l0.copy_(_rows(g.bias_hh_l0, gi, 3))
    # the GRU's output is z·h: its consumers' columns take the scale
    if student.dense is not None:
        new.dense.weight.copy_(student.dense.weight[di][:, gi] * gs[None, :] * ds[:, None])
        new.dense.bias.copy_(student.dense.bias[di] * ds)
        top_idx, top_scale = di, torch.ones_like(ds)
    else:
        top_idx, top_scale = gi, gs
    for name in ("harm_head", "noise_head"):
        src, dst = getattr(student, name), getattr(new, name)
        dst.weight.copy_(src.weight[:, top_idx] * top_scale[None, :])
        dst.bias.copy_(src.bias)
    consumers = {f"conv{i}": (idx, torch.ones_like(s)) for i, (idx, s) in enumerate(conv_idx)}
    consumers["gru"] = (gi, gs)
    if di is not None:
        consumers["dense"] = (di, torch.ones_like(ds))
    return new, consumers


@torch.no_grad()
def slice_consumer_inputs(layer: nn.Linear, kept: tuple[torch.Tensor, torch.Tensor]) -> nn.Linear:
    """A copy of ``layer`` (a distillation head reading a pruned layer's
    output) that reads the pruned student's layer instead."""
    idx, scale = kept
    out = nn.Linear(len(idx), layer.out_features, bias=layer.bias is not None)
    out.weight.copy_(layer.weight[:, idx] * scale[None, :])
    if layer.bias is not None:
        out.bias.copy_(layer.bias)
    return out


#: Adam learning rate of the gates' log α and of the Lagrange multipliers
#: (their own optimiser: log α must travel a few units in a few hundred steps)
GATE_LR = 0.05
#: the target cost falls from the wide student's to the target over this
#: share of the gate-learning phase, then holds
TARGET_RAMP = 0.5


class Pruner:
    """The gate-learning phase of one pruned tier (steps 1–3 of the module
    docstring) around an ordinary training loop::

        pr = Pruner(model, target_flops)
        ...                                   # each step, while pr.active:
        y = model(..., masks=pr.masks())
        loss = distill_loss + pr.penalty(phase_progress)
        loss.backward(); opt.step(); pr.step()
        ...
        model, consumers = pr.finish(model)   # smaller student, gates gone
    """

    def __init__(self, student: Student, target_flops: float, init_keep: float = 0.95) -> None:
        self.gates = PruneGates(student, init_keep).to(next(student.parameters()).device)
        self.target = float(target_flops)
        self.full = float(self.gates.full_flops())
        if not 0 < self.target <= self.full:
            raise ValueError(f"prune target {self.target:.0f} FLOPs per step must be in (0, the wide "
                             f"student's {self.full:.0f}]: widen the pruned preset or pick a smaller target")
        self.lambdas = nn.Parameter(torch.zeros(2, device=self.gates.groups["gru"].log_alpha.device))
        self.opt_gates = torch.optim.Adam(self.gates.parameters(), lr=GATE_LR)
        self.opt_lambdas = torch.optim.Adam([self.lambdas], lr=GATE_LR, maximize=True)
        self.active = True

    def masks(self) -> dict[str, torch.Tensor]:
        return self.gates()

    def target_at(self, progress: float) -> float:
        """The cost aimed at ``progress`` ∈ [0, 1] through the phase."""
        f = min(max(progress / TARGET_RAMP, 0.0), 1.0)
        return self.full + f * (self.target - self.full)

    def penalty(self, progress: float) -> torch.Tensor:
        """λ₁(c/t − 1) + λ₂(c/t − 1)², c the expected cost, t the ramped target."""
        gap = self.gates.expected_flops() / self.target_at(progress) - 1.0
        return self.lambdas[0] * gap + self.lambdas[1] * gap * gap

    def zero_grad(self) -> None:
        self.opt_gates.zero_grad(set_to_none=True)
        self.opt_lambdas.zero_grad(set_to_none=True)

    def step(self) -> None:
        self.opt_gates.step()
        self.opt_lambdas.step()
        self.zero_grad()

    def finish(self, student: Student) -> tuple[Student, dict[str, tuple[torch.Tensor, torch.Tensor]]]:
        """Hard-prunes ``student`` to at most the target cost (see
        :meth:`PruneGates.keep`); returns the smaller student and, per
        layer, what its consumers must keep (:func:`slice_consumer_inputs`)."""
        self.gates.eval()
        expected = float(self.gates.expected_flops().detach())
        keep = self.gates.keep(self.target)
        new, consumers = prune_student(student, keep)
        c = new.cfg
        self.summary = {
            "target_flops": round(self.target), "wide_flops": round(self.full),
            "expected_flops_at_end": round(expected),
            "pruned_flops": student_network_flops(c),
            "widths": {"conv": [c.conv_width(i) for i in range(c.conv_layers)], "gru": c.gru_hidden,
                       "dense": c.hidden},
            "lambdas": [round(float(x), 4) for x in self.lambdas.detach()],
        }
        self.active = False
        return new.to(next(student.parameters()).device), consumers


def student_network_flops(cfg: StudentConfig) -> int:
    """The network cost of a student of ``cfg`` (its own widths)."""
    return int(network_flops(cfg, [cfg.conv_width(i) for i in range(cfg.conv_layers)], cfg.gru_hidden, cfg.hidden))
