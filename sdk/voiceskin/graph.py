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
The per-op rules live in :func:`validate_node`, shared with the bundle reader
(:func:`voiceskin.format.read_bundle`) so both agree with the C library.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Sequence

import numpy as np

from .format import MAX_NODE_ARGS, MAX_VALUE_SIZE, Graph, Node

__all__ = ["Op", "Act", "Value", "GraphBuilder", "GraphTooLarge", "validate_node",
           "parameter_count", "flops_per_step"]

#: CONV1D history ((K-1)·dilation·Cin floats) above this is VSK_ERR_TOO_LARGE.
CONV_MAX_HISTORY = 1 << 24


class GraphTooLarge(ValueError):
    """A node exceeds a documented size limit (the C library reports
    VSK_ERR_TOO_LARGE rather than VSK_ERR_CORRUPT)."""


class Op(IntEnum):
    """Op codes of format version 1 (docs/bundle-format.md)."""

    FRAME = 1
    STFT_MAG = 2
    LINEAR = 3
    ACT = 4
    LOG = 5
    CONV1D = 6
    GRU = 7
    CONCAT = 8
    SLICE = 9
    ADD = 10
    MUL = 11
    AFFINE = 12
    PITCH_YIN = 13
    PITCH_MAP = 14
    HARMONIC = 15
    NOISE = 16
    RUNNING_MEAN = 17
    ARGMIN = 18
    WARP = 19


class Act(IntEnum):
    """ACT kinds: exp_sigmoid is ``2·σ(x)^{ln 10} + 1e-7``."""

    IDENTITY = 0
    RELU = 1
    TANH = 2
    SIGMOID = 3
    SOFTPLUS = 4
    EXP_SIGMOID = 5


@dataclass(frozen=True)
class Value:
    """A per-step float vector of ``size`` floats, identified by ``id``."""

    id: int
    size: int
    _owner: Any = field(default=None, compare=False, repr=False)


# ------------------------------------------------------------------ checking


def _is_pow2(n: int) -> bool:
    return n >= 1 and (n & (n - 1)) == 0


