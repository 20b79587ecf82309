"""Voice definitions: one TOML file per voice.

Example (``voices/demo.toml`` is the full, commented one)::

    [voice]
    id = "demo"                      # [a-z0-9._-], 1..64 chars
    display_name = "Demo voice"
    version = "0.1.0"                # MAJOR.MINOR.PATCH

    [master]
    name = "world"                   # a registered master (voiceskin list)
    audio_only = false               # true: distil from its audio alone, as from a
                                     # black-box master (pitch mapping fitted from pairs)
    [master.settings]                # keyword arguments of the master
    # settings named "path" or ending in "_path" are relative to this file

    [target]
    reference = ["../data/corpus/target/slt"]   # files, folders or globs

    [corpus]                         # optional: the speech the student learns from
    inputs = ["../data/corpus/speakers"]
    validation_speakers = ["rms"]    # tune on these (older name: heldout_speakers)
    test_speakers = ["awb_test"]     # report on these; never tune on them
    chunk_seconds = 4.0

    [training]                       # optional; defaults below
    steps = 3000

    [qa]                             # optional; defaults for every tier
    max_logmel_ratio = 0.75
    cohort = ["cs_dita", "fi_lj"]    # identity cohort: other voices of the target's
                                     # sex, corpus speakers, never test speakers

    [[tiers]]                        # 1..16, sorted lowest quality first
    name = "low"
    preset = "low"                   # default: the tier's name
    sample_rate = 16000              # optional; students train at 16000 only
    gru_hidden = 40                  # any TierPreset field overrides the preset
    weights = "int8"                 # optional: pack int8 LINEAR/GRU weights ("f32" default)
    [tiers.qa]                       # per-tier QA overrides
    max_logmel_ratio = 0.75

Every error is a :class:`VoiceDefError` naming the file, the key and what to
do about it.
"""
from __future__ import annotations

import dataclasses
import glob
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .tiers import TierPreset, UnknownTierError, available_tiers, get_tier_preset, ladder_rank
from .trainplan import MODEL_SAMPLE_RATE

__all__ = [
    "VoiceDef",
    "VoiceDefError",
    "MasterSpec",
    "CorpusSpec",
    "TrainingBudget",
    "QAThresholds",
    "TierSpec",
    "load_voice",
    "AUDIO_EXTENSIONS",
]

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg")
_ID_RE = re.compile(r"^[a-z0-9._-]{1,64}$")
_TIER_RE = re.compile(r"^[a-z0-9_-]{1,32}$")
_VERSION_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


class VoiceDefError(ValueError):
    """A voice TOML is invalid. ``path`` is the file, ``key`` the dotted key."""

    def __init__(self, path: Path | str, key: str | None, problem: str, fix: str) -> None:
        self.path = Path(path)
        self.key = key
        self.problem = problem
        self.fix = fix
        where = f"{self.path}" + (f": [{key}]" if key else "")
        super().__init__(f"{where} {problem} — {fix}")


@dataclass(frozen=True)
class MasterSpec:
    name: str
    settings: dict[str, Any] = field(default_factory=dict)
    #: [master] audio_only: hand the distillation the master's audio only
    #: (masters.base.AudioOnlyMaster), as a black-box master would
    audio_only: bool = False


@dataclass(frozen=True)
class CorpusSpec:
    inputs: list[Path]
    #: tune on these (TOML: validation_speakers, or its older name heldout_speakers)
    validation_speakers: list[str] | None = None
    heldout_fraction: float = 0.2
    chunk_seconds: float = 4.0
    #: report on these; never tune on them
    test_speakers: list[str] | None = None

    @property
    def heldout_speakers(self) -> list[str] | None:
        """The older name of :attr:`validation_speakers`."""
        return self.validation_speakers


@dataclass(frozen=True)
class TrainingBudget:
    steps: int = 3000
    batch_size: int = 16
    learning_rate: float = 1e-3
    segment_seconds: float = 1.0
    seed: int = 0
    #: wall-clock cap in minutes for one tier's training (0 = none)
    max_minutes: float = 0.0
    #: "auto" (CUDA when present), "cpu" or "cuda"
    device: str = "auto"
    #: speaker augmentation: WORLD-perturbed copies (F0, formants, gain) of
    #: every training chunk that the master also converts (0 = none)
    augment: int = 0


