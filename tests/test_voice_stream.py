"""Streaming behaviour of voiceskin.Voice through the real C library.

* streamed output (random block sizes 1..4096, in place or not) equals the
  one-call output bit for bit, at host rates 16, 44.1, 48 and 96 kHz;
* latency honesty: with identity graphs the output is the input delayed by
  exactly ``Voice.latency`` frames (to within the resampler's pass-band
  error), the same for every tier; one frame off is clearly worse;
* tier switches crossfade (no step above the steady-state maximum), mix and
  bypass ramps, reset == a fresh voice;
* odd inputs: 0 frames, ``out is x``, buffers larger than max_block,
  8 channels;
* zero allocations in ``vsk_voice_process`` on the SDK's call path: a child
  interpreter runs with an LD_PRELOADed malloc shim armed only inside the
  library call (Linux; skipped without a C compiler). The C-only proof is
  native/tests/test_voice_alloc.c.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
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


# ---------------------------------------------------------------- allocation

_SHIM = r"""
#include <stddef.h>
#include <stdint.h>
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);
static volatile int armed;
static volatile long calls;
#define COUNT() do { if (armed) calls++; } while (0)
void *malloc(size_t n) { COUNT(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { COUNT(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { COUNT(); return __libc_realloc(p, n); }
void free(void *p) { if (p) COUNT(); __libc_free(p); }
void *aligned_alloc(size_t a, size_t n) { COUNT(); return __libc_memalign(a, n); }
void *memalign(size_t a, size_t n) { COUNT(); return __libc_memalign(a, n); }
int posix_memalign(void **o, size_t a, size_t n)
{ COUNT(); void *p = __libc_memalign(a, n); if (!p) return 12; *o = p; return 0; }
typedef int32_t (*process_fn)(void *, const float *, float *, uint32_t);
typedef int32_t (*open_fn)(const void *, size_t, void **);
/* Arms the counter only around the library call: no Python runs inside. */
long vt_counted_process(void *fn, void *voice, const float *in, float *out,
                        uint32_t frames, int32_t *status)
{
    calls = 0; armed = 1;
    *status = ((process_fn)fn)(voice, in, out, frames);
    armed = 0; return calls;
}
long vt_counted_open(void *fn, const void *data, size_t size, void **out,
                     int32_t *status)
{
    calls = 0; armed = 1;
    *status = ((open_fn)fn)(data, size, out);
    armed = 0; return calls;
}
"""

_CHILD = r"""
import json, sys
import cffi
import numpy as np
from voiceskin import Bundle, Voice
from voiceskin._ffi import ffi, get_lib

shim_path, bundle_path = sys.argv[1], sys.argv[2]
lib = get_lib()
sffi = cffi.FFI()
sffi.cdef('''
long vt_counted_process(void *fn, void *voice, const float *in, float *out,
                        uint32_t frames, int32_t *status);
long vt_counted_open(void *fn, const void *data, size_t size, void **out,
                     int32_t *status);''')
shim = sffi.dlopen(shim_path)
addr = lambda p: sffi.cast("void *", int(ffi.cast("uintptr_t", p)))
data = open(bundle_path, "rb").read()
st = sffi.new("int32_t *")
outp = sffi.new("void **")
seen = shim.vt_counted_open(addr(lib.vsk_bundle_open_memory), data, len(data), outp, st)
assert st[0] == 0
lib.vsk_bundle_release(ffi.cast("vsk_bundle *", int(sffi.cast("uintptr_t", outp[0]))))
bundle = Bundle.from_bytes(data)
rng = np.random.default_rng(1)
total, frames, bad = 0, 0, 0
for rate, ch in ((48000, 2), (44100, 1), (16000, 8)):
    v = Voice(bundle, sample_rate=rate, channels=ch, max_block=1024)
    fn, vp = addr(lib.vsk_voice_process), addr(v._ptr)
    x = rng.uniform(-0.5, 0.5, size=(4096, ch)).astype(np.float32)
    y = np.empty_like(x)
    for i in range(700):
        n = int(rng.integers(1, 4097))
        r = int(rng.integers(0, 100))
        if r < 6: v.tier = int(rng.integers(0, len(bundle.tiers)))
        elif r < 10: v.mix = float(rng.uniform())
        elif r < 13: v.bypass = bool(rng.integers(0, 2))
        elif r == 13: v.reset()
        elif r < 17: v.cpu_budget = (0.0, 1e-4, 1e-3)[int(rng.integers(0, 3))]
        total += shim.vt_counted_process(fn, vp, sffi.from_buffer("float[]", x),
                                         sffi.from_buffer("float[]", y), n, st)
        bad += st[0] != 0 or not np.isfinite(y[:n]).all()
        frames += n
print(json.dumps({"seen_at_open": seen, "during_process": total,
                  "frames": frames, "bad": int(bad)}))
"""


def count_process_allocations(spec: BundleSpec, tmp_path: Path) -> dict:
    """Runs _CHILD on ``spec``'s bundle under the LD_PRELOADed malloc shim;
    returns its counts (also tests/test_int8.py's, on int8 tiers)."""
    from voiceskin._ffi import library_path

    if not sys.platform.startswith("linux"):
        pytest.skip("LD_PRELOAD malloc shim needs Linux/glibc")
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.fail("no C compiler for the malloc shim: install one (Debian: apt-get install gcc; "
                    "scripts/setup.sh needs it for the library too)")
    d = Path(tmp_path)
    (d / "shim.c").write_text(_SHIM)
    shim = d / "libvtshim.so"
    r = subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", str(shim), str(d / "shim.c")],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail(f"cannot build the malloc shim: {r.stderr[-500:]}")
    bundle_path = d / "b.vskin"
    bundle_path.write_bytes(write_bundle(spec))
    env = dict(os.environ)
    env["LD_PRELOAD"] = str(shim)
    env["VOICESKIN_LIBRARY"] = library_path()
    root = Path(__file__).resolve().parents[1]
    env["PYTHONPATH"] = os.pathsep.join([str(root / "sdk"), env.get("PYTHONPATH", "")])
    r = subprocess.run([sys.executable, "-c", _CHILD, str(shim), str(bundle_path)],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res["seen_at_open"] > 0, "the shim does not see the library's allocations"
    assert res["bad"] == 0
    return res


def test_process_allocates_nothing_through_the_sdk(lib: object, tmp_path: Path) -> None:
    """Same proof as native/tests/test_voice_alloc.c, on the SDK's call path:
    a child Python runs with an LD_PRELOADed malloc shim that counts only
    while the library call runs."""
    spec = BundleSpec("test.alloc", "Alloc", "1.0.0", [
        identity_tier("low", 64, 16000),
        linear_tier("medium", 96, 0.5, 24000),
        identity_tier("high", 128, 16000),
    ])
    res = count_process_allocations(spec, tmp_path)
    assert res["during_process"] == 0, (
        f"{res['during_process']} allocation calls in {res['frames']} frames")