def validate_node(op: int, in_sizes: Sequence[int], out_sizes: Sequence[int],
                  const_shapes: Sequence[tuple[int, ...]], iattr: Sequence[int],
                  fattr: Sequence[float], hop: int, where: str = "node",
                  const_values: Sequence[Any] | None = None) -> None:
    """Checks one node's arity, attributes, value sizes and const shapes
    against the op table. Raises ValueError (message starts with ``where``).
    ``const_values`` (the node's const tensors, in order) enables the checks
    of const contents (WARP's positions: finite, strictly increasing); the
    writer and the bundle reader pass them."""

    def fail(msg: str) -> None:
        raise ValueError(f"{where} ({_op_name(op)}): {msg}")

    def arity(n_in: int | None, n_out: int, n_const: int | tuple[int, ...],
              n_i: int, n_f: int) -> None:
        if n_in is not None and len(in_sizes) != n_in:
            fail(f"needs {n_in} input(s), has {len(in_sizes)}")
        if len(out_sizes) != n_out:
            fail(f"needs {n_out} output(s), has {len(out_sizes)}")
        allowed = (n_const,) if isinstance(n_const, int) else n_const
        if len(const_shapes) not in allowed:
            fail(f"needs {' or '.join(map(str, allowed))} const tensor(s), "
                 f"has {len(const_shapes)}")
        if len(iattr) != n_i:
            fail(f"needs {n_i} integer attribute(s), has {len(iattr)}")
        if len(fattr) != n_f:
            fail(f"needs {n_f} float attribute(s), has {len(fattr)}")
        for f in fattr:
            if not math.isfinite(f):
                fail(f"float attribute {f} is not finite")

    def shape(k: int, want: tuple[int, ...], name: str) -> None:
        if tuple(const_shapes[k]) != tuple(want):
            fail(f"{name} must have shape {tuple(want)}, has {tuple(const_shapes[k])}")

    def out_is(n: int) -> None:
        if out_sizes[0] != n:
            fail(f"output size must be {n}, is {out_sizes[0]}")

    if op == Op.FRAME:
        arity(1, 1, 0, 1, 0)
        win = iattr[0]
        if in_sizes[0] != hop:
            fail(f"input size must be the hop ({hop}), is {in_sizes[0]}")
        if win < hop:
            fail(f"win {win} must be >= hop {hop}")
        out_is(win)
    elif op == Op.STFT_MAG:
        arity(1, 1, 1, 1, 0)
        win, n = in_sizes[0], iattr[0]
        shape(0, (win,), "window")
        if not _is_pow2(n) or n < max(win, 2) or n > 65536:
            fail(f"n_fft {n} must be a power of two, >= the frame size {win} "
                 "and <= 65536")
        out_is(n // 2 + 1)
    elif op == Op.LINEAR:
        arity(1, 1, (1, 2), 0, 0)
        i, o = in_sizes[0], out_sizes[0]
        shape(0, (o, i), "W")
        if len(const_shapes) == 2:
            shape(1, (o,), "b")
    elif op == Op.ACT:
        arity(1, 1, 0, 1, 0)
        if iattr[0] not in Act._value2member_map_:
            fail(f"unknown activation kind {iattr[0]} (0..5)")
        out_is(in_sizes[0])
    elif op == Op.LOG:
        arity(1, 1, 0, 0, 1)
        if not fattr[0] > 0:
            fail(f"eps {fattr[0]} must be > 0")
        out_is(in_sizes[0])
    elif op == Op.CONV1D:
        arity(1, 1, 2, 1, 0)
        cin, cout = in_sizes[0], out_sizes[0]
        if len(const_shapes[0]) != 3:
            fail(f"W must be [Cout, Cin, K], has shape {tuple(const_shapes[0])}")
        shape(0, (cout, cin, const_shapes[0][2]), "W")
        shape(1, (cout,), "b")
        if iattr[0] < 1:
            fail(f"dilation {iattr[0]} must be >= 1")
        hist = (const_shapes[0][2] - 1) * iattr[0] * cin
        if hist > CONV_MAX_HISTORY:
            raise GraphTooLarge(f"{where} (CONV1D): history of {hist} floats "
                                f"exceeds {CONV_MAX_HISTORY}")
    elif op == Op.GRU:
        arity(1, 1, 4, 0, 0)
        i, h = in_sizes[0], out_sizes[0]
        shape(0, (3 * h, i), "W_ih")
        shape(1, (3 * h, h), "W_hh")
        shape(2, (3 * h,), "b_ih")
        shape(3, (3 * h,), "b_hh")
    elif op == Op.CONCAT:
        arity(None, 1, 0, 0, 0)
        if len(in_sizes) < 1:
            fail("needs at least one input")
        out_is(sum(in_sizes))
    elif op == Op.SLICE:
        arity(1, 1, 0, 2, 0)
        start, length = iattr
        if start < 0 or length < 1 or start + length > in_sizes[0]:
            fail(f"slice [{start}, {start}+{length}) outside input of size {in_sizes[0]}")
        out_is(length)
    elif op in (Op.ADD, Op.MUL):
        arity(2, 1, 0, 0, 0)
        if in_sizes[0] != in_sizes[1]:
            fail(f"inputs differ in size ({in_sizes[0]} vs {in_sizes[1]})")
        out_is(in_sizes[0])
    elif op == Op.AFFINE:
        arity(1, 1, 2, 0, 0)
        n = in_sizes[0]
        shape(0, (n,), "scale")
        shape(1, (n,), "shift")
        out_is(n)
    elif op == Op.PITCH_YIN:
        arity(1, 1, 0, 0, 4)
        sr, fmin, fmax, thr = fattr
        n = in_sizes[0]
        if not (sr > 0 and 0 < fmin < fmax):
            fail(f"need sample_rate > 0 and 0 < fmin < fmax (got {sr}, {fmin}, {fmax})")
        if not 0 < thr < 1:
            fail(f"threshold {thr} must be in (0, 1)")
        tmin = math.floor(sr / fmax)
        tmax = min(math.ceil(sr / fmin), n - 2)
        if tmin < 1 or tmax < tmin:
            fail(f"frame of {n} samples cannot hold lags {tmin}..{math.ceil(sr / fmin)} "
                 f"(fmin {fmin} Hz at {sr} Hz needs a longer frame or higher fmin)")
        out_is(2)
    elif op == Op.PITCH_MAP:
        arity(1, 1, 0, 0, 7)
        if in_sizes[0] != 2:
            fail(f"input must be (f0, voicing) of size 2, is {in_sizes[0]}")
        _tmu, tsig, _pmu, psig, warmup, tau, _vth = fattr
        if tsig < 0 or psig < 0:
            fail("sigmas must be >= 0")
        if not warmup > 0:
            fail(f"warmup {warmup} must be > 0")
        if not tau >= 1:
            fail(f"tau {tau} must be >= 1")
        out_is(1)
    elif op == Op.RUNNING_MEAN:
        arity(2, 1, 1, 0, 3)
        n = in_sizes[0]
        if in_sizes[1] != 1:
            fail(f"second input must be the gate of size 1, is {in_sizes[1]}")
        shape(0, (n,), "prior")
        warmup, tau, _vth = fattr
        if not warmup > 0:
            fail(f"warmup {warmup} must be > 0")
        if not tau >= 1:
            fail(f"tau {tau} must be >= 1")
        out_is(n)
    elif op == Op.ARGMIN:
        arity(1, 1, 0, 0, 0)
        out_is(1)
    elif op == Op.WARP:
        arity(2, 1, 1, 0, 0)
        n = in_sizes[0]
        if n < 2:
            fail(f"input needs >= 2 channels, has {n}")
        if in_sizes[1] != 1:
            fail(f"second input must be the log factor of size 1, is {in_sizes[1]}")
        shape(0, (n,), "positions")
        if const_values is not None:
            try:
                p = np.asarray(const_values[0], dtype=np.float32).reshape(-1)
            except (TypeError, ValueError):
                fail("positions must be numeric")
            if not np.all(np.isfinite(p)):
                fail("positions contain NaN or Inf")
            if not np.all(p[1:] > p[:-1]):
                fail("positions must be strictly increasing (as float32)")
        out_is(n)
    elif op == Op.HARMONIC:
        arity(2, 1, 0, 2, 1)
        h, max_h = iattr
        if in_sizes[0] != 1:
            fail(f"first input must be f0 of size 1, is {in_sizes[0]}")
        if in_sizes[1] < 2:
            fail(f"envelope needs >= 2 bins, has {in_sizes[1]}")
        if h != hop:
            fail(f"hop attribute {h} must equal the graph hop {hop}")
        if not 1 <= max_h <= 4096:
            fail(f"max_harmonics {max_h} must be in 1..4096")
        if not fattr[0] > 0:
            fail(f"sample_rate {fattr[0]} must be > 0")
        out_is(hop)
    elif op == Op.NOISE:
        arity(1, 1, 0, 2, 0)
        h = iattr[0]
        if in_sizes[0] < 2:
            fail(f"envelope needs >= 2 bins, has {in_sizes[0]}")
        if h != hop:
            fail(f"hop attribute {h} must equal the graph hop {hop}")
        if not _is_pow2(2 * hop):
            fail(f"2*hop = {2 * hop} must be a power of two")
        out_is(hop)
    else:
        fail(f"unknown op code {op}")


def _op_name(op: int) -> str:
    try:
        return Op(op).name
    except ValueError:
        return f"op {op}"


def parameter_count(tensors: Sequence[np.ndarray]) -> int:
    """Number of weights (elements) in ``tensors``."""
    return int(sum(int(np.asarray(t).size) for t in tensors))


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
            total += 2 * sum(int(np.asarray(tensors[c]).size) for c in n.consts)
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
