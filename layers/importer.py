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

from geo.crs import BNG, bng_problems, coordinate_problems, geometries_to_bng
from geo.validate import geometry_problems, repair
from layers.model import (FEATURE_ID, SOURCE_ATTRS, SOURCE_FILE, SOURCE_ROW, Field, LayerKind, get_kind,
                          normalise_column)
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

    @property
    def imported(self) -> int:
        return len(self.accepted)

    def summary(self) -> dict[str, Any]:
        """The counts and notes as plain data (the CLI's ``--json`` output)."""
        return {
            "kind": self.kind,
            "file": str(self.source),
            "read": self.read,
            "imported": self.imported,
            "rejected": len(self.rejected),
            "rejects_file": str(self.rejects_path) if self.rejects_path else None,
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


def _coerce(value: Any, f: Field) -> tuple[Any, str | None]:
    """A cell as the field's type, or the reason it cannot be."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None, None
    text = str(value).strip()
    if text == "" or text.lower() in ("nan", "none", "null"):
        return None, None
    if f.kind == "int":
        try:
            number = float(text)
        except ValueError:
            return None, f"{f.name}: '{text}' is not a whole number"
        if not number.is_integer():
            return None, f"{f.name}: '{text}' is not a whole number"
        return int(number), None
    if f.kind == "float":
        try:
            number = float(text)
        except ValueError:
            return None, f"{f.name}: '{text}' is not a number"
        return (number, None) if np.isfinite(number) else (None, f"{f.name}: '{text}' is not a number")
    if f.kind in ("datetime", "date"):
        if isinstance(value, (pd.Timestamp, datetime)):
            return (value.date().isoformat() if f.kind == "date" else value.isoformat(timespec="seconds")), None
        try:
            return parse_when(text, f.kind), None
        except ValueError as exc:
            return None, f"{f.name}: {exc}"
    if f.choices:
        folded = normalise_column(text)
        if folded not in f.choices:
            return None, f"{f.name}: '{text}' is not one of {', '.join(f.choices)}"
        return folded, None
    return text, None


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
        for candidate in (f.name, *f.aliases, f.name[:10]):
            col = folded.get(candidate)
            if col is not None and col not in taken:
                mapping[f.name] = col
                taken.add(col)
                break
    if FEATURE_ID in folded and folded[FEATURE_ID] not in taken:
        mapping[FEATURE_ID] = folded[FEATURE_ID]
    return mapping


# -- validation -----------------------------------------------------------------------------------
def validate_source(source: SourceTable, kind_name: str, *, repair_geometry: bool = False,
                    keep_feature_ids: bool = False, progress: Progress = _no_progress) -> ImportResult:
    """Split a file's records into accepted features (BNG, schema fields) and reasoned rejects."""
    kind = get_kind(kind_name)
    n = len(source)
    reasons: list[list[str]] = [[p] if p else [] for p in source.problems]
    notes = list(source.notes)

    progress(0.2, "checking coordinates")
    has_geom = np.array([g is not None and not reasons[i] for i, g in enumerate(source.geometry)])
    geoms_src = source.geometry
    bounds = np.full((n, 4), np.nan)
    if has_geom.any():
        bounds[has_geom] = shapely.bounds(np.asarray(geoms_src[has_geom], dtype=object))
    for i, why in enumerate(coordinate_problems(bounds, source.crs)):
        if why and has_geom[i]:
            reasons[i].append(why)

    progress(0.4, "converting to British National Grid")
    convertible = np.array([has_geom[i] and not reasons[i] for i in range(n)], dtype=bool)
    geoms = np.full(n, None, dtype=object)
    if convertible.any():
        geoms[convertible] = geometries_to_bng(np.asarray(geoms_src[convertible], dtype=object), source.crs)
    for i, why in enumerate(bng_problems(geoms)):
        if why and convertible[i]:  # rows not converted are None here and already explained
            reasons[i].append(why)
            geoms[i] = None

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
    mapping = map_columns(list(source.attributes.columns), kind, exclude)
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
        column = attrs[col].tolist()
        for i, raw in enumerate(column):
            if i in blank:
                continue
            v, why = _coerce(raw, f)
            if why:
                reasons[i].append(why)
            elif v is None and f.required:
                reasons[i].append(f"missing required field '{f.name}' (column '{col}' is empty)")
            values[f.name][i] = v

    used = set(mapping.values()) | set(exclude)
    extra_cols = [c for c in attrs.columns if c not in used]
    row_numbers = np.arange(1, n + 1)
    ok = np.array([not r for r in reasons], dtype=bool)

    accepted = gpd.GeoDataFrame(
        {name: pd.Series(vals, dtype=object)[ok].tolist() for name, vals in values.items()},
        geometry=gpd.GeoSeries(list(geoms[ok]), crs=BNG),
    )
    accepted.insert(0, SOURCE_ATTRS, [_extra_json(attrs, extra_cols, i) for i in np.flatnonzero(ok)])
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


def _extra_json(attrs: pd.DataFrame, cols: list[str], i: int) -> str | None:
    if not cols:
        return None
    data = {}
    for c in cols:
        v = attrs.iloc[i][c]
        if v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip()):
            continue
        data[str(c)] = v if isinstance(v, (str, int, float, bool)) else str(v)
    return json.dumps(data, ensure_ascii=False) if data else None


def write_rejects(result: ImportResult, path: Path) -> Path:
    """The rejected records as CSV, with their row/feature number and reason first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    result.rejected.to_csv(path, index=False)
    result.rejects_path = path
    return path


def default_rejects_path(source: Path, workspace: str) -> Path:
    """Rejects go beside the workspace, named after the input file, so nothing is overwritten."""
    folder = Path(workspace).with_suffix("").parent / f"{Path(workspace).stem}-rejects"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return folder / f"{source.stem}.{stamp}.rejects.csv"


def import_file(store: WorkspaceStore, kind: str, path: str | Path, *, user: str,
                rejects_path: str | Path | None = None, layer: str | None = None, crs: str | None = None,
                repair_geometry: bool = False, progress: Progress = _no_progress) -> ImportResult:
    """Read, validate and store a file's records in one transaction; write the rejects file."""
    progress(0.0, f"reading {Path(path).name}")
    source = read_source(path, layer=layer, crs=crs, prefer_layer=kind)
    result = validate_source(source, kind, repair_geometry=repair_geometry, progress=progress)
    progress(0.92, f"storing {result.imported} features")
    result.feature_ids = store.add(kind, result.accepted, user=user, note=f"import of {source.path.name}")
    if len(result.rejected):
        target = Path(rejects_path) if rejects_path else default_rejects_path(source.path, store.location)
        write_rejects(result, target)
    progress(1.0, "done")
    return result
