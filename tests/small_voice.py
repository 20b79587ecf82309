"""Small real voices for tests and benchmarks: a few files of the shipped
corpus copied into a folder, and a voice TOML (written with tomli_w) that
points at them. One place for the defaults every tiny voice shares (the
WORLD master with the yin tracker, 3 s chunks)."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Mapping, Sequence

import tomli_w

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "corpus"


def corpus_files(speaker: str, n: int, sub: str = "speakers") -> list[Path]:
    """The first ``n`` FLAC files of a shipped speaker (``sub``: speakers or target)."""
    files = sorted((CORPUS / sub / speaker).glob("*.flac"))[:n]
    if not files:
        raise FileNotFoundError(f"shipped corpus missing {sub}/{speaker}: run scripts/setup.sh")
    return files


def corpus_audio(speaker: str, n: int, sub: str = "speakers", rate: int = 16000) -> list[Any]:
    """The first ``n`` recordings of a shipped speaker as mono float32 at ``rate``."""
    from voiceskin_tooling.corpus import read_audio

    return [read_audio(f, rate)[0] for f in corpus_files(speaker, n, sub)]


def english_utterances(speaker: str, n: int, rate: int = 16000) -> list[tuple[Any, str]]:
    """The first ``n`` English recordings of a shipped speaker (inputs or
    the target) with their sentences, as (mono float32 at ``rate``, text)."""
    import json

    from voiceskin_tooling.corpus import read_audio

    meta = json.loads((CORPUS / "corpus.json").read_text(encoding="utf-8"))
    files = [f for f in meta["speakers"][speaker]["files"] if f["language"] == "en"][:n]
    return [(read_audio(CORPUS / f["file"], rate)[0], f["text"]) for f in files]


def copy_speakers(folder: Path, inputs: Mapping[str, int | tuple[str, int]]) -> Path:
    """``folder`` with one sub-folder per speaker: ``name: n`` copies the first
    n files of that shipped speaker, ``name: (source, n)`` those of ``source``."""
    for name, spec in inputs.items():
        source, n = spec if isinstance(spec, tuple) else (name, spec)
        (folder / name).mkdir(parents=True, exist_ok=True)
        for f in corpus_files(source, n):
            shutil.copy(f, folder / name / f.name)
    return folder


def copy_reference(folder: Path, target: str, n: int) -> Path:
    """The first ``n`` recordings of ``target`` (the corpus's target/ folder,
    else speakers/) copied into ``folder``."""
    sub = "target" if (CORPUS / "target" / target).is_dir() else "speakers"
    folder.mkdir(parents=True, exist_ok=True)
    for f in corpus_files(target, n, sub):
        shutil.copy(f, folder / f.name)
    return folder


def write_voice(path: Path, vid: str, reference: Path | str, *, inputs: Path | str | None = None,
                display_name: str | None = None, version: str = "0.0.1",
                master: str = "world", master_settings: Mapping[str, Any] | None = None,
                corpus: Mapping[str, Any] | None = None, training: Mapping[str, Any] | None = None,
                qa: Mapping[str, Any] | None = None,
                tiers: Sequence[str | Mapping[str, Any]] = ("low",), audio_only: bool = False) -> Path:
    """A voice TOML at ``path``. ``master_settings`` defaults to the yin
    tracker for the WORLD masters; ``corpus`` gets ``inputs`` and 3 s chunks;
    a tier is a preset name or a table."""
    doc: dict[str, Any] = {
        "voice": {"id": vid, "display_name": display_name or vid, "version": version},
        "master": {"name": master, **({"audio_only": True} if audio_only else {})},
        "target": {"reference": [str(reference)]},
    }
    if master_settings is None and master.startswith("world"):
        master_settings = {"f0_method": "yin"}
    if master_settings:
        doc["master"]["settings"] = dict(master_settings)
    if inputs is not None:
        doc["corpus"] = {"inputs": [str(inputs)], "chunk_seconds": 3.0, **(corpus or {})}
    if training is not None:
        doc["training"] = dict(training)
    if qa is not None:
        doc["qa"] = dict(qa)
    doc["tiers"] = [{"name": t} if isinstance(t, str) else dict(t) for t in tiers]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    return path


def small_voice(folder: Path, vid: str, target: str, inputs: Mapping[str, int | tuple[str, int]],
                n_reference: int, **toml: Any) -> Path:
    """A whole small voice under ``folder``: ``speakers/`` from ``inputs``,
    ``ref/`` with ``n_reference`` recordings of ``target``, and ``<vid>.toml``
    (``toml``: the keywords of write_voice)."""
    spk = copy_speakers(folder / "speakers", inputs)
    ref = copy_reference(folder / "ref", target, n_reference)
    return write_voice(folder / f"{vid}.toml", vid, ref, inputs=spk, **toml)
