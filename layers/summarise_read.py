"""An incidents CSV read for ``closuremap summarise`` in chunks: only the columns a count needs.

The importer's reader keeps every cell of every row so it can store them and explain each
rejected one; a summary needs four columns (the coordinates, the category, the date) and the
reason for the first row it leaves out. So this reader asks pyarrow for those columns alone, a
chunk of ``CLOSUREMAP_CHUNK_ROWS`` rows at a time, and checks the coordinates as whole arrays,
with the importer's own rules and words: the same column names (``geo.columns.find_column``,
``layers.coercion.map_columns``), the same CRS from the columns' names, a ``.prj`` or the ranges,
the same lat/lon, swapped-pair and off-the-grid checks (``geo.crs``), and the same sentence for
the first row left out (``layers.placing.place_in_bng`` on that row).

What it does not read, it hands back: a file that is not a plain CSV/TSV (a workbook, a WKT
column, police.uk API rows) is not planned (:func:`plan_csv` returns None), and a row with the
wrong number of fields raises :class:`NotStreamable`; the caller then reads the file whole as
before, so those rows are explained exactly as the importer explains them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from numpy.typing import NDArray

import shapely
from pyproj import CRS

from closuremap.geo.columns import coordinate_columns
from closuremap.geo.crs import (
    BNG,
    WGS84,
    crs_kind,
    in_bng_range,
    in_lonlat_range,
    infer_crs,
    xy_to_bng,
)
from closuremap.geo.errors import CoordinateError
from closuremap.geo.evaluation import standard_categories
from closuremap.geo.summarise import AreaCounter

from .arrow_csv import block_size, open_text, rechunk
from .coercion import map_columns
from .limits import Limits
from .model import get_kind
from .placing import place_in_bng
from .sources import SourceTable, crs_beside
from .summarise_dates import DateWindow
from .tabular import POLICE_API_COLUMNS, blank_rows, iter_table, short_message

STREAMED_SUFFIXES = {".csv", ".tsv", ".txt"}
ENCODINGS = ("utf-8", "cp1252", "latin-1")  # the importer's order (layers.tabular)


class NotStreamable(Exception):
    """The file has rows only the importer's reader explains (a row with the wrong number of
    fields): read it whole instead."""


class _TextNeeded(Exception):
    """A coordinate cell is not a plain number: read the coordinates as text to say why."""


@dataclass
class CsvPlan:
    """What a table's header says: how to read it, where its coordinates, category and dates
    are, and the CRS of its coordinates (with the notes the importer would give)."""

    path: Path
    encoding: str
    delimiter: str
    header: list[str]
    x: str
    y: str
    default_crs: CRS | None
    default_why: str
    category: str | None
    date: str | None
    notes: list[str] = field(default_factory=list)


def _header(path: Path, encoding: str) -> tuple[list[str], str] | None:
    """The header's column names (stripped) and the delimiter, as the importer finds them; None
    for a header the importer would refuse or that spans lines."""
    with path.open(encoding=encoding, newline="") as f:
        head = f.readline()
    if not head.strip() or "\x00" in head:
        return None
    delimiter = (
        "\t"
        if head.count("\t") > head.count(",")
        else (";" if head.count(";") > head.count(",") else ",")
    )
    rows = list(csv.reader(io.StringIO(head), delimiter=delimiter))
    if len(rows) != 1 or head.count('"') % 2:
        return None
    header = [h.strip() for h in rows[0]]
    return (header, delimiter) if len(set(header)) == len(header) else None


def plan_csv(path: str | Path) -> CsvPlan | None:
    """How to stream an incidents table, or None when it is not a plain delimited table with
    point coordinates (the caller reads it whole, and the importer explains any problem)."""
    p = Path(path)
    if p.suffix.lower() not in STREAMED_SUFFIXES or not p.is_file():
        return None
    found = None
    for encoding in ENCODINGS:
        try:
            found = _header(p, "utf-8-sig" if encoding == "utf-8" else encoding)
        except UnicodeDecodeError:
            continue
        break
    if found is None:
        return None
    header, delimiter = found
    columns = coordinate_columns(header)
    if "wkt" in columns or set(header) >= POLICE_API_COLUMNS:
        return None
    notes: list[str] = []
    if "easting" in columns and "northing" in columns:
        x, y, crs = columns["easting"], columns["northing"], BNG
        why = f"columns '{x}'/'{y}' are BNG eastings/northings"
        if "longitude" in columns and "latitude" in columns:
            notes.append(f"both easting/northing and longitude/latitude present: used '{x}'/'{y}'")
    elif "longitude" in columns and "latitude" in columns:
        x, y, crs = columns["longitude"], columns["latitude"], WGS84
        why = f"columns '{x}'/'{y}' are WGS84 longitude/latitude"
    elif "x" in columns and "y" in columns:
        x, y, crs = columns["x"], columns["y"], None
        why = f"columns '{x}'/'{y}'"
    else:
        return None  # the importer's reader says there are no coordinate columns
    attrs = [c for c in header if c not in (x, y)]
    mapping = map_columns(attrs, get_kind("incidents"))
    return CsvPlan(
        p,
        encoding,
        delimiter,
        header,
        str(x),
        str(y),
        crs,
        why,
        mapping.get("category"),
        mapping.get("occurred_at"),
        notes,
    )


def _reader(
    plan: CsvPlan, columns: dict[str, pa.DataType], block_bytes: int, on_invalid: Callable[..., str]
) -> pacsv.CSVStreamingReader:
    return open_text(
        plan.path,
        encoding=plan.encoding,
        delimiter=plan.delimiter,
        header=plan.header,
        columns=columns,
        block_bytes=block_bytes,
        on_invalid=on_invalid,
    )


def table_chunks(
    plan: CsvPlan, columns: dict[str, pa.DataType], chunk_rows: int
) -> Iterator[pa.Table]:
    """The chosen columns in tables of ``chunk_rows`` rows (the last may be shorter); raises
    :class:`NotStreamable` at a row with the wrong number of fields."""
    ragged: list[int] = []

    def on_invalid(row: object) -> str:
        ragged.append(1)
        return "skip"

    with _reader(plan, columns, block_size(plan.path, chunk_rows), on_invalid) as reader:

        def checked() -> Iterator[pa.RecordBatch]:
            for batch in reader:
                if ragged:
                    raise NotStreamable(f"{plan.path}: a row has the wrong number of fields")
                yield batch
            if ragged:
                raise NotStreamable(f"{plan.path}: a row has the wrong number of fields")

        yield from rechunk(checked(), reader.schema, chunk_rows, final=False)


@dataclass
class Tally:
    """What became of the rows read: how many, how many left out and the first one's reason,
    and the categories' wordings."""

    rows: int = 0
    left_out: int = 0
    first_left_out: tuple[int, str] | None = None  # row number (1 = after the header), reason
    category_map: dict[str, str] = field(default_factory=dict)
    standard_seen: set[str] = field(default_factory=set)
    categorised: bool = False  # a placed row had a category


