"""Voice: one audio stream converted through a bundle (wraps vsk_voice).

The audio path (:meth:`Voice.process_into`) does argument checks and one
``vsk_voice_process`` call; the only cffi objects it creates are the two
``ffi.from_buffer`` views of the numpy arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._ffi import ffi, get_lib
from .bundle import Bundle
from .errors import VoiceskinError, check

__all__ = ["Voice"]

_F32 = np.dtype(np.float32)


class Voice:
    """Streams float32 audio through one bundle.

    ``x`` is ``[frames]`` (mono) or ``[frames, channels]`` float32, C-contiguous
    (interleaved). Output is delayed by :attr:`latency` frames.

    ``max_isa`` caps the SIMD level (0 best, 1 scalar, 2 SSE2/NEON, 3 AVX2;
    equal caps give bit-identical output across machines).
    ``max_cost_per_second`` (0 = the library default, 5e8) refuses a bundle
    any of whose tiers needs more (``VSK_ERR_TOO_COSTLY``; see
    :attr:`TierInfo.cost_per_second` and docs/abi.md "Bounded cost").
    ``cpu_budget`` (fraction of one core, 0 = off) starts the CPU governor
    (see :attr:`cpu_budget`); ``shared_budget`` joins a :class:`CpuBudget`
    that several voices share.
    ``schedule`` is ``"low_latency"`` (default: each buffer runs the graph
    steps its input completes, so buffers cost 1x or ~2x) or ``"even"``
    (each buffer runs the same share of the work; :attr:`latency` grows by
    one model hop, 4 ms for the 16 kHz students; the output is the same
    samples, that much later). See docs/abi.md "Even schedule".
    """

    SCHEDULES = {"low_latency": 0, "even": 1}

    def __init__(self, bundle: Bundle, sample_rate: int = 48000, channels: int = 1,
                 max_block: int = 1024, tier: int | str = 0, mix: float = 1.0,
                 bypass: bool = False, max_isa: int = 0,
                 max_cost_per_second: int = 0, cpu_budget: float = 0.0,
                 shared_budget: "CpuBudget | None" = None,
                 schedule: str = "low_latency") -> None:
        if not isinstance(bundle, Bundle):
            raise TypeError(f"bundle must be a voiceskin.Bundle, got {type(bundle).__name__}")
        for name, v in (("sample_rate", sample_rate), ("channels", channels),
                        ("max_block", max_block)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise TypeError(f"{name} must be an integer, got {v!r}")
        if not 1 <= channels <= 8:
            raise ValueError(f"channels must be 1..8, got {channels}")
        if not 1 <= max_block < 2**32:
            raise ValueError(f"max_block must be >= 1, got {max_block}")
        if not 0 < sample_rate < 2**32:
            raise VoiceskinError(-12, f"sample_rate {sample_rate}")
        mix = self._check_mix(mix)
        budget = _check_budget(cpu_budget, 1.0)
        if shared_budget is not None and not isinstance(shared_budget, CpuBudget):
            raise TypeError("shared_budget must be a voiceskin.CpuBudget or None, "
                            f"got {type(shared_budget).__name__}")
        if schedule not in self.SCHEDULES:
            raise ValueError(f"schedule must be one of {sorted(self.SCHEDULES)}, got {schedule!r}")
        lib = get_lib()
        self._lib = lib
        self._bundle = bundle
        tier_index = self._tier_index(tier)
        if isinstance(max_isa, bool) or not isinstance(max_isa, (int, np.integer)) \
                or not 0 <= max_isa < 2**32:
            raise ValueError(f"max_isa must be a VSK_ISA_LEVEL_* value, got {max_isa!r}")
        if isinstance(max_cost_per_second, bool) or \
                not isinstance(max_cost_per_second, (int, np.integer)) or \
                not 0 <= max_cost_per_second < 2**64:
            raise ValueError("max_cost_per_second must be an integer >= 0 (0 = default), "
                             f"got {max_cost_per_second!r}")
        cfg = ffi.new("vsk_voice_config *")
        lib.vsk_voice_config_init_size(cfg, ffi.sizeof("vsk_voice_config"))
        cfg.max_isa = int(max_isa)
        cfg.max_cost_per_second = int(max_cost_per_second)
        cfg.sample_rate = int(sample_rate)
        cfg.channels = int(channels)
        cfg.max_block_frames = int(max_block)
        cfg.initial_tier = tier_index
        cfg.mix = mix
        cfg.bypass = 1 if bypass else 0
        cfg.cpu_budget = budget
        cfg.schedule = self.SCHEDULES[schedule]
        if shared_budget is not None:
            cfg.shared_budget = shared_budget.ptr
        self._shared = shared_budget  # the library keeps its own reference too
        out = ffi.new("vsk_voice **")
        check(lib.vsk_voice_create(bundle.ptr, cfg, out),
              f"creating a voice for {bundle.voice_id!r} at {sample_rate} Hz")
        self._ptr = ffi.gc(out[0], lib.vsk_voice_destroy)
        self._process = lib.vsk_voice_process
        self._u32 = ffi.new("uint32_t *")
        self.sample_rate = int(sample_rate)
        self.channels = int(channels)
        self.max_block = int(max_block)
        self._mix = mix
        self._bypass = bool(bypass)
        self.schedule = schedule
        check(lib.vsk_voice_get_latency(self._ptr, self._u32), "reading latency")
        self._latency = int(self._u32[0])

    # ---------------------------------------------------------------- helpers
    @staticmethod
    def _check_mix(mix: float) -> float:
        try:
            m = float(mix)
        except (TypeError, ValueError):
            raise TypeError(f"mix must be a number in 0..1, got {mix!r}") from None
        if not 0.0 <= m <= 1.0:
            raise ValueError(f"mix must be in 0..1, got {mix}")
        return m

    def _tier_index(self, tier: int | str) -> int:
        n = len(self._bundle.tiers)
        if isinstance(tier, str):
            return self._bundle.find_tier(tier)
        if isinstance(tier, bool) or not isinstance(tier, (int, np.integer)):
            raise TypeError(f"tier must be an index or a tier name, got {tier!r}")
        if not 0 <= tier < n:
            raise VoiceskinError(-13, f"tier index {tier}",
                                 hint=f"the bundle has tiers 0..{n - 1}: "
                                      f"{[t.name for t in self._bundle.tiers]}")
        return int(tier)

    def _check_audio(self, a: Any, what: str) -> int:
        if not isinstance(a, np.ndarray):
            raise TypeError(f"{what} must be a numpy float32 array, got {type(a).__name__}")
        if a.dtype != _F32:
            raise TypeError(f"{what} must be float32, got {a.dtype} "
                            "(convert with .astype(np.float32))")
        if a.ndim == 1:
            if self.channels != 1:
                raise ValueError(f"{what} has shape {a.shape}, the voice has "
                                 f"{self.channels} channels: pass [frames, {self.channels}]")
        elif a.ndim == 2:
            if a.shape[1] != self.channels:
                raise ValueError(f"{what} has {a.shape[1]} channels, the voice has "
                                 f"{self.channels}")
        else:
            raise ValueError(f"{what} must be [frames] or [frames, channels], "
                             f"has shape {a.shape}")
        if not a.flags.c_contiguous:
            raise ValueError(f"{what} must be C-contiguous (interleaved); "
                             "use np.ascontiguousarray")
        if a.shape[0] >= 2**32:
            raise ValueError(f"{what}: too many frames in one call")
        return int(a.shape[0])

    # ------------------------------------------------------------------ audio
    def process(self, x: np.ndarray) -> np.ndarray:
        """Converts ``x`` and returns a new array of the same shape."""
        self._check_audio(x, "x")
        out = np.empty_like(x)
        self.process_into(x, out)
        return out

    def process_into(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Converts ``x`` into ``out`` (same shape; ``out is x`` allowed,
        partial overlap is not). Returns ``out``."""
        frames = self._check_audio(x, "x")
        if out is not x:
            self._check_audio(out, "out")
            if out.shape != x.shape:
                raise ValueError(f"out has shape {out.shape}, x has {x.shape}")
            if np.may_share_memory(x, out) and (
                    x.__array_interface__["data"][0] != out.__array_interface__["data"][0]):
                raise ValueError("x and out partially overlap; use the same array or "
                                 "separate ones")
        if not out.flags.writeable:
            raise ValueError("out is read-only")
        ptr = self._ptr
        if ptr is None:
            raise ValueError("voice is closed")
        st = self._process(ptr, ffi.from_buffer("float[]", x),
                           ffi.from_buffer("float[]", out, require_writable=True), frames)
        if st != 0:
            raise VoiceskinError(st, "processing audio")
        return out

    # ------------------------------------------------------------- controls
    @property
    def tier(self) -> int:
        """The most recently requested tier index; set an index or a name."""
        check(self._lib.vsk_voice_get_tier(self._live, self._u32), "reading tier")
        return int(self._u32[0])

    @tier.setter
    def tier(self, tier: int | str) -> None:
        check(self._lib.vsk_voice_set_tier(self._live, self._tier_index(tier)),
              f"setting tier {tier!r}")

    @property
    def tier_name(self) -> str:
        return self._bundle.tiers[self.tier].name

    @property
    def tier_state(self) -> dict[str, Any]:
        """What is heard, as of the last process/reset: ``requested`` (=
        :attr:`tier`), ``audible`` (the tier the output comes from; the
        outgoing one during a crossfade), ``incoming`` (warming up or fading
        in, else None) and ``switching``; and the CPU governor's
        ``governed_tier`` (the highest tier it allows; the last tier while
        no budget is set), ``cpu_load`` (its last measurement, fraction of
        one core) and ``governor_steps`` (tier changes it made)."""
        st = ffi.new("vsk_tier_state *")
        st.struct_size = ffi.sizeof("vsk_tier_state")
        check(self._lib.vsk_voice_get_tier_state(self._live, st), "reading tier state")
        inc = int(st.incoming)
        return {"requested": int(st.requested), "audible": int(st.audible),
                "incoming": None if inc == self._lib.VSK_NO_TIER else inc,
                "switching": bool(st.switching), "governed_tier": int(st.governed_tier),
                "cpu_load": float(st.cpu_load), "governor_steps": int(st.governor_steps)}

    @property
    def cpu_budget(self) -> float:
        """CPU budget of the governor ("dynamic quality"), fraction of one
        core (0.002 = 0.2 %); 0 = off. While set, the voice times its own
        processing and steps its tier down (or back up, after about a second
        with 20 % margin) through the usual crossfade, never above
        :attr:`tier`: it settles on the highest tier that fits. See
        docs/abi.md "CPU governor"."""
        f = ffi.new("float *")
        check(self._lib.vsk_voice_get_cpu_budget(self._live, f), "reading CPU budget")
        return float(f[0])

    @cpu_budget.setter
    def cpu_budget(self, fraction: float) -> None:
        check(self._lib.vsk_voice_set_cpu_budget(self._live, _check_budget(fraction, 1.0)),
              "setting CPU budget")

    @property
    def isa(self) -> int:
        """The SIMD level in use (VSK_ISA_LEVEL_SCALAR 1, SIMD128 2, AVX2 3),
        chosen once at creation under ``max_isa``."""
        check(self._lib.vsk_voice_get_isa(self._live, self._u32), "reading ISA")
        return int(self._u32[0])

    @property
    def mix(self) -> float:
        """Wet amount 0..1 (smoothed in the library)."""
        return self._mix

    @mix.setter
    def mix(self, wet: float) -> None:
        m = self._check_mix(wet)
        check(self._lib.vsk_voice_set_mix(self._live, m), "setting mix")
        self._mix = m

    @property
    def bypass(self) -> bool:
        return self._bypass

    @bypass.setter
    def bypass(self, on: bool) -> None:
        check(self._lib.vsk_voice_set_bypass(self._live, 1 if on else 0), "setting bypass")
        self._bypass = bool(on)

    @property
    def latency(self) -> int:
        """Total latency in host frames (constant)."""
        return self._latency

    @property
    def bundle(self) -> Bundle:
        return self._bundle

    def reset(self) -> None:
        """Clears streaming state; keeps tier, mix and bypass."""
        check(self._lib.vsk_voice_reset(self._live), "resetting voice")

    @property
    def _live(self) -> Any:
        if self._ptr is None:
            raise ValueError("voice is closed")
        return self._ptr

    @property
    def closed(self) -> bool:
        return self._ptr is None

    def close(self) -> None:
        """Destroys the voice (idempotent)."""
        if getattr(self, "_ptr", None) is not None:
            p, self._ptr = self._ptr, None
            ffi.release(p)

    def __enter__(self) -> "Voice":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"<Voice {self._bundle.voice_id} {self.sample_rate} Hz "
                f"x{self.channels}{' closed' if self._ptr is None else ''}>")


