#!/usr/bin/env python3
"""Writes the Unity .meta files of this package (run after adding files).

    python3 plugins/unity/Tools~/update_meta.py [--check]

Unity needs a .meta next to every file and folder of a package installed
from git (an immutable package): it carries the asset's GUID and its import
settings. GUIDs here are derived from the package path (stable across
machines). Existing .meta files are kept unless their kind changed.
Native binaries are built, not committed; their .meta files (the import
settings per platform) are written for the names in PLUGINS below, whether
or not the binary is present. Folders ending in "~" and dotfiles are
ignored by Unity and skipped here. --check lists what is missing or stale
and exits 1 (tests/test_unity_package.py runs it).
"""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[1]
NAME = "com.voiceskin.unity"

# Native binaries: path -> (editor OS or None, {platform target: CPU}, preload in editor)
# "Load on startup" (isPreloaded) is what makes the editor register a native
# audio plugin's mixer effects.
PLUGINS: dict[str, tuple[str | None, dict[str, str], bool]] = {
    "Plugins/Linux/x86_64/libvoiceskin.so": ("Linux", {"Linux64": "x86_64"}, False),
    "Plugins/Linux/x86_64/audioplugin_voiceskin.so": ("Linux", {"Linux64": "x86_64"}, True),
    "Plugins/Windows/x86_64/voiceskin.dll": ("Windows", {"Win64": "x86_64"}, False),
    "Plugins/Windows/x86_64/audioplugin_voiceskin.dll": ("Windows", {"Win64": "x86_64"}, True),
    "Plugins/macOS/libvoiceskin.dylib": ("OSX", {"OSXUniversal": "AnyCPU"}, False),
    "Plugins/macOS/audioplugin_voiceskin.bundle": ("OSX", {"OSXUniversal": "AnyCPU"}, True),
    "Plugins/Android/arm64-v8a/libvoiceskin.so": (None, {"Android": "ARM64"}, False),
    "Plugins/Android/arm64-v8a/audioplugin_voiceskin.so": (None, {"Android": "ARM64"}, False),
    "Plugins/iOS/libvoiceskin.a": (None, {"iOS": "AnyCPU"}, False),
}

_TAIL = "  userData: \n  assetBundleName: \n  assetBundleVariant: \n"


def guid(rel: str) -> str:
    return hashlib.md5(f"{NAME}/{rel}".encode()).hexdigest()


def _plugin_platforms(editor_os: str | None, targets: dict[str, str]) -> str:
    standalone = ("Linux64", "OSXUniversal", "Win", "Win64")
    excl = {"Editor": editor_os is None, **{s: s not in targets for s in standalone},
            "Android": "Android" not in targets, "iOS": "iOS" not in targets}
    out = ["  platformData:", "  - first:", "      : Any", "    second:", "      enabled: 0",
           "      settings:"]
    for k in ("Android", "Editor", "Linux64", "OSXUniversal", "Win", "Win64", "iOS"):
        out.append(f"        Exclude {k}: {1 if excl[k] else 0}")
    out += ["  - first:", "      Any: ", "    second:", "      enabled: 0", "      settings: {}"]
    out += ["  - first:", "      Android: Android", "    second:",
            f"      enabled: {1 if 'Android' in targets else 0}", "      settings:",
            f"        CPU: {targets.get('Android', 'ARMv7')}"]
    out += ["  - first:", "      Editor: Editor", "    second:",
            f"      enabled: {0 if editor_os is None else 1}", "      settings:",
            f"        CPU: {'x86_64' if editor_os in ('Linux', 'Windows') else 'AnyCPU'}",
            "        DefaultValueInitialized: true", f"        OS: {editor_os or 'AnyOS'}"]
    for s in standalone:
        out += ["  - first:", f"      Standalone: {s}", "    second:",
                f"      enabled: {1 if s in targets else 0}", "      settings:",
                f"        CPU: {targets.get(s, 'None')}"]
    out += ["  - first:", "      iPhone: iOS", "    second:",
            f"      enabled: {1 if 'iOS' in targets else 0}", "      settings:",
            "        AddToEmbeddedBinaries: false", "        CPU: AnyCPU",
            "        CompileFlags: ", "        FrameworkDependencies: "]
    return "\n".join(out) + "\n"