@dataclass(frozen=True)
class QAThresholds:
    """Bars a tier must meet on held-out speakers; ``None`` = not checked."""

    #: (sim_tier - sim_input) / (sim_master - sim_input), at least
    min_identity_recovery: float | None = None
    #: median F0 error vs the master's output, cents, at most
    max_f0_median_cents: float | None = None
    #: fraction of both-voiced frames more than 100 cents off, at most
    max_f0_gross_fraction: float | None = None
    #: fraction of frames whose voicing decision differs, at most
    max_voicing_error: float | None = None
    #: log-mel distance to the master / the unconverted input's, at most
    max_logmel_ratio: float | None = None

    def merged(self, other: Mapping[str, float | None]) -> "QAThresholds":
        return dataclasses.replace(self, **dict(other))

    def to_dict(self) -> dict[str, float | None]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class TierSpec:
    name: str
    preset: TierPreset  # overrides applied
    sample_rate: int = 16000
    qa: QAThresholds = field(default_factory=QAThresholds)

    @property
    def rank(self) -> int:
        """The tier's place on the quality ladder (:func:`.tiers.ladder_rank`:
        a pruned tier ranks with the preset it is pruned to)."""
        return ladder_rank(self.preset)


@dataclass(frozen=True)
class VoiceDef:
    path: Path
    id: str
    display_name: str
    version: str
    master: MasterSpec
    reference_audio: list[Path]
    tiers: list[TierSpec]
    training: TrainingBudget = field(default_factory=TrainingBudget)
    qa: QAThresholds = field(default_factory=QAThresholds)
    corpus: CorpusSpec | None = None
    #: [qa] cohort: corpus speakers of the target's sex other than the target
    #: (identity margin: similarity to the target minus the highest to these)
    cohort: list[str] = field(default_factory=list)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def tier(self, name: str) -> TierSpec:
        for t in self.tiers:
            if t.name == name:
                return t
        raise KeyError(f"voice {self.id!r} has no tier {name!r}; tiers: {[t.name for t in self.tiers]}")

    def make_master(self) -> Any:
        """Instantiate (not fit) the master; errors name this file and key."""
        from .masters import MasterError, UnknownMasterError, get_master

        try:
            master = get_master(self.master.name, **self.master.settings)
            if self.master.audio_only:
                from .masters.base import AudioOnlyMaster

                master = AudioOnlyMaster(master)
            return master
        except UnknownMasterError as exc:
            raise VoiceDefError(self.path, "master.name", str(exc), "use one of the listed masters") from exc
        except (MasterError, ValueError) as exc:
            raise VoiceDefError(self.path, "master.settings", str(exc), "fix the master's settings") from exc

    def load_reference_audio(self, sample_rate: int | None = None) -> tuple[list[Any], int]:
        """Read the target reference files as mono float32 arrays, resampled to
        ``sample_rate`` (default: the first file's rate). Returns (arrays, rate)."""
        import numpy as np
        import soundfile as sf

        from .masters.base import resample

        out: list[np.ndarray] = []
        rate = sample_rate
        for p in self.reference_audio:
            try:
                data, sr = sf.read(str(p), dtype="float32", always_2d=True)
            except Exception as exc:  # noqa: BLE001
                raise VoiceDefError(self.path, "target.reference", f"cannot read {p}: {exc}",
                                    "replace or remove the file") from exc
            mono = data.mean(axis=1)
            rate = rate or sr
            out.append(resample(mono, sr, rate))
        return out, int(rate or 16000)


