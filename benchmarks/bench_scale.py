"""Scale of ``voiceskin distill --ray``: N voices × tiers with 1, 2 and 4
workers (issue 19).

    python benchmarks/bench_scale.py [--voices 2] [--tiers low,medium] [--steps 30]
                                     [--workers 1,2,4] [--out DIR]

Each voice is a small real one made from the shipped corpus (a different
target per voice; the target's person is never an input). The master's
outputs are computed once, first (timed on its own), then for every worker
count a fresh local Ray runtime with that many CPUs (one training task per
CPU) trains every (voice, tier) for a fixed number of steps (no QA), and the
wall time of that phase is compared with one worker's. Checkpoints are
deleted between runs; the caches are kept. On a machine with fewer cores
than workers the extra workers share cores, so the speed-up stops at the
core count.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BATCH, SEGMENT = 4, 0.5
for p in (ROOT / "sdk", ROOT / "tooling", ROOT / "tests"):
    sys.path.insert(0, str(p))
from small_voice import small_voice  # noqa: E402  (tests/: the small voices the tests use too)

# (voice id, target, its person's speakers, inputs: speaker -> files)
VOICES = [
    ("bench.slt", "slt", {"kal": 2, "esp_gb_f2": 1, "cs_ph": 1, "rms": 1}),
    ("bench.awb", "awb", {"ked": 2, "esp_us_m3": 1, "fi_lj": 1, "rms": 1}),
    ("bench.kal", "kal", {"awb": 2, "ca_ona": 1, "cs_krb": 1, "rms": 1}),
    ("bench.ked", "ked", {"kal": 2, "cs_dita": 1, "it_pc": 1, "rms": 1}),
]


def make_voice(root: Path, vid: str, target: str, inputs: dict[str, int], steps: int) -> Path:
    return small_voice(root / vid, vid, target, inputs, 3,
                       corpus={"validation_speakers": ["rms"]},
                       training={"steps": steps, "batch_size": BATCH, "segment_seconds": SEGMENT,
                                 "learning_rate": 0.003, "device": "cpu"},
                       tiers=("low", "medium", "high", "ultra"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--voices", type=int, default=2)
    ap.add_argument("--tiers", default="low,medium")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--out", default=None, help="work folder (default: a temp folder, removed)")
    a = ap.parse_args(argv)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    # local runtimes only: no token auth (else ray.init writes ~/.ray/auth_token,
    # which later `ray start` clusters on this machine would then require)
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    import ray
    from rich.console import Console

    from voiceskin_tooling.cluster import RayOptions, distill_ray
    from voiceskin_tooling.distill import DistillConfig

    console = Console(stderr=True)
    work = Path(a.out) if a.out else Path(tempfile_dir())
    work.mkdir(parents=True, exist_ok=True)
    tomls = [str(make_voice(work / "voices", vid, tgt, ins, a.steps))
             for vid, tgt, ins in VOICES[:a.voices]]
    tiers = a.tiers.split(",")
    cfg = DistillConfig(voice=tomls[0], out_dir=str(work / "out"), tiers=tiers, qa=False,
                        fail_on_qa=False, progress=False)
    workers = [int(w) for w in a.workers.split(",")]
    rows = []
    try:
        # master outputs once (all the workers of the largest run)
        ray.init(address="local", num_cpus=max(workers), include_dashboard=False, log_to_driver=False)
        t0 = time.time()
        s = distill_ray(replace(cfg, steps=1), tomls, console, RayOptions(pack=False))
        console.log(f"master outputs (+ 1 training step), {max(workers)} workers: "
                    f"{time.time() - t0:.1f} s (master {s['cache_seconds']} s)")
        ray.shutdown()
        for w in workers:
            for vt in (work / "out").glob("*/tiers"):
                shutil.rmtree(vt)
            ray.init(address="local", num_cpus=w, include_dashboard=False, log_to_driver=False)
            t0 = time.time()
            s = distill_ray(cfg, tomls, console, RayOptions(pack=False))
            wall = time.time() - t0
            ray.shutdown()
            trained = sum(len(v["ray"]["trained"]) for v in s["voices"].values())
            assert trained == len(tomls) * len(tiers), s["voices"]
            task_s = sum(t["seconds"] for v in s["voices"].values() for t in v["training"].values())
            rows.append((w, wall, wall - s["cache_seconds"], task_s, trained))
            console.log(f"{w} worker(s): {wall:.1f} s")
    finally:
        if ray.is_initialized():
            ray.shutdown()
        if not a.out:
            shutil.rmtree(work, ignore_errors=True)
    base, base_t = rows[0][1], rows[0][2]
    print(f"\n{len(tomls)} voices x {len(tiers)} tiers ({','.join(tiers)}), {a.steps} steps of "
          f"{BATCH} x {SEGMENT} s each, {os.cpu_count()} cores; caches warm (master outputs computed "
          "before; the driver still fits each voice's master to check its cache key)")
    print("| workers | wall s | speed-up | training phase s | speed-up | sum of task s | tasks |")
    print("|---|---|---|---|---|---|---|")
    for w, wall, train, task_s, n in rows:
        print(f"| {w} | {wall:.1f} | {base / wall:.2f}x | {train:.1f} | {base_t / train:.2f}x | "
              f"{task_s:.1f} | {n} |")
    return 0


def tempfile_dir() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="vsk-bench-scale-")


if __name__ == "__main__":
    sys.exit(main())
