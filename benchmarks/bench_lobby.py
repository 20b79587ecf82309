"""Lobby benchmark: N voices on one bundle, processed by one thread.

    python benchmarks/bench_lobby.py [--bundle FILE.vskin] [--seconds 5] [--voices 1,8,32,64]

A game lobby runs many converted voices at once. ``native/bench/lobby.c``
(public API only, linked against the library the SDK loads, so no Python is
timed) opens one bundle, creates N voices on it per tier (48 kHz mono,
256-frame buffers) and streams real speech through all of them buffer by
buffer, voice after voice, each voice from its own offset in the signal.
Per N it prints the time per buffer for all N voices together (median, p99),
the cost per voice (median / N), the fraction of one core (median / buffer
duration), and memory: the voice's planned bytes (``vsk_voice_get_size``,
checked against what its allocator was asked for) and the bundle's shared
heap bytes (glibc ``mallinfo2`` around ``vsk_bundle_open_memory``).
Without --bundle it uses bench_runtime.py's random-weight tiers.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
NATIVE = ROOT / "native"
HOST_RATE, BUFFER = 48000, 256


def build_lobby(cache: Path | None = None) -> Path:
    """Compiles native/bench/lobby.c against the library the SDK loads;
    returns the executable (cached by a hash of the source and the library)."""
    from voiceskin import _ffi

    lib = Path(_ffi.library_path())
    if not lib.is_file():
        raise RuntimeError(f"the lobby benchmark needs the built library ({lib} not found)")
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not cc:
        raise RuntimeError("the lobby benchmark needs a C compiler (cc, gcc or clang) on PATH")
    src = NATIVE / "bench" / "lobby.c"
    h = hashlib.sha256(src.read_bytes())
    for p in (NATIVE / "include" / "voiceskin.h", NATIVE / "bench" / "bench_util.h"):
        h.update(p.read_bytes())
    h.update(f"{lib}:{lib.stat().st_mtime_ns}".encode())
    cache = cache or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "voiceskin-bench"
    exe = cache / f"vsk_lobby-{h.hexdigest()[:16]}"
    if not exe.exists():
        cache.mkdir(parents=True, exist_ok=True)
        tmp = exe.with_suffix(".tmp")
        subprocess.run([cc, "-std=c11", "-O2", "-I", str(NATIVE / "include"), str(src), "-o", str(tmp),
                        str(lib), f"-Wl,-rpath,{lib.parent}"], check=True)
        tmp.replace(exe)
    return exe


def run_lobby(exe: Path, bundle_path: Path, tier: int, x: np.ndarray, voices: list[int],
              rate: int = HOST_RATE, buffer: int = BUFFER, skip: int = 20) -> list[dict]:
    """One JSON record per voice count (see native/bench/lobby.c)."""
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "in.f32"
        np.asarray(x, np.float32).tofile(f)
        r = subprocess.run([str(exe), str(bundle_path), str(tier), str(rate), str(buffer), str(f),
                            str(skip), *map(str, voices)], check=True, capture_output=True, text=True)
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def run_dynamic(exe: Path, bundle_path: Path, tier: int, x: np.ndarray, voices: int,
                budget: float, cheap_every: int = 0) -> tuple[dict, dict]:
    """Dynamic quality: `voices` voices asking for `tier` (every
    `cheap_every`-th one for tier 0) share a CPU budget of `budget` cores
    and govern their tiers. Returns the timing record (of the settled second
    half) and the governor record (see native/bench/lobby.c)."""
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "in.f32"
        np.asarray(x, np.float32).tofile(f)
        r = subprocess.run([str(exe), "--budget", f"{budget:.8f}", "--cheap-every", str(cheap_every),
                            str(bundle_path), str(tier), str(HOST_RATE), str(BUFFER), str(f), "20",
                            str(voices)], check=True, capture_output=True, text=True)
    recs = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    return recs[0], recs[1]


def format_dynamic(label: str, timing: dict, gov: dict, tier_names: list[str]) -> str:
    buf_us = 1e6 * timing["buffer"] / timing["rate"]
    use = timing["median_us"] / buf_us
    want = ", ".join(f"{n} {c}" for n, c in zip(tier_names, gov["tiers_wanting"]) if c)
    line = (f"  {label}: budget {gov['budget']:.4f} cores -> settled {gov['last_change_s']:.1f} s in, "
            f"{gov['steps']} governor steps; tiers at the end: {want}")
    if any(gov["tiers_cheap"]):
        line += "; cheap voices: " + ", ".join(f"{n} {c}" for n, c in zip(tier_names, gov["tiers_cheap"]) if c)
    return (line + f"\n    settled second half: median {timing['median_us']:.1f} us per buffer = {use:.4f} "
            f"cores (p99 {timing['p99_us']:.1f} us), the voices' own summed load {gov['load']:.4f} "
            f"({100 * use / gov['budget']:.0f} % of the budget)")


def format_lobby(per_tier: dict[str, list[dict]]) -> str:
    recs = next(iter(per_tier.values()))
    r0 = recs[0]
    buf_us = 1e6 * r0["buffer"] / r0["rate"]
    lines = [f"lobby: N voices on one bundle, one thread, {r0['rate']} Hz mono, {r0['buffer']}-frame "
             f"buffers ({buf_us:.0f} us), {r0['buffers']} buffers timed",
             f"{'tier':<8}{'voices':>7}{'med us':>10}{'p99 us':>10}{'p99/med':>8}{'us/voice':>10}"
             f"{'% core':>8}{'KiB/voice':>10}"]
    lines.append("-" * len(lines[-1]))
    for name, recs in per_tier.items():
        for r in recs:
            lines.append(f"{name:<8}{r['voices']:>7}{r['median_us']:>10.1f}{r['p99_us']:>10.1f}"
                         f"{r['p99_us'] / r['median_us']:>8.2f}{r['median_us'] / r['voices']:>10.2f}"
                         f"{100 * r['median_us'] / buf_us:>8.2f}{r['voice_bytes'] / 1024:>10.0f}")
    lines.append(f"shared per bundle: {r0['bundle_heap_bytes'] / 1024:.0f} KiB heap (file "
                 f"{r0['bundle_file_bytes'] / 1024:.0f} KiB); per voice: vsk_voice_get_size "
                 f"(allocator asked for {r0['voice_alloc_bytes'] / 1024:.0f} KiB)")
    return "\n".join(lines)


def lobby_bundle(bundle_path: Path, x48: np.ndarray, voices: list[int],
                 tiers: list[int] | None = None) -> dict[str, list[dict]]:
    from voiceskin import format as vformat

    spec = vformat.read_bundle(bundle_path.read_bytes())
    exe = build_lobby()
    idx = range(len(spec.tiers)) if tiers is None else tiers
    return {spec.tiers[i].name: run_lobby(exe, bundle_path, i, x48, voices) for i in idx}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", type=Path, help="a .vskin (default: bench_runtime's random-weight tiers)")
    ap.add_argument("--seconds", type=float, default=5.0, help="audio per voice count and tier")
    ap.add_argument("--voices", default="1,8,32,64", help="voice counts, comma-separated")
    a = ap.parse_args()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_runtime import _speech, build_bundle

    voices = [int(v) for v in a.voices.split(",")]
    x48 = _speech(a.seconds, HOST_RATE)
    with tempfile.TemporaryDirectory() as d:
        path = a.bundle
        if path is None:
            path = Path(d) / "bench.vskin"
            path.write_bytes(build_bundle())
        print(format_lobby(lobby_bundle(path, x48, voices)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
