"""Pure-Python writer and reader of the ``.vskin`` bundle format, version 1.

The byte layout is specified in ``docs/bundle-format.md``; this module is the
tooling's implementation of it (numpy only, no native library needed):

* :func:`write_bundle` / :func:`save_bundle` turn a :class:`BundleSpec` into
  bytes / an atomically written file, after validating names, versions and
  every graph (clear :class:`ValueError` messages).
* :func:`read_bundle` parses and validates bytes back into a
  :class:`BundleSpec`, raising :class:`BundleFormatError` whose ``name`` is
  the status the C library returns for the same defect (``VSK_ERR_CORRUPT``,
  ``VSK_ERR_CHECKSUM``, ...).

Tensors are local to a tier (a node's const ids index its tier's list); the
writer concatenates the tier lists into the single TENSORS section and remaps
const ids, the reader does the reverse (each tier gets the tensors its graph
references, in file order).
"""

from __future__ import annotations

import json
import os
import re
import struct
import tempfile
import zlib
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .opset import GraphTooLarge, Op, validate_node

__all__ = [
    "MAGIC",
    "FORMAT_VERSION",
    "MAX_FILE_SIZE",
    "STATUS_CODES",
    "Node",
    "Graph",
    "Int8Weight",
    "quantise_weight",
    "TierSpec",
    "BundleSpec",
    "BundleFormatError",
    "write_bundle",
    "save_bundle",
    "read_bundle",
    "load_bundle",
    "validate_spec",
    "parse_version",
]

MAGIC = b"VSKIN\x00\r\n"
FORMAT_VERSION = 1
HEADER_SIZE = 64
SECTION_ENTRY_SIZE = 32
TENSOR_DESC_SIZE = 32
TRAILER_SIZE = 4
ALIGN = 64
MAX_FILE_SIZE = 256 * 1024 * 1024
MAX_SECTIONS = 64
MAX_TIERS = 16
MAX_TENSORS = 65536
MAX_TENSOR_ELEMENTS = 64 * 1024 * 1024
MAX_VALUES = 4096
MAX_VALUE_SIZE = 65536
MAX_NODES = 4096
MAX_NODE_ARGS = 64

SECTION_MANIFEST = 1
SECTION_TENSORS = 2
SECTION_GRAPH = 3
SECTION_QA = 4

DTYPE_F32 = 1
DTYPE_I8 = 2
# Tensor descriptor: u32 dtype, u32 ndim, u32 dims[4], u64 offset = 32 bytes.
# (docs/bundle-format.md also lists "u32 reserved", which would make 36 bytes
# and contradicts its "32 bytes each"; the 32-byte reading is used here.)
_TDESC = "<II4IQ"

#: Status codes of the C library (native/include/voiceskin.h), by name.
STATUS_CODES: dict[str, int] = {
    "VSK_OK": 0,
    "VSK_ERR_INVALID_ARGUMENT": -1,
    "VSK_ERR_NO_MEMORY": -2,
    "VSK_ERR_IO": -3,
    "VSK_ERR_BAD_MAGIC": -4,
    "VSK_ERR_UNSUPPORTED_VERSION": -5,
    "VSK_ERR_TRUNCATED": -6,
    "VSK_ERR_CHECKSUM": -7,
    "VSK_ERR_CORRUPT": -8,
    "VSK_ERR_TOO_LARGE": -9,
    "VSK_ERR_UNSUPPORTED_OP": -10,
    "VSK_ERR_ABI_MISMATCH": -11,
    "VSK_ERR_UNSUPPORTED_RATE": -12,
    "VSK_ERR_NOT_FOUND": -13,
    "VSK_ERR_DUPLICATE": -14,
    "VSK_ERR_BUFFER_TOO_SMALL": -15,
    "VSK_ERR_BAD_STATE": -16,
    "VSK_ERR_STRUCT_TOO_NEW": -17,
    "VSK_ERR_TOO_COSTLY": -18,
}

_VOICE_ID_RE = re.compile(r"[a-z0-9._-]{1,64}")
_TIER_NAME_RE = re.compile(r"[a-z0-9_-]{1,32}")
_VERSION_RE = re.compile(r"([0-9]+)\.([0-9]+)\.([0-9]+)")


# --------------------------------------------------------------------- model


@dataclass
class Node:
    """One graph node: an op code, value ids read/written, tier-local tensor
    ids, integer and float attributes (see the op table in the spec)."""

    op: int
    inputs: list[int]
    outputs: list[int]
    consts: list[int] = field(default_factory=list)
    iattr: list[int] = field(default_factory=list)
    fattr: list[float] = field(default_factory=list)


