"""The fair race: one tier's student per 4 ms step, voiceskin against the
same student as one straight-line PyTorch module, side by side in one run.

    python benchmarks/bench_race.py [--tiers low,ultra] [--steps 1500] [--no-compile]

Everything runs at the model rate (16 kHz, one ``hop`` = 64-sample step per
call, no resampling for anyone), on one thread, on real speech:

* voiceskin: ``vsk_voice_process`` on a voice at the model rate with
  64-frame blocks (one graph step per call), through cffi with preallocated
  buffers, timed around the call (so voiceskin pays the Python call the
  peers pay too); also timed from C (native/bench/lobby.c, one voice);
* eager: :class:`race_peers.StraightStudent` (torch.fft, nn.GRUCell);
* TorchScript: ``torch.jit.script`` of it;
* torch.compile: ``torch.compile`` of it (inductor with its C++ wrapper,
  else the default Python wrapper; skipped with the reason if it fails);
* onnxruntime: its DFT-product form (the TorchScript-based ONNX exporter has
  no FFT or integer XOR) exported as one ONNX graph per step, run with two
  pre-built IO bindings that swap the state buffers (no per-call feeds); and
  the same call on an identity graph with the same inputs and outputs: the
  per-call floor.

The peers are timed in interleaved rounds (each runs a block of steps in
turn) so that a busy machine slows all of them alike. Before timing, every
peer's output over ``--check-seconds`` of speech is compared with the
library's (max |difference| / peak). Memory: the voice's bytes
(``vsk_voice_get_size``) and the bundle's, the peers' weights and constants,
and each one's process RSS growth when it was built and first run.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT / "sdk", ROOT / "tooling", ROOT / "benchmarks"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import voiceskin  # noqa: E402
from bench_runtime import _rss_kib, _speech, build_bundle, tier_students  # noqa: E402
from race_peers import FlatStep, StraightStudent  # noqa: E402

RATE = 16000


class _Peer:
    """A per-step callable with its own stream position and state."""

    def __init__(self, name: str, step, x: np.ndarray, hop: int, model_bytes: int, voice_bytes: int,
                 rss_kib: int):
        self.name, self.step, self.x, self.hop = name, step, x, hop
        self.model_bytes, self.voice_bytes, self.rss_kib = model_bytes, voice_bytes, rss_kib
        self.pos = 0
        self.times: list[float] = []

    def run(self, n: int) -> None:
        clock = time.perf_counter_ns
        x, hop, step = self.x, self.hop, self.step
        for _ in range(n):
            p = self.pos % (len(x) // hop) * hop
            t0 = clock()
            step(x[p:p + hop])
            self.times.append((clock() - t0) / 1e3)
            self.pos += 1


def compiled(m, x0: np.ndarray, log=print):
    """``torch.compile`` of ``m`` with inductor's C++ wrapper (it calls the
    generated kernels without a Python line per kernel: 20-50 % faster per
    step here), else with its default Python wrapper; compiled on one step."""
    import torch._dynamo

    for opts in ({"cpp_wrapper": True}, {}):
        c = torch.compile(m, dynamic=False, options=opts)
        try:
            c(torch.from_numpy(x0), m.initial_state())
            return c
        except Exception as e:  # said, then the default wrapper
            log(f"  torch.compile {opts}: {type(e).__name__}: {str(e).splitlines()[0][:200]}")
            torch._dynamo.reset()
    raise RuntimeError("torch.compile failed with both wrappers")


def torch_step(m, state):
    """Closure: one step of a torch module, keeping its state."""
    st = [state]

    def step(xh):
        r = m(torch.from_numpy(xh), st[0])
        st[0] = r[1:]
        return r[0].numpy()
    return step


def ort_step(model: bytes, state: list[np.ndarray], hop: int):
    """Closure: one step of an ONNX model through two pre-built IO bindings
    (A: state in S0, out to S1; B: the other way), the input buffer written
    in place. Returns the closure; it returns the output buffer."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    OV = ort.OrtValue.ortvalue_from_numpy
    xin, y = np.zeros(hop, np.float32), np.zeros(hop, np.float32)
    bufs = [[np.ascontiguousarray(s).copy() for s in state], [np.zeros_like(s) for s in state]]
    keep = [xin, y, bufs]
    binds = []
    for a in (0, 1):
        b = sess.io_binding()
        b.bind_ortvalue_input("x", OV(xin))
        b.bind_ortvalue_output("y", OV(y))
        for i in range(len(state)):
            b.bind_ortvalue_input(f"s{i}", OV(bufs[a][i]))
            b.bind_ortvalue_output(f"o{i}", OV(bufs[1 - a][i]))
        binds.append(b)
    k = [0]
    run = sess.run_with_iobinding

    def step(xh):
        xin[:] = xh
        run(binds[k[0]])
        k[0] ^= 1
        return y
    step.keep = (keep, binds, sess)
    return step


