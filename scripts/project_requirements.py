"""Prints the requirements of this project and of the given extras, one per
line, resolving self-references such as ``voiceskin[tooling]``:

    python scripts/project_requirements.py dev > requirements.txt

``scripts/setup.sh`` installs these (each in pip's isolated build
environment where a dependency comes only as source), then the project
itself with ``--no-deps --no-build-isolation``.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pip vendors a TOML reader
    from pip._vendor import tomli as tomllib  # type: ignore[no-redef]


def requirements(pyproject: Path, extras: list[str]) -> list[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    name = project["name"].lower()
    optional = project.get("optional-dependencies", {})
    out: list[str] = list(project.get("dependencies", []))
    todo, seen = list(extras), set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        if extra not in optional:
            raise SystemExit(f"{pyproject}: no optional dependency group {extra!r}; "
                             f"groups: {', '.join(sorted(optional))}")
        seen.add(extra)
        for req in optional[extra]:
            m = re.fullmatch(rf"\s*{re.escape(name)}\s*\[([^\]]+)\]\s*", req, re.IGNORECASE)
            if m:
                todo += [e.strip() for e in m.group(1).split(",")]
            else:
                out.append(req)
    return list(dict.fromkeys(out))


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1]
    print("\n".join(requirements(root / "pyproject.toml", sys.argv[1:])))
