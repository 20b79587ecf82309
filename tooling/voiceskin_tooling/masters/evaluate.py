"""Measure what a master does: F0 statistics and spectral distance to the
target, before and after conversion (no speaker-embedding model needed).

``python -m voiceskin_tooling.masters.evaluate [--master world]`` fits the
master on the shipped corpus' target speaker and prints, per input speaker:
log-F0 mean (Hz) and spread before/after, and the long-term log-mel distance
to the target's long-term log-mel spectrum (dB RMS over 40 mel bands,
80 Hz – 7.6 kHz, frames within 30 dB of the utterance peak) before/after,
and — when resemblyzer is installed — the cosine similarity of the speaker
embedding (mean over the utterances) to the target's, before/after.
"""
from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .base import Master


def mel_triangles(freqs: np.ndarray, n_mels: int = 40, fmin: float = 80.0, fmax: float = 7600.0) -> np.ndarray:
    """[n_mels, len(freqs)] triangular HTK-mel filters (peak 1) over
    fmin..min(fmax, freqs[-1]) on the frequency grid ``freqs`` (Hz); a band
    narrower than the grid's spacing gets its nearest bin."""
    def hz2mel(f: np.ndarray | float) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    freqs = np.asarray(freqs, dtype=np.float64)
    mels = np.linspace(hz2mel(fmin), hz2mel(min(fmax, float(freqs[-1]))), n_mels + 2)
    hz = 700.0 * (10 ** (mels / 2595.0) - 1.0)
    fb = np.zeros((n_mels, len(freqs)))
    for m in range(n_mels):
        lo, c, hi = hz[m], hz[m + 1], hz[m + 2]
        fb[m] = np.clip(np.minimum((freqs - lo) / (c - lo), (hi - freqs) / (hi - c)), 0, None)
        if fb[m].sum() == 0:
            fb[m, int(np.argmin(np.abs(freqs - c)))] = 1.0
    return fb


