"""The CPU governor ("dynamic quality", issue 18 item 4; docs/abi.md "CPU
governor") through the real shared library: exactly, with a fake clock
passed in vsk_voice_config.clock through cffi (tier k costs c_k of one core),
then through the SDK (Voice.cpu_budget, tier_state, CpuBudget) on the
system clock. native/tests/test_voice_governor.c has the C side."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest

from conftest import identity_tier
from voiceskin import Bundle, CpuBudget, Registry, Voice
from voiceskin._ffi import ffi, get_lib
from voiceskin.format import BundleSpec, write_bundle

RATE, BLOCK = 48000, 256


@pytest.fixture(scope="module")
def ladder(lib: object) -> Iterator[Bundle]:
    """Four identity tiers at 16 kHz whose hops halve, so each costs more."""
    spec = BundleSpec("test.governor", "Governor", "1.0.0",
                      [identity_tier(n, hop, 16000) for n, hop in
                       (("low", 256), ("medium", 128), ("high", 64), ("ultra", 32))])
    b = Bundle.from_bytes(write_bundle(spec))
    yield b
    b.close()


class FakeClock:
    """The second clock read of each vsk_voice_process call is the first
    plus `pending` ns: the call's cost."""

    def __init__(self) -> None:
        self.now = 0
        self.pending = 0
        self.reads = 0
        self.cb = ffi.callback("uint64_t(void *)", self._read)

    def _read(self, _user: object) -> int:
        self.reads += 1
        if self.reads % 2 == 0:
            self.now += self.pending
        return self.now


def _voice(ladder: Bundle, clock: FakeClock, tier: int, budget: float,
           shared: object = None) -> object:
    lib = get_lib()
    cfg = ffi.new("vsk_voice_config *")
    lib.vsk_voice_config_init_size(cfg, ffi.sizeof("vsk_voice_config"))
    cfg.sample_rate = RATE
    cfg.max_block_frames = BLOCK
    cfg.initial_tier = tier
    cfg.cpu_budget = budget
    cfg.clock = clock.cb
    if shared is not None:
        cfg.shared_budget = shared
    out = ffi.new("vsk_voice **")
    assert lib.vsk_voice_create(ladder.ptr, cfg, out) == 0
    return ffi.gc(out[0], lib.vsk_voice_destroy)


def _state(v: object) -> object:
    st = ffi.new("vsk_tier_state *")
    st.struct_size = ffi.sizeof("vsk_tier_state")
    assert get_lib().vsk_voice_get_tier_state(v, st) == 0
    return st


def _run_all(voices: list[object], clocks: list[FakeClock], costs: list[float],
             seconds: float) -> list[list[int]]:
    """Voices processed in turn, buffer by buffer (one audio thread); the
    audible tier of each after each buffer. Each buffer costs the audible
    tier's c_k (both tiers' during a switch)."""
    lib = get_lib()
    x = (0.3 * np.sin(0.05 * np.arange(BLOCK))).astype(np.float32)
    y = np.empty_like(x)
    xp, yp = ffi.from_buffer("float[]", x), ffi.from_buffer("float[]", y)
    buf_ns = 1e9 * BLOCK / RATE
    seen: list[list[int]] = [[] for _ in voices]
    for _ in range(int(seconds * RATE / BLOCK)):
        for v, clock, out in zip(voices, clocks, seen):
            st = _state(v)
            c = costs[st.audible] + (costs[st.incoming] if st.switching else 0.0)
            clock.pending = int(c * buf_ns)
            assert lib.vsk_voice_process(v, xp, yp, BLOCK) == 0
            clock.now += int(buf_ns) - clock.pending
            out.append(int(_state(v).audible))
    return seen


def _run(v: object, clock: FakeClock, costs: list[float], seconds: float) -> list[int]:
    return _run_all([v], [clock], costs, seconds)[0]


def _changes(seen: list[int]) -> int:
    return sum(a != b for a, b in zip(seen, seen[1:]))


def _costs(ladder: Bundle) -> list[float]:
    c = [t.cost_per_second for t in ladder.tiers]
    return [0.001 * k / c[0] for k in c]


def test_settles_on_highest_fitting_tier_and_stays(ladder: Bundle) -> None:
    costs = _costs(ladder)
    clock = FakeClock()
    between = 0.5 * (costs[1] + costs[2])
    v = _voice(ladder, clock, 3, between)
    seen = _run(v, clock, costs, 10.0)
    assert seen[-1] == 1
    assert _changes(seen) == 2                       # 3 -> 2 -> 1
    settled = max(i for i in range(1, len(seen)) if seen[i] != seen[i - 1])
    assert settled * BLOCK / RATE < 1.5
    st = _state(v)
    assert st.governed_tier == 1 and st.requested == 3 and st.governor_steps == 2
    assert math.isclose(st.cpu_load, costs[1], rel_tol=1e-3)
    assert _changes([1] + _run(v, clock, costs, 60.0)) == 0   # no oscillation

    # the budget grows: tier 2 fits within 80 %, tier 3 does not
    assert get_lib().vsk_voice_set_cpu_budget(v, 1.05 * costs[2] / 0.8) == 0
    seen = _run(v, clock, costs, 10.0)
    assert seen[-1] == 2 and _changes([1] + seen) == 1

    # off: the cap lifts, the requested tier plays, no clock is read
    assert get_lib().vsk_voice_set_cpu_budget(v, 0.0) == 0
    _run(v, clock, costs, 1.0)
    reads = clock.reads
    seen = _run(v, clock, costs, 5.0)
    assert set(seen) == {3} and clock.reads == reads
    assert _state(v).governed_tier == 3


