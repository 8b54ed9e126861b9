"""The date window of a summary: which incidents fall between ``--from`` and ``--to`` (days
inclusive), read from the ISO text closuremap stores, or from days already parsed.

A police.uk month counts only when it lies wholly in the window; a date that cannot be read is
counted as undated, never guessed into or out of the window.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from .errors import ClosuremapError

_MONTH = re.compile(r"\d{4}-\d{2}")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class SummariseError(ClosuremapError):
    """Areas, ids or a date window that cannot be summarised; the message says how to fix it."""


def parse_day(text: str, what: str) -> date:
    """A day given as ``YYYY-MM-DD`` (``--from``/``--to``).

    >>> parse_day("2024-04-30", "--to")
    datetime.date(2024, 4, 30)
    """
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise SummariseError(
            f"{what} '{text}' is not a date: use YYYY-MM-DD, e.g. 2024-04-30"
        ) from None


def _month_end(month: str) -> str | None:
    """The last day of a ``YYYY-MM`` month as ISO text, None for a month that does not exist."""
    year, number = int(month[:4]), int(month[5:7])
    if not 1 <= number <= 12:
        return None
    return date(year, number, calendar.monthrange(year, number)[1]).isoformat()


def window_mask(
    occurred_at: ArrayLike, date_from: date | None, date_to: date | None
) -> tuple[NDArray[np.bool_], dict[str, int]]:
    """Which incidents fall in the window ``[date_from, date_to]`` (days inclusive; either open).

    Dates are ISO text as closuremap stores them: a day or date-time (the day written counts, any
    time-zone offset aside), or a police.uk month ``YYYY-MM``, which counts only when the whole
    month lies in the window (its day is not known). Returns the mask and how many were out of the
    window, undated (no readable date, so not known to be in it) and months straddling an edge.

    >>> mask, why = window_mask(["2024-03-31T23:59", "2024-04", "2024-05", None], date(2024, 4, 1),
    ...                         date(2024, 4, 30))
    >>> mask.tolist(), why
    ([False, True, False, False], {'out_of_window': 2, 'undated': 1, 'month_straddling': 0})
    >>> window_mask(["2024-04"], date(2024, 4, 15), None)[1]["month_straddling"]
    1
    """
    if date_from is not None and date_to is not None and date_from > date_to:
        raise SummariseError(
            f"--from {date_from} is after --to {date_to}: give the earlier date first"
        )
    series = (
        occurred_at
        if isinstance(occurred_at, pd.Series)
        else pd.Series(np.asarray(occurred_at, dtype=object))
    )
    series = series.reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(series):
        text = series.dt.strftime("%Y-%m-%d").astype("string")
    else:
        text = series.astype("string").str.strip()
    head = text.str.slice(0, 10)
    day = head.where(head.str.fullmatch(_DAY.pattern).fillna(False).astype(bool))
    month = text.where(text.str.fullmatch(_MONTH.pattern).fillna(False).astype(bool))
    ends = {m: _month_end(m) for m in month.dropna().unique()}
    month_end = month.map(ends).astype("string")
    month = month.where(month_end.notna())
    lo = day.fillna(
        month + "-01"
    )  # the first day the date may stand for (ISO text sorts as dates do)
    hi = day.fillna(month_end)  # and the last
    dated = lo.notna().to_numpy(dtype=bool)
    start = date_from.isoformat() if date_from else "0000-00-00"
    end = date_to.isoformat() if date_to else "9999-99-99"
    inside = ((lo >= start) & (hi <= end)).fillna(False).to_numpy(dtype=bool)
    meets = ((hi >= start) & (lo <= end)).fillna(False).to_numpy(dtype=bool)
    straddling = dated & meets & ~inside  # only a month can meet the window without lying inside it
    return inside, {
        "out_of_window": int((dated & ~meets).sum()),
        "undated": int((~dated).sum()),
        "month_straddling": int(straddling.sum()),
    }


def day_window(
    days: ArrayLike, date_from: date | None, date_to: date | None
) -> tuple[NDArray[np.bool_], dict[str, int]]:
    """:func:`window_mask` for days already read (``datetime64``, ``NaT`` for no date): the same
    mask and counts without writing a million dates as text and reading them back.

    >>> day_window(np.array(["2024-03-31", "2024-04-02", "NaT"], dtype="datetime64[D]"),
    ...            date(2024, 4, 1), None)
    (array([False,  True, False]), {'out_of_window': 1, 'undated': 1, 'month_straddling': 0})
    """
    if date_from is not None and date_to is not None and date_from > date_to:
        raise SummariseError(
            f"--from {date_from} is after --to {date_to}: give the earlier date first"
        )
    day = np.asarray(days, dtype="datetime64[D]")
    dated = ~np.isnat(day)
    inside = dated.copy()
    if date_from is not None:
        inside &= day >= np.datetime64(date_from, "D")
    if date_to is not None:
        inside &= day <= np.datetime64(date_to, "D")
    return inside, {
        "out_of_window": int((dated & ~inside).sum()),
        "undated": int((~dated).sum()),
        "month_straddling": 0,  # a day either lies in the window or not
    }
