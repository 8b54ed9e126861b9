"""Export a layer to a file; the format comes from the extension.

GeoJSON and KML are written in WGS84 longitude/latitude (RFC 7946 and the KML spec require it),
converted by OSTN15; GeoPackage, Shapefile and FlatGeobuf keep British National Grid. CSV carries
easting/northing and latitude/longitude for points, and WKT in BNG for lines and polygons, so it
imports back as it went out.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.crs import BNG, WGS84, bng_to_lonlat, geometries_to_lonlat, parse_crs
from geo.errors import InputFileError
from layers.store import WorkspaceStore

FORMATS: dict[str, tuple[str, str]] = {
    ".geojson": ("GeoJSON", "EPSG:4326"),
    ".json": ("GeoJSON", "EPSG:4326"),
    ".gpkg": ("GPKG", "EPSG:27700"),
    ".shp": ("ESRI Shapefile", "EPSG:27700"),
    ".zip": ("ESRI Shapefile", "EPSG:27700"),
    ".kml": ("LIBKML", "EPSG:4326"),
    ".fgb": ("FlatGeobuf", "EPSG:27700"),
    ".csv": ("CSV", "EPSG:27700"),
}


def export_frame(frame: gpd.GeoDataFrame, out: str | Path, *, layer: str, crs: str | None = None) -> Path:
    """Write BNG features to ``out``; returns the path written."""
    p = Path(out)
    suffix = p.suffix.lower()
    if suffix not in FORMATS:
        raise InputFileError(f"{p}: cannot tell the format from '{suffix or 'no extension'}'; use one of "
                             f"{', '.join(FORMATS)}")
    driver, default_crs = FORMATS[suffix]
    target = parse_crs(crs or default_crs)
    if driver in ("GeoJSON", "LIBKML") and not target.equals(WGS84):
        raise InputFileError(f"{p.suffix} files are always WGS84 longitude/latitude; drop --crs or use .gpkg")
    p.parent.mkdir(parents=True, exist_ok=True)
    data = frame.copy()
    if driver == "CSV":
        _write_csv(data, p)
        return p
    if target.equals(WGS84):
        data = data.set_geometry(gpd.GeoSeries(geometries_to_lonlat(data.geometry.values), crs=WGS84))
    elif not target.equals(BNG):
        data = data.to_crs(target)
    for c in data.columns:
        if c != data.geometry.name and str(data[c].dtype) == "Int64":
            data[c] = data[c].astype("float64") if data[c].isna().any() else data[c].astype("int64")
    if suffix == ".zip":
        with tempfile.TemporaryDirectory() as tmp:
            staged = Path(tmp) / f"{p.stem.removesuffix('.shp')}.shp.zip"
            _write(data, staged, driver, layer)
            shutil.move(staged, p)
        return p
    if p.exists():
        p.unlink()
    _write(data, p, driver, layer)
    return p


def _write(data: gpd.GeoDataFrame, p: Path, driver: str, layer: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shapefile field-name truncation is expected and documented
        pyogrio.write_dataframe(data, p, layer=layer, driver=driver)


def _write_csv(data: gpd.GeoDataFrame, p: Path) -> None:
    geoms = np.asarray(data.geometry.values, dtype=object)
    table = pd.DataFrame(data.drop(columns=data.geometry.name))
    types = set(shapely.get_type_id(geoms[pd.notna(geoms)]).tolist())
    if types <= {0}:  # all points
        e = shapely.get_x(geoms)
        n = shapely.get_y(geoms)
        lon, lat = bng_to_lonlat(e, n)
        table["easting"] = np.round(e, 3)
        table["northing"] = np.round(n, 3)
        table["latitude"] = np.round(lat, 7)
        table["longitude"] = np.round(lon, 7)
    else:
        table["wkt"] = shapely.to_wkt(geoms, rounding_precision=3)
    table.to_csv(p, index=False)


def export_layer(store: WorkspaceStore, kind: str, out: str | Path, *, crs: str | None = None) -> int:
    """Export every feature of a kind; returns how many were written."""
    frame = store.read(kind)
    export_frame(frame, out, layer=kind, crs=crs)
    return len(frame)
