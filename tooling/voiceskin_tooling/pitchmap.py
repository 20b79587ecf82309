"""PITCH_MAP: the single definition of the causal log-F0 mapping.

Masters (offline teachers) and students (the PITCH_MAP op of a bundle graph,
``native/src/ops_signal.c``) both use exactly this function, so a causal
student can follow its master's pitch. The maths (docs/bundle-format.md,
"PITCH_MAP"), per frame, in float64:

* A frame is *voiced* when ``voicing >= vthreshold`` and ``f0 > 0``. On a
  voiced frame, with ``l = ln f0``, the running source statistics update
  first (so the current frame counts)::

      n += 1;  a = max(1/n, 1/tau)
      m  += a·(l − m)
      s2 += a·((l − m)² − s2)

  i.e. an exact running mean/variance for the first ``tau`` voiced frames,
  then an exponential moving average with time constant ``tau`` frames.

* **Warm-up.** Early on the statistics are unreliable, so they are blended
  with a prior: ``w = min(n / warmup, 1)``,
  ``μ = w·m + (1−w)·prior_mu``, ``σ = max(w·√s2 + (1−w)·prior_sigma, 0.02)``.
  Before the first voiced frame (n = 0) the mapping uses the prior alone;
  after ``warmup`` voiced frames it uses the measured statistics alone.

* Output: ``exp(target_mu + target_sigma·(l − μ)/σ)`` whenever ``f0 > 0``
  (voiced or not — YIN holds the last voiced f0 through unvoiced frames),
  else 0. A non-finite f0 counts as 0 (it neither updates nor poisons the
  statistics); a NaN voicing never counts as voiced.

``target_mu``/``prior_mu`` are natural-log Hz, sigmas are in natural-log
units, ``warmup`` and ``tau`` in frames (graph steps).
"""

from __future__ import annotations

import math
from dataclasses import astuple, dataclass

import numpy as np

__all__ = ["PitchMapParams", "pitch_map_np"]


@dataclass(frozen=True)
class PitchMapParams:
    """The PITCH_MAP node's float attributes, in their file order."""

    target_mu: float
    target_sigma: float
    prior_mu: float
    prior_sigma: float
    warmup: float
    tau: float
    vthreshold: float

    def __post_init__(self) -> None:
        if not all(math.isfinite(v) for v in astuple(self)):
            raise ValueError(f"PitchMapParams must be finite: {self}")
        if self.target_sigma < 0 or self.prior_sigma < 0:
            raise ValueError("PitchMapParams sigmas must be >= 0")
        if not self.warmup > 0:
            raise ValueError(f"PitchMapParams.warmup {self.warmup} must be > 0")
        if not self.tau >= 1:
            raise ValueError(f"PitchMapParams.tau {self.tau} must be >= 1")

    def fattr(self) -> list[float]:
        """The attributes as the node stores them (float32-rounded)."""
        return [float(np.float32(v)) for v in astuple(self)]


def pitch_map_np(f0: np.ndarray, voicing: np.ndarray, p: PitchMapParams) -> np.ndarray:
    """Maps a whole track: ``f0`` [T] (Hz), ``voicing`` [T] -> mapped f0 [T]
    (float64), sequentially from zero state — the same maths as the C op."""
    f0 = np.asarray(f0, dtype=np.float64).reshape(-1)
    v = np.asarray(voicing, dtype=np.float64).reshape(-1)
    if f0.shape != v.shape:
        raise ValueError(f"f0 {f0.shape} and voicing {v.shape} differ in length")
    out = np.zeros_like(f0)
    n = m = s2 = 0.0
    inv_tau = 1.0 / p.tau
    for t in range(f0.shape[0]):
        f = f0[t]
        if not (f > 0.0 and math.isfinite(f)):   # 0, negative, NaN, Inf: output 0
            continue
        lf = math.log(f)
        if v[t] >= p.vthreshold:
            n += 1.0
            a = max(1.0 / n, inv_tau)
            m += a * (lf - m)
            s2 += a * ((lf - m) * (lf - m) - s2)
        w = min(n / p.warmup, 1.0)
        mu = w * m + (1.0 - w) * p.prior_mu
        sigma = max(w * math.sqrt(s2) + (1.0 - w) * p.prior_sigma, 0.02)
        out[t] = math.exp(p.target_mu + p.target_sigma * (lf - mu) / sigma)
    return out
