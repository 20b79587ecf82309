"""The built-in master: any-to-any voice conversion on the WORLD vocoder.

**Learning the target** (:meth:`WorldMaster.fit`, reference recordings of
the target speaker): WORLD analysis (F0, spectral envelope, aperiodicity) at
the master's frame period (= the student's hop); from the voiced frames:
log-F0 mean ``target_mu`` and spread ``target_sigma``, the mean log spectral
envelope ``T(f)``, the mean aperiodicity ``A(f)``, and the target's formant
scale relative to the input population (``formant_scale``, the warp that best
maps the population's mean envelope onto ``T``).

**Converting** any input, frame by frame, *causally in the source
statistics*: nothing derived from the source looks at the future or at the
whole utterance, so a streaming student can follow the master.

1. F0: a pitch track through :func:`voiceskin_tooling.pitchmap.pitch_map_np`
   — the same running statistics with warm-up as the runtime's PITCH_MAP op,
   with this master's ``pitch_params()``. The track is the runtime's causal
   PITCH_YIN with ``f0_method="yin"`` (``yin_frame``, ``yin_threshold``,
   ``f0_floor``/``f0_ceil``; the default: a student's F0 then equals the
   master's frame for frame), or WORLD's ``dio``+StoneMask / ``harvest`` —
   better trackers for resynthesis, but their running statistics
   differ from YIN's, so a causal student lands 35–150 cents off.
2. Envelope warp: a running mean ``M`` of the source's log envelope over
   voiced frames (``a = max(1/n, 1/env_tau)``, like PITCH_MAP), blended with
   the population prior ``P`` during warm-up (``w = min(n/env_warmup, 1)``:
   ``M̂ = w·M + (1−w)·P``). Every ``warp_update`` frames the warp factor
   ``α`` is re-chosen as the one (on a log grid in ``warp_range``) whose
   warped ``M̂(f/α)`` best matches ``T(f)`` between 150 Hz and 5 kHz
   (mean-squared error of the tilt-removed log curves, parabolic
   refinement). Each frame's envelope is warped: ``S'(f) = S(f/α^s)`` with
   ``s = warp_strength``.
3. Equalisation: ``EQ = lifter(T − M̂(f/α))`` — cepstrally smoothed to
   ``eq_lifter`` coefficients, without its mean (it reshapes, it does not
   change loudness), clipped to ±12 dB and scaled by ``eq_strength`` — is
   added to every frame's log envelope (updated with ``α``).
4. Aperiodicity: the warped source aperiodicity mixed with the target's mean
   (``ap_mix``) on voiced frames.
5. Level (``level_mode="frame"``): each frame's converted envelope is
   scaled so its total power equals the source frame's — a per-frame,
   causal gain that keeps the speaker's loudness contour (measured: overall
   level within ±1 dB of the input, 20 ms contour within ~1.2 dB; without it
   the output is 4–9 dB louder). Then ``output_gain_db``.
6. WORLD resynthesis; output length = input length, no delay; a memoryless
   soft limiter above 0.9 (never a whole-utterance normalisation).

``warp_mode="fixed"`` uses the population prior only (``α`` = the target's
``formant_scale``, EQ from ``P``): source-independent, trivially causal.
``warp_mode="none"`` only maps F0 and aperiodicity.

The population prior (``world_population.json`` beside this file: mean log
envelope, log-F0 prior) was measured on the shipped corpus' training speakers
with :func:`population_stats`; pass ``population=`` to use another.

Measured on the shipped corpus (``tests/test_masters.py`` and the report):
see the table in ``data/corpus/README.md``.
"""
from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..pitchmap import PitchMapParams, pitch_map_np
from .base import Master, MasterError, MasterOutput, as_mono_float32, resample

__all__ = ["WorldMaster", "population_stats", "analyze", "POPULATION_FILE"]

POPULATION_FILE = Path(__file__).with_name("world_population.json")
_BAND = (150.0, 5000.0)


def _pw() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyworld imports pkg_resources
        import pyworld

    return pyworld


