"""The QA pitch tracker (Praat's autocorrelation method via parselmouth)
reads a signal of known F0 on the 5 ms grid that f0_errors compares."""
from __future__ import annotations

import numpy as np
import pytest

qa = pytest.importorskip("voiceskin_tooling.qa")


def _voice(f0: np.ndarray, sr: int = 16000) -> np.ndarray:
    """Harmonic signal (12 harmonics, 1/k roll-off) following f0 per sample."""
    ph = 2 * np.pi * np.cumsum(f0) / sr
    return (0.1 * sum(np.sin(k * ph) / k for k in range(1, 13))).astype(np.float32)


def test_praat_tracker_reads_a_known_glide_on_the_5ms_grid() -> None:
    sr = 16000
    n = 2 * sr
    t = np.arange(n) / sr
    f0 = 120.0 * 2 ** (t / 2.0)                     # 120 -> 240 Hz over 2 s
    x = _voice(f0)
    x[: sr // 4] = 0.0                              # 250 ms of silence first
    got = qa.f0_track(x, sr)
    assert len(got) == int(n / sr / 0.005) + 1
    grid = np.arange(len(got)) * 0.005
    truth = np.interp(grid, t, f0)
    voiced = got > 0
    assert not voiced[: int(0.2 / 0.005)].any()     # silence is unvoiced
    assert voiced[int(0.35 / 0.005): int(1.9 / 0.005)].all()
    cents = np.abs(1200 * np.log2(got[voiced] / truth[voiced]))
    assert np.median(cents) < 5 and np.mean(cents > 100) == 0
    # and f0_errors on a copy an octave up sees 1200 cents everywhere
    up = qa.f0_track(_voice(2 * f0), sr)
    e = qa.f0_errors(got, up)
    assert e["voiced_both"] > 300 and np.median(e["cents"]) == pytest.approx(1200, abs=10)


def test_praat_tracker_handles_very_short_input() -> None:
    assert not qa.f0_track(np.zeros(100, np.float32)).any()
