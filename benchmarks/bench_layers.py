"""The layer race (issue 18 item 7): one GRU step and one dense layer, batch
1, one thread, voiceskin's own ops against RTNeural, side by side in one
process (native/bench/layers.c; peers are shared objects, layers_peer.h).

    python benchmarks/bench_layers.py [--sizes 48,64,96,128,256] [--rounds 300]

voiceskin runs its real GRU and LINEAR ops (the shipped kernels, chosen at
run time: AVX2 here), with float weights and with the int8 weights a tier
can ship (``weights = "int8"``; same layer, weights rounded to 8 bits per
row, so its outputs differ by ~1e-3). RTNeural is not a dependency: with
``RTNEURAL_DIR`` pointing at its source folder (and Eigen in
``EIGEN_DIR``, RTNEURAL_DIR/modules/Eigen or /usr/include/eigen3), its
compile-time layers (GRULayerT, DenseT, Eigen backend) are built twice —
portable (-O3) and for this CPU (-O3 -march=native) — and raced too;
without it only voiceskin runs. Every contestant gets the same weights and
inputs; the outputs are compared before timing (max |Δ| against
voiceskin's float layer). Medians and p99 of per-step time over rounds
(each round runs every contestant for a block of steps, order rotating);
ratios are peer median / voiceskin median (> 1: voiceskin faster).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
from pathlib import Path

from native_bench import NATIVE, build_native_bench, cache_dir, compiler

PEER_FLAGS = {"rtneural_portable": ["-O3"], "rtneural_native": ["-O3", "-march=native"]}


def _eigen(rtneural: Path) -> Path | None:
    for p in (os.environ.get("EIGEN_DIR"), rtneural / "modules" / "Eigen", "/usr/include/eigen3"):
        if p and (Path(p) / "Eigen" / "Core").is_file():
            return Path(p)
    return None


def build_rtneural_peers(rtneural: Path, cache: Path | None = None) -> dict[str, Path]:
    """RTNeural's peer (native/bench/layers_rtneural.cpp) as shared objects,
    portable and native; {} with a note when the source or Eigen is missing."""
    if not (rtneural / "RTNeural" / "RTNeural.h").is_file():
        print(f"layer race: RTNEURAL_DIR={rtneural} has no RTNeural/RTNeural.h; racing voiceskin alone")
        return {}
    eigen = _eigen(rtneural)
    if eigen is None:
        print("layer race: no Eigen (EIGEN_DIR, RTNEURAL_DIR/modules/Eigen or /usr/include/eigen3; "
              "Debian: apt-get install libeigen3-dev); racing voiceskin alone")
        return {}
    cxx = compiler("c++")
    src = NATIVE / "bench" / "layers_rtneural.cpp"
    common = ["-std=c++17", "-fPIC", "-shared", "-fvisibility=hidden", "-fvisibility-inlines-hidden",
              "-DRTNEURAL_USE_EIGEN=1", "-DRTNEURAL_DEFAULT_ALIGNMENT=32", "-DEIGEN_STACK_ALLOCATION_LIMIT=0",
              "-I", str(rtneural), "-I", str(eigen), "-I", str(NATIVE / "bench")]
    h = hashlib.sha256(src.read_bytes() + (NATIVE / "bench" / "layers_peer.h").read_bytes()
                       + str(rtneural.resolve()).encode() + str(eigen).encode())
    key, out = h.hexdigest()[:16], {}
    for name, flags in PEER_FLAGS.items():
        so = cache_dir(cache) / f"{name}-{key}.so"
        if not so.exists():
            so.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([cxx, *flags, *common, str(src), "-o", str(so) + ".tmp"], check=True)
            Path(str(so) + ".tmp").replace(so)
        out[name] = so
    return out


def peers_from_env() -> dict[str, Path]:
    """The RTNeural peers when ``RTNEURAL_DIR`` is set, else {} (with a note)."""
    rt = os.environ.get("RTNEURAL_DIR")
    if not rt:
        print("layer race: RTNEURAL_DIR not set (RTNeural's source folder); racing voiceskin alone")
        return {}
    return build_rtneural_peers(Path(rt))


def run_race(sizes: list[int], rounds: int, peers: dict[str, Path], cache: Path | None = None) -> dict:
    exe = build_native_bench("layers", cache, libs=("-lm", "-ldl"))
    r = subprocess.run([str(exe), ",".join(map(str, sizes)), str(rounds),
                        *(f"{k}={v}" for k, v in peers.items())], check=True, capture_output=True, text=True)
    return json.loads(r.stdout)


def format_race(res: dict) -> str:
    rows: dict[tuple[str, int], dict[str, dict]] = {}
    who: list[str] = []
    for r in res["results"]:
        rows.setdefault((r["layer"], r["n"]), {})[r["who"]] = r
        if r["who"] not in who:
            who.append(r["who"])
    lines = [f"layer race (batch 1, one thread, ISA {res['isa']}; µs per step, median / p99; "
             f"x = median / voiceskin's float median):"]
    hdr = f"  {'layer':<10}" + "".join(f"{w:>26}" for w in who)
    lines += [hdr, "  " + "-" * (len(hdr) - 2)]
    for (layer, n), by in rows.items():
        base = by["voiceskin"]["median_us"]
        row = f"  {layer + ' ' + str(n):<10}"
        for w in who:
            r = by.get(w)
            row += (f"{r['median_us']:>9.2f} /{r['p99_us']:>7.2f}" + (f"{r['median_us'] / base:>7.2f}x" if w != "voiceskin" else " " * 8)
                    if r else f"{'-':>26}")
        lines.append(row)
    diffs = {w: max(r["max_abs_diff"] for r in res["results"] if r["who"] == w) for w in who if w != "voiceskin"}
    lines.append("  outputs vs voiceskin float (max |Δ| over 32 steps): "
                 + ", ".join(f"{w} {d:.1e}" for w, d in diffs.items()))
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="48,64,96,128,256", help="layer widths N (GRU N→N units, dense N→N)")
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--json", type=Path, help="also write the results here")
    a = ap.parse_args()
    res = run_race([int(s) for s in a.sizes.split(",")], a.rounds, peers_from_env())
    print(format_race(res))
    if a.json:
        a.json.write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
