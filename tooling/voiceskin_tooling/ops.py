"""PyTorch reference of every ``.vskin`` op (format version 1), whole-signal.

Each function computes what the C op (``native/src/ops*.c``) computes step by
step, but over a whole signal at once: a per-step value of size ``n`` becomes
a tensor ``[..., T, n]`` (``T`` steps). State starts at zero, exactly as in a
freshly created or reset voice. The maths is specified in
docs/bundle-format.md ("Ops (version 1)"); ``tests/test_ops_conformance.py``
pins the C kernels to these functions (max abs error <= 1e-4, see the doc for
the pitch ops).

Functions run in the dtype of their input (float32 for training, float64 for
conformance checks; see :mod:`voiceskin_tooling.refgraph`). Differentiable:
linear, act, log, conv1d, gru, affine, concat/slice/add/mul, stft_mag,
harmonic (w.r.t. the envelope, and f0) and noise (w.r.t. the envelope).
warp (w.r.t. x). pitch_yin / pitch_map / running_mean / argmin are not
differentiable.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .pitchmap import PitchMapParams, pitch_map_np

try:  # the SDK's op/activation codes (one definition)
    from voiceskin.graph import Act, Op
except ImportError:  # pragma: no cover - SDK not on the path
    from enum import IntEnum

    class Op(IntEnum):  # type: ignore[no-redef]
        FRAME = 1; STFT_MAG = 2; LINEAR = 3; ACT = 4; LOG = 5; CONV1D = 6  # noqa: E702
        GRU = 7; CONCAT = 8; SLICE = 9; ADD = 10; MUL = 11; AFFINE = 12  # noqa: E702
        PITCH_YIN = 13; PITCH_MAP = 14; HARMONIC = 15; NOISE = 16  # noqa: E702
        RUNNING_MEAN = 17; ARGMIN = 18; WARP = 19; NEAREST = 20  # noqa: E702

    class Act(IntEnum):  # type: ignore[no-redef]
        IDENTITY = 0; RELU = 1; TANH = 2; SIGMOID = 3; SOFTPLUS = 4  # noqa: E702
        EXP_SIGMOID = 5; EXP = 6  # noqa: E702

__all__ = [
    "Op", "Act", "PitchMapParams",
    "ACT_IDENTITY", "ACT_RELU", "ACT_TANH", "ACT_SIGMOID", "ACT_SOFTPLUS",
    "ACT_EXP_SIGMOID", "ACT_EXP",
    "frame", "stft_mag", "linear", "act", "log", "conv1d", "gru", "concat",
    "slice_", "add", "mul", "affine", "pitch_yin", "pitch_map", "running_mean",
    "running_mean_np", "argmin", "nearest", "warp", "harmonic", "noise", "hashed_noise", "hann",
    "yin_lags", "matvec_q8", "linear_q8", "gru_q8",
]

ACT_IDENTITY = int(Act.IDENTITY)
ACT_RELU = int(Act.RELU)
ACT_TANH = int(Act.TANH)
ACT_SIGMOID = int(Act.SIGMOID)
ACT_SOFTPLUS = int(Act.SOFTPLUS)
ACT_EXP_SIGMOID = int(Act.EXP_SIGMOID)
ACT_EXP = int(Act.EXP)

LN10 = math.log(10.0)
TWO_PI = 2.0 * math.pi

TensorLike = Any  # torch.Tensor | np.ndarray


def _t(a: TensorLike, like: torch.Tensor | None = None) -> torch.Tensor:
    """As a tensor (in ``like``'s dtype/device when given)."""
    t = a if isinstance(a, torch.Tensor) else torch.as_tensor(np.asarray(a))
    if like is not None:
        t = t.to(dtype=like.dtype, device=like.device)
    return t


def hann(n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Periodic Hann window ``0.5 − 0.5·cos(2πj/n)`` (NOISE's window)."""
    j = torch.arange(n, dtype=torch.float64)
    return (0.5 - 0.5 * torch.cos(TWO_PI * j / n)).to(dtype)


# ------------------------------------------------------------------ framing


def frame(x: TensorLike, hop: int, win: int) -> torch.Tensor:
    """FRAME: ``x`` [..., T*hop] -> [..., T, win]; frame t holds samples
    ``(t+1)·hop − win .. (t+1)·hop − 1`` (zeros before the start)."""
    x = _t(x)
    if win < hop or hop < 1:
        raise ValueError(f"FRAME needs win >= hop >= 1 (win {win}, hop {hop})")
    T = x.shape[-1] // hop
    x = F.pad(x[..., : T * hop], (win - hop, 0))
    return x.unfold(-1, win, hop)


def stft_mag(frames: TensorLike, window: TensorLike, n_fft: int) -> torch.Tensor:
    """STFT_MAG: |rfft(frame·window, n_fft)| -> [..., T, n_fft//2 + 1]."""
    frames = _t(frames)
    w = _t(window, frames)
    if n_fft < frames.shape[-1] or n_fft & (n_fft - 1):
        raise ValueError(f"n_fft {n_fft} must be a power of two >= {frames.shape[-1]}")
    return torch.fft.rfft(frames * w, n=n_fft).abs()


# ------------------------------------------------------------------- layers


def linear(x: TensorLike, W: TensorLike, b: TensorLike | None = None) -> torch.Tensor:
    """LINEAR: ``W x + b`` over the last axis (W [O, I])."""
    x = _t(x)
    return F.linear(x, _t(W, x), None if b is None else _t(b, x))


def act(x: TensorLike, kind: int) -> torch.Tensor:
    """ACT: 0 identity, 1 relu, 2 tanh, 3 sigmoid, 4 softplus
    (``log1p(e^x)``), 5 exp_sigmoid (``2·σ(x)^{ln 10} + 1e−7``), 6 exp
    (``e^min(x, 88)``: finite for finite x; NaN stays NaN)."""
    x = _t(x)
    k = int(kind)
    if k == ACT_IDENTITY:
        return x
    if k == ACT_RELU:
        return torch.relu(x)
    if k == ACT_TANH:
        return torch.tanh(x)
    if k == ACT_SIGMOID:
        return torch.sigmoid(x)
    if k == ACT_SOFTPLUS:
        return F.softplus(x)
    if k == ACT_EXP_SIGMOID:
        # 2·exp(ln10 · log σ(x)): stable for large |x|
        return 2.0 * torch.exp(LN10 * F.logsigmoid(x)) + 1e-7
    if k == ACT_EXP:
        return torch.exp(torch.clamp(x, max=88.0))
    raise ValueError(f"unknown activation kind {kind} (0..6)")


def log(x: TensorLike, eps: float) -> torch.Tensor:
    """LOG: ``ln(max(x, eps))``."""
    x = _t(x)
    return torch.log(torch.clamp(x, min=float(eps)))


def conv1d(x: TensorLike, W: TensorLike, b: TensorLike | None, dilation: int = 1
           ) -> torch.Tensor:
    """CONV1D, causal over steps: ``x`` [..., T, Cin], W [Cout, Cin, K],
    b [Cout] -> [..., T, Cout]; ``y_t = b + Σ_k W[:,:,k] x_{t−(K−1−k)·d}``."""
    x = _t(x)
    W = _t(W, x)
    K = W.shape[-1]
    lead = x.shape[:-2]
    h = x.reshape(-1, *x.shape[-2:]).transpose(1, 2)
    h = F.pad(h, ((K - 1) * int(dilation), 0))
    y = F.conv1d(h, W, None if b is None else _t(b, x), dilation=int(dilation))
    return y.transpose(1, 2).reshape(*lead, x.shape[-2], W.shape[0])


def gru(x: TensorLike, w_ih: TensorLike, w_hh: TensorLike, b_ih: TensorLike,
        b_hh: TensorLike, h0: TensorLike | None = None) -> torch.Tensor:
    """GRU: PyTorch's ``nn.GRU`` (one layer, batch_first) with gates r, z, n:
    ``x`` [B, T, I] (or [T, I]) -> hidden states [B, T, H]; h0 defaults to 0."""
    x = _t(x)
    unbatched = x.dim() == 2
    if unbatched:
        x = x.unsqueeze(0)
    w_ih, w_hh, b_ih, b_hh = (_t(a, x) for a in (w_ih, w_hh, b_ih, b_hh))
    H = w_hh.shape[1]
    hx = (torch.zeros(1, x.shape[0], H, dtype=x.dtype, device=x.device) if h0 is None
          else _t(h0, x).reshape(1, x.shape[0], H))
    y, _ = torch._VF.gru(x, hx, [w_ih, w_hh, b_ih, b_hh], True, 1, 0.0, False, False, True)
    return y[0] if unbatched else y


def concat(*xs: TensorLike) -> torch.Tensor:
    """CONCAT along the per-step axis, in argument order."""
    return torch.cat([_t(v) for v in xs], -1)


def slice_(x: TensorLike, start: int, length: int) -> torch.Tensor:
    """SLICE: ``x[..., start:start+length]``."""
    return _t(x)[..., start:start + length]


def add(a: TensorLike, b: TensorLike) -> torch.Tensor:
    return _t(a) + _t(b)


def mul(a: TensorLike, b: TensorLike) -> torch.Tensor:
    return _t(a) * _t(b)


def affine(x: TensorLike, scale: TensorLike, shift: TensorLike) -> torch.Tensor:
    """AFFINE: ``x·scale + shift`` (per-element constants)."""
    x = _t(x)
    return x * _t(scale, x) + _t(shift, x)


# -------------------------------------------------------------------- pitch


def yin_lags(n: int, sample_rate: float, fmin: float, fmax: float) -> tuple[int, int]:
    """(τmin, τmax) of PITCH_YIN for an n-sample frame."""
    tmin = math.floor(float(sample_rate) / float(fmax))
    tmax = min(math.ceil(float(sample_rate) / float(fmin)), n - 2)
    if tmin < 1 or tmax < tmin:
        raise ValueError(f"PITCH_YIN: a {n}-sample frame cannot hold lags {tmin}..{tmax}")
    return tmin, tmax


def _yin_cmnd(x: np.ndarray, tmax: int) -> np.ndarray:
    """Cumulative-mean-normalised difference d'(τ), τ = 0..tmax, for frames
    ``x`` [M, N] (float64). d(τ) = Σ_{j<W} (x_j − x_{j+τ})², W = N − tmax,
    computed as e0 + eτ − 2·r(τ) with an FFT correlation (float64)."""
    M, N = x.shape
    W = N - tmax
    L = 1 << int(math.ceil(math.log2(N + W)))
    a = x[:, :W]
    r = np.fft.irfft(np.conj(np.fft.rfft(a, L)) * np.fft.rfft(x, L), L)[:, : tmax + 1]
    c = np.concatenate([np.zeros((M, 1)), np.cumsum(x * x, axis=1)], axis=1)
    tau = np.arange(tmax + 1)
    e0 = c[:, W:W + 1]
    et = c[:, tau + W] - c[:, tau]
    d = np.maximum(e0 + et - 2.0 * r, 0.0)
    d[:, 0] = 0.0
    cum = np.cumsum(d[:, 1:], axis=1)
    dp = np.ones((M, tmax + 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        q = d[:, 1:] * tau[1:] / cum
    dp[:, 1:] = np.where(cum > 0, q, 1.0)
    return dp


def pitch_yin_np(frames: np.ndarray, sample_rate: float, fmin: float, fmax: float,
                 threshold: float) -> np.ndarray:
    """PITCH_YIN over frames [T, N] in float64 -> [T, 2] (f0 Hz, voicing),
    sequentially from zero state (the held f0 starts at 0)."""
    x = np.asarray(frames, dtype=np.float64)
    T, N = x.shape
    tmin, tmax = yin_lags(N, sample_rate, fmin, fmax)
    sr, thr = float(sample_rate), float(threshold)
    out = np.zeros((T, 2))
    ms = np.sum(x * x, axis=1) / N
    dps = _yin_cmnd(x, tmax)
    last = 0.0
    for t in range(T):
        if ms[t] < 1e-8:
            out[t] = (last, 0.0)
            continue
        dp = dps[t]
        below = np.nonzero(dp[tmin:] < thr)[0]
        voiced = below.size > 0
        if voiced:
            tau = tmin + int(below[0])
            while tau + 1 <= tmax and dp[tau + 1] < dp[tau]:
                tau += 1
        else:
            tau = tmin + int(np.argmin(dp[tmin:]))
        shift = 0.0
        if tau - 1 >= 1 and tau + 1 <= tmax:
            a, b, c = dp[tau - 1], dp[tau], dp[tau + 1]
            den = a - 2.0 * b + c
            if den > 0.0:
                shift = min(max(0.5 * (a - c) / den, -0.5), 0.5)
        v = min(max(1.0 - dp[tau], 0.0), 1.0)
        if voiced:
            last = sr / (tau + shift)
        else:
            v = min(v, 1.0 - thr)
        out[t] = (last, v)
    return out


def pitch_yin(frames: TensorLike, sample_rate: float, fmin: float, fmax: float,
              threshold: float) -> torch.Tensor:
    """PITCH_YIN: frames [..., T, N] -> [..., T, 2] holding (f0 Hz, voicing)
    per step, exactly the op's output value (``[..., 0]`` f0,
    ``[..., 1]`` voicing). Not differentiable (numpy float64 inside)."""
    fr = _t(frames)
    x = fr.detach().cpu().numpy().astype(np.float64)
    lead, (T, N) = x.shape[:-2], x.shape[-2:]
    flat = x.reshape(-1, T, N)
    out = np.stack([pitch_yin_np(f, sample_rate, fmin, fmax, threshold) for f in flat])
    return torch.from_numpy(out.reshape(*lead, T, 2)).to(fr.dtype if fr.is_floating_point()
                                                          else torch.float32)


def pitch_map(f0: TensorLike, voicing: TensorLike | None = None,
              params: PitchMapParams | None = None, **kw: float) -> torch.Tensor:
    """PITCH_MAP (:func:`voiceskin_tooling.pitchmap.pitch_map_np`) over the
    last-but-one axis. Either ``pitch_map(f0 [..., T], voicing [..., T],
    params)`` or ``pitch_map(yin [..., T, 2], params)``; the parameters may
    also be given as keywords (``target_mu=..., ...``). Returns [..., T]."""
    if isinstance(voicing, PitchMapParams) and params is None:
        voicing, params = None, voicing
    if params is None:
        params = PitchMapParams(**kw)
    elif kw:
        raise TypeError("pass either params or keyword parameters, not both")
    f = _t(f0)
    if voicing is None:
        if f.shape[-1] != 2:
            raise ValueError(f"pitch_map(yin): last axis must be (f0, voicing), is {f.shape}")
        f, v = f[..., 0], f[..., 1]
    else:
        v = _t(voicing)
    fn = f.detach().cpu().numpy().astype(np.float64)
    vn = v.detach().cpu().numpy().astype(np.float64)
    lead, T = fn.shape[:-1], fn.shape[-1]
    out = np.stack([pitch_map_np(a, b, params)
                    for a, b in zip(fn.reshape(-1, T), vn.reshape(-1, T))])
    dt = f.dtype if f.is_floating_point() else torch.float32
    return torch.from_numpy(out.reshape(*lead, T)).to(dt)


def running_mean_np(x: np.ndarray, gate: np.ndarray, prior: np.ndarray, warmup: float,
                    tau: float, vthreshold: float) -> np.ndarray:
    """RUNNING_MEAN over a whole sequence from zero state: ``x`` [T, C],
    ``gate`` [T], ``prior`` [C] -> [T, C] (float64) — the same maths as the
    C op. Where ``gate[t] >= vthreshold``: ``n += 1``, ``a = max(1/n, 1/tau)``,
    ``m += a·(x[t] − m)`` (``m`` starts at ``prior``); every step outputs
    ``w·m + (1 − w)·prior`` with ``w = min(n/warmup, 1)``. Non-finite inputs
    never enter the mean."""
    x = np.asarray(x, dtype=np.float64)
    g = np.asarray(gate, dtype=np.float64).reshape(-1)
    pr = np.asarray(prior, dtype=np.float64).reshape(-1)
    if x.ndim != 2 or x.shape[0] != g.shape[0] or x.shape[1] != pr.shape[0]:
        raise ValueError(f"running_mean: x {x.shape}, gate {g.shape}, prior {pr.shape} disagree")
    out = np.empty_like(x)
    m = pr.copy()
    n = 0.0
    inv_tau = 1.0 / tau
    for t in range(x.shape[0]):
        if g[t] >= vthreshold and np.isfinite(x[t]).all():
            n += 1.0
            m += max(1.0 / n, inv_tau) * (x[t] - m)
        w = min(n / warmup, 1.0)
        out[t] = w * m + (1.0 - w) * pr
    return out


def running_mean(x: TensorLike, gate: TensorLike, prior: TensorLike, warmup: float, tau: float,
                 vthreshold: float) -> torch.Tensor:
    """RUNNING_MEAN (:func:`running_mean_np`) over the last-but-one axis:
    ``x`` [..., T, C], ``gate`` [..., T] -> [..., T, C] in ``x``'s dtype (no
    gradient: the op has no weights and its input is the fixed front end)."""
    xt, gt = _t(x), _t(gate)
    xn = xt.detach().cpu().numpy()
    gn = gt.detach().cpu().numpy()
    T, C = xn.shape[-2:]
    pr = _t(prior).detach().cpu().numpy()
    out = np.stack([running_mean_np(a, b, pr, warmup, tau, vthreshold)
                    for a, b in zip(xn.reshape(-1, T, C), gn.reshape(-1, T))])
    dt = xt.dtype if xt.is_floating_point() else torch.float32
    return torch.from_numpy(out.reshape(xn.shape)).to(dt)


def argmin(x: TensorLike) -> torch.Tensor:
    """ARGMIN: ``x`` [..., G] -> [..., 1], the position of the smallest
    element refined by a parabola through it and its neighbours (in double):
    ``i`` = first index of the minimum over the finite elements (0 if none),
    and where ``0 < i < G−1``, ``d = x[i−1] − 2x[i] + x[i+1]`` and both
    neighbours are finite and ``d > 0``: ``p = i + clamp(0.5·(x[i−1] −
    x[i+1])/d, −1, 1)``, else ``p = i``. Not differentiable (an index)."""
    xt = _t(x)
    xd = xt.detach().to(torch.float64)
    fin = torch.isfinite(xd)
    G = xd.shape[-1]
    i = torch.where(fin, xd, torch.full_like(xd, math.inf)).argmin(-1, keepdim=True)
    i = torch.where(fin.any(-1, keepdim=True), i, torch.zeros_like(i))
    inner = (i > 0) & (i < G - 1)
    im, ip = (i - 1).clamp(min=0), (i + 1).clamp(max=G - 1)
    xm, x0, xp = xd.gather(-1, im), xd.gather(-1, i), xd.gather(-1, ip)
    d = xm - 2.0 * x0 + xp
    ok = inner & torch.isfinite(xm) & torch.isfinite(xp) & (d > 0)
    off = torch.where(ok, (0.5 * (xm - xp) / torch.where(ok, d, torch.ones_like(d))).clamp(-1.0, 1.0),
                      torch.zeros_like(d))
    dt = xt.dtype if xt.is_floating_point() else torch.float32
    return (i.to(torch.float64) + off).to(dt)


def nearest(x: TensorLike, keys: TensorLike, key_sq: TensorLike, values: TensorLike,
            k: int) -> torch.Tensor:
    """NEAREST: ``x`` [..., D] -> [..., C], the mean of the ``values`` rows
    [N, C] of the ``k`` rows of ``keys`` [N, D] nearest to ``x``: distance
    ``key_sq[n] − 2·(keys x)[n]`` in float32 (‖x‖² left out: the same for
    every row), a non-finite distance ranks after every finite one, ties go
    to the lower row; the picks are summed nearest first and divided by
    ``k``. Not differentiable in ``x`` (a choice); differentiable in
    ``values``."""
    xt = _t(x)
    kt = _t(keys).to(device=xt.device, dtype=torch.float32)
    sq = _t(key_sq).to(device=xt.device, dtype=torch.float32)
    vt = _t(values).to(device=xt.device)
    d = sq - 2.0 * (xt.detach().to(torch.float32) @ kt.T)                    # [..., N]
    d = torch.where(torch.isfinite(d), d, torch.full_like(d, math.inf))
    k = int(k)
    N = d.shape[-1]
    # the k + 8 smallest, then ordered by (distance, row): the lower row
    # first among equal distances; a query whose ties reach past those
    # candidates is sorted whole (a stable sort)
    m = min(N, k + 8)
    sv, si = torch.topk(d, m, dim=-1, largest=False, sorted=True)
    by_row = torch.argsort(si, dim=-1)
    ci, cv = si.gather(-1, by_row), sv.gather(-1, by_row)
    pick = ci.gather(-1, torch.sort(cv, dim=-1, stable=True).indices)[..., :k]
    if m < N:
        amb = sv[..., m - 1] <= sv[..., k - 1]
        if bool(amb.any()):
            pick[amb] = torch.sort(d[amb], dim=-1, stable=True).indices[..., :k]
    rows = vt[pick]                                                          # [..., k, C]
    acc = rows[..., 0, :]
    for j in range(1, int(k)):
        acc = acc + rows[..., j, :]
    return (acc / float(k)).to(xt.dtype if xt.is_floating_point() else torch.float32)


def warp(x: TensorLike, log_factor: TensorLike, positions: TensorLike) -> torch.Tensor:
    """WARP: ``x`` [..., C] sampled at the increasing ``positions`` [C] (e.g.
    band centres in Hz) resampled at ``positions / α``, ``α = exp(log_factor)``
    ([..., 1]; a non-finite value counts as 0, and it is clamped to
    [−700, 700]): ``y_c = x(pos_c/α)``, linear
    interpolation between neighbouring positions, clamped to the first and
    last (features move up in frequency by ``α``). Differentiable in ``x``."""
    xt = _t(x)
    s = _t(log_factor, xt).to(torch.float64)
    s = torch.where(torch.isfinite(s), s, torch.zeros_like(s))
    # |s| <= 700 keeps exp(-s) finite and non-zero: a position 0 would give
    # 0·inf = NaN below s ≈ -709.8; the clamp changes no float32 result
    s = s.clamp(-700.0, 700.0)
    pos = _t(positions).to(device=xt.device, dtype=torch.float64).reshape(-1)
    C = pos.numel()
    q = torch.clamp(pos * torch.exp(-s), pos[0], pos[-1])                # [..., C]
    j = (torch.searchsorted(pos, q.contiguous(), right=True) - 1).clamp(0, C - 2)
    w = ((q - pos[j]) / (pos[j + 1] - pos[j])).to(xt.dtype)
    return xt.gather(-1, j) * (1 - w) + xt.gather(-1, j + 1) * w


# -------------------------------------------------------------- synthesis


def _interp(env: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """env [..., B] linearly interpolated at positions p (broadcast to
    [..., K], 0 <= p <= B−1): env[i]·(1−fr) + env[i+1]·fr, i = min(⌊p⌋, B−2)."""
    B = env.shape[-1]
    i = torch.clamp(torch.floor(p), max=B - 2).to(torch.long)
    fr = (p - i.to(p.dtype)).to(env.dtype)
    shape = torch.broadcast_shapes(env.shape[:-1] + (1,), i.shape)
    i = i.expand(shape)
    e0 = torch.gather(env.expand(*shape[:-1], B), -1, i)
    e1 = torch.gather(env.expand(*shape[:-1], B), -1, i + 1)
    return e0 * (1 - fr) + e1 * fr


def harmonic(f0: TensorLike, env: TensorLike, hop: int, max_harmonics: int,
             sample_rate: float, chunk: int = 64) -> torch.Tensor:
    """HARMONIC: f0 [B, T] (Hz), env [B, T, Bn] (linear magnitudes at
    ``b·(sr/2)/(Bn−1)``) -> [B, T*hop]. Phase and frequency in float64;
    differentiable w.r.t. env (and f0). ``chunk`` harmonics are summed at a
    time (memory)."""
    env = _t(env)
    f0 = _t(f0)
    if f0.dim() == env.dim():  # [B, T, 1]
        f0 = f0[..., 0]
    Bsz, T = f0.shape
    Bn = env.shape[-1]
    sr = float(sample_rate)
    nyq = 0.5 * sr
    fd = f0.to(torch.float64)
    fd = torch.where(torch.isfinite(fd), fd, torch.zeros_like(fd))   # NaN/Inf f0: 0
    prev = torch.cat([torch.zeros_like(fd[:, :1]), fd[:, :-1]], 1)
    prev = torch.where(prev == 0, fd, prev)
    t = torch.arange(1, hop + 1, dtype=torch.float64, device=fd.device) / hop   # [hop]
    f = prev.unsqueeze(-1) + t * (fd - prev).unsqueeze(-1)                    # [B,T,hop]
    phase = torch.remainder(torch.cumsum((TWO_PI / sr) * f.reshape(Bsz, T * hop), -1),
                            TWO_PI).reshape(Bsz, T, hop)
    k = torch.arange(1, max_harmonics + 1, dtype=torch.float64, device=fd.device)
    kf = fd.unsqueeze(-1) * k                                                 # [B,T,K]
    ok = (fd.unsqueeze(-1) > 0) & (kf < nyq)
    p = torch.where(ok, kf * (Bn - 1) / nyq, torch.zeros_like(kf))
    A = torch.where(ok, _interp(env, p), 0.0)
    A_prev = torch.cat([torch.zeros_like(A[:, :1]), A[:, :-1]], 1)
    # harmonics never above Nyquist in any frame contribute nothing
    live = int(ok.any(0).any(0).nonzero().max().item()) + 1 if bool(ok.any()) else 0
    # y_j = Σ_k A_prev,k·sin(kφ_j) + t_j·Σ_k (A_k − A_prev,k)·sin(kφ_j): one
    # batched product with both amplitude columns per chunk of harmonics.
    # sin(kφ) in the envelope's dtype (the phase itself is float64 and
    # wrapped, so float32 loses < 3e-5 rad).
    y = torch.zeros(Bsz, T, hop, dtype=env.dtype, device=env.device)
    tt = t.to(env.dtype)                                                      # [hop]
    ph = phase.to(env.dtype).unsqueeze(-1)                                    # [B,T,hop,1]
    kk = k.to(env.dtype)
    AA = torch.stack([A_prev, A - A_prev], -1)                                # [B,T,K,2]
    for k0 in range(0, live, chunk):
        k1 = min(k0 + chunk, live)
        s = torch.sin(ph * kk[k0:k1])                                         # [B,T,hop,kc]
        r = s @ AA[..., k0:k1, :]                                             # [B,T,hop,2]
        y = y + r[..., 0] + tt * r[..., 1]
    return y.reshape(Bsz, T * hop)


def hashed_noise(steps: int, n: int, seed: int, start_step: int = 0) -> np.ndarray:
    """NOISE's white noise [steps, n] (float64, exact): ``2·h/2^24 − 1`` with
    h = lowbias32(seed ^ (i·0x9E3779B9)) >> 8, i = c·n + j (mod 2^32)."""
    M = np.uint64(0xFFFFFFFF)
    c = np.arange(start_step, start_step + steps, dtype=np.uint64)[:, None]
    i = (c * np.uint64(n) + np.arange(n, dtype=np.uint64)[None, :]) & M
    x = (np.uint64(seed & 0xFFFFFFFF) ^ ((i * np.uint64(0x9E3779B9)) & M)) & M
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x7FEB352D)) & M
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(0x846CA68B)) & M
    x ^= x >> np.uint64(16)
    h = (x >> np.uint64(8)).astype(np.float64)
    return 2.0 * h / 16777216.0 - 1.0


def noise(env: TensorLike, hop: int, seed: int, random: bool = False) -> torch.Tensor:
    """NOISE: env [B, T, Bn] -> [B, T*hop]: per step, white noise of
    N = 2·hop samples filtered by the envelope (linear interpolation at
    rfft bin k: position k·(Bn−1)/(N/2)), Hann-windowed, overlap-added.
    ``random=False``: the runtime's exact hashed noise for ``seed``;
    ``random=True``: fresh ``torch.rand`` noise (training)."""
    env = _t(env)
    Bsz, T, Bn = env.shape
    n = 2 * hop
    if n & (n - 1):
        raise ValueError(f"NOISE needs 2·hop a power of two (hop {hop})")
    if random:
        u = torch.rand(Bsz, T, n, dtype=env.dtype, device=env.device) * 2 - 1
    else:
        u = torch.from_numpy(hashed_noise(T, n, int(seed))).to(env.device, env.dtype)
        u = u.expand(Bsz, T, n)
    half = n // 2
    pos = torch.arange(half + 1, dtype=torch.float64, device=env.device) * (Bn - 1) / half
    H = _interp(env, pos)                                                     # [B,T,half+1]
    v = torch.fft.irfft(torch.fft.rfft(u) * H, n=n) * hann(n, env.dtype).to(env.device)
    head, tail = v[..., :hop], v[..., hop:]
    tail = torch.cat([torch.zeros_like(tail[:, :1]), tail[:, :-1]], 1)
    return (head + tail).reshape(Bsz, T * hop)


# ------------------------------------------------------------ int8 weights


def matvec_q8(w: Any, x: Any, bias: Any | None = None) -> np.ndarray:
    """LINEAR with an int8 weight (:class:`voiceskin.format.Int8Weight`), as
    the runtime computes it (docs/bundle-format.md, "int8 weights"): per row
    of ``x`` [..., I] (float32 values), ``m = max|x|``, ``q = rint(x·(127/m))``
    in float32 arithmetic (half to even), ``y = (q · Wq) · (scale·m/127)
    (+ bias)``; m = 0 gives the bias; a non-finite m the float product with
    the dequantised weight. Returns float64 [..., O] of the exact integer
    sums times the float32 scales."""
    xs = np.asarray(x, dtype=np.float32)
    lead = xs.shape[:-1]
    X = xs.reshape(-1, xs.shape[-1])
    m = np.max(np.abs(X), axis=1) if X.shape[1] else np.zeros(X.shape[0], np.float32)
    finite = np.isfinite(m) & ~np.any(np.isnan(X), axis=1)
    safe = np.where(finite & (m > 0), m, np.float32(1)).astype(np.float32)
    inv = (np.float32(127) / safe).astype(np.float32)
    xq = np.rint((X * inv[:, None]).astype(np.float32)).astype(np.float64)
    xq[~(finite & (m > 0))] = 0.0
    acc = xq @ np.asarray(w.q, np.float64).T                      # exact: < 2^53
    sx = (safe / np.float32(127)).astype(np.float32)
    mult = (np.asarray(w.scale, np.float32)[None, :] * sx[:, None]).astype(np.float32)
    y = acc.astype(np.float32).astype(np.float64) * mult.astype(np.float64)
    if (~finite).any():
        y[~finite] = X[~finite].astype(np.float64) @ w.dequantised().astype(np.float64).T
    if bias is not None:
        y = y + np.asarray(bias, np.float64)
    return y.reshape(*lead, -1)


def linear_q8(x: TensorLike, w: Any, b: TensorLike | None) -> torch.Tensor:
    """LINEAR whose W is int8 (see :func:`matvec_q8`)."""
    xt = _t(x)
    bb = None if b is None else _t(b).detach().cpu().numpy()
    return torch.from_numpy(matvec_q8(w, xt.detach().cpu().numpy(), bb)).to(xt.dtype)


def gru_q8(x: TensorLike, w_ih: Any, w_hh: Any, b_ih: TensorLike, b_hh: TensorLike
           ) -> torch.Tensor:
    """GRU step by step where W_ih and/or W_hh are int8 (:func:`matvec_q8`;
    a float one is an ordinary product): ``x`` [T, I] or [1, T, I] ->
    [..., T, H]. The hidden state stays float (float32, as the runtime keeps
    it); the gates are computed in float64."""
    xt = _t(x)
    X = xt.detach().cpu().numpy().reshape(-1, xt.shape[-1])
    bi, bh = (np.asarray(_t(v).detach().cpu().numpy(), np.float64) for v in (b_ih, b_hh))

    def mv(w: Any, v: np.ndarray, b: np.ndarray) -> np.ndarray:
        if hasattr(w, "q"):
            return matvec_q8(w, v.astype(np.float32), b)
        wf = np.asarray(_t(w).detach().cpu().numpy(), np.float64)
        return wf @ v.astype(np.float64) + b

    H = bh.shape[0] // 3
    h = np.zeros(H, np.float32)
    out = np.zeros((X.shape[0], H), np.float64)
    gx = mv(w_ih, X.astype(np.float32), bi) if hasattr(w_ih, "q") else None
    for t in range(X.shape[0]):
        gi = (gx[t] if gx is not None else mv(w_ih, X[t], bi)).astype(np.float32).astype(np.float64)
        gh = mv(w_hh, h, bh).astype(np.float32).astype(np.float64)
        r = 1.0 / (1.0 + np.exp(-(gi[:H] + gh[:H])))
        z = 1.0 / (1.0 + np.exp(-(gi[H:2 * H] + gh[H:2 * H])))
        n = np.tanh(gi[2 * H:] + r * gh[2 * H:])
        h = ((1.0 - z) * n + z * h).astype(np.float32)
        out[t] = h
    return torch.from_numpy(out.reshape(*xt.shape[:-1], H)).to(xt.dtype)
