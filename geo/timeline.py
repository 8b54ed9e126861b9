"""The legal timeline of a closure notice and order (ASBCPA 2014 ss.76-90).

Pure functions of the dates given: nothing here reads the clock (style: I/O at the edges). Every
rule cites its section; ``shared/domain/closure-powers.md`` holds the rules table (IDs N1-C3).
Not legal advice: where the reference marks a rule UNCONFIRMED, we implement the plain reading and
say so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from .clock import add_elapsed_hours, add_hours_skipping_christmas, to_utc
from .errors import ClosuremapError

# Police ranks in order of seniority (s.76(1), s.77(2)); Met titles sit beside their equivalents.
_POLICE_RANKS: list[tuple[int, tuple[str, ...]]] = [
    (1, ("constable", "pc", "police constable")),
    (2, ("sergeant", "ps", "police sergeant")),
    (3, ("inspector", "insp")),
    (4, ("chief inspector", "ci", "chief insp")),
    (5, ("superintendent", "supt", "superintendant")),
    (6, ("chief superintendent", "ch supt", "chief supt")),
    (7, ("assistant chief constable", "acc", "commander", "cmdr")),
    (8, ("deputy chief constable", "dcc", "deputy assistant commissioner", "dac")),
    (9, ("chief constable", "assistant commissioner", "deputy commissioner", "commissioner")),
]
INSPECTOR, SUPERINTENDENT = 3, 5
#: What the orders page offers for "authorised by": each may issue a notice (s.76(1)); the
#: superintendent and above, and the chief executive, may authorise 48 hours (s.77(2)).
AUTHORITY_CHOICES = (
    "Inspector",
    "Chief Inspector",
    "Superintendent",
    "Chief Superintendent",
    "Commander",
    "Local authority",
    "Local authority chief executive (or designate)",
)

NOTICE_DEFAULT_HOURS = 24  # s.77(1)
NOTICE_MAX_HOURS = 48  # s.77(2), s.77(4)
HEARING_HOURS = 48  # s.80(3)
ADJOURN_MAX_DAYS = 14  # s.81(3)
ORDER_MAX_MONTHS = 3  # s.80(6)
EXTENSION_MAX_MONTHS = 3  # s.82(7)
ORDER_TOTAL_MAX_MONTHS = 6  # s.82(8)
APPEAL_DAYS = 21  # s.84
COMPENSATION_MONTHS = 3  # s.90


class TimelineError(ClosuremapError):
    """Dates or a rank that cannot be read."""


@dataclass(frozen=True)
class Authority:
    """Who authorised a notice: a police rank (level 1-9) or a local authority (and whether its
    chief executive or their designate signed)."""

    text: str
    police_level: int | None
    local_authority: bool
    chief_executive: bool

    @property
    def may_issue(self) -> bool:
        """s.76(1): an inspector or above, or the local authority."""
        return self.local_authority or (self.police_level or 0) >= INSPECTOR

    @property
    def may_authorise_48h(self) -> bool:
        """s.77(2): a superintendent or above, or the LA's chief executive or their designate."""
        return (self.police_level or 0) >= SUPERINTENDENT or (
            self.local_authority and self.chief_executive
        )


_RANK_ABBREVIATIONS = {
    "di": "inspector",
    "dci": "chief inspector",
    "ds": "sergeant",
    "dc": "constable",
    "dsupt": "superintendent",
    "dcsupt": "chief superintendent",
}


