"""``closuremap copy``: a whole workspace into a new one, GeoPackage and PostGIS either way, with
the same features (ids, attributes, geometry), settings, records, floor plans, review queue, import
log and audit trail, whose chain still verifies on the copy."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import geopandas as gpd
import pyogrio
import shapely

from closuremap.geo.crs import BNG
from closuremap.geo.errors import WorkspaceError
from closuremap.layers import audit_chain, floorplans, gpkg_copy
from closuremap.layers.copy import copy_workspace, shown
from closuremap.layers.importer import import_file
from closuremap.layers.model import KINDS
from closuremap.layers.review import open_items
from closuremap.layers.store import GeoPackageStore, open_workspace
from tests.conftest import ZOO

EXE = shutil.which("closuremap", path=str(Path(sys.executable).parent))
E, N = 531790.5, 179105.2  # on the sample estate


# -- a workspace with something in every table -------------------------------------------------
def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (40, 20), (200, 10, 10, 255)).save(out, format="PNG")
    return out.getvalue()


def enrich(store: GeoPackageStore, tmp_path: Path) -> None:
    """The sample, used: a floor plan, an objection, a service record, review-queue items from an
    import, an order edited, an incident deleted, a setting changed."""
    floorplans.save_plan(
        store.location,
        block_id="PER",
        floor=2,
        name="Level 2 — east",
        png=_png(),
        control_points=[
            ((0, 0), (531800, 179150)),
            ((40, 0), (531840, 179150)),
            ((0, 20), (531800, 179130)),
        ],
        user="Ann Analyst",
    )
    order = store.read("orders").iloc[0]
    store.add_objection(
        str(order["order_id"]),
        who="Resident, Flat 3",
        summary="Access to the bin store — “we need it”",
        received_on="2025-02-01",
        recorded_by="Ann Analyst",
    )
    store.add_case_record(
        str(order["order_id"]),
        "service",
        {"entrance": "PER-1", "served_at": "2025-02-03T10:15"},
        recorded_by="PC Bob 4321",
    )
    cad = tmp_path / "cad.csv"
    cad.write_text(
        'ref,when,what,location\nU1,10/02/2025 02:00,Drugs,"see notes"\n'
        'P1,10/02/2025 03:00,Drugs,"Flat 12 Pernt Hse"\n'
        f"X1,10/02/2025 04:00,Drugs,{E} {N}\n"
    )
    import_file(store, "incidents", cad, user="Ann Analyst", rejects_path=tmp_path / "rej.csv")
    store.update(
        "orders",
        str(order["feature_id"]),
        user="Sgt Sue",
        attributes={"status": "notice_issued"},
        geometry=shapely.box(E - 30, N - 30, E + 30.123456, N + 30.987654),
        note="scope widened",
    )
    incident = str(store.read("incidents")["feature_id"].iloc[5])
    store.delete("incidents", [incident], user="Sgt Sue", note="duplicate")
    store.set_meta("area_name", "Southwark — St George's", user="Sgt Sue")


@pytest.fixture
def used_store(sample_store: GeoPackageStore, tmp_path: Path) -> GeoPackageStore:
    enrich(sample_store, tmp_path)
    return sample_store


# -- comparing two workspaces ----------------------------------------------------------------
def assert_same_features(a: Any, b: Any) -> None:
    """Every kind: the same feature ids in the same order, the same attributes, the same geometry
    to a millimetre."""
    for kind in KINDS:
        fa, fb = a.read(kind), b.read(kind)
        assert fa["feature_id"].tolist() == fb["feature_id"].tolist(), kind
        attrs = [c for c in fa.columns if c != "geometry"]
        pd.testing.assert_frame_equal(
            pd.DataFrame(fa[attrs]).reset_index(drop=True),
            pd.DataFrame(fb[attrs]).reset_index(drop=True),
            obj=kind,
        )
        ga, gb = np.asarray(fa.geometry.values), np.asarray(fb.geometry.values)
        assert (shapely.is_missing(ga) == shapely.is_missing(gb)).all(), kind
        same = shapely.equals_exact(ga, gb, tolerance=0.001) | (
            shapely.is_empty(ga) & shapely.is_empty(gb)
        )
        assert same[~shapely.is_missing(ga)].all(), kind


def assert_same_records(a: Any, b: Any) -> None:
    """History (every column, hashes included), settings, objections and case records."""
    pd.testing.assert_frame_equal(a.history(), b.history())
    assert audit_chain.verify(b.history().iloc[::-1].to_dict("records")).ok
    # every setting; the schema version says which of its own backend's migrations each had
    settings_a, settings_b = settings(a), settings(b)
    assert settings_a.pop("schema_version") and settings_b.pop("schema_version")
    assert settings_a == settings_b and settings_a["area_name"] == "Southwark — St George's"
    pd.testing.assert_frame_equal(a.objections(), b.objections())
    for order_id in a.read("orders")["order_id"]:
        pd.testing.assert_frame_equal(
            a.case_records(order_id, "service"), b.case_records(order_id, "service")
        )


def settings(store: Any) -> dict[str, str]:
    columns, rows = store.dump_table("closuremap_meta")
    return {r[columns.index("key")]: r[columns.index("value")] for r in rows}


def dumped(store: GeoPackageStore) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows, each as {column: value} (a workspace migrated from an older version
    has a newer column at the end of its table, not in the kind's order)."""
    out = {}
    for name in store.table_names():
        columns, rows = store.dump_table(name)
        out[name] = [dict(zip(columns, row, strict=True)) for row in rows]
    return out


