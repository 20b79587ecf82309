"""voiceskin — real-time voice skins for games.

Pure-Python parts (no native library needed):
    voiceskin.format   BundleSpec / write_bundle / read_bundle (.vskin v1)
    voiceskin.graph    Op, Act, GraphBuilder

Runtime (loads libvoiceskin through cffi on first use):
    Bundle, Voice, Registry, VoiceskinError, library_version()

The native library is found via the VOICESKIN_LIBRARY environment variable,
else the copy installed inside this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.7.0"

__all__ = [
    "Bundle",
    "TierInfo",
    "Voice",
    "CpuBudget",
    "Registry",
    "VoiceskinError",
    "library_version",
    "__version__",
]

_LAZY = {
    "Bundle": ("bundle", "Bundle"),
    "TierInfo": ("bundle", "TierInfo"),
    "Voice": ("voice", "Voice"),
    "CpuBudget": ("voice", "CpuBudget"),
    "Registry": ("registry", "Registry"),
    "VoiceskinError": ("errors", "VoiceskinError"),
    "library_version": ("_ffi", "library_version"),
}

if TYPE_CHECKING:  # pragma: no cover
    from ._ffi import library_version
    from .bundle import Bundle, TierInfo
    from .errors import VoiceskinError
    from .registry import Registry
    from .voice import CpuBudget, Voice


def __getattr__(name: str) -> Any:
    # Lazy so that `import voiceskin.format` works without the C library.
    if name in _LAZY:
        import importlib

        mod, attr = _LAZY[name]
        value = getattr(importlib.import_module(f".{mod}", __name__), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'voiceskin' has no attribute {name!r}")
