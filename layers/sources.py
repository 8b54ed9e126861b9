"""Reading a user's file into one table of attributes and source-CRS geometries.

Vector formats go through pyogrio (GeoJSON, GeoPackage, Shapefile plain or zipped, KML,
FlatGeobuf); tables (CSV, TSV, XLSX) through the csv module or openpyxl, with their coordinates in
easting/northing, x/y, lat/lon or longitude/latitude columns, or a WKT column. Nothing is
validated against a layer schema here: that is :mod:`layers.importer`'s job.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd

import pyogrio
import shapely
from pyproj import CRS

from closuremap.geo.columns import coordinate_columns
from closuremap.geo.crs import BNG, WGS84, infer_crs, parse_crs
from closuremap.geo.errors import CoordinateError, InputFileError

from .limits import Limits

csv.field_size_limit(
    min(sys.maxsize, 2**31 - 1)
)  # a WKT cell may be long: the vertex limit judges it

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
        return _table_to_source(p, table, ragged, override, coordinates)

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
    except Exception as exc:
        raise InputFileError(
            f"{p}: not a readable {p.suffix} file ({_short(exc)}); check it opens in QGIS, or export it "
            f"again as GeoJSON or GeoPackage"
        ) from None
    if not layers:
        raise InputFileError(
            f"{p}: the file holds no layers (no placemarks or features); check it has data, "
            "or export it again as GeoJSON or GeoPackage"
        )
    if layer is not None:
        if layer not in layers:
            raise InputFileError(f"{p}: no layer '{layer}'; its layers are {', '.join(layers)}")
        chosen = [layer]
    elif len(layers) == 1:
        chosen = layers
    elif prefer_layer in layers:
        chosen = [str(prefer_layer)]
    elif p.suffix.lower() == ".kml":
        chosen = layers  # KML folders are one collection to the user
    else:
        raise InputFileError(
            f"{p} has several layers ({', '.join(layers)}); choose one with --layer NAME"
        )
    total = 0
    for name in chosen:
        try:
            info = pyogrio.read_info(p, layer=name)
        except Exception:  # noqa: BLE001 - unreadable here is reported, with GDAL's words, just below
            continue
        limits.check_columns(p, len(info["fields"]))
        total += max(0, int(info["features"]))
        limits.check_rows(p, total)
    frames = []
    for name in chosen:
        try:
            frames.append(pyogrio.read_dataframe(p, layer=name))
        except Exception as exc:
            raise InputFileError(f"{p}: layer '{name}' cannot be read ({_short(exc)})") from None
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
    file_crs = getattr(frame, "crs", None)
    if override is not None:
        src_crs = override
        notes.append(f"coordinates read as {override.to_string()} (as you said with --crs)")
    elif file_crs is not None:
        src_crs = CRS.from_user_input(file_crs)
        notes.append(f"coordinates read as {src_crs.to_string()} (from the file)")
    else:
        b = shapely.bounds(geoms)
        ok = np.isfinite(b).all(axis=1)
        guess = infer_crs(
            np.concatenate([b[ok, 0], b[ok, 2]]), np.concatenate([b[ok, 1], b[ok, 3]])
        )
        src_crs = guess.crs
        notes.append(guess.reason)
    return SourceTable(p, attrs, geoms, src_crs, "feature", notes, [None] * len(attrs))


def _short(exc: Exception) -> str:
    text = str(exc).split(";")[0].strip()
    return text[:200]


# -- tables ---------------------------------------------------------------------------------------
def _encoding(p: Path) -> str:
    """UTF-8 (with or without BOM) if every byte decodes, else Windows-1252, else Latin-1: found by
    decoding the file in blocks, so a 2 GB export is never held in memory to be checked."""
    with p.open("rb") as f:
        if b"\x00" in f.read(4096):
            raise InputFileError(
                f"{p}: this is a binary file, not a text table; save it as CSV (UTF-8)"
            )
    for encoding in ("utf-8-sig", "cp1252"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with p.open("rb") as f:
                while block := f.read(16 * 1024 * 1024):
                    decoder.decode(block)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    return "latin-1"


@dataclass
class TableChunk:
    """Consecutive records of a table: text cells, why each has the wrong field count ("" if
    right), and the record number of the first (1 = the line after the header)."""

    frame: pd.DataFrame
    ragged: list[str]
    first_row: int


def iter_table(
    p: Path, limits: Limits | None = None, chunk_rows: int | None = None
) -> Iterator[TableChunk]:
    """A table's records in chunks, header checked first: memory stays bounded by the chunk, not
    the file. Blank lines are records too, so row numbers match the user's lines."""
    limits = limits or Limits.from_env()
    limits.check_file(p)
    size = chunk_rows or limits.chunk_rows
    if p.suffix.lower() == ".xlsx":
        yield _read_excel(p, limits)
        return
    encoding = _encoding(p)
    with p.open(encoding=encoding, newline="") as f:
        head = f.readline()
        if not head.strip():
            raise InputFileError(f"{p}: the file is empty or its first line (the header) is blank")
        f.seek(0)
        delimiter = (
            "\t"
            if head.count("\t") > head.count(",")
            else (";" if head.count(";") > head.count(",") else ",")
        )
        reader = csv.reader(f, delimiter=delimiter)
        try:
            header = [h.strip() for h in next(reader)]
            limits.check_columns(p, len(header))
            if len(set(header)) != len(header):
                dupes = sorted({h for h in header if header.count(h) > 1})
                raise InputFileError(
                    f"{p}: the header repeats column name(s) {', '.join(dupes)}; rename them"
                )
            width, first, seen = len(header), 1, 0
            while True:
                records, ragged = [], []
                for row in itertools.islice(reader, size):
                    if len(row) != width:
                        ragged.append(
                            f"has {len(row)} fields where the header has {width}"
                            if any(c.strip() for c in row)
                            else ""
                        )
                        row = (row + [""] * width)[:width]
                    else:
                        ragged.append("")
                    records.append(row)
                if not records and first > 1:
                    return
                seen += len(records)
                limits.check_rows(p, seen)
                frame = pd.DataFrame(records, columns=header, dtype=object)
                if set(frame.columns) >= POLICE_API_COLUMNS:
                    frame = expand_police_api(frame)
                yield TableChunk(frame, ragged, first)
                if len(records) < size:
                    return
                first += len(records)
        except csv.Error as exc:
            raise InputFileError(
                f"{p}: not a well-formed CSV at line {reader.line_num} ({exc}); save it again "
                "as CSV (UTF-8)"
            ) from None


