"""Target-frame picks in the student graph (StudentConfig.pick_k): NEAREST
over the target's own frames, keyed by the normalised features, the phone
classifier's content key (masters/phones.py, computed in the graph) and the
voicing gate. What the runtime runs is what trained, the graph's content key
is the master's, and the table's keys are what the student computes on the
target's speech."""
from __future__ import annotations

import glob
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from voiceskin import Bundle, Voice
from voiceskin import format as vformat
from voiceskin.graph import Op
from voiceskin_tooling import student as st
from voiceskin_tooling import tiers as tr
from voiceskin_tooling.distill import _target_logmel_mean
from voiceskin_tooling.masters import phones
from voiceskin_tooling.pack import tier_spec
from voiceskin_tooling.refgraph import run_graph
from voiceskin_tooling.training import _pick_sources

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
SLT = sorted(glob.glob(str(CORPUS / "target" / "slt" / "*.flac")))


def _speech(speaker: str, i: int = 0) -> np.ndarray:
    x, sr = sf.read(CORPUS / "speakers" / speaker / f"{speaker}_{i:02d}.flac", dtype="float32")
    return x[: len(x) // 64 * 64]


def _picking_student(frames: int = 600, k: int = 4) -> st.Student:
    """A random-weight low student with picks over ``frames`` of slt's steps,
    its pick heads non-zero so the pick is heard."""
    torch.manual_seed(0)
    cfg = st.config_from_tier(tr.get_tier_preset("low").with_overrides(pick_k=k, pick_frames=100000))
    ref = [torch.from_numpy(sf.read(f, dtype="float32")[0]) for f in SLT[:3]]
    cache = {"reference": ref, "sample_rate": 16000}
    src = _pick_sources(cache, cfg, np.random.default_rng(0))
    assert cfg.pick_frames == sum(len(i) for _, i, _ in src)   # every step of the three files
    cfg.pick_frames = min(frames, cfg.pick_frames)
    src = _pick_sources(cache, cfg, np.random.default_rng(0))
    s = st.Student(cfg)
    s.set_warp_target(_target_logmel_mean(cache, cfg))
    s.set_pick_table(src)
    with torch.no_grad():
        for head in (s.pick_h, s.pick_n):
            head.weight.normal_(0.0, 0.1)
    return s


def test_a_picking_student_runs_the_same_in_the_runtime_and_the_graph(lib) -> None:
    """The exported graph has one NEAREST over the table; the native runtime,
    the reference interpreter and the PyTorch student agree on rms's speech,
    and the picks change what it says (zeroing the pick heads moves it)."""
    s = _picking_student()
    x = _speech("rms")
    ys = s.convert(x)
    D = s.cfg.lookahead
    spec = tier_spec("t", s)
    near = [n for n in spec.graph.nodes if n.op == Op.NEAREST]
    assert len(near) == 1 and spec.tensors[near[0].consts[0]].shape == (600, s.cfg.n_mels + 40 + 1)
    ref = run_graph(spec.graph, spec.tensors, x).astype(np.float32)[D:]
    peak = float(np.max(np.abs(ys)))
    assert 1e-3 < peak < 8.0                # under the runtime's output bound (docs/abi.md)
    assert np.max(np.abs(ref[: len(ys)] - ys)) < 0.02 * peak
    data = vformat.write_bundle(vformat.BundleSpec(voice_id="t.pick", display_name="t", version="0.0.1",
                                                   tiers=[spec]))
    with Bundle.from_bytes(data) as b:
        v = Voice(b, sample_rate=16000, max_block=64, tier=0)
        y = v.process(np.concatenate([x, np.zeros(v.latency, np.float32)]))[v.latency:]
    assert np.max(np.abs(y[: len(ys)] - ys)) < 0.02 * peak
    with torch.no_grad():
        for head in (s.pick_h, s.pick_n):
            head.weight.zero_()
    assert np.max(np.abs(s.convert(x) - ys)) > 0.1 * peak


def test_the_table_holds_the_students_own_keys_of_the_targets_steps() -> None:
    """A step of slt's own speech finds itself: its key (computed the way a
    query is) is at distance 0 from its table row, so NEAREST with k = 1
    returns that row's envelope; voiced and unvoiced rows are kept apart by
    the voicing column."""
    from voiceskin_tooling import ops

    s = _picking_student(frames=100000, k=1)
    ref = torch.from_numpy(sf.read(SLT[0], dtype="float32")[0])
    fe = st.frontend(ref.numpy(), s.cfg)
    with torch.no_grad():
        rm = s.running_mean(fe.logmel, fe.voicing)
        x = s.features(fe.logmel[None], fe.f0[None], fe.voicing[None], rm[None])
        q = s.pick_key(x, fe.content[None], fe.voicing[None])[0]
        got = ops.nearest(q, s.pick_keys, s.pick_sq, s.pick_vals, 1)
    n = len(q)
    # the first file's steps are the table's first rows, in order (every step kept)
    np.testing.assert_allclose(got.numpy(), s.pick_vals[:n].numpy(), atol=1e-6)
    gate = s.gate(fe.voicing).numpy()
    col = s.pick_keys[:, -1].numpy() / float(s.pick_scale[1])
    assert np.all(np.abs(col[:n] - gate) < 1e-5)
    assert s.pick_scale[1] > 5 * s.pick_scale[0] / 3


def test_the_graphs_content_key_is_the_masters(lib) -> None:
    """phones.build_content in a runtime graph (native library and reference
    interpreter) computes, per step, the square-root phone posteriors that
    world2's content key searches (phones.step_content: step t carries
    master frame t − 1) on real speech, to float32 rounding."""
    from voiceskin.graph import GraphBuilder

    m = phones.PhoneModel.load(phones.MODEL_FILE)
    x = _speech("esp_car_f3")
    want = phones.step_content(m, x)
    f = phones.features(x)
    np.testing.assert_allclose(want[1:], np.sqrt(m.posteriors(f[: len(want) - 1])), rtol=0, atol=1e-6)
    b = GraphBuilder(64)
    yin = b.pitch_yin(b.frame(b.input, 512), 16000.0, 60.0, 600.0, 0.15)
    c = phones.build_content(m, b, b.input, b.slice(yin, 1, 1))
    W = np.zeros((64, 40), np.float32)
    W[np.arange(40), np.arange(40)] = 1.0
    g, t = b.finish(b.linear(c, W))
    ref = run_graph(g, t, x).reshape(-1, 64)[: len(want), :40]
    assert np.abs(ref - want).max() < 1e-5
    data = vformat.write_bundle(vformat.BundleSpec(voice_id="t.content", display_name="t", version="0.0.1",
                                                   tiers=[vformat.TierSpec("t", 16000, 64, 64, 1, 1, g, t)]))
    with Bundle.from_bytes(data) as bb:
        v = Voice(bb, sample_rate=16000, max_block=64, tier=0)
        y = v.process(np.concatenate([x, np.zeros(v.latency, np.float32)]))[v.latency:]
    got = y[: len(want) * 64].reshape(-1, 64)[:, :40]
    assert np.abs(got - want).max() < 1e-4


def test_picks_need_the_formant_normalised_features_and_the_content_keys_frames() -> None:
    """A config the picks cannot run with is refused with what it needs."""
    with pytest.raises(ValueError, match="warp_grid"):
        st.Student(st.config_from_tier(tr.get_tier_preset("low").with_overrides(pick_k=4, warp_grid=0)))
    with pytest.raises(ValueError, match="hop 64"):
        st.Student(st.config_from_tier(tr.get_tier_preset("low").with_overrides(pick_k=4, hop=128)))
    with pytest.raises(ValueError, match="pick_k 17"):
        st.Student(st.config_from_tier(tr.get_tier_preset("low").with_overrides(pick_k=17)))


def test_int8_leaves_the_pick_key_in_float() -> None:
    """int8 packing quantises the network but not what the pick's key is
    made of (the content classifier's layers reach NEAREST: one int8 scale
    per step would move the picks), as it leaves the warp fit before ARGMIN."""
    from voiceskin_tooling.quantise import int8_candidates

    s = _picking_student(frames=200)
    spec = tier_spec("t", s)
    q = set(int8_candidates(spec.graph, spec.tensors))
    feeds: set[int] = set()
    for n in reversed(spec.graph.nodes):
        if n.op == Op.NEAREST or feeds.intersection(n.outputs):
            feeds.update(n.inputs)
    key_lin = [n.consts[0] for n in spec.graph.nodes if n.op == Op.LINEAR and feeds.intersection(n.outputs)]
    w2 = next(c for c in key_lin if spec.tensors[c].shape == (64, 512))      # the classifier's 512 → 64
    assert w2 not in q and not q.intersection(key_lin)
    gru = [n.consts[0] for n in spec.graph.nodes if n.op == Op.GRU]
    assert gru and set(gru) <= q                                             # the network still is
