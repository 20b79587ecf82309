"""int8 weights (bundle tensor dtype 2, docs/bundle-format.md "int8 weights").

* The writer's blocked layout and the reader's parse round-trip, byte for
  byte where the spec fixes the bytes.
* LINEAR and GRU with int8 weights through the real library (cffi) match
  the reference interpreter's int8 semantics (refgraph → ops.matvec_q8 /
  ops.gru_q8), and the whole demo-like student with its quantised weights
  matches it too.
* Malformed int8 tensors are refused by the C library (VSK_ERR_CORRUPT) and
  by the Python reader with the same status name.
* The tier setting ``weights = "int8"`` packs int8 tiers.
"""
from __future__ import annotations

import dataclasses
import struct

import numpy as np
import pytest

from voiceskin.format import (BundleFormatError, BundleSpec, Int8Weight, TierSpec,
                              quantise_weight, read_bundle, write_bundle)
from voiceskin.graph import flops_per_step, parameter_count

from conftest import fix_crc
from test_ops_conformance import W, Builder, finish, gru_graph, noise_signal, ref_graph, run_c

from voiceskin_tooling.quantise import int8_candidates

RATE = 16000
#: C vs the reference's int8 semantics. Both quantise the same float32
#: inputs identically, so the outputs differ by the final float rounding,
#: except when an input the two compute in different float rounding (the
#: GRU's h: float32 SIMD gates against float64) lands within ~1e-7 of a
#: quantisation boundary and rounds to the neighbouring level, which moves
#: one product by |w|·s_w·s_x (~1e-5 here).
TOL = 1e-4


def _quantised(g, t, min_rows: int = 1) -> list:
    t = list(t)
    for c in int8_candidates(g, t, min_rows=min_rows):
        t[c] = quantise_weight(t[c])
    return t


