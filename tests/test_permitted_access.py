"""Permitted access (geo/permitted_access.py): who a notice must let in, the wording, the stored
form.

Rules from shared/domain/closure-powers.md, section 1: N8 (s.76(4)) a notice may not exclude people
who habitually live on the premises or the owner; O5 (s.80(7)) an order may bar all persons.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from closuremap.geo.permitted_access import (
    ALL_DAY,
    CLASSES,
    PermittedClass,
    access_violations,
    default_classes,
    from_json,
    to_json,
    wording,
)

RESIDENTS_WORDS = "people who habitually live in the flats of the premises"
OWNER_WORDS = "the owner of the premises and the landlord's agents"
PREMISES = "the communal areas of Alder House, 1-48 Example Road"


# ---------------------------------------------------------------------------------------------
# N8, s.76(4): a closure notice must permit residents and the owner, at all times.


def test_n8_notice_with_residents_and_owner_at_all_times_is_fine() -> None:
    classes = [PermittedClass("residents"), PermittedClass("owner")]
    assert access_violations(classes, stage="notice") == []


def test_n8_default_classes_satisfy_the_notice_rule() -> None:
    assert access_violations(default_classes(), stage="notice") == []


def test_n8_notice_without_residents_is_flagged() -> None:
    classes = [PermittedClass("owner"), PermittedClass("police")]
    found = access_violations(classes, stage="notice")
    assert [(v.rule, v.section) for v in found] == [("N8", "s.76(4)")]
    assert RESIDENTS_WORDS in found[0].message


def test_n8_notice_without_owner_is_flagged() -> None:
    classes = [PermittedClass("residents"), PermittedClass("visitors")]
    found = access_violations(classes, stage="notice")
    assert [(v.rule, v.section) for v in found] == [("N8", "s.76(4)")]
    assert OWNER_WORDS in found[0].message


def test_n8_notice_permitting_no_one_is_flagged_twice() -> None:
    found = access_violations([], stage="notice")
    assert [(v.rule, v.section) for v in found] == [("N8", "s.76(4)")] * 2
    assert RESIDENTS_WORDS in found[0].message and OWNER_WORDS in found[1].message


def test_n8_notice_with_residents_only_at_some_times_is_flagged() -> None:
    classes = [PermittedClass("residents", times="08:00-20:00"), PermittedClass("owner")]
    found = access_violations(classes, stage="notice")
    assert [(v.rule, v.section) for v in found] == [("N8", "s.76(4)")]
    assert RESIDENTS_WORDS in found[0].message and "at any time" in found[0].message


def test_n8_notice_with_owner_only_at_some_times_is_flagged() -> None:
    classes = [PermittedClass("residents"), PermittedClass("owner", times="weekdays 09:00-17:00")]
    found = access_violations(classes, stage="notice")
    assert [(v.rule, v.section) for v in found] == [("N8", "s.76(4)")]
    assert OWNER_WORDS in found[0].message


def test_n8_residents_at_all_times_in_one_entry_are_enough_beside_a_time_limited_one() -> None:
    classes = [
        PermittedClass("residents", times="08:00-20:00", detail="Flats 1-24"),
        PermittedClass("residents", detail="Flats 25-48"),
        PermittedClass("owner"),
    ]
    assert access_violations(classes, stage="notice") == []


def test_n8_residents_narrowed_by_detail_but_at_all_times_pass() -> None:
    classes = [PermittedClass("residents", detail="Flats 1-48"), PermittedClass("owner")]
    assert access_violations(classes, stage="notice") == []


# ---------------------------------------------------------------------------------------------
# O5, s.80(7): an order may bar all persons, residents and owner included.


def test_o5_order_without_residents_is_allowed() -> None:
    assert (
        access_violations([PermittedClass("owner"), PermittedClass("police")], stage="order") == []
    )


def test_o5_order_barring_everyone_is_allowed() -> None:
    assert access_violations([], stage="order") == []


def test_o5_order_with_residents_only_at_some_times_is_allowed() -> None:
    assert (
        access_violations([PermittedClass("residents", times="08:00-20:00")], stage="order") == []
    )


# ---------------------------------------------------------------------------------------------
# N7, s.76(3) and O5, s.80(7): the terms say who is permitted (Leeds CC v Persons Unknown [2023]),
# lettered (a), (b), ... under a head naming the premises.


def item_lines(text: str) -> list[str]:
    return text.splitlines()[1:]


def test_n7_notice_wording_names_premises_and_every_class_lettered() -> None:
    classes = default_classes()
    text = wording(PREMISES, classes, stage="notice")
    lines = text.splitlines()
    assert lines[0] == f"This closure notice prohibits access to {PREMISES} by all persons except:"
    items = item_lines(text)
    assert len(items) == len(classes) == 8
    for letter, line, c in zip("abcdefgh", items, classes, strict=True):
        assert line.startswith(f"({letter}) ")
        assert CLASSES[c.code] in line
        assert ALL_DAY in line
    assert all(line.endswith(";") for line in items[:-1])
    assert items[-1].endswith(".") and not items[-1].endswith(";.")


def test_o5_order_wording_names_premises_and_every_class_lettered() -> None:
    classes = [
        PermittedClass("emergency_services"),
        PermittedClass("police"),
        PermittedClass("residents", times="between 07:00 and 22:00", detail="Flats 1-48"),
    ]
    text = wording(PREMISES, classes, stage="order")
    lines = text.splitlines()
    assert lines[0] == f"The court orders that {PREMISES} be closed to all persons except:"
    assert lines[1] == f"(a) {CLASSES['emergency_services']}, at all times;"
    assert lines[2] == f"(b) {CLASSES['police']}, at all times;"
    assert lines[3] == f"(c) {CLASSES['residents']} (Flats 1-48), between 07:00 and 22:00."
    assert len(lines) == 4


def test_o5_order_wording_with_no_exceptions_closes_to_all_persons() -> None:
    text = wording(PREMISES, [], stage="order")
    assert text == f"The court orders that {PREMISES} be closed to all persons."


def test_n7_wording_keeps_the_classes_in_the_order_given() -> None:
    forward = [PermittedClass("owner"), PermittedClass("residents")]
    text = wording(PREMISES, forward, stage="notice")
    reverse = wording(PREMISES, forward[::-1], stage="notice")
    assert text.index(OWNER_WORDS) < text.index(RESIDENTS_WORDS)
    assert reverse.index(RESIDENTS_WORDS) < reverse.index(OWNER_WORDS)
    assert re.search(r"^\(a\) the owner", text, re.M) and re.search(
        r"^\(a\) people who", reverse, re.M
    )


def test_n7_class_words_carry_detail_and_times() -> None:
    c = PermittedClass("visitors", times="between 10:00 and 18:00", detail="Flats 1-12 only")
    assert c.words() == f"{CLASSES['visitors']} (Flats 1-12 only), between 10:00 and 18:00"


def test_n7_unknown_class_code_is_written_as_given() -> None:
    c = PermittedClass("the building's caretaker")
    assert c.words() == "the building's caretaker, at all times"


# ---------------------------------------------------------------------------------------------
# Storage: the permitted classes are kept with the order as JSON; old free-text terms still read.


def test_to_json_from_json_round_trip() -> None:
    classes = [
        PermittedClass("residents", detail="Flats 1-48"),
        PermittedClass("owner"),
        PermittedClass("visitors", times="08:00-20:00", detail="invited, with a resident"),
    ]
    text = to_json(classes)
    assert [c["code"] for c in json.loads(text)] == ["residents", "owner", "visitors"]
    assert from_json(text) == classes


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.builds(PermittedClass, code=st.text(min_size=1), times=st.text(), detail=st.text()),
        max_size=10,
    )
)
def test_to_json_from_json_round_trip_any_text(classes: list[PermittedClass]) -> None:
    assert from_json(to_json(classes)) == classes


@pytest.mark.parametrize("stored", [None, ""])
def test_from_json_of_nothing_is_no_classes(stored: str | None) -> None:
    assert from_json(stored) == []


@pytest.mark.parametrize(
    "text",
    [
        "Residents and their visitors only; police and emergency services at all times",
        "No access 22:00-06:00 except residents",
        '"residents"',  # valid JSON, but not a list of classes
        '[{"code": "owner", "colour": "red"}]',  # a field the class does not have
    ],
)
def test_from_json_of_free_text_is_one_other_class(text: str) -> None:
    assert from_json(text) == [PermittedClass("other", detail=text)]


def test_free_text_terms_survive_a_save_and_show_in_the_wording() -> None:
    text = "Residents and their visitors only"
    old = from_json(text)
    assert from_json(to_json(old)) == old
    assert text in wording(PREMISES, old, stage="order")


def test_n8_free_text_terms_cannot_show_the_notice_permits_residents() -> None:
    found = access_violations(from_json("Residents and the owner at all times"), stage="notice")
    assert [(v.rule, v.section) for v in found] == [("N8", "s.76(4)")] * 2


def test_a_misspelt_stage_is_refused_not_waved_through() -> None:
    with pytest.raises(ValueError, match="'notice' or 'order'"):
        access_violations([], stage="Notice")