def _numbers(
    column: pa.ChunkedArray, text: bool
) -> tuple[NDArray[np.float64], NDArray[np.object_]]:
    """A coordinate column as floats (NaN where none) and as the stripped text the importer
    reads ("" for an empty cell). Read as numbers, a cell that is not a finite number raises
    :class:`_TextNeeded`, since only its text can say why."""
    if not text:
        values = column.to_numpy()
        valid = np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        if not np.isfinite(values[valid]).all():
            raise _TextNeeded
        words = np.full(len(values), "", dtype=object)
        return np.asarray(values, dtype="float64"), words
    words = pd.Series(column.to_numpy(zero_copy_only=False), dtype=object).str.strip()
    values = pd.to_numeric(words, errors="coerce").to_numpy(dtype="float64")
    return values, words.to_numpy(dtype=object)


def place(
    x: NDArray[np.float64], y: NDArray[np.float64], crs: CRS
) -> tuple[NDArray[np.bool_], NDArray[np.float64], NDArray[np.float64]]:
    """Which rows the importer would place, and their eastings and northings: finite numbers,
    in Great Britain in the file's own CRS (so a swapped lat/lon pair, or degrees in a BNG file,
    is left out), and in Great Britain again once on the grid."""
    ok = np.isfinite(x) & np.isfinite(y)
    kind = crs_kind(crs)
    if kind == "lonlat":
        ok &= in_lonlat_range(x, y)
    elif kind == "bng":
        ok &= in_bng_range(x, y)
    e, n = xy_to_bng(x[ok], y[ok], crs)
    on_grid = np.isfinite(e) & np.isfinite(n) & in_bng_range(e, n)
    ok[np.flatnonzero(ok)[~on_grid]] = False
    return ok, e[on_grid], n[on_grid]


