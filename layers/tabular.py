"""Reading a CSV, TSV or XLSX file as text cells, in chunks, with each record's field-count problem.

Cells stay text here (numbers, dates and coordinates are read by whoever knows what the column
means); memory is bounded by the chunk, not the file. police.uk API rows get their place unpacked.
"""

from __future__ import annotations

import ast
import codecs
import csv
import itertools
import sys
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from closuremap.geo.errors import InputFileError

from .arrow_csv import block_size, open_text, rechunk
from .limits import Limits

# a WKT cell may be long: the vertex limit judges it
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

#: What openpyxl (and pandas reading through it) raises for a file that is not a sound workbook:
#: not a zip or a damaged one (BadZipFile, zlib.error, EOFError), missing parts (KeyError,
#: IndexError), malformed XML (lxml's and ElementTree's parse errors are SyntaxErrors), values of
#: the wrong type or range (TypeError, ValueError, OverflowError for a cell holding infinity),
#: features it does not read, the file system; and openpyxl's own InvalidFileException, added
#: where a workbook is read (openpyxl is imported only then: it costs a CSV import 0.3 s).
WORKBOOK_READ_ERRORS: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    KeyError,
    IndexError,
    SyntaxError,
    TypeError,
    ValueError,
    OverflowError,
    NotImplementedError,
    OSError,
)


def short_message(exc: Exception) -> str:
    """The first clause of a reader's message, short enough for a sentence to the user."""
    text = str(exc).split(";")[0].strip()
    return text[:200]


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
        except csv.Error as exc:
            raise _not_csv(p, reader, exc) from None
        limits.check_columns(p, len(header))
        if len(set(header)) != len(header):
            dupes = sorted({h for h in header if header.count(h) > 1})
            raise InputFileError(
                f"{p}: the header repeats column name(s) {', '.join(dupes)}; rename them"
            )
        first = 1
        if head.count('"') % 2 == 0 and reader.line_num == 1:  # a one-line header
            fast = _ArrowChunks(p, encoding, delimiter, header, size)
            for chunk in fast:
                yield _checked(p, limits, chunk)
            if fast.done:
                return
            first = fast.first_row  # the rest as the csv module reads it
            for _ in itertools.islice(reader, first - 1):
                pass
        yield from _csv_chunks(p, reader, header, size, first, limits)


def _not_csv(p: Path, reader: Any, exc: csv.Error) -> InputFileError:
    return InputFileError(
        f"{p}: not a well-formed CSV at line {reader.line_num} ({exc}); save it again "
        "as CSV (UTF-8)"
    )


def _checked(p: Path, limits: Limits, chunk: TableChunk) -> TableChunk:
    """The chunk with its row count checked against the limit and police.uk rows unpacked."""
    limits.check_rows(p, chunk.first_row - 1 + len(chunk.frame))
    if set(chunk.frame.columns) >= POLICE_API_COLUMNS:
        chunk.frame = expand_police_api(chunk.frame)
    return chunk


def _csv_chunks(
    p: Path, reader: Any, header: list[str], size: int, first: int, limits: Limits
) -> Iterator[TableChunk]:
    """Records from ``first`` on, read by the csv module: the reader for what pyarrow leaves."""
    width = len(header)
    try:
        while True:
            records, ragged = _records(reader, size, width)
            if not records and first > 1:
                return
            frame = pd.DataFrame(records, columns=header, dtype=object)
            yield _checked(p, limits, TableChunk(frame, ragged, first))
            if len(records) < size:
                return
            first += len(records)
    except csv.Error as exc:
        raise _not_csv(p, reader, exc) from None