def test_bad_budgets_are_refused(ladder: Bundle) -> None:
    lib = get_lib()
    with Voice(ladder) as v:
        for bad in (math.nan, -0.01, 1.5, math.inf):
            assert lib.vsk_voice_set_cpu_budget(v._ptr, bad) == lib.VSK_ERR_INVALID_ARGUMENT
            with pytest.raises(ValueError):
                v.cpu_budget = bad
        with pytest.raises(TypeError):
            v.cpu_budget = "lots"  # type: ignore[assignment]
        v.cpu_budget = 0.25
        assert v.cpu_budget == 0.25
    with pytest.raises(ValueError):
        Voice(ladder, cpu_budget=-1.0)
    with pytest.raises(ValueError):
        CpuBudget(65.0)
    cfg = ffi.new("vsk_voice_config *")
    lib.vsk_voice_config_init_size(cfg, ffi.sizeof("vsk_voice_config"))
    cfg.cpu_budget = math.nan
    out = ffi.new("vsk_voice **")
    assert lib.vsk_voice_create(ladder.ptr, cfg, out) == lib.VSK_ERR_INVALID_ARGUMENT


def test_tiny_budget_on_the_real_clock_settles_on_the_lowest_tier(ladder: Bundle) -> None:
    """Wide margins: 1e-7 of a core is below any tier's cost on any machine."""
    v = Voice(ladder, sample_rate=RATE, max_block=BLOCK, tier="ultra", cpu_budget=1e-7)
    x = np.zeros(BLOCK, np.float32)
    for _ in range(3 * RATE // BLOCK):
        v.process(x)
    st = v.tier_state
    assert st["audible"] == 0 and st["governed_tier"] == 0
    assert st["governor_steps"] == 3 and st["requested"] == 3
    assert 0.0 < st["cpu_load"] < 1e3


def test_budget_zero_leaves_the_tier_alone(ladder: Bundle) -> None:
    v = Voice(ladder, tier=2)
    x = np.zeros(RATE, np.float32)
    v.process(x)
    st = v.tier_state
    assert st["audible"] == 2 and st["governed_tier"] == 3 and st["cpu_load"] == 0.0
    assert v.cpu_budget == 0.0


def test_shared_budget(ladder: Bundle) -> None:
    b = CpuBudget(1e-7 * 3)
    vs = [Voice(ladder, sample_rate=RATE, max_block=BLOCK, tier=3, shared_budget=b)
          for _ in range(3)]
    assert b.members == 3 and b.fraction == pytest.approx(3e-7)
    x = np.zeros(BLOCK, np.float32)
    for _ in range(3 * RATE // BLOCK):
        for v in vs:
            v.process(x)
    assert [v.tier_state["audible"] for v in vs] == [0, 0, 0]
    assert b.load > 0.0
    for v in vs:
        v.close()
    assert b.members == 0 and b.load == 0.0


def test_registry_budget_is_shared_by_need(ladder: Bundle) -> None:
    """The registry's budget governs the voices made from it together. A
    voice asking for the lowest tier uses less than half; the other gets
    the rest (max-min fair): with S = c_0 + 1.05 c_2 / 0.8 an equal split
    would hold it on tier 1, by need it plays tier 2, and the two stay
    within S."""
    costs = _costs(ladder)
    reg = Registry()
    reg.add_bundle(ladder)
    S = costs[0] + 1.05 * costs[2] / 0.8
    assert 0.5 * S < costs[2] and S - costs[0] < costs[3]
    reg.cpu_budget.fraction = S
    assert reg.cpu_budget.fraction == pytest.approx(S)
    clocks = [FakeClock(), FakeClock()]
    vs = [_voice(reg[0], clocks[0], 0, 0.0, reg.cpu_budget.ptr),
          _voice(reg[0], clocks[1], 3, 0.0, reg.cpu_budget.ptr)]
    assert reg.cpu_budget.members == 2
    seen = _run_all(vs, clocks, costs, 20.0)
    assert seen[0][-1] == 0 and _changes(seen[0]) == 0
    assert seen[1][-1] == 2
    assert reg.cpu_budget.load <= S
    later = _run_all(vs, clocks, costs, 20.0)
    assert _changes(later[0]) == 0 and _changes(later[1]) == 0


def test_registry_budget_outlives_the_registry(ladder: Bundle) -> None:
    """Voices that joined a registry's budget keep it (and their governor)
    after the registry is closed; the SDK refuses the closed registry's
    budget view."""
    reg = Registry()
    reg.add_bundle(ladder)
    reg.cpu_budget.fraction = 3e-7
    vs = [Voice(reg[0], sample_rate=RATE, max_block=BLOCK, tier=3,
                shared_budget=reg.cpu_budget) for _ in range(2)]
    budget = reg.cpu_budget
    reg.close()
    with pytest.raises(ValueError, match="closed"):
        budget.members
    x = np.zeros(BLOCK, np.float32)
    for _ in range(3 * RATE // BLOCK):
        for v in vs:
            v.process(x)
    assert [v.tier_state["audible"] for v in vs] == [0, 0]
    for v in vs:
        v.close()
