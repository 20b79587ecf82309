"""The even schedule through the SDK (``Voice(..., schedule="even")``,
docs/abi.md "Even schedule") on the real student graphs: the 4-tier family
benchmarks/bench_runtime.py packs (random weights; 40-odd nodes per step:
STFT, YIN, LINEAR, CONV1D, GRU, HARMONIC, NOISE ...).

For each tier, at several host rates and buffer sizes (odd ones included,
and buffers longer than max_block), the even voice's output is the default
voice's delayed by exactly the extra latency, bit for bit, and zero before
it; the extra latency is one model hop (ceil(hop * host / model) frames).
A tier switch and mix < 1 on the way change nothing about that."""

from __future__ import annotations

import math
from typing import Iterator

import numpy as np
import pytest

from test_hostile_audio import family_bundle_bytes
from voiceskin import Bundle, Voice


@pytest.fixture(scope="module")
def family(lib: object) -> Iterator[Bundle]:
    with Bundle.from_bytes(family_bundle_bytes()) as b:
        yield b


def _signal(n: int, rate: int) -> np.ndarray:
    t = np.arange(n) / rate
    f0 = 130 + 50 * np.sin(2 * np.pi * 0.7 * t)
    ph = 2 * np.pi * np.cumsum(f0) / rate
    x = sum(np.sin(k * ph) / k for k in range(1, 12)) * 0.2
    noise = np.random.default_rng(1).standard_normal(n) * 0.02
    return (x + noise).astype(np.float32)


def _run(v: Voice, x: np.ndarray, block: int, switch_at: int | None, tier: int) -> np.ndarray:
    y = np.empty_like(x)
    for i in range(0, len(x), block):
        if switch_at is not None and i >= switch_at and v.tier != tier:
            v.tier = tier
        v.process_into(x[i:i + block], y[i:i + block])
    return y


@pytest.mark.parametrize("rate,block", [(48000, 1), (48000, 37), (48000, 256), (44100, 256),
                                        (44100, 1000), (22050, 4096), (96000, 333)])
def test_even_is_default_delayed(family: Bundle, rate: int, block: int) -> None:
    n = int(rate * 0.35) if block > 1 else rate // 10
    x = _signal(n, rate)
    hop_frames = max(math.ceil(t.hop_samples * rate / t.model_sample_rate) for t in family.tiers)
    for tier in range(len(family.tiers)):
        # the last tier also switches to tier 0 a third of the way in
        switch = n // 3 if tier == len(family.tiers) - 1 else None
        with Voice(family, sample_rate=rate, max_block=1024, tier=tier, mix=0.8) as lo, \
                Voice(family, sample_rate=rate, max_block=1024, tier=tier, mix=0.8,
                      schedule="even") as ev:
            d = ev.latency - lo.latency
            assert d == hop_frames, (rate, lo.latency, ev.latency)
            y0 = _run(lo, x, block, switch, 0)
            y1 = _run(ev, x, block, switch, 0)
            assert not y1[:d].any()
            assert np.array_equal(y1[d:].view(np.uint32), y0[:n - d].view(np.uint32)), \
                (rate, block, tier, int(np.sum(y1[d:] != y0[:n - d])))
            assert np.abs(y0).max() > 1e-3  # the graphs did produce something


def test_schedule_survives_reset_and_bypass(family: Bundle) -> None:
    x = _signal(24000, 48000)
    with Voice(family, tier=1, schedule="even") as a, Voice(family, tier=1, schedule="even") as b:
        a.process(x[:5000])
        a.reset()
        assert np.array_equal(a.process(x), b.process(x))
    with Voice(family, tier=1, schedule="even", bypass=True) as v:
        y = v.process(x)
        assert np.array_equal(y[v.latency:], x[:len(x) - v.latency])