def mel_fb(sr: int, n_fft: int, n_mels: int = 40, fmin: float = 80.0, fmax: float = 7600.0) -> np.ndarray:
    """[n_mels, n_fft/2+1] triangular HTK-mel filters over fmin..min(fmax, sr/2)."""
    return mel_triangles(np.linspace(0, sr / 2, n_fft // 2 + 1), n_mels, fmin, fmax)


def long_term_logmel(audio: Sequence[np.ndarray], sr: int, n_fft: int = 512, hop: int = 128) -> np.ndarray:
    """Mean log-mel (dB) over active frames of all recordings, level-normalised."""
    fb = mel_fb(sr, n_fft)
    win = np.hanning(n_fft)
    rows = []
    for x in audio:
        if len(x) < n_fft:
            continue
        n = 1 + (len(x) - n_fft) // hop
        frames = np.stack([x[i * hop: i * hop + n_fft] * win for i in range(n)])
        p = np.abs(np.fft.rfft(frames, axis=1)) ** 2
        e = 10 * np.log10(p.sum(axis=1) + 1e-12)
        act = e > e.max() - 30
        rows.append(10 * np.log10(p[act] @ fb.T + 1e-10))
    lm = np.concatenate(rows).mean(axis=0)
    return lm - lm.mean()


def f0_stats(f0: np.ndarray) -> tuple[float, float]:
    v = f0[f0 > 0]
    if len(v) == 0:
        return float("nan"), float("nan")
    l = np.log(v)
    return float(math.exp(l.mean())), float(l.std())


@dataclass
class SpeakerResult:
    speaker: str
    f0_in_hz: float
    f0_out_hz: float
    sigma_in: float
    sigma_out: float
    logmel_in_db: float
    logmel_out_db: float
    seconds: float
    convert_seconds: float
    sim_in: float = float("nan")
    sim_out: float = float("nan")


class _Similarity:
    """resemblyzer speaker-embedding cosine similarity (if installed)."""

    def __init__(self, target: list[np.ndarray], sr: int) -> None:
        try:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                from resemblyzer import VoiceEncoder, preprocess_wav
            self._enc = VoiceEncoder("cpu", verbose=False)
            self._pre = preprocess_wav
            self.sr = sr
            self.target = self._embed(target)
        except Exception:  # noqa: BLE001 - optional
            self._enc = None

    def _embed(self, xs: list[np.ndarray]) -> np.ndarray:
        e = np.mean([self._enc.embed_utterance(self._pre(x, source_sr=self.sr)) for x in xs], axis=0)
        return e / np.linalg.norm(e)

    def __call__(self, xs: list[np.ndarray]) -> float:
        if self._enc is None:
            return float("nan")
        return float(self._embed(xs) @ self.target)


def measure(master: Master, inputs: dict[str, list[np.ndarray]], target: list[np.ndarray],
            sr: int) -> tuple[dict[str, float], list[SpeakerResult]]:
    from .world import analyze

    tgt_lm = long_term_logmel(target, sr)
    sim = _Similarity(target, sr)
    tf0 = np.concatenate([analyze(x, sr, master.hop)[0] for x in target])
    t_hz, t_sig = f0_stats(tf0)
    res = []
    for spk, xs in inputs.items():
        t0 = time.perf_counter()
        outs = [master.convert(x, sr) for x in xs]
        dt = time.perf_counter() - t0
        src_f0 = np.concatenate([o.features["source_f0"] if o.features and "source_f0" in o.features
                                 else analyze(x, sr, master.hop)[0] for o, x in zip(outs, xs)])
        out_f0 = np.concatenate([analyze(o.audio, o.sample_rate, master.hop)[0] for o in outs])
        i_hz, i_sig = f0_stats(src_f0)
        o_hz, o_sig = f0_stats(out_f0)
        d_in = float(np.sqrt(np.mean((long_term_logmel(xs, sr) - tgt_lm) ** 2)))
        d_out = float(np.sqrt(np.mean((long_term_logmel([o.audio for o in outs], sr) - tgt_lm) ** 2)))
        res.append(SpeakerResult(spk, i_hz, o_hz, i_sig, o_sig, d_in, d_out,
                                 sum(len(x) for x in xs) / sr, dt, sim(xs), sim([o.audio for o in outs])))
    return {"f0_hz": t_hz, "sigma": t_sig}, res


def main(argv: list[str] | None = None) -> int:
    from ..corpus import read_audio
    from ..corpus_gen import shipped_corpus
    from . import get_master

    ap = argparse.ArgumentParser(description="measure a master on the shipped corpus")
    ap.add_argument("--master", default="world")
    ap.add_argument("--per-speaker", type=int, default=4, help="utterances per input speaker")
    ap.add_argument("--set", action="append", default=[], help="master setting key=value (float)")
    a = ap.parse_args(argv)
    settings = {}
    for kv in a.set:
        k, _, v = kv.partition("=")
        try:
            settings[k] = float(v)
        except ValueError:
            settings[k] = v
    info = shipped_corpus()
    sr = 16000
    target = [read_audio(f, sr)[0] for f in sorted(info.target_dir.glob("*.flac"))]
    m = get_master(a.master, **settings)
    t0 = time.perf_counter()
    m.fit(target, sr)
    print(f"fit: {time.perf_counter() - t0:.1f} s; config target: {m.config().get('target', {}).get('formant_scale')}")
    inputs = {}
    for spk in info.train_speakers + info.heldout_speakers:
        files = sorted((info.inputs[0] / spk).glob("*.flac"))[: a.per_speaker]
        inputs[spk] = [read_audio(f, sr)[0] for f in files]
    tstats, res = measure(m, inputs, target, sr)
    print(f"target: F0 {tstats['f0_hz']:.1f} Hz, sigma {tstats['sigma']:.3f}")
    print(f"{'speaker':12s} {'split':7s} {'F0 in':>7s} {'F0 out':>7s} {'sd in':>6s} {'sd out':>6s} "
          f"{'mel in':>7s} {'mel out':>7s} {'sim in':>6s} {'sim out':>7s} {'xRT':>5s}")
    for r in res:
        split = "heldout" if r.speaker in info.heldout_speakers else "train"
        print(f"{r.speaker:12s} {split:7s} {r.f0_in_hz:7.1f} {r.f0_out_hz:7.1f} {r.sigma_in:6.3f} "
              f"{r.sigma_out:6.3f} {r.logmel_in_db:7.2f} {r.logmel_out_db:7.2f} {r.sim_in:6.3f} {r.sim_out:7.3f} "
              f"{r.seconds / r.convert_seconds:5.1f}")
    for split in ("train", "heldout"):
        sel = [r for r in res if (r.speaker in info.heldout_speakers) == (split == "heldout")]
        print(f"mean {split}: log-mel distance to target {np.mean([r.logmel_in_db for r in sel]):.2f} dB "
              f"-> {np.mean([r.logmel_out_db for r in sel]):.2f} dB; "
              f"|log F0 mean - target| {np.mean([abs(math.log(r.f0_in_hz / tstats['f0_hz'])) for r in sel]):.3f} "
              f"-> {np.mean([abs(math.log(r.f0_out_hz / tstats['f0_hz'])) for r in sel]):.3f}; "
              f"speaker similarity {np.mean([r.sim_in for r in sel]):.3f} -> {np.mean([r.sim_out for r in sel]):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
