"""The formant post-filter, fitted after training and folded into the
harmonic head (:func:`fit_postfilter`; the filter itself:
``Student.fold_postfilter``)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .audio_features import audio_log_env
from .training import _Segments, _teacher_frames

__all__ = ["audio_log_env", "fit_postfilter"]


def fit_postfilter(model: Any, data: _Segments, width_hz: float, max_utts: int = 48,
                   max_beta: float = 1.0, reference: str = "auto") -> dict[str, Any]:
    """Fits and folds the formant post-filter (``Student.fold_postfilter``):
    β such that the student's log harmonic envelope on the training
    utterances (voiced steps, resampled to the master's envelope grid) is as
    sharp (``envelope_contrast``) as the master's ``log_env`` feature at the
    same instants — or, when the master exposes no envelope (a black box),
    as the envelope WORLD's CheapTrick reads from the master's output audio
    (:func:`audio_log_env`). β stays 0 when the student is already as sharp,
    and stops at ``max_beta`` (a barely trained student's flat envelope would
    only have its noise amplified). ``reference`` = "auto" (the feature when
    the master has one), "feature" or "audio". Returns what it measured."""
    import torch

    from .student import delay_steps, envelope_contrast, exp_sigmoid, postfilter_matrix

    c = model.cfg
    out: dict[str, Any] = {"beta": 0.0, "width_hz": width_hz}
    if reference not in ("auto", "feature", "audio"):
        raise ValueError(f"reference must be 'auto', 'feature' or 'audio', not {reference!r}")
    items = list(enumerate(data.items))
    has_env = [it for it in items if "log_env" in it[1][2]]
    use_audio = reference == "audio" or (reference == "auto" and not has_env)
    if not use_audio:
        items = has_env
    if not items:
        out["skipped"] = "no training utterances" if use_audio else "the master exposes no log_env feature"
        return out
    out["reference"] = ("CheapTrick of the master's output audio" if use_audio
                        else "the master's log_env feature" + (" (read from its audio by CheapTrick)"
                                                              if data.features_read_from_audio else ""))
    items = items[:: max(1, len(items) // max_utts)][:max_utts]
    pre, master = [], []
    with torch.no_grad():
        for i, (fe, master_audio, feats, thop) in items:
            rmean = data.rmeans[i][None] if data.rmeans is not None else None
            hp, _ = model.head_preactivations(fe.logmel[None], fe.f0[None], fe.voicing[None], rmean=rmean,
                                              content=None if fe.content is None else fe.content[None])
            voiced = delay_steps(fe.voicing[None], c.pitch_delay_steps)[0] >= c.pitch.vthreshold
            if use_audio:
                env = torch.from_numpy(audio_log_env(master_audio.numpy(), c.sample_rate, c.hop))
                thop = c.hop
            else:
                env = feats["log_env"]
            j = _teacher_frames(0, hp.shape[1], c.hop, c.lookahead, thop, env.shape[0])
            pre.append(hp[0][voiced].double().numpy())
            master.append(env[j][voiced].double().numpy())
    hp0, lm = np.concatenate(pre), np.concatenate(master)
    if len(hp0) == 0:
        out["skipped"] = "no voiced training steps"
        return out
    B, Bm, sr = c.harm_bins, lm.shape[1], c.sample_rate
    grid = np.linspace(0, sr / 2, Bm)
    # student bins → the master's envelope grid (linear interpolation)
    R = np.stack([np.interp(grid, np.linspace(0, sr / 2, B), e) for e in np.eye(B)], 1)  # [Bm, B]

    def contrast(beta: float) -> float:
        h = hp0 @ postfilter_matrix(B, sr, beta, width_hz).T
        le = torch.log(exp_sigmoid(torch.from_numpy(h))).numpy() @ R.T
        return envelope_contrast(le, sr, width_hz)

    target, before = envelope_contrast(lm, sr, width_hz), contrast(0.0)
    out.update(contrast_master=round(target, 5), contrast_before=round(before, 5))
    lo, hi = 0.0, max_beta
    if before < target:
        if contrast(hi) <= target:
            lo = hi
        else:
            for _ in range(30):   # contrast grows with β: bisection
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if contrast(mid) < target else (lo, mid)
        out["beta"] = round(lo, 4)
        model.fold_postfilter(out["beta"], width_hz)
    out["contrast_after"] = round(contrast(out["beta"]), 5)
    return out
