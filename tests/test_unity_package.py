"""Unity package structure: .meta files, manifests, the binding's coverage of
the C header, and a compile check of the Unity glue.

The glue (VoiceSkinFilter, VoiceSkinStreamingAssets, the inspector) needs
UnityEngine/UnityEditor, which are not here: it is compiled with Mono's mcs
against plugins/unity/Tests/Mono/UnityApiStubs (declarations of the members
it uses, with Unity's signatures). That checks the C# is complete and
consistent; it does not run Unity.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from test_unity_mono import PKG, ROOT, need_tools

HEADER = ROOT / "native" / "include" / "voiceskin.h"
NATIVE_CS = PKG / "Runtime" / "VoiceSkin.Native.cs"


def _params(s: str) -> int:
    s = " ".join(s.split())
    return 0 if s in ("", "void") else s.count(",") + 1


def header_functions() -> dict[str, int]:
    text = HEADER.read_text(encoding="utf-8")
    return {m.group(1): _params(m.group(2))
            for m in re.finditer(r"VSK_API\s+[^;{}]*?\(?\b(vsk_\w+)\)?\s*\(([^)]*)\)\s*;", text,
                                 re.S)}


def test_meta_files_are_complete_and_current() -> None:
    r = subprocess.run([sys.executable, str(PKG / "Tools~" / "update_meta.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, "run plugins/unity/Tools~/update_meta.py:\n" + r.stdout + r.stderr
    guids = {}
    for m in PKG.rglob("*.meta"):
        g = re.search(r"^guid: ([0-9a-f]{32})$", m.read_text(encoding="utf-8"), re.M)
        assert g, m
        assert g.group(1) not in guids, (m, guids.get(g.group(1)))
        guids[g.group(1)] = m


def test_native_binaries_have_import_settings_per_platform() -> None:
    def meta(rel: str) -> str:
        return (PKG / "Plugins" / (rel + ".meta")).read_text(encoding="utf-8")

    linux = meta("Linux/x86_64/audioplugin_voiceskin.so")
    assert "isPreloaded: 1" in linux     # the editor registers mixer effects at startup
    assert "Standalone: Linux64\n    second:\n      enabled: 1" in linux
    assert "Standalone: Win64\n    second:\n      enabled: 0" in linux
    assert "OS: Linux" in linux
    win = meta("Windows/x86_64/voiceskin.dll")
    assert "Standalone: Win64\n    second:\n      enabled: 1" in win and "OS: Windows" in win
    assert "isPreloaded: 0" in win
    mac = meta("macOS/audioplugin_voiceskin.bundle")
    assert "Standalone: OSXUniversal\n    second:\n      enabled: 1" in mac
    android = meta("Android/arm64-v8a/libvoiceskin.so")
    assert "Android: Android\n    second:\n      enabled: 1\n      settings:\n        CPU: ARM64" in android
    assert "Editor: Editor\n    second:\n      enabled: 0" in android
    ios = meta("iOS/libvoiceskin.a")
    assert "iPhone: iOS\n    second:\n      enabled: 1" in ios
    # C sources in the package are never compiled into a player by Unity.
    src = (PKG / "native" / "vske_effect.c.meta").read_text(encoding="utf-8")
    assert "enabled: 1" not in src


def test_manifests() -> None:
    pkg = json.loads((PKG / "package.json").read_text(encoding="utf-8"))
    assert pkg["name"] == "com.voiceskin.unity"
    assert re.fullmatch(r"\d+\.\d+\.\d+", pkg["version"])
    assert re.fullmatch(r"\d{4}\.\d+", pkg["unity"]) and pkg["displayName"]
    rt = json.loads((PKG / "Runtime" / "VoiceSkin.Runtime.asmdef").read_text(encoding="utf-8"))
    assert rt["name"] == "VoiceSkin.Runtime" and rt["allowUnsafeCode"] is True
    ed = json.loads((PKG / "Editor" / "VoiceSkin.Editor.asmdef").read_text(encoding="utf-8"))
    assert ed["includePlatforms"] == ["Editor"] and ed["references"] == ["VoiceSkin.Runtime"]
    # The Mono test program and the API stubs must never compile inside Unity.
    mt = json.loads((PKG / "Tests" / "Mono" / "VoiceSkin.MonoTests.asmdef").read_text(encoding="utf-8"))
    assert mt["defineConstraints"] == ["VOICESKIN_MONO_TEST_PROGRAM"]


def test_binding_declares_every_header_function() -> None:
    cs = NATIVE_CS.read_text(encoding="utf-8")
    decl = [(m.group(1), _params(m.group(2)))
            for m in re.finditer(r"static extern [^(;]*?\b(vsk_\w+)\s*\(([^)]*)\)", cs)]
    names = [n for n, _ in decl]
    assert len(names) == len(set(names)), "declared twice"
    assert dict(decl) == header_functions()
    assert cs.count("[DllImport(Library") == len(decl)


def test_binding_statuses_and_structs_match_the_header() -> None:
    h = HEADER.read_text(encoding="utf-8")
    cs = NATIVE_CS.read_text(encoding="utf-8")
    hs = dict(re.findall(r"(VSK_(?:OK|ERR_\w+))\s*=\s*(-?\d+)", h))
    css = dict(re.findall(r"(VSK_(?:OK|ERR_\w+))\s*=\s*(-?\d+)", cs))
    assert hs == css and len(hs) == 19
    # (vsk_allocator's function-pointer fields are checked by test_unity_mono's layout test)
    for struct in ("vsk_bundle_info", "vsk_tier_info", "vsk_voice_config", "vsk_registry_config",
                   "vsk_tier_state"):
        hb = re.search(r"typedef struct %s \{(.*?)\} %s;" % (struct, struct), h, re.S)
        cb = re.search(r"public struct %s\s*\{(.*?)\n    \}" % struct, cs, re.S)
        assert hb and cb, struct
        hf = re.findall(r"\b(\w+);", re.sub(r"/\*.*?\*/", "", hb.group(1), flags=re.S))
        cf = re.findall(r"public (?!static)\w+ (\w+);", cb.group(1))
        assert hf and hf == cf, struct
    assert "public const uint VSK_ABI_VERSION = 1;" in cs and "#define VSK_ABI_VERSION 1" in h
    assert '"__Internal"' in cs and '"voiceskin"' in cs


def test_unity_glue_compiles_against_the_api_stubs(tmp_path: Path) -> None:
    need_tools("mcs")
    srcs = sorted(str(p) for p in (PKG / "Runtime").glob("*.cs")) + \
        sorted(str(p) for p in (PKG / "Editor").glob("*.cs")) + \
        sorted(str(p) for p in (PKG / "Tests" / "Mono" / "UnityApiStubs").glob("*.cs"))
    r = subprocess.run(["mcs", "-unsafe", "-warnaserror+", "-target:library",
                        f"-out:{tmp_path / 'glue.dll'}", *srcs], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("folder", ["Runtime", "Editor", "native", "Tests/NativeHost"])
def test_no_placeholders(folder: str) -> None:
    for p in (PKG / folder).rglob("*"):
        if p.suffix in (".cs", ".c", ".h"):
            text = p.read_text(encoding="utf-8")
            for bad in ("NotImplementedException", "TODO", "FIXME", "XXX"):
                assert bad not in text, f"{p.name}: {bad}"
