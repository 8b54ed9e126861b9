"""A delimited text file read by pyarrow's C++ parser, a chunk of rows at a time, as text.

The importer (:mod:`.tabular`) and the summary (:mod:`.summarise_read`) both read a CSV this way:
Python's csv module makes a list per record and a str per cell before pandas sees any of it,
which was a third of a million-row import. pyarrow parses a block of bytes at once. It is asked
only for what the csv module would give the same answer to (the header is read by the csv module;
a record with the wrong number of fields is reported through ``on_invalid``, for the caller to
read the rest its own way), so every cell it returns is the text the csv module gives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv


def block_size(path: Path, chunk_rows: int) -> int:
    """Bytes pyarrow reads at a time: about one chunk of rows, judged by the file's first rows."""
    with path.open("rb") as f:
        sample = f.read(1 << 16)
    per_row = len(sample) / max(1, sample.count(b"\n"))
    return int(min(256 << 20, max(1 << 20, per_row * chunk_rows * 1.2)))


def arrow_encoding(encoding: str) -> str:
    """pyarrow's name for a Python codec name (its UTF-8 reader skips a byte-order mark)."""
    return "utf8" if encoding.replace("-", "").lower() in ("utf8", "utf8sig") else encoding


def open_text(
    path: Path,
    *,
    encoding: str,
    delimiter: str,
    header: list[str],
    columns: dict[str, pa.DataType],
    block_bytes: int,
    on_invalid: Callable[..., str],
) -> pacsv.CSVStreamingReader:
    """A streaming reader of ``columns`` (name: type) after the one-line header: every line is a
    record (a blank one too, as the csv module counts them), an empty cell is "" not null, and a
    record whose field count is not the header's goes to ``on_invalid``."""
    return pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(
            column_names=header,
            skip_rows=1,
            block_size=block_bytes,
            encoding=arrow_encoding(encoding),
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter,
            newlines_in_values=True,
            ignore_empty_lines=False,  # a blank line is a row, as the importer counts them
            invalid_row_handler=on_invalid,
        ),
        convert_options=pacsv.ConvertOptions(
            include_columns=list(columns),
            column_types=columns,
            null_values=[""],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def rechunk(
    batches: Iterator[pa.RecordBatch], schema: pa.Schema, chunk_rows: int, *, final: bool = True
) -> Iterator[pa.Table]:
    """The batches as tables of exactly ``chunk_rows`` rows, and the rest (if any) last; with
    ``final`` an empty table when there were no rows at all."""
    pending: list[pa.RecordBatch] = []
    waiting, given = 0, 0
    for batch in batches:
        pending.append(batch)
        waiting += batch.num_rows
        while waiting >= chunk_rows:
            table = pa.Table.from_batches(pending, schema=schema)
            yield table.slice(0, chunk_rows)
            given += chunk_rows
            rest = table.slice(chunk_rows)
            pending, waiting = rest.to_batches(), rest.num_rows
    if waiting or (final and not given):
        yield pa.Table.from_batches(pending, schema=schema)
