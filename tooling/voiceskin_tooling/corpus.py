"""Build a training corpus from folders of recordings.

``build_corpus(inputs, out_dir)``:

* **Input layout.** Each input is a folder. Audio files (``.wav``, ``.flac``,
  ``.ogg``, any depth) inside a subfolder belong to the speaker named by that
  first-level subfolder; files directly in the input folder belong to a
  speaker named after the input folder itself. Speaker names must be unique
  across inputs only in the sense that equal names are merged.
* **Audio.** Any rate and channel count -> mono (channel mean) float32,
  resampled with soxr (HQ) to ``sample_rate``.
* **Silence.** Energy-based: 10 ms frames, a frame is silent when its RMS is
  ``silence_db`` (default 40 dB) below the file's loudest frame or under
  -60 dBFS. Leading/trailing silence is cut (keeping ``pad_seconds``), and
  inner pauses longer than ``max_pause_seconds`` are shortened to it.
* **Chunks.** Each trimmed training file is cut into ``chunk_seconds``
  pieces; a last piece shorter than ``min_chunk_seconds`` is dropped (or the
  whole file, if it is that short). Validation and test files are kept
  whole (one entry per file, so a recogniser can score it against its
  sentence); one shorter than ``min_chunk_seconds`` is dropped.
* **Three splits, by speaker.** ``"train"``, ``"validation"`` (tune on
  these) and ``"test"`` (report on these; never tune on them).
  ``validation_speakers`` (older name: ``heldout_speakers``) and
  ``test_speakers`` name them explicitly (an unknown name is an error, a
  speaker in both is an error); without ``validation_speakers``,
  ``round(heldout_fraction * speakers)`` of the speakers that are not test
  speakers (at least one when the fraction is > 0 and there are ≥ 2) are
  chosen deterministically from a hash of the names.
* **Transcripts** (optional, per file): a ``<name>.txt`` beside
  ``<name>.wav`` holds its text (one line), or a ``transcripts.tsv`` in an
  input folder or a speaker folder lists ``path<TAB>text[<TAB>language]``
  per line (path relative to the .tsv's folder; ``#`` starts a comment);
  a ``transcripts.tsv`` beside an input folder counts too (inputs that are
  single speaker folders of a larger corpus).
  The .txt wins over the .tsv. ``language`` (e.g. ``"en"``) is the default
  language of every transcript that names none. An entry's ``text`` is the
  file's text when the entry is the whole file, else None (a training chunk
  of a longer file); ``language`` is set whenever the file's is known.
* **Corrupt files.** ``on_corrupt="skip"`` (default) logs a warning naming
  the file, records it in ``manifest.skipped`` and goes on;
  ``on_corrupt="fail"`` raises :class:`CorpusError` naming the file.
* **Output.** ``out_dir/{train,validation,test}/<speaker>/<speaker>_<n>.flac``
  (16-bit FLAC, or WAV float with ``audio_format="wav"``) and
  ``out_dir/manifest.json``. The corpus is built in a temporary sibling
  folder and renamed into place, so ``out_dir`` is either the old corpus or
  the complete new one, never half-written. An existing non-empty
  ``out_dir`` that is not a corpus (no manifest.json) is refused.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Literal, Sequence

import numpy as np

log = logging.getLogger(__name__)

__all__ = [
    "AUDIO_EXTENSIONS",
    "CorpusError",
    "CorpusEntry",
    "CorpusManifest",
    "build_corpus",
    "load_manifest",
    "read_audio",
    "find_speakers",
    "find_transcripts",
    "canonical_split",
    "SPLITS",
    "trim_silence",
    "write_audio_atomic",
    "MANIFEST_NAME",
]

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg")
MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 2  # 1: splits "train"/"heldout", no text (read as "validation")
TRANSCRIPTS_TSV = "transcripts.tsv"
SPLITS = ("train", "validation", "test")
Split = Literal["train", "validation", "test"]


def canonical_split(name: str) -> str:
    """"heldout" (the older name) -> "validation"; others unchanged."""
    return "validation" if name == "heldout" else name


class CorpusError(RuntimeError):
    """Bad corpus input: missing folder, no audio, corrupt file, bad split."""


@dataclass(frozen=True)
class CorpusEntry:
    path: str  # relative to the manifest's folder, POSIX separators
    speaker: str
    split: Split  # "train" | "validation" | "test"
    source: str  # the input file it came from
    start_seconds: float  # offset in the trimmed source
    seconds: float
    text: str | None = None  # what is said, when the entry is a whole file with a transcript
    language: str | None = None  # the transcript's language ("en", ...), when known


@dataclass
class CorpusManifest:
    root: Path
    sample_rate: int
    chunk_seconds: float
    entries: list[CorpusEntry]
    train_speakers: list[str]
    validation_speakers: list[str]
    test_speakers: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    version: int = MANIFEST_VERSION

    # -- queries
    def split(self, name: str) -> list[CorpusEntry]:
        """Entries of split ``name`` ("train", "validation" — or its older
        name "heldout" — or "test")."""
        name = canonical_split(name)
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; splits are {SPLITS}")
        return [e for e in self.entries if e.split == name]

    @property
    def train(self) -> list[CorpusEntry]:
        return self.split("train")

    @property
    def validation(self) -> list[CorpusEntry]:
        return self.split("validation")

    @property
    def test(self) -> list[CorpusEntry]:
        return self.split("test")

    @property
    def heldout(self) -> list[CorpusEntry]:
        """The older name of :attr:`validation`."""
        return self.validation

    @property
    def heldout_speakers(self) -> list[str]:
        """The older name of :attr:`validation_speakers`."""
        return self.validation_speakers

    @property
    def speakers(self) -> list[str]:
        return self.train_speakers + self.validation_speakers + self.test_speakers

    def seconds(self, split: str | None = None) -> float:
        sp = None if split is None else canonical_split(split)
        return float(sum(e.seconds for e in self.entries if sp is None or e.split == sp))

    def audio_path(self, entry: CorpusEntry) -> Path:
        return self.root / entry.path

    def load(self, entry: CorpusEntry) -> np.ndarray:
        """The chunk's samples (mono float32 at ``sample_rate``)."""
        audio, sr = read_audio(self.audio_path(entry))
        if sr != self.sample_rate:
            raise CorpusError(f"{self.audio_path(entry)}: rate {sr} != manifest rate {self.sample_rate}")
        return audio

    # -- (de)serialisation
    def to_json(self) -> dict:
        d = {
            "version": MANIFEST_VERSION,
            "sample_rate": self.sample_rate,
            "chunk_seconds": self.chunk_seconds,
            "train_speakers": self.train_speakers,
            "validation_speakers": self.validation_speakers,
            "test_speakers": self.test_speakers,
            "seconds": {s: round(self.seconds(s), 3) for s in SPLITS},
            "skipped": self.skipped,
            "entries": [asdict(e) for e in self.entries],
        }
        return d

    @classmethod
    def from_json(cls, root: Path, d: dict) -> "CorpusManifest":
        if d.get("version") not in (1, MANIFEST_VERSION):
            raise CorpusError(f"{root / MANIFEST_NAME}: unsupported manifest version {d.get('version')!r}")
        entries = []
        for e in d["entries"]:  # version 1 says "heldout" for validation
            e = dict(e)
            e["split"] = canonical_split(e["split"])
            if e["split"] not in SPLITS:
                raise CorpusError(f"{root / MANIFEST_NAME}: unknown split {e['split']!r} of {e.get('path')}")
            entries.append(CorpusEntry(**e))
        return cls(
            root=root,
            sample_rate=int(d["sample_rate"]),
            chunk_seconds=float(d["chunk_seconds"]),
            entries=entries,
            train_speakers=list(d["train_speakers"]),
            validation_speakers=list(d["validation_speakers"] if "validation_speakers" in d
                                     else d["heldout_speakers"]),
            test_speakers=list(d.get("test_speakers", [])),
            skipped=list(d.get("skipped", [])),
            version=int(d["version"]),  # as read (1: built before transcripts and the test split)
        )


