"""No lost edits from the command line: `closuremap export` gives each feature its version, and
`closuremap import --update` of that file refuses the rows whose feature someone changed since,
naming who changed what, applies the rest, and keeps the refused rows in the rejects file to be
re-applied. A file without a version column updates as it always did."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import geopandas as gpd
import pyogrio
import shapely

from closuremap.geo.crs import BNG
from closuremap.layers.exporter import export_layer, feature_versions
from closuremap.layers.importer import import_file
from closuremap.layers.store import WorkspaceStore
from tests.test_concurrent_writers import created

EXE = shutil.which("closuremap", path=str(Path(sys.executable).parent))
E0, N0 = 531700.0, 179000.0


def run(*args: object) -> subprocess.CompletedProcess[str]:
    assert EXE, "the closuremap console script is not installed (pip install -e .)"
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, timeout=300)


def _areas(store: WorkspaceStore, n: int = 4) -> list[str]:
    """``n`` communal areas added as an import would (one audit line, version 0), one of them then
    renamed by PC Setup (a later version)."""
    frame = gpd.GeoDataFrame(
        {
            "block_id": ["B1"] * n,
            "area_type": ["stairwell"] * n,
            "name": [f"Stair {i}" for i in range(n)],
        },
        geometry=[shapely.box(E0 + 10 * i, N0, E0 + 10 * i + 5, N0 + 5) for i in range(n)],
        crs=BNG,
    )
    ids = store.add("communal_areas", frame, user="PC Setup")
    store.update("communal_areas", ids[3], user="PC Setup", attributes={"floor_to": 2})
    return ids


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    return pyogrio.read_dataframe(path)


def _write(frame: pd.DataFrame, path: Path) -> None:
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        pyogrio.write_dataframe(frame, path, layer="communal_areas")


def test_export_writes_each_features_version(any_location: str, tmp_path: Path) -> None:
    store = created(any_location)
    ids = _areas(store)
    out = tmp_path / "areas.gpkg"
    done = run("export", any_location, "communal_areas", "--out", out, "--json")
    assert done.returncode == 0, done.stderr
    back = pyogrio.read_dataframe(out).set_index("feature_id")
    assert {f: int(back.loc[f, "version"]) for f in ids} == {
        f: store.version("communal_areas", f) for f in ids
    }
    assert int(back.loc[ids[3], "version"]) > 0 == int(back.loc[ids[0], "version"])
    assert feature_versions(store, "communal_areas") == {
        ids[3]: store.version("communal_areas", ids[3])
    }


@pytest.mark.parametrize("suffix", [".gpkg", ".csv"])
def test_import_update_refuses_rows_changed_since_the_export(
    any_location: str, tmp_path: Path, suffix: str
) -> None:
    store = created(any_location)
    ids = _areas(store)
    out = tmp_path / f"areas{suffix}"
    assert run("export", any_location, "communal_areas", "--out", out).returncode == 0
    # PC Bea edits her copy of the export: renames two stairs and moves one
    mine = _read(out)
    at = {str(f): i for i, f in enumerate(mine["feature_id"])}
    mine.loc[at[ids[0]], "name"] = "Stair 0 (Bea)"
    mine.loc[at[ids[1]], "name"] = "Stair 1 (Bea)"
    mine.loc[at[ids[3]], "name"] = "Stair 3 (Bea)"
    _write(mine, tmp_path / f"bea{suffix}")
    # meanwhile PC Ann renames stair 1 in the workspace
    store.update("communal_areas", ids[1], user="PC Ann (1)", attributes={"name": "Stair 1 (Ann)"})
    rejects = tmp_path / "rejects.csv"
    done = run(
        "import",
        any_location,
        "communal_areas",
        tmp_path / f"bea{suffix}",
        "--update",
        "--user",
        "PC Bea (2)",
        "--rejects",
        rejects,
        "--json",
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["updated"] == 3 and summary["rejected"] == 1 and summary["imported"] == 3
    names = store.read("communal_areas").set_index("feature_id")["name"]
    assert names[ids[0]] == "Stair 0 (Bea)" and names[ids[3]] == "Stair 3 (Bea)"
    assert names[ids[1]] == "Stair 1 (Ann)"  # Ann's change kept, Bea's not written over it
    assert store.count("communal_areas") == 4  # the refused row is not added as a new feature
    kept = pd.read_csv(rejects, dtype=str, keep_default_na=False)
    assert kept["feature_id"].tolist() == [ids[1]]
    row = kept.iloc[0]
    assert row["name"] == "Stair 1 (Bea)"  # her edit, to re-apply
    assert "PC Ann (1)" in row["reason"] and "Stair 1 (Ann)" in row["reason"]
    assert "export the layer again" in row["reason"].lower() and "on the page" not in row["reason"]
    assert "PC Ann (1)" in " ".join(summary["reasons"])
    assert any("changed or deleted after the file was exported" in n for n in summary["notes"])
    assert store.history(kind="communal_areas", feature_id=ids[1]).iloc[0]["user"] == "PC Ann (1)"

    # re-applied after a fresh export: her change goes in on top of Ann's
    fresh = tmp_path / f"fresh{suffix}"
    assert run("export", any_location, "communal_areas", "--out", fresh).returncode == 0
    again = _read(fresh)
    again = again[again["feature_id"].astype(str) == ids[1]].copy()
    again["name"] = row["name"]
    _write(again, tmp_path / f"again{suffix}")
    done = run(
        "import",
        any_location,
        "communal_areas",
        tmp_path / f"again{suffix}",
        "--update",
        "--user",
        "PC Bea (2)",
        "--rejects",
        tmp_path / "none.csv",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["updated"] == 1
    assert store.read("communal_areas").set_index("feature_id").loc[ids[1], "name"] == (
        "Stair 1 (Bea)"
    )


def test_a_file_without_a_version_column_updates_as_before(
    any_location: str, tmp_path: Path
) -> None:
    store = created(any_location)
    ids = _areas(store)
    out = tmp_path / "areas.csv"
    export_layer(store, "communal_areas", out)
    mine = _read(out).drop(columns=["version"])
    mine.loc[mine["feature_id"] == ids[1], "name"] = "Stair 1 (Bea)"
    mine.to_csv(out, index=False)
    store.update("communal_areas", ids[1], user="PC Ann (1)", attributes={"name": "Stair 1 (Ann)"})
    result = import_file(
        store,
        "communal_areas",
        out,
        user="PC Bea (2)",
        update_existing=True,
        rejects_path=tmp_path / "r.csv",
    )
    assert result.updated == 4 and result.n_rejected == 0
    assert store.read("communal_areas").set_index("feature_id").loc[ids[1], "name"] == (
        "Stair 1 (Bea)"
    )


def test_versions_that_cannot_be_read_and_deleted_features_are_refused(
    any_location: str, tmp_path: Path
) -> None:
    store = created(any_location)
    ids = _areas(store)
    out = tmp_path / "areas.csv"
    export_layer(store, "communal_areas", out)
    mine = _read(out)
    mine.loc[mine["feature_id"] == ids[0], "version"] = "latest"
    mine.loc[mine["feature_id"] == ids[1], "version"] = ""  # empty: updates regardless
    mine.to_csv(out, index=False)
    store.delete("communal_areas", [ids[2]], user="PC Ann (1)")
    result = import_file(
        store,
        "communal_areas",
        out,
        user="PC Bea (2)",
        update_existing=True,
        rejects_path=tmp_path / "r.csv",
        chunk_rows=2,  # each chunk's rows found in the file by their own numbers
    )
    reasons = result.rejected.set_index("feature_id")["reason"]
    assert "version 'latest' is not a version number" in reasons[ids[0]]
    assert "deleted from the workspace after this file was exported" in reasons[ids[2]]
    assert result.updated == 2 and result.n_rejected == 2 and store.count("communal_areas") == 3
    assert ids[2] not in set(store.read("communal_areas")["feature_id"])
    kept = pd.read_csv(tmp_path / "r.csv", dtype=str, keep_default_na=False)
    assert kept["feature_id"].tolist() == [ids[0], ids[2]] and kept["line"].tolist() == ["2", "4"]
