"""The student family: a DDSP-style streaming voice converter built only from
the runtime's op set (docs/bundle-format.md), one capacity per quality tier.

Per step of ``hop`` samples at ``sample_rate`` (16 kHz, hop 64 = 4 ms)::

    x ─FRAME(win)─STFT_MAG(hann)─LINEAR(mel, const)─LOG ─ m ──────────┐
          m, voicing ─RUNNING_MEAN ─ M̂ → WARP(m − M̂, α)/σ, level(M̂) ─┤
    x ─FRAME(yin_frame)─PITCH_YIN─┬─PITCH_MAP ─ f0 (target voice, Hz) │
                                  │            └LOG─AFFINE─ lf0 ───────┤
                                  └SLICE(voicing) ────────────────────┤
                                                         CONCAT ◄──────┘
       → [CONV1D(causal) → ACT relu] × L → CONCAT(features) → GRU
       → LINEAR → ACT exp_sigmoid → × voicing gate → harmonic envelope
                                                    ─ HARMONIC(f0) ─┐
       → LINEAR → ACT exp_sigmoid → noise envelope ──── NOISE ────────ADD → y

Speaker normalisation (``norm_tau`` > 0, the default of the tier presets):
the WORLD master equalises every frame by the difference between the target's
mean envelope and a *running* mean of the source's, so its output is about
``T + warp(x − M̂)``. The student gets the same handle: RUNNING_MEAN (the
statistic PITCH_MAP uses, per feature, over voiced steps) of its log-mel
features, and sees ``x − M̂`` plus the band average of ``M̂`` (the source's
level) — not ``M̂`` itself, whose shape would let it memorise the few
training speakers. Measured on the shipped corpus (low tier, 300 s): held-
out log-mel ratio 0.76 → 0.53.

Formant normalisation (``warp_grid`` > 0, 25 in the presets): the master
also warps each frame by the factor α that best maps M̂ onto the target's
mean envelope. The student picks α the same way on its own bands (the
warp-fit curve — in the graph as squares and neighbour products of M̂ and
two projections per factor (:func:`warp_fit_quadratic`) — its minimum by
ARGMIN, on a log
grid over the master's own ``warp_range`` — ``warp_range`` in
:class:`StudentConfig`, taken from the master's config at training) and feeds
``(m − M̂)(f/α)`` (WARP) instead of ``m − M̂``, so the network's mapping no
longer depends on the speaker's formant scale. Measured (high tier, 3000
steps, same cache and seed): held-out identity recovery 0.59 → 0.72.

Lookahead (``lookahead`` samples, a multiple of ``hop``; the tier presets
use 128 = 8 ms): the student is trained to output the master's audio
``lookahead`` samples late, so its analysis window is centred on the sound it
makes instead of ending there. The f0 and voicing that drive HARMONIC and the
voicing gate are delayed to match (a CONV1D with one unit tap), so pitch stays
the master's frame for frame; the bundle declares ``latency_samples = hop +
lookahead``. Measured on the shipped corpus (high tier, 540 s of training,
all 36 held-out utterances): identity recovery 0.51 / 0.54 / 0.65 / 0.57 /
0.57 at 0 / 64 / 128 / 192 / 256 samples — 128 centres the 256-sample window.

Pitch is never learned: ``f0 = PITCH_MAP(PITCH_YIN(frame))`` is the very
definition the masters use (``voiceskin_tooling.pitchmap``), so the student's
pitch conversion is exact. The network only predicts the spectral envelopes
of the harmonic and noise parts.

:class:`Student` is the PyTorch module trained by ``distill.py``. Its
non-learned front end (features, f0, voicing) is computed once per utterance
by :func:`frontend`; :meth:`Student.forward` maps those to audio with
the reference ops of ``voiceskin_tooling.ops`` (differentiable HARMONIC and
NOISE; noise drawn at random in training, or the runtime's hashed noise for
checks). :func:`export` turns a trained student
into ``(Graph, tensors)`` with :class:`voiceskin.graph.GraphBuilder`, so the
native runtime executes exactly the trained network.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "PitchSpec", "StudentConfig", "Student", "Frontend", "frontend",
    "export", "mel_filterbank", "config_from_tier", "exp_sigmoid", "tier_cost",
]

LN10 = math.log(10.0)
#: target-frame picks: the envelope grid of the table (the master's
#: ``log_env`` grid, 65 linear frequencies over 0..sr/2) and the content
#: key's width (masters/phones.py: 39 phones and silence)
PICK_BINS = 65
PICK_CONTENT = 40


# ------------------------------------------------------------------ configs


@dataclass
class PitchSpec:
    """PITCH_YIN + PITCH_MAP parameters (shared with the master's definition).

    ``target_mu``/``target_sigma`` are the target voice's log-F0 mean and
    spread; ``prior_*`` are the running source statistics' starting point."""

    frame: int = 512
    fmin: float = 60.0
    fmax: float = 600.0
    threshold: float = 0.15
    target_mu: float = math.log(200.0)
    target_sigma: float = 0.15
    prior_mu: float = math.log(140.0)
    prior_sigma: float = 0.2
    warmup: float = 50.0
    tau: float = 500.0
    vthreshold: float = 0.5

    @classmethod
    def from_mapping(cls, m: Mapping[str, Any]) -> "PitchSpec":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in m.items() if k in names})


