"""Speaker identity: d-vector similarity to the target, and the margin over a
cohort of other voices.

* :class:`SpeakerEncoder` — resemblyzer's ``VoiceEncoder`` (GE2E d-vectors,
  weights ship in its wheel), or unavailable (``error`` says why).
* ``similarity`` — cosine between an utterance's embedding and the target's
  mean reference embedding.
* :func:`identity_margin` — similarity to the target minus the highest
  similarity to any cohort speaker (cohort: other voices of the target's
  sex, listed in the voice TOML's ``[qa] cohort``; each cohort speaker is
  its mean utterance embedding, normalised), and the target's rank among
  target + cohort by similarity (1 = the target is the nearest voice).
  ``similarity`` alone rewards any conversion that makes speech "female";
  the margin is positive only when the output is closer to *this* voice
  than to every other woman of the cohort.

resemblyzer reads linear-power mel spectra, where formant peaks dominate:
sharpening an envelope (contrast expansion) can raise similarity and
margin without any listener hearing the target better. The QA therefore
also measures faithfulness to the master directly (``envelope.py``).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

__all__ = ["SpeakerEncoder", "cosine", "identity_margin", "mean_embedding"]


class SpeakerEncoder:
    """resemblyzer's VoiceEncoder (ships its weights), or unavailable."""

    def __init__(self) -> None:
        self.error: str | None = None
        try:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                from resemblyzer import VoiceEncoder, preprocess_wav
            self._enc = VoiceEncoder("cpu", verbose=False)
            self._pre = preprocess_wav
        except Exception as exc:  # noqa: BLE001 - optional dependency
            self._enc = None
            self.error = f"resemblyzer unavailable ({type(exc).__name__}: {exc})"

    @property
    def available(self) -> bool:
        return self._enc is not None

    def embed(self, x: np.ndarray, sr: int = 16000) -> np.ndarray | None:
        if self._enc is None:
            return None
        w = self._pre(np.asarray(x, np.float32), source_sr=sr)
        if len(w) < sr // 2:
            w = np.asarray(x, np.float32)
        return np.asarray(self._enc.embed_utterance(w), np.float64)

    def target(self, refs: Sequence[np.ndarray], sr: int = 16000) -> np.ndarray | None:
        """Mean embedding of a speaker's utterances, unit norm."""
        return mean_embedding([e for e in (self.embed(r, sr) for r in refs) if e is not None])


def mean_embedding(embs: Sequence[np.ndarray]) -> np.ndarray | None:
    """Mean of utterance embeddings, normalised to unit length."""
    if not len(embs):
        return None
    m = np.mean(np.asarray(embs, np.float64), 0)
    return m / (np.linalg.norm(m) + 1e-12)


def cosine(a: np.ndarray | None, b: np.ndarray | None) -> float | None:
    if a is None or b is None:
        return None
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def identity_margin(emb: np.ndarray, target_emb: np.ndarray,
                    cohort_embs: Mapping[str, np.ndarray]) -> tuple[float, int]:
    """(cos(emb, target) − max over the cohort of cos(emb, speaker), rank of
    the target among target + cohort by cosine to ``emb``: 1 = nearest).
    ``cohort_embs`` maps speaker → that speaker's mean embedding."""
    if not cohort_embs:
        raise ValueError("identity_margin needs at least one cohort speaker")
    s_t = cosine(emb, target_emb)
    s_c = [cosine(emb, c) for c in cohort_embs.values()]
    assert s_t is not None and all(s is not None for s in s_c)
    best = max(s_c)  # type: ignore[type-var]
    rank = 1 + sum(1 for s in s_c if s > s_t)  # type: ignore[operator]
    return float(s_t - best), int(rank)  # type: ignore[operator]
