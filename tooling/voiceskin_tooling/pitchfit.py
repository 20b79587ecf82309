"""Fit the student's pitch mapping from a master's input/output audio alone.

A student drives its synthesis with PITCH_MAP(PITCH_YIN(input)) — the
runtime's causal definition (:mod:`voiceskin_tooling.pitchmap`). The
built-in WORLD master uses the same definition and hands its parameters to
the student; a master that exposes audio only (a TorchScript or ONNX file,
a studio's own class) does not, and with neutral statistics the student
could not follow its pitch conversion at all.

PITCH_MAP's output on a voiced frame is ``exp(target_mu + target_sigma·z)``
with ``z = (ln f0 − μ)/σ`` the input's causally normalised log-F0 (running
statistics, warm-up and prior included). ``z`` depends only on the input
and the source-side settings, so the two target parameters follow from the
pairs by a line fit: track the input with the student's own YIN, compute
``z`` with PITCH_MAP at (target_mu, target_sigma) = (0, 1), track the
master's output with the same YIN on the same frames (the master's output
is time-aligned with its input), and fit ``ln f0_out ≈ target_mu +
target_sigma·z`` on frames voiced in both. Tracking errors (octave jumps
on either side) are outliers of that line: the fit is repeated with
residuals beyond 3 robust standard deviations left out.

For a master that really is a PITCH_MAP of the input this recovers its
parameters (``tests/test_pitchfit.py`` checks it on the WORLD master wrapped
to expose audio only); for any other any-to-one master it is the best
affine map in the normalised log-F0 domain, and the fit's residual says how
well a student can follow it (``residual_cents`` in the report).
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Sequence

import numpy as np

__all__ = ["fit_pitch_from_pairs"]


def _yin(x: np.ndarray, spec: Any, sr: int, hop: int) -> np.ndarray:
    from .ops import frame, pitch_yin_np

    fr = frame(np.asarray(x, np.float32), hop, spec.frame).numpy()
    return pitch_yin_np(fr, float(sr), spec.fmin, spec.fmax, spec.threshold)


def fit_pitch_from_pairs(spec: Any, pairs: Sequence[tuple[np.ndarray, np.ndarray]], sr: int,
                         hop: int, min_frames: int = 200) -> tuple[Any, dict[str, Any]]:
    """Returns (``spec`` with ``target_mu``/``target_sigma`` fitted, report).

    ``pairs`` are (input, master output) at ``sr``, time-aligned, mono.
    ``spec`` is a :class:`~voiceskin_tooling.student.PitchSpec` whose YIN and
    source-side settings (prior, warm-up, tau, voicing threshold) stay as
    they are. Fewer than ``min_frames`` frames voiced in both leaves the
    spec unchanged (``report["fitted"] = False``) rather than guess."""
    from .pitchmap import PitchMapParams, pitch_map_np

    unit = PitchMapParams(target_mu=0.0, target_sigma=1.0, prior_mu=spec.prior_mu,
                          prior_sigma=spec.prior_sigma, warmup=spec.warmup, tau=spec.tau,
                          vthreshold=spec.vthreshold)
    zs, ls = [], []
    for x, y in pairs:
        n = min(len(x), len(y)) // hop * hop
        if n < spec.frame:
            continue
        yx, yy = _yin(x[:n], spec, sr, hop), _yin(y[:n], spec, sr, hop)
        mapped = pitch_map_np(yx[:, 0], yx[:, 1], unit)
        both = ((yx[:, 1] >= spec.vthreshold) & (yx[:, 0] > 0) & (mapped > 0)
                & (yy[:, 1] >= spec.vthreshold) & (yy[:, 0] > 0))
        zs.append(np.log(mapped[both]))
        ls.append(np.log(yy[both, 0]))
    z = np.concatenate(zs) if zs else np.zeros(0)
    lo = np.concatenate(ls) if ls else np.zeros(0)
    report: dict[str, Any] = {"frames": int(z.size), "fitted": False,
                              "method": "ln f0_out = target_mu + target_sigma * z (robust line fit)"}
    if z.size < min_frames:
        report["note"] = f"only {z.size} frames voiced in both input and output (need {min_frames})"
        return spec, report
    keep = np.ones(z.size, bool)
    for _ in range(4):
        b, a = np.polyfit(z[keep], lo[keep], 1)
        res = lo - (a + b * z)
        mad = float(np.median(np.abs(res[keep] - np.median(res[keep])))) * 1.4826
        new = np.abs(res) <= 3.0 * max(mad, 1e-3)
        if np.array_equal(new, keep):
            break
        keep = new
    sigma = max(float(b), 0.0)
    cents = 1200.0 / math.log(2.0) * np.abs(res[keep])
    report.update(fitted=True, target_mu=float(a), target_sigma=sigma,
                  target_hz=round(math.exp(a), 2), inliers=float(keep.mean()),
                  residual_cents=float(np.median(cents)))
    return replace(spec, target_mu=float(a), target_sigma=sigma), report
