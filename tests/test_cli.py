"""Every bad-input path of the ``voiceskin`` CLI: a clear one-line error,
exit status 2 (bad input) or 1 (a check failed), and no half-written output.

A small valid bundle for the bundle commands is exported from untrained
students (real student graphs, real native library); nothing here trains.
"""
from __future__ import annotations

import types
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from small_voice import CORPUS, write_voice

from voiceskin_tooling.cli import main


# --------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def student_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    from voiceskin_tooling.pack import save
    from voiceskin_tooling.student import Student, config_from_tier
    from voiceskin_tooling.tiers import get_tier_preset

    torch.manual_seed(0)
    studs = {n: Student(config_from_tier(get_tier_preset(n))).eval() for n in ("low", "medium")}
    voice = types.SimpleNamespace(id="cli.test", display_name="CLI test", version="1.2.3",
                                  tiers=[types.SimpleNamespace(name="low"),
                                         types.SimpleNamespace(name="medium")])
    p = tmp_path_factory.mktemp("bundle") / "cli.vskin"
    save(voice, studs, p, {"format": "voiceskin-qa/1", "note": "untrained"})
    return p


@pytest.fixture()
def wav(tmp_path: Path) -> Path:
    p = tmp_path / "in.wav"
    t = np.arange(16000) / 16000
    sf.write(str(p), (0.2 * np.sin(2 * np.pi * 150 * t)).astype(np.float32), 16000)
    return p


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().err


def _no_temp(folder: Path) -> None:
    left = [p.name for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")]
    assert not left, f"temporary files left behind: {left}"


def _voice_toml(tmp: Path, master: str = "world", preset: str = "low") -> Path:
    return write_voice(tmp / "v.toml", "cli.voice", CORPUS / "target" / "slt",
                       inputs=CORPUS / "speakers", display_name="CLI voice", version="0.1.0",
                       master=master, master_settings={},
                       corpus={"heldout_speakers": ["rms"]},
                       tiers=[{"name": "t0", "preset": preset}])


# ----------------------------------------------------------- the parser


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for c in ("corpus", "distill", "pack", "inspect", "verify", "render", "list"):
        assert c in out


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main([])
    assert e.value.code == 2


# ------------------------------------------------------------- distill


def test_distill_missing_toml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["distill", str(tmp_path / "nope.toml"), "-o", str(tmp_path / "out")]) == 2
    e = _err(capsys)
    assert "nope.toml" in e and "does not exist" in e
    assert not (tmp_path / "out").exists()


