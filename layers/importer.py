"""Import a file into a layer: validate every record, keep the good, explain the rest.

Each record ends up either accepted (converted to BNG, mapped onto the kind's schema) or rejected
with a reason naming the row or feature, so ``accepted + rejected == read`` always holds and
nothing the user gave us is lost: rejected records go to a rejects CSV with ``row`` and ``reason``
columns beside their original values, ready to fix and import again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.categories import standardise
from geo.columns import coordinate_columns
from geo.crs import BNG, bng_problems, bng_to_crs, coordinate_problems, geometries_to_bng, parse_crs
from geo.validate import geometry_problems, repair
from geo.errors import CoordinateError, SchemaError
from layers.model import (FEATURE_ID, SOURCE_ATTRS, SOURCE_FILE, SOURCE_ROW, Field, LayerKind, get_kind,
                          normalise_column)
from layers.csvio import write_csv
from layers.sources import SourceTable, read_source
from layers.store import WorkspaceStore

Progress = Callable[[float, str], None]


def _no_progress(fraction: float, message: str) -> None:
    return None


@dataclass
class ImportResult:
    """What became of a file's records: ``read == len(accepted) + len(rejected)``."""

    kind: str
    source: Path
    read: int
    accepted: gpd.GeoDataFrame
    rejected: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    rejects_path: Path | None = None
    feature_ids: list[str] = field(default_factory=list)
    queued: int = 0  # rows (placed with low confidence, or not placed) waiting in the review queue
    updated: int = 0  # features changed in place (import with update_existing)
    updated_ids: list[str] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return len(self.accepted) + self.updated

    def summary(self) -> dict[str, Any]:
        """The counts and notes as plain data (the CLI's ``--json`` output)."""
        return {
            "kind": self.kind,
            "file": str(self.source),
            "read": self.read,
            "imported": self.imported,
            "rejected": len(self.rejected),
            "rejects_file": str(self.rejects_path) if self.rejects_path else None,
            "queued_for_review": self.queued,
            "updated": self.updated,
            "mapping": self.mapping,
            "notes": self.notes,
            "reasons": self.rejected["reason"].value_counts().to_dict() if len(self.rejected) else {},
        }


# -- attribute coercion ---------------------------------------------------------------------------
_DATETIME_FORMATS = (
    "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S.%f",
    "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d-%m-%Y %H:%M", "%d-%m-%Y", "%d.%m.%Y",
    "%Y-%m-%d", "%d %b %Y %H:%M", "%d %b %Y", "%d %B %Y",
)


def _formats_for(sample: pd.Series) -> list[str]:
    """The date formats to try, the one the first value matches first: exports are consistent."""
    formats = list(_DATETIME_FORMATS)
    if len(sample):
        first = str(sample.iloc[0])
        for fmt in formats:
            try:
                datetime.strptime(first, fmt)
            except ValueError:
                continue
            formats.remove(fmt)
            return [fmt, *formats]
    return formats


def parse_when(text: str, kind: str) -> str:
    """ISO text for a date or date-time as found in UK exports (day first), or ValueError.

    A bare ``YYYY-MM`` (police.uk's Month) is kept as a month: its day is not known.

    >>> parse_when("25/12/2024 14:30", "datetime")
    '2024-12-25T14:30:00'
    >>> parse_when("2024-04", "datetime")
    '2024-04'
    """
    t = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}", t):
        datetime.strptime(t, "%Y-%m")
        return t
    t = re.sub(r"(Z|[+-]\d{2}:?\d{2})$", "", t)
    for fmt in _DATETIME_FORMATS:
        try:
            value = datetime.strptime(t, fmt)
        except ValueError:
            continue
        has_time = "%H" in fmt
        if kind == "date" or not has_time:
            return value.date().isoformat()
        return value.isoformat(timespec="seconds")
    raise ValueError(f"'{text}' is not a date I can read (use YYYY-MM-DD or DD/MM/YYYY HH:MM)")


