"""Tiers by structured pruning (voiceskin_tooling.prune; issue 18 item 3).

Hard-concrete gates behave as their formulas say, hard pruning folds the
gates into a plain smaller student that computes what the gated one did (and
that the native runtime runs as an ordinary graph), the kept widths meet the
target cost, and a pruned tier distils end to end through the CLI to a
network no costlier than its width-scaled twin's.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from small_voice import small_voice
from voiceskin import Bundle, Voice
from voiceskin import format as vformat
from voiceskin_tooling import prune as pr
from voiceskin_tooling import student as st
from voiceskin_tooling import tiers as tr
from voiceskin_tooling.pack import tier_spec

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"


def _wide_student(seed: int = 0) -> st.Student:
    torch.manual_seed(seed)
    return st.Student(st.config_from_tier(tr.get_tier_preset("low-pruned"))).eval()


def _random_gates(s: st.Student, seed: int = 1) -> pr.PruneGates:
    g = pr.PruneGates(s)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for h in g.groups.values():
            h.log_alpha.copy_(3.0 * torch.randn(h.log_alpha.shape, generator=gen))
    return g.eval()


def test_hard_concrete_nonzero_probability_matches_its_samples() -> None:
    torch.manual_seed(0)
    hc = pr.HardConcrete(5)
    with torch.no_grad():
        hc.log_alpha.copy_(torch.tensor([-4.0, -1.0, 0.0, 1.0, 4.0]))
    hc.train()
    z = torch.stack([hc() for _ in range(20000)])
    z = z.detach()
    assert float(z.min()) == 0.0 and float(z.max()) == 1.0  # stretched and clipped: exact 0 and 1 occur
    freq = (z > 0).float().mean(0)
    assert torch.allclose(freq, hc.prob_nonzero().detach(), atol=0.015)
    hc.eval()  # deterministic gate: 0 for a very negative log α, 1 for a very positive one
    d = hc().detach()
    assert float(d[0]) == 0.0 and float(d[-1]) == 1.0 and torch.all(d[1:] >= d[:-1])


def test_pruned_student_computes_what_the_gated_one_did() -> None:
    s = _wide_student()
    g = _random_gates(s)
    keep = g.keep()
    masks = {k: torch.zeros(len(h.log_alpha)).index_copy_(0, keep[k][0], keep[k][1])
             for k, h in g.groups.items()}
    assert all(0 < len(keep[k][0]) < len(h.log_alpha) for k, h in g.groups.items())
    torch.manual_seed(2)
    T = 150
    lm, f0, v = torch.randn(2, T, s.cfg.n_mels), 90 + 120 * torch.rand(2, T), torch.rand(2, T)
    with torch.no_grad():
        y1, h1 = s(lm, f0, v, noise_seed=5, return_hidden=True, masks=masks)
        small, consumers = pr.prune_student(s, keep)
        y2, h2 = small(lm, f0, v, noise_seed=5, return_hidden=True)
    assert small.cfg.conv_widths == tuple(len(keep[f"conv{i}"][0]) for i in range(s.cfg.conv_layers))
    assert small.cfg.gru_hidden == len(keep["gru"][0]) and small.cfg.hidden == len(keep["dense"][0])
    assert float((y1 - y2).abs().max()) <= 1e-5 * float(y1.abs().max()) + 1e-7
    # what a distillation head sees of each layer is unchanged once re-pointed
    for name, (idx, scale) in consumers.items():
        assert torch.allclose(h1[name][..., idx], h2[name] * scale, atol=1e-5), name
    # and the smaller student round-trips through a checkpoint's config
    again = st.Student(st.StudentConfig.from_dict(small.cfg.to_dict()))
    again.load_state_dict(small.state_dict())


def test_pruned_student_runs_in_the_native_runtime_as_trained(lib) -> None:
    s = _wide_student()
    small, _ = pr.prune_student(s, _random_gates(s).keep())
    x, sr = sf.read(CORPUS / "speakers" / "rms" / "rms_00.flac", dtype="float32")
    x = x[: len(x) // 64 * 64]
    ys = small.convert(x)
    spec = tier_spec("t", small)
    data = vformat.write_bundle(vformat.BundleSpec(voice_id="t.pruned", display_name="t", version="0.0.1",
                                                   tiers=[spec]))
    with Bundle.from_bytes(data) as b:
        v = Voice(b, sample_rate=16000, max_block=64, tier=0)
        y = v.process(np.concatenate([x, np.zeros(v.latency, np.float32)]))[v.latency:]
    peak = float(np.max(np.abs(ys)))
    assert peak > 1e-3
    assert np.max(np.abs(y[: len(ys)] - ys)) < 0.02 * peak
    # the graph is smaller than the wide student's
    wide = tier_spec("w", s)
    assert spec.flops_per_second < wide.flops_per_second


@pytest.mark.parametrize("target", ["low", "medium", "high"])
def test_kept_widths_meet_the_target_network_cost(target: str) -> None:
    s = _wide_student(seed=3)
    g = _random_gates(s, seed=4)
    goal = pr.student_network_flops(st.config_from_tier(tr.get_tier_preset(target)))
    keep = g.keep(goal)
    widths = ([len(keep[f"conv{i}"][0]) for i in range(s.cfg.conv_layers)], len(keep["gru"][0]),
              len(keep["dense"][0]))
    assert pr.network_flops(s.cfg, *widths) <= goal
    assert all(w >= 1 for w in widths[0]) and widths[1] >= 1 and widths[2] >= 1
    # the units that go first are those of lowest log α
    la = g.groups["gru"].log_alpha.detach()
    kept = keep["gru"][0]
    dropped = np.setdiff1d(np.arange(len(la)), kept.numpy())
    if len(dropped):
        assert float(la[kept].min()) >= float(la[dropped].max())


def test_pruned_presets_are_registered_with_their_twins_front_end() -> None:
    names = tr.available_tiers()
    for twin in ("low", "medium", "high"):
        p, t = names[f"{twin}-pruned"], names[twin]
        assert p.prune_target == twin and p.rank == t.rank
        for f in ("n_mels", "env_bins", "noise_bins", "max_harmonics", "win", "conv_layers", "lookahead"):
            assert getattr(p, f) == getattr(t, f), f
        assert p.gru_hidden == tr.ULTRA.gru_hidden > t.gru_hidden


def test_a_pruned_tier_distils_to_its_twins_network_cost(tmp_path: Path) -> None:
    from voiceskin_tooling.cli import main

    toml = small_voice(tmp_path, "prune.test", "slt", {"kal": 2, "rms": 1}, 2,
                       corpus={"heldout_speakers": ["rms"]},
                       training={"steps": 16, "augment": 0, "batch_size": 4, "segment_seconds": 0.4,
                                 "learning_rate": 0.003},
                       tiers=("low", "low-pruned"))
    out = tmp_path / "out"
    assert main(["distill", str(toml), "-o", str(out), "-j", "1", "-q", "--no-fail"]) == 0
    vd = out / "prune.test"
    dist = json.loads((vd / "distill.json").read_text())
    info = dist["training"]["low-pruned"]["prune"]
    assert info["to"] == "low" and info["pruned_flops"] <= info["target_flops"] < info["wide_flops"]
    assert info["pruned_flops"] >= 0.7 * info["target_flops"]
    assert "prune" not in dist["training"]["low"]
    qa = json.loads((vd / "qa.json").read_text())["tiers"]
    # equal front end, network no costlier: the exported graphs cost about the same
    assert qa["low-pruned"]["flops_per_second"] <= 1.02 * qa["low"]["flops_per_second"]
    assert qa["low-pruned"]["flops_per_second"] >= 0.8 * qa["low"]["flops_per_second"]
    bundle = tmp_path / "prune.vskin"
    assert main(["pack", str(toml), "--out", str(out), "-o", str(bundle)]) == 0
    assert main(["verify", str(bundle), "--checkpoints", str(vd / "tiers")]) == 0
    with Bundle.open(bundle) as b:
        assert [t.name for t in b.tiers] == ["low", "low-pruned"]
