"""Runtime benchmark: per tier, time per buffer through the native library,
side by side with the same student graph streamed in PyTorch and onnxruntime.

    python benchmarks/bench_runtime.py [--bundle FILE.vskin] [--seconds 20]

Without --bundle it packs the student family at every built-in tier preset
(random weights: the cost of a graph does not depend on its values) into a
temporary bundle. Every peer runs in this one process, pinned to one thread,
on the same input (real speech from data/corpus when present), buffer by
buffer at 48 kHz with 256-frame buffers:

* native: ``vsk_voice_process`` on the 48 kHz buffer (resampling to the
  model rate and back included), called through cffi with preallocated
  buffers; timed around the call.
* PyTorch / onnxruntime: the same graph as a per-step module
  (benchmarks/step_torch.py, which walks the graph node by node in Python),
  given the model-rate samples directly (no resampling: that favours the
  peers), running the steps that fall in each buffer. Times per buffer are
  the sum of those steps.

Prints median and p99 microseconds per buffer, p99/median, the real-time
factor (median time / buffer duration) and the peers' ratios to native
(default schedule); then the ladder (cost per tier and its ratio to the
lowest, with the test split's listener measures per tier and whether the
tiers are ordered, when the bundle carries QA); both schedules side by side
(``low_latency`` and ``even``, vsk_voice_config.schedule, two voices
interleaved buffer by buffer: median, mean, p99, p99/median, the ratio of
per-buffer minima over ``--schedule-rounds`` rounds, and each one's
latency); then the per-op profile (benchmarks/op_profile.py: µs per buffer per op
type and tier, and what the voice spends around the graph; needs a C
compiler, ``--no-profile`` skips it); the lobby (benchmarks/bench_lobby.py:
1, 8, 32, 64 voices on one bundle, one thread; ``--no-lobby``); the layer
race (benchmarks/bench_layers.py: one GRU step and one dense layer, float
and int8, against RTNeural built from ``RTNEURAL_DIR``; ``--no-layers``); the fair
race (benchmarks/bench_race.py: per 4 ms step at the model rate, voiceskin
against the student as one straight-line module, eager, TorchScript,
torch.compile and onnxruntime, and onnxruntime's per-call floor;
``--race-tiers``, ``--no-compile``, ``--no-race``); the dynamic-quality
runs (the CPU governor: one voice and 64 voices sharing a budget placed
between two tiers' measured costs, also with half the voices asking for the
lowest tier; ``--no-dynamic``); and the memory of one loaded bundle and of
each voice instance.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT / "sdk", ROOT / "tooling", ROOT / "benchmarks"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import voiceskin  # noqa: E402
from voiceskin import format as vformat  # noqa: E402

HOST_RATE = 48000
BUFFER = 256


def _speech(seconds: float, rate: int) -> np.ndarray:
    """Real speech from the shipped corpus, looped to `seconds`, else a
    gliding harmonic tone with noise."""
    files = sorted((ROOT / "data" / "corpus").rglob("*.flac"))[:40]
    if files:
        import soundfile as sf
        import soxr
        parts = []
        total = 0
        for f in files:
            a, sr = sf.read(f, dtype="float32", always_2d=True)
            a = soxr.resample(a.mean(1), sr, rate)
            parts.append(a)
            total += len(a)
            if total >= seconds * rate:
                break
        x = np.concatenate(parts)
        reps = int(np.ceil(seconds * rate / len(x)))
        return np.tile(x, reps)[: int(seconds * rate)].astype(np.float32)
    t = np.arange(int(seconds * rate)) / rate
    f0 = 140 + 40 * np.sin(2 * np.pi * 0.3 * t)
    ph = 2 * np.pi * np.cumsum(f0) / rate
    x = sum(np.sin(k * ph) / k for k in range(1, 20)) * 0.1
    return (x + 0.01 * np.random.default_rng(0).standard_normal(len(t))).astype(np.float32)


TIERS = ("low", "medium", "high", "ultra")


def tier_students() -> dict[str, "torch.nn.Module"]:
    """The student at every built-in tier preset, random weights (seed 0)."""
    from voiceskin_tooling import student as st
    from voiceskin_tooling import tiers as tr

    torch.manual_seed(0)
    return {name: st.Student(st.config_from_tier(tr.get_tier_preset(name))) for name in TIERS}


def build_bundle(students: dict[str, "torch.nn.Module"] | None = None) -> bytes:
    """One bundle of the given students (default :func:`tier_students`)."""
    from voiceskin_tooling.pack import tier_spec

    students = students or tier_students()
    specs = [tier_spec(name, s) for name, s in students.items()]
    spec = vformat.BundleSpec(voice_id="bench.random", display_name="Benchmark (random weights)",
                              version="0.0.1", tiers=specs)
    return vformat.write_bundle(spec)


def _stats(us: np.ndarray) -> tuple[float, float]:
    return float(np.median(us)), float(np.percentile(us, 99))


def bench_native(bundle: "voiceskin.Bundle", tier: int, x48: np.ndarray,
                 schedule: str = "low_latency") -> np.ndarray:
    from voiceskin._ffi import ffi, get_lib

    lib = get_lib()
    v = voiceskin.Voice(bundle, sample_rate=HOST_RATE, channels=1, max_block=BUFFER, tier=tier,
                        schedule=schedule)
    handle = v._live
    buf_in = ffi.new("float[]", BUFFER)
    buf_out = ffi.new("float[]", BUFFER)
    nbuf = len(x48) // BUFFER
    times = np.empty(nbuf)
    src = np.frombuffer(ffi.buffer(buf_in), dtype=np.float32)
    clock = time.perf_counter_ns
    for i in range(nbuf):
        src[:] = x48[i * BUFFER:(i + 1) * BUFFER]
        t0 = clock()
        lib.vsk_voice_process(handle, buf_in, buf_out, BUFFER)
        times[i] = clock() - t0
    v.close()
    return times / 1e3


SCHEDULES = ("low_latency", "even")


def interleaved_times(new_voices: Callable[[], "list[voiceskin.Voice]"], x48: np.ndarray,
                      rounds: int) -> np.ndarray:
    """µs per buffer [rounds, voices, buffers] of voices run side by side in
    this process: each round ``new_voices()`` makes fresh voices, and every
    buffer of ``x48`` goes through all of them in turn (the order reversed
    every other buffer), so they see the same machine state; timed around
    each ``vsk_voice_process`` call (cffi included)."""
    from voiceskin._ffi import ffi, get_lib

    process = get_lib().vsk_voice_process
    nbuf = len(x48) // BUFFER
    buf_in = ffi.new("float[]", BUFFER)
    buf_out = ffi.new("float[]", BUFFER)
    src = np.frombuffer(ffi.buffer(buf_in), dtype=np.float32)
    clock = time.perf_counter_ns
    times: np.ndarray | None = None
    for r in range(rounds):
        voices = new_voices()
        handles = [v._live for v in voices]
        if times is None:
            times = np.empty((rounds, len(voices), nbuf))
        order = list(range(len(voices)))
        for i in range(nbuf):
            src[:] = x48[i * BUFFER:(i + 1) * BUFFER]
            for j in (order if i % 2 == 0 else order[::-1]):
                t0 = clock()
                process(handles[j], buf_in, buf_out, BUFFER)
                times[r, j, i] = clock() - t0
        for v in voices:
            v.close()
    assert times is not None
    return times / 1e3


def bench_schedules(bundle: "voiceskin.Bundle", tier: int, x48: np.ndarray,
                    rounds: int = 5) -> dict[str, dict[str, float]]:
    """Both schedules of one tier, interleaved buffer by buffer in this
    process (:func:`interleaved_times`: one voice per schedule, the whole
    stream `rounds` times with fresh voices). Per schedule: median,
    mean and p99 µs per buffer over every round's buffers (the first 20 of
    each round skipped), p99/median, the same ratio of the per-buffer
    minimum over the rounds (a buffer does the same work every round, so
    the minimum keeps the schedule's own spread and drops most of the
    machine's noise), and the latency (frames, ms)."""
    lat: dict[str, int] = {}

    def new_voices() -> list["voiceskin.Voice"]:
        voices = [voiceskin.Voice(bundle, sample_rate=HOST_RATE, channels=1, max_block=BUFFER,
                                  tier=tier, schedule=s) for s in SCHEDULES]
        lat.update({s: v.latency for s, v in zip(SCHEDULES, voices)})
        return voices

    times = interleaved_times(new_voices, x48, rounds)
    out: dict[str, dict[str, float]] = {}
    for j, s in enumerate(SCHEDULES):
        us = times[:, j, 20:]
        med, p99 = _stats(us.reshape(-1))
        fmed, fp99 = _stats(us.min(axis=0))
        out[s] = {"median": med, "mean": float(us.mean()), "p99": p99, "ratio": p99 / med,
                  "min_ratio": fp99 / fmed, "latency": lat[s],
                  "latency_ms": 1000.0 * lat[s] / HOST_RATE}
    return out


def format_schedules(rows: list[tuple[str, dict[str, dict[str, float]]]], rounds: int) -> str:
    """One line per tier: each schedule's median, mean, p99, p99/median, the
    per-buffer-minimum ratio and latency, side by side."""
    cols = f"{'med':>7}{'mean':>7}{'p99':>8}{'p99/med':>8}{'min':>6}{'latency':>20}"
    head = f"{'':<8}" + "".join(f"  | {s:<{len(cols) - 1}}" for s in SCHEDULES)
    head2 = f"{'tier':<8}" + "".join(f"  |{cols}" for _ in SCHEDULES)
    lines = [f"schedules (vsk_voice_config.schedule; interleaved buffer by buffer, {rounds} rounds, "
             f"{BUFFER}-frame buffers at {HOST_RATE} Hz; times in us):", head, head2,
             "-" * len(head2)]
    for name, r in rows:
        line = f"{name:<8}"
        for s in SCHEDULES:
            d = r[s]
            lat = f"{d['latency']:.0f} fr {d['latency_ms']:.2f} ms"
            line += (f"  |{d['median']:>7.1f}{d['mean']:>7.1f}{d['p99']:>8.1f}{d['ratio']:>8.2f}"
                     f"{d['min_ratio']:>6.2f}{lat:>20}")
        lines.append(line)
    lines.append("min = p99/median of each buffer's minimum over the rounds (the schedule's "
                 "own spread, most machine noise removed). Target: p99 <= 2x median.")
    return "\n".join(lines)


def _step_schedule(n_model: int, hop: int, nbuf: int) -> list[int]:
    """Model-rate steps completed during each host buffer."""
    steps = []
    done = 0
    for i in range(nbuf):
        avail = ((i + 1) * BUFFER * n_model) // HOST_RATE
        k = avail // hop - done
        steps.append(k)
        done += k
    return steps


def bench_torch(mod, x_model: np.ndarray, hop: int, sched: list[int]) -> np.ndarray:
    state = mod.initial_state()
    xt = torch.from_numpy(x_model)
    times = np.empty(len(sched))
    clock = time.perf_counter_ns
    pos = 0
    with torch.inference_mode():
        for i, k in enumerate(sched):
            t0 = clock()
            for _ in range(k):
                out = mod(xt[pos:pos + hop], *state)
                state = list(out[1:])
                pos += hop
            times[i] = clock() - t0
    return times / 1e3


def bench_ort(mod, x_model: np.ndarray, hop: int, sched: list[int]) -> np.ndarray | None:
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    state = mod.initial_state()
    names_in = ["x"] + [f"s{i}" for i in range(len(state))]
    names_out = ["y"] + [f"o{i}" for i in range(len(state))]
    f = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(mod, (torch.zeros(hop), *state), f, input_names=names_in,
                          output_names=names_out, opset_version=17, dynamo=False)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(f.getvalue(), so, providers=["CPUExecutionProvider"])
    st = [s.numpy() for s in state]
    times = np.empty(len(sched))
    clock = time.perf_counter_ns
    pos = 0
    for i, k in enumerate(sched):
        t0 = clock()
        for _ in range(k):
            feed = {"x": x_model[pos:pos + hop]}
            feed.update({f"s{j}": s for j, s in enumerate(st)})
            out = sess.run(None, feed)
            st = out[1:]
            pos += hop
        times[i] = clock() - t0
    return times / 1e3


def _rss_kib() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


LADDER_MEASURES = (("wer", "WER", "lower"), ("dnsmos_ovrl", "DNSMOS", "higher"),
                   ("similarity", "sim", "higher"), ("identity_margin", "margin", "higher"))


def print_ladder(names: list[str], tier_med_us: list[float], qa: dict | None) -> None:
    """The ladder: cost per tier (median us per buffer, times the lowest
    tier's) and, when the bundle carries QA (a distilled voice), each tier's
    listener measures on the test split with their 95 % intervals, and
    whether each tier is at least as good as the one below within them."""
    from voiceskin_tooling.listener_bars import beyond_interval

    test = ((qa or {}).get("splits") or {}).get("test") or {}
    systems = test.get("systems") or {}
    print(f"ladder: highest / lowest cost {tier_med_us[-1] / tier_med_us[0]:.2f}x"
          + ("" if systems else " (no QA in this bundle: quality per tier needs a distilled voice)"))
    cols = [m for m in LADDER_MEASURES if any(m[0] in systems.get(n, {}) for n in names)]
    print(f"  {'tier':<8}{'med us':>8}{'x low':>7}" + "".join(f"{c[1]:>20}" for c in cols))
    for n, med in zip(names, tier_med_us):
        row = f"  {n:<8}{med:>8.1f}{med / tier_med_us[0]:>7.2f}"
        for key, _, _ in cols:
            m = systems.get(n, {}).get(key)
            row += f"{m['value']:>8.3f} [{m['ci95'][0]:.2f},{m['ci95'][1]:.2f}]" if m else f"{'-':>20}"
        print(row)
    for key, label, better in cols:
        worse, gained, steps = [], [], 0
        for lo, hi in zip(names, names[1:]):
            a, b = systems.get(lo, {}).get(key), systems.get(hi, {}).get(key)
            if not (a and b):
                continue
            steps += 1
            # beyond the interval: the higher tier's value outside the lower one's CI
            step = beyond_interval(a, b, better == "higher")
            if step < 0:
                worse.append(f"{hi} worse than {lo}")
            if step > 0:
                gained.append(f"{hi} over {lo}")
        if steps:
            print(f"  {label} (test split): ordered (no tier worse than the one below beyond its "
                  f"interval): {'yes' if not worse else 'no: ' + ', '.join(worse)}; measurably "
                  f"better: {len(gained)} of {steps} steps" + (f" ({', '.join(gained)})" if gained else ""))


def print_dynamic(path: Path, names: list[str], tier_mean_us: list[float], x48: np.ndarray) -> None:
    """Dynamic quality (the CPU governor): budgets placed between the tiers'
    single-voice costs measured above (c_k = mean time per buffer / buffer
    duration, what the governor measures), so the expected tier is known;
    12 s of audio each, timed over the settled second half
    (native/bench/lobby.c --budget)."""
    from bench_lobby import build_lobby, format_dynamic, run_dynamic

    exe = build_lobby()
    c = [m / (1e6 * BUFFER / HOST_RATE) for m in tier_mean_us]
    top = len(c) - 1
    x = _speech(12.0, HOST_RATE) if len(x48) < 12 * HOST_RATE else x48[: 12 * HOST_RATE]
    mid12 = 0.5 * (c[1] + c[2])
    print("dynamic quality (CPU budgets; single-voice mean costs above: "
          + ", ".join(f"{n} {k:.4f}" for n, k in zip(names, c)) + " cores):")
    runs = [("1 voice asking for " + names[top] + f", budget (c_{names[1]} + c_{names[2]})/2", 1, mid12, 0),
            (f"64 voices asking for {names[top]}, budget 64 x that", 64, 64 * mid12, 0),
            (f"64 voices, every 2nd asking for {names[0]} (by need), same budget", 64, 64 * mid12, 2)]
    for label, n, budget, cheap in runs:
        timing, gov = run_dynamic(exe, path, top, x, n, budget, cheap)
        print(format_dynamic(label, timing, gov, names))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", type=Path, help="a .vskin to benchmark (default: random-weight tiers)")
    ap.add_argument("--seconds", type=float, default=20.0, help="audio per tier and peer")
    ap.add_argument("--no-peers", action="store_true", help="native only")
    ap.add_argument("--no-profile", action="store_true", help="skip the per-op profile")
    ap.add_argument("--no-lobby", action="store_true", help="skip the lobby (1-64 voices on one thread)")
    ap.add_argument("--no-dynamic", action="store_true",
                    help="skip the dynamic-quality runs (CPU budgets, one voice and 64)")
    ap.add_argument("--no-layers", action="store_true",
                    help="skip the layer race (GRU and dense steps against RTNeural when RTNEURAL_DIR is set)")
    ap.add_argument("--no-race", action="store_true",
                    help="skip the fair race (the student as one straight-line PyTorch/ONNX step)")
    ap.add_argument("--race-tiers", default="low",
                    help="tiers for the fair race, comma-separated (random-weight students even with "
                         "--bundle; about a minute per tier with torch.compile)")
    ap.add_argument("--no-compile", action="store_true", help="fair race without torch.compile")
    ap.add_argument("--schedule-rounds", type=int, default=5,
                    help="rounds of the schedules table (low_latency and even interleaved buffer "
                         "by buffer, fresh voices each round); 0 skips it")
    a = ap.parse_args()
    if a.bundle and not a.bundle.is_file():
        ap.error(f"--bundle {a.bundle}: no such file (a distilled voice's bundle is under "
                 f"out/<voice id>/<voice id>-<version>.vskin)")

    torch.set_num_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    data = a.bundle.read_bytes() if a.bundle else build_bundle()
    bundle = voiceskin.Bundle.from_bytes(data)
    spec = vformat.read_bundle(data)
    x48 = _speech(a.seconds, HOST_RATE)
    buf_ms = 1000.0 * BUFFER / HOST_RATE
    print(f"voiceskin {voiceskin.library_version()} — {bundle.voice_id}: {len(bundle.tiers)} tiers; "
          f"{a.seconds:.0f} s of audio, {HOST_RATE} Hz, {BUFFER}-frame buffers ({buf_ms:.2f} ms), one thread")
    hdr = (f"{'tier':<8}{'params':>8}{'lat ms':>8}{'native med':>11}{'p99':>8}{'p99/med':>8}"
           f"{'RTF':>9}{'torch med':>11}{'x':>7}{'ort med':>10}{'x':>7}")
    print(hdr)
    print("-" * len(hdr))
    structure: list[tuple[str, dict[int, float], float]] = []
    tier_mean: list[float] = []  # the governor measures means (time / audio time)
    tier_med: list[float] = []
    for i, t in enumerate(bundle.tiers):
        nat = bench_native(bundle, i, x48)
        med, p99 = _stats(nat[20:])  # skip the first buffers (cold caches)
        tier_mean.append(float(np.mean(nat[20:])))
        tier_med.append(med)
        # Buffers run 1 or 2 graph steps (a 256-frame buffer is 85.3 model
        # samples, the hop 64): p99 is a 2-step buffer by construction.
        steps = np.array(_step_schedule(t.model_sample_rate, t.hop_samples, len(nat)))[20:]
        body = nat[20:]
        per_steps = {k: float(np.median(body[steps == k])) for k in sorted(set(steps.tolist()))}
        structure.append((t.name, per_steps, float(np.percentile(body, 99.9))))
        with voiceskin.Voice(bundle, sample_rate=HOST_RATE, max_block=BUFFER, tier=i) as v:
            lat_ms = 1000.0 * v.latency / HOST_RATE
        row = (f"{t.name:<8}{t.parameter_count:>8}{lat_ms:>8.2f}{med:>9.1f}us{p99:>8.1f}"
               f"{p99 / med:>8.2f}{med / (buf_ms * 1000):>9.4f}")
        if not a.no_peers:
            ts = spec.tiers[i]
            import soxr
            x_model = soxr.resample(x48, HOST_RATE, ts.model_sample_rate).astype(np.float32)
            from step_torch import StepModule
            mod = StepModule(ts.graph, ts.tensors, ts.hop_samples).eval()
            sched = _step_schedule(ts.model_sample_rate, ts.hop_samples, len(x48) // BUFFER)
            n_t = min(len(sched), int(len(sched) * min(1.0, 5.0 / a.seconds)))  # torch is slow: 5 s
            tt = bench_torch(mod, x_model, ts.hop_samples, sched[:n_t])
            tmed = float(np.median(tt[20:]))
            row += f"{tmed:>9.1f}us{tmed / med:>7.1f}"
            try:
                to = bench_ort(mod, x_model, ts.hop_samples, sched)
            except Exception as e:  # export problems are reported, not hidden
                to = None
                print(f"  (onnxruntime peer failed for {t.name}: {type(e).__name__}: {e})")
            if to is not None:
                omed = float(np.median(to[20:]))
                row += f"{omed:>8.1f}us{omed / med:>7.1f}"
        print(row)
    print("RTF = median time per buffer / buffer duration (1 core). x = peer median / native median.")
    for name, per_steps, p999 in structure:
        parts = ", ".join(f"{k}-step buffers {v:.1f}us" for k, v in per_steps.items())
        print(f"  {name}: median by graph steps in the buffer: {parts}; p99.9 {p999:.1f}us")
    print_ladder([t.name for t in bundle.tiers], tier_med, spec.qa)
    if a.schedule_rounds > 0:
        rows = [(t.name, bench_schedules(bundle, i, x48, a.schedule_rounds))
                for i, t in enumerate(bundle.tiers)]
        print(format_schedules(rows, a.schedule_rounds))

    with tempfile.TemporaryDirectory() as d:
        path = a.bundle or Path(d) / "bench.vskin"
        if not a.bundle:
            path.write_bytes(data)
        if not a.no_profile:
            from op_profile import format_profile, profile_bundle
            print("per-op profile (us per buffer, mean; % of the voice's mean per buffer):")
            print(format_profile(profile_bundle(path, x48, HOST_RATE, BUFFER)))
        if not a.no_lobby:
            from bench_lobby import format_lobby, lobby_bundle
            print(format_lobby(lobby_bundle(path, x48[: 5 * HOST_RATE], [1, 8, 32, 64])))
        if not a.no_dynamic and len(tier_mean) >= 3:
            print_dynamic(path, [t.name for t in bundle.tiers], tier_mean, x48)
    if not a.no_layers:
        import bench_layers
        print(bench_layers.format_race(bench_layers.run_race([48, 64, 96, 128, 256], 300,
                                                             bench_layers.peers_from_env())))
    if not a.no_race:
        from bench_race import format_race, run_race
        print(format_race(run_race(a.race_tiers.split(","), compile_=not a.no_compile)))

    # memory: one bundle, then voices on it
    import gc
    gc.collect()
    r0 = _rss_kib()
    extra = [voiceskin.Bundle.from_bytes(data) for _ in range(8)]
    r1 = _rss_kib()
    print(f"memory: one loaded bundle ≈ {(r1 - r0) / 8:.0f} KiB (file {len(data) / 1024:.0f} KiB; RSS delta over 8 opens)")
    del extra
    from voiceskin._ffi import ffi, get_lib
    lib = get_lib()
    for i, t in enumerate(bundle.tiers):
        cfg = ffi.new("vsk_voice_config *")
        lib.vsk_voice_config_init(cfg)
        cfg.sample_rate = HOST_RATE
        cfg.max_block_frames = BUFFER
        cfg.initial_tier = i
        size = ffi.new("size_t *")
        lib.vsk_voice_get_size(bundle.ptr, cfg, size)
        print(f"memory: one voice instance (48 kHz mono, 256-frame blocks, all tiers' state) = "
              f"{size[0] / 1024:.0f} KiB (vsk_voice_get_size)")
        break
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