def yin_track(x: np.ndarray, sr: int, hop: int, frame: int = 512, fmin: float = 50.0,
              fmax: float = 800.0, threshold: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    """The runtime's causal PITCH_YIN (``voiceskin_tooling.ops``) on master
    frames: (f0 held through unvoiced frames [T], voicing [T]),
    T = len(x)//hop + 1; master frame i uses the YIN frame that ends at
    sample i·hop (= the student's graph step i−1), frame 0 is (0, 0)."""
    from ..ops import frame as _frame, pitch_yin_np

    fr = _frame(np.asarray(x, dtype=np.float64), hop, frame).numpy()
    yin = pitch_yin_np(fr, float(sr), fmin, fmax, threshold)
    n = len(x) // hop + 1
    f0 = _fit_len(np.concatenate([[0.0], yin[:, 0]]), n)
    v = _fit_len(np.concatenate([[0.0], yin[:, 1]]), n)
    return f0, v


def analyze(x: np.ndarray, sr: int, hop: int, f0_method: str = "dio", f0_floor: float = 50.0,
            f0_ceil: float = 800.0, f0: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """WORLD analysis at frame period hop/sr: (f0 [T], sp [T, K], ap [T, K]),
    T = len(x)//hop + 1, K = fft_size/2 + 1. ``f0`` (0 = unvoiced) replaces
    the F0 estimation (``f0_method="yin"`` passes the causal YIN track)."""
    pw = _pw()
    xd = np.ascontiguousarray(x, dtype=np.float64)
    fp = 1000.0 * hop / sr
    if f0 is not None:
        t = None
    elif f0_method == "yin":
        yf, yv = yin_track(x, sr, hop, fmin=f0_floor, fmax=f0_ceil)
        f0 = np.where((yv >= 0.5) & (yf > 0), yf, 0.0)
    elif f0_method == "harvest":
        f0, t = pw.harvest(xd, sr, f0_floor=f0_floor, f0_ceil=f0_ceil, frame_period=fp)
    elif f0_method == "dio":
        f0, t = pw.dio(xd, sr, f0_floor=f0_floor, f0_ceil=f0_ceil, frame_period=fp)
        f0 = pw.stonemask(xd, f0, t, sr)
    else:
        raise MasterError(f"f0_method must be 'dio', 'harvest' or 'yin', not {f0_method!r}")
    n = len(x) // hop + 1
    f0, t = _fit_len(f0, n), np.arange(n, dtype=np.float64) * hop / sr
    sp = pw.cheaptrick(xd, f0, t, sr, f0_floor=min(f0_floor, 71.0))
    ap = pw.d4c(xd, f0, t, sr)
    return f0, sp, ap


def _fit_len(a: np.ndarray, n: int) -> np.ndarray:
    if len(a) >= n:
        return np.ascontiguousarray(a[:n])
    return np.concatenate([a, np.zeros(n - len(a), dtype=a.dtype)])


def _band_detrended(curve: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    sel = (freqs >= _BAND[0]) & (freqs <= _BAND[1])
    f, c = freqs[sel], curve[..., sel]
    A = np.stack([np.ones_like(f), f], axis=1)
    coef = np.linalg.lstsq(A, np.moveaxis(np.atleast_2d(c), -1, 0), rcond=None)[0]
    return c - (A @ coef).T.reshape(c.shape)


def population_stats(audio: Sequence[tuple[str, np.ndarray]], sr: int = 16000, hop: int = 64) -> dict[str, Any]:
    """Population prior from (speaker, audio) pairs: per-speaker voiced-frame
    statistics, averaged over speakers. Returns the JSON this module ships."""
    per: dict[str, dict[str, list[np.ndarray]]] = {}
    for spk, x in audio:
        f0, sp, _ = analyze(x, sr, hop)
        v = f0 > 0
        d = per.setdefault(spk, {"lf0": [], "lsp": []})
        d["lf0"].append(np.log(f0[v]))
        d["lsp"].append(np.log(sp[v] + 1e-16))
    mus, sigmas, envs = [], [], []
    for d in per.values():
        lf0 = np.concatenate(d["lf0"])
        mus.append(lf0.mean())
        sigmas.append(lf0.std())
        envs.append(np.concatenate(d["lsp"]).mean(axis=0))
    env = np.mean(envs, axis=0)
    freqs = np.linspace(0, sr / 2, len(env))
    grid = np.linspace(0, 8000.0, 257)
    return {
        "description": "WORLD master population prior: voiced-frame statistics averaged over speakers",
        "speakers": sorted(per),
        "prior_mu": float(np.mean(mus)),
        "prior_sigma": float(np.mean(sigmas)),
        "speaker_mu_spread": float(np.std(mus)),
        "freqs_hz": grid.tolist(),
        "mean_log_power_env": np.interp(grid, freqs, env).round(5).tolist(),
    }


def _runs(alphas: np.ndarray) -> zip:
    """(lo, hi) of each run of equal values in ``alphas``."""
    bounds = np.flatnonzero(np.diff(alphas)) + 1
    return zip(np.r_[0, bounds], np.r_[bounds, len(alphas)])


def _warp_rows(rows: np.ndarray, alpha: float) -> np.ndarray:
    """rows[:, k] resampled at bin k/alpha (linear; clamped at Nyquist): the
    envelope S(f) becomes S(f/alpha), formants move up by alpha."""
    K = rows.shape[-1]
    pos = np.clip(np.arange(K) / alpha, 0, K - 1)
    lo = np.minimum(pos.astype(int), K - 2)
    fr = pos - lo
    return rows[..., lo] * (1 - fr) + rows[..., lo + 1] * fr


class _WarpBank:
    """Precomputed band-limited warps of a mean envelope over the α grid."""

    def __init__(self, freqs: np.ndarray, grid: np.ndarray) -> None:
        K = len(freqs)
        self.sel = np.flatnonzero((freqs >= _BAND[0]) & (freqs <= _BAND[1]))
        pos = np.clip(self.sel[None, :] / grid[:, None], 0, K - 1)  # [G, Kb]
        self.lo = np.minimum(pos.astype(int), K - 2)
        self.fr = pos - self.lo
        f = freqs[self.sel]
        self.A = np.stack([np.ones_like(f), f], axis=1)
        self.pinv = np.linalg.pinv(self.A)  # [2, Kb]

    def errors(self, mean_env: np.ndarray, target_band: np.ndarray) -> np.ndarray:
        """Mean squared difference after removing mean and linear tilt
        (``target_band`` is already detrended, so detrending w suffices)."""
        w = mean_env[self.lo] * (1 - self.fr) + mean_env[self.lo + 1] * self.fr  # [G, Kb]
        w = w - (w @ self.pinv.T) @ self.A.T
        return np.mean((w - target_band) ** 2, axis=1)


class WorldMaster(Master):
    name = "world"

    def __init__(
        self,
        sample_rate: int = 16000,
        hop: int = 64,
        f0_method: str = "yin",
        f0_floor: float = 50.0,
        f0_ceil: float = 800.0,
        pitch_warmup: float = 50.0,
        pitch_tau: float = 2500.0,
        vthreshold: float = 0.5,
        prior_mu: float | None = None,
        prior_sigma: float | None = None,
        warp_mode: str = "running",
        warp_range: Sequence[float] = (0.7, 1.45),
        warp_strength: float = 1.0,
        warp_update: int = 10,
        env_warmup: float = 100.0,
        env_tau: float = 2500.0,
        eq_strength: float = 1.0,
        eq_lifter: int = 48,
        ap_mix: float = 0.5,
        level_mode: str = "frame",
        level_f0_exponent: float = 0.0,
        output_gain_db: float = 0.0,
        population: str | dict[str, Any] | None = None,
        yin_frame: int = 512,
        yin_threshold: float = 0.15,
    ) -> None:
        if warp_mode not in ("running", "fixed", "none"):
            raise MasterError(f"warp_mode must be 'running', 'fixed' or 'none', not {warp_mode!r}")
        if f0_method not in ("dio", "harvest", "yin"):
            raise MasterError(f"f0_method must be 'dio', 'harvest' or 'yin', not {f0_method!r}")
        if not (8000 <= int(sample_rate) <= 48000) or int(hop) < 16:
            raise MasterError(f"bad sample_rate/hop {sample_rate}/{hop}")
        lo, hi = float(warp_range[0]), float(warp_range[1])
        if not 0.3 < lo <= 1.0 <= hi < 3.0:
            raise MasterError(f"warp_range {warp_range} must contain 1 and lie in (0.3, 3)")
        self.sample_rate, self.hop = int(sample_rate), int(hop)
        self.yin_frame, self.yin_threshold = int(yin_frame), float(yin_threshold)
        self.f0_method, self.f0_floor, self.f0_ceil = f0_method, float(f0_floor), float(f0_ceil)
        self.pitch_warmup, self.pitch_tau, self.vthreshold = float(pitch_warmup), float(pitch_tau), float(vthreshold)
        self.warp_mode, self.warp_range = warp_mode, (lo, hi)
        self.warp_strength, self.warp_update = float(warp_strength), max(1, int(warp_update))
        self.env_warmup, self.env_tau = float(env_warmup), float(env_tau)
        self.eq_strength, self.eq_lifter, self.ap_mix = float(eq_strength), int(eq_lifter), float(ap_mix)
        if level_mode not in ("frame", "none"):
            raise MasterError(f"level_mode must be 'frame' or 'none', not {level_mode!r}")
        self.level_mode, self.level_f0_exponent = level_mode, float(level_f0_exponent)
        self.output_gain_db = float(output_gain_db)
        if isinstance(population, dict):
            pop = population
        else:
            ppath = Path(population) if population else POPULATION_FILE
            try:
                pop = json.loads(ppath.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise MasterError(f"cannot read the population prior {ppath}: {exc}") from exc
        self._pop = pop
        self.prior_mu = float(prior_mu if prior_mu is not None else pop["prior_mu"])
        self.prior_sigma = float(prior_sigma if prior_sigma is not None else pop["prior_sigma"])
        self._target: dict[str, Any] | None = None

    # ---------------------------------------------------------------- state
    @property
    def fitted(self) -> bool:
        return self._target is not None

    def _pop_env(self, freqs: np.ndarray) -> np.ndarray:
        g = np.asarray(self._pop["freqs_hz"], dtype=np.float64)
        e = np.asarray(self._pop["mean_log_power_env"], dtype=np.float64)
        return np.interp(freqs, g, e)  # flat beyond the grid

    def pitch_params(self) -> PitchMapParams:
        """The PITCH_MAP attributes this master uses (students copy them)."""
        t = self._need_target()
        return PitchMapParams(
            target_mu=t["target_mu"], target_sigma=t["target_sigma"], prior_mu=self.prior_mu,
            prior_sigma=self.prior_sigma, warmup=self.pitch_warmup, tau=self.pitch_tau,
            vthreshold=self.vthreshold,
        )

    def state_dict(self) -> dict[str, Any]:
        """The learned target (JSON-able); :meth:`load_state_dict` restores it."""
        t = self._need_target()
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in t.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        t = dict(state)
        for k in ("env", "ap", "freqs"):
            t[k] = np.asarray(t[k], dtype=np.float64)
        self._target = t
        self._warp_cache_key = None

    def _need_target(self) -> dict[str, Any]:
        if self._target is None:
            raise MasterError("the world master is not fitted: call fit(reference_audio, sample_rate) first")
        return self._target

    def config(self) -> dict[str, Any]:
        cfg: dict[str, Any] = {
            "name": self.name, "sample_rate": self.sample_rate, "hop": self.hop,
            "f0_method": self.f0_method, "f0_floor": self.f0_floor, "f0_ceil": self.f0_ceil,
            "yin_frame": self.yin_frame, "yin_threshold": self.yin_threshold,
            "pitch_warmup": self.pitch_warmup, "pitch_tau": self.pitch_tau, "vthreshold": self.vthreshold,
            "prior_mu": self.prior_mu, "prior_sigma": self.prior_sigma, "warp_mode": self.warp_mode,
            "warp_range": list(self.warp_range), "warp_strength": self.warp_strength,
            "warp_update": self.warp_update, "env_warmup": self.env_warmup, "env_tau": self.env_tau,
            "eq_strength": self.eq_strength, "eq_lifter": self.eq_lifter, "ap_mix": self.ap_mix,
            "level_mode": self.level_mode, "level_f0_exponent": self.level_f0_exponent,
            "output_gain_db": self.output_gain_db,
        }
        if self._target is not None:
            t = self._target
            cfg["target"] = {
                "target_mu": t["target_mu"], "target_sigma": t["target_sigma"],
                "formant_scale": t["formant_scale"], "voiced_frames": t["voiced_frames"],
                "env_digest": np.round(t["env"][::16], 3).tolist(),
            }
        return cfg

    def _analyze(self, x: np.ndarray, with_yin: bool = False) -> Any:
        """WORLD analysis with this master's F0 settings (for "yin": the
        runtime's PITCH_YIN with yin_frame/yin_threshold, voiced where
        voicing ≥ vthreshold — the same decision PITCH_MAP makes)."""
        if self.f0_method != "yin":
            return analyze(x, self.sample_rate, self.hop, self.f0_method, self.f0_floor, self.f0_ceil)
        yf, yv = yin_track(x, self.sample_rate, self.hop, self.yin_frame, self.f0_floor,
                           self.f0_ceil, self.yin_threshold)
        f0, sp, ap = analyze(x, self.sample_rate, self.hop, f0=np.where((yv >= self.vthreshold) & (yf > 0), yf, 0.0))
        return (f0, sp, ap, (yf, yv)) if with_yin else (f0, sp, ap)

    # ---------------------------------------------------------------- fit
    def fit(self, reference_audio: Sequence[np.ndarray], sample_rate: int) -> None:
        if len(reference_audio) == 0:
            raise MasterError("fit needs at least one reference recording of the target speaker")
        lf0, lsp, aps = [], [], []
        for i, a in enumerate(reference_audio):
            x = resample(as_mono_float32(a), int(sample_rate), self.sample_rate)
            if len(x) < 4 * self.hop:
                raise MasterError(f"reference recording {i} is too short ({len(x)} samples)")
            f0, sp, ap = self._analyze(x)
            v = f0 > 0
            lf0.append(np.log(f0[v]))
            lsp.append(np.log(sp[v] + 1e-16))
            aps.append(ap[v])
        l = np.concatenate(lf0)
        if len(l) < 50:
            raise MasterError(f"the reference audio has only {len(l)} voiced frames; give more target speech")
        env = np.concatenate(lsp).mean(axis=0)
        freqs = np.linspace(0, self.sample_rate / 2, len(env))
        self._target = {
            "target_mu": float(l.mean()),
            "target_sigma": float(l.std()),
            "env": env,
            "ap": np.concatenate(aps).mean(axis=0),
            "freqs": freqs,
            "voiced_frames": int(len(l)),
        }
        self._warp_cache_key = None
        self._target["formant_scale"] = float(self._best_warp(self._pop_env(freqs), freqs))

    # ---------------------------------------------------------------- conversion
    def _grid(self) -> np.ndarray:
        lo, hi = self.warp_range
        return np.exp(np.linspace(math.log(lo), math.log(hi), 61))

    def _best_warp(self, mean_env: np.ndarray, freqs: np.ndarray) -> float:
        """α whose warp M(f/α) best matches the target mean envelope."""
        t = self._need_target()
        grid = self._grid()
        key = (len(freqs), float(freqs[-1]))
        if getattr(self, "_warp_cache_key", None) != key:
            self._warp_cache_key = key
            self._warp_cache = _WarpBank(freqs, grid)
            self._target_band = _band_detrended(t["env"], freqs)
        err = self._warp_cache.errors(mean_env, self._target_band)
        i = int(np.argmin(err))
        lg = np.log(grid)
        if 0 < i < len(grid) - 1:  # parabolic refinement in log α
            d = err[i - 1] - 2 * err[i] + err[i + 1]
            off = 0.5 * (err[i - 1] - err[i + 1]) / d if d > 0 else 0.0
            return float(np.exp(lg[i] + np.clip(off, -1, 1) * (lg[1] - lg[0])))
        return float(grid[i])

    def _eq(self, mean_env_warped: np.ndarray) -> np.ndarray:
        t = self._need_target()
        d = t["env"] - mean_env_warped
        c = np.fft.irfft(d)
        c[0] = 0.0
        c[self.eq_lifter + 1: len(c) - self.eq_lifter] = 0.0
        eq = np.fft.rfft(c).real[: len(d)]
        return np.clip(eq, -2.76, 2.76) * self.eq_strength  # ±12 dB in ln power

    def convert(self, audio: np.ndarray, sample_rate: int) -> MasterOutput:
        t = self._need_target()
        x = resample(as_mono_float32(audio), int(sample_rate), self.sample_rate)
        if len(x) < 2 * self.hop:
            raise MasterError(f"input too short: {len(x)} samples at {self.sample_rate} Hz (need ≥ {2 * self.hop})")
        f0, sp, ap, mapped = self._source(x)
        n_frames, K = sp.shape
        freqs = np.linspace(0, self.sample_rate / 2, K)
        if len(t["freqs"]) != K:
            raise MasterError("envelope size differs from the fitted one (sample rate changed?)")
        voiced = f0 > 0
        lsp = np.log(sp + 1e-16)
        alphas, eqs, means = self._warp_track(lsp, voiced, freqs)
        out_lsp, wap = self._apply_warp(lsp, ap, alphas, eqs)
        out_lsp, out_ap, info = self._target_envelope(x, lsp, out_lsp, wap, ap, voiced, alphas, means)
        return self._finish(x, f0, mapped, voiced, lsp, out_lsp, out_ap, alphas, freqs, info)

    def _source(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """WORLD's analysis (F0, envelope, aperiodicity) and the output F0
        before voicing: with yin, exactly the student's PITCH_MAP(PITCH_YIN(frame))."""
        if self.f0_method == "yin":
            f0, sp, ap, (yf, yv) = self._analyze(x, with_yin=True)
            return f0, sp, ap, pitch_map_np(yf, yv, self.pitch_params())
        f0, sp, ap = self._analyze(x)
        return f0, sp, ap, pitch_map_np(f0, (f0 > 0).astype(np.float64), self.pitch_params())

    #: whether _target_envelope reads the per-frame running means (world2's kNN)
    _uses_means = False

    def _warp_track(self, lsp: np.ndarray, voiced: np.ndarray, freqs: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Per frame: the warp α, the equaliser, and (when
        ``_uses_means``) the source's running log-envelope mean they were
        fitted on (causal: voiced frames so far, blended with the population
        prior during warm-up)."""
        t = self._need_target()
        n_frames, K = lsp.shape
        prior = self._pop_env(freqs)
        alphas = np.ones(n_frames)
        eqs = np.zeros((n_frames, K))
        means = np.broadcast_to(prior, (n_frames, K)).copy() if self._uses_means else None
        if self.warp_mode == "fixed":
            alphas[:] = t["formant_scale"]
            eqs[:] = self._eq(_warp_rows(prior[None, :], t["formant_scale"])[0])
        elif self.warp_mode == "running":
            n = 0.0
            m = prior.copy()
            alpha, eq, mh = 1.0, np.zeros(K), prior.copy()
            for i in range(n_frames):
                if voiced[i]:
                    n += 1.0
                    a = max(1.0 / n, 1.0 / self.env_tau)
                    m += a * (lsp[i] - m)
                if i % self.warp_update == 0:
                    w = min(n / self.env_warmup, 1.0)
                    mh = w * m + (1.0 - w) * prior
                    alpha = self._best_warp(mh, freqs)
                    eq = self._eq(_warp_rows(mh[None, :], alpha)[0])
                alphas[i] = alpha
                eqs[i] = eq
                if means is not None:
                    means[i] = mh
        return alphas, eqs, means

    def _apply_warp(self, lsp: np.ndarray, ap: np.ndarray, alphas: np.ndarray, eqs: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
        """The envelope warped by α^warp_strength plus the equaliser, and the
        aperiodicity warped alike (α is constant over runs of frames: each
        run is warped in one go)."""
        if self.warp_mode == "none":
            return lsp.copy(), ap
        out_lsp = np.empty_like(lsp)
        wap = np.empty_like(ap)
        for lo, hi in _runs(alphas):
            s_ = alphas[lo] ** self.warp_strength
            out_lsp[lo:hi] = _warp_rows(lsp[lo:hi], s_) + eqs[lo:hi]
            wap[lo:hi] = _warp_rows(ap[lo:hi], s_)
        return out_lsp, wap

    def _target_envelope(self, x: np.ndarray, lsp: np.ndarray, out_lsp: np.ndarray, wap: np.ndarray,
                         ap: np.ndarray, voiced: np.ndarray, alphas: np.ndarray,
                         means: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        """The output envelope and aperiodicity: here the warped envelope,
        and voiced frames' aperiodicity mixed toward the target's mean
        (``x``: the input at the master's rate, for stages that read it)."""
        t = self._need_target()
        out_ap = np.where(voiced[:, None], (1 - self.ap_mix) * wap + self.ap_mix * t["ap"][None, :], wap)
        return out_lsp, out_ap, {}

    def _finish(self, x: np.ndarray, f0: np.ndarray, mapped: np.ndarray, voiced: np.ndarray,
                lsp: np.ndarray, out_lsp: np.ndarray, out_ap: np.ndarray, alphas: np.ndarray,
                freqs: np.ndarray, info: dict[str, Any]) -> MasterOutput:
        """The last stage every WORLD master shares: output F0, per-frame
        level, synthesis, the soft limiter and the features a student reads."""
        n_frames, K = lsp.shape
        f0_out = np.where(voiced, mapped, 0.0)
        out_ap = np.clip(out_ap, 1e-3, 1.0 - 1e-9)
        if self.level_mode == "frame":
            # keep each frame's loudness: scale the converted envelope so its
            # power Σsp equals the source frame's (CheapTrick's envelope is
            # already F0-normalised: exponent 0 measured best, ±1 dB)
            p_in = np.exp(lsp).sum(axis=1) * np.where(voiced, f0, 1.0) ** self.level_f0_exponent
            p_out = np.exp(out_lsp).sum(axis=1) * np.where(voiced, f0_out, 1.0) ** self.level_f0_exponent
            out_lsp = out_lsp + np.log(p_in / np.maximum(p_out, 1e-30))[:, None]
        out_lsp = out_lsp + self.output_gain_db * math.log(10) / 10
        out_sp = np.exp(out_lsp)
        fp = 1000.0 * self.hop / self.sample_rate
        y = _pw().synthesize(np.ascontiguousarray(f0_out), np.ascontiguousarray(out_sp),
                             np.ascontiguousarray(out_ap), self.sample_rate, fp)
        y = _fit_len(y, len(x)).astype(np.float32)
        # memoryless soft limiter above 0.9 (no whole-utterance normalisation:
        # that would be a gain from the future the student could not follow)
        a = np.abs(y)
        over = a > 0.9
        if over.any():
            y[over] = np.sign(y[over]) * (0.9 + 0.1 * np.tanh((a[over] - 0.9) / 0.1))
        extra = info.pop("features", {})  # a stage's own frame-rate features (world2's content key)
        B = 65
        grid = np.linspace(0, self.sample_rate / 2, B)
        idx = np.clip(np.round(grid / freqs[-1] * (K - 1)).astype(int), 0, K - 1)
        feats = {
            "source_f0": f0.astype(np.float32),
            "source_voicing": voiced.astype(np.float32),
            "warp": alphas.astype(np.float32),
            # natural-log amplitude of the output envelope at B = 65 linear
            # frequencies b·(sr/2)/(B−1) — HARMONIC's envelope grid
            "log_env": (0.5 * out_lsp[:, idx]).astype(np.float32),
            "aperiodicity": out_ap[:, idx].astype(np.float32),
            **extra,
        }
        return MasterOutput(
            audio=y, f0=f0_out.astype(np.float32), voicing=voiced.astype(np.float32), features=feats,
            sample_rate=self.sample_rate, hop=self.hop,
            info={"frames": n_frames, "final_warp": float(alphas[-1]), **info},
        )
