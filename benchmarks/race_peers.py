"""The fair race's peer: a tier's student as one straight-line PyTorch module.

``StraightStudent(student)`` computes one 4 ms graph step (``hop`` samples at
the model rate) of the function the runtime runs for
``voiceskin_tooling.student.export(student)``, written the way a PyTorch
user would write it: ``torch.fft`` for the STFT, YIN's difference function
(an FFT autocorrelation, float64 as the runtime) and the noise filter,
``nn.GRUCell``, matrix products for LINEAR/CONV1D, no per-node graph walk.
``forward(x, state) -> [y, *new_state]`` passes every streaming state
explicitly, so the same module runs eagerly, as TorchScript
(``torch.jit.script``), under ``torch.compile`` and exports to one ONNX
graph per step (:class:`FlatStep`). It covers the student as the built-in
tier presets configure it (speaker and formant normalisation, lookahead,
voicing gate, a dense layer, one GRU layer).

benchmarks/bench_race.py times it against the native library;
tests/test_bench_race_lobby.py checks that it matches the library.
"""
from __future__ import annotations

import copy
import math
from typing import List

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from step_torch import _dft_mats, _idft_mats
from voiceskin_tooling import student as st

TWO_PI = 2.0 * math.pi
MASK = 0xFFFFFFFF