_NULL_TEXT = {"", "nan", "none", "null", "nat", "<na>"}


def coerce_column(raw: pd.Series, f: Field) -> tuple[list[Any], list[str | None]]:
    """A column's cells as the field's type, and per cell the reason it cannot be (or None).

    Vectorised: a 100k-row import must not parse dates one strptime at a time.
    """
    n = len(raw)
    reasons: list[str | None] = [None] * n
    values = pd.Series([None] * n, dtype=object)
    if pd.api.types.is_datetime64_any_dtype(raw):
        ok = raw.notna().to_numpy()
        fmt = "%Y-%m-%d" if f.kind == "date" else "%Y-%m-%dT%H:%M:%S"
        values[ok] = raw[ok].dt.strftime(fmt).to_numpy()
        return values.tolist(), reasons
    # nested GeoJSON properties (lists, objects) are kept as JSON text, not as Python's repr
    raw = raw.map(lambda v: json.dumps(v, ensure_ascii=False, default=str) if isinstance(v, (list, dict)) else v)
    text = raw.astype(object).where(raw.notna(), "").astype(str).str.strip().reset_index(drop=True)
    null = text.str.lower().isin(_NULL_TEXT).to_numpy()
    if f.kind in ("int", "float"):
        with np.errstate(invalid="ignore", over="ignore"):
            number = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64")
            finite = np.isfinite(number)
            whole = finite & (np.mod(number, 1) == 0) if f.kind == "int" else finite
        low, high = f.bounds
        inside = whole & (number >= low) & (number <= high)
        ok = ~null & inside
        values[ok] = [int(v) for v in number[ok]] if f.kind == "int" else number[ok].tolist()
        what = "a whole number" if f.kind == "int" else "a number"
        for i in np.flatnonzero(~null & ~whole):
            reasons[i] = f"{f.name}: '{text.iloc[i]}' is not {what}"
        for i in np.flatnonzero(~null & whole & ~inside):
            reasons[i] = f"{f.name}: {text.iloc[i]} is outside {low:g} to {high:g}"
        return values.tolist(), reasons
    if f.kind in ("datetime", "date"):
        remaining = ~null
        month = remaining & text.str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])").to_numpy()
        values[month] = text[month].to_numpy()
        remaining &= ~month
        clean = text.str.replace(r"(Z|[+-]\d{2}:?\d{2})$", "", regex=True)
        for fmt in _formats_for(clean[remaining]):
            if not remaining.any():
                break
            parsed = pd.to_datetime(clean[remaining], format=fmt, errors="coerce")
            hit = parsed.notna()
            if not hit.any():
                continue
            out = "%Y-%m-%d" if (f.kind == "date" or "%H" not in fmt) else "%Y-%m-%dT%H:%M:%S"
            idx = parsed.index[hit.to_numpy()]
            values[idx] = parsed[hit].dt.strftime(out).to_numpy()
            remaining[idx] = False
        for i in np.flatnonzero(remaining):
            reasons[i] = (f"{f.name}: '{text.iloc[i]}' is not a date I can read "
                          "(use YYYY-MM-DD or DD/MM/YYYY HH:MM)")
        return values.tolist(), reasons
    if f.choices:
        folded = text.str.lower().str.replace(r"[^0-9a-z]+", "_", regex=True).str.strip("_")
        known = folded.isin(f.choices).to_numpy()
        ok = ~null & known
        values[ok] = folded[ok].to_numpy()
        for i in np.flatnonzero(~null & ~known):
            reasons[i] = f"{f.name}: '{text.iloc[i]}' is not one of {', '.join(f.choices)}"
        return values.tolist(), reasons
    values[~null] = text[~null].to_numpy()
    return values.tolist(), reasons


