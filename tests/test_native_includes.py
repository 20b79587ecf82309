"""native/src's include graph has clean seams: no header cycle, and the
voice's memory plan (voice_plan.c / voice_plan.h) does not depend on the voice
object's layout (voice.h), so voice.c -> voice_plan is one-way."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "native" / "src"
_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def _includes() -> dict[str, set[str]]:
    """file name -> the quoted includes of native/src files it names."""
    files = {p.name: p for p in SRC.iterdir() if p.suffix in (".c", ".h")}
    return {name: {i for i in _INCLUDE.findall(p.read_text()) if i in files}
            for name, p in files.items()}


def _reach(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph[start])
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(graph.get(n, ()))
    return seen


def test_headers_include_no_cycle() -> None:
    g = _includes()
    cyclic = [h for h in g if h.endswith(".h") and h in _reach(g, h)]
    assert not cyclic, f"header include cycles through {cyclic}"


def test_voice_plan_does_not_know_the_voice_layout() -> None:
    g = _includes()
    assert "voice_plan.h" in g["voice_plan.c"]
    assert "voice.h" not in _reach(g, "voice_plan.c") | {"voice_plan.c"}
    assert "voice_plan.h" in _reach(g, "voice.c")
    text = (SRC / "voice_plan.c").read_text()
    assert "struct vsk_voice" not in re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def test_kernels_split_per_isa() -> None:
    """Each ISA's intrinsics live in its own file behind its table
    (kernels_table.h); kernels.c only detects and dispatches."""
    intrinsics = {"sse2": re.compile(r"\b_mm_\w+\("), "avx2": re.compile(r"\b_mm256_\w+\("),
                  "neon": re.compile(r"\bv(?!sk_)\w*q?_f(32|64)\(")}
    for name in ("kernels.c", "kernels_ref.c", "kernels_sse2.c", "kernels_avx2.c",
                 "kernels_neon.c"):
        text = (SRC / name).read_text()
        isa = name.removesuffix(".c").partition("_")[2]
        for other, pat in intrinsics.items():
            if other == isa or (isa == "avx2" and other == "sse2"):
                continue  # AVX2 code uses 128-bit helpers too
            assert not pat.search(text), f"{name} uses {other} intrinsics"
        if isa in intrinsics:
            assert f"const vsk_kernel_table vsk_kernels_{isa} = {{" in text
    assert "vsk_kernels_ref = {" in (SRC / "kernels_ref.c").read_text()


def test_only_instrumented_c_tests_include_library_sources() -> None:
    """White-box C tests link the library's object library
    (native/tests/CMakeLists.txt); compiling sources into a test is left to
    the two that need it: test_ops_state reads a static of ops_signal.c,
    test_audio_no_cpuid hooks a CPUID counter into kernels.c."""
    tests = SRC.parent / "tests"
    including = sorted(p.name for p in tests.glob("*.c")
                       if re.search(r'#\s*include\s+"\.\./src/\w+\.c"', p.read_text()))
    assert including == ["test_audio_no_cpuid.c", "test_ops_state.c"]
    cmake = (tests / "CMakeLists.txt").read_text()
    assert "voiceskin_objects" in cmake
    top = (SRC.parents[1] / "CMakeLists.txt").read_text()
    assert "add_subdirectory(samples/c_host)" in top and "add_subdirectory(plugins/lv2)" in top
    assert "samples" not in (SRC.parent / "CMakeLists.txt").read_text()
