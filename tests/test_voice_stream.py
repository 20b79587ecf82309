"""Streaming behaviour of voiceskin.Voice through the real C library.

* streamed output (random block sizes 1..4096, in place or not) equals the
  one-call output bit for bit, at host rates 16, 44.1, 48 and 96 kHz;
* latency honesty: with identity graphs the output is the input delayed by
  exactly ``Voice.latency`` frames (to within the resampler's pass-band
  error), the same for every tier; one frame off is clearly worse;
* tier switches crossfade (no step above the steady-state maximum), mix and
  bypass ramps, reset == a fresh voice;
* odd inputs: 0 frames, ``out is x``, buffers larger than max_block,
  8 channels.

The zero-allocation proof of the audio path is the C test
native/tests/test_voice_alloc.c (a malloc interposer cannot be installed
under a running Python interpreter, which allocates constantly).
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import pytest

from conftest import identity_tier, linear_tier
from voiceskin.format import BundleSpec, write_bundle

HOST_RATES = [16000, 44100, 48000, 96000]


@pytest.fixture(scope="module")
def tiers_bundle(lib: object) -> Iterator[object]:
    """Three tiers: identity 16k/64, gain 0.5 at 24k/96, identity 16k/128."""
    from voiceskin import Bundle

    spec = BundleSpec("test.stream", "Stream", "1.0.0", [
        identity_tier("low", 64, 16000),
        linear_tier("medium", 96, 0.5, 24000),
        identity_tier("high", 128, 16000),
    ])
    with Bundle.from_bytes(write_bundle(spec)) as b:
        yield b


def _noise(n: int, channels: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-0.8, 0.8, size=(n, channels)).astype(np.float32)
    return x[:, 0].copy() if channels == 1 else x


def _multisine(n: int, rate: int, fmax: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate
    f = rng.uniform(40.0, fmax, size=16)
    ph = rng.uniform(0, 2 * np.pi, size=16)
    return (0.9 * np.sin(2 * np.pi * f[:, None] * t[None, :] + ph[:, None]).mean(0)
            ).astype(np.float32)


def _stream(voice: object, x: np.ndarray, rng: np.random.Generator,
            inplace: bool = False) -> np.ndarray:
    y = x.copy() if inplace else np.empty_like(x)
    i = 0
    while i < len(x):
        k = int(rng.integers(1, 4097))
        if inplace:
            voice.process_into(y[i:i + k], y[i:i + k])  # type: ignore[attr-defined]
        else:
            voice.process_into(x[i:i + k], y[i:i + k])  # type: ignore[attr-defined]
        i += k
    return y


def _rel_err(x: np.ndarray, y: np.ndarray, d: int, start: int) -> float:
    ref = np.concatenate([np.zeros(d, np.float32), x])[: len(x)] if d >= 0 else x[-d:]
    e = y[start:].astype(np.float64) - ref[start: len(y)]
    return float(np.sqrt((e ** 2).sum() / (ref[start: len(y)].astype(np.float64) ** 2).sum()))


@pytest.mark.parametrize("rate", HOST_RATES)
@pytest.mark.parametrize("channels", [1, 2])
def test_streaming_equals_one_call(tiers_bundle: object, rate: int, channels: int) -> None:
    from voiceskin import Voice

    x = _noise(rate, channels, seed=rate + channels)
    one = Voice(tiers_bundle, sample_rate=rate, channels=channels, max_block=512,  # type: ignore[arg-type]
                tier=1).process(x)
    rng = np.random.default_rng(7)
    for inplace in (False, True):
        v = Voice(tiers_bundle, sample_rate=rate, channels=channels, max_block=512,  # type: ignore[arg-type]
                  tier=1)
        y = _stream(v, x, rng, inplace)
        assert np.array_equal(one, y), (
            f"{rate} Hz x{channels} inplace={inplace}: "
            f"{int((one != y).sum())} samples differ")
    assert np.isfinite(one).all()


@pytest.mark.parametrize("rate", HOST_RATES)
def test_latency_is_honest(tiers_bundle: object, rate: int) -> None:
    from voiceskin import Voice

    n = rate // 2
    x = _multisine(n, rate, 0.3 * min(rate, 16000), seed=rate)
    latencies = set()
    for tier, gain in ((0, 1.0), (1, 0.5), (2, 1.0)):
        v = Voice(tiers_bundle, sample_rate=rate, tier=tier)  # type: ignore[arg-type]
        lat = v.latency
        latencies.add(lat)
        y = _stream(v, x, np.random.default_rng(tier)) / np.float32(gain)
        start = lat + rate // 50
        e0 = _rel_err(x, y, lat, start)
        assert e0 < 2e-3, f"{rate} Hz tier {tier}: error {e0:.2e} at latency {lat}"
        assert _rel_err(x, y, lat - 1, start) > 20 * e0
        assert _rel_err(x, y, lat + 1, start) > 20 * e0
    assert len(latencies) == 1, f"latency differs between tiers: {latencies}"


def test_latency_budget_16k_hop64(make_bytes: object) -> None:
    """One 16 kHz / hop-64 tier: at most 10 ms of latency at every host rate."""
    from voiceskin import Bundle, Voice

    with Bundle.from_bytes(make_bytes("identity", hop=64)) as b:  # type: ignore[operator]
        for rate in (8000, 16000, 22050, 44100, 48000, 96000, 192000):
            lat = Voice(b, sample_rate=rate).latency
            assert lat * 1000.0 / rate <= 10.0, f"{rate} Hz: {lat} frames"
        assert Voice(b, sample_rate=16000).latency == 63  # hop buffering only


def _sine(start: int, n: int, rate: int) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * 220.0 * np.arange(start, start + n) / rate)
            ).astype(np.float32)


def _level(y: np.ndarray, start: int, lat: int, rate: int) -> float:
    x = _sine(start - lat, len(y), rate).astype(np.float64)
    return float((x * y).sum() / (x * x).sum())


@pytest.mark.parametrize("rate", [44100, 48000])
def test_tier_switch_is_continuous(tiers_bundle: object, rate: int) -> None:
    from voiceskin import Voice

    v = Voice(tiers_bundle, sample_rate=rate, max_block=256)  # type: ignore[arg-type]
    rng = np.random.default_rng(3)
    seg = rate // 5
    pos = 0

    def feed() -> np.ndarray:
        nonlocal pos
        x = _sine(pos, seg, rate)
        pos += seg
        return _stream(v, x, rng)

    feed()
    steady = float(np.abs(np.diff(feed())).max())
    for tier, gain in (("medium", 0.5), ("high", 1.0), ("medium", 0.5), ("low", 1.0)):
        v.tier = tier
        assert v.tier_name == tier
        y = feed()
        step = float(np.abs(np.diff(y)).max())
        assert step <= 1.3 * steady, f"switch to {tier}: step {step:.4f} vs {steady:.4f}"
        tail = rate // 25
        lv = _level(y[-tail:], pos - tail, v.latency, rate)
        assert abs(lv - gain) < 2e-4, f"after switch to {tier}: level {lv:.4f}"


def test_mix_and_bypass(tiers_bundle: object) -> None:
    from voiceskin import Voice

    rate = 48000
    v = Voice(tiers_bundle, sample_rate=rate, tier="medium")  # type: ignore[arg-type]
    lat, seg, pos = v.latency, rate // 10, 0
    rng = np.random.default_rng(5)

    def feed() -> np.ndarray:
        nonlocal pos
        x = _sine(pos, seg, rate)
        pos += seg
        return _stream(v, x, rng)

    feed()
    y = feed()
    assert abs(_level(y, pos - seg, lat, rate) - 0.5) < 2e-4
    v.bypass = True
    y = feed()
    # bypassed: exactly the dry input delayed by the same latency
    dry = _sine(pos - seg - lat, seg, rate)
    assert np.array_equal(y[rate // 100:], dry[rate // 100:])
    assert float(np.abs(np.diff(y)).max()) < 0.02  # ramped, no click
    v.bypass = False
    v.mix = 0.5
    y = feed()
    half = seg // 2
    assert abs(_level(y[half:], pos - (seg - half), lat, rate) - 0.75) < 2e-4
    v.mix = 0.0
    y = feed()
    assert np.array_equal(y[rate // 100:], _sine(pos - seg - lat, seg, rate)[rate // 100:])


def test_reset_equals_fresh_voice(tiers_bundle: object) -> None:
    from voiceskin import Voice

    x = _noise(24000, 2, seed=11)
    a = Voice(tiers_bundle, sample_rate=44100, channels=2, tier=0)  # type: ignore[arg-type]
    a.process(x)
    a.tier = 2
    a.process(x[:100])  # switch under way
    a.reset()
    assert a.tier == 2
    fresh = Voice(tiers_bundle, sample_rate=44100, channels=2, tier=2)  # type: ignore[arg-type]
    assert np.array_equal(a.process(x), fresh.process(x))


def test_odd_inputs(tiers_bundle: object) -> None:
    from voiceskin import Voice

    # 0 frames, mono and 8 channels
    v8 = Voice(tiers_bundle, sample_rate=48000, channels=8, max_block=64)  # type: ignore[arg-type]
    assert v8.process(np.zeros((0, 8), np.float32)).shape == (0, 8)
    v1 = Voice(tiers_bundle, sample_rate=48000)  # type: ignore[arg-type]
    assert v1.process(np.zeros(0, np.float32)).shape == (0,)

    # 8 channels, one call far larger than max_block == streamed in place
    x = _noise(20000, 8, seed=2)
    one = v8.process(x)
    w = Voice(tiers_bundle, sample_rate=48000, channels=8, max_block=64)  # type: ignore[arg-type]
    buf = x.copy()
    w.process_into(buf, buf)
    assert np.array_equal(one, buf)
    # every channel carries the same converted voice ...
    assert np.array_equal(one, np.repeat(one[:, :1], 8, axis=1))
    # ... which is the channel mean (identity tier, band-limited input)
    xs = np.stack([_multisine(20000, 48000, 4000.0, seed=c) for c in range(8)], axis=1)
    y = Voice(tiers_bundle, sample_rate=48000, channels=8).process(xs)  # type: ignore[arg-type]
    mean = xs.mean(axis=1)
    assert _rel_err(mean, y[:, 5], v8.latency, v8.latency + 1000) < 2e-3