def map_columns(columns: list[str], kind: LayerKind, exclude: tuple[str, ...] = ()) -> dict[str, str]:
    """Which source column feeds each field: by name, then alias, then a shapefile's 10-char cut."""
    folded: dict[str, str] = {}
    for c in columns:
        if c in exclude:
            continue
        folded.setdefault(normalise_column(c), c)
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for f in kind.fields:
        for candidate in (f.name, *f.aliases, normalise_column(f.name[:10])):  # a shapefile's 10-letter name
            col = folded.get(candidate)
            if col is not None and col not in taken:
                mapping[f.name] = col
                taken.add(col)
                break
    if FEATURE_ID in folded and folded[FEATURE_ID] not in taken:
        mapping[FEATURE_ID] = folded[FEATURE_ID]
    return mapping


# -- validation -----------------------------------------------------------------------------------
def place_in_bng(source: SourceTable, reasons: list[list[str]]) -> np.ndarray:
    """Each record's geometry in BNG, or None with the reason appended to ``reasons``."""
    n = len(source)
    has_geom = np.array([g is not None and not reasons[i] for i, g in enumerate(source.geometry)], dtype=bool)
    bounds = np.full((n, 4), np.nan)
    if has_geom.any():
        bounds[has_geom] = shapely.bounds(np.asarray(source.geometry[has_geom], dtype=object))
    for i, why in enumerate(coordinate_problems(bounds, source.crs)):
        if why and has_geom[i]:
            reasons[i].append(why)
    convertible = np.array([has_geom[i] and not reasons[i] for i in range(n)], dtype=bool)
    geoms = np.full(n, None, dtype=object)
    if convertible.any():
        geoms[convertible] = geometries_to_bng(np.asarray(source.geometry[convertible], dtype=object), source.crs)
    for i, why in enumerate(bng_problems(geoms)):
        if why and convertible[i]:  # rows not converted are None here and already explained
            reasons[i].append(why)
            geoms[i] = None
    return geoms


def read_features(path: str | Path, kind: str | None = None, *, layer: str | None = None,
                  crs: str | None = None) -> tuple[gpd.GeoDataFrame, list[str]]:
    """A file's features in BNG for analysis (no store, no required fields): columns are renamed to
    the kind's field names where they match; features that cannot be placed are left out and
    counted in the notes."""
    source = read_source(path, layer=layer, crs=crs, prefer_layer=kind)
    reasons: list[list[str]] = [[p] if p else [] for p in source.problems]
    geoms = place_in_bng(source, reasons)
    notes = list(source.notes)
    attrs = source.attributes.drop(columns=list(source.geometry_columns), errors="ignore")
    if kind is not None:
        mapping = map_columns(list(attrs.columns), get_kind(kind))
        attrs = attrs.rename(columns={col: name for name, col in mapping.items() if col != name})
        attrs = attrs.loc[:, ~attrs.columns.duplicated()]
    ok = np.array([not r and g is not None and not shapely.is_empty(g) for r, g in zip(reasons, geoms)], dtype=bool)
    if (~ok).any():
        first = next(i for i in range(len(ok)) if not ok[i])
        notes.append(f"{int((~ok).sum())} of {len(ok)} {source.unit}s of {source.path.name} left out "
                     f"(e.g. {source.unit} {first + 1}: {'; '.join(reasons[first]) or 'no geometry'})")
    frame = gpd.GeoDataFrame(attrs[ok].reset_index(drop=True), geometry=list(geoms[ok]), crs=BNG)
    return frame, notes


def source_signature(columns: list[str]) -> str:
    """Files with the same columns (in any order and case) come from the same kind of export."""
    import hashlib

    return hashlib.sha1("|".join(sorted(normalise_column(c) for c in columns)).encode()).hexdigest()[:16]


