"""A display name with a NUL inside is refused (found by fuzz_registry).

The C API hands display_name out NUL-terminated, so a NUL inside would cut
it silently (the fuzzer's bundle, "\\0\\0\\b tiers", read as "" in C and as the
full string in Python). The writer, the Python reader and the C library
(VSK_ERR_CORRUPT) all refuse it now.
"""

from __future__ import annotations

import pytest
from conftest import build_spec, fix_crc

from voiceskin.format import BundleFormatError, write_bundle, read_bundle


def _bundle_with_nul() -> bytes:
    spec = build_spec(display_name="A\x01name")
    data = bytearray(write_bundle(spec))
    at = data.index(b"A\x01name")
    data[at + 1] = 0  # "A\0name": valid UTF-8, 6 bytes, a NUL inside
    return fix_crc(data)


def test_writer_refuses_nul() -> None:
    with pytest.raises(ValueError, match="NUL"):
        write_bundle(build_spec(display_name="Voice\x00name"))


def test_reader_refuses_nul() -> None:
    with pytest.raises(BundleFormatError, match="NUL"):
        read_bundle(_bundle_with_nul())


def test_library_refuses_nul(lib: object) -> None:
    from voiceskin import Bundle, VoiceskinError

    with pytest.raises(VoiceskinError) as e:
        Bundle.from_bytes(_bundle_with_nul()).close()
    assert e.value.name == "VSK_ERR_CORRUPT"
    # the same bundle with a printable byte there opens
    ok = bytearray(_bundle_with_nul())
    ok[ok.index(b"A\x00name") + 1] = ord("-")
    Bundle.from_bytes(fix_crc(ok)).close()