def plugin_meta(rel: str, editor_os: str | None, targets: dict[str, str], preload: bool) -> str:
    return (f"fileFormatVersion: 2\nguid: {guid(rel)}\nPluginImporter:\n"
            "  externalObjects: {}\n  serializedVersion: 2\n  iconMap: {}\n  executionOrder: {}\n"
            "  defineConstraints: []\n"
            f"  isPreloaded: {1 if preload else 0}\n  isOverridable: 0\n  isExplicitlyReferenced: 0\n"
            "  validateReferences: 1\n" + _plugin_platforms(editor_os, targets) + _TAIL)


def meta_for(rel: str, is_dir: bool) -> str:
    g = guid(rel)
    head = f"fileFormatVersion: 2\nguid: {g}\n"
    if is_dir:
        return head + "folderAsset: yes\nDefaultImporter:\n  externalObjects: {}\n" + _TAIL
    name = rel.rsplit("/", 1)[-1]
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    if ext == "cs":
        return head + ("MonoImporter:\n  externalObjects: {}\n  serializedVersion: 2\n"
                       "  defaultReferences: []\n  executionOrder: 0\n  icon: {instanceID: 0}\n") + _TAIL
    if ext == "asmdef":
        return head + "AssemblyDefinitionImporter:\n  externalObjects: {}\n" + _TAIL
    if rel == "package.json":
        return head + "PackageManifestImporter:\n  externalObjects: {}\n" + _TAIL
    if ext in ("c", "h", "cpp"):
        # Sources of the native binaries: never compiled into a player by Unity.
        return plugin_meta(rel, None, {}, False)
    if ext in ("md", "txt", "json", "xml", "yaml", "bytes", "csv", "html"):
        return head + "TextScriptImporter:\n  externalObjects: {}\n" + _TAIL
    return head + "DefaultImporter:\n  externalObjects: {}\n" + _TAIL


def _ignored(rel: Path) -> bool:
    return any(p.endswith("~") or p.startswith(".") for p in rel.parts)


def expected() -> dict[Path, str]:
    """Every .meta the package should have -> its content."""
    want: dict[Path, str] = {}
    binaries = set(PLUGINS)
    for p in sorted(PKG.rglob("*")):
        rel = p.relative_to(PKG)
        r = rel.as_posix()
        if _ignored(rel) or p.suffix == ".meta" or r in binaries:
            continue
        if any(r.startswith(b + "/") for b in binaries):     # inside a .bundle
            continue
        want[p.with_name(p.name + ".meta")] = meta_for(r, p.is_dir())
    for r, (os_, targets, preload) in PLUGINS.items():
        want[PKG / (r + ".meta")] = plugin_meta(r, os_, targets, preload)
        parent = Path(r).parent
        while parent != Path("."):
            want[PKG / (parent.as_posix() + ".meta")] = meta_for(parent.as_posix(), True)
            parent = parent.parent
    return want


def main(argv: list[str]) -> int:
    check = "--check" in argv
    bad = []
    want = expected()
    for path, text in want.items():
        cur = path.read_text(encoding="utf-8") if path.exists() else None
        if cur == text:
            continue
        bad.append(f"{'stale' if cur is not None else 'missing'}: {path.relative_to(PKG)}")
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    for m in PKG.rglob("*.meta"):
        if m not in want and not _ignored(m.relative_to(PKG)):
            bad.append(f"orphan: {m.relative_to(PKG)}")
            if not check:
                m.unlink()
    for line in bad:
        print(line)
    return 1 if (check and bad) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
