"""The clock the Act counts in: London wall-clock times, real elapsed hours, Christmas Day left out.

Notices and orders are written in Europe/London local time; the Act's hours are real hours, so a
48-hour notice issued the day before the clocks go back ends at 11:00, not 12:00. Pure functions
of the datetimes given: nothing here reads the clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

#: Notices and orders are written in local time; the Act's hours are real elapsed hours.
LONDON = ZoneInfo("Europe/London")


def to_utc(local: datetime) -> datetime:
    """A Europe/London wall-clock time (naive) as naive UTC.

    In the repeated hour when the clocks go back, the first (summer-time) reading is taken; a time
    in the hour skipped in March is read as winter time (zoneinfo's ``fold=0``).
    """
    aware = local if local.tzinfo is not None else local.replace(tzinfo=LONDON)
    return aware.astimezone(UTC).replace(tzinfo=None)


def to_london(utc: datetime) -> datetime:
    """Naive UTC as a naive Europe/London wall-clock time."""
    return utc.replace(tzinfo=UTC).astimezone(LONDON).replace(tzinfo=None)


def add_elapsed_hours(start: datetime, hours: float) -> datetime:
    """``start`` (London wall clock) plus ``hours`` of real time, across a clock change.

    >>> add_elapsed_hours(datetime(2025, 10, 25, 12, 0), 48)  # the clocks go back on the 26th
    datetime.datetime(2025, 10, 27, 11, 0)
    """
    return to_london(to_utc(start) + timedelta(hours=hours))


def _christmas_overlap(start: datetime, end: datetime) -> timedelta:
    total = timedelta(0)
    for year in range(start.year, end.year + 1):
        c0 = datetime(year, 12, 25)
        c1 = c0 + timedelta(days=1)
        lo, hi = max(start, c0), min(end, c1)
        if hi > lo:
            total += hi - lo
    return total


def add_hours_skipping_christmas(start: datetime, hours: float) -> datetime:
    """``start`` plus ``hours`` of real time, with Christmas Day disregarded (s.77(3), s.80(4)).

    Counted in UTC so a clock change neither adds nor takes an hour; Christmas Day is in winter
    time, when London's clock and UTC agree.

    >>> add_hours_skipping_christmas(datetime(2024, 12, 24, 12), 24)
    datetime.datetime(2024, 12, 26, 12, 0)
    """
    begin = to_utc(start)
    end = begin + timedelta(hours=hours)
    while True:
        extended = begin + timedelta(hours=hours) + _christmas_overlap(begin, end)
        if extended == end:
            return to_london(end)
        end = extended
