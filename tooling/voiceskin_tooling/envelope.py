"""Faithfulness to the master: distance between two outputs' spectral
envelopes.

:func:`envelope_error` (dB) compares a student's output with the master's
output for the same input where the students actually differ from it — the
spectral envelope — on frames voiced in both:

1. F0: WORLD DIO + StoneMask (5 ms frames, 50–800 Hz) on each signal; a
   frame counts when both signals are voiced there. The master's F0 track
   drives CheapTrick on **both** signals (one F0 track, so envelope
   differences are not F0-estimation differences; master and students share
   their F0 by construction anyway).
2. Envelope: WORLD CheapTrick power envelope per frame, pooled into 40
   triangular mel bands between 80 Hz and 7.6 kHz (area-normalised, HTK
   mel), in dB: ``10·log10(band power)``.
3. Error: mean over those frames and bands of ``|E_student − E_master|``.

Nothing is normalised away: a uniform level offset of g dB adds g to the
error (a tier that is 1 dB too loud is 1 dB off). Identical signals score
0; a spectral tilt of ±6 dB across the band scores ~3 dB.
"""
from __future__ import annotations

import warnings

import numpy as np

__all__ = ["envelope_error", "log_envelope", "ENVELOPE_BANDS"]

ENVELOPE_BANDS = 40
_FMIN, _FMAX = 80.0, 7600.0
_FRAME_MS = 5.0
_FB: dict[tuple[int, int], np.ndarray] = {}


def _pw():  # noqa: ANN202
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pyworld as pw
    return pw


def _bands(sr: int, fft_size: int) -> np.ndarray:
    key = (sr, fft_size)
    if key not in _FB:
        from .student import mel_filterbank

        _FB[key] = mel_filterbank(sr, fft_size, ENVELOPE_BANDS, fmin=_FMIN,
                                  fmax=min(_FMAX, sr / 2)).astype(np.float64)
    return _FB[key]


def _f0(x: np.ndarray, sr: int) -> np.ndarray:
    pw = _pw()
    f0, t = pw.dio(x, sr, f0_floor=50.0, f0_ceil=800.0, frame_period=_FRAME_MS)
    return pw.stonemask(x, f0, t, sr)


def log_envelope(x: np.ndarray, sr: int, f0: np.ndarray) -> np.ndarray:
    """[frames, ENVELOPE_BANDS] CheapTrick envelope in dB driven by ``f0``
    (5 ms frames; unvoiced frames use CheapTrick's default F0)."""
    pw = _pw()
    x64 = np.ascontiguousarray(x, np.float64)
    t = np.arange(len(f0)) * (_FRAME_MS / 1000.0)
    sp = pw.cheaptrick(x64, np.ascontiguousarray(f0, np.float64), t, sr, f0_floor=50.0)
    fb = _bands(sr, 2 * (sp.shape[1] - 1))
    return 10.0 * np.log10(sp @ fb.T + 1e-12)


def envelope_error(student_audio: np.ndarray, master_audio: np.ndarray, sr: int) -> float:
    """Mean |log envelope(student) − log envelope(master)| in dB over 40 mel
    bands and the frames voiced in both (see module docstring); ``nan`` when
    no frame is voiced in both."""
    n = min(len(student_audio), len(master_audio))
    s = np.ascontiguousarray(student_audio[:n], np.float64)
    m = np.ascontiguousarray(master_audio[:n], np.float64)
    f0_m, f0_s = _f0(m, sr), _f0(s, sr)
    k = min(len(f0_m), len(f0_s))
    both = (f0_m[:k] > 0) & (f0_s[:k] > 0)
    if not both.any():
        return float("nan")
    Em = log_envelope(m, sr, f0_m[:k])
    Es = log_envelope(s, sr, f0_m[:k])
    return float(np.mean(np.abs(Es[both] - Em[both])))
