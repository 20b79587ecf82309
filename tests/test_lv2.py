"""plugins/lv2 (voiceskin.lv2) in real LV2 hosts: lilv's lv2ls/lv2info/
lv2apply and lv2file process WAVs through the plugin, and the result equals
an offline render through the Python SDK. lv2_rt_check (a minimal host
built with the plugin) proves run() allocates nothing and reads the
latency port."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hosts_helpers import HOST_RATE, build_samples, make_voice_folder, render_sdk, speech

URI = "http://voiceskin.dev/plugins/lv2/voiceskin"
MONO, STEREO = URI + "#mono", URI + "#stereo"


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} not installed: run scripts/setup.sh (Debian: lilv-utils / lv2file, "
                    "see scripts/apt-packages.txt)")
    return path


@pytest.fixture(scope="module")
def build(lib: object) -> Path:
    d = build_samples()
    if not (d / "lv2" / "voiceskin.lv2" / "voiceskin.so").is_file():
        pytest.fail("voiceskin.lv2 was not built: are the LV2 headers (lv2-dev) installed?")
    return d


@pytest.fixture(scope="module")
def voices(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_voice_folder(tmp_path_factory.mktemp("lv2voices"))


@pytest.fixture(scope="module")
def env(build: Path, voices: Path) -> dict[str, str]:
    return {**os.environ, "LV2_PATH": str(build / "lv2"), "VOICESKIN_LV2_VOICES": str(voices)}


@pytest.fixture(scope="module")
def mono_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("lv2audio") / "speech.wav"
    sf.write(p, speech(2.0), HOST_RATE, subtype="FLOAT")   # float: exact comparison
    return p


def run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"{cmd[0]} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    return r


def test_lilv_discovers_both_plugins_with_latency(env: dict[str, str]) -> None:
    out = run([need("lv2ls")], env).stdout.split()
    assert MONO in out and STEREO in out
    info = run([need("lv2info"), STEREO], env).stdout
    assert "Has latency:       yes, reported by port 4" in info
    for sym in ("voice", "tier", "mix", "bypass", "latency", "in_l", "in_r", "out_l", "out_r"):
        assert re.search(rf"Symbol:\s+{sym}\b", info), sym


def test_lv2apply_mono_equals_sdk(env: dict[str, str], voices: Path, mono_wav: Path,
                                  tmp_path: Path) -> None:
    out = tmp_path / "out.wav"
    run([need("lv2apply"), "-i", str(mono_wav), "-o", str(out), "-c", "voice", "1",
         "-c", "tier", "1", MONO], env)
    x, _ = sf.read(mono_wav, dtype="float32")
    y, sr = sf.read(out, dtype="float32")
    assert sr == HOST_RATE and y.shape == x.shape
    # the plugin's voices start at tier 0; the tier port's value is requested
    # in the first run(), i.e. before frame 0
    ref = render_sdk(voices / "student.vskin", x, switches=[(0, 1)])
    assert np.sqrt(np.mean(ref ** 2)) > 1e-3
    np.testing.assert_allclose(y, ref, atol=1e-6)


def test_lv2file_blocks_and_mix_equal_sdk(env: dict[str, str], voices: Path, mono_wav: Path,
                                          tmp_path: Path) -> None:
    out = tmp_path / "out.wav"
    run([need("lv2file"), "-i", str(mono_wav), "-o", str(out), "-b", "256",
         "-p", "voice:1", "-p", "mix:0.5", "--ignore-clipping", MONO], env)
    x, _ = sf.read(mono_wav, dtype="float32")
    y, _ = sf.read(out, dtype="float32")
    # the mix port is sent in the first run(): smoothed from 1 to 0.5 there
    import voiceskin
    v = voiceskin.Voice(voiceskin.Bundle.open(voices / "student.vskin"), HOST_RATE, 1, 4096)
    v.mix = 0.5
    ref = v.process(x)
    np.testing.assert_allclose(y, ref, atol=1e-6)


def test_lv2apply_stereo_identity_voice_and_bypass(env: dict[str, str], voices: Path,
                                                   tmp_path: Path) -> None:
    """Voice 0 tier 0 is the identity: both outputs carry the channel mean
    delayed by the latency; bypassed, each channel its own input."""
    x = speech(1.0)
    st = np.ascontiguousarray(np.stack([x, 0.25 * np.roll(x, 100)], 1))
    src = tmp_path / "stereo.wav"
    sf.write(src, st, HOST_RATE, subtype="FLOAT")
    ref_wet = render_sdk(voices / "multi.vskin", st)
    lat = voiceskin_latency(voices / "multi.vskin", channels=2)
    for bypass in ("0", "1"):
        out = tmp_path / f"out{bypass}.wav"
        run([need("lv2apply"), "-i", str(src), "-o", str(out), "-c", "voice", "0",
             "-c", "bypass", bypass, STEREO], env)
        y, _ = sf.read(out, dtype="float32", always_2d=True)
        assert y.shape == st.shape
        body = slice(lat + 2000, len(x))          # after the bypass crossfade
        if bypass == "0":
            np.testing.assert_allclose(y, ref_wet, atol=1e-6)
            for c in range(2):
                np.testing.assert_allclose(y[body, c], st[body.start - lat:body.stop - lat].mean(1),
                                           atol=2e-3)
        else:
            np.testing.assert_array_equal(y[body], st[body.start - lat:body.stop - lat])


def voiceskin_latency(bundle: Path, channels: int, rate: int = HOST_RATE) -> int:
    import voiceskin
    return voiceskin.Voice(voiceskin.Bundle.open(bundle), rate, channels).latency


@pytest.mark.parametrize("uri,rate", [(MONO, 44100), (STEREO, 48000)])
def test_run_allocates_nothing_and_reports_latency(build: Path, env: dict[str, str],
                                                   voices: Path, uri: str, rate: int) -> None:
    exe = build / "plugins" / "lv2" / "lv2_rt_check"
    if not exe.is_file():
        pytest.skip("lv2_rt_check is built on Linux/glibc only")
    r = subprocess.run([str(exe), str(build / "lv2" / "voiceskin.lv2"), uri, str(rate), "400"],
                       env=env, capture_output=True, text=True, timeout=120)
    m = re.search(r"instantiate_allocs=(\d+) run_allocs=(\d+) latency=(\d+) voices_seen=(\d+) "
                  r"finite=(\d)", r.stdout)
    assert m, r.stdout + r.stderr
    assert int(m[1]) > 0                     # the shim sees the plugin's allocations
    assert int(m[2]) == 0, "run() allocated"
    assert int(m[4]) > 10 and m[5] == "1"
    # after the last run() the port holds voice 0's latency, as the SDK reports it
    assert int(m[3]) == voiceskin_latency(voices / "multi.vskin", 2 if uri == STEREO else 1, rate)
    assert r.returncode == 0


def test_missing_voice_folder_passes_through_with_message(build: Path, env: dict[str, str],
                                                          mono_wav: Path, tmp_path: Path) -> None:
    out = tmp_path / "thru.wav"
    bad = {**env, "VOICESKIN_LV2_VOICES": str(tmp_path / "nowhere")}
    r = run([need("lv2apply"), "-i", str(mono_wav), "-o", str(out), MONO], bad)
    assert "cannot read voice folder" in r.stderr and "VSK_ERR_IO" in r.stderr
    np.testing.assert_array_equal(sf.read(out, dtype="float32")[0],
                                  sf.read(mono_wav, dtype="float32")[0])


def test_paced_timing_mode(build: Path, env: dict[str, str], voices: Path) -> None:
    """Fixed 256-frame run() calls at real-time pace on voice 1 tier 1: still
    allocation-free; reports per-run() timing and voice 1's latency."""
    exe = build / "plugins" / "lv2" / "lv2_rt_check"
    if not exe.is_file():
        pytest.skip("lv2_rt_check is built on Linux/glibc only")
    r = subprocess.run([str(exe), str(build / "lv2" / "voiceskin.lv2"), MONO, "48000", "200",
                        "256", "1", "1", "1"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "run_allocs=0 " in r.stdout
    assert f"latency={voiceskin_latency(voices / 'student.vskin', 1)} " in r.stdout
    m = re.search(r"timing: median ([\d.]+) us, p99 ([\d.]+) us, worst ([\d.]+) us per run\(\) "
                  r"of 256 frames \(real-time pace\)", r.stdout)
    assert m, r.stdout
    assert 0 < float(m[1]) <= float(m[2]) <= float(m[3])


def test_turtle_validates_against_the_lv2_specs(build: Path) -> None:
    """lv2lint is not packaged in Debian; sord_validate (Debian: sordi)
    checks the bundle's Turtle against every installed LV2 spec (lv2-dev
    puts them in /usr/lib/lv2): classes, domains, ranges, datatypes."""
    validator = need("sord_validate")
    specs = sorted(str(p) for p in Path("/usr/lib/lv2").rglob("*.ttl"))
    if not specs:
        pytest.skip("no LV2 specification Turtle in /usr/lib/lv2 (lv2-dev)")
    bundle = build / "lv2" / "voiceskin.lv2"
    r = subprocess.run([validator, *specs, str(bundle / "manifest.ttl"),
                        str(bundle / "voiceskin.ttl")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "Found 0 errors" in r.stdout + r.stderr, r.stdout + r.stderr
