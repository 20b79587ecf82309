"""Conformance: every C op (native/src/ops*.c, run through the real library
via voiceskin.Voice) against the PyTorch reference (voiceskin_tooling.ops via
voiceskin_tooling.refgraph.run_graph).

Each case builds a one-or-few-op graph with GraphBuilder, packs it with
voiceskin.format, runs it at the model rate (mono: no resampling, output
delayed by exactly ``voice.latency`` frames) and compares with the
whole-signal reference: max abs error <= 1e-4 (f0 in Hz included, and end
to end through a DDSP-like student; see docs/bundle-format.md
"Conformance"). Streaming: random block sizes 1..4096 give bit-identical
output to one whole-signal call.

A voice bounds what enters and leaves a graph (docs/abi.md, "Hostile
input": non-finite samples enter as 0, |x| and |y| ≤ 8). Op values are not
audio, so every graph here is wrapped in exact power-of-two scalings
(:class:`Builder`, :func:`finish`), and the reference sees what the voice
feeds the graph (:func:`ref_graph`); an op's own handling of non-finite
values is pinned by the reference-op tests and the C tests.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from voiceskin.format import BundleSpec, TierSpec, write_bundle
from voiceskin.graph import Act, GraphBuilder, flops_per_step, parameter_count

RATE = 16000
TOL = 1e-4
# A graph whose HARMONIC is fed by PITCH_YIN/PITCH_MAP: HARMONIC's phase
# integrates f0, so an f0 one float32 ulp off would drift (2π·k·Δf·hop/sr per
# step). The C YIN computes d(τ) in double from exact differences, so its f0
# equals the reference's bit for bit in practice and the end-to-end bound is
# the ordinary one (docs/bundle-format.md "Conformance").
E2E_TOL = 1e-4

ops = pytest.importorskip("voiceskin_tooling.ops")
from voiceskin_tooling.refgraph import run_graph  # noqa: E402


# ------------------------------------------------------------------ helpers


def _bundle(graph, tensors, hop: int, rate: int = RATE) -> bytes:
    tier = TierSpec("base", rate, hop, hop, parameter_count(tensors),
                    flops_per_step(graph, tensors) * rate // hop, graph, tensors)
    return write_bundle(BundleSpec("test.ops", "Ops", "1.0.0", [tier]))


#: A voice's output is audio: the runtime bounds it to ±8 (docs/abi.md,
#: "Hostile input"). Op values are not audio (STFT magnitudes, f0 in Hz), so
#: every graph here ends in AFFINE(× 1/OUT_SCALE) (:func:`finish`) and
#: :func:`run_c` scales back; a power of two, so both steps are exact.
OUT_SCALE = 2.0 ** 12


class Builder(GraphBuilder):
    """GraphBuilder whose ``input`` is the raw input × OUT_SCALE (AFFINE);
    :func:`run_c` and :func:`ref_graph` feed x / OUT_SCALE, so raw op values
    (f0 in Hz, curves) cross the voice's ±8 entry bound exactly."""

    def __init__(self, hop: int) -> None:
        super().__init__(hop)
        self.raw_input = self.input
        n = self.hop
        self.input = self.affine(self.input, np.full(n, OUT_SCALE, np.float32), np.zeros(n, np.float32))


def finish(b: Builder, y):
    """``b.finish(y)`` behind the exact output scaling (see OUT_SCALE)."""
    n = y.size
    out = b.affine(y, np.full(n, 1.0 / OUT_SCALE, np.float32), np.zeros(n, np.float32))
    b.input = b.raw_input
    return b.finish(out)


def _enter(x: np.ndarray) -> np.ndarray:
    """What the graph's input sees through a voice: non-finite samples enter
    as 0 (docs/abi.md, "Hostile input"), scaled by 1 / OUT_SCALE."""
    x = np.asarray(x, np.float64)
    return (np.where(np.isfinite(x), x, 0.0) / OUT_SCALE).astype(np.float32)


def ref_graph(graph, tensors, x: np.ndarray) -> np.ndarray:
    """The reference interpreter's output for what the voice feeds the graph."""
    return run_graph(graph, tensors, _enter(x)) * OUT_SCALE