# ---------------------------------------------------------------- parsing


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path

    def err(self, key: str | None, problem: str, fix: str) -> VoiceDefError:
        return VoiceDefError(self.path, key, problem, fix)

    def table(self, data: Mapping[str, Any], key: str, required: bool) -> dict[str, Any] | None:
        if key.split(".")[-1] not in data:
            if required:
                raise self.err(key, "is missing", f"add a [{key}] table")
            return None
        v = data[key.split(".")[-1]]
        if not isinstance(v, dict):
            raise self.err(key, f"must be a table, got {_tname(v)}", f"write it as [{key}]")
        return v

    def get(self, tbl: Mapping[str, Any], prefix: str, key: str, typ: Any, default: Any = ..., fix: str = "") -> Any:
        full = f"{prefix}.{key}" if prefix else key
        if key not in tbl:
            if default is ...:
                raise self.err(full, "is missing", fix or f"add `{key} = ...` to [{prefix}]")
            return default
        v = tbl[key]
        ok = isinstance(v, typ) and not (isinstance(v, bool) and typ in (int, float, (int, float)))
        if not ok:
            want = typ.__name__ if isinstance(typ, type) else " or ".join(t.__name__ for t in typ)
            raise self.err(full, f"must be {_article(want)}, got {_tname(v)} {v!r}",
                           fix or f"set `{key}` to {_article(want)}")
        return v

    def no_unknown(self, tbl: Mapping[str, Any], prefix: str, allowed: set[str]) -> None:
        bad = sorted(set(tbl) - allowed)
        if bad:
            raise self.err(f"{prefix}.{bad[0]}" if prefix else bad[0], "is not a known key",
                           f"remove it or use one of: {', '.join(sorted(allowed))}")


def _tname(v: Any) -> str:
    return {dict: "a table", list: "an array", str: "a string", bool: "a boolean",
            int: "an integer", float: "a float"}.get(type(v), type(v).__name__)


def _article(name: str) -> str:
    return {"str": "a string", "int": "an integer", "float": "a number", "int or float": "a number",
            "list": "an array", "dict": "a table", "bool": "a boolean"}.get(name, name)


_NUM = (int, float)