def parse_authority(text: str) -> Authority:
    """A rank or authority as typed: 'Supt', 'DI', 'T/Insp', 'Borough Commander', 'local authority',
    'LA chief executive', 'council (designate of the chief executive)'.

    Police ranks are read first, so 'Borough Commander' is a commander; detective and temporary or
    acting ranks are the same ranks in law.
    """
    t = re.sub(r"[^a-z ]+", " ", text.lower()).strip()
    t = re.sub(r"\s+", " ", t)
    words = [
        w for w in t.split(" ") if w not in ("detective", "det", "acting", "temporary", "t", "a")
    ]
    bare = " ".join(_RANK_ABBREVIATIONS.get(w, w) for w in words)
    names = sorted(
        ((name, level) for level, group in _POLICE_RANKS for name in group),
        key=lambda x: -len(x[0]),
    )
    for name, level in names:
        if re.search(rf"(^| ){re.escape(name)}( |$)", bare):
            return Authority(text, level, False, False)
    if re.search(r"\b(local authority|council|la|borough)\b", t):
        chief = bool(re.search(r"chief executive|\bceo\b|designate|designated", t))
        return Authority(text, None, True, chief)
    raise TimelineError(
        f"'{text}' is not a rank or authority I know; use e.g. Inspector, Chief Inspector, "
        "Superintendent, Chief Superintendent, 'local authority' or 'local authority chief "
        "executive'"
    )


@dataclass(frozen=True)
class Violation:
    rule: str
    section: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "section": self.section, "message": self.message}