def test_distill_bad_toml_syntax(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "bad.toml"
    p.write_text("[voice\nid = 'x'\n", encoding="utf-8")
    assert main(["distill", str(p), "-o", str(tmp_path / "out")]) == 2
    assert "TOML syntax error" in _err(capsys)
    assert not (tmp_path / "out").exists()


def test_distill_unknown_master(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = _voice_toml(tmp_path, master="no-such-master")
    assert main(["distill", str(p), "-o", str(tmp_path / "out")]) == 2
    e = _err(capsys)
    assert "no-such-master" in e and "world" in e  # names the available ones
    assert not (tmp_path / "out").exists()


def test_distill_unknown_tier_preset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = _voice_toml(tmp_path, preset="gigantic")
    assert main(["distill", str(p), "-o", str(tmp_path / "out")]) == 2
    e = _err(capsys)
    assert "gigantic" in e and "low" in e
    assert not (tmp_path / "out").exists()


def test_distill_unknown_tier_subset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = _voice_toml(tmp_path)
    assert main(["distill", str(p), "--tiers", "t0,ultra", "-o", str(tmp_path / "out")]) == 2
    assert "ultra" in _err(capsys)
    assert not (tmp_path / "out").exists()


def test_distill_negative_augment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = _voice_toml(tmp_path)
    assert main(["distill", str(p), "--augment", "-1", "-o", str(tmp_path / "out")]) == 2
    assert "--augment" in _err(capsys)
    assert not (tmp_path / "out").exists()


def test_distill_corpus_without_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = _voice_toml(tmp_path)
    assert main(["distill", str(p), "--corpus", str(tmp_path), "-o", str(tmp_path / "out")]) == 2
    assert "manifest.json" in _err(capsys)


def test_distill_unreadable_reference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref = tmp_path / "ref"
    ref.mkdir()
    (ref / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    p = _voice_toml(tmp_path)
    p.write_text(p.read_text().replace(str(CORPUS / "target" / "slt"), str(ref)))
    assert main(["distill", str(p), "-o", str(tmp_path / "out"), "-q"]) == 2
    assert "broken.wav" in _err(capsys)


def test_duplicate_voice_ids(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = _voice_toml(tmp_path)
    assert main(["distill", str(p), str(p), "-o", str(tmp_path / "out")]) == 2
    assert "twice" in _err(capsys)


# --------------------------------------------------------------- corpus


def test_corpus_missing_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["corpus", str(tmp_path / "missing"), "-o", str(tmp_path / "c")]) == 2
    assert "does not exist" in _err(capsys)
    assert not (tmp_path / "c").exists()


def test_corpus_corrupt_audio_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in"
    for spk in ("a", "b"):
        (src / spk).mkdir(parents=True)
        t = np.arange(32000) / 16000
        sf.write(str(src / spk / "ok.wav"), (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), 16000)
    (src / "a" / "bad.wav").write_bytes(b"this is not audio at all")
    assert main(["corpus", str(src), "-o", str(tmp_path / "c"), "--strict"]) == 2
    assert "bad.wav" in _err(capsys)
    assert not (tmp_path / "c").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".c.")]  # no half-built corpus


def test_corpus_refuses_foreign_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in" / "spk"
    src.mkdir(parents=True)
    sf.write(str(src / "x.wav"), np.zeros(16000, np.float32) + 0.1, 16000)
    out = tmp_path / "notacorpus"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    assert main(["corpus", str(tmp_path / "in"), "-o", str(out)]) == 2
    assert (out / "precious.txt").read_text() == "keep me"


# ----------------------------------------------------------------- pack


def test_pack_without_training(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = _voice_toml(tmp_path)
    dest = tmp_path / "v.vskin"
    assert main(["pack", str(p), "--out", str(tmp_path / "out"), "-o", str(dest)]) == 2
    e = _err(capsys)
    assert "distill" in e and "t0" in e
    assert not dest.exists()


def test_pack_corrupt_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = _voice_toml(tmp_path)
    ck = tmp_path / "out" / "cli.voice" / "tiers" / "t0.pt"
    ck.parent.mkdir(parents=True)
    ck.write_bytes(b"garbage")
    dest = tmp_path / "v.vskin"
    assert main(["pack", str(p), "--out", str(tmp_path / "out"), "-o", str(dest)]) == 2
    assert "unreadable" in _err(capsys)
    assert not dest.exists()
    _no_temp(tmp_path)


# --------------------------------------------------- inspect / verify


@pytest.mark.parametrize("cmd", ["inspect", "verify"])
def test_missing_bundle(cmd: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([cmd, str(tmp_path / "none.vskin")]) == 2
    assert "does not exist" in _err(capsys)


@pytest.mark.parametrize("cmd", ["inspect", "verify"])
@pytest.mark.parametrize("damage,status", [
    ("flip", "VSK_ERR_CHECKSUM"), ("truncate", "VSK_ERR_TRUNCATED"), ("text", "VSK_ERR_BAD_MAGIC"),
])
def test_corrupt_bundle(cmd: str, damage: str, status: str, student_bundle: Path, tmp_path: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    data = bytearray(student_bundle.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0x40
    elif damage == "truncate":
        data = data[: len(data) - 100]
    else:
        data = bytearray(b"hello, I am a text file pretending to be a bundle" * 3)
    bad = tmp_path / "bad.vskin"
    bad.write_bytes(bytes(data))
    assert main([cmd, str(bad)]) == 2
    assert status in _err(capsys)


def test_inspect_and_verify_a_good_bundle(student_bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(student_bundle)]) == 0
    out = capsys.readouterr().out
    assert "CLI test" in out and "medium" in out
    assert main(["verify", str(student_bundle)]) == 0
    assert "verified" in capsys.readouterr().out


def test_verify_fails_on_wrong_student(student_bundle: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """A checkpoint that is not the bundle's network is caught (exit 1)."""
    import torch

    from voiceskin_tooling.student import Student, config_from_tier
    from voiceskin_tooling.tiers import get_tier_preset

    torch.manual_seed(123)
    other = Student(config_from_tier(get_tier_preset("low")))
    with torch.no_grad():
        other.harm_head.bias.fill_(0.5)  # loud, unlike the bundle's quiet init
    ck = tmp_path / "ck"
    ck.mkdir()
    torch.save({"config": other.cfg.to_dict(), "state": other.state_dict()}, ck / "low.pt")
    assert main(["verify", str(student_bundle), "--checkpoints", str(ck)]) == 1
    assert "differs" in _err(capsys)


# --------------------------------------------------------------- render


def test_render_missing_input(student_bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o.wav"
    assert main(["render", str(student_bundle), str(tmp_path / "nope.wav"), str(out)]) == 2
    assert "does not exist" in _err(capsys)
    assert not out.exists()


def test_render_corrupt_audio(student_bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF....WAVEfmt garbage garbage")
    out = tmp_path / "o.wav"
    assert main(["render", str(student_bundle), str(bad), str(out)]) == 2
    assert "cannot decode" in _err(capsys)
    assert not out.exists()
    _no_temp(tmp_path)


def test_render_empty_audio(student_bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.wav"
    sf.write(str(empty), np.zeros(0, np.float32), 16000)
    out = tmp_path / "o.wav"
    assert main(["render", str(student_bundle), str(empty), str(out)]) == 2
    assert "no samples" in _err(capsys)
    assert not out.exists()


def test_render_unknown_tier(student_bundle: Path, wav: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o.wav"
    assert main(["render", str(student_bundle), str(wav), str(out), "--tier", "ultra"]) == 2
    e = _err(capsys)
    assert "ultra" in e and "low" in e
    assert main(["render", str(student_bundle), str(wav), str(out), "--tier", "7"]) == 2
    assert "out of range" in _err(capsys)
    assert not out.exists()


def test_render_bad_output_name(student_bundle: Path, wav: Path, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", str(student_bundle), str(wav), str(tmp_path / "o.mp3")]) == 2
    assert ".wav" in _err(capsys)
    assert not (tmp_path / "o.mp3").exists()


def test_render_corrupt_bundle_leaves_old_output(student_bundle: Path, wav: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o.wav"
    out.write_bytes(b"previous result")
    bad = tmp_path / "bad.vskin"
    data = bytearray(student_bundle.read_bytes())
    data[100] ^= 1
    bad.write_bytes(bytes(data))
    assert main(["render", str(bad), str(wav), str(out)]) == 2
    assert "VSK_ERR_CHECKSUM" in _err(capsys)
    assert out.read_bytes() == b"previous result"
    _no_temp(tmp_path)


def test_render_good(student_bundle: Path, wav: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.wav"
    assert main(["render", str(student_bundle), str(wav), str(out), "--tier", "medium"]) == 0
    y, sr = sf.read(str(out), dtype="float32")
    x, _ = sf.read(str(wav), dtype="float32")
    assert sr == 16000 and len(y) == len(x) and np.all(np.isfinite(y))
    _no_temp(tmp_path)


def test_render_stereo_48k(student_bundle: Path, tmp_path: Path) -> None:
    p = tmp_path / "st.flac"
    t = np.arange(48000) / 48000
    s = (0.2 * np.sin(2 * np.pi * 180 * t)).astype(np.float32)
    sf.write(str(p), np.stack([s, s], 1), 48000)
    out = tmp_path / "o.wav"
    assert main(["render", str(student_bundle), str(p), str(out)]) == 0
    y, sr = sf.read(str(out), dtype="float32", always_2d=True)
    assert sr == 48000 and y.shape == (48000, 2)


# ----------------------------------------------------------------- list


def test_list_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in _err(capsys)


def test_list_skips_corrupt(student_bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "voices"
    d.mkdir()
    (d / "good.vskin").write_bytes(student_bundle.read_bytes())
    (d / "bad.vskin").write_bytes(b"junk" * 40)
    assert main(["list", str(d), "--plugins"]) == 0
    out = capsys.readouterr().out
    assert "cli.test" in out and "1 skipped" in out and "world" in out
