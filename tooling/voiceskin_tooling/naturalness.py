"""Naturalness: DNSMOS P.835 (and P.808) scores of one utterance.

DNSMOS (Reddy et al., ICASSP 2022) predicts the mean opinion scores a
listening panel gives noisy / processed speech: ``sig`` (speech signal
quality, 1–5), ``bak`` (background / noise intrusiveness), ``ovrl``
(overall) and the P.808 overall score ``p808``. The ONNX models ship inside
the ``speechmos`` wheel; its polynomial calibration and mel features are
speechmos' own. The models score fixed 9.01-s windows. speechmos tiles a
short utterance by doubling it until it is 9.01 s long and then scores every
1-s hop of the result (a 4-s utterance: 16 s, seven windows of the same
repeated speech); here a short utterance is tiled once up to exactly 9.01 s
and scored in **one** window, and a longer one in windows every ~4.5 s (the
last ending at its end), averaged — the same scores up to the tiling, at a
seventh of the cost (the P.835 model is ~0.5–1 s of CPU per window).

The ONNX sessions are built once per process, single-threaded (the QA
parallelises across processes).
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

__all__ = ["dnsmos", "DNSMOS_KEYS", "DNSMOS_MODEL"]

DNSMOS_KEYS = ("dnsmos_ovrl", "dnsmos_sig", "dnsmos_bak", "dnsmos_p808")
DNSMOS_MODEL = "DNSMOS P.835 sig_bak_ovr + P.808 model_v8 (ONNX in the speechmos wheel)"
_SR = 16000
_WINDOW_S = 9.01  # speechmos.dnsmos.INPUT_LENGTH
_MODEL: Any = None


def _model() -> Any:
    global _MODEL
    if _MODEL is None:
        import onnxruntime as ort
        from speechmos import dnsmos as sm

        class _Dnsmos(sm.DNSMOS):  # speechmos' scorer with single-threaded sessions
            def __init__(self, primary: str, p808: str) -> None:
                opts = ort.SessionOptions()
                opts.intra_op_num_threads = 1
                opts.inter_op_num_threads = 1
                self.primary_model_path = primary
                self.onnx_sess = ort.InferenceSession(primary, opts, providers=["CPUExecutionProvider"])
                self.p808_onnx_sess = ort.InferenceSession(p808, opts, providers=["CPUExecutionProvider"])

        d = os.path.join(os.path.dirname(os.path.abspath(sm.__file__)), "dnsmos_models")
        _MODEL = _Dnsmos(os.path.join(d, "sig_bak_ovr.onnx"), os.path.join(d, "model_v8.onnx"))
    return _MODEL


def dnsmos(audio: np.ndarray, sr: int) -> dict[str, float]:
    """DNSMOS of one utterance: ``{"dnsmos_ovrl", "dnsmos_sig", "dnsmos_bak",
    "dnsmos_p808"}`` (MOS scale, 1–5). Audio at any rate (resampled to
    16 kHz); a peak above 1 is scaled down (speechmos refuses it)."""
    x = np.asarray(audio, np.float32).reshape(-1)
    if sr != _SR:
        from .masters.base import resample

        x = resample(x, sr, _SR)
    if x.size < _SR // 10:
        raise ValueError(f"utterance too short for DNSMOS ({x.size} samples at 16 kHz)")
    peak = float(np.max(np.abs(x)))
    if peak > 1.0:
        x = x / peak
    m = _model()
    L = int(_WINDOW_S * _SR)
    if x.size < L:
        x = np.resize(x, L)  # tiles the utterance
    n_win = int(np.ceil((x.size - L) / (L / 2))) + 1
    starts = np.linspace(0, x.size - L, n_win).round().astype(int) if n_win > 1 else [0]
    sig, bak, ovr, p808 = [], [], [], []
    for s0 in starts:
        seg = np.ascontiguousarray(x[s0:s0 + L], np.float32)
        feats = np.asarray(m.audio_melspec(audio=seg[:-160]), np.float32)[None]
        p808.append(float(m.p808_onnx_sess.run(None, {"input_1": feats})[0][0][0]))
        raw = m.onnx_sess.run(None, {"input_1": seg[None]})[0][0]
        s_, b_, o_ = m.get_polyfit_val(raw[0], raw[1], raw[2], False)
        sig.append(float(s_))
        bak.append(float(b_))
        ovr.append(float(o_))
    return {"dnsmos_ovrl": float(np.mean(ovr)), "dnsmos_sig": float(np.mean(sig)),
            "dnsmos_bak": float(np.mean(bak)), "dnsmos_p808": float(np.mean(p808))}