def _check_budget(fraction: float, top: float) -> float:
    try:
        f = float(fraction)
    except (TypeError, ValueError):
        raise TypeError(f"a CPU budget is a number, got {fraction!r}") from None
    if not 0.0 <= f <= top:   # also refuses NaN
        raise ValueError(f"a CPU budget must be in 0..{top:g} (fraction of one core), "
                         f"got {fraction!r}")
    return f


class CpuBudget:
    """A CPU budget shared by several voices (``Voice(...,
    shared_budget=b)``): each member governs its tier against its share,
    which follows need (what the members at their requested tier leave,
    split among the others; at least ``fraction`` / members).
    ``fraction`` is in cores, 0..64 (0 = off). Every :class:`Registry`
    has one: :attr:`Registry.cpu_budget`."""

    def __init__(self, fraction: float = 0.0) -> None:
        lib = get_lib()
        self._lib = lib
        self._owner: Any = None
        out = ffi.new("vsk_cpu_budget **")
        check(lib.vsk_cpu_budget_create(_check_budget(fraction, 64.0), ffi.NULL, out),
              "creating a CPU budget")
        self._ptr = ffi.gc(out[0], lib.vsk_cpu_budget_destroy)

    @classmethod
    def _borrowed(cls, ptr: Any, owner: Any) -> "CpuBudget":
        """A view of a budget that `owner` (a Registry) holds."""
        b = cls.__new__(cls)
        b._lib = get_lib()
        b._ptr = ptr
        b._owner = owner
        return b

    @property
    def ptr(self) -> Any:
        if self._owner is not None:
            self._owner._live  # raises once the registry is closed
        return self._ptr

    def _get(self) -> tuple[float, int, float]:
        f, m, load = ffi.new("float *"), ffi.new("uint32_t *"), ffi.new("float *")
        check(self._lib.vsk_cpu_budget_get(self.ptr, f, m, load), "reading a CPU budget")
        return float(f[0]), int(m[0]), float(load[0])

    @property
    def fraction(self) -> float:
        return self._get()[0]

    @fraction.setter
    def fraction(self, value: float) -> None:
        check(self._lib.vsk_cpu_budget_set(self.ptr, _check_budget(value, 64.0)),
              "setting a CPU budget")

    @property
    def members(self) -> int:
        """Voices that share it now."""
        return self._get()[1]

    @property
    def load(self) -> float:
        """The members' summed last measurements, fraction of one core."""
        return self._get()[2]
