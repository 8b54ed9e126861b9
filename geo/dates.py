"""Reading the dates people type and exports write: one list of forms, for a date typed on the
command line or a page and for a whole column of an imported file.

UK forms are day first (``24/12/2024`` is Christmas Eve; ``12/24/2024`` is refused, not guessed).
A trailing ``Z`` or UTC offset is dropped: times are read as the clock on the wall in London.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime

import numpy as np
from numpy.typing import NDArray

from .errors import ClosuremapError

DATETIME_FORMATS = (
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

#: What a date that cannot be read is told to look like.
DATE_HINT = "use YYYY-MM-DD or DD/MM/YYYY HH:MM"

#: A time followed by ``Z`` or a UTC offset (a regex for one value or a whole column, replaced by
#: its first group). Only after a time: the ``-2024`` of ``24-12-2024`` is a year, not an offset.
UTC_OFFSET = r"^(.*\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(?:Z|[+-]\d{2}:?\d{2})$"


class DateError(ClosuremapError):
    """A date or date-time that cannot be read."""


def without_offset(text: str) -> str:
    """``2024-12-24T10:00Z`` → ``2024-12-24T10:00``.

    >>> without_offset("2024-12-24T10:00+01:00")
    '2024-12-24T10:00'
    >>> without_offset("24-12-2024")
    '24-12-2024'
    """
    return re.sub(UTC_OFFSET, r"\1", text.strip())


def formats_for(first: str | None) -> list[str]:
    """The forms to try, the one the first value matches first: an export writes one form.

    >>> formats_for("24/12/2024")[0]
    '%d/%m/%Y'
    """
    formats = list(DATETIME_FORMATS)
    if first:
        for fmt in formats:
            try:
                datetime.strptime(first, fmt)
            except ValueError:
                continue
            formats.remove(fmt)
            return [fmt, *formats]
    return formats


def has_time(fmt: str) -> bool:
    return "%H" in fmt


def parse_datetime(text: str, what: str, formats: Sequence[str] = DATETIME_FORMATS) -> datetime:
    """A date-time (a date alone is taken as 00:00); ``what`` names the flag or field in the error.

    >>> parse_datetime("24/12/2024 10:00", "--notice-served")
    datetime.datetime(2024, 12, 24, 10, 0)
    """
    clean = without_offset(text)
    for fmt in formats:
        try:
            return datetime.strptime(clean, fmt)
        except ValueError:
            continue
    raise DateError(f"{what}: '{text}' is not a date-time I can read; use YYYY-MM-DDTHH:MM")


def parse_date(text: str, what: str) -> date:
    return parse_datetime(text, what).date()


#: The directives :func:`parse_fixed` reads, each a zero-padded number of this many digits.
_FIXED_WIDTH = {"d": 2, "m": 2, "Y": 4, "H": 2, "M": 2, "S": 2}
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _fixed_layout(fmt: str) -> list[tuple[str, int]] | None:
    """A format as (directive or literal character, width) parts, or None if it is not made only
    of zero-padded numbers and literal characters."""
    parts: list[tuple[str, int]] = []
    i = 0
    while i < len(fmt):
        if fmt[i] == "%":
            code = fmt[i + 1 : i + 2]
            if code not in _FIXED_WIDTH:
                return None
            parts.append(("%" + code, _FIXED_WIDTH[code]))
            i += 2
        else:
            parts.append((fmt[i], 1))
            i += 1
    return parts


def parse_fixed(
    values: NDArray[np.object_], fmt: str
) -> tuple[NDArray[np.datetime64], NDArray[np.bool_]]:
    """Date-times written exactly in ``fmt``'s zero-padded form (``03/01/2024 15:44`` for
    ``%d/%m/%Y %H:%M``), read by NumPy a column at a time; and which values were. A value not in
    that form, or not a real date (31/02), is left for :func:`datetime.strptime`'s rules (False),
    so a caller reads those the slow way and gets the same answer: this is a shortcut, never a
    second opinion. Formats with names (``%b``) or fractions (``%f``) are never read here.

    >>> stamps, ok = parse_fixed(np.array(["03/01/2024 15:44", "3/1/2024 15:44"], dtype=object),
    ...                          "%d/%m/%Y %H:%M")
    >>> str(stamps[0]), ok.tolist()
    ('2024-01-03T15:44:00', [True, False])
    """
    n = len(values)
    stamps = np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    ok = np.zeros(n, dtype=bool)
    layout = _fixed_layout(fmt)
    if layout is None or n == 0:
        return stamps, ok
    width = sum(w for _, w in layout)
    # one character more than the form: a longer value shows there; a shorter one is padded with
    # NULs, which no digit or separator test passes
    codes = np.asarray(values).astype(f"<U{width + 1}").view(np.uint32).reshape(n, width + 1)
    rows = np.arange(n)
    good = codes[:, width] == 0
    fields: dict[str, NDArray[np.int64]] = {}
    at = 0
    for part, w in layout:
        block = codes[:, at : at + w].astype(np.int64)
        if part.startswith("%"):
            digits = block - ord("0")
            good &= ((digits >= 0) & (digits <= 9)).all(axis=1)
            fields[part[1]] = (digits * 10 ** np.arange(w - 1, -1, -1)).sum(axis=1)
        else:
            good &= block[:, 0] == ord(part)
        at += w
    year = fields.get("Y", np.full(len(rows), 1900))
    month = fields.get("m", np.ones(len(rows), dtype=np.int64))
    day = fields.get("d", np.ones(len(rows), dtype=np.int64))
    hour, minute, second = (fields.get(c, np.zeros(len(rows), dtype=np.int64)) for c in "HMS")
    month_ok = (month >= 1) & (month <= 12)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days = _DAYS_IN_MONTH[np.where(month_ok, month, 0)] + (leap & (month == 2))
    good &= (year >= 1) & month_ok & (day >= 1) & (day <= days)
    good &= (hour <= 23) & (minute <= 59) & (second <= 59)
    if not good.any():
        return stamps, ok
    y, mo, d = year[good], month[good], day[good]
    months = (y - 1970) * 12 + (mo - 1)
    dates = months.astype("datetime64[M]").astype("datetime64[D]") + (d - 1).astype(
        "timedelta64[D]"
    )
    clock = hour[good] * 3600 + minute[good] * 60 + second[good]
    stamps[rows[good]] = dates.astype("datetime64[s]") + clock.astype("timedelta64[s]")
    ok[rows[good]] = True
    return stamps, ok
