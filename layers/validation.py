"""Check a source's records against a layer kind: each one accepted (on the British National Grid,
its cells read as the kind's fields) or rejected with every reason that applies.

``accepted + rejected == read`` always holds. A rejected record keeps its original values beside
its ``row`` (or ``feature``), spreadsheet ``line`` and ``reason``, ready to fix and import again;
an accepted one keeps the columns no field took as JSON in ``source_attrs``. (Whether a geometry
is valid is ``geo.validate``'s rule; this module applies it to a file's records.)
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely

from closuremap.geo.crs import BNG
from closuremap.geo.validate import geometry_problems, repair

from .coercion import apply_mapping, coerce_column, map_columns
from .import_result import ImportResult
from .limits import Limits
from .model import FEATURE_ID, SOURCE_ATTRS, SOURCE_FILE, SOURCE_ROW, LayerKind, get_kind
from .placing import place_in_bng
from .progress import Progress, no_progress
from .sources import SourceTable


def validate_source(
    source: SourceTable,
    kind_name: str,
    *,
    repair_geometry: bool = False,
    keep_feature_ids: bool = False,
    progress: Progress = no_progress,
    mapping: dict[str, str | None] | None = None,
    limits: Limits | None = None,
) -> ImportResult:
    """Split a file's records into accepted features (BNG, schema fields) and reasoned rejects.
    ``mapping`` ({field: column}) overrides the columns chosen automatically."""
    kind = get_kind(kind_name)
    reasons: list[list[str]] = [[p] if p else [] for p in source.problems]
    notes = list(source.notes)
    _refuse_too_many_vertices(source, reasons, limits or Limits.from_env())
    progress(0.2, "checking coordinates and converting to British National Grid")
    geoms = place_in_bng(source, reasons, notes, kind.geometry_types)
    progress(0.6, "checking geometries")
    _check_geometries(geoms, reasons, notes, kind, repair_geometry)
    progress(0.8, "checking attributes")
    columns = [str(c) for c in source.attributes.columns]
    fields = apply_mapping(
        map_columns(list(source.attributes.columns), kind, source.geometry_columns),
        mapping,
        columns,
        kind,
    )
    missing = [f.name for f in kind.fields if f.required and f.name not in fields]
    if missing:
        notes.append(
            f"no column for required field(s) {', '.join(missing)}; columns found: "
            f"{', '.join(columns)}"
        )
    values = _field_values(source, kind, fields, reasons)
    ok = np.array([not r for r in reasons], dtype=bool)
    accepted = _accepted(source, kind, fields, values, geoms, ok, keep_feature_ids)
    rejected = rejected_rows(source, reasons, ok)
    progress(0.9, "checked")
    return ImportResult(kind.name, source.path, len(source), accepted, rejected, notes, fields)


def _refuse_too_many_vertices(
    source: SourceTable, reasons: list[list[str]], limits: Limits
) -> None:
    """Shapes over the vertex limit are refused before any conversion or repair is tried."""
    present = np.array([g is not None for g in source.geometry], dtype=bool)
    if not present.any():
        return
    vertices = np.zeros(len(source), dtype=np.int64)
    vertices[present] = shapely.get_num_coordinates(
        np.asarray(source.geometry[present], dtype=object)
    )
    for i in np.flatnonzero(vertices > limits.vertices):
        reasons[i].append(str(limits.vertex_reason(int(vertices[i]))))


def _check_geometries(
    geoms: np.ndarray,
    reasons: list[list[str]],
    notes: list[str],
    kind: LayerKind,
    repair_geometry: bool,
) -> None:
    """The kind's geometry rules on the records placed so far (``--repair`` fixes the invalid ones
    first, and says how many); a record with no geometry that nothing else explains says so."""
    idx = np.flatnonzero([not r for r in reasons])
    if len(idx):
        problems = geometry_problems(geoms[idx], kind.geometry_types)
        if repair_geometry:
            broken = [
                j
                for j, p in zip(idx, problems, strict=True)
                if p and p.startswith("invalid geometry")
            ]
            if broken:
                geoms[broken] = repair(geoms[broken], kind.geometry_types)
                notes.append(
                    f"repaired {len(broken)} invalid "
                    f"geometr{'y' if len(broken) == 1 else 'ies'} (--repair)"
                )
                problems = geometry_problems(geoms[idx], kind.geometry_types)
        for j, p in zip(idx, problems, strict=True):
            if p:
                reasons[j].append(p)
    for i, g in enumerate(geoms):
        if g is None and not reasons[i]:
            reasons[i].append("no geometry")


def _field_values(
    source: SourceTable, kind: LayerKind, fields: dict[str, str], reasons: list[list[str]]
) -> dict[str, list[Any]]:
    """Each field's cells read as its type; a cell that cannot be, or a required one left empty,
    adds its reason (a blank row has one reason, "blank row", not one per field)."""
    n = len(source)
    values: dict[str, list[Any]] = {f.name: [None] * n for f in kind.fields}
    blank = {i for i, p in enumerate(source.problems) if p == "blank row"}
    for f in kind.fields:
        col = fields.get(f.name)
        if col is None:
            if f.required:
                for i, r in enumerate(reasons):
                    if i not in blank:
                        r.append(f"missing required field '{f.name}'")
            continue
        column, whys = coerce_column(source.attributes[col], f)
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
    return values


def _accepted(
    source: SourceTable,
    kind: LayerKind,
    fields: dict[str, str],
    values: dict[str, list[Any]],
    geoms: np.ndarray,
    ok: np.ndarray,
    keep_feature_ids: bool,
) -> gpd.GeoDataFrame:
    """The accepted records as the kind's columns, with where each came from (file, row) and the
    columns no field took (``source_attrs``)."""
    attrs = source.attributes
    used = set(fields.values()) | set(source.geometry_columns)
    extra_cols = [c for c in attrs.columns if c not in used]
    rows = np.arange(source.first_row, source.first_row + len(source))
    # object columns, as read: pandas need not guess a type for each (text stored as pyarrow
    # strings would only be turned back into Python objects to be written)
    accepted = gpd.GeoDataFrame(
        {
            name: pd.Series(vals, dtype=object)[ok].reset_index(drop=True)
            for name, vals in values.items()
        },
        geometry=gpd.GeoSeries(geoms[ok], crs=BNG),
    )
    accepted.insert(0, SOURCE_ATTRS, _extra_json(attrs.loc[ok, extra_cols]))
    accepted.insert(0, SOURCE_ROW, rows[ok])
    accepted.insert(0, SOURCE_FILE, source.path.name)
    if keep_feature_ids and FEATURE_ID in fields:
        accepted.insert(0, FEATURE_ID, attrs[fields[FEATURE_ID]].astype(object)[ok].tolist())
    for f in kind.fields:
        if f.kind == "int":
            accepted[f.name] = pd.array(accepted[f.name], dtype="Int64")
        elif f.kind == "float":
            accepted[f.name] = pd.to_numeric(accepted[f.name]).astype("float64")
    return accepted


def rejected_rows(source: SourceTable, reasons: list[list[str]], ok: np.ndarray) -> pd.DataFrame:
    """The rejected records' original values after their row (or feature), line and reasons; a
    feature's shape as WKT in its own CRS, so the file can be fixed and imported again."""
    rejected = source.attributes[~ok].astype(object)
    # a user's own column named like one we add (row, line, reason, wkt...) keeps its value as
    # NAME_original
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
    rows = np.arange(source.first_row, source.first_row + len(source))[~ok]
    first: dict[str, Any] = {source.unit: rows}
    if source.unit == "row":  # spreadsheet line numbers, header is line 1
        first["line"] = rows + 1
    first["reason"] = ["; ".join(r) for r, keep in zip(reasons, ok, strict=True) if not keep]
    # one join, however wide
    return pd.concat([pd.DataFrame(first), rejected.reset_index(drop=True)], axis=1)


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
