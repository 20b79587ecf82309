"""The cffi cdef in voiceskin._ffi must declare exactly what
native/include/voiceskin.h declares: every function (return and parameter
types), struct (field types, names and order), typedef, enum constant and
integer #define. Both are parsed with pycparser after a small preprocessing
step, so a change to either side without the other fails here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pycparser import c_ast, c_generator, c_parser

from voiceskin import _ffi

HEADER = Path(__file__).resolve().parents[1] / "native" / "include" / "voiceskin.h"

_PRELUDE = """
typedef unsigned int uint32_t; typedef int int32_t;
typedef unsigned long long uint64_t; typedef long long int64_t;
typedef unsigned long size_t;
"""


def _preprocess(src: str) -> tuple[str, dict[str, int]]:
    """Drops comments and preprocessor lines (and `#ifdef __cplusplus`
    blocks); returns the C text and the integer #defines."""
    src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)
    src = re.sub(r"//[^\n]*", " ", src)
    src = re.sub(r"\\\n", " ", src)
    defines: dict[str, int] = {}
    out: list[str] = []
    skip_depth = 0
    depth = 0
    for line in src.splitlines():
        s = line.strip()
        if s.startswith("#"):
            d = s[1:].strip()
            if d.startswith(("if", "ifdef", "ifndef")):
                depth += 1
                if skip_depth == 0 and re.match(r"ifdef\s+__cplusplus\b", d):
                    skip_depth = depth
            elif d.startswith("endif"):
                if skip_depth == depth:
                    skip_depth = 0
                depth -= 1
            elif skip_depth == 0:
                m = re.match(r"define\s+(\w+)\s+\(?(-?(?:0x[0-9a-fA-F]+|\d+))[uUlL]*\)?\s*$", d)
                if m:
                    defines[m.group(1)] = int(m.group(2), 0)
            continue
        if skip_depth == 0:
            out.append(line)
    text = "\n".join(out)
    text = re.sub(r"\bVSK_API\b", " ", text)
    return text, defines


def _type(node: Any) -> str:
    return re.sub(r"\s+", " ", c_generator.CGenerator().visit(node)).strip()


def _eval(expr: Any) -> int:
    if isinstance(expr, c_ast.Constant):
        return int(expr.value.rstrip("uUlL"), 0)
    if isinstance(expr, c_ast.UnaryOp) and expr.op == "-":
        return -_eval(expr.expr)
    if isinstance(expr, c_ast.UnaryOp) and expr.op == "+":
        return _eval(expr.expr)
    raise AssertionError(f"unsupported enum expression {expr!r}")


def declarations(src: str) -> dict[str, Any]:
    """Everything declared by ``src``, normalised for comparison."""
    text, defines = _preprocess(src)
    ast = c_parser.CParser().parse(_PRELUDE + text, filename="<decls>")
    funcs: dict[str, tuple[str, tuple[str, ...]]] = {}
    structs: dict[str, tuple[tuple[str, str], ...]] = {}
    typedefs: dict[str, str] = {}
    enums: dict[str, int] = {}

    def struct_of(t: Any) -> None:
        if isinstance(t, c_ast.Struct) and t.decls is not None:
            structs[t.name] = tuple((_type(d.type), d.name) for d in t.decls)

    for ext in ast.ext:
        if isinstance(ext, c_ast.Typedef):
            if ext.name in ("uint32_t", "int32_t", "uint64_t", "int64_t", "size_t"):
                continue
            inner = ext.type.type
            struct_of(inner)
            if isinstance(inner, c_ast.Struct):
                typedefs[ext.name] = f"struct {inner.name}"
            else:
                typedefs[ext.name] = _type(ext.type)
        elif isinstance(ext, c_ast.Decl):
            t = ext.type
            if isinstance(t, c_ast.FuncDecl):
                params: tuple[str, ...] = ()
                if t.args is not None:
                    params = tuple(_type(p.type) for p in t.args.params)
                funcs[ext.name] = (_type(t.type), params)
            elif isinstance(t, c_ast.Enum):
                for e in t.values.enumerators:
                    enums[e.name] = _eval(e.value)
            else:
                struct_of(t)
    return {"functions": funcs, "structs": structs, "typedefs": typedefs,
            "enums": enums, "defines": defines}


