"""The one CSV writer: every CSV closuremap writes (exports, rejects, recipients, checklists,
geocoder output) goes through :func:`csv_bytes`, so each is read back cell for cell by any reader.

- RFC 4180: records end in CRLF, and a cell holding a comma, a quote, CR or LF is quoted; pandas'
  default ``\\n`` terminator leaves a bare ``\\r`` unquoted, which splits the record for Excel.
- Spreadsheet formula injection (OWASP): a text cell starting with ``= + - @``, tab or CR is
  prefixed with ``'`` so a spreadsheet shows it instead of running it. Numbers are left alone
  ("-0.1034" is a longitude, not a formula).
"""

from __future__ import annotations

import csv
import io
import math
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def neutralise(value: object) -> str:
    """A cell as text, with a formula-looking text cell made inert.

    >>> neutralise("=HYPERLINK(\\"x\\")"), neutralise("-0.1034"), neutralise(None)
    ('\\'=HYPERLINK("x")', '-0.1034', '')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    text = str(value)
    if text.startswith(FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The table as RFC 4180 CSV (UTF-8), header first, every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow([neutralise(c) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        writer.writerow([neutralise(v) for v in row])
    return buffer.getvalue().encode("utf-8")


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write the table as :func:`csv_bytes`, to a temporary file renamed into place when
    complete."""
    return write_csv_rows(
        path, [str(c) for c in frame.columns], frame.itertuples(index=False, name=None)
    )


def write_csv_rows(
    path: str | Path, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> Path:
    """Write rows as they come (a million rejects need not be held at once), in the same dialect
    as :func:`csv_bytes`, to a temporary file renamed into place only when complete."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
            writer.writerow([neutralise(c) for c in header])
            writer.writerows([neutralise(v) for v in row] for row in rows)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
