"""The GeoPackage workspace: transactional writes, stable ids, an audit trail, and QGIS-readable."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

import geopandas as gpd
import pyogrio
import shapely

from closuremap.geo.crs import BNG, WGS84
from closuremap.geo.errors import WorkspaceError
from closuremap.layers import gpkg_blob
from closuremap.layers.model import KINDS
from closuremap.layers.store import GeoPackageStore, open_workspace
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


def test_a_new_workspace_has_every_kind_empty(store: GeoPackageStore) -> None:
    assert all(store.count(k) == 0 for k in KINDS)
    assert store.get_meta("schema_version") == "1"
    assert store.bounds("premises") is None


def test_add_and_read_back_in_bng(store: GeoPackageStore) -> None:
    ids = store.add("premises", _blocks(), user="ann")
    frame = store.read("premises")
    assert frame.crs.equals(BNG)
    assert frame["feature_id"].tolist() == ids and len(set(ids)) == 3
    assert frame["floors"].tolist() == [0, 1, 2]
    assert frame.geometry.iloc[1].equals(
        shapely.MultiPolygon([shapely.box(531720, 179000, 531730, 179010)])
    )


def test_bbox_read_uses_the_spatial_index(store: GeoPackageStore) -> None:
    store.add("premises", _blocks(), user="ann")
    near_second = store.read("premises", bbox=(531719, 178999, 531731, 179011))
    assert near_second["block_id"].tolist() == ["B1"]


def test_bounds(store: GeoPackageStore) -> None:
    store.add("premises", _blocks(), user="ann")
    minx, miny, maxx, maxy = store.bounds("premises")
    assert minx == pytest.approx(531700, abs=0.1) and maxx == pytest.approx(531750, abs=0.1)
    assert miny == pytest.approx(179000, abs=0.1) and maxy == pytest.approx(179010, abs=0.1)


def test_refuses_geometry_not_in_bng(store: GeoPackageStore) -> None:
    with pytest.raises(WorkspaceError, match="EPSG:27700"):
        store.add("premises", _blocks().set_crs(WGS84, allow_override=True), user="ann")


def test_update_keeps_the_id_and_records_before_and_after(store: GeoPackageStore) -> None:
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


def test_update_rejects_unknown_fields(store: GeoPackageStore) -> None:
    fid = store.add("premises", _blocks(1), user="ann")[0]
    with pytest.raises(WorkspaceError, match="no field"):
        store.update("premises", fid, user="bob", attributes={"colour": "red"})


def test_delete_is_recorded(store: GeoPackageStore) -> None:
    ids = store.add("premises", _blocks(), user="ann")
    store.delete("premises", [ids[0]], user="cat")
    assert store.count("premises") == 2
    entry = store.history(kind="premises").iloc[0]
    assert entry["action"] == "delete" and entry["user"] == "cat" and "Block 0" in entry["before"]


def test_every_order_scope_added_is_in_the_audit_trail(store: GeoPackageStore) -> None:
    order = gpd.GeoDataFrame(
        {"order_id": ["O1"], "name": ["Test order"]}, geometry=[ZOO["square"]], crs=BNG
    )
    fid = store.add("orders", order, user="dee")[0]
    entry = store.history(feature_id=fid).iloc[0]
    assert entry["user"] == "dee" and entry["action"] == "add" and "POLYGON" in entry["after"]


def test_a_failing_write_leaves_nothing_behind(store: GeoPackageStore) -> None:
    first = _blocks(1)
    first["feature_id"] = ["x"]
    store.add("premises", first, user="ann")
    both = _blocks(2)
    both["feature_id"] = ["y", "x"]  # y is new, x clashes: neither may land
    with pytest.raises(WorkspaceError, match="already exist"):
        store.add("premises", both, user="ann")
    assert store.read("premises")["feature_id"].tolist() == ["x"]


def test_the_database_itself_refuses_a_repeated_id(store: GeoPackageStore) -> None:
    store.add("premises", _blocks(1).assign(feature_id=["x"]), user="ann")
    with sqlite3.connect(store.path) as conn, pytest.raises(sqlite3.IntegrityError):
        gpkg_blob.register_functions(conn)  # GDAL's R-tree triggers call ST_IsEmpty
        conn.execute("INSERT INTO premises (feature_id, block_id, name) VALUES ('x', 'B9', 'dup')")


def test_repeated_ids_in_one_batch(store: GeoPackageStore) -> None:
    with pytest.raises(WorkspaceError, match="more than once"):
        store.add("premises", _blocks(2).assign(feature_id=["same", "same"]), user="ann")
    assert store.count("premises") == 0


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
