"""A source's columns onto a layer's fields: which column feeds which field, and each cell read as
the field's type (a whole number in range, a date in the formats UK exports use, one of a field's
choices) or the reason it cannot be.

One reader for every way a value comes in: a file's import, a typed form on the draw page
(``editing.typed_attributes``), a review-queue row placed by hand. What it accepts is what the
filters and documents can read back.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from closuremap.geo.dates import DATE_HINT, UTC_OFFSET, formats_for, has_time, parse_fixed
from closuremap.geo.errors import SchemaError

from .model import FEATURE_ID, Field, LayerKind, normalise_column

# -- attribute coercion ---------------------------------------------------------------------------
_NULL_TEXT = {"", "nan", "none", "null", "nat", "<na>"}
_NULL_TEXT_LONGEST = max(map(len, _NULL_TEXT))


def coerce_column(raw: pd.Series, f: Field) -> tuple[list[Any], list[str | None]]:
    """A column's cells as the field's type, and per cell the reason it cannot be (or None).

    Vectorised: a 100k-row import must not parse dates one strptime at a time.
    """
    n = len(raw)
    reasons: list[str | None] = [None] * n
    values = np.full(n, None, dtype=object)  # NumPy, not a Series: masked writes cost less
    if pd.api.types.is_datetime64_any_dtype(raw):
        ok = raw.notna().to_numpy()
        fmt = "%Y-%m-%d" if f.kind == "date" else "%Y-%m-%dT%H:%M:%S"
        values[ok] = raw[ok].dt.strftime(fmt).to_numpy()
        return values.tolist(), reasons
    if f.kind not in ("int", "float", "datetime", "date") and not f.choices:
        plain = _plain_text(raw)
        if plain is not None:
            return plain, reasons
    text = _cell_text(raw)
    null = text.str.lower().isin(_NULL_TEXT).to_numpy()
    if f.kind in ("int", "float"):
        with np.errstate(invalid="ignore", over="ignore"):
            number = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64")
            finite = np.isfinite(number)
            whole = finite & (np.mod(number, 1) == 0) if f.kind == "int" else finite
        low, high = f.bounds
        inside = whole & (number >= low) & (number <= high)
        ok = ~null & inside
        if ok.any():
            whole_or_not = [int(v) for v in number[ok]] if f.kind == "int" else number[ok].tolist()
            values[np.flatnonzero(ok)] = np.array(whole_or_not + [None], dtype=object)[:-1]
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
        clean = _without_utc_offset(text)
        first = clean[remaining]
        for fmt in formats_for(str(first.iloc[0]) if len(first) else None):
            if not remaining.any():
                break
            parsed = _parse_dates(clean[remaining], fmt)
            hit = parsed.notna()
            if not hit.any():
                continue
            unit = "s" if f.kind == "datetime" and has_time(fmt) else "D"
            idx = parsed.index[hit.to_numpy()]
            values[idx.to_numpy()] = _iso(parsed[hit], unit)
            remaining[idx] = False
        for i in np.flatnonzero(remaining):
            reasons[i] = f"{f.name}: '{text.iloc[i]}' is not a date I can read ({DATE_HINT})"
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


def _plain_text(raw: pd.Series) -> list[Any] | None:
    """A free-text field's values from a column of text cells (a table's): each stripped, None
    for an empty or null-looking one, in one pass of Python over the cells rather than four
    conversions between pandas' text types; None for a column holding anything but text."""
    if raw.dtype != object or pd.api.types.infer_dtype(raw, skipna=False) != "string":
        return None
    longest = _NULL_TEXT_LONGEST  # only a cell this short can be a null word: the rest skip lower()
    return [
        None if len(t := v.strip()) <= longest and t.lower() in _NULL_TEXT else t
        for v in raw.to_numpy(dtype=object)
    ]