def apply_mapping(auto: dict[str, str], chosen: dict[str, str | None] | None, columns: list[str],
                  kind: LayerKind) -> dict[str, str]:
    """The automatic mapping with the user's choices over it (None or "" unmaps a field)."""
    if not chosen:
        return auto
    out = dict(auto)
    fields = {f.name for f in kind.fields}
    for field_name, column in chosen.items():
        if field_name not in fields:
            raise SchemaError(f"'{kind.name}' has no field '{field_name}'; its fields are {', '.join(sorted(fields))}")
        if not column:
            out.pop(field_name, None)
        elif column not in columns:
            raise SchemaError(f"the file has no column '{column}' for '{field_name}'; its columns are {', '.join(columns)}")
        else:
            out = {f: c for f, c in out.items() if c != column}
            out[field_name] = column
    return out


def validate_source(source: SourceTable, kind_name: str, *, repair_geometry: bool = False,
                    keep_feature_ids: bool = False, progress: Progress = _no_progress,
                    mapping: dict[str, str | None] | None = None) -> ImportResult:
    """Split a file's records into accepted features (BNG, schema fields) and reasoned rejects.
    ``mapping`` ({field: column}) overrides the columns chosen automatically."""
    kind = get_kind(kind_name)
    n = len(source)
    reasons: list[list[str]] = [[p] if p else [] for p in source.problems]
    notes = list(source.notes)

    progress(0.2, "checking coordinates and converting to British National Grid")
    geoms = place_in_bng(source, reasons)

    progress(0.6, "checking geometries")
    check = np.array([not reasons[i] for i in range(n)], dtype=bool)
    if check.any():
        idx = np.flatnonzero(check)
        problems = geometry_problems(geoms[idx], kind.geometry_types)
        if repair_geometry:
            broken = [j for j, p in zip(idx, problems) if p and p.startswith("invalid geometry")]
            if broken:
                geoms[broken] = repair(geoms[broken], kind.geometry_types)
                notes.append(f"repaired {len(broken)} invalid geometr{'y' if len(broken) == 1 else 'ies'} (--repair)")
                problems = geometry_problems(geoms[idx], kind.geometry_types)
        for j, p in zip(idx, problems):
            if p:
                reasons[j].append(p)
    for i in range(n):  # records with no geometry at all that nothing else has explained
        if geoms[i] is None and not reasons[i]:
            reasons[i].append("no geometry")

    progress(0.8, "checking attributes")
    exclude = source.geometry_columns
    columns = [str(c) for c in source.attributes.columns]
    chosen = mapping
    mapping = apply_mapping(map_columns(list(source.attributes.columns), kind, exclude), chosen, columns, kind)
    missing_cols = [f.name for f in kind.fields if f.required and f.name not in mapping]
    if missing_cols:
        notes.append(
            f"no column for required field(s) {', '.join(missing_cols)}; columns found: "
            f"{', '.join(map(str, source.attributes.columns))}"
        )
    values: dict[str, list[Any]] = {f.name: [None] * n for f in kind.fields}
    blank = {i for i, p in enumerate(source.problems) if p == "blank row"}  # one reason is enough
    attrs = source.attributes
    for f in kind.fields:
        col = mapping.get(f.name)
        if col is None:
            if f.required:
                for i, r in enumerate(reasons):
                    if i not in blank:
                        r.append(f"missing required field '{f.name}'")
            continue
        column, whys = coerce_column(attrs[col], f)
        values[f.name] = column
        for i in np.flatnonzero([w is not None for w in whys]):
            if i not in blank:
                reasons[i].append(str(whys[i]))
        if f.required:
            for i in np.flatnonzero([v is None for v in column]):
                if i not in blank and whys[i] is None:
                    reasons[i].append(f"missing required field '{f.name}' (column '{col}' is empty)")

    used = set(mapping.values()) | set(exclude)
    extra_cols = [c for c in attrs.columns if c not in used]
    row_numbers = np.arange(1, n + 1)
    ok = np.array([not r for r in reasons], dtype=bool)

    accepted = gpd.GeoDataFrame(
        {name: pd.Series(vals, dtype=object)[ok].tolist() for name, vals in values.items()},
        geometry=gpd.GeoSeries(list(geoms[ok]), crs=BNG),
    )
    accepted.insert(0, SOURCE_ATTRS, _extra_json(attrs.loc[ok, extra_cols]))
    accepted.insert(0, SOURCE_ROW, row_numbers[ok])
    accepted.insert(0, SOURCE_FILE, source.path.name)
    if keep_feature_ids and FEATURE_ID in mapping:
        accepted.insert(0, FEATURE_ID, attrs[mapping[FEATURE_ID]].astype(object)[ok].tolist())
    for f in kind.fields:
        if f.kind == "int":
            accepted[f.name] = pd.array(accepted[f.name], dtype="Int64")
        elif f.kind == "float":
            accepted[f.name] = pd.to_numeric(accepted[f.name]).astype("float64")

    rejected = attrs[~ok].copy()
    for c in rejected.columns:
        rejected[c] = rejected[c].astype(object)
    if source.unit == "feature" and (~ok).any():
        rejected["wkt"] = [None if g is None else shapely.to_wkt(g, rounding_precision=-1)
                           for g in source.geometry[~ok]]
        rejected["wkt_crs"] = source.crs.to_string()
    if "reason" in rejected.columns:
        rejected = rejected.rename(columns={"reason": "reason_original"})
    rejected.insert(0, "reason", ["; ".join(r) for r, keep in zip(reasons, ok) if not keep])
    rejected.insert(0, source.unit, row_numbers[~ok])
    if source.unit == "row":  # spreadsheet line numbers, header is line 1
        rejected.insert(1, "line", row_numbers[~ok] + 1)
    rejected = rejected.reset_index(drop=True)
    progress(0.9, "checked")
    return ImportResult(kind.name, source.path, n, accepted, rejected, notes, mapping)


