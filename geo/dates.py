"""Reading the dates people type and exports write: one list of forms, for a date typed on the
command line or a page and for a whole column of an imported file.

UK forms are day first (``24/12/2024`` is Christmas Eve; ``12/24/2024`` is refused, not guessed).
A trailing ``Z`` or UTC offset is dropped: times are read as the clock on the wall in London.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime

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