def load_manifest(path: str | Path) -> CorpusManifest:
    """Load ``manifest.json`` (or the folder holding it)."""
    p = Path(path)
    if p.is_dir():
        p = p / MANIFEST_NAME
    if not p.is_file():
        raise CorpusError(f"no corpus manifest at {p}; build one with `voiceskin corpus`")
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
        return CorpusManifest.from_json(p.parent, d)
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise CorpusError(f"{p}: corrupt corpus manifest ({exc})") from exc


# ---------------------------------------------------------------- audio helpers


def read_audio(path: str | Path, sample_rate: int | None = None) -> tuple[np.ndarray, int]:
    """Read any wav/flac/ogg as mono float32; resample when ``sample_rate`` is
    given. Raises :class:`CorpusError` naming the file when it cannot be
    decoded or holds non-finite samples."""
    import soundfile as sf

    p = Path(path)
    try:
        data, sr = sf.read(str(p), dtype="float32", always_2d=True)
    except Exception as exc:  # noqa: BLE001 - soundfile raises several types
        raise CorpusError(f"{p}: cannot decode audio ({type(exc).__name__}: {exc})") from exc
    if data.size == 0:
        raise CorpusError(f"{p}: holds no samples")
    mono = data.mean(axis=1).astype(np.float32)
    if not np.all(np.isfinite(mono)):
        raise CorpusError(f"{p}: contains NaN/inf samples")
    if sample_rate and sr != sample_rate:
        import soxr

        mono = soxr.resample(mono, sr, sample_rate, quality="HQ").astype(np.float32)
        sr = sample_rate
    return mono, int(sr)


