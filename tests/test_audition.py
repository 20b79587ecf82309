"""`voiceskin audition`: one real recording through the real master and every
tier of the real native runtime, written side by side for a listener.

The tiers are untrained students (nothing here trains): what is checked is
the plumbing a voice designer relies on — every file is there, has the
input's rate, length and channels, the tiers are what the native runtime
renders, and the master really converts (its pitch moves toward the target).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from small_voice import CORPUS, write_voice

from voiceskin_tooling.cli import main

TIERS = ("low", "medium")


def _voice(tmp: Path) -> Path:
    return write_voice(tmp / "v.toml", "aud.voice", CORPUS / "target" / "slt",
                       display_name="Audition voice", version="0.1.0", tiers=TIERS)


@pytest.fixture(scope="module")
def trained_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An out/ folder holding a checkpoint per tier (untrained weights)."""
    import torch

    from voiceskin_tooling.student import Student, config_from_tier
    from voiceskin_tooling.tiers import get_tier_preset

    out = tmp_path_factory.mktemp("out")
    torch.manual_seed(0)
    for name in TIERS:
        m = Student(config_from_tier(get_tier_preset(name))).eval()
        p = out / "aud.voice" / "tiers" / f"{name}.pt"
        p.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"config": m.cfg.to_dict(), "state": m.state_dict(), "train": {}}, p)
    return out


def test_audition_writes_master_and_every_tier_at_the_inputs_rate(trained_out: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from voiceskin_tooling.qa import f0_track

    src = CORPUS / "speakers" / "rms" / "rms_00.flac"   # a US man
    x16, sr16 = sf.read(str(src), dtype="float32")
    import soxr

    x = soxr.resample(x16, sr16, 48000).astype(np.float32)
    inp = tmp_path / "take.wav"
    sf.write(str(inp), np.stack([x, 0.5 * x], 1), 48000)      # stereo, 48 kHz
    out = tmp_path / "aud"
    assert main(["audition", str(_voice(tmp_path)), str(inp), str(out), "--out", str(trained_out)]) == 0
    assert "audition.html" in capsys.readouterr().out
    for name in ("input", "master", *TIERS):
        y, sr = sf.read(str(out / f"{name}.wav"), dtype="float32", always_2d=True)
        assert sr == 48000 and len(y) == len(x), name
        assert np.all(np.isfinite(y)), name
        assert y.shape[1] == (1 if name == "master" else 2), name
    summary = json.loads((out / "audition.json").read_text())
    assert list(summary["files"]) == ["input", "master", *TIERS]
    page = (out / "audition.html").read_text()
    assert all(f'src="{n}.wav"' in page for n in ("input", "master", *TIERS))
    # the master converts: a man's median F0 moves up toward slt's (~170 Hz)
    m, _ = sf.read(str(out / "master.wav"), dtype="float32")
    f_in = f0_track(soxr.resample(x, 48000, 16000), 16000)
    f_m = f0_track(soxr.resample(m, 48000, 16000), 16000)
    assert np.median(f_m[f_m > 0]) > 1.3 * np.median(f_in[f_in > 0])


def test_audition_tiers_are_the_native_runtimes_render(trained_out: Path, tmp_path: Path) -> None:
    """A packed bundle given with --bundle is what renders the tiers: the same
    samples `voiceskin render` writes for that bundle and tier."""
    v = _voice(tmp_path)
    bundle = tmp_path / "b.vskin"
    assert main(["pack", str(v), "--out", str(trained_out), "-o", str(bundle)]) == 0
    inp = CORPUS / "speakers" / "it_lp" / "it_lp_00.flac"
    out = tmp_path / "aud"
    assert main(["audition", str(v), str(inp), str(out), "--bundle", str(bundle)]) == 0
    ref = tmp_path / "medium.wav"
    assert main(["render", str(bundle), str(inp), str(ref), "--tier", "medium"]) == 0
    a, _ = sf.read(str(out / "medium.wav"), dtype="float32")
    b, _ = sf.read(str(ref), dtype="float32")
    assert np.array_equal(a, b)


def test_audition_without_trained_tiers_is_bad_input_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "aud"
    inp = CORPUS / "speakers" / "rms" / "rms_00.flac"
    rc = main(["audition", str(_voice(tmp_path)), str(inp), str(out), "--out", str(tmp_path / "none")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "voiceskin distill" in err and "low" in err
    assert not out.exists()


def test_audition_missing_input(trained_out: Path, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["audition", str(_voice(tmp_path)), str(tmp_path / "nope.wav"), str(tmp_path / "o"),
               "--out", str(trained_out)])
    assert rc == 2 and "does not exist" in capsys.readouterr().err