@dataclass
class StudentConfig:
    """Capacity and signal parameters of one student (one tier)."""

    sample_rate: int = 16000
    hop: int = 64
    win: int = 256            # analysis frame for the mel features
    n_fft: int = 256
    n_mels: int = 40
    # mel scale of the features: bands equally spaced in ln(1 + f/break);
    # 700 Hz is HTK's mel (and what checkpoints without the field used)
    mel_break_hz: float = 700.0
    conv_channels: int = 48
    conv_layers: int = 2
    # output channels per conv layer when they differ (a pruned student,
    # voiceskin_tooling.prune); empty = conv_channels for every layer
    conv_widths: tuple[int, ...] = ()
    kernel: int = 3
    gru_hidden: int = 96
    gru_layers: int = 1
    hidden: int = 96          # dense layer feeding the heads (0 = none)
    harm_bins: int = 49       # harmonic envelope bins over 0..sr/2
    noise_bins: int = 25      # noise envelope bins over 0..sr/2
    max_harmonics: int = 64
    noise_seed: int = 1234
    log_eps: float = 1e-5
    voicing_gate: float = 50.0  # harmonic gate sigmoid(k·(voicing − vthreshold)); 0 = off
    # speaker normalisation (0 = off): a RUNNING_MEAN of the log-mel features
    # over voiced steps (time constant ``norm_tau`` steps, warm-up
    # ``norm_warmup``), the student-side twin of the master's running source
    # envelope. The network sees (x − mean) and the band average of
    # (mean − corpus mean) — the source's level, not its timbre.
    norm_tau: float = 0.0
    norm_warmup: float = 100.0
    norm_keep_mean: bool = False  # also feed the whole running mean (else its band average)
    # linear skip from the input features to the envelope heads (pre-activation)
    skip: bool = False
    # output delay the student is trained with, in samples (a multiple of hop)
    lookahead: int = 0
    # steps the master reads its F0 and voicing ahead of its frame (world2's
    # yin_offset; distill copies it from the master's config): synthesis
    # then takes the student's pitch lookahead_steps − pitch_advance late
    pitch_advance: int = 0
    # formant normalisation (0 = off; needs norm_tau > 0): the master's warp
    # choice made on the student's running mean — for warp_grid factors on a
    # log grid over ``warp_range``, the mean squared difference between the
    # detrended, warped running mean and the target's mean log-mel (150 Hz –
    # 5 kHz); ARGMIN picks the factor α, and the network sees the deviation
    # x − M̂ warped by α (WARP) instead of x − M̂
    warp_grid: int = 0
    # the factors ARGMIN chooses from: the master's ``warp_range`` (distill
    # copies it from the master's config; a master without one keeps this)
    warp_range: tuple[float, float] = (0.7, 1.45)
    # target-frame picks (0 = off; needs warp_grid, 16 kHz and hop 64):
    # NEAREST averages the envelopes of the pick_k target frames nearest to
    # a key made of the normalised features, the phone classifier's content
    # key (masters/phones.py, the key world2's knn_content searches, computed
    # in the graph) and the voicing gate; the picked envelope feeds both
    # heads. The table holds pick_frames target steps (a random subset of
    # the reference audio's; training lowers it to what the reference has).
    pick_k: int = 0
    pick_frames: int = 4096
    # the content part's spread over the table, relative to the features'
    pick_content_weight: float = 3.0
    pitch: PitchSpec = field(default_factory=PitchSpec)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "StudentConfig":
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names and k != "pitch"}
        if "warp_range" in kw:  # JSON/torch round trips give a list
            kw["warp_range"] = (float(kw["warp_range"][0]), float(kw["warp_range"][1]))
        if "conv_widths" in kw:
            kw["conv_widths"] = tuple(int(w) for w in kw["conv_widths"])
        pitch = PitchSpec.from_mapping(d.get("pitch", {}))
        return cls(pitch=pitch, **kw)

    @property
    def frame_rate(self) -> float:
        return self.sample_rate / self.hop

    @property
    def lookahead_steps(self) -> int:
        if self.lookahead < 0 or self.lookahead % self.hop:
            raise ValueError(f"lookahead {self.lookahead} must be a multiple of hop {self.hop} "
                             f"(0, {self.hop}, {2 * self.hop}, ...)")
        return self.lookahead // self.hop

    @property
    def pitch_delay_steps(self) -> int:
        """Steps between the student's pitch track and the f0/voicing its
        synthesis uses: the output's lag minus what the master reads ahead."""
        d = self.lookahead_steps - self.pitch_advance
        if self.pitch_advance < 0 or d < 0:
            raise ValueError(f"pitch_advance {self.pitch_advance} must be within 0..{self.lookahead_steps} "
                             f"(the lookahead in steps): the master cannot read F0 further ahead than "
                             f"the student waits")
        return d

    def conv_width(self, i: int) -> int:
        """Output channels of conv layer ``i``."""
        if self.conv_widths:
            if len(self.conv_widths) != self.conv_layers:
                raise ValueError(f"conv_widths {self.conv_widths} must give one width per conv layer "
                                 f"({self.conv_layers})")
            return int(self.conv_widths[i])
        return self.conv_channels

    @property
    def n_features(self) -> int:
        if self.norm_tau > 0:
            return self.n_mels + (self.n_mels if self.norm_keep_mean else 1) + 2
        return self.n_mels + 2


#: Capacity fields a tier preset may set, with the student field they feed.
_TIER_KEYS = {
    "n_mels": "n_mels", "mels": "n_mels", "mel_break_hz": "mel_break_hz",
    "conv_channels": "conv_channels", "channels": "conv_channels",
    "conv_layers": "conv_layers", "layers": "conv_layers",
    "kernel": "kernel", "conv_kernel": "kernel",
    "gru_hidden": "gru_hidden", "gru_layers": "gru_layers", "hidden": "hidden",
    "harm_bins": "harm_bins", "env_bins": "harm_bins",
    "noise_bins": "noise_bins",
    "max_harmonics": "max_harmonics", "harmonics": "max_harmonics",
    "sample_rate": "sample_rate", "model_sample_rate": "sample_rate",
    "hop": "hop", "hop_samples": "hop",
    "win": "win", "n_fft": "n_fft",
    "norm_tau": "norm_tau", "norm_warmup": "norm_warmup", "norm_keep_mean": "norm_keep_mean",
    "skip": "skip", "lookahead": "lookahead", "warp_grid": "warp_grid",
    "pick_k": "pick_k", "pick_frames": "pick_frames", "pick_content_weight": "pick_content_weight",
}


def config_from_tier(tier: Any, pitch: PitchSpec | None = None) -> StudentConfig:
    """Builds a :class:`StudentConfig` from a tier preset (a mapping, a
    dataclass or any object with attributes; unknown fields are ignored).
    A ``capacity`` mapping inside the preset is merged in too."""
    if isinstance(tier, Mapping):
        src: dict[str, Any] = dict(tier)
    elif hasattr(tier, "__dataclass_fields__"):
        src = asdict(tier)
    else:
        src = {k: getattr(tier, k) for k in dir(tier) if not k.startswith("_")
               and not callable(getattr(tier, k))}
    cap = src.get("capacity")
    if isinstance(cap, Mapping):
        src = {**src, **cap}
    kw: dict[str, Any] = {}
    for k, v in src.items():
        if k in _TIER_KEYS and v is not None and not isinstance(v, Mapping):
            if isinstance(v, bool):
                kw[_TIER_KEYS[k]] = v
            else:
                kw[_TIER_KEYS[k]] = float(v) if isinstance(getattr(StudentConfig, _TIER_KEYS[k]), float) else int(v)
    cfg = StudentConfig(**kw)
    if pitch is not None:
        cfg.pitch = pitch
    for k, pk in (("pitch_window", "frame"), ("fmin", "fmin"), ("fmax", "fmax")):
        if pitch is None and src.get(k) is not None:
            setattr(cfg.pitch, pk, type(getattr(cfg.pitch, pk))(src[k]))
    if cfg.win < cfg.hop:
        cfg.win = cfg.hop
    if cfg.n_fft < cfg.win:
        cfg.n_fft = 1 << (cfg.win - 1).bit_length()
    return cfg


