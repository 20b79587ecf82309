"""Every bundle-open failure status is reachable from Python, reported as a
VoiceskinError with the right .name by the real library, and the pure-Python
reader (voiceskin.format.read_bundle) agrees. Plus a fuzz: random mutations
and truncations always give a clean VoiceskinError (or a valid bundle),
never a crash."""

from __future__ import annotations

import random
import struct
from typing import Callable

import numpy as np
import pytest
from conftest import build_spec, fix_crc

from voiceskin.format import (BundleFormatError, BundleSpec, Graph, Node, read_bundle,
                              write_bundle)
from voiceskin.graph import Op

pytestmark = pytest.mark.usefixtures("lib")


def _sections(data: bytes) -> list[tuple[int, int, int, int, int]]:
    """(table entry position, type, index, offset, size) per section."""
    count = struct.unpack_from("<I", data, 24)[0]
    table = struct.unpack_from("<Q", data, 32)[0]
    out = []
    for k in range(count):
        pos = table + 32 * k
        typ, idx, off, size = struct.unpack_from("<IIQQ", data, pos)
        out.append((pos, typ, idx, off, size))
    return out


def _section(data: bytes, typ: int) -> tuple[int, int, int, int, int]:
    return next(s for s in _sections(data) if s[1] == typ)


def _open_status(data: bytes) -> str | None:
    from voiceskin import Bundle, VoiceskinError

    try:
        Bundle.from_bytes(data).close()
    except VoiceskinError as e:
        return e.name
    return None


def _py_status(data: bytes) -> str | None:
    try:
        read_bundle(data)
    except BundleFormatError as e:
        return e.name
    return None


def _put(data: bytes, pos: int, fmt: str, *values: int) -> bytes:
    b = bytearray(data)
    struct.pack_into(fmt, b, pos, *values)
    return bytes(b)


def _replace_once(data: bytes, old: bytes, new: bytes) -> bytes:
    assert len(old) == len(new) and data.count(old) >= 1
    return data.replace(old, new, 1)


def _bad_graph(nodes: list[Node], sizes: list[int], out: int,
               tensors: list[np.ndarray] | None = None) -> bytes:
    spec = build_spec("identity")
    t = spec.tiers[0]
    t.graph = Graph(sizes, 0, out, nodes)
    t.tensors = [np.eye(64, dtype=np.float32)] if tensors is None else tensors
    return write_bundle(spec, validate=False)


HOP = 64


