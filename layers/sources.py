"""Reading a user's file into one table of attributes and source-CRS geometries.

Vector formats go through pyogrio (GeoJSON, GeoPackage, Shapefile plain or zipped, KML,
FlatGeobuf); tables (CSV, TSV, XLSX) through the csv module or openpyxl, with their coordinates in
easting/northing, x/y, lat/lon or longitude/latitude columns, or a WKT column. Nothing is
validated against a layer schema here: that is :mod:`layers.importer`'s job. Reading a table's
text cells is :mod:`.tabular`'s; turning them into geometries is here.

Only the errors a reader raises for a bad file (:data:`VECTOR_READ_ERRORS`,
:data:`.tabular.WORKBOOK_READ_ERRORS`) become "cannot read" sentences; anything else is a bug and
surfaces as one.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import pyogrio
import pyogrio.errors
import shapely
import shapely.errors
from pyproj import CRS
from pyproj.exceptions import CRSError

from closuremap.geo.columns import coordinate_columns
from closuremap.geo.crs import BNG, WGS84, infer_crs, parse_crs
from closuremap.geo.errors import CoordinateError, InputFileError

from .limits import Limits
from .tabular import (
    blank_rows,
    read_table,
    short_message,
)

VECTOR_SUFFIXES = {
    ".geojson",
    ".json",
    ".gpkg",
    ".shp",
    ".zip",
    ".kml",
    ".fgb",
    ".geojsonl",
    ".geojsons",
}
TABLE_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx"}
SUPPORTED = ", ".join(sorted(VECTOR_SUFFIXES | TABLE_SUFFIXES))

#: What reading a vector file raises when the file, not our code, is at fault: GDAL's errors as
#: pyogrio names them (DataLayerError is the base of its field, feature, geometry and CRS errors),
#: text in another encoding, geometry GEOS cannot parse, the file system, and UnboundLocalError,
#: which pyogrio 0.13's ``get_crs`` raises for a .prj that is not UTF-8.
VECTOR_READ_ERRORS: tuple[type[Exception], ...] = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    UnicodeDecodeError,
    shapely.errors.ShapelyError,
    OSError,
    UnboundLocalError,
)


@dataclass
class SourceTable:
    """A file's records: original attributes, geometries in ``crs``, and problems met on reading."""

    path: Path
    attributes: pd.DataFrame
    geometry: np.ndarray
    crs: CRS
    unit: str  # "row" for tables, "feature" for vector files
    notes: list[str] = field(default_factory=list)
    problems: list[str | None] = field(default_factory=list)
    geometry_columns: tuple[str, ...] = ()
    first_row: int = 1  # the record number of the first row here (a chunk of a streamed table)
    geocoded: tuple[int, int] | None = (
        None  # rows sent to the offline geocoder, and how many it placed
    )

    def __len__(self) -> int:
        return len(self.attributes)


COORDINATE_KEYS = ("easting", "northing", "longitude", "latitude", "wkt")


def read_source(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: str | None = None,
    prefer_layer: str | None = None,
    coordinates: dict[str, str] | None = None,
) -> SourceTable:
    """Read a file of features or a table of rows. ``crs`` overrides what the file says;
    ``coordinates`` names a table's coordinate columns ({"easting": "E", "northing": "N"})."""
    p = Path(path)
    if not p.exists():
        raise InputFileError(f"{p}: no such file")
    if p.is_dir():
        raise InputFileError(f"{p} is a folder; give the file inside it (e.g. the .shp)")
    suffix = p.suffix.lower()
    override = parse_crs(crs) if crs else None
    limits = Limits.from_env()
    limits.check_file(p)
    if suffix in TABLE_SUFFIXES:
        table, ragged = read_table(p, limits)
        return table_to_source(p, table, ragged, override, coordinates)

    if suffix in VECTOR_SUFFIXES:
        return _read_vector(
            p, layer=layer, override=override, prefer_layer=prefer_layer, limits=limits
        )
    raise InputFileError(
        f"{p}: '{suffix or 'no extension'}' is not a format I read; use one of {SUPPORTED}"
    )


