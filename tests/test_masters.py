"""Masters: the registry (built-ins + entry points), the WORLD master on real
speech from data/corpus, and the TorchScript / ONNX file adapters."""
from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from small_voice import corpus_audio

from plugin_helpers import fake_distribution
from voiceskin_tooling.masters import (
    MasterError,
    MasterOutput,
    UnknownMasterError,
    available_masters,
    get_master,
)
from voiceskin_tooling.pitchmap import pitch_map_np

SR = 16000

TOY_SOURCE = """
    import numpy as np
    from voiceskin_tooling.masters.base import Master, MasterOutput

    class ToyMaster(Master):
        name = "toy"

        def __init__(self, gain=1.0, sample_rate=16000, hop=64):
            self.gain, self.sample_rate, self.hop = float(gain), sample_rate, hop
            self.refs = 0

        def fit(self, reference_audio, sample_rate):
            self.refs = len(reference_audio)

        def convert(self, audio, sample_rate):
            y = np.asarray(audio, dtype=np.float32) * self.gain
            return MasterOutput(audio=y, f0=None, voicing=None, sample_rate=sample_rate, hop=self.hop)

    def broken():
        raise RuntimeError("boom")
"""


# ---------------------------------------------------------------- registry


def test_builtins_listed() -> None:
    avail = available_masters()
    assert {"world", "torchscript", "onnx"} <= set(avail)
    assert avail["world"] == "builtin"


def test_unknown_master_lists_available() -> None:
    with pytest.raises(UnknownMasterError) as e:
        get_master("no-such-master")
    msg = str(e.value)
    assert "no-such-master" in msg and "world" in msg and "onnx" in msg and "voiceskin.masters" in msg


def test_bad_settings_are_a_master_error() -> None:
    with pytest.raises(MasterError, match="world"):
        get_master("world", no_such_setting=1)
    with pytest.raises(MasterError, match="warp_mode"):
        get_master("world", warp_mode="sideways")


def test_entry_point_master(tmp_path: Path) -> None:
    remove = fake_distribution(
        tmp_path, "toy_masters",
        {"voiceskin.masters": {"toy": "toy_masters_mod:ToyMaster", "broken": "toy_masters_mod:broken",
                               "missing": "toy_masters_nowhere:Nothing"}},
        {"toy_masters_mod": TOY_SOURCE},
    )
    try:
        avail = available_masters()
        assert "toy" in avail and "toy_masters" in avail["toy"] and "world" in avail
        m = get_master("toy", gain=0.5)
        assert type(m).__name__ == "ToyMaster" and m.gain == 0.5
        m.fit([np.zeros(100, np.float32)], SR)
        out = m.convert(np.ones(256, np.float32), SR)
        assert isinstance(out, MasterOutput) and np.allclose(out.audio, 0.5)
        with pytest.raises(UnknownMasterError, match="toy"):  # the list now names the plugin too
            get_master("nope")
        with pytest.raises(MasterError, match="boom|broken"):
            get_master("broken")
        with pytest.raises(Exception, match="missing.*failed to load"):
            get_master("missing")
    finally:
        remove()
    assert "toy" not in available_masters()


def test_entry_point_cannot_shadow_builtin(tmp_path: Path) -> None:
    remove = fake_distribution(tmp_path, "shadow", {"voiceskin.masters": {"world": "shadow_mod:ToyMaster"}},
                               {"shadow_mod": TOY_SOURCE})
    try:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            avail = available_masters()
        assert avail["world"] == "builtin"
        assert any("collides with a built-in" in str(x.message) for x in w)
    finally:
        remove()


# ---------------------------------------------------------------- WORLD master


def _files(speaker: str, n: int, sub: str = "speakers") -> list[np.ndarray]:
    return corpus_audio(speaker, n, sub, SR)


@pytest.fixture(scope="module")
def world():
    m = get_master("world", f0_method="dio")  # WORLD's own tracker (the yin default is tested below)
    m.fit(_files("slt", 5, "target"), SR)
    return m


def _log_f0_mean(f0: np.ndarray) -> float:
    return float(np.mean(np.log(f0[f0 > 0])))


def _ltas(x: np.ndarray, n_fft: int = 512) -> np.ndarray:
    from voiceskin_tooling.masters.evaluate import long_term_logmel

    return long_term_logmel([x], SR, n_fft)


def test_world_unfitted_is_an_error() -> None:
    with pytest.raises(MasterError, match="not fitted"):
        get_master("world").convert(np.zeros(1600, np.float32), SR)