def run_c(graph, tensors, x: np.ndarray, hop: int, blocks: list[int] | None = None,
          rate: int = RATE) -> np.ndarray:
    """The C graph's whole-signal output for x (aligned: latency removed),
    times OUT_SCALE (graphs come from :func:`finish`)."""
    from voiceskin import Bundle, Voice

    bundle = Bundle.from_bytes(_bundle(graph, tensors, hop, rate))
    voice = Voice(bundle, sample_rate=rate, channels=1, max_block=4096)
    lat = voice.latency
    xin = np.concatenate([_enter(x), np.zeros(lat + hop, np.float32)])
    out = np.empty_like(xin)
    if blocks is None:
        voice.process_into(xin, out)
    else:
        pos, k = 0, 0
        while pos < len(xin):
            n = min(blocks[k % len(blocks)], len(xin) - pos)
            voice.process_into(xin[pos:pos + n], out[pos:pos + n])
            pos += n
            k += 1
    voice.close()
    return out[lat:lat + len(x)].astype(np.float64) * OUT_SCALE


def check(b: GraphBuilder, y, x: np.ndarray, tol: float = TOL,
          mask: np.ndarray | None = None) -> float:
    g, t = finish(b, y)
    ref = ref_graph(g, t, x)
    got = run_c(g, t, x, b.hop)
    if mask is not None:
        got, ref = got[mask], ref[mask]
    err = np.abs(got - ref)
    e = float(err.max())
    assert np.all(np.isfinite(got)), "C output has NaN/Inf"
    assert e <= tol, f"max abs error {e:.3g} > {tol:g} (ref max {np.abs(ref).max():.3g})"
    print(f"[conformance] max abs error {e:.3g} (ref max {np.abs(ref).max():.3g})")
    return e


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def noise_signal(n: int, seed: int = 0, scale: float = 0.5) -> np.ndarray:
    return (rng(seed).uniform(-1, 1, n) * scale).astype(np.float32)


def voice_like(n: int, seed: int = 0) -> np.ndarray:
    """Periodic voiced segments (gliding f0, harmonics), silence and noise."""
    r = rng(seed)
    t = np.arange(n) / RATE
    f0 = 140 + 60 * np.sin(2 * np.pi * 0.7 * t) + 30 * (t > t[-1] / 2)
    ph = 2 * np.pi * np.cumsum(f0) / RATE
    v = sum((0.5 / k) * np.sin(k * ph + r.uniform(0, 6)) for k in range(1, 8))
    seg = (np.floor(t / 0.4) % 3)          # 0 voiced, 1 voiced, 2 noise/silence
    v = np.where(seg < 2, v, 0.0)
    v = v + np.where(seg == 2, 0.05 * r.standard_normal(n) * (t % 0.4 > 0.2), 0.0)
    v = v + 0.003 * r.standard_normal(n)
    return v.astype(np.float32)


def W(shape: tuple[int, ...], seed: int, scale: float | None = None) -> np.ndarray:
    fan = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    s = scale if scale is not None else 1.0 / np.sqrt(fan)
    return (rng(seed).uniform(-1, 1, shape) * s).astype(np.float32)


# -------------------------------------------------------------------- ops


def test_frame_slice():
    hop = 64
    b = Builder(hop)
    f = b.frame(b.input, 3 * hop + 5)
    y = b.slice(f, 7, hop)
    x = noise_signal(hop * 100, 1)
    check(b, y, x, tol=0.0)


def test_stft_mag():
    hop = 129                               # = n_fft/2 + 1: the spectrum is the output
    b = Builder(hop)
    f = b.frame(b.input, 200)
    win = ops.hann(200).numpy().astype(np.float32)
    y = b.stft_mag(f, win, 256)
    check(b, y, voice_like(hop * 120, 2))


def test_linear():
    hop = 64
    b = Builder(hop)
    f = b.frame(b.input, 160)
    y = b.linear(f, W((hop, 160), 3), W((hop,), 4, 0.1))
    check(b, y, noise_signal(hop * 100, 5))


def test_linear_no_bias_odd_sizes():
    hop = 37
    b = Builder(hop)
    f = b.frame(b.input, 91)
    h = b.linear(f, W((13, 91), 6))
    y = b.linear(h, W((hop, 13), 7), W((hop,), 8, 0.1))
    check(b, y, noise_signal(hop * 100, 9))


