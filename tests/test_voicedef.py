"""Voice TOML loading: the shipped demo voice, a full valid file, every
bad-TOML path (each error names the file, the key and a fix), and tier
presets from the registry, including one added through an entry point."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from plugin_helpers import fake_distribution
from voiceskin_tooling.tiers import HIGH, LOW, TierPreset, UnknownTierError, available_tiers, get_tier_preset
from voiceskin_tooling.voicedef import VoiceDefError, load_voice

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "data" / "corpus" / "target" / "slt"
SPEAKERS = ROOT / "data" / "corpus" / "speakers"

VALID = f"""
[voice]
id = "test.voice-1"
display_name = "Test voice"
version = "1.2.3"

[master]
name = "world"
[master.settings]
f0_method = "harvest"
population_path = "pop.json"

[target]
reference = ["{TARGET}/slt_00.flac", "ref/*.flac", "refdir"]

[corpus]
inputs = ["{SPEAKERS}"]
heldout_speakers = ["rms"]
chunk_seconds = 3

[training]
steps = 10
batch_size = 2
learning_rate = 0.01
device = "cpu"

[qa]
max_logmel_ratio = 0.75
max_f0_median_cents = 100

[[tiers]]
name = "high"
gru_hidden = 80
[tiers.qa]
max_logmel_ratio = 0.6