def test_world_moves_input_toward_target(world) -> None:
    from voiceskin_tooling.masters.world import analyze

    target_mu = world.pitch_params().target_mu
    assert 4.9 < target_mu < 5.4  # slt speaks around 150..200 Hz
    assert 1.05 < world.config()["target"]["formant_scale"] < 1.5  # female target: formants above the population
    tgt_ltas = np.mean([_ltas(x) for x in _files("slt", 5, "target")], axis=0)
    for spk in ("rms", "kal"):  # an unseen male, a training male
        x = np.concatenate(_files(spk, 2))
        out = world.convert(x, SR)
        assert out.audio.dtype == np.float32 and len(out.audio) == len(x)
        assert out.sample_rate == SR and out.hop == 64
        n = len(x) // 64 + 1
        assert out.f0.shape == (n,) and out.voicing.shape == (n,)
        for k, v in out.features.items():
            assert v.shape[0] == n, k
        # the F0 track is exactly the causal PITCH_MAP definition applied to the source F0
        src = out.features["source_f0"]
        ref = pitch_map_np(src, (src > 0).astype(np.float64), world.pitch_params())
        np.testing.assert_allclose(out.f0, ref, rtol=1e-5)
        # measured on the audio: F0 moves most of the way to the target's
        f_in = analyze(x, SR, 64)[0]
        f_out = analyze(out.audio, SR, 64)[0]
        d_in = abs(_log_f0_mean(f_in) - target_mu)
        d_out = abs(_log_f0_mean(f_out) - target_mu)
        assert d_in > 0.3 and d_out < 0.35 * d_in, (spk, d_in, d_out)
        # the long-term spectrum gets much closer to the target's
        s_in = np.sqrt(np.mean((_ltas(x) - tgt_ltas) ** 2))
        s_out = np.sqrt(np.mean((_ltas(out.audio) - tgt_ltas) ** 2))
        assert s_out < 0.6 * s_in, (spk, s_in, s_out)
        # the formant warp moves a male voice up
        assert out.features["warp"][-1] > 1.05
        # loudness follows the input frame by frame (no utterance-wide gain)
        rms_db = lambda a: 10 * np.log10(np.mean(a.astype(np.float64) ** 2))  # noqa: E731
        assert abs(rms_db(out.audio) - rms_db(x)) < 2.0
        assert np.abs(out.audio).max() <= 1.0


def test_world_source_statistics_are_causal(world) -> None:
    """Appending audio after a point must not change the warp chosen before it
    (up to WORLD's own analysis window near the junction)."""
    a = np.concatenate(_files("kal", 2))
    b = np.concatenate(_files("awb_hi", 2))
    out_a = world.convert(a, SR)
    out_ab = world.convert(np.concatenate([a, b]), SR)
    k = len(a) // 64 - 40
    np.testing.assert_allclose(out_ab.features["warp"][:k], out_a.features["warp"][:k], rtol=2e-3)
    np.testing.assert_allclose(out_ab.f0[:k], out_a.f0[:k], rtol=2e-3, atol=0.5)


def test_world_yin_mode_is_the_runtime_pitch_path() -> None:
    """f0_method="yin": the master's F0 is PITCH_MAP(PITCH_YIN(FRAME)) of the
    reference ops — what the student's graph computes — frame for frame."""
    from voiceskin_tooling.masters.world import yin_track

    m = get_master("world", yin_frame=512, f0_floor=60.0, f0_ceil=600.0)  # f0_method="yin" is the default
    m.fit(_files("slt", 3, "target"), SR)
    x = _files("rms", 1)[0]
    out = m.convert(x, SR)
    yf, yv = yin_track(x, SR, 64, 512, 60.0, 600.0, 0.15)
    ref = pitch_map_np(yf, yv, m.pitch_params())
    voiced = (yv >= 0.5) & (yf > 0)
    assert voiced.mean() > 0.4
    np.testing.assert_allclose(out.f0[voiced], ref[voiced], rtol=1e-6)
    assert np.all(out.f0[~voiced] == 0)
    assert m.config()["f0_method"] == "yin" and m.config()["yin_frame"] == 512


def test_world_state_roundtrip_and_fingerprint(world) -> None:
    m2 = get_master("world", f0_method="dio")
    m2.load_state_dict(world.state_dict())
    assert m2.fingerprint() == world.fingerprint()
    assert get_master("world", eq_strength=0.5).fingerprint() != get_master("world").fingerprint()
    x = _files("rms", 1)[0]
    np.testing.assert_allclose(m2.convert(x, SR).audio, world.convert(x, SR).audio, atol=1e-6)


