"""ABI 0.4-0.6 through the SDK (docs/abi.md, "Growing the ABI", "Bounded cost"):
the cost limit refuses the hostile bundle of issue 14 item 7 and admits
every real tier with margin; an older, smaller config still works; tier
state, ISA cap, registry removal; and, on the built library, that the only
code executing CPUID is the detection that runs at voice init
(native/tests/test_audio_no_cpuid.c proves no [audio] call reaches it) and
that the only clock is clock_gettime, called only by the CPU governor."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from voiceskin import Bundle, Registry, Voice, VoiceskinError
from voiceskin._ffi import ffi, get_lib, library_path
from voiceskin.format import BundleSpec, TierSpec, write_bundle
from voiceskin.graph import GraphBuilder

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = 500_000_000   # VSK_DEFAULT_MAX_COST_PER_SECOND


def hostile_bytes() -> bytes:
    """hop 1, FRAME 65536, PITCH_YIN fmin 0.24 Hz at 16 kHz; the manifest
    claims 1 FLOP/s (the library must not believe it)."""
    b = GraphBuilder(1)
    f = b.frame(b.input, 65536)
    p = b.pitch_yin(f, 16000.0, 0.24, 8000.0, 0.1)
    g, t = b.finish(b.slice(p, 0, 1))
    return write_bundle(BundleSpec("x.slow", "S", "1.0.0",
                                   [TierSpec("t", 16000, 1, 1, 0, 1, g, t)]))


def test_default_matches_header() -> None:
    assert get_lib().VSK_DEFAULT_MAX_COST_PER_SECOND == DEFAULT


def test_hostile_bundle_is_refused() -> None:
    data = hostile_bytes()
    assert len(data) < 600
    with Bundle.from_bytes(data) as b:          # valid: it opens
        t = b.tiers[0]
        assert t.flops_per_second == 1          # the manifest's claim
        assert t.cost_per_second > 100 * DEFAULT, t.cost_per_second
        with pytest.raises(VoiceskinError) as e:
            Voice(b, sample_rate=16000)
        assert e.value.name == "VSK_ERR_TOO_COSTLY" and e.value.status == -18
        with Registry() as r:
            with pytest.raises(VoiceskinError) as e:
                r.add_bytes(data)
            assert e.value.name == "VSK_ERR_TOO_COSTLY"
            with pytest.raises(VoiceskinError):
                r.add_bundle(b)
            assert len(r) == 0
        # a host that trusts it may raise the limit
        with Voice(b, sample_rate=16000, max_cost_per_second=2**64 - 1) as v:
            v.process(np.zeros(16, np.float32))
        with Registry(max_cost_per_second=t.cost_per_second) as r:
            assert r.add_bundle(b) == 0


def test_log_callback_says_why() -> None:
    lib = get_lib()
    messages: list[tuple[int, str]] = []

    @ffi.callback("vsk_log_fn")
    def on_log(user, level, msg):  # noqa: ANN001
        messages.append((int(level), ffi.string(msg).decode()))

    with Bundle.from_bytes(hostile_bytes()) as b:
        cfg = ffi.new("vsk_voice_config *")
        lib.vsk_voice_config_init_size(cfg, ffi.sizeof("vsk_voice_config"))
        cfg.sample_rate = 16000
        cfg.log = on_log
        out = ffi.new("vsk_voice **")
        assert lib.vsk_voice_create(b.ptr, cfg, out) == lib.VSK_ERR_TOO_COSTLY
    assert len(messages) == 1
    level, msg = messages[0]
    assert level == lib.VSK_LOG_ERROR
    assert "tier 0 't'" in msg and "VSK_ERR_TOO_COSTLY" in msg and "hop 1" in msg, msg


def test_student_family_fits_with_margin() -> None:
    """bench_runtime.py's 4-tier student family (random weights: cost does
    not depend on values) and the SDK demo bundle: every tier well under the
    default limit."""
    pytest.importorskip("torch")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import bench_runtime
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    from voiceskin.demo import demo_spec

    for data in (bench_runtime.build_bundle(), write_bundle(demo_spec())):
        with Bundle.from_bytes(data) as b:
            for t in b.tiers:
                print(b.voice_id, t.name, t.cost_per_second)
                assert 0 < t.cost_per_second < DEFAULT / 3, (t.name, t.cost_per_second)
            with Registry() as r:
                r.add_bundle(b)
            Voice(b, sample_rate=48000, tier=len(b.tiers) - 1).close()


def test_old_config_size_still_works(tiny_bundle_bytes: bytes) -> None:
    lib = get_lib()
    with Bundle.from_bytes(tiny_bundle_bytes) as b:
        cfg = ffi.new("vsk_voice_config *")
        lib.vsk_voice_config_init(cfg)           # the 0.3 export: 32 bytes
        assert cfg.struct_size == 32
        out = ffi.new("vsk_voice **")
        assert lib.vsk_voice_create(b.ptr, cfg, out) == 0
        lib.vsk_voice_destroy(out[0])
        cfg.struct_size = ffi.sizeof("vsk_voice_config") + 8
        assert lib.vsk_voice_create(b.ptr, cfg, out) == lib.VSK_ERR_STRUCT_TOO_NEW
        rc = ffi.new("vsk_registry_config *")
        lib.vsk_registry_config_init(rc)
        assert rc.struct_size == 12
        reg = ffi.new("vsk_registry **")
        assert lib.vsk_registry_create(rc, reg) == 0
        lib.vsk_registry_destroy(reg[0])


def test_0_5_config_size_and_schedule(tiny_bundle_bytes: bytes) -> None:
    """0.6 appended `schedule` and `reserved2`: a 0.5-sized (120-byte)
    config still creates a voice on the default schedule, whatever the bytes
    past it; VSK_SCHEDULE_EVEN adds one model hop of latency; bad values
    are refused."""
    lib = get_lib()
    assert ffi.offsetof("vsk_voice_config", "schedule") == 120
    with Bundle.from_bytes(tiny_bundle_bytes) as b:
        lat = ffi.new("uint32_t *")
        out = ffi.new("vsk_voice **")
        latencies = {}
        for size, schedule, reserved in ((120, 0x7F7F7F7F, 0x7F7F7F7F), (128, 0, 0),
                                         (128, lib.VSK_SCHEDULE_EVEN, 0)):
            cfg = ffi.new("vsk_voice_config *")
            lib.vsk_voice_config_init_size(cfg, ffi.sizeof("vsk_voice_config"))
            cfg.schedule, cfg.reserved2 = schedule, reserved
            cfg.struct_size = size
            assert lib.vsk_voice_create(b.ptr, cfg, out) == 0, (size, schedule)
            assert lib.vsk_voice_get_latency(out[0], lat) == 0
            latencies[(size, schedule)] = lat[0]
            lib.vsk_voice_destroy(out[0])
        assert latencies[(120, 0x7F7F7F7F)] == latencies[(128, 0)]
        # tiers: hop 64 and 128 at 16 kHz; 48 kHz host: ceil(128 * 3) frames
        assert latencies[(128, 1)] == latencies[(128, 0)] + 384
        for schedule, reserved in ((2, 0), (1, 1)):
            cfg = ffi.new("vsk_voice_config *")
            lib.vsk_voice_config_init_size(cfg, ffi.sizeof("vsk_voice_config"))
            cfg.schedule, cfg.reserved2 = schedule, reserved
            assert lib.vsk_voice_create(b.ptr, cfg, out) == lib.VSK_ERR_INVALID_ARGUMENT
        with Voice(b, schedule="even") as v:
            assert v.schedule == "even" and v.latency == latencies[(128, 1)]
        with pytest.raises(ValueError, match="schedule"):
            Voice(b, schedule="steady")


@pytest.fixture
def tiny_bundle_bytes() -> bytes:
    tiers = []
    for name, hop in (("low", 64), ("high", 128)):
        b = GraphBuilder(hop)
        y = b.frame(b.input, hop)
        g, t = b.finish(y)
        tiers.append(TierSpec(name, 16000, hop, hop, 0, 0, g, t))
    return write_bundle(BundleSpec("t.tiny", "Tiny", "1.0.0", tiers))


def test_tier_state_isa_and_remove(tiny_bundle_bytes: bytes) -> None:
    with Bundle.from_bytes(tiny_bundle_bytes) as b:
        with Voice(b, sample_rate=48000, max_isa=1) as v:
            assert v.isa == 1                       # VSK_ISA_LEVEL_SCALAR
            assert v.tier_state == {"requested": 0, "audible": 0,
                                    "incoming": None, "switching": False,
                                    "governed_tier": 1,  # no budget: the last tier allowed
                                    "cpu_load": 0.0, "governor_steps": 0}
            v.tier = 1
            x = np.zeros(256, np.float32)
            v.process(x)
            s = v.tier_state
            assert s["requested"] == 1 and s["audible"] == 0
            assert s["incoming"] == 1 and s["switching"]
            for _ in range(200):
                v.process(x)
            assert v.tier_state == {"requested": 1, "audible": 1,
                                    "incoming": None, "switching": False,
                                    "governed_tier": 1, "cpu_load": 0.0, "governor_steps": 0}
        with Registry() as r:
            r.add_bundle(b)
            r.remove("t.tiny")
            assert len(r) == 0
            with pytest.raises(KeyError):
                r.remove("t.tiny")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        pytest.fail(f"{name} not found: install binutils (build-essential in scripts/apt-packages.txt)")
    return path


def test_library_imports_only_the_monotonic_clock() -> None:
    """The CPU governor (vsk_voice_set_cpu_budget) reads clock_gettime; no
    other clock, no sleep. test_clock_read_only_by_the_governor checks who
    calls it."""
    out = subprocess.run([_tool("nm"), "-D", "--undefined-only", library_path()],
                         capture_output=True, text=True, check=True).stdout
    names = {re.sub(r"@.*", "", line.split()[-1]) for line in out.splitlines() if line.strip()}
    clocks = {"clock", "clock_gettime", "clock_getres", "time", "gettimeofday", "times",
              "ftime", "timespec_get", "rdtsc", "__rdtsc", "QueryPerformanceCounter",
              "mach_absolute_time", "nanosleep", "usleep", "sleep"}
    assert names & clocks <= {"clock_gettime"}, names & clocks
    assert "malloc" in names                    # the listing is real


def _has_symtab(lib: Path) -> bool:
    out = subprocess.run([_tool("readelf"), "-S", str(lib)], capture_output=True, text=True).stdout
    return ".symtab" in out


def _with_symbols() -> Path:
    """The loaded library if it keeps its symbol table, else the same
    sources' unstripped build: the wheel install strips internal symbols, and
    objdump would then file every hidden function under the nearest exported
    one. scripts/setup.sh builds into build/<wheel tag>, scripts/test.sh
    into build/ctest."""
    root = Path(__file__).resolve().parents[1]
    cands = [Path(library_path())] + sorted(root.glob("build/cp*/libvoiceskin.so")) \
        + [root / "build" / "ctest" / "libvoiceskin.so"]
    for c in cands:
        if c.is_file() and _has_symtab(c):
            return c
    pytest.fail(f"no libvoiceskin.so with a symbol table among {[str(c) for c in cands]}; "
                "run scripts/setup.sh")


def _instructions() -> list[tuple[str, str]]:
    """(function, instruction line) for every instruction of the library
    with its symbol table, by objdump."""
    dis = subprocess.run([_tool("objdump"), "-d", str(_with_symbols())], capture_output=True,
                         text=True, check=True).stdout
    out: list[tuple[str, str]] = []
    fn = ""
    for line in dis.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
        if m:
            fn = m.group(1)
        else:
            out.append((fn, line))
    return out


def test_cpuid_only_in_detection() -> None:
    """x86: CPUID only in the detection functions (never reached from an
    [audio] call); any machine: no clock read without an import (x86
    RDTSC/RDPID, Arm's CNTVCT counter)."""
    x86 = bool(re.search(r"x86_64|amd64", subprocess.run(["uname", "-m"], capture_output=True,
                                                         text=True).stdout, re.I))
    where: set[str] = set()
    clocks: set[str] = set()
    for fn, line in _instructions():
        if "\tcpuid" in line:
            where.add(fn)
        elif re.search(r"\trdtscp?\b|\trdpid\b|\tmrs\s.*cntv?ct", line, re.I):
            clocks.add(fn)                      # a clock read without an import
    if x86:
        assert where, "no CPUID found at all: detection missing?"
        assert where <= {"vsk_isa_detect", "vsk_isa_available", "x86_has_avx2_fma"}, where
    else:
        assert not where, where                 # no x86 detection code on another machine
    assert not clocks, clocks


def test_clock_read_only_by_the_governor() -> None:
    """The only call to clock_gettime is the governor's clock
    (native/src/governor.c), which vsk_voice_process reads only while a CPU
    budget is set (native/tests/test_voice_governor.c counts the reads)."""
    callers = {fn for fn, line in _instructions()
               if re.search(r"\t(call|jmp|bl|b)\w*\s.*<clock_gettime", line)
               and not fn.endswith("@plt")}
    assert callers == {"vsk_monotonic_ns"}, callers