def _extra_json(extra: pd.DataFrame) -> list[str | None]:
    """Each row's columns that have no field here, as JSON (None when all are empty)."""
    if extra.shape[1] == 0:
        return [None] * len(extra)
    out: list[str | None] = []
    for record in extra.to_dict("records"):
        data = {str(k): (v if isinstance(v, (str, int, float, bool)) else str(v)) for k, v in record.items()
                if v is not None and not (isinstance(v, float) and np.isnan(v)) and not (isinstance(v, str) and not v.strip())}
        out.append(json.dumps(data, ensure_ascii=False) if data else None)
    return out


def write_rejects(result: ImportResult, path: Path, *, leave_out_queued: bool = False) -> Path | None:
    """The rejected records as CSV, with their row/feature number and reason first. Rows waiting in
    the review queue are left out when ``leave_out_queued``: fixed there, they must not come back
    through the rejects file as duplicates."""
    rows = result.rejected
    if leave_out_queued:
        rows = rows[~rows["reason"].astype(str).str.startswith("not placed")]
    if rows.empty:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(rows, path)
    result.rejects_path = path
    return path


def default_rejects_path(source: Path, workspace: str) -> Path:
    """Rejects go beside the workspace, named after the input file, so nothing is overwritten."""
    folder = Path(workspace).with_suffix("").parent / f"{Path(workspace).stem}-rejects"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return folder / f"{source.stem}.{stamp}.rejects.csv"


POLICE_UK_COLUMNS = {"Crime ID", "Month", "Falls within", "LSOA code", "Crime type"}


def prepare_incidents(accepted: gpd.GeoDataFrame, source: SourceTable) -> gpd.GeoDataFrame:
    """Standard categories with the original kept; police.uk street files marked as such, their
    points being anonymised street snap points (precision 'street'), never a premises location."""
    out = accepted.copy()
    out["category_original"] = out["category"]
    out["category"] = standardise(out["category"].astype("object"))
    from layers.sources import POLICE_API_COLUMNS

    columns = set(map(str, source.attributes.columns))
    if POLICE_UK_COLUMNS <= columns or (POLICE_API_COLUMNS - {"location"}) <= columns:
        out["source"] = "police.uk"
        out["precision"] = "street"
    elif "precision" in out:
        out["precision"] = out["precision"].replace({"coordinates": "exact"})
        out["precision"] = out["precision"].fillna("exact" if source.unit == "row" else "as drawn")
    return out


