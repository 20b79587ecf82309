"""A causal phone classifier: a speaker-independent *content key* for
``world2``'s kNN picks (what kNN-VC takes from WavLM, trained here from the
corpus alone).

* Labels: pocketsphinx 5 (the recogniser the QA ships, its US-English
  acoustic model inside the wheel) force-aligns each English utterance to
  its known sentence: one CMUdict phone (39) or silence per 10 ms frame.
* Features, per master frame ``i`` (hop 64 at 16 kHz): 40 log-mel bands of a
  256-sample Hann window centred on the frame (it ends 2 frames = 8 ms
  ahead: the students' lookahead), minus a causal running mean (per band,
  ~2 s, cumulative during the first 2 s), stacked with frames up to 160 ms
  back. Nothing reads further ahead, so a streaming student can follow.
* Model: a small MLP (360 → 512 → 64 → 40 phones) trained with the
  features read at five formant scales (0.86–1.16: the corpus has few vocal
  tracts); ``world2`` searches its square-root posteriors.

Training speech (``corpus_gen.phone_training_speech``): the corpus's
*training* voices and the target, reading every English training sentence;
never a validation or test voice, never a test sentence. Regenerate with
``python -m voiceskin_tooling.corpus_gen --phones-only`` (needs the corpus's
synthesizers, ~5 min); frame accuracy against the forced alignments of the
validation voices: 0.48 (40 classes).
"""
from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .evaluate import mel_fb

SR = 16000
HOP = 64
WIN = 256
N_MELS = 40
CONTEXT = (-40, -32, -24, -16, -12, -8, -4, -2, 0)
TAU_FRAMES = 500.0
PHONES = ("SIL AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH "
          "UH UW V W Y Z ZH").split()
_PHONE_ID = {p: i for i, p in enumerate(PHONES)}
#: formant-scale augmentation of the training data (the corpus has few vocal tracts)
TRAIN_WARPS = (0.86, 0.93, 1.0, 1.08, 1.16)
MODEL_FILE = Path(__file__).with_name("phones.npz")


_FB = mel_fb(SR, 512, N_MELS)  # 80-7600 Hz


def n_frames(n_samples: int) -> int:
    """Master frames of ``n_samples`` (WORLD's count: one per hop, plus one)."""
    return n_samples // HOP + 1


def _warped_fb(warp: float) -> np.ndarray:
    """The mel bank read at frequencies × ``warp`` (a vocal tract ``warp``
    times longer sounds like this one): training augmentation."""
    if warp == 1.0:
        return _FB
    freqs = np.linspace(0, SR / 2, _FB.shape[1])
    return np.stack([np.interp(freqs, freqs * warp, row, right=0.0) for row in _FB])


