"""The status table has one source, native/include/voiceskin.h; every copy
is checked against it (names and values, in order): the SDK's
voiceskin.format.STATUS_CODES (from which voiceskin._ffi's cdef enum is
generated), the Unity binding's C# VskStatus enum, the C library's name/text
table (native/src/status.c) and the SDK's hints."""

from __future__ import annotations

import re
from pathlib import Path

from voiceskin import _ffi
from voiceskin.errors import HINTS
from voiceskin.format import STATUS_CODES

ROOT = Path(__file__).resolve().parents[1]
HEADER = ROOT / "native" / "include" / "voiceskin.h"
CSHARP = ROOT / "plugins" / "unity" / "Runtime" / "VoiceSkin.Native.cs"
STATUS_C = ROOT / "native" / "src" / "status.c"

_ENTRY = re.compile(r"\b(VSK_(?:OK|ERR_\w+))\s*=\s*(-?\d+)")


def _strip_comments(text: str) -> str:
    return re.sub(r"//[^\n]*", "", re.sub(r"/\*.*?\*/", "", text, flags=re.S))


def _enum_after(text: str, anchor: str) -> list[tuple[str, int]]:
    """The (name, value) entries of the first enum body after ``anchor``."""
    text = _strip_comments(text)
    start = text.index(anchor)
    body = text[text.index("{", start) + 1:text.index("}", start)]
    return [(m[1], int(m[2])) for m in _ENTRY.finditer(body)]


def header_statuses() -> list[tuple[str, int]]:
    entries = _enum_after(HEADER.read_text(), "typedef int32_t vsk_status;")
    assert len(entries) >= 19 and entries[0] == ("VSK_OK", 0)
    return entries


def test_python_table_matches_the_header() -> None:
    assert list(STATUS_CODES.items()) == header_statuses()


def test_ffi_enum_is_generated_from_the_python_table() -> None:
    assert _enum_after(_ffi.CDEF, "typedef int32_t vsk_status;") == header_statuses()
    lib = _ffi.ffi.dlopen(None)  # enum constants need no symbols
    for name, code in header_statuses():
        assert getattr(lib, name) == code


def test_csharp_enum_matches_the_header() -> None:
    assert _enum_after(CSHARP.read_text(), "public enum VskStatus") == header_statuses()


def test_status_c_names_every_status_once() -> None:
    rows = re.findall(r'\{(VSK_\w+),\s*"(VSK_\w+)"', _strip_comments(STATUS_C.read_text()))
    assert all(sym == name for sym, name in rows), rows
    assert [sym for sym, _ in rows] == [name for name, _ in header_statuses()]


def test_hints_name_real_statuses() -> None:
    assert set(HINTS) <= set(STATUS_CODES)