# Each case: a function of the valid identity bundle -> mutated bytes.
CASES: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "too_short": ("VSK_ERR_TRUNCATED", lambda d: d[:67]),
    "empty": ("VSK_ERR_TRUNCATED", lambda d: b""),
    "shorter_than_declared": ("VSK_ERR_TRUNCATED", lambda d: d[:-1]),
    "bad_magic": ("VSK_ERR_BAD_MAGIC", lambda d: b"VSKIX" + d[5:]),
    "not_a_bundle": ("VSK_ERR_BAD_MAGIC", lambda d: b"RIFF" + bytes(200)),
    "unknown_version": ("VSK_ERR_UNSUPPORTED_VERSION",
                        lambda d: fix_crc(_put(d, 8, "<I", 2))),
    "nonzero_flags": ("VSK_ERR_UNSUPPORTED_VERSION",
                      lambda d: fix_crc(_put(d, 28, "<I", 1))),
    "declared_too_large": ("VSK_ERR_TOO_LARGE",
                           lambda d: _put(d, 16, "<Q", 256 * 1024 * 1024 + 1)),
    "longer_than_declared": ("VSK_ERR_CORRUPT", lambda d: d + b"\0\0\0\0"),
    "checksum_data": ("VSK_ERR_CHECKSUM", lambda d: d[:-20] + bytes([d[-20] ^ 1]) + d[-19:]),
    "checksum_trailer": ("VSK_ERR_CHECKSUM", lambda d: d[:-1] + bytes([d[-1] ^ 0x80])),
    "section_outside_file": ("VSK_ERR_CORRUPT", lambda d: fix_crc(
        _put(d, _section(d, 3)[0] + 8, "<Q", len(d) + 100))),
    "section_into_trailer": ("VSK_ERR_CORRUPT", lambda d: fix_crc(
        _put(d, _section(d, 2)[0] + 16, "<Q", _section(d, 2)[4] + 4))),
    "section_in_header": ("VSK_ERR_CORRUPT", lambda d: fix_crc(
        _put(d, _section(d, 1)[0] + 8, "<Q", 8))),
    "sections_overlap": ("VSK_ERR_CORRUPT", lambda d: fix_crc(
        _put(d, _section(d, 3)[0] + 8, "<QQ", _section(d, 1)[3], _section(d, 1)[4]))),
    "unknown_section_type": ("VSK_ERR_CORRUPT", lambda d: fix_crc(
        _put(d, _section(d, 3)[0], "<I", 9))),
    "no_manifest": ("VSK_ERR_CORRUPT", lambda d: fix_crc(
        _put(d, _section(d, 1)[0], "<I", 3))),
    "two_tensor_sections": ("VSK_ERR_CORRUPT", lambda d: fix_crc(
        _put(d, _section(d, 3)[0], "<I", 2))),
    "too_many_sections": ("VSK_ERR_TOO_LARGE", lambda d: fix_crc(_put(d, 24, "<I", 65))),
    "bad_voice_id": ("VSK_ERR_CORRUPT", lambda d: fix_crc(
        _replace_once(d, b"test.voice", b"Test.Voice"))),
    "bad_tier_name": ("VSK_ERR_CORRUPT", lambda d: fix_crc(
        _replace_once(d, b"\x04\0\0\0base", b"\x04\0\0\0ba e"))),
    "bad_version_string": ("VSK_ERR_CORRUPT", lambda d: fix_crc(
        _replace_once(d, b"1.0.0", b"1.0.x"))),
    "manifest_trailing_bytes": ("VSK_ERR_CORRUPT", lambda d: fix_crc(
        _put(d, _section(d, 1)[0] + 16, "<Q", _section(d, 1)[4] - 1))),
    "tensor_misaligned": ("VSK_ERR_CORRUPT", lambda d: d),  # replaced below
    "graph_wrong_shape": ("VSK_ERR_CORRUPT", lambda d: _bad_graph(
        [Node(Op.FRAME, [0], [1], [], [HOP], []),
         Node(Op.LINEAR, [1], [2], [0], [], [])], [HOP, HOP, HOP // 2], 2)),
    "graph_value_written_twice": ("VSK_ERR_CORRUPT", lambda d: _bad_graph(
        [Node(Op.FRAME, [0], [1], [], [HOP], []),
         Node(Op.FRAME, [0], [1], [], [HOP], [])], [HOP, HOP], 1)),
    "graph_writes_input": ("VSK_ERR_CORRUPT", lambda d: _bad_graph(
        [Node(Op.FRAME, [0], [0], [], [HOP], [])], [HOP], 0)),
    "graph_read_before_write": ("VSK_ERR_CORRUPT", lambda d: _bad_graph(
        [Node(Op.ACT, [2], [1], [], [0], []),
         Node(Op.FRAME, [0], [2], [], [HOP], [])], [HOP, HOP, HOP], 1)),
    "graph_output_never_written": ("VSK_ERR_CORRUPT", lambda d: _bad_graph(
        [Node(Op.FRAME, [0], [1], [], [HOP], [])], [HOP, HOP, HOP], 2)),
    "graph_bad_const_id": ("VSK_ERR_CORRUPT", lambda d: _bad_graph(
        [Node(Op.FRAME, [0], [1], [], [HOP], []),
         Node(Op.LINEAR, [1], [2], [5], [], [])], [HOP, HOP, HOP], 2)),
    "graph_bad_attr": ("VSK_ERR_CORRUPT", lambda d: _bad_graph(
        [Node(Op.FRAME, [0], [1], [], [HOP], []),
         Node(Op.ACT, [1], [2], [], [42], [])], [HOP, HOP, HOP], 2)),
    "graph_conv_history_too_large": ("VSK_ERR_TOO_LARGE", lambda d: _bad_graph(
        [Node(Op.FRAME, [0], [1], [], [HOP], []),
         Node(Op.CONV1D, [1], [2], [0, 1], [(1 << 18) + 1], [])], [HOP, HOP, HOP], 2,
        [np.zeros((HOP, HOP, 2), np.float32), np.zeros(HOP, np.float32)])),
    "graph_stft_too_long": ("VSK_ERR_CORRUPT", lambda d: _bad_graph(
        [Node(Op.FRAME, [0], [1], [], [HOP], []),
         Node(Op.STFT_MAG, [1], [2], [0], [131072], []),
         Node(Op.SLICE, [2], [3], [], [0, HOP], [])], [HOP, HOP, 65536, HOP], 3,
        [np.ones(HOP, np.float32)])),
    "graph_value_size_too_large": ("VSK_ERR_TOO_LARGE", lambda d: _bad_graph(
        [Node(Op.FRAME, [0], [1], [], [HOP], [])], [HOP, HOP, 65537], 1)),
    "graph_nan_attribute": ("VSK_ERR_CORRUPT", lambda d: _bad_graph(
        [Node(Op.FRAME, [0], [1], [], [HOP], []),
         Node(Op.LOG, [1], [2], [], [], [float("nan")])], [HOP, HOP, HOP], 2)),
    "unknown_op": ("VSK_ERR_UNSUPPORTED_OP", lambda d: _bad_graph(
        [Node(Op.FRAME, [0], [1], [], [HOP], []),
         Node(200, [1], [2], [], [], [])], [HOP, HOP, HOP], 2)),
}


def _misaligned(d: bytes) -> bytes:
    spec = build_spec("linear")
    good = write_bundle(spec)
    tpos = _section(good, 2)[3]
    # first descriptor's offset field is at tpos + 4 + 24
    off = struct.unpack_from("<Q", good, tpos + 28)[0]
    return fix_crc(_put(good, tpos + 28, "<Q", off + 4))


CASES["tensor_misaligned"] = ("VSK_ERR_CORRUPT", _misaligned)


def _tensor_outside(d: bytes) -> bytes:
    good = write_bundle(build_spec("linear"))
    tpos = _section(good, 2)[3]
    return fix_crc(_put(good, tpos + 28, "<Q", len(good) + 64 - len(good) % 64))


CASES["tensor_outside_section"] = ("VSK_ERR_CORRUPT", _tensor_outside)


def _tensor_bad_dtype(d: bytes) -> bytes:
    good = write_bundle(build_spec("linear"))  # 1 = f32, 2 = int8; 3 is unknown
    return fix_crc(_put(good, _section(good, 2)[3] + 4, "<I", 3))


CASES["tensor_bad_dtype"] = ("VSK_ERR_CORRUPT", _tensor_bad_dtype)


@pytest.mark.parametrize("case", sorted(CASES))
def test_status_from_library(case: str, identity_bytes: bytes) -> None:
    want, mutate = CASES[case]
    data = mutate(identity_bytes)
    assert _open_status(data) == want


@pytest.mark.parametrize("case", sorted(CASES))
def test_python_reader_agrees(case: str, identity_bytes: bytes) -> None:
    want, mutate = CASES[case]
    assert _py_status(mutate(identity_bytes)) == want


def test_valid_bundles_open(identity_bytes: bytes, linear_bytes: bytes,
                            multi_bytes: bytes) -> None:
    for d in (identity_bytes, linear_bytes, multi_bytes):
        assert _open_status(d) is None
        assert _py_status(d) is None


def test_missing_file_is_io(tmp_path) -> None:
    from voiceskin import Bundle, VoiceskinError

    with pytest.raises(VoiceskinError) as ei:
        Bundle.open(tmp_path / "nope.vskin")
    assert ei.value.name == "VSK_ERR_IO"
    assert ei.value.status == -3
    assert "nope.vskin" in str(ei.value)


def test_directory_is_io(tmp_path) -> None:
    from voiceskin import Bundle, VoiceskinError

    with pytest.raises(VoiceskinError) as ei:
        Bundle.open(tmp_path)
    assert ei.value.name == "VSK_ERR_IO"


def test_file_errors_match_memory_errors(write_file) -> None:
    from voiceskin import Bundle, VoiceskinError

    good = write_bundle(build_spec("identity"))
    for case in ("too_short", "bad_magic", "checksum_data", "unknown_op"):
        want, mutate = CASES[case]
        p = write_file(mutate(good), f"{case}.vskin")
        with pytest.raises(VoiceskinError) as ei:
            Bundle.open(p)
        assert ei.value.name == want


def test_error_message_is_actionable(identity_bytes: bytes) -> None:
    from voiceskin import Bundle, VoiceskinError

    with pytest.raises(VoiceskinError) as ei:
        Bundle.from_bytes(identity_bytes[:-1] + bytes([identity_bytes[-1] ^ 1]))
    e = ei.value
    assert e.name == "VSK_ERR_CHECKSUM" and e.status == -7
    assert e.description and e.description in str(e)
    assert e.hint and e.hint in str(e)


def _fuzz_inputs(seed: int, base: bytes, n: int) -> list[bytes]:
    rng = random.Random(seed)
    t_off = _section(base, 2)[3]
    struct_end = t_off + 4 + 32 * struct.unpack_from("<I", base, t_off)[0]
    out = []
    for _ in range(n):
        r = rng.random()
        b = bytearray(base)
        if r < 0.25:
            out.append(bytes(b[:rng.randrange(len(b))]))
            continue
        for _ in range(rng.randint(1, 4)):
            # mostly hit the structure (header, table, manifest, graphs,
            # tensor descriptors) rather than the weights
            pos = rng.randrange(4, struct_end if rng.random() < 0.85 else len(b) - 4)
            kind = rng.random()
            if kind < 0.5:
                b[pos] ^= 1 << rng.randrange(8)
            elif kind < 0.8:
                b[pos] = rng.choice([0, 0xFF, 0x7F, 0x80, 1, 64])
            else:
                val = rng.choice([0, 1, 0xFFFFFFFF, 0x80000000, 64, 4096, 65536, len(b)])
                struct.pack_into("<I", b, pos - pos % 4, val)
        # mostly keep the CRC valid so the structure checks get exercised
        out.append(fix_crc(b) if r < 0.9 else bytes(b))
    return out


@pytest.mark.parametrize("kind", ["identity", "linear", "multi"])
def test_fuzz_never_crashes(kind: str) -> None:
    from voiceskin import Bundle, VoiceskinError

    base = write_bundle(build_spec(kind, qa={"note": "fuzz"}))
    seen: dict[str, int] = {}
    mismatches = []
    for k, data in enumerate(_fuzz_inputs(1234 + len(kind), base, 300)):
        try:
            b = Bundle.from_bytes(data)
            _ = (b.voice_id, b.tiers)
            b.close()
            name = "ok"
        except VoiceskinError as e:
            assert e.name.startswith("VSK_ERR_"), e
            name = e.name
        seen[name] = seen.get(name, 0) + 1
        # The Python reader must report the same status.
        py = _py_status(data) or "ok"
        if py != name:
            mismatches.append((k, name, py))
    assert "VSK_ERR_CORRUPT" in seen and "VSK_ERR_TRUNCATED" in seen, seen
    assert not mismatches, f"C and Python readers disagree: {mismatches[:10]}"


def test_spec_unchanged_by_failed_open(identity_bytes: bytes) -> None:
    spec: BundleSpec = read_bundle(identity_bytes)
    assert spec.voice_id == "test.voice"