@dataclass
class Timeline:
    """The deadlines that follow from a notice and order, and any rule they break."""

    notice_expires: datetime | None = None
    notice_extended_until: datetime | None = None
    hearing_deadline: datetime | None = None
    adjournment_limit: datetime | None = None
    order_expires: date | None = None
    latest_possible_end: date | None = None
    appeal_deadline: date | None = None
    compensation_deadline: date | None = None
    violations: list[Violation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        def iso(v: date | datetime | None) -> str | None:
            return (
                None
                if v is None
                else v.isoformat(timespec="minutes")
                if isinstance(v, datetime)
                else v.isoformat()
            )

        return {
            "notice_expires": iso(self.notice_expires),
            "notice_extended_until": iso(self.notice_extended_until),
            "hearing_deadline": iso(self.hearing_deadline),
            "adjournment_limit": iso(self.adjournment_limit),
            "order_expires": iso(self.order_expires),
            "latest_possible_end": iso(self.latest_possible_end),
            "appeal_deadline": iso(self.appeal_deadline),
            "compensation_deadline": iso(self.compensation_deadline),
            "violations": [v.as_dict() for v in self.violations],
            "notes": self.notes,
        }


def _notice_rules(t: Timeline, authority: Authority | None, notice_hours: int) -> None:
    """Who may issue a notice and for how long (s.76(1), s.77(1)-(2))."""
    add = t.violations.append
    if authority is None:
        t.notes.append("no issuing rank or authority given: s.76(1) and s.77(2) not checked")
    elif not authority.may_issue:
        add(
            Violation(
                "N1",
                "s.76(1)",
                f"a closure notice is issued by an inspector or above, or the local "
                f"authority; '{authority.text}' may not issue one",
            )
        )
    if notice_hours <= 0 or notice_hours > NOTICE_MAX_HOURS:
        add(
            Violation(
                "N3",
                "s.77(1)-(2)",
                f"a notice lasts 24 hours, or up to 48 with authority; "
                f"{notice_hours} hours is not allowed",
            )
        )
    elif (
        notice_hours > NOTICE_DEFAULT_HOURS
        and authority is not None
        and not authority.may_authorise_48h
    ):
        add(
            Violation(
                "N4",
                "s.77(2)",
                f"a notice of more than 24 hours needs a superintendent or above (or the "
                f"LA chief executive or designate); '{authority.text}' is not enough",
            )
        )
    if (
        notice_hours not in (NOTICE_DEFAULT_HOURS, NOTICE_MAX_HOURS)
        and 0 < notice_hours < NOTICE_MAX_HOURS
    ):
        t.notes.append(
            f"a notice of {notice_hours} hours: s.77 provides for 24 hours, or up to 48 with a "
            "superintendent's (or the chief executive's) authority; check the period on the notice "
            "and who authorised it"
        )


def _notice_expiry(notice_issued: datetime, notice_hours: int) -> datetime:
    """When the notice ends.

    s.77(3): Christmas Day is disregarded in the 48-hour period of subsection (2); a 24-hour
    notice runs by the clock (our reading of the Act's text: the rule names only the 48 hours).
    """
    if notice_hours > NOTICE_DEFAULT_HOURS:
        return add_hours_skipping_christmas(notice_issued, notice_hours)
    return add_elapsed_hours(notice_issued, notice_hours)


def _extension_rules(
    t: Timeline,
    notice_issued: datetime,
    notice_hours: int,
    extension_hours: int,
    authority: Authority | None,
) -> None:
    """An extended notice: 48 hours in all, on a superintendent's authority (s.77(4))."""
    if notice_hours + extension_hours > NOTICE_MAX_HOURS:
        t.violations.append(
            Violation(
                "N5",
                "s.77(4)",
                f"an extension may take a notice to 48 hours in all; "
                f"{notice_hours} + {extension_hours} hours is more",
            )
        )
    if authority is not None and not authority.may_authorise_48h:
        t.violations.append(
            Violation(
                "N5",
                "s.77(4)",
                f"extending a notice needs a superintendent or above (or the LA chief "
                f"executive or designate); '{authority.text}' is not enough",
            )
        )
    t.notice_extended_until = add_hours_skipping_christmas(
        notice_issued, notice_hours + extension_hours
    )


def _hearing_rules(
    t: Timeline, notice_issued: datetime, notice_served: datetime, hearing_at: datetime | None
) -> None:
    """Service while the notice is in force (s.79), and the hearing within 48 hours of it
    (s.80(3)-(4)), or an adjournment of at most 14 days (s.81(3))."""
    add = t.violations.append
    if to_utc(notice_served) < to_utc(notice_issued):
        add(Violation("N12", "s.79", "the notice is recorded as served before it was issued"))
    end = t.notice_extended_until or t.notice_expires
    if end is not None and to_utc(notice_served) >= to_utc(end):
        add(Violation("N12", "s.79", "the notice is recorded as served after it had expired"))
    t.hearing_deadline = add_hours_skipping_christmas(notice_served, HEARING_HOURS)
    t.adjournment_limit = t.hearing_deadline + timedelta(days=ADJOURN_MAX_DAYS)
    if hearing_at is not None and to_utc(hearing_at) > to_utc(t.hearing_deadline):
        add(
            Violation(
                "O2",
                "s.80(3)",
                f"the application must be heard within 48 hours of service (Christmas "
                f"Day disregarded): by {t.hearing_deadline:%Y-%m-%d %H:%M}",
            )
        )


def _order_months(t: Timeline, order_months: int | None, extension_months: list[int]) -> int:
    """The order's length with its extensions, in months: at most 3, 3 each and 6 in all
    (s.80(6), s.82(7)-(8)). No length given is taken as the maximum, and said so."""
    add = t.violations.append
    months = order_months if order_months is not None else ORDER_MAX_MONTHS
    if order_months is None:
        t.notes.append("no order length given: taken as the 3-month maximum (s.80(6))")
    if months <= 0 or months > ORDER_MAX_MONTHS:
        add(
            Violation(
                "O4", "s.80(6)", f"an order lasts at most 3 months; {months} months is not allowed"
            )
        )
    total = months
    for n in extension_months:
        if n <= 0 or n > EXTENSION_MAX_MONTHS:
            add(
                Violation(
                    "O9",
                    "s.82(7)",
                    f"each extension is at most 3 months; {n} months is not allowed",
                )
            )
        total += n
    if total > ORDER_TOTAL_MAX_MONTHS:
        add(
            Violation(
                "O9",
                "s.82(8)",
                f"an order with its extensions lasts at most 6 months in all; "
                f"{total} months is more",
            )
        )
    return total


def _order_rules(
    t: Timeline,
    notice_issued: datetime,
    order_made: date,
    order_months: int | None,
    extension_months: list[int],
) -> None:
    """An order made after the notice, by the end of any adjournment, and the dates it sets: its
    end, the latest end with every extension, the appeal (s.84) and compensation (s.90)."""
    if order_made < notice_issued.date():
        t.violations.append(
            Violation("O1", "s.80(1)", "the order is recorded as made before the notice was issued")
        )
    if t.adjournment_limit is not None and order_made > t.adjournment_limit.date():
        t.violations.append(
            Violation(
                "O8",
                "s.81(3)",
                f"an order follows the hearing, or an adjournment of at most 14 days: "
                f"by {t.adjournment_limit:%Y-%m-%d}",
            )
        )
    total = _order_months(t, order_months, extension_months)
    t.order_expires = order_made + relativedelta(months=total)
    t.latest_possible_end = order_made + relativedelta(months=ORDER_TOTAL_MAX_MONTHS)
    t.appeal_deadline = order_made + timedelta(days=APPEAL_DAYS)
    t.compensation_deadline = t.order_expires + relativedelta(months=COMPENSATION_MONTHS)


def timeline(
    *,
    notice_issued: datetime,
    notice_served: datetime | None = None,
    notice_hours: int = 24,
    authorised_by: str | None = None,
    notice_extension_hours: int = 0,
    extension_authorised_by: str | None = None,
    hearing_at: datetime | None = None,
    order_made: date | None = None,
    order_months: int | None = None,
    extension_months: list[int] | None = None,
) -> Timeline:
    """Every deadline that follows from the dates given, with the rules they break.

    The rules run in the order of the Act (the notice, its extension, service and hearing, the
    order), so the violations and notes read in that order too.
    """
    t = Timeline()
    authority = parse_authority(authorised_by) if authorised_by else None
    _notice_rules(t, authority, notice_hours)
    t.notice_expires = _notice_expiry(notice_issued, notice_hours)
    if notice_extension_hours:
        ext_auth = (
            parse_authority(extension_authorised_by) if extension_authorised_by else authority
        )
        _extension_rules(t, notice_issued, notice_hours, notice_extension_hours, ext_auth)
    if notice_served is not None:
        _hearing_rules(t, notice_issued, notice_served, hearing_at)
    elif hearing_at is not None or order_made is not None:
        t.notes.append(
            "no service time given: the 48-hour hearing deadline (s.80(3)) cannot be checked"
        )
    if order_made is not None:
        _order_rules(t, notice_issued, order_made, order_months, extension_months or [])
    elif extension_months:
        t.violations.append(
            Violation(
                "O9",
                "s.82",
                "an order can be extended only once it has been made: give --order-made",
            )
        )
    return t


def next_deadline(t: Timeline, now: datetime) -> tuple[str, datetime] | None:
    """The next deadline after ``now``, for the urgency list."""
    items: list[tuple[str, datetime]] = []
    for name in ("notice_expires", "notice_extended_until", "hearing_deadline"):
        v = getattr(t, name)
        if v is not None:
            items.append((name, v))
    for name in ("order_expires", "appeal_deadline"):
        v = getattr(t, name)
        if v is not None:
            items.append((name, datetime.combine(v, time.min)))
    future = [(n, v) for n, v in items if v > now]
    return min(future, key=lambda x: x[1]) if future else None


#: Each deadline of a timeline, in words, with the section it comes from.
DEADLINES: dict[str, tuple[str, str]] = {
    "notice_expires": ("Closure notice expires", "s.77(1)-(3)"),
    "notice_extended_until": ("Extended notice expires", "s.77(4)"),
    "hearing_deadline": ("Application heard by (48 hours after service)", "s.80(3)-(4)"),
    "adjournment_limit": ("Adjourned hearing by (at most 14 days)", "s.81(3)"),
    "order_expires": ("Closure order expires", "s.80(6), s.82(7)"),
    "latest_possible_end": ("Latest end with every extension (6 months)", "s.82(8)"),
    "appeal_deadline": ("Appeal to the Crown Court by (21 days)", "s.84"),
    "compensation_deadline": ("Compensation claims by (3 months)", "s.90"),
}


def deadline_rows(t: Timeline, now: datetime) -> list[dict[str, Any]]:
    """The timeline as a table an officer reads: what, when, the section, and days left (negative
    once passed), soonest first."""
    rows = []
    for name, (what, section) in DEADLINES.items():
        value = getattr(t, name)
        if value is None:
            continue
        due = value if isinstance(value, datetime) else datetime.combine(value, time.min)
        days = (to_utc(due) - to_utc(now)).total_seconds() / 86400
        rows.append({"deadline": what, "due": due, "section": section, "days_left": round(days, 1)})
    return sorted(rows, key=lambda r: r["due"])
