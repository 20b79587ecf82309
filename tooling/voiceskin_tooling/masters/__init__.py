"""Master registry.

Built-in masters:

* ``world`` — :class:`~voiceskin_tooling.masters.world.WorldMaster`, an
  any-to-any converter on the WORLD vocoder (pyworld).
* ``world2`` — :class:`~voiceskin_tooling.masters.world2.World2Master`, the
  same with YIN centred within the student's lookahead and envelopes built
  from the target's own frames (kNN); ``world`` stays for comparison.
* ``torchscript`` / ``onnx`` — adapters that run a studio's own any-to-one
  model file (audio in, audio out); see :mod:`voiceskin_tooling.masters.files`.

More masters plug in through Python entry points in the group
``voiceskin.masters``; the object an entry point names is a :class:`Master`
subclass or any callable ``factory(**settings) -> Master``::

    [project.entry-points."voiceskin.masters"]
    my-master = "my_package.masters:MyMaster"
"""
from __future__ import annotations

import importlib
from typing import Any, Callable

from .._registry import PluginLoadError, candidates
from .base import Master, MasterError, MasterOutput

__all__ = [
    "Master",
    "MasterError",
    "MasterOutput",
    "UnknownMasterError",
    "PluginLoadError",
    "available_masters",
    "get_master",
    "master_factory",
    "ENTRY_POINT_GROUP",
]

ENTRY_POINT_GROUP = "voiceskin.masters"


class UnknownMasterError(KeyError):
    """No master of that name; the message lists the available ones."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "unknown master"


def _lazy(target: str) -> tuple[str, Callable[[], Any]]:
    def load() -> Any:
        module, _, attr = target.partition(":")
        return getattr(importlib.import_module(module), attr)

    return target, load


_BUILTINS: dict[str, tuple[str, Callable[[], Any]]] = {
    "world": _lazy("voiceskin_tooling.masters.world:WorldMaster"),
    "world2": _lazy("voiceskin_tooling.masters.world2:World2Master"),
    "torchscript": _lazy("voiceskin_tooling.masters.files:TorchScriptMaster"),
    "onnx": _lazy("voiceskin_tooling.masters.files:OnnxMaster"),
}


def available_masters() -> dict[str, str]:
    """name -> origin ("builtin" or the entry point), sorted by name."""
    return {n: c.origin for n, c in sorted(candidates(ENTRY_POINT_GROUP, _BUILTINS).items())}


def master_factory(name: str) -> Callable[..., Master]:
    """The class/factory registered as ``name`` (not instantiated)."""
    found = candidates(ENTRY_POINT_GROUP, _BUILTINS)
    if name not in found:
        names = ", ".join(sorted(found)) or "(none)"
        raise UnknownMasterError(
            f"unknown master {name!r}; available masters: {names}. "
            f"Register more with an entry point in group {ENTRY_POINT_GROUP!r}."
        )
    factory = found[name].load()
    if not callable(factory):
        raise PluginLoadError(f"master {name!r} ({found[name].origin}) is not a class or callable")
    return factory


def get_master(name: str, **settings: Any) -> Master:
    """Instantiate master ``name`` with ``settings`` (keyword arguments).

    Raises :class:`UnknownMasterError` for an unknown name,
    :class:`MasterError` for settings the master rejects."""
    factory = master_factory(name)
    try:
        master = factory(**settings)
    except MasterError:
        raise
    except TypeError as exc:
        raise MasterError(f"master {name!r} rejected its settings {sorted(settings)}: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - a plugin's own failure, re-raised with its name
        raise MasterError(f"master {name!r} failed to start: {type(exc).__name__}: {exc}") from exc
    if not all(hasattr(master, a) for a in ("fit", "convert", "sample_rate", "hop")):
        raise PluginLoadError(
            f"master {name!r} produced {type(master).__name__}, which lacks fit/convert/sample_rate/hop"
        )
    return master
