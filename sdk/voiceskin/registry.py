"""Registry: the voices a host offers (wraps vsk_registry).

Duplicate rule (from the library): a voice ID is present at most once; a
newer semantic version replaces an older one *at the same index*, an older
or equal one is refused with VSK_ERR_DUPLICATE and nothing changes.
"""

from __future__ import annotations

import os
from typing import Any, Iterator

from ._ffi import encode_path, ffi, get_lib
from .bundle import Bundle
from .errors import VoiceskinError, check
from .voice import CpuBudget

__all__ = ["Registry"]


class Registry:
    """An ordered set of voice bundles, indexed 0..len-1."""

    def __init__(self, max_voices: int = 0, max_cost_per_second: int = 0) -> None:
        if isinstance(max_voices, bool) or not isinstance(max_voices, int) or max_voices < 0:
            raise ValueError(f"max_voices must be an integer >= 0 (0 = default), got {max_voices!r}")
        if isinstance(max_cost_per_second, bool) or not isinstance(max_cost_per_second, int) \
                or not 0 <= max_cost_per_second < 2**64:
            raise ValueError("max_cost_per_second must be an integer >= 0 (0 = default), "
                             f"got {max_cost_per_second!r}")
        lib = get_lib()
        self._lib = lib
        cfg = ffi.new("vsk_registry_config *")
        lib.vsk_registry_config_init_size(cfg, ffi.sizeof("vsk_registry_config"))
        cfg.max_voices = max_voices
        cfg.max_cost_per_second = max_cost_per_second
        out = ffi.new("vsk_registry **")
        check(lib.vsk_registry_create(cfg, out), "creating registry")
        self._ptr = ffi.gc(out[0], lib.vsk_registry_destroy)
        self._u32 = ffi.new("uint32_t *")
        pb = ffi.new("vsk_cpu_budget **")
        check(lib.vsk_registry_get_cpu_budget(self._ptr, pb), "reading the registry's budget")
        self._budget = CpuBudget._borrowed(pb[0], self)

    @property
    def _live(self) -> Any:
        if self._ptr is None:
            raise ValueError("registry is closed")
        return self._ptr

    @property
    def cpu_budget(self) -> CpuBudget:
        """The registry's CPU budget, shared by the voices made with
        ``Voice(bundle, shared_budget=registry.cpu_budget)``; set its
        ``fraction`` (cores, 0 = off) to govern them all together."""
        self._live
        return self._budget

    # ------------------------------------------------------------------ adds
    def add_file(self, path: str | os.PathLike[str]) -> int:
        """Opens and adds a .vskin file; returns its index."""
        raw = encode_path(path)
        if b"\0" in raw:
            raise ValueError(f"path {path!r} contains a NUL character")
        check(self._lib.vsk_registry_add_file(self._live, raw, self._u32),
              f"adding {os.fspath(path)!s}")
        return int(self._u32[0])

    def add_bytes(self, data: bytes | bytearray | memoryview) -> int:
        """Validates, copies and adds a bundle held in memory; returns its index."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"add_bytes needs bytes, got {type(data).__name__}")
        buf = ffi.from_buffer(data)
        check(self._lib.vsk_registry_add_memory(self._live, buf, len(buf), self._u32),
              "adding bundle from memory")
        return int(self._u32[0])

    def add_bundle(self, bundle: Bundle) -> int:
        """Adds an opened bundle (the registry keeps its own reference)."""
        if not isinstance(bundle, Bundle):
            raise TypeError(f"add_bundle needs a voiceskin.Bundle, got {type(bundle).__name__}")
        check(self._lib.vsk_registry_add_bundle(self._live, bundle.ptr, self._u32),
              f"adding {bundle.voice_id!r} {bundle.version}")
        return int(self._u32[0])

    def scan(self, folder: str | os.PathLike[str]) -> tuple[int, int]:
        """Adds every ``*.vskin`` directly in ``folder`` (name order); returns
        ``(added, skipped)`` — skipped counts files that failed to open or were
        refused by the duplicate rule."""
        raw = encode_path(folder)
        if b"\0" in raw:
            raise ValueError(f"folder {folder!r} contains a NUL character")
        added = ffi.new("uint32_t *")
        skipped = ffi.new("uint32_t *")
        check(self._lib.vsk_registry_scan_folder(self._live, raw, added, skipped),
              f"scanning {os.fspath(folder)!s}",
              hint="check that the folder exists and is readable")
        return int(added[0]), int(skipped[0])

    # --------------------------------------------------------------- lookups
    def __len__(self) -> int:
        check(self._lib.vsk_registry_count(self._live, self._u32), "counting voices")
        return int(self._u32[0])

    def __getitem__(self, index: int) -> Bundle:
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"registry index must be an int, got {type(index).__name__}")
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"registry index {index} out of range (0..{n - 1})")
        out = ffi.new("vsk_bundle **")
        check(self._lib.vsk_registry_get(self._live, index, out), f"getting voice {index}")
        return Bundle._borrowed(out[0])

    def remove(self, voice_id: str) -> None:
        """Drops the voice with this ID (voices made from it keep their
        bundle); later entries move down one index. KeyError if absent."""
        if not isinstance(voice_id, str):
            raise TypeError(f"voice_id must be a string, got {type(voice_id).__name__}")
        st = self._lib.vsk_registry_remove(self._live, voice_id.encode("utf-8"))
        if st == self._lib.VSK_ERR_NOT_FOUND:
            raise KeyError(voice_id)
        check(st, f"removing {voice_id!r}")

    def find(self, voice_id: str) -> int:
        """Index of ``voice_id``; VoiceskinError (VSK_ERR_NOT_FOUND) if absent."""
        if not isinstance(voice_id, str):
            raise TypeError(f"voice_id must be a string, got {type(voice_id).__name__}")
        raw = voice_id.encode("utf-8")
        st = self._lib.vsk_registry_find(self._live, raw, self._u32) if b"\0" not in raw else -13
        if st != 0:
            raise VoiceskinError(st, f"voice {voice_id!r}", hint="")
        return int(self._u32[0])

    def __contains__(self, voice_id: object) -> bool:
        if not isinstance(voice_id, str):
            return False
        try:
            self.find(voice_id)
        except VoiceskinError:
            return False
        return True

    def __iter__(self) -> Iterator[Bundle]:
        for i in range(len(self)):
            yield self[i]

    # ------------------------------------------------------------- lifetime
    def close(self) -> None:
        """Destroys the registry (bundles handed out stay valid)."""
        if getattr(self, "_ptr", None) is not None:
            p, self._ptr = self._ptr, None
            ffi.release(p)

    def __enter__(self) -> "Registry":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._ptr is None:
            return "<Registry closed>"
        return f"<Registry {len(self)} voices>"
