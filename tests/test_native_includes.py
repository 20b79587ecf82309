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