def log_mel(x: np.ndarray, warp: float = 1.0) -> np.ndarray:
    """[frames, 40] log-mel, frame i's window centred on sample i·HOP."""
    x = np.asarray(x, np.float64).reshape(-1)
    n = n_frames(len(x))
    pad = np.concatenate([np.zeros(WIN // 2), x, np.zeros(WIN)])
    idx = np.arange(n)[:, None] * HOP + np.arange(WIN)[None, :]
    frames = pad[idx] * np.hanning(WIN)[None, :]
    p = np.abs(np.fft.rfft(frames, 512, axis=1)) ** 2
    return np.log(p @ _warped_fb(warp).T + 1e-8)


def features(x: np.ndarray, warp: float = 1.0) -> np.ndarray:
    """[frames, 360] causal, mean-normalised context stacks (module docstring)."""
    m = log_mel(x, warp)
    out = np.empty_like(m)
    mean = m[0].copy()
    for i in range(len(m)):
        a = 1.0 / min(i + 1.0, TAU_FRAMES)
        mean += a * (m[i] - mean)
        out[i] = m[i] - mean
    n = len(out)
    cols = [out[np.clip(np.arange(n) + o, 0, n - 1)] for o in CONTEXT]
    for c, o in zip(cols, CONTEXT):
        c[: max(0, -o)] = 0.0  # before the start: nothing heard yet
    return np.concatenate(cols, axis=1).astype(np.float32)


# ------------------------------------------------------------------ labels
_DECODER: Any = None


def align(x: np.ndarray, text: str) -> np.ndarray | None:
    """Per master frame, the phone id force-aligned to ``text`` (None when
    the aligner fails). Filler words and pauses are silence."""
    global _DECODER
    from ..intelligibility import normalise_text

    if _DECODER is None:
        from pocketsphinx import Decoder

        _DECODER = Decoder(samprate=SR, loglevel="FATAL", bestpath=False)
    d = _DECODER
    x = np.asarray(x, np.float32)
    pcm = (np.clip(x / max(1.0, float(np.max(np.abs(x)))), -1, 1) * 32767).astype(np.int16).tobytes()
    try:
        d.set_align_text(" ".join(normalise_text(text)))
        d.start_utt(); d.process_raw(pcm, full_utt=True); d.end_utt()
        d.set_alignment()
        d.start_utt(); d.process_raw(pcm, full_utt=True); d.end_utt()
        al = d.get_alignment()
    except Exception:  # noqa: BLE001 - a word outside the dictionary, an aligner failure
        return None
    if al is None:
        return None
    ps = np.zeros(len(x) // 160 + 2, np.int64)
    for w in al:
        for p in w:
            name = re.sub(r"\d", "", p.name)
            ps[p.start: p.start + p.duration] = _PHONE_ID.get(name, 0)
    k = np.clip(np.round((np.arange(n_frames(len(x))) * HOP / SR - 0.0128) / 0.01).astype(int), 0, len(ps) - 1)
    return ps[k]


# ------------------------------------------------------------------ model
class PhoneModel:
    """The trained classifier in numpy (weights from :func:`train`)."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self.w = {k: np.asarray(v, np.float32) for k, v in weights.items()}
        self.digest = ""  # set by load()

    def bottleneck(self, feats: np.ndarray) -> np.ndarray:
        w = self.w
        h = (feats - w["mu"]) / w["sd"]
        h = np.maximum(h @ w["w1"].T + w["b1"], 0.0)
        return h @ w["w2"].T + w["b2"]

    def posteriors(self, feats: np.ndarray) -> np.ndarray:
        w = self.w
        z = np.maximum(self.bottleneck(feats), 0.0) @ w["w3"].T + w["b3"]
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def save(self, path: Path) -> None:
        np.savez_compressed(path, **self.w)

    @classmethod
    def load(cls, path: Path) -> "PhoneModel":
        """The model saved at ``path``; its ``digest`` names the file's bytes."""
        blob = Path(path).read_bytes()
        with np.load(io.BytesIO(blob)) as z:
            model = cls({k: z[k] for k in z.files})
        model.digest = hashlib.sha256(blob).hexdigest()[:16]
        return model


def train(audio: Sequence[np.ndarray], labels: Sequence[np.ndarray], steps: int = 12000,
          seed: int = 0, warps: Sequence[float] = (1.0,), dropout: float = 0.3, hidden: int = 512) -> tuple[PhoneModel, dict[str, float]]:
    """Train the MLP on (audio, per-frame phone ids); returns the model and
    its training frame accuracy."""
    import torch

    torch.manual_seed(seed)
    X = np.concatenate([features(a, w) for w in warps for a in audio])
    Y = np.concatenate([y for _ in warps for y in labels])
    mu, sd = X.mean(axis=0), X.std(axis=0) + 1e-3
    Xt = torch.from_numpy((X - mu) / sd)
    Yt = torch.from_numpy(Y)
    net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], hidden), torch.nn.ReLU(), torch.nn.Dropout(dropout),
                              torch.nn.Linear(hidden, 64), torch.nn.ReLU(), torch.nn.Linear(64, len(PHONES)))
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        i = torch.randint(0, len(Xt), (512,), generator=g)
        loss = torch.nn.functional.cross_entropy(net(Xt[i]), Yt[i], label_smoothing=0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    net.eval()
    with torch.no_grad():
        acc = float((net(Xt).argmax(1) == Yt).float().mean())
    l1, l2, l3 = net[0], net[3], net[5]
    w = {"mu": mu, "sd": sd, "w1": l1.weight, "b1": l1.bias, "w2": l2.weight, "b2": l2.bias,
         "w3": l3.weight, "b3": l3.bias}
    w = {k: (v.detach().numpy() if hasattr(v, "detach") else v) for k, v in w.items()}
    return PhoneModel(w), {"train_frame_accuracy": acc, "frames": float(len(Y))}


# ------------------------------------------------------- per student step
def step_content(model: PhoneModel, x: np.ndarray) -> np.ndarray:
    """The content key ``world2`` searches (square-root posteriors), per
    student step of ``x`` (hop 64 at 16 kHz, one per whole hop): step t's
    window ends at sample (t + 1)·HOP, so step t ≥ 1 carries frame t − 1;
    step 0 has heard nothing yet (its context is all zeros). Exactly what
    :func:`build_content` computes in a runtime graph."""
    x = np.asarray(x, np.float32).reshape(-1)
    T = len(x) // HOP
    f = features(x)
    rows = np.concatenate([np.zeros((1, f.shape[1]), np.float32), f[: max(T - 1, 0)]])[:T]
    return np.sqrt(model.posteriors(rows)).astype(np.float32)


def build_content(model: PhoneModel, b: Any, x: Any, voicing: Any) -> Any:
    """:func:`step_content` as runtime ops on a ``voiceskin.graph.GraphBuilder``
    (``x``: the graph's input at 16 kHz, hop 64; ``voicing``: any finite
    per-step value, here the PITCH_YIN voicing, only to make a constant):
    FRAME → STFT_MAG (Hann, 512) → squared → LINEAR(mel, + 1e-8) → LOG, minus a
    RUNNING_MEAN that starts at step 1; the 9 context frames are three
    causal CONV1Ds (dilations 8, 4, 2) holding the MLP's first layer, then
    its other two layers and the square root of the softmax as
    e^{z/2 − ln Σ e^z / 2} (ACT exp). Returns the [40] content value."""
    from voiceskin.graph import Act

    if b.hop != HOP:
        raise ValueError(f"the content key needs hop {HOP}, the graph has {b.hop}")
    w = {k: np.asarray(v, np.float64) for k, v in model.w.items()}
    f32 = lambda a: np.ascontiguousarray(np.asarray(a, np.float32))  # noqa: E731
    M = N_MELS
    fr = b.frame(x, WIN)
    mag = b.stft_mag(fr, f32(np.hanning(WIN)), 512)
    # ln(p + 1e-8) as in log_mel: the 1e-8 is the LINEAR's bias (LOG's eps floors instead)
    lm = b.log(b.linear(b.mul(mag, mag), f32(_FB), f32(np.full(M, 1e-8))), 1e-30)
    one = b.affine(voicing, f32([0.0]), f32([1.0]))
    tap = np.zeros((1, 1, 2), np.float32)
    tap[0, 0, 0] = 1.0                                   # y_t = x_{t−1}: 0 at step 0, then 1
    after0 = b.conv1d(one, tap, f32([0.0]))
    mean = b.running_mean(lm, after0, np.zeros(M, np.float32), 1.0, TAU_FRAMES, 0.5)
    dev = b.mul(b.add(lm, b.affine(mean, f32(np.full(M, -1.0)), f32(np.zeros(M)))),
                b.linear(after0, f32(np.ones((M, 1)))))
    W1 = w["w1"] / w["sd"][None, :]                      # the standardisation folded in
    b1 = w["b1"] - W1 @ w["mu"]
    block = {o: W1[:, j * M:(j + 1) * M] for j, o in enumerate(CONTEXT)}
    H = W1.shape[0]
    h = None
    for dil, K in ((8, 6), (4, 4), (2, 2)):
        Wc = np.zeros((H, M, K))
        for k in range(K):
            o = -dil * (K - 1 - k)
            if o in block:
                Wc[:, :, k] = block.pop(o)
        y = b.conv1d(dev, f32(Wc), f32(b1 if h is None else np.zeros(H)), dilation=dil)
        h = y if h is None else b.add(h, y)
    assert not block, f"context offsets {sorted(block)} not covered"
    h = b.act(h, Act.RELU)
    h = b.act(b.linear(h, f32(w["w2"]), f32(w["b2"])), Act.RELU)
    z = b.linear(h, f32(w["w3"]), f32(w["b3"]))
    C = z.size
    lse = b.log(b.linear(b.act(z, Act.EXP), f32(np.ones((1, C)))), 1e-30)
    u = b.add(b.affine(z, f32(np.full(C, 0.5)), f32(np.zeros(C))), b.linear(lse, f32(np.full((C, 1), -0.5))))
    return b.act(u, Act.EXP)


def frame_accuracy(model: PhoneModel, audio: Sequence[np.ndarray], labels: Sequence[np.ndarray]) -> float:
    ok = n = 0
    for a, y in zip(audio, labels):
        p = model.posteriors(features(a)).argmax(1)
        ok += int((p == y).sum())
        n += len(y)
    return ok / max(n, 1)



