"""Export a layer to a file; the format comes from the extension.

GeoJSON and KML are written in WGS84 longitude/latitude (RFC 7946 and the KML spec require it),
converted by OSTN15; GeoJSON as RFC 7946 says (outer rings anticlockwise, no ``crs`` member), with
9 decimals so a round trip keeps the millimetre. GeoPackage, Shapefile and FlatGeobuf keep British
National Grid. A Shapefile holds one kind of geometry, so a layer with several (the basemap) is
written as one shapefile per kind, side by side or in the one zip. CSV carries easting/northing and
latitude/longitude for points, and WKT in BNG for lines and polygons, with its CRS in a ``.prj``
beside it, so it imports back as it went out.

Every export carries each feature's ``version``: brought back with ``closuremap import --update``,
a row whose feature someone changed since the export is refused, not written over their change.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

import geopandas as gpd
import pyogrio
import shapely
from pyproj import CRS

from closuremap.geo.crs import BNG, WGS84, bng_to_lonlat, geometries_to_lonlat, parse_crs
from closuremap.geo.errors import InputFileError

from .csvio import write_csv
from .store import WorkspaceStore

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


#: A shapefile's one geometry family, by shapely type id, and the suffix its file gets in a mixed
#: layer.
_FAMILIES = {"points": (0, 4), "lines": (1, 2, 5), "polygons": (3, 6)}


def _families(data: gpd.GeoDataFrame) -> dict[str, gpd.GeoDataFrame]:
    types = shapely.get_type_id(np.asarray(data.geometry.values, dtype=object))
    found = {name: data[np.isin(types, ids)] for name, ids in _FAMILIES.items()}
    return {name: part for name, part in found.items() if len(part)}


def export_frame(
    frame: gpd.GeoDataFrame, out: str | Path, *, layer: str, crs: str | None = None
) -> Path:
    """Write BNG features to ``out``; returns the path written (for a mixed layer as shapefiles: the
    first of the files, which :func:`export_files` lists)."""
    p = Path(out)
    suffix = p.suffix.lower()
    if suffix not in FORMATS:
        raise InputFileError(
            f"{p}: cannot tell the format from '{suffix or 'no extension'}'; use one of "
            f"{', '.join(FORMATS)}"
        )
    driver, default_crs = FORMATS[suffix]
    target = parse_crs(crs or default_crs)
    if driver in ("GeoJSON", "LIBKML") and not target.equals(WGS84):
        raise InputFileError(
            f"{p.suffix} files are always WGS84 longitude/latitude; drop --crs or use .gpkg"
        )
    p.parent.mkdir(parents=True, exist_ok=True)
    data = frame.copy()
    if driver == "CSV":
        _write_csv(data, p, target)
        return p
    if target.equals(WGS84):
        data = data.set_geometry(
            gpd.GeoSeries(geometries_to_lonlat(data.geometry.values), crs=WGS84)
        )
    elif not target.equals(BNG):
        data = data.to_crs(target)
    for c in data.columns:
        if c != data.geometry.name and str(data[c].dtype) == "Int64":
            data[c] = data[c].astype("float64") if data[c].isna().any() else data[c].astype("int64")
    if driver == "ESRI Shapefile":
        _write_shapefiles(data, p, layer)
        return p
    if p.exists():
        p.unlink()
    _write(data, p, driver, layer)
    return p


def shapefile_names(p: Path, families: list[str]) -> list[Path]:
    """The shapefiles a layer becomes: one, or one per geometry family (``x_polygons.shp``, ...)."""
    stem = p.name.removesuffix(".zip").removesuffix(".shp")
    if len(families) <= 1:
        return [p.parent / f"{stem}.shp"]
    return [p.parent / f"{stem}_{family}.shp" for family in families]


def _write_shapefiles(data: gpd.GeoDataFrame, p: Path, layer: str) -> None:
    parts = _families(data) or {"polygons": data}
    names = shapefile_names(p, list(parts))
    with tempfile.TemporaryDirectory() as tmp:
        for part, name in zip(parts.values(), names, strict=True):
            _write(
                part,
                Path(tmp) / name.name,
                "ESRI Shapefile",
                name.stem if len(parts) > 1 else layer,
            )
        if p.suffix.lower() == ".zip":
            staged = Path(tmp) / "out.zip"
            with zipfile.ZipFile(staged, "w", zipfile.ZIP_DEFLATED) as bundle:
                for f in sorted(Path(tmp).iterdir()):
                    if f.name != "out.zip":
                        bundle.write(f, f.name)
            shutil.move(staged, p)
            return
        for f in Path(tmp).iterdir():
            shutil.move(str(f), p.parent / f.name)


def _write(data: gpd.GeoDataFrame, p: Path, driver: str, layer: str) -> None:
    options = {}
    if (
        driver == "GeoJSON"
    ):  # RFC 7946: anticlockwise outer rings, no crs member; 9 decimals keep the mm
        options = {"RFC7946": "YES", "COORDINATE_PRECISION": 9, "WRITE_BBOX": "NO"}
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore"
        )  # shapefile field-name truncation is expected and documented
        pyogrio.write_dataframe(data, p, layer=layer, driver=driver, layer_options=options or None)


def _write_csv(data: gpd.GeoDataFrame, p: Path, crs: CRS) -> None:
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
        if crs.equals(WGS84):
            geoms = geometries_to_lonlat(geoms)  # OSTN15, as every other WGS84 export
        elif not crs.equals(BNG):
            geoms = np.asarray(gpd.GeoSeries(geoms, crs=BNG).to_crs(crs).values, dtype=object)
        table["wkt"] = shapely.to_wkt(geoms, rounding_precision=3 if crs.is_projected else 9)
    write_csv(table, p)
    # the CSV's CRS, where GIS programs look for it (and our importer too)
    p.with_suffix(".prj").write_text(
        BNG.to_wkt("WKT1_ESRI") if types <= {0} else crs.to_wkt("WKT1_ESRI")
    )


#: A shapefile's text field holds at most this many characters (dBase); longer values are cut.
SHAPEFILE_TEXT_MAX = 254


def shapefile_losses(frame: gpd.GeoDataFrame) -> list[str]:
    """What a shapefile cannot keep of this layer, in words (longer text is cut at 254
    characters)."""
    notes = []
    for column in frame.columns:
        if column == frame.geometry.name or not (
            pd.api.types.is_object_dtype(frame[column])
            or pd.api.types.is_string_dtype(frame[column])
        ):
            continue
        long = frame[column].dropna().astype(str).str.len() > SHAPEFILE_TEXT_MAX
        if long.any():
            notes.append(
                f"{int(long.sum())} value(s) of {column} are longer than {SHAPEFILE_TEXT_MAX} "
                "characters and are cut in a shapefile; export to .gpkg to keep them whole"
            )
    return notes


def export_files(frame: gpd.GeoDataFrame, out: str | Path) -> list[Path]:
    """Every file an export of ``frame`` to ``out`` writes (a shapefile's own sidecars aside)."""
    p = Path(out)
    suffix = p.suffix.lower()
    if suffix == ".shp":
        return shapefile_names(p, list(_families(frame)))
    if suffix == ".csv":
        return [p, p.with_suffix(".prj")]
    return [p]


#: The column an export gives each feature's version in (:func:`feature_versions`).
VERSION_COLUMN = "version"


def feature_versions(store: WorkspaceStore, kind: str) -> dict[str, int]:
    """Every feature's version (what ``store.version(kind, feature_id)`` says: the number of the
    last audit entry that changed it), by feature id, in one read; a feature never changed since
    a bulk import is not listed (version 0)."""
    log = store.history(kind=kind)
    log = log[log["feature_id"].notna()]
    if log.empty:
        return {}
    latest = log.groupby(log["feature_id"].astype(str))["id"].max()
    return {str(fid): int(v) for fid, v in latest.items()}


def with_versions(store: WorkspaceStore, kind: str, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``frame`` (a read of ``kind``) with each feature's version in a ``version`` column: the
    file, brought back with ``closuremap import --update``, then updates only the features nobody
    has changed since, and refuses the rest into its rejects file, naming who changed what."""
    versions = feature_versions(store, kind)
    out = frame.copy()
    ids = out["feature_id"].astype(str)
    out[VERSION_COLUMN] = np.array([versions.get(f, 0) for f in ids], dtype=np.int64)
    return out


def export_layer(
    store: WorkspaceStore, kind: str, out: str | Path, *, crs: str | None = None
) -> int:
    """Export every feature of a kind, each with its ``version`` (:func:`with_versions`);
    returns how many were written."""
    frame = with_versions(store, kind, store.read(kind))
    export_frame(frame, out, layer=kind, crs=crs)
    return len(frame)
