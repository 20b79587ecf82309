"""Reference interpreter of a ``.vskin`` tier graph (whole-signal).

:func:`run_graph` evaluates a :class:`voiceskin.format.Graph` with the
PyTorch reference ops (:mod:`voiceskin_tooling.ops`) over a whole signal, so
any tier of any bundle can be checked against the C runtime: it returns what
the C graph outputs step by step from a freshly reset state (model rate, no
host resampling, no voice latency).

Every value is computed in float64 and rounded to float32 after each node,
as the runtime stores values in float32.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from . import ops
from .ops import Op
from .pitchmap import PitchMapParams

__all__ = ["run_graph", "run_graph_values"]


def _f32(t: torch.Tensor) -> torch.Tensor:
    return t.to(torch.float32).to(torch.float64)


def run_graph_values(graph, tensors: Sequence[np.ndarray], x: np.ndarray
                     ) -> list[torch.Tensor | None]:
    """Every value of the graph over the whole signal: a list indexed by
    value id of tensors [T, size] (float64 holding float32 numbers)."""
    hop = int(graph.value_sizes[graph.input_value])
    xs = np.asarray(x, dtype=np.float32).reshape(-1)
    T = xs.shape[0] // hop
    if T * hop != xs.shape[0]:
        raise ValueError(f"signal length {xs.shape[0]} is not a multiple of hop {hop}")
    vals: list[torch.Tensor | None] = [None] * len(graph.value_sizes)
    vals[graph.input_value] = torch.from_numpy(xs.astype(np.float64)).reshape(1, T, hop)
    C = [t if hasattr(t, "q") else  # int8 weights (voiceskin.format.Int8Weight) stay as they are
         torch.from_numpy(np.asarray(t, dtype=np.float32).astype(np.float64)) for t in tensors]

    for idx, n in enumerate(graph.nodes):
        op = Op(n.op)
        ins = [vals[i] for i in n.inputs]
        if any(v is None for v in ins):
            raise ValueError(f"node {idx} ({op.name}) reads a value not yet written")
        cs = [C[c] for c in n.consts]
        ia, fa = list(n.iattr), [float(v) for v in n.fattr]
        x0 = ins[0]
        if op == Op.FRAME:
            y = ops.frame(x0.reshape(1, -1), x0.shape[-1], ia[0])
        elif op == Op.STFT_MAG:
            y = ops.stft_mag(x0, cs[0], ia[0])
        elif op == Op.LINEAR and hasattr(cs[0], "q"):
            y = ops.linear_q8(x0, cs[0], cs[1] if len(cs) > 1 else None)
        elif op == Op.LINEAR:
            y = ops.linear(x0, cs[0], cs[1] if len(cs) > 1 else None)
        elif op == Op.ACT:
            y = ops.act(x0, ia[0])
        elif op == Op.LOG:
            y = ops.log(x0, fa[0])
        elif op == Op.CONV1D:
            y = ops.conv1d(x0, cs[0], cs[1], ia[0])
        elif op == Op.GRU and (hasattr(cs[0], "q") or hasattr(cs[1], "q")):
            y = ops.gru_q8(x0, *cs)
        elif op == Op.GRU:
            y = ops.gru(x0, *cs)
        elif op == Op.CONCAT:
            y = ops.concat(*ins)
        elif op == Op.SLICE:
            y = ops.slice_(x0, ia[0], ia[1])
        elif op == Op.ADD:
            y = ops.add(ins[0], ins[1])
        elif op == Op.MUL:
            y = ops.mul(ins[0], ins[1])
        elif op == Op.AFFINE:
            y = ops.affine(x0, cs[0], cs[1])
        elif op == Op.PITCH_YIN:
            y = ops.pitch_yin(x0, *fa)
        elif op == Op.PITCH_MAP:
            y = ops.pitch_map(x0, PitchMapParams(*fa)).unsqueeze(-1)
        elif op == Op.RUNNING_MEAN:
            y = ops.running_mean(x0, ins[1][..., 0], cs[0], *fa)
        elif op == Op.ARGMIN:
            y = ops.argmin(x0)
        elif op == Op.WARP:
            y = ops.warp(x0, ins[1], cs[0])
        elif op == Op.NEAREST:
            y = ops.nearest(x0, cs[0], cs[1], cs[2], ia[0])
        elif op == Op.HARMONIC:
            y = ops.harmonic(x0[..., 0], ins[1], ia[0], ia[1], fa[0]).reshape(1, T, -1)
        elif op == Op.NOISE:
            y = ops.noise(x0, ia[0], ia[1]).reshape(1, T, -1)
        else:  # pragma: no cover - Op() already rejects unknown codes
            raise ValueError(f"node {idx}: unknown op {n.op}")
        want = graph.value_sizes[n.outputs[0]]
        if y.shape[-1] != want or y.shape[-2] != T:
            raise ValueError(f"node {idx} ({op.name}) produced {tuple(y.shape)}, "
                             f"value {n.outputs[0]} has size {want}")
        vals[n.outputs[0]] = _f32(y.detach().to(torch.float64))
    return [None if v is None else v[0] for v in vals]


def run_graph(graph, tensors: Sequence[np.ndarray], x: np.ndarray) -> np.ndarray:
    """Output of the graph for the whole signal ``x`` [T*hop] (model rate):
    float64 array [T*hop] of float32-rounded samples."""
    vals = run_graph_values(graph, tensors, x)
    out = vals[graph.output_value]
    if out is None:
        raise ValueError("the graph never writes its output value")
    return out.reshape(-1).numpy()
