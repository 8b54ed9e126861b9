"""Is a recorded breach a breach? Each is checked against its order's scope and the period the
notice or order was in force at that time (s.86: breach of a notice or order is an offence)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from shapely.geometry.base import BaseGeometry

from .dates import DateError, parse_datetime
from .timeline import Timeline

#: The forms exact enough to place a breach in or out of a period in force (date alone: midnight).
EXACT_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d")

SCOPE_TOLERANCE_M = 1.0


@dataclass
class BreachCheck:
    inside_scope: bool
    distance_m: float
    in_force: str | None  # "notice", "order" or None
    flags: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.flags


def periods(
    t: Timeline | None, notice_issued: datetime | None, order_made_at: datetime | None
) -> list[tuple[datetime, datetime, str]]:
    """When the notice and the order were in force: [start, end) with a label."""
    out: list[tuple[datetime, datetime, str]] = []
    if t is None:
        return out
    if notice_issued is not None and t.notice_expires is not None:
        out.append((notice_issued, t.notice_extended_until or t.notice_expires, "notice"))
    if order_made_at is not None and t.order_expires is not None:
        out.append(
            (
                order_made_at,
                datetime.combine(t.order_expires, time.min) + timedelta(days=1),
                "order",
            )
        )
    return out


def check_breach(
    point: BaseGeometry,
    when: str | None,
    scope: BaseGeometry,
    in_force: list[tuple[datetime, datetime, str]],
    tolerance_m: float = SCOPE_TOLERANCE_M,
) -> BreachCheck:
    """Flags a breach recorded outside the scope (beyond ``tolerance_m``) or outside every period in
    force."""
    distance = float(point.distance(scope))
    flags: list[str] = []
    inside = distance <= tolerance_m
    if not inside:
        flags.append(f"recorded {distance:.1f} m outside the order's scope")
    label = None
    stamp = None
    if when:
        with contextlib.suppress(DateError):
            stamp = parse_datetime(str(when)[:19], "breach time", formats=EXACT_FORMATS)
    if stamp is None:
        flags.append(f"time '{when}' is not exact enough to show the notice or order was in force")
    elif not in_force:
        flags.append("no notice or order dates are recorded for this order")
    else:
        label = next((name for start, end, name in in_force if start <= stamp < end), None)
        if label is None:
            spans = "; ".join(
                f"{name} {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}"
                for start, end, name in in_force
            )
            flags.append(
                f"at {stamp:%Y-%m-%d %H:%M} neither the notice nor the order was in force ({spans})"
            )
    return BreachCheck(inside, distance, label, flags)