def assert_same_gpkg(a: GeoPackageStore, b: GeoPackageStore) -> None:
    """Two GeoPackage workspaces hold the same: through the store, the side tables' own readers,
    and table by table, row by row (geometry WKB byte for byte)."""
    assert_same_features(a, b)
    assert_same_records(a, b)
    assert_same_side_tables(a, b)
    assert dumped(a) == dumped(b)


def assert_same_side_tables(a: Any, b: Any) -> None:
    """Floor plans (image bytes and placement), the review queue and the import log."""
    assert floorplans.plans(a) == floorplans.plans(b) and len(floorplans.plans(b)) == 1
    pd.testing.assert_frame_equal(open_items(a), open_items(b))
    pd.testing.assert_frame_equal(a.imports(), b.imports())


def assert_valid_geopackage(path: Path) -> None:
    """GDAL reads every layer; SQLite's integrity and R-tree checks pass; the extents are set."""
    layers = dict(pyogrio.list_layers(path).tolist())
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for kind in KINDS:
            assert kind in layers
            frame = pyogrio.read_dataframe(path, layer=kind)
            count = conn.execute(f'SELECT count(*) FROM "{kind}"').fetchone()[0]
            assert len(frame) == count
            assert conn.execute(f"SELECT rtreecheck('rtree_{kind}_geom')").fetchone()[0] == "ok"
            indexed = conn.execute(f'SELECT count(*) FROM "rtree_{kind}_geom"').fetchone()[0]
            assert indexed == count  # no empty shapes in the sample: each has an entry
            listed = conn.execute(
                "SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = ?", (kind,)
            ).fetchone()[0]
            assert listed == count
            if count:
                box = conn.execute(
                    "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?",
                    (kind,),
                ).fetchone()
                assert np.allclose(box, frame.total_bounds, atol=1e-6)


# -- GeoPackage to GeoPackage ------------------------------------------------------------------
def test_a_copy_holds_the_same_workspace(used_store: GeoPackageStore, tmp_path: Path) -> None:
    dst = tmp_path / "copy.gpkg"
    seen: list[str] = []
    report = copy_workspace(used_store.location, dst, progress=lambda f, m: seen.append(m))
    copied = GeoPackageStore(dst)
    assert_same_gpkg(used_store, copied)
    assert report.audit_verified and report.audit.entries == len(used_store.history())
    assert report.tables["incidents"] == used_store.count("incidents")
    assert report.tables["closuremap_floorplans"] == 1
    assert report.tables["closuremap_review"] == len(open_items(used_store)) > 0
    assert set(report.tables) == set(used_store.table_names())
    assert seen[-1] == f"copied to {dst}"
    assert not list(tmp_path.glob(".copy.copying-*"))


