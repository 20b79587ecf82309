"""The PyTorch reference ops (voiceskin_tooling.ops) and the PITCH_MAP
definition (voiceskin_tooling.pitchmap) on their own: shapes, causality,
gradients, and agreement with independent straightforward implementations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

ops = pytest.importorskip("voiceskin_tooling.ops")
from voiceskin_tooling.pitchmap import PitchMapParams, pitch_map_np  # noqa: E402

D = torch.float64


def test_frame_shapes_and_history():
    x = torch.arange(1, 13, dtype=D)                     # T = 3, hop = 4
    f = ops.frame(x, 4, 6)
    assert f.shape == (3, 6)
    assert f[0].tolist() == [0, 0, 1, 2, 3, 4]
    assert f[2].tolist() == [7, 8, 9, 10, 11, 12]
    assert ops.frame(x[None].repeat(2, 1), 4, 6).shape == (2, 3, 6)


def test_stft_mag_matches_direct_dft():
    g = torch.Generator().manual_seed(0)
    fr = torch.randn(2, 3, 20, dtype=D, generator=g)
    w = torch.rand(20, dtype=D, generator=g)
    y = ops.stft_mag(fr, w, 32)
    j = torch.arange(20, dtype=D)
    k = torch.arange(17, dtype=D)
    E = torch.exp(-2j * math.pi * j[:, None] * k[None] / 32)
    ref = ((fr * w).to(torch.complex128) @ E).abs()
    assert torch.allclose(y, ref, atol=1e-12)


def test_act_kinds():
    x = torch.linspace(-40, 40, 101, dtype=D)
    assert torch.equal(ops.act(x, ops.ACT_RELU), torch.relu(x))
    sp = ops.act(x, ops.ACT_SOFTPLUS)
    assert torch.allclose(sp, torch.log1p(torch.exp(x)), rtol=1e-12)
    es = ops.act(x, ops.ACT_EXP_SIGMOID)
    assert torch.allclose(es, 2 * torch.sigmoid(x) ** math.log(10) + 1e-7, rtol=1e-10, atol=1e-15)
    ex = ops.act(torch.tensor([-3.0, 0.0, 10.0, 88.0, 200.0, math.inf, math.nan], dtype=D), ops.ACT_EXP)
    assert torch.allclose(ex[:3], torch.exp(torch.tensor([-3.0, 0.0, 10.0], dtype=D)), rtol=1e-15)
    assert ex[3] == ex[4] == ex[5] == math.exp(88.0) and torch.isnan(ex[6])  # clamped at 88; NaN stays
    with pytest.raises(ValueError):
        ops.act(x, 9)


def test_conv1d_is_causal_and_matches_loop():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 30, 4, dtype=D, generator=g)
    W = torch.randn(3, 4, 3, dtype=D, generator=g)
    b = torch.randn(3, dtype=D, generator=g)
    d = 2
    y = ops.conv1d(x, W, b, d)
    ref = torch.zeros(2, 30, 3, dtype=D)
    for t in range(30):
        acc = b.clone().expand(2, 3).clone()
        for k in range(3):
            s = t - (3 - 1 - k) * d
            if s >= 0:
                acc += x[:, s] @ W[:, :, k].T
        ref[:, t] = acc
    assert torch.allclose(y, ref, atol=1e-12)
    x2 = x.clone()
    x2[:, 20:] += 1.0                                    # the future does not leak
    assert torch.equal(ops.conv1d(x2, W, b, d)[:, :20], y[:, :20])


def test_gru_matches_nn_gru_and_grads():
    torch.manual_seed(2)
    m = torch.nn.GRU(5, 7, batch_first=True).double()
    x = torch.randn(3, 11, 5, dtype=D)
    ref, _ = m(x)
    y = ops.gru(x, m.weight_ih_l0, m.weight_hh_l0, m.bias_ih_l0, m.bias_hh_l0)
    assert torch.allclose(y, ref, atol=1e-12)
    y.sum().backward()
    assert m.weight_hh_l0.grad is not None and m.weight_hh_l0.grad.abs().sum() > 0


def _harmonic_loop(f0, env, hop, K, sr):
    """Sample-by-sample HARMONIC exactly as the spec reads."""
    T, B = env.shape
    out = np.zeros(T * hop)
    ph, fprev, Aprev = 0.0, 0.0, np.zeros(K + 1)
    for t in range(T):
        f = float(f0[t])
        A = np.zeros(K + 1)
        for k in range(1, K + 1):
            if f > 0 and k * f < sr / 2:
                p = k * f * (B - 1) / (sr / 2)
                i = min(int(math.floor(p)), B - 2)
                r = p - i
                A[k] = env[t, i] * (1 - r) + env[t, i + 1] * r
        fp = f if fprev == 0 else fprev
        for j in range(hop):
            tt = (j + 1) / hop
            ph += 2 * math.pi * (fp + tt * (f - fp)) / sr
            ph -= 2 * math.pi * math.floor(ph / (2 * math.pi))
            a = Aprev + tt * (A - Aprev)
            out[t * hop + j] = sum(a[k] * math.sin(k * ph) for k in range(1, K + 1))
        fprev, Aprev = f, A
    return out


def test_harmonic_matches_spec_loop_and_has_env_grad():
    rng = np.random.default_rng(3)
    T, hop, B, K, sr = 12, 16, 9, 30, 8000.0
    f0 = np.array([0, 0, 200, 210, 230, 0, 0, 180, 900, 3990, 150, 150], float)
    env = rng.uniform(0, 1, (T, B))
    ref = _harmonic_loop(f0, env, hop, K, sr)
    e = torch.tensor(env[None], dtype=D, requires_grad=True)
    y = ops.harmonic(torch.tensor(f0[None], dtype=D), e, hop, K, sr)
    assert np.abs(y[0].detach().numpy() - ref).max() < 1e-9
    y.square().sum().backward()
    assert e.grad is not None and e.grad.abs().sum() > 0


def _lowbias32(x: int) -> int:
    x &= 0xFFFFFFFF
    x ^= x >> 16
    x = (x * 0x7FEB352D) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x846CA68B) & 0xFFFFFFFF
    x ^= x >> 16
    return x


def test_hashed_noise_is_lowbias32():
    seed, n = 0xDEADBEEF, 8
    u = ops.hashed_noise(3, n, seed, start_step=(1 << 29) + 5)     # index wraps mod 2^32
    for c in range(3):
        for j in range(n):
            i = (((1 << 29) + 5 + c) * n + j) & 0xFFFFFFFF
            h = _lowbias32(seed ^ ((i * 0x9E3779B9) & 0xFFFFFFFF)) >> 8
            assert u[c, j] == 2.0 * h / 2**24 - 1.0


def test_noise_overlap_add_and_grad():
    hop, T, B = 8, 5, 3
    env = torch.rand(2, T, B, dtype=D, requires_grad=True)
    y = ops.noise(env, hop, 7)
    n = 2 * hop
    u = torch.from_numpy(ops.hashed_noise(T, n, 7))
    pos = torch.arange(n // 2 + 1, dtype=D) * (B - 1) / (n // 2)
    ref = torch.zeros(2, (T + 1) * hop, dtype=D)
    for b in range(2):
        for t in range(T):
            H = torch.from_numpy(np.interp(pos.numpy(), np.arange(B), env[b, t].detach().numpy()))
            v = torch.fft.irfft(torch.fft.rfft(u[t]) * H, n=n) * ops.hann(n)
            ref[b, t * hop:t * hop + n] += v
    assert torch.allclose(y.detach(), ref[:, :T * hop], atol=1e-12)
    y.sum().backward()
    assert env.grad is not None and env.grad.abs().sum() > 0
    r = ops.noise(env.detach(), hop, 0, random=True)
    assert r.shape == (2, T * hop) and torch.isfinite(r).all()


def _yin_direct(x, sr, fmin, fmax, thr):
    """Single-frame YIN straight from the spec (no held f0)."""
    N = len(x)
    tmin = math.floor(sr / fmax)
    tmax = min(math.ceil(sr / fmin), N - 2)
    W = N - tmax
    d = np.array([0.0] + [np.sum((x[:W] - x[t:t + W]) ** 2) for t in range(1, tmax + 1)])
    cum = np.cumsum(d)
    dp = np.ones(tmax + 1)
    dp[1:] = np.where(cum[1:] > 0, d[1:] * np.arange(1, tmax + 1) / np.maximum(cum[1:], 1e-300), 1)
    cand = [t for t in range(tmin, tmax + 1) if dp[t] < thr]
    if not cand:
        return None
    t = cand[0]
    while t + 1 <= tmax and dp[t + 1] < dp[t]:
        t += 1
    a, b, c = dp[t - 1], dp[t], dp[t + 1]
    den = a - 2 * b + c
    s = min(max(0.5 * (a - c) / den, -0.5), 0.5) if den > 0 else 0.0
    return sr / (t + s), 1 - dp[t]


def test_pitch_yin_matches_direct_definition():
    sr = 16000.0
    t = np.arange(4000) / sr
    x = 0.4 * np.sin(2 * np.pi * 173.0 * t) + 0.2 * np.sin(2 * np.pi * 346.0 * t + 1)
    fr = ops.frame(torch.tensor(x[None]), 64, 640)
    y = ops.pitch_yin(fr, sr, 60.0, 800.0, 0.15)[0].numpy()
    assert y.shape == (62, 2)
    for k in (20, 40, 61):
        f0, v = _yin_direct(fr[0, k].numpy(), sr, 60.0, 800.0, 0.15)
        assert abs(y[k, 0] - f0) < 1e-9 and abs(y[k, 1] - v) < 1e-9
        assert abs(y[k, 0] - 173.0) < 0.5
    assert y[0, 1] == 0.0                                  # silent history: unvoiced


def test_pitch_map_warmup_and_api_forms():
    p = PitchMapParams(math.log(220), 0.2, math.log(150), 0.3, 10.0, 50.0, 0.5)
    f0 = np.array([0.0, 150.0, 150.0, 300.0, 300.0, 0.0])
    v = np.array([0.0, 0.9, 0.9, 0.1, 0.9, 0.0])
    out = pitch_map_np(f0, v, p)
    assert out[0] == 0.0 and out[-1] == 0.0
    # first voiced frame: n = 1, m = ln 150, s2 = 0, w = 0.1
    mu = 0.1 * math.log(150) + 0.9 * math.log(150)
    sig = 0.1 * 0.0 + 0.9 * 0.3
    assert out[1] == pytest.approx(math.exp(math.log(220) + 0.2 * (math.log(150) - mu) / sig))
    # an unvoiced frame with f0 > 0 is mapped with the current statistics
    assert out[3] > out[2]
    yin = torch.tensor(np.stack([f0, v], -1)[None])
    a = ops.pitch_map(yin, p)
    b = ops.pitch_map(yin[..., 0], yin[..., 1], p)
    c = ops.pitch_map(yin, **{k: getattr(p, k) for k in p.__dataclass_fields__})
    assert torch.equal(a, b) and torch.equal(a, c)
    assert np.allclose(a[0].numpy(), out)
    with pytest.raises(ValueError):
        PitchMapParams(0, 0.2, 0, 0.2, 0.0, 10, 0.5)


def test_running_mean_warmup_tau_and_gate():
    """RUNNING_MEAN: only gated, finite steps update the mean (1/n, then
    1/tau); the output blends with the prior over the first ``warmup``."""
    prior = np.array([1.0, -1.0])
    x = np.array([[3.0, 3.0], [5.0, 5.0], [np.nan, 0.0], [7.0, 7.0], [9.0, 9.0], [9.0, 9.0]])
    g = np.array([1.0, 0.2, 1.0, 1.0, 1.0, 1.0])
    out = ops.running_mean_np(x, g, prior, warmup=2.0, tau=2.0, vthreshold=0.5)
    # step 0: n = 1, m = x0, w = 1/2
    assert np.allclose(out[0], 0.5 * x[0] + 0.5 * prior)
    # step 1 (gate closed) and step 2 (NaN feature) leave the state alone
    assert np.allclose(out[1], out[0]) and np.allclose(out[2], out[0])
    # step 3: n = 2, a = 1/2, m = 5; w = 1
    assert np.allclose(out[3], [5.0, 5.0])
    # steps 4, 5: a = max(1/n, 1/tau) = 1/2
    assert np.allclose(out[4], [7.0, 7.0]) and np.allclose(out[5], [8.0, 8.0])
    t = ops.running_mean(torch.tensor(x[None], dtype=torch.float32), torch.tensor(g[None]),
                         prior, 2.0, 2.0, 0.5)
    assert t.dtype == torch.float32 and t.shape == (1, 6, 2)
    assert np.allclose(t[0].numpy(), out)
    with pytest.raises(ValueError):
        ops.running_mean_np(x, g[:3], prior, 2.0, 2.0, 0.5)


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("x,want", [
    ([3.0, 2.0, 1.5, 2.5, 4.0], 2 + 0.5 * (2.0 - 2.5) / 1.5),     # 1.8333: parabola vertex
    ([2.0, 1.0, 1.0, 2.0], 1.5),          # tie: first minimum, then the parabola
    ([3.0, 1.0, 1.0, 1.0, 3.0], 1.5),     # flat run: first index, d = 2
    ([1.0, 2.0, 3.0], 0.0),               # minimum at the left edge: no refinement
    ([3.0, 2.0, 1.0], 2.0),               # at the right edge
    ([3.0, NAN, 1.0, 2.0], 2.0),          # non-finite neighbour: no refinement
    ([NAN, 4.0, -INF, 0.5, INF], 3.0),    # -Inf is skipped; neighbour +Inf: no refinement
    ([NAN, NAN, NAN], 0.0),               # nothing finite: 0
    ([INF, -INF], 0.0),
    ([5.0], 0.0),                         # G = 1
    ([2.0, 1.0], 1.0),                    # G = 2
    ([1.0, 1.0, 1.0], 0.0),               # all equal: first, at the edge
])
def test_argmin_first_finite_minimum_with_parabolic_refinement(x, want):
    """ARGMIN: first index of the smallest finite element, refined by the
    vertex of the parabola through it and its finite neighbours."""
    y = ops.argmin(torch.tensor(x, dtype=D))
    assert y.shape == (1,) and y.dtype == D
    assert y.item() == pytest.approx(want, abs=1e-12)


def test_argmin_batched_shapes_and_dtype():
    """ARGMIN over the last axis of [B, T, G]; float32 in, float32 out."""
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, 5, 9, generator=g)
    y = ops.argmin(x)
    assert y.shape == (2, 5, 1) and y.dtype == torch.float32
    i = x.argmin(-1, keepdim=True).to(torch.float32)
    assert torch.all((y - i).abs() <= 0.5 + 1e-6)      # the shift is within ±0.5 at a minimum


POS = [100.0, 200.0, 400.0, 800.0]


@pytest.mark.parametrize("s,want", [
    (math.log(2.0), [1.0, 1.0, 2.0, 3.0]),        # q = pos/2: features move up by 2
    (-math.log(2.0), [2.0, 3.0, 4.0, 4.0]),       # q = 2·pos: move down (clamped at the top)
    (math.log(4.0 / 3.0), [1.0, 1.5, 2.5, 3.5]),  # q = 0.75·pos: halfway interpolation
    (0.0, [1.0, 2.0, 3.0, 4.0]),                  # identity
    (NAN, [1.0, 2.0, 3.0, 4.0]),                  # non-finite counts as 0
    (INF, [1.0, 2.0, 3.0, 4.0]),
    (-INF, [1.0, 2.0, 3.0, 4.0]),
    (50.0, [1.0, 1.0, 1.0, 1.0]),                 # everything clamps to the first position
    (-50.0, [4.0, 4.0, 4.0, 4.0]),                # ... or to the last
])
def test_warp_hand_computed(s, want):
    """WARP: y_c = x(pos_c·e^{-s}), linear interpolation between positions,
    clamped to the first and last."""
    y = ops.warp(torch.tensor([[1.0, 2.0, 3.0, 4.0]], dtype=D), torch.tensor([[s]], dtype=D),
                 np.array(POS, np.float32))
    assert y.shape == (1, 4)
    assert y[0].tolist() == pytest.approx(want, abs=1e-12)


def test_warp_position_zero_and_extreme_factor():
    """A position 0 with a huge negative log factor gives 0 (the clamp of s
    to [-700, 700]), not 0·inf = NaN."""
    x = torch.tensor([[1.0, 2.0, 3.0, 4.0]], dtype=D)
    pos = np.array([0.0, 100.0, 200.0, 400.0], np.float32)
    for s, want in [(-800.0, [1.0, 4.0, 4.0, 4.0]), (-1e30, [1.0, 4.0, 4.0, 4.0]),
                    (800.0, [1.0, 1.0, 1.0, 1.0])]:
        y = ops.warp(x, torch.tensor([[s]], dtype=D), pos)
        assert y[0].tolist() == pytest.approx(want, abs=1e-12), s


def test_warp_batched_and_differentiable_in_x():
    """WARP over [B, T, C] with s [B, T, 1]: float32, gradient w.r.t. x is
    the interpolation weights (each output's weights sum to 1)."""
    g = torch.Generator().manual_seed(4)
    x = torch.randn(2, 3, 6, generator=g, requires_grad=True)
    s = (torch.rand(2, 3, 1, generator=g) - 0.5) * 0.8
    pos = np.geomspace(80.0, 7000.0, 6).astype(np.float32)
    y = ops.warp(x, s, pos)
    assert y.shape == (2, 3, 6) and y.dtype == torch.float32
    y.sum().backward()
    assert torch.allclose(x.grad.sum(-1), torch.full((2, 3), 6.0))
    # straightforward per-element check against numpy interpolation
    q = np.clip(pos[None, None, :] * np.exp(-s.numpy().astype(np.float64)), pos[0], pos[-1])
    ref = np.stack([[np.interp(q[b, t], pos, x.detach().numpy()[b, t]) for t in range(3)]
                    for b in range(2)])
    assert np.allclose(y.detach().numpy(), ref, atol=1e-5)


def _nearest_brute(x: np.ndarray, keys: np.ndarray, values: np.ndarray, k: int) -> np.ndarray:
    """The k rows of ``keys`` nearest to x (float64 squared distances, lower
    row first among ties, non-finite last), their values averaged."""
    d = ((keys.astype(np.float64) - x.astype(np.float64)) ** 2).sum(1)
    d = np.where(np.isfinite(d), d, np.inf)
    order = np.lexsort((np.arange(len(d)), d))
    return values[order[:k]].astype(np.float64).mean(0)


@pytest.mark.parametrize("k", [1, 3, 16])
def test_nearest_averages_the_values_of_the_k_nearest_keys(k):
    """NEAREST: the mean of the values of the k nearest keys, batched over
    leading axes, against a float64 brute force (random keys: no near ties)."""
    g = np.random.default_rng(5 + k)
    keys = g.standard_normal((300, 6)).astype(np.float32)
    values = g.standard_normal((300, 4)).astype(np.float32)
    sq = (keys.astype(np.float64) ** 2).sum(1).astype(np.float32)
    x = g.standard_normal((2, 7, 6)).astype(np.float32)
    y = ops.nearest(torch.from_numpy(x), keys, sq, values, k)
    assert y.shape == (2, 7, 4) and y.dtype == torch.float32
    want = np.stack([[_nearest_brute(r, keys, values, k) for r in row] for row in x])
    assert np.abs(y.numpy() - want).max() < 1e-5


def test_nearest_ties_go_to_the_lower_row_and_nonfinite_ranks_last():
    """Exactly equal keys: the lower row wins; a NaN key row is never picked
    while a finite one is left; a NaN query picks the first k rows."""
    keys = np.array([[1.0, 0.0], [NAN, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]], np.float32)
    sq = np.array([1.0, NAN, 1.0, 1.0, 1.0], np.float32)
    values = np.arange(5, dtype=np.float32)[:, None] * np.ones((1, 2), np.float32)
    one = ops.nearest(torch.tensor([[2.0, 0.0]]), keys, sq, values, 1)
    assert one[0].tolist() == [0.0, 0.0]                       # rows 0 and 3 tie: row 0
    two = ops.nearest(torch.tensor([[2.0, 0.0]]), keys, sq, values, 2)
    assert two[0].tolist() == [1.5, 1.5]                       # rows 0 and 3
    four = ops.nearest(torch.tensor([[2.0, 0.0]]), keys, sq, values, 4)
    assert four[0].tolist() == [2.25, 2.25]                    # 0, 3, 2, 4: never the NaN row
    nan_q = ops.nearest(torch.tensor([[NAN, 0.0]]), keys, sq, values, 3)
    assert nan_q[0].tolist() == [1.0, 1.0]                     # nothing finite: rows 0, 1, 2


def test_nearest_is_differentiable_in_the_values_only():
    """The pick is a choice (no gradient to x); the values get one."""
    keys = torch.tensor([[0.0], [1.0], [2.0]])
    values = torch.tensor([[1.0], [2.0], [3.0]], requires_grad=True)
    x = torch.tensor([[0.9]], requires_grad=True)
    y = ops.nearest(x, keys, (keys ** 2).sum(1), values, 2)
    y.sum().backward()
    assert x.grad is None and values.grad.reshape(-1).tolist() == [0.5, 0.5, 0.0]
