"""Import a file into a layer: validate every record, keep the good, explain the rest.

Each record ends up either accepted (converted to BNG, mapped onto the kind's schema) or rejected
with a reason naming the row or feature, so ``accepted + rejected == read`` always holds and
nothing the user gave us is lost: rejected records go to a rejects CSV with ``row`` and ``reason``
columns beside their original values, ready to fix and import again.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely

from closuremap.geo.categories import standardise
from closuremap.geo.columns import coordinate_columns
from closuremap.geo.crs import (
    BNG,
    bng_problems,
    bng_to_crs,
    coordinate_problems,
    geometries_to_bng,
    parse_crs,
)
from closuremap.geo.errors import CoordinateError, InputFileError, SchemaError
from closuremap.geo.geocode import GazetteerIndex, check_gazetteer, geocode
from closuremap.geo.validate import geometry_problems, repair

from . import importlog
from .limits import Limits
from .model import (
    FEATURE_ID,
    SOURCE_ATTRS,
    SOURCE_FILE,
    SOURCE_ROW,
    Field,
    LayerKind,
    get_kind,
    normalise_column,
)
from .review import queue_from_import
from .sources import (
    COORDINATE_KEYS,
    POLICE_API_COLUMNS,
    TABLE_SUFFIXES,
    SourceTable,
    _table_to_source,
    blank_rows,
    iter_table,
    read_source,
    read_table,
    table_columns,
)
from .store import Transaction, WorkspaceStore

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
    #: counts over the whole file: a streamed import keeps ``accepted`` only when the file is read
    #: in one chunk, and at most KEPT_REJECTS rows of ``rejected`` (the rejects file has them all)
    added: int | None = None
    rejected_count: int | None = None
    reason_counts: dict[str, int] | None = None
    import_id: int | None = None

    @property
    def imported(self) -> int:
        return (len(self.accepted) if self.added is None else self.added) + self.updated

    @property
    def n_rejected(self) -> int:
        return len(self.rejected) if self.rejected_count is None else self.rejected_count

    def summary(self) -> dict[str, Any]:
        """The counts and notes as plain data (the CLI's ``--json`` output)."""
        return {
            "kind": self.kind,
            "file": str(self.source),
            "read": self.read,
            "imported": self.imported,
            "rejected": self.n_rejected,
            "rejects_file": str(self.rejects_path) if self.rejects_path else None,
            "queued_for_review": self.queued,
            "updated": self.updated,
            "mapping": self.mapping,
            "notes": self.notes,
            "reasons": (
                self.reason_counts
                if self.reason_counts is not None
                else self.rejected["reason"].value_counts().to_dict()
                if len(self.rejected)
                else {}
            ),
        }


# -- attribute coercion ---------------------------------------------------------------------------
_DATETIME_FORMATS = (
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%Y-%m-%d",
    "%d %b %Y %H:%M",
    "%d %b %Y",
    "%d %B %Y",
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
    raw = raw.map(
        lambda v: (
            json.dumps(v, ensure_ascii=False, default=str) if isinstance(v, (list, dict)) else v
        )
    )
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
            reasons[i] = (
                f"{f.name}: '{text.iloc[i]}' is not a date I can read "
                "(use YYYY-MM-DD or DD/MM/YYYY HH:MM)"
            )
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


def map_columns(
    columns: list[str], kind: LayerKind, exclude: tuple[str, ...] = ()
) -> dict[str, str]:
    """Which source column feeds each field: by name, then alias, then a shapefile's 10-char cut."""
    folded: dict[str, str] = {}
    for c in columns:
        if c in exclude:
            continue
        folded.setdefault(normalise_column(c), c)
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for f in kind.fields:
        for candidate in (
            f.name,
            *f.aliases,
            normalise_column(f.name[:10]),
        ):  # a shapefile's 10-letter name
            col = folded.get(candidate)
            if col is not None and col not in taken:
                mapping[f.name] = col
                taken.add(col)
                break
    if FEATURE_ID in folded and folded[FEATURE_ID] not in taken:
        mapping[FEATURE_ID] = folded[FEATURE_ID]
    return mapping


# -- validation -----------------------------------------------------------------------------------
def place_in_bng(
    source: SourceTable,
    reasons: list[list[str]],
    notes: list[str] | None = None,
    geometry_types: tuple[str, ...] | None = None,
) -> np.ndarray:
    """Each record's geometry in BNG, or None with the reason appended to ``reasons``.

    A polygon valid in its own CRS is never rejected for what the conversion did to it: one that
    came out invalid (rounding made an edge touch itself) is repaired, and ``notes`` says how many."""
    n = len(source)
    has_geom = np.array(
        [g is not None and not reasons[i] for i, g in enumerate(source.geometry)], dtype=bool
    )
    bounds = np.full((n, 4), np.nan)
    if has_geom.any():
        bounds[has_geom] = shapely.bounds(np.asarray(source.geometry[has_geom], dtype=object))
    for i, why in enumerate(coordinate_problems(bounds, source.crs)):
        if why and has_geom[i]:
            reasons[i].append(why)
    convertible = np.array([has_geom[i] and not reasons[i] for i in range(n)], dtype=bool)
    geoms = np.full(n, None, dtype=object)
    if convertible.any():
        original = np.asarray(source.geometry[convertible], dtype=object)
        converted = geometries_to_bng(original, source.crs)
        if converted is not original and geometry_types:
            # only shapes that converted to finite coordinates: one off the grid is rejected below
            present = np.array([g is not None for g in converted], dtype=bool)
            present[present] = np.isfinite(shapely.bounds(converted[present].astype(object))).all(
                axis=1
            )
            broke = np.zeros(len(converted), dtype=bool)
            broke[present] = shapely.is_valid(original[present]) & ~shapely.is_valid(
                converted[present].astype(object)
            )
            if broke.any():
                try:
                    converted[broke] = repair(converted[broke], geometry_types)
                except (
                    shapely.errors.GEOSException
                ):  # left invalid: the geometry check gives GEOS's reason
                    broke[:] = False
                if notes is not None:
                    notes.append(
                        f"{int(broke.sum())} shape(s) valid in {source.crs.to_string()} became invalid when "
                        "converted to British National Grid (coordinates rounded onto each other) and were "
                        "repaired; check them on the map"
                    )
        geoms[convertible] = converted
    for i, why in enumerate(bng_problems(geoms)):
        if why and convertible[i]:  # rows not converted are None here and already explained
            reasons[i].append(why)
            geoms[i] = None
    return geoms


def read_features(
    path: str | Path, kind: str | None = None, *, layer: str | None = None, crs: str | None = None
) -> tuple[gpd.GeoDataFrame, list[str]]:
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
    ok = np.array(
        [not r and g is not None and not shapely.is_empty(g) for r, g in zip(reasons, geoms)],
        dtype=bool,
    )
    if (~ok).any():
        first = next(i for i in range(len(ok)) if not ok[i])
        notes.append(
            f"{int((~ok).sum())} of {len(ok)} {source.unit}s of {source.path.name} left out "
            f"(e.g. {source.unit} {first + 1}: {'; '.join(reasons[first]) or 'no geometry'})"
        )
    frame = gpd.GeoDataFrame(attrs[ok].reset_index(drop=True), geometry=list(geoms[ok]), crs=BNG)
    return frame, notes


def source_signature(columns: list[str]) -> str:
    """Files with the same columns (in any order and case) come from the same kind of export."""
    return hashlib.sha1(
        "|".join(sorted(normalise_column(c) for c in columns)).encode()
    ).hexdigest()[:16]


def apply_mapping(
    auto: dict[str, str], chosen: dict[str, str | None] | None, columns: list[str], kind: LayerKind
) -> dict[str, str]:
    """The automatic mapping with the user's choices over it (None or "" unmaps a field)."""
    if not chosen:
        return auto
    out = dict(auto)
    fields = {f.name for f in kind.fields}
    for field_name, column in chosen.items():
        if field_name not in fields:
            raise SchemaError(
                f"'{kind.name}' has no field '{field_name}'; its fields are {', '.join(sorted(fields))}"
            )
        if not column:
            out.pop(field_name, None)
        elif column not in columns:
            raise SchemaError(
                f"the file has no column '{column}' for '{field_name}'; its columns are {', '.join(columns)}"
            )
        else:
            out = {f: c for f, c in out.items() if c != column}
            out[field_name] = column
    return out


def validate_source(
    source: SourceTable,
    kind_name: str,
    *,
    repair_geometry: bool = False,
    keep_feature_ids: bool = False,
    progress: Progress = _no_progress,
    mapping: dict[str, str | None] | None = None,
    limits: Limits | None = None,
) -> ImportResult:
    """Split a file's records into accepted features (BNG, schema fields) and reasoned rejects.
    ``mapping`` ({field: column}) overrides the columns chosen automatically."""
    kind = get_kind(kind_name)
    limits = limits or Limits.from_env()
    n = len(source)
    reasons: list[list[str]] = [[p] if p else [] for p in source.problems]
    notes = list(source.notes)
    present = np.array([g is not None for g in source.geometry], dtype=bool)
    if present.any():
        vertices = np.zeros(n, dtype=np.int64)
        vertices[present] = shapely.get_num_coordinates(
            np.asarray(source.geometry[present], dtype=object)
        )
        for i in np.flatnonzero(vertices > limits.vertices):  # refused before any repair is tried
            reasons[i].append(str(limits.vertex_reason(int(vertices[i]))))

    progress(0.2, "checking coordinates and converting to British National Grid")
    geoms = place_in_bng(source, reasons, notes, kind.geometry_types)

    progress(0.6, "checking geometries")
    check = np.array([not reasons[i] for i in range(n)], dtype=bool)
    if check.any():
        idx = np.flatnonzero(check)
        problems = geometry_problems(geoms[idx], kind.geometry_types)
        if repair_geometry:
            broken = [j for j, p in zip(idx, problems) if p and p.startswith("invalid geometry")]
            if broken:
                geoms[broken] = repair(geoms[broken], kind.geometry_types)
                notes.append(
                    f"repaired {len(broken)} invalid geometr{'y' if len(broken) == 1 else 'ies'} (--repair)"
                )
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
    mapping = apply_mapping(
        map_columns(list(source.attributes.columns), kind, exclude), chosen, columns, kind
    )
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
                    reasons[i].append(
                        f"missing required field '{f.name}' (column '{col}' is empty)"
                    )

    used = set(mapping.values()) | set(exclude)
    extra_cols = [c for c in attrs.columns if c not in used]
    row_numbers = np.arange(source.first_row, source.first_row + n)
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

    rejected = attrs[~ok].astype(object)
    # a user's own column named like one we add (row, line, reason, wkt...) keeps its value as NAME_original
    ours = {source.unit, "line", "reason", "wkt", "wkt_crs"}
    rejected = rejected.rename(
        columns={c: f"{c}_original" for c in rejected.columns if str(c) in ours}
    )
    if source.unit == "feature" and (~ok).any():
        rejected["wkt"] = [
            None if g is None else shapely.to_wkt(g, rounding_precision=-1)
            for g in source.geometry[~ok]
        ]
        rejected["wkt_crs"] = source.crs.to_string()
    first = {source.unit: row_numbers[~ok]}
    if source.unit == "row":  # spreadsheet line numbers, header is line 1
        first["line"] = row_numbers[~ok] + 1
    first["reason"] = ["; ".join(r) for r, keep in zip(reasons, ok, strict=True) if not keep]
    rejected = pd.concat(
        [pd.DataFrame(first), rejected.reset_index(drop=True)], axis=1
    )  # one join, however wide
    progress(0.9, "checked")
    return ImportResult(kind.name, source.path, n, accepted, rejected, notes, mapping)


_NULL_MEMBER = re.compile(r'"(?:[^"\\]|\\.)*":null,?')


def _extra_json(extra: pd.DataFrame) -> list[str | None]:
    """Each row's columns that have no field here, as JSON (None when all are empty)."""
    if extra.shape[1] == 0:
        return [None] * len(extra)
    if _all_text(extra):
        return _text_json(extra)
    out: list[str | None] = []
    for record in extra.to_dict("records"):
        data = {
            str(k): (v if isinstance(v, (str, int, float, bool)) else str(v))
            for k, v in record.items()
            if v is not None
            and not (isinstance(v, float) and np.isnan(v))
            and not (isinstance(v, str) and not v.strip())
        }
        out.append(json.dumps(data, ensure_ascii=False) if data else None)
    return out


def _all_text(frame: pd.DataFrame) -> bool:
    """A table's cells (text, uniquely named columns): what the fast JSON writer can take."""
    names = [str(c) for c in frame.columns]
    return (
        len(set(names)) == len(names)
        and all(
            pd.api.types.is_object_dtype(t) or pd.api.types.is_string_dtype(t) for t in frame.dtypes
        )
        and all(isinstance(v, str) or v is None for v in frame.iloc[:1].to_numpy().ravel())
    )


def _text_json(frame: pd.DataFrame) -> list[str | None]:
    """Rows of text cells as JSON objects without their empty members, by pandas' C writer (a
    million rows in seconds, not a minute of json.dumps)."""
    text = pd.DataFrame(
        {
            str(c): frame[c]
            .astype(object)
            .where(
                frame[c].notna() & frame[c].astype(str).str.strip().ne("").to_numpy(dtype=bool),
                None,
            )
            for c in frame.columns
        },
        index=frame.index,
    )
    if not len(text):
        return []
    # records are split on "\n" alone: JSON escapes it inside strings, but not U+2028 and the other
    # characters str.splitlines() would also split on
    lines = text.to_json(orient="records", lines=True, force_ascii=False).rstrip("\n").split("\n")
    cut = (_NULL_MEMBER.sub("", line).replace(",}", "}") for line in lines)
    return [None if t == "{}" else t for t in cut]


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
    columns = set(map(str, source.attributes.columns))
    if columns >= POLICE_UK_COLUMNS or (POLICE_API_COLUMNS - {"location"}) <= columns:
        out["source"] = "police.uk"
        out["precision"] = "street"
    elif "precision" in out:
        out["precision"] = out["precision"].replace({"coordinates": "exact"})
        out["precision"] = out["precision"].fillna("exact" if source.unit == "row" else "as drawn")
    return out


def file_columns(path: str | Path, kind: str) -> tuple[list[str], dict[str, str]]:
    """A file's columns and the field each would feed automatically: for the mapping step."""
    p = Path(path)
    if p.suffix.lower() in TABLE_SUFFIXES:
        columns = table_columns(p)
    else:
        columns = [str(c) for c in read_source(p, prefer_layer=kind).attributes.columns]
    auto = map_columns(columns, get_kind(kind))
    found = coordinate_columns(columns)  # what the reader will use, so the panel says so
    for key, alt in (
        ("easting", "x"),
        ("northing", "y"),
        ("longitude", None),
        ("latitude", None),
        ("wkt", None),
    ):
        column = found.get(key) or (found.get(alt) if alt else None)
        if column is not None:
            auto.setdefault(key, str(column))
    return columns, auto


def read_rows(path: str | Path) -> pd.DataFrame:
    """A table (CSV, TSV, XLSX) as text cells, one row per record: what the geocoder reads."""
    p = Path(path)
    if not p.exists():
        raise InputFileError(f"{p}: no such file")
    if p.suffix.lower() not in TABLE_SUFFIXES:
        raise InputFileError(
            f"{p}: geocoding reads tables (CSV, TSV, XLSX), not {p.suffix or 'no extension'}"
        )
    table, _ = read_table(p)
    return table


def workspace_gazetteer(store: WorkspaceStore) -> pd.DataFrame:
    """The workspace's addresses layer as a gazetteer (uprn, address, easting, northing)."""
    addresses = store.read("addresses")
    return pd.DataFrame(
        {
            "uprn": addresses["uprn"].astype(str),
            "address": addresses["address"],
            "easting": addresses.geometry.x,
            "northing": addresses.geometry.y,
        }
    )


def geocoded_source(
    path: Path,
    table: pd.DataFrame,
    ragged: list[str],
    gazetteer: pd.DataFrame | GazetteerIndex,
    postcodes: pd.DataFrame | None,
    location_column: str | None,
    threshold: float,
) -> SourceTable:
    """An incident table placed by the offline geocoder: rows it cannot place keep its reason."""
    coded = geocode(
        table, gazetteer, postcodes, location_column=location_column, threshold=threshold
    )
    placed = coded["match_method"] != "none"
    out = table.copy()
    out["easting"] = coded["easting"].where(placed).map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    out["northing"] = (
        coded["northing"].where(placed).map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    )
    for column in ("match_method", "match_score", "matched_address", "uprn", "needs_review"):
        out[f"geocode_{column}"] = coded[column].astype(str).where(coded[column].notna(), "")
    out["geocode_reason"] = coded["reason"].fillna("")
    out["precision"] = coded["match_method"]
    lat_lon = [
        c
        for c in out.columns
        if normalise_column(c) in ("lat", "latitude", "lon", "lng", "long", "longitude")
    ]
    out = out.drop(columns=lat_lon)  # placed by the geocoder: easting/northing carry the answer
    source = _table_to_source(path, out, ragged, None)
    blank = blank_rows(
        table
    )  # judged on the user's cells, before the geocoder's columns were added
    for i in np.flatnonzero(~placed.to_numpy()):
        source.problems[i] = (
            "blank row"
            if blank[i]
            else (
                f"not placed: {coded['reason'].iloc[i] or 'no coordinates, grid reference, address or postcode found'}"
            )
        )
    return source


def _has_addresses(gazetteer: pd.DataFrame | GazetteerIndex) -> bool:
    return bool(len(gazetteer.address) if isinstance(gazetteer, GazetteerIndex) else len(gazetteer))


def _has_coordinate_columns(columns: list[str]) -> bool:
    found = coordinate_columns(columns)
    return "wkt" in found or any(
        {a, b} <= found.keys()
        for a, b in (("easting", "northing"), ("longitude", "latitude"), ("x", "y"))
    )


def placed_source(
    path: Path,
    table: pd.DataFrame,
    ragged: list[str],
    gazetteer: pd.DataFrame | GazetteerIndex,
    postcodes: pd.DataFrame | None,
    location_column: str | None,
    threshold: float,
) -> SourceTable:
    """Incidents placed row by row from what the file has: rows with coordinates (any columns the
    importer knows, or WKT) keep them; only rows whose coordinates are empty go to the geocoder."""
    if not _has_coordinate_columns(list(table.columns)):
        return geocoded_source(
            path, table, ragged, gazetteer, postcodes, location_column, threshold
        )
    try:
        source = _table_to_source(path, table, ragged, None)
    except CoordinateError:  # coordinate columns, but not one row fills them
        return geocoded_source(
            path, table, ragged, gazetteer, postcodes, location_column, threshold
        )
    empty = np.array(
        [
            g is None and (p or "").startswith(("no coordinates", "no geometry"))
            for g, p in zip(source.geometry, source.problems, strict=True)
        ],
        dtype=bool,
    )
    if not empty.any() or (not _has_addresses(gazetteer) and postcodes is None):
        return source
    rows = np.flatnonzero(empty)
    coordinates = [c for c in coordinate_columns(table.columns).values() if c in table.columns]
    coded = geocode(
        table.iloc[rows].drop(columns=coordinates),
        gazetteer,
        postcodes,
        location_column=location_column,
        threshold=threshold,
    )
    placed = (coded["match_method"] != "none").to_numpy()
    x, y = bng_to_crs(coded["easting"].to_numpy(), coded["northing"].to_numpy(), source.crs)
    attrs = source.attributes.copy()
    for column in (
        "match_method",
        "match_score",
        "matched_address",
        "uprn",
        "needs_review",
        "reason",
    ):
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
            source.problems[i] = (
                f"not placed: {coded['reason'].iloc[k] or 'no coordinates, grid reference, address or postcode found'}"
            )
    source.geocoded = (len(rows), int(placed.sum()))
    return source


def _update_in_place(
    tx: Transaction, kind: str, result: ImportResult, *, user: str, note: str
) -> int:
    """Features whose feature_id the workspace already holds are updated (attributes and geometry,
    each change audited) in the import's transaction; the rest stay in ``result.accepted`` to be
    added. Returns how many."""
    accepted = result.accepted
    if FEATURE_ID not in accepted.columns:
        return 0
    ids = accepted[FEATURE_ID].astype("string")
    existing = set(tx.existing_ids(kind, [str(i) for i in ids.dropna()]))
    hit = ids.isin(existing).fillna(False).to_numpy(dtype=bool)
    # only the fields the file has a column for: a field it leaves out keeps its value, not a blank
    fields = [
        f.name
        for f in get_kind(kind).fields
        if f.name in accepted.columns and f.name in result.mapping
    ]
    for _, row in accepted[hit].iterrows():
        tx.update(
            kind,
            str(row[FEATURE_ID]),
            user=user,
            geometry=row.geometry,
            note=note,
            attributes={f: (None if pd.isna(row[f]) else row[f]) for f in fields},
        )
        result.updated_ids.append(str(row[FEATURE_ID]))
    result.accepted = accepted[~hit]
    return int(hit.sum())


#: rejected rows kept in an ImportResult for the page to show; the rejects file holds every one
KEPT_REJECTS = 100_000


@dataclass
class _Reading:
    """How a file will be read: its records as one or more SourceTables, and the mapping used."""

    sources: Iterator[SourceTable]
    mapping: dict[str, str | None] | None
    mapping_key: str
    geocoding: bool


def _table_reading(
    store: WorkspaceStore,
    kind: str,
    p: Path,
    *,
    crs: str | None,
    mapping: dict[str, str | None] | None,
    gazetteer: pd.DataFrame | None,
    postcodes: pd.DataFrame | None,
    location_column: str | None,
    threshold: float,
    limits: Limits,
    chunk_rows: int | None,
) -> _Reading:
    chunks = iter_table(p, limits, chunk_rows)
    first = next(chunks)
    key = f"mapping:{kind}:{source_signature([str(c) for c in first.frame.columns])}"
    remembered = store.get_meta(key)
    note = None
    if mapping is None and remembered:
        mapping = json.loads(remembered)
        note = "used the column mapping remembered for files with these columns"
    coords = {k: v for k, v in (mapping or {}).items() if k in COORDINATE_KEYS and v}
    missing = [v for v in coords.values() if v not in first.frame.columns]
    if missing:
        raise SchemaError(
            f"the file has no column {', '.join(map(repr, missing))}; its columns are "
            f"{', '.join(map(str, first.frame.columns))}"
        )
    if kind == "incidents" and crs is None and gazetteer is None:
        gazetteer = workspace_gazetteer(store)  # read only when a table of incidents may need it
    geocoding = (
        kind == "incidents"
        and crs is None
        and gazetteer is not None
        and (len(gazetteer) > 0 or postcodes is not None)
    )
    index: pd.DataFrame | GazetteerIndex | None = None
    if geocoding and gazetteer is not None:
        index = (
            GazetteerIndex.from_frame(check_gazetteer(gazetteer)) if len(gazetteer) else gazetteer
        )  # built once

    def sources() -> Iterator[SourceTable]:
        fixed = parse_crs(crs) if crs else None
        for number, chunk in enumerate(itertools.chain([first], chunks)):
            table = chunk.frame.rename(
                columns={v: k for k, v in coords.items()}
            )  # the names every reader knows
            if geocoding and index is not None:
                source = placed_source(
                    p, table, chunk.ragged, index, postcodes, location_column, threshold
                )
            else:
                source = _table_to_source(p, table, chunk.ragged, fixed)
            source.first_row = chunk.first_row
            if number == 0:
                fixed = fixed or (
                    source.crs if not geocoding else None
                )  # later chunks read as the first was
                if note:
                    source.notes.append(note)
            else:  # the CRS was decided, and said, once
                source.notes = [n for n in source.notes if not n.startswith("coordinates read as")]
            yield source

    return _Reading(sources(), mapping, key, geocoding)


def _vector_reading(
    p: Path, kind: str, *, layer: str | None, crs: str | None, mapping: dict[str, str | None] | None
) -> _Reading:
    source = read_source(p, layer=layer, crs=crs, prefer_layer=kind)
    key = f"mapping:{kind}:{source_signature([str(c) for c in source.attributes.columns])}"
    return _Reading(iter([source]), mapping, key, False)


@dataclass
class _Totals:
    """What the chunks of one import added up to."""

    read: int = 0
    added: int = 0
    updated: int = 0
    queued: int = 0
    rejected: int = 0
    chunks: int = 0
    geocoded: tuple[int, int] = (0, 0)
    reasons: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    parts: list[ImportResult] = field(default_factory=list)
    kept_rejects: list[pd.DataFrame] = field(default_factory=list)
    rejects_columns: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    updated_ids: list[str] = field(default_factory=list)

    def absorb(self, part: ImportResult, source: SourceTable, kept_rejects: pd.DataFrame) -> None:
        self.chunks += 1
        self.read += part.read
        self.added += len(part.accepted)
        self.updated += part.updated
        self.queued += part.queued
        self.rejected += len(part.rejected)
        self.reasons.update(
            part.rejected["reason"].astype(str).tolist() if len(part.rejected) else []
        )
        self.notes += [n for n in part.notes if n not in self.notes]
        self.mapping = part.mapping
        if source.geocoded:
            self.geocoded = (
                self.geocoded[0] + source.geocoded[0],
                self.geocoded[1] + source.geocoded[1],
            )
        if self.chunks == 1:
            self.parts.append(part)
        self.updated_ids += part.updated_ids
        kept = sum(len(r) for r in self.kept_rejects)
        if kept < KEPT_REJECTS and len(part.rejected):
            self.kept_rejects.append(part.rejected.iloc[: KEPT_REJECTS - kept])
        self.rejects_columns += [
            str(c) for c in kept_rejects.columns if str(c) not in self.rejects_columns
        ]


def _store_chunk(
    tx: Transaction,
    kind: str,
    source: SourceTable,
    part: ImportResult,
    *,
    import_id: int,
    user: str,
    update_existing: bool,
    geocoding: bool,
    seq: int,
) -> pd.DataFrame:
    """One chunk's features, updates, review-queue rows and rejects, in the import's transaction;
    returns the rows that go to the rejects file."""
    note = f"import of {source.path.name}"
    if kind == "incidents":
        part.accepted = prepare_incidents(part.accepted, source)
    if update_existing:
        part.updated = _update_in_place(tx, kind, part, user=user, note=note)
    part.feature_ids = tx.add(kind, part.accepted, user=user, note=note)
    if geocoding and "geocode_match_method" in source.attributes.columns:
        part.queued = queue_from_import(tx, part)
    rejects = part.rejected
    if part.queued and len(
        rejects
    ):  # rows waiting in the review queue are fixed there, not via the file
        rejects = rejects[~rejects["reason"].astype(str).str.startswith("not placed")]
    importlog.add_rejects(tx.conn, import_id, rejects, seq)
    return rejects


def import_file(
    store: WorkspaceStore,
    kind: str,
    path: str | Path,
    *,
    user: str,
    rejects_path: str | Path | None = None,
    layer: str | None = None,
    crs: str | None = None,
    repair_geometry: bool = False,
    progress: Progress = _no_progress,
    gazetteer: pd.DataFrame | None = None,
    postcodes: pd.DataFrame | None = None,
    location_column: str | None = None,
    threshold: float = 85,
    mapping: dict[str, str | None] | None = None,
    remember: bool = True,
    update_existing: bool = False,
    limits: Limits | None = None,
    chunk_rows: int | None = None,
) -> ImportResult:
    """Read, validate and store a file's records; keep its rejects; all in one transaction.

    Tables stream in chunks (``chunk_rows``, the CLOSUREMAP_CHUNK_ROWS setting), so memory does not
    grow with the file; the features, review-queue rows, rejected rows and the import's log line
    land together or not at all, and the rejects CSV is written from the log after the commit (or
    at the next open, if the process dies first). With ``update_existing``, records carrying the
    feature_id of a feature already in the workspace update it in place; the others are added.
    Incident tables are placed offline first (coordinates, grid references, the gazetteer — by
    default the workspace's addresses — then postcodes), each row with how it was placed."""
    limits = limits or Limits.from_env()
    p = Path(path)
    if not p.exists():
        raise InputFileError(f"{p}: no such file")
    limits.check_file(p)
    progress(0.0, f"reading {p.name}")
    if p.suffix.lower() in TABLE_SUFFIXES:
        reading = _table_reading(
            store,
            kind,
            p,
            crs=crs,
            mapping=mapping,
            gazetteer=gazetteer,
            postcodes=postcodes,
            location_column=location_column,
            threshold=threshold,
            limits=limits,
            chunk_rows=chunk_rows,
        )
    else:
        reading = _vector_reading(p, kind, layer=layer, crs=crs, mapping=mapping)
    mapping = reading.mapping
    fields_only = (
        {k: v for k, v in mapping.items() if k not in COORDINATE_KEYS} if mapping else None
    )
    target = Path(rejects_path) if rejects_path else default_rejects_path(p, store.location)
    totals = _Totals()
    with store.transaction() as tx:
        import_id = importlog.begin(tx.conn, kind=kind, file=p, user=user)
        for source in reading.sources:
            progress(
                min(0.9, 0.05 + 0.85 * totals.chunks / max(1, totals.chunks + 1)),
                f"checking and storing rows from {source.first_row:,}",
            )
            part = validate_source(
                source,
                kind,
                repair_geometry=repair_geometry,
                mapping=fields_only,
                keep_feature_ids=update_existing,
                limits=limits,
            )
            rejects = _store_chunk(
                tx,
                kind,
                source,
                part,
                import_id=import_id,
                user=user,
                update_existing=update_existing,
                geocoding=reading.geocoding,
                seq=totals.rejected,
            )
            totals.absorb(part, source, rejects)
        if mapping and remember:
            tx.set_meta(
                reading.mapping_key, json.dumps(mapping)
            )  # the next file with these columns maps the same way
        written = importlog.count_rejects(tx.conn, import_id)
        importlog.finish(
            tx.conn,
            import_id,
            read=totals.read,
            added=totals.added,
            updated=totals.updated,
            rejected=totals.rejected,
            queued=totals.queued,
            rejects_path=target if written else None,
            rejects_columns=totals.rejects_columns,
        )
    result = _result(kind, p, totals, import_id)
    if written:
        result.rejects_path = store.write_rejects(import_id)
    progress(1.0, "done")
    return result


def _result(kind: str, p: Path, totals: _Totals, import_id: int) -> ImportResult:
    first = totals.parts[0]
    whole = totals.chunks == 1
    rejected = (
        pd.concat(totals.kept_rejects, ignore_index=True)
        if len(totals.kept_rejects) > 1
        else totals.kept_rejects[0]
        if totals.kept_rejects
        else first.rejected.iloc[0:0]
    )
    notes = list(totals.notes)
    if totals.geocoded[0]:
        tried, placed = totals.geocoded
        notes.append(
            f"{tried} row(s) had no coordinates: {placed} placed by the offline geocoder, "
            f"{tried - placed} not placed"
        )
    if totals.queued:
        notes.append(
            f"{totals.queued} row(s) placed with low confidence or not placed are in the review "
            "queue (Geocoding review page); rows not placed wait there, not in the rejects file"
        )
    if not whole:
        notes.append(
            f"read in {totals.chunks} chunks of up to {len(first.accepted) + len(first.rejected):,} rows, "
            "stored in one transaction"
        )
    if totals.rejected > len(rejected):
        notes.append(
            f"{totals.rejected:,} rows rejected: the first {len(rejected):,} are shown here, every one is "
            "in the rejects file"
        )
    return ImportResult(
        kind,
        p,
        totals.read,
        first.accepted if whole else first.accepted.iloc[0:0],
        rejected,
        notes,
        totals.mapping,
        None,
        first.feature_ids if whole else [],
        totals.queued,
        totals.updated,
        totals.updated_ids,
        added=totals.added,
        rejected_count=totals.rejected,
        reason_counts=dict(totals.reasons),
        import_id=import_id,
    )
