"""Shared pytest fixtures: small valid bundles and the native library.

Bundles (all built with voiceskin.graph.GraphBuilder, model rate 16 kHz):

* ``identity``  — one tier "base": FRAME(win = hop) → output. Output equals
                  input (delayed by the voice latency).
* ``linear``    — one tier "base": FRAME(win = hop) → LINEAR(W = gain·I, b = 0).
                  Output = gain · input.
* ``multi``     — tiers "low" (identity, hop 64) and "high" (linear gain 0.5,
                  hop 128), lowest quality first.

Fixtures:

* ``make_spec(kind="identity", **kw)`` → BundleSpec. Keywords: voice_id,
  version, display_name, hop, rate, gain (linear), qa.
* ``make_bytes(kind="identity", **kw)`` → bytes of that bundle.
* ``write_file(data_or_spec, name="x.vskin", folder=None)`` → pathlib.Path
  under ``tmp_path`` (or ``folder``).
* ``identity_bytes``, ``linear_bytes``, ``multi_bytes`` — the defaults.
* ``lib`` — the loaded cffi library. If libvoiceskin cannot be found the test
  *fails* (set VOICESKIN_ALLOW_NO_LIBRARY=1 to skip instead, e.g. while the C
  library is not built yet).
* ``fix_crc(data)`` (plain function, import with ``from conftest import
  fix_crc``) — recomputes the trailer so a structural mutation is not caught
  as a checksum error.
"""

from __future__ import annotations

import os
import struct
import sys
import zlib
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

_ROOT = Path(__file__).resolve().parents[1]
for _p in (_ROOT / "sdk", _ROOT / "tooling"):
    if str(_p) not in sys.path:  # works without `pip install -e .` too
        sys.path.insert(0, str(_p))

from voiceskin.format import BundleSpec, TierSpec, write_bundle  # noqa: E402
from voiceskin.graph import GraphBuilder, flops_per_step, parameter_count  # noqa: E402

RATE = 16000


def identity_tier(name: str = "base", hop: int = 64, rate: int = RATE) -> TierSpec:
    """A tier whose graph is FRAME(win = hop): output = input."""
    b = GraphBuilder(hop)
    y = b.frame(b.input, hop)
    g, t = b.finish(y)
    return TierSpec(name, rate, hop, hop, parameter_count(t),
                    flops_per_step(g, t) * rate // hop, g, t)


def linear_tier(name: str = "base", hop: int = 64, gain: float = 0.5,
                rate: int = RATE) -> TierSpec:
    """A tier: FRAME(win = hop) → LINEAR(gain·I, 0): output = gain · input."""
    b = GraphBuilder(hop)
    f = b.frame(b.input, hop)
    y = b.linear(f, gain * np.eye(hop, dtype=np.float32), np.zeros(hop, np.float32))
    g, t = b.finish(y)
    return TierSpec(name, rate, hop, hop, parameter_count(t),
                    flops_per_step(g, t) * rate // hop, g, t)


def build_spec(kind: str = "identity", voice_id: str = "test.voice",
               version: str = "1.0.0", display_name: str = "Test Voice",
               hop: int = 64, rate: int = RATE, gain: float = 0.5,
               qa: dict[str, Any] | None = None) -> BundleSpec:
    if kind == "identity":
        tiers = [identity_tier("base", hop, rate)]
    elif kind == "linear":
        tiers = [linear_tier("base", hop, gain, rate)]
    elif kind == "multi":
        tiers = [identity_tier("low", hop, rate), linear_tier("high", 2 * hop, gain, rate)]
    else:
        raise ValueError(f"unknown bundle kind {kind!r}")
    return BundleSpec(voice_id, display_name, version, tiers, qa)


def fix_crc(data: bytes | bytearray) -> bytes:
    """Rewrites the CRC-32 trailer of ``data`` (whose length is kept)."""
    b = bytearray(data)
    struct.pack_into("<I", b, len(b) - 4, zlib.crc32(bytes(b[:-4])) & 0xFFFFFFFF)
    return bytes(b)


@pytest.fixture
def make_spec() -> Callable[..., BundleSpec]:
    return build_spec


@pytest.fixture
def make_bytes() -> Callable[..., bytes]:
    return lambda kind="identity", **kw: write_bundle(build_spec(kind, **kw))


@pytest.fixture
def identity_bytes() -> bytes:
    return write_bundle(build_spec("identity"))


@pytest.fixture
def linear_bytes() -> bytes:
    return write_bundle(build_spec("linear"))


@pytest.fixture
def multi_bytes() -> bytes:
    return write_bundle(build_spec("multi"))


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[..., Path]:
    def _write(data: bytes | BundleSpec, name: str = "x.vskin",
               folder: Path | None = None) -> Path:
        if isinstance(data, BundleSpec):
            data = write_bundle(data)
        d = Path(folder) if folder is not None else tmp_path
        d.mkdir(parents=True, exist_ok=True)
        p = d / name
        p.write_bytes(data)
        return p

    return _write


@pytest.fixture(scope="session")
def lib() -> Any:
    from voiceskin._ffi import LibraryNotFoundError, get_lib

    try:
        return get_lib()
    except LibraryNotFoundError as e:
        if os.environ.get("VOICESKIN_ALLOW_NO_LIBRARY") == "1":
            pytest.skip(f"libvoiceskin not available: {e}")
        pytest.fail(f"libvoiceskin not available: {e}")


# ------------------------------------------------------------- strict skips
# In CI (CI=true, as .ci/run is run) or with VOICESKIN_STRICT=1, a skipped
# test is a failure, and so is a module skipped at collection (a module-level
# pytest.importorskip): every tool a test needs is installed by
# scripts/setup.sh, so a skip there means a missing install step, not an
# optional feature. Locally, skips stay skips (with their reason shown by -ra).
# The hooks live in tests/strict_skips.py (tested by test_strict_skips.py).
from strict_skips import pytest_make_collect_report, pytest_runtest_makereport  # noqa: E402,F401
