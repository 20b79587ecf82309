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
residuals beyond 3 robust standard deviations left out. The prior and the
running statistics' time constant behind ``z`` are the master's own and
unknown: the prior is taken from the inputs (as the built-in master builds
its own), and the
fit is made for several and the one leaving the smallest median residual
over all frames is kept (with the student's default instead, the full
distillation of the wrapped WORLD master followed its F0 at 35.6 cents
median, and the F0 spread came out 0.78 of the target's).

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
                         hop: int, min_frames: int = 200,
                         taus: Sequence[float] = (250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0),
                         ranges: Sequence[tuple[float, float]] = ((50.0, 800.0), (60.0, 600.0), (70.0, 500.0)),
                         max_pairs: int = 64) -> tuple[Any, dict[str, Any]]:
    """Returns (``spec`` with ``target_mu``/``target_sigma`` fitted, report).

    ``pairs`` are (input, master output) at ``sr``, time-aligned, mono.
    ``spec`` is a :class:`~voiceskin_tooling.student.PitchSpec` whose YIN
    frame and threshold, warm-up and voicing threshold stay as they are; its prior
    becomes the inputs' population statistics (mean over the inputs of
    each one's voiced log-F0 mean and standard deviation). The
    running statistics' time constant is not known either (a master's own
    ``tau`` is internal): the fit is made for ``spec.tau`` and each of
    ``taus``, and the one whose line leaves the smallest median residual
    wins, and likewise the YIN search range among ``ranges`` (``report``:
    ``tau``, ``fmin``, ``fmax``, ``residual_cents_by_setting``); at most
    ``max_pairs`` pairs, evenly spread, are tracked. Fewer than
    ``min_frames`` frames voiced in both leaves the spec unchanged
    (``report["fitted"] = False``) rather than guess."""
    pairs = list(pairs)
    if len(pairs) > max_pairs:  # the fit needs a few thousand frames, not the whole corpus
        pairs = [pairs[i] for i in np.linspace(0, len(pairs) - 1, max_pairs).round().astype(int)]
    best: tuple[Any, dict[str, Any]] | None = None
    by_setting: dict[str, float | None] = {}
    for fmin, fmax in dict.fromkeys([(float(spec.fmin), float(spec.fmax)), *ranges]):
        ranged = replace(spec, fmin=fmin, fmax=fmax)
        tracks = []
        for x, y in pairs:
            n = min(len(x), len(y)) // hop * hop
            if n < spec.frame:
                continue
            tracks.append((_yin(x[:n], ranged, sr, hop), _yin(y[:n], ranged, sr, hop)))
        # the population prior, as the built-in master computes its own: the
        # mean over the inputs of each one's voiced log-F0 mean and spread
        stats = [(float(np.mean(lf)), float(np.std(lf))) for lf in
                 (np.log(yx[(yx[:, 1] >= spec.vthreshold) & (yx[:, 0] > 0), 0]) for yx, _ in tracks)
                 if lf.size >= 50]
        if stats:
            ranged = replace(ranged, prior_mu=float(np.mean([m for m, _ in stats])),
                             prior_sigma=max(float(np.mean([d for _, d in stats])), 1e-3))
        for tau in dict.fromkeys([float(spec.tau), *map(float, taus)]):
            out, rep = _fit_line(replace(ranged, tau=tau), tracks, min_frames)
            by_setting[f"yin {fmin:g}-{fmax:g} Hz, tau {tau:g}"] = rep.get("residual_cents_all")
            if not rep["fitted"]:
                if best is None:
                    best = (out, rep)
                continue
            if best is None or not best[1]["fitted"] or rep["residual_cents_all"] < best[1]["residual_cents_all"]:
                best = (out, rep)
    assert best is not None
    out, rep = best
    rep.update(tau=float(out.tau), fmin=float(out.fmin), fmax=float(out.fmax), prior_mu=float(out.prior_mu),
               prior_sigma=float(out.prior_sigma), residual_cents_by_setting=by_setting)
    return (out if rep["fitted"] else spec), rep


def _fit_line(spec: Any, tracks: list[tuple[np.ndarray, np.ndarray]],
              min_frames: int) -> tuple[Any, dict[str, Any]]:
    """The robust line fit ln f0_out = target_mu + target_sigma·z for one
    set of source-side settings (``spec``); ``tracks``: (YIN of the input,
    YIN of the output) per pair."""
    from .pitchmap import PitchMapParams, pitch_map_np

    unit = PitchMapParams(target_mu=0.0, target_sigma=1.0, prior_mu=spec.prior_mu,
                          prior_sigma=spec.prior_sigma, warmup=spec.warmup, tau=spec.tau,
                          vthreshold=spec.vthreshold)
    zs, ls = [], []
    for yx, yy in tracks:
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
    cents = 1200.0 / math.log(2.0) * np.abs(res)
    report.update(fitted=True, target_mu=float(a), target_sigma=sigma,
                  target_hz=round(math.exp(a), 2), inliers=float(keep.mean()),
                  residual_cents=float(np.median(cents[keep])),
                  residual_cents_all=float(np.median(cents)))
    return replace(spec, target_mu=float(a), target_sigma=sigma), report