def file_columns(path: str | Path, kind: str) -> tuple[list[str], dict[str, str]]:
    """A file's columns and the field each would feed automatically: for the mapping step."""
    from layers.sources import TABLE_SUFFIXES, _read_table

    p = Path(path)
    if p.suffix.lower() in TABLE_SUFFIXES:
        columns = [str(c) for c in _read_table(p)[0].columns]
    else:
        columns = [str(c) for c in read_source(p, prefer_layer=kind).attributes.columns]
    auto = map_columns(columns, get_kind(kind))
    found = coordinate_columns(columns)  # what the reader will use, so the panel says so
    for key, alt in (("easting", "x"), ("northing", "y"), ("longitude", None), ("latitude", None), ("wkt", None)):
        column = found.get(key) or (found.get(alt) if alt else None)
        if column is not None:
            auto.setdefault(key, str(column))
    return columns, auto


def read_rows(path: str | Path) -> pd.DataFrame:
    """A table (CSV, TSV, XLSX) as text cells, one row per record: what the geocoder reads."""
    from layers.sources import TABLE_SUFFIXES, _read_table

    p = Path(path)
    if not p.exists():
        from geo.errors import InputFileError
        raise InputFileError(f"{p}: no such file")
    if p.suffix.lower() not in TABLE_SUFFIXES:
        from geo.errors import InputFileError
        raise InputFileError(f"{p}: geocoding reads tables (CSV, TSV, XLSX), not {p.suffix or 'no extension'}")
    table, _ = _read_table(p)
    return table


def workspace_gazetteer(store: WorkspaceStore) -> pd.DataFrame:
    """The workspace's addresses layer as a gazetteer (uprn, address, easting, northing)."""
    addresses = store.read("addresses")
    return pd.DataFrame({"uprn": addresses["uprn"].astype(str), "address": addresses["address"],
                         "easting": addresses.geometry.x, "northing": addresses.geometry.y})


def geocoded_source(path: Path, table: pd.DataFrame, ragged: list[str], gazetteer: pd.DataFrame,
                    postcodes: pd.DataFrame | None, location_column: str | None, threshold: float) -> SourceTable:
    """An incident table placed by the offline geocoder: rows it cannot place keep its reason."""
    from geo.geocode import geocode
    from layers.sources import _table_to_source

    coded = geocode(table, gazetteer, postcodes, location_column=location_column, threshold=threshold)
    placed = coded["match_method"] != "none"
    out = table.copy()
    out["easting"] = coded["easting"].where(placed).map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    out["northing"] = coded["northing"].where(placed).map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    for column in ("match_method", "match_score", "matched_address", "uprn", "needs_review"):
        out[f"geocode_{column}"] = coded[column].astype(str).where(coded[column].notna(), "")
    out["geocode_reason"] = coded["reason"].fillna("")
    out["precision"] = coded["match_method"]
    lat_lon = [c for c in out.columns if normalise_column(c) in ("lat", "latitude", "lon", "lng", "long", "longitude")]
    out = out.drop(columns=lat_lon)  # placed by the geocoder: easting/northing carry the answer
    source = _table_to_source(path, out, ragged, None)
    for i in np.flatnonzero(~placed.to_numpy()):
        if source.problems[i] != "blank row":
            source.problems[i] = f"not placed: {coded['reason'].iloc[i] or 'no coordinates, grid reference, address or postcode found'}"
    return source


