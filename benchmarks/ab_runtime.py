"""Interleaved A/B of two libvoiceskin builds in one process.

    python benchmarks/ab_runtime.py OLD.so NEW.so [--bundle FILE.vskin]
        [--bundle-b FILE.vskin] [--seconds 10]

Both libraries are loaded side by side (cffi dlopen, RTLD_LOCAL), each opens
the same bundle and creates one voice per tier (48 kHz mono, 256-frame
buffers), and every buffer of the same speech goes through A then B, then
the next buffer through B then A (alternating who goes first), timed around
each vsk_voice_process call. On a busy machine both see the same load at
the same moments, so the ratio B/A is far steadier than two separate runs.
``--bundle-b`` gives B its own bundle (the same tiers packed by newer
tooling, e.g. a cheaper export of the same trained students); the outputs
then differ by what the packing changed.
Prints per tier the median and p99 µs per buffer of each and their ratios,
and checks that both produced the same output (max abs difference).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT / "sdk", ROOT / "tooling", ROOT / "benchmarks"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from voiceskin._ffi import ffi  # noqa: E402

from bench_runtime import BUFFER, HOST_RATE, _speech, build_bundle  # noqa: E402


class Lib:
    """One library build, its bundle and one voice per tier."""

    def __init__(self, path: str, data: bytes) -> None:
        self.lib = ffi.dlopen(path)
        self.version = ffi.string(self.lib.vsk_version_string()).decode()
        out = ffi.new("vsk_bundle **")
        st = self.lib.vsk_bundle_open_memory(data, len(data), out)
        if st != 0:
            raise RuntimeError(f"{path}: bundle open failed ({st})")
        self.bundle = out[0]

    def voice(self, tier: int):
        cfg = ffi.new("vsk_voice_config *")
        # the 0.4 layout (up to cpu_budget): every build since accepts it
        # (docs/abi.md, struct growth), so old and new builds compare
        self.lib.vsk_voice_config_init_size(cfg, ffi.offsetof("vsk_voice_config", "cpu_budget"))
        cfg.sample_rate = HOST_RATE
        cfg.channels = 1
        cfg.max_block_frames = BUFFER
        cfg.initial_tier = tier
        out = ffi.new("vsk_voice **")
        st = self.lib.vsk_voice_create(self.bundle, cfg, out)
        if st != 0:
            raise RuntimeError(f"voice create failed ({st})")
        return out[0]


def ab_tier(a: Lib, b: Lib, tier: int, x48: np.ndarray) -> dict:
    va, vb = a.voice(tier), b.voice(tier)
    nbuf = len(x48) // BUFFER
    ta, tb = np.empty(nbuf), np.empty(nbuf)
    bi = ffi.new("float[]", BUFFER)
    oa, ob = ffi.new("float[]", BUFFER), ffi.new("float[]", BUFFER)
    src = np.frombuffer(ffi.buffer(bi), dtype=np.float32)
    ya = np.frombuffer(ffi.buffer(oa), dtype=np.float32)
    yb = np.frombuffer(ffi.buffer(ob), dtype=np.float32)
    clock = time.perf_counter_ns
    pa, pb = a.lib.vsk_voice_process, b.lib.vsk_voice_process
    diff = 0.0
    for i in range(nbuf):
        src[:] = x48[i * BUFFER:(i + 1) * BUFFER]
        if i % 2 == 0:
            t0 = clock(); pa(va, bi, oa, BUFFER); t1 = clock()
            pb(vb, bi, ob, BUFFER); t2 = clock()
            ta[i], tb[i] = t1 - t0, t2 - t1
        else:
            t0 = clock(); pb(vb, bi, ob, BUFFER); t1 = clock()
            pa(va, bi, oa, BUFFER); t2 = clock()
            tb[i], ta[i] = t1 - t0, t2 - t1
        diff = max(diff, float(np.max(np.abs(ya - yb))))
    a.lib.vsk_voice_destroy(va)
    b.lib.vsk_voice_destroy(vb)
    ta, tb = ta[20:] / 1e3, tb[20:] / 1e3   # skip the first buffers (cold caches)
    return {"a_med": float(np.median(ta)), "a_p99": float(np.percentile(ta, 99)),
            "b_med": float(np.median(tb)), "b_p99": float(np.percentile(tb, 99)),
            "ratio_med": float(np.median(tb / ta)), "max_abs_diff": diff}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a", help="library A (e.g. the build before a change)")
    ap.add_argument("b", help="library B")
    ap.add_argument("--bundle", type=Path)
    ap.add_argument("--bundle-b", type=Path, help="B's bundle (default: the same as A's)")
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    data = args.bundle.read_bytes() if args.bundle else build_bundle()
    A, B = Lib(args.a, data), Lib(args.b, args.bundle_b.read_bytes() if args.bundle_b else data)
    from voiceskin import format as vformat
    tiers = [t.name for t in vformat.read_bundle(data).tiers]
    x48 = _speech(args.seconds, HOST_RATE)
    print(f"A = {args.a} ({A.version}), B = {args.b} ({B.version}); {args.seconds:.0f} s, "
          f"{HOST_RATE} Hz, {BUFFER}-frame buffers, interleaved per buffer")
    print(f"{'tier':<8}{'A med':>9}{'A p99':>9}{'B med':>9}{'B p99':>9}{'B/A med':>9}"
          f"{'B/A p99':>9}{'med(B/A)':>10}{'max|dy|':>10}")
    for i, name in enumerate(tiers):
        r = ab_tier(A, B, i, x48)
        print(f"{name:<8}{r['a_med']:>9.1f}{r['a_p99']:>9.1f}{r['b_med']:>9.1f}{r['b_p99']:>9.1f}"
              f"{r['b_med'] / r['a_med']:>9.3f}{r['b_p99'] / r['a_p99']:>9.3f}"
              f"{r['ratio_med']:>10.3f}{r['max_abs_diff']:>10.2g}")
    print("us per buffer; med(B/A) = median over buffers of the per-buffer ratio (same buffer, "
          "same moment)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
