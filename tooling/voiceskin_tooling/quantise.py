"""Post-training int8 quantisation of a tier's weights (bundle dtype 2).

A tier whose settings say ``weights = "int8"`` (a :class:`~voiceskin_tooling.
tiers.TierPreset` field, set per tier in the voice TOML) is packed with its
LINEAR and GRU weight matrices as :class:`voiceskin.format.Int8Weight`:
symmetric, one float scale per output row; the runtime quantises each
step's input vector to int8 with one scale and keeps the GRU's hidden state
in float (docs/bundle-format.md, "int8 weights"). Nothing is retrained.

Left in float: matrices with fewer than ``min_rows`` rows (the kernel works
on blocks of 8 rows; a 1-row LINEAR costs more quantised than not), and a
LINEAR that reads STFT_MAG (the mel filterbank: a magnitude spectrum spans
decades, so one int8 scale per step would zero its quiet bins, which the
following LOG turns into large errors), a LINEAR whose output reaches an
ARGMIN (the formant-warp fit: ARGMIN compares values that differ by a small
part of their size — the graph's form of the curve cancels large terms —
and one int8 scale per step moves the pick by up to 24 grid steps on real
speech, against 0.001 in float; the dense form of earlier bundles was off
by a median 0.06–1.1 steps and up to 7) or a NEAREST (a picking
student's key: its content classifier's layers; a pick compares distances
the same way), and a matrix whose rows' nonzero
spans cover at most half of it (:func:`mostly_zero`: a filterbank's
shape, or the per-factor sums of the dense warp fit bundles exported before
its graph form, 4 % nonzero), which the runtime multiplies span by span in
float, reading less than an int8 matrix would. No preset defaults to
it; the demo voice sets it on every tier (docs/experiments.md has what it
buys and costs).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Iterable

import numpy as np

__all__ = ["WEIGHT_KINDS", "int8_candidates", "mostly_zero", "quantise_tier", "quantise_bundle"]

#: values of the tier setting ``weights``
WEIGHT_KINDS = ("f32", "int8")


def mostly_zero(w: Any) -> bool:
    """True when the span from each row's first to its last nonzero column,
    summed over the rows, is at most half of the matrix: the rule by which
    the runtime's LINEAR takes its sparse path for float weights
    (native/src/ops.c, ``vsk_tensor_plan_spans``)."""
    a = np.asarray(w)
    if a.ndim != 2 or a.size == 0:
        return False
    nz = a != 0
    first = np.where(nz.any(1), nz.argmax(1), 0)
    last = np.where(nz.any(1), a.shape[1] - nz[:, ::-1].argmax(1), 0)
    return 2 * int((last - first).sum()) <= a.size


def int8_candidates(graph: Any, tensors: list[Any], min_rows: int = 8) -> list[int]:
    """Tier-local ids of the tensors :func:`quantise_tier` quantises: every
    use is a LINEAR's W or a GRU's W_ih/W_hh, at least ``min_rows`` rows,
    not fed by STFT_MAG, not upstream of an ARGMIN or a NEAREST, not
    :func:`mostly_zero`."""
    from voiceskin.format import INT8_SLOTS
    from voiceskin.opset import Op

    producer = {v: n.op for n in graph.nodes for v in n.outputs}
    # values an ARGMIN or a NEAREST reads (a choice between close values),
    # directly or through any chain of nodes (nodes are in topological
    # order, so one backward pass finds them)
    feeds_choice: set[int] = set()
    for n in reversed(graph.nodes):
        if n.op in (Op.ARGMIN, Op.NEAREST) or feeds_choice.intersection(n.outputs):
            feeds_choice.update(n.inputs)
    ok: dict[int, bool] = {}
    for n in graph.nodes:
        for k, c in enumerate(n.consts):
            good = ((n.op, k) in INT8_SLOTS and np.ndim(tensors[c]) == 2
                    and np.shape(tensors[c])[0] >= min_rows
                    and not mostly_zero(tensors[c])
                    and not (n.op == Op.LINEAR and producer.get(n.inputs[0]) == Op.STFT_MAG)
                    and not feeds_choice.intersection(n.outputs))
            ok[c] = ok.get(c, True) and good
    return sorted(c for c, g in ok.items() if g)


def quantise_tier(tier: Any, min_rows: int = 8) -> Any:
    """A copy of ``tier`` (:class:`voiceskin.format.TierSpec`) with its
    candidate weights (:func:`int8_candidates`) quantised."""
    from voiceskin.format import Int8Weight, quantise_weight

    tensors = list(tier.tensors)
    for c in int8_candidates(tier.graph, tensors, min_rows):
        if not isinstance(tensors[c], Int8Weight):
            tensors[c] = quantise_weight(tensors[c])
    return dataclasses.replace(tier, tensors=tensors)


def quantise_bundle(spec: Any, tiers: Iterable[str], min_rows: int = 8) -> Any:
    """A copy of ``spec`` (:class:`voiceskin.format.BundleSpec`) with the
    named tiers quantised (:func:`quantise_tier`); unknown names raise. A
    QA section is kept (its scores are the float tiers') with the names
    listed under ``int8_tiers``."""
    names = list(tiers)
    known = {t.name for t in spec.tiers}
    bad = [n for n in names if n not in known]
    if bad:
        raise ValueError(f"no tier {bad} in bundle {spec.voice_id!r} (tiers: {sorted(known)})")
    qa = spec.qa
    if isinstance(qa, dict):  # its scores were measured on the float tiers
        qa = {**qa, "int8_tiers": sorted(set(names) | set(qa.get("int8_tiers", [])))}
    return dataclasses.replace(spec, qa=qa, tiers=[quantise_tier(t, min_rows) if t.name in names
                                                   else t for t in spec.tiers])
