"""Corpus builder on real speech files of several rates, channel counts and
formats (wav, flac, ogg), a corrupt file, and a held-out split by speaker."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from voiceskin_tooling.corpus import (
    CorpusError,
    build_corpus,
    find_speakers,
    load_manifest,
    read_audio,
    trim_silence,
)

ROOT = Path(__file__).resolve().parents[1]
SPEAKERS = ROOT / "data" / "corpus" / "speakers"


def _speech(speaker: str, i: int = 0) -> np.ndarray:
    f = sorted((SPEAKERS / speaker).glob("*.flac"))[i]
    return read_audio(f)[0]


def _write(path: Path, x: np.ndarray, rate: int, channels: int = 1, fmt: str = "WAV",
           subtype: str | None = None, silence: float = 0.5) -> float:
    """Write speech x (16 kHz) at `rate` with `silence` s of low noise around it."""
    y = soxr.resample(x, 16000, rate).astype(np.float32)
    pad = (np.random.default_rng(0).standard_normal(int(silence * rate)) * 1e-4).astype(np.float32)
    y = np.concatenate([pad, y, pad])
    data = np.stack([y * (0.9 if c else 1.0) for c in range(channels)], axis=1) if channels > 1 else y
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), data, rate, format=fmt, subtype=subtype)
    return len(x) / 16000


@pytest.fixture()
def inputs(tmp_path: Path) -> tuple[Path, dict[str, float]]:
    root = tmp_path / "in"
    dur = {
        "alice": _write(root / "alice" / "a1.wav", _speech("kal", 0), 44100, 2, "WAV", "PCM_16")
        + _write(root / "alice" / "sub" / "a2.flac", _speech("kal", 1), 22050, 1, "FLAC"),
        "bob": _write(root / "bob" / "b1.ogg", _speech("rms", 0), 48000, 2, "OGG", "VORBIS")
        + _write(root / "bob" / "b2.wav", _speech("rms", 1), 8000, 1, "WAV", "FLOAT"),
        "carol": _write(root / "carol" / "c1.flac", _speech("esp_gb_f2", 0), 32000, 3, "FLAC"),
    }
    (root / "carol" / "notes.txt").write_text("not audio")
    return root, dur


def test_build_mixed_formats_and_split(inputs, tmp_path: Path) -> None:
    root, dur = inputs
    out = tmp_path / "corpus"
    calls = []
    m = build_corpus([root], out, sample_rate=16000, chunk_seconds=1.5, heldout_speakers=["bob"],
                     min_chunk_seconds=0.5, progress=lambda d, t, f: calls.append((d, t)))
    assert calls[-1] == (5, 5)
    assert m.train_speakers == ["alice", "carol"] and m.heldout_speakers == ["bob"]
    assert {e.speaker for e in m.train} == {"alice", "carol"}
    assert {e.speaker for e in m.heldout} == {"bob"}
    assert not m.skipped
    for e in m.entries:
        assert e.path.startswith(f"{e.split}/{e.speaker}/")
        info = sf.info(str(out / e.path))
        assert info.samplerate == 16000 and info.channels == 1 and info.format == "FLAC"
        # training chunks are chunk_seconds long; validation files stay whole
        assert 0.5 <= info.duration <= (1.5 + 1e-3 if e.split == "train" else 99)
        x = m.load(e)
        assert x.dtype == np.float32 and np.abs(x).max() > 0.01
    # silence trimmed: the chunks add up to about the speech, not the padded files
    for spk, d in dur.items():
        got = sum(e.seconds for e in m.entries if e.speaker == spk)
        assert d - 1.0 <= got <= d + 0.4, (spk, d, got)
    # manifest on disk round-trips; no temp folders left behind
    m2 = load_manifest(out)
    assert m2.entries == m.entries and m2.sample_rate == 16000
    assert json.loads((out / "manifest.json").read_text())["seconds"]["validation"] > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus", "in"]


def test_resampling_is_real(tmp_path: Path) -> None:
    # a 1 kHz tone at 44.1 kHz stereo must come out as a 1 kHz tone at 16 kHz
    t = np.arange(int(44100 * 1.2)) / 44100
    tone = 0.5 * np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    f = tmp_path / "in" / "tone" / "t.wav"
    f.parent.mkdir(parents=True)
    sf.write(str(f), np.stack([tone, tone], 1), 44100)
    m = build_corpus([tmp_path / "in"], tmp_path / "c", chunk_seconds=2.0, heldout_fraction=0.0)
    x = m.load(m.entries[0])
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    peak_hz = np.argmax(spec) * 16000 / len(x)
    assert abs(peak_hz - 1000) < 5
    assert abs(len(x) / 16000 - 1.2) < 0.05


def test_corrupt_file_skip_and_fail(inputs, tmp_path: Path, caplog) -> None:
    root, _ = inputs
    bad = root / "bob" / "broken.wav"
    bad.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 7)  # truncated header
    with caplog.at_level(logging.WARNING, logger="voiceskin_tooling.corpus"):
        m = build_corpus([root], tmp_path / "c1", heldout_speakers=["bob"])
    assert [s["file"] for s in m.skipped] == [str(bad)]
    assert "broken.wav" in caplog.text
    assert {e.speaker for e in m.heldout} == {"bob"}  # bob's good files still used
    with pytest.raises(CorpusError, match="broken.wav"):
        build_corpus([root], tmp_path / "c2", heldout_speakers=["bob"], on_corrupt="fail")
    assert not (tmp_path / "c2").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".c2")]


def test_failed_rebuild_keeps_old_corpus(inputs, tmp_path: Path) -> None:
    root, _ = inputs
    out = tmp_path / "c"
    first = build_corpus([root], out, heldout_speakers=["carol"])
    (root / "alice" / "zz.wav").write_bytes(b"garbage")
    with pytest.raises(CorpusError, match="zz.wav"):
        build_corpus([root], out, heldout_speakers=["carol"], on_corrupt="fail")
    assert load_manifest(out).entries == first.entries


def test_heldout_fraction_is_by_speaker_and_deterministic(inputs, tmp_path: Path) -> None:
    root, _ = inputs
    a = build_corpus([root], tmp_path / "a", heldout_fraction=0.34)
    b = build_corpus([root], tmp_path / "b", heldout_fraction=0.34)
    assert a.heldout_speakers == b.heldout_speakers and len(a.heldout_speakers) == 1
    assert not set(a.heldout_speakers) & {e.speaker for e in a.train}


def test_input_errors(tmp_path: Path, inputs) -> None:
    root, _ = inputs
    with pytest.raises(CorpusError, match="does not exist"):
        build_corpus([tmp_path / "missing"], tmp_path / "o")
    empty = tmp_path / "empty" / "spk"
    empty.mkdir(parents=True)
    (empty / "readme.txt").write_text("x")
    with pytest.raises(CorpusError, match="no audio files"):
        build_corpus([tmp_path / "empty"], tmp_path / "o")
    with pytest.raises(CorpusError, match="dave.*not found.*alice"):
        build_corpus([root], tmp_path / "o", heldout_speakers=["dave"])
    with pytest.raises(CorpusError, match="every speaker"):
        build_corpus([root], tmp_path / "o", heldout_speakers=["alice", "bob", "carol"])
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(CorpusError, match="not a corpus folder"):
        build_corpus([root], other)
    assert (other / "keep.txt").read_text() == "mine"
    only_bad = tmp_path / "onlybad" / "x"
    only_bad.mkdir(parents=True)
    (only_bad / "a.flac").write_bytes(b"fLaC nope")
    with pytest.raises(CorpusError, match="no usable audio"):
        build_corpus([tmp_path / "onlybad"], tmp_path / "o")


def test_files_at_top_level_belong_to_the_folder(tmp_path: Path) -> None:
    d = tmp_path / "solo"
    _write(d / "x.wav", _speech("awb", 0), 16000)
    assert list(find_speakers([d])) == ["solo"]


def test_trim_silence() -> None:
    sr = 16000
    x = _speech("ked", 0)
    gap = np.zeros(sr, np.float32)
    y = trim_silence(np.concatenate([gap, x[: sr], gap, x[sr: 2 * sr], gap]), sr,
                     pad_seconds=0.0, max_pause_seconds=0.3)
    assert 2.0 <= len(y) / sr <= 2.0 + 0.3 + 0.05  # the inner 1 s pause shrinks to 0.3 s
    assert trim_silence(np.zeros(sr, np.float32), sr).size == 0