def write_audio_atomic(path: str | Path, audio: np.ndarray, sample_rate: int, fmt: str | None = None) -> None:
    """Write audio via a temp file in the same folder + rename.
    ``fmt``: "flac" (16-bit) or "wav" (float32); default from the suffix."""
    import soundfile as sf

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fmt = (fmt or p.suffix.lstrip(".")).lower()
    subtype = {"flac": "PCM_16", "wav": "FLOAT", "ogg": "VORBIS"}.get(fmt)
    if subtype is None:
        raise CorpusError(f"{p}: unsupported output format {fmt!r} (use flac, wav or ogg)")
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    os.close(fd)
    try:
        clipped = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0) if subtype == "PCM_16" else audio
        sf.write(tmp, clipped, sample_rate, format=fmt.upper(), subtype=subtype)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def replace_folder(new: Path, out: Path) -> None:
    """Swaps the finished folder ``new`` (a sibling of ``out``) into place:
    the old ``out`` is moved aside, ``new`` renamed in, then the old one
    removed — a reader sees the old corpus or the new one, never a mix."""
    old = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        os.replace(out, old)
    os.replace(new, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def trim_silence(
    audio: np.ndarray,
    sample_rate: int,
    silence_db: float = 40.0,
    floor_dbfs: float = -60.0,
    pad_seconds: float = 0.05,
    max_pause_seconds: float | None = 0.3,
) -> np.ndarray:
    """Energy-based silence removal (see module doc). Returns an empty array
    when everything is silent."""
    n = max(1, int(round(0.010 * sample_rate)))
    frames = len(audio) // n
    if frames == 0:
        return audio[:0]
    rms = np.sqrt(np.mean(audio[: frames * n].reshape(frames, n).astype(np.float64) ** 2, axis=1) + 1e-20)
    db = 20 * np.log10(rms)
    thr = max(db.max() - silence_db, floor_dbfs)
    loud = db > thr
    if not loud.any():
        return audio[:0]
    pad = int(round(pad_seconds * sample_rate / n))
    first, last = int(np.argmax(loud)), int(len(loud) - 1 - np.argmax(loud[::-1]))
    keep = np.zeros(frames, dtype=bool)
    keep[max(0, first - pad): min(frames, last + pad + 1)] = True
    if max_pause_seconds is not None:
        maxp = max(1, int(round(max_pause_seconds * sample_rate / n)))
        i = first
        while i <= last:
            if not loud[i]:
                j = i
                while j <= last and not loud[j]:
                    j += 1
                if j - i > maxp:  # keep the pause's two ends, drop its middle
                    keep[i + maxp // 2: j - (maxp - maxp // 2)] = False
                i = j
            else:
                i += 1
    mask = np.repeat(keep, n)
    tail = audio[frames * n:] if keep[-1] else audio[:0]
    return np.concatenate([audio[: frames * n][mask], tail]).astype(np.float32)


# ---------------------------------------------------------------- discovery


def find_speakers(inputs: Sequence[str | Path]) -> dict[str, list[Path]]:
    """speaker -> sorted audio files. Raises CorpusError for a missing
    folder, or when no audio is found at all."""
    speakers: dict[str, list[Path]] = {}
    for raw in inputs:
        root = Path(raw)
        if not root.exists():
            raise CorpusError(f"input folder {root} does not exist")
        if not root.is_dir():
            raise CorpusError(f"input {root} is not a folder (expected a folder of speaker subfolders)")
        for f in sorted(root.rglob("*")):
            if not f.is_file() or f.suffix.lower() not in AUDIO_EXTENSIONS or f.name.startswith("."):
                continue
            rel = f.relative_to(root)
            spk = rel.parts[0] if len(rel.parts) > 1 else root.resolve().name
            speakers.setdefault(spk, []).append(f)
    if not speakers:
        raise CorpusError(
            f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) under {', '.join(str(i) for i in inputs)}"
        )
    return speakers


def find_transcripts(inputs: Sequence[str | Path], default_language: str | None = None
                     ) -> dict[Path, tuple[str, str | None]]:
    """resolved audio path -> (text, language) from ``<name>.txt`` files
    beside the audio and ``transcripts.tsv`` files (see the module doc).
    Raises :class:`CorpusError` naming the file and line of a bad .tsv row."""
    out: dict[Path, tuple[str, str | None]] = {}
    for raw in inputs:
        root = Path(raw)
        if not root.is_dir():
            continue
        tsvs = sorted(root.rglob(TRANSCRIPTS_TSV))
        up = root.resolve().parent / TRANSCRIPTS_TSV  # an input that is one speaker's folder
        if up.is_file():
            tsvs.insert(0, up)
        for tsv in tsvs:
            for n, line in enumerate(tsv.read_text(encoding="utf-8").splitlines(), 1):
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                cols = line.split("\t")
                if len(cols) < 2 or not cols[0].strip() or not cols[1].strip():
                    raise CorpusError(f"{tsv}:{n}: expected `path<TAB>text[<TAB>language]`, got {line!r}")
                lang = cols[2].strip() if len(cols) > 2 and cols[2].strip() else default_language
                out[(tsv.parent / cols[0].strip()).resolve()] = (cols[1].strip(), lang)
        for txt in sorted(root.rglob("*.txt")):
            if txt.name.startswith("."):
                continue
            for ext in AUDIO_EXTENSIONS:
                audio = txt.with_suffix(ext)
                if audio.is_file():
                    text = " ".join(txt.read_text(encoding="utf-8").split())
                    if text:
                        out[audio.resolve()] = (text, default_language)
    return out


def _choose_heldout(speakers: list[str], fraction: float) -> list[str]:
    if fraction <= 0 or len(speakers) < 2:
        return []
    k = min(len(speakers) - 1, max(1, int(round(fraction * len(speakers)))))
    ranked = sorted(speakers, key=lambda s: hashlib.sha256(s.encode()).hexdigest())
    return sorted(ranked[:k])


# ---------------------------------------------------------------- build


def build_corpus(
    inputs: Sequence[str | Path],
    out_dir: str | Path,
    sample_rate: int = 16000,
    chunk_seconds: float = 4.0,
    heldout_speakers: Iterable[str] | None = None,
    heldout_fraction: float = 0.2,
    *,
    validation_speakers: Iterable[str] | None = None,
    test_speakers: Iterable[str] | None = None,
    language: str | None = None,
    min_chunk_seconds: float = 1.0,
    silence_db: float = 40.0,
    max_pause_seconds: float | None = 0.3,
    on_corrupt: Literal["skip", "fail"] = "skip",
    audio_format: Literal["flac", "wav"] = "flac",
    overwrite: bool = True,
    progress: Callable[[int, int, str], None] | None = None,
) -> CorpusManifest:
    """Build a corpus (see the module docstring). ``validation_speakers``
    and its older name ``heldout_speakers`` are the same thing (give one);
    ``language``: the language of transcripts that name none.
    ``progress(done, total, file)`` is called after each input file."""
    if on_corrupt not in ("skip", "fail"):
        raise ValueError(f"on_corrupt must be 'skip' or 'fail', not {on_corrupt!r}")
    if chunk_seconds <= 0 or min_chunk_seconds <= 0:
        raise ValueError("chunk_seconds and min_chunk_seconds must be positive")
    if not 0 <= heldout_fraction < 1:
        raise ValueError(f"heldout_fraction must be in [0, 1), got {heldout_fraction}")
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST_NAME).exists())):
        raise CorpusError(f"output {out} exists and is not a corpus folder; choose an empty or new folder")
    if out.exists() and (out / MANIFEST_NAME).exists() and not overwrite:
        raise CorpusError(f"corpus {out} exists; pass overwrite=True to replace it")

    heldout_speakers = None if heldout_speakers is None else list(heldout_speakers)
    validation_speakers = None if validation_speakers is None else list(validation_speakers)
    if heldout_speakers is not None and validation_speakers is not None:
        if sorted(set(heldout_speakers)) != sorted(set(validation_speakers)):
            raise CorpusError("heldout_speakers is the older name of validation_speakers: give only one")
    if validation_speakers is None:
        validation_speakers = heldout_speakers
    by_speaker = find_speakers(inputs)
    names = sorted(by_speaker)
    tests = sorted(set(test_speakers or []))
    unknown = [s for s in tests if s not in by_speaker]
    if unknown:
        raise CorpusError(f"test speaker(s) {unknown} not found; speakers are: {', '.join(names)}")
    if validation_speakers is None:
        held = _choose_heldout([s for s in names if s not in tests], heldout_fraction)
    else:
        held = sorted(set(validation_speakers))
        unknown = [s for s in held if s not in by_speaker]
        if unknown:
            raise CorpusError(f"validation speaker(s) {unknown} not found; speakers are: {', '.join(names)}")
        both = sorted(set(held) & set(tests))
        if both:
            raise CorpusError(f"speaker(s) {both} are both validation and test speakers; a speaker is in one split")
    if len(held) + len(tests) >= len(names):
        raise CorpusError("every speaker is a validation or test speaker; leave at least one for training")
    transcripts = find_transcripts(inputs, language)

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        entries: list[CorpusEntry] = []
        skipped: list[dict[str, str]] = []
        chunk_n = int(round(chunk_seconds * sample_rate))
        min_n = int(round(min_chunk_seconds * sample_rate))
        total = sum(len(v) for v in by_speaker.values())
        done = 0
        counters: dict[str, int] = {}
        for spk in names:
            split: Split = "test" if spk in tests else ("validation" if spk in held else "train")
            for f in by_speaker[spk]:
                done += 1
                try:
                    audio, _ = read_audio(f, sample_rate)
                except CorpusError as exc:
                    if on_corrupt == "fail":
                        raise
                    log.warning("skipping %s", exc)
                    skipped.append({"file": str(f), "reason": str(exc)})
                    if progress:
                        progress(done, total, str(f))
                    continue
                audio = trim_silence(audio, sample_rate, silence_db=silence_db, max_pause_seconds=max_pause_seconds)
                text, lang = transcripts.get(f.resolve(), (None, None))
                step = chunk_n if split == "train" else max(len(audio), 1)  # validation, test: whole files
                for start in range(0, len(audio), step):
                    piece = audio[start: start + step]
                    if len(piece) < min_n:
                        break
                    k = counters.get(spk, 0)
                    counters[spk] = k + 1
                    rel = f"{split}/{spk}/{spk}_{k:05d}.{audio_format}"
                    write_audio_atomic(tmp / rel, piece, sample_rate, audio_format)
                    whole = start == 0 and len(piece) == len(audio)
                    entries.append(CorpusEntry(rel, spk, split, str(f), round(start / sample_rate, 4),
                                               round(len(piece) / sample_rate, 4),
                                               text=text if whole else None, language=lang))
                if progress:
                    progress(done, total, str(f))
        if not entries:
            raise CorpusError(
                "no usable audio: every file was corrupt, silent or shorter than "
                f"min_chunk_seconds={min_chunk_seconds}"
            )
        have = {e.speaker for e in entries}
        manifest = CorpusManifest(
            root=out,
            sample_rate=sample_rate,
            chunk_seconds=chunk_seconds,
            entries=entries,
            train_speakers=[s for s in names if s not in held and s not in tests and s in have],
            validation_speakers=[s for s in held if s in have],
            test_speakers=[s for s in tests if s in have],
            skipped=skipped,
        )
        (tmp / MANIFEST_NAME).write_text(json.dumps(manifest.to_json(), indent=1), encoding="utf-8")
        replace_folder(tmp, out)
        return manifest
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