@pytest.mark.parametrize("kind", list(Act))
def test_act(kind):
    hop = 64
    b = Builder(hop)
    f = b.frame(b.input, hop)
    gain = 3.0 if kind == Act.EXP else 30.0   # e^x: values up to e^6, exact to 1e-4
    s = b.affine(f, np.full(hop, gain, np.float32), np.linspace(-3, 3, hop).astype(np.float32))
    y = b.act(s, kind)
    check(b, y, noise_signal(hop * 50, 10 + int(kind)))


def test_log():
    hop = 64
    b = Builder(hop)
    f = b.frame(b.input, hop)
    y = b.log(f, 1e-3)
    check(b, y, noise_signal(hop * 50, 20))


@pytest.mark.parametrize("k,d", [(1, 1), (3, 1), (3, 4), (2, 7)])
def test_conv1d(k, d):
    hop = 32
    b = Builder(hop)
    f = b.frame(b.input, 48)
    y = b.conv1d(f, W((hop, 48, k), 30 + k), W((hop,), 31, 0.1), dilation=d)
    check(b, y, noise_signal(hop * 120, 32))


def gru_graph() -> tuple[Builder, Any, np.ndarray]:
    """A GRU (H 48, I 40) on a frame slice: builder, output value, input
    signal (also tests/test_int8.py's, with int8 weights)."""
    hop, H, I = 48, 48, 40
    b = Builder(hop)
    f = b.slice(b.frame(b.input, 2 * hop), 10, I)
    s = 1.5 / np.sqrt(H)
    y = b.gru(f, W((3 * H, I), 40, s), W((3 * H, H), 41, s), W((3 * H,), 42, 0.2),
              W((3 * H,), 43, 0.2))
    return b, y, noise_signal(hop * 150, 44)


def test_gru():
    b, y, x = gru_graph()
    check(b, y, x)


def test_concat_add_mul_affine():
    hop = 64
    b = Builder(hop)
    f = b.frame(b.input, 2 * hop)
    a = b.slice(f, 0, 40)
    c = b.slice(f, 70, 24)
    cat = b.concat(a, c)                                    # 64
    m = b.mul(cat, b.slice(f, hop, hop))
    s = b.add(m, b.affine(cat, W((hop,), 50, 2.0), W((hop,), 51, 1.0)))
    check(b, s, noise_signal(hop * 60, 52))


# ----------------------------------------------------------- pitch ops

YIN = dict(sample_rate=float(RATE), fmin=60.0, fmax=800.0, threshold=0.15)
F0_TOL = 1e-4     # Hz: f0 < 512 Hz has a float32 ulp <= 3.1e-5; measured 1.5e-5


def _expose(b: GraphBuilder, v, n: int):
    """A hop-sized output whose first n entries are v (exact 0/1 weights)."""
    Wsel = np.zeros((b.hop, n), np.float32)
    Wsel[np.arange(n), np.arange(n)] = 1.0
    return b.linear(v, Wsel)


@pytest.mark.parametrize("win", [512, 768])
def test_pitch_yin(win):
    hop = 64
    b = Builder(hop)
    f = b.frame(b.input, win)
    p = b.pitch_yin(f, **YIN)
    y = _expose(b, p, 2)
    x = voice_like(RATE * 3, 60)
    g, t = finish(b, y)
    ref = ref_graph(g, t, x).reshape(-1, hop)
    got = run_c(g, t, x, hop).reshape(-1, hop)
    ef0 = np.abs(got[:, 0] - ref[:, 0]).max()
    ev = np.abs(got[:, 1] - ref[:, 1]).max()
    voiced = (ref[:, 1] > 1 - YIN["threshold"]).mean()
    assert 0.3 < voiced < 0.9, f"test signal should be partly voiced ({voiced:.2f})"
    print(f"[conformance] yin f0 {ef0:.3g} Hz, voicing {ev:.3g}")
    assert ef0 <= F0_TOL, f"f0 max abs error {ef0:.3g} Hz"
    assert ev <= TOL, f"voicing max abs error {ev:.3g}"
    assert np.all(got[:, 2:] == 0)


@pytest.mark.parametrize("case", ["nonsliding", "hop_over_window", "silence_gaps", "small_hop",
                                  "nonsliding_fft", "big_hop_fft"])
