"""Unity package, native mixer effect: plugins/unity/native built with CMake
(audioplugin_voiceskin, linked against the libvoiceskin the SDK loads) and
driven by a C host (plugins/unity/Tests/NativeHost/host.c) the way Unity
drives a native audio plugin: UnityGetAudioEffectDefinitions, create with a
filled UnityAudioEffectState, setfloatparameter for voice / tier / dry-wet,
process of interleaved buffers of 1024 frames (separate in and out), reset,
release. The output is compared with the Python SDK's output for the same
input and the same parameter schedule.

What the effect computes (plugins/unity/native/vske_effect.h): the model hears
the mean of the channels through a mono voice per registry voice; the
converted signal goes to every channel, mixed with the dry input delayed by
the effect's latency; the wet amount ramps at 1/(5 ms) per frame; a voice
change resets the new voice, runs it beside the old one for its latency +
100 ms, then crossfades over 20 ms (the library's voice switcher:
equal power, VSK_SWITCH_FADE_MS).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from test_engine_adapters import switch_gains
from test_unity_mono import BLOCK, PKG, RATE, native_library, parse_lines, speech_stereo, student_bundle

F32 = np.float32


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("cmake") is None:
        pytest.fail("cmake not found (pip install '.[dev]' provides it)")
    b = tmp_path_factory.mktemp("unity-native-build")
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    cfg = subprocess.run(["cmake", "-S", str(PKG / "native"), "-B", str(b), *gen,
                          "-DCMAKE_BUILD_TYPE=Release", f"-DVSK_UNITY_PREBUILT={native_library()}",
                          "-DVSK_UNITY_TEST_HOST=ON"], capture_output=True, text=True)
    assert cfg.returncode == 0, cfg.stdout + cfg.stderr
    bld = subprocess.run(["cmake", "--build", str(b)], capture_output=True, text=True)
    assert bld.returncode == 0, bld.stdout + bld.stderr
    assert "warning" not in bld.stdout.lower(), bld.stdout
    # The effect needs the library under its SONAME (libvoiceskin.so.0 for the
    # SDK's build); its RUNPATH is $ORIGIN, so a copy next to it is found.
    for name in ("libvoiceskin.so", "libvoiceskin.so.0"):
        shutil.copyfile(native_library(), b / name)
    return b


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("unity-native-bundles")
    (d / "a.vskin").write_bytes(student_bundle("test.unity.a", 0))
    (d / "b.vskin").write_bytes(student_bundle("test.unity.b", 1))
    return d


def run_host(built: Path, x: np.ndarray, schedule: str, tmp: Path, folder: Path | None = None,
             env_folder: Path | None = None) -> tuple[dict[str, list[str]], np.ndarray]:
    plugin = built / "audioplugin_voiceskin.so"
    assert plugin.name.startswith("audioplugin")
    inp, out = tmp / "in.f32", tmp / "out.f32"
    x.astype(F32).tofile(inp)
    channels = 1 if x.ndim == 1 else x.shape[1]
    env = dict(os.environ)
    env.pop("VOICESKIN_BUNDLE_DIR", None)
    if env_folder is not None:
        env["VOICESKIN_BUNDLE_DIR"] = str(env_folder)
    args = [str(built / "unity_native_host"), str(plugin), str(inp), str(out), str(channels),
            str(BLOCK), str(RATE), schedule] + ([str(folder)] if folder is not None else [])
    r = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, f"host failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    y = np.fromfile(out, F32).reshape(x.shape)
    return parse_lines(r.stdout), y


def mono_voice(path: Path, x: np.ndarray, tier: int, tier_schedule: dict[int, int]) -> tuple[np.ndarray, int]:
    """SDK mono voice over x (mono) in 1024-frame buffers; tier_schedule[k] before buffer k."""
    from voiceskin import Bundle, Voice

    with Bundle.open(path) as b, Voice(b, RATE, 1, BLOCK, tier=tier) as v:
        y = np.empty_like(x)
        for k in range(-(-len(x) // BLOCK)):
            if k in tier_schedule:
                v.tier = tier_schedule[k]
            y[k * BLOCK:(k + 1) * BLOCK] = v.process(np.ascontiguousarray(x[k * BLOCK:(k + 1) * BLOCK]))
        return y, v.latency


def wet_curve(n: int, changes: dict[int, float], start: float) -> np.ndarray:
    """Per-frame wet amount: moves linearly to the target at 1/(5 ms) per frame (float32)."""
    step = F32(1) / (F32(0.005) * F32(RATE))
    w, target = F32(start), F32(start)
    out = np.empty(n, F32)
    for i in range(n):
        if i % BLOCK == 0 and i // BLOCK in changes:
            target = F32(changes[i // BLOCK])
        if w < target:
            w = min(F32(w + step), target)
        elif w > target:
            w = max(F32(w - step), target)
        out[i] = w
    return out


def test_definitions_as_unity_reads_them(built: Path, folder: Path, tmp_path: Path) -> None:
    out, _ = run_host(built, np.zeros((4 * BLOCK, 2), F32), "", tmp_path, env_folder=folder)
    assert out["effects"] == ["1"]
    assert out["name"] == ["VoiceSkin"]
    s, ref = out["structsize"][0].split()
    assert s == ref == "136"   # 64-bit layout: 6 x u32, u64, char[32], 9 pointers
    s, ref = out["paramstructsize"][0].split()
    assert s == ref == "64"
    assert out["statesize"] == ["80"]
    assert out["apiversion"] == ["0x010402"]
    assert out["channels"] == ["0"] and out["flags"] == ["0"]
    assert out["numparameters"] == ["4"]
    assert out["param"] == ["0 Voice||0|31|0|1", "1 Tier||0|15|0|1", "2 Dry/Wet|%|0|1|1|100",
                            "3 CPU budget|%|0|1|0|100"]
    assert out["voices"] == ["2"]
    assert out["after_reset_finite"] == ["1"] and out["released"] == ["1"]


def test_stereo_schedule_matches_the_sdk(built: Path, folder: Path, speech: np.ndarray,
                                         tmp_path: Path) -> None:
    # voice 0 tier 0 -> tier 1 at 20 -> dry/wet 0.5 at 40 -> voice 1 at 60
    # (warm-up + crossfade) -> tier 0 at 62 (during the warm-up) -> wet 1 at 100
    sched = "20/1/1,40/2/0.5,60/0/1,62/1/0,100/2/1"
    out, y = run_host(built, speech, sched, tmp_path, env_folder=folder)
    assert out["get"] == ["20 1 1", "40 2 0.5", "60 0 1", "62 1 0", "100 2 1"]
    mono = ((speech[:, 0] + speech[:, 1]) * F32(0.5)).astype(F32)
    ya, lat_a = mono_voice(folder / "a.vskin", mono, 0, {20: 1, 62: 0})
    s = 60 * BLOCK
    yb, lat_b = mono_voice(folder / "b.vskin", mono[s:], 1, {2: 0})
    lat = max(lat_a, lat_b)
    assert out["latency"] == [str(lat)] and lat_a == lat_b    # same architecture: no padding
    assert out["tiers"] == ["2"]
    warm, fade = lat_b + RATE // 10, RATE // 50
    conv = ya.copy()
    a0 = s + warm
    g = switch_gains(fade)   # the library's voice switcher: equal power
    conv[a0:a0 + fade] = ya[a0:a0 + fade] * g[::-1] + yb[warm:warm + fade] * g
    conv[a0 + fade:] = yb[warm + fade:]
    w = wet_curve(len(mono), {40: 0.5, 100: 1.0}, 1.0)
    dry = np.zeros_like(speech)
    dry[lat:] = speech[:-lat]
    exp = dry * (F32(1) - w)[:, None] + w[:, None] * conv[:, None]
    err = float(np.max(np.abs(y - exp)))
    assert err <= 1e-6, f"max |effect - SDK model| = {err}"
    # Honesty: both channels carry the converted voice, the dry part keeps
    # each channel (they differ while wet < 1), and the voices differ.
    mid = slice(45 * BLOCK, 55 * BLOCK)
    assert float(np.max(np.abs(y[mid, 0] - y[mid, 1]))) > 1e-2
    assert float(np.max(np.abs(y[120 * BLOCK:, 0] - y[120 * BLOCK:, 1]))) == 0.0
    assert float(np.max(np.abs(ya[a0 + fade:] - yb[warm + fade:]))) > 1e-2
    assert float(np.sqrt(np.mean(y ** 2))) > 1e-3
    # Real-time contract (glibc: the host counts heap calls process-wide):
    # create allocates (the counter works), the audio-thread calls never do,
    # voice switch and crossfade included.
    if "alloc_create" in out:
        assert int(out["alloc_create"][0]) > 0
        assert out["alloc_audio"] == ["0"]


def test_mono_buffers_equal_the_sdk_voice(built: Path, folder: Path, speech: np.ndarray,
                                          tmp_path: Path) -> None:
    x = np.ascontiguousarray(speech[:, 0])
    out, y = run_host(built, x, "30/1/1", tmp_path, folder=folder)   # folder set through the export
    ref, _ = mono_voice(folder / "a.vskin", x, 0, {30: 1})
    assert float(np.max(np.abs(y - ref))) <= 1e-6


def test_empty_folder_passes_audio_through(built: Path, speech: np.ndarray, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    out, y = run_host(built, speech, "10/0/3", tmp_path, folder=empty)
    assert out["voices"] == ["0"]
    assert np.array_equal(y, speech)


def test_unknown_voice_index_fades_to_delayed_dry(built: Path, folder: Path, speech: np.ndarray,
                                                  tmp_path: Path) -> None:
    out, y = run_host(built, speech, "10/0/7", tmp_path, env_folder=folder)
    lat = int(out["latency"][0])
    dry = np.zeros_like(speech)
    dry[lat:] = speech[:-lat]
    start = 10 * BLOCK + RATE // 200 + 1   # after the 5 ms ramp to dry
    assert np.array_equal(y[start:], dry[start:])


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return speech_stereo()


def test_from_source_build_installs_a_self_contained_plugin_folder(tmp_path: Path, folder: Path,
                                                                   speech: np.ndarray) -> None:
    """The packaging path: native/ built from source with the plugin, installed
    (component "unity") into a Plugins folder: plain file names, the effect
    finds libvoiceskin next to itself ($ORIGIN), nothing else installed."""
    b, dest = tmp_path / "build", tmp_path / "Plugins" / "Linux" / "x86_64"
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    for cmd in (["cmake", "-S", str(PKG / "native"), "-B", str(b), *gen, "-DCMAKE_BUILD_TYPE=Release",
                 f"-DVSK_UNITY_PLUGIN_DIR={dest}", "-DVSK_UNITY_TEST_HOST=ON"],
                ["cmake", "--build", str(b)],
                ["cmake", "--install", str(b), "--component", "unity"]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "warning" not in (r.stdout + r.stderr).lower(), r.stdout + r.stderr
    assert sorted(p.name for p in dest.iterdir()) == ["audioplugin_voiceskin.so", "libvoiceskin.so"]
    assert not (b / "sdk-install").exists()
    dyn = subprocess.run(["readelf", "-d", str(dest / "audioplugin_voiceskin.so")], capture_output=True,
                         text=True).stdout if shutil.which("readelf") else ""
    if dyn:
        assert "[libvoiceskin.so]" in dyn and "[$ORIGIN]" in dyn
        soname = subprocess.run(["readelf", "-d", str(dest / "libvoiceskin.so")], capture_output=True,
                                text=True).stdout
        assert "Library soname: [libvoiceskin.so]" in soname
    # The installed effect runs on its own (no LD_LIBRARY_PATH), close to the SDK.
    x = np.ascontiguousarray(speech[: 20 * BLOCK, 0])
    inp, outp = tmp_path / "in.f32", tmp_path / "out.f32"
    x.tofile(inp)
    env = {k: v for k, v in os.environ.items() if k not in ("LD_LIBRARY_PATH", "VOICESKIN_BUNDLE_DIR")}
    r = subprocess.run([str(b / "unity_native_host"), str(dest / "audioplugin_voiceskin.so"), str(inp),
                        str(outp), "1", str(BLOCK), str(RATE), "", str(folder)],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert parse_lines(r.stdout)["voices"] == ["2"]
    ref, _ = mono_voice(folder / "a.vskin", x, 0, {})
    assert float(np.max(np.abs(np.fromfile(outp, F32) - ref))) <= 1e-4


@pytest.fixture(scope="module")
def built_tsan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    b = tmp_path_factory.mktemp("unity-native-tsan")
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    flags = "-fsanitize=thread"
    cfg = subprocess.run(["cmake", "-S", str(PKG / "native"), "-B", str(b), *gen, "-DCMAKE_BUILD_TYPE=Release",
                          f"-DVSK_UNITY_PREBUILT={native_library()}", "-DVSK_UNITY_TEST_HOST=ON",
                          f"-DCMAKE_C_FLAGS={flags} -g", f"-DCMAKE_EXE_LINKER_FLAGS={flags}",
                          f"-DCMAKE_MODULE_LINKER_FLAGS={flags}"], capture_output=True, text=True)
    assert cfg.returncode == 0, cfg.stdout + cfg.stderr
    bld = subprocess.run(["cmake", "--build", str(b)], capture_output=True, text=True)
    if bld.returncode != 0 and "tsan" in (bld.stdout + bld.stderr).lower():
        pytest.skip("ThreadSanitizer runtime not available: " + bld.stdout[-300:])
    assert bld.returncode == 0, bld.stdout + bld.stderr
    for name in ("libvoiceskin.so", "libvoiceskin.so.0"):
        shutil.copyfile(native_library(), b / name)
    return b


@pytest.mark.parametrize("mode", ["paramthread", "race"])
def test_parameter_thread_under_thread_sanitizer(built_tsan: Path, folder: Path, speech: np.ndarray,
                                                 tmp_path: Path, mode: str) -> None:
    """A second thread sets and reads parameters (voice, tier, dry/wet,
    including invalid voices) as fast as it can while the main thread
    processes: ThreadSanitizer finds no race in the effect. In "race" mode
    the host adds a deliberate race, which must be reported (sanitizer live)."""
    x = speech[: 60 * BLOCK]
    inp, outp = tmp_path / "in.f32", tmp_path / "out.f32"
    x.tofile(inp)
    env = {k: v for k, v in os.environ.items() if k != "VOICESKIN_BUNDLE_DIR"}
    env["TSAN_OPTIONS"] = "halt_on_error=0 exitcode=66"
    r = subprocess.run([str(built_tsan / "unity_native_host"), str(built_tsan / "audioplugin_voiceskin.so"),
                        str(inp), str(outp), "2", str(BLOCK), str(RATE), "", str(folder), mode],
                       capture_output=True, text=True, env=env, timeout=300)
    if mode == "race":
        assert "ThreadSanitizer: data race" in r.stderr and "param_thread" in r.stderr
        return
    assert r.returncode == 0 and "ThreadSanitizer" not in r.stderr, r.stderr[-3000:]
    out = parse_lines(r.stdout)
    assert int(out["param_calls"][0]) > 1000
    assert out["voices"] == ["2"]
    assert np.all(np.isfinite(np.fromfile(outp, F32)))