def _spec(g, t, hop: int) -> BundleSpec:
    tier = TierSpec("base", RATE, hop, hop, parameter_count(t),
                    flops_per_step(g, t) * RATE // hop, g, t)
    return BundleSpec("test.int8", "int8", "1.0.0", [tier])


def _int8_linear_graph(rows: int = 13, cols: int = 91, hop: int = 37):
    b = Builder(hop)
    f = b.frame(b.input, cols)
    y = b.linear(b.linear(f, W((rows, cols), 6)), W((hop, rows), 7), W((hop,), 8, 0.1))
    g, t = finish(b, y)
    return g, _quantised(g, t), hop


# ------------------------------------------------------------------ format


def test_quantise_weight_rows_and_zero_row():
    w = np.array([[0.5, -1.0, 0.25], [0.0, 0.0, 0.0], [3.0, 1.5, -0.01]], np.float32)
    q = quantise_weight(w)
    assert q.q.dtype == np.int8 and q.shape == (3, 3)
    np.testing.assert_array_equal(q.q[0], [64, -127, 32])      # 63.5 → 64 (half to even)
    np.testing.assert_array_equal(q.q[1], [0, 0, 0])
    assert q.scale[1] == 0.0
    assert q.scale[0] == np.float32(1.0 / 127)
    assert np.max(np.abs(q.dequantised() - w)) <= np.max(q.scale) / 2 + 1e-7


def test_blocked_layout_bytes_and_roundtrip():
    rows, cols = 9, 5                      # 2 blocks of 8 rows, 2 groups of 4 columns
    q = (np.arange(rows * cols).reshape(rows, cols) % 250 - 125).astype(np.int8)
    sc = np.linspace(0.01, 0.09, rows).astype(np.float32)
    hop = 5
    b = Builder(hop)
    f = b.frame(b.input, cols)
    y = b.linear(b.linear(f, W((rows, cols), 1)), W((hop, rows), 2))
    g, t = finish(b, y)
    lin = next(n for n in g.nodes if n.op == 3 and g.value_sizes[n.outputs[0]] == rows)
    t[lin.consts[0]] = Int8Weight(q, sc)
    blob = write_bundle(_spec(g, t, hop))
    # find the int8 descriptor and check the spec's byte layout
    tstart = _tensor_section(blob)
    count = struct.unpack_from("<I", blob, tstart)[0]
    descs = [struct.unpack_from("<II4IQ", blob, tstart + 4 + 32 * j) for j in range(count)]
    d = next(d for d in descs if d[0] == 2)
    assert d[1:4] == (2, rows, cols)
    off = d[6]
    G = 2
    for r in range(rows):
        for c in range(cols):
            assert struct.unpack_from("<b", blob, off + ((r // 8) * G + c // 4) * 32 + (r % 8) * 4 + c % 4)[0] == q[r, c]
    scales = np.frombuffer(blob, "<f4", 16, off + 16 * G * 4)
    np.testing.assert_array_equal(scales[:rows], sc)
    assert not scales[rows:].any()
    back = read_bundle(blob).tiers[0].tensors
    w8 = next(a for a in back if isinstance(a, Int8Weight))
    np.testing.assert_array_equal(w8.q, q)
    np.testing.assert_array_equal(w8.scale, sc)


def _tensor_section(blob: bytes) -> int:
    n = struct.unpack_from("<I", blob, 24)[0]
    for k in range(n):
        typ, _, off, _ = struct.unpack_from("<IIQQ", blob, 64 + 32 * k)
        if typ == 2:
            return off
    raise AssertionError("no TENSORS section")


# ----------------------------------------------------- C against the reference


def test_int8_linear_matches_reference():
    g, t, hop = _int8_linear_graph()
    assert sum(isinstance(a, Int8Weight) for a in t) == 2
    x = noise_signal(hop * 120, 9)
    got, ref = run_c(g, t, x, hop), ref_graph(g, t, x)
    err = float(np.max(np.abs(got - ref)))
    assert err <= TOL, f"max abs error {err:.3g}"


def test_int8_gru_matches_reference_and_float_closely():
    b, y, x = gru_graph()
    hop = b.hop
    g, tf = finish(b, y)
    t = _quantised(g, tf)
    gru = next(n for n in g.nodes if n.op == 7)
    assert isinstance(t[gru.consts[0]], Int8Weight) and isinstance(t[gru.consts[1]], Int8Weight)
    got, ref = run_c(g, t, x, hop), ref_graph(g, t, x)
    err = float(np.max(np.abs(got - ref)))
    assert err <= TOL, f"int8 GRU: C vs reference max abs error {err:.3g}"
    # the quantisation itself: the int8 GRU's hidden state (in [-1, 1]) stays
    # near the float GRU's
    flt = run_c(g, tf, x, hop)
    dq = float(np.max(np.abs(got - flt)))
    assert 1e-4 < dq < 0.05, f"int8 vs float GRU max abs difference {dq:.3g}"


def test_int8_student_graph_matches_reference():
    """A student graph (FRAME…GRU…HARMONIC+NOISE, random weights) packed
    with ``weights = "int8"``: C through cffi against the reference
    interpreter on real speech, with the bound the float student test uses
    (HARMONIC's phase integrates f0: tests/test_student_graph.py)."""
    from test_student_graph import _speech, _student
    from voiceskin import Bundle, Voice
    from voiceskin_tooling.pack import tier_spec
    from voiceskin_tooling.refgraph import run_graph

    st = _student(lookahead=128, warp_grid=7)
    D = st.cfg.lookahead           # the voice removes the lookahead; the graph output has it
    spec = tier_spec("t", st, weights="int8")
    assert sum(isinstance(a, Int8Weight) for a in spec.tensors) >= 6
    x = _speech("rms")
    ref = run_graph(spec.graph, spec.tensors, x).astype(np.float32)[D:]
    peak = float(np.max(np.abs(ref)))
    assert peak > 1e-3
    data = write_bundle(BundleSpec("t.int8", "t", "0.0.1", [spec]))
    with Bundle.from_bytes(data) as b:
        v = Voice(b, sample_rate=RATE, max_block=64, tier=0)
        y = v.process(np.concatenate([x, np.zeros(v.latency, np.float32)]))[v.latency:]
    err = float(np.max(np.abs(y[: len(ref)] - ref)))
    assert err < 0.02 * peak, f"int8 student: C vs reference {err:.3g} (peak {peak:.3g})"


def test_int8_process_allocates_nothing(lib, tmp_path):
    """The int8 path (input quantisation into node state) allocates nothing
    on the audio path: tests/test_voice_stream.py's malloc-shim proof on a
    bundle with an int8 LINEAR tier and an int8 GRU tier."""
    from test_voice_stream import count_process_allocations

    g1, t1, hop1 = _int8_linear_graph()
    b, y, _ = gru_graph()
    g2, t2 = finish(b, y)
    t2 = _quantised(g2, t2)
    tiers = [dataclasses.replace(_spec(g1, t1, hop1).tiers[0], name="low"),
             dataclasses.replace(_spec(g2, t2, b.hop).tiers[0], name="high")]
    assert sum(isinstance(a, Int8Weight) for tr in tiers for a in tr.tensors) == 4
    res = count_process_allocations(BundleSpec("test.alloc8", "Alloc", "1.0.0", tiers), tmp_path)
    assert res["during_process"] == 0, (
        f"{res['during_process']} allocation calls in {res['frames']} frames")


# ------------------------------------------------------------ malformed int8


def _int8_blob():
    g, t, hop = _int8_linear_graph(rows=13, cols=91)
    blob = bytearray(write_bundle(_spec(g, t, hop)))
    tstart = _tensor_section(bytes(blob))
    count = struct.unpack_from("<I", blob, tstart)[0]
    j = next(j for j in range(count) if struct.unpack_from("<I", blob, tstart + 4 + 32 * j)[0] == 2)
    d = struct.unpack_from("<II4IQ", blob, tstart + 4 + 32 * j)
    return blob, tstart + 4 + 32 * j, d


def _corrupt(kind: str) -> bytes:
    blob, dpos, d = _int8_blob()
    rows, cols, off = d[2], d[3], d[6]
    G, R = (cols + 3) // 4, (rows + 7) // 8 * 8
    sc = off + R * 4 * G
    if kind == "minus128":
        blob[off] = 0x80
    elif kind == "pad_value":              # column cols (padding) of row 0
        blob[off + (cols // 4) * 32 + cols % 4] = 1
    elif kind == "pad_row_value":          # row 15 (padding) of block 1
        blob[off + (1 * G) * 32 + 7 * 4] = 1
    elif kind == "nan_scale":
        struct.pack_into("<f", blob, sc + 4, float("nan"))
    elif kind == "inf_scale":
        struct.pack_into("<f", blob, sc, float("inf"))
    elif kind == "negative_scale":
        struct.pack_into("<f", blob, sc + 8, -0.5)
    elif kind == "pad_scale":
        struct.pack_into("<f", blob, sc + 4 * rows, 0.5)
    elif kind == "ndim1":
        struct.pack_into("<I", blob, dpos + 4, 1)
        struct.pack_into("<I", blob, dpos + 12, 1)
    elif kind == "unknown_dtype":
        struct.pack_into("<I", blob, dpos, 3)
    elif kind == "too_big":                # dims claim more rows than the data holds
        struct.pack_into("<I", blob, dpos + 8, 1000)
    elif kind == "as_affine_scale":        # int8 where an op wants float
        return _int8_in_wrong_slot()
    return fix_crc(blob)


def _int8_in_wrong_slot() -> bytes:
    """A LINEAR whose bias (a float slot) is an int8 tensor."""
    hop = 16
    b = Builder(hop)
    f = b.frame(b.input, hop)
    y = b.linear(f, W((hop, hop), 5), W((hop,), 6, 0.1))
    g, t = finish(b, y)
    lin = next(n for n in g.nodes if n.op == 3 and len(n.consts) == 2)
    t[lin.consts[1]] = quantise_weight(np.asarray(t[lin.consts[1]]).reshape(1, -1))
    return write_bundle(_spec(g, t, hop), validate=False)


KINDS = ["minus128", "pad_value", "pad_row_value", "nan_scale", "inf_scale", "negative_scale",
         "pad_scale", "ndim1", "unknown_dtype", "too_big", "as_affine_scale"]


@pytest.mark.parametrize("kind", KINDS)
def test_malformed_int8_refused(kind):
    from voiceskin import Bundle
    from voiceskin.errors import VoiceskinError

    blob = _corrupt(kind)
    with pytest.raises(VoiceskinError) as ei:
        Bundle.from_bytes(blob)
    assert ei.value.name == "VSK_ERR_CORRUPT", ei.value.name
    with pytest.raises(BundleFormatError) as pe:
        read_bundle(blob)
    assert pe.value.name == "VSK_ERR_CORRUPT"


def test_unmodified_int8_blob_opens():
    """The control for the malformed cases: the same bundle unmodified opens."""
    from voiceskin import Bundle

    blob, _, _ = _int8_blob()
    Bundle.from_bytes(fix_crc(blob)).close()
    read_bundle(bytes(blob))


def test_writer_refuses_bad_int8():
    g, t, hop = _int8_linear_graph()
    k = next(i for i, a in enumerate(t) if isinstance(a, Int8Weight))
    bad = list(t)
    q = t[k].q.copy()
    q[0, 0] = -128
    bad[k] = Int8Weight(q, t[k].scale)
    with pytest.raises(ValueError, match="-128"):
        write_bundle(_spec(g, bad, hop))
    bad[k] = Int8Weight(t[k].q, np.full_like(t[k].scale, np.nan))
    with pytest.raises(ValueError, match="finite"):
        write_bundle(_spec(g, bad, hop))


# ------------------------------------------------------------- tier setting


def test_tier_setting_weights_int8(tmp_path):
    from voiceskin_tooling.pack import tier_spec
    from test_student_graph import _student

    st = _student(lookahead=128, warp_grid=7)
    f32 = tier_spec("low", st)
    i8 = tier_spec("low", st, weights="int8")
    assert not any(isinstance(a, Int8Weight) for a in f32.tensors)
    assert sum(isinstance(a, Int8Weight) for a in i8.tensors) >= 4
    assert dataclasses.replace(i8, tensors=f32.tensors) == f32
    with pytest.raises(ValueError, match="weights"):
        tier_spec("low", st, weights="int4")
    # make_spec reads each tier's setting from the voice definition
    from types import SimpleNamespace

    from voiceskin_tooling.pack import make_spec
    from voiceskin_tooling.tiers import get_tier_preset

    voice = SimpleNamespace(id="t.int8", display_name="t", version="0.0.1", tiers=[
        SimpleNamespace(name="low", preset=get_tier_preset("low")),
        SimpleNamespace(name="high", preset=get_tier_preset("low").with_overrides(weights="int8"))])
    spec = make_spec(voice, {"low": st, "high": st})
    n8 = [sum(isinstance(a, Int8Weight) for a in t.tensors) for t in spec.tiers]
    assert n8[0] == 0 and n8[1] >= 4, n8


def test_benchmark_torch_peer_runs_an_int8_tier_as_its_float_equivalent():
    """bench_runtime's PyTorch/onnxruntime peer (benchmarks/step_torch.py)
    takes a bundle whose tier has int8 weights and computes the tier with
    the dequantised weights q·scale: it matches the reference interpreter
    on those float weights (the demo voice's tiers are int8)."""
    import sys
    from pathlib import Path

    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from step_torch import StepModule
    from test_student_graph import _speech, _student
    from voiceskin_tooling.pack import tier_spec
    from voiceskin_tooling.refgraph import run_graph

    st = _student(lookahead=128, warp_grid=7)
    spec = tier_spec("t", st, weights="int8")
    floats = [a.dequantised() if isinstance(a, Int8Weight) else a for a in spec.tensors]
    x = _speech("rms")[: 200 * spec.hop_samples]
    ref = run_graph(spec.graph, floats, x).astype(np.float32)
    mod = StepModule(spec.graph, spec.tensors, spec.hop_samples).eval()
    state, out = mod.initial_state(), []
    with torch.no_grad():
        for i in range(len(x) // spec.hop_samples):
            y, *state = mod(torch.from_numpy(x[i * spec.hop_samples:(i + 1) * spec.hop_samples]), *state)
            out.append(y.numpy())
    y = np.concatenate(out)[: len(ref)]
    peak = float(np.max(np.abs(ref)))
    assert peak > 1e-3
    err = float(np.max(np.abs(y - ref[: len(y)])))
    assert err < 0.02 * peak, f"torch peer on an int8 tier vs reference on q·scale: {err:.3g} (peak {peak:.3g})"


def test_the_warp_fit_stays_float_so_an_int8_tier_picks_the_float_tiers_formant_warp():
    """int8_candidates leaves every LINEAR upstream of ARGMIN in float: the
    formant-warp fit compares values that differ by a small part of their
    size, and one int8 scale per step would move the pick by many grid
    steps. On real speech through the reference interpreter, the quantised
    student's ARGMIN output equals the float student's, while quantising the
    warp fit too moves it (so the check can fail); the network is still
    quantised."""
    from test_student_graph import _speech, _student
    from voiceskin.opset import Op
    from voiceskin_tooling import student as st
    from voiceskin_tooling.refgraph import run_graph_values

    s = _student(warp_grid=25)
    g, t = st.export(s)
    cand = set(int8_candidates(g, t))
    producer = {v: n for n in g.nodes for v in n.outputs}
    argmin = next(n for n in g.nodes if n.op == Op.ARGMIN)
    upstream, todo = set(), list(argmin.inputs)
    while todo:
        n = producer.get(todo.pop())
        if n is not None and id(n) not in upstream:
            upstream.add(id(n))
            todo.extend(n.inputs)
    warp_fit = [n.consts[0] for n in g.nodes if n.op == Op.LINEAR and id(n) in upstream]
    assert len(warp_fit) >= 2 and not cand.intersection(warp_fit)
    assert any(n.op == Op.GRU and n.consts[0] in cand for n in g.nodes)

    x = np.concatenate([_speech("rms"), _speech("it_lp"), _speech("awb")])
    pick = argmin.outputs[0]
    float_pos = run_graph_values(g, t, x)[pick].numpy()
    tq = [quantise_weight(w) if i in cand else w for i, w in enumerate(t)]
    assert np.abs(run_graph_values(g, tq, x)[pick].numpy() - float_pos).max() < 1e-3
    all_q = [quantise_weight(w) if i in cand or i in warp_fit else w for i, w in enumerate(t)]
    assert np.abs(run_graph_values(g, all_q, x)[pick].numpy() - float_pos).max() > 1.0
