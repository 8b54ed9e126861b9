"""Export every format and import it back: same features, same places."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import pyogrio

from closuremap.geo.errors import InputFileError
from closuremap.layers.exporter import export_layer
from closuremap.layers.importer import import_file
from closuremap.layers.store import GeoPackageStore


@pytest.mark.parametrize(
    "suffix, tolerance_m",
    [
        (".gpkg", 0.001),
        (".shp", 0.001),
        (".zip", 0.001),
        (".fgb", 0.001),
        (".csv", 0.001),
        (".geojson", 0.01),
        (".kml", 0.01),
    ],
)
@pytest.mark.parametrize("kind", ["communal_areas", "entrances"])
def test_round_trip(
    sample_store: GeoPackageStore,
    tmp_path: Path,
    store: GeoPackageStore,
    suffix: str,
    tolerance_m: float,
    kind: str,
) -> None:
    out = tmp_path / f"{kind}{suffix}"
    count = export_layer(sample_store, kind, out)
    assert count == sample_store.count(kind) and out.exists()
    result = import_file(store, kind, out, user="test")
    assert result.imported == count and len(result.rejected) == 0
    order = ["block_id", "name", "feature_class"] if kind == "basemap" else ["block_id", "name"]
    before = sample_store.read(kind).sort_values(order, kind="stable").reset_index(drop=True)
    after = store.read(kind).sort_values(order, kind="stable").reset_index(drop=True)
    assert before["name"].tolist() == after["name"].tolist()  # FlatGeobuf reorders: compare sorted
    worst = max(
        a.hausdorff_distance(b) for a, b in zip(before.geometry, after.geometry, strict=True)
    )
    assert worst < tolerance_m


def test_geojson_is_wgs84_and_gpkg_is_bng(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    export_layer(sample_store, "premises", tmp_path / "p.geojson")
    export_layer(sample_store, "premises", tmp_path / "p.gpkg")
    assert pyogrio.read_info(tmp_path / "p.geojson")["crs"] == "EPSG:4326"
    assert pyogrio.read_info(tmp_path / "p.gpkg")["crs"] == "EPSG:27700"


def test_csv_of_points_has_both_grids(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    export_layer(sample_store, "entrances", tmp_path / "e.csv")
    header = next(csv.reader((tmp_path / "e.csv").read_text().splitlines()))
    assert {"easting", "northing", "latitude", "longitude"} <= set(header)


def test_unknown_format_and_impossible_crs(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="cannot tell the format"):
        export_layer(sample_store, "premises", tmp_path / "p.docx")
    with pytest.raises(InputFileError, match="always WGS84"):
        export_layer(sample_store, "premises", tmp_path / "p.geojson", crs="EPSG:27700")
