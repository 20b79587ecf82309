"""The three splits (train / validation / test) end to end: the shipped
corpus keeps them apart (no test speaker or sentence is seen in train or
validation, the target is never an input), every English validation/test file
has its sentence, build_corpus / `voiceskin corpus` read transcripts and keep
QA files whole, and distill.build_cache carries split, text and the identity
cohort."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from small_voice import copy_reference, copy_speakers, write_voice

from voiceskin_tooling.corpus import CorpusError, build_corpus, load_manifest
from voiceskin_tooling.corpus_gen import (
    SENTENCES_BY_LANG,
    TEST_SENTENCES_BY_LANG,
    VOICES,
    shipped_corpus,
)

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "corpus"
META = json.loads((CORPUS / "corpus.json").read_text(encoding="utf-8"))


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w']+", " ", text.lower()).split())


# ---------------------------------------------------------------- the shipped corpus


def test_shipped_splits_are_disjoint_and_the_target_is_never_an_input():
    info = shipped_corpus(CORPUS)
    train, val, test = set(info.train_speakers), set(info.validation_speakers), set(info.test_speakers)
    assert train and val and test
    assert not train & val and not train & test and not val & test
    assert info.heldout_speakers == info.validation_speakers  # the older name still works
    assert val == {"rms", "rms_hi", "rms_lo", "esp_car_f3", "it_lp", "fi_mv"}
    on_disk = {d.name for d in (CORPUS / "speakers").iterdir() if d.is_dir()}
    assert on_disk == train | val | test  # every input folder is in exactly one split
    assert info.target_speaker not in on_disk
    for v in VOICES:  # no input is made from the target, directly or through a copy
        assert v.role == "target" or "slt" not in (v.name, v.arg), v.name
    # WORLD-shifted copies stay in their base voice's split
    for v in VOICES:
        if v.kind == "perturb":
            assert next(b for b in VOICES if b.name == v.arg).role == v.role, v.name
    # test people are new, but for the two deliberately seen awb voices
    seen = META["seen_people_in_test"]
    assert set(seen) == {"awb_test", "awb_arctic"} and set(seen.values()) <= train
    assert 8 <= len(test) <= 10


def test_test_sentences_are_new_and_read_by_test_speakers_only():
    main = {_norm(s) for lines in SENTENCES_BY_LANG.values() for s in lines}
    new = [s for lines in TEST_SENTENCES_BY_LANG.values() for s in lines]
    assert len(TEST_SENTENCES_BY_LANG["en"]) >= 20
    assert all(6 <= len(s.split()) <= 14 for s in TEST_SENTENCES_BY_LANG["en"])
    assert not {_norm(s) for s in new} & main
    assert len({_norm(s) for s in new}) == len(new)
    texts = {"train": set(), "validation": set(), "test": set()}
    for name, spk in META["speakers"].items():
        if spk["role"] in texts:
            texts[spk["role"]] |= {_norm(f["text"]) for f in spk["files"]}
    assert not texts["test"] & (texts["train"] | texts["validation"])
    # sentences_test.txt holds exactly the test sentences and nothing a train voice reads
    lines = [ln for ln in (CORPUS / "sentences_test.txt").read_text(encoding="utf-8").splitlines()
             if ln and not ln.startswith("[")]
    assert sorted(lines) == sorted(new)
    for v in VOICES:
        assert (v.sset == "test") == (v.role == "test"), v.name


def test_every_file_has_its_sentence_language_and_source():
    tsv = {}
    for line in (CORPUS / "speakers" / "transcripts.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            path, text, lang = line.split("\t")
            tsv[path] = (text, lang)
    n_en_qa = 0
    for name, spk in META["speakers"].items():
        files = sorted(p.relative_to(CORPUS).as_posix() for p in (CORPUS / ("target" if spk["role"] == "target"
                                                                             else "speakers") / name).glob("*.flac"))
        assert [f["file"] for f in spk["files"]] == files, name
        for f in spk["files"]:
            assert f["text"] and f["language"] == spk["language"] and f["source"], f["file"]
            if spk["role"] != "target":
                assert tsv[f["file"].removeprefix("speakers/")] == (f["text"], f["language"])
            if spk["role"] in ("validation", "test") and f["language"] == "en":
                n_en_qa += 1
    assert n_en_qa >= 40  # validation 20 (rms, rms_hi, esp_car_f3) + test 27
    assert len(tsv) == sum(s["utterances"] for s in META["speakers"].values() if s["role"] != "target")


def test_the_test_split_is_small_and_whole():
    test = [s for s in META["speakers"].values() if s["role"] == "test"]
    n = sum(s["utterances"] for s in test)
    secs = sum(s["seconds"] for s in test)
    assert 25 <= n <= 40 and 120 <= secs <= 240
    size = sum(p.stat().st_size for s in test for f in s["files"] for p in [CORPUS / f["file"]])
    assert size < 4e6
    for s in test:
        for f in s["files"]:
            i = sf.info(str(CORPUS / f["file"]))
            assert i.samplerate == 16000 and i.channels == 1 and 0.8 < i.duration < 12
    real = {n: META["speakers"][n]["files"][0]["source"] for n in META["real_recordings"]}
    assert "alsa-utils" in real["alsa_f"] and "pysptk" in real["awb_arctic"]


# ---------------------------------------------------------------- build_corpus


def _speech(speaker: str, i: int) -> np.ndarray:
    f = sorted((CORPUS / "speakers" / speaker).glob("*.flac"))[i]
    return sf.read(str(f), dtype="float32")[0]


@pytest.fixture()
def tiny(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    for spk, src, n in (("ann", "kal", 2), ("ben", "rms", 2), ("cat", "awb_test", 2), ("dan", "ked", 1)):
        (root / spk).mkdir(parents=True)
        for i in range(n):
            sf.write(str(root / spk / f"{spk}{i}.wav"), _speech(src, i), 16000)
    (root / "ben" / "ben0.txt").write_text("  Hold the left flank\nuntil dawn. \n", encoding="utf-8")
    (root / "transcripts.tsv").write_text(
        "# path\ttext\tlanguage\n"
        "cat/cat0.wav\tJagged ice cracked beneath the sled\ten\n"
        "cat/cat1.wav\tPlease fetch six boxes\n"
        "ben/ben0.wav\tthe .txt wins over this\tfr\n"
        "ann/ann0.wav\tThe quick brown fox\ten\n", encoding="utf-8")
    return root


def test_build_corpus_three_splits_whole_files_and_transcripts(tiny: Path, tmp_path: Path):
    m = build_corpus([tiny], tmp_path / "c", chunk_seconds=1.0, validation_speakers=["ben"],
                     test_speakers=["cat"], language="xx")
    assert (m.train_speakers, m.validation_speakers, m.test_speakers) == (["ann", "dan"], ["ben"], ["cat"])
    assert {e.split for e in m.entries} == {"train", "validation", "test"}
    for e in m.entries:
        assert e.path.startswith(f"{e.split}/{e.speaker}/")
    # validation and test: one entry per file, the whole trimmed file
    for spk, n in (("ben", 2), ("cat", 2)):
        es = [e for e in m.entries if e.speaker == spk]
        assert len(es) == n and all(e.start_seconds == 0 and e.seconds > 1.5 for e in es)
    by_src = {Path(e.source).name: e for e in m.entries if e.split != "train"}
    assert (by_src["ben0.wav"].text, by_src["ben0.wav"].language) == ("Hold the left flank until dawn.", "xx")
    assert (by_src["cat0.wav"].text, by_src["cat0.wav"].language) == ("Jagged ice cracked beneath the sled", "en")
    assert (by_src["cat1.wav"].text, by_src["cat1.wav"].language) == ("Please fetch six boxes", "xx")
    assert by_src["ben1.wav"].text is None and by_src["ben1.wav"].language is None
    # training chunks of a longer file carry no text (a chunk is not the sentence), but the language
    ann0 = [e for e in m.train if Path(e.source).name == "ann0.wav"]
    assert len(ann0) > 1 and all(e.text is None and e.language == "en" for e in ann0)
    # the manifest round-trips
    m2 = load_manifest(tmp_path / "c")
    assert m2.entries == m.entries and m2.test_speakers == ["cat"] and m2.heldout == m2.validation
    d = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert d["version"] == 2 and set(d["seconds"]) == {"train", "validation", "test"}


def test_build_corpus_split_errors(tiny: Path, tmp_path: Path):
    with pytest.raises(CorpusError, match="both validation and test"):
        build_corpus([tiny], tmp_path / "o", validation_speakers=["ben"], test_speakers=["ben"])
    with pytest.raises(CorpusError, match="test speaker.*zed.*not found"):
        build_corpus([tiny], tmp_path / "o", test_speakers=["zed"])
    with pytest.raises(CorpusError, match="older name"):
        build_corpus([tiny], tmp_path / "o", heldout_speakers=["ann"], validation_speakers=["ben"])
    with pytest.raises(CorpusError, match="every speaker"):
        build_corpus([tiny], tmp_path / "o", validation_speakers=["ann", "ben"], test_speakers=["cat", "dan"])
    (tiny / "transcripts.tsv").write_text("cat/cat0.wav\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"transcripts.tsv:1"):
        build_corpus([tiny], tmp_path / "o")
    # by fraction, validation speakers are never test speakers
    (tiny / "transcripts.tsv").unlink()
    m = build_corpus([tiny], tmp_path / "f", heldout_fraction=0.5, test_speakers=["ann"])
    assert m.test_speakers == ["ann"] and "ann" not in m.validation_speakers and m.validation_speakers


def test_transcripts_tsv_beside_single_speaker_inputs(tiny: Path, tmp_path: Path):
    # inputs listed one speaker folder each (e.g. voices/awb.toml) still find ../transcripts.tsv
    m = build_corpus([tiny / "ann", tiny / "cat"], tmp_path / "c", test_speakers=["cat"], heldout_fraction=0)
    assert sorted(e.text for e in m.test) == ["Jagged ice cracked beneath the sled", "Please fetch six boxes"]
    shipped = build_corpus([CORPUS / "speakers" / "awb_arctic", CORPUS / "speakers" / "kal"], tmp_path / "s",
                           test_speakers=["awb_arctic"], heldout_fraction=0)
    assert [(e.text, e.language) for e in shipped.test] == \
        [("And you always want to see it in the superlative degree.", "en")]


def test_old_manifest_reads_heldout_as_validation(tiny: Path, tmp_path: Path):
    m = build_corpus([tiny], tmp_path / "c", validation_speakers=["ben"])
    p = tmp_path / "c" / "manifest.json"
    d = json.loads(p.read_text())
    d["version"] = 1
    d["heldout_speakers"] = d.pop("validation_speakers")
    d.pop("test_speakers")
    for e in d["entries"]:
        e.pop("text"), e.pop("language")
        e["split"] = "heldout" if e["split"] == "validation" else e["split"]
    p.write_text(json.dumps(d))
    old = load_manifest(p)
    assert old.version == 1 and old.validation_speakers == ["ben"] and old.test_speakers == []
    assert {e.speaker for e in old.validation} == {"ben"} and old.split("heldout") == old.validation
    assert all(e.text is None for e in old.entries) and len(old.entries) == len(m.entries)


def test_voiceskin_corpus_reads_transcripts(tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from voiceskin_tooling.cli import main

    out = tmp_path / "c"
    rc = main(["corpus", str(tiny), "-o", str(out), "--validation", "ben", "--test", "cat",
               "--language", "en", "--chunk-seconds", "1"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "3 of 4 validation/test files have a transcript" in printed
    m = load_manifest(out)
    assert m.test_speakers == ["cat"] and m.validation_speakers == ["ben"]
    assert sorted(e.text for e in m.entries if e.split == "test") == \
        ["Jagged ice cracked beneath the sled", "Please fetch six boxes"]
    assert {e.language for e in m.test} == {"en"}
    # the older flag still works
    assert main(["corpus", str(tiny), "-o", str(tmp_path / "d"), "--heldout", "dan"]) == 0
    assert load_manifest(tmp_path / "d").validation_speakers == ["dan"]


# ---------------------------------------------------------------- the distillation cache


def _voice(tmp: Path, cohort: list[str] | str = ["dan"]) -> Path:
    spk = copy_speakers(tmp / "speakers", {"kal": 2, "dan": ("esp_gb_f2", 1), "rms": 1,
                                           "newbie": ("awb_test", 1)})
    (spk / "transcripts.tsv").write_text(
        "rms/rms_00.flac\tWhat rms says\ten\nnewbie/awb_test_00.flac\t"
        + TEST_SENTENCES_BY_LANG["en"][0] + "\ten\n", encoding="utf-8")
    return write_voice(tmp / "tiny.toml", "tiny.splits", copy_reference(tmp / "ref", "slt", 2),
                       inputs=spk, display_name="Tiny splits voice",
                       corpus={"validation_speakers": ["rms"], "test_speakers": ["newbie"]},
                       qa={"cohort": cohort})


def test_cache_carries_split_text_language_and_cohort(tmp_path: Path):
    import torch

    from voiceskin_tooling.distill import DistillConfig, _Segments, build_cache, load_cache
    from voiceskin_tooling.voicedef import load_voice

    voice = load_voice(_voice(tmp_path))
    assert voice.cohort == ["dan"]
    cfg = DistillConfig(voice=str(voice.path), out_dir=str(tmp_path / "out"), progress=False, qa=False)
    cache = load_cache(build_cache(cfg, voice))
    splits = {}
    for u in cache["utts"]:
        assert {"split", "text", "language", "seen_qa", "input", "master", "f0", "voicing"} <= set(u)
        splits.setdefault(u["split"], set()).add(u["speaker"])
    assert splits == {"train": {"kal", "dan"}, "validation": {"rms"}, "test": {"newbie"}}
    test = [u for u in cache["utts"] if u["split"] == "test"]
    assert [(u["text"], u["language"]) for u in test] == [(TEST_SENTENCES_BY_LANG["en"][0], "en")]
    assert test[0]["master"].numel() > 0 and not test[0]["seen_qa"]  # converted by the master, QA only
    val = [u for u in cache["utts"] if u["split"] == "validation"]
    assert [u["text"] for u in val] == ["What rms says"]
    assert not any(u["seen_qa"] for u in cache["utts"] if u["split"] != "train")
    assert set(cache["cohort"]) == {"dan"}
    xs = cache["cohort"]["dan"]
    assert xs and all(isinstance(x, torch.Tensor) and x.dtype == torch.float32 and x.ndim == 1 for x in xs)
    assert abs(sum(x.numel() for x in xs) / 16000 - sf.info(str(next((tmp_path / "speakers" / "dan")
                                                                        .glob("*.flac")))).duration) < 1.1
    # training batches can only be drawn from split "train"
    from voiceskin_tooling.distill import DistillError
    from voiceskin_tooling.student import StudentConfig

    with pytest.raises(DistillError, match="split 'train' only"):
        _Segments(cache["utts"], StudentConfig(), 50, "cpu", np.random.default_rng(0))


def test_cohort_must_name_corpus_speakers_and_no_test_speaker(tmp_path: Path):
    from voiceskin_tooling.voicedef import VoiceDefError, load_voice

    with pytest.raises(VoiceDefError, match=r"qa\.cohort.*\['nobody'\] are not in the corpus.*dan"):
        load_voice(_voice(tmp_path / "a", ["dan", "nobody"]))
    with pytest.raises(VoiceDefError, match=r"qa\.cohort.*test speaker"):
        load_voice(_voice(tmp_path / "b", ["newbie"]))
    with pytest.raises(VoiceDefError, match=r"qa\.cohort.*array"):
        load_voice(_voice(tmp_path / "c", "dan"))
    assert load_voice(_voice(tmp_path / "d", ["rms", "kal"])).cohort == ["rms", "kal"]


def test_demo_voice_splits_and_cohort_match_the_shipped_corpus():
    from voiceskin_tooling.voicedef import load_voice

    v = load_voice(ROOT / "voices" / "demo.toml")
    info = shipped_corpus(CORPUS)
    assert v.corpus is not None
    assert sorted(v.corpus.validation_speakers or []) == sorted(info.validation_speakers)
    assert sorted(v.corpus.test_speakers or []) == sorted(info.test_speakers)
    assert v.cohort and not set(v.cohort) & set(info.test_speakers)
    assert set(v.cohort) <= set(info.train_speakers) | set(info.validation_speakers)
