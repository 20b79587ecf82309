"""The shipped corpus and its generator (voiceskin_tooling.corpus_gen).

The corpus in data/corpus is generated data checked into the repository: these
tests hold it to the generator's roster, and check that the other-language
festival voices are fed text in the encoding they read (UTF-8 makes them spell
out the bytes of every accented letter, which still "works" but is not speech).
"""
from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voiceskin_tooling import corpus_gen
from voiceskin_tooling.corpus_gen import SENTENCES_BY_LANG, VOICES, shipped_corpus

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "corpus"


def test_shipped_corpus_matches_the_generator_roster():
    meta = json.loads((CORPUS / "corpus.json").read_text(encoding="utf-8"))
    assert list(meta["speakers"]) == [v.name for v in VOICES]
    for v in VOICES:
        m = meta["speakers"][v.name]
        assert m["role"] == v.role and m["sentences"] == list(v.sentences)
        folder = CORPUS / ("target" if v.role == "target" else "speakers") / v.name
        files = sorted(folder.glob("*.flac"))
        assert len(files) == m["utterances"] == (len(v.takes) or len(v.sentences)), v.name
        assert all(sf.info(f).samplerate == corpus_gen.SAMPLE_RATE for f in files)


def test_shipped_corpus_keeps_target_and_heldout_apart_from_training():
    info = shipped_corpus(CORPUS)
    train, held = set(info.train_speakers), set(info.heldout_speakers)
    assert not train & held
    assert info.target_speaker not in train | held
    assert not (info.inputs[0] / info.target_speaker).exists()
    # perturbed copies never cross the split: a held-out person stays unseen
    for v in VOICES:
        if v.kind == "perturb":
            base = next(b for b in VOICES if b.name == v.arg)
            assert base.role == v.role, v.name
    meta = json.loads((CORPUS / "corpus.json").read_text(encoding="utf-8"))
    people = set(meta["real_people"])
    assert len(people & train) >= 10 and len(people & held) >= 3


def _seconds(path: Path) -> float:
    i = sf.info(path)
    return i.frames / i.samplerate


@pytest.mark.parametrize("lang", ["cs", "fi", "ca"])
def test_festival_voices_get_text_in_the_encoding_they_read(lang, tmp_path):
    if not shutil.which("text2wave"):
        pytest.fail("festival's text2wave is not installed: run scripts/setup.sh")
    voice = next(v for v in VOICES if v.kind == "festival" and v.lang == lang)
    text = max(SENTENCES_BY_LANG[lang], key=lambda s: sum(not c.isascii() for c in s))
    declared, utf8 = tmp_path / "declared.wav", tmp_path / "utf8.wav"
    try:
        corpus_gen._synth(voice, text, declared)
        corpus_gen._synth(dataclasses.replace(voice, encoding="utf-8"), text, utf8)
    except Exception as exc:  # the voice package is missing
        pytest.fail(f"{voice.arg} failed ({exc}): install {voice.source} via scripts/setup.sh")
    words = len(text.split())
    # speech runs at roughly 2-4 words per second; spelt-out bytes are far slower
    assert 0.15 < _seconds(declared) / words < 0.8
    assert _seconds(utf8) > 1.2 * _seconds(declared)


def test_speak_renders_a_corpus_file_as_the_generator_did_and_reads_any_sentence(tmp_path):
    if not shutil.which("text2wave"):
        pytest.fail("festival's text2wave is not installed: run scripts/setup.sh")
    sentence = corpus_gen.SENTENCE_SETS["main"]["en"][3]
    shipped, _ = sf.read(CORPUS / "target" / "slt" / "slt_03.flac", dtype="float32")
    y = corpus_gen.speak("slt", sentence, tmp_path)
    assert len(y) == len(shipped)
    assert np.max(np.abs(y - shipped)) < 1e-4  # FLAC's 16-bit step is 3e-5
    # a sentence in no sentence set is trimmed and levelled as corpus files are
    text = "The owl watched silently from the branch above us."
    z = corpus_gen.speak("slt", text, tmp_path)
    assert abs(10 * np.log10(np.mean(z.astype(np.float64) ** 2)) + 22.0) < 0.5
    assert 0.15 < len(z) / corpus_gen.SAMPLE_RATE / len(text.split()) < 0.8
    assert np.max(np.abs(z[:80])) < 0.05 and np.max(np.abs(z)) > 0.2  # starts in the trimmed pause
    with pytest.raises(ValueError, match="not a synthesizer voice"):
        corpus_gen.speak("awb_arctic", text, tmp_path)  # a recording
