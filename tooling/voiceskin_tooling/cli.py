"""``voiceskin`` — build, distil, package and check voice skins.

    voiceskin corpus  IN... -o CORPUS        folders of recordings → training corpus
    voiceskin distill VOICE.toml... [-j N]    master → one student per tier, QA, report
                                            (--ray [ADDRESS]: on a Ray cluster)
    voiceskin pack    VOICE.toml [-o F.vskin] trained tiers + QA → bundle (atomic)
    voiceskin inspect F.vskin                 a bundle's voice, tiers and QA
    voiceskin verify  F.vskin                 checksum, native open, runtime == reference
    voiceskin render  F.vskin IN.wav OUT.wav  convert a recording through the runtime
    voiceskin audition VOICE.toml IN.wav DIR  the master and every tier on one recording
    voiceskin list    [FOLDER]                voices and tiers found in a folder

Exit status: 0 success, 1 a check failed (QA bars, verify mismatch),
2 bad input (missing file, bad TOML, unknown master/tier, corrupt audio or
bundle). Errors print one line saying what is wrong and what to do; no
command leaves a half-written output behind.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, Sequence

__all__ = ["main", "build_parser", "CliError"]

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class CliError(Exception):
    """Bad input: printed as ``error: ...`` with exit status 2."""


class CheckFailed(Exception):
    """A check ran and failed: exit status 1."""


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    c = Console(stderr=stderr, highlight=False, soft_wrap=True)
    if not c.is_terminal:  # logs and pipes: wide enough for the QA tables
        c = Console(stderr=stderr, highlight=False, soft_wrap=True, width=150)
    return c


# ------------------------------------------------------------------ corpus


def cmd_corpus(a: argparse.Namespace) -> int:
    from rich.progress import Progress

    from .corpus import CorpusError, build_corpus

    for p in a.inputs:
        if not Path(p).is_dir():
            raise CliError(f"input folder {p} does not exist (pass folders of speaker subfolders)")
    try:
        with Progress(console=_console(True), transient=True) as prog:
            task = prog.add_task("reading recordings", total=None)

            def cb(done: int, total: int, name: str) -> None:
                prog.update(task, total=total, completed=done, description=f"{Path(name).name}")

            m = build_corpus(a.inputs, a.output, sample_rate=a.sample_rate,
                             chunk_seconds=a.chunk_seconds,
                             validation_speakers=a.validation or None,
                             test_speakers=a.test or None, language=a.language,
                             heldout_fraction=a.heldout_fraction,
                             on_corrupt="fail" if a.strict else "skip", progress=cb)
    except (CorpusError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    c = _console()
    texts = sum(e.text is not None for e in m.entries if e.split != "train")
    qa_n = sum(e.split != "train" for e in m.entries)
    c.print(f"corpus [bold]{a.output}[/]: {len(m.entries)} chunks, "
            f"train {m.seconds('train'):.0f} s ({', '.join(m.train_speakers)}), "
            f"validation {m.seconds('validation'):.0f} s ({', '.join(m.validation_speakers)}), "
            f"test {m.seconds('test'):.0f} s ({', '.join(m.test_speakers) or 'none'}); "
            f"{texts} of {qa_n} validation/test files have a transcript")
    for s in m.skipped:
        c.print(f"[yellow]skipped[/] {s}")
    return EXIT_OK


# ----------------------------------------------------------------- distill


def _load_voice(path: str) -> Any:
    from .voicedef import VoiceDefError, load_voice

    try:
        return load_voice(path)
    except VoiceDefError as exc:
        raise CliError(str(exc)) from exc


def cmd_distill(a: argparse.Namespace) -> int:
    from .distill import DistillConfig, DistillError, QABarsMissed, distill
    from .masters import MasterError
    from .voicedef import VoiceDefError

    voices = [_load_voice(p) for p in a.voices]  # validate every TOML before any work
    ids = [v.id for v in voices]
    if len(set(ids)) != len(ids):
        raise CliError(f"the same voice ID appears twice: {ids}")
    cfg = DistillConfig(voice=a.voices[0], out_dir=a.out, corpus=a.corpus,
                        tiers=a.tiers.split(",") if a.tiers else None, steps=a.steps,
                        time_budget_s=a.minutes * 60 if a.minutes else None,
                        device=a.device, jobs=a.jobs, qa=not a.no_qa,
                        fail_on_qa=not a.no_fail, progress=not a.quiet,
                        max_train_seconds=a.max_train_seconds, augment=a.augment,
                        postfilter=not a.no_postfilter)
    if a.augment is not None and a.augment < 0:
        raise CliError(f"--augment {a.augment}: must be 0 or more")
    if a.corpus and not (Path(a.corpus) / "manifest.json").is_file():
        raise CliError(f"--corpus {a.corpus}: no manifest.json there (build one with `voiceskin corpus`)")
    console = _console(True)
    try:
        if a.ray is not None:  # Ray only here: without --ray it is never imported
            from .cluster import RayOptions, distill_ray

            summary = distill_ray(cfg, voices=a.voices, console=console, opts=RayOptions(
                address=a.ray or None, cpus_per_tier=a.ray_cpus, gpu_fraction=a.ray_gpu_fraction))
        else:
            summary = distill(cfg, voices=a.voices, console=console)
    except QABarsMissed as exc:
        _console(True).print(f"[bold red]FAILED[/] {exc}")
        raise CheckFailed(str(exc)) from exc
    except DistillError as exc:
        raise CliError(str(exc)) from exc
    except (VoiceDefError, MasterError, KeyError) as exc:
        raise CliError(str(exc).strip("'\"")) from exc
    out = _console()
    for vid, vs in summary["voices"].items():
        if "qa" in vs:
            _print_qa(out, vs)
        out.print(f"{vid}: checkpoints in {Path(a.out) / vid / 'tiers'}"
                  + (f", report {vs['report']}" if vs.get("report") else "")
                  + (f", bundle {vs['bundle']}" if vs.get("bundle") else ""))
    if summary["failures"]:
        out.print("[bold yellow]QA bars missed (not failing: --no-fail):[/]\n  "
                  + "\n  ".join(summary["failures"]))
    return EXIT_OK


def _print_qa(console: Any, vs: dict[str, Any]) -> None:
    from rich.table import Table

    from .report import format_table

    for split, title in (("heldout", "validation (held-out) speakers"), ("test", "test speakers"),
                         ("seen", "seen speakers")):
        if split != "heldout" and not any(r.get(split) for r in vs["qa"]["tiers"].values()):
            continue
        rows = format_table(vs["qa"], split)
        t = Table(title=f"{vs['voice']} QA vs master — {title}")
        for h in rows[0]:
            t.add_column(h)
        for r in rows[1:]:
            t.add_row(*[c.replace("✗", "[red]✗[/]").replace("✓", "[green]✓[/]") for c in r])
        console.print(t)
    from .qa_tables import print_listening

    print_listening(console, vs["qa"], vs["voice"])


# -------------------------------------------------------------------- pack


def cmd_pack(a: argparse.Namespace) -> int:
    import json

    from .distill import DistillConfig, load_student, tier_checkpoint
    from .pack import qa_summary, save

    voice = _load_voice(a.voice)
    cfg = DistillConfig(voice=a.voice, out_dir=a.out)
    students: dict[str, Any] = {}
    train: dict[str, Any] = {}
    missing = []
    for t in voice.tiers:
        ck = tier_checkpoint(cfg, voice.id, t.name)
        if not ck.is_file():
            missing.append(t.name)
            continue
        try:
            students[t.name], ckd = load_student(ck)
        except Exception as exc:  # noqa: BLE001
            raise CliError(f"checkpoint {ck} is unreadable ({type(exc).__name__}: {exc}); "
                           "run `voiceskin distill` again") from exc
        train[t.name] = {k: v for k, v in ckd.get("train", {}).items() if k != "curve"}
    if missing:
        raise CliError(f"no trained student for tier(s) {missing} of voice {voice.id!r} under "
                       f"{Path(a.out) / voice.id / 'tiers'}; run `voiceskin distill {a.voice}` first")
    qa = None
    qpath = Path(a.out) / voice.id / "qa.json"
    if qpath.is_file():
        try:
            qa = json.loads(qpath.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise CliError(f"{qpath} is not valid JSON ({exc}); rerun distill") from exc
    from . import __name__ as _pkg  # noqa: F401

    meta = {"voice": voice.id, "master": voice.master.name,
            "master_settings": voice.master.settings, "training": train,
            "packed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    out = Path(a.output) if a.output else Path(a.out) / voice.id / f"{voice.id}-{voice.version}.vskin"
    if out.exists() and out.is_dir():
        raise CliError(f"output {out} is a folder; give a file name ending in .vskin")
    try:
        save(voice, students, out, qa_summary(qa, meta))
    except ValueError as exc:
        raise CliError(f"cannot pack {voice.id}: {exc}") from exc
    _console().print(f"packed [bold]{out}[/] ({out.stat().st_size:,} bytes, tiers "
                     f"{', '.join(students)})")
    return EXIT_OK


# ----------------------------------------------------------------- inspect


def _read_bundle(path: str) -> tuple[bytes, Any]:
    from voiceskin.format import BundleFormatError, read_bundle

    p = Path(path)
    if not p.is_file():
        raise CliError(f"bundle {p} does not exist" if not p.exists() else f"{p} is not a file")
    data = p.read_bytes()
    try:
        return data, read_bundle(data)
    except BundleFormatError as exc:
        raise CliError(f"{p} is not a valid bundle: {exc}") from exc


def cmd_inspect(a: argparse.Namespace) -> int:
    from rich.table import Table

    data, spec = _read_bundle(a.bundle)
    c = _console()
    c.print(f"[bold]{spec.display_name}[/] ({spec.voice_id} {spec.version}) — "
            f"{len(data):,} bytes, {len(spec.tiers)} tier(s)")
    t = Table(title="tiers (lowest quality first)")
    for h in ("#", "tier", "rate", "hop", "latency", "params", "MFLOP/s", "nodes"):
        t.add_column(h, justify="right" if h not in ("tier",) else "left")
    for i, tier in enumerate(spec.tiers):
        t.add_row(str(i), tier.name, f"{tier.model_sample_rate}", f"{tier.hop_samples}",
                  f"{1000 * tier.latency_samples / tier.model_sample_rate:.1f} ms",
                  f"{tier.parameter_count:,}", f"{tier.flops_per_second / 1e6:.1f}",
                  str(len(tier.graph.nodes)))
    c.print(t)
    qa = spec.qa or {}
    if qa.get("tiers"):
        _print_qa(c, {"voice": spec.voice_id, "qa": qa})
    elif qa:
        c.print(f"QA: {qa}")
    else:
        c.print("no QA section")
    return EXIT_OK


# ------------------------------------------------------------------ verify


def probe_signal(sr: int, seconds: float = 1.5, seed: int = 7) -> Any:
    """A voiced glide with vibrato, a pause and a noise burst (covers voiced,
    silent and unvoiced paths of the graph)."""
    import numpy as np

    n = int(sr * seconds)
    t = np.arange(n) / sr
    f = 110 + 90 * t / seconds + 6 * np.sin(2 * np.pi * 5 * t)
    ph = 2 * np.pi * np.cumsum(f) / sr
    x = 0.25 * (np.sin(ph) + 0.5 * np.sin(2 * ph) + 0.25 * np.sin(3 * ph))
    x[int(0.45 * n):int(0.55 * n)] = 0.0
    rng = np.random.default_rng(seed)
    x[int(0.8 * n):] = 0.05 * rng.standard_normal(n - int(0.8 * n))
    return x.astype(np.float32)


def cmd_verify(a: argparse.Namespace) -> int:
    import numpy as np
    from rich.table import Table

    from voiceskin import Bundle, Voice, VoiceskinError

    from .refgraph import run_graph

    data, spec = _read_bundle(a.bundle)
    c = _console()
    c.print(f"checksum and structure: [green]ok[/] ({spec.voice_id} {spec.version})")
    try:
        b = Bundle.from_bytes(data)
    except VoiceskinError as exc:
        raise CheckFailed(f"the native runtime refuses {a.bundle}: {exc}") from exc
    c.print("native runtime opens it: [green]ok[/]")
    students: dict[str, Any] = {}
    if a.checkpoints:
        from .distill import load_student

        for tier in spec.tiers:
            ck = Path(a.checkpoints) / f"{tier.name}.pt"
            if ck.is_file():
                students[tier.name] = load_student(ck)[0]
    t = Table(title=f"runtime vs reference on a {1.5:.1f} s probe (tolerance {a.tolerance:g})")
    for h in ("tier", "max |runtime − refgraph|", "max |runtime − student|", "rms out", "ok"):
        t.add_column(h)
    bad = []
    with b:
        for i, tier in enumerate(spec.tiers):
            sr = tier.model_sample_rate
            x = probe_signal(sr)
            v = Voice(b, sample_rate=sr, max_block=tier.hop_samples, tier=i)
            y = v.process(np.concatenate([x, np.zeros(v.latency, np.float32)]))[v.latency:]
            # the runtime compensates the declared latency, lookahead included
            ref = run_graph(tier.graph, tier.tensors, x).astype(np.float32)
            ref = ref[tier.latency_samples - tier.hop_samples:]
            n = min(len(ref), len(y))
            e_ref = float(np.max(np.abs(y[:n] - ref[:n])))
            e_st = None
            if tier.name in students:
                ys = students[tier.name].convert(x)
                m = min(len(ys), n)
                e_st = float(np.max(np.abs(y[:m] - ys[:m])))
            scale = max(float(np.max(np.abs(ref[:n]))), 1e-3)
            ok = e_ref <= a.tolerance * scale and (e_st is None or e_st <= a.student_tolerance * scale)
            if not ok:
                bad.append(tier.name)
            t.add_row(tier.name, f"{e_ref:.2e}", "—" if e_st is None else f"{e_st:.2e}",
                      f"{float(np.sqrt(np.mean(ref ** 2))):.4f}",
                      "[green]ok[/]" if ok else "[red]MISMATCH[/]")
    c.print(t)
    if bad:
        raise CheckFailed(f"runtime output differs from the reference for tier(s) {bad}")
    c.print("[green]verified[/]")
    return EXIT_OK


# ------------------------------------------------------------------ render


def read_input_audio(inp: str) -> tuple[Any, int]:
    """(frames × channels float32, rate) of a recording to convert, with the
    checks every converting command shares (exists, decodes, finite samples,
    8–192 kHz, at most 8 channels)."""
    import numpy as np
    import soundfile as sf

    ip = Path(inp)
    if not ip.is_file():
        raise CliError(f"input audio {ip} does not exist")
    try:
        x, sr = sf.read(str(ip), dtype="float32", always_2d=True)
    except Exception as exc:  # noqa: BLE001 - soundfile raises several types
        raise CliError(f"cannot decode {ip}: {exc} (use wav, flac or ogg)") from exc
    if x.shape[0] == 0:
        raise CliError(f"{ip} holds no samples")
    if not np.all(np.isfinite(x)):
        raise CliError(f"{ip} contains NaN or infinite samples")
    if not 8000 <= sr <= 192000:
        raise CliError(f"{ip}: sample rate {sr} Hz is outside 8000..192000")
    if x.shape[1] > 8:
        raise CliError(f"{ip} has {x.shape[1]} channels; at most 8 are supported")
    return x, int(sr)


def convert_native(data: bytes, x: Any, sr: int, tier: str | int = 0, block: int = 512,
                   source: str = "bundle") -> tuple[Any, dict[str, Any]]:
    """Converts ``x`` (frames × channels) through tier ``tier`` of the bundle
    bytes with the native runtime at rate ``sr``; the output is
    latency-compensated (same length and timing as the input). Returns
    (output, {"tier", "latency", "seconds", "rtf"})."""
    import numpy as np

    from voiceskin import Bundle, Voice, VoiceskinError
    from voiceskin.format import BundleFormatError, read_bundle

    try:
        names = [t.name for t in read_bundle(data).tiers]
    except BundleFormatError as exc:
        raise CliError(f"{source} is not a valid bundle: {exc}") from exc
    if isinstance(tier, str) and not tier.isdigit() and tier not in names:
        raise CliError(f"bundle has no tier {tier!r}; tiers: {', '.join(names)}")
    if isinstance(tier, str) and tier.isdigit():
        tier = int(tier)
    if isinstance(tier, int) and not 0 <= tier < len(names):
        raise CliError(f"tier index {tier} out of range 0..{len(names) - 1}")
    try:
        b = Bundle.from_bytes(data)
    except VoiceskinError as exc:
        raise CliError(f"the native runtime refuses {source}: {exc}") from exc
    ch = x.shape[1]
    with b:
        v = Voice(b, sample_rate=int(sr), channels=ch, max_block=block, tier=tier)
        lat = v.latency
        xin = np.ascontiguousarray(np.concatenate([x, np.zeros((lat, ch), np.float32)]))
        y = np.empty_like(xin)
        t0 = time.perf_counter()
        for i in range(0, len(xin), block):
            v.process_into(xin[i:i + block], y[i:i + block])
        el = time.perf_counter() - t0
        tname = v.tier_name
    return y[lat:], {"tier": tname, "latency": lat, "seconds": len(x) / sr,
                     "rtf": el / (len(x) / sr)}


def render_file(bundle_path: str, inp: str, out: str, tier: str | int = 0,
                block: int = 512) -> dict[str, Any]:
    """Converts ``inp`` through tier ``tier`` of the bundle with the native
    runtime at the file's own rate and channel count; the output is
    latency-compensated (same length and timing as the input) and written
    atomically. Returns {"tier", "latency", "seconds", "rtf"}."""
    from .corpus import write_audio_atomic

    x, sr = read_input_audio(inp)
    op = Path(out)
    if op.suffix.lower() not in (".wav", ".flac", ".ogg"):
        raise CliError(f"output {op} must end in .wav, .flac or .ogg")
    data, _ = _read_bundle(bundle_path)
    y, info = convert_native(data, x, sr, tier, block, source=bundle_path)
    write_audio_atomic(op, y if y.shape[1] > 1 else y[:, 0], sr,
                       fmt="wav" if op.suffix.lower() == ".wav" else None)
    return info


def cmd_render(a: argparse.Namespace) -> int:
    r = render_file(a.bundle, a.input, a.output, a.tier)
    _console().print(f"{a.output}: {r['seconds']:.1f} s through tier [bold]{r['tier']}[/] "
                     f"(latency {r['latency']} frames compensated, {100 * r['rtf']:.2f}% real time)")
    return EXIT_OK


def cmd_audition(a: argparse.Namespace) -> int:
    from .audition import audition

    s = audition(a.voice, a.input, a.output_dir, out_root=a.out, bundle=a.bundle)
    _console().print(f"{a.output_dir}: input, master and {len(s['files']) - 2} tier(s) "
                     f"({', '.join(k for k in s['files'] if k not in ('input', 'master'))}); "
                     f"open {Path(a.output_dir) / 'audition.html'} to listen side by side")
    return EXIT_OK


# -------------------------------------------------------------------- list


def cmd_list(a: argparse.Namespace) -> int:
    from rich.table import Table

    from voiceskin import Registry

    c = _console()
    folder = Path(a.folder)
    if not folder.is_dir():
        raise CliError(f"folder {folder} does not exist")
    with Registry() as reg:
        added, skipped = reg.scan(str(folder))
        t = Table(title=f"voices in {folder} ({added} bundle(s), {skipped} skipped)")
        for h in ("voice", "name", "version", "tiers"):
            t.add_column(h)
        for b in reg:
            t.add_row(b.voice_id, b.display_name, b.version,
                      ", ".join(f"{ti.name} ({ti.flops_per_second / 1e6:.0f} MFLOP/s)" for ti in b.tiers))
        c.print(t)
    if a.plugins:
        from .masters import available_masters
        from .tiers import available_tiers

        c.print("masters: " + ", ".join(f"{n} ({o})" for n, o in available_masters().items()))
        c.print("tier presets: " + ", ".join(available_tiers()))
    return EXIT_OK


# ------------------------------------------------------------------ parser


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="voiceskin", description="Build, distil, package and check voice skins.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit status: 0 ok, 1 a check failed, 2 bad input")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    s = sub.add_parser("corpus", help="build a training corpus from folders of recordings",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Folders of speaker subfolders (wav/flac/ogg, any rate and "
                                   "channels) → resampled mono chunks, split by speaker into\n"
                                   "train, validation (tune on these) and test (report only); "
                                   "validation and test files stay whole.",
                       epilog="transcripts (optional; the QA's word error rate needs them):\n"
                              "  IN/<speaker>/<name>.txt beside <name>.wav holds what is said, or\n"
                              "  a transcripts.tsv in IN or a speaker folder lists\n"
                              "  path<TAB>text[<TAB>language] per line (path relative to the .tsv;\n"
                              "  # comments). --language sets the language of transcripts naming none.")
    s.add_argument("inputs", nargs="+", metavar="IN", help="folder of speaker subfolders")
    s.add_argument("-o", "--output", required=True, metavar="CORPUS", help="corpus folder to write")
    s.add_argument("--sample-rate", type=int, default=16000)
    s.add_argument("--chunk-seconds", type=float, default=4.0)
    s.add_argument("--validation", "--heldout", dest="validation", nargs="*", metavar="SPEAKER",
                   help="validation (held-out) speakers (default: by fraction)")
    s.add_argument("--test", nargs="*", metavar="SPEAKER", help="test speakers (default: none)")
    s.add_argument("--heldout-fraction", type=float, default=0.2)
    s.add_argument("--language", metavar="CODE", help="language of transcripts that name none (e.g. en)")
    s.add_argument("--strict", action="store_true", help="fail on a corrupt file instead of skipping it")
    s.set_defaults(func=cmd_corpus)

    s = sub.add_parser("distill", help="distil a voice into one student per tier (+ QA, report)",
                       description="Master outputs are computed once per voice and cached; every "
                                   "tier trains on them; QA runs on held-out and seen speakers and "
                                   "the command fails (exit 1) when a tier misses its bars.")
    s.add_argument("voices", nargs="+", metavar="VOICE.toml")
    s.add_argument("-j", "--jobs", type=int, default=1, help="worker processes (voices × tiers)")
    s.add_argument("-o", "--out", default="out", help="output folder (default: out)")
    s.add_argument("--tiers", help="comma-separated subset of the voice's tiers")
    s.add_argument("--steps", type=int, help="training steps per tier (default: the voice's)")
    s.add_argument("--minutes", type=float, help="wall-clock budget per tier")
    s.add_argument("--augment", type=int, metavar="N",
                   help="perturbed copies of each training chunk (default: the voice's [training] augment)")
    s.add_argument("--corpus", help="use this built corpus instead of the voice's [corpus]")
    s.add_argument("--max-train-seconds", type=float, help="cap the training speech the master converts")
    s.add_argument("--device", choices=["auto", "cpu", "cuda"])
    s.add_argument("--no-postfilter", action="store_true",
                   help="keep the students' own envelopes: no formant post-filter after training "
                        "(docs/distillation.md)")
    s.add_argument("--no-qa", action="store_true", help="skip QA and the report")
    s.add_argument("--no-fail", action="store_true", help="report missed QA bars but exit 0")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    s.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help="run on a Ray cluster (pip install 'voiceskin[ray]'; docs/scale.md): master "
                        "conversion over chunks, one task per voice x tier, QA per voice, bundles "
                        "written under --out; no ADDRESS: join or start a local Ray, 'auto': the "
                        "running cluster, or HOST:PORT / ray://HOST:PORT (put --ray after the voices)")
    s.add_argument("--ray-cpus", type=float, default=1.0, metavar="N",
                   help="CPUs one (voice, tier) training task reserves (--ray; default 1)")
    s.add_argument("--ray-gpu-fraction", type=float, default=0.25, metavar="F",
                   help="GPU share of one training task when the cluster has GPUs (--ray; default "
                        "0.25: four tiers per GPU)")
    s.set_defaults(func=cmd_distill)

    s = sub.add_parser("pack", help="package the trained tiers + QA into a .vskin bundle")
    s.add_argument("voice", metavar="VOICE.toml")
    s.add_argument("-o", "--output", metavar="FILE.vskin",
                   help="default: OUT/<voice id>/<voice id>-<version>.vskin")
    s.add_argument("--out", default="out", help="folder distill wrote to (default: out)")
    s.set_defaults(func=cmd_pack)

    s = sub.add_parser("inspect", help="show a bundle's voice, tiers and QA scores")
    s.add_argument("bundle", metavar="FILE.vskin")
    s.set_defaults(func=cmd_inspect)

    s = sub.add_parser("verify", help="checksum, native open, runtime output == reference graph")
    s.add_argument("bundle", metavar="FILE.vskin")
    s.add_argument("--checkpoints", metavar="DIR",
                   help="also compare with the PyTorch students in DIR (<tier>.pt)")
    s.add_argument("--tolerance", type=float, default=1e-3,
                   help="max |runtime − refgraph| relative to the output peak (default 1e-3)")
    s.add_argument("--student-tolerance", type=float, default=2e-2,
                   help="max |runtime − student| relative to the output peak (default 2e-2; "
                        "the student trains in float32 with a float32 front end)")
    s.set_defaults(func=cmd_verify)

    s = sub.add_parser("render", help="convert a recording through the native runtime")
    s.add_argument("bundle", metavar="FILE.vskin")
    s.add_argument("input", metavar="IN.wav")
    s.add_argument("output", metavar="OUT.wav")
    s.add_argument("-t", "--tier", default="0", help="tier name or index (default 0, the lowest)")
    s.set_defaults(func=cmd_render)

    s = sub.add_parser("audition", help="one recording through the master and every tier",
                       description="Writes input.wav, master.wav, <tier>.wav (native runtime, the "
                                   "recording's rate, latency-compensated) and audition.html, which "
                                   "plays them side by side.")
    s.add_argument("voice", metavar="VOICE.toml")
    s.add_argument("input", metavar="IN.wav")
    s.add_argument("output_dir", metavar="OUT_DIR")
    s.add_argument("--bundle", metavar="FILE.vskin",
                   help="tiers from this bundle (default: OUT/<voice id>/<voice id>-<version>.vskin, "
                        "else the trained checkpoints)")
    s.add_argument("--out", default="out", help="folder distill wrote to (default: out)")
    s.set_defaults(func=cmd_audition)

    s = sub.add_parser("list", help="voices and tiers of the bundles in a folder")
    s.add_argument("folder", nargs="?", default=".", help="folder of .vskin files (default .)")
    s.add_argument("--plugins", action="store_true", help="also list masters and tier presets")
    s.set_defaults(func=cmd_list)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    a = parser.parse_args(argv)
    try:
        return int(a.func(a))
    except CliError as exc:
        print(f"voiceskin {a.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except CheckFailed as exc:
        print(f"voiceskin {a.command}: FAILED: {exc}", file=sys.stderr)
        return EXIT_CHECK_FAILED
    except KeyboardInterrupt:
        print(f"voiceskin {a.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
