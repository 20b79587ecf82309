"""Shared helpers for the sample-host tests (test_c_host, test_lv2,
test_host_app): build the samples with CMake, make a voice folder, load
real speech, render offline through the SDK, and compare signals.

The samples are built once per session into ``build/hosts`` (incremental;
``VSK_HOSTS_BUILD_DIR`` overrides) from the top-level ``CMakeLists.txt``
(library, samples/c_host, plugins/lv2), i.e. exactly as an engine
programmer would.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for _p in (ROOT / "sdk", ROOT / "tooling"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

HOST_RATE = 48000


def build_dir() -> Path:
    return Path(os.environ.get("VSK_HOSTS_BUILD_DIR", ROOT / "build" / "hosts"))


def build_samples() -> Path:
    """Configures and builds the top-level project (library and samples);
    returns the build dir."""
    d = build_dir()
    if shutil.which("cmake") is None:
        raise RuntimeError("cmake is not on PATH (pip install '.[dev]')")
    cache = d / "CMakeCache.txt"
    if cache.exists() and f"CMAKE_HOME_DIRECTORY:INTERNAL={ROOT}\n" not in cache.read_text():
        shutil.rmtree(d)  # configured from another source (native/ before the top level)
    gen = ["-G", "Ninja"] if shutil.which("ninja") and not (d / "CMakeCache.txt").exists() else []
    subprocess.run(["cmake", "-S", str(ROOT), "-B", str(d), *gen,
                    "-DCMAKE_BUILD_TYPE=Release", "-DVSK_BUILD_TESTS=OFF",
                    "-DVSK_BUILD_SAMPLES=ON"], check=True, capture_output=True, text=True)
    r = subprocess.run(["cmake", "--build", str(d), "--parallel", "2"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"building the samples failed:\n{r.stdout}\n{r.stderr}")
    return d


def student_bundle_bytes(voice_id: str = "test.student", tiers: Sequence[str] = ("low", "high"),
                         seed: int = 0) -> bytes:
    """The distilled-student family at the given tier presets with random
    weights (cost and structure of a real voice skin; the sound is not)."""
    import torch

    from voiceskin import format as vformat
    from voiceskin_tooling import student as st
    from voiceskin_tooling import tiers as tr
    from voiceskin_tooling.pack import tier_spec

    torch.manual_seed(seed)
    specs = []
    for name in tiers:
        s = st.Student(st.config_from_tier(tr.get_tier_preset(name)))
        specs.append(tier_spec(name, s))
    return vformat.write_bundle(vformat.BundleSpec(
        voice_id=voice_id, display_name="Student (random weights)", version="0.0.1",
        tiers=specs))


def make_voice_folder(folder: Path) -> Path:
    """``multi.vskin`` (tests/conftest.py: tiers low = identity, high = 0.5·x)
    and ``student.vskin`` (random student, tiers low and high)."""
    from conftest import build_spec
    from voiceskin.format import write_bundle

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "multi.vskin").write_bytes(write_bundle(build_spec("multi", voice_id="test.multi")))
    (folder / "student.vskin").write_bytes(student_bundle_bytes())
    return folder


def speech(seconds: float, rate: int = HOST_RATE) -> np.ndarray:
    """Real speech from data/corpus (16 kHz FLAC) resampled to ``rate``:
    one fixed training speaker (awb), so speakers added to the corpus later
    do not change what the host tests hear."""
    import soundfile as sf
    import soxr

    files = sorted((ROOT / "data" / "corpus" / "speakers" / "awb").glob("*.flac"))
    if not files:
        raise RuntimeError("no speech in data/corpus/speakers/awb")
    parts, total = [], 0
    for f in files:
        a, sr = sf.read(f, dtype="float32", always_2d=True)
        a = soxr.resample(a.mean(1), sr, rate).astype(np.float32)
        parts.append(a)
        total += len(a)
        if total >= seconds * rate:
            break
    x = np.concatenate(parts)[: int(seconds * rate)]
    return np.ascontiguousarray(x, dtype=np.float32)


def render_sdk(bundle_path: Path, x: np.ndarray, switches: Sequence[tuple[int, int]] = (),
               rate: int = HOST_RATE, tier: int = 0, mix: float = 1.0,
               block: int = 4096) -> np.ndarray:
    """Offline render through voiceskin.Voice, requesting tier ``t`` before
    frame ``f`` for each ``(f, t)`` in ``switches``. By streaming invariance
    the result does not depend on the block size."""
    import voiceskin

    b = voiceskin.Bundle.open(bundle_path)
    channels = 1 if x.ndim == 1 else x.shape[1]
    v = voiceskin.Voice(b, rate, channels, block, tier=tier, mix=mix)
    out = np.empty_like(x)
    pos = 0
    for f, t in [*sorted(switches), (len(x), -1)]:
        while pos < f:
            n = min(block, f - pos)
            v.process_into(x[pos:pos + n], out[pos:pos + n])
            pos += n
        if t >= 0:
            v.tier = t
    v.close()
    return out


def best_lag(ref: np.ndarray, y: np.ndarray, max_lag: int) -> tuple[int, float]:
    """Lag d in [-max_lag, max_lag] maximising the normalised correlation of
    y[n] with ref[n - d]; returns (d, correlation)."""
    n = min(len(ref), len(y))
    ref, y = ref[:n].astype(np.float64), y[:n].astype(np.float64)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    c = np.fft.irfft(np.fft.rfft(y, size) * np.conj(np.fft.rfft(ref, size)), size)
    lags = np.r_[0:max_lag + 1, -max_lag:0]
    vals = c[lags]
    i = int(np.argmax(vals))
    d = int(lags[i])
    return d, correlation(ref, y, d)


def correlation(ref: np.ndarray, y: np.ndarray, d: int) -> float:
    """Normalised correlation of y[n] and ref[n - d] over their overlap."""
    if d >= 0:
        a, b = ref[: len(ref) - d] if d else ref, y[d:]
    else:
        a, b = ref[-d:], y[: len(y) + d]
    n = min(len(a), len(b))
    a, b = a[:n].astype(np.float64), b[:n].astype(np.float64)
    den = np.sqrt(np.dot(a, a) * np.dot(b, b))
    return float(np.dot(a, b) / den) if den > 0 else 0.0