def test_the_copy_is_a_valid_geopackage(used_store: GeoPackageStore, tmp_path: Path) -> None:
    dst = tmp_path / "copy.gpkg"
    copy_workspace(used_store.location, dst)
    assert_valid_geopackage(dst)
    # and a usable workspace: a bbox read through the index, an edit, a chain that goes on
    copied = GeoPackageStore(dst)
    box = (E - 50, N - 50, E + 50, N + 50)
    assert sorted(copied.read("incidents", bbox=box)["feature_id"]) == sorted(
        used_store.read("incidents", bbox=box)["feature_id"]
    )
    fid = str(copied.read("premises")["feature_id"].iloc[0])
    copied.update("premises", fid, user="Ann", attributes={"name": "Renamed"})
    assert audit_chain.verify(copied.history().iloc[::-1].to_dict("records")).ok
    assert copied.history()["id"].iloc[0] == used_store.history()["id"].max() + 1


def test_layers_load_in_chunks_with_one_index(
    used_store: GeoPackageStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows stream a chunk at a time both ways (here 100): the R-tree, extent and counts come out
    as whole as from one chunk."""
    monkeypatch.setattr(gpkg_copy, "CHUNK_ROWS", 100)
    dst = tmp_path / "copy.gpkg"
    copy_workspace(used_store.location, dst)
    assert_same_gpkg(used_store, GeoPackageStore(dst))
    assert_valid_geopackage(dst)


def test_geometry_leaves_as_the_stored_wkb(used_store: GeoPackageStore) -> None:
    columns, rows = used_store.dump_table("orders")
    geom = [r[columns.index("geom")] for r in rows]
    stored = used_store.read("orders").geometry.values
    assert geom == shapely.to_wkb(stored, byte_order=1, flavor="iso").tolist()
    assert "fid" in columns and "feature_id" in columns


def zoo_workspace(store: GeoPackageStore) -> list[str]:
    """The awkward geometries of conftest's zoo (empty, multi, with a hole, self-crossing, with Z)
    as basemap features, and a point with no geometry at all; their feature ids."""
    names = list(ZOO)
    frame = gpd.GeoDataFrame(
        {"feature_class": names + ["nothing"], "name": names + ["no geometry"]},
        geometry=[*ZOO.values(), None],
        crs=BNG,
    )
    return store.add("basemap", frame, user="Ann", audit_each=True)


def assert_same_zoo(a: Any, b: Any) -> None:
    ga = a.read("basemap").set_index("feature_id").geometry
    gb = b.read("basemap").set_index("feature_id").geometry
    assert ga.index.tolist() == gb.index.tolist()
    for fid in ga.index:
        x, y = ga[fid], gb[fid]
        if x is None or x.is_empty:
            assert (y is None or y.is_empty) and (x is None) == (y is None), fid
        else:
            assert x.geom_type == y.geom_type and x.equals_exact(y, tolerance=0.001), fid
            assert not y.has_z  # a workspace keeps 2D shapes


def test_awkward_geometries_are_copied_as_they_are(store: GeoPackageStore, tmp_path: Path) -> None:
    zoo_workspace(store)
    dst = tmp_path / "copy.gpkg"
    copy_workspace(store.location, dst)
    assert_same_zoo(store, GeoPackageStore(dst))
    assert dumped(store) == dumped(GeoPackageStore(dst))
    with sqlite3.connect(dst) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT rtreecheck('rtree_basemap_geom')").fetchone()[0] == "ok"
        # an empty shape or none has no index entry, as when it was first stored
        assert conn.execute("SELECT count(*) FROM rtree_basemap_geom").fetchone()[0] == len(ZOO) - 1
    assert len(pyogrio.read_dataframe(dst, layer="basemap")) == len(ZOO) + 1


def test_an_existing_destination_is_refused_and_left_alone(
    used_store: GeoPackageStore, sample_path: Path, tmp_path: Path
) -> None:
    dst = tmp_path / "there.gpkg"
    shutil.copy(sample_path, dst)
    before = dst.read_bytes()
    with pytest.raises(WorkspaceError, match="already exists"):
        copy_workspace(used_store.location, dst)
    assert dst.read_bytes() == before
    with pytest.raises(WorkspaceError, match="is the workspace being copied"):
        copy_workspace(used_store.location, used_store.location)
    with pytest.raises(WorkspaceError, match="ending in .gpkg"):
        copy_workspace(used_store.location, tmp_path / "copy.sqlite")
    with pytest.raises(WorkspaceError, match="does not exist"):
        copy_workspace(tmp_path / "none.gpkg", tmp_path / "copy.gpkg")
    assert not (tmp_path / "copy.gpkg").exists()


def test_a_failed_copy_leaves_no_file(
    used_store: GeoPackageStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = GeoPackageStore.load_table

    def failing(self: GeoPackageStore, name: str, columns: Any, rows: Any) -> int:
        if name == "closuremap_case_log":
            raise WorkspaceError("disk full (simulated)")
        return real(self, name, columns, rows)

    monkeypatch.setattr(GeoPackageStore, "load_table", failing)
    with pytest.raises(WorkspaceError, match="disk full"):
        copy_workspace(used_store.location, tmp_path / "copy.gpkg")
    assert sorted(p.name for p in tmp_path.glob("*copy*")) == []


def test_a_source_changed_during_the_copy_is_refused(
    used_store: GeoPackageStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone saves while the copy reads: the copy would mix two moments, so there is none."""
    real = GeoPackageStore.dump_table

    def dump_then_someone_saves(self: GeoPackageStore, name: str) -> Any:
        if name == "basemap" and self.path == used_store.path:
            fid = str(used_store.read("premises")["feature_id"].iloc[0])
            used_store.update("premises", fid, user="Other", attributes={"name": "Changed"})
        return real(self, name)

    monkeypatch.setattr(GeoPackageStore, "dump_table", dump_then_someone_saves)
    with pytest.raises(WorkspaceError, match="changed while it was being copied"):
        copy_workspace(used_store.location, tmp_path / "copy.gpkg")
    assert not (tmp_path / "copy.gpkg").exists()


def test_a_broken_chain_is_copied_as_it_is_and_said(
    used_store: GeoPackageStore, tmp_path: Path
) -> None:
    with sqlite3.connect(used_store.path) as conn:
        conn.execute("UPDATE closuremap_audit SET user = 'Mallory' WHERE id = 3")
    report = copy_workspace(used_store.location, tmp_path / "copy.gpkg")
    assert not report.audit_verified and report.audit.broken_id == 3
    assert report.source_audit.broken_id == 3
    pd.testing.assert_frame_equal(
        used_store.history(), GeoPackageStore(tmp_path / "copy.gpkg").history()
    )


def test_an_unknown_table_or_a_filled_one_is_refused(store: GeoPackageStore) -> None:
    with pytest.raises(WorkspaceError, match="has no table 'gpkg_contents'"):
        store.dump_table("gpkg_contents")
    with pytest.raises(WorkspaceError, match="not a table closuremap keeps"):
        store.load_table("gpkg_contents", ["table_name"], [("x",)])
    columns = ["id", "at", "user", "kind", "action"]
    store.load_table(
        "closuremap_audit", columns, [(1, "2025-01-01T00:00:00+00:00", "a", "x", "add")]
    )
    with pytest.raises(WorkspaceError, match="already holds rows"):
        store.load_table("closuremap_audit", columns, [(2, "2025-01-02", "a", "x", "add")])
    with pytest.raises(WorkspaceError, match="no column"):
        store.load_table("closuremap_objections", ["id", "mood"], [(1, "cross")])


def test_every_side_table_is_known_by_its_own_module_s_name() -> None:
    from closuremap.layers import review

    assert gpkg_copy.REVIEW_TABLE == review.TABLE
    assert gpkg_copy.FLOORPLANS_TABLE == floorplans.TABLE


# -- the command line --------------------------------------------------------------------------
def run(*args: object) -> subprocess.CompletedProcess[str]:
    assert EXE, "the closuremap console script is not installed (pip install -e .)"
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, timeout=600)


