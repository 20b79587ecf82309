"""A tiny end-to-end distillation: voice TOML → master outputs → two tiers
trained for a few steps → QA → pack → verify → render → inspect → list,
through the real CLI and the real native library (< 2 minutes on 2 cores).

It checks the plumbing and the contracts, not the quality bars (a few steps
cannot meet them): the bundle opens natively, the runtime reproduces the
PyTorch student and the reference graph, the QA JSON has every score for
held-out and seen speakers, and the master's pitch is the student's pitch.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from small_voice import small_voice


def _voice(tmp: Path) -> Path:
    return small_voice(tmp, "tiny.test", "slt", {"kal": 2, "esp_gb_f2": 1, "rms": 1}, 3,
                       display_name="Tiny test voice", corpus={"heldout_speakers": ["rms"]},
                       training={"steps": 12, "augment": 1, "batch_size": 4,
                                 "segment_seconds": 0.4, "learning_rate": 0.003},
                       tiers=("low", "medium"))


def test_tiny_distill_pack_verify_render(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from voiceskin import Bundle, Voice

    from voiceskin_tooling.cli import main
    from voiceskin_tooling.distill import load_cache, load_student
    from voiceskin_tooling.pack import tier_spec
    from voiceskin_tooling.refgraph import run_graph
    from voiceskin_tooling.student import frontend

    toml = _voice(tmp_path)
    out = tmp_path / "out"
    assert main(["distill", str(toml), "-o", str(out), "-j", "2", "-q", "--no-fail"]) == 0

    vd = out / "tiny.test"
    qa = json.loads((vd / "qa.json").read_text())
    for tier in ("low", "medium"):
        assert (vd / "tiers" / f"{tier}.pt").is_file()
        t = qa["tiers"][tier]
        for split in ("heldout", "seen"):
            s = t[split]
            assert s["utterances"] >= 1
            for k in ("logmel_distance", "logmel_ratio", "f0_median_cents",
                      "f0_gross_fraction", "voicing_error"):
                assert s[k] is not None and np.isfinite(s[k]), (tier, split, k)
        assert t["heldout"]["speakers"] == ["rms"]
        assert "rms" not in t["seen"]["speakers"]
        assert t["parameters"] > 0 and t["flops_per_second"] > 0
        assert t["core_percent_48k"] > 0
        assert isinstance(t["failures"], list) and t["bars"]
    assert (vd / "report.html").is_file()
    assert "<table>" in (vd / "report.html").read_text()
    dist = json.loads((vd / "distill.json").read_text())
    assert dist["training"]["low"]["steps"] == 12
    # the formant post-filter was fitted (and folded) on the training utterances
    for tier in ("low", "medium"):
        pf = dist["training"][tier]["postfilter"]
        assert pf["contrast_master"] > 0 and 0.0 <= pf["beta"] <= 1.0
        if pf["beta"] > 0:  # sharper than before, never sharper than the master
            assert pf["contrast_before"] < pf["contrast_after"] <= 1.01 * pf["contrast_master"]

    # the master's F0 is the student's F0: same causal YIN + PITCH_MAP
    cache = load_cache(dist["cache"])
    # augment = 1: every training chunk is also in the cache once perturbed
    # (a different input, converted by the master), never in held-out or QA
    train = [u for u in cache["utts"] if u["split"] == "train"]
    aug = [u for u in train if u["augmented"]]
    assert len(aug) == len(train) // 2 and not any(u["seen_qa"] for u in aug)
    assert all(u["speaker"].endswith("+aug") for u in aug)
    assert not any(u["augmented"] for u in cache["utts"] if u["split"] != "train")
    assert {u["split"] for u in cache["utts"]} == {"train", "validation"}  # no test_speakers in this voice
    orig = {u["path"]: u for u in train if not u["augmented"]}
    a0 = aug[0]
    src = orig[a0["path"].split("+aug(")[0]]
    n = min(len(a0["input"]), len(src["input"]))
    assert not np.allclose(a0["input"][:n].numpy(), src["input"][:n].numpy(), atol=1e-3)
    u = next(u for u in cache["utts"] if u["split"] == "validation")
    from voiceskin_tooling.masters import get_master

    m = get_master("world", f0_method="yin")
    m.fit([sf.read(str(p), dtype="float32")[0] for p in sorted((tmp_path / "ref").glob("*.flac"))], 16000)
    mo = m.convert(u["input"].numpy(), 16000)
    f0s = u["f0"].numpy()
    mf = mo.f0[1:len(f0s) + 1]
    both = (mf > 0)
    assert both.mean() > 0.3
    np.testing.assert_allclose(f0s[: len(mf)][both], mf[both], rtol=1e-4)

    # pack (atomic, QA inside) → inspect → verify against refgraph and students
    bundle = tmp_path / "tiny.vskin"
    assert main(["pack", str(toml), "--out", str(out), "-o", str(bundle)]) == 0
    assert bundle.is_file() and not list(tmp_path.glob(".vskin-*"))
    assert main(["inspect", str(bundle)]) == 0
    text = capsys.readouterr().out
    assert "low" in text and "medium" in text and "Tiny test voice" in text
    assert main(["verify", str(bundle), "--checkpoints", str(vd / "tiers")]) == 0
    assert "verified" in capsys.readouterr().out

    # render through the native runtime: equals the student, latency compensated
    wav_in = tmp_path / "in.wav"
    sf.write(str(wav_in), u["input"].numpy(), 16000, subtype="FLOAT")
    for tier in ("low", "1"):
        wav_out = tmp_path / f"out_{tier}.wav"
        assert main(["render", str(bundle), str(wav_in), str(wav_out), "--tier", tier]) == 0
        y, sr = sf.read(str(wav_out), dtype="float32")
        assert sr == 16000 and len(y) == len(u["input"])
        name = "low" if tier == "low" else "medium"
        st, _ = load_student(vd / "tiers" / f"{name}.pt")
        ys = st.convert(u["input"].numpy(), (u["f0"], u["voicing"]))
        n = len(ys)
        # the runtime is the reference graph (the exact contract, whole utterance)
        D = st.cfg.lookahead
        spec = tier_spec(name, st)
        ref = run_graph(spec.graph, spec.tensors, u["input"].numpy()).astype(np.float32)[D:D + n]
        scale = max(np.max(np.abs(ys)), 1e-3)
        assert np.max(np.abs(y[:n] - ref)) < 1e-3 * scale, tier
        # and the PyTorch student: HARMONIC integrates f0 into phase, and an f0
        # one float32 ulp apart drifts slowly (docs/bundle-format.md,
        # Conformance): 0.5 % of the peak after 1 s, 2 % after 3 s here
        sec = st.cfg.sample_rate
        assert np.max(np.abs(y[:sec] - ys[:sec])) < 0.01 * scale, tier
        assert np.max(np.abs(y[:n] - ys)) < 0.03 * scale, tier

    # at 48 kHz the native runtime runs too (resampled), output is finite speech-level audio
    with Bundle.open(str(bundle)) as b:
        v = Voice(b, sample_rate=48000, max_block=480, tier="medium")
        x48 = np.repeat(u["input"].numpy(), 3).astype(np.float32)
        y48 = v.process(x48)
        assert np.all(np.isfinite(y48)) and 1e-4 < np.sqrt(np.mean(y48 ** 2)) < 1.0

    # list finds the voice in the folder
    assert main(["list", str(tmp_path)]) == 0
    assert "tiny.test" in capsys.readouterr().out

    # the student's front end and the cached pitch agree (no drift between cache and model)
    fe = frontend(u["input"].numpy(), st.cfg)
    assert np.allclose(fe.f0.numpy(), u["f0"].numpy()[: fe.f0.numel()])


def test_tiny_distill_of_an_audio_only_master(tmp_path: Path) -> None:
    """`[master] audio_only = true` through the CLI: the cache holds no
    master F0 and no feature of the master's own — its envelope is read
    from its audio, and the student learns from it layer to layer as from a
    white-box master's; PITCH_MAP's target is
    fitted from the pairs (near the white-box master's own), the post-filter
    is matched to the envelope read from the master's audio, and the bundle
    packs and verifies."""
    from voiceskin_tooling.cli import main
    from voiceskin_tooling.distill import load_cache
    from voiceskin_tooling.voicedef import load_voice

    toml = small_voice(tmp_path, "tiny.black", "slt", {"kal": 2, "ked": 1, "rms": 1}, 3,
                       corpus={"heldout_speakers": ["rms"]}, audio_only=True,
                       training={"steps": 8, "batch_size": 4, "segment_seconds": 0.4},
                       tiers=("low",))
    out = tmp_path / "out"
    assert main(["distill", str(toml), "-o", str(out), "-j", "2", "-q", "--no-fail"]) == 0
    vd = out / "tiny.black"
    dist = json.loads((vd / "distill.json").read_text())
    cache = load_cache(dist["cache"])
    assert cache["master"]["audio_only"] and "f0_method" not in cache["master"]
    for u in cache["utts"]:
        assert "_read_from_audio" in u["features"] and "aperiodicity" not in u["features"]
        env = u["features"]["log_env"]
        assert env.shape[1] == 65 and abs(env.shape[0] - u["master"].numel() // 64) <= 1
    assert dist["training"]["low"]["kd_pairs"] == ["gru__to__log_env"]
    fit = cache["pitch_fit"]
    assert fit["fitted"] and fit["frames"] >= 200
    white = load_voice(toml).make_master().inner
    white.fit([sf.read(p, dtype="float32")[0] for p in sorted((tmp_path / "ref").glob("*.flac"))], 16000)
    # the fitted target mean within 50 cents of the white-box master's own
    assert abs(cache["pitch"]["target_mu"] - white.pitch_params().target_mu) * 1200 / np.log(2) < 50
    pf = dist["training"]["low"]["postfilter"]
    assert "audio" in pf["reference"] and pf["contrast_master"] > 0
    assert dist["training"]["low"]["steps"] == 8
    bundle = tmp_path / "black.vskin"
    assert main(["pack", str(toml), "--out", str(out), "-o", str(bundle)]) == 0
    assert main(["verify", str(bundle), "--checkpoints", str(vd / "tiers")]) == 0


def test_int8_tiers_are_heard_as_they_ship(tmp_path: Path) -> None:
    """A tier packed with int8 weights gets its QA from the packed bundle
    through the native library, not from its float Student: its scores
    are those of the bundle's own rendering, and differ from the float
    Student's."""
    from voiceskin_tooling.cli import main
    from voiceskin_tooling.distill import load_cache, load_student
    from voiceskin_tooling.qa import BundleTier, logmel_distance

    toml = small_voice(tmp_path, "tiny.q8", "slt", {"kal": 2, "rms": 1}, 3,
                       corpus={"heldout_speakers": ["rms"]},
                       training={"steps": 8, "batch_size": 4, "segment_seconds": 0.4},
                       tiers=({"name": "low", "weights": "int8"},))
    out = tmp_path / "out"
    assert main(["distill", str(toml), "-o", str(out), "-j", "1", "-q", "--no-fail"]) == 0
    vd = out / "tiny.q8"
    qa = json.loads((vd / "qa.json").read_text())
    assert "int8" in qa["tiers"]["low"]["rendered_by"]
    bundle = tmp_path / "q8.vskin"
    assert main(["pack", str(toml), "--out", str(out), "-o", str(bundle)]) == 0
    data = bundle.read_bytes()
    cache = load_cache(json.loads((vd / "distill.json").read_text())["cache"])
    student, _ = load_student(vd / "tiers" / "low.pt")
    native, torch_ = [], []
    for u in (u for u in cache["utts"] if u["split"] == "validation"):
        x, m = u["input"].numpy(), u["master"].numpy()
        y = BundleTier(data, "low").convert(x)
        native.append(logmel_distance(y, m, int(cache["sample_rate"])))
        torch_.append(logmel_distance(student.convert(x, (u["f0"], u["voicing"])), m, int(cache["sample_rate"])))
    assert native
    # the QA's log-mel distance for the tier is the packed int8 tier's, not the float student's
    got = qa["tiers"]["low"]["heldout"]["logmel_distance"]
    assert got == pytest.approx(float(np.mean(native)), rel=1e-6)
    assert abs(float(np.mean(torch_)) - got) > 1e-6


def test_distill_no_postfilter_keeps_the_trained_head(tmp_path: Path) -> None:
    from voiceskin_tooling.cli import main

    toml = _voice(tmp_path)
    out = tmp_path / "out"
    assert main(["distill", str(toml), "-o", str(out), "--tiers", "low", "--no-qa", "-q",
                 "--no-postfilter"]) == 0
    dist = json.loads((out / "tiny.test" / "distill.json").read_text())
    assert "postfilter" not in dist["training"]["low"]
