"""Quality-tier presets for the streaming student.

A :class:`TierPreset` fixes the student's capacity for one quality setting.
The student family (``voiceskin_tooling.student``) reads these fields; the
voice TOML picks a preset per tier and may override any field.

Student shape the fields describe (DDSP-style, all at hop = 64 samples,
i.e. 4 ms at 16 kHz; one graph step per hop)::

    FRAME(win) -> STFT_MAG(n_fft) -> LINEAR(mel, n_mels) -> LOG       input features
    FRAME(pitch_window) -> PITCH_YIN -> PITCH_MAP                      f0 path
    conv_layers x CONV1D(conv_channels, conv_kernel) + ACT
    gru_layers  x GRU(gru_hidden)
    LINEAR(hidden) + ACT -> heads: harmonic env (env_bins), noise env (noise_bins)
    HARMONIC(max_harmonics) + NOISE -> output

Presets (built-ins, lowest quality first): ``low``, ``medium``, ``high``,
``ultra``. New presets come from entry points in group ``voiceskin.tiers``;
an entry point names a :class:`TierPreset` instance or a zero-argument
callable returning one::

    [project.entry-points."voiceskin.tiers"]
    console = "my_package.tiers:CONSOLE"

Cost (the student's exported graph, ``voiceskin.graph.flops_per_step``
estimates, 16 kHz): low 91k parameters / 153 MFLOP/s, medium 118k / 168,
high 206k / 213, ultra 374k / 299. About 100 MFLOP/s of that is the shared
front end (PITCH_YIN on 512 samples, STFT, synthesis), the same for every
tier; the formant normalisation's warp-fit matrix (warp_grid × bands in
150 Hz–5 kHz × n_mels constants: 31k for low, 46k for high) costs as many
MACs per step; the rest scales with ``conv_channels``, ``gru_hidden`` and
``hidden``.
A modern core sustains tens of GFLOP/s on these SIMD kernels, so ``ultra``
is meant to stay around 1% of one core; the estimate counts YIN's worst
case, and the QA measures the real cost through the native library.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from ._registry import PluginLoadError, candidates

__all__ = [
    "TierPreset",
    "UnknownTierError",
    "available_tiers",
    "get_tier_preset",
    "LOW",
    "MEDIUM",
    "HIGH",
    "ULTRA",
    "LOW_PRUNED",
    "MEDIUM_PRUNED",
    "HIGH_PRUNED",
    "ENTRY_POINT_GROUP",
    "ladder_rank",
    "ladder",
    "ladder_fraction",
    "ladder_steps",
]

ENTRY_POINT_GROUP = "voiceskin.tiers"


@dataclass(frozen=True)
class TierPreset:
    name: str
    #: ordering key, lower = lower quality (bundles list tiers lowest first)
    rank: int
    description: str = ""
    #: samples per graph step at the model rate
    hop: int = 64
    #: input analysis frame (samples) and FFT size of STFT_MAG
    win: int = 512
    n_fft: int = 512
    #: log-mel input features
    n_mels: int = 40
    #: their frequency scale: bands equally spaced in ln(1 + f / mel_break_hz)
    #: (700 = HTK mel; higher = wider low bands, which average over the
    #: harmonics of higher voices instead of resolving them)
    mel_break_hz: float = 700.0
    #: causal convolution stack over frames
    conv_channels: int = 64
    conv_layers: int = 2
    conv_kernel: int = 3
    #: recurrent core
    gru_hidden: int = 64
    gru_layers: int = 1
    #: width of the dense layer feeding the synthesiser heads
    hidden: int = 96
    #: harmonic envelope bins (B of HARMONIC) and noise envelope bins (B of NOISE)
    env_bins: int = 64
    noise_bins: int = 32
    max_harmonics: int = 64
    #: PITCH_YIN frame length (samples) and search range. Keep these equal
    #: across the tiers of one voice: the master-output cache and the pitch
    #: path are shared by all tiers (YIN costs ~3·N²/2 FLOPs per step).
    pitch_window: int = 512
    fmin: float = 60.0
    fmax: float = 600.0
    #: speaker normalisation: RUNNING_MEAN of the log-mel features over voiced
    #: steps (time constant and warm-up in steps; norm_tau = 0 turns it off)
    norm_tau: float = 2500.0
    norm_warmup: float = 100.0
    #: feed the network the whole running mean too (default: only its band
    #: average, the source's level; the timbre would let it memorise speakers)
    norm_keep_mean: bool = False
    #: linear skip from the input features to the envelope heads
    skip: bool = False
    #: output delay the student trains with (samples, multiple of hop): its
    #: analysis window then centres on the sound it makes; adds to latency
    lookahead: int = 128
    #: formant normalisation: the student picks the master's warp factor α
    #: (ARGMIN over warp_grid factors of how well the warped running mean
    #: matches the target) and sees x − M̂ warped by α (WARP); 0 = off,
    #: else ≥ 3 and norm_tau > 0
    warp_grid: int = 25
    #: weights of the packed tier: "f32", or "int8" (post-training
    #: quantisation of its LINEAR and GRU weights when the bundle is packed,
    #: voiceskin_tooling.quantise; not used in training; the QA hears the
    #: packed tier; measured in docs/experiments.md; no preset sets it, the
    #: demo voice's tiers do)
    weights: str = "f32"
    #: structured pruning (voiceskin_tooling.prune): the name of the preset
    #: whose network cost this tier is pruned down to, starting from this
    #: preset's own (wider) conv, GRU and dense widths; "" = not pruned
    prune_target: str = ""
    #: target-frame picks (student.StudentConfig.pick_k; 0 = off): NEAREST
    #: over pick_frames of the target's own frames, keyed by the normalised
    #: features, a predicted content code (needs a master with a content
    #: key: world2's knn_content) and voicing; the content part weighs
    #: pick_content_weight times the features' spread
    pick_k: int = 0
    pick_frames: int = 4096
    pick_content_weight: float = 3.0
    #: free-form extras for future student versions
    extra: dict[str, Any] = field(default_factory=dict)

    def with_overrides(self, **overrides: Any) -> "TierPreset":
        """Copy with some fields replaced; unknown field names raise KeyError."""
        valid = {f.name for f in dataclasses.fields(self)}
        bad = sorted(set(overrides) - valid)
        if bad:
            raise KeyError(f"unknown tier field(s) {bad}; valid: {sorted(valid - {'extra'})}")
        return dataclasses.replace(self, **overrides)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# Every tier analyses 16 ms frames (win 256): 32 ms frames generalised worse
# to unseen speakers (high tier, 300 s: held-out log-mel ratio 0.62 → 0.54).
# Envelope bins set how much formant detail reaches the output, which is what
# the speaker-identity score hears: the DDSP synthesiser driven by the
# master's own envelope recovers −0.1 / 0.62 / 0.88 / 1.0 of the master's
# identity gain at 33 / 65 / 129 / 257 bins (docs/distillation.md).
# low: 40 mel bands and a 48-unit GRU (was 32 / 32): with formant
# normalisation, held-out identity 0.53 → 0.64 (3000 steps, same cache and
# seed; a 64-unit GRU with hidden 96 reached 0.62); its cost stays the front
# end's.
# high: mel_break_hz 2000 (wider low bands, which average over the harmonics
# of higher voices): held-out log-mel ratio 0.48–0.49 against 0.50–0.52 at
# HTK's 700 (12000 steps, three seeds); identity within the seed spread.
LOW = TierPreset(
    "low", rank=0, description="phones / low-end: smallest student",
    win=256, n_fft=256, n_mels=40, conv_channels=32, conv_layers=2, gru_hidden=48, hidden=64,
    env_bins=65, noise_bins=16, max_harmonics=32,
)
MEDIUM = TierPreset(
    "medium", rank=1, description="laptops / consoles",
    win=256, n_fft=256, n_mels=40, conv_channels=48, conv_layers=2, gru_hidden=64, hidden=96,
    env_bins=97, noise_bins=24, max_harmonics=48,
)
HIGH = TierPreset(
    "high", rank=2, description="desktops",
    win=256, n_fft=256, n_mels=48, mel_break_hz=2000.0, conv_channels=64, conv_layers=3, gru_hidden=96,
    hidden=128, env_bins=129, noise_bins=32, max_harmonics=64,
)
ULTRA = TierPreset(
    "ultra", rank=3, description="highest quality, still ~1% of a core",
    win=256, n_fft=256, n_mels=64, conv_channels=96, conv_layers=3, gru_hidden=128, hidden=192,
    env_bins=161, noise_bins=48, max_harmonics=80,
)

# Pruned twins (issue 18 item 3, voiceskin_tooling.prune): the front end of
# low / medium / high, the network of an ultra-size student pruned during
# distillation down to the twin's network cost, so each pair is compared at
# equal cost (benchmarks/prune_compare.py; docs/experiments.md).
def _pruned(p: TierPreset) -> TierPreset:
    return p.with_overrides(name=f"{p.name}-pruned", description=f"{p.description}; pruned from ultra's width",
                            conv_channels=ULTRA.conv_channels, gru_hidden=ULTRA.gru_hidden,
                            hidden=ULTRA.hidden, prune_target=p.name)


LOW_PRUNED, MEDIUM_PRUNED, HIGH_PRUNED = _pruned(LOW), _pruned(MEDIUM), _pruned(HIGH)

_BUILTIN_OBJECTS = {p.name: p for p in (LOW, MEDIUM, HIGH, ULTRA, LOW_PRUNED, MEDIUM_PRUNED, HIGH_PRUNED)}
_BUILTINS: dict[str, tuple[str, Callable[[], Any]]] = {
    n: (f"voiceskin_tooling.tiers:{n.upper().replace('-', '_')}", (lambda p=p: p))
    for n, p in _BUILTIN_OBJECTS.items()
}


class UnknownTierError(KeyError):
    """No tier preset of that name; the message lists the available ones."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown tier"


