"""Bundle: an opened, validated .vskin file (wraps vsk_bundle)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ._ffi import encode_path, ffi, get_lib
from .errors import VoiceskinError, check

__all__ = ["Bundle", "TierInfo"]


@dataclass(frozen=True)
class TierInfo:
    """One quality tier, as reported by the library."""

    index: int
    name: str
    model_sample_rate: int
    hop_samples: int
    latency_samples: int
    parameter_count: int
    flops_per_second: int
    #: worst-case operations per second of audio, computed by the library
    #: from the graph (what ``max_cost_per_second`` limits; docs/abi.md)
    cost_per_second: int = 0


def _s(p: Any) -> str:
    return ffi.string(p).decode("utf-8", "replace") if p != ffi.NULL else ""


class Bundle:
    """An immutable voice bundle. Open with :meth:`open` or :meth:`from_bytes`;
    release with :meth:`close` (or a ``with`` block). Voices and registries
    hold their own reference, so closing a bundle they use is safe."""

    def __init__(self, _ptr: Any) -> None:
        # Private: takes ownership of one reference to `_ptr`.
        lib = get_lib()
        self._lib = lib
        self._ptr = ffi.gc(_ptr, lib.vsk_bundle_release)
        info = ffi.new("vsk_bundle_info *")
        info.struct_size = ffi.sizeof("vsk_bundle_info")
        check(lib.vsk_bundle_get_info(self._ptr, info), "reading bundle info")
        self._voice_id = _s(info.voice_id)
        self._display_name = _s(info.display_name)
        self._version = _s(info.version)
        self._format_version = int(info.format_version)
        tiers = []
        ti = ffi.new("vsk_tier_info *")
        for i in range(int(info.tier_count)):
            ti.struct_size = ffi.sizeof("vsk_tier_info")
            check(lib.vsk_bundle_get_tier_info(self._ptr, i, ti), f"reading tier {i}")
            tiers.append(TierInfo(i, _s(ti.name), int(ti.model_sample_rate),
                                  int(ti.hop_samples), int(ti.latency_samples),
                                  int(ti.parameter_count), int(ti.flops_per_second),
                                  int(ti.cost_per_second)))
        self._tiers = tuple(tiers)

    # ---------------------------------------------------------- construction
    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> "Bundle":
        """Opens and validates a .vskin file; VoiceskinError on failure."""
        lib = get_lib()
        raw = encode_path(path)
        if b"\0" in raw:
            raise ValueError(f"path {path!r} contains a NUL character")
        out = ffi.new("vsk_bundle **")
        check(lib.vsk_bundle_open_file(raw, out), f"opening {os.fspath(path)!s}")
        return cls(out[0])

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> "Bundle":
        """Validates and copies a bundle held in memory."""
        lib = get_lib()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"from_bytes needs bytes, got {type(data).__name__}")
        buf = ffi.from_buffer(data)
        out = ffi.new("vsk_bundle **")
        check(lib.vsk_bundle_open_memory(buf, len(buf), out), "opening bundle from memory")
        return cls(out[0])

    @classmethod
    def _borrowed(cls, ptr: Any) -> "Bundle":
        """Wraps a borrowed vsk_bundle* (e.g. from a registry), retaining it."""
        get_lib().vsk_bundle_retain(ptr)
        return cls(ptr)

    # ------------------------------------------------------------ properties
    @property
    def voice_id(self) -> str:
        return self._voice_id

    @property
    def display_name(self) -> str:
        return self._display_name

    @property
    def version(self) -> str:
        return self._version

    @property
    def version_tuple(self) -> tuple[int, ...]:
        return tuple(int(p) for p in self._version.split("."))

    @property
    def format_version(self) -> int:
        return self._format_version

    @property
    def tiers(self) -> list[TierInfo]:
        return list(self._tiers)

    def find_tier(self, name: str) -> int:
        """Index of the tier called ``name``; VoiceskinError (VSK_ERR_NOT_FOUND,
        listing the tiers) if there is none."""
        if not isinstance(name, str):
            raise TypeError(f"tier name must be a string, got {type(name).__name__}")
        raw = name.encode("utf-8")
        out = ffi.new("uint32_t *")
        st = self._lib.vsk_bundle_find_tier(self.ptr, raw, out) if b"\0" not in raw else -13
        if st != 0:
            names = ", ".join(repr(t.name) for t in self._tiers)
            raise VoiceskinError(st, f"tier {name!r} in {self._voice_id!r}",
                                 hint=f"available tiers: {names}")
        return int(out[0])

    @property
    def ptr(self) -> Any:
        """The underlying ``vsk_bundle *`` (raises if closed)."""
        if self._ptr is None:
            raise ValueError("bundle is closed")
        return self._ptr

    @property
    def closed(self) -> bool:
        return self._ptr is None

    def close(self) -> None:
        """Drops this object's reference (idempotent)."""
        if self._ptr is not None:
            p, self._ptr = self._ptr, None
            ffi.release(p)

    def __enter__(self) -> "Bundle":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = " closed" if self._ptr is None else ""
        return (f"<Bundle {self._voice_id} {self._version} "
                f"tiers={[t.name for t in self._tiers]}{state}>")
