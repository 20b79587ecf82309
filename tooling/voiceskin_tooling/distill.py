"""Distil a master into one small streaming student per quality tier.

Read top to bottom:

1. :class:`DistillConfig` — every knob in one dataclass
   (:mod:`.distill_common`, with the error types and file locations).
2. :func:`build_cache` (:mod:`.master_cache`) — the master converts the corpus **once per voice**;
   inputs, master outputs, the student's pitch track (PITCH_MAP(PITCH_YIN),
   the runtime's definition) and the master's intermediate features are
   stored on disk. Every tier learns from the same cache.
3. :func:`train_tier` (:mod:`.training`, values from :mod:`.trainplan`;
   the post-filter after it: :mod:`.postfilter`) — the one training loop: random short segments, the
   student's audio against the master's (multi-resolution STFT loss), plus
   optional layer-to-layer losses through prediction heads
   (:mod:`voiceskin_tooling.kd`). Pitch is exact by construction, so it is not
   a loss. The loop stops at ``steps`` or at the wall-clock budget, whichever
   comes first; the learning-rate schedule follows the same progress.
4. :func:`distill` — cache, then every (voice, tier) job in ``jobs`` worker
   processes with rich progress bars, then QA per tier (``qa.py``), the JSON +
   HTML report, and a loud failure when a tier misses its bars.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import queue
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

# the stages, re-exported: ``from voiceskin_tooling.distill import ...`` keeps working
from .distill_common import (DistillConfig, DistillError, DistillInputError, QABarsMissed,  # noqa: F401
                             _atomic_torch_save, _jdefault, _progress, _resolve_device, _update, _write_json,
                             selected_tiers, tier_checkpoint, voice_dir)
from .master_cache import (_convert_one, _corpus_for, _init_worker, _select, _yin_spec,  # noqa: F401
                           build_cache, load_cache, master_exposes_pitch, pitch_spec_for)
from .postfilter import fit_postfilter  # noqa: F401
from .training import _Segments, _kd_config, _target_logmel_mean, _teacher_frames, load_student, train_tier  # noqa: F401

__all__ = ["DistillConfig", "DistillError", "DistillInputError", "QABarsMissed", "build_cache", "load_cache",
           "train_tier", "run_qa", "distill", "load_student", "tier_checkpoint", "voice_dir", "fit_postfilter"]


def _job(args: tuple[DistillConfig, str, str, str, int, Any]) -> dict[str, Any]:
    cfg, voice_path, cache_path, tier, threads, q = args
    import torch

    from .voicedef import load_voice

    torch.set_num_threads(threads)
    voice = load_voice(voice_path)
    key = f"{voice.id}/{tier}"

    def report(step: int, steps: int, el: float, budget: float | None, loss: float) -> None:
        if q is not None:
            q.put((key, step, steps, el, budget, loss))

    return train_tier(cfg, cache_path, voice, tier, report)


def distill(cfg: DistillConfig, voices: Sequence[str] | None = None,
            console: Any = None) -> dict[str, Any]:
    """Runs the whole distillation for ``cfg.voice`` (or several ``voices``):
    cache, training of every tier, QA and report. Returns the summary; raises
    :class:`DistillError` when a tier misses its QA bars (``fail_on_qa``)."""
    import torch
    from rich.console import Console

    from .voicedef import load_voice

    console = console or Console(stderr=True)
    paths = list(voices) if voices else [cfg.voice]
    loaded = [load_voice(p) for p in paths]
    t_start = time.time()
    jobs: list[tuple[Any, str, str]] = []
    caches: dict[str, str] = {}
    for v in loaded:
        names = selected_tiers(v, cfg.tiers)
        console.log(f"[bold]{v.id}[/]: master {v.master.name!r}, corpus → master outputs (cached)")
        caches[v.id] = str(build_cache(cfg, v, console))
        for t in names:
            jobs.append((v, t, caches[v.id]))
    cache_s = time.time() - t_start

    n = max(1, min(cfg.jobs, len(jobs)))
    cores = os.cpu_count() or 1
    threads = cfg.threads or max(1, cores // n)
    results: list[dict[str, Any]] = []
    prog = _progress(cfg, console)
    tasks: dict[str, Any] = {}
    t_train = time.time()
    with prog:
        for v, t, _ in jobs:
            tasks[f"{v.id}/{t}"] = prog.add_task(f"train {v.id}/{t}", total=None, info="")
        if n == 1:
            torch.set_num_threads(threads)
            for v, t, c in jobs:
                key = f"{v.id}/{t}"

                def rep(step: int, steps: int, el: float, budget: float | None, loss: float,
                        key: str = key) -> None:
                    _update(prog, tasks[key], step, steps, el, budget, loss)

                info = train_tier(cfg, c, v, t, rep)
                prog.update(tasks[key], info=f"loss {info['final_loss']:.3f} · done")
                results.append({"voice": v.id, **info})
        else:
            ctx = mp.get_context("spawn")
            with ctx.Manager() as mgr:
                q = mgr.Queue()
                with ctx.Pool(n) as pool:
                    asyncs = [(v.id, pool.apply_async(_job, ((cfg, str(v.path), c, t, threads, q),)))
                              for v, t, c in jobs]
                    while not all(a.ready() for _, a in asyncs):
                        try:
                            key, step, steps, el, budget, loss = q.get(timeout=0.5)
                        except queue.Empty:
                            continue
                        _update(prog, tasks[key], step, steps, el, budget, loss)
                    for vid, a in asyncs:
                        info = a.get()
                        prog.update(tasks[f"{vid}/{info['tier']}"],
                                    info=f"loss {info['final_loss']:.3f} · done")
                        results.append({"voice": vid, **info})
    train_s = time.time() - t_train
    summary: dict[str, Any] = {"voices": {}, "cache_seconds": round(cache_s, 1),
                               "train_seconds": round(train_s, 1)}
    failures: list[str] = []
    for v in loaded:
        rs = [r for r in results if r["voice"] == v.id]
        order = {t.name: i for i, t in enumerate(v.tiers)}
        rs.sort(key=lambda r: order[r["tier"]])
        vs: dict[str, Any] = {"voice": v.id, "display_name": v.display_name,
                              "version": v.version, "master": v.master.name,
                              "cache": caches[v.id], "cache_seconds": round(cache_s, 1),
                              "train_seconds": round(train_s, 1),
                              "training": {r["tier"]: {k: r[k] for k in r if k != "voice"} for r in rs}}
        if cfg.qa and rs:
            vs["qa"] = run_qa(cfg, v, [r["tier"] for r in rs], caches[v.id], console)
            failures += [f"{v.id}/{t}: {m}" for t, q in vs["qa"]["tiers"].items()
                         for m in q["failures"]]
        _write_json(voice_dir(cfg, v.id) / "distill.json", vs)
        if cfg.qa and rs:
            from .report import write_report

            vs["report"] = str(write_report(vs, voice_dir(cfg, v.id)))
        summary["voices"][v.id] = vs
    summary["total_seconds"] = round(time.time() - t_start, 1)
    summary["failures"] = failures
    if failures and cfg.fail_on_qa:
        raise QABarsMissed(failures)
    return summary


def run_qa(cfg: DistillConfig, voice: Any, tiers: list[str], cache_path: str,
           console: Any = None) -> dict[str, Any]:
    """QA of the trained tiers (held-out and seen speakers) against the
    voice's bars; writes ``qa.json`` (and the example audio) next to the
    checkpoints and returns the QA dict (with ``failures`` per tier)."""
    from .pack import bundle_bytes
    from .qa import BundleTier, check_thresholds, qa_voice

    import copy

    from .listener_bars import check_listener_bars

    cache = load_cache(cache_path)
    students, variants = {}, {}
    for t in tiers:
        students[t], ckpt = load_student(tier_checkpoint(cfg, voice.id, t))
        pf = (ckpt.get("train") or {}).get("postfilter") or {}
        if cfg.qa_without_postfilter and pf.get("beta"):
            raw = copy.deepcopy(students[t])
            raw.unfold_postfilter(float(pf["beta"]), float(pf["width_hz"]))
            variants[f"{t}-nopf"] = raw
    try:
        blob = bundle_bytes(voice, students, qa=None)
    except Exception as exc:  # noqa: BLE001 - QA still runs without the native cost
        blob = None
        if console is not None:
            console.log(f"[yellow]native cost skipped: {exc}")

    def say(msg: str) -> None:
        if console is not None:
            console.log(f"QA {voice.id}: {msg}")

    # a tier packed with int8 weights is heard as it ships: rendered by the
    # native library from the packed bundle, not by its float Student
    int8 = [t for t in tiers if voice.tier(t).preset.weights == "int8"]
    if int8 and blob is None:
        raise DistillInputError(f"tiers {int8} are packed with int8 weights, but the bundle could not be "
                                "packed for their QA; fix the packing error logged above")
    renderers = {t: BundleTier(blob, t) for t in int8}
    raw_int8 = {t: variants[f"{t}-nopf"] for t in int8 if f"{t}-nopf" in variants}
    if raw_int8:  # and without its post-filter, packed alike
        raw_blob = bundle_bytes(voice, {**students, **raw_int8}, qa=None)
        renderers.update({f"{t}-nopf": BundleTier(raw_blob, t) for t in raw_int8})
    t0 = time.time()
    q = qa_voice(cache, students, tiers, blob, jobs=max(1, os.cpu_count() or 1), progress=say,
                 listen_max_per_split=cfg.qa_listen_max_per_split, variants=variants,
                 renderers=renderers)
    for t in tiers:
        q["tiers"][t]["rendered_by"] = ("the native library, packed bundle (int8 weights)" if t in renderers
                                        else "the PyTorch student")
    q["seconds"] = round(time.time() - t0, 1)
    # bars and the ordering check by rank on the quality ladder, not by
    # place in the list (a pruned twin ranks with the preset it is pruned to)
    ranks = {t: voice.tier(t).rank for t in tiers}
    q["listener_bars"] = check_listener_bars(q, ranks)
    for t in tiers:
        q["tiers"][t]["failures"] = check_thresholds(q["tiers"][t], voice.tier(t).qa, t, ranks)
    ex = q.pop("examples")
    vd = voice_dir(cfg, voice.id)
    _save_examples(vd / "examples", ex, int(cache["sample_rate"]))
    q["examples"] = _save_example_sets(vd / "examples", q.pop("example_sets", []),
                                       int(cache["sample_rate"]))
    _write_json(vd / "qa.json", q)
    return q


def _save_examples(folder: Path, ex: dict[str, np.ndarray], sr: int) -> None:
    from .corpus import write_audio_atomic

    for k, a in ex.items():
        write_audio_atomic(folder / f"{k}.wav", np.asarray(a, np.float32), sr)


def _save_example_sets(folder: Path, sets: list[dict[str, Any]], sr: int) -> list[dict[str, Any]]:
    """Writes each example's systems as ``<id>_<system>.wav`` (the report's
    side-by-side players) and returns the examples without audio."""
    out = []
    for e in sets:
        audio = e.pop("audio", {})
        files = {}
        for system, a in audio.items():
            name = f"{e['id']}_{system}.wav"
            _save_examples(folder, {name[:-4]: a}, sr)
            files[system] = name
        out.append({**e, "files": files})
    return out