def _read_excel(p: Path, limits: Limits) -> TableChunk:
    try:
        book = openpyxl.load_workbook(p, read_only=True)
        sheet = book.worksheets[0]
        rows, columns = sheet.max_row or 0, sheet.max_column or 0
        book.close()
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a file that is not a workbook
        raise InputFileError(f"{p}: not a readable Excel workbook ({_short(exc)})") from None
    limits.check_columns(p, columns)
    limits.check_rows(p, max(0, rows - 1))
    try:
        frame = pd.read_excel(p, dtype=str, keep_default_na=False, engine="openpyxl")
    except Exception as exc:  # noqa: BLE001
        raise InputFileError(f"{p}: not a readable Excel workbook ({_short(exc)})") from None
    frame = frame.astype(str).replace({"nan": "", "None": ""})
    return TableChunk(frame, [""] * len(frame), 1)


def table_columns(p: Path) -> list[str]:
    """A table's column names, read from its header alone (the mapping step of a 2 GB file)."""
    chunk = next(iter_table(p, chunk_rows=1))
    return [str(c) for c in chunk.frame.columns]


def read_table(p: Path, limits: Limits | None = None) -> tuple[pd.DataFrame, list[str]]:
    """A whole table as text cells, with each record's field-count problem ("" when right)."""
    chunks = list(iter_table(p, limits))
    if len(chunks) == 1:
        return chunks[0].frame, chunks[0].ragged
    return (
        pd.concat([c.frame for c in chunks], ignore_index=True),
        [r for c in chunks for r in c.ragged],
    )


POLICE_API_COLUMNS = {"category", "location", "persistent_id", "month", "location_type"}


def expand_police_api(table: pd.DataFrame) -> pd.DataFrame:
    """police.uk API rows carry their place as a dict in one text column ('location': latitude,
    longitude, street): give it latitude, longitude and location_text columns of its own."""
    import ast

    lat, lon, street = [], [], []
    for text in table["location"].astype(str):
        try:
            value = ast.literal_eval(text) if text.strip().startswith("{") else {}
        except (ValueError, SyntaxError):
            value = {}
        lat.append(str(value.get("latitude", "")))
        lon.append(str(value.get("longitude", "")))
        street.append(str((value.get("street") or {}).get("name", "")))
    out = table.drop(columns=["location"]).copy()
    out["latitude"], out["longitude"], out["location_text"] = lat, lon, street
    return out


def _to_float(values: pd.Series) -> tuple[np.ndarray, list[str | None]]:
    """Numbers from text cells; per cell None (fine), "" (empty) or why it is not a number."""
    text = values.astype(str).str.strip()
    out = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64")
    problems: list[str | None] = [None] * len(text)
    empty = (text == "").to_numpy()
    for i in np.flatnonzero(~np.isfinite(out)):
        problems[i] = "" if empty[i] else f"'{text.iloc[i]}' is not a number"
    return out, problems


