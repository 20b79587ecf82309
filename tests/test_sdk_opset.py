"""voiceskin.opset is the SDK's one op list: format.py and graph.py both
import it and not each other (no import cycle, no import hidden inside a
function), and its table agrees with the C op table (native/src/ops.h codes,
native/src/ops.c lookup, each op's vsk_check_counts arity)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from voiceskin import opset
from voiceskin.opset import OPS, Op, validate_node

ROOT = Path(__file__).resolve().parents[1]
SDK = ROOT / "sdk" / "voiceskin"
SRC = ROOT / "native" / "src"


def _sdk_imports(path: Path) -> tuple[set[str], set[str]]:
    """(modules of the package imported at module level, those imported
    inside a function), by module name."""
    tree = ast.parse(path.read_text(), str(path))
    top: set[str] = set()
    nested: set[str] = set()

    def visit(node: ast.AST, in_func: bool) -> None:
        for child in ast.iter_child_nodes(node):
            f = in_func or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.ImportFrom) and child.level == 1:
                names = [child.module] if child.module else [a.name for a in child.names]
                (nested if f else top).update(n.split(".")[0] for n in names)
            elif isinstance(child, ast.ImportFrom) and (child.module or "").startswith("voiceskin."):
                (nested if f else top).add(child.module.split(".")[1])
            visit(child, f)

    visit(tree, False)
    return top, nested


def test_format_graph_opset_have_no_import_cycle() -> None:
    deps = {m: _sdk_imports(SDK / f"{m}.py") for m in ("opset", "format", "graph")}
    assert deps["opset"] == (set(), set()), "opset.py must not import the package"
    assert "opset" in deps["format"][0] and "opset" in deps["graph"][0]
    assert "graph" not in deps["format"][0] | deps["format"][1], \
        "format.py imports graph.py (cycle: graph.py imports format.py)"
    assert deps["format"][1] == set() and deps["graph"][1] == set(), \
        f"imports hidden inside functions: {deps}"


@pytest.mark.parametrize("module", ["voiceskin.opset", "voiceskin.format", "voiceskin.graph"])
def test_each_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    code = (f"import sys, {module}\n"
            "print(sorted(m for m in sys.modules if m.startswith('voiceskin.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    loaded = eval(out)  # a list literal printed above
    assert module in loaded
    if module == "voiceskin.format":
        assert "voiceskin.graph" not in loaded


def _c_op_codes() -> dict[str, int]:
    text = (SRC / "ops.h").read_text()
    return {m[1]: int(m[2]) for m in re.finditer(r"VSK_OP_(\w+)\s*=\s*(\d+)", text)}


def test_op_codes_match_ops_h_and_the_lookup() -> None:
    assert {op.name: int(op) for op in Op} == _c_op_codes()
    lookup = dict(re.findall(r"case VSK_OP_(\w+): return &vsk_op_def_(\w+);",
                             (SRC / "ops.c").read_text()))
    assert set(lookup) == {op.name for op in Op}
    assert set(OPS) == set(Op), "every op code has exactly one OPS entry"


def _c_arity() -> dict[str, tuple[int, int, int, int, int, int]]:
    """name -> vsk_check_counts(n, n_in, n_out, cmin, cmax, n_i, n_f) of the
    op's validate function (ops_nn.c, ops_signal.c)."""
    out = {}
    for f in ("ops_nn.c", "ops_signal.c"):
        text = (SRC / f).read_text()
        for name, fn in re.findall(r'vsk_op_def_\w+\s*=\s*\{"(\w+)",\s*(\w+),', text):
            body = re.search(rf"\n\S[^\n]*\b{fn}\([^;]*?\)\s*\{{(.*?)\n\}}\n", text, re.S)
            assert body, f"{fn} not found in {f}"
            m = re.search(r"vsk_check_counts\(n,\s*(\d+),\s*(\d+),\s*(\d+),\s*(\d+),"
                          r"\s*(\d+),\s*(\d+)\)", body[1])
            if m:
                out[name] = tuple(int(x) for x in m.groups())
    return out


def test_arity_matches_the_c_validators() -> None:
    c = _c_arity()
    # CONCAT takes any number of inputs and checks its counts by hand.
    assert set(c) == {op.name for op in Op} - {"CONCAT"}
    for name, (n_in, n_out, cmin, cmax, n_i, n_f) in c.items():
        d = OPS[Op[name]]
        assert (d.n_in, d.n_out, d.n_iattr, d.n_fattr) == (n_in, n_out, n_i, n_f), name
        assert d.n_const == tuple(range(cmin, cmax + 1)), name
    assert OPS[Op.CONCAT].n_in is None


def test_validate_node_uses_the_table() -> None:
    validate_node(Op.ADD, [4, 4], [4], [], [], [], hop=8)
    with pytest.raises(ValueError, match=r"node \(ADD\): needs 2 input\(s\), has 1"):
        validate_node(Op.ADD, [4], [4], [], [], [], hop=8)
    with pytest.raises(ValueError, match=r"n7 \(op 99\): unknown op code 99"):
        validate_node(99, [4], [4], [], [], [], hop=8, where="n7")
    with pytest.raises(opset.GraphTooLarge, match="history"):
        validate_node(Op.CONV1D, [1 << 12], [1], [(1, 1 << 12, 1 << 12), (1,)], [2], [],
                      hop=8)


def test_graph_and_format_reexport_the_same_objects() -> None:
    from voiceskin import format as fmt
    from voiceskin import graph

    assert graph.Op is Op and graph.Act is opset.Act
    assert graph.validate_node is validate_node and graph.GraphTooLarge is opset.GraphTooLarge
    assert fmt.validate_node is validate_node
