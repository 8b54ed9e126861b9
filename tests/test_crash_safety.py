"""SIGKILL an import and a run of saves at random moments: the workspace is never half-written.

An import is all-or-nothing (features, review queue, rejects and its log line together), and a
committed import's rejects file exists once the workspace is opened again. A save is atomic with
its audit entry: the feature always reads as the last audited ``after``.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from closuremap.layers.store import GeoPackageStore

ROOT = Path(__file__).resolve().parent.parent

IMPORT = """
import sys, time
from closuremap.layers.importer import import_file
from closuremap.layers.store import GeoPackageStore
store = GeoPackageStore(sys.argv[1])
print("ready", flush=True)
t = time.perf_counter()
import_file(
    store, "incidents", sys.argv[2], user="PC Crash", rejects_path=sys.argv[3], chunk_rows=400
)
print("done", time.perf_counter() - t, flush=True)
"""

SAVES = """
import sys
from closuremap.layers.store import GeoPackageStore
store = GeoPackageStore(sys.argv[1])
fid = sys.argv[2]
print("ready", flush=True)
for i in range(100000):
    store.update("incidents", fid, user="PC Crash", attributes={"description": f"edit {i}"},
                 expected_version=store.version("incidents", fid))
"""


def _child(code: str, *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def _calls(path: Path, n: int) -> int:
    """A CAD export with one bad row in nine; returns how many rows are good."""
    lines, good = ["reference,occurred_at,category,easting,northing"], 0
    for i in range(n):
        if i % 9 == 4:
            lines.append(f"C{i},not a date,ASB,531790,179105")
        else:
            lines.append(f"C{i},01/03/2024 10:{i % 60:02d},ASB,{531700 + i % 97},{179050 + i % 89}")
            good += 1
    path.write_text("\n".join(lines) + "\n")
    return good


def _healthy(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT rtreecheck('rtree_incidents_geom')").fetchone()[0] == "ok"


def test_an_import_killed_at_any_moment_is_all_or_nothing(tmp_path: Path) -> None:
    calls = tmp_path / "calls.csv"
    good = _calls(calls, 12_000)
    base = tmp_path / "base.gpkg"
    GeoPackageStore.create(base)
    clean = tmp_path / "clean.gpkg"
    shutil.copy(base, clean)
    proc = _child(IMPORT, str(clean), str(calls), str(tmp_path / "clean-rejects.csv"))
    out, _ = proc.communicate(timeout=300)
    duration = float(out.split()[-1])
    assert GeoPackageStore(clean).count("incidents") == good

    rng = random.Random(12)
    moments = sorted(rng.uniform(0.02, 1.1) * duration for _ in range(8))
    outcomes = []
    for k, moment in enumerate(moments):
        ws, rejects = tmp_path / f"ws{k}.gpkg", tmp_path / f"rejects{k}.csv"
        shutil.copy(base, ws)
        proc = _child(IMPORT, str(ws), str(calls), str(rejects))
        time.sleep(moment)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        _healthy(ws)
        count = GeoPackageStore(ws).count(
            "incidents"
        )  # opening it also writes any pending rejects file
        with sqlite3.connect(ws) as conn:  # the log's tables are made with the workspace
            logged = conn.execute("SELECT count(*) FROM closuremap_imports").fetchone()[0]
            kept = conn.execute("SELECT count(*) FROM closuremap_rejects").fetchone()[0]
        if count:
            assert (count, logged, kept) == (good, 1, 12_000 - good)
            assert (
                len(rejects.read_text().splitlines()) == 1 + 12_000 - good
            )  # header + every rejected row
        else:
            assert (logged, kept) == (0, 0) and not rejects.exists()
        outcomes.append(bool(count))
    assert not all(outcomes), f"no kill landed inside the import (it took {duration:.2f} s)"


@pytest.fixture
def one_incident(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "calls.csv"
    path.write_text(
        "reference,occurred_at,category,easting,northing,description\n"
        "C1,01/03/2024 10:00,ASB,531790,179105,first\n"
    )
    store = GeoPackageStore.create(tmp_path / "ws.gpkg")
    from closuremap.layers.importer import import_file

    import_file(store, "incidents", path, user="PC Setup")
    return store.path, str(store.read("incidents")["feature_id"].iloc[0])


def test_saves_killed_at_any_moment_match_their_audit_entry(one_incident: tuple[Path, str]) -> None:
    path, fid = one_incident
    rng = random.Random(7)
    completed = 0
    for _ in range(5):
        with sqlite3.connect(path) as conn:
            before = conn.execute(
                "SELECT count(*) FROM closuremap_audit WHERE action = 'update'"
            ).fetchone()[0]
        proc = _child(SAVES, str(path), fid)
        time.sleep(rng.uniform(0.05, 0.8))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        _healthy(path)
        stored = (
            GeoPackageStore(path).read("incidents").set_index("feature_id").loc[fid, "description"]
        )
        with sqlite3.connect(path) as conn:
            saves = (
                conn.execute(
                    "SELECT count(*) FROM closuremap_audit WHERE action = 'update'"
                ).fetchone()[0]
                - before
            )
            last = conn.execute(
                "SELECT after FROM closuremap_audit WHERE feature_id = ? ORDER BY id DESC LIMIT 1",
                (fid,),
            ).fetchone()
        if (
            saves
        ):  # run i saved "edit 0" .. "edit k": the feature holds the last, as its audit entry says
            assert stored == f"edit {saves - 1}" == json.loads(last[0])["properties"]["description"]
        completed += saves
    assert completed, "no save completed before the kills"