def test_pitch_yin_input_kinds(case):
    """YIN reuses per-block sums while its input slides by one hop; inputs
    that do not slide (here a gain that changes every step), a hop longer
    than the integration window, and digital silence take the other paths.
    Where the direct sums would cost more than an FFT correlation (a
    512-sample frame that does not slide; a 512-sample hop over a
    1024-sample frame) the C op computes d(τ) from the FFT (yin_fft.c)."""
    hop = {"hop_over_window": 256, "small_hop": 4, "big_hop_fft": 512}.get(case, 64)
    b = Builder(hop)
    win = {"hop_over_window": 300, "small_hop": 300, "nonsliding_fft": 512,
           "big_hop_fft": 1024}.get(case, 640)
    f = b.frame(b.input, win)
    if case in ("nonsliding", "nonsliding_fft"):
        g = b.act(b.slice(b.frame(b.input, hop), 0, 1), Act.SIGMOID)      # per-step gain
        gain = b.linear(g, np.ones((win, 1), np.float32))
        f = b.mul(f, gain)
    p = b.pitch_yin(f, **YIN)
    y = _expose(b, p, 2) if hop > 2 else p
    x = voice_like(RATE * 2 // hop * hop, 62)
    if case == "silence_gaps":
        x[RATE // 2: RATE] = 0.0
    if case in ("nonsliding", "nonsliding_fft"):
        x[::hop] = rng(63).uniform(-3, 3, x[::hop].shape)
    g_, t_ = finish(b, y)
    ref = ref_graph(g_, t_, x).reshape(-1, hop)
    got = run_c(g_, t_, x, hop).reshape(-1, hop)
    ef0 = np.abs(got[:, 0] - ref[:, 0]).max()
    ev = np.abs(got[:, 1] - ref[:, 1]).max()
    print(f"[conformance] yin {case}: f0 {ef0:.3g} Hz, voicing {ev:.3g}")
    assert (ref[:, 1] > 1 - YIN["threshold"]).any()
    assert ef0 <= F0_TOL and ev <= TOL


def test_pitch_map():
    hop = 64
    b = Builder(hop)
    f = b.frame(b.input, 640)
    p = b.pitch_yin(f, **YIN)
    m = b.pitch_map(p, target_mu=np.log(220.0), target_sigma=0.2, prior_mu=np.log(150.0),
                    prior_sigma=0.25, warmup=25.0, tau=150.0, vthreshold=0.6)
    y = _expose(b, b.concat(p, m), 3)
    x = voice_like(RATE * 3, 61)
    g, t = finish(b, y)
    ref = ref_graph(g, t, x).reshape(-1, hop)
    got = run_c(g, t, x, hop).reshape(-1, hop)
    assert (ref[:, 2] > 0).mean() > 0.5
    emap = np.abs(got[:, 2] - ref[:, 2]).max()
    print(f"[conformance] pitch_map {emap:.3g} Hz")
    assert emap <= F0_TOL, f"mapped f0 max abs error {emap:.3g} Hz"


def test_pitch_map_direct_inputs_with_nonfinite():
    """PITCH_MAP on (f0, voicing) straight from the input, including 0,
    negative, NaN and ±Inf f0 and NaN voicing."""
    hop = 64
    b = Builder(hop)
    fv = b.slice(b.frame(b.input, hop), 0, 2)
    m = b.pitch_map(fv, target_mu=np.log(220.0), target_sigma=0.2, prior_mu=np.log(150.0),
                    prior_sigma=0.25, warmup=8.0, tau=30.0, vthreshold=0.6)
    y = _expose(b, m, 1)
    r = rng(64)
    x = r.uniform(-1, 1, (400, hop)).astype(np.float32)
    x[:, 0] = f0_track(400, 65)
    x[:, 1] = r.uniform(0, 1, 400)
    x[7, 0], x[8, 0], x[9, 0], x[10, 0], x[11, 1] = np.nan, np.inf, -np.inf, -50.0, np.nan
    x = x.reshape(-1)
    check(b, y, x, mask=np.isfinite(x))


def test_running_mean_gated_by_yin_voicing():
    """RUNNING_MEAN of log-mel-like features gated by PITCH_YIN's voicing
    (as students use it), against the float64 reference."""
    hop = 64
    b = Builder(hop)
    f = b.frame(b.input, 512)
    feats = b.log(b.linear(b.stft_mag(f, np.hanning(512).astype(np.float32), 512),
                           np.abs(W((12, 257), 70, 0.1))), 1e-5)
    voi = b.slice(b.pitch_yin(f, **YIN), 1, 1)
    prior = np.linspace(-3, 1, 12).astype(np.float32)
    m = b.running_mean(feats, voi, prior, warmup=20.0, tau=60.0, vthreshold=0.5)
    y = _expose(b, m, 12)
    x = voice_like(RATE * 2, 71)
    g, t = finish(b, y)
    ref = ref_graph(g, t, x).reshape(-1, hop)[:, :12]
    got = run_c(g, t, x, hop).reshape(-1, hop)[:, :12]
    assert np.abs(ref[0] - prior).max() < 0.2      # starts at the prior
    assert np.abs(ref[-1] - prior).max() > 0.5     # and moves to the signal's mean
    e = float(np.abs(got - ref).max())
    print(f"[conformance] running_mean {e:.3g}")
    assert e <= TOL


def test_running_mean_direct_inputs_with_nonfinite():
    """RUNNING_MEAN on values straight from the input: NaN/Inf features
    never enter the mean, a NaN gate never opens it."""
    hop = 64
    b = Builder(hop)
    fr = b.frame(b.input, hop)
    m = b.running_mean(b.slice(fr, 0, 5), b.slice(fr, 5, 1), np.arange(5, dtype=np.float32),
                       warmup=4.0, tau=10.0, vthreshold=0.3)
    y = _expose(b, m, 5)
    r = rng(72)
    x = r.uniform(-1, 1, (300, hop)).astype(np.float32)
    x[:, 5] = r.uniform(0, 1, 300)
    x[5, 2], x[9, 0], x[12, 4], x[20, 5] = np.nan, np.inf, -np.inf, np.nan
    x = x.reshape(-1)
    check(b, y, x, mask=np.isfinite(x))


def _argmin_rows(T: int, G: int, seed: int) -> np.ndarray:
    """[T, G] test curves for ARGMIN: parabola-like bowls whose minimum lies
    anywhere (also beyond either edge), noise, integer-valued rows (ties),
    NaN/±Inf entries (also next to the minimum) and all-NaN / all-Inf rows."""
    r = rng(seed)
    k = np.arange(G)
    c = r.uniform(-3.0, G + 2.0, (T, 1))
    x = r.uniform(0.01, 0.5, (T, 1)) * (k[None] - c) ** 2 + 0.05 * r.standard_normal((T, G))
    x[0::7] = r.uniform(-1.0, 1.0, (len(x[0::7]), G))               # plain noise
    x[1::9] = np.round(r.uniform(-2.0, 2.0, (len(x[1::9]), G)))      # many ties
    x[2::11] = 1.0                                                    # all equal
    m = r.random((T, G)) < 0.06
    x[m] = r.choice([np.nan, np.inf, -np.inf], m.sum())
    i = np.argmin(np.where(np.isfinite(x), x, np.inf), axis=1)
    for t in range(3, T, 13):                                         # a non-finite neighbour
        if 0 < i[t] < G - 1:
            x[t, i[t] + (1 if t % 2 else -1)] = np.nan
    x[4::23] = np.nan
    x[5::29] = np.inf
    x[6::31] = -np.inf
    return x.astype(np.float32)


@pytest.mark.parametrize("G", [1, 2, 3, 24, 60])
def test_argmin_curves_with_edges_ties_and_nonfinite(G):
    """ARGMIN on curves straight from the input: minima inside and at both
    edges, ties (first index wins), NaN/±Inf entries and all-non-finite rows,
    against the float64 reference; the C output is always finite."""
    hop, T = 64, 600
    b = Builder(hop)
    p = b.argmin(b.slice(b.frame(b.input, hop), 0, G))
    y = _expose(b, p, 1)
    x = np.zeros((T, hop), np.float32)
    x[:, :G] = _argmin_rows(T, G, 80 + G)
    g, t = finish(b, y)
    ref = ref_graph(g, t, x.reshape(-1)).reshape(T, hop)[:, 0]
    got = run_c(g, t, x.reshape(-1), hop).reshape(T, hop)[:, 0]
    assert np.all(np.isfinite(got)) and np.all((got >= 0) & (got <= G - 1))
    assert np.all(got[4::23] == 0) and np.all(got[5::29] == 0)    # nothing finite: 0
    if G >= 10:
        frac = np.abs(ref - np.round(ref)) > 1e-3
        assert frac.mean() > 0.3, "the test curves should mostly refine between indices"
    e = float(np.abs(got - ref).max())
    print(f"[conformance] argmin G={G} {e:.3g}")
    assert e <= TOL


def _mel_centres(sr: int, n: int, fmin: float = 40.0) -> np.ndarray:
    """HTK-mel band centres (Hz), as a student's log-mel bands."""
    lo, hi = (2595.0 * np.log10(1.0 + f / 700.0) for f in (fmin, sr / 2))
    return (700.0 * (10 ** (np.linspace(lo, hi, n + 2) / 2595.0) - 1.0))[1:-1].astype(np.float32)


def _log_factors(T: int, seed: int) -> np.ndarray:
    """WARP log factors: mostly in [-0.4, 0.4], some large |s| that clamp
    everything to an end position (up to 1e30: beyond exp's range, and the
    ±700 clamp), NaN and ±Inf."""
    r = rng(seed)
    s = r.uniform(-0.4, 0.4, T)
    s[0::10] = r.choice([-1.0, 1.0], len(s[0::10])) * r.uniform(1.0, 8.0, len(s[0::10]))
    s[1::17] = np.array([-1e30, 1e30, -750.0, 750.0, -60.0, 60.0])[np.arange(len(s[1::17])) % 6]
    s[2::19] = np.array([np.nan, np.inf, -np.inf])[np.arange(len(s[2::19])) % 3]
    s[3::23] = 0.0
    return s.astype(np.float32)


@pytest.mark.parametrize("C,positions", [
    (40, "mel"), (2, "mel"), (33, "linear0"), (12, "negative"),
])
def test_warp_direct_inputs(C, positions):
    """WARP of random features by log factors straight from the input (small,
    huge, NaN/Inf), at mel band centres, at linear bins from 0 Hz (a position
    0 with |s| beyond exp's range) and at positions below zero."""
    hop, T = 64, 500
    pos = {"mel": _mel_centres(16000, C),
           "linear0": np.linspace(0.0, 8000.0, C).astype(np.float32),
           "negative": np.linspace(-5.0, 3.0, C).astype(np.float32) ** 3}[positions]
    b = Builder(hop)
    fr = b.frame(b.input, hop)
    y = _expose(b, b.warp(b.slice(fr, 0, C), b.slice(fr, C, 1), pos), C)
    r = rng(90 + C)
    x = np.zeros((T, hop), np.float32)
    x[:, :C] = r.standard_normal((T, C))
    x[:, C] = _log_factors(T, 91 + C)
    g, t = finish(b, y)
    ref = ref_graph(g, t, x.reshape(-1)).reshape(T, hop)[:, :C]
    got = run_c(g, t, x.reshape(-1), hop).reshape(T, hop)[:, :C]
    assert np.all(np.isfinite(got)) and np.all(np.isfinite(ref))
    ident = ~np.isfinite(x[:, C]) | (x[:, C] == 0)
    assert np.array_equal(got[ident], x[ident, :C])            # s = 0 / non-finite: y = x
    e = float(np.abs(got - ref).max())
    print(f"[conformance] warp C={C} {positions} {e:.3g}")
    assert e <= TOL


def test_warp_log_mel_by_network_factor():
    """WARP as a student uses it: log-mel features warped by a log factor a
    small network computes (tanh, scaled to ±0.4), against the reference."""
    hop, n_mels, win = 64, 32, 512
    b = Builder(hop)
    f = b.frame(b.input, win)
    fb = np.abs(W((n_mels, win // 2 + 1), 92, 0.05))
    feats = b.log(b.linear(b.stft_mag(f, np.hanning(win).astype(np.float32), win), fb), 1e-5)
    s = b.affine(b.act(b.linear(feats, W((1, n_mels), 93, 0.3), np.array([0.1], np.float32)),
                       Act.TANH), np.array([0.4], np.float32), np.array([0.0], np.float32))
    y = _expose(b, b.warp(feats, s, _mel_centres(RATE, n_mels)), n_mels)
    x = voice_like(RATE * 2, 94)
    g, t = finish(b, y)
    ref = ref_graph(g, t, x).reshape(-1, hop)[:, :n_mels]
    got = run_c(g, t, x, hop).reshape(-1, hop)[:, :n_mels]
    e = float(np.abs(got - ref).max())
    print(f"[conformance] warp log-mel {e:.3g}")
    assert e <= TOL


def _f0_env(b: GraphBuilder, bins: int, seed: int):
    """f0 (Hz, some steps 0) and an envelope, both driven by the input."""
    f = b.frame(b.input, 2 * b.hop)
    z = b.linear(f, W((1, 2 * b.hop), seed, 0.05), np.array([0.2], np.float32))
    f0 = b.affine(b.act(z, Act.RELU), np.array([900.0], np.float32),
                  np.array([0.0], np.float32))
    env = b.act(b.linear(f, W((bins, 2 * b.hop), seed + 1, 0.3),
                         W((bins,), seed + 2, 1.0)), Act.EXP_SIGMOID)
    return f0, env


def f0_track(steps: int, seed: int) -> np.ndarray:
    """Per-step f0 (Hz): a glide 70..450 Hz with unvoiced (0) stretches."""
    r = rng(seed)
    f = 200 * np.exp(np.cumsum(r.normal(0, 0.03, steps)).clip(-1.05, 0.8))
    f[(np.arange(steps) // 37) % 4 == 3] = 0.0
    f[5] = 0.0
    return f.astype(np.float32)


def f0_signal(hop: int, steps: int, seed: int) -> np.ndarray:
    """Input whose first sample of each step is that step's f0 (Hz) and the
    rest noise in [-1, 1] (drives the envelope)."""
    x = rng(seed).uniform(-1, 1, (steps, hop)).astype(np.float32)
    x[:, 0] = f0_track(steps, seed + 1)
    return x.reshape(-1)


@pytest.mark.parametrize("hop,bins,kmax", [(64, 65, 100), (80, 2, 7), (128, 33, 200)])
def test_harmonic(hop, bins, kmax):
    """f0 reaches HARMONIC bit-exactly (a SLICE of the input), so the check
    is the op alone (an f0 off by one float32 ulp would move the phase)."""
    b = Builder(hop)
    f = b.frame(b.input, hop)
    f0 = b.slice(f, 0, 1)
    env = b.act(b.linear(b.slice(f, 1, hop - 1), W((bins, hop - 1), hop, 0.3),
                         W((bins,), hop + 1, 1.0)), Act.EXP_SIGMOID)
    y = b.harmonic(f0, env, kmax, float(RATE))
    check(b, y, f0_signal(hop, 300, 71 + hop))


def test_harmonic_nonfinite_f0_recovers():
    """A NaN/Inf f0 counts as 0 (C and reference), so the phase recovers."""
    hop = 64
    b = Builder(hop)
    f = b.frame(b.input, hop)
    f0 = b.slice(f, 0, 1)
    env = b.act(b.linear(b.slice(f, 1, hop - 1), W((17, hop - 1), 5, 0.3),
                         W((17,), 6, 1.0)), Act.EXP_SIGMOID)
    y = b.harmonic(f0, env, 50, float(RATE))
    x = f0_signal(hop, 200, 90).reshape(-1, hop)
    x[50, 0], x[51, 0], x[120, 0] = np.nan, np.inf, -np.inf
    x = x.reshape(-1)
    # the voice's dry path carries the input's own NaN/Inf samples (0·NaN)
    check(b, y, x, mask=np.isfinite(x))


@pytest.mark.parametrize("hop,bins,seed", [(64, 65, 1234), (128, 2, 0), (16, 9, 2**31 + 5)])
def test_noise(hop, bins, seed):
    b = Builder(hop)
    _, env = _f0_env(b, bins, 80 + hop)
    y = b.noise(env, seed)
    check(b, y, noise_signal(hop * 200, 81))


# ------------------------------------------------- student graph, streaming


def ddsp_graph(hop: int = 64) -> tuple[GraphBuilder, object]:
    """A small DDSP-like student: FRAME → STFT_MAG → LINEAR(mel) → LOG →
    CONV1D → GRU → LINEAR → ACT (envelopes); PITCH_YIN → PITCH_MAP →
    HARMONIC; NOISE; ADD."""
    from voiceskin_tooling.student import mel_filterbank

    n_fft, win, M, C, H, Bh, Bn = 512, 512, 40, 32, 48, 33, 17
    b = Builder(hop)
    f = b.frame(b.input, win)
    mag = b.stft_mag(f, ops.hann(win).numpy().astype(np.float32), n_fft)
    mel = b.linear(mag, mel_filterbank(RATE, n_fft, M).astype(np.float32))
    lm = b.log(mel, 1e-5)
    lm = b.affine(lm, np.full(M, 0.25, np.float32), np.full(M, 1.0, np.float32))
    c = b.act(b.conv1d(lm, W((C, M, 3), 90), W((C,), 91, 0.1), dilation=2), Act.RELU)
    p = b.pitch_yin(b.frame(b.input, 768), **YIN)
    f0 = b.pitch_map(p, target_mu=np.log(200.0), target_sigma=0.18, prior_mu=np.log(140.0),
                     prior_sigma=0.2, warmup=20.0, tau=200.0, vthreshold=0.6)
    lf = b.log(f0, 50.0)
    gin = b.concat(c, lm, lf, b.slice(p, 1, 1))
    s = 1.2 / np.sqrt(H)
    g = b.gru(gin, W((3 * H, C + M + 2), 92, s), W((3 * H, H), 93, s),
              W((3 * H,), 94, 0.1), W((3 * H,), 95, 0.1))
    he = b.act(b.linear(g, W((Bh, H), 96), np.full(Bh, -2.0, np.float32)), Act.EXP_SIGMOID)
    ne = b.act(b.linear(g, W((Bn, H), 97), np.full(Bn, -4.0, np.float32)), Act.EXP_SIGMOID)
    y = b.add(b.harmonic(f0, he, 80, float(RATE)), b.noise(ne, 4242))
    return b, y


def test_ddsp_student_end_to_end():
    b, y = ddsp_graph()
    x = voice_like(RATE * 3, 100)
    check(b, y, x, tol=E2E_TOL)


def test_streaming_block_sizes_bit_identical():
    b, y = ddsp_graph()
    g, t = finish(b, y)
    x = voice_like(RATE * 2, 101)
    whole = run_c(g, t, x, b.hop)
    blocks = [int(v) for v in rng(102).integers(1, 4097, 64)]
    blocks[:6] = [1, 2, 3, 63, 65, 4096]
    streamed = run_c(g, t, x, b.hop, blocks=blocks)
    assert np.array_equal(whole, streamed)
    ref = ref_graph(g, t, x)
    assert np.abs(streamed - ref).max() <= E2E_TOL


@pytest.mark.parametrize("k", [1, 4])
def test_nearest_picks_the_same_rows_as_the_reference(k):
    """NEAREST on keys made from the input itself: 2000 stored keys (some
    zero rows: exact ties) against queries read from the signal; the C picks
    (SIMD distances) equal the reference's, value for value."""
    hop, D, C, N = 64, 8, 6, 2000
    g = np.random.default_rng(90 + k)
    keys = g.uniform(-1, 1, (N, D)).astype(np.float32)
    keys[::97] = 0.0
    values = (np.arange(N, dtype=np.float32)[:, None] / N + g.uniform(0, 1e-3, (N, C))).astype(np.float32)
    b = Builder(hop)
    q = b.slice(b.frame(b.input, hop), 0, D)
    y = _expose(b, b.nearest(q, keys, values, k), C)
    T = 400
    x = g.uniform(-1, 1, (T, hop)).astype(np.float32)
    x[::9, :D] *= 1e-3                   # queries near 0: the zero rows tie
    g_, t = finish(b, y)
    ref = ref_graph(g_, t, x.reshape(-1)).reshape(T, hop)[:, :C]
    got = run_c(g_, t, x.reshape(-1), hop).reshape(T, hop)[:, :C]
    e = float(np.abs(got - ref).max())
    print(f"[conformance] nearest k={k} {e:.3g}")
    assert e <= TOL
