"""The CI skip rule (tests/strict_skips.py), checked in a child pytest.

A throwaway test folder holds a module skipped at collection (module-level
``pytest.importorskip`` of a module that does not exist), a test that skips
while running, a passing test and an xfail. The child pytest loads only the
plugin (``-p strict_skips``), not this suite's conftest. Under ``CI=true``
both skips must fail the run; without CI they stay skips and the run passes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

_TESTS = Path(__file__).resolve().parent


def _child(folder: Path, env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "VOICESKIN_STRICT")}
    env.update(env_extra)
    env["PYTHONPATH"] = os.pathsep.join([str(_TESTS), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "strict_skips", "-p", "no:cacheprovider",
         "-rA", "-q", "--rootdir", str(folder), "-c", os.devnull, str(folder)],
        cwd=folder, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    (tmp_path / "test_collect_skip.py").write_text(
        "import pytest\n"
        "pytest.importorskip('voiceskin_no_such_module_xyz')\n"
        "def test_never_runs():\n    pass\n")
    (tmp_path / "test_run_skip.py").write_text(
        "import pytest\n"
        "def test_skips():\n    pytest.skip('tool missing')\n"
        "def test_passes():\n    assert True\n"
        "@pytest.mark.xfail(reason='known', strict=True)\n"
        "def test_xfails():\n    assert False\n")
    return tmp_path


def test_without_ci_skips_stay_skips(suite: Path) -> None:
    r = _child(suite, {})
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "2 skipped" in out and "1 passed" in out and "1 xfailed" in out, out


def test_ci_fails_a_module_skipped_at_collection(suite: Path) -> None:
    r = _child(suite, {"CI": "true"})
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert "skipped at collection in strict mode (CI)" in out, out
    assert "voiceskin_no_such_module_xyz" in out, out


def test_ci_fails_a_test_skipped_while_running(suite: Path) -> None:
    # only the runtime skip: the collection skip alone would stop the run
    (suite / "test_collect_skip.py").unlink()
    r = _child(suite, {"VOICESKIN_STRICT": "1"})
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "skipped in strict mode (CI): Skipped: tool missing" in out, out
    assert "1 failed" in out and "1 passed" in out and "1 xfailed" in out, out
