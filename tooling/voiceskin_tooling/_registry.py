"""Shared plumbing for the entry-point registries (masters, tier presets).

A registry merges built-in objects with Python entry points of one group,
discovered through :mod:`importlib.metadata` each time it is asked (so a
plugin installed while the process runs is seen, and tests can add a
``*.dist-info`` folder to ``sys.path``). An entry point whose name collides
with a built-in but points somewhere else is ignored with a warning: the
built-ins cannot be shadowed by accident.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Callable, Mapping


class PluginLoadError(RuntimeError):
    """An entry point was found but could not be imported."""


@dataclass(frozen=True)
class Candidate:
    name: str
    origin: str  # "builtin" or "entry point <value> (<dist>)"
    load: Callable[[], Any]


def _entry_points(group: str) -> list[metadata.EntryPoint]:
    eps = metadata.entry_points()
    if hasattr(eps, "select"):
        return list(eps.select(group=group))
    return list(eps.get(group, []))  # pragma: no cover - py<3.10


def candidates(group: str, builtins: Mapping[str, tuple[str, Callable[[], Any]]]) -> dict[str, Candidate]:
    """name -> Candidate; ``builtins`` maps name -> (dotted target, loader)."""
    out: dict[str, Candidate] = {
        name: Candidate(name, "builtin", loader) for name, (_, loader) in builtins.items()
    }
    for ep in _entry_points(group):
        dist = getattr(getattr(ep, "dist", None), "name", None) or "?"
        if ep.name in builtins:
            if ep.value.replace(" ", "") != builtins[ep.name][0]:
                warnings.warn(
                    f"entry point {ep.name!r} in group {group!r} ({ep.value}, from {dist}) "
                    f"collides with a built-in and is ignored",
                    stacklevel=3,
                )
            continue
        if ep.name in out:  # two plugins with one name: first wins, say so
            warnings.warn(
                f"duplicate entry point {ep.name!r} in group {group!r} ({ep.value}, from {dist}); "
                f"keeping {out[ep.name].origin}",
                stacklevel=3,
            )
            continue

        def _load(ep: metadata.EntryPoint = ep, dist: str = dist) -> Any:
            try:
                return ep.load()
            except Exception as exc:  # noqa: BLE001 - re-raised with context
                raise PluginLoadError(
                    f"entry point {ep.name!r} in group {group!r} ({ep.value}, from {dist}) "
                    f"failed to load: {type(exc).__name__}: {exc}"
                ) from exc

        out[ep.name] = Candidate(ep.name, f"entry point {ep.value} ({dist})", _load)
    return out
