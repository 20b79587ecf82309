"""Naturalness: DNSMOS P.835 (and P.808) scores of one utterance.

DNSMOS (Reddy et al., ICASSP 2022) predicts the mean opinion scores a
listening panel gives noisy / processed speech: ``sig`` (speech signal
quality, 1–5), ``bak`` (background / noise intrusiveness), ``ovrl``
(overall) and the P.808 overall score ``p808``. The ONNX models ship inside
the ``speechmos`` wheel. DNSMOS scores 9.01-s windows hopped by 1 s; a
shorter utterance is tiled (repeated) up to 9.01 s first, as speechmos does.

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
    r = _model()(x, _SR, False)
    return {"dnsmos_ovrl": float(r["ovrl_mos"]), "dnsmos_sig": float(r["sig_mos"]),
            "dnsmos_bak": float(r["bak_mos"]), "dnsmos_p808": float(r["p808_mos"])}