@dataclass
class Int8Weight:
    """An int8 weight matrix (tensor dtype 2): ``q`` int8 [rows, cols] in
    [-127, 127] and ``scale`` float32 [rows], standing for
    ``q * scale[:, None]``. Only a LINEAR's W and a GRU's W_ih/W_hh may be
    int8; the runtime quantises the input vector per step with one scale
    (docs/bundle-format.md, "int8 weights")."""

    q: np.ndarray
    scale: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.q.shape)

    @property
    def ndim(self) -> int:
        return int(self.q.ndim)

    @property
    def size(self) -> int:
        return int(self.q.size)

    def dequantised(self) -> np.ndarray:
        """``q * scale`` as float32 [rows, cols]."""
        return (self.q.astype(np.float32) * self.scale.astype(np.float32)[:, None]).astype(np.float32)


def quantise_weight(w: Any) -> Int8Weight:
    """Symmetric per-row int8 quantisation of a 2-D float matrix:
    ``scale_r = max_i |w_ri| / 127``, ``q = round(w / scale)`` (half to
    even); an all-zero row gets scale 0."""
    a = np.asarray(w, dtype=np.float64)
    if a.ndim != 2 or a.size == 0 or not np.all(np.isfinite(a)):
        raise ValueError(f"quantise_weight needs a finite, non-empty 2-D matrix, got shape {a.shape}")
    m = np.max(np.abs(a), axis=1)
    scale = (m / 127.0).astype(np.float32)
    safe = np.where(scale > 0, scale.astype(np.float64), 1.0)
    q = np.clip(np.rint(a / safe[:, None]), -127, 127).astype(np.int8)
    q[scale == 0] = 0
    return Int8Weight(q, scale)


def _q8_geometry(rows: int, cols: int) -> tuple[int, int, int]:
    """(padded rows, column groups, data bytes) of an int8 tensor."""
    R, G = (rows + 7) // 8 * 8, (cols + 3) // 4
    return R, G, R * (4 * G + 4)


