"""The load test of issue 12 (bench/load_test.py, `make load`) at a small size: two concurrent
browser sessions against one server for about 10 s, through the same code path. No errors, and every
kind of task (open, map, date filter, scope check) ran."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.load_test import CHROMIUM, KINDS, run, table
from tests.conftest import require

pytestmark = pytest.mark.browser


def test_two_sessions_for_ten_seconds_without_errors(sample_path: Path, tmp_path: Path) -> None:
    require(Path(CHROMIUM).exists(), "Debian chromium (/usr/bin/chromium)")
    result = run(
        sessions=2,
        seconds=10,
        out=tmp_path / "load.json",
        workspace=sample_path,
        warmup=False,
        ramp_s=0,
        quiet=True,
    )
    report = table(result)
    assert result["total"]["errors"] == 0, report
    for kind in KINDS:
        assert result["tasks"][kind]["count"] >= 1, report
    assert result["tasks"]["open"]["count"] == 2
    assert (tmp_path / "load.json").exists()
