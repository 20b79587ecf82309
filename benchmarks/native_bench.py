"""Builds the benchmark programs under native/bench (not part of the
library) from the library's own sources with the library's flags, cached by
a hash of everything that goes in (used by op_profile.py and bench_layers.py)."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NATIVE = ROOT / "native"
# as CMake builds the library (CMAKE_C_STANDARD 11 with extensions: gnu11, which has clock_gettime)
CFLAGS = ["-std=gnu11", "-O3", "-fno-math-errno", "-DVSK_BUILDING_LIBRARY", "-fvisibility=hidden"]


def compiler(kind: str = "c") -> str:
    """$CC / $CXX, else the usual names on PATH; a clear error when none is there."""
    names = ("cc", "gcc", "clang") if kind == "c" else ("c++", "g++", "clang++")
    found = os.environ.get("CC" if kind == "c" else "CXX") or next(filter(None, map(shutil.which, names)), None)
    if not found:
        raise RuntimeError(f"the native benchmarks need a {kind.upper()} compiler ({', '.join(names)}) on PATH")
    return found


def cache_dir(cache: Path | None = None) -> Path:
    return cache or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "voiceskin-bench"


def build_native_bench(program: str, cache: Path | None = None, libs: tuple[str, ...] = ("-lm",)) -> Path:
    """native/bench/<program>.c compiled with every library source; returns
    the executable (reused while its inputs are unchanged)."""
    cc = compiler("c")
    sources = sorted((NATIVE / "src").glob("*.c")) + [NATIVE / "bench" / f"{program}.c"]
    h = hashlib.sha256(" ".join(CFLAGS + list(libs)).encode())
    for p in (sources + sorted((NATIVE / "src").glob("*.h")) + sorted((NATIVE / "bench").glob("*.h"))
              + [NATIVE / "include" / "voiceskin.h"]):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    exe = cache_dir(cache) / f"vsk_{program}-{h.hexdigest()[:16]}"
    if exe.exists():
        return exe
    exe.parent.mkdir(parents=True, exist_ok=True)
    tmp = exe.with_suffix(".tmp")
    subprocess.run([cc, *CFLAGS, "-I", str(NATIVE / "include"), "-I", str(NATIVE / "src"),
                    *map(str, sources), "-o", str(tmp), *libs], check=True)
    tmp.replace(exe)
    return exe
