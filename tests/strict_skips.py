"""pytest plugin: in CI a skip is a failure, wherever it happens.

In CI (``CI`` = 1/true/yes, as ``.ci/run`` runs) or with
``VOICESKIN_STRICT=1``, a skipped test fails the run: every tool a test needs
is installed by ``scripts/setup.sh``, so a skip there means a missing install
step, not an optional feature. That covers both kinds of skip:

* a test skipped while it runs (``pytest.skip``, a ``skipif`` mark, a fixture
  that skips) — turned into a failed test report;
* a whole module skipped while it is collected (a module-level
  ``pytest.importorskip`` or ``pytest.skip(allow_module_level=True)``) —
  turned into a collection error, which fails the run.

Locally, skips stay skips (their reasons shown by ``-ra``). ``xfail`` is not
a skip and is left alone. ``tests/conftest.py`` imports these hooks;
``tests/test_strict_skips.py`` checks them in a child pytest.
"""

from __future__ import annotations

import os
from typing import Any

import pytest


def strict() -> bool:
    """True in CI or with VOICESKIN_STRICT=1 (read at each call)."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes") or \
        os.environ.get("VOICESKIN_STRICT") == "1"


def _reason(longrepr: Any) -> str:
    # a skip's longrepr is (path, lineno, "Skipped: reason")
    return longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    outcome = yield
    rep = outcome.get_result()
    if strict() and rep.skipped and not hasattr(rep, "wasxfail"):
        rep.outcome = "failed"
        rep.longrepr = f"skipped in strict mode (CI): {_reason(rep.longrepr)}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):  # type: ignore[no-untyped-def]
    outcome = yield
    rep = outcome.get_result()
    if strict() and rep.skipped:
        rep.outcome = "failed"
        rep.longrepr = (f"{collector.nodeid or collector.name}: skipped at collection "
                        f"in strict mode (CI): {_reason(rep.longrepr)}")
