"""Unity package, managed layer: compiled with Mono's ``mcs`` and run under
``mono`` against the real libvoiceskin, compared with the Python SDK.

plugins/unity/Runtime/*.cs without a UnityEngine dependency (the P/Invoke
binding, bundle, voice, registry, exceptions, tiers and VoiceSkinStream, the
engine-independent core of VoiceSkinFilter) are compiled together with
plugins/unity/Tests/Mono/VoiceSkinMonoTest.cs. The test bundles are
random-weight distilled students (voiceskin_tooling.student, tiers "low" and
"medium"): the full runtime graph (mel front end, YIN + PITCH_MAP, causal
convs, GRU, harmonic + noise synthesis). The input is shipped speech
(data/corpus), 16 kHz resampled to 48 kHz, stereo, in Unity-sized buffers
of 1024 frames.

Needs Debian's mono-mcs + mono-runtime (scripts/apt-packages.txt). Without
them the tests fail; VOICESKIN_ALLOW_NO_MONO=1 turns that into a skip.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "plugins" / "unity"
RATE = 48000
CH = 2
BLOCK = 1024
SCHEDULE = {25: "medium", 50: "0", 75: "1", 76: "low", 100: "medium"}


# ------------------------------------------------------------ shared helpers
# (tests/test_unity_native_effect.py imports these)

def student_bundle(voice_id: str, seed: int, version: str = "1.0.0") -> bytes:
    """A two-tier ("low", "medium") random-weight student bundle."""
    import torch
    from voiceskin.format import BundleSpec, TierSpec, write_bundle
    from voiceskin_tooling.student import Student, config_from_tier, export, tier_cost
    from voiceskin_tooling.tiers import LOW, MEDIUM

    torch.manual_seed(seed)
    tiers = []
    for preset in (LOW, MEDIUM):
        st = Student(config_from_tier(preset))
        graph, tensors = export(st)
        cost = tier_cost(st)
        tiers.append(TierSpec(preset.name, st.cfg.sample_rate, st.cfg.hop, st.cfg.hop,
                              cost["parameter_count"], cost["flops_per_second"], graph, tensors))
    return write_bundle(BundleSpec(voice_id, f"Unity test {seed}", version, tiers))


def speech_stereo(seconds: float = 3.0) -> np.ndarray:
    """Shipped speech at 48 kHz, [frames, 2] float32, a whole number of
    1024-frame buffers. Right = 0.6 x left, 7 samples later (so the channel
    averaging and the per-channel dry path are exercised)."""
    import soundfile as sf
    import soxr

    files = sorted((ROOT / "data" / "corpus" / "speakers" / "kal").glob("*.flac"))[:2]
    assert files, "data/corpus/speakers/kal/*.flac missing"
    x = np.concatenate([sf.read(f, dtype="float32")[0] for f in files])
    x = soxr.resample(x, 16000, RATE).astype(np.float32)[: int(seconds * RATE)]
    frames = -(-len(x) // BLOCK) * BLOCK
    st = np.zeros((frames, CH), np.float32)
    st[: len(x), 0] = x
    st[7: len(x), 1] = 0.6 * x[: len(x) - 7]
    return st


def sdk_reference(bundle_path: Path, x: np.ndarray, schedule: dict[int, str],
                  tier: int | str = 0) -> tuple[np.ndarray, int]:
    """The Python SDK's output for ``x`` in 1024-frame buffers, requesting
    ``schedule[k]`` (an index as text, or a name) before buffer k."""
    from voiceskin import Bundle, Voice

    with Bundle.open(bundle_path) as b, Voice(b, RATE, CH, BLOCK, tier=tier) as v:
        out = np.empty_like(x)
        for k in range(len(x) // BLOCK):
            if k in schedule:
                t = schedule[k]
                v.tier = int(t) if t.isdigit() else t
            out[k * BLOCK:(k + 1) * BLOCK] = v.process(np.ascontiguousarray(x[k * BLOCK:(k + 1) * BLOCK]))
        return out, v.latency


def native_library() -> Path:
    """The libvoiceskin the SDK loads (VOICESKIN_LIBRARY or the package copy)."""
    from voiceskin._ffi import get_lib, library_path

    get_lib()
    p = Path(library_path())
    assert p.is_file(), f"libvoiceskin not found ({p})"
    return p


def need_tools(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        msg = (f"{', '.join(missing)} not installed (Debian: apt-get install mono-mcs mono-runtime; "
               "listed in scripts/apt-packages.txt)")
        if os.environ.get("VOICESKIN_ALLOW_NO_MONO") == "1":
            pytest.skip(msg)
        pytest.fail(msg)


def parse_lines(out: str) -> dict[str, list[str]]:
    d: dict[str, list[str]] = {}
    for line in out.splitlines():
        if line.strip():
            key, _, rest = line.partition(" ")
            d.setdefault(key, []).append(rest)
    return d


# ------------------------------------------------------------------ fixtures

def core_sources() -> list[Path]:
    """Runtime/*.cs without a UnityEngine dependency."""
    return sorted(p for p in (PKG / "Runtime").glob("*.cs")
                  if "UnityEngine" not in p.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def mono_exe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    need_tools("mcs", "mono")
    d = tmp_path_factory.mktemp("unity-mono")
    exe = d / "VoiceSkinMonoTest.exe"
    srcs = [str(p) for p in core_sources()] + [str(p) for p in sorted((PKG / "Tests" / "Mono").glob("*.cs"))]
    r = subprocess.run(["mcs", "-unsafe", "-warnaserror+", "-target:exe",
                        f"-out:{exe}", *srcs], capture_output=True, text=True)
    assert r.returncode == 0, f"mcs failed:\n{r.stdout}\n{r.stderr}"
    # Mono resolves DllImport("voiceskin") to libvoiceskin.so next to the exe.
    shutil.copyfile(native_library(), d / "libvoiceskin.so")
    return exe


def run_mono(exe: Path, *args: str) -> dict[str, list[str]]:
    env = dict(os.environ, LD_LIBRARY_PATH=f"{exe.parent}:{os.environ.get('LD_LIBRARY_PATH', '')}")
    r = subprocess.run(["mono", "--debug", str(exe), *args], capture_output=True, text=True,
                       env=env, timeout=300)
    assert r.returncode == 0, f"mono {args[0]} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    return parse_lines(r.stdout)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("unity-bundles") / "VoiceSkins"
    d.mkdir()
    (d / "a.vskin").write_bytes(student_bundle("test.unity.a", 0))
    (d / "b.vskin").write_bytes(student_bundle("test.unity.b", 1))
    return d


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return speech_stereo()


# --------------------------------------------------------------------- tests

def test_core_sources_have_no_unity_dependency() -> None:
    names = {p.name for p in core_sources()}
    unity = {p.name for p in (PKG / "Runtime").glob("*.cs")} - names
    assert {"VoiceSkin.Native.cs", "VoiceSkinBundle.cs", "VoiceSkinVoice.cs", "VoiceSkinRegistry.cs",
            "VoiceSkinException.cs", "QualityTier.cs", "VoiceSkinStream.cs"} <= names
    assert unity == {"VoiceSkinFilter.cs", "VoiceSkinStreamingAssets.cs"}


def test_struct_layouts_and_statuses_match_the_library(mono_exe: Path) -> None:
    from voiceskin._ffi import ffi, get_lib

    lib = get_lib()
    out = run_mono(mono_exe, "abi")
    assert out["abi"] == [f"{lib.vsk_abi_version()} {lib.VSK_ABI_VERSION}"]
    assert out["version"][0].split()[0] == str(lib.vsk_version())
    sizes = {k: int(v) for k, v in (s.split() for s in out["sizeof"])}
    offsets = {k: int(v) for k, v in (s.split() for s in out["offset"])}
    for struct in ("vsk_bundle_info", "vsk_tier_info", "vsk_voice_config", "vsk_registry_config",
                   "vsk_tier_state", "vsk_allocator"):
        assert sizes[struct] == ffi.sizeof(struct), struct
        fields = [k.split(".")[1] for k in offsets if k.startswith(struct + ".")]
        assert fields == [f for f, _ in ffi.typeof(struct).fields], struct
        for f in fields:
            assert offsets[f"{struct}.{f}"] == ffi.offsetof(struct, f), f"{struct}.{f}"
    statuses = [s.split() for s in out["status"]]
    named = {int(code): (enum, lib_name) for code, enum, lib_name in statuses if enum != "unknown"}
    assert sorted(named) == list(range(-18, 1))
    for code, (enum, lib_name) in named.items():
        assert enum == lib_name == ffi.string(lib.vsk_status_name(code)).decode()
    # config_init filled by the library through the C# struct
    default_cost = lib.VSK_DEFAULT_MAX_COST_PER_SECOND
    assert out["voice_config_init"] == [
        f"{ffi.sizeof('vsk_voice_config')} 1 48000 1 1024 0 1 0 0 {default_cost}"]
    assert out["registry_config_init"] == [f"{ffi.sizeof('vsk_registry_config')} 1 0 {default_cost}"]
    # the 0.3 entry points still fill only 0.3's structs (32 and 12 bytes)
    assert out["voice_config_init_03"] == ["32 1 48000 0"]
    assert out["registry_config_init_03"] == ["12 1 0"]


def test_process_and_tier_switches_match_the_sdk(mono_exe: Path, bundles: Path, speech: np.ndarray,
                                                 tmp_path: Path) -> None:
    inp, o1, o2 = tmp_path / "in.f32", tmp_path / "voice.f32", tmp_path / "stream.f32"
    speech.tofile(inp)
    sched = ",".join(f"{k}:{v}" for k, v in SCHEDULE.items())
    out = run_mono(mono_exe, "process", str(bundles), "test.unity.a", str(inp), str(o1), str(o2), sched)
    assert out["voices"] == ["2"]
    assert out["voice"] == ["test.unity.a 1.0.0", "test.unity.b 1.0.0"]
    assert [t.split()[:2] for t in out["tier"]] == [["0", "low"], ["1", "medium"]]
    assert out["tier_after"] == ["1 medium"]

    ref, latency = sdk_reference(bundles / "a.vskin", speech, SCHEDULE)
    assert out["latency"] == [str(latency)]
    for path in (o1, o2):
        y = np.fromfile(path, np.float32).reshape(speech.shape)
        err = float(np.max(np.abs(y - ref)))
        assert err <= 1e-6, f"{path.name}: max |C# - SDK| = {err}"
    # Honesty: the output is converted audio (not the input, not silence),
    # and the tier switches changed it (vs. staying on tier 0).
    y = np.fromfile(o1, np.float32).reshape(speech.shape)
    assert np.all(np.isfinite(y)) and float(np.sqrt(np.mean(y ** 2))) > 1e-3
    delayed = np.zeros_like(speech)
    delayed[latency:] = speech[:-latency]
    assert float(np.max(np.abs(y - delayed))) > 0.05
    steady, _ = sdk_reference(bundles / "a.vskin", speech, {})
    assert float(np.max(np.abs(y[30 * BLOCK:] - steady[30 * BLOCK:]))) > 1e-3
    # The per-buffer calls allocate nothing on the managed heap.
    assert out["alloc_voice"] == ["0"]
    assert out["alloc_stream"] == ["0"]
    assert out["stream_errors"] == ["0"]


def test_voice_switch_crossfades_and_frees_the_old_voice(mono_exe: Path, bundles: Path,
                                                          speech: np.ndarray, tmp_path: Path) -> None:
    k0 = 40
    inp, o = tmp_path / "in.f32", tmp_path / "switch.f32"
    speech.tofile(inp)
    out = run_mono(mono_exe, "switch", str(bundles), "test.unity.a", "test.unity.b", str(inp), str(o), str(k0))
    y = np.fromfile(o, np.float32).reshape(speech.shape)
    from voiceskin import Bundle

    with Bundle.open(bundles / "a.vskin") as ba, Bundle.open(bundles / "b.vskin") as bb:
        tier_b = len(bb.tiers) - 1
        tier_a = min(tier_b, len(ba.tiers) - 1)
    # The switcher's tier reaches every running voice (clamped): A, still
    # heard during the warm-up, follows SetVoice(vb, last tier) at once.
    ya, lat_a = sdk_reference(bundles / "a.vskin", speech, {k0: str(tier_a)})
    s = k0 * BLOCK
    yb, lat_b = sdk_reference(bundles / "b.vskin", speech[s:], {}, tier=tier_b)   # B starts fresh at the switch
    assert out["latency_a"] == [str(lat_a)] and out["latency_b"] == [str(lat_b)]
    warm = lat_b + int(0.1 * RATE)
    fade = int(0.02 * RATE)
    # Expected: A until the new voice has warmed up, the library switcher's
    # equal-power crossfade (squared gains sum to 1), then B alone.
    from test_engine_adapters import switch_gains

    exp = ya.copy()
    g = switch_gains(fade)[:, None]
    a0 = s + warm
    exp[a0:a0 + fade] = ya[a0:a0 + fade] * g[::-1] + yb[warm:warm + fade] * g
    exp[a0 + fade:] = yb[warm + fade:]
    err = float(np.max(np.abs(y - exp)))
    assert err <= 1e-6, f"max |C# - expected| = {err}"
    assert float(np.max(np.abs(ya[a0 + fade:] - yb[warm + fade:]))) > 1e-2   # the voices differ
    # No click: the largest sample step across the crossfade is no larger
    # than the voices' own steps there times the equal-power bound
    # (g_in + g_out <= sqrt 2).
    region = slice(a0 - 1, a0 + fade + 1)
    step = float(np.max(np.abs(np.diff(y[region], axis=0))))
    own = max(float(np.max(np.abs(np.diff(ya[region], axis=0)))),
              float(np.max(np.abs(np.diff(yb[warm - 1:warm + fade + 1], axis=0)))))
    assert step <= 1.05 * np.sqrt(2.0) * own, (step, own)
    # The old voice is disposed by the game thread once the fade is over.
    assert out["disposed"] == ["1"]
    done_block = int(out["disposed_at"][0].split()[0])
    assert (a0 + fade) // BLOCK <= done_block <= (a0 + fade) // BLOCK + 3
    assert out["alloc_stream"] == ["0"] and out["stream_errors"] == ["0"]


def test_errors_are_exceptions_with_status_names(mono_exe: Path, bundles: Path, tmp_path: Path) -> None:
    data = (bundles / "a.vskin").read_bytes()
    bad = bytearray(data)
    bad[len(bad) // 2] ^= 0xFF
    corrupt = tmp_path / "corrupt.vskin"
    corrupt.write_bytes(bytes(bad))
    out = run_mono(mono_exe, "errors", str(bundles), str(corrupt))
    errs = {e.split()[0]: e for e in out["error"]}
    assert "noerror" not in out, out.get("noerror")
    expect = {
        "open_corrupt": "VSK_ERR_CHECKSUM -7",
        "open_missing": "VSK_ERR_IO -3",
        "bytes_garbage": "VSK_ERR_BAD_MAGIC -4",
        "scan_missing": "VSK_ERR_IO -3",
        "find_missing": "VSK_ERR_NOT_FOUND -13",
        "tier_name": "VSK_ERR_NOT_FOUND -13",
        "tier_index": "VSK_ERR_NOT_FOUND -13",
        "rate": "VSK_ERR_UNSUPPORTED_RATE -12",
        "duplicate": "VSK_ERR_DUPLICATE -14",
        "set_tier_name": "VSK_ERR_NOT_FOUND -13",
    }
    for what, status in expect.items():
        assert what in errs, what
        assert errs[what].split(" | ")[0] == f"{what} {status}", errs[what]
    assert re.search(r"VSK_ERR_CHECKSUM: .*\(opening .*corrupt\.vskin\)", errs["open_corrupt"])
    assert "available: low, medium" in errs["tier_name"]
    assert out["scan"] == ["2 0"]
    assert out["indexof_missing"] == ["-1"]
    assert out["trysettier"] == ["VSK_ERR_NOT_FOUND"]
    assert errs["disposed"] == "disposed ObjectDisposedException"


def test_every_other_abi_call(mono_exe: Path, bundles: Path, speech: np.ndarray, tmp_path: Path) -> None:
    """vsk_voice_get_size/init (caller memory), add_file/add_memory, bundle
    retain (registry get), find_tier, the registry's CPU budget, bypass, mix,
    reset, separate buffers."""
    inp = tmp_path / "in.f32"
    speech[: 40 * BLOCK].tofile(inp)
    out = run_mono(mono_exe, "api", str(bundles), str(inp))
    assert "bad" not in out, out["bad"]
    assert set(out["ok"]) == {
        "add_file_memory", "list_voices", "find_tier", "reg_add_bundle_dup", "index_of", "registry_budget",
        "get_size",
        "init_unaligned", "init_small", "init", "get_tier_raw", "init_equals_create",
        "bypass_is_delayed_dry", "bypass_flag", "mix_value", "mix0_is_delayed_dry", "mix_range",
        "reset_equals_fresh", "in_out_equals_in_place", "version"}


def test_game_thread_changes_while_the_audio_thread_runs(mono_exe: Path, bundles: Path) -> None:
    """A real audio thread processes buffers while the main thread switches
    voices, tiers, mix and bypass at random and collects old voices (as
    VoiceSkinFilter.Update does); then a channel-layout change."""
    out = run_mono(mono_exe, "threads", str(bundles), "3")
    assert "bad" not in out, out["bad"]
    assert set(out["ok"]) == {"audio_thread_ran", "finite", "no_native_errors", "old_voices_disposed",
                              "mismatch_passes_through", "mismatch_replaced_at_once", "dispose_frees_all"}
    assert int(out["buffers"][0].split()[2]) >= 20   # voice switches happened
    assert out["alloc_audio_thread"] == ["0"]