def load_voice(path: str | Path) -> VoiceDef:
    """Parse and validate a voice TOML. Raises :class:`VoiceDefError`."""
    path = Path(path)
    r = _Reader(path)
    if not path.is_file():
        raise r.err(None, "does not exist" if not path.exists() else "is not a file",
                    "pass the path of a voice .toml file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise r.err(None, f"is not UTF-8 text ({exc})", "save the file as UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise r.err(None, f"has a TOML syntax error: {exc}", "fix the syntax at that line") from exc
    base = path.parent.resolve()
    r.no_unknown(data, "", {"voice", "master", "target", "corpus", "training", "qa", "tiers"})

    # [voice]
    v = r.table(data, "voice", True)
    assert v is not None
    r.no_unknown(v, "voice", {"id", "display_name", "version"})
    vid = r.get(v, "voice", "id", str)
    if not _ID_RE.match(vid):
        raise r.err("voice.id", f"{vid!r} is not a valid voice id", "use 1..64 characters of [a-z0-9._-]")
    display = r.get(v, "voice", "display_name", str)
    if not (1 <= len(display.encode()) <= 128):
        raise r.err("voice.display_name", "must be 1..128 bytes", "shorten or fill in the display name")
    version = r.get(v, "voice", "version", str)
    m = _VERSION_RE.match(version)
    if not m or any(int(x) > 65535 for x in m.groups()):
        raise r.err("voice.version", f"{version!r} is not MAJOR.MINOR.PATCH",
                    "use three numbers 0..65535, e.g. \"1.0.0\"")

    # [master]
    mt = r.table(data, "master", True)
    assert mt is not None
    r.no_unknown(mt, "master", {"name", "settings", "audio_only"})
    mname = r.get(mt, "master", "name", str)
    from .masters import available_masters

    avail = available_masters()
    if mname not in avail:
        raise r.err("master.name", f"unknown master {mname!r}",
                    f"use one of: {', '.join(avail)} (or register one in entry point group voiceskin.masters)")
    settings = dict(r.table(mt, "master.settings", False) or {})
    for k, val in list(settings.items()):
        if (k == "path" or k.endswith("_path")) and isinstance(val, str):
            settings[k] = str((base / val).resolve())
    master = MasterSpec(mname, settings, bool(r.get(mt, "master", "audio_only", bool, False)))

    # [target]
    tt = r.table(data, "target", True)
    assert tt is not None
    r.no_unknown(tt, "target", {"reference"})
    ref = r.get(tt, "target", "reference", (str, list), fix="list the target speaker's recordings")
    refs = [ref] if isinstance(ref, str) else ref
    if not refs:
        raise r.err("target.reference", "is empty", "list at least one recording, folder or glob")
    files: list[Path] = []
    for i, item in enumerate(refs):
        key = f"target.reference[{i}]"
        if not isinstance(item, str):
            raise r.err(key, f"must be a string path, got {_tname(item)}", "write paths as strings")
        files.extend(_expand_audio(r, key, base, item))

    # [corpus]
    corpus = None
    ct = r.table(data, "corpus", False)
    if ct is not None:
        r.no_unknown(ct, "corpus", {"inputs", "validation_speakers", "heldout_speakers", "test_speakers",
                                    "heldout_fraction", "chunk_seconds"})
        inputs = r.get(ct, "corpus", "inputs", list, fix="list folders of speaker subfolders")
        in_paths: list[Path] = []
        for i, item in enumerate(inputs):
            key = f"corpus.inputs[{i}]"
            if not isinstance(item, str):
                raise r.err(key, f"must be a string path, got {_tname(item)}", "write paths as strings")
            p = (base / item).resolve()
            if not p.is_dir():
                raise r.err(key, f"folder {p} does not exist", "fix the path (relative to this file)")
            in_paths.append(p)
        if "validation_speakers" in ct and "heldout_speakers" in ct:
            raise r.err("corpus.heldout_speakers", "is the older name of validation_speakers, which is also set",
                        "keep only validation_speakers")
        hkey = "heldout_speakers" if "heldout_speakers" in ct else "validation_speakers"
        held = r.get(ct, "corpus", hkey, list, None)
        tests = r.get(ct, "corpus", "test_speakers", list, None)
        for k, lst in ((hkey, held), ("test_speakers", tests)):
            if lst is not None and not all(isinstance(s, str) for s in lst):
                raise r.err(f"corpus.{k}", "must be an array of strings", "list speaker folder names")
        both = sorted(set(held or []) & set(tests or []))
        if both:
            raise r.err("corpus.test_speakers", f"{both} are also validation speakers",
                        "put each speaker in one split")
        frac = float(r.get(ct, "corpus", "heldout_fraction", _NUM, 0.2))
        if not 0.0 <= frac < 1.0:
            raise r.err("corpus.heldout_fraction", f"{frac} is outside [0, 1)", "use e.g. 0.2")
        chunk = float(r.get(ct, "corpus", "chunk_seconds", _NUM, 4.0))
        if chunk <= 0:
            raise r.err("corpus.chunk_seconds", "must be positive", "use e.g. 4.0")
        corpus = CorpusSpec(in_paths, held, frac, chunk, tests)

    # [training]
    training = TrainingBudget()
    tr = r.table(data, "training", False)
    if tr is not None:
        fields = {f.name: f for f in dataclasses.fields(TrainingBudget)}
        if "options" in tr:
            raise r.err("training.options", "was removed: the trainer never read it",
                        "set the named [training] keys (steps, batch_size, learning_rate, segment_seconds, "
                        "seed, max_minutes, device, augment) or the distill command's options")
        r.no_unknown(tr, "training", set(fields))
        kw: dict[str, Any] = {}
        for k in tr:
            d = getattr(training, k)
            typ = str if isinstance(d, str) else (int if isinstance(d, int) else _NUM)
            kw[k] = r.get(tr, "training", k, typ)
            if typ in (int, _NUM) and kw[k] < 0:
                raise r.err(f"training.{k}", "must not be negative", "use a positive number")
            if k in ("steps", "batch_size") and kw[k] == 0:
                raise r.err(f"training.{k}", "must be at least 1", "use a positive number")
        if "device" in kw and kw["device"] not in ("auto", "cpu", "cuda"):
            raise r.err("training.device", f"{kw['device']!r} is not a device", "use \"auto\", \"cpu\" or \"cuda\"")
        training = dataclasses.replace(training, **kw)

    # [qa]
    cohort: list[str] = []
    if "qa" in data and isinstance(data["qa"], dict) and "cohort" in data["qa"]:
        qtbl = dict(data["qa"])
        cohort = _cohort(r, qtbl.pop("cohort"), corpus)
        data = {**data, "qa": qtbl}
    qa = _qa(r, data.get("qa"), "qa", QAThresholds()) if "qa" in data else QAThresholds()

    # [[tiers]]
    if "tiers" not in data:
        raise r.err("tiers", "is missing", "add at least one [[tiers]] table (e.g. name = \"low\")")
    tl = data["tiers"]
    if not isinstance(tl, list) or not tl or not all(isinstance(t, dict) for t in tl):
        raise r.err("tiers", "must be one or more [[tiers]] tables", "write each tier as [[tiers]]")
    if len(tl) > 16:
        raise r.err("tiers", f"has {len(tl)} tiers", "use at most 16")
    preset_fields = \
        {f.name for f in dataclasses.fields(TierPreset)} - {"name", "rank", "description", "extra"}
    specs: list[TierSpec] = []
    seen: set[str] = set()
    for i, t in enumerate(tl):
        pre = f"tiers[{i}]"
        r.no_unknown(t, pre, {"name", "preset", "sample_rate", "qa"} | preset_fields)
        name = r.get(t, pre, "name", str)
        if not _TIER_RE.match(name):
            raise r.err(f"{pre}.name", f"{name!r} is not a valid tier name", "use 1..32 characters of [a-z0-9_-]")
        if name in seen:
            raise r.err(f"{pre}.name", f"tier {name!r} appears twice", "give every tier a unique name")
        seen.add(name)
        pname = r.get(t, pre, "preset", str, name)
        try:
            preset = get_tier_preset(pname)
        except UnknownTierError:
            raise r.err(f"{pre}.preset" if "preset" in t else f"{pre}.name", f"unknown tier preset {pname!r}",
                        f"set `preset` to one of: {', '.join(available_tiers())} "
                        f"(or register one in entry point group voiceskin.tiers)") from None
        over: dict[str, Any] = {}
        for k in sorted(set(t) & preset_fields):
            d = getattr(preset, k)
            if k == "weights":
                from .quantise import WEIGHT_KINDS
                w = r.get(t, pre, k, str)
                if w not in WEIGHT_KINDS:
                    raise r.err(f"{pre}.weights", f"unknown weights {w!r}",
                                f"use one of: {', '.join(WEIGHT_KINDS)}")
                over[k] = w
                continue
            if k == "prune_target":
                pt = r.get(t, pre, k, str)
                if pt:
                    try:
                        get_tier_preset(pt)
                    except UnknownTierError:
                        raise r.err(f"{pre}.prune_target", f"unknown tier preset {pt!r}",
                                    f"name the preset whose network cost to prune to: one of "
                                    f"{', '.join(available_tiers())}, or \"\" for no pruning") from None
                over[k] = pt
                continue
            if isinstance(d, bool):
                over[k] = r.get(t, pre, k, bool)
                continue
            typ = int if isinstance(d, int) else _NUM
            val = r.get(t, pre, k, typ)
            if k in ("norm_tau", "lookahead", "warp_grid") and val == 0:
                pass  # 0 turns speaker normalisation / the lookahead off
            elif val <= 0:
                raise r.err(f"{pre}.{k}", f"must be positive, got {val}", "use a positive number")
            over[k] = float(val) if typ is _NUM else val
        if over:
            preset = preset.with_overrides(**over)
        if preset.lookahead % preset.hop:
            raise r.err(f"{pre}.lookahead", f"{preset.lookahead} is not a multiple of hop {preset.hop}",
                        f"use 0, {preset.hop}, {2 * preset.hop}, ...")
        if preset.prune_target and preset.gru_layers != 1:
            raise r.err(f"{pre}.prune_target", f"pruning needs a one-layer GRU (gru_layers = {preset.gru_layers})",
                        "set gru_layers = 1 or remove prune_target")
        if preset.warp_grid and (preset.warp_grid < 3 or preset.norm_tau <= 0):
            raise r.err(f"{pre}.warp_grid", f"{preset.warp_grid} needs at least 3 factors and norm_tau > 0",
                        "use 0 (off) or e.g. 25, with speaker normalisation on")
        sr = r.get(t, pre, "sample_rate", int, 16000)
        if not 8000 <= sr <= 192000:
            raise r.err(f"{pre}.sample_rate", f"{sr} is outside 8000..192000", "use e.g. 16000")
        if sr != MODEL_SAMPLE_RATE:
            raise r.err(f"{pre}.sample_rate", f"{sr}: students train and run at {MODEL_SAMPLE_RATE} Hz only "
                        "(the runtime resamples to any device rate)",
                        f"remove the key or use {MODEL_SAMPLE_RATE}")
        tqa = _qa(r, t["qa"], f"{pre}.qa", qa) if "qa" in t else qa
        specs.append(TierSpec(name, dataclasses.replace(preset, name=name), sr, tqa))
    specs.sort(key=lambda s: s.rank)  # stable: equal ranks keep file order

    return VoiceDef(path.resolve(), vid, display, version, master, files, specs, training, qa, corpus, cohort)


def corpus_speaker_names(inputs: list[Path]) -> set[str]:
    """Speakers of corpus inputs: a built corpus (manifest.json) names them;
    otherwise first-level subfolders holding audio, or the folder itself when
    audio lies directly in it (as :func:`voiceskin_tooling.corpus.find_speakers`)."""
    import json

    names: set[str] = set()
    for root in inputs:
        man = root / "manifest.json"
        if man.is_file():
            try:
                d = json.loads(man.read_text(encoding="utf-8"))
                for k in ("train_speakers", "validation_speakers", "heldout_speakers", "test_speakers"):
                    names.update(d.get(k, []))
                continue
            except (ValueError, OSError):
                pass
        for child in root.iterdir() if root.is_dir() else ():
            if child.is_file() and child.suffix.lower() in AUDIO_EXTENSIONS and not child.name.startswith("."):
                names.add(root.resolve().name)
            elif child.is_dir() and any(h.suffix.lower() in AUDIO_EXTENSIONS for h in child.rglob("*")):
                names.add(child.name)
    return names


def _cohort(r: "_Reader", val: Any, corpus: CorpusSpec | None) -> list[str]:
    key = "qa.cohort"
    if not isinstance(val, list) or not all(isinstance(s, str) for s in val):
        raise r.err(key, f"must be an array of speaker names, got {_tname(val)}",
                    "list corpus speakers of the target's sex, e.g. cohort = [\"cs_dita\", \"fi_lj\"]")
    if len(set(val)) != len(val):
        raise r.err(key, "names a speaker twice", "list each speaker once")
    if not val:
        return []
    if corpus is None:
        raise r.err(key, "needs a [corpus] to take its speakers from", "add [corpus] inputs or remove the cohort")
    tests = sorted(set(val) & set(corpus.test_speakers or []))
    if tests:
        raise r.err(key, f"names test speaker(s) {tests}",
                    "use train or validation speakers: test speakers are never used for a choice")
    have = corpus_speaker_names(corpus.inputs)
    missing = [s for s in val if s not in have]
    if missing:
        raise r.err(key, f"speaker(s) {missing} are not in the corpus "
                         f"({', '.join(str(p) for p in corpus.inputs)})",
                    f"use speakers of the corpus: {', '.join(sorted(have)) or '(none found)'}")
    return list(val)


def _qa(r: _Reader, tbl: Any, prefix: str, base: QAThresholds) -> QAThresholds:
    if not isinstance(tbl, dict):
        raise r.err(prefix, f"must be a table, got {_tname(tbl)}", f"write it as [{prefix}]")
    names = {f.name for f in dataclasses.fields(QAThresholds)}
    r.no_unknown(tbl, prefix, names)
    vals = {}
    for k in tbl:
        v = float(r.get(tbl, prefix, k, _NUM))
        if v < 0:
            raise r.err(f"{prefix}.{k}", "must not be negative", "use a number ≥ 0")
        vals[k] = v
    return base.merged(vals)


def _expand_audio(r: _Reader, key: str, base: Path, item: str) -> list[Path]:
    p = Path(item)
    full = p if p.is_absolute() else base / p
    if any(c in item for c in "*?["):
        hits = sorted(Path(h) for h in glob.glob(str(full), recursive=True))
        hits = [h for h in hits if h.is_file() and h.suffix.lower() in AUDIO_EXTENSIONS]
        if not hits:
            raise r.err(key, f"glob {item!r} matches no audio file (looked in {full.parent})",
                        "fix the pattern (relative to this file); audio is .wav, .flac or .ogg")
        return [h.resolve() for h in hits]
    if full.is_dir():
        hits = sorted(h for h in full.rglob("*") if h.is_file() and h.suffix.lower() in AUDIO_EXTENSIONS)
        if not hits:
            raise r.err(key, f"folder {full} holds no .wav/.flac/.ogg file", "add recordings or fix the path")
        return [h.resolve() for h in hits]
    if not full.exists():
        raise r.err(key, f"reference audio {full} does not exist", "fix the path (relative to this file)")
    if full.suffix.lower() not in AUDIO_EXTENSIONS:
        raise r.err(key, f"{full.name} is not .wav, .flac or .ogg", "convert it or list another file")
    return [full.resolve()]
