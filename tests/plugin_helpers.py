"""Register Python entry points for a test without installing anything.

``fake_distribution(tmp_path, name, entry_points, modules)`` writes
``<name>-0.0.0.dist-info/{METADATA,entry_points.txt}`` plus the given module
sources into a fresh folder and puts it on ``sys.path``;
:mod:`importlib.metadata` finds the entry points there. The returned callable
removes the folder from ``sys.path`` and forgets the imported modules.
"""
from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path
from typing import Callable


def fake_distribution(
    root: Path,
    name: str,
    entry_points: dict[str, dict[str, str]],
    modules: dict[str, str],
) -> Callable[[], None]:
    site = root / f"site-{name}"
    site.mkdir(parents=True)
    for mod, src in modules.items():
        (site / f"{mod}.py").write_text(textwrap.dedent(src), encoding="utf-8")
    info = site / f"{name}-0.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.0.0\n", encoding="utf-8")
    lines = []
    for group, eps in entry_points.items():
        lines.append(f"[{group}]")
        lines += [f"{k} = {v}" for k, v in eps.items()]
        lines.append("")
    (info / "entry_points.txt").write_text("\n".join(lines), encoding="utf-8")
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()

    def remove() -> None:
        if str(site) in sys.path:
            sys.path.remove(str(site))
        for mod in modules:
            sys.modules.pop(mod, None)
        importlib.invalidate_caches()

    return remove
