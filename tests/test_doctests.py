"""The examples in docstrings are tests too: each module's doctests run here, under the installed
``closuremap.*`` names (pytest's --doctest-modules would import geo/ a second time as ``geo``)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import closuremap.geo
import closuremap.layers
import closuremap.reports

PACKAGES = (closuremap.geo, closuremap.layers, closuremap.reports)


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        names.append(package.__name__)
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            names.append(info.name)
    return sorted(names)


def _with_examples(name: str) -> bool:
    tests = doctest.DocTestFinder().find(importlib.import_module(name))
    return any(t.examples for t in tests)


MODULES = [m for m in _modules() if _with_examples(m)]


def test_the_doctests_are_found() -> None:
    # A rename or a broken walk would otherwise leave this file passing with nothing to run.
    assert "closuremap.geo.crs" in _modules()
    assert len(MODULES) >= 5, MODULES


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in doctest.DocTestFinder().find(module):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