def _cell_problem(word: str, value: float) -> str | None:
    if np.isfinite(value):
        return None
    return "" if word == "" else f"'{word}' is not a number"


def row_reason(plan: CsvPlan, crs: CRS, words: tuple[str, str], values: tuple[float, float]) -> str:
    """Why the importer leaves out a row with these coordinates, in its words."""
    px, py = (_cell_problem(w, v) for w, v in zip(words, values, strict=True))
    if px is not None or py is not None:
        if px == "" and py == "":
            return f"no coordinates in '{plan.x}'/'{plan.y}'"
        bad = "; ".join(f"{c}: {m}" for c, m in ((plan.x, px), (plan.y, py)) if m)
        return bad or f"coordinate missing in '{plan.x}' or '{plan.y}'"
    point = np.array([shapely.Point(*values)], dtype=object)
    source = SourceTable(plan.path, pd.DataFrame(index=[0]), point, crs, "row", problems=[None])
    reasons: list[list[str]] = [[]]
    place_in_bng(source, reasons)
    return "; ".join(reasons[0]) or "no geometry"  # placed, but empty: the importer's words


def _blank_row(plan: CsvPlan, row: int) -> bool:
    """Whether record ``row`` has every cell empty (the importer calls that a blank row), read by
    the importer's own reader a chunk at a time: asked only for the first row left out, when its
    coordinates, category and date are all empty."""
    for chunk in iter_table(plan.path):
        if chunk.first_row + len(chunk.frame) > row:
            return bool(blank_rows(chunk.frame.iloc[[row - chunk.first_row]])[0])
    return False


def plan_crs(plan: CsvPlan, chunk_rows: int) -> tuple[CRS, list[str]]:
    """The CRS of the coordinates and the note saying why, as the importer decides it: a
    readable ``.prj`` beside the file (x/y columns only), else the columns' names, else the
    ranges of every row's coordinates (the one case that reads the two columns whole first)."""
    notes = list(plan.notes)
    if plan.default_crs is None and (from_prj := crs_beside(plan.path, notes)):
        return from_prj, notes
    if plan.default_crs is not None:
        notes.append(f"coordinates read as {plan.default_crs.to_string()}: {plan.default_why}")
        return plan.default_crs, notes
    xs, ys = [], []
    for table in table_chunks(plan, {plan.x: pa.string(), plan.y: pa.string()}, chunk_rows):
        x, _ = _numbers(table[plan.x], text=True)
        y, _ = _numbers(table[plan.y], text=True)
        keep = np.isfinite(x) & np.isfinite(y)
        xs.append(x[keep])
        ys.append(y[keep])
    if not sum(len(x) for x in xs):
        raise CoordinateError(f"{plan.path}: no row has usable coordinates ({plan.default_why})")
    guess = infer_crs(np.concatenate(xs), np.concatenate(ys))
    notes.append(f"{guess.reason} ({plan.default_why})")
    return guess.crs, notes


def _categories(column: pa.ChunkedArray, tally: Tally) -> pd.Categorical:
    """The placed rows' categories, standardised as the importer does (``standard_categories``
    on each distinct wording), with each wording's standard one remembered in ``tally``."""
    codes = pc.dictionary_encode(column.combine_chunks())
    wordings = ["" if w is None else str(w) for w in codes.dictionary.to_pylist()]
    new = [w for w in wordings if w not in tally.category_map]
    if new:  # each wording is standardised once, in the chunk it first appears in
        named = standard_categories(pd.Series(new, dtype=object)).tolist()
        tally.category_map.update(zip(new, named, strict=True))
    standard = [tally.category_map[w] for w in wordings]
    labels = sorted(set(standard))
    tally.standard_seen.update(labels)
    position = np.array([labels.index(s) for s in standard], dtype=np.int64)
    indices = codes.indices.to_numpy(zero_copy_only=False)
    return pd.Categorical.from_codes(position[indices], categories=labels)


