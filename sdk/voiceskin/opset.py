"""The op set of format version 1: op codes, activation kinds and the per-op
validation table (numpy only).

This is the one place the SDK lists the ops. :mod:`voiceskin.format` (the
bundle reader/writer) and :mod:`voiceskin.graph` (the builder) both import it,
and neither imports the other's internals, so there is no import cycle.

:data:`OPS` mirrors ``native/src/ops.c`` (``vsk_op_lookup``): one
:class:`OpDef` per op code, holding the op's arity (inputs, outputs, const
tensors, integer and float attributes, as ``vsk_check_counts`` checks them)
and a function with the op's own checks (sizes, attributes, const shapes and
contents, as the op's ``validate`` in ``native/src/ops_nn.c`` /
``ops_signal.c``). :func:`validate_node` looks an op up and runs both; an
unknown code is refused. Adding an op means one :class:`Op` member and one
:data:`OPS` entry here (docs/bundle-format.md, "Ops (version 1)").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Callable, Mapping, NoReturn, Sequence

import numpy as np

__all__ = ["Op", "Act", "GraphTooLarge", "OpDef", "OPS", "CONV_MAX_HISTORY",
           "validate_node", "op_name"]

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
    NEAREST = 20


class Act(IntEnum):
    """ACT kinds: exp_sigmoid is ``2·σ(x)^{ln 10} + 1e-7``; exp is ``e^min(x, 88)``."""

    IDENTITY = 0
    RELU = 1
    TANH = 2
    SIGMOID = 3
    SOFTPLUS = 4
    EXP_SIGMOID = 5
    EXP = 6


def op_name(op: int) -> str:
    """``Op(op).name``, or ``"op N"`` for an unknown code."""
    try:
        return Op(op).name
    except ValueError:
        return f"op {op}"


def _is_pow2(n: int) -> bool:
    return n >= 1 and (n & (n - 1)) == 0


class _Node:
    """One node under check: what an op's check function reads, and the
    helpers that raise ValueError naming the node (``where``) and op."""

    def __init__(self, op: int, in_sizes: Sequence[int], out_sizes: Sequence[int],
                 const_shapes: Sequence[tuple[int, ...]], iattr: Sequence[int],
                 fattr: Sequence[float], hop: int, where: str,
                 const_values: Sequence[Any] | None) -> None:
        self.op = op
        self.in_sizes = in_sizes
        self.out_sizes = out_sizes
        self.const_shapes = const_shapes
        self.iattr = iattr
        self.fattr = fattr
        self.hop = hop
        self.where = where
        self.const_values = const_values

    def fail(self, msg: str) -> NoReturn:
        raise ValueError(f"{self.where} ({op_name(self.op)}): {msg}")

    def shape(self, k: int, want: tuple[int, ...], name: str) -> None:
        if tuple(self.const_shapes[k]) != tuple(want):
            self.fail(f"{name} must have shape {tuple(want)}, "
                      f"has {tuple(self.const_shapes[k])}")

    def out_is(self, n: int) -> None:
        if self.out_sizes[0] != n:
            self.fail(f"output size must be {n}, is {self.out_sizes[0]}")


@dataclass(frozen=True)
class OpDef:
    """One op's entry in :data:`OPS`: arity (``n_in`` None = any number;
    ``n_const`` lists the allowed const counts) and the op's own checks."""

    n_in: int | None
    n_out: int
    n_const: tuple[int, ...]
    n_iattr: int
    n_fattr: int
    check: Callable[[_Node], None]

    def check_arity(self, n: _Node) -> None:
        if self.n_in is not None and len(n.in_sizes) != self.n_in:
            n.fail(f"needs {self.n_in} input(s), has {len(n.in_sizes)}")
        if len(n.out_sizes) != self.n_out:
            n.fail(f"needs {self.n_out} output(s), has {len(n.out_sizes)}")
        if len(n.const_shapes) not in self.n_const:
            n.fail(f"needs {' or '.join(map(str, self.n_const))} const tensor(s), "
                   f"has {len(n.const_shapes)}")
        if len(n.iattr) != self.n_iattr:
            n.fail(f"needs {self.n_iattr} integer attribute(s), has {len(n.iattr)}")
        if len(n.fattr) != self.n_fattr:
            n.fail(f"needs {self.n_fattr} float attribute(s), has {len(n.fattr)}")
        for f in n.fattr:
            if not math.isfinite(f):
                n.fail(f"float attribute {f} is not finite")


