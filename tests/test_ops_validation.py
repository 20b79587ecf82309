"""The C library's per-op validation (native/src/ops*.c, on bundle open) and
voiceskin.graph.validate_node (the SDK's writer/reader) accept and refuse
the same nodes (docs/bundle-format.md, "Ops (version 1)")."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from voiceskin.format import BundleSpec, Graph, Node, TierSpec, write_bundle
from voiceskin.graph import Op, validate_node

HOP = 64
YIN = [16000.0, 60.0, 800.0, 0.15]
PMAP = [5.3, 0.2, 5.0, 0.25, 20.0, 100.0, 0.5]


def const_tensors(consts: list[Any]) -> list[np.ndarray]:
    """A case's consts: a shape (tuple) is a zero tensor of that shape, an
    array is that tensor (for ops that check const contents)."""
    return [np.asarray(c, np.float32) if isinstance(c, np.ndarray) else np.zeros(c, np.float32)
            for c in consts]


def graph_with(op: int, in_sizes: list[int], out_size: int, const_shapes: list[Any],
               iattr: list[int], fattr: list[float], hop: int = HOP
               ) -> tuple[Graph, list[np.ndarray]]:
    """input -> FRAME -> SLICEs (the op's inputs) -> op -> LINEAR(0) -> out."""
    sizes = [hop]
    nodes: list[Node] = []
    tensors = const_tensors(const_shapes)
    if op == Op.FRAME:
        ins = [0]
    else:
        F = max([hop] + list(in_sizes))
        sizes.append(F)
        nodes.append(Node(int(Op.FRAME), [0], [1], [], [F], []))
        ins = []
        for s in in_sizes:
            sizes.append(s)
            nodes.append(Node(int(Op.SLICE), [1], [len(sizes) - 1], [], [0, s], []))
            ins.append(len(sizes) - 1)
    sizes.append(out_size)
    nodes.append(Node(int(op), ins, [len(sizes) - 1], list(range(len(tensors))), iattr, fattr))
    o = len(sizes) - 1
    tensors.append(np.zeros((hop, out_size), np.float32))
    sizes.append(hop)
    nodes.append(Node(int(Op.LINEAR), [o], [len(sizes) - 1], [len(tensors) - 1], [], []))
    return Graph(sizes, 0, len(sizes) - 1, nodes), tensors


def c_status(graph: Graph, tensors: list[np.ndarray], hop: int = HOP) -> str:
    from voiceskin import Bundle
    from voiceskin.errors import VoiceskinError

    tier = TierSpec("base", 16000, hop, hop, 0, 0, graph, tensors)
    data = write_bundle(BundleSpec("test.val", "Val", "1.0.0", [tier]), validate=False)
    try:
        Bundle.from_bytes(data)
    except VoiceskinError as e:
        return e.name
    return "VSK_OK"


MEL8 = np.geomspace(100.0, 7000.0, 8).astype(np.float32)   # band-centre-like positions


def _pos(*v: float) -> np.ndarray:
    return np.array(v, np.float32)


# (id, op, in sizes, out size, const shapes (or const arrays), iattr, fattr, valid)
CASES: list[tuple[Any, ...]] = [
    ("frame", Op.FRAME, [HOP], 100, [], [100], [], True),
    ("frame_win_lt_hop", Op.FRAME, [HOP], 32, [], [32], [], False),
    ("frame_out_mismatch", Op.FRAME, [HOP], 99, [], [100], [], False),
    ("stft", Op.STFT_MAG, [200], 129, [(200,)], [256], [], True),
    ("stft_not_pow2", Op.STFT_MAG, [200], 151, [(200,)], [300], [], False),
    ("stft_n_lt_win", Op.STFT_MAG, [200], 65, [(200,)], [128], [], False),
    ("stft_window_shape", Op.STFT_MAG, [200], 129, [(201,)], [256], [], False),
    ("linear", Op.LINEAR, [10], 7, [(7, 10), (7,)], [], [], True),
    ("linear_nobias", Op.LINEAR, [10], 7, [(7, 10)], [], [], True),
    ("linear_W_T", Op.LINEAR, [10], 7, [(10, 7)], [], [], False),
    ("linear_bias", Op.LINEAR, [10], 7, [(7, 10), (8,)], [], [], False),
    ("linear_W_3d", Op.LINEAR, [10], 7, [(7, 10, 1)], [], [], False),
    ("act", Op.ACT, [5], 5, [], [5], [], True),
    ("act_exp", Op.ACT, [5], 5, [], [6], [], True),
    ("act_kind", Op.ACT, [5], 5, [], [7], [], False),
    ("act_neg", Op.ACT, [5], 5, [], [-1], [], False),
    ("act_size", Op.ACT, [5], 6, [], [1], [], False),
    ("log", Op.LOG, [5], 5, [], [], [1e-5], True),
    ("log_eps0", Op.LOG, [5], 5, [], [], [0.0], False),
    ("log_nan", Op.LOG, [5], 5, [], [], [float("nan")], False),
    ("conv", Op.CONV1D, [6], 4, [(4, 6, 3), (4,)], [2], [], True),
    ("conv_dil0", Op.CONV1D, [6], 4, [(4, 6, 3), (4,)], [0], [], False),
    ("conv_nobias", Op.CONV1D, [6], 4, [(4, 6, 3)], [1], [], False),
    ("conv_W2d", Op.CONV1D, [6], 4, [(4, 6), (4,)], [1], [], False),
    ("gru", Op.GRU, [6], 4, [(12, 6), (12, 4), (12,), (12,)], [], [], True),
    ("gru_whh", Op.GRU, [6], 4, [(12, 6), (12, 5), (12,), (12,)], [], [], False),
    ("concat", Op.CONCAT, [3, 4], 7, [], [], [], True),
    ("concat_size", Op.CONCAT, [3, 4], 8, [], [], [], False),
    ("slice", Op.SLICE, [10], 4, [], [6, 4], [], True),
    ("slice_oob", Op.SLICE, [10], 4, [], [7, 4], [], False),
    ("slice_neg", Op.SLICE, [10], 4, [], [-1, 4], [], False),
    ("add", Op.ADD, [5, 5], 5, [], [], [], True),
    ("add_size", Op.ADD, [5, 6], 5, [], [], [], False),
    ("mul_arity", Op.MUL, [5], 5, [], [], [], False),
    ("affine", Op.AFFINE, [5], 5, [(5,), (5,)], [], [], True),
    ("affine_shape", Op.AFFINE, [5], 5, [(5,), (4,)], [], [], False),
    ("yin", Op.PITCH_YIN, [512], 2, [], [], YIN, True),
    ("yin_fmax_gt_sr", Op.PITCH_YIN, [512], 2, [], [], [16000.0, 60.0, 20000.0, 0.15], False),
    ("yin_fmin_gt_fmax", Op.PITCH_YIN, [512], 2, [], [], [16000.0, 900.0, 800.0, 0.15], False),
    ("yin_thr1", Op.PITCH_YIN, [512], 2, [], [], [16000.0, 60.0, 800.0, 1.0], False),
    ("yin_short_frame", Op.PITCH_YIN, [20], 2, [], [], YIN, False),
    ("yin_out", Op.PITCH_YIN, [512], 3, [], [], YIN, False),
    ("pmap", Op.PITCH_MAP, [2], 1, [], [], PMAP, True),
    ("pmap_warmup0", Op.PITCH_MAP, [2], 1, [], [], PMAP[:4] + [0.0] + PMAP[5:], False),
    ("pmap_tau", Op.PITCH_MAP, [2], 1, [], [], PMAP[:5] + [0.5, 0.5], False),
    ("pmap_sigma", Op.PITCH_MAP, [2], 1, [], [], [5.3, -0.2] + PMAP[2:], False),
    ("pmap_in3", Op.PITCH_MAP, [3], 1, [], [], PMAP, False),
    ("rmean", Op.RUNNING_MEAN, [6, 1], 6, [(6,)], [], [100.0, 2500.0, 0.5], True),
    ("rmean_gate2", Op.RUNNING_MEAN, [6, 2], 6, [(6,)], [], [100.0, 2500.0, 0.5], False),
    ("rmean_out", Op.RUNNING_MEAN, [6, 1], 5, [(6,)], [], [100.0, 2500.0, 0.5], False),
    ("rmean_prior", Op.RUNNING_MEAN, [6, 1], 6, [(5,)], [], [100.0, 2500.0, 0.5], False),
    ("rmean_noprior", Op.RUNNING_MEAN, [6, 1], 6, [], [], [100.0, 2500.0, 0.5], False),
    ("rmean_warmup0", Op.RUNNING_MEAN, [6, 1], 6, [(6,)], [], [0.0, 2500.0, 0.5], False),
    ("rmean_tau", Op.RUNNING_MEAN, [6, 1], 6, [(6,)], [], [100.0, 0.5, 0.5], False),
    ("rmean_inf", Op.RUNNING_MEAN, [6, 1], 6, [(6,)], [], [100.0, float("inf"), 0.5], False),
    ("argmin", Op.ARGMIN, [17], 1, [], [], [], True),
    ("argmin_g1", Op.ARGMIN, [1], 1, [], [], [], True),
    ("argmin_out2", Op.ARGMIN, [17], 2, [], [], [], False),
    ("argmin_out_g", Op.ARGMIN, [17], 17, [], [], [], False),
    ("argmin_in2", Op.ARGMIN, [5, 5], 1, [], [], [], False),
    ("argmin_const", Op.ARGMIN, [5], 1, [(5,)], [], [], False),
    ("argmin_iattr", Op.ARGMIN, [5], 1, [], [1], [], False),
    ("argmin_fattr", Op.ARGMIN, [5], 1, [], [], [0.0], False),
    ("warp", Op.WARP, [8, 1], 8, [MEL8], [], [], True),
    ("warp_c2", Op.WARP, [2, 1], 2, [_pos(0.0, 1.0)], [], [], True),
    ("warp_neg_pos", Op.WARP, [4, 1], 4, [_pos(-3.0, -1.0, 0.0, 2.5)], [], [], True),
    ("warp_c1", Op.WARP, [1, 1], 1, [_pos(100.0)], [], [], False),
    ("warp_in1", Op.WARP, [8], 8, [MEL8], [], [], False),
    ("warp_in3", Op.WARP, [8, 1, 1], 8, [MEL8], [], [], False),
    ("warp_s2", Op.WARP, [8, 2], 8, [MEL8], [], [], False),
    ("warp_out", Op.WARP, [8, 1], 7, [MEL8], [], [], False),
    ("warp_out1", Op.WARP, [8, 1], 1, [MEL8], [], [], False),
    ("warp_nopos", Op.WARP, [8, 1], 8, [], [], [], False),
    ("warp_pos2", Op.WARP, [8, 1], 8, [MEL8, MEL8], [], [], False),
    ("warp_pos_short", Op.WARP, [8, 1], 8, [MEL8[:7]], [], [], False),
    ("warp_pos_long", Op.WARP, [7, 1], 7, [MEL8], [], [], False),
    ("warp_pos_2d", Op.WARP, [8, 1], 8, [MEL8[:, None]], [], [], False),
    ("warp_pos_equal", Op.WARP, [4, 1], 4, [_pos(1.0, 2.0, 2.0, 3.0)], [], [], False),
    ("warp_pos_decreasing", Op.WARP, [8, 1], 8, [MEL8[::-1].copy()], [], [], False),
    ("warp_pos_zeros", Op.WARP, [8, 1], 8, [(8,)], [], [], False),
    ("warp_pos_nan", Op.WARP, [4, 1], 4, [_pos(1.0, 2.0, float("nan"), 3.0)], [], [], False),
    ("warp_pos_inf", Op.WARP, [4, 1], 4, [_pos(1.0, 2.0, 3.0, float("inf"))], [], [], False),
    ("warp_pos_neg_inf", Op.WARP, [4, 1], 4, [_pos(-float("inf"), 2.0, 3.0, 4.0)], [], [], False),
    ("warp_iattr", Op.WARP, [8, 1], 8, [MEL8], [1], [], False),
    ("warp_fattr", Op.WARP, [8, 1], 8, [MEL8], [], [1.0], False),
    ("nearest", Op.NEAREST, [6], 4, [(20, 6), (20,), (20, 4)], [3], [], True),
    ("nearest_k_eq_n", Op.NEAREST, [6], 4, [(3, 6), (3,), (3, 4)], [3], [], True),
    ("nearest_k_max", Op.NEAREST, [2], 1, [(40, 2), (40,), (40, 1)], [16], [], True),
    ("nearest_k0", Op.NEAREST, [6], 4, [(20, 6), (20,), (20, 4)], [0], [], False),
    ("nearest_k_gt_n", Op.NEAREST, [6], 4, [(3, 6), (3,), (3, 4)], [4], [], False),
    ("nearest_k_gt_max", Op.NEAREST, [2], 1, [(40, 2), (40,), (40, 1)], [17], [], False),
    ("nearest_key_cols", Op.NEAREST, [6], 4, [(20, 5), (20,), (20, 4)], [3], [], False),
    ("nearest_key_1d", Op.NEAREST, [6], 4, [(6,), (20,), (20, 4)], [3], [], False),
    ("nearest_sq_len", Op.NEAREST, [6], 4, [(20, 6), (19,), (20, 4)], [3], [], False),
    ("nearest_val_rows", Op.NEAREST, [6], 4, [(20, 6), (20,), (19, 4)], [3], [], False),
    ("nearest_out", Op.NEAREST, [6], 5, [(20, 6), (20,), (20, 4)], [3], [], False),
    ("nearest_2consts", Op.NEAREST, [6], 4, [(20, 6), (20, 4)], [3], [], False),
    ("nearest_in2", Op.NEAREST, [6, 6], 4, [(20, 6), (20,), (20, 4)], [3], [], False),
    ("nearest_no_k", Op.NEAREST, [6], 4, [(20, 6), (20,), (20, 4)], [], [], False),
    ("nearest_fattr", Op.NEAREST, [6], 4, [(20, 6), (20,), (20, 4)], [3], [1.0], False),
    ("harm", Op.HARMONIC, [1, 33], HOP, [], [HOP, 80], [16000.0], True),
    ("harm_hop", Op.HARMONIC, [1, 33], HOP, [], [HOP // 2, 80], [16000.0], False),
    ("harm_k0", Op.HARMONIC, [1, 33], HOP, [], [HOP, 0], [16000.0], False),
    ("harm_k_big", Op.HARMONIC, [1, 33], HOP, [], [HOP, 4097], [16000.0], False),
    ("harm_env1", Op.HARMONIC, [1, 1], HOP, [], [HOP, 8], [16000.0], False),
    ("harm_sr0", Op.HARMONIC, [1, 33], HOP, [], [HOP, 8], [0.0], False),
    ("noise", Op.NOISE, [17], HOP, [], [HOP, 7], [], True),
    ("noise_hop", Op.NOISE, [17], HOP, [], [HOP * 2, 7], [], False),
    ("noise_env1", Op.NOISE, [1], HOP, [], [HOP, 7], [], False),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_c_and_sdk_validation_agree(case, lib):
    _, op, ins, out, consts, ia, fa, valid = case
    g, t = graph_with(op, ins, out, consts, ia, fa)
    ct = const_tensors(consts)
    try:
        validate_node(op, ins, [out], [c.shape for c in ct], ia, fa, HOP, const_values=ct)
        py_ok = True
    except ValueError:
        py_ok = False
    st = c_status(g, t)
    assert py_ok == valid, f"voiceskin.graph.validate_node: expected valid={valid}"
    assert st == ("VSK_OK" if valid else "VSK_ERR_CORRUPT"), f"C returned {st}"


def test_noise_needs_pow2_hop(lib):
    hop = 48                                  # 2·48 = 96 is not a power of two
    g, t = graph_with(Op.NOISE, [9], hop, [], [hop, 1], [], hop=hop)
    assert c_status(g, t, hop) == "VSK_ERR_CORRUPT"


def test_conv_history_too_large(lib):
    """CONV1D state over 2^24 floats is VSK_ERR_TOO_LARGE (C-only limit)."""
    g, t = graph_with(Op.CONV1D, [64], 1, [(1, 64, 3), (1,)], [1 << 20], [])
    assert c_status(g, t) == "VSK_ERR_TOO_LARGE"


@pytest.mark.parametrize("pos", [
    _pos(100.0, 200.0, 200.0, 400.0), _pos(400.0, 200.0, 100.0, 50.0),
    _pos(100.0, float("nan"), 300.0, 400.0), _pos(100.0, 200.0, 300.0, float("inf")),
], ids=["equal", "decreasing", "nan", "inf"])
def test_warp_positions_checked_by_reader_writer_and_builder(pos, lib):
    """WARP positions that are not finite and strictly increasing: the C
    library, the SDK's reader (read_bundle) and writer (write_bundle) and
    GraphBuilder.warp all refuse them."""
    from voiceskin.format import BundleFormatError, read_bundle
    from voiceskin.graph import GraphBuilder

    g, t = graph_with(Op.WARP, [4, 1], 4, [pos], [], [])
    assert c_status(g, t) == "VSK_ERR_CORRUPT"
    tier = TierSpec("base", 16000, HOP, HOP, 0, 0, g, t)
    spec = BundleSpec("test.val", "Val", "1.0.0", [tier])
    with pytest.raises(BundleFormatError) as e:
        read_bundle(write_bundle(spec, validate=False))
    assert e.value.name == "VSK_ERR_CORRUPT"
    with pytest.raises(ValueError):
        write_bundle(spec)
    b = GraphBuilder(HOP)
    fr = b.frame(b.input, HOP)
    with pytest.raises(ValueError):
        b.warp(b.slice(fr, 0, 4), b.slice(fr, 4, 1), pos)


def test_warp_positions_equal_after_float32_rounding():
    """Positions distinct in float64 but equal in float32 (as stored) are
    refused by the builder."""
    from voiceskin.graph import GraphBuilder

    b = GraphBuilder(HOP)
    fr = b.frame(b.input, HOP)
    with pytest.raises(ValueError, match="strictly increasing"):
        b.warp(b.slice(fr, 0, 3), b.slice(fr, 3, 1), np.array([1.0, 1e8, 1e8 + 1.0]))
