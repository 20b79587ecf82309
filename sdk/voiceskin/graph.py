"""Op codes and a checked builder for ``.vskin`` tier graphs (numpy only).

A graph runs once per *step*: it reads ``hop`` new model-rate samples
(:attr:`GraphBuilder.input`) and must produce ``hop`` output samples. Each
builder method appends one node, checks its shapes and attributes eagerly
(raising ``ValueError`` that says what is wrong) and returns the new
:class:`Value`. Example — a bundle whose tier passes audio through::

    b = GraphBuilder(hop=256)
    y = b.frame(b.input, 256)          # FRAME with win == hop: identity
    graph, tensors = b.finish(y)

Weights are numpy arrays; passing the same array object twice stores it once.
The per-op rules live in :mod:`voiceskin.opset` (:func:`validate_node`,
re-exported here), shared with the bundle reader
(:func:`voiceskin.format.read_bundle`) so both agree with the C library.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .format import MAX_NODE_ARGS, MAX_VALUE_SIZE, Graph, Node
from .opset import CONV_MAX_HISTORY, Act, GraphTooLarge, Op, validate_node

__all__ = ["Op", "Act", "Value", "GraphBuilder", "GraphTooLarge", "validate_node",
           "parameter_count", "flops_per_step", "CONV_MAX_HISTORY"]


@dataclass(frozen=True)
class Value:
    """A per-step float vector of ``size`` floats, identified by ``id``."""

    id: int
    size: int
    _owner: Any = field(default=None, compare=False, repr=False)


def _elements(t: Any) -> int:
    """Elements of a tensor: an array's size, an int8 weight's rows x cols."""
    return int(t.size) if hasattr(t, "q") else int(np.asarray(t).size)


def parameter_count(tensors: Sequence[np.ndarray]) -> int:
    """Number of weights (elements) in ``tensors`` (int8 ones count as many
    as their float originals)."""
    return int(sum(_elements(t) for t in tensors))


def flops_per_step(graph: Graph, tensors: Sequence[np.ndarray]) -> int:
    """Rough floating-point operations of one graph step (multiply-adds count
    2). Multiply by ``model_sample_rate / hop`` for ``flops_per_second``."""
    vs = graph.value_sizes
    total = 0
    for n in graph.nodes:
        i = vs[n.inputs[0]] if n.inputs else 0
        o = vs[n.outputs[0]] if n.outputs else 0
        if n.op == Op.STFT_MAG:
            nfft = n.iattr[0]
            total += 5 * nfft * max(1, int(math.log2(nfft))) + 4 * o
        elif n.op in (Op.LINEAR, Op.CONV1D, Op.GRU):
            total += 2 * sum(_elements(tensors[c]) for c in n.consts)
        elif n.op == Op.PITCH_YIN:
            total += 3 * i * i // 2
        elif n.op == Op.HARMONIC:
            total += 4 * o * n.iattr[1]
        elif n.op == Op.NOISE:
            nfft = 2 * o
            total += 10 * nfft * max(1, int(math.log2(nfft)))
        elif n.op == Op.ARGMIN:
            total += 2 * i
        elif n.op == Op.WARP:
            total += 6 * o
        elif n.op == Op.NEAREST:
            total += 2 * _elements(tensors[n.consts[0]]) + 2 * _elements(tensors[n.consts[1]]) \
                + n.iattr[0] * o
        else:
            total += 4 * max(i, o)
    return int(total)


# ------------------------------------------------------------------- builder


class GraphBuilder:
    """Builds one tier's graph step by step with eager checks."""

    def __init__(self, hop: int) -> None:
        if not isinstance(hop, (int, np.integer)) or not 1 <= int(hop) <= 4096:
            raise ValueError(f"hop must be an integer in 1..4096, got {hop!r}")
        self.hop = int(hop)
        self._sizes: list[int] = [self.hop]
        self._nodes: list[Node] = []
        self._tensors: list[np.ndarray] = []
        self._tensor_ids: dict[int, int] = {}
        self._keep: list[Any] = []  # keeps source arrays alive (stable id())
        self.input = Value(0, self.hop, self)

    # -- internals
    def _val(self, x: Any, what: str) -> Value:
        if not isinstance(x, Value):
            raise TypeError(f"{what} must be a Value from this builder, got {type(x).__name__}")
        if x._owner is not self or not 0 <= x.id < len(self._sizes):
            raise ValueError(f"{what} ({x}) belongs to another GraphBuilder")
        return x

    def _tensor(self, a: Any, what: str) -> int:
        key = id(a)
        if key in self._tensor_ids:
            return self._tensor_ids[key]
        arr = np.asarray(a)
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"{what} must be a numeric array, got dtype {arr.dtype}")
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        if not 1 <= arr.ndim <= 4 or arr.size == 0:
            raise ValueError(f"{what} must be a non-empty array with 1..4 dims, "
                             f"has shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{what} contains NaN or Inf")
        self._keep.append(a)
        self._tensors.append(arr)
        self._tensor_ids[key] = len(self._tensors) - 1
        return len(self._tensors) - 1

    def _add(self, op: Op, ins: Sequence[Value], out_size: int,
             consts: Sequence[tuple[Any, str]] = (), iattr: Sequence[int] = (),
             fattr: Sequence[float] = ()) -> Value:
        ins = [self._val(v, f"{op.name} input {k}") for k, v in enumerate(ins)]
        if len(ins) > MAX_NODE_ARGS:
            raise ValueError(f"{op.name}: at most {MAX_NODE_ARGS} inputs")
        out_size = int(out_size)
        if not 1 <= out_size <= MAX_VALUE_SIZE:
            raise ValueError(f"{op.name}: output size {out_size} not in 1..{MAX_VALUE_SIZE}")
        shapes = [tuple(np.shape(a)) for a, _ in consts]
        iattr = [int(v) for v in iattr]
        fattr = [float(np.float32(v)) for v in fattr]
        validate_node(op, [v.size for v in ins], [out_size], shapes, iattr, fattr,
                      self.hop, where=f"node {len(self._nodes)}",
                      const_values=[a for a, _ in consts])
        cids = [self._tensor(a, f"{op.name} {name}") for a, name in consts]
        vid = len(self._sizes)
        self._sizes.append(out_size)
        self._nodes.append(Node(int(op), [v.id for v in ins], [vid], cids, iattr, fattr))
        return Value(vid, out_size, self)

    # -- ops
    def frame(self, x: Value, win: int) -> Value:
        """Last ``win`` input samples, oldest first (x must be hop-sized)."""
        return self._add(Op.FRAME, [x], win, iattr=[win])

    def stft_mag(self, x: Value, window: Any, n_fft: int) -> Value:
        """Magnitude spectrum (n_fft/2+1 bins) of the windowed frame."""
        return self._add(Op.STFT_MAG, [x], int(n_fft) // 2 + 1,
                         consts=[(window, "window")], iattr=[n_fft])

    def linear(self, x: Value, W: Any, b: Any = None) -> Value:
        """``W @ x + b`` with W of shape [out, in]."""
        shp = np.shape(W)
        if len(shp) != 2:
            raise ValueError(f"LINEAR W must be 2-D [out, in], has shape {shp}")
        consts = [(W, "W")] + ([(b, "b")] if b is not None else [])
        return self._add(Op.LINEAR, [x], shp[0], consts=consts)

    def act(self, x: Value, kind: Act | int | str) -> Value:
        """Elementwise activation (an :class:`Act`, its code or its name)."""
        if isinstance(kind, str):
            try:
                kind = Act[kind.upper()]
            except KeyError:
                raise ValueError(f"unknown activation {kind!r}; one of "
                                 f"{[a.name.lower() for a in Act]}") from None
        return self._add(Op.ACT, [x], x.size if isinstance(x, Value) else 1,
                         iattr=[int(kind)])

    def log(self, x: Value, eps: float = 1e-5) -> Value:
        """``ln(max(x, eps))``."""
        return self._add(Op.LOG, [x], x.size if isinstance(x, Value) else 1, fattr=[eps])

    def conv1d(self, x: Value, W: Any, b: Any, dilation: int = 1) -> Value:
        """Causal conv over steps; W [Cout, Cin, K], b [Cout]."""
        shp = np.shape(W)
        if len(shp) != 3:
            raise ValueError(f"CONV1D W must be 3-D [Cout, Cin, K], has shape {shp}")
        return self._add(Op.CONV1D, [x], shp[0], consts=[(W, "W"), (b, "b")],
                         iattr=[dilation])

    def gru(self, x: Value, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any) -> Value:
        """One step of PyTorch's nn.GRU (hidden size = w_hh.shape[1])."""
        shp = np.shape(w_hh)
        if len(shp) != 2:
            raise ValueError(f"GRU w_hh must be 2-D [3H, H], has shape {shp}")
        return self._add(Op.GRU, [x], shp[1], consts=[
            (w_ih, "w_ih"), (w_hh, "w_hh"), (b_ih, "b_ih"), (b_hh, "b_hh")])

    def concat(self, *xs: Value) -> Value:
        """Concatenation in argument order."""
        if not xs:
            raise ValueError("CONCAT needs at least one input")
        return self._add(Op.CONCAT, xs, sum(self._val(v, "CONCAT input").size for v in xs))

    def slice(self, x: Value, start: int, length: int) -> Value:
        """``x[start:start+length]``."""
        return self._add(Op.SLICE, [x], length, iattr=[start, length])

    def add(self, a: Value, b: Value) -> Value:
        return self._add(Op.ADD, [a, b], a.size if isinstance(a, Value) else 1)

    def mul(self, a: Value, b: Value) -> Value:
        return self._add(Op.MUL, [a, b], a.size if isinstance(a, Value) else 1)

    def affine(self, x: Value, scale: Any, shift: Any) -> Value:
        """``x * scale + shift`` (per element)."""
        return self._add(Op.AFFINE, [x], x.size if isinstance(x, Value) else 1,
                         consts=[(scale, "scale"), (shift, "shift")])

    def pitch_yin(self, x: Value, sample_rate: float, fmin: float, fmax: float,
                  threshold: float = 0.15) -> Value:
        """Causal YIN on a frame -> (f0_Hz, voicing)."""
        return self._add(Op.PITCH_YIN, [x], 2,
                         fattr=[sample_rate, fmin, fmax, threshold])

    def pitch_map(self, p: Value, target_mu: float, target_sigma: float,
                  prior_mu: float, prior_sigma: float, warmup: float, tau: float,
                  vthreshold: float) -> Value:
        """Running log-F0 statistics mapping (f0, v) -> target f0 (size 1)."""
        return self._add(Op.PITCH_MAP, [p], 1, fattr=[
            target_mu, target_sigma, prior_mu, prior_sigma, warmup, tau, vthreshold])

    def running_mean(self, x: Value, gate: Value, prior: Any, warmup: float,
                     tau: float, vthreshold: float) -> Value:
        """Running mean of x[C] over the steps where gate[1] >= vthreshold
        (``a = max(1/n, 1/tau)``), blended with ``prior`` during ``warmup``
        gated steps; the same definition as PITCH_MAP's statistics."""
        return self._add(Op.RUNNING_MEAN, [x, gate], x.size if isinstance(x, Value) else 1,
                         consts=[(prior, "prior")], fattr=[warmup, tau, vthreshold])

    def argmin(self, x: Value) -> Value:
        """Position (size 1) of the smallest finite element of x[G], refined
        by a parabola through it and its neighbours (shift clamped to ±1);
        0 if no element is finite."""
        return self._add(Op.ARGMIN, [x], 1)

    def warp(self, x: Value, log_factor: Value, positions: Any) -> Value:
        """x[C] sampled at the strictly increasing ``positions`` [C] (e.g.
        mel band centres in Hz) read back at ``positions·exp(−log_factor)``
        (log_factor[1]; non-finite counts as 0), by linear interpolation
        clamped to the first and last position: features move up in
        frequency by ``exp(log_factor)``."""
        return self._add(Op.WARP, [x, log_factor], x.size if isinstance(x, Value) else 1,
                         consts=[(positions, "positions")])

    def nearest(self, x: Value, keys: Any, values: Any, k: int) -> Value:
        """The mean of the ``values`` rows [N, C] of the ``k`` rows of
        ``keys`` [N, D] nearest to x[D] (squared Euclidean distance; ties to
        the lower row, non-finite distances last). The keys' squared norms
        are stored beside them (float32)."""
        kf = np.ascontiguousarray(np.asarray(keys, dtype=np.float32))
        sq = np.einsum("nd,nd->n", kf.astype(np.float64), kf.astype(np.float64)).astype(np.float32)
        vf = np.ascontiguousarray(np.asarray(values, dtype=np.float32))
        return self._add(Op.NEAREST, [x], vf.shape[1] if vf.ndim == 2 else 0,
                         consts=[(kf, "keys"), (sq, "key_sq"), (vf, "values")], iattr=[int(k)])

    def harmonic(self, f0: Value, env: Value, max_harmonics: int,
                 sample_rate: float) -> Value:
        """Additive synthesis of ``hop`` samples from f0[1] and env[B]."""
        return self._add(Op.HARMONIC, [f0, env], self.hop,
                         iattr=[self.hop, max_harmonics], fattr=[sample_rate])

    def noise(self, env: Value, seed: int) -> Value:
        """Filtered noise (``hop`` samples) shaped by env[B]."""
        seed = int(seed)
        if not -2**31 <= seed < 2**32:
            raise ValueError(f"seed {seed} does not fit 32 bits")
        if seed >= 2**31:
            seed -= 2**32
        return self._add(Op.NOISE, [env], self.hop, iattr=[self.hop, seed])

    # -- result
    def finish(self, output: Value) -> tuple[Graph, list[np.ndarray]]:
        """Returns the graph (output = ``output``) and its tensors."""
        output = self._val(output, "output")
        if output.id == self.input.id:
            raise ValueError("the output must be written by a node; use "
                             "frame(input, hop) for a pass-through graph")
        if output.size != self.hop:
            raise ValueError(f"output size {output.size} must equal the hop ({self.hop})")
        g = Graph(list(self._sizes), self.input.id, output.id,
                  [Node(n.op, list(n.inputs), list(n.outputs), list(n.consts),
                        list(n.iattr), list(n.fattr)) for n in self._nodes])
        return g, list(self._tensors)