def blank_rows(table: pd.DataFrame) -> np.ndarray:
    """Rows whose every cell is empty or spaces, in time linear in the cells however wide the table."""
    if table.shape[1] <= 64:
        return ~table.apply(lambda c: c.astype(str).str.strip().ne("")).any(axis=1).to_numpy(
            dtype=bool
        )
    return np.array(
        [not "".join(map(str, row)).strip() for row in table.itertuples(index=False, name=None)],
        dtype=bool,
    )


def _table_to_source(
    p: Path,
    table: pd.DataFrame,
    ragged: list[str],
    override: CRS | None,
    coordinates: dict[str, str] | None = None,
) -> SourceTable:
    chosen = coordinates or {}
    for key, column in chosen.items():
        if column not in table.columns:
            raise InputFileError(
                f"{p}: no column '{column}' for {key}; the columns are {', '.join(map(str, table.columns))}"
            )
    found = chosen or coordinate_columns(table.columns)
    wkt_col, e_col, n_col = found.get("wkt"), found.get("easting"), found.get("northing")
    lon_col, lat_col, x_col, y_col = (
        found.get("longitude"),
        found.get("latitude"),
        found.get("x"),
        found.get("y"),
    )
    notes: list[str] = []
    problems: list[str | None] = []
    blank = blank_rows(table)

    if wkt_col:
        used: tuple[str, ...] = (wkt_col,)
        geoms = np.full(len(table), None, dtype=object)
        for i, text in enumerate(table[wkt_col].astype(str)):
            text = text.strip()
            if not text:
                problems.append(f"no geometry in column '{wkt_col}'")
                continue
            try:
                geoms[i] = shapely.from_wkt(text)
                problems.append(None)
            except Exception:
                problems.append(f"'{text[:40]}' in column '{wkt_col}' is not WKT geometry")
        default_crs, default_why = None, "WKT"
    else:
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
                f"{p}: no coordinate columns found (columns are: {', '.join(map(str, table.columns))}); "
                "name them easting/northing, longitude/latitude, x/y, or give a WKT column, or say which they "
                "are with --map easting=COLUMN --map northing=COLUMN"
            )
        used = (xs_col, ys_col)
        xs, px = _to_float(table[xs_col])
        ys, py = _to_float(table[ys_col])
        geoms = shapely.points(xs, ys).astype(object)
        problems = [None] * len(table)
        for i in np.flatnonzero(~(np.isfinite(xs) & np.isfinite(ys))):
            geoms[i] = None
            if px[i] == "" and py[i] == "":
                problems[i] = f"no coordinates in '{xs_col}'/'{ys_col}'"
            else:
                bad = "; ".join(f"{c}: {m}" for c, m in ((xs_col, px[i]), (ys_col, py[i])) if m)
                problems[i] = bad or f"coordinate missing in '{xs_col}' or '{ys_col}'"
        if e_col and n_col and lon_col and lat_col:
            notes.append(
                f"both easting/northing and longitude/latitude present: used '{e_col}'/'{n_col}'"
            )

    for i in range(len(table)):
        if blank[i]:
            problems[i] = "blank row"
        elif ragged[i]:
            problems[i] = ragged[i] + (f"; {problems[i]}" if problems[i] else "")

    sidecar = p.with_suffix(".prj")
    if (
        override is None and default_crs is None and sidecar.exists()
    ):  # WKT or x/y: the .prj says which CRS
        try:
            override = CRS.from_user_input(sidecar.read_text())
        except Exception as exc:  # noqa: BLE001 - pyproj raises several types for unreadable text
            notes.append(
                f"{sidecar.name} beside the file is not a CRS I can read ({_short(exc)}); ignored"
            )
        else:
            notes.append(
                f"coordinates read as {override.to_string()}: from {sidecar.name} beside the file"
            )
            return SourceTable(
                p, table.reset_index(drop=True), geoms, override, "row", notes, problems, used
            )
    if override is not None:
        src_crs = override
        notes.append(f"coordinates read as {override.to_string()} (as you said with --crs)")
    elif default_crs is not None:
        src_crs = default_crs
        notes.append(f"coordinates read as {default_crs.to_string()}: {default_why}")
    else:
        present = np.asarray([g for g in geoms if g is not None], dtype=object)
        if present.size == 0:
            raise CoordinateError(f"{p}: no row has usable coordinates ({default_why})")
        b = shapely.bounds(present)
        guess = infer_crs(np.concatenate([b[:, 0], b[:, 2]]), np.concatenate([b[:, 1], b[:, 3]]))
        src_crs = guess.crs
        notes.append(f"{guess.reason} ({default_why})")
    return SourceTable(
        p, table.reset_index(drop=True), geoms, src_crs, "row", notes, problems, used
    )
