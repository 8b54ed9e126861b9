"""OS grid references: the 100 km lettering, every digit count, the square's centre, bad input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from closuremap.geo.errors import ClosuremapError
from closuremap.geo.gridref import (
    GRID_LETTERS,
    GridRefError,
    find_gridrefs,
    parse_gridref,
    square_origin,
    to_gridref,
)
from tests.data.make_geocode_labelled import grid_letters as table_letters

# South-west corners of 100 km squares, from the OS lettering diagram (500 km squares S, T, N, O,
# H, J with S at the false origin; 100 km letters A-Z without I, read from the top-left).
KNOWN_SQUARES = {
    "SV": (0, 0),  # Isles of Scilly: the false origin
    "SW": (100_000, 0),  # west Cornwall
    "TV": (500_000, 0),  # Eastbourne / Beachy Head
    "SU": (400_000, 100_000),  # Southampton
    "TQ": (500_000, 100_000),  # London
    "TG": (600_000, 300_000),  # Norwich
    "SJ": (300_000, 300_000),  # Chester / Stoke
    "NS": (200_000, 600_000),  # Glasgow
    "NT": (300_000, 600_000),  # Edinburgh
    "NN": (200_000, 700_000),  # Ben Nevis
    "HU": (400_000, 1_100_000),  # Shetland
    "HP": (400_000, 1_200_000),  # Unst, the northernmost square
}


@pytest.mark.parametrize("letters,origin", KNOWN_SQUARES.items())
def test_square_letters_follow_the_os_scheme(letters: str, origin: tuple[int, int]) -> None:
    assert square_origin(letters) == origin
    assert square_origin(letters.lower()) == origin


def test_every_square_agrees_with_an_independent_table() -> None:
    # geo/gridref.py computes letters arithmetically; the labelled-set generator reads them from the
    # OS diagram written out as a table. All 91 squares of the grid must agree both ways.
    squares = [(e, n) for e in range(0, 700_000, 100_000) for n in range(0, 1_300_000, 100_000)]
    assert len(squares) == 91
    for e, n in squares:
        letters = table_letters(e + 1, n + 1)
        assert square_origin(letters) == (e, n)
        assert to_gridref(e + 1, n + 1, 0) == letters


def test_the_worked_example_is_the_centre_of_a_one_metre_square() -> None:
    ref = parse_gridref("TQ 30916 78533")
    assert (ref.easting, ref.northing, ref.size_m) == (530916.5, 178533.5, 1.0)
    assert (ref.sw_easting, ref.sw_northing) == (530916.0, 178533.0)
    assert str(ref) == "TQ 30916 78533"


@pytest.mark.parametrize(
    "text", ["TQ 30916 78533", "TQ3091678533", "tq 30916 78533", "TQ 3091678533", " TQ30916 78533 "]
)
def test_spellings_of_one_reference_agree(text: str) -> None:
    ref = parse_gridref(text)
    assert (ref.easting, ref.northing, ref.digits) == (530916.5, 178533.5, 10)


@pytest.mark.parametrize(
    "text,easting,northing,size",
    [
        ("TQ", 550_000.0, 150_000.0, 100_000.0),
        ("TQ37", 535_000.0, 175_000.0, 10_000.0),
        ("TQ 3 7", 535_000.0, 175_000.0, 10_000.0),
        ("TQ3178", 531_500.0, 178_500.0, 1_000.0),
        ("TQ 31 78", 531_500.0, 178_500.0, 1_000.0),
        ("TQ310785", 531_050.0, 178_550.0, 100.0),
        ("TQ 310 785", 531_050.0, 178_550.0, 100.0),
        ("TQ30917853", 530_915.0, 178_535.0, 10.0),
        ("TQ 3091 7853", 530_915.0, 178_535.0, 10.0),
        ("TQ3091678533", 530_916.5, 178_533.5, 1.0),
        ("NN 166 712", 216_650.0, 771_250.0, 100.0),
        ("SV 0 0", 5_000.0, 5_000.0, 10_000.0),
        ("HP 60 10", 460_500.0, 1_210_500.0, 1_000.0),
    ],
)
def test_each_digit_count_gives_the_centre_of_its_square(
    text: str, easting: float, northing: float, size: float
) -> None:
    ref = parse_gridref(text)
    assert (ref.easting, ref.northing, ref.size_m) == (easting, northing, size)


@pytest.mark.parametrize("letters", ["IQ", "TI", "II"])
def test_the_letter_i_is_refused_by_name(letters: str) -> None:
    with pytest.raises(GridRefError, match="does not use"):
        parse_gridref(f"{letters} 30916 78533")


@pytest.mark.parametrize("letters", ["TZ", "AA", "ZZ", "TE", "JA", "OE"])
def test_squares_off_the_grid_are_refused(letters: str) -> None:
    # well-formed letters whose square lies outside E 0-700 km, N 0-1300 km
    with pytest.raises(GridRefError, match="outside Great Britain"):
        square_origin(letters)


@pytest.mark.parametrize(
    "text,match",
    [
        ("TQ 309 7853", "same number"),
        ("TQ30917", "odd number"),
        ("TQ 123456 654321", "not a grid reference"),
        ("T1 309 785", "not a grid reference"),
        ("Perronet House", "not a grid reference"),
        ("", "not a grid reference"),
    ],
)
def test_malformed_references_say_what_is_wrong(text: str, match: str) -> None:
    with pytest.raises(GridRefError, match=match):
        parse_gridref(text)


def test_grid_errors_are_user_errors() -> None:
    assert issubclass(GridRefError, ClosuremapError)


def test_to_gridref_truncates_to_the_containing_square() -> None:
    assert to_gridref(530916.7, 178533.2) == "TQ 30916 78533"
    assert to_gridref(530916.7, 178533.2, 6) == "TQ 309 785"
    assert to_gridref(530916.7, 178533.2, 2) == "TQ 3 7"
    assert to_gridref(91492.146, 11318.804, 10) == "SV 91492 11318"  # OSTN15 test point TP01
    with pytest.raises(GridRefError):
        to_gridref(700_000, 100_000)
    with pytest.raises(GridRefError):
        to_gridref(530_000, 180_000, 5)


@settings(max_examples=300, deadline=None)
@given(
    easting=st.floats(0, 699_999.999, allow_nan=False),
    northing=st.floats(0, 1_299_999.999, allow_nan=False),
    digits=st.sampled_from([0, 2, 4, 6, 8, 10]),
)
def test_round_trip_lands_in_the_square_holding_the_point(
    easting: float, northing: float, digits: int
) -> None:
    ref = parse_gridref(to_gridref(easting, northing, digits))
    assert ref.digits == digits
    assert ref.sw_easting <= easting < ref.sw_easting + ref.size_m
    assert ref.sw_northing <= northing < ref.sw_northing + ref.size_m
    assert abs(ref.easting - easting) <= ref.size_m / 2


def test_letters_alphabet_has_no_i() -> None:
    assert len(GRID_LETTERS) == 25 and "I" not in GRID_LETTERS


def test_find_in_text_reports_spans_and_failures() -> None:
    text = "youths at TQ 30916 78533, then IQ 123 456"
    found = find_gridrefs(text)
    assert [f.text for f in found] == ["TQ 30916 78533", "IQ 123 456"]
    assert text[found[0].start : found[0].end] == "TQ 30916 78533"
    assert found[0].gridref is not None and found[0].gridref.easting == 530916.5
    assert found[1].gridref is None and "does not use" in (found[1].error or "")


def test_find_in_text_ignores_postcodes_and_decimals() -> None:
    assert find_gridrefs("Flat 12, Perronet House, SE1 6FY") == []
    assert find_gridrefs("51.4952, -0.1021") == []
