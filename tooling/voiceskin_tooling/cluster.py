"""Distil a catalogue on a Ray cluster: ``voiceskin distill VOICE.toml ... --ray [ADDRESS]``.

The same work as :func:`voiceskin_tooling.distill.distill`, spread over a
Ray cluster (``pip install voiceskin[ray]``; ``docs/scale.md``):

1. **Master outputs**, per voice: the driver fits the master and selects
   the corpus exactly as the local run does (:func:`distill.build_cache`,
   whose cache key it shares); the chunks are converted by Ray tasks
   (:func:`distill._convert_one`, a few chunks per task, one CPU each) and
   the driver assembles them into the same cache file. A cache whose key
   already exists is not recomputed.
2. **Training**: each (voice, tier) is one Ray task (``num_cpus``, plus a
   fraction of a GPU when the cluster has GPUs, so several tiers share one
   GPU) running :func:`distill.train_tier` on a node-local copy of the cache
   (shipped once per node through Ray's object store). A voice's tiers are
   submitted as soon as its cache exists, so they train while the next
   voice's corpus is converted. The checkpoint comes back as bytes and is
   written under the driver's output folder (``-o``; a shared file system
   path works the same). A rerun skips a tier whose checkpoint was made from
   the same cache (key) with the same training settings.
3. **QA** per voice, one Ray task (:func:`distill.run_qa` on the node);
   ``qa.json`` and the example audio come back; the driver writes
   ``distill.json``, the report and the bundle
   (``<out>/<voice>/<voice>-<version>.vskin``).

Every task is retried by Ray when its worker or node is lost
(``max_retries``); on the CPU a retried training task gives the same
checkpoint, because training is deterministic (one torch thread, seeded).
Progress: one rich bar per voice × tier, fed by a small actor on the
driver's node that the training tasks report to.

Nothing here is imported unless ``--ray`` is given.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

__all__ = ["RayOptions", "distill_ray", "connect", "job_fingerprint"]

# tasks are retried this many times when their worker process or node dies
MAX_RETRIES = 3


@dataclass
class RayOptions:
    address: str | None = None        # None: start or join a local runtime; "auto"; "ray://h:p"; "h:p"
    cpus_per_tier: float = 1.0        # num_cpus of one training task
    gpu_fraction: float = 0.25        # num_gpus of one training task when the cluster has GPUs
    chunks_per_task: int = 0          # corpus chunks per conversion task (0: from the cluster size)
    max_retries: int = MAX_RETRIES
    pack: bool = True                 # write <voice>-<version>.vskin after QA


# ---------------------------------------------------------------- connect


def connect(address: str | None) -> tuple[Any, bool]:
    """``ray.init`` for the CLI's ``--ray [ADDRESS]``; returns (ray, started
    here). No address: join the cluster named by RAY_ADDRESS or the latest
    one started on this machine, else start a local one; ``auto``: an
    existing cluster or an error."""
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - depends on the install
        from .distill import DistillInputError as DistillError

        raise DistillError("--ray needs Ray: pip install 'voiceskin[ray]' (or pip install 'ray>=2.9')") from exc
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if ray.is_initialized():
        return ray, False
    kw: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING,
                          "configure_logging": True}
    try:
        if address:
            ray.init(address=address, **kw)
        else:
            ray.init(include_dashboard=False, **kw)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        from .distill import DistillInputError as DistillError

        raise DistillError(f"--ray {address or ''}: cannot connect to a Ray cluster ({exc})") from exc
    return ray, True


# ------------------------------------------------------------ remote code
# (plain functions; wrapped with ray.remote(...).options(...) at run time so
# that importing this module does not need Ray)


def _node_id() -> str:
    import ray

    return ray.get_runtime_context().get_node_id()


def _convert_chunks(master: Any, tasks: list[Any]) -> tuple[str, list[Any]]:
    """A few corpus chunks through the master (distill's own function)."""
    from . import distill as d

    d._init_worker(master)
    return _node_id(), [d._convert_one(t) for t in tasks]


def _node_cache(cache_name: str, cache_blob: bytes) -> Path:
    """The cache file on this node (written once per node, atomically)."""
    root = Path(tempfile.gettempdir()) / "voiceskin-ray" / "cache"
    path = root / cache_name
    if not (path.is_file() and path.stat().st_size == len(cache_blob)):
        root.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(cache_blob)
        os.replace(tmp, path)
    return path


def _train_task(cfg: Any, voice: Any, tier: str, cache_name: str, cache_blob: bytes,
                threads: int, progress: Any, key: str) -> dict[str, Any]:
    """One (voice, tier): distill.train_tier on a node-local copy of the
    cache; returns its info and the checkpoint's bytes."""
    import torch

    from .distill import train_tier, tier_checkpoint

    node = _node_id()
    if progress is not None:
        progress.started.remote(key, node, os.getpid())
    torch.set_num_threads(max(1, int(threads)))
    cache = _node_cache(cache_name, cache_blob)
    work = Path(tempfile.mkdtemp(prefix="vsk-train-"))
    try:
        c = replace(cfg, out_dir=str(work), progress=False)

        def report(step: int, steps: int, el: float, budget: float | None, loss: float) -> None:
            if progress is not None:
                progress.report.remote(key, step, steps, el, budget, loss)

        info = train_tier(c, cache, voice, tier, report)
        blob = tier_checkpoint(c, voice.id, tier).read_bytes()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"info": info, "checkpoint": blob, "node": node}