def identity_model(model: bytes) -> bytes:
    """An ONNX graph with ``model``'s inputs and outputs, each output the
    identity of the matching input: what one call costs with no work."""
    import onnx
    from onnx import helper

    g = onnx.load_from_string(model).graph
    ins = [i for i in g.input]
    outs = []
    nodes = []
    for i, o in zip(ins, g.output):
        outs.append(helper.make_tensor_value_info(o.name, i.type.tensor_type.elem_type,
                                                  [d.dim_value for d in i.type.tensor_type.shape.dim]))
        nodes.append(helper.make_node("Identity", [i.name], [o.name]))
    m = helper.make_model(helper.make_graph(nodes, "identity", ins, outs),
                          opset_imports=[helper.make_opsetid("", 18)])
    m.ir_version = onnx.load_from_string(model).ir_version
    return m.SerializeToString()


def native_step(bundle: "voiceskin.Bundle", tier: int, hop: int):
    from voiceskin._ffi import ffi, get_lib

    lib = get_lib()
    v = voiceskin.Voice(bundle, sample_rate=RATE, channels=1, max_block=hop, tier=tier)
    bi, bo = ffi.new("float[]", hop), ffi.new("float[]", hop)
    src = np.frombuffer(ffi.buffer(bi), dtype=np.float32)
    out = np.frombuffer(ffi.buffer(bo), dtype=np.float32)
    proc, h = lib.vsk_voice_process, v._live

    def step(xh):
        src[:] = xh
        proc(h, bi, bo, hop)
        return out
    step.keep = (v, bi, bo)
    return step


