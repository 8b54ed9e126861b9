"""Every export format round-trips every layer kind, read back by GDAL itself (pyogrio): the same
count, the same kind of geometry, coordinates within 1 mm; GeoJSON as RFC 7946 wants it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import geopandas as gpd
import pyogrio
import shapely

from closuremap.geo.crs import BNG, WGS84, geometries_to_bng
from closuremap.layers.exporter import export_files, export_layer
from closuremap.layers.importer import import_file
from closuremap.layers.model import KINDS
from closuremap.layers.store import GeoPackageStore

FORMATS = (".geojson", ".gpkg", ".shp", ".zip", ".kml", ".fgb", ".csv")
FAMILY = {
    "Point": "point",
    "MultiPoint": "point",
    "LineString": "line",
    "MultiLineString": "line",
    "Polygon": "polygon",
    "MultiPolygon": "polygon",
}


def _read_back(path: Path, layer: str | None = None) -> gpd.GeoDataFrame:
    """What GDAL reads, in BNG."""
    if path.suffix == ".csv":
        header = next(csv.reader(path.read_text().splitlines()))
        options = (
            {"X_POSSIBLE_NAMES": "easting", "Y_POSSIBLE_NAMES": "northing"}
            if "easting" in header
            else {"GEOM_POSSIBLE_NAMES": "wkt", "KEEP_GEOM_COLUMNS": "NO"}
        )
        frame = pyogrio.read_dataframe(path, **options)
        return frame.set_crs(BNG, allow_override=True)
    frame = pyogrio.read_dataframe(path, layer=layer)
    if frame.crs is not None and frame.crs.equals(WGS84):
        frame = frame.set_geometry(
            gpd.GeoSeries(geometries_to_bng(frame.geometry.values, WGS84), crs=BNG)
        )
    return frame


def _families(frame: gpd.GeoDataFrame) -> list[str]:
    return sorted(FAMILY[t] for t in frame.geometry.geom_type)


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("kind", list(KINDS))
def test_every_format_round_trips_every_kind(
    sample_store: GeoPackageStore, tmp_path: Path, kind: str, suffix: str
) -> None:
    stored = sample_store.read(kind)
    out = tmp_path / f"{kind}{suffix}"
    count = export_layer(sample_store, kind, out)
    assert count == len(stored)
    if suffix == ".zip":
        back = gpd.GeoDataFrame(
            pd.concat(
                [_read_back(out, layer) for layer, _ in pyogrio.list_layers(out)], ignore_index=True
            ),
            crs=BNG,
        )
    elif suffix == ".shp":
        parts = [_read_back(f) for f in export_files(stored, out)]
        back = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=BNG)
    else:
        back = _read_back(out)
    assert len(back) == len(stored)
    assert _families(back) == _families(stored)
    if len(stored) == 0:
        return
    by_id = stored.set_index("feature_id").geometry
    ids = back["feature_id"].astype(str) if "feature_id" in back else None
    assert ids is not None and set(ids) == set(by_id.index)
    worst = max(
        shapely.hausdorff_distance(g, by_id[i]) for g, i in zip(back.geometry, ids, strict=True)
    )
    assert worst < 0.001, f"{kind}{suffix}: {worst:.4f} m"


def test_geojson_is_rfc7946(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    out = tmp_path / "basemap.geojson"
    export_layer(sample_store, "basemap", out)
    doc = json.loads(out.read_text())
    assert "crs" not in doc
    rings = 0
    for feature in doc["features"]:
        geom = shapely.geometry.shape(feature["geometry"])
        for poly in getattr(geom, "geoms", [geom]):
            if poly.geom_type == "Polygon":
                rings += 1
                assert poly.exterior.is_ccw, feature["properties"].get("name")
                assert all(not r.is_ccw for r in poly.interiors)
    assert rings > 50


def test_a_mixed_layer_becomes_one_shapefile_per_geometry_kind(
    sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    stored = sample_store.read("basemap")
    out = tmp_path / "basemap.shp"
    export_layer(sample_store, "basemap", out)
    files = export_files(stored, out)
    assert [f.name for f in files] == [
        "basemap_points.shp",
        "basemap_lines.shp",
        "basemap_polygons.shp",
    ] or sorted(f.name for f in files) == sorted(
        f"basemap_{k}.shp"
        for k in ("points", "lines", "polygons")
        if k[:-1] in {FAMILY[t] for t in stored.geom_type}
    )
    polygons = pyogrio.read_dataframe(tmp_path / "basemap_polygons.shp")
    assert set(polygons.geom_type) <= {"Polygon", "MultiPolygon"}
    assert len(polygons) == int(stored.geom_type.isin(["Polygon", "MultiPolygon"]).sum())


def test_a_csv_export_carries_its_crs_and_imports_back(
    sample_store: GeoPackageStore, store: GeoPackageStore, tmp_path: Path
) -> None:
    out = tmp_path / "premises.csv"
    export_layer(sample_store, "premises", out, crs="EPSG:4326")
    assert "GCS_WGS_1984" in out.with_suffix(".prj").read_text()
    result = import_file(store, "premises", out, user="t")
    assert result.imported == sample_store.count("premises")
    assert any(".prj beside the file" in n for n in result.notes)
    a = sample_store.read("premises").set_index("block_id").geometry
    b = store.read("premises").set_index("block_id").geometry
    assert max(a[k].hausdorff_distance(b[k]) for k in a.index) < 0.001


def test_an_export_brought_back_with_update_changes_features_in_place(
    sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    out = tmp_path / "communal.gpkg"
    export_layer(sample_store, "communal_areas", out)
    frame = pyogrio.read_dataframe(out)
    frame.loc[0, "name"] = "Renamed stair"
    frame = frame.iloc[:5]
    out = tmp_path / "five.gpkg"
    pyogrio.write_dataframe(frame, out, layer="communal_areas", driver="GPKG")
    before = sample_store.count("communal_areas")
    result = import_file(
        sample_store, "communal_areas", out, user="PC Ann (1)", update_existing=True
    )
    assert (
        result.updated == 5
        and result.imported == 5
        and sample_store.count("communal_areas") == before
    )
    after = sample_store.read("communal_areas").set_index("feature_id")
    assert after.loc[frame.loc[0, "feature_id"], "name"] == "Renamed stair"
    assert sample_store.history(kind="communal_areas").iloc[0]["user"] == "PC Ann (1)"
    np.testing.assert_equal(len(after), before)


@pytest.mark.parametrize("suffix", [".csv", ".shp"])
def test_update_changes_only_the_fields_the_file_carries(
    sample_store: GeoPackageStore, tmp_path: Path, suffix: str
) -> None:
    out = tmp_path / f"orders{suffix}"
    before = sample_store.read("orders").set_index("feature_id")
    sample_store.update("orders", before.index[0], user="t", attributes={"extension_months": "3"})
    before = sample_store.read("orders").set_index("feature_id")
    export_layer(sample_store, "orders", out)
    frame = (
        pyogrio.read_dataframe(out)
        if suffix == ".shp"
        else pd.read_csv(out, dtype=str, keep_default_na=False)
    )
    if suffix == ".csv":
        frame = frame[["feature_id", "order_id", "name", "status", "wkt"]]
        frame.loc[0, "status"] = "heard"
        out = tmp_path / "few.csv"
        frame.to_csv(out, index=False)
    else:
        frame.loc[0, "status"] = "heard"
        out = tmp_path / "back.shp"
        pyogrio.write_dataframe(frame, out)
    result = import_file(sample_store, "orders", out, user="t", update_existing=True)
    assert result.updated == len(before)
    after = sample_store.read("orders").set_index("feature_id")
    fid = before.index[0]
    assert after.loc[fid, "status"] == "heard"
    kept = ("block_ids", "court", "notice_issued_at", "extension_months") + (
        ("permitted_access", "facts") if suffix == ".csv" else ()
    )  # a shapefile cuts text at 254 characters
    for field in kept:
        assert str(after.loc[fid, field]) == str(before.loc[fid, field]), field
    if suffix == ".shp":
        from closuremap.layers.exporter import shapefile_losses

        assert any("permitted_access" in n for n in shapefile_losses(before.reset_index()))


def test_an_incident_update_with_rows_to_geocode_queues_only_the_new_rows(
    sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    out = tmp_path / "incidents.csv"
    export_layer(sample_store, "incidents", out)
    table = pd.read_csv(out, dtype=str, keep_default_na=False).head(3)
    extra = {c: "" for c in table.columns}
    extra.update(
        {"reference": "NEW-1", "occurred_at": "2024-05-01T10:00:00", "location_text": "see notes"}
    )
    table = pd.concat([table, pd.DataFrame([extra])], ignore_index=True)
    src = tmp_path / "some.csv"
    table.to_csv(src, index=False)
    before = sample_store.count("incidents")
    result = import_file(
        sample_store,
        "incidents",
        src,
        user="t",
        update_existing=True,
        rejects_path=tmp_path / "r.csv",
    )
    assert result.updated == 3 and sample_store.count("incidents") == before
    assert result.queued == 1