def _qa_child(job: str) -> None:
    """``python -c`` entry of :func:`_qa_task`'s child: run_qa on the
    pickled (cfg, voice, tiers, cache) in ``job``; the result beside it."""
    import pickle

    from .distill import run_qa

    cfg, voice, tiers, cache = pickle.loads(Path(job).read_bytes())
    q = run_qa(cfg, voice, tiers, cache, None)
    Path(job + ".out").write_bytes(pickle.dumps(q))


def _qa_task(cfg: Any, voice: Any, tiers: list[str], cache_name: str, cache_blob: bytes,
             checkpoints: dict[str, bytes]) -> dict[str, Any]:
    """distill.run_qa on this node; returns the QA dict and every file it
    wrote under the voice's folder (qa.json, examples/*.wav). QA forks its
    own workers, which a Ray worker (many threads) must not do — a forked
    child can inherit a held lock and hang (it did) — so it runs in a
    fresh Python process."""
    import pickle
    import subprocess
    import sys

    from .distill import DistillError, tier_checkpoint, voice_dir

    cache = _node_cache(cache_name, cache_blob)
    work = Path(tempfile.mkdtemp(prefix="vsk-qa-"))
    try:
        c = replace(cfg, out_dir=str(work), progress=False)
        for t, blob in checkpoints.items():
            p = tier_checkpoint(c, voice.id, t)
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(blob)
        job = work / "qa-job.pkl"
        job.write_bytes(pickle.dumps((c, voice, tiers, str(cache))))
        r = subprocess.run([sys.executable, "-c", "import sys; from voiceskin_tooling.cluster "
                            "import _qa_child; _qa_child(sys.argv[1])", str(job)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise DistillError(f"QA of {voice.id} failed:\n{r.stderr[-4000:]}")
        q = pickle.loads(Path(str(job) + ".out").read_bytes())
        vd = voice_dir(c, voice.id)
        files = {str(f.relative_to(vd)): f.read_bytes() for f in sorted(vd.rglob("*"))
                 if f.is_file() and f.parts[len(vd.parts)] != "tiers"}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"qa": q, "files": files, "node": _node_id()}


class _Progress:
    """Training tasks report here (an actor on the driver's node); the
    driver polls :meth:`snapshot` to draw its bars."""

    def __init__(self) -> None:
        self.state: dict[str, tuple[Any, ...]] = {}
        self.starts: dict[str, list[tuple[str, int]]] = {}

    def started(self, key: str, node: str, pid: int) -> None:
        self.starts.setdefault(key, []).append((node, pid))
        self.state.pop(key, None)

    def report(self, key: str, step: int, steps: int, el: float, budget: float | None,
               loss: float) -> None:
        self.state[key] = (step, steps, el, budget, loss)

    def snapshot(self) -> tuple[dict[str, tuple[Any, ...]], dict[str, list[tuple[str, int]]]]:
        return dict(self.state), {k: list(v) for k, v in self.starts.items()}


# --------------------------------------------------------------- driver


_TRAIN_FIELDS = ("steps", "batch_size", "segment_seconds", "learning_rate", "weight_decay",
                 "postfilter", "postfilter_width_hz", "postfilter_max_beta", "time_budget_s",
                 "warmup_frames", "fft_sizes", "kd_weight", "kd_pairs", "device", "seed", "threads")


def job_fingerprint(cfg: Any, voice: Any, tier: str) -> str:
    """What a tier's checkpoint depends on besides the cache: the training
    settings of the run and of the voice, and the tier's definition."""
    src = {"cfg": {k: getattr(cfg, k) for k in _TRAIN_FIELDS},
           "training": asdict(voice.training), "tier": asdict(voice.tier(tier))}
    return hashlib.sha256(json.dumps(src, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _done(cfg: Any, voice: Any, tier: str, cache_path: str) -> bool:
    """A checkpoint exists, made from this cache with these settings."""
    from .distill import tier_checkpoint

    ck = tier_checkpoint(cfg, voice.id, tier)
    if not ck.is_file():
        return False
    try:
        import torch

        d = torch.load(ck, weights_only=False, map_location="cpu")
    except Exception:  # noqa: BLE001 - unreadable: train again
        return False
    return (Path(str(d.get("cache", ""))).name == Path(cache_path).name
            and d.get("job") == job_fingerprint(cfg, voice, tier))


class _Driver:
    def __init__(self, ray: Any, opts: RayOptions, cfg: Any, console: Any) -> None:
        from .distill import _progress

        self.ray, self.opts, self.cfg, self.console = ray, opts, cfg, console
        res = ray.cluster_resources()
        self.cpus = max(1, int(res.get("CPU", 1)))
        self.gpus = float(res.get("GPU", 0.0))
        node = ray.get_runtime_context().get_node_id()
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        self.progress = ray.remote(_Progress).options(
            num_cpus=0, max_restarts=-1, max_task_retries=-1,
            scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=node, soft=False)).remote()
        self.prog = _progress(cfg, console)
        self.bars: dict[str, Any] = {}
        self.convert_nodes: dict[str, list[str]] = {}
        self.starts: dict[str, list[tuple[str, int]]] = {}

    # -- progress
    def pump(self) -> None:
        from .distill import _update

        try:
            state, starts = self.ray.get(self.progress.snapshot.remote(), timeout=10)
        except Exception:  # noqa: BLE001 - the bars are not worth failing the run
            return
        self.starts = starts
        for key, (step, steps, el, budget, loss) in state.items():
            if key in self.bars:
                retry = len(starts.get(key, [])) - 1
                _update(self.prog, self.bars[key], step, steps, el, budget, loss)
                if retry > 0:
                    self.prog.update(self.bars[key], description=f"train {key} (retry {retry})")

    def wait(self, refs: list[Any], timeout: float = 0.5) -> list[Any]:
        ready, _ = self.ray.wait(refs, num_returns=1, timeout=timeout)
        self.pump()
        return ready

    # -- 1. master outputs through Ray tasks
    def converter(self, voice_id: str) -> Any:
        ray, opts = self.ray, self.opts

        def convert(master: Any, tasks: list[Any]) -> Iterator[Any]:
            per = opts.chunks_per_task or max(1, min(8, len(tasks) // (3 * self.cpus)))
            mref = ray.put(master)
            fn = ray.remote(_convert_chunks).options(num_cpus=1, max_retries=opts.max_retries,
                                                      name=f"convert:{voice_id}")
            refs = [fn.remote(mref, tasks[i:i + per]) for i in range(0, len(tasks), per)]
            nodes: set[str] = set()
            for i in range(len(refs)):
                while not self.wait([refs[i]]):
                    pass
                node, out = ray.get(refs[i])
                refs[i] = None  # type: ignore[call-overload]  # frees the object-store copy
                nodes.add(node)
                for audio, y, feats in out:  # writable copies, not views of the object store
                    yield (np.array(audio), np.array(y), {k: np.array(f) for k, f in feats.items()})
            self.convert_nodes[voice_id] = sorted(nodes)

        return convert


def distill_ray(cfg: Any, voices: Sequence[str] | None = None, console: Any = None,
                opts: RayOptions | None = None) -> dict[str, Any]:
    """:func:`voiceskin_tooling.distill.distill` on a Ray cluster: same
    inputs, same outputs (plus the bundle), same summary."""
    from rich.console import Console

    from .distill import DistillInputError as DistillError, QABarsMissed, build_cache, selected_tiers
    from .voicedef import load_voice

    opts = opts or RayOptions()
    console = console or Console(stderr=True)
    paths = list(voices) if voices else [cfg.voice]
    loaded = [load_voice(p) for p in paths]
    plan: list[tuple[Any, list[str]]] = []
    for v in loaded:
        plan.append((v, selected_tiers(v, cfg.tiers)))
    need_gpu = any((cfg.device or v.training.device) == "cuda" for v, _ in plan)

    ray, started = connect(opts.address)
    t_start = time.time()
    try:
        drv = _Driver(ray, opts, cfg, console)
        if need_gpu and drv.gpus <= 0:
            raise DistillError("device 'cuda' requested but the Ray cluster has no GPU")
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        console.log(f"Ray cluster: {len(nodes)} node(s), {drv.cpus} CPU(s), {drv.gpus:g} GPU(s)")
        threads = max(1, int(cfg.threads or 1))
        train_fn = ray.remote(_train_task)
        qa_fn = ray.remote(_qa_task)
        res_train: dict[str, Any] = {"num_cpus": max(opts.cpus_per_tier, 0.01),
                                     "max_retries": opts.max_retries}
        use_gpu = drv.gpus > 0 and (cfg.device or "auto") != "cpu"
        vstate: dict[str, dict[str, Any]] = {}
        pending: dict[Any, tuple[str, str]] = {}   # train ref -> (voice id, tier)
        qa_pending: dict[Any, str] = {}
        results: dict[str, dict[str, Any]] = {}
        with drv.prog:
            for v, names in plan:
                for t in names:
                    drv.bars[f"{v.id}/{t}"] = drv.prog.add_task(f"train {v.id}/{t}", total=None, info="")
            for v, names in plan:
                console.log(f"[bold]{v.id}[/]: master {v.master.name!r}, corpus → master outputs "
                            "(Ray tasks; cached)")
                drv.prog.stop()       # build_cache draws its own bar meanwhile
                t0 = time.time()
                try:
                    cache = str(build_cache(cfg, v, console, convert=drv.converter(v.id)))
                finally:
                    drv.prog.start()
                blob = Path(cache).read_bytes()
                cref = ray.put(blob)
                st = vstate[v.id] = {"voice": v, "tiers": names, "cache": cache, "cache_ref": cref,
                                     "cache_name": Path(cache).name, "cache_seconds": time.time() - t0,
                                     "t_train": time.time(), "trained": [], "skipped": [],
                                     "nodes": {}, "train_seconds": 0.0}
                del blob
                for t in names:
                    key = f"{v.id}/{t}"
                    if _done(cfg, v, t, cache):
                        st["skipped"].append(t)
                        drv.prog.update(drv.bars[key], total=1, completed=1, info="done earlier · skipped")
                        continue
                    o = dict(res_train)
                    if use_gpu:
                        o["num_gpus"] = opts.gpu_fraction
                    ref = train_fn.options(name=f"train:{key}", **o).remote(
                        cfg, v, t, st["cache_name"], cref, threads, drv.progress, key)
                    pending[ref] = (v.id, t)
                _maybe_qa(drv, cfg, st, pending, qa_pending, qa_fn, opts, results)
            while pending or qa_pending:
                ready = drv.wait(list(pending) + list(qa_pending))
                for ref in ready:
                    if ref in pending:
                        vid, t = pending.pop(ref)
                        _store_checkpoint(drv, cfg, vstate[vid], t, ray.get(ref))
                        drv.prog.update(drv.bars[f"{vid}/{t}"],
                                        info=f"loss {vstate[vid]['info'][t]['final_loss']:.3f} · done")
                        _maybe_qa(drv, cfg, vstate[vid], pending, qa_pending, qa_fn, opts, results)
                    else:
                        vid = qa_pending.pop(ref)
                        _store_qa(cfg, vstate[vid], ray.get(ref))
                        results[vid] = _finish_voice(drv, cfg, vstate[vid], opts)
        summary: dict[str, Any] = {"voices": {}, "failures": [], "ray": {
            "nodes": len(nodes), "cpus": drv.cpus, "gpus": drv.gpus}}
        for v, _ in plan:
            vs = results.get(v.id) or _finish_voice(drv, cfg, vstate[v.id], opts)
            summary["voices"][v.id] = vs
            summary["failures"] += [f"{v.id}/{t}: {m}" for t, q in vs.get("qa", {}).get("tiers", {}).items()
                                    for m in q.get("failures", [])]
        summary["cache_seconds"] = round(sum(s["cache_seconds"] for s in vstate.values()), 1)
        summary["total_seconds"] = round(time.time() - t_start, 1)
        summary["train_seconds"] = summary["total_seconds"] - summary["cache_seconds"]
    finally:
        if started:
            ray.shutdown()
    if summary["failures"] and cfg.fail_on_qa:
        raise QABarsMissed(summary["failures"])
    return summary


def _store_checkpoint(drv: _Driver, cfg: Any, st: dict[str, Any], tier: str, r: dict[str, Any]) -> None:
    """Writes a returned checkpoint under the driver's output folder, as the
    local run would have (its cache path is the driver's), plus the
    fingerprint a rerun compares."""
    import io

    import torch

    from .distill import _atomic_torch_save, tier_checkpoint

    v = st["voice"]
    ck = torch.load(io.BytesIO(r["checkpoint"]), weights_only=False, map_location="cpu")
    ck["cache"] = st["cache"]
    ck["job"] = job_fingerprint(cfg, v, tier)
    path = tier_checkpoint(cfg, v.id, tier)
    _atomic_torch_save(ck, path)
    info = dict(r["info"])
    info["checkpoint"] = str(path)
    key = f"{v.id}/{tier}"
    info["ray"] = {"node": r["node"], "attempts": [n for n, _ in drv.starts.get(key, [])] or [r["node"]]}
    st.setdefault("info", {})[tier] = info
    st["trained"].append(tier)
    st["train_seconds"] = time.time() - st["t_train"]


def _maybe_qa(drv: _Driver, cfg: Any, st: dict[str, Any], pending: dict[Any, Any],
              qa_pending: dict[Any, str], qa_fn: Any, opts: RayOptions,
              results: dict[str, Any]) -> None:
    """Once every tier of a voice has a checkpoint: its QA task (or, when
    nothing was retrained and the earlier QA is there, nothing)."""
    from .distill import load_student, tier_checkpoint, voice_dir

    v = st["voice"]
    if any(vid == v.id for vid, _ in pending.values()) or st.get("qa_submitted"):
        return
    st["qa_submitted"] = True
    for t in st["skipped"]:
        _, ck = load_student(tier_checkpoint(cfg, v.id, t))
        st.setdefault("info", {})[t] = {**ck.get("train", {}), "checkpoint": str(tier_checkpoint(cfg, v.id, t)),
                                        "skipped": True}
    if not cfg.qa:
        return
    vd = voice_dir(cfg, v.id)
    if not st["trained"] and (vd / "qa.json").is_file():
        try:
            q = json.loads((vd / "qa.json").read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            q = None
        if q is not None and set(st["tiers"]) <= set(q.get("tiers", {})):
            st["qa"] = q
            st["qa_skipped"] = True
            return
    cks = {t: tier_checkpoint(cfg, v.id, t).read_bytes() for t in st["tiers"]}
    ref = qa_fn.options(name=f"qa:{v.id}", num_cpus=1, max_retries=opts.max_retries).remote(
        cfg, v, st["tiers"], st["cache_name"], st["cache_ref"], cks)
    qa_pending[ref] = v.id


def _store_qa(cfg: Any, st: dict[str, Any], r: dict[str, Any]) -> None:
    from .distill import voice_dir

    vd = voice_dir(cfg, st["voice"].id)
    for rel, data in r["files"].items():
        p = vd / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(f".{p.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, p)
    st["qa"] = r["qa"]
    st["qa_node"] = r["node"]


def _finish_voice(drv: _Driver, cfg: Any, st: dict[str, Any], opts: RayOptions) -> dict[str, Any]:
    """distill.json, the report and the bundle, as the local run writes them."""
    from .distill import _write_json, voice_dir

    v = st["voice"]
    info = st.get("info", {})
    rs = [info[t] for t in st["tiers"] if t in info]
    vs: dict[str, Any] = {"voice": v.id, "display_name": v.display_name, "version": v.version,
                          "master": v.master.name, "cache": st["cache"],
                          "cache_seconds": round(st["cache_seconds"], 1),
                          "train_seconds": round(st["train_seconds"], 1),
                          "training": {r["tier"]: dict(r) for r in rs},
                          "ray": {"convert_nodes": drv.convert_nodes.get(v.id, []),
                                  "trained": [t for t in st["tiers"] if t in st["trained"]],
                                  "skipped": st["skipped"],
                                  "qa_node": st.get("qa_node"), "qa_skipped": bool(st.get("qa_skipped"))}}
    if cfg.qa and "qa" in st:
        q = st["qa"]
        vs["qa"] = q
    vd = voice_dir(cfg, v.id)
    _write_json(vd / "distill.json", vs)
    if "qa" in vs:
        from .report import write_report

        vs["report"] = str(write_report(vs, vd))
    bundle = vd / f"{v.id}-{v.version}.vskin"
    if opts.pack and rs:
        unchanged = not st["trained"] and (st.get("qa_skipped") or not cfg.qa)
        vs["bundle"] = str(bundle if unchanged and bundle.is_file() else _pack(cfg, v, st, vs))
    return vs


def _pack(cfg: Any, v: Any, st: dict[str, Any], vs: dict[str, Any]) -> Path:
    """The voice's bundle, as ``voiceskin pack`` writes it."""
    from .distill import load_student, tier_checkpoint, voice_dir
    from .pack import qa_summary, save

    students = {t: load_student(tier_checkpoint(cfg, v.id, t))[0] for t in st["tiers"]}
    meta = {"voice": v.id, "master": v.master.name, "master_settings": v.master.settings,
            "training": {t: {k: x for k, x in i.items() if k not in ("curve", "ray")}
                         for t, i in vs["training"].items()},
            "packed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    out = voice_dir(cfg, v.id) / f"{v.id}-{v.version}.vskin"
    return save(v, students, out, qa_summary(vs.get("qa"), meta))