def _resolve(name: str, obj: Any, origin: str) -> TierPreset:
    if callable(obj) and not isinstance(obj, TierPreset):
        obj = obj()
    if not isinstance(obj, TierPreset):
        raise PluginLoadError(f"tier preset {name!r} ({origin}) is {type(obj).__name__}, not a TierPreset")
    if obj.name != name:
        obj = dataclasses.replace(obj, name=name)
    return obj


def available_tiers() -> dict[str, TierPreset]:
    """name -> preset, lowest rank first. Plugins that fail to load raise."""
    found = candidates(ENTRY_POINT_GROUP, _BUILTINS)
    presets = [_resolve(n, c.load(), c.origin) for n, c in found.items()]
    return {p.name: p for p in sorted(presets, key=lambda p: (p.rank, p.name))}


def tier_names() -> list[str]:
    """Names only, without loading plugins (sorted by name)."""
    return sorted(candidates(ENTRY_POINT_GROUP, _BUILTINS))


def get_tier_preset(name: str) -> TierPreset:
    found = candidates(ENTRY_POINT_GROUP, _BUILTINS)
    if name not in found:
        raise UnknownTierError(
            f"unknown tier preset {name!r}; available: {', '.join(sorted(found))}. "
            f"Add presets with an entry point in group {ENTRY_POINT_GROUP!r}."
        )
    return _resolve(name, found[name].load(), found[name].origin)