def _has_coordinate_columns(columns: list[str]) -> bool:
    found = coordinate_columns(columns)
    return "wkt" in found or any({a, b} <= found.keys() for a, b in (("easting", "northing"),
                                                                      ("longitude", "latitude"), ("x", "y")))


def placed_source(path: Path, table: pd.DataFrame, ragged: list[str], gazetteer: pd.DataFrame,
                  postcodes: pd.DataFrame | None, location_column: str | None, threshold: float) -> SourceTable:
    """Incidents placed row by row from what the file has: rows with coordinates (any columns the
    importer knows, or WKT) keep them; only rows whose coordinates are empty go to the geocoder."""
    from geo.geocode import geocode
    from layers.sources import _table_to_source

    if not _has_coordinate_columns(list(table.columns)):
        return geocoded_source(path, table, ragged, gazetteer, postcodes, location_column, threshold)
    try:
        source = _table_to_source(path, table, ragged, None)
    except CoordinateError:  # coordinate columns, but not one row fills them
        return geocoded_source(path, table, ragged, gazetteer, postcodes, location_column, threshold)
    empty = np.array([g is None and (p or "").startswith(("no coordinates", "no geometry"))
                      for g, p in zip(source.geometry, source.problems, strict=True)], dtype=bool)
    if not empty.any() or (not len(gazetteer) and postcodes is None):
        return source
    rows = np.flatnonzero(empty)
    coordinates = [c for c in coordinate_columns(table.columns).values() if c in table.columns]
    coded = geocode(table.iloc[rows].drop(columns=coordinates), gazetteer, postcodes,
                    location_column=location_column, threshold=threshold)
    placed = (coded["match_method"] != "none").to_numpy()
    x, y = bng_to_crs(coded["easting"].to_numpy(), coded["northing"].to_numpy(), source.crs)
    attrs = source.attributes.copy()
    for column in ("match_method", "match_score", "matched_address", "uprn", "needs_review", "reason"):
        attrs[f"geocode_{column}"] = ""
        values = coded[column].astype(str).where(coded[column].notna(), "").to_numpy()
        attrs.loc[attrs.index[rows], f"geocode_{column}"] = values
    if "precision" not in attrs.columns:
        attrs["precision"] = ""
        attrs.loc[attrs.index[rows], "precision"] = coded["match_method"].to_numpy()
    source.attributes = attrs
    for k, i in enumerate(rows):
        if placed[k]:
            source.geometry[i] = shapely.Point(x[k], y[k])
            source.problems[i] = None
        else:
            source.problems[i] = f"not placed: {coded['reason'].iloc[k] or 'no coordinates, grid reference, address or postcode found'}"
    source.notes.append(f"{len(rows)} row(s) had no coordinates: {int(placed.sum())} placed by the offline geocoder, "
                        f"{len(rows) - int(placed.sum())} not placed")
    return source


def _update_in_place(store: WorkspaceStore, kind: str, result: ImportResult, *, user: str, note: str) -> int:
    """Features whose feature_id the workspace already holds are updated (attributes and geometry,
    each change audited); the rest stay in ``result.accepted`` to be added. Returns how many."""
    accepted = result.accepted
    if FEATURE_ID not in accepted.columns:
        return 0
    ids = accepted[FEATURE_ID].astype("string")
    existing = set(store.read(kind)[FEATURE_ID].astype(str))
    hit = ids.isin(existing).fillna(False).to_numpy()
    # only the fields the file has a column for: a field it leaves out keeps its value, not a blank
    fields = [f.name for f in get_kind(kind).fields if f.name in accepted.columns and f.name in result.mapping]
    for _, row in accepted[hit].iterrows():
        store.update(kind, str(row[FEATURE_ID]), user=user, geometry=row.geometry, note=note,
                     attributes={f: (None if pd.isna(row[f]) else row[f]) for f in fields})
        result.updated_ids.append(str(row[FEATURE_ID]))
    result.accepted = accepted[~hit]
    return int(hit.sum())