def test_world_resamples_input(world) -> None:
    import soxr

    x = _files("rms", 1)[0]
    x44 = soxr.resample(x, SR, 44100).astype(np.float32)
    out = world.convert(x44, 44100)
    assert out.sample_rate == SR and abs(len(out.audio) - len(x)) <= 1


# ---------------------------------------------------------------- file masters


def _torch_module(with_f0: bool):
    import torch

    class Gain(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv1d(1, 1, 3, padding=1, bias=False)
            with torch.no_grad():
                self.conv.weight.copy_(torch.tensor([[[0.25, 0.5, 0.25]]]))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv(x[:, None, :])[:, 0, :]

    class GainF0(Gain):
        def forward(self, x: torch.Tensor):  # type: ignore[override]
            y = self.conv(x[:, None, :])[:, 0, :]
            f0 = torch.full((x.shape[1] // 64 + 1,), 200.0)
            return y, f0, torch.ones_like(f0)

    return (GainF0 if with_f0 else Gain)().eval()


@pytest.mark.parametrize("with_f0", [False, True])
def test_torchscript_master(tmp_path: Path, with_f0: bool) -> None:
    import torch

    mod = _torch_module(with_f0)
    path = tmp_path / "m.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # jit is deprecated in torch 2.9+, still supported
        torch.jit.save(torch.jit.script(mod), str(path))
    m = get_master("torchscript", path=str(path))
    m.fit([], SR)  # any-to-one: nothing to learn
    x = _files("rms", 1)[0]
    out = m.convert(x, SR)
    ref = np.convolve(x, [0.25, 0.5, 0.25], mode="same")
    np.testing.assert_allclose(out.audio, ref, atol=1e-5)
    if with_f0:
        assert out.f0.shape == (len(x) // 64 + 1,) and np.all(out.f0 == 200.0)
    else:
        assert out.f0 is None and out.voicing is None
    assert m.config()["sha256"] and m.fingerprint()


def _onnx_model(path: Path, with_f0: bool) -> None:
    import onnx
    from onnx import TensorProto, helper

    nodes = [helper.make_node("Mul", ["audio", "g"], ["out"])]
    outputs = [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, "T"])]
    inits = [helper.make_tensor("g", TensorProto.FLOAT, [], [0.5])]
    if with_f0:  # f0 = 100 Hz on every hop: Slice(audio) * 0 + 100
        inits += [helper.make_tensor("c", TensorProto.FLOAT, [], [100.0]),
                  helper.make_tensor("z", TensorProto.FLOAT, [], [0.0]),
                  helper.make_tensor("st", TensorProto.INT64, [1], [0]),
                  helper.make_tensor("en", TensorProto.INT64, [1], [2 ** 62]),
                  helper.make_tensor("ax", TensorProto.INT64, [1], [1]),
                  helper.make_tensor("sp", TensorProto.INT64, [1], [64])]
        nodes += [helper.make_node("Slice", ["audio", "st", "en", "ax", "sp"], ["s"]),
                  helper.make_node("Mul", ["s", "z"], ["s0"]),
                  helper.make_node("Add", ["s0", "c"], ["f0"])]
        outputs.append(helper.make_tensor_value_info("f0", TensorProto.FLOAT, [1, "F"]))
    graph = helper.make_graph(nodes, "gain", [helper.make_tensor_value_info("audio", TensorProto.FLOAT, [1, "T"])],
                              outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


@pytest.mark.parametrize("with_f0", [False, True])
def test_onnx_master(tmp_path: Path, with_f0: bool) -> None:
    path = tmp_path / "m.onnx"
    _onnx_model(path, with_f0)
    m = get_master("onnx", path=str(path), delay_samples=0)
    x = _files("kal", 1)[0]
    out = m.convert(x, SR)
    np.testing.assert_allclose(out.audio, 0.5 * x, atol=1e-7)
    if with_f0:
        n = len(x) // 64 + 1
        assert out.f0.shape == (n,) and out.f0[: math.ceil(len(x) / 64)].min() == 100.0
        assert out.voicing is None
    else:
        assert out.f0 is None


def test_file_master_errors(tmp_path: Path) -> None:
    with pytest.raises(MasterError, match="does not exist"):
        get_master("onnx", path=str(tmp_path / "nope.onnx"))
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a model")
    with pytest.raises(MasterError, match="cannot load"):
        get_master("torchscript", path=str(bad))
    bad2 = tmp_path / "bad.onnx"
    bad2.write_bytes(b"not a model")
    with pytest.raises(MasterError, match="cannot load"):
        get_master("onnx", path=str(bad2))
