"""The main job: shipped corpus → distil the demo voice at every tier →
pack → render held-out speech through every tier with the native runtime →
print where the report and audio are and the QA table against the bars.

    python -m voiceskin_tooling.mainjob [--budget-minutes 15] [--out out]

Budgeted by wall time: the master's one-off conversion of the corpus runs
first (cached under ``out/``), then the time left, minus a reserve for QA,
packing and rendering, is given to training; all tiers train at once, one
process each (one torch thread each). With CUDA the same steps run on the
GPU. The full distillation (the voice TOML's step count, no time cap) is
``voiceskin distill voices/demo.toml``; the main job is a shorter run and
says honestly where it stands against the bars.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _render_heldout(bundle: Path, cache: dict[str, Any], out_dir: Path, n_utts: int = 3,
                    sample_rate: int = 48000) -> dict[str, Any]:
    """Concatenates a few held-out chunks, resamples them to the host rate,
    and converts them through every tier with the native runtime."""
    import numpy as np

    from voiceskin import Bundle, Voice

    from .corpus import write_audio_atomic
    from .masters.base import resample

    utts = [u for u in cache["utts"] if u["split"] in ("heldout", "validation")]
    by_spk: dict[str, Any] = {}
    for u in utts:
        by_spk.setdefault(u["speaker"], u)
    pick = list(by_spk.values())[:n_utts] or utts[:n_utts]
    sr0 = int(cache["sample_rate"])
    gap = np.zeros(sr0 // 4, np.float32)
    x16 = np.concatenate([np.concatenate([u["input"].numpy(), gap]) for u in pick])
    m16 = np.concatenate([np.concatenate([u["master"].numpy(), gap]) for u in pick])
    x = resample(x16, sr0, sample_rate)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_audio_atomic(out_dir / "input.wav", x, sample_rate)
    write_audio_atomic(out_dir / "master.wav", resample(m16, sr0, sample_rate), sample_rate)
    info: dict[str, Any] = {"speakers": [u["speaker"] for u in pick],
                            "seconds": round(len(x) / sample_rate, 2), "tiers": {}}
    with Bundle.open(str(bundle)) as b:
        for i, t in enumerate(b.tiers):
            v = Voice(b, sample_rate=sample_rate, max_block=480, tier=i)
            lat = v.latency
            xin = np.concatenate([x, np.zeros(lat, np.float32)]).astype(np.float32)
            y = np.empty_like(xin)
            t0 = time.perf_counter()
            for k in range(0, len(xin), 480):
                v.process_into(xin[k:k + 480], y[k:k + 480])
            el = time.perf_counter() - t0
            path = out_dir / f"{t.name}.wav"
            write_audio_atomic(path, y[lat:], sample_rate)
            info["tiers"][t.name] = {"file": str(path), "latency_ms": round(1000 * lat / sample_rate, 2),
                                     "realtime_percent": round(100 * el / (len(x) / sample_rate), 3)}
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m voiceskin_tooling.mainjob", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--voice", default=str(ROOT / "voices" / "demo.toml"))
    ap.add_argument("--out", default=str(ROOT / "out"))
    ap.add_argument("--budget-minutes", type=float, default=None,
                    help="wall-clock budget of this job (default: 15 minutes minus a minute "
                         "from VOICESKIN_MAIN_START, the time scripts/main.sh started, set-up "
                         "included; 13 minutes when run on its own)")
    ap.add_argument("--learning-rate", type=float, default=3e-3,
                    help="short-run learning rate (the voice TOML's is for the full run)")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--segment-seconds", type=float, default=0.5)
    ap.add_argument("--reserve-seconds", type=float, default=300.0,
                    help="time kept for QA, packing and rendering after training")
    ap.add_argument("--max-train-seconds", type=float, default=None,
                    help="cap the training speech the master converts (default: all)")
    ap.add_argument("--jobs", type=int, default=0, help="training processes (default: one per tier)")
    a = ap.parse_args(argv)

    t_start = time.time()
    start = os.environ.get("VOICESKIN_MAIN_START")
    if a.budget_minutes is not None:
        deadline = t_start + 60 * a.budget_minutes
    elif start and start.isdigit():
        deadline = int(start) + 60 * 14.0     # the whole command, set-up included
    else:
        deadline = t_start + 60 * 13.0
    budget_minutes = (deadline - t_start) / 60
    from rich.table import Table

    from .cli import _console, _print_qa
    from .distill import DistillConfig, DistillError, build_cache, distill, load_cache
    from .pack import qa_summary, save
    from .voicedef import load_voice

    console = _console(stderr=True)
    out = _console()
    voice = load_voice(a.voice)
    console.rule(f"voiceskin main job — {voice.display_name} ({voice.id}), "
                 f"{len(voice.tiers)} tiers: {', '.join(t.name for t in voice.tiers)}")
    cores = os.cpu_count() or 1
    cfg = DistillConfig(voice=a.voice, out_dir=a.out, jobs=a.jobs or len(voice.tiers),
                        max_train_seconds=a.max_train_seconds,
                        max_seen_qa_seconds=20.0, fail_on_qa=False, qa_listen_max_per_split=12,
                        # each tier also without its post-filter: the ordering of the
                        # networks themselves and what each post-filter buys (listener_bars)
                        qa_without_postfilter=True,
                        learning_rate=a.learning_rate, batch_size=a.batch_size,
                        segment_seconds=a.segment_seconds)
    # 1. master outputs, once (cached)
    t0 = time.time()
    cache_path = build_cache(DistillConfig(**{**cfg.__dict__, "jobs": cores}), voice, console)
    cache_s = time.time() - t0
    console.log(f"master outputs: {cache_path} ({cache_s:.0f} s)")
    # 2. training budget = what is left minus the reserve
    left = deadline - time.time() - a.reserve_seconds
    if left < 30:
        console.log(f"[red]only {left:.0f} s left for training; raise --budget-minutes")
        left = 30.0
    cfg.time_budget_s = left
    cfg.steps = 10 ** 6  # the wall clock decides
    console.log(f"training every tier in parallel for {left:.0f} s "
                f"({cfg.jobs} processes on {cores} cores)")
    try:
        summary = distill(cfg, console=console)
    except DistillError as exc:
        console.print(f"[red]distillation failed: {exc}")
        return 1
    vs = summary["voices"][voice.id]
    # 3. pack
    from .distill import load_student, tier_checkpoint

    students = {t.name: load_student(tier_checkpoint(cfg, voice.id, t.name))[0] for t in voice.tiers}
    bundle = Path(a.out) / voice.id / f"{voice.id}-{voice.version}.vskin"
    meta = {"voice": voice.id, "master": voice.master.name, "master_settings": voice.master.settings,
            "training": {t: {k: v for k, v in i.items() if k != "curve"}
                         for t, i in vs["training"].items()}, "main_job": True}
    save(voice, students, bundle, qa_summary(vs.get("qa"), meta))
    # 4. render held-out speech through every tier (native runtime, 48 kHz)
    cache = load_cache(cache_path)
    rend = _render_heldout(bundle, cache, Path(a.out) / voice.id / "render")
    wall = time.time() - t_start
    # 5. where things are + QA table against the bars
    _print_qa(out, vs)
    t = Table(title="rendered held-out speech (native runtime, 48 kHz)")
    for h in ("tier", "file", "latency", "% real time"):
        t.add_column(h)
    for name, r in rend["tiers"].items():
        t.add_row(name, r["file"], f"{r['latency_ms']} ms", f"{r['realtime_percent']}")
    out.print(t)
    fails = summary["failures"]
    out.print(f"bundle:  {bundle}")
    out.print(f"report:  {vs.get('report')}")
    out.print(f"audio:   {Path(a.out) / voice.id / 'render'} (input.wav, master.wav, one per tier; "
              f"speakers {', '.join(rend['speakers'])})")
    tr = vs["training"]
    out.print("training: " + "; ".join(f"{k} {i['steps']} steps in {i['seconds']:.0f} s "
                                        f"({i['audio_seconds_per_second']} audio-s/s)" for k, i in tr.items()))
    out.print(f"wall time: {wall / 60:.1f} min (budget {budget_minutes:.1f} min after set-up; corpus + master "
              f"{cache_s:.0f} s, training {summary['train_seconds']:.0f} s, QA "
              f"{vs.get('qa', {}).get('seconds', 0):.0f} s)")
    if fails:
        out.print(f"[yellow]this short run misses {len(fails)} bar(s)[/] (the bars are set for the "
                  f"full distillation, `voiceskin distill {a.voice}`; this run trained "
                  f"{summary['train_seconds']:.0f} s per tier):\n  " + "\n  ".join(fails))
    else:
        out.print("[green]every tier meets its quality bars[/]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