def import_file(store: WorkspaceStore, kind: str, path: str | Path, *, user: str,
                rejects_path: str | Path | None = None, layer: str | None = None, crs: str | None = None,
                repair_geometry: bool = False, progress: Progress = _no_progress,
                gazetteer: pd.DataFrame | None = None, postcodes: pd.DataFrame | None = None,
                location_column: str | None = None, threshold: float = 85,
                mapping: dict[str, str | None] | None = None, remember: bool = True,
                update_existing: bool = False) -> ImportResult:
    """Read, validate and store a file's records in one transaction; write the rejects file.

    With ``update_existing``, records carrying the feature_id of a feature already in the workspace
    (an export brought back) update it in place; the others are added. Incident tables are geocoded offline first (coordinates, grid references, the gazetteer — by
    default the workspace's addresses — then postcodes), each row with how it was placed."""
    from layers.sources import COORDINATE_KEYS, TABLE_SUFFIXES, _read_table, _table_to_source

    progress(0.0, f"reading {Path(path).name}")
    p = Path(path)
    if p.suffix.lower() in TABLE_SUFFIXES and p.exists():
        table, ragged = _read_table(p)
        key = f"mapping:{kind}:{source_signature([str(c) for c in table.columns])}"
        remembered = store.get_meta(key)
        if mapping is None and remembered:
            mapping = json.loads(remembered)
            note = "used the column mapping remembered for files with these columns"
        else:
            note = None
        coords = {k: v for k, v in (mapping or {}).items() if k in COORDINATE_KEYS and v}
        missing = [v for v in coords.values() if v not in table.columns]
        if missing:
            raise SchemaError(f"the file has no column {', '.join(map(repr, missing))}; its columns are "
                              f"{', '.join(map(str, table.columns))}")
        table = table.rename(columns={v: k for k, v in coords.items()})  # the names every reader knows
        if kind == "incidents" and crs is None and gazetteer is None:
            gazetteer = workspace_gazetteer(store)  # read only when a table of incidents may need it
        if kind == "incidents" and crs is None and (len(gazetteer) or postcodes is not None):
            progress(0.05, "geocoding")
            source = placed_source(p, table, ragged, gazetteer, postcodes, location_column, threshold)
        else:
            source = _table_to_source(p, table, ragged, parse_crs(crs) if crs else None)
        if note:
            source.notes.append(note)
    else:
        source = read_source(path, layer=layer, crs=crs, prefer_layer=kind)
        key = f"mapping:{kind}:{source_signature([str(c) for c in source.attributes.columns])}"
    fields_only = {k: v for k, v in mapping.items() if k not in COORDINATE_KEYS} if mapping else None
    result = validate_source(source, kind, repair_geometry=repair_geometry, progress=progress, mapping=fields_only,
                             keep_feature_ids=update_existing)
    if mapping and remember:
        store.set_meta(key, json.dumps(mapping))  # the next file with these columns maps the same way
    if kind == "incidents":
        result.accepted = prepare_incidents(result.accepted, source)
    progress(0.92, f"storing {result.imported} features")
    if update_existing:
        result.updated = _update_in_place(store, kind, result, user=user, note=f"import of {source.path.name}")
    result.feature_ids = store.add(kind, result.accepted, user=user, note=f"import of {source.path.name}")
    if kind == "incidents" and "geocode_match_method" in source.attributes.columns:
        from layers.review import queue_from_import

        result.queued = queue_from_import(store, result)
        if result.queued:
            result.notes.append(f"{result.queued} row(s) placed with low confidence or not placed are in the review "
                                "queue (Geocoding review page); rows not placed wait there, not in the rejects file")
    if len(result.rejected):
        target = Path(rejects_path) if rejects_path else default_rejects_path(source.path, store.location)
        write_rejects(result, target, leave_out_queued=result.queued > 0)
    progress(1.0, "done")
    return result