# ------------------------------------------------------------- signal parts


def _mel_points(fmin: float, fmax: float, n_mels: int, break_hz: float = 700.0) -> np.ndarray:
    """n_mels + 2 frequencies (Hz) from fmin to fmax, equally spaced on the
    scale ln(1 + f / break_hz): band edges and centres of
    :func:`mel_filterbank`. break_hz = 700 is the HTK mel scale; a higher
    break spaces the low bands wider (more nearly linear)."""
    lo, hi = (np.log1p(np.array(f) / break_hz) for f in (fmin, fmax))
    return break_hz * np.expm1(np.linspace(lo, hi, n_mels + 2))


def mel_filterbank(sr: int, n_fft: int, n_mels: int, fmin: float = 40.0,
                   fmax: float | None = None, break_hz: float = 700.0) -> np.ndarray:
    """Triangular mel filterbank [n_mels, n_fft/2+1] (area-normalised); HTK
    mel with the default ``break_hz``."""
    fmax = fmax or sr / 2
    freqs = np.linspace(0, sr / 2, n_fft // 2 + 1)
    pts = _mel_points(fmin, fmax, n_mels, break_hz)
    fb = np.zeros((n_mels, freqs.size), dtype=np.float64)
    for m in range(n_mels):
        lo, c, hi = pts[m], pts[m + 1], pts[m + 2]
        up = (freqs - lo) / max(c - lo, 1e-9)
        down = (hi - freqs) / max(hi - c, 1e-9)
        fb[m] = np.maximum(0.0, np.minimum(up, down))
        if fb[m].sum() == 0:  # narrow low band: nearest bin
            fb[m, int(np.argmin(np.abs(freqs - c)))] = 1.0
        fb[m] *= 2.0 / max(hi - lo, 1e-9) * (sr / n_fft)
    return fb.astype(np.float32)


def _cfg_mel_filterbank(cfg: StudentConfig) -> np.ndarray:
    """A student's feature filterbank: what it trains on and what it exports."""
    return mel_filterbank(cfg.sample_rate, cfg.n_fft, cfg.n_mels, break_hz=cfg.mel_break_hz)


def hann(n: int) -> np.ndarray:
    """Periodic Hann window (as NOISE uses; also the STFT_MAG window)."""
    j = np.arange(n)
    return (0.5 - 0.5 * np.cos(2 * np.pi * j / n)).astype(np.float32)


def exp_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """ACT kind 5: ``2·σ(x)^{ln 10} + 1e-7``."""
    return 2.0 * torch.sigmoid(x) ** LN10 + 1e-7


# ------------------------------------------------------------- front end


@dataclass
class Frontend:
    """Non-learned per-step inputs of a student for one utterance."""

    logmel: torch.Tensor   # [T, n_mels]  LOG(LINEAR(mel, STFT_MAG(FRAME)))
    f0: torch.Tensor       # [T]  PITCH_MAP output (target voice, Hz)
    voicing: torch.Tensor  # [T]  PITCH_YIN voicing
    content: torch.Tensor | None = None  # [T, 40] the content key (pick_k students only)


def logmel(audio: torch.Tensor, cfg: StudentConfig) -> torch.Tensor:
    """Per-step log-mel features [..., T, n_mels] exactly as the graph
    computes them (FRAME → STFT_MAG(hann) → LINEAR(mel) → LOG)."""
    from . import ops

    fr = ops.frame(audio, cfg.hop, cfg.win)
    mag = ops.stft_mag(fr, torch.from_numpy(hann(cfg.win)), cfg.n_fft)
    mel = ops.linear(mag, torch.from_numpy(_cfg_mel_filterbank(cfg)))
    return ops.log(mel, cfg.log_eps)


def pitch_track(audio: torch.Tensor, cfg: StudentConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """(target f0 [T], voicing [T]) = PITCH_MAP(PITCH_YIN(FRAME)) through the
    reference ops (``voiceskin_tooling.ops``): the runtime's definition."""
    from . import ops  # the reference op implementations

    p = cfg.pitch
    audio = audio.reshape(-1).to(torch.float32)
    fr = ops.frame(audio, cfg.hop, p.frame)
    yin = ops.pitch_yin(fr, sample_rate=float(cfg.sample_rate), fmin=p.fmin,
                        fmax=p.fmax, threshold=p.threshold)
    f0 = ops.pitch_map(yin, target_mu=p.target_mu, target_sigma=p.target_sigma,
                       prior_mu=p.prior_mu, prior_sigma=p.prior_sigma,
                       warmup=p.warmup, tau=p.tau, vthreshold=p.vthreshold)
    return f0.reshape(-1), yin[..., 1].reshape(-1)


def frontend(audio: torch.Tensor | np.ndarray, cfg: StudentConfig,
             pitch: tuple[torch.Tensor, torch.Tensor] | None = None) -> Frontend:
    """Front end of one utterance (mono, model rate). Audio is cut to a
    whole number of hops. ``pitch`` reuses a cached (f0, voicing)."""
    a = torch.as_tensor(np.asarray(audio, dtype=np.float32)).reshape(-1)
    T = a.numel() // cfg.hop
    a = a[: T * cfg.hop]
    f0, v = pitch if pitch is not None else pitch_track(a, cfg)
    content = None
    if cfg.pick_k:
        from .masters import phones

        content = torch.from_numpy(phones.step_content(_phone_model(), a.numpy()))
    return Frontend(logmel(a, cfg), f0[:T].float(), v[:T].float(), content)


def _phone_model() -> Any:
    """The content key's classifier (masters/phones.py), loaded once."""
    global _PHONES
    if _PHONES is None:
        from .masters import phones

        _PHONES = phones.PhoneModel.load(phones.MODEL_FILE)
    return _PHONES


_PHONES: Any = None


WARP_RANGE = StudentConfig.warp_range  # the default: the old WORLD master's warp_range
WARP_BAND_HZ = (150.0, 5000.0)


def mel_centres(sr: int, n_mels: int, fmin: float = 40.0, break_hz: float = 700.0) -> np.ndarray:
    """Centre frequencies (Hz) of :func:`mel_filterbank`'s bands."""
    return _mel_points(fmin, sr / 2, n_mels, break_hz)[1:-1]


def _cfg_mel_centres(cfg: StudentConfig) -> np.ndarray:
    """Centre frequencies (Hz) of a student's feature bands."""
    return mel_centres(cfg.sample_rate, cfg.n_mels, break_hz=cfg.mel_break_hz)


def warp_log_grid(G: int, warp_range: tuple[float, float] = WARP_RANGE) -> tuple[float, float]:
    """(ln of the first factor, log step) of the G-point grid over ``warp_range``."""
    if not 0 < warp_range[0] < 1 < warp_range[1]:
        raise ValueError(f"warp_range {warp_range} must contain 1 and be positive")
    lo, hi = math.log(warp_range[0]), math.log(warp_range[1])
    return lo, (hi - lo) / (G - 1)


def _warp_interp(cfg: StudentConfig) -> list[np.ndarray]:
    """Per warp factor g of the grid, [B, n_mels]: the running mean's value
    at f/g (linear interpolation between band centres) at the B centres in
    WARP_BAND_HZ; two adjacent nonzeros per row."""
    c = _cfg_mel_centres(cfg)
    sel, _ = _warp_band(cfg)
    lo, step = warp_log_grid(cfg.warp_grid, cfg.warp_range)
    out = []
    for g in np.exp(lo + step * np.arange(cfg.warp_grid)):
        W = np.zeros((len(sel), cfg.n_mels))
        for i, m in enumerate(sel):
            f = min(max(c[m] / g, c[0]), c[-1])
            j = min(int(np.searchsorted(c, f, side="right")) - 1, cfg.n_mels - 2)
            w = (f - c[j]) / (c[j + 1] - c[j])
            W[i, j], W[i, j + 1] = 1.0 - w, w
        out.append(W)
    return out


def warp_fit_matrix(cfg: StudentConfig) -> np.ndarray:
    """[G·B, n_mels]: for each warp factor g, the running mean warped by g
    (:func:`_warp_interp`), detrended over the B centres in WARP_BAND_HZ
    (mean and linear tilt in Hz removed) — the master's ``_WarpBank`` on the
    student's features."""
    _, P = _warp_band(cfg)
    return np.concatenate([P @ W for W in _warp_interp(cfg)], 0)


def warp_fit_quadratic(cfg: StudentConfig, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The warp-fit curve in the form the exported graph computes it.

    With u_g = I_g M̂ (:func:`_warp_interp`), P = I − QQᵀ the detrending
    projection and t = P·target (``target``: the detrended target, B
    values), ``Σ_b (P u_g − t)² = ‖u_g‖² − ‖Qᵀu_g‖² − 2tᵀu_g + ‖t‖²``.
    ``‖u_g‖²`` is a quadratic form of M̂ with a tridiagonal matrix (each row
    of I_g has two adjacent nonzeros), i.e. linear in M̂² and in the
    neighbour products M̂_j·M̂_{j+1}. Returns (QI [2G, M], E [G, M + (M−1)
    + 2G + M]) such that for z = [M̂², M̂_j·M̂_{j+1}, (QI M̂)², M̂],
    ``E z`` is the curve minus ‖t‖² per factor: B times the mean of
    :meth:`Student.warp_fit`, less a constant, which ARGMIN (parabolic
    refinement included) does not see. About 6k multiply-adds per step
    for 40 bands and 25 factors, against 50k for the dense form."""
    sel, _ = _warp_band(cfg)
    c = _cfg_mel_centres(cfg)
    A = np.stack([np.ones(len(sel)), c[sel]], 1)
    Q, _ = np.linalg.qr(A)
    interp = _warp_interp(cfg)
    G, M = len(interp), cfg.n_mels
    QI = np.concatenate([Q.T @ W for W in interp], 0)
    E = np.zeros((G, M + (M - 1) + 2 * G + M))
    for g, W in enumerate(interp):
        E[g, :M] = (W * W).sum(0)                                   # M̂_j² terms
        E[g, M:2 * M - 1] = 2.0 * (W[:, :-1] * W[:, 1:]).sum(0)     # M̂_j·M̂_{j+1}
        E[g, 2 * M - 1 + 2 * g: 2 * M + 1 + 2 * g] = -1.0            # −‖Qᵀu_g‖²
        E[g, 2 * M - 1 + 2 * G:] = -2.0 * (target @ W)              # −2tᵀu_g
    return QI, E


def _warp_band(cfg: StudentConfig) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the mel bands centred in WARP_BAND_HZ and the projection
    that removes mean and linear tilt (in Hz) over them."""
    c = _cfg_mel_centres(cfg)
    sel = np.flatnonzero((c >= WARP_BAND_HZ[0]) & (c <= WARP_BAND_HZ[1]))
    A = np.stack([np.ones(len(sel)), c[sel]], 1)
    return sel, np.eye(len(sel)) - A @ np.linalg.pinv(A)


# ------------------------------------------------- formant post-filter
#
# A student trained on a regression loss predicts envelopes that are
# smoother than its master's (on unseen speakers most: it regresses towards
# the average speaker), and a speaker encoder hears the lost formant
# contrast. The post-filter ``A = I + β(I − S)`` — S averages each
# harmonic-envelope bin with its neighbours within ±width Hz — raises each
# bin's pre-activation by β times its excess over that neighbourhood. It is
# linear, so it folds into the harmonic head's weights: the exported graph
# and its cost do not change. β is fitted after training, on the training
# utterances, so that the student's envelope contrast equals the master's
# (``distill.fit_postfilter``) — the global-variance idea of statistical
# parametric synthesis, applied across frequency.


def _neighbour_average(bins: int, sample_rate: int, width_hz: float) -> np.ndarray:
    """[bins, bins] moving average over ±width_hz (at least one bin either
    side) of an envelope of ``bins`` bins over 0..sr/2, truncated at the edges."""
    radius = max(int(round(width_hz / (sample_rate / 2 / (bins - 1)))), 1)
    S = np.zeros((bins, bins))
    for i in range(bins):
        lo, hi = max(0, i - radius), min(bins, i + radius + 1)
        S[i, lo:hi] = 1.0 / (hi - lo)
    return S


def postfilter_matrix(bins: int, sample_rate: int, beta: float, width_hz: float) -> np.ndarray:
    """``I + β(I − S)`` for an envelope of ``bins`` bins over 0..sr/2."""
    eye = np.eye(bins)
    return eye + beta * (eye - _neighbour_average(bins, sample_rate, width_hz))


def envelope_contrast(log_env: np.ndarray, sample_rate: int, width_hz: float,
                      band_hz: tuple[float, float] = (250.0, 5000.0)) -> float:
    """Mean squared excess of a log envelope [T, B] (B bins over 0..sr/2)
    over its ±width_hz neighbourhood average, inside ``band_hz``: how sharp
    its formants are. Shift-invariant (overall level does not count)."""
    L = np.asarray(log_env, np.float64)
    B = L.shape[-1]
    S = _neighbour_average(B, sample_rate, width_hz)
    f = np.arange(B) * (sample_rate / 2 / (B - 1))
    sel = (f >= band_hz[0]) & (f <= band_hz[1])
    r = (L - L @ S.T)[..., sel]
    return float(np.mean(r * r)) if r.size else 0.0


def delay_steps(x: torch.Tensor, k: int) -> torch.Tensor:
    """``x`` [..., T] delayed by ``k`` steps (zeros first): the graph's
    CONV1D with one unit tap ``k`` steps back, from a reset state."""
    if k <= 0:
        return x
    return F.pad(x, (k, 0))[..., : x.shape[-1]]


# ---------------------------------------------------------------- student


class Student(nn.Module):
    """Trainable student. ``forward(logmel, f0, voicing)`` with tensors
    [N, T, M], [N, T], [N, T] returns audio [N, T*hop] (and, with
    ``return_hidden=True``, the intermediate activations by name for
    layer-to-layer distillation)."""

    def __init__(self, cfg: StudentConfig) -> None:
        super().__init__()
        self.cfg = cfg
        M = cfg.n_mels
        # feature normalisation (set from data before training, then frozen)
        self.register_buffer("feat_mean", torch.zeros(M))
        self.register_buffer("feat_std", torch.ones(M))
        # RUNNING_MEAN prior: the corpus' mean log-mel over voiced steps
        self.register_buffer("norm_prior", torch.zeros(M))
        if cfg.warp_grid:
            if cfg.norm_tau <= 0:
                raise ValueError("warp_grid needs the running mean (norm_tau > 0)")
            if cfg.warp_grid < 3:
                raise ValueError(f"warp_grid {cfg.warp_grid}: use 0 (off) or at least 3 factors")
            W = warp_fit_matrix(cfg)
            self.register_buffer("warp_W", torch.from_numpy(W).float())
            self.register_buffer("warp_b", torch.zeros(W.shape[0]))  # −(detrended target), tiled
            # WARP's positions: derived from cfg, so not saved, but a buffer
            # so that they follow the module to its device
            pos = _cfg_mel_centres(cfg).astype(np.float32)
            self.register_buffer("warp_pos", torch.from_numpy(pos), persistent=False)
        self.convs = nn.ModuleList()
        cin = cfg.n_features
        for i in range(cfg.conv_layers):
            self.convs.append(nn.Conv1d(cin, cfg.conv_width(i), cfg.kernel,
                                        dilation=self.dilation(i)))
            cin = cfg.conv_width(i)
        gin = cin + cfg.n_features if cfg.conv_layers else cfg.n_features
        self.gru = nn.GRU(gin, cfg.gru_hidden, num_layers=cfg.gru_layers, batch_first=True)
        top = cfg.gru_hidden
        self.dense = nn.Linear(top, cfg.hidden) if cfg.hidden else None
        top = cfg.hidden or top
        self.harm_head = nn.Linear(top, cfg.harm_bins)
        self.noise_head = nn.Linear(top, cfg.noise_bins)
        # linear paths from the features: the master's envelope is close to
        # a linear map of the speaker-normalised input (target mean + warped
        # deviation), which generalises across speakers; the network adds
        # the rest. Zero at start.
        self.harm_skip = nn.Linear(cfg.n_features, cfg.harm_bins, bias=False) if cfg.skip else None
        self.noise_skip = nn.Linear(cfg.n_features, cfg.noise_bins, bias=False) if cfg.skip else None
        for m in (self.harm_skip, self.noise_skip):
            if m is not None:
                nn.init.zeros_(m.weight)
        self.pick_h = self.pick_n = None
        if cfg.pick_k:
            if not cfg.warp_grid:
                raise ValueError("pick_k needs the formant-normalised features (warp_grid > 0)")
            if (cfg.sample_rate, cfg.hop) != (16000, 64):
                raise ValueError(f"pick_k needs 16 kHz and hop 64 (the content key's frames), not "
                                 f"{cfg.sample_rate} Hz and hop {cfg.hop}")
            if not 1 <= cfg.pick_k <= min(cfg.pick_frames, 16):
                raise ValueError(f"pick_k {cfg.pick_k} must be in 1..min(pick_frames = {cfg.pick_frames}, 16)")
            N, D = cfg.pick_frames, cfg.n_mels + PICK_CONTENT + 1
            # the table (set by set_pick_table) and the pick's standardisation
            self.register_buffer("pick_keys", torch.zeros(N, D))
            self.register_buffer("pick_sq", torch.zeros(N))
            self.register_buffer("pick_vals", torch.zeros(N, PICK_BINS))
            self.register_buffer("pick_mu", torch.zeros(PICK_BINS))
            self.register_buffer("pick_isd", torch.ones(PICK_BINS))
            self.register_buffer("pick_scale", torch.ones(2))  # content, voicing columns
            self.pick_h = nn.Linear(PICK_BINS, cfg.harm_bins)
            self.pick_n = nn.Linear(PICK_BINS, cfg.noise_bins)
            for m in (self.pick_h, self.pick_n):  # zero at start: the plain student
                nn.init.zeros_(m.weight)
                nn.init.zeros_(m.bias)
        with torch.no_grad():  # start quiet: small envelopes
            self.harm_head.bias.fill_(-2.5)
            self.noise_head.bias.fill_(-4.0)

    def dilation(self, i: int) -> int:
        return 2 ** i

    # normalised log-F0: (ln max(f0, fmin) - target_mu) / 0.5
    def _lf0(self, f0: torch.Tensor) -> torch.Tensor:
        p = self.cfg.pitch
        return (torch.log(torch.clamp(f0, min=p.fmin)) - p.target_mu) * 2.0

    def running_mean(self, logmel: torch.Tensor, voicing: torch.Tensor) -> torch.Tensor:
        """RUNNING_MEAN of the log-mel features over voiced steps, from a
        fresh state at the first step given (exactly the graph's op)."""
        from . import ops

        c = self.cfg
        return ops.running_mean(logmel, voicing, self.norm_prior, c.norm_warmup, c.norm_tau,
                                c.pitch.vthreshold).to(logmel.device)

    def features(self, logmel: torch.Tensor, f0: torch.Tensor, voicing: torch.Tensor,
                 rmean: torch.Tensor | None = None) -> torch.Tensor:
        """Network input per step. With speaker normalisation, ``rmean`` is
        the running mean of ``logmel`` (computed here from the first step
        when not given: training passes the value from the whole utterance)."""
        tail = [self._lf0(f0).unsqueeze(-1), voicing.unsqueeze(-1)]
        if self.cfg.norm_tau > 0:
            if rmean is None:
                rmean = self.running_mean(logmel, voicing)
            d = logmel - rmean
            if self.cfg.warp_grid:
                from . import ops

                d = ops.warp(d, self.warp_log_factor(rmean), self.warp_positions())
            d = d / self.feat_std
            r = (rmean - self.feat_mean) / self.feat_std
            if not self.cfg.norm_keep_mean:
                r = r.mean(-1, keepdim=True)
            return torch.cat([d, r, *tail], -1)
        m = (logmel - self.feat_mean) / self.feat_std
        return torch.cat([m, *tail], -1)

    def warp_fit(self, rmean: torch.Tensor) -> torch.Tensor:
        """Mean squared warp-fit error per grid factor [..., G] (the curve
        whose minimum the master picks)."""
        v = rmean @ self.warp_W.T + self.warp_b
        return (v * v).reshape(*v.shape[:-1], self.cfg.warp_grid, -1).mean(-1)

    def warp_log_factor(self, rmean: torch.Tensor) -> torch.Tensor:
        """ln α [..., 1]: ARGMIN of the warp-fit curve (parabolic refinement)
        mapped onto the log grid over the config's ``warp_range``."""
        from . import ops

        lo, step = warp_log_grid(self.cfg.warp_grid, self.cfg.warp_range)
        return lo + step * ops.argmin(self.warp_fit(rmean))

    def warp_positions(self) -> torch.Tensor:
        """The mel bands' centre frequencies (Hz): WARP's positions."""
        return self.warp_pos

    def set_warp_target(self, target_logmel_mean: torch.Tensor) -> None:
        """The target's mean log-mel (voiced steps of its reference audio),
        detrended over the warp band like the warped running mean."""
        sel, P = _warp_band(self.cfg)
        t = P @ target_logmel_mean.detach().cpu().double().numpy()[sel]
        self.warp_b.copy_(torch.from_numpy(np.tile(-t, self.cfg.warp_grid)).float())

    def envelopes(self, logmel: torch.Tensor, f0: torch.Tensor, voicing: torch.Tensor,
                  hidden: dict[str, torch.Tensor] | None = None,
                  rmean: torch.Tensor | None = None,
                  masks: Mapping[str, torch.Tensor] | None = None,
                  content: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        hp, np_ = self.head_preactivations(logmel, f0, voicing, hidden, rmean, masks, content)
        he = exp_sigmoid(hp)
        if self.cfg.voicing_gate:
            he = he * self.gate(delay_steps(voicing, self.cfg.pitch_delay_steps)).unsqueeze(-1)
        return he, exp_sigmoid(np_)

    def head_preactivations(self, logmel: torch.Tensor, f0: torch.Tensor, voicing: torch.Tensor,
                            hidden: dict[str, torch.Tensor] | None = None,
                            rmean: torch.Tensor | None = None,
                            masks: Mapping[str, torch.Tensor] | None = None,
                            content: torch.Tensor | None = None
                            ) -> tuple[torch.Tensor, torch.Tensor]:
        """The harmonic and noise heads' outputs before ACT exp_sigmoid.
        ``masks`` (structured pruning, :mod:`.prune`) scales units by name:
        ``conv{i}`` output channels, ``gru`` hidden units (their output and
        their recurrent input), ``dense`` units; a unit at 0 is gone.
        ``content`` (:attr:`Frontend.content`) keys a picking student's
        picks (``pick_k``)."""
        masks = masks or {}
        x = self.features(logmel, f0, voicing, rmean)         # [N,T,F]
        h = x.transpose(1, 2)
        for i, conv in enumerate(self.convs):
            pad = (conv.kernel_size[0] - 1) * conv.dilation[0]
            h = F.relu(conv(F.pad(h, (pad, 0))))
            if f"conv{i}" in masks:
                h = h * masks[f"conv{i}"][:, None]
            if hidden is not None:
                hidden[f"conv{i}"] = h.transpose(1, 2)
        gin = torch.cat([h.transpose(1, 2), x], -1) if self.convs else x
        if "gru" in masks:  # a unit at 0 neither feeds the recurrence nor the layers above
            z = masks["gru"]
            w = {n: p for n, p in self.gru.named_parameters()}
            w["weight_hh_l0"] = w["weight_hh_l0"] * z[None, :]
            g, _ = torch.func.functional_call(self.gru, w, (gin,))
            g = g * z
        else:
            g, _ = self.gru(gin)
        if hidden is not None:
            hidden["gru"] = g
        if self.dense is not None:
            g = F.relu(self.dense(g))
            if "dense" in masks:
                g = g * masks["dense"]
            if hidden is not None:
                hidden["dense"] = g
        hp, np_ = self.harm_head(g), self.noise_head(g)
        if self.harm_skip is not None and self.noise_skip is not None:
            hp, np_ = hp + self.harm_skip(x), np_ + self.noise_skip(x)
        if self.pick_h is not None and self.pick_n is not None:
            if content is None:
                raise ValueError("a picking student (pick_k) needs the content key: frontend(...).content")
            pn = (self.pick(x, content, voicing) - self.pick_mu) * self.pick_isd
            hp, np_ = hp + self.pick_h(pn), np_ + self.pick_n(pn)
        return hp, np_

    def pick_key(self, x: torch.Tensor, content: torch.Tensor, voicing: torch.Tensor) -> torch.Tensor:
        """NEAREST's query [..., n_mels + PICK_CONTENT + 1]: the normalised
        features, the content key and the voicing gate, the last two scaled
        by ``pick_scale`` (so the table's squared norms hold)."""
        sc = self.pick_scale
        return torch.cat([x[..., : self.cfg.n_mels], sc[0] * content.to(x.dtype),
                          sc[1] * self.gate(voicing).unsqueeze(-1)], -1)

    def pick(self, x: torch.Tensor, content: torch.Tensor, voicing: torch.Tensor) -> torch.Tensor:
        """The mean envelope [..., PICK_BINS] of the pick_k table rows
        nearest to :meth:`pick_key` (ops.nearest: the graph's NEAREST)."""
        from . import ops

        q = self.pick_key(x, content, voicing)
        return ops.nearest(q, self.pick_keys, self.pick_sq, self.pick_vals, self.cfg.pick_k)

    @torch.no_grad()
    def set_pick_table(self, sources: list[tuple["Frontend", torch.Tensor, torch.Tensor]]) -> None:
        """Fills the table from the target's own speech: per source (its
        front end, its steps to keep [n], their envelopes [n, PICK_BINS])
        the keys of those steps, computed as a query is. The content and
        voicing columns are weighted so that the content part's spread is
        ``pick_content_weight`` times the features', and the voicing
        column's 100 times (voiced and unvoiced frames do not mix)."""
        c = self.cfg
        parts, vals = [], []
        self.pick_scale.fill_(1.0)  # unscaled keys first; the weights follow from their spreads
        for fe, keep, env in sources:
            rm = self.running_mean(fe.logmel, fe.voicing) if c.norm_tau > 0 else None
            x = self.features(fe.logmel[None], fe.f0[None], fe.voicing[None],
                              None if rm is None else rm[None])
            if fe.content is None:
                raise ValueError("the table's sources need the content key (frontend of a pick_k config)")
            k = self.pick_key(x, fe.content[None], fe.voicing[None])[0]
            parts.append(k[keep])
            vals.append(env)
        keys = torch.cat(parts, 0).double()
        M = c.n_mels
        spread = lambda a: float(((a - a.mean(0)) ** 2).sum(1).mean())  # noqa: E731
        e = spread(keys[:, :M])
        sc = torch.tensor([math.sqrt(c.pick_content_weight * e / max(spread(keys[:, M:-1]), 1e-12)),
                           math.sqrt(100.0 * e / max(spread(keys[:, -1:]), 1e-12))], dtype=torch.float64)
        keys[:, M:-1] *= sc[0]
        keys[:, -1] *= sc[1]
        v = torch.cat(vals, 0).double()
        self.pick_keys.copy_(keys.float())
        self.pick_sq.copy_((keys * keys).sum(1).float())
        self.pick_vals.copy_(v.float())
        self.pick_mu.copy_(v.mean(0).float())
        self.pick_isd.copy_((1.0 / v.std(0).clamp(min=1e-3)).float())
        self.pick_scale.copy_(sc.float())


    @torch.no_grad()
    def fold_postfilter(self, beta: float, width_hz: float) -> None:
        """Applies the formant post-filter ``I + β(I − S)`` to the harmonic
        head's pre-activation by folding it into the head's weights (the
        graph keeps its shape and cost). β = 0 changes nothing."""
        if beta == 0:
            return
        A = torch.from_numpy(postfilter_matrix(self.cfg.harm_bins, self.cfg.sample_rate, beta, width_hz))
        for lin in (self.harm_head, self.harm_skip, self.pick_h):
            if lin is None:
                continue
            lin.weight.copy_((A @ lin.weight.double()).to(lin.weight.dtype))
            if lin.bias is not None:
                lin.bias.copy_((A @ lin.bias.double()).to(lin.bias.dtype))

    def unfold_postfilter(self, beta: float, width_hz: float) -> None:
        """Undoes :meth:`fold_postfilter` with the same ``beta`` and
        ``width_hz`` (``I + β(I − S)`` is invertible: its eigenvalues lie in
        [1, 1 + β]): the student as trained, for scoring a tier without its
        post-filter."""
        if beta == 0:
            return
        A = postfilter_matrix(self.cfg.harm_bins, self.cfg.sample_rate, beta, width_hz)
        for lin in (self.harm_head, self.harm_skip, self.pick_h):
            if lin is None:
                continue
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(np.linalg.solve(A, lin.weight.double().numpy()))
                                 .to(lin.weight.dtype))
                if lin.bias is not None:
                    lin.bias.copy_(torch.from_numpy(np.linalg.solve(A, lin.bias.double().numpy()))
                                   .to(lin.bias.dtype))

    def gate(self, voicing: torch.Tensor) -> torch.Tensor:
        """The master's voiced decision (voicing ≥ vthreshold), as a steep
        sigmoid: harmonics are silent where the master's output is unvoiced."""
        k = self.cfg.voicing_gate
        return torch.sigmoid(k * voicing - k * self.cfg.pitch.vthreshold)

    def forward(self, logmel: torch.Tensor, f0: torch.Tensor, voicing: torch.Tensor,
                noise_seed: int | None = None, return_hidden: bool = False,
                rmean: torch.Tensor | None = None,
                masks: Mapping[str, torch.Tensor] | None = None,
                content: torch.Tensor | None = None
                ) -> torch.Tensor | tuple[torch.Tensor, dict[str, torch.Tensor]]:
        hidden: dict[str, torch.Tensor] | None = {} if return_hidden else None
        he, ne = self.envelopes(logmel, f0, voicing, hidden, rmean, masks, content)
        from . import ops

        c = self.cfg
        f0 = delay_steps(f0, c.pitch_delay_steps)  # the master's f0 at the output's time
        y = ops.harmonic(f0, he, c.hop, c.max_harmonics, float(c.sample_rate)) \
            + ops.noise(ne, c.hop, c.noise_seed if noise_seed is None else noise_seed,
                        random=noise_seed is None)
        if hidden is not None:
            hidden["harm_env"], hidden["noise_env"] = he, ne
            return y, hidden
        return y

    @torch.no_grad()
    def convert(self, audio: np.ndarray, pitch: tuple[torch.Tensor, torch.Tensor] | None = None,
                deterministic: bool = True) -> np.ndarray:
        """Whole-utterance conversion (model rate in and out), equal to what
        the exported graph computes when ``deterministic`` (hashed noise),
        with the lookahead compensated: sample i of the result converts
        input sample i. The last ``lookahead`` samples (and any partial hop)
        need input that is not there and are left out."""
        fe = frontend(audio, self.cfg, pitch)
        y = self(fe.logmel[None], fe.f0[None], fe.voicing[None],
                 noise_seed=self.cfg.noise_seed if deterministic else None,
                 content=None if fe.content is None else fe.content[None])
        return y[0, self.cfg.lookahead:].numpy()

    def parameter_count(self) -> int:
        """Weights that ship (trainable parameters + constant front end)."""
        c = self.cfg
        n = sum(p.numel() for p in self.parameters())
        norm = c.n_mels if c.norm_tau > 0 else 0  # RUNNING_MEAN prior
        return int(n + c.win + c.n_mels * (c.n_fft // 2 + 1) + 2 * c.n_mels + 2 + norm)


# ----------------------------------------------------------------- export


def export(student: Student) -> tuple[Any, list[np.ndarray]]:
    """The trained student as a runtime graph: returns ``(Graph, tensors)``
    built with :class:`voiceskin.graph.GraphBuilder`. Every tensor is the
    trained weight (or a constant of the front end), so the native runtime
    computes exactly :meth:`Student.forward` with hashed noise."""
    from voiceskin.graph import Act, GraphBuilder

    c = student.cfg
    p = c.pitch

    def npy(t: torch.Tensor) -> np.ndarray:
        return t.detach().cpu().numpy().astype(np.float32).copy()

    def gate_of(v: Any) -> Any:  # Student.gate: sigmoid(k·v − k·vthreshold)
        k = float(c.voicing_gate)
        return b.act(b.affine(v, np.array([k], np.float32), np.array([-k * p.vthreshold], np.float32)),
                     Act.SIGMOID)

    def folded(head: nn.Linear, v: Any) -> Any:  # head((v − μ)·isd): the standardisation folded in
        mu = student.pick_mu.detach().cpu().double().numpy()
        W = head.weight.detach().cpu().double().numpy() * student.pick_isd.detach().cpu().double().numpy()
        bias = head.bias.detach().cpu().double().numpy() - W @ mu
        return b.linear(v, W.astype(np.float32), bias.astype(np.float32))

    b = GraphBuilder(c.hop)
    x = b.input
    # mel features
    fr = b.frame(x, c.win)
    mag = b.stft_mag(fr, hann(c.win), c.n_fft)
    mel = b.linear(mag, _cfg_mel_filterbank(c))
    lm = b.log(mel, c.log_eps)
    std = npy(student.feat_std)
    mn = npy(student.feat_mean)
    inv = (1.0 / std).astype(np.float32)
    # pitch
    pf = b.frame(x, p.frame)
    yin = b.pitch_yin(pf, float(c.sample_rate), p.fmin, p.fmax, p.threshold)
    f0 = b.pitch_map(yin, p.target_mu, p.target_sigma, p.prior_mu, p.prior_sigma,
                     p.warmup, p.tau, p.vthreshold)
    lf0 = b.affine(b.log(f0, p.fmin), np.array([2.0], np.float32),
                   np.array([-2.0 * p.target_mu], np.float32))
    voi = b.slice(yin, 1, 1)
    if c.norm_tau > 0:  # (x − mean)/std and (mean − corpus mean)/std
        rm = b.running_mean(lm, voi, npy(student.norm_prior), c.norm_warmup, c.norm_tau,
                            p.vthreshold)
        zero = np.zeros_like(inv)
        if c.warp_grid:  # WARP(x − M̂, ln α), α = the grid factor ARGMIN picks
            G, M = c.warp_grid, c.n_mels
            t = -student.warp_b.detach().cpu().double().numpy()[: len(_warp_band(c)[0])]
            QI, E = warp_fit_quadratic(c, t)
            q = b.linear(rm, QI.astype(np.float32))
            z = b.concat(b.mul(rm, rm), b.mul(b.slice(rm, 0, M - 1), b.slice(rm, 1, M - 1)),
                         b.mul(q, q), rm)
            e = b.linear(z, E.astype(np.float32))
            lo, step = warp_log_grid(G, c.warp_range)
            la = b.affine(b.argmin(e), np.array([step], np.float32), np.array([lo], np.float32))
            dev = b.add(lm, b.affine(rm, np.full_like(inv, -1.0), zero))
            d = b.affine(b.warp(dev, la, npy(student.warp_positions())), inv, zero)
        else:
            d = b.add(b.affine(lm, inv, zero), b.affine(rm, -inv, zero))
        r = b.affine(rm, inv, (-mn / std).astype(np.float32))
        if not c.norm_keep_mean:  # band average
            r = b.linear(r, np.full((1, c.n_mels), 1.0 / c.n_mels, np.float32))
        xin = b.concat(d, r, lf0, voi)
    else:
        feat = b.affine(lm, inv, (-mn / std).astype(np.float32))
        xin = b.concat(feat, lf0, voi)
    # network
    h = xin
    for conv in student.convs:
        W = npy(conv.weight)                           # [Cout, Cin, K]
        h = b.act(b.conv1d(h, W, npy(conv.bias), dilation=int(conv.dilation[0])), Act.RELU)
    g = b.concat(h, xin) if student.convs else xin
    for i in range(c.gru_layers):
        gw = [npy(getattr(student.gru, f"{n}_l{i}"))
              for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        g = b.gru(g, *gw)
    picks = None
    if student.pick_h is not None and student.pick_n is not None:
        # NEAREST over the target's frames, keyed by CONCAT(features, content, gate)
        from .masters import phones

        sc = student.pick_scale.detach().cpu().double().numpy()
        content = phones.build_content(_phone_model(), b, x, voi)
        q = b.concat(d, b.affine(content, np.full(PICK_CONTENT, sc[0], np.float32),
                                 np.zeros(PICK_CONTENT, np.float32)),
                     b.affine(gate_of(voi), np.array([sc[1]], np.float32), np.zeros(1, np.float32)))
        picks = b.nearest(q, npy(student.pick_keys), npy(student.pick_vals), c.pick_k)
    if student.dense is not None:
        g = b.act(b.linear(g, npy(student.dense.weight), npy(student.dense.bias)), Act.RELU)
    hp = b.linear(g, npy(student.harm_head.weight), npy(student.harm_head.bias))
    np_ = b.linear(g, npy(student.noise_head.weight), npy(student.noise_head.bias))
    if student.harm_skip is not None and student.noise_skip is not None:
        hp = b.add(hp, b.linear(xin, npy(student.harm_skip.weight)))
        np_ = b.add(np_, b.linear(xin, npy(student.noise_skip.weight)))
    if picks is not None and student.pick_h is not None and student.pick_n is not None:
        hp = b.add(hp, folded(student.pick_h, picks))
        np_ = b.add(np_, folded(student.pick_n, picks))
    he = b.act(hp, Act.EXP_SIGMOID)
    if c.pitch_delay_steps:  # synthesis follows the master lookahead samples late
        tap = np.zeros((1, 1, 2), np.float32)
        tap[0, 0, 0] = 1.0  # y_t = x_{t−k}
        zero1 = np.zeros(1, np.float32)
        f0 = b.conv1d(f0, tap, zero1, dilation=c.pitch_delay_steps)
        voi = b.conv1d(voi, tap, zero1, dilation=c.pitch_delay_steps)
    if c.voicing_gate:  # he · gate, the gate spread over B bins
        gate_b = b.linear(gate_of(voi), np.ones((c.harm_bins, 1), np.float32))
        he = b.mul(he, gate_b)
    ne = b.act(np_, Act.EXP_SIGMOID)
    y = b.add(b.harmonic(f0, he, c.max_harmonics, float(c.sample_rate)),
              b.noise(ne, c.noise_seed))
    return b.finish(y)


def tier_cost(student: Student) -> dict[str, int]:
    """parameter_count and flops_per_second of the exported graph (the
    GraphBuilder's estimates, which the manifest stores)."""
    from voiceskin.graph import flops_per_step, parameter_count

    graph, tensors = export(student)
    c = student.cfg
    return {"parameter_count": parameter_count(tensors),
            "flops_per_second": int(flops_per_step(graph, tensors) * c.sample_rate / c.hop)}
