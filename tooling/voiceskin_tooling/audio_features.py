"""Teacher features read from a master's output audio, for a master that
exposes none (a black box: masters.base.AudioOnlyMaster, a TorchScript or
ONNX file). WORLD reads the spectral envelope — DIO + StoneMask F0, then
CheapTrick — on the grid of the WORLD master's own ``log_env`` feature:
``bins`` linear frequencies over 0..sr/2, frame i centred on sample i·hop.
So a student of a black box gets the layer-to-layer envelope target
(training.kd_pairs) and the post-filter reference that a student of the
white-box master gets.

Only the envelope: read back from the WORLD master's output it is that
master's own ``log_env`` frame by frame (tests/test_postfilter.py), but
D4C's aperiodicity is not its ``aperiodicity`` (on frames both call
voiced, 0.071 mean absolute error against the feature's own spread of
0.067 around its mean), so it is no target."""
from __future__ import annotations

import numpy as np

__all__ = ["audio_features", "audio_log_env"]


def audio_log_env(audio: np.ndarray, sr: int, hop: int, bins: int = 65) -> np.ndarray:
    """[len(audio)//hop + 1, bins]: natural-log amplitude of the spectral
    envelope of ``audio`` (the ``log_env`` grid)."""
    from .masters.world import _pw

    pw = _pw()
    y = np.ascontiguousarray(np.asarray(audio, np.float64))
    n = len(y) // hop + 1
    t = np.arange(n) * hop / sr
    f0, _ = pw.dio(y, sr, frame_period=1000.0 * hop / sr)
    f0 = np.resize(pw.stonemask(y, f0, np.arange(len(f0)) * hop / sr, sr), n)
    sp = pw.cheaptrick(y, f0, t, sr)
    K = sp.shape[1]
    idx = np.clip(np.round(np.linspace(0, K - 1, bins)).astype(int), 0, K - 1)
    return 0.5 * np.log(sp[:, idx] + 1e-16)


def audio_features(audio: np.ndarray, sr: int, hop: int, bins: int = 65) -> dict[str, np.ndarray]:
    """The teacher features of a black box's output ``audio``:
    {"log_env": [frames, bins] float32}."""
    return {"log_env": audio_log_env(audio, sr, hop, bins).astype(np.float32)}