def _stream(step, x: np.ndarray, hop: int) -> np.ndarray:
    return np.concatenate([step(x[i * hop:(i + 1) * hop]).copy() for i in range(len(x) // hop)])


def _bytes(ts) -> int:
    return sum(t.numel() * t.element_size() for t in ts)


def build_peers(student, spec_bundle, tier: int, x: np.ndarray, compile_: bool = True,
                log=print) -> tuple[list[_Peer], dict[str, np.ndarray]]:
    """The peers of one tier, each built and warmed up (RSS growth measured),
    and each one's output over ``x`` from a fresh state (for the check)."""
    hop = student.cfg.hop
    peers, outs = [], {}

    def add(name, make, model_bytes, voice_bytes):
        r0 = _rss_kib()
        t0 = time.perf_counter()
        try:
            step = make()
            outs[name] = _stream(step, x, hop)   # the check run and warm-up; timing continues the stream
        except Exception as e:  # a peer that cannot run here is reported, not hidden
            log(f"  {name}: failed: {type(e).__name__}: {str(e).splitlines()[0][:300]}")
            return None
        peers.append(_Peer(name, step, x, hop, model_bytes, voice_bytes, _rss_kib() - r0))
        log(f"  {name}: built and checked in {time.perf_counter() - t0:.1f} s")
        return step

    # voiceskin: this tier's float32 weights (in the bundle, shared) and one voice (every tier's state)
    add("voiceskin", lambda: native_step(spec_bundle, tier, hop), 4 * spec_bundle.tiers[tier].parameter_count,
        _voice_size(spec_bundle, tier, hop))   # (checked against below)
    _stream(torch_step(StraightStudent(student), StraightStudent(student).initial_state()), x[:4 * hop], hop)
    eager = StraightStudent(student).eval()   # (after torch's own first-use growth, above)
    w, sb = _bytes(list(eager.parameters()) + list(eager.buffers())), _bytes(eager.initial_state())
    add("eager", lambda: torch_step(eager, eager.initial_state()), w, sb)
    add("TorchScript", lambda: torch_step(torch.jit.script(eager), eager.initial_state()), w, sb)
    if compile_:
        add("torch.compile", lambda: torch_step(compiled(eager, x[:hop], log), eager.initial_state()), w, sb)
    flat = StraightStudent(student, dft=True).eval()
    s0 = flat.initial_state()
    f = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation and folding notes
        torch.onnx.export(FlatStep(flat), (torch.zeros(hop), *s0), f, opset_version=18, dynamo=False,
                          input_names=["x"] + [f"s{i}" for i in range(len(s0))],
                          output_names=["y"] + [f"o{i}" for i in range(len(s0))])
    model = f.getvalue()
    st = [s.numpy() for s in s0]
    add("onnxruntime", lambda: ort_step(model, st, hop), len(model), 2 * sb)   # two state sets, swapped
    add("ort floor", lambda: ort_step(identity_model(model), st, hop), 0, 0)
    return peers, outs


def _voice_size(bundle: "voiceskin.Bundle", tier: int, hop: int) -> int:
    """vsk_voice_get_size of a voice at the model rate with hop-frame blocks."""
    from voiceskin._ffi import ffi, get_lib

    lib = get_lib()
    cfg = ffi.new("vsk_voice_config *")
    lib.vsk_voice_config_init(cfg)
    cfg.sample_rate, cfg.max_block_frames, cfg.initial_tier = RATE, hop, tier
    size = ffi.new("size_t *")
    lib.vsk_voice_get_size(bundle.ptr, cfg, size)
    return int(size[0])


def _c_per_step(bundle_path: Path, tier: int, x: np.ndarray, hop: int) -> dict | None:
    try:
        from bench_lobby import build_lobby, run_lobby
        return run_lobby(build_lobby(), bundle_path, tier, x, [1], rate=RATE, buffer=hop)[0]
    except Exception as e:  # no compiler: the in-process figure stands alone
        print(f"  (C-timed voiceskin skipped: {type(e).__name__}: {e})")
        return None


def race_tier(name: str, student, bundle: "voiceskin.Bundle", bundle_path: Path, tier: int,
              x: np.ndarray, steps: int, check_seconds: float, compile_: bool = True,
              rounds: int = 10) -> dict:
    hop = student.cfg.hop
    xc = x[: int(check_seconds * RATE) // hop * hop]
    peers, outs = build_peers(student, bundle, tier, xc, compile_)
    # the library's graph output: its voice at the model rate delays by hop − 1 (FIFO)
    with voiceskin.Voice(bundle, sample_rate=RATE, max_block=hop, tier=tier) as v:
        ref = v.process(np.concatenate([xc, np.zeros(hop - 1, np.float32)]))[hop - 1:]
    peak = float(np.max(np.abs(ref)))
    check = {k: float(np.max(np.abs(o[: len(ref)] - ref[: len(o)]))) / peak
             for k, o in outs.items() if k not in ("voiceskin", "ort floor")}
    for p in peers:
        p.x = x
    per = max(1, steps // rounds)
    for _ in range(rounds):
        for p in peers:
            p.run(per)
    res = {"tier": name, "hop": hop, "peak": peak, "check": check, "peers": {}}
    for p in peers:
        t = np.array(p.times[min(20, len(p.times) // 10):])   # the first steps are cold
        res["peers"][p.name] = {"median_us": float(np.median(t)), "p99_us": float(np.percentile(t, 99)),
                                "model_bytes": p.model_bytes, "voice_bytes": p.voice_bytes,
                                "rss_kib": p.rss_kib, "steps": len(t)}
    res["tiers_in_bundle"] = len(bundle.tiers)
    res["c"] = _c_per_step(bundle_path, tier, x[: min(len(x), steps * hop * 2)], hop)
    return res


def format_race(results: list[dict]) -> str:
    lines = []
    for r in results:
        ps = r["peers"]
        vs = ps["voiceskin"]["median_us"]
        lines.append(f"fair race, tier {r['tier']}: us per {r['hop']}-sample step at {RATE} Hz "
                     f"(no resampling), one thread, {ps['voiceskin']['steps']} steps each, interleaved")
        hdr = (f"{'peer':<15}{'median':>9}{'p99':>9}{'x voiceskin':>12}{'model KiB':>11}{'voice KiB':>10}"
               f"{'RSS+ KiB':>10}{'check':>10}")
        lines += [hdr, "-" * len(hdr)]
        for k, p in ps.items():
            chk = r["check"].get(k)
            lines.append(f"{k:<15}{p['median_us']:>9.1f}{p['p99_us']:>9.1f}{p['median_us'] / vs:>12.1f}"
                         f"{p['model_bytes'] / 1024:>11.0f}{p['voice_bytes'] / 1024:>10.1f}{p['rss_kib']:>10}"
                         + (f"{chk:>10.1e}" if chk is not None else f"{'':>10}"))
        peers = {k: p["median_us"] for k, p in ps.items() if k not in ("voiceskin", "ort floor")}
        if peers:
            best = min(peers, key=peers.get)
            lines.append(f"best peer: {best} {peers[best]:.1f} us; voiceskin is {peers[best] / vs:.1f}x "
                         f"faster (target >= 5x)")
        if "onnxruntime" in ps and "ort floor" in ps:
            fl, o = ps["ort floor"]["median_us"], ps["onnxruntime"]["median_us"]
            lines.append(f"onnxruntime's per-call floor (identity graph, same inputs/outputs, same "
                         f"bindings): {fl:.1f} us = {100 * fl / o:.0f}% of its step")
        if r.get("c"):
            c = r["c"]
            lines.append(f"voiceskin timed in C (no Python call): median {c['median_us']:.2f} us, "
                         f"p99 {c['p99_us']:.2f} us per step; its weights live in the bundle, shared by "
                         f"every voice: {c['bundle_heap_bytes'] / 1024:.0f} KiB heap for all "
                         f"{r['tiers_in_bundle']} tiers (file {c['bundle_file_bytes'] / 1024:.0f} KiB)")
        lines.append("check = max |peer − library| / peak of the library's output over the check "
                     "audio (HARMONIC's phase integrates f0: float32 f0s one ulp apart drift slowly). "
                     "model = what voices share: the tier's float32 weights in the bundle for voiceskin, "
                     "weights+constants for torch, the .onnx for onnxruntime; voice = per voice: "
                     "vsk_voice_get_size (every tier's state and scratch) for voiceskin, the streaming "
                     "state tensors for the peers (onnxruntime binds two sets); RSS+ = process growth "
                     "when built and first run "
                     "(meaningful for the first tier raced only: later ones reuse freed memory).")
    return "\n".join(lines)


def run_race(tiers: list[str], steps: int = 1500, check_seconds: float = 2.0,
             compile_: bool = True) -> list[dict]:
    """Races the random-weight student of each named tier (a graph's cost
    does not depend on its weights); one record per tier."""
    torch.set_num_threads(1)
    students = tier_students()
    data = build_bundle(students)
    x = _speech(max(check_seconds, steps * 64 / RATE) + 1.0, RATE)
    names = list(students)
    out = []
    with tempfile.TemporaryDirectory() as d, voiceskin.Bundle.from_bytes(data) as b:
        path = Path(d) / "race.vskin"
        path.write_bytes(data)
        for t in tiers:
            print(f"fair race, tier {t}:")
            out.append(race_tier(t, students[t], b, path, names.index(t), x, steps, check_seconds, compile_))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tiers", default="low", help="tiers to race, comma-separated (low,medium,high,ultra)")
    ap.add_argument("--steps", type=int, default=1500, help="timed steps per peer")
    ap.add_argument("--check-seconds", type=float, default=2.0, help="audio for the numerical check")
    ap.add_argument("--no-compile", action="store_true", help="skip torch.compile (about a minute a tier)")
    a = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    print(format_race(run_race(a.tiers.split(","), a.steps, a.check_seconds, not a.no_compile)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
