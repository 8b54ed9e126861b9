"""The workspace stores: transactional writes, stable ids, an audit trail; the same tests on a
GeoPackage and on a PostGIS server (the ``any_store`` fixture), and what only a GeoPackage has
(QGIS reads the file; an older file gains new tables and columns) on the GeoPackage alone."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

import geopandas as gpd
import pyogrio
import shapely

from closuremap.geo.crs import BNG, WGS84
from closuremap.geo.errors import WorkspaceError
from closuremap.layers import audit_chain, gpkg_blob
from closuremap.layers.model import KINDS
from closuremap.layers.pg_schema import SCHEMA_VERSION as PG_SCHEMA_VERSION
from closuremap.layers.schema import SCHEMA_VERSION
from closuremap.layers.store import GeoPackageStore, WorkspaceStore, open_workspace
from tests.conftest import ZOO


def _blocks(n: int = 3) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "block_id": [f"B{i}" for i in range(n)],
            "name": [f"Block {i}" for i in range(n)],
            "floors": list(range(n)),
        },
        geometry=[shapely.box(531700 + 20 * i, 179000, 531710 + 20 * i, 179010) for i in range(n)],
        crs=BNG,
    )


def test_a_new_workspace_has_every_kind_empty(any_store: WorkspaceStore) -> None:
    store = any_store
    assert all(store.count(k) == 0 for k in KINDS)
    assert all(len(store.read(k)) == 0 for k in KINDS)
    expected = SCHEMA_VERSION if isinstance(store, GeoPackageStore) else str(PG_SCHEMA_VERSION)
    assert store.get_meta("schema_version") == expected
    assert store.bounds("premises") is None


def test_add_and_read_back_in_bng(any_store: WorkspaceStore) -> None:
    store = any_store
    ids = store.add("premises", _blocks(), user="ann")
    frame = store.read("premises")
    assert frame.crs.equals(BNG)
    assert frame["feature_id"].tolist() == ids and len(set(ids)) == 3
    assert frame["floors"].tolist() == [0, 1, 2]
    assert frame.geometry.iloc[1].equals(
        shapely.MultiPolygon([shapely.box(531720, 179000, 531730, 179010)])
    )


def test_bbox_read_uses_the_spatial_index(any_store: WorkspaceStore) -> None:
    store = any_store
    store.add("premises", _blocks(), user="ann")
    near_second = store.read("premises", bbox=(531719, 178999, 531731, 179011))
    assert near_second["block_id"].tolist() == ["B1"]


def test_bounds(any_store: WorkspaceStore) -> None:
    store = any_store
    store.add("premises", _blocks(), user="ann")
    minx, miny, maxx, maxy = store.bounds("premises")
    assert minx == pytest.approx(531700, abs=0.1) and maxx == pytest.approx(531750, abs=0.1)
    assert miny == pytest.approx(179000, abs=0.1) and maxy == pytest.approx(179010, abs=0.1)


def test_refuses_geometry_not_in_bng(any_store: WorkspaceStore) -> None:
    store = any_store
    with pytest.raises(WorkspaceError, match="EPSG:27700"):
        store.add("premises", _blocks().set_crs(WGS84, allow_override=True), user="ann")


def test_update_keeps_the_id_and_records_before_and_after(any_store: WorkspaceStore) -> None:
    store = any_store
    fid = store.add("premises", _blocks(1), user="ann")[0]
    new_shape = shapely.box(531700, 179000, 531715, 179010)
    store.update("premises", fid, user="bob", geometry=new_shape, attributes={"floors": 7})
    row = store.read("premises").iloc[0]
    assert (
        row["feature_id"] == fid and row["floors"] == 7 and row.geometry.area == pytest.approx(150)
    )
    last = store.history(feature_id=fid).iloc[0]
    assert last["user"] == "bob" and last["action"] == "update"
    before, after = json.loads(last["before"]), json.loads(last["after"])
    assert before["properties"]["floors"] == 0 and after["properties"]["floors"] == 7
    assert shapely.from_wkt(before["wkt"]).area == pytest.approx(100)
    assert shapely.from_wkt(after["wkt"]).area == pytest.approx(150)


def test_update_rejects_unknown_fields(any_store: WorkspaceStore) -> None:
    store = any_store
    fid = store.add("premises", _blocks(1), user="ann")[0]
    with pytest.raises(WorkspaceError, match="no field"):
        store.update("premises", fid, user="bob", attributes={"colour": "red"})


def test_delete_is_recorded(any_store: WorkspaceStore) -> None:
    store = any_store
    ids = store.add("premises", _blocks(), user="ann")
    store.delete("premises", [ids[0]], user="cat")
    assert store.count("premises") == 2
    entry = store.history(kind="premises").iloc[0]
    assert entry["action"] == "delete" and entry["user"] == "cat" and "Block 0" in entry["before"]


def test_every_order_scope_added_is_in_the_audit_trail(any_store: WorkspaceStore) -> None:
    store = any_store
    order = gpd.GeoDataFrame(
        {"order_id": ["O1"], "name": ["Test order"]}, geometry=[ZOO["square"]], crs=BNG
    )
    fid = store.add("orders", order, user="dee")[0]
    entry = store.history(feature_id=fid).iloc[0]
    assert entry["user"] == "dee" and entry["action"] == "add" and "POLYGON" in entry["after"]


def test_a_failing_write_leaves_nothing_behind(any_store: WorkspaceStore) -> None:
    store = any_store
    first = _blocks(1)
    first["feature_id"] = ["x"]
    store.add("premises", first, user="ann")
    both = _blocks(2)
    both["feature_id"] = ["y", "x"]  # y is new, x clashes: neither may land
    with pytest.raises(WorkspaceError, match="already exist"):
        store.add("premises", both, user="ann")
    assert store.read("premises")["feature_id"].tolist() == ["x"]


# GeoPackage only: SQLite's own constraint, reached through sqlite3 (PostGIS's twin is in
# test_postgis.py)
def test_the_database_itself_refuses_a_repeated_id(store: GeoPackageStore) -> None:
    store.add("premises", _blocks(1).assign(feature_id=["x"]), user="ann")
    with sqlite3.connect(store.path) as conn, pytest.raises(sqlite3.IntegrityError):
        gpkg_blob.register_functions(conn)  # GDAL's R-tree triggers call ST_IsEmpty
        conn.execute("INSERT INTO premises (feature_id, block_id, name) VALUES ('x', 'B9', 'dup')")


def test_repeated_ids_in_one_batch(any_store: WorkspaceStore) -> None:
    store = any_store
    with pytest.raises(WorkspaceError, match="more than once"):
        store.add("premises", _blocks(2).assign(feature_id=["same", "same"]), user="ann")
    assert store.count("premises") == 0


# GeoPackage only: what GDAL and QGIS read is the file itself
def test_gdal_reads_the_workspace_as_a_plain_geopackage(sample_store: GeoPackageStore) -> None:
    """What QGIS sees: each kind a layer in EPSG:27700 with all its features."""
    layers = {name for name, _ in pyogrio.list_layers(sample_store.path)}
    assert set(KINDS) <= layers
    for kind in ("premises", "communal_areas", "incidents"):
        frame = pyogrio.read_dataframe(sample_store.path, layer=kind)
        assert len(frame) == sample_store.count(kind)
        assert frame.crs.to_epsg() == 27700
    info = pyogrio.read_info(sample_store.path, layer="premises")
    assert info["total_bounds"][0] == pytest.approx(sample_store.bounds("premises")[0], abs=0.1)


# GeoPackage only: file paths (a URL's errors are in test_postgis.py)
def test_not_a_workspace(tmp_path: Path) -> None:
    other = tmp_path / "other.gpkg"
    pyogrio.write_dataframe(_blocks(), other)
    with pytest.raises(WorkspaceError, match="not a closuremap workspace"):
        open_workspace(other)
    with pytest.raises(WorkspaceError, match="does not exist"):
        open_workspace(tmp_path / "missing.gpkg")
    with pytest.raises(WorkspaceError, match=r"\.gpkg"):
        open_workspace(tmp_path / "workspace.sqlite")
    with pytest.raises(WorkspaceError, match="already exists"):
        GeoPackageStore.create(other)


# GeoPackage only: an older file altered through sqlite3 (PostGIS's migrations: test_postgis.py)
def test_an_older_workspace_gains_new_kinds(store: GeoPackageStore) -> None:
    with sqlite3.connect(store.path) as conn:
        conn.execute("DELETE FROM gpkg_contents WHERE table_name = 'basemap'")
        conn.execute("DELETE FROM gpkg_geometry_columns WHERE table_name = 'basemap'")
        conn.execute("DROP TABLE basemap")
    reopened = GeoPackageStore(store.path)
    assert reopened.count("basemap") == 0


def test_an_older_workspace_gains_new_fields(store: GeoPackageStore) -> None:
    with sqlite3.connect(store.path) as conn:
        conn.execute("ALTER TABLE orders DROP COLUMN scope_parts")
    reopened = GeoPackageStore(store.path)
    assert "scope_parts" in reopened.read("orders").columns


def test_bbox_read_equals_a_filter_of_every_feature(any_store: WorkspaceStore) -> None:
    """A bounding-box read (R-tree or GiST) finds exactly the features whose envelope meets it."""
    store = any_store
    points = gpd.GeoDataFrame(
        {"crime_id": [f"C{i}" for i in range(60)]},
        geometry=[shapely.Point(531700 + 7 * i, 179000 + 3 * (i % 11)) for i in range(60)],
        crs=BNG,
    )
    store.add("incidents", points, user="ann")
    everything = store.read("incidents")
    for box in [(531750, 179000, 531900, 179020), (531600, 178000, 531705, 179001), (0, 0, 1, 1)]:
        minx, miny, maxx, maxy = box
        b = everything.geometry.bounds
        hit = (b.maxx >= minx) & (b.minx <= maxx) & (b.maxy >= miny) & (b.miny <= maxy)
        expected = sorted(everything.loc[hit, "feature_id"])
        assert sorted(store.read("incidents", bbox=box)["feature_id"]) == expected


def test_values_come_back_as_stored(any_store: WorkspaceStore) -> None:
    """Whole numbers as whole numbers, blanks as missing, text and dates as written, a Z
    coordinate dropped: the same on both backends."""
    store = any_store
    frame = _blocks(2)
    frame["floors"] = [3.0, None]
    frame["notes"] = ["café, 'quoted' \"text\"", None]
    fids = store.add("premises", frame, user="ann")
    back = store.read("premises").set_index("feature_id").loc[fids]
    assert back["floors"].iloc[0] == 3 and back["floors"].isna().iloc[1]
    assert back["notes"].iloc[0] == "café, 'quoted' \"text\"" and pd.isna(back["notes"].iloc[1])
    with_z = shapely.Point(531750.25, 179100.5, 12.0)
    store.add("incidents", gpd.GeoDataFrame(geometry=[with_z], crs=BNG), user="ann")
    back_point = store.read("incidents").geometry.iloc[0]
    assert not back_point.has_z and back_point.equals(shapely.Point(531750.25, 179100.5))


def test_history_is_a_hash_chain_of_every_change(any_store: WorkspaceStore) -> None:
    store = any_store
    fid = store.add("premises", _blocks(1), user="ann")[0]
    store.update("premises", fid, user="bob", attributes={"floors": 4})
    store.set_meta("applicant", "Borough", user="cat")
    store.delete("premises", [fid], user="dee")
    trail = store.history()
    assert list(trail.columns) == [*audit_chain.HASHED_FIELDS, "prev_hash", "hash"]
    assert trail["user"].tolist() == ["dee", "cat", "bob", "ann"]
    report = audit_chain.verify(trail.iloc[::-1].to_dict("records"))
    assert report.ok and report.entries == 4
    assert trail["prev_hash"].iloc[-1] == audit_chain.GENESIS


def test_a_setting_change_is_audited_once(any_store: WorkspaceStore) -> None:
    store = any_store
    store.set_meta("applicant", "Borough", user="ann")
    store.set_meta("applicant", "Borough", user="ann")  # unchanged: no entry
    store.set_meta("applicant", "Force", user="bob")
    assert store.get_meta("applicant") == "Force" and store.get_meta("nope", "x") == "x"
    trail = store.history(kind="settings", feature_id="applicant")
    assert trail["action"].tolist() == ["update", "add"]
    assert json.loads(trail["before"].iloc[0]) == {"value": "Borough"}
    assert json.loads(trail["after"].iloc[0]) == {"value": "Force"}


def test_objections_and_case_records_are_kept_and_audited(any_store: WorkspaceStore) -> None:
    store = any_store
    first = store.add_objection(
        "ORD-1", who="A resident", summary="noise", received_on="2024-03-01", recorded_by="ann"
    )
    store.add_objection(
        "ORD-2", who="Other", summary="none", received_on="2024-03-02", recorded_by="ann"
    )
    assert first >= 1
    mine = store.objections("ORD-1")
    assert mine["who"].tolist() == ["A resident"] and mine["response"].isna().all()
    assert len(store.objections()) == 2
    store.add_case_record("ORD-1", "service", {"entrance": "E1", "at": "09:00"}, recorded_by="bob")
    records = store.case_records("ORD-1", "service")
    assert records[["entrance", "recorded_by"]].values.tolist() == [["E1", "bob"]]
    assert store.case_records("ORD-1", "letters").empty
    kinds = store.history(feature_id="ORD-1")["kind"].tolist()
    assert kinds == ["case_records", "objections"]


def test_every_write_changes_the_content_version(any_store: WorkspaceStore) -> None:
    store = any_store
    seen = [store.content_version()]
    assert store.content_version() == seen[0]  # reading changes nothing
    fid = store.add("premises", _blocks(1), user="ann")[0]
    seen.append(store.content_version())
    store.update("premises", fid, user="bob", attributes={"floors": 9})
    seen.append(store.content_version())
    store.set_meta("applicant", "Borough", user="cat")
    seen.append(store.content_version())
    store.delete("premises", [fid], user="dee")
    seen.append(store.content_version())
    assert len(set(seen)) == len(seen)


def test_a_transaction_lands_whole_or_not_at_all(any_store: WorkspaceStore) -> None:
    store = any_store
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.add("premises", _blocks(2), user="ann")
        tx.set_meta("applicant", "Borough", user="ann")
        raise RuntimeError("crash half way")
    assert store.count("premises") == 0 and store.get_meta("applicant") is None
    assert store.history().empty
    with store.transaction() as tx:
        fids = tx.add("premises", _blocks(2), user="ann")
        assert tx.existing_ids("premises", [fids[0], "nope"]) == [fids[0]]
        tx.update("premises", fids[1], user="ann", attributes={"name": "Renamed"})
        assert tx.version("premises", fids[1]) > 0
    assert store.read("premises")["name"].tolist() == ["Block 0", "Renamed"]