# ----------------------------------------------------------------- the ladder
# A voice's tiers by rank (the QA's default bars and its ordering check):
# bars go by a tier's place on the ladder, not by its place in the voice's
# [[tiers]] list, and tiers of equal rank (a tier and its pruned twin) share
# their bars and are compared as twins, not ordered.


def ladder_rank(preset: TierPreset) -> int:
    """A tier's place on the quality ladder: its preset's ``rank``, or, for a
    pruned tier, the rank of the preset its network is pruned to
    (``prune_target``: the same network cost), so ``low-pruned`` ranks with
    ``low``."""
    return get_tier_preset(preset.prune_target).rank if preset.prune_target else preset.rank


def ladder(tiers: Sequence[str] | Mapping[str, float]) -> dict[str, float]:
    """name -> rank: a mapping as given (e.g. ``{t.name: t.rank for t in
    voice.tiers}``); a plain list of names is taken as a strict ladder, each
    name ranked by its position (lowest first)."""
    if isinstance(tiers, Mapping):
        return dict(tiers)
    return {n: i for i, n in enumerate(tiers)}


def ladder_fraction(tier: str, tiers: Sequence[str] | Mapping[str, float]) -> float:
    """Where ``tier`` sits between the lowest rank (0) and the highest (1),
    the distinct ranks evenly spaced between; 1 when there is one rank."""
    levels = sorted(set(ladder(tiers).values()))
    return levels.index(ladder(tiers)[tier]) / (len(levels) - 1) if len(levels) > 1 else 1.0


def ladder_steps(tiers: Sequence[str] | Mapping[str, float]) -> list[list[str]]:
    """The tiers grouped by rank, lowest rank first (the given order within
    a group): one rung of the ladder per group."""
    r = ladder(tiers)
    return [[n for n in r if r[n] == level] for level in sorted(set(r.values()))]