def _cell_text(raw: pd.Series) -> pd.Series:
    """A column's cells as stripped text ("" for a missing one), on a 0..n-1 index. Nested
    GeoJSON properties (lists, objects) become JSON text, not Python's repr; a column of text
    (every table's) skips that per-cell look."""
    kind = pd.api.types.infer_dtype(raw, skipna=True)
    if kind == "string" and not raw.hasnans:  # a table's cells: stripped in one pass
        return pd.Series([v.strip() for v in raw.to_numpy(dtype=object)], dtype="str")
    if kind not in ("string", "empty", "integer", "floating", "boolean", "datetime", "date"):
        raw = raw.map(
            lambda v: (
                json.dumps(v, ensure_ascii=False, default=str) if isinstance(v, (list, dict)) else v
            )
        )
    text = raw.astype(object).where(raw.notna(), "").astype(str)
    return text.str.strip().reset_index(drop=True)


def _without_utc_offset(text: pd.Series) -> pd.Series:
    """Date-times with a trailing UTC offset ("Z", "+01:00", "-0500") cut off. The regular
    expression runs only on the cells that end like one (a "+" or "-" five or six characters from
    the end, or a "Z", found by pyarrow): on a whole column of plain date-times it cost more than
    parsing them."""
    cells = pa.array(text.array, type=pa.string())
    maybe = pc.match_substring_regex(cells, r"(?:Z|[+-].{4,5})$").to_numpy(zero_copy_only=False)
    if not maybe.any():
        return text
    clean = text.copy()
    clean[maybe] = text[maybe].str.replace(UTC_OFFSET, r"\1", regex=True)
    return clean


def _parse_dates(text: pd.Series, fmt: str) -> pd.Series:
    """Text read as date-times in ``fmt`` (NaT where it is not one): values written in its exact
    zero-padded form by NumPy, the rest by pandas' strptime, whose answer for those is the same."""
    stamps, fast = parse_fixed(text.to_numpy(dtype=object), fmt)
    if fast.all():
        return pd.Series(stamps, index=text.index)
    slow = pd.to_datetime(text[~fast], format=fmt, errors="coerce")
    out = pd.Series(stamps, index=text.index).astype(slow.dtype)
    out[~fast] = slow
    return out


def _iso(parsed: pd.Series, unit: str) -> np.ndarray:
    """Parsed dates as ISO text: ``YYYY-MM-DDTHH:MM:SS`` (unit "s") or ``YYYY-MM-DD`` ("D"),
    written by NumPy in one pass (pandas' strftime is a Python call a cell)."""
    stamps = parsed.to_numpy().astype(f"datetime64[{unit}]")
    return np.datetime_as_string(stamps, unit=unit).astype(object)


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
        # by name, then alias, then a shapefile's 10-letter cut of the name
        for candidate in (f.name, *f.aliases, normalise_column(f.name[:10])):
            col = folded.get(candidate)
            if col is not None and col not in taken:
                mapping[f.name] = col
                taken.add(col)
                break
    if FEATURE_ID in folded and folded[FEATURE_ID] not in taken:
        mapping[FEATURE_ID] = folded[FEATURE_ID]
    return mapping


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
                f"'{kind.name}' has no field '{field_name}'; "
                f"its fields are {', '.join(sorted(fields))}"
            )
        if not column:
            out.pop(field_name, None)
        elif column not in columns:
            raise SchemaError(
                f"the file has no column '{column}' for '{field_name}'; "
                f"its columns are {', '.join(columns)}"
            )
        else:
            out = {f: c for f, c in out.items() if c != column}
            out[field_name] = column
    return out


def iso_dates(values: pd.Series) -> pd.Series:
    """Dates as exported (``25/12/2024 14:30``, ISO, police.uk ``2024-03``) as ISO text, None if
    unreadable; the importer's vectorised parser (a million date-times in seconds, not strptime
    row by row)."""
    text = values.astype("string").str.strip()
    iso = (
        text.str.match(r"^\d{4}-\d{2}(-\d{2}([T ]\d{2}:\d{2}.*)?)?$")
        .fillna(False)
        .to_numpy(dtype=bool)
    )
    out = text.astype(object).where(text.notna(), None)
    if (~iso).any():
        parsed, _ = coerce_column(text[~iso].astype(object), Field("when", "datetime"))
        out[~iso] = parsed
    return out.where(out.notna(), None)
