"""The Python SDK refuses bad arguments with clear errors (wrong dtype or
shape, channel mismatch, unknown tier, sample rate out of range, use after
close), and the happy path works: voices stream through the real library."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.usefixtures("lib")


@pytest.fixture
def bundle(multi_bytes: bytes):
    from voiceskin import Bundle

    with Bundle.from_bytes(multi_bytes) as b:
        yield b


@pytest.fixture
def voice(bundle):
    from voiceskin import Voice

    with Voice(bundle, sample_rate=48000, channels=2, max_block=256) as v:
        yield v


# ----------------------------------------------------------------- audio args

@pytest.mark.parametrize("dtype", [np.float64, np.int16, np.float16, np.int32])
def test_wrong_dtype(voice, dtype) -> None:
    x = np.zeros((64, 2), dtype=dtype)
    with pytest.raises(TypeError, match="float32"):
        voice.process(x)
    with pytest.raises(TypeError, match="float32"):
        voice.process_into(np.zeros((64, 2), np.float32), x)


def test_not_an_array(voice) -> None:
    with pytest.raises(TypeError, match="numpy"):
        voice.process([0.0] * 128)


@pytest.mark.parametrize("shape,msg", [
    ((64,), "2 channels"),
    ((64, 1), "1 channels, the voice has 2"),
    ((64, 3), "3 channels"),
    ((4, 64, 2), "frames, channels"),
])
def test_wrong_shape(voice, shape, msg) -> None:
    with pytest.raises(ValueError, match=msg):
        voice.process(np.zeros(shape, np.float32))


def test_out_mismatch(voice) -> None:
    x = np.zeros((64, 2), np.float32)
    with pytest.raises(ValueError, match="out has shape"):
        voice.process_into(x, np.zeros((32, 2), np.float32))
    ro = np.zeros((64, 2), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        voice.process_into(x, ro)
    buf = np.zeros((65, 2), np.float32)
    with pytest.raises(ValueError, match="overlap"):
        voice.process_into(buf[1:], buf[:-1])
    with pytest.raises(ValueError, match="C-contiguous"):
        voice.process(np.zeros((2, 64), np.float32).T)


def test_mono_accepts_1d_and_2d(bundle) -> None:
    from voiceskin import Voice

    v = Voice(bundle, sample_rate=16000)
    assert v.process(np.zeros(100, np.float32)).shape == (100,)
    assert v.process(np.zeros((100, 1), np.float32)).shape == (100, 1)
    assert v.process(np.zeros(0, np.float32)).shape == (0,)


# ----------------------------------------------------------- construction args

@pytest.mark.parametrize("rate", [7999, 192001, 1, 1_000_000])
def test_rate_out_of_range(bundle, rate) -> None:
    from voiceskin import Voice, VoiceskinError

    with pytest.raises(VoiceskinError) as ei:
        Voice(bundle, sample_rate=rate)
    assert ei.value.name == "VSK_ERR_UNSUPPORTED_RATE"
    assert "8000" in str(ei.value)


@pytest.mark.parametrize("rate", [0, -48000])
def test_rate_nonsense(bundle, rate) -> None:
    from voiceskin import Voice, VoiceskinError

    with pytest.raises(VoiceskinError) as ei:
        Voice(bundle, sample_rate=rate)
    assert ei.value.name == "VSK_ERR_UNSUPPORTED_RATE"


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 192000])
def test_rate_edges_ok(bundle, rate) -> None:
    from voiceskin import Voice

    with Voice(bundle, sample_rate=rate) as v:
        assert v.latency > 0


def test_bad_construction_args(bundle) -> None:
    from voiceskin import Voice

    with pytest.raises(ValueError, match="channels"):
        Voice(bundle, channels=0)
    with pytest.raises(ValueError, match="channels"):
        Voice(bundle, channels=9)
    with pytest.raises(TypeError, match="sample_rate"):
        Voice(bundle, sample_rate=48000.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="mix"):
        Voice(bundle, mix=1.5)
    with pytest.raises(ValueError, match="max_block"):
        Voice(bundle, max_block=0)
    with pytest.raises(TypeError, match="Bundle"):
        Voice(b"not a bundle")  # type: ignore[arg-type]


def test_unknown_tier(bundle) -> None:
    from voiceskin import Voice, VoiceskinError

    with pytest.raises(VoiceskinError) as ei:
        Voice(bundle, tier="ultra")
    assert ei.value.name == "VSK_ERR_NOT_FOUND"
    assert "'low'" in str(ei.value) and "'high'" in str(ei.value)
    with pytest.raises(VoiceskinError) as ei:
        Voice(bundle, tier=2)
    assert ei.value.name == "VSK_ERR_NOT_FOUND"
    with pytest.raises(VoiceskinError) as ei:
        bundle.find_tier("nope")
    assert ei.value.name == "VSK_ERR_NOT_FOUND"


# ------------------------------------------------------------------- controls

def test_tier_mix_bypass_controls(voice) -> None:
    from voiceskin import VoiceskinError

    assert voice.tier == 0
    voice.tier = "high"
    assert voice.tier == 1 and voice.tier_name == "high"
    voice.tier = 0
    assert voice.tier == 0
    with pytest.raises(VoiceskinError):
        voice.tier = "missing"
    with pytest.raises(VoiceskinError):
        voice.tier = 5
    assert voice.tier == 0
    voice.mix = 0.25
    assert voice.mix == 0.25
    for bad in (-0.1, 1.01, float("nan")):
        with pytest.raises(ValueError, match="mix"):
            voice.mix = bad
    assert voice.mix == 0.25
    voice.bypass = True
    assert voice.bypass is True
    x = np.random.default_rng(0).standard_normal((300, 2)).astype(np.float32)
    assert voice.process(x).shape == x.shape
    voice.reset()
    assert voice.tier == 0 and voice.bypass is True


def test_use_after_close(bundle) -> None:
    from voiceskin import Voice

    v = Voice(bundle)
    v.close()
    v.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        v.process(np.zeros(16, np.float32))
    with pytest.raises(ValueError, match="closed"):
        v.reset()
    bundle.close()
    with pytest.raises(ValueError, match="closed"):
        Voice(bundle)


def test_voice_keeps_bundle_alive(multi_bytes: bytes) -> None:
    from voiceskin import Bundle, Voice

    b = Bundle.from_bytes(multi_bytes)
    v = Voice(b, sample_rate=16000)
    b.close()
    y = v.process(np.ones(512, np.float32))
    assert np.all(np.isfinite(y))


# ------------------------------------------------------------------ behaviour

def test_identity_bundle_delays_input(identity_bytes: bytes) -> None:
    """At the model rate the identity graph returns the input delayed by
    exactly the reported latency."""
    from voiceskin import Bundle, Voice

    with Bundle.from_bytes(identity_bytes) as b:
        v = Voice(b, sample_rate=16000, max_block=128)
        rng = np.random.default_rng(1)
        x = rng.standard_normal(4000).astype(np.float32)
        y = np.concatenate([v.process(x[i:i + 97]) for i in range(0, len(x), 97)])
        lat = v.latency
        assert 0 < lat < 1000
        np.testing.assert_allclose(y[lat:], x[:len(x) - lat], atol=1e-5)
        # in-place processing gives the same result as out-of-place
        v.reset()
        z = x.copy()
        for i in range(0, len(z), 97):
            blk = z[i:i + 97]
            v.process_into(blk, blk)
        np.testing.assert_array_equal(z, y)


def test_linear_bundle_scales(linear_bytes: bytes) -> None:
    from voiceskin import Bundle, Voice

    with Bundle.from_bytes(linear_bytes) as b:
        v = Voice(b, sample_rate=16000, channels=2)
        x = np.random.default_rng(2).standard_normal((2000, 2)).astype(np.float32)
        y = v.process(x)
        lat = v.latency
        mono = x.mean(axis=1)
        # the converted (mono) voice goes to every channel at gain 0.5
        np.testing.assert_allclose(y[lat:, 0], 0.5 * mono[:-lat], atol=1e-5)
        np.testing.assert_allclose(y[lat:, 1], 0.5 * mono[:-lat], atol=1e-5)


# ------------------------------------------------------------ library lookup

def _run_py(code: str, env_extra: dict[str, str]) -> "subprocess.CompletedProcess[str]":
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ)
    env.update(env_extra)
    env["PYTHONPATH"] = os.pathsep.join([str(root / "sdk"), str(root / "tooling")])
    return subprocess.run([sys.executable, "-c", code], env=env, text=True,
                          capture_output=True, timeout=60)


def test_env_library_path_is_used() -> None:
    from voiceskin._ffi import library_path

    r = _run_py("from voiceskin._ffi import get_lib, library_path; get_lib(); "
                "print(library_path())", {"VOICESKIN_LIBRARY": library_path()})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == library_path()


def test_missing_library_is_a_clear_error() -> None:
    r = _run_py("import voiceskin.format\n"          # pure-Python parts still work
                "from voiceskin import Bundle\n"
                "Bundle.from_bytes(b'')\n",
                {"VOICESKIN_LIBRARY": "/nonexistent/libvoiceskin.so"})
    assert r.returncode != 0
    assert "LibraryNotFoundError" in r.stderr and "/nonexistent/libvoiceskin.so" in r.stderr


def test_raw_abi_and_argument_statuses(lib, identity_bytes: bytes) -> None:
    """Statuses only a misbehaving host can provoke, through the raw cffi
    binding, map to VoiceskinError names like every other status."""
    from voiceskin import Bundle, VoiceskinError
    from voiceskin._ffi import ffi
    from voiceskin.errors import check

    def name(st: int) -> str:
        with pytest.raises(VoiceskinError) as ei:
            check(st)
        return ei.value.name

    with Bundle.from_bytes(identity_bytes) as b:
        info = ffi.new("vsk_bundle_info *")
        info.struct_size = ffi.sizeof("vsk_bundle_info") - 4
        assert name(lib.vsk_bundle_get_info(b.ptr, info)) == "VSK_ERR_ABI_MISMATCH"
        cfg = ffi.new("vsk_voice_config *")
        lib.vsk_voice_config_init(cfg)
        cfg.abi_version = 99
        out = ffi.new("vsk_voice **")
        assert name(lib.vsk_voice_create(b.ptr, cfg, out)) == "VSK_ERR_ABI_MISMATCH"
        assert name(lib.vsk_voice_create(b.ptr, ffi.NULL, out)) == "VSK_ERR_INVALID_ARGUMENT"
    rcfg = ffi.new("vsk_registry_config *")
    lib.vsk_registry_config_init(rcfg)
    rcfg.struct_size = 4
    assert name(lib.vsk_registry_create(rcfg, ffi.new("vsk_registry **"))) == \
        "VSK_ERR_ABI_MISMATCH"
    assert name(lib.vsk_bundle_open_memory(ffi.NULL, 100, ffi.new("vsk_bundle **"))) == \
        "VSK_ERR_INVALID_ARGUMENT"
    # every status has a name and a description in the library, and the
    # Python table of names agrees with it
    from voiceskin.errors import status_name

    for code in range(0, -17, -1):
        assert ffi.string(lib.vsk_status_name(code)).decode() == status_name(code)
        assert ffi.string(lib.vsk_status_string(code))
