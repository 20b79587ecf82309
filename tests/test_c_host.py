"""samples/c_host (vsk_host), built by CMake with the library, run as a
real program: it lists a registry folder, renders WAVs in engine-sized and
random-sized buffers with tier switches, and its output equals an offline
render through the Python SDK."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hosts_helpers import HOST_RATE, build_samples, make_voice_folder, render_sdk, speech


@pytest.fixture(scope="module")
def host(lib: object) -> Path:
    exe = build_samples() / "samples" / "c_host" / "vsk_host"
    assert exe.is_file(), exe
    return exe


@pytest.fixture(scope="module")
def voices(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_voice_folder(tmp_path_factory.mktemp("voices"))


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("audio") / "speech.wav"
    sf.write(p, speech(3.0), HOST_RATE, subtype="PCM_16")
    return p


def run(host: Path, *args: object, ok: bool = True) -> str:
    r = subprocess.run([str(host), *map(str, args)], capture_output=True, text=True, timeout=120)
    if ok:
        assert r.returncode == 0, f"vsk_host failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    return r.stdout + r.stderr if not ok else r.stdout


def switches_of(out: str) -> list[tuple[int, int]]:
    return [(int(f), int(t)) for f, t in re.findall(r"switch: frame (\d+) -> tier (\d+)", out)]


def timing_of(out: str) -> dict[str, float]:
    m = re.search(r"timing: median ([\d.]+) us, p99 ([\d.]+) us, worst ([\d.]+) us", out)
    assert m, out
    return {"median": float(m[1]), "p99": float(m[2]), "worst": float(m[3])}


def test_list_shows_voices_and_tiers(host: Path, voices: Path) -> None:
    out = run(host, "list", voices)
    assert "registry: 2 voice(s)" in out
    assert re.search(r'voice 0: test\.multi "Test Voice" 1\.0\.0, 2 tier\(s\)', out), out
    assert re.search(r"voice 1: test\.student .*2 tier\(s\)", out), out
    assert re.search(r"tier 0: low +16000 Hz, hop 64", out)
    assert re.search(r"tier 1: high +16000 Hz, hop 128", out)


def test_render_fixed_buffers_with_switches_equals_sdk(host: Path, voices: Path,
                                                       speech_wav: Path, tmp_path: Path) -> None:
    out_wav = tmp_path / "out.wav"
    out = run(host, "render", voices, "test.student", speech_wav, out_wav, "--buffer", 256,
              "--switch", "1:high", "--switch", "2:0", "--float")
    # 383 frames of hop buffering and resampling + the students' 8 ms lookahead (384 frames)
    assert "latency: 767 frames (15.98 ms at 48000 Hz)" in out
    sw = switches_of(out)
    assert sw == [(48128, 1), (96000, 0)]          # first 256-frame boundary at/after 1 s, 2 s
    t = timing_of(out)
    assert 0 < t["median"] <= t["p99"] <= t["worst"]
    assert re.search(r"buffers: 563 x 256 frames", out)
    x, _ = sf.read(speech_wav, dtype="float32")
    y, sr = sf.read(out_wav, dtype="float32")
    assert sr == HOST_RATE and len(y) == len(x)
    ref = render_sdk(voices / "student.vskin", x, sw)
    assert np.sqrt(np.mean(ref ** 2)) > 1e-3          # the voice produced sound
    np.testing.assert_allclose(y, ref, atol=1e-5)   # same library, same stream


def test_stress_random_buffers_equal_sdk(host: Path, voices: Path, speech_wav: Path,
                                         tmp_path: Path) -> None:
    out_wav = tmp_path / "stress.wav"
    out = run(host, "render", voices, "1", speech_wav, out_wav, "--stress", "--seed", 7,
              "--switch", "0.5:1", "--switch", "1.5:low", "--float")
    assert "random 1..4096 frames, seed 7" in out
    sw = switches_of(out)
    assert [t for _, t in sw] == [1, 0]
    x, _ = sf.read(speech_wav, dtype="float32")
    y, _ = sf.read(out_wav, dtype="float32")
    np.testing.assert_allclose(y, render_sdk(voices / "student.vskin", x, sw), atol=1e-5)


def test_identity_tier_delays_by_reported_latency_then_switch_halves(
        host: Path, voices: Path, tmp_path: Path) -> None:
    """The multi voice: tier low is identity, tier high is 0.5·x. The float
    WAV path keeps samples exact, so the output is the input delayed by the
    reported latency, then half of it after the switch has crossfaded."""
    x = speech(2.0)
    stereo = np.ascontiguousarray(np.stack([x, -0.5 * x], 1))
    src = tmp_path / "in.wav"
    sf.write(src, stereo, HOST_RATE, subtype="FLOAT")
    out_wav = tmp_path / "out.wav"
    out = run(host, "render", voices, "test.multi", src, out_wav, "--buffer", 480,
              "--switch", "1:high")
    lat = int(re.search(r"latency: (\d+) frames", out)[1])
    y, _ = sf.read(out_wav, dtype="float32", always_2d=True)
    assert y.shape == stereo.shape and sf.info(str(out_wav)).subtype == "FLOAT"
    mono = stereo.mean(1)                          # the model sees the channel mean
    before = slice(lat + 1000, 48000)
    for c in range(2):                             # converted voice on every channel
        np.testing.assert_allclose(y[before, c], mono[before.start - lat:before.stop - lat],
                                   atol=2e-3)
        tail = slice(48000 + 6000, len(x))         # after warm-up (≈52 ms) and crossfade
        np.testing.assert_allclose(y[tail, c], 0.5 * mono[tail.start - lat:tail.stop - lat],
                                   atol=2e-3)


def test_pcm16_output_and_mix(host: Path, voices: Path, speech_wav: Path, tmp_path: Path) -> None:
    out_wav = tmp_path / "mix.wav"
    run(host, "render", voices, "test.student", speech_wav, out_wav, "--mix", "0.5")
    assert sf.info(str(out_wav)).subtype == "PCM_16"   # defaults to the input's format
    x, _ = sf.read(speech_wav, dtype="float32")
    y, _ = sf.read(out_wav, dtype="float32")
    ref = render_sdk(voices / "student.vskin", x, mix=0.5)
    assert np.max(np.abs(y - ref)) <= 1.0 / 32768 + 1e-6


def test_errors_are_clear(host: Path, voices: Path, speech_wav: Path, tmp_path: Path) -> None:
    out = run(host, "render", voices, "no.such.voice", speech_wav, tmp_path / "o.wav", ok=False)
    assert "VSK_ERR_NOT_FOUND" in out
    out = run(host, "render", voices, "0", speech_wav, tmp_path / "o.wav", "--tier", "ultra",
              ok=False)
    assert "ultra: VSK_ERR_NOT_FOUND" in out
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\0\0\0\0WAVEjunk")
    out = run(host, "render", voices, "0", bad, tmp_path / "o.wav", ok=False)
    assert "bad.wav" in out and "data chunk" in out
    out = run(host, "list", tmp_path / "missing", ok=False)
    assert "VSK_ERR_IO" in out


def test_pace_runs_in_real_time_with_the_same_output(host: Path, voices: Path,
                                                     tmp_path: Path) -> None:
    src = tmp_path / "short.wav"
    x = speech(1.0)
    sf.write(src, x, HOST_RATE, subtype="FLOAT")
    import time
    t0 = time.monotonic()
    out = run(host, "render", voices, "test.student", src, tmp_path / "paced.wav", "--pace",
              "--rt")
    assert time.monotonic() - t0 >= 0.9
    assert "real-time pace" in out
    assert re.search(r"scheduling: (SCHED_FIFO 10|normal \(SCHED_FIFO not permitted\))", out)
    timing_of(out)
    run(host, "render", voices, "test.student", src, tmp_path / "fast.wav")
    np.testing.assert_array_equal(sf.read(tmp_path / "paced.wav")[0], sf.read(tmp_path / "fast.wav")[0])


def test_extensible_wav_four_channels(host: Path, voices: Path, tmp_path: Path) -> None:
    """A WAVE_FORMAT_EXTENSIBLE file (format WAVEX) with four channels: vsk_host
    reads it and renders all four channels like the SDK."""
    x = speech(0.5)
    quad = np.ascontiguousarray(np.stack([x, 0.5 * x, -x, 0.25 * x], 1))
    src = tmp_path / "quad.wav"
    sf.write(src, quad, HOST_RATE, subtype="PCM_16", format="WAVEX")
    assert src.read_bytes()[20:22] == b"\xfe\xff"       # the extensible format tag
    out_wav = tmp_path / "quad_out.wav"
    run(host, "render", voices, "test.student", src, out_wav, "--float")
    y, _ = sf.read(out_wav, dtype="float32", always_2d=True)
    q16, _ = sf.read(src, dtype="float32", always_2d=True)
    np.testing.assert_allclose(y, render_sdk(voices / "student.vskin", q16), atol=1e-5)