def _f32(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to(torch.float32).clone()


def _interp_index(pos: np.ndarray, B: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(i, fr) of linear interpolation of a B-vector at positions pos."""
    i = np.minimum(np.floor(pos), B - 2).astype(np.int64)
    return torch.from_numpy(i), torch.from_numpy((pos - i).astype(np.float32))


class StraightStudent(nn.Module):
    """One graph step of ``student``. ``dft=False``: FFTs by ``torch.fft``;
    ``dft=True``: the STFT and the noise filter as DFT matrix products and
    YIN's difference function as a product over its lags (what exports to
    ONNX: the TorchScript-based exporter has no FFT)."""

    def __init__(self, s: st.Student, dft: bool = False) -> None:
        super().__init__()
        self.dft = dft
        c, p = s.cfg, s.cfg.pitch
        if not (c.norm_tau > 0 and c.warp_grid and c.voicing_gate and c.hidden and c.gru_layers == 1
                and not c.skip and not c.norm_keep_mean):
            raise ValueError("StraightStudent covers the tier presets' student only")
        self.hop, self.win, self.n_fft = c.hop, c.win, c.n_fft
        self.pframe, self.buf_len = p.frame, max(c.win, p.frame)
        self.log_eps, self.sr = float(c.log_eps), float(c.sample_rate)
        self.register_buffer("window", torch.from_numpy(st.hann(c.win)))
        self.register_buffer("mel", torch.from_numpy(st._cfg_mel_filterbank(c)))
        # PITCH_YIN (float64 as the runtime)
        self.tmin = math.floor(c.sample_rate / p.fmax)
        self.tmax = min(math.ceil(c.sample_rate / p.fmin), p.frame - 2)
        self.yW = p.frame - self.tmax
        self.yL = 1 << math.ceil(math.log2(p.frame + self.yW))
        self.thr = float(p.threshold)
        self.register_buffer("tau", torch.arange(self.tmax + 1, dtype=torch.float64))
        # PITCH_MAP, RUNNING_MEAN
        self.pm = tuple(float(v) for v in (p.target_mu, p.target_sigma, p.prior_mu, p.prior_sigma,
                                           p.warmup, p.tau, p.vthreshold))
        self.fmin = float(p.fmin)
        self.norm_warmup, self.norm_tau = float(c.norm_warmup), float(c.norm_tau)
        self.register_buffer("prior", _f32(s.norm_prior))
        # formant normalisation: warp fit, ARGMIN on the log grid, WARP
        self.G = c.warp_grid
        self.warp_lo, self.warp_step = st.warp_log_grid(c.warp_grid, c.warp_range)
        self.register_buffer("warp_W", _f32(s.warp_W))
        self.register_buffer("warp_b", _f32(s.warp_b))
        self.register_buffer("warp_pos", _f32(s.warp_pos).to(torch.float64))
        self.register_buffer("inv_std", _f32(1.0 / s.feat_std))
        self.register_buffer("mean_std", _f32(s.feat_mean / s.feat_std))
        # network: CONV1D as one matrix product over the taps
        self.kernel = c.kernel
        self.dil = [s.dilation(i) for i in range(c.conv_layers)]
        self.convs = nn.ModuleList()
        for conv in s.convs:
            W = conv.weight.detach()                                  # [Cout, Cin, K]
            lin = nn.Linear(W.shape[1] * W.shape[2], W.shape[0])
            lin.weight.data = _f32(W.permute(0, 2, 1).reshape(W.shape[0], -1))
            lin.bias.data = _f32(conv.bias)
            self.convs.append(lin)
        self.cell = nn.GRUCell(s.gru.input_size, s.gru.hidden_size)
        for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(self.cell, n).data = _f32(getattr(s.gru, f"{n}_l0"))
        self.dense, self.harm_head, self.noise_head = (copy.deepcopy(m) for m in (s.dense, s.harm_head,
                                                                                s.noise_head))
        self.D = c.pitch_delay_steps   # synthesis f0/voicing: lookahead − what the master reads ahead
        self.gate_k, self.vthr = float(c.voicing_gate), float(p.vthreshold)
        # HARMONIC, NOISE
        self.K, self.Bh, self.Bn = c.max_harmonics, c.harm_bins, c.noise_bins
        self.register_buffer("k", torch.arange(1, c.max_harmonics + 1, dtype=torch.float64))
        self.register_buffer("t", torch.arange(1, c.hop + 1, dtype=torch.float64) / c.hop)
        n = 2 * c.hop
        i, fr = _interp_index(np.arange(c.hop + 1) * (c.noise_bins - 1) / c.hop, c.noise_bins)
        self.register_buffer("noise_i", i)
        self.register_buffer("noise_fr", fr)
        self.register_buffer("noise_win", torch.from_numpy(st.hann(n)))
        self.register_buffer("noise_j", torch.arange(n, dtype=torch.int64))
        self.seed, self.mask = int(c.noise_seed) & MASK, MASK
        self.two_pi, self.ln10 = TWO_PI, st.LN10
        # the DFT-product form (empty tensors when unused)
        e = torch.zeros(0)
        C, S = _dft_mats(c.n_fft, c.win) if dft else (e, e)
        IC, IS = _idft_mats(n) if dft else (e, e)
        w, hw = (self.window[:, None], self.noise_win[None, :]) if dft else (e, e)
        self.register_buffer("stft_c", C * w)
        self.register_buffer("stft_s", S * w)
        C, S = _dft_mats(n) if dft else (e, e)
        for name, a in (("nz_c", C), ("nz_s", S), ("nz_ic", IC * hw), ("nz_is", IS * hw)):
            self.register_buffer(name, a)
        lag = torch.arange(self.tmax + 1)[:, None] + torch.arange(self.yW)[None, :]
        self.register_buffer("yin_idx", lag if dft else torch.zeros(0, dtype=torch.int64))
        self.requires_grad_(False)

    def initial_state(self) -> List[torch.Tensor]:
        z64 = lambda *s: torch.zeros(*s, dtype=torch.float64)  # noqa: E731
        return ([torch.zeros(self.buf_len), z64(1), z64(3), z64(1), self.prior.clone()]
                + [torch.zeros((self.kernel - 1) * d + 1, lin.in_features // self.kernel)
                   for d, lin in zip(self.dil, self.convs)]
                + [torch.zeros(self.cell.hidden_size), torch.zeros(self.D + 1, 2),
                   z64(2), torch.zeros(self.K), torch.zeros(self.hop),
                   torch.zeros(1, dtype=torch.int64)])

    def _yin(self, x: torch.Tensor, last: torch.Tensor):
        """(f0, voicing, new last f0), float64."""
        x = x.to(torch.float64)
        tmin, tmax, W = self.tmin, self.tmax, self.yW
        if self.dft:  # r(τ) = Σ_j<W x_j·x_j+τ as one product over the lags
            r = x[self.yin_idx] @ x[:W]
        else:
            r = torch.fft.irfft(torch.conj(torch.fft.rfft(x[:W], n=self.yL)) * torch.fft.rfft(x, n=self.yL),
                                n=self.yL)[: tmax + 1]
        cs = F.pad(torch.cumsum(x * x, 0), (1, 0))
        d = torch.clamp(cs[W] + cs[W:W + tmax + 1] - cs[: tmax + 1] - 2.0 * r, min=0.0)[1:]
        cum = torch.cumsum(d, 0)
        dp = torch.cat([torch.ones(1, dtype=x.dtype),
                        torch.where(cum > 0, d * self.tau[1:] / torch.clamp(cum, min=1e-300),
                                    torch.ones_like(cum))])
        rng = dp[tmin:]
        below = rng < self.thr
        silent = cs[-1] / x.shape[0] < 1e-8
        voiced = below.any() & ~silent
        idx = torch.arange(rng.shape[0])
        first = torch.argmax(below.to(torch.int64))
        rising = torch.cat([rng[1:] >= rng[:-1], torch.ones(1, dtype=torch.bool)])
        t_v = torch.argmax((rising & (idx >= first)).to(torch.int64))
        tau = (torch.where(voiced, t_v, torch.argmin(rng)) + tmin).reshape(1)  # 1-element indices
        inner = (tau >= 2) & (tau + 1 <= tmax)
        ti = torch.clamp(tau, 2, tmax - 1)
        a, b, c = dp[ti - 1], dp[tau], dp[ti + 1]
        den = a - 2.0 * b + c
        ok = inner & (den > 0)
        shift = torch.where(ok, torch.clamp(0.5 * (a - c) / torch.where(ok, den, torch.ones_like(den)),
                                            -0.5, 0.5), torch.zeros_like(den))
        v = torch.clamp(1.0 - b, 0.0, 1.0)
        f0 = torch.where(voiced, self.sr / (tau.to(x.dtype) + shift), last)
        v = torch.where(voiced, v, torch.clamp(v, max=1.0 - self.thr))
        v = torch.where(silent, torch.zeros_like(v), v)
        return f0, v

    def _pitch_map(self, f: torch.Tensor, v: torch.Tensor, s: torch.Tensor):
        tmu, tsig, pmu, psig, warm, tau, vthr = self.pm
        pos = (f > 0) & torch.isfinite(f)
        lf = torch.log(torch.where(pos, f, torch.ones_like(f)))
        upd = pos & (v >= vthr)
        n0, m0, v0 = s[0:1], s[1:2], s[2:3]
        n = n0 + upd.to(s.dtype)
        a = torch.clamp(1.0 / torch.clamp(n, min=1.0), min=1.0 / tau)
        m = torch.where(upd, m0 + a * (lf - m0), m0)
        s2 = torch.where(upd, v0 + a * ((lf - m) * (lf - m) - v0), v0)
        w = torch.clamp(n / warm, max=1.0)
        mu = w * m + (1.0 - w) * pmu
        sig = torch.clamp(w * torch.sqrt(s2) + (1.0 - w) * psig, min=0.02)
        out = torch.where(pos, torch.exp(tmu + tsig * (lf - mu) / sig), torch.zeros_like(f))
        return out, torch.cat([n, m, s2])

    def _argmin(self, e: torch.Tensor) -> torch.Tensor:
        e = e.to(torch.float64)
        G = e.shape[0]
        fin = torch.isfinite(e)
        i = torch.where(fin.any(), torch.argmin(torch.where(fin, e, torch.full_like(e, math.inf))),
                        torch.zeros((), dtype=torch.int64)).reshape(1)
        im, ip = torch.clamp(i - 1, min=0), torch.clamp(i + 1, max=G - 1)
        xm, x0, xp = e[im], e[i], e[ip]
        d = xm - 2.0 * x0 + xp
        ok = (i > 0) & (i < G - 1) & torch.isfinite(xm) & torch.isfinite(xp) & (d > 0)
        off = torch.clamp(0.5 * (xm - xp) / torch.where(ok, d, torch.ones_like(d)), -1.0, 1.0)
        return i.to(torch.float64) + torch.where(ok, off, torch.zeros_like(off))

    def _warp(self, x: torch.Tensor, la: torch.Tensor) -> torch.Tensor:
        pos = self.warp_pos
        C = pos.shape[0]
        q = torch.clamp(pos * torch.exp(-la), min=pos[0], max=pos[-1])
        j = torch.clamp((pos[None, :] <= q[:, None]).sum(-1) - 1, 0, C - 2)
        w = ((q - pos[j]) / (pos[j + 1] - pos[j])).to(x.dtype)
        return x[j] * (1.0 - w) + x[j + 1] * w

    def _harmonic(self, f0: torch.Tensor, env: torch.Tensor, hs: torch.Tensor, a_prev: torch.Tensor):
        nyq = 0.5 * self.sr
        f0 = torch.where(torch.isfinite(f0), f0, torch.zeros_like(f0)).to(torch.float64)
        kf = f0 * self.k
        ok = (f0 > 0) & (kf < nyq)
        p = torch.where(ok, kf * (self.Bh - 1) / nyq, torch.zeros_like(kf))
        i = torch.clamp(torch.floor(p), max=self.Bh - 2).to(torch.int64)
        fr = (p - i.to(p.dtype)).to(env.dtype)
        A = torch.where(ok, env[i] * (1.0 - fr) + env[i + 1] * fr, torch.zeros_like(fr))
        fp = torch.where(hs[1] == 0, f0, hs[1])
        f = fp + self.t * (f0 - fp)
        ph = torch.remainder(hs[0] + torch.cumsum((self.two_pi / self.sr) * f, 0), self.two_pi)
        s = torch.sin(ph.to(env.dtype)[:, None] * self.k.to(env.dtype)[None, :])   # [hop, K]
        y = s @ a_prev + self.t.to(env.dtype) * (s @ (A - a_prev))
        return y, torch.stack([ph[-1], f0]), A

    def _noise(self, env: torch.Tensor, ola: torch.Tensor, c: torch.Tensor):
        n = 2 * self.hop
        x = (c * n + self.noise_j) & self.mask              # the runtime's hashed noise
        x = self._xor((x * 0x9E3779B9) & self.mask, torch.full_like(x, self.seed))
        x = self._xor(x, x >> 16)
        x = (x * 0x7FEB352D) & self.mask
        x = self._xor(x, x >> 15)
        x = (x * 0x846CA68B) & self.mask
        x = self._xor(x, x >> 16)
        u = (x >> 8).to(torch.float32) * (2.0 / 16777216.0) - 1.0
        H = env[self.noise_i] * (1.0 - self.noise_fr) + env[self.noise_i + 1] * self.noise_fr
        if self.dft:
            v = ((u @ self.nz_c) * H) @ self.nz_ic + ((u @ self.nz_s) * H) @ self.nz_is
        else:
            v = torch.fft.irfft(torch.fft.rfft(u) * H, n=n) * self.noise_win
        return ola + v[: self.hop], v[self.hop:], c + 1

    def _xor(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        if self.dft:  # ONNX has no integer XOR through the exporter: a + b − 2(a & b)
            return a + b - 2 * (a & b)
        return a ^ b

    def _exp_sigmoid(self, x: torch.Tensor) -> torch.Tensor:
        return 2.0 * torch.exp(self.ln10 * F.logsigmoid(x)) + 1e-7

    def forward(self, x: torch.Tensor, state: List[torch.Tensor]) -> List[torch.Tensor]:
        buf, last, pms, rmn, rmm = state[0], state[1], state[2], state[3], state[4]
        nc = len(self.dil)
        hist, h, dl, hs, a_prev, ola, c = (state[5:5 + nc], state[5 + nc], state[6 + nc],
                                           state[7 + nc], state[8 + nc], state[9 + nc], state[10 + nc])
        buf = torch.cat([buf[self.hop:], x])
        # features: log-mel
        fr = buf[-self.win:]
        if self.dft:
            re, im = fr @ self.stft_c, fr @ self.stft_s
            mag = torch.sqrt(re * re + im * im)
        else:
            mag = torch.fft.rfft(fr * self.window, n=self.n_fft).abs()
        lm = torch.log(torch.clamp(self.mel @ mag, min=self.log_eps))
        # pitch: YIN, PITCH_MAP
        yf, voi = self._yin(buf[-self.pframe:], last)
        last = yf
        f0, pms = self._pitch_map(yf, voi, pms)
        lf0 = 2.0 * torch.log(torch.clamp(f0, min=self.fmin)) - 2.0 * self.pm[0]
        voi32 = voi.to(torch.float32)
        # speaker normalisation: running mean over voiced steps
        upd = (voi32 >= self.vthr) & torch.isfinite(lm).all()
        rmn = rmn + upd.to(rmn.dtype)
        ra = torch.clamp(1.0 / torch.clamp(rmn, min=1.0), min=1.0 / self.norm_tau).to(torch.float32)
        rmm = torch.where(upd, rmm + ra * (lm - rmm), rmm)
        w = torch.clamp(rmn / self.norm_warmup, max=1.0).to(torch.float32)
        rm = w * rmm + (1.0 - w) * self.prior
        # formant normalisation: warp-fit curve, its ARGMIN, WARP(x − M̂)
        v = self.warp_W @ rm + self.warp_b
        e = (v * v).reshape(self.G, -1).mean(-1)
        la = self.warp_lo + self.warp_step * self._argmin(e)
        d = self._warp(lm - rm, la) * self.inv_std
        r = (rm * self.inv_std - self.mean_std).mean().reshape(1)
        xin = torch.cat([d, r, lf0.to(torch.float32), voi32])
        # network
        g = xin
        new_hist: List[torch.Tensor] = []
        for i, lin in enumerate(self.convs):
            hi = torch.cat([hist[i][1:], g[None, :]])
            new_hist.append(hi)
            g = torch.relu(lin(hi[:: self.dil[i]].reshape(-1)))
        h = self.cell(torch.cat([g, xin]), h)
        z = torch.relu(self.dense(h))
        he = self._exp_sigmoid(self.harm_head(z))
        ne = self._exp_sigmoid(self.noise_head(z))
        # f0 and voicing D steps late (the lookahead, less the master's pitch advance)
        dl = torch.cat([dl[1:], torch.cat([f0.to(torch.float32), voi32])[None, :]])
        gate = torch.sigmoid(self.gate_k * dl[0, 1] - self.gate_k * self.vthr)
        yh, hs, a_prev = self._harmonic(dl[0, 0], he * gate, hs, a_prev)
        yn, ola, c = self._noise(ne, ola, c)
        return [yh + yn, buf, last, pms, rmn, rmm] + new_hist + [h, dl, hs, a_prev, ola, c]


class FlatStep(nn.Module):
    """``forward(x, *state) -> (y, *state)``: the step with flat inputs and
    outputs, for ``torch.onnx.export``."""

    def __init__(self, m: StraightStudent) -> None:
        super().__init__()
        self.m = m

    def forward(self, x: torch.Tensor, *state: torch.Tensor):
        out = self.m(x, list(state))  # the exporter turns some float64 scalars' results to float32
        return (out[0], *(o.to(s.dtype) for o, s in zip(out[1:], state)))


def stream(m: nn.Module, x: np.ndarray, hop: int, state: List[torch.Tensor]) -> np.ndarray:
    """Runs ``m`` step by step over ``x`` (model rate); the concatenated output."""
    xt = torch.from_numpy(np.asarray(x, np.float32))
    out = []
    with torch.inference_mode():
        for i in range(len(x) // hop):
            r = m(xt[i * hop:(i + 1) * hop], state)
            out.append(r[0])
            state = r[1:]
    return torch.cat(out).numpy()