class _ArrowChunks:
    """The records pyarrow reads as the csv module would, in chunks (a third of the time, with no
    list per record). It stops at a chunk holding a record with another field count, or anything
    else it cannot parse, leaving ``done`` False and ``first_row`` at the first record not given:
    the csv module reads on from there, and explains."""

    def __init__(self, p: Path, encoding: str, delimiter: str, header: list[str], size: int):
        self.p, self.encoding, self.delimiter = p, encoding, delimiter
        self.header, self.size = header, size
        self.first_row, self.done = 1, False

    def __iter__(self) -> Iterator[TableChunk]:
        invalid: list[object] = []

        def on_invalid(row: object) -> str:
            invalid.append(row)
            return "skip"

        names = [f"c{i}" for i in range(len(self.header))]
        try:
            with open_text(
                self.p,
                encoding=self.encoding,
                delimiter=self.delimiter,
                header=names,
                columns=dict.fromkeys(names, pa.string()),
                block_bytes=block_size(self.p, self.size),
                on_invalid=on_invalid,
            ) as reader:

                def batches() -> Iterator[pa.RecordBatch]:
                    for batch in reader:
                        if invalid:
                            return
                        yield batch

                for table in rechunk(batches(), reader.schema, self.size):
                    if invalid:
                        return
                    frame = pd.DataFrame(
                        {
                            h: table.column(i).to_numpy(zero_copy_only=False)
                            for i, h in enumerate(self.header)
                        },
                        columns=self.header,
                        dtype=object,
                    )
                    yield TableChunk(frame, [""] * len(frame), self.first_row)
                    self.first_row += len(frame)
                self.done = not invalid
        except (pa.ArrowInvalid, UnicodeDecodeError):
            return


def _records(
    reader: Iterator[list[str]], size: int, width: int
) -> tuple[list[list[str]], list[str]]:
    """Up to ``size`` records, each padded or cut to ``width`` fields, and why each had another
    count ("" if right, or if it was blank): the count is checked for the chunk at once, and only
    the odd records are looked at one by one."""
    records = list(itertools.islice(reader, size))
    ragged = [""] * len(records)
    lengths = np.fromiter(map(len, records), dtype=np.int64, count=len(records))
    for i in np.flatnonzero(lengths != width).tolist():
        row = records[i]
        if any(c.strip() for c in row):
            ragged[i] = f"has {len(row)} fields where the header has {width}"
        records[i] = (row + [""] * width)[:width]
    return records, ragged


def _read_excel(p: Path, limits: Limits) -> TableChunk:
    import openpyxl  # here, not at the top: a CSV import need not load it
    from openpyxl.utils.exceptions import InvalidFileException

    errors = (InvalidFileException, *WORKBOOK_READ_ERRORS)
    try:
        book = openpyxl.load_workbook(p, read_only=True)
        sheet = book.worksheets[0]
        rows, columns = sheet.max_row or 0, sheet.max_column or 0
        book.close()
    except errors as exc:
        raise InputFileError(f"{p}: not a readable Excel workbook ({short_message(exc)})") from None
    limits.check_columns(p, columns)
    limits.check_rows(p, max(0, rows - 1))
    try:
        frame = pd.read_excel(p, dtype=str, keep_default_na=False, engine="openpyxl")
    except errors as exc:
        raise InputFileError(f"{p}: not a readable Excel workbook ({short_message(exc)})") from None
    # an error cell (#REF!) is missing, and pandas 3 keeps missing values missing under astype(str)
    frame = frame.fillna("").astype(str).replace({"nan": "", "None": ""})
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


def blank_rows(table: pd.DataFrame) -> np.ndarray:
    """Rows whose every cell is empty or spaces (a missing cell is not), in time linear in the
    cells however wide the table: each column is looked at only in the rows still blank so far,
    which after the first column of a real table is almost none."""
    blank = np.ones(len(table), dtype=bool)
    for j in range(table.shape[1]):
        rows = np.flatnonzero(blank)
        if not len(rows):
            break
        cells = table.iloc[:, j].to_numpy(dtype=object)[rows]
        blank[rows] = [not str(v).strip() for v in cells]
    return blank
