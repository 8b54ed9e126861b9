"""The date window of a summary over an incidents CSV read in chunks: each chunk's dates read as
the importer reads them (``layers.coercion.iso_dates``), then judged against ``--from``/``--to``.

ISO text (a day, a date-time, a police.uk month) is judged as written (``geo.summarise_window.
window_mask``); any other form is read with the forms UK exports use (``geo.dates``), the file's
first such date deciding which form is tried first, as the importer does for a whole column. A
form is tried first with pyarrow, and a date it reads is kept only when writing it back in that
form gives the text again (pyarrow rolls 31/02 over into March, pandas refuses it); whatever is
left is tried with pandas, the importer's reader.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from closuremap.geo.dates import UTC_OFFSET, formats_for
from closuremap.geo.summarise_window import day_window, window_mask

#: What ``iso_dates`` keeps as written.
ISO = r"^\d{4}-\d{2}(-\d{2}([T ]\d{2}:\d{2}.*)?)?$"
#: Cells the importer reads as no date at all.
NULL_TEXT = ["", "nan", "none", "null", "nat", "<na>"]
#: The fields :func:`_written` writes itself: the pyarrow kernel that gives each, and its width.
FIELDS = {
    "%d": ("day", 2),
    "%m": ("month", 2),
    "%Y": ("year", 4),
    "%H": ("hour", 2),
    "%M": ("minute", 2),
    "%S": ("second", 2),
}
MONTH_NAMES = {"%b": list(calendar.month_abbr)[1:], "%B": list(calendar.month_name)[1:]}
#: A cell that may end in a time-zone offset (``UTC_OFFSET`` is tried on those alone).
OFFSET_END = r"(Z|[+-]\d{2}:?\d{2})$"


def _written(stamps: pa.Array, fmt: str) -> pa.Array:
    """Date-times written in the form ``fmt``, zero-padded as strftime writes them: field by
    field with pyarrow's integer kernels (its strftime is a hundred times slower); any other
    directive goes to strftime."""
    pieces: list[pa.Array | str] = []
    for part in re.split(r"(%.)", fmt):
        if part in FIELDS:
            kernel, width = FIELDS[part]
            number = pc.cast(getattr(pc, kernel)(stamps), pa.string())
            pieces.append(pc.utf8_lpad(number, width=width, padding="0"))
        elif part in MONTH_NAMES:
            pieces.append(pa.array(MONTH_NAMES[part]).take(pc.subtract(pc.month(stamps), 1)))
        elif part.startswith("%"):
            return pc.strftime(stamps, format=fmt)
        elif part:
            pieces.append(part)
    return pc.binary_join_element_wise(*pieces, "")


def _parse(text: pa.Array, fmt: str) -> NDArray[np.datetime64]:
    """The days of ``text`` in the form ``fmt`` (NaT where it is not), as pandas reads them."""
    days = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[D]")
    left = np.ones(len(text), dtype=bool)
    try:
        stamps = pc.strptime(text, format=fmt, unit="s", error_is_null=True)
        again = _written(stamps, fmt)
        exact = np.asarray(
            pc.fill_null(pc.equal(again, text), False).to_numpy(zero_copy_only=False), dtype=bool
        )
        if exact.any():
            found = pc.cast(stamps.filter(pa.array(exact)), pa.date32())
            days[exact] = found.to_numpy(zero_copy_only=False).astype("datetime64[D]")
            left = ~exact
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass  # a form pyarrow does not know: pandas reads it all
    if left.any():
        rest = pd.Series(text.filter(pa.array(left)).to_numpy(zero_copy_only=False), dtype=object)
        parsed = pd.to_datetime(rest, format=fmt, errors="coerce")
        days[left] = parsed.to_numpy().astype("datetime64[D]")
    return days


class DateWindow:
    """Judges each chunk's date cells against the window; the first chunk with a date in a
    non-ISO form fixes the order the forms are tried in, for the rest of the file."""

    def __init__(self, date_from: date | None, date_to: date | None) -> None:
        self.date_from, self.date_to = date_from, date_to
        self.formats: list[str] | None = None

    def __call__(self, cells: pa.Array) -> tuple[NDArray[np.bool_], dict[str, int]]:
        """The mask of the cells in the window, and how many were out of it, undated or months
        straddling its edge (see ``geo.summarise_window.window_mask``)."""
        n = len(cells)
        text = pc.utf8_trim_whitespace(cells)
        iso = np.asarray(
            pc.match_substring_regex(text, ISO).to_numpy(zero_copy_only=False), dtype=bool
        )
        inside = np.zeros(n, dtype=bool)
        why = {"out_of_window": 0, "undated": 0, "month_straddling": 0}
        if iso.any():
            words = text.filter(pa.array(iso)).to_numpy(zero_copy_only=False)
            inside[iso], part = window_mask(words, self.date_from, self.date_to)
            why = {k: why[k] + part[k] for k in why}
        if iso.all():
            return inside, why
        other = np.flatnonzero(~iso)
        rest = text.take(pa.array(other))
        null = np.asarray(
            pc.is_in(pc.utf8_lower(rest), value_set=pa.array(NULL_TEXT)).to_numpy(
                zero_copy_only=False
            ),
            dtype=bool,
        )
        clean = rest
        offset = pc.match_substring_regex(pc.utf8_slice_codeunits(rest, -6), OFFSET_END)
        if pc.any(offset).as_py():  # the full pattern, slow on a million cells, where it may match
            cut = pc.replace_substring_regex(rest, UTC_OFFSET, r"\1")
            clean = pc.if_else(offset, cut, rest)
        days = np.full(len(other), np.datetime64("NaT"), dtype="datetime64[D]")
        remaining = ~null
        if remaining.any() and self.formats is None:
            first = clean.filter(pa.array(remaining))[0].as_py()
            self.formats = formats_for(str(first))
        for fmt in self.formats or []:
            if not remaining.any():
                break
            at = np.flatnonzero(remaining)
            found = _parse(clean.take(pa.array(at)), fmt)
            hit = ~np.isnat(found)
            days[at[hit]] = found[hit]
            remaining[at[hit]] = False
        inside[other], part = day_window(days, self.date_from, self.date_to)
        return inside, {k: why[k] + part[k] for k in why}