def count_chunks(
    plan: CsvPlan,
    crs: CRS,
    counter: AreaCounter,
    chunk_rows: int,
    *,
    text: bool,
    limits: Limits,
    progress: Callable[[int], None],
) -> Tally:
    """Count every chunk of the file into ``counter``; the rows read, left out and why."""
    columns: dict[str, pa.DataType] = dict.fromkeys(
        (plan.x, plan.y), pa.string() if text else pa.float64()
    )
    window = DateWindow(*counter.window) if counter.window else None
    for name in (plan.category, plan.date if window else None):
        if name is not None:
            columns[name] = pa.string()
    tally = Tally()
    for table in table_chunks(plan, columns, chunk_rows):
        x, x_words = _numbers(table[plan.x], text)
        y, y_words = _numbers(table[plan.y], text)
        ok, e, n = place(x, y, crs)
        if tally.first_left_out is None and not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            reason = row_reason(plan, crs, (x_words[i], y_words[i]), (x[i], y[i]))
            others = [table[c][i].as_py() for c in columns if c not in (plan.x, plan.y)]
            if reason.startswith("no coordinates") and not any(o.strip() for o in others):
                reason = "blank row" if _blank_row(plan, tally.rows + i + 1) else reason
            tally.first_left_out = (tally.rows + i + 1, reason)
        tally.rows += len(table)
        tally.left_out += int((~ok).sum())
        limits.check_rows(plan.path, tally.rows)
        placed = table.filter(pa.array(ok))
        categories = None
        if plan.category is not None and len(placed):
            categories = _categories(placed[plan.category], tally)
            tally.categorised = True
        verdict = None
        if window is not None and plan.date is not None:
            verdict = window(placed[plan.date].combine_chunks())
        counter.add(shapely.points(e, n), categories=categories, window=verdict)
        progress(tally.rows)
    return tally


def estimated_rows(path: Path) -> int:
    """About how many rows the file holds, from its size and its first rows (for progress)."""
    with path.open("rb") as f:
        sample = f.read(1 << 16)
    return max(1, int(path.stat().st_size / max(1.0, len(sample) / max(1, sample.count(b"\n")))))


def count_csv(
    plan: CsvPlan,
    new_counter: Callable[[], AreaCounter],
    *,
    limits: Limits,
    progress: Callable[[int], None],
) -> tuple[AreaCounter, Tally, list[str]]:
    """Count a planned table's incidents: the counter, what became of the rows, and the notes
    on how its coordinates were read. Coordinates are read as numbers, or as text when a cell is
    not a plain number; the text as UTF-8, else Windows-1252, else Latin-1 (the importer's
    order). Raises :class:`NotStreamable` for what only the importer's reader can explain."""
    for encoding in ENCODINGS[ENCODINGS.index(plan.encoding) :]:
        plan.encoding = encoding
        try:
            crs, notes = plan_crs(plan, limits.chunk_rows)
            for text in (False, True):
                counter = new_counter()
                try:
                    tally = count_chunks(
                        plan,
                        crs,
                        counter,
                        limits.chunk_rows,
                        text=text,
                        limits=limits,
                        progress=progress,
                    )
                except _TextNeeded:
                    continue
                except pa.ArrowInvalid as exc:  # a coordinate cell pyarrow reads as no number
                    if text or "conversion error to double" not in str(exc):
                        raise
                    continue
                return counter, tally, notes
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            if isinstance(exc, UnicodeDecodeError) or "utf8" in str(exc).lower():
                continue
            raise NotStreamable(f"{plan.path}: {short_message(exc)}") from None
    raise NotStreamable(f"{plan.path}: not text in an encoding I read")
