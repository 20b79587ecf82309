"""The master ("teacher") interface.

A master converts any input voice toward one target voice. Distillation only
needs its input/output audio pairs; masters that can also expose frame-rate
F0/voicing and intermediate features make richer targets for the student.

Conventions (every master follows them; the student relies on them):

* ``convert`` returns audio at ``output.sample_rate`` (the master's own
  ``sample_rate``), mono float32, **the same duration as the input** (after
  resampling to that rate) and time-aligned with it: no added delay.
* Frame-rate arrays (``f0``, ``voicing`` and every entry of ``features``)
  have one row per frame; frame ``i`` is centred on sample ``i * hop`` of the
  output, and there are ``len(audio) // hop + 1`` frames.
* ``f0`` is in Hz, 0 where the output is unvoiced. ``voicing`` is in [0, 1].
  Either may be ``None`` when the master cannot say (file masters).
"""
from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Sequence

import numpy as np


class MasterError(RuntimeError):
    """A master was misused (not fitted, bad settings, bad audio)."""


@dataclass
class MasterOutput:
    audio: np.ndarray
    f0: np.ndarray | None
    voicing: np.ndarray | None
    features: dict[str, np.ndarray] | None = None
    sample_rate: int = 16000
    hop: int = 64
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        return len(self.audio) // self.hop + 1


def as_mono_float32(audio: np.ndarray) -> np.ndarray:
    """1-D float32 view of ``audio``; (n, ch) or (ch, n) arrays are averaged."""
    a = np.asarray(audio)
    if a.ndim == 2:
        # soundfile gives (frames, channels); torch-style is (channels, frames)
        a = a.mean(axis=1) if a.shape[0] >= a.shape[1] else a.mean(axis=0)
    if a.ndim != 1:
        raise MasterError(f"audio must be 1-D (or 2-D multichannel), got shape {np.shape(audio)}")
    a = a.astype(np.float32, copy=False)
    if not np.all(np.isfinite(a)):
        raise MasterError("audio contains NaN or infinite samples")
    return a


def resample(audio: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    if sr_in == sr_out:
        return audio.astype(np.float32, copy=False)
    import soxr

    return soxr.resample(audio.astype(np.float32, copy=False), sr_in, sr_out, quality="HQ").astype(np.float32)


class Master(ABC):
    """Base class for masters. Subclasses set ``name`` and implement the
    abstract methods; ``sample_rate`` and ``hop`` are instance attributes."""

    name: ClassVar[str] = "master"
    #: whether ``fit`` must run before ``convert`` (False for any-to-one files)
    requires_fit: ClassVar[bool] = True

    sample_rate: int = 16000
    hop: int = 64

    @abstractmethod
    def fit(self, reference_audio: Sequence[np.ndarray], sample_rate: int) -> None:
        """Learn the target voice from reference recordings (each 1-D)."""

    @abstractmethod
    def convert(self, audio: np.ndarray, sample_rate: int) -> MasterOutput:
        """Convert ``audio`` (any speaker, at ``sample_rate``) to the target."""

    @property
    def fitted(self) -> bool:
        return True

    def config(self) -> dict[str, Any]:
        """JSON-serialisable description: settings and what was learned.
        Used for provenance in bundles and as the master-output cache key."""
        return {"name": self.name, "sample_rate": self.sample_rate, "hop": self.hop}

    def fingerprint(self) -> str:
        """Stable hash of :meth:`config` (cache key for master outputs)."""
        blob = json.dumps(self.config(), sort_keys=True, default=_json_default).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def _json_default(o: Any) -> Any:
    if isinstance(o, np.ndarray):
        return np.round(o.astype(np.float64), 6).tolist()
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    return str(o)


class AudioOnlyMaster(Master):
    """Any master seen as a black box: audio in, audio out, nothing else —
    no F0, voicing, features or pitch definition, as a TorchScript/ONNX file
    or a studio's own class would give. The voice TOML's ``[master]
    audio_only = true`` wraps its master in this, to see what a student of
    such a master gets (the pitch mapping is then fitted from the pairs:
    :mod:`voiceskin_tooling.pitchfit`)."""

    def __init__(self, inner: Master) -> None:
        self.inner = inner
        self.name = f"{inner.name} (audio only)"
        self.sample_rate, self.hop = inner.sample_rate, inner.hop

    def fit(self, reference_audio: Sequence[np.ndarray], sample_rate: int) -> None:
        self.inner.fit(reference_audio, sample_rate)

    @property
    def fitted(self) -> bool:
        return self.inner.fitted

    def config(self) -> dict[str, Any]:
        # nothing of the inner master's settings (a black box does not say
        # which pitch tracker it uses); its fingerprint keeps cache keys apart
        return {"name": self.name, "sample_rate": self.sample_rate, "hop": self.hop,
                "audio_only": True, "wraps": self.inner.fingerprint()}

    def convert(self, audio: np.ndarray, sample_rate: int) -> MasterOutput:
        out = self.inner.convert(audio, sample_rate)
        return MasterOutput(out.audio, None, None, None, out.sample_rate, out.hop)
