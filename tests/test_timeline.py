"""The legal timeline (geo/timeline.py): every rule of the rules table it implements, at its
boundary.

Rule IDs and sections follow shared/domain/closure-powers.md, section 1. Each limit has a case just
inside it (no violation of that rule) and just outside it (the violation, with its rule and
section).
Expected dates are written out by hand from the Act's text, not computed with the module's helpers.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from closuremap.geo.clock import add_elapsed_hours, add_hours_skipping_christmas, to_utc
from closuremap.geo.errors import ClosuremapError
from closuremap.geo.timeline import (
    Timeline,
    TimelineError,
    Violation,
    deadline_rows,
    next_deadline,
    parse_authority,
    timeline,
)

EXE = shutil.which("closuremap", path=str(Path(sys.executable).parent))

# A weekday in March: nowhere near Christmas, so plain clock arithmetic applies.
ISSUED = datetime(2024, 3, 4, 10, 0)
MINUTE = timedelta(minutes=1)


def rules(t: Timeline) -> list[tuple[str, str]]:
    return [(v.rule, v.section) for v in t.violations]


def rule_ids(t: Timeline) -> set[str]:
    return {v.rule for v in t.violations}


# ---------------------------------------------------------------------------------------------
# N1, s.76(1): a closure notice is issued by an inspector or above, or by the local authority.


def test_n1_inspector_may_issue_a_notice() -> None:
    t = timeline(notice_issued=ISSUED, authorised_by="Inspector")
    assert t.violations == []


def test_n1_sergeant_may_not_issue_a_notice() -> None:
    t = timeline(notice_issued=ISSUED, authorised_by="Sergeant")
    assert rules(t) == [("N1", "s.76(1)")]
    assert "Sergeant" in t.violations[0].message


def test_n1_local_authority_may_issue_a_notice() -> None:
    t = timeline(notice_issued=ISSUED, authorised_by="local authority")
    assert t.violations == []


@pytest.mark.parametrize(
    "rank, allowed",
    [
        ("Constable", False),
        ("PC", False),
        ("Sergeant", False),  # below the line
        ("Inspector", True),
        ("acting inspector", True),
        ("Chief Inspector", True),
        ("Supt", True),
        ("Commander", True),
        ("council", True),
    ],
)
def test_n1_issuer_rank_line_is_at_inspector(rank: str, allowed: bool) -> None:
    t = timeline(notice_issued=ISSUED, authorised_by=rank)
    assert ("N1" not in rule_ids(t)) is allowed


def test_n1_not_checked_without_an_authority_and_says_so() -> None:
    t = timeline(notice_issued=ISSUED, notice_hours=48)
    assert t.violations == []
    assert any("s.76(1)" in n and "s.77(2)" in n for n in t.notes)


# ---------------------------------------------------------------------------------------------
# N3, s.77(1): 24 hours at most by default. N4, s.77(2): up to 48 hours if issued by a
# superintendent or above, or signed by the LA's chief executive or their designate.


def test_n3_24_hour_notice_by_inspector_is_within_the_default() -> None:
    t = timeline(notice_issued=ISSUED, notice_hours=24, authorised_by="Inspector")
    assert t.violations == []
    assert t.notice_expires == datetime(2024, 3, 5, 10, 0)


def test_n4_25_hour_notice_by_inspector_needs_a_superintendent() -> None:
    t = timeline(notice_issued=ISSUED, notice_hours=25, authorised_by="Inspector")
    assert rules(t) == [("N4", "s.77(2)")]
    assert "Inspector" in t.violations[0].message


def test_n4_48_hour_notice_by_superintendent_is_allowed() -> None:
    t = timeline(notice_issued=ISSUED, notice_hours=48, authorised_by="Superintendent")
    assert t.violations == []
    assert t.notice_expires == datetime(2024, 3, 6, 10, 0)


def test_n4_48_hour_notice_by_chief_inspector_is_not_allowed() -> None:
    t = timeline(notice_issued=ISSUED, notice_hours=48, authorised_by="Chief Inspector")
    assert rules(t) == [("N4", "s.77(2)")]
    assert "Chief Inspector" in t.violations[0].message


def test_n4_48_hour_notice_signed_by_la_chief_executive_is_allowed() -> None:
    t = timeline(notice_issued=ISSUED, notice_hours=48, authorised_by="LA chief executive")
    assert t.violations == []


def test_n4_48_hour_notice_by_local_authority_without_chief_executive_is_not_allowed() -> None:
    t = timeline(notice_issued=ISSUED, notice_hours=48, authorised_by="local authority")
    assert rules(t) == [("N4", "s.77(2)")]


def test_n3_49_hour_notice_exceeds_the_maximum_even_for_a_superintendent() -> None:
    t = timeline(notice_issued=ISSUED, notice_hours=49, authorised_by="Superintendent")
    assert rules(t) == [("N3", "s.77(1)-(2)")]
    assert "49" in t.violations[0].message


def test_n3_49_hour_notice_by_inspector_is_reported_once_as_n3() -> None:
    t = timeline(notice_issued=ISSUED, notice_hours=49, authorised_by="Inspector")
    assert rules(t) == [("N3", "s.77(1)-(2)")]


@pytest.mark.parametrize("hours", [0, -1])
def test_n3_notice_of_no_time_is_not_allowed(hours: int) -> None:
    t = timeline(notice_issued=ISSUED, notice_hours=hours, authorised_by="Inspector")
    assert rules(t) == [("N3", "s.77(1)-(2)")]


# ---------------------------------------------------------------------------------------------
# N5, s.77(4): a 24-hour notice may be extended to 48 hours in all, with N4's seniority.


def test_n5_24_plus_24_hours_extended_by_superintendent_is_allowed() -> None:
    t = timeline(
        notice_issued=ISSUED,
        notice_hours=24,
        authorised_by="Inspector",
        notice_extension_hours=24,
        extension_authorised_by="Superintendent",
    )
    assert t.violations == []
    assert t.notice_expires == datetime(2024, 3, 5, 10, 0)
    assert t.notice_extended_until == datetime(2024, 3, 6, 10, 0)


def test_n5_24_plus_25_hours_exceeds_48_in_all() -> None:
    t = timeline(
        notice_issued=ISSUED,
        notice_hours=24,
        authorised_by="Inspector",
        notice_extension_hours=25,
        extension_authorised_by="Superintendent",
    )
    assert rules(t) == [("N5", "s.77(4)")]
    assert "24 + 25" in t.violations[0].message


def test_n5_extension_authorised_by_inspector_is_not_allowed() -> None:
    t = timeline(
        notice_issued=ISSUED,
        notice_hours=24,
        authorised_by="Inspector",
        notice_extension_hours=24,
        extension_authorised_by="Inspector",
    )
    assert rules(t) == [("N5", "s.77(4)")]
    assert "Inspector" in t.violations[0].message


def test_n5_extension_authority_defaults_to_the_issuer() -> None:
    by_supt = timeline(
        notice_issued=ISSUED,
        notice_hours=24,
        authorised_by="Superintendent",
        notice_extension_hours=24,
    )
    by_insp = timeline(
        notice_issued=ISSUED, notice_hours=24, authorised_by="Inspector", notice_extension_hours=24
    )
    assert by_supt.violations == []
    assert rules(by_insp) == [("N5", "s.77(4)")]


def test_n5_extension_signed_by_la_chief_executive_is_allowed() -> None:
    t = timeline(
        notice_issued=ISSUED,
        notice_hours=24,
        authorised_by="local authority",
        notice_extension_hours=24,
        extension_authorised_by="local authority chief executive",
    )
    assert t.violations == []


def test_n5_48_hour_notice_cannot_be_extended_further() -> None:
    t = timeline(
        notice_issued=ISSUED,
        notice_hours=48,
        authorised_by="Superintendent",
        notice_extension_hours=1,
    )
    assert rules(t) == [("N5", "s.77(4)")]


# ---------------------------------------------------------------------------------------------
# N6, s.77(3) and s.80(4): Christmas Day is disregarded when the 48-hour periods are counted.


def test_n6_48_hour_notice_issued_christmas_eve_skips_christmas_day() -> None:
    t = timeline(
        notice_issued=datetime(2024, 12, 24, 10), notice_hours=48, authorised_by="Superintendent"
    )
    assert t.notice_expires == datetime(2024, 12, 27, 10)


def test_n6_48_hour_notice_ending_before_christmas_runs_by_the_clock() -> None:
    t = timeline(
        notice_issued=datetime(2024, 12, 22, 10), notice_hours=48, authorised_by="Superintendent"
    )
    assert t.notice_expires == datetime(2024, 12, 24, 10)


def test_n6_48_hour_notice_ending_exactly_at_christmas_does_not_skip_it() -> None:
    t = timeline(
        notice_issued=datetime(2024, 12, 23, 0), notice_hours=48, authorised_by="Superintendent"
    )
    assert t.notice_expires == datetime(2024, 12, 25, 0)


def test_n6_24_hour_notice_runs_by_the_clock_over_christmas() -> None:
    # s.77(3) names only the 48-hour period; the module's documented reading.
    t = timeline(
        notice_issued=datetime(2024, 12, 24, 10), notice_hours=24, authorised_by="Inspector"
    )
    assert t.notice_expires == datetime(2024, 12, 25, 10)


@pytest.mark.parametrize(
    "served, deadline",
    [
        (
            datetime(2024, 12, 24, 23, 0),
            datetime(2024, 12, 27, 23, 0),
        ),  # all of Christmas Day inside
        (datetime(2024, 12, 24, 0, 0), datetime(2024, 12, 27, 0, 0)),
        (datetime(2024, 12, 26, 0, 0), datetime(2024, 12, 28, 0, 0)),  # starts just after Christmas
        # 48 h from 23 Dec 00:00 end at the first instant of Christmas Day: none of it is inside.
        (datetime(2024, 12, 23, 0, 0), datetime(2024, 12, 25, 0, 0)),
        # one minute later, one minute of Christmas Day would be inside: the whole day is skipped.
        (datetime(2024, 12, 23, 0, 1), datetime(2024, 12, 26, 0, 1)),
        (datetime(2024, 12, 22, 23, 59), datetime(2024, 12, 24, 23, 59)),
        # served on Christmas Day: the 48 hours start at 26 Dec 00:00.
        (datetime(2024, 12, 25, 10, 0), datetime(2024, 12, 28, 0, 0)),
        # a different year, and a period spanning the new year.
        (datetime(2023, 12, 24, 12, 0), datetime(2023, 12, 27, 12, 0)),
        (datetime(2024, 12, 30, 12, 0), datetime(2025, 1, 1, 12, 0)),
    ],
)
def test_n6_hearing_deadline_is_48_hours_after_service_christmas_disregarded(
    served: datetime, deadline: datetime
) -> None:
    t = timeline(
        notice_issued=served - timedelta(hours=1), notice_served=served, authorised_by="Inspector"
    )
    assert t.hearing_deadline == deadline


# ---------------------------------------------------------------------------------------------
# O2, s.80(3)-(4): the application is heard within 48 hours of service (N6 applies).


def test_o2_hearing_exactly_at_the_deadline_is_in_time() -> None:
    served = ISSUED + timedelta(hours=1)
    t = timeline(
        notice_issued=ISSUED,
        notice_served=served,
        authorised_by="Inspector",
        hearing_at=datetime(2024, 3, 6, 11, 0),
    )
    assert t.hearing_deadline == datetime(2024, 3, 6, 11, 0)
    assert t.violations == []


def test_o2_hearing_one_minute_after_the_deadline_is_late() -> None:
    served = ISSUED + timedelta(hours=1)
    t = timeline(
        notice_issued=ISSUED,
        notice_served=served,
        authorised_by="Inspector",
        hearing_at=datetime(2024, 3, 6, 11, 1),
    )
    assert rules(t) == [("O2", "s.80(3)")]
    assert "2024-03-06 11:00" in t.violations[0].message


def test_o2_hearing_over_christmas_at_the_deadline_is_in_time() -> None:
    t = timeline(
        notice_issued=datetime(2024, 12, 24, 10),
        notice_served=datetime(2024, 12, 24, 11),
        notice_hours=48,
        authorised_by="Superintendent",
        hearing_at=datetime(2024, 12, 27, 11, 0),
    )
    assert t.violations == []


def test_o2_hearing_over_christmas_one_minute_late() -> None:
    t = timeline(
        notice_issued=datetime(2024, 12, 24, 10),
        notice_served=datetime(2024, 12, 24, 11),
        notice_hours=48,
        authorised_by="Superintendent",
        hearing_at=datetime(2024, 12, 27, 11, 1),
    )
    assert rules(t) == [("O2", "s.80(3)")]


def test_o2_hearing_on_christmas_day_after_a_deadline_at_its_start_is_late() -> None:
    served = datetime(2024, 12, 23, 0, 0)
    on_time = timeline(
        notice_issued=served,
        notice_served=served,
        authorised_by="Inspector",
        hearing_at=datetime(2024, 12, 25, 0, 0),
    )
    late = timeline(
        notice_issued=served,
        notice_served=served,
        authorised_by="Inspector",
        hearing_at=datetime(2024, 12, 25, 0, 1),
    )
    assert on_time.violations == []
    assert rules(late) == [("O2", "s.80(3)")]


def test_o2_not_checked_without_service_and_says_so() -> None:
    t = timeline(
        notice_issued=ISSUED, authorised_by="Inspector", hearing_at=ISSUED + timedelta(days=30)
    )
    assert t.violations == []
    assert t.hearing_deadline is None
    assert any("s.80(3)" in n for n in t.notes)


# ---------------------------------------------------------------------------------------------
# N12, s.79: service happens while the notice is in force.


def test_n12_served_before_issued_is_flagged() -> None:
    t = timeline(notice_issued=ISSUED, notice_served=ISSUED - MINUTE, authorised_by="Inspector")
    assert rules(t) == [("N12", "s.79")]
    assert "before" in t.violations[0].message


def test_n12_served_at_the_moment_of_issue_is_fine() -> None:
    t = timeline(notice_issued=ISSUED, notice_served=ISSUED, authorised_by="Inspector")
    assert t.violations == []


def test_n12_served_one_minute_before_expiry_is_fine() -> None:
    t = timeline(
        notice_issued=ISSUED, notice_served=datetime(2024, 3, 5, 9, 59), authorised_by="Inspector"
    )
    assert t.violations == []


def test_n12_served_at_expiry_is_flagged() -> None:
    t = timeline(
        notice_issued=ISSUED, notice_served=datetime(2024, 3, 5, 10, 0), authorised_by="Inspector"
    )
    assert rules(t) == [("N12", "s.79")]
    assert "expired" in t.violations[0].message


def test_n12_service_counts_against_the_extended_expiry() -> None:
    t = timeline(
        notice_issued=ISSUED,
        notice_served=datetime(2024, 3, 5, 12, 0),
        authorised_by="Inspector",
        notice_extension_hours=24,
        extension_authorised_by="Superintendent",
    )
    assert t.violations == []


# ---------------------------------------------------------------------------------------------
# O4, s.80(6): an order lasts at most 3 months.


def test_o4_three_month_order_is_allowed() -> None:
    t = timeline(
        notice_issued=ISSUED, authorised_by="Inspector", order_made=date(2024, 3, 5), order_months=3
    )
    assert t.violations == []
    assert t.order_expires == date(2024, 6, 5)


def test_o4_four_month_order_is_too_long() -> None:
    t = timeline(
        notice_issued=ISSUED, authorised_by="Inspector", order_made=date(2024, 3, 5), order_months=4
    )
    assert rules(t) == [("O4", "s.80(6)")]
    assert "4 months" in t.violations[0].message


def test_o4_zero_month_order_is_not_allowed() -> None:
    t = timeline(
        notice_issued=ISSUED, authorised_by="Inspector", order_made=date(2024, 3, 5), order_months=0
    )
    assert rules(t) == [("O4", "s.80(6)")]


def test_o4_order_without_a_length_is_taken_as_three_months_and_says_so() -> None:
    t = timeline(notice_issued=ISSUED, authorised_by="Inspector", order_made=date(2024, 3, 5))
    assert t.violations == []
    assert t.order_expires == date(2024, 6, 5)
    assert any("s.80(6)" in n for n in t.notes)


def test_o4_three_months_from_a_month_end_ends_on_the_last_day_of_a_shorter_month() -> None:
    # 30 November + 3 calendar months: there is no 30 February, so the last day of February.
    t = timeline(
        notice_issued=datetime(2024, 11, 29, 10),
        authorised_by="Inspector",
        order_made=date(2024, 11, 30),
        order_months=3,
    )
    assert t.order_expires == date(2025, 2, 28)


# ---------------------------------------------------------------------------------------------
# O9, s.82(7): each extension at most 3 months; s.82(8): at most 6 months in all.


def test_o9_three_month_extension_is_allowed() -> None:
    t = timeline(
        notice_issued=ISSUED,
        authorised_by="Inspector",
        order_made=date(2024, 3, 5),
        order_months=2,
        extension_months=[3],
    )
    assert t.violations == []
    assert t.order_expires == date(2024, 8, 5)


def test_o9_four_month_extension_is_too_long() -> None:
    t = timeline(
        notice_issued=ISSUED,
        authorised_by="Inspector",
        order_made=date(2024, 3, 5),
        order_months=1,
        extension_months=[4],
    )
    assert rules(t) == [("O9", "s.82(7)")]
    assert "4 months" in t.violations[0].message


def test_o9_zero_month_extension_is_not_allowed() -> None:
    t = timeline(
        notice_issued=ISSUED,
        authorised_by="Inspector",
        order_made=date(2024, 3, 5),
        order_months=3,
        extension_months=[0],
    )
    assert rules(t) == [("O9", "s.82(7)")]


def test_o9_three_plus_three_months_is_the_six_month_maximum() -> None:
    t = timeline(
        notice_issued=ISSUED,
        authorised_by="Inspector",
        order_made=date(2024, 3, 5),
        order_months=3,
        extension_months=[3],
    )
    assert t.violations == []
    assert t.order_expires == date(2024, 9, 5)


def test_o9_three_plus_three_plus_one_months_exceeds_six_in_all() -> None:
    t = timeline(
        notice_issued=ISSUED,
        authorised_by="Inspector",
        order_made=date(2024, 3, 5),
        order_months=3,
        extension_months=[3, 1],
    )
    assert rules(t) == [("O9", "s.82(8)")]
    assert "7 months" in t.violations[0].message
    assert t.order_expires == date(2024, 10, 5)


def test_o9_several_small_extensions_within_six_months_are_allowed() -> None:
    t = timeline(
        notice_issued=ISSUED,
        authorised_by="Inspector",
        order_made=date(2024, 3, 5),
        order_months=2,
        extension_months=[2, 1, 1],
    )
    assert t.violations == []
    assert t.order_expires == date(2024, 9, 5)


def test_o9_extension_without_an_order_made_is_flagged() -> None:
    t = timeline(notice_issued=ISSUED, authorised_by="Inspector", extension_months=[3])
    assert rules(t) == [("O9", "s.82")]
    assert t.order_expires is None


# ---------------------------------------------------------------------------------------------
# O8, s.81(3): without an order at the hearing, the court may adjourn for at most 14 days; the
# module measures the 14 days from the hearing deadline (the latest the hearing could be).


def test_o8_order_made_on_the_last_day_of_the_adjournment_is_in_time() -> None:
    served = ISSUED + timedelta(hours=1)  # hearing deadline 6 March 11:00 -> limit 20 March 11:00
    t = timeline(
        notice_issued=ISSUED,
        notice_served=served,
        authorised_by="Inspector",
        order_made=date(2024, 3, 20),
        order_months=3,
    )
    assert t.adjournment_limit == datetime(2024, 3, 20, 11, 0)
    assert t.violations == []


def test_o8_order_made_the_day_after_the_adjournment_limit_is_late() -> None:
    served = ISSUED + timedelta(hours=1)
    t = timeline(
        notice_issued=ISSUED,
        notice_served=served,
        authorised_by="Inspector",
        order_made=date(2024, 3, 21),
        order_months=3,
    )
    assert rules(t) == [("O8", "s.81(3)")]
    assert "2024-03-20" in t.violations[0].message


def test_o8_adjournment_limit_follows_the_christmas_hearing_deadline() -> None:
    kw = dict(
        notice_issued=datetime(2024, 12, 24, 10),
        notice_served=datetime(2024, 12, 24, 11),
        notice_hours=48,
        authorised_by="Superintendent",
        order_months=3,
    )
    in_time = timeline(order_made=date(2025, 1, 10), **kw)
    late = timeline(order_made=date(2025, 1, 11), **kw)
    assert in_time.adjournment_limit == datetime(2025, 1, 10, 11, 0)
    assert in_time.violations == []
    assert rules(late) == [("O8", "s.81(3)")]


# ---------------------------------------------------------------------------------------------
# O1, s.80(1): the order follows a notice; an order dated before the notice is a data error.


def test_o1_order_made_before_the_notice_was_issued_is_flagged() -> None:
    t = timeline(
        notice_issued=ISSUED, authorised_by="Inspector", order_made=date(2024, 3, 3), order_months=3
    )
    assert rules(t) == [("O1", "s.80(1)")]


def test_o1_order_made_on_the_day_of_the_notice_is_fine() -> None:
    t = timeline(
        notice_issued=ISSUED, authorised_by="Inspector", order_made=date(2024, 3, 4), order_months=3
    )
    assert t.violations == []


# ---------------------------------------------------------------------------------------------
# O11, s.84: appeal within 21 days of the decision. C3, s.90: compensation within 3 months of
# the order's expiry. s.82(8): the latest an order can run to is 6 months after it was made.


@pytest.mark.parametrize(
    "made, appeal",
    [
        (date(2024, 12, 27), date(2025, 1, 17)),  # across the new year
        (date(2025, 2, 10), date(2025, 3, 3)),  # across a 28-day February
        (date(2024, 2, 10), date(2024, 3, 2)),  # across a 29-day February
    ],
)
def test_o11_appeal_deadline_is_21_days_after_the_order(made: date, appeal: date) -> None:
    t = timeline(
        notice_issued=datetime.combine(made, datetime.min.time()),
        authorised_by="Inspector",
        order_made=made,
        order_months=3,
    )
    assert t.appeal_deadline == appeal


def test_c3_compensation_deadline_is_3_months_after_expiry() -> None:
    t = timeline(
        notice_issued=datetime(2024, 12, 24, 10),
        authorised_by="Superintendent",
        order_made=date(2024, 12, 27),
        order_months=3,
    )
    assert t.order_expires == date(2025, 3, 27)
    assert t.compensation_deadline == date(2025, 6, 27)


def test_c3_compensation_deadline_follows_the_extended_expiry() -> None:
    t = timeline(
        notice_issued=datetime(2024, 12, 24, 10),
        authorised_by="Superintendent",
        order_made=date(2024, 12, 27),
        order_months=3,
        extension_months=[2],
    )
    assert t.order_expires == date(2025, 5, 27)
    assert t.compensation_deadline == date(2025, 8, 27)


@pytest.mark.parametrize("extensions", [[], [1], [3]])
def test_o9_latest_possible_end_is_6_months_after_the_order_whatever_the_extensions(
    extensions: list[int],
) -> None:
    t = timeline(
        notice_issued=datetime(2024, 12, 24, 10),
        authorised_by="Superintendent",
        order_made=date(2024, 12, 27),
        order_months=3,
        extension_months=extensions,
    )
    assert t.latest_possible_end == date(2025, 6, 27)
    assert t.order_expires <= t.latest_possible_end


def test_no_order_means_no_order_deadlines() -> None:
    t = timeline(notice_issued=ISSUED, notice_served=ISSUED, authorised_by="Inspector")
    assert (t.order_expires, t.latest_possible_end, t.appeal_deadline, t.compensation_deadline) == (
        None,
    ) * 4


# ---------------------------------------------------------------------------------------------
# parse_authority: the ranks of s.76(1) and s.77(2) as officers type them.


@pytest.mark.parametrize(
    "text, level, la, chief",
    [
        ("Supt", 5, False, False),
        ("Superintendent", 5, False, False),
        ("Chief Superintendent", 6, False, False),
        ("Ch. Supt", 6, False, False),
        ("acting inspector", 3, False, False),
        ("A/Insp", 3, False, False),
        ("  INSPECTOR ", 3, False, False),
        ("Chief Inspector", 4, False, False),
        ("Sergeant", 2, False, False),
        ("Commander", 7, False, False),
        ("Chief Constable", 9, False, False),
        ("LA chief executive", None, True, True),
        ("local authority", None, True, False),
        ("council (designate of the chief executive)", None, True, True),
    ],
)
def test_parse_authority_reads_ranks_and_authorities(
    text: str, level: int | None, la: bool, chief: bool
) -> None:
    a = parse_authority(text)
    assert (a.police_level, a.local_authority, a.chief_executive) == (level, la, chief)
    assert a.text == text


@pytest.mark.parametrize(
    "text, may_issue, may_48h",
    [
        ("Sergeant", False, False),
        ("Inspector", True, False),
        ("Chief Inspector", True, False),
        ("Superintendent", True, True),
        ("Chief Superintendent", True, True),
        ("local authority", True, False),
        ("local authority chief executive", True, True),
    ],
)
def test_n1_n4_authority_powers_follow_the_rank(text: str, may_issue: bool, may_48h: bool) -> None:
    a = parse_authority(text)
    assert (a.may_issue, a.may_authorise_48h) == (may_issue, may_48h)


@pytest.mark.parametrize("text", ["Bishop", "chief", ""])
def test_parse_authority_unknown_text_suggests_valid_ranks(text: str) -> None:
    with pytest.raises(TimelineError) as err:
        parse_authority(text)
    message = str(err.value)
    assert f"'{text}'" in message
    for suggestion in ("Inspector", "Superintendent", "local authority"):
        assert suggestion in message


def test_timeline_error_is_a_user_error_the_cli_reports() -> None:
    assert issubclass(TimelineError, ClosuremapError)
    with pytest.raises(TimelineError):
        timeline(notice_issued=ISSUED, authorised_by="Bishop")


# ---------------------------------------------------------------------------------------------
# N6, s.77(3), s.80(4): add_hours_skipping_christmas as a property. The Christmas time inside an
# interval is counted here day by day, independently of the module's own overlap function.


def christmas_inside(start: datetime, end: datetime) -> timedelta:
    """How much of [start, end) falls on a 25 December, walking the calendar day by day."""
    total = timedelta(0)
    day = start.date()
    while day <= end.date():
        lo = max(start, datetime(day.year, day.month, day.day))
        hi = min(end, datetime(day.year, day.month, day.day) + timedelta(days=1))
        if (day.month, day.day) == (12, 25) and hi > lo:
            total += hi - lo
        day += timedelta(days=1)
    return total


starts = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0)
)
# Up to ~2 years in whole minutes, so some intervals hold two Christmases.
durations = st.integers(min_value=1, max_value=2 * 366 * 24 * 60)


@settings(max_examples=300, deadline=None)
@given(start=starts, minutes=durations)
def test_n6_result_is_hours_plus_the_christmas_time_inside(start: datetime, minutes: int) -> None:
    end = add_hours_skipping_christmas(start, minutes / 60)
    # real elapsed time (UTC) across clock changes; Christmas Day is in GMT, so London = UTC then
    u0, u1 = to_utc(start), to_utc(end)
    assert u1 - u0 == timedelta(minutes=minutes) + christmas_inside(u0, u1)


@settings(max_examples=300, deadline=None)
@given(start=starts, minutes=durations)
def test_n6_result_is_the_earliest_such_time(start: datetime, minutes: int) -> None:
    end = add_hours_skipping_christmas(start, minutes / 60)
    # one minute earlier, less than the required time outside Christmas has passed
    u0, earlier = to_utc(start), to_utc(end) - MINUTE
    assert earlier - u0 - christmas_inside(u0, earlier) < timedelta(minutes=minutes)
    # and the end never falls strictly inside a Christmas Day
    assert not (end.month == 12 and end.day == 25 and end.time() != datetime.min.time())


@settings(max_examples=300, deadline=None)
@given(year=st.integers(min_value=2000, max_value=2090), data=st.data())
def test_n6_interval_entirely_outside_christmas_is_plain_addition(
    year: int, data: st.DataObject
) -> None:
    # between 26 December of one year and 25 December 00:00 of the next: no Christmas at all
    after = datetime(year, 12, 26)
    before_next = datetime(year + 1, 12, 25)
    span = int((before_next - after).total_seconds() // 60)
    offset = data.draw(st.integers(min_value=0, max_value=span - 1), label="offset")
    start = after + timedelta(minutes=offset)
    minutes = data.draw(st.integers(min_value=0, max_value=span - offset), label="minutes")
    end = add_hours_skipping_christmas(start, minutes / 60)
    assert to_utc(end) == to_utc(start) + timedelta(
        minutes=minutes
    )  # real minutes, clock changes and all


def test_n6_zero_hours_is_no_time() -> None:
    assert add_hours_skipping_christmas(datetime(2024, 12, 25, 10), 0) == datetime(2024, 12, 25, 10)


# ---------------------------------------------------------------------------------------------
# next_deadline: the soonest deadline strictly after now (urgency list).


@pytest.fixture
def christmas_case() -> Timeline:
    # notice expires 27 Dec 10:00, hearing deadline 27 Dec 11:00, appeal 17 Jan, order ends 27 Mar
    return timeline(
        notice_issued=datetime(2024, 12, 24, 10),
        notice_served=datetime(2024, 12, 24, 11),
        notice_hours=48,
        authorised_by="Superintendent",
        order_made=date(2024, 12, 27),
        order_months=3,
    )


@pytest.mark.parametrize(
    "now, expected",
    [
        (datetime(2024, 12, 24, 12, 0), ("notice_expires", datetime(2024, 12, 27, 10, 0))),
        (
            datetime(2024, 12, 27, 10, 0),
            ("hearing_deadline", datetime(2024, 12, 27, 11, 0)),
        ),  # strictly after
        (datetime(2024, 12, 27, 10, 30), ("hearing_deadline", datetime(2024, 12, 27, 11, 0))),
        (datetime(2024, 12, 28, 9, 0), ("appeal_deadline", datetime(2025, 1, 17, 0, 0))),
        (datetime(2025, 1, 17, 0, 1), ("order_expires", datetime(2025, 3, 27, 0, 0))),
    ],
)
def test_next_deadline_picks_the_soonest_future_deadline(
    christmas_case: Timeline, now: datetime, expected: tuple[str, datetime]
) -> None:
    assert next_deadline(christmas_case, now) == expected


def test_next_deadline_is_none_when_all_have_passed(christmas_case: Timeline) -> None:
    assert next_deadline(christmas_case, datetime(2025, 3, 27, 0, 0)) is None
    assert next_deadline(Timeline(), datetime(2024, 1, 1)) is None


def test_next_deadline_includes_the_extended_notice() -> None:
    t = timeline(
        notice_issued=ISSUED,
        authorised_by="Inspector",
        notice_extension_hours=24,
        extension_authorised_by="Superintendent",
    )
    expected = ("notice_extended_until", datetime(2024, 3, 6, 10))
    assert next_deadline(t, datetime(2024, 3, 5, 10, 0)) == expected


# ---------------------------------------------------------------------------------------------
# Violation and as_dict: the shape the command line prints.


def test_as_dict_writes_minutes_and_dates_and_violations() -> None:
    t = timeline(
        notice_issued=datetime(2024, 12, 24, 10), notice_hours=48, authorised_by="Sergeant"
    )
    d = t.as_dict()
    assert d["notice_expires"] == "2024-12-27T10:00"
    assert d["order_expires"] is None
    assert [v["rule"] for v in d["violations"]] == ["N1", "N4"]
    assert d["violations"][0] == Violation("N1", "s.76(1)", t.violations[0].message).as_dict()


# ---------------------------------------------------------------------------------------------
# The `timeline` command end to end: one JSON document; user errors exit 2 with one line.


def run(*args: str) -> subprocess.CompletedProcess:
    assert EXE, "the closuremap console script is not installed (pip install -e .)"
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=120)


CHRISTMAS_ARGS = (
    "timeline",
    "--notice-issued",
    "2024-12-24T10:00",
    "--notice-served",
    "2024-12-24T11:00",
    "--notice-hours",
    "48",
    "--authorised-by",
    "Superintendent",
    "--order-made",
    "2024-12-27",
    "--order-months",
    "3",
    "--json",
)


def test_cli_timeline_json_over_christmas() -> None:
    done = run(*CHRISTMAS_ARGS)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)  # exactly one JSON document, nothing else on stdout
    assert data["notice_expires"] == "2024-12-27T10:00"
    assert data["hearing_deadline"] == "2024-12-27T11:00"
    assert data["order_expires"] == "2025-03-27"
    assert data["latest_possible_end"] == "2025-06-27"
    assert data["appeal_deadline"] == "2025-01-17"
    assert data["violations"] == []


def test_cli_timeline_json_lists_violations_with_rule_section_message() -> None:
    args = list(CHRISTMAS_ARGS)
    args[args.index("Superintendent")] = "Sergeant"
    args[args.index("--order-months") + 1] = "4"
    done = run(*args)
    assert done.returncode == 0, done.stderr
    violations = json.loads(done.stdout)["violations"]
    assert all(set(v) == {"rule", "section", "message"} for v in violations)
    assert [(v["rule"], v["section"]) for v in violations] == [
        ("N1", "s.76(1)"),
        ("N4", "s.77(2)"),
        ("O4", "s.80(6)"),
    ]
    assert all(v["message"] for v in violations)


@pytest.mark.parametrize(
    "args",
    [
        ("--notice-issued", "2024-13-45T10:00"),
        ("--notice-issued", "2024-12-24T10:00", "--notice-served", "Christmas Eve"),
        ("--notice-issued", "2024-12-24T10:00", "--authorised-by", "Bishop"),
        (
            "--notice-issued",
            "2024-12-24T10:00",
            "--order-made",
            "2024-12-27",
        ),  # without --order-months
    ],
)
def test_cli_timeline_user_error_exits_2_with_one_line(args: tuple[str, ...]) -> None:
    done = run("timeline", *args, "--json")
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("closuremap: error:")
    assert "Traceback" not in done.stderr


# s.76(1), s.77(2): detective, temporary and Met titles are the same ranks in law
@pytest.mark.parametrize(
    "text, level",
    [
        ("Borough Commander", 7),
        ("DI", 3),
        ("DCI", 4),
        ("Det Supt", 5),
        ("T/Insp", 3),
        ("Detective Superintendent", 5),
        ("Inspector Morse", 3),
    ],
)
def test_ranks_are_read_before_local_authority_words(text: str, level: int) -> None:
    a = parse_authority(text)
    assert a.police_level == level and not a.local_authority


def test_cli_extension_authorised_by_a_superintendent_is_lawful() -> None:
    base = [
        "timeline",
        "--notice-issued",
        "2024-03-04T10:00",
        "--authorised-by",
        "Inspector",
        "--notice-extension-hours",
        "24",
        "--json",
    ]
    bad = json.loads(run(*base).stdout)
    good = json.loads(run(*base, "--extension-authorised-by", "Superintendent").stdout)
    assert [v["rule"] for v in bad["violations"]] == ["N5"]
    assert good["violations"] == [] and good["notice_extended_until"] == "2024-03-06T10:00"


# -- clock changes: the Act's hours are real elapsed hours (Europe/London) -------------------------


@pytest.mark.parametrize(
    ("issued", "hours", "expires"),
    [
        # October: the clocks go back at 02:00 BST on Sunday 26 October 2025 -> the wall clock
        # shows one hour less
        (datetime(2025, 10, 25, 12, 0), 48, datetime(2025, 10, 27, 11, 0)),
        (datetime(2025, 10, 25, 12, 0), 24, datetime(2025, 10, 26, 11, 0)),
        # March: the clocks go forward at 01:00 GMT on Sunday 30 March 2025 -> the wall clock
        # shows one hour more
        (datetime(2025, 3, 29, 12, 0), 48, datetime(2025, 3, 31, 13, 0)),
        (datetime(2025, 3, 29, 12, 0), 24, datetime(2025, 3, 30, 13, 0)),
        # no change in the period: the wall clock and the hours agree
        (datetime(2025, 6, 10, 9, 30), 48, datetime(2025, 6, 12, 9, 30)),
    ],
)
def test_notice_hours_are_real_hours_across_clock_changes(
    issued: datetime, hours: int, expires: datetime
) -> None:
    t = timeline(notice_issued=issued, notice_hours=hours, authorised_by="Superintendent")
    assert t.notice_expires == expires
    assert (to_utc(t.notice_expires) - to_utc(issued)).total_seconds() == hours * 3600


def test_the_hearing_deadline_is_48_real_hours_after_service_across_the_october_change() -> None:
    served = datetime(2025, 10, 25, 10, 15)
    t = timeline(
        notice_issued=datetime(2025, 10, 25, 9, 0),
        notice_served=served,
        notice_hours=48,
        authorised_by="Superintendent",
        hearing_at=datetime(2025, 10, 27, 9, 15),
    )
    assert t.hearing_deadline == datetime(2025, 10, 27, 9, 15)
    assert (to_utc(t.hearing_deadline) - to_utc(served)).total_seconds() == 48 * 3600
    assert not [v for v in t.violations if v.rule == "O2"]
    late = timeline(
        notice_issued=datetime(2025, 10, 25, 9, 0),
        notice_served=served,
        notice_hours=48,
        authorised_by="Superintendent",
        hearing_at=datetime(2025, 10, 27, 9, 16),
    )
    assert [v.rule for v in late.violations] == ["O2"]


def test_elapsed_hours_in_the_repeated_hour_read_the_first_one() -> None:
    # 01:30 on 26 October 2025 happens twice; the first (BST) reading is taken
    assert add_elapsed_hours(datetime(2025, 10, 26, 1, 30), 1) == datetime(2025, 10, 26, 1, 30)


def test_deadline_rows_cite_sections_and_count_days_left() -> None:
    t = timeline(
        notice_issued=datetime(2024, 6, 28, 9, 0),
        notice_served=datetime(2024, 6, 28, 11, 30),
        notice_hours=48,
        authorised_by="Superintendent",
        order_made=date(2024, 6, 30),
        order_months=3,
    )
    rows = deadline_rows(t, datetime(2024, 6, 29, 9, 0))
    by_name = {r["deadline"]: r for r in rows}
    assert by_name["Closure notice expires"]["section"] == "s.77(1)-(3)"
    assert by_name["Closure notice expires"]["days_left"] == 1.0
    assert by_name["Closure order expires"]["due"] == datetime(2024, 9, 30)
    assert [r["due"] for r in rows] == sorted(r["due"] for r in rows)