[[tiers]]
name = "tiny"
preset = "low"
sample_rate = 16000
"""


def _setup(tmp_path: Path, text: str) -> Path:
    (tmp_path / "ref").mkdir(exist_ok=True)
    (tmp_path / "refdir").mkdir(exist_ok=True)
    for d, name in (("ref", "a.flac"), ("refdir", "b.wav")):
        f = tmp_path / d / name
        if not f.exists():
            f.write_bytes((TARGET / "slt_01.flac").read_bytes())
    p = tmp_path / "voice.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_demo_voice_loads() -> None:
    v = load_voice(ROOT / "voices" / "demo.toml")
    assert v.id == "demo" and v.master.name == "world"
    assert [t.name for t in v.tiers] == ["low", "medium", "high"]
    assert len(v.reference_audio) == 16 and all(p.is_file() for p in v.reference_audio)
    assert v.corpus is not None and "rms" in (v.corpus.heldout_speakers or [])
    assert v.tier("high").qa.max_logmel_ratio == 0.6 and v.tier("low").qa.max_logmel_ratio == 0.75
    assert v.make_master().name == "world"


def test_valid_voice(tmp_path: Path) -> None:
    v = load_voice(_setup(tmp_path, VALID))
    assert (v.id, v.display_name, v.version) == ("test.voice-1", "Test voice", "1.2.3")
    assert v.master.settings["f0_method"] == "harvest"
    assert v.master.settings["population_path"] == str((tmp_path / "pop.json").resolve())
    assert [p.name for p in v.reference_audio] == ["slt_00.flac", "a.flac", "b.wav"]
    assert v.training.steps == 10 and v.training.learning_rate == 0.01 and v.training.device == "cpu"
    assert v.training.seed == 0
    # tiers sorted lowest quality first; overrides applied; per-tier QA merged over [qa]
    assert [t.name for t in v.tiers] == ["tiny", "high"]
    tiny, high = v.tiers
    assert tiny.preset.gru_hidden == LOW.gru_hidden and tiny.sample_rate == 16000 and tiny.preset.name == "tiny"
    assert high.preset.gru_hidden == 80 and high.preset.n_mels == HIGH.n_mels and high.sample_rate == 16000
    assert high.qa.max_logmel_ratio == 0.6 and high.qa.max_f0_median_cents == 100
    assert tiny.qa.max_logmel_ratio == 0.75 and tiny.qa.min_identity_recovery is None
    assert v.corpus and v.corpus.chunk_seconds == 3.0 and v.corpus.heldout_speakers == ["rms"]


def _edit(old: str, new: str) -> str:
    assert old in VALID, old
    return VALID.replace(old, new, 1)


BAD = [
    # (case id, toml text, key in the message, words in the message)
    ("syntax", _edit('version = "1.2.3"', 'version = "1.2.3'), None, "syntax error"),
    ("no-voice", _edit('[voice]\nid = "test.voice-1"\ndisplay_name = "Test voice"\nversion = "1.2.3"', ""),
     "voice", "missing"),
    ("missing-id", _edit('id = "test.voice-1"', ""), "voice.id", "missing"),
    ("bad-id", _edit('id = "test.voice-1"', 'id = "Bad Voice"'), "voice.id", "not a valid voice id"),
    ("version-type", _edit('version = "1.2.3"', "version = 1"), "voice.version", "must be a string"),
    ("version-form", _edit('version = "1.2.3"', 'version = "1.2"'), "voice.version", "MAJOR.MINOR.PATCH"),
    ("unknown-top", VALID + '\n[extras]\nx = 1\n', "extras", "not a known key"),
    ("unknown-voice-key", _edit('version = "1.2.3"', 'version = "1.2.3"\ncolour = "red"'), "voice.colour",
     "not a known key"),
    ("unknown-master", _edit('name = "world"', 'name = "hal9000"'), "master.name", "unknown master"),
    ("master-type", _edit('name = "world"', "name = 3"), "master.name", "must be a string"),
    ("no-master", _edit('[master]\nname = "world"\n[master.settings]\nf0_method = "harvest"\n'
                        'population_path = "pop.json"\n', ""), "master", "missing"),
    ("no-target", _edit(f'[target]\nreference = ["{TARGET}/slt_00.flac", "ref/*.flac", "refdir"]', ""),
     "target", "missing"),
    ("missing-ref", _edit('"ref/*.flac", "refdir"', '"ref/*.flac", "nothere.wav"'), "target.reference[2]",
     "does not exist"),
    ("empty-glob", _edit('"ref/*.flac"', '"ref/*.ogg"'), "target.reference[1]", "matches no audio"),
    ("ref-not-audio", _edit('"refdir"', '"voice.toml"'), "target.reference[2]", "not .wav"),
    ("ref-empty", _edit(f'reference = ["{TARGET}/slt_00.flac", "ref/*.flac", "refdir"]', "reference = []"),
     "target.reference", "empty"),
    ("ref-type", _edit(f'reference = ["{TARGET}/slt_00.flac", "ref/*.flac", "refdir"]', "reference = 5"),
     "target.reference", "must be"),
    ("no-tiers", VALID[: VALID.index("[[tiers]]")], "tiers", "missing"),
    ("unknown-tier", _edit('preset = "low"', 'preset = "potato"'), "tiers[1].preset", "unknown tier preset"),
    ("unknown-tier-by-name", _edit('name = "high"', 'name = "potato"'), "tiers[0].name", "unknown tier preset"),
    ("dup-tier", _edit('name = "tiny"', 'name = "high"\npreset = "low"').replace('preset = "low"\npreset',
                                                                                    "preset", 1),
     "tiers[1].name", "appears twice"),
    ("tier-override-type", _edit("gru_hidden = 80", 'gru_hidden = "big"'), "tiers[0].gru_hidden",
     "must be an integer"),
    ("tier-override-unknown", _edit("gru_hidden = 80", "gru_width = 80"), "tiers[0].gru_width", "not a known key"),
    ("tier-rate", _edit("sample_rate = 16000", "sample_rate = 100"), "tiers[1].sample_rate", "outside"),
    ("tier-rate-not-trained", _edit("sample_rate = 16000", "sample_rate = 24000"), "tiers[1].sample_rate",
     "train and run at 16000 Hz only"),
    ("training-options-removed", _edit('device = "cpu"', 'device = "cpu"\n[training.options]\nx = 1'),
     "training.options", "was removed"),
    ("qa-type", _edit("max_f0_median_cents = 100", 'max_f0_median_cents = "low"'), "qa.max_f0_median_cents",
     "must be a number"),
    ("qa-unknown", _edit("max_f0_median_cents = 100", "max_f0_cents = 100"), "qa.max_f0_cents",
     "not a known key"),
    ("training-type", _edit("steps = 10", "steps = 1.5"), "training.steps", "must be an integer"),
    ("training-device", _edit('device = "cpu"', 'device = "tpu"'), "training.device", "not a device"),
    ("tier-norm-negative", _edit("gru_hidden = 80", "norm_tau = -5"), "tiers[0].norm_tau", "must be positive"),
    ("tier-lookahead-not-hop-multiple", _edit("gru_hidden = 80", "lookahead = 100"), "tiers[0].lookahead",
     "not a multiple of hop 64"),
    ("tier-lookahead-negative", _edit("gru_hidden = 80", "lookahead = -64"), "tiers[0].lookahead",
     "must be positive"),
    ("tier-warp-grid-too-small", _edit("gru_hidden = 80", "warp_grid = 2"), "tiers[0].warp_grid",
     "at least 3 factors"),
    ("tier-warp-grid-without-norm", _edit("gru_hidden = 80", "warp_grid = 25\nnorm_tau = 0"),
     "tiers[0].warp_grid", "norm_tau > 0"),
    ("tier-norm-keep-type", _edit("gru_hidden = 80", "norm_keep_mean = 1"), "tiers[0].norm_keep_mean",
     "must be a boolean"),
    ("training-augment", _edit("steps = 10", "steps = 10\naugment = -1"), "training.augment",
     "must not be negative"),
    ("corpus-missing-dir", _edit(f'inputs = ["{SPEAKERS}"]', 'inputs = ["no/such/dir"]'), "corpus.inputs[0]",
     "does not exist"),
]


@pytest.mark.parametrize("case,text,key,words", BAD, ids=[b[0] for b in BAD])
def test_bad_voice(tmp_path: Path, case: str, text: str, key: str | None, words: str) -> None:
    p = _setup(tmp_path, text)
    with pytest.raises(VoiceDefError) as e:
        load_voice(p)
    msg = str(e.value)
    assert str(p) in msg, msg  # names the file
    assert words in msg, msg
    assert " — " in msg and len(e.value.fix) > 5  # says what to do
    if key is not None:
        assert e.value.key == key and f"[{key}]" in msg, msg


def test_syntax_error_names_the_line(tmp_path: Path) -> None:
    p = _setup(tmp_path, "[voice]\nid = \n")
    with pytest.raises(VoiceDefError, match="line 2"):
        load_voice(p)


def test_missing_file_and_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(VoiceDefError, match="does not exist"):
        load_voice(tmp_path / "nope.toml")
    p = tmp_path / "latin1.toml"
    p.write_bytes('[voice]\ndisplay_name = "Zo\xeb"\n'.encode("latin-1"))
    with pytest.raises(VoiceDefError, match="UTF-8"):
        load_voice(p)


def test_make_master_reports_bad_settings(tmp_path: Path) -> None:
    v = load_voice(_setup(tmp_path, _edit('f0_method = "harvest"', 'f0_method = "guess"')))
    with pytest.raises(VoiceDefError, match=r"\[master.settings\].*f0_method"):
        v.make_master()


def test_audio_only_master_hides_pitch_and_features(tmp_path: Path) -> None:
    """`[master] audio_only = true` hands the distillation a black box: the
    same audio, no F0, voicing, features or pitch definition, and a cache
    key of its own; a non-boolean value is refused."""
    from voiceskin_tooling.master_cache import master_exposes_pitch

    text = VALID.replace('population_path = "pop.json"', "")
    plain = load_voice(_setup(tmp_path, text)).make_master()
    v = load_voice(_setup(tmp_path, text.replace('name = "world"', 'name = "world"\naudio_only = true')))
    assert v.master.audio_only
    m = v.make_master()
    assert master_exposes_pitch(plain) and not master_exposes_pitch(m)
    assert "f0_method" not in m.config()  # the tracker is not told either
    assert m.fingerprint() != plain.fingerprint()
    rng = np.random.default_rng(0)
    refs = [np.sin(2 * np.pi * 220 * np.arange(16000) / 16000) * 0.3 + 0.01 * rng.standard_normal(16000)]
    m.fit(refs, 16000)
    out = m.convert(refs[0][:8000], 16000)
    assert out.f0 is None and out.voicing is None and out.features is None
    assert len(out.audio) == 8000 and np.isfinite(out.audio).all() and np.abs(out.audio).max() > 0.01
    with pytest.raises(VoiceDefError, match="audio_only"):
        load_voice(_setup(tmp_path, _edit('name = "world"', 'name = "world"\naudio_only = "yes"')))


def test_tier_presets() -> None:
    tiers = available_tiers()
    # lowest rank first; a pruned twin sits beside its width-scaled tier
    assert list(tiers)[:7] == ["low", "low-pruned", "medium", "medium-pruned", "high", "high-pruned", "ultra"]
    hidden = [tiers[n].gru_hidden for n in ("low", "medium", "high", "ultra")]
    assert hidden == sorted(hidden) and hidden[-1] <= 128
    assert get_tier_preset("high") is HIGH
    with pytest.raises(UnknownTierError, match="ultra"):
        get_tier_preset("mega")
    with pytest.raises(KeyError, match="gru_width"):
        LOW.with_overrides(gru_width=3)


def test_entry_point_tier_in_a_voice(tmp_path: Path) -> None:
    remove = fake_distribution(
        tmp_path, "console_tiers", {"voiceskin.tiers": {"console": "console_tiers_mod:CONSOLE"}},
        {"console_tiers_mod": """
            from voiceskin_tooling.tiers import TierPreset
            CONSOLE = TierPreset("console", rank=1, gru_hidden=48, conv_channels=40)
        """},
    )
    try:
        tiers = available_tiers()
        assert list(tiers).index("console") < list(tiers).index("high")
        assert isinstance(tiers["console"], TierPreset)
        v = load_voice(_setup(tmp_path, _edit('preset = "low"', 'preset = "console"')))
        assert v.tier("tiny").preset.gru_hidden == 48
    finally:
        remove()
    with pytest.raises(UnknownTierError):
        get_tier_preset("console")


def test_speaker_normalisation_and_augment_settings(tmp_path: Path) -> None:
    """norm_tau = 0 turns the student's RUNNING_MEAN off (with the formant
    normalisation that needs it: warp_grid = 0); booleans override booleans;
    [training] augment is read."""
    v = load_voice(_setup(tmp_path, _edit("gru_hidden = 80",
                                          "gru_hidden = 80\nnorm_tau = 0\nwarp_grid = 0\nnorm_keep_mean = true")
                          .replace("steps = 10", "steps = 10\naugment = 3")))
    high = v.tiers[1].preset
    assert high.norm_tau == 0 and high.warp_grid == 0 and high.norm_keep_mean is True
    assert v.tiers[0].preset.warp_grid == LOW.warp_grid == 25
    assert v.tiers[0].preset.norm_tau == LOW.norm_tau > 0
    assert v.training.augment == 3
    from voiceskin_tooling.student import config_from_tier

    assert config_from_tier(high).norm_tau == 0 and config_from_tier(v.tiers[0].preset).norm_tau > 0


def test_lookahead_setting(tmp_path: Path) -> None:
    """lookahead = 0 turns it off; the presets train 128 samples (8 ms) late
    and a student declares hop + lookahead as its latency."""
    v = load_voice(_setup(tmp_path, _edit("gru_hidden = 80", "gru_hidden = 80\nlookahead = 0")))
    from voiceskin_tooling.student import Student, config_from_tier

    assert v.tiers[1].preset.lookahead == 0 and v.tiers[0].preset.lookahead == LOW.lookahead == 128
    assert config_from_tier(v.tiers[1].preset).lookahead == 0
    cfg = config_from_tier(v.tiers[0].preset)
    assert cfg.lookahead_steps == 2
    from voiceskin_tooling.pack import tier_spec

    spec = tier_spec("low", Student(cfg))
    assert spec.latency_samples == spec.hop_samples + 128


def test_weights_setting(tmp_path: Path) -> None:
    """weights = "int8" per tier (post-training int8 weights when packed);
    the default is "f32"; anything else is refused with the choices."""
    v = load_voice(_setup(tmp_path, _edit("gru_hidden = 80", 'gru_hidden = 80\nweights = "int8"')))
    assert v.tier("high").preset.weights == "int8" and v.tier("tiny").preset.weights == "f32"
    with pytest.raises(VoiceDefError) as ei:
        load_voice(_setup(tmp_path, _edit("gru_hidden = 80", 'gru_hidden = 80\nweights = "int4"')))
    assert "weights" in str(ei.value) and "int8" in str(ei.value)


def test_prune_target_setting(tmp_path: Path) -> None:
    """prune_target names the preset whose network cost a tier prunes to;
    an unknown name is refused with the choices."""
    v = load_voice(_setup(tmp_path, _edit("gru_hidden = 80", 'gru_hidden = 80\nprune_target = "low"')))
    assert v.tier("high").preset.prune_target == "low" and v.tier("tiny").preset.prune_target == ""
    # on the quality ladder a pruned tier ranks with the preset it is pruned to (the QA's bars)
    assert v.tier("high").rank == v.tier("tiny").rank == LOW.rank and v.tier("high").preset.rank == HIGH.rank
    with pytest.raises(VoiceDefError) as ei:
        load_voice(_setup(tmp_path, _edit("gru_hidden = 80", 'gru_hidden = 80\nprune_target = "tiny-ish"')))
    assert "prune_target" in str(ei.value) and "low-pruned" in str(ei.value)
    with pytest.raises(VoiceDefError, match="one-layer GRU"):
        load_voice(_setup(tmp_path, _edit("gru_hidden = 80", 'gru_hidden = 80\ngru_layers = 2\nprune_target = "low"')))
