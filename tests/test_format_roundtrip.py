"""voiceskin.format / voiceskin.graph: the writer follows the spec byte for
byte, the reader inverts it, the builder and writer refuse bad input with
clear messages, and the C library reads what Python wrote."""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np
import pytest
from conftest import build_spec

from voiceskin.format import (MAGIC, BundleSpec, Graph, Node, TierSpec, load_bundle,
                              read_bundle, save_bundle, write_bundle)
from voiceskin.graph import Act, GraphBuilder, Op, flops_per_step, parameter_count


def _rich_tier(name: str, hop: int, seed: int) -> TierSpec:
    """Uses every op once."""
    rng = np.random.default_rng(seed)
    b = GraphBuilder(hop)
    f = b.frame(b.input, 4 * hop)
    s = b.stft_mag(f, np.hanning(4 * hop), 4 * hop)
    h = b.act(b.linear(b.log(s, 1e-5), rng.standard_normal((16, s.size)),
                       rng.standard_normal(16)), Act.TANH)
    c = b.conv1d(h, rng.standard_normal((16, 16, 3)), np.zeros(16), 2)
    g = b.gru(c, rng.standard_normal((48, 16)), rng.standard_normal((48, 16)),
              np.zeros(48), np.zeros(48))
    p = b.pitch_yin(f, 16000, 70, 800, 0.15)
    m = b.pitch_map(p, 5.0, 0.2, 5.0, 0.2, 50, 200, 0.5)
    env = b.act(b.linear(g, rng.standard_normal((33, 16))), "exp_sigmoid")
    y = b.add(b.harmonic(m, env, 40, 16000), b.noise(env, 0xDEADBEEF))
    y = b.mul(y, b.slice(b.concat(b.frame(b.input, hop), b.input), 0, hop))
    y = b.affine(y, np.ones(hop), np.zeros(hop))
    gr, t = b.finish(y)
    return TierSpec(name, 16000, hop, 4 * hop, parameter_count(t),
                    flops_per_step(gr, t) * 16000 // hop, gr, t)


@pytest.fixture
def rich_spec() -> BundleSpec:
    return BundleSpec("demo.rich", "Rich — every op ✓", "3.14.159",
                      [_rich_tier("low", 64, 1), _rich_tier("high", 128, 2)],
                      {"scores": {"mcd": 4.2}, "note": "ünïcode"})


def _assert_same(a: BundleSpec, b: BundleSpec) -> None:
    assert (a.voice_id, a.display_name, a.version, a.qa) == \
        (b.voice_id, b.display_name, b.version, b.qa)
    assert len(a.tiers) == len(b.tiers)
    for ta, tb in zip(a.tiers, b.tiers):
        assert (ta.name, ta.model_sample_rate, ta.hop_samples, ta.latency_samples,
                ta.parameter_count, ta.flops_per_second) == \
            (tb.name, tb.model_sample_rate, tb.hop_samples, tb.latency_samples,
             tb.parameter_count, tb.flops_per_second)
        assert ta.graph == tb.graph
        assert len(ta.tensors) == len(tb.tensors)
        for x, y in zip(ta.tensors, tb.tensors):
            assert x.shape == y.shape and np.array_equal(x, y)


def test_roundtrip_every_op(rich_spec: BundleSpec) -> None:
    data = write_bundle(rich_spec)
    back = read_bundle(data)
    _assert_same(rich_spec, back)
    assert write_bundle(back) == data  # deterministic, lossless


def test_roundtrip_fixture_kinds() -> None:
    for kind in ("identity", "linear", "multi"):
        spec = build_spec(kind)
        _assert_same(spec, read_bundle(write_bundle(spec)))


def test_layout_follows_spec(rich_spec: BundleSpec) -> None:
    d = write_bundle(rich_spec)
    magic, ver, hsize, fsize, nsec, flags, table = struct.unpack_from("<8sIIQIIQ", d, 0)
    assert magic == MAGIC == b"VSKIN\x00\r\n"
    assert (ver, hsize, fsize, flags) == (1, 64, len(d), 0)
    assert d[40:64] == bytes(24)
    assert nsec == 1 + 1 + 2 + 1  # manifest, tensors, 2 graphs, qa
    assert struct.unpack_from("<I", d, len(d) - 4)[0] == zlib.crc32(d[:-4])
    secs = [struct.unpack_from("<IIQQQ", d, table + 32 * k) for k in range(nsec)]
    types = sorted((t, i) for t, i, *_ in secs)
    assert types == [(1, 0), (2, 0), (3, 0), (3, 1), (4, 0)]
    spans = sorted((off, off + size) for _, _, off, size, _ in secs)
    assert spans[0][0] >= 64 and spans[-1][1] <= len(d) - 4
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    # tensors: 64-byte aligned absolute offsets, data inside the section
    _, _, t0, tsize, _ = next(s for s in secs if s[0] == 2)
    count = struct.unpack_from("<I", d, t0)[0]
    assert count == sum(len(t.tensors) for t in rich_spec.tiers)
    for j in range(count):
        dtype, ndim, *dims, off = struct.unpack_from("<II4IQ", d, t0 + 4 + 32 * j)
        assert dtype == 1 and 1 <= ndim <= 4 and off % 64 == 0
        assert all(x == 1 for x in dims[ndim:])
        assert t0 + 4 + 32 * count <= off and off + 4 * np.prod(dims) <= t0 + tsize
    # QA is JSON
    _, _, q0, qsize, _ = next(s for s in secs if s[0] == 4)
    assert d[q0:q0 + qsize].decode("utf-8").startswith("{")


def test_const_ids_are_remapped_per_tier() -> None:
    spec = build_spec("multi")
    d = write_bundle(spec)
    # tier 1's LINEAR uses its local tensor 0 -> global id 0 + len(tier0 tensors)
    assert len(spec.tiers[0].tensors) == 0
    spec2 = BundleSpec("x", "X", "1.0.0", [spec.tiers[1], spec.tiers[1]])
    spec2.tiers = [build_spec("linear").tiers[0], build_spec("linear", hop=32).tiers[0]]
    spec2.tiers[1].name = "second"
    back = read_bundle(write_bundle(spec2))
    assert back.tiers[1].graph.nodes[1].consts == [0, 1]
    assert back.tiers[1].tensors[0].shape == (32, 32)
    assert d  # the multi bundle also writes fine


def test_shared_weight_stored_once() -> None:
    b = GraphBuilder(8)
    W = np.eye(8)
    x = b.linear(b.frame(b.input, 8), W)
    y = b.linear(x, W)
    g, t = b.finish(y)
    assert len(t) == 1 and g.nodes[1].consts == g.nodes[2].consts == [0]
    assert parameter_count(t) == 64


def test_save_is_atomic_and_loadable(tmp_path, rich_spec: BundleSpec) -> None:
    p = tmp_path / "v.vskin"
    save_bundle(rich_spec, p)
    save_bundle(rich_spec, p)  # overwrite
    assert sorted(os.listdir(tmp_path)) == ["v.vskin"]  # no temp files left
    _assert_same(rich_spec, load_bundle(p))
    bad = build_spec("identity", voice_id="BAD ID")
    with pytest.raises(ValueError):
        save_bundle(bad, p)
    assert sorted(os.listdir(tmp_path)) == ["v.vskin"]
    _assert_same(rich_spec, load_bundle(p))  # old file untouched


@pytest.mark.parametrize("field,value,msg", [
    ("voice_id", "Upper.Case", "voice_id"),
    ("voice_id", "", "voice_id"),
    ("voice_id", "x" * 65, "voice_id"),
    ("voice_id", "has space", "voice_id"),
    ("display_name", "", "display_name"),
    ("display_name", "é" * 65, "display_name"),
    ("version", "1.0", "MAJOR.MINOR.PATCH"),
    ("version", "1.0.0-beta", "MAJOR.MINOR.PATCH"),
    ("version", "1.70000.0", "0..65535"),
    ("version", "v1.0.0", "MAJOR.MINOR.PATCH"),
])
def test_writer_rejects_bad_identity(field: str, value: str, msg: str) -> None:
    spec = build_spec("identity")
    setattr(spec, field, value)
    with pytest.raises(ValueError, match=msg):
        write_bundle(spec)


def test_writer_rejects_bad_tiers() -> None:
    spec = build_spec("multi")
    spec.tiers[1].name = "low"
    with pytest.raises(ValueError, match="used twice"):
        write_bundle(spec)
    spec = build_spec("identity")
    spec.tiers[0].name = "High"
    with pytest.raises(ValueError, match="tier name"):
        write_bundle(spec)
    spec = build_spec("identity")
    spec.tiers[0].model_sample_rate = 4000
    with pytest.raises(ValueError, match="model_sample_rate"):
        write_bundle(spec)
    spec = build_spec("identity")
    spec.tiers[0].latency_samples = 10
    with pytest.raises(ValueError, match="latency_samples"):
        write_bundle(spec)
    spec = build_spec("identity")
    spec.tiers = []
    with pytest.raises(ValueError, match="tiers"):
        write_bundle(spec)
    spec = build_spec("identity")
    spec.tiers = spec.tiers * 17
    with pytest.raises(ValueError, match="tiers"):
        write_bundle(spec)
    spec = build_spec("linear")
    spec.tiers[0].tensors[0] = np.full((64, 64), np.nan, np.float32)
    with pytest.raises(ValueError, match="NaN"):
        write_bundle(spec)


def test_writer_rejects_bad_graph() -> None:
    spec = build_spec("identity")
    spec.tiers[0].graph = Graph([64, 64], 0, 1, [Node(Op.FRAME, [0], [1], [], [32], [])])
    with pytest.raises(ValueError, match="win 32 must be >= hop 64"):
        write_bundle(spec)
    spec.tiers[0].graph = Graph([64, 64], 0, 1, [Node(99, [0], [1])])
    with pytest.raises(ValueError, match="unknown op"):
        write_bundle(spec)


def test_builder_checks_eagerly() -> None:
    b = GraphBuilder(64)
    f = b.frame(b.input, 256)
    with pytest.raises(ValueError, match=r"W must have shape \(8, 256\)"):
        b.linear(f, np.zeros((8, 100)))
    with pytest.raises(ValueError, match="b must have shape"):
        b.linear(f, np.zeros((8, 256)), np.zeros(9))
    with pytest.raises(ValueError, match="power of two"):
        b.stft_mag(f, np.ones(256), 300)
    with pytest.raises(ValueError, match=r"window must have shape \(256,\)"):
        b.stft_mag(f, np.ones(255), 256)
    with pytest.raises(ValueError, match="win 32 must be >= hop 64"):
        b.frame(b.input, 32)
    with pytest.raises(ValueError, match="input size must be the hop"):
        b.frame(f, 512)
    with pytest.raises(ValueError, match="differ in size"):
        b.add(f, b.input)
    with pytest.raises(ValueError, match="outside input"):
        b.slice(f, 250, 10)
    with pytest.raises(ValueError, match="unknown activation"):
        b.act(f, "swish")
    with pytest.raises(ValueError, match="eps"):
        b.log(f, 0.0)
    with pytest.raises(ValueError, match=r"b_hh must have shape \(48,\)"):
        b.gru(f, np.zeros((48, 256)), np.zeros((48, 16)), np.zeros(48), np.zeros(47))
    with pytest.raises(ValueError, match=r"W_ih must have shape \(45, 256\)"):
        b.gru(f, np.zeros((48, 256)), np.zeros((48, 15)), np.zeros(48), np.zeros(48))
    f64 = b.frame(b.input, 64)
    with pytest.raises(ValueError, match="longer frame"):
        b.pitch_yin(f64, 16000, 50, 200)
    with pytest.raises(ValueError, match="f0 of size 1"):
        b.harmonic(f, f, 10, 16000)
    with pytest.raises(ValueError, match="NaN"):
        b.affine(f, np.full(256, np.nan), np.zeros(256))
    with pytest.raises(ValueError, match="another GraphBuilder"):
        b.act(GraphBuilder(64).input, "relu")
    with pytest.raises(TypeError, match="must be a Value"):
        b.act(3, "relu")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="output size 256 must equal the hop"):
        b.finish(f)
    with pytest.raises(ValueError, match="written by a node"):
        b.finish(b.input)
    with pytest.raises(ValueError, match="hop"):
        GraphBuilder(0)
    nb = GraphBuilder(48)  # 2*hop not a power of two
    env = nb.slice(nb.frame(nb.input, 48), 0, 9)
    with pytest.raises(ValueError, match="power of two"):
        nb.noise(env, 1)
    # a failed call adds nothing
    g, t = b.finish(b.slice(f, 0, 64))
    assert [n.op for n in g.nodes] == [Op.FRAME, Op.FRAME, Op.SLICE] and t == []


def test_flops_and_params_positive(rich_spec: BundleSpec) -> None:
    for t in rich_spec.tiers:
        assert t.parameter_count == sum(a.size for a in t.tensors) > 0
        assert t.flops_per_second > 0


def test_library_reads_python_bundle(lib, rich_spec: BundleSpec) -> None:
    from voiceskin import Bundle

    with Bundle.from_bytes(write_bundle(rich_spec)) as b:
        assert (b.voice_id, b.display_name, b.version, b.format_version) == \
            ("demo.rich", "Rich — every op ✓", "3.14.159", 1)
        assert [t.name for t in b.tiers] == ["low", "high"]
        for info, spec in zip(b.tiers, rich_spec.tiers):
            assert (info.model_sample_rate, info.hop_samples, info.latency_samples,
                    info.parameter_count, info.flops_per_second) == \
                (spec.model_sample_rate, spec.hop_samples, spec.latency_samples,
                 spec.parameter_count, spec.flops_per_second)
        assert b.find_tier("high") == 1
    assert b.closed