# -- vector files ---------------------------------------------------------------------------------
def _read_vector(
    p: Path, *, layer: str | None, override: CRS | None, prefer_layer: str | None, limits: Limits
) -> SourceTable:
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(p)]
    except VECTOR_READ_ERRORS as exc:
        raise InputFileError(
            f"{p}: not a readable {p.suffix} file ({short_message(exc)}); check it opens in "
            "QGIS, or export it again as GeoJSON or GeoPackage"
        ) from None
    chosen = _choose_layers(p, layers, layer, prefer_layer)
    total = 0
    for name in chosen:
        try:
            info = pyogrio.read_info(p, layer=name)
        except VECTOR_READ_ERRORS:
            continue  # unreadable here is reported, with GDAL's words, just below
        limits.check_columns(p, len(info["fields"]))
        total += max(0, int(info["features"]))
        limits.check_rows(p, total)
    frames = []
    for name in chosen:
        try:
            with warnings.catch_warnings():
                # a field GDAL calls JSON that is not JSON stays text, which is all we need of it
                warnings.filterwarnings("ignore", "Could not parse column .* as JSON", UserWarning)
                frames.append(pyogrio.read_dataframe(p, layer=name))
        except VECTOR_READ_ERRORS as exc:
            raise InputFileError(
                f"{p}: layer '{name}' cannot be read ({short_message(exc)})"
            ) from None
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    geoms = (
        np.asarray(frame.geometry.values, dtype=object)
        if "geometry" in frame
        else np.full(len(frame), None)
    )
    attrs = pd.DataFrame(frame.drop(columns="geometry", errors="ignore")).reset_index(drop=True)
    notes: list[str] = []
    if len(chosen) > 1:
        notes.append(f"read {len(chosen)} layers: {', '.join(chosen)}")
    if shapely.has_z(geoms[pd.notna(geoms)]).any():
        geoms = shapely.force_2d(geoms)
        notes.append("heights (Z) dropped: closuremap works in 2D")
    src_crs = _vector_crs(geoms, override, getattr(frame, "crs", None), notes)
    return SourceTable(p, attrs, geoms, src_crs, "feature", notes, [None] * len(attrs))


def _choose_layers(
    p: Path, layers: list[str], layer: str | None, prefer_layer: str | None
) -> list[str]:
    """The layers to read: the one asked for, the only one, the preferred one, or every folder
    of a KML; several layers and no choice is the user's to make."""
    if not layers:
        raise InputFileError(
            f"{p}: the file holds no layers (no placemarks or features); check it has data, "
            "or export it again as GeoJSON or GeoPackage"
        )
    if layer is not None:
        if layer not in layers:
            raise InputFileError(f"{p}: no layer '{layer}'; its layers are {', '.join(layers)}")
        return [layer]
    if len(layers) == 1:
        return layers
    if prefer_layer in layers:
        return [str(prefer_layer)]
    if p.suffix.lower() == ".kml":
        return layers  # KML folders are one collection to the user
    raise InputFileError(
        f"{p} has several layers ({', '.join(layers)}); choose one with --layer NAME"
    )


def _vector_crs(geoms: np.ndarray, override: CRS | None, file_crs: object, notes: list[str]) -> CRS:
    """The CRS the --crs option gives, else the file's, else one inferred from the coordinate
    ranges; ``notes`` says which."""
    if override is not None:
        notes.append(f"coordinates read as {override.to_string()} (as you said with --crs)")
        return override
    if file_crs is not None:
        src_crs = CRS.from_user_input(file_crs)
        notes.append(f"coordinates read as {src_crs.to_string()} (from the file)")
        return src_crs
    b = shapely.bounds(geoms)
    ok = np.isfinite(b).all(axis=1)
    guess = infer_crs(np.concatenate([b[ok, 0], b[ok, 2]]), np.concatenate([b[ok, 1], b[ok, 3]]))
    notes.append(guess.reason)
    return guess.crs


