"""Registry through the real library: add/find/get/scan and the duplicate
rule (newer version replaces and keeps its index; older/equal refused)."""

from __future__ import annotations

import pytest
from conftest import build_spec

from voiceskin.format import write_bundle

pytestmark = pytest.mark.usefixtures("lib")


def _b(voice_id: str, version: str = "1.0.0", kind: str = "identity") -> bytes:
    return write_bundle(build_spec(kind, voice_id=voice_id, version=version,
                                   display_name=f"{voice_id} {version}"))


def test_add_find_get() -> None:
    from voiceskin import Bundle, Registry

    with Registry() as r:
        assert len(r) == 0
        assert r.add_bytes(_b("a.one")) == 0
        assert r.add_bytes(_b("b.two", kind="multi")) == 1
        with Bundle.from_bytes(_b("c.three")) as b:
            assert r.add_bundle(b) == 2
        # the registry keeps its own reference after the bundle is closed
        assert len(r) == 3
        assert r.find("b.two") == 1
        assert r[1].voice_id == "b.two"
        assert [t.name for t in r[1].tiers] == ["low", "high"]
        assert r[-1].voice_id == "c.three"
        assert [b.voice_id for b in r] == ["a.one", "b.two", "c.three"]
        assert "a.one" in r and "zzz" not in r


def test_find_missing_and_bad_index() -> None:
    from voiceskin import Registry, VoiceskinError

    r = Registry()
    r.add_bytes(_b("a.one"))
    with pytest.raises(VoiceskinError) as ei:
        r.find("nobody")
    assert ei.value.name == "VSK_ERR_NOT_FOUND"
    with pytest.raises(IndexError):
        r[1]
    with pytest.raises(TypeError):
        r["a.one"]  # type: ignore[index]


def test_add_file(write_file) -> None:
    from voiceskin import Registry, VoiceskinError

    r = Registry()
    assert r.add_file(write_file(_b("x.file"), "x.vskin")) == 0
    assert r[0].display_name == "x.file 1.0.0"
    with pytest.raises(VoiceskinError) as ei:
        r.add_file(write_file(b"garbage" * 20, "bad.vskin"))
    assert ei.value.name == "VSK_ERR_BAD_MAGIC"
    assert len(r) == 1


def test_bundle_outlives_registry() -> None:
    from voiceskin import Registry

    r = Registry()
    r.add_bytes(_b("keep.me"))
    b = r[0]
    r.close()
    assert b.voice_id == "keep.me" and b.tiers[0].name == "base"


@pytest.mark.parametrize("second,accepted", [
    ("1.0.1", True), ("1.1.0", True), ("2.0.0", True), ("1.0.10", True),
    ("1.0.0", False), ("0.9.9", False), ("0.10.0", False),
])
def test_duplicate_rule(second: str, accepted: bool) -> None:
    from voiceskin import Registry, VoiceskinError

    r = Registry()
    r.add_bytes(_b("first"))
    r.add_bytes(_b("dup.voice", "1.0.0"))
    r.add_bytes(_b("last"))
    if accepted:
        assert r.add_bytes(_b("dup.voice", second, kind="multi")) == 1  # same index
        assert r[1].version == second and len(r[1].tiers) == 2
    else:
        with pytest.raises(VoiceskinError) as ei:
            r.add_bytes(_b("dup.voice", second, kind="multi"))
        assert ei.value.name == "VSK_ERR_DUPLICATE"
        assert r[1].version == "1.0.0" and len(r[1].tiers) == 1
    assert len(r) == 3
    assert [b.voice_id for b in r] == ["first", "dup.voice", "last"]


def test_scan_folder(tmp_path, write_file) -> None:
    from voiceskin import Registry

    d = tmp_path / "voices"
    write_file(_b("v.alpha"), "01-alpha.vskin", d)
    write_file(_b("v.beta", kind="multi"), "02-beta.vskin", d)
    write_file(_b("v.alpha", "1.2.0"), "03-alpha-newer.vskin", d)   # replaces 01
    write_file(_b("v.alpha", "1.1.0"), "04-alpha-older.vskin", d)   # refused
    write_file(_b("v.gamma")[:-10], "05-truncated.vskin", d)         # corrupt
    write_file(b"not a bundle at all, just text" * 4, "06-text.vskin", d)
    write_file(_b("v.ignored"), "07-wrong-extension.bin", d)         # not *.vskin
    (d / "08-subdir.vskin").mkdir()                                  # not a file
    write_file(_b("v.nested"), "nested.vskin", d / "sub")            # not direct

    r = Registry()
    added, skipped = r.scan(d)
    ids = [b.voice_id for b in r]
    assert ids == ["v.alpha", "v.beta"]
    assert r[r.find("v.alpha")].version == "1.2.0"
    assert r.find("v.alpha") == 0
    # 3 added (alpha, beta, alpha-newer as a replacement); 3 skipped (older
    # alpha, truncated, text). A directory named *.vskin is not a file.
    assert (added, skipped) == (3, 3)


def test_scan_missing_folder(tmp_path) -> None:
    from voiceskin import Registry, VoiceskinError

    with pytest.raises(VoiceskinError) as ei:
        Registry().scan(tmp_path / "missing")
    assert ei.value.name in ("VSK_ERR_IO", "VSK_ERR_NOT_FOUND")


def test_scan_empty_folder(tmp_path) -> None:
    from voiceskin import Registry

    assert Registry().scan(tmp_path) == (0, 0)


def test_max_voices() -> None:
    from voiceskin import Registry, VoiceskinError

    r = Registry(max_voices=2)
    r.add_bytes(_b("a"))
    r.add_bytes(_b("b"))
    with pytest.raises(VoiceskinError) as ei:
        r.add_bytes(_b("c"))
    assert ei.value.name == "VSK_ERR_TOO_LARGE"
    assert len(r) == 2
    # replacing does not need room
    assert r.add_bytes(_b("a", "2.0.0")) == 0
