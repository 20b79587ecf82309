"""Audition one recording through a voice: the master and every tier.

    voiceskin audition VOICE.toml IN.wav OUT_DIR

writes ``input.wav`` (the recording as given), ``master.wav`` (the voice's
master, fitted on its target reference), one ``<tier>.wav`` per tier (the
**native runtime** at the recording's own rate, latency-compensated — what a
game would play) and ``audition.html``, a page that plays them side by side.
The tiers come from the packed bundle (``--bundle``, default
``OUT/<voice id>/<voice id>-<version>.vskin``) or, when none is packed yet,
from the trained checkpoints under ``OUT/<voice id>/tiers``.

All outputs have the input's length and timing, so they can be compared by
ear or laid on a DAW timeline without shifting.
"""
from __future__ import annotations

import html
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["audition"]


def _tier_source(voice: Any, out_root: str, bundle: str | None) -> tuple[bytes, str]:
    """(bundle bytes, where they came from)."""
    from .cli import CliError, _read_bundle

    if bundle:
        return _read_bundle(bundle)[0], bundle
    packed = Path(out_root) / voice.id / f"{voice.id}-{voice.version}.vskin"
    if packed.is_file():
        return _read_bundle(str(packed))[0], str(packed)
    from .distill import DistillConfig, load_student, tier_checkpoint
    from .pack import bundle_bytes

    cfg = DistillConfig(voice=str(voice.path), out_dir=out_root)
    cks = {t.name: tier_checkpoint(cfg, voice.id, t.name) for t in voice.tiers}
    missing = [n for n, p in cks.items() if not p.is_file()]
    if missing:
        raise CliError(f"no bundle at {packed} and no trained student for tier(s) {missing} under "
                       f"{Path(out_root) / voice.id / 'tiers'}; run `voiceskin distill "
                       f"{voice.path}` first, or pass --bundle")
    students = {n: load_student(p)[0] for n, p in cks.items()}
    return bundle_bytes(voice, students), f"checkpoints in {Path(out_root) / voice.id / 'tiers'}"


def audition(voice_path: str, inp: str, out_dir: str, out_root: str = "out",
             bundle: str | None = None) -> dict[str, Any]:
    """Writes the master's and every tier's conversion of ``inp`` into
    ``out_dir`` (atomically, file by file) and returns a summary."""
    from .cli import _load_voice, convert_native, read_input_audio
    from .corpus import write_audio_atomic
    from .masters import MasterError
    from .masters.base import resample

    voice = _load_voice(voice_path)
    x, sr = read_input_audio(inp)
    data, source = _tier_source(voice, out_root, bundle)  # fail on missing tiers before work
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    mono = x.mean(axis=1).astype(np.float32)
    files: dict[str, dict[str, Any]] = {}

    write_audio_atomic(out / "input.wav", x if x.shape[1] > 1 else x[:, 0], sr, fmt="wav")
    files["input"] = {"file": "input.wav"}

    t0 = time.perf_counter()
    master = voice.make_master()
    refs, ref_sr = voice.load_reference_audio()
    try:
        master.fit(refs, ref_sr)
        m = master.convert(mono, sr)
    except MasterError as exc:
        from .cli import CliError

        raise CliError(f"master {voice.master.name!r} cannot convert {inp}: {exc}") from exc
    y = resample(np.asarray(m.audio, np.float32), int(m.sample_rate), sr)[: len(mono)]
    y = np.pad(y, (0, len(mono) - len(y)))
    write_audio_atomic(out / "master.wav", y, sr, fmt="wav")
    files["master"] = {"file": "master.wav", "seconds": round(time.perf_counter() - t0, 2),
                       "sample_rate": int(m.sample_rate)}

    from voiceskin.format import read_bundle

    for t in read_bundle(data).tiers:
        yt, info = convert_native(data, x, sr, t.name, source=source)
        write_audio_atomic(out / f"{t.name}.wav", yt if yt.shape[1] > 1 else yt[:, 0], sr, fmt="wav")
        files[t.name] = {"file": f"{t.name}.wav", "latency_frames": info["latency"],
                         "realtime_percent": round(100 * info["rtf"], 3)}

    summary = {"voice": voice.id, "display_name": voice.display_name, "input": str(inp),
               "sample_rate": sr, "channels": int(x.shape[1]), "seconds": round(len(x) / sr, 3),
               "master": voice.master.name, "tiers_from": source, "files": files}
    _write_page(out, summary)
    tmp = out / ".audition.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    tmp.replace(out / "audition.json")
    return summary


def _write_page(out: Path, s: dict[str, Any]) -> None:
    rows = []
    for name, f in s["files"].items():
        note = ""
        if "realtime_percent" in f:
            note = f"native runtime, {f['realtime_percent']}% of real time"
        elif name == "master":
            note = f"master {html.escape(s['master'])} (offline)"
        rows.append(f"<tr><th>{html.escape(name)}</th><td><audio controls preload=none "
                    f"src=\"{html.escape(f['file'])}\"></audio></td><td>{note}</td></tr>")
    page = (f"<!doctype html><meta charset=utf-8><title>audition: {html.escape(s['voice'])}</title>"
            f"<h1>{html.escape(s['display_name'])}</h1><p>{html.escape(s['input'])}, "
            f"{s['seconds']} s at {s['sample_rate']} Hz; tiers from {html.escape(s['tiers_from'])}</p>"
            f"<table>{''.join(rows)}</table>")
    tmp = out / ".audition.html.tmp"
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out / "audition.html")