def _to_float(values: pd.Series) -> tuple[np.ndarray, list[str | None]]:
    """Numbers from text cells; per cell None (fine), "" (empty) or why it is not a number."""
    if pd.api.types.infer_dtype(values, skipna=False) == "string":  # a table's cells: all text
        # stripped in one pass, and read by pandas as object text (as "str" it costs twice as long)
        text = pd.Series([v.strip() for v in values.to_numpy(dtype=object)], dtype=object)
    else:
        text = values.astype(str).str.strip()
    out = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64")
    problems: list[str | None] = [None] * len(text)
    words = text.to_numpy(dtype=object)  # indexed a cell at a time below: NumPy, not .iloc
    for i in np.flatnonzero(~np.isfinite(out)).tolist():
        problems[i] = "" if words[i] == "" else f"'{words[i]}' is not a number"
    return out, problems


@dataclass
class _TableGeometries:
    """A table's geometries read from its coordinate columns, before the CRS is decided."""

    geoms: np.ndarray
    problems: list[str | None]
    used: tuple[str, ...]  # the columns they came from
    default_crs: CRS | None  # what the columns' names say, if they say it
    default_why: str
    notes: list[str] = field(default_factory=list)


def table_to_source(
    p: Path,
    table: pd.DataFrame,
    ragged: list[str],
    override: CRS | None,
    coordinates: dict[str, str] | None = None,
) -> SourceTable:
    """A table of text cells as a :class:`SourceTable`: geometries from its WKT or coordinate
    columns (``coordinates`` names them, else they are found by name), each row's problem, and
    the CRS from ``override``, the columns' names, a .prj beside the file, or the ranges."""
    found = _coordinate_columns(p, table, coordinates)
    wkt_col = found.get("wkt")
    read = _wkt_geometries(table, str(wkt_col)) if wkt_col else _point_geometries(p, table, found)
    blank = blank_rows(table)
    problems = read.problems
    # only the blank and ragged rows are looked at one by one
    odd = blank | np.fromiter(map(bool, ragged), dtype=bool, count=len(ragged))
    for i in np.flatnonzero(odd).tolist():
        if blank[i]:
            problems[i] = "blank row"
        elif ragged[i]:
            problems[i] = ragged[i] + (f"; {problems[i]}" if problems[i] else "")
    notes = read.notes
    src_crs = _table_crs(p, read, override, notes)
    table = table.reset_index(drop=True)
    return SourceTable(p, table, read.geoms, src_crs, "row", notes, problems, read.used)


def _coordinate_columns(
    p: Path, table: pd.DataFrame, coordinates: dict[str, str] | None
) -> dict[str, Hashable]:
    """The columns the user named (each must exist), else those found by their names."""
    if not coordinates:
        return coordinate_columns(table.columns)
    for key, column in coordinates.items():
        if column not in table.columns:
            raise InputFileError(
                f"{p}: no column '{column}' for {key}; the columns are "
                f"{', '.join(map(str, table.columns))}"
            )
    return dict(coordinates)


def _wkt_geometries(table: pd.DataFrame, wkt_col: str) -> _TableGeometries:
    """Geometries from a WKT column; a cell that is empty or not WKT is that row's problem."""
    geoms = np.full(len(table), None, dtype=object)
    problems: list[str | None] = []
    for i, text in enumerate(table[wkt_col].astype(str)):
        text = text.strip()
        if not text:
            problems.append(f"no geometry in column '{wkt_col}'")
            continue
        try:
            with np.errstate(over="raise"):  # "POINT (1e400 0)": an error, not an infinite point
                geoms[i] = shapely.from_wkt(text)
            problems.append(None)
        except FloatingPointError:
            problems.append(f"'{text[:40]}' in column '{wkt_col}' has a coordinate too large")
        except NotImplementedError:  # shapely reads no curves (CIRCULARSTRING, CURVEPOLYGON...)
            problems.append(
                f"'{text[:40]}' in column '{wkt_col}' is a curved geometry; convert it to "
                "straight segments (QGIS: Segmentize)"
            )
        # GEOS's message about bad WKT may be cut in the middle of a UTF-8 character
        except (shapely.errors.ShapelyError, UnicodeDecodeError):
            problems.append(f"'{text[:40]}' in column '{wkt_col}' is not WKT geometry")
    return _TableGeometries(geoms, problems, (wkt_col,), None, "WKT")