def _diff(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    problems = []
    for kind in a:
        for name in sorted(set(a[kind]) | set(b[kind])):
            if name not in b[kind]:
                problems.append(f"{kind}: {name} in header, missing from cdef")
            elif name not in a[kind]:
                problems.append(f"{kind}: {name} in cdef, not in header")
            elif a[kind][name] != b[kind][name]:
                problems.append(f"{kind}: {name} differs: header {a[kind][name]} "
                                f"!= cdef {b[kind][name]}")
    return problems


def test_header_parses_to_something_sensible() -> None:
    h = declarations(HEADER.read_text())
    assert "vsk_voice_process" in h["functions"]
    assert h["functions"]["vsk_voice_process"] == (
        "vsk_status", ("vsk_voice *", "const float *", "float *", "uint32_t"))
    assert h["structs"]["vsk_voice_config"][0] == ("uint32_t", "struct_size")
    assert h["enums"]["VSK_ERR_BAD_STATE"] == -16
    assert h["defines"]["VSK_ABI_VERSION"] == 1
    assert len(h["functions"]) >= 30


def test_cdef_matches_header() -> None:
    h = declarations(HEADER.read_text())
    c = declarations(_ffi.CDEF)
    problems = _diff(h, c)
    assert not problems, "voiceskin._ffi.CDEF drifted from voiceskin.h:\n" + "\n".join(problems)


@pytest.mark.parametrize("old,new", [
    ("uint32_t max_voices;", "uint64_t max_voices;"),                    # field type
    ("float mix;\n    uint32_t bypass;", "uint32_t bypass;\n    float mix;"),  # order
    ("VSK_ERR_BAD_STATE = -16", "VSK_ERR_BAD_STATE = -17"),              # enum value
    ("uint32_t frames);", "size_t frames);"),                            # parameter
    ("void vsk_registry_destroy(vsk_registry *registry);\n", ""),       # missing
    ("#define VSK_ABI_VERSION 1", "#define VSK_ABI_VERSION 2"),          # define
])
def test_comparison_detects_drift(old: str, new: str) -> None:
    assert old in _ffi.CDEF, f"test fixture out of date: {old!r} not in CDEF"
    h = declarations(HEADER.read_text())
    c = declarations(_ffi.CDEF.replace(old, new, 1))
    assert _diff(h, c), f"changing {old!r} to {new!r} went unnoticed"


def test_cdef_loads_in_cffi() -> None:
    # 0.4 appended fields (0.3: 32 and 48 bytes; docs/abi.md "Growing the ABI"),
    # 0.5 the CPU governor's (0.4: 88 and 20 bytes), 0.6 the schedule (0.5: 120)
    assert _ffi.ffi.sizeof("vsk_voice_config") == 128
    assert _ffi.ffi.offsetof("vsk_voice_config", "schedule") == 120
    assert _ffi.ffi.offsetof("vsk_voice_config", "cpu_budget") == 88
    assert _ffi.ffi.sizeof("vsk_tier_state") == 32
    assert _ffi.ffi.offsetof("vsk_tier_state", "governed_tier") == 20
    assert _ffi.ffi.offsetof("vsk_voice_config", "max_isa") == 32
    assert _ffi.ffi.sizeof("vsk_tier_info") == 56
    assert _ffi.ffi.offsetof("vsk_tier_info", "cost_per_second") == 48
    assert _ffi.ffi.sizeof("vsk_registry_config") == 64
    assert _ffi.ffi.offsetof("vsk_registry_config", "reserved0") == 12
    assert _ffi.ffi.sizeof("vsk_bundle_info") == 40
