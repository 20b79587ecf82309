"""Every engine adapter produces the same samples through a voice switch
(issue 17, item 2: one voice switcher, vsk_switcher in voiceskin.h).

One mono input (shipped speech, 48 kHz, 1024-frame buffers) goes through a
switch from voice A to voice B, lent before buffer ``SWITCH_BLOCK`` (so the
switch starts at the same sample everywhere), tier 0, mix 1, no bypass, the
default 100 ms warm-up. A and B are random-weight students of the same
architecture, so they have the same latency (the Unity mixer effect aligns
every voice to the largest latency; with equal latencies it adds no delay).
The same input runs through:

* the C++ adapter of Unreal and Godot (plugins/common, its test driver
  adapter_test.cpp in ``schedule`` mode: request_voice + AdapterHost::service
  before the buffer, as the game thread's tick);
* the Unity C# layer (VoiceSkinStream) under Mono
  (VoiceSkinMonoTest.cs ``samples``: SetVoice before the buffer);
* the Unity native mixer effect (audioplugin_voiceskin) driven by the C host
  the way Unity drives it (voice parameter set to 1 before the buffer);
* the library's switcher called directly through the Python SDK's cffi
  binding (the SDK has no Python wrapper for the switcher).

All four must be bit-identical: each feeds the same library build (the one
the SDK loads) the same voices and the same buffers. They must also equal
the documented behaviour computed with two plain ``voiceskin.Voice``
objects (A until B has warmed up for latency + 100 ms, the equal-power 20 ms
crossfade, then B) within 1e-6, and the switch must be audible (A and B
differ), so that four identical pass-throughs could not pass.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from test_engine_adapters import Step, _run_schedule, switch_gains
from test_engine_adapters import driver  # noqa: F401  (fixture: the C++ adapter's test driver)
from test_unity_mono import BLOCK, RATE, run_mono, speech_stereo, student_bundle
from test_unity_mono import mono_exe  # noqa: F401  (fixture: the Mono harness)
from test_unity_native_effect import built  # noqa: F401  (fixture: the Unity native effect + host)
from test_unity_native_effect import mono_voice, run_host

SWITCH_BLOCK = 40
IDS = ("test.unity.a", "test.unity.b")   # registry order = file order: index 0, 1


@pytest.fixture(scope="module")
def voices(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("switch-voices")
    (d / "a.vskin").write_bytes(student_bundle(IDS[0], 0))
    (d / "b.vskin").write_bytes(student_bundle(IDS[1], 1))
    return d


@pytest.fixture(scope="module")
def signal() -> np.ndarray:
    """About 3 s of mono speech, a whole number of 1024-frame buffers."""
    return np.ascontiguousarray(speech_stereo()[:, 0])


def cpp_adapter(driver: Path, voices: Path, x: np.ndarray, tmp: Path) -> np.ndarray:  # noqa: F811
    blocks = [np.ascontiguousarray(x[k * BLOCK:(k + 1) * BLOCK, None]) for k in range(len(x) // BLOCK)]
    steps = [Step(BLOCK, 1, 0, 1.0, 0, IDS[0] if k == 0 else IDS[1] if k == SWITCH_BLOCK else "-")
             for k in range(len(blocks))]
    y, info = _run_schedule(driver, voices, tmp, steps, blocks, RATE)
    assert info["allocs"] == 0, info
    assert info["loaded_before_block"] == [0, SWITCH_BLOCK], info
    assert info["fade_frames"] == RATE // 50 and info["warmup_extra_frames"] == RATE // 10, info
    return y


def unity_csharp(exe: Path, voices: Path, x: np.ndarray, tmp: Path) -> np.ndarray:
    inp, outp = tmp / "cs_in.f32", tmp / "cs_out.f32"
    x.tofile(inp)
    out = run_mono(exe, "samples", str(voices), IDS[0], IDS[1], str(inp), str(outp), "1", str(SWITCH_BLOCK))
    assert out["stream_errors"] == ["0"]
    assert out["lent_after"] == ["1"]   # A was handed back; only B is still lent
    return np.fromfile(outp, np.float32)


def unity_native_effect(built: Path, voices: Path, x: np.ndarray, tmp: Path) -> np.ndarray:  # noqa: F811
    out, y = run_host(built, x, f"{SWITCH_BLOCK}/0/1", tmp, folder=voices)   # parameter 0 (voice) = 1
    assert out["voices"] == ["2"]
    assert out["get"] == [f"{SWITCH_BLOCK} 0 1"]
    return y


def library_switcher(voices: Path, x: np.ndarray) -> np.ndarray:
    """vsk_switcher through the SDK's cffi binding, voices from voiceskin.Voice."""
    from voiceskin import Bundle, Voice
    from voiceskin._ffi import ffi, get_lib

    lib = get_lib()
    cfg = ffi.new("vsk_switcher_config *")
    lib.vsk_switcher_config_init_size(cfg, ffi.sizeof("vsk_switcher_config"))
    cfg.sample_rate, cfg.max_channels, cfg.max_block_frames = RATE, 1, BLOCK
    out_sw = ffi.new("vsk_switcher **")
    assert lib.vsk_switcher_create(cfg, out_sw) == lib.VSK_OK
    sw = out_sw[0]
    y = np.empty_like(x)
    with Bundle.open(voices / "a.vskin") as ba, Bundle.open(voices / "b.vskin") as bb, \
            Voice(ba, RATE, 1, BLOCK) as va, Voice(bb, RATE, 1, BLOCK) as vb:
        try:
            assert lib.vsk_switcher_set_tier(sw, 0) == lib.VSK_OK
            assert lib.vsk_switcher_set_mix(sw, 1.0) == lib.VSK_OK
            assert lib.vsk_switcher_publish(sw, va._ptr, 1) == lib.VSK_OK
            for k in range(len(x) // BLOCK):
                if k == SWITCH_BLOCK:
                    assert lib.vsk_switcher_publish(sw, vb._ptr, 2) == lib.VSK_OK
                xi = np.ascontiguousarray(x[k * BLOCK:(k + 1) * BLOCK])
                yo = y[k * BLOCK:(k + 1) * BLOCK]
                st = lib.vsk_switcher_process(sw, ffi.cast("const float *", ffi.from_buffer(xi)),
                                              ffi.cast("float *", ffi.from_buffer(yo)), BLOCK, 1)
                assert st == lib.VSK_OK
        finally:
            lib.vsk_switcher_retire_all(sw)
            back, tag = ffi.new("vsk_voice **"), ffi.new("uint64_t *")
            while lib.vsk_switcher_collect(sw, back, tag) == lib.VSK_OK:
                pass
            lib.vsk_switcher_destroy(sw)
    return y


def documented_switch(voices: Path, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """docs/abi.md "Voice switcher" with two plain SDK voices: A until B
    (reset at the switch) has run latency + 100 ms, the equal-power 20 ms
    crossfade, then B. Returns (expected, A alone, A then B from the
    switch on without a crossfade, start of the crossfade, its length)."""
    ya, lat_a = mono_voice(voices / "a.vskin", x, 0, {})
    s = SWITCH_BLOCK * BLOCK
    yb, lat_b = mono_voice(voices / "b.vskin", x[s:], 0, {})
    assert lat_a == lat_b, "the two voices must have the same latency"
    warm, fade = lat_b + RATE // 10, RATE // 50
    a0 = s + warm
    g = switch_gains(fade)
    exp = ya.copy()
    exp[a0:a0 + fade] = ya[a0:a0 + fade] * g[::-1] + yb[warm:warm + fade] * g
    exp[a0 + fade:] = yb[warm + fade:]
    return exp, ya, np.concatenate([ya[:s], yb]), a0, fade


def test_every_adapter_gives_the_same_samples_through_a_switch(
        driver: Path, mono_exe: Path, built: Path, voices: Path, signal: np.ndarray,  # noqa: F811
        tmp_path: Path) -> None:
    x = signal
    assert len(x) % BLOCK == 0 and len(x) // BLOCK > SWITCH_BLOCK + 10
    got = {
        "C++ adapter (Unreal, Godot)": cpp_adapter(driver, voices, x, tmp_path),
        "Unity C# VoiceSkinStream": unity_csharp(mono_exe, voices, x, tmp_path),
        "Unity native mixer effect": unity_native_effect(built, voices, x, tmp_path),
        "vsk_switcher via the SDK's cffi": library_switcher(voices, x),
    }
    names = list(got)
    for name in names:
        assert got[name].shape == x.shape and np.all(np.isfinite(got[name])), name
    # 1. The same samples in every adapter: bit for bit.
    first = got[names[0]]
    for name in names[1:]:
        diff = np.flatnonzero(got[name] != first)
        assert diff.size == 0, (f"{name} differs from {names[0]} at {diff.size} samples, first at "
                                f"{diff[0]}, max {float(np.max(np.abs(got[name] - first))):g}")
    # 2. They are the documented switch (not, say, four identical pass-throughs).
    exp, ya, yb_joined, a0, fade = documented_switch(voices, x)
    err = float(np.max(np.abs(first - exp)))
    assert err <= 1e-6, f"adapters differ from the documented switch by {err:g}"
    assert np.array_equal(first[:a0], ya[:a0])                      # A alone until B has warmed up
    after = slice(a0 + fade, None)
    assert float(np.max(np.abs(ya[after] - yb_joined[after]))) > 1e-2   # A and B really differ
    assert float(np.max(np.abs(first[after] - yb_joined[after]))) <= 1e-6  # B alone after the fade
    assert float(np.max(np.abs(first[after] - ya[after]))) > 1e-2
    assert float(np.sqrt(np.mean(first ** 2))) > 1e-3
