"""Intelligibility: word error rate of an English recogniser against the
known sentence.

The recogniser is **pocketsphinx 5** with its US-English acoustic model,
language model and dictionary, which ship inside the wheel (no download).
It is not a good recogniser in absolute terms (on the shipped corpus it reads
slt at ~0.16 WER, rms ~0.12, awb ~0.13), but it is fixed, offline and hears
these voices; what the QA compares is the *change* in WER from the input to
the master and to each tier on the same utterances.

* :func:`transcribe` — audio (any rate; resampled to 16 kHz) → words.
* :func:`normalise_text` — the reference sentence written as the recogniser
  writes words: lower case, punctuation dropped (apostrophes inside words
  kept: ``can't``), hyphens split, digits spelled out (``10`` → ``ten``).
* :func:`word_errors` — Levenshtein distance over words (substitutions +
  deletions + insertions) and the number of reference words;
  :func:`wer` sums both over utterances (errors / reference words).

One decoder is built per process on first use and reused (building it reads
the ~30 MB model: ~0.6 s). Its live cepstral-mean normalisation would carry
its state from one utterance to the next (a system's WER then depended on
what that process decoded before); :func:`transcribe` resets it to the
model's initial CMN before every utterance, so a transcript depends on the
utterance alone.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Sequence

import numpy as np

__all__ = ["transcribe", "normalise_text", "word_errors", "wer", "RECOGNISER"]

#: what the QA reports as its recogniser
RECOGNISER = "pocketsphinx 5 en-us (acoustic + language model shipped in the wheel)"

_SR = 16000
_DECODER: Any = None
_CMN0: str = ""


def _decoder() -> Any:
    global _DECODER, _CMN0
    if _DECODER is None:
        from pocketsphinx import Decoder

        _DECODER = Decoder(samprate=_SR, loglevel="FATAL")
        _CMN0 = _DECODER.get_cmn()
    return _DECODER


def transcribe(audio: np.ndarray, sr: int) -> str:
    """The recogniser's best hypothesis for one utterance (lower-case words
    separated by single spaces; empty string when it hears nothing)."""
    x = np.asarray(audio, np.float32).reshape(-1)
    if sr != _SR:
        from .masters.base import resample

        x = resample(x, sr, _SR)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak > 1.0:  # int16 conversion must not wrap
        x = x / peak
    pcm = (np.clip(x, -1.0, 1.0) * 32767.0).astype(np.int16).tobytes()
    d = _decoder()
    d.set_cmn(_CMN0)  # live CMN starts from the model's prior every time: no carry-over
    d.start_utt()
    d.process_raw(pcm, full_utt=True)
    d.end_utt()
    h = d.hyp()
    if h is None:
        return ""
    words = [re.sub(r"\(\d+\)$", "", w) for w in h.hypstr.split()]
    return " ".join(w for w in words if w and not w.startswith(("<", "[")))


_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def _number_words(n: int) -> list[str]:
    """Cardinal number in words as CMUdict spells them (0 … 999,999)."""
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        return [_TENS[n // 10]] + ([_ONES[n % 10]] if n % 10 else [])
    if n < 1000:
        return [_ONES[n // 100], "hundred"] + (_number_words(n % 100) if n % 100 else [])
    if n < 1_000_000:
        return _number_words(n // 1000) + ["thousand"] + (_number_words(n % 1000) if n % 1000 else [])
    return list(str(n))


def normalise_text(s: str) -> list[str]:
    """Words of ``s`` as the recogniser writes them (see module docstring)."""
    s = s.lower().replace("\u2019", "'")
    s = re.sub(r"(\d),(\d{3})", r"\1\2", s)  # 1,000 -> 1000
    out: list[str] = []
    for tok in re.split(r"[\s\-\u2013\u2014/]+", s):
        tok = re.sub(r"[^a-z0-9']", "", tok).strip("'")
        if not tok:
            continue
        m = re.fullmatch(r"(\d+)(?:st|nd|rd|th)?", tok)
        if m:
            out += _number_words(int(m.group(1)))
        else:
            out.append(tok)
    return out


def word_errors(ref: str | Sequence[str], hyp: str | Sequence[str]) -> tuple[int, int]:
    """(word edits to turn ``hyp`` into ``ref``, reference words). Strings
    are normalised with :func:`normalise_text` first."""
    r = normalise_text(ref) if isinstance(ref, str) else list(ref)
    h = normalise_text(hyp) if isinstance(hyp, str) else list(hyp)
    prev = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        cur = [i] + [0] * len(h)
        for j in range(1, len(h) + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r[i - 1] != h[j - 1]))
        prev = cur
    return prev[len(h)], len(r)


def wer(pairs: Iterable[tuple[int, int]]) -> float | None:
    """Corpus WER from per-utterance (errors, words): Σ errors / Σ words."""
    e = w = 0
    for a, b in pairs:
        e += a
        w += b
    return e / w if w else None
