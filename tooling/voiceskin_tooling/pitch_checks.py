"""Pitch QA that can fail.

Master and students share their F0 by construction: both drive synthesis
from the same causal ``PITCH_YIN`` + ``PITCH_MAP`` track (the demo voice's
master uses ``f0_method = "yin"``), so comparing the students' F0 with the
master's (``f0_median_cents`` in :mod:`.qa`) reads two nearly identical
contours and can only catch a broken voicing gate. What *can* go wrong, and
is measured here:

* :func:`causal_tracker_errors` — the runtime's causal YIN (``PITCH_YIN`` as
  ``ops.pitch_yin`` computes it, before PITCH_MAP) against an offline
  tracker (Praat, :func:`.qa.f0_track`) on the **input**, which master and
  students share. YIN step ``t`` (hop 4 ms, window ``frame`` samples ending
  at ``(t+1)·hop``) is compared with Praat's 5-ms frame nearest its window
  centre. ``octave`` counts frames voiced in both whose F0 is at least half
  an octave (600 cents) off Praat's; ``gross`` those more than a semitone
  off; ``voicing`` those whose voiced/unvoiced decision (YIN: voicing ≥
  ``vthreshold``) differs, split into ``missed`` (Praat voiced, YIN not) and
  ``false_voiced``.
* :func:`log_f0_stats` / :func:`register_match` — whether a converted
  output's log-F0 mean and spread (Praat on the output) match the target
  reference's: ``f0_mean_offset_cents`` = 1200·log2(exp(μ_out − μ_ref)) and
  ``f0_spread_ratio`` = σ_out / σ_ref (1 = same spread), σ and μ over
  voiced frames of natural-log F0.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

__all__ = ["causal_yin", "causal_tracker_errors", "log_f0_stats", "register_match"]

_PRAAT_STEP = 0.005


def _spec(pitch: Any) -> Any:
    from .student import PitchSpec

    return pitch if isinstance(pitch, PitchSpec) else PitchSpec.from_mapping(dict(pitch))


def causal_yin(x: np.ndarray, sr: int, pitch: Any, hop: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(raw YIN f0 Hz [T], voiced [T] bool, window-centre time s [T]) of the
    runtime's PITCH_YIN on ``x`` (model rate ``sr``): FRAME (window
    ``frame`` ending at ``(t+1)·hop``, zeros before the start) and
    ``ops.pitch_yin_np``, in numpy (safe in forked workers)."""
    from .ops import pitch_yin_np

    p = _spec(pitch)
    a = np.asarray(x, np.float64).reshape(-1)
    T = a.size // hop
    a = np.concatenate([np.zeros(p.frame - hop), a[:T * hop]])
    fr = np.lib.stride_tricks.sliding_window_view(a, p.frame)[::hop][:T]
    yin = pitch_yin_np(fr, float(sr), p.fmin, p.fmax, p.threshold)
    f0, v = yin[:, 0], yin[:, 1]
    voiced = (v >= p.vthreshold) & (f0 > 0)
    centre = ((np.arange(T) + 1) * hop - p.frame / 2) / sr
    return f0, voiced, centre


def causal_tracker_errors(x: np.ndarray, sr: int, pitch: Any,
                          offline_f0: np.ndarray | None = None, hop: int = 64) -> dict[str, int]:
    """Frame counts of the causal YIN's errors against Praat on ``x`` (see
    module docstring): ``frames``, ``voiced_both``, ``octave``, ``gross``,
    ``voicing``, ``missed``, ``false_voiced``, ``offline_voiced``.
    ``offline_f0`` reuses a Praat track of ``x`` (5 ms frames from t = 0)."""
    from .qa import f0_track

    f0, voiced, centre = causal_yin(x, sr, pitch, hop)
    ref = f0_track(x, sr) if offline_f0 is None else np.asarray(offline_f0, np.float64)
    idx = np.round(centre / _PRAAT_STEP).astype(int)
    ok = (centre >= 0) & (idx < len(ref))
    f0, voiced, r = f0[ok], voiced[ok], ref[idx[ok]]
    rv = r > 0
    both = voiced & rv
    cents = np.abs(1200.0 * np.log2(f0[both] / r[both])) if both.any() else np.zeros(0)
    return {"frames": int(ok.sum()), "voiced_both": int(both.sum()),
            "octave": int(np.sum(cents >= 600.0)), "gross": int(np.sum(cents > 100.0)),
            "voicing": int(np.sum(voiced != rv)), "missed": int(np.sum(rv & ~voiced)),
            "false_voiced": int(np.sum(voiced & ~rv)), "offline_voiced": int(rv.sum())}


def log_f0_stats(f0: np.ndarray | Sequence[np.ndarray]) -> tuple[float, float, int]:
    """(mean, standard deviation, voiced frames) of ln F0 over the voiced
    frames (F0 > 0) of one track or of several tracks pooled."""
    if isinstance(f0, np.ndarray) and f0.ndim == 1:
        tracks: Sequence[np.ndarray] = [f0]
    else:
        tracks = list(f0)
    v = np.concatenate([np.asarray(t, np.float64)[np.asarray(t) > 0] for t in tracks]) \
        if tracks else np.zeros(0)
    if v.size < 2:
        return math.nan, math.nan, int(v.size)
    lf = np.log(v)
    return float(lf.mean()), float(lf.std()), int(v.size)


def register_match(f0: np.ndarray, target: Mapping[str, float] | tuple[float, float, int],
                   min_voiced: int = 20) -> dict[str, float] | None:
    """One output's F0 register against the target's (``log_f0_stats`` of
    the reference): ``f0_mean_offset_cents`` and ``f0_spread_ratio``;
    ``None`` with fewer than ``min_voiced`` voiced frames."""
    mu_t, sd_t = (target["mu"], target["sigma"]) if isinstance(target, Mapping) else target[:2]
    mu, sd, n = log_f0_stats(f0)
    if n < min_voiced or not math.isfinite(mu):
        return None
    return {"f0_mean_offset_cents": 1200.0 * (mu - mu_t) / math.log(2.0),
            "f0_spread_ratio": sd / sd_t if sd_t > 0 else math.nan}