def _point_geometries(p: Path, table: pd.DataFrame, found: dict[str, Hashable]) -> _TableGeometries:
    """Points from easting/northing (BNG), longitude/latitude (WGS84) or x/y (CRS unknown), in
    that order of preference; a cell that is empty or not a number is that row's problem."""
    e_col, n_col = found.get("easting"), found.get("northing")
    lon_col, lat_col = found.get("longitude"), found.get("latitude")
    x_col, y_col = found.get("x"), found.get("y")
    if e_col and n_col:
        xs_col, ys_col, default_crs = e_col, n_col, BNG
        default_why = f"columns '{e_col}'/'{n_col}' are BNG eastings/northings"
    elif lon_col and lat_col:
        xs_col, ys_col, default_crs = lon_col, lat_col, WGS84
        default_why = f"columns '{lon_col}'/'{lat_col}' are WGS84 longitude/latitude"
    elif x_col and y_col:
        xs_col, ys_col, default_crs = x_col, y_col, None
        default_why = f"columns '{x_col}'/'{y_col}'"
    else:
        raise InputFileError(
            f"{p}: no coordinate columns found (columns are: "
            f"{', '.join(map(str, table.columns))}); name them easting/northing, "
            "longitude/latitude, x/y, or give a WKT column, or say which they are with "
            "--map easting=COLUMN --map northing=COLUMN"
        )
    xs, px = _to_float(table[xs_col])
    ys, py = _to_float(table[ys_col])
    geoms = shapely.points(xs, ys).astype(object)
    problems: list[str | None] = [None] * len(table)
    for i in np.flatnonzero(~(np.isfinite(xs) & np.isfinite(ys))):
        geoms[i] = None
        if px[i] == "" and py[i] == "":
            problems[i] = f"no coordinates in '{xs_col}'/'{ys_col}'"
        else:
            pairs = ((xs_col, px[i]), (ys_col, py[i]))
            bad = "; ".join(f"{c}: {m}" for c, m in pairs if m)
            problems[i] = bad or f"coordinate missing in '{xs_col}' or '{ys_col}'"
    notes = []
    if e_col and n_col and lon_col and lat_col:
        notes.append(
            f"both easting/northing and longitude/latitude present: used '{e_col}'/'{n_col}'"
        )
    used = (str(xs_col), str(ys_col))
    return _TableGeometries(geoms, problems, used, default_crs, default_why, notes)


def crs_beside(path: Path, notes: list[str]) -> CRS | None:
    """The CRS in a readable ``.prj`` beside a table, with a note saying so; None when there is
    none, or (noted) when it cannot be read, so the caller falls back to the columns' names."""
    sidecar = path.with_suffix(".prj")
    if not sidecar.exists():
        return None
    try:
        from_prj = CRS.from_user_input(sidecar.read_text())
    except (CRSError, UnicodeDecodeError, OSError) as exc:
        notes.append(
            f"{sidecar.name} beside the file is not a CRS I can read "
            f"({short_message(exc)}); ignored"
        )
        return None
    notes.append(f"coordinates read as {from_prj.to_string()}: from {sidecar.name} beside the file")
    return from_prj


def _table_crs(p: Path, read: _TableGeometries, override: CRS | None, notes: list[str]) -> CRS:
    """The CRS --crs gives; for WKT or x/y, a readable .prj beside the file; else what the
    columns' names say; else one inferred from the coordinate ranges. ``notes`` says which."""
    if override is None and read.default_crs is None and (from_prj := crs_beside(p, notes)):
        return from_prj
    if override is not None:
        notes.append(f"coordinates read as {override.to_string()} (as you said with --crs)")
        return override
    if read.default_crs is not None:
        notes.append(f"coordinates read as {read.default_crs.to_string()}: {read.default_why}")
        return read.default_crs
    present = np.asarray([g for g in read.geoms if g is not None], dtype=object)
    if present.size == 0:
        raise CoordinateError(f"{p}: no row has usable coordinates ({read.default_why})")
    b = shapely.bounds(present)
    guess = infer_crs(np.concatenate([b[:, 0], b[:, 2]]), np.concatenate([b[:, 1], b[:, 3]]))
    notes.append(f"{guess.reason} ({read.default_why})")
    return guess.crs