def test_cli_copy_json(used_store: GeoPackageStore, tmp_path: Path) -> None:
    dst = tmp_path / "copy.gpkg"
    done = run("copy", used_store.location, dst, "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["source"] == used_store.location and data["destination"] == str(dst)
    assert data["audit_verified"] is True
    assert data["tables"] == {n: int(c) for n, c in copy_workspace_counts(used_store).items()}
    assert data["audit_head"] == used_store.history()["hash"].iloc[0]
    assert_same_gpkg(used_store, GeoPackageStore(dst))
    again = run("copy", used_store.location, dst)
    assert again.returncode == 2 and again.stdout == ""
    assert again.stderr.count("\n") == 1 and "already exists" in again.stderr


def test_cli_copy_says_what_it_copied(used_store: GeoPackageStore, tmp_path: Path) -> None:
    done = run("copy", used_store.location, tmp_path / "copy.gpkg")
    assert done.returncode == 0, done.stderr
    assert "audit chain verified on the copy" in done.stdout
    assert "[100%] copied to" in done.stderr  # progress on stderr, never in the output


def test_cli_copy_of_a_broken_chain_exits_3(used_store: GeoPackageStore, tmp_path: Path) -> None:
    with sqlite3.connect(used_store.path) as conn:
        conn.execute("UPDATE closuremap_audit SET note = 'edited' WHERE id = 2")
    done = run("copy", used_store.location, tmp_path / "copy.gpkg", "--json")
    assert done.returncode == 3
    data = json.loads(done.stdout)
    assert data["audit_verified"] is False and data["audit_first_broken"]["id"] == 2
    assert "broken at entry 2" in done.stderr


def copy_workspace_counts(store: GeoPackageStore) -> dict[str, int]:
    return {name: len(rows) for name, rows in dumped(store).items()}


# -- PostGIS -----------------------------------------------------------------------------------
def test_gpkg_to_postgis_to_gpkg_round_trip(
    used_store: GeoPackageStore, pg_database: str, tmp_path: Path
) -> None:
    """The issue's "done when": the sample workspace, used, through PostGIS and back, the same."""
    there = copy_workspace(used_store.location, pg_database)
    assert there.audit_verified and there.audit == there.source_audit
    pg = open_workspace(pg_database)
    assert_same_features(used_store, pg)
    assert_same_records(used_store, pg)
    assert_same_side_tables(used_store, pg)
    back = tmp_path / "back.gpkg"
    report = copy_workspace(pg_database, back)
    assert report.audit_verified and report.tables == there.tables
    assert_same_gpkg(used_store, GeoPackageStore(back))
    assert_valid_geopackage(back)


def test_awkward_geometries_through_postgis_and_back(
    store: GeoPackageStore, pg_database: str, tmp_path: Path
) -> None:
    zoo_workspace(store)
    copy_workspace(store.location, pg_database)
    assert_same_zoo(store, open_workspace(pg_database))
    back = tmp_path / "back.gpkg"
    copy_workspace(pg_database, back)
    assert_same_zoo(store, GeoPackageStore(back))
    assert dumped(store)["basemap"] == dumped(GeoPackageStore(back))["basemap"]


def test_a_postgis_workspace_is_not_copied_over(
    used_store: GeoPackageStore, pg_database: str
) -> None:
    copy_workspace(used_store.location, pg_database)
    history = open_workspace(pg_database).history()
    with pytest.raises(WorkspaceError, match="already holds a closuremap workspace"):
        copy_workspace(used_store.location, pg_database)
    pd.testing.assert_frame_equal(open_workspace(pg_database).history(), history)


def test_cli_copy_to_postgis_and_back(
    used_store: GeoPackageStore, pg_database: str, tmp_path: Path
) -> None:
    done = run("copy", used_store.location, pg_database, "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["audit_verified"] is True and data["destination"] == pg_database
    back = tmp_path / "back.gpkg"
    done = run("copy", pg_database, back)
    assert done.returncode == 0, done.stderr
    assert_same_gpkg(used_store, GeoPackageStore(back))


def test_a_password_in_the_url_is_never_printed(
    used_store: GeoPackageStore, pg_server: Any, pg_database: str
) -> None:
    """A URL with the password in it (better kept in ~/.pgpass) works, and is shown masked."""
    url = pg_database.replace("@", f":{pg_server.password}@", 1)
    done = run("copy", used_store.location, url, "--json")
    assert done.returncode == 0, done.stderr
    assert pg_server.password not in done.stdout + done.stderr
    assert json.loads(done.stdout)["destination"] == pg_database.replace("@", ":***@", 1)
    assert shown(url) == pg_database.replace("@", ":***@", 1)