def _q8_bytes(w: Int8Weight) -> bytes:
    """The blocked layout: blocks of 8 rows x 4 columns (byte 4k + j of group
    g of block p = q[8p + k, 4g + j]), zero padded, then the padded rows'
    scales (0 for padding rows)."""
    rows, cols = w.shape
    R, G, _ = _q8_geometry(rows, cols)
    full = np.zeros((R, 4 * G), np.int8)
    full[:rows, :cols] = w.q
    blocks = full.reshape(R // 8, 8, G, 4).transpose(0, 2, 1, 3)
    sc = np.zeros(R, "<f4")
    sc[:rows] = w.scale
    return np.ascontiguousarray(blocks).tobytes() + sc.tobytes()


def _q8_parse(data: bytes, off: int, rows: int, cols: int, j: int) -> Int8Weight:
    R, G, nbytes = _q8_geometry(rows, cols)
    raw = np.frombuffer(data, dtype=np.int8, count=R * 4 * G, offset=off)
    full = raw.reshape(R // 8, G, 8, 4).transpose(0, 2, 1, 3).reshape(R, 4 * G)
    sc = np.frombuffer(data, dtype="<f4", count=R, offset=off + R * 4 * G)
    _corrupt(not np.any(full == -128), f"tensor {j}: int8 value -128 (allowed: -127..127)")
    _corrupt(not np.any(full[rows:]) and not np.any(full[:, cols:]),
             f"tensor {j}: nonzero int8 padding")
    _corrupt(bool(np.all(np.isfinite(sc)) and np.all(sc >= 0)),
             f"tensor {j}: int8 scales must be finite and >= 0")
    _corrupt(not np.any(sc[rows:]), f"tensor {j}: nonzero scale of a padding row")
    return Int8Weight(full[:rows, :cols].copy(), sc[:rows].astype(np.float32))


def _check_int8(w: Int8Weight, where: str) -> Int8Weight:
    q, sc = np.asarray(w.q), np.asarray(w.scale)
    if q.dtype != np.int8 or q.ndim != 2 or q.size == 0:
        raise ValueError(f"{where}: int8 weight must be a non-empty 2-D int8 array, got "
                         f"{q.dtype} {q.shape}")
    if np.any(q == -128):
        raise ValueError(f"{where}: int8 weight holds -128 (allowed: -127..127)")
    if sc.shape != (q.shape[0],):
        raise ValueError(f"{where}: int8 scales have shape {sc.shape}, need ({q.shape[0]},)")
    if not (np.all(np.isfinite(sc)) and np.all(sc >= 0)):
        raise ValueError(f"{where}: int8 scales must be finite and >= 0")
    return Int8Weight(np.ascontiguousarray(q), np.ascontiguousarray(sc, dtype=np.float32))


#: (op, const slot) pairs that may hold an int8 tensor
INT8_SLOTS = {(Op.LINEAR, 0), (Op.GRU, 0), (Op.GRU, 1)}


@dataclass
class Graph:
    """A tier's network: value sizes (floats per step), the input value
    (receives ``hop`` samples), the output value (``hop`` samples) and the
    nodes in execution order."""

    value_sizes: list[int]
    input_value: int
    output_value: int
    nodes: list[Node]


@dataclass
class TierSpec:
    """One quality tier: manifest fields, its graph and its tensors (const ids
    of the graph index into ``tensors``)."""

    name: str
    model_sample_rate: int
    hop_samples: int
    latency_samples: int
    parameter_count: int
    flops_per_second: int
    graph: Graph
    tensors: list[np.ndarray]


@dataclass
class BundleSpec:
    """A whole voice: identity, tiers (lowest quality first) and optional QA
    metadata (any JSON-serialisable dict, stored as the QA section)."""

    voice_id: str
    display_name: str
    version: str
    tiers: list[TierSpec]
    qa: dict[str, Any] | None = None


class BundleFormatError(ValueError):
    """A bundle failed to parse or validate. ``name`` is the C library's
    status name for the same failure (e.g. ``"VSK_ERR_CHECKSUM"``) and
    ``status`` its integer code."""

    def __init__(self, name: str, message: str) -> None:
        if name not in STATUS_CODES:
            raise AssertionError(f"unknown status name {name!r}")
        super().__init__(f"{name}: {message}")
        self.name = name
        self.status = STATUS_CODES[name]
        self.detail = message


# ---------------------------------------------------------------- validation


def parse_version(version: str) -> tuple[int, int, int]:
    """Parses "MAJOR.MINOR.PATCH" (each 0..65535); ValueError otherwise."""
    if not isinstance(version, str):
        raise ValueError(f"version must be a string, got {type(version).__name__}")
    m = _VERSION_RE.fullmatch(version)
    if not m:
        raise ValueError(
            f"version {version!r} is not MAJOR.MINOR.PATCH (e.g. '1.0.0')")
    parts = tuple(int(p) for p in m.groups())
    if any(p > 65535 for p in parts):
        raise ValueError(f"version {version!r}: each part must be 0..65535")
    return parts  # type: ignore[return-value]


def _check_voice_id(voice_id: str) -> None:
    if not isinstance(voice_id, str) or not _VOICE_ID_RE.fullmatch(voice_id):
        raise ValueError(
            f"voice_id {voice_id!r} must be 1..64 characters of [a-z0-9._-] "
            "(e.g. 'studio.aria')")


def _check_display_name(name: str) -> None:
    if not isinstance(name, str):
        raise ValueError("display_name must be a string")
    n = len(name.encode("utf-8"))
    if not 1 <= n <= 128:
        raise ValueError(
            f"display_name {name!r} must be 1..128 bytes of UTF-8 (is {n})")
    if "\0" in name:
        raise ValueError(f"display_name {name!r} must not contain NUL (U+0000)")


def _check_tier_name(name: str) -> None:
    if not isinstance(name, str) or not _TIER_NAME_RE.fullmatch(name):
        raise ValueError(
            f"tier name {name!r} must be 1..32 characters of [a-z0-9_-] "
            "(e.g. 'low', 'high')")


def _as_f32(t: Any, where: str) -> np.ndarray:
    a = np.asarray(t)
    if a.dtype.kind not in "fiub":
        raise ValueError(f"{where}: tensor dtype {a.dtype} is not numeric")
    a = np.ascontiguousarray(a, dtype="<f4")
    if not 1 <= a.ndim <= 4:
        raise ValueError(f"{where}: tensor must have 1..4 dimensions, has {a.ndim}")
    if a.size == 0:
        raise ValueError(f"{where}: tensor is empty (shape {a.shape})")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{where}: tensor contains NaN or Inf")
    return a


def validate_graph(graph: Graph, hop: int, tensor_shapes: list[tuple[int, ...]],
                   where: str = "graph", tensors: Sequence[np.ndarray] | None = None) -> None:
    """Checks a graph the way the C library does (structure, dataflow and
    every op's arity/attributes/sizes/const shapes, and with ``tensors`` the
    const contents an op checks, e.g. WARP's positions). Raises ValueError
    with a message naming the offending node."""
    vs = list(graph.value_sizes)
    nv = len(vs)
    if not 1 <= nv <= MAX_VALUES:
        raise ValueError(f"{where}: value count {nv} not in 1..{MAX_VALUES}")
    for i, s in enumerate(vs):
        if not 1 <= int(s) <= MAX_VALUE_SIZE:
            raise ValueError(f"{where}: value {i} size {s} not in 1..{MAX_VALUE_SIZE}")
    if not 0 <= graph.input_value < nv:
        raise ValueError(f"{where}: input_value {graph.input_value} out of range")
    if not 0 <= graph.output_value < nv:
        raise ValueError(f"{where}: output_value {graph.output_value} out of range")
    if vs[graph.input_value] != hop:
        raise ValueError(
            f"{where}: input value size {vs[graph.input_value]} != hop {hop}")
    if vs[graph.output_value] != hop:
        raise ValueError(
            f"{where}: output value size {vs[graph.output_value]} != hop {hop}")
    if not 1 <= len(graph.nodes) <= MAX_NODES:
        raise ValueError(f"{where}: node count {len(graph.nodes)} not in 1..{MAX_NODES}")
    written = [False] * nv
    written[graph.input_value] = True
    for k, n in enumerate(graph.nodes):
        nw = f"{where}: node {k}"
        for name, lst in (("inputs", n.inputs), ("outputs", n.outputs),
                          ("consts", n.consts), ("iattr", n.iattr),
                          ("fattr", n.fattr)):
            if len(lst) > MAX_NODE_ARGS:
                raise ValueError(f"{nw}: more than {MAX_NODE_ARGS} {name}")
        for v in n.inputs:
            if not 0 <= v < nv:
                raise ValueError(f"{nw}: input value {v} out of range")
            if not written[v]:
                raise ValueError(f"{nw}: reads value {v} before it is written")
        for v in n.outputs:
            if not 0 <= v < nv:
                raise ValueError(f"{nw}: output value {v} out of range")
            if written[v]:
                raise ValueError(f"{nw}: value {v} is written twice "
                                 "(or is the graph input)")
            written[v] = True
        for c in n.consts:
            if not 0 <= c < len(tensor_shapes):
                raise ValueError(f"{nw}: const tensor {c} out of range "
                                 f"({len(tensor_shapes)} tensors)")
        for a in n.iattr:
            if not -2**31 <= int(a) < 2**31:
                raise ValueError(f"{nw}: integer attribute {a} does not fit i32")
        validate_node(n.op, [vs[v] for v in n.inputs], [vs[v] for v in n.outputs],
                      [tensor_shapes[c] for c in n.consts], list(n.iattr),
                      list(n.fattr), hop, where=nw,
                      const_values=None if tensors is None else [tensors[c] for c in n.consts])
        if tensors is not None:
            for k, c in enumerate(n.consts):
                if isinstance(tensors[c], Int8Weight) and (n.op, k) not in INT8_SLOTS:
                    raise ValueError(f"{nw}: const {k} is int8, which only a LINEAR's W "
                                     "and a GRU's W_ih/W_hh may be")
    if not written[graph.output_value] or graph.output_value == graph.input_value:
        raise ValueError(f"{where}: output value {graph.output_value} is never written")


def validate_spec(spec: BundleSpec) -> None:
    """Raises ValueError (with a clear message) if ``spec`` cannot be written
    as a valid bundle."""
    _check_voice_id(spec.voice_id)
    _check_display_name(spec.display_name)
    parse_version(spec.version)
    if not 1 <= len(spec.tiers) <= MAX_TIERS:
        raise ValueError(f"a bundle needs 1..{MAX_TIERS} tiers, got {len(spec.tiers)}")
    seen: set[str] = set()
    total = 0
    for i, t in enumerate(spec.tiers):
        _check_tier_name(t.name)
        if t.name in seen:
            raise ValueError(f"tier name {t.name!r} is used twice")
        seen.add(t.name)
        w = f"tier {i} ({t.name!r})"
        if not 8000 <= int(t.model_sample_rate) <= 192000:
            raise ValueError(f"{w}: model_sample_rate {t.model_sample_rate} "
                             "not in 8000..192000")
        if not 1 <= int(t.hop_samples) <= 4096:
            raise ValueError(f"{w}: hop_samples {t.hop_samples} not in 1..4096")
        if not int(t.hop_samples) <= int(t.latency_samples) < 2**32:
            raise ValueError(f"{w}: latency_samples {t.latency_samples} must be "
                             f">= hop_samples ({t.hop_samples})")
        for fname in ("parameter_count", "flops_per_second"):
            v = int(getattr(t, fname))
            if not 0 <= v < 2**64:
                raise ValueError(f"{w}: {fname} {v} out of u64 range")
        shapes = []
        arrs = []
        for j, a in enumerate(t.tensors):
            arr = (_check_int8(a, f"{w} tensor {j}") if isinstance(a, Int8Weight)
                   else _as_f32(a, f"{w} tensor {j}"))
            shapes.append(tuple(arr.shape))
            arrs.append(arr)
            total += arr.size
        validate_graph(t.graph, int(t.hop_samples), shapes, where=w, tensors=arrs)
    if sum(len(t.tensors) for t in spec.tiers) > MAX_TENSORS:
        raise ValueError(f"more than {MAX_TENSORS} tensors in the bundle")
    if total > MAX_TENSOR_ELEMENTS:
        raise ValueError(f"{total} tensor elements exceed the limit of {MAX_TENSOR_ELEMENTS}")
    if spec.qa is not None and not isinstance(spec.qa, dict):
        raise ValueError("qa must be a dict (JSON object) or None")


# -------------------------------------------------------------------- writer


def _pack_string(s: str) -> bytes:
    b = s.encode("utf-8")
    return struct.pack("<I", len(b)) + b


def _pad_to(buf: bytearray, align: int) -> None:
    buf.extend(b"\0" * (-len(buf) % align))


def _manifest_bytes(spec: BundleSpec) -> bytes:
    out = bytearray()
    out += _pack_string(spec.voice_id)
    out += _pack_string(spec.display_name)
    out += _pack_string(spec.version)
    out += struct.pack("<I", len(spec.tiers))
    for t in spec.tiers:
        out += _pack_string(t.name)
        out += struct.pack("<IIIQQ", int(t.model_sample_rate), int(t.hop_samples),
                           int(t.latency_samples), int(t.parameter_count),
                           int(t.flops_per_second))
    return bytes(out)


def _graph_bytes(g: Graph, const_base: int) -> bytes:
    out = bytearray()
    out += struct.pack("<I", len(g.value_sizes))
    out += struct.pack(f"<{len(g.value_sizes)}I", *[int(s) for s in g.value_sizes])
    out += struct.pack("<III", int(g.input_value), int(g.output_value), len(g.nodes))
    for n in g.nodes:
        out += struct.pack("<I", int(n.op))
        for lst in (n.inputs, n.outputs):
            out += struct.pack(f"<I{len(lst)}I", len(lst), *[int(v) for v in lst])
        consts = [int(c) + const_base for c in n.consts]
        out += struct.pack(f"<I{len(consts)}I", len(consts), *consts)
        out += struct.pack(f"<I{len(n.iattr)}i", len(n.iattr), *[int(v) for v in n.iattr])
        out += struct.pack(f"<I{len(n.fattr)}f", len(n.fattr), *[float(v) for v in n.fattr])
    return bytes(out)


def write_bundle(spec: BundleSpec, *, validate: bool = True) -> bytes:
    """Serialises ``spec`` exactly per docs/bundle-format.md, validating it
    first (ValueError on any problem). ``validate=False`` skips the checks —
    only for tests that need deliberately invalid bundles."""
    if validate:
        validate_spec(spec)
    tensors: list[np.ndarray] = []
    bases: list[int] = []
    for i, t in enumerate(spec.tiers):
        bases.append(len(tensors))
        tensors.extend(a if isinstance(a, Int8Weight) else np.ascontiguousarray(a, dtype="<f4")
                       for a in t.tensors)

    payloads: list[tuple[int, int, bytes]] = [(SECTION_MANIFEST, 0, _manifest_bytes(spec))]
    for i, t in enumerate(spec.tiers):
        payloads.append((SECTION_GRAPH, i, _graph_bytes(t.graph, bases[i])))
    if spec.qa is not None:
        qa = json.dumps(spec.qa, sort_keys=True, ensure_ascii=False,
                        allow_nan=False).encode("utf-8")
        payloads.append((SECTION_QA, 0, qa))
    section_count = len(payloads) + 1  # + TENSORS

    buf = bytearray(HEADER_SIZE + SECTION_ENTRY_SIZE * section_count)
    entries: list[tuple[int, int, int, int]] = []
    for typ, idx, data in payloads:
        _pad_to(buf, 8)
        entries.append((typ, idx, len(buf), len(data)))
        buf += data

    # TENSORS: descriptors, then 64-byte aligned data.
    _pad_to(buf, ALIGN)
    tstart = len(buf)
    data_off = tstart + 4 + TENSOR_DESC_SIZE * len(tensors)
    descs = bytearray(struct.pack("<I", len(tensors)))
    offsets: list[int] = []
    blobs = [_q8_bytes(a) if isinstance(a, Int8Weight) else a.tobytes() for a in tensors]
    for a, blob in zip(tensors, blobs):
        data_off += -data_off % ALIGN
        dims = list(a.shape) + [1] * (4 - a.ndim)
        dtype = DTYPE_I8 if isinstance(a, Int8Weight) else DTYPE_F32
        descs += struct.pack(_TDESC, dtype, a.ndim, *dims, data_off)
        offsets.append(data_off)
        data_off += len(blob)
    buf += descs
    for blob, off in zip(blobs, offsets):
        _pad_to(buf, ALIGN)
        assert len(buf) == off
        buf += blob
    entries.append((SECTION_TENSORS, 0, tstart, len(buf) - tstart))
    file_size = len(buf) + TRAILER_SIZE
    if file_size > MAX_FILE_SIZE:
        raise ValueError(f"bundle would be {file_size} bytes, over the 256 MiB limit")

    struct.pack_into("<8sIIQIIQ24s", buf, 0, MAGIC, FORMAT_VERSION, HEADER_SIZE,
                     file_size, section_count, 0, HEADER_SIZE, b"\0" * 24)
    for k, (typ, idx, off, size) in enumerate(entries):
        struct.pack_into("<IIQQQ", buf, HEADER_SIZE + k * SECTION_ENTRY_SIZE,
                         typ, idx, off, size, 0)
    buf += struct.pack("<I", zlib.crc32(bytes(buf)) & 0xFFFFFFFF)
    return bytes(buf)


def save_bundle(spec: BundleSpec, path: str | os.PathLike[str]) -> None:
    """Writes ``spec`` to ``path`` atomically: a temporary file in the same
    folder is written, fsynced and renamed over ``path``."""
    data = write_bundle(spec)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".vskin-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename durable too (best effort; not on Windows)
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


# -------------------------------------------------------------------- reader


class _Cursor:
    """Bounds-checked little-endian reader over one section."""

    def __init__(self, data: bytes, start: int, end: int, what: str) -> None:
        self.data, self.pos, self.end, self.what = data, start, end, what

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise BundleFormatError("VSK_ERR_CORRUPT", f"{self.what}: runs past its section end")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def u32(self) -> int:
        return int(struct.unpack("<I", self.take(4))[0])

    def u64(self) -> int:
        return int(struct.unpack("<Q", self.take(8))[0])

    def u32s(self, n: int) -> list[int]:
        return list(struct.unpack(f"<{n}I", self.take(4 * n)))

    def i32s(self, n: int) -> list[int]:
        return list(struct.unpack(f"<{n}i", self.take(4 * n)))

    def f32s(self, n: int) -> list[float]:
        return list(struct.unpack(f"<{n}f", self.take(4 * n)))

    def string(self) -> bytes:
        return self.take(self.u32())

    def count(self, lo: int, hi: int, what: str) -> int:
        n = self.u32()
        if n > hi:
            raise BundleFormatError("VSK_ERR_TOO_LARGE", f"{self.what}: {what} {n} > {hi}")
        if n < lo:
            raise BundleFormatError("VSK_ERR_CORRUPT", f"{self.what}: {what} {n} < {lo}")
        return n


def _text(b: bytes, what: str) -> str:
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        raise BundleFormatError("VSK_ERR_CORRUPT", f"{what} is not valid UTF-8") from None


def _corrupt(check: Any, what: str) -> None:
    if not check:
        raise BundleFormatError("VSK_ERR_CORRUPT", what)


def read_bundle(data: bytes) -> BundleSpec:
    """Parses and fully validates a bundle. Raises :class:`BundleFormatError`
    (``.name`` = the C library's status name) on any defect."""
    data = bytes(data)
    size = len(data)
    if size < HEADER_SIZE + TRAILER_SIZE:
        raise BundleFormatError("VSK_ERR_TRUNCATED",
                                f"{size} bytes is shorter than the minimum 68")
    if data[:8] != MAGIC:
        raise BundleFormatError("VSK_ERR_BAD_MAGIC", "not a .vskin file (wrong magic)")
    (_, version, header_size, file_size, section_count, flags, table_off,
     reserved) = struct.unpack_from("<8sIIQIIQ24s", data, 0)
    if version != FORMAT_VERSION:
        raise BundleFormatError("VSK_ERR_UNSUPPORTED_VERSION",
                                f"format version {version} (this reader knows 1)")
    if flags != 0:
        raise BundleFormatError("VSK_ERR_UNSUPPORTED_VERSION", f"unknown flags 0x{flags:x}")
    if file_size > MAX_FILE_SIZE:
        raise BundleFormatError("VSK_ERR_TOO_LARGE", f"declared size {file_size} > 256 MiB")
    if size < file_size:
        raise BundleFormatError("VSK_ERR_TRUNCATED",
                                f"file has {size} bytes, header declares {file_size}")
    if size > file_size:
        raise BundleFormatError("VSK_ERR_CORRUPT",
                                f"file has {size} bytes, header declares {file_size}")
    crc = struct.unpack_from("<I", data, size - 4)[0]
    if zlib.crc32(data[:size - 4]) & 0xFFFFFFFF != crc:
        raise BundleFormatError("VSK_ERR_CHECKSUM", "CRC-32 mismatch (file damaged)")
    _corrupt(header_size == HEADER_SIZE, f"header_size {header_size} != 64")
    _corrupt(reserved == b"\0" * 24, "reserved header bytes are not zero")
    if section_count > MAX_SECTIONS:
        raise BundleFormatError("VSK_ERR_TOO_LARGE", f"{section_count} sections > 64")
    _corrupt(section_count >= 1, "no sections")
    body_end = size - TRAILER_SIZE
    _corrupt(HEADER_SIZE <= table_off
             and table_off + section_count * SECTION_ENTRY_SIZE <= body_end,
             "section table outside the file body")

    sections: list[tuple[int, int, int, int]] = []
    for k in range(section_count):
        typ, idx, off, sz, res = struct.unpack_from(
            "<IIQQQ", data, table_off + k * SECTION_ENTRY_SIZE)
        _corrupt(typ in (SECTION_MANIFEST, SECTION_TENSORS, SECTION_GRAPH, SECTION_QA),
                 f"section {k}: unknown type {typ}")
        _corrupt(res == 0, f"section {k}: reserved field not zero")
        _corrupt(HEADER_SIZE <= off <= body_end and sz <= body_end - off,
                 f"section {k}: [{off}, +{sz}) outside the file body")
        sections.append((typ, idx, off, sz))
    ranges = sorted([(off, off + sz) for _, _, off, sz in sections]
                    + [(table_off, table_off + section_count * SECTION_ENTRY_SIZE)])
    for (a0, a1), (b0, b1) in zip(ranges, ranges[1:]):
        _corrupt(a1 <= b0, "sections overlap")

    def only(typ: int, name: str, required: bool) -> tuple[int, int, int, int] | None:
        found = [s for s in sections if s[0] == typ]
        _corrupt(len(found) <= 1, f"more than one {name} section")
        _corrupt(found or not required, f"no {name} section")
        if found:
            _corrupt(found[0][1] == 0, f"{name} section index must be 0")
        return found[0] if found else None

    man = only(SECTION_MANIFEST, "MANIFEST", True)
    ten = only(SECTION_TENSORS, "TENSORS", True)
    qa_sec = only(SECTION_QA, "QA", False)
    assert man is not None and ten is not None

    # MANIFEST
    c = _Cursor(data, man[2], man[2] + man[3], "MANIFEST")
    voice_id = _text(c.string(), "voice_id")
    _corrupt(_VOICE_ID_RE.fullmatch(voice_id), f"bad voice_id {voice_id!r}")
    display_name = _text(c.string(), "display_name")
    _corrupt(1 <= len(display_name.encode()) <= 128, "display_name length not 1..128")
    _corrupt("\0" not in display_name, "display_name contains NUL")
    version_s = _text(c.string(), "version")
    try:
        parse_version(version_s)
    except ValueError as e:
        raise BundleFormatError("VSK_ERR_CORRUPT", str(e)) from None
    tier_count = c.count(1, MAX_TIERS, "tier_count")
    tiers_hdr = []
    names: set[str] = set()
    for i in range(tier_count):
        name = _text(c.string(), "tier name")
        _corrupt(_TIER_NAME_RE.fullmatch(name), f"bad tier name {name!r}")
        _corrupt(name not in names, f"tier name {name!r} used twice")
        names.add(name)
        rate, hop, lat, params, flops = struct.unpack("<IIIQQ", c.take(28))
        _corrupt(8000 <= rate <= 192000, f"tier {name!r}: sample rate {rate}")
        _corrupt(1 <= hop <= 4096, f"tier {name!r}: hop {hop}")
        _corrupt(lat >= hop, f"tier {name!r}: latency {lat} < hop {hop}")
        tiers_hdr.append((name, rate, hop, lat, params, flops))
    _corrupt(c.pos == c.end, "MANIFEST has trailing bytes")

    # TENSORS
    t0, t1 = ten[2], ten[2] + ten[3]
    c = _Cursor(data, t0, t1, "TENSORS")
    tcount = c.count(0, MAX_TENSORS, "tensor_count")
    desc_end = t0 + 4 + TENSOR_DESC_SIZE * tcount
    _corrupt(desc_end <= t1, "TENSORS: descriptors run past the section")
    tensors: list[np.ndarray] = []
    total = 0
    spans = []
    for j in range(tcount):
        dtype, ndim, d0, d1, d2, d3, off = struct.unpack(_TDESC, c.take(TENSOR_DESC_SIZE))
        dims = [d0, d1, d2, d3]
        _corrupt(dtype in (DTYPE_F32, DTYPE_I8), f"tensor {j}: dtype {dtype} (1 = f32, 2 = int8)")
        _corrupt(dtype == DTYPE_F32 or ndim == 2, f"tensor {j}: an int8 tensor must be 2-D")
        _corrupt(1 <= ndim <= 4, f"tensor {j}: ndim {ndim}")
        _corrupt(all(d >= 1 for d in dims), f"tensor {j}: a dim is 0")
        _corrupt(all(d == 1 for d in dims[ndim:]), f"tensor {j}: unused dims != 1")
        _corrupt(off % ALIGN == 0, f"tensor {j}: offset {off} not 64-byte aligned")
        count = 1
        for d in dims:
            count *= d
        total += count
        if total > MAX_TENSOR_ELEMENTS:
            raise BundleFormatError("VSK_ERR_TOO_LARGE", "tensor elements exceed 64 Mi")
        nbytes = _q8_geometry(d0, d1)[2] if dtype == DTYPE_I8 else 4 * count
        _corrupt(off >= desc_end and off + nbytes <= t1,
                 f"tensor {j}: data outside the TENSORS section")
        spans.append((off, off + nbytes))
        if dtype == DTYPE_I8:
            tensors.append(_q8_parse(data, off, d0, d1, j))
            continue
        arr = np.frombuffer(data, dtype="<f4", count=count, offset=off)
        tensors.append(arr.reshape(dims[:ndim]).astype(np.float32))
    shapes = [tuple(a.shape) for a in tensors]

    # GRAPHs
    graphs: dict[int, tuple[int, int, int, int]] = {}
    for s in sections:
        if s[0] == SECTION_GRAPH:
            _corrupt(s[1] < tier_count, f"GRAPH section for tier {s[1]} of {tier_count}")
            _corrupt(s[1] not in graphs, f"two GRAPH sections for tier {s[1]}")
            graphs[s[1]] = s
    _corrupt(len(graphs) == tier_count, "a tier has no GRAPH section")

    tiers: list[TierSpec] = []
    for i, (name, rate, hop, lat, params, flops) in enumerate(tiers_hdr):
        g = _parse_graph(data, graphs[i], i)
        for n in g.nodes:
            if n.op not in Op._value2member_map_:
                raise BundleFormatError("VSK_ERR_UNSUPPORTED_OP",
                                        f"tier {i}: op code {n.op} is unknown")
        try:
            validate_graph(g, hop, shapes, where=f"tier {i} ({name!r})", tensors=tensors)
        except GraphTooLarge as e:
            raise BundleFormatError("VSK_ERR_TOO_LARGE", str(e)) from None
        except ValueError as e:
            raise BundleFormatError("VSK_ERR_CORRUPT", str(e)) from None
        used = sorted({cid for n in g.nodes for cid in n.consts})
        remap = {gid: lid for lid, gid in enumerate(used)}
        for n in g.nodes:
            n.consts = [remap[cid] for cid in n.consts]
        tiers.append(TierSpec(name, rate, hop, lat, params, flops, g,
                              [tensors[gid] for gid in used]))

    qa = None
    if qa_sec is not None:
        raw = _text(data[qa_sec[2]:qa_sec[2] + qa_sec[3]], "QA section")
        try:
            qa = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            qa = {"_raw": raw}
    return BundleSpec(voice_id, display_name, version_s, tiers, qa)


def _parse_graph(data: bytes, sec: tuple[int, int, int, int], tier: int) -> Graph:
    c = _Cursor(data, sec[2], sec[2] + sec[3], f"GRAPH {tier}")
    nv = c.count(1, MAX_VALUES, "value_count")
    sizes = c.u32s(nv)
    for s in sizes:
        if s > MAX_VALUE_SIZE:
            raise BundleFormatError("VSK_ERR_TOO_LARGE", f"GRAPH {tier}: value size {s}")
        _corrupt(s >= 1, f"GRAPH {tier}: value size 0")
    inp, outp = c.u32(), c.u32()
    nn = c.count(1, MAX_NODES, "node_count")
    nodes = []
    for _ in range(nn):
        op = c.u32()
        ins = c.u32s(c.count(0, MAX_NODE_ARGS, "n_in"))
        outs = c.u32s(c.count(0, MAX_NODE_ARGS, "n_out"))
        consts = c.u32s(c.count(0, MAX_NODE_ARGS, "n_const"))
        iattr = c.i32s(c.count(0, MAX_NODE_ARGS, "n_iattr"))
        fattr = c.f32s(c.count(0, MAX_NODE_ARGS, "n_fattr"))
        nodes.append(Node(op, ins, outs, consts, iattr, fattr))
    _corrupt(c.pos == c.end, f"GRAPH {tier} has trailing bytes")
    return Graph(sizes, inp, outp, nodes)


def load_bundle(path: str | os.PathLike[str]) -> BundleSpec:
    """Reads and validates a bundle file (see :func:`read_bundle`)."""
    with open(path, "rb") as f:
        return read_bundle(f.read())
