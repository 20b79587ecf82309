"""95 % bootstrap intervals over utterances.

Every QA score is an aggregate over utterances; :func:`summarise` resamples
the utterances with replacement (seeded, 1000 resamples by default) and
reports the percentile interval of the aggregate. Ratio scores (word error
rate = Σ errors / Σ words; frame fractions) resample (numerator,
denominator) pairs together, so long utterances weigh as they do in the
point estimate.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

__all__ = ["summarise", "summarise_ratio", "RESAMPLES", "SEED"]

RESAMPLES = 1000
SEED = 0


def _clean(v: float) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


def summarise(values: Sequence[float | None], resamples: int = RESAMPLES,
              seed: int = SEED) -> dict[str, object] | None:
    """``{"value": mean, "ci95": [lo, hi], "n": utterances}`` of the finite
    values (``None`` when there are none; one value: interval [v, v])."""
    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], np.float64)
    if v.size == 0:
        return None
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, v.size, size=(resamples, v.size))].mean(1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return {"value": float(v.mean()), "ci95": [float(lo), float(hi)], "n": int(v.size)}


def summarise_ratio(num: Sequence[float], den: Sequence[float], resamples: int = RESAMPLES,
                    seed: int = SEED) -> dict[str, object] | None:
    """``Σ num / Σ den`` over utterances with its interval (pairs resampled
    together); ``None`` when Σ den is 0."""
    a, b = np.asarray(num, np.float64), np.asarray(den, np.float64)
    if a.size == 0 or b.sum() <= 0:
        return None
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, a.size, size=(resamples, a.size))
    sb = b[idx].sum(1)
    r = a[idx].sum(1) / np.where(sb > 0, sb, np.nan)
    lo, hi = np.nanpercentile(r, [2.5, 97.5])
    return {"value": float(a.sum() / b.sum()), "ci95": [_clean(lo), _clean(hi)], "n": int(a.size)}
