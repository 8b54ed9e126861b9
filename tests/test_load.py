"""The load test of issue 12 (bench/load_test.py, `make load`) at a small size: two concurrent
browser sessions against one server for about 10 s, through the same code path. No errors, and every
kind of task (open, map, date filter, scope check) ran."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import load_bench_script, require

load_test = load_bench_script("load_test")
pytestmark = pytest.mark.browser


def test_two_sessions_for_ten_seconds_without_errors(sample_path: Path, tmp_path: Path) -> None:
    require(Path(load_test.CHROMIUM).exists(), "Debian chromium (/usr/bin/chromium)")
    result = load_test.run(
        sessions=2,
        seconds=10,
        out=tmp_path / "load.json",
        workspace=sample_path,
        warmup=False,
        ramp_s=0,
        quiet=True,
    )
    report = load_test.table(result)
    assert result["total"]["errors"] == 0, report
    for kind in load_test.KINDS:
        assert result["tasks"][kind]["count"] >= 1, report
    assert result["tasks"]["open"]["count"] == 2
    assert (tmp_path / "load.json").exists()
