"""A tier's graph as a per-step PyTorch module, for the peer benchmarks.

``StepModule(graph, tensors, sample_rate)`` runs one graph step per call:
``forward(x_hop, *state) -> (y_hop, *new_state)`` with every op's streaming
state passed explicitly, so the same module streams in eager PyTorch and
exports to ONNX (``torch.onnx.export``) for onnxruntime. It follows the op
maths of docs/bundle-format.md closely enough for a cost comparison (the
FFTs are written as DFT matrix products, which ONNX runs as GEMMs; the noise
is ``rand``-based, not the runtime's hash). It is a benchmark peer, not a
reference: ``voiceskin_tooling.refgraph`` is the reference.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from voiceskin.graph import Op

TWO_PI = 2.0 * math.pi


def _dft_mats(n: int, win: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Real/imag rfft matrices [win, n/2+1] for a zero-padded length-n DFT."""
    win = n if win is None else win
    j = np.arange(win)[:, None]
    k = np.arange(n // 2 + 1)[None, :]
    ang = -2.0 * np.pi * j * k / n
    return (torch.tensor(np.cos(ang), dtype=torch.float32),
            torch.tensor(np.sin(ang), dtype=torch.float32))


def _idft_mats(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """irfft as y = Re·C + Im·S, [n/2+1, n]."""
    k = np.arange(n // 2 + 1)[:, None]
    j = np.arange(n)[None, :]
    w = np.full((n // 2 + 1, 1), 2.0)
    w[0] = 1.0
    w[-1] = 1.0
    ang = 2.0 * np.pi * k * j / n
    return (torch.tensor(w * np.cos(ang) / n, dtype=torch.float32),
            torch.tensor(-w * np.sin(ang) / n, dtype=torch.float32))


def _interp_mat(B: int, pos: np.ndarray) -> torch.Tensor:
    """[B, len(pos)] matrix doing linear interpolation of a B-vector."""
    M = np.zeros((B, len(pos)), dtype=np.float32)
    for c, p in enumerate(pos):
        i = min(int(math.floor(p)), B - 2)
        fr = p - i
        M[i, c] += 1 - fr
        M[i + 1, c] += fr
    return torch.tensor(M)


class StepModule(nn.Module):
    def __init__(self, graph: Any, tensors: Sequence[np.ndarray], hop: int) -> None:
        super().__init__()
        self.graph = graph
        self.hop = hop
        # an int8 weight (voiceskin.format.Int8Weight) runs as its float
        # equivalent q·scale: the peers have no int8 kernels of this layout
        self.consts = nn.ParameterList(
            [nn.Parameter(torch.tensor(np.asarray(t.dequantised() if hasattr(t, "dequantised") else t,
                                                  dtype=np.float32)), requires_grad=False)
             for t in tensors])
        self.state_shapes: list[tuple[int, ...]] = []
        self.node_state: list[int] = []  # first state index per node (-1 none)
        self.aux: dict[int, Any] = {}
        vs = graph.value_sizes
        for idx, nd in enumerate(graph.nodes):
            op = Op(nd.op)
            first = len(self.state_shapes)
            if op == Op.FRAME:
                self.state_shapes.append((nd.iattr[0],))
            elif op == Op.CONV1D:
                W = tensors[nd.consts[0]]
                d = nd.iattr[0]
                self.state_shapes.append(((W.shape[2] - 1) * d + 1, W.shape[1]))
            elif op == Op.GRU:
                self.state_shapes.append((vs[nd.outputs[0]],))
            elif op == Op.PITCH_YIN:
                self.state_shapes.append((1,))  # last voiced f0
                n = vs[nd.inputs[0]]
                sr, fmin, fmax = nd.fattr[0], nd.fattr[1], nd.fattr[2]
                tmin = math.floor(sr / fmax)
                tmax = min(math.ceil(sr / fmin), n - 2)
                W = n - tmax
                idx_t = torch.arange(tmax + 1)[:, None] + torch.arange(W)[None, :]
                self.aux[idx] = (tmin, tmax, W, idx_t)
            elif op == Op.PITCH_MAP:
                self.state_shapes.append((3,))  # n, m, s2
            elif op == Op.RUNNING_MEAN:
                self.state_shapes.append((vs[nd.inputs[0]] + 1,))  # n, mean − prior
            elif op == Op.HARMONIC:
                K = nd.iattr[1]
                self.state_shapes += [(1,), (1,), (K,)]  # phase, f0_prev, A_prev
                B = vs[nd.inputs[1]]
                self.aux[idx] = (K, B)
            elif op == Op.NOISE:
                self.state_shapes.append((hop,))
                n = 2 * hop
                B = vs[nd.inputs[0]]
                pos = np.arange(n // 2 + 1) * (B - 1) / (n // 2)
                C, S = _dft_mats(n)
                IC, IS = _idft_mats(n)
                win = torch.tensor(0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n),
                                   dtype=torch.float32)
                self.aux[idx] = (C, S, IC, IS, _interp_mat(B, pos), win)
            elif op == Op.STFT_MAG:
                win = vs[nd.inputs[0]]
                C, S = _dft_mats(nd.iattr[0], win)
                w = torch.tensor(np.asarray(tensors[nd.consts[0]], np.float32))
                self.aux[idx] = (C * w[:, None], S * w[:, None])
            self.node_state.append(first if len(self.state_shapes) > first else -1)

    def initial_state(self) -> list[torch.Tensor]:
        return [torch.zeros(s) for s in self.state_shapes]

    def forward(self, x: torch.Tensor, *state: torch.Tensor):  # noqa: C901 (one op table)
        g = self.graph
        hop = self.hop
        vals: dict[int, torch.Tensor] = {g.input_value: x}
        new_state = list(state)
        c = self.consts
        for idx, nd in enumerate(g.nodes):
            op = Op(nd.op)
            ins = [vals[i] for i in nd.inputs]
            si = self.node_state[idx]
            if op == Op.FRAME:
                buf = torch.cat([state[si][hop:], ins[0]])
                new_state[si] = buf
                y = buf
            elif op == Op.STFT_MAG:
                C, S = self.aux[idx]
                re, im = ins[0] @ C, ins[0] @ S
                y = torch.sqrt(re * re + im * im)
            elif op == Op.LINEAR:
                y = c[nd.consts[0]] @ ins[0]
                if len(nd.consts) > 1:
                    y = y + c[nd.consts[1]]
            elif op == Op.ACT:
                k = nd.iattr[0]
                x0 = ins[0]
                y = [x0, torch.relu(x0), torch.tanh(x0), torch.sigmoid(x0),
                     nn.functional.softplus(x0),
                     2.0 * torch.sigmoid(x0) ** math.log(10.0) + 1e-7][k]
            elif op == Op.LOG:
                y = torch.log(torch.clamp(ins[0], min=nd.fattr[0]))
            elif op == Op.CONV1D:
                W = c[nd.consts[0]]
                d = nd.iattr[0]
                hist = torch.cat([state[si][1:], ins[0][None, :]])  # [(K-1)d+1, Cin]
                new_state[si] = hist
                taps = hist[::d]  # K rows, oldest first
                y = torch.einsum("oik,ki->o", W, taps) + c[nd.consts[1]]
            elif op == Op.GRU:
                w_ih, w_hh, b_ih, b_hh = (c[i] for i in nd.consts)
                h = state[si]
                gi = w_ih @ ins[0] + b_ih
                gh = w_hh @ h + b_hh
                H = h.shape[0]
                r = torch.sigmoid(gi[:H] + gh[:H])
                z = torch.sigmoid(gi[H:2 * H] + gh[H:2 * H])
                n = torch.tanh(gi[2 * H:] + r * gh[2 * H:])
                y = (1 - z) * n + z * h
                new_state[si] = y
            elif op == Op.CONCAT:
                y = torch.cat(ins)
            elif op == Op.SLICE:
                y = ins[0][nd.iattr[0]:nd.iattr[0] + nd.iattr[1]]
            elif op == Op.ADD:
                y = ins[0] + ins[1]
            elif op == Op.MUL:
                y = ins[0] * ins[1]
            elif op == Op.AFFINE:
                y = ins[0] * c[nd.consts[0]] + c[nd.consts[1]]
            elif op == Op.PITCH_YIN:
                y, new_state[si] = self._yin(idx, nd, ins[0], state[si])
            elif op == Op.PITCH_MAP:
                y, new_state[si] = self._pmap(nd, ins[0], state[si])
            elif op == Op.RUNNING_MEAN:
                y, new_state[si] = self._rmean(nd, ins[0], ins[1], c[nd.consts[0]], state[si])
            elif op == Op.ARGMIN:
                y = self._argmin(ins[0])
            elif op == Op.WARP:
                y = self._warp(ins[0], ins[1], c[nd.consts[0]])
            elif op == Op.HARMONIC:
                y, a, b, cc = self._harm(idx, nd, ins[0], ins[1], *state[si:si + 3])
                new_state[si:si + 3] = [a, b, cc]
            elif op == Op.NOISE:
                y, new_state[si] = self._noise(idx, ins[0], state[si])
            else:  # every v1 op is handled above; a newer op code is refused
                raise ValueError(f"op {op!r} has no per-step peer implementation")
            vals[nd.outputs[0]] = y
        return (vals[g.output_value], *new_state)

    def _yin(self, idx: int, nd: Any, x: torch.Tensor, last: torch.Tensor):
        tmin, tmax, W, idx_t = self.aux[idx]
        thr = nd.fattr[3]
        sr = nd.fattr[0]
        seg = x[idx_t]                                   # [tmax+1, W]
        d = ((x[:W][None, :] - seg) ** 2).sum(-1)        # d(0..tmax)
        tau = torch.arange(tmax + 1, dtype=x.dtype)
        cum = torch.cumsum(d[1:], 0)
        dp = torch.cat([torch.ones(1), torch.where(cum > 0, d[1:] * tau[1:] / cum.clamp(min=1e-30),
                                                   torch.ones_like(cum))])
        rng = dp[tmin:]
        below = rng < thr
        voiced = below.any()
        first = torch.argmax(below.to(torch.int64))
        # walk on while falling: first rising point at or after `first`
        rising = torch.cat([rng[1:] >= rng[:-1], torch.ones(1, dtype=torch.bool)])
        after = torch.arange(rng.shape[0]) >= first
        t_v = torch.argmax((rising & after).to(torch.int64))
        t = torch.where(voiced, t_v, torch.argmin(rng)) + tmin
        t = torch.clamp(t, 2, tmax - 1)
        a, b, cc = dp[t - 1], dp[t], dp[t + 1]
        den = a - 2 * b + cc
        shift = torch.where(den > 0, torch.clamp(0.5 * (a - cc) / den.clamp(min=1e-30), -0.5, 0.5),
                            torch.zeros(()))
        v = torch.clamp(1 - b, 0, 1)
        f0 = torch.where(voiced, sr / (t.to(x.dtype) + shift), last[0])
        v = torch.where(voiced, v, torch.clamp(v, max=1 - thr))
        return torch.stack([f0, v]), f0.reshape(1)

    def _pmap(self, nd: Any, p: torch.Tensor, st: torch.Tensor):
        tmu, tsig, pmu, psig, warm, tau, vthr = nd.fattr[:7]
        f0, v = p[0], p[1]
        pos = f0 > 0
        lf = torch.log(torch.clamp(f0, min=1e-6))
        voiced = pos & (v >= vthr)
        n = st[0] + voiced.to(st.dtype)
        a = torch.clamp(torch.maximum(1.0 / n.clamp(min=1), torch.full((), 1.0 / tau)), max=1.0)
        m = torch.where(voiced, st[1] + a * (lf - st[1]), st[1])
        s2 = torch.where(voiced, st[2] + a * ((lf - m) ** 2 - st[2]), st[2])
        w = torch.clamp(n / warm, max=1.0)
        mu = w * m + (1 - w) * pmu
        sig = torch.clamp(w * torch.sqrt(s2) + (1 - w) * psig, min=0.02)
        out = torch.where(pos, torch.exp(tmu + tsig * (lf - mu) / sig), torch.zeros(()))
        return out.reshape(1), torch.stack([n, m, s2])

    @staticmethod
    def _argmin(x: torch.Tensor) -> torch.Tensor:
        G = x.shape[0]
        fin = torch.isfinite(x)
        i = torch.argmin(torch.where(fin, x, torch.full_like(x, float("inf"))))
        im, ip = torch.clamp(i - 1, min=0), torch.clamp(i + 1, max=G - 1)
        xm, x0, xp = x[im], x[i], x[ip]
        d = xm - 2.0 * x0 + xp
        ok = (i > 0) & (i < G - 1) & torch.isfinite(xm) & torch.isfinite(xp) & (d > 0)
        off = torch.clamp(0.5 * (xm - xp) / torch.where(ok, d, torch.ones_like(d)), -1.0, 1.0)
        return (i.to(x.dtype) + torch.where(ok, off, torch.zeros_like(off))).reshape(1)

    @staticmethod
    def _warp(x: torch.Tensor, s: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        C = x.shape[0]
        s = torch.clamp(torch.where(torch.isfinite(s), s, torch.zeros_like(s)), -80.0, 80.0)
        q = torch.minimum(torch.maximum(pos * torch.exp(-s), pos[:1]), pos[-1:])
        j = torch.clamp((pos[None, :] <= q[:, None]).sum(-1) - 1, 0, C - 2)
        p0, p1 = pos[j], pos[j + 1]
        w = (q - p0) / (p1 - p0)
        return x[j] * (1 - w) + x[j + 1] * w

    def _rmean(self, nd: Any, x: torch.Tensor, gate: torch.Tensor, prior: torch.Tensor,
               st: torch.Tensor):
        warm, tau, vthr = nd.fattr[:3]
        upd = (gate[0] >= vthr) & torch.isfinite(x).all()
        n = st[0] + upd.to(st.dtype)
        a = torch.maximum(1.0 / n.clamp(min=1), torch.full((), 1.0 / tau))
        d = torch.where(upd, st[1:] + a * ((x - prior) - st[1:]), st[1:])
        w = torch.clamp(n / warm, max=1.0)
        return prior + w * d, torch.cat([n.reshape(1), d])

    def _harm(self, idx: int, nd: Any, f0v: torch.Tensor, env: torch.Tensor,
              phase: torch.Tensor, fprev: torch.Tensor, aprev: torch.Tensor):
        K, B = self.aux[idx]
        hop = self.hop
        sr = nd.fattr[0]
        nyq = 0.5 * sr
        f0 = f0v[0]
        k = torch.arange(1, K + 1, dtype=env.dtype)
        kf = f0 * k
        ok = (f0 > 0) & (kf < nyq)
        p = torch.where(ok, kf * (B - 1) / nyq, torch.zeros_like(kf))
        i = torch.clamp(torch.floor(p), max=B - 2).to(torch.int64)
        fr = p - i.to(p.dtype)
        A = torch.where(ok, env[i] * (1 - fr) + env[i + 1] * fr, torch.zeros_like(kf))
        fp = torch.where(fprev[0] == 0, f0, fprev[0])
        t = torch.arange(1, hop + 1, dtype=env.dtype) / hop
        f = fp + t * (f0 - fp)
        ph = torch.remainder(phase[0] + torch.cumsum(TWO_PI / sr * f, 0), TWO_PI)
        s = torch.sin(ph[:, None] * k[None, :])                       # [hop, K]
        amp = aprev[None, :] + t[:, None] * (A - aprev)[None, :]
        y = (amp * s).sum(-1)
        return y, ph[-1:].clone(), f0.reshape(1), A

    def _noise(self, idx: int, env: torch.Tensor, ola: torch.Tensor):
        C, S, IC, IS, M, win = self.aux[idx]
        hop = self.hop
        u = torch.rand(2 * hop) * 2 - 1
        H = env @ M
        re, im = (u @ C) * H, (u @ S) * H
        v = (re @ IC + im @ IS) * win
        return ola + v[:hop], v[hop:]