# ------------------------------------------------------------ per-op checks


def _frame(n: _Node) -> None:
    win = n.iattr[0]
    if n.in_sizes[0] != n.hop:
        n.fail(f"input size must be the hop ({n.hop}), is {n.in_sizes[0]}")
    if win < n.hop:
        n.fail(f"win {win} must be >= hop {n.hop}")
    n.out_is(win)


def _stft_mag(n: _Node) -> None:
    win, nfft = n.in_sizes[0], n.iattr[0]
    n.shape(0, (win,), "window")
    if not _is_pow2(nfft) or nfft < max(win, 2) or nfft > 65536:
        n.fail(f"n_fft {nfft} must be a power of two, >= the frame size {win} "
               "and <= 65536")
    n.out_is(nfft // 2 + 1)


def _linear(n: _Node) -> None:
    i, o = n.in_sizes[0], n.out_sizes[0]
    n.shape(0, (o, i), "W")
    if len(n.const_shapes) == 2:
        n.shape(1, (o,), "b")


def _act(n: _Node) -> None:
    if n.iattr[0] not in Act._value2member_map_:
        n.fail(f"unknown activation kind {n.iattr[0]} (0..6)")
    n.out_is(n.in_sizes[0])


def _log(n: _Node) -> None:
    if not n.fattr[0] > 0:
        n.fail(f"eps {n.fattr[0]} must be > 0")
    n.out_is(n.in_sizes[0])


def _conv1d(n: _Node) -> None:
    cin, cout = n.in_sizes[0], n.out_sizes[0]
    w = n.const_shapes[0]
    if len(w) != 3:
        n.fail(f"W must be [Cout, Cin, K], has shape {tuple(w)}")
    n.shape(0, (cout, cin, w[2]), "W")
    n.shape(1, (cout,), "b")
    if n.iattr[0] < 1:
        n.fail(f"dilation {n.iattr[0]} must be >= 1")
    hist = (w[2] - 1) * n.iattr[0] * cin
    if hist > CONV_MAX_HISTORY:
        raise GraphTooLarge(f"{n.where} (CONV1D): history of {hist} floats "
                            f"exceeds {CONV_MAX_HISTORY}")


def _gru(n: _Node) -> None:
    i, h = n.in_sizes[0], n.out_sizes[0]
    n.shape(0, (3 * h, i), "W_ih")
    n.shape(1, (3 * h, h), "W_hh")
    n.shape(2, (3 * h,), "b_ih")
    n.shape(3, (3 * h,), "b_hh")


def _concat(n: _Node) -> None:
    if len(n.in_sizes) < 1:
        n.fail("needs at least one input")
    n.out_is(sum(n.in_sizes))


def _slice(n: _Node) -> None:
    start, length = n.iattr
    if start < 0 or length < 1 or start + length > n.in_sizes[0]:
        n.fail(f"slice [{start}, {start}+{length}) outside input of size {n.in_sizes[0]}")
    n.out_is(length)


def _binary(n: _Node) -> None:
    if n.in_sizes[0] != n.in_sizes[1]:
        n.fail(f"inputs differ in size ({n.in_sizes[0]} vs {n.in_sizes[1]})")
    n.out_is(n.in_sizes[0])


def _affine(n: _Node) -> None:
    size = n.in_sizes[0]
    n.shape(0, (size,), "scale")
    n.shape(1, (size,), "shift")
    n.out_is(size)


def _pitch_yin(n: _Node) -> None:
    sr, fmin, fmax, thr = n.fattr
    size = n.in_sizes[0]
    if not (sr > 0 and 0 < fmin < fmax):
        n.fail(f"need sample_rate > 0 and 0 < fmin < fmax (got {sr}, {fmin}, {fmax})")
    if not 0 < thr < 1:
        n.fail(f"threshold {thr} must be in (0, 1)")
    tmin = math.floor(sr / fmax)
    tmax = min(math.ceil(sr / fmin), size - 2)
    if tmin < 1 or tmax < tmin:
        n.fail(f"frame of {size} samples cannot hold lags {tmin}..{math.ceil(sr / fmin)} "
               f"(fmin {fmin} Hz at {sr} Hz needs a longer frame or higher fmin)")
    n.out_is(2)


def _warmup_tau(n: _Node, warmup: float, tau: float) -> None:
    if not warmup > 0:
        n.fail(f"warmup {warmup} must be > 0")
    if not tau >= 1:
        n.fail(f"tau {tau} must be >= 1")


def _pitch_map(n: _Node) -> None:
    if n.in_sizes[0] != 2:
        n.fail(f"input must be (f0, voicing) of size 2, is {n.in_sizes[0]}")
    _tmu, tsig, _pmu, psig, warmup, tau, _vth = n.fattr
    if tsig < 0 or psig < 0:
        n.fail("sigmas must be >= 0")
    _warmup_tau(n, warmup, tau)
    n.out_is(1)


def _running_mean(n: _Node) -> None:
    size = n.in_sizes[0]
    if n.in_sizes[1] != 1:
        n.fail(f"second input must be the gate of size 1, is {n.in_sizes[1]}")
    n.shape(0, (size,), "prior")
    warmup, tau, _vth = n.fattr
    _warmup_tau(n, warmup, tau)
    n.out_is(size)


def _argmin(n: _Node) -> None:
    n.out_is(1)


def _warp(n: _Node) -> None:
    size = n.in_sizes[0]
    if size < 2:
        n.fail(f"input needs >= 2 channels, has {size}")
    if n.in_sizes[1] != 1:
        n.fail(f"second input must be the log factor of size 1, is {n.in_sizes[1]}")
    n.shape(0, (size,), "positions")
    if n.const_values is not None:
        try:
            p = np.asarray(n.const_values[0], dtype=np.float32).reshape(-1)
        except (TypeError, ValueError):
            n.fail("positions must be numeric")
        if not np.all(np.isfinite(p)):
            n.fail("positions contain NaN or Inf")
        if not np.all(p[1:] > p[:-1]):
            n.fail("positions must be strictly increasing (as float32)")
    n.out_is(size)


#: NEAREST averages at most this many neighbours (its C kernel keeps them
#: in a fixed array on the stack)
NEAREST_MAX_K = 16


def _nearest(n: _Node) -> None:
    ks = tuple(n.const_shapes[0])
    if len(ks) != 2 or ks[0] < 1:
        n.fail(f"keys must be 2-D [N >= 1, D], have shape {ks}")
    rows, dim = ks
    if dim != n.in_sizes[0]:
        n.fail(f"keys have {dim} columns, the input has {n.in_sizes[0]}")
    n.shape(1, (rows,), "key_sq")
    vs = tuple(n.const_shapes[2])
    if len(vs) != 2 or vs[0] != rows:
        n.fail(f"values must be 2-D [{rows}, C], have shape {vs}")
    n.out_is(vs[1])
    k = n.iattr[0]
    if not 1 <= k <= min(rows, NEAREST_MAX_K):
        n.fail(f"k = {k} must be in 1..min(N = {rows}, {NEAREST_MAX_K})")


def _hop_attr(n: _Node, h: int) -> None:
    if h != n.hop:
        n.fail(f"hop attribute {h} must equal the graph hop {n.hop}")


def _harmonic(n: _Node) -> None:
    h, max_h = n.iattr
    if n.in_sizes[0] != 1:
        n.fail(f"first input must be f0 of size 1, is {n.in_sizes[0]}")
    if n.in_sizes[1] < 2:
        n.fail(f"envelope needs >= 2 bins, has {n.in_sizes[1]}")
    _hop_attr(n, h)
    if not 1 <= max_h <= 4096:
        n.fail(f"max_harmonics {max_h} must be in 1..4096")
    if not n.fattr[0] > 0:
        n.fail(f"sample_rate {n.fattr[0]} must be > 0")
    n.out_is(n.hop)


def _noise(n: _Node) -> None:
    if n.in_sizes[0] < 2:
        n.fail(f"envelope needs >= 2 bins, has {n.in_sizes[0]}")
    _hop_attr(n, n.iattr[0])
    if not _is_pow2(2 * n.hop):
        n.fail(f"2*hop = {2 * n.hop} must be a power of two")
    n.out_is(n.hop)


#: The op table (native/src/ops.c, vsk_op_lookup): arity as
#: (inputs, outputs, const counts, integer attributes, float attributes).
OPS: Mapping[Op, OpDef] = {
    Op.FRAME: OpDef(1, 1, (0,), 1, 0, _frame),
    Op.STFT_MAG: OpDef(1, 1, (1,), 1, 0, _stft_mag),
    Op.LINEAR: OpDef(1, 1, (1, 2), 0, 0, _linear),
    Op.ACT: OpDef(1, 1, (0,), 1, 0, _act),
    Op.LOG: OpDef(1, 1, (0,), 0, 1, _log),
    Op.CONV1D: OpDef(1, 1, (2,), 1, 0, _conv1d),
    Op.GRU: OpDef(1, 1, (4,), 0, 0, _gru),
    Op.CONCAT: OpDef(None, 1, (0,), 0, 0, _concat),
    Op.SLICE: OpDef(1, 1, (0,), 2, 0, _slice),
    Op.ADD: OpDef(2, 1, (0,), 0, 0, _binary),
    Op.MUL: OpDef(2, 1, (0,), 0, 0, _binary),
    Op.AFFINE: OpDef(1, 1, (2,), 0, 0, _affine),
    Op.PITCH_YIN: OpDef(1, 1, (0,), 0, 4, _pitch_yin),
    Op.PITCH_MAP: OpDef(1, 1, (0,), 0, 7, _pitch_map),
    Op.HARMONIC: OpDef(2, 1, (0,), 2, 1, _harmonic),
    Op.NOISE: OpDef(1, 1, (0,), 2, 0, _noise),
    Op.RUNNING_MEAN: OpDef(2, 1, (1,), 0, 3, _running_mean),
    Op.ARGMIN: OpDef(1, 1, (0,), 0, 0, _argmin),
    Op.WARP: OpDef(2, 1, (1,), 0, 0, _warp),
    Op.NEAREST: OpDef(1, 1, (3,), 1, 0, _nearest),
}


def validate_node(op: int, in_sizes: Sequence[int], out_sizes: Sequence[int],
                  const_shapes: Sequence[tuple[int, ...]], iattr: Sequence[int],
                  fattr: Sequence[float], hop: int, where: str = "node",
                  const_values: Sequence[Any] | None = None) -> None:
    """Checks one node's arity, attributes, value sizes and const shapes
    against :data:`OPS`. Raises ValueError (message starts with ``where``;
    :class:`GraphTooLarge` for a size limit). ``const_values`` (the node's
    const tensors, in order) enables the checks of const contents (WARP's
    positions: finite, strictly increasing); the writer and the bundle reader
    pass them."""
    node = _Node(op, in_sizes, out_sizes, const_shapes, iattr, fattr, hop, where,
                 const_values)
    d = OPS.get(op)  # type: ignore[call-overload]
    if d is None:
        node.fail(f"unknown op code {op}")
    d.check_arity(node)
    d.check(node)
