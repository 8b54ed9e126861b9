"""The offline geocoder: the labelled set end to end (precision/recall), then each method and hard
case.

The labelled set (tests/data/geocode_labelled.csv) is built by tests/data/make_geocode_labelled.py
from the sample gazetteer and Code-Point extract; its docstring says how. Unit tests that need a
gazetteer of their own (Heron House vs Heron Court, numbered houses) build a tiny one inline.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import closuremap.geo.geocode as geocode_module
import closuremap.geo.geocode.fuzzy as fuzzy_module
from closuremap.geo.crs import lonlat_to_bng
from closuremap.geo.errors import ClosuremapError, InputFileError
from closuremap.geo.geocode import (
    MATCH_METHODS,
    OUTPUT_COLUMNS,
    GazetteerIndex,
    GeocodeError,
    geocode,
    load_gazetteer,
    load_postcodes,
    normalise_address,
    normalise_postcode,
    parse_address,
)
from tests.conftest import DATA, TEST_DATA
from tests.data import make_geocode_labelled as labelled_maker

ADDRESSES = DATA / "synthetic" / "addresses.csv"
POSTCODES = DATA / "postcodes" / "codepoint_open_2025-10_southwark_estate_1km.csv"
LABELLED = TEST_DATA / "geocode_labelled.csv"
MIN_ACCURACY = 0.99


@pytest.fixture(scope="module")
def gazetteer() -> pd.DataFrame:
    return load_gazetteer(ADDRESSES)


@pytest.fixture(scope="module")
def postcodes() -> pd.DataFrame:
    return load_postcodes(POSTCODES)


@pytest.fixture(scope="module")
def index(gazetteer: pd.DataFrame) -> GazetteerIndex:
    return GazetteerIndex.from_frame(gazetteer)


@pytest.fixture(scope="module")
def labelled() -> pd.DataFrame:
    return pd.read_csv(
        LABELLED,
        dtype={"expected_uprn": str, "location": str},
        keep_default_na=False,
        na_values={"expected_easting": [""], "expected_northing": [""], "tolerance_m": [""]},
    )


@pytest.fixture(scope="module")
def labelled_result(
    labelled: pd.DataFrame, gazetteer: pd.DataFrame, postcodes: pd.DataFrame
) -> pd.DataFrame:
    return geocode(labelled, gazetteer, postcodes, location_column="location")


def one(
    gazetteer: pd.DataFrame | GazetteerIndex,
    text: str,
    postcodes: pd.DataFrame | None = None,
    **kw: object,
) -> pd.Series:
    """Geocode a single location string; the result row."""
    return geocode(pd.DataFrame({"location": [text]}), gazetteer, postcodes, **kw).iloc[0]  # type: ignore[arg-type]


def uprn_of(gazetteer: pd.DataFrame, building: str, flat: int) -> str:
    hit = gazetteer[gazetteer["address"].str.startswith(f"Flat {flat}, {building},")]
    assert len(hit) == 1, f"sample gazetteer has no single Flat {flat}, {building}"
    return str(hit["uprn"].iloc[0])


def centroid_of(gazetteer: pd.DataFrame, building: str) -> tuple[float, float]:
    rows = gazetteer[gazetteer["address"].str.contains(f", {building},", regex=False)]
    return float(rows["easting"].mean()), float(rows["northing"].mean())


# --- the labelled set --------------------------------------------------------------------------


def test_labelled_set_is_current() -> None:
    """The golden CSV must be what the generator makes from today's sample data."""
    fresh = labelled_maker.build(pd.read_csv(ADDRESSES), pd.read_csv(POSTCODES))
    made = fresh.to_csv(index=False, float_format="%.3f", lineterminator="\n")
    assert made == LABELLED.read_text(), (
        "tests/data/geocode_labelled.csv is stale (the sample data changed?); rerun "
        ".venv/bin/python tests/data/make_geocode_labelled.py"
    )


def test_labelled_set_is_big_and_varied(labelled: pd.DataFrame) -> None:
    assert len(labelled) >= 2000
    kinds = set(labelled["kind"])
    assert {
        "flat_confusable",
        "flat_typo",
        "flat_abbrev",
        "flat_reorder",
        "flat_noise",
        "building_only",
        "gridref",
        "latlon_text",
        "latlon_swapped",
        "en_text",
        "postcode_only",
        "junk",
    } <= kinds
    assert LABELLED.stat().st_size < 300_000


def _correct(lab: pd.DataFrame, res: pd.DataFrame) -> pd.Series:
    """Right answer per row, by the rule of its kind (see the module docstring of the generator)."""
    method_ok = res["match_method"] == lab["expected_method"]
    got_uprn = res["uprn"].astype("string").fillna("")
    dist = np.hypot(
        res["easting"] - lab["expected_easting"], res["northing"] - lab["expected_northing"]
    )
    near = dist <= lab["tolerance_m"]
    flat = lab["expected_uprn"] != ""
    ok = pd.Series(False, index=lab.index)
    ok[flat] = method_ok[flat] & (got_uprn[flat] == lab.loc[flat, "expected_uprn"]) & near[flat]
    grid = lab["kind"] == "gridref"
    # a grid reference is right if it lands inside the expected square (half its side either way)
    half = lab["tolerance_m"]
    in_square = ((res["easting"] - lab["expected_easting"]).abs() <= half) & (
        (res["northing"] - lab["expected_northing"]).abs() <= half
    )
    ok[grid] = method_ok[grid] & in_square[grid]
    other = ~flat & ~grid & (lab["expected_method"] != "none")
    ok[other] = method_ok[other] & near[other] & (got_uprn[other] == "")
    none = lab["expected_method"] == "none"
    ok[none] = res.loc[none, "match_method"] == "none"
    return ok


def test_labelled_precision_and_recall(
    labelled: pd.DataFrame, labelled_result: pd.DataFrame
) -> None:
    ok = _correct(labelled, labelled_result)
    answerable = labelled["expected_method"] != "none"
    answered = labelled_result["match_method"] != "none"
    precision = (ok & answered & answerable).sum() / answered.sum()
    recall = (ok & answerable).sum() / answerable.sum()
    confident = answered & ~labelled_result["needs_review"]
    precision_confident = (ok & confident & answerable).sum() / confident.sum()
    by_kind = ok.groupby(labelled["kind"]).mean()
    print(
        f"\nlabelled set: {len(labelled)} rows, {answerable.sum()} answerable, "
        f"{answered.sum()} answered"
    )
    print(
        f"precision {precision:.4f}  recall {recall:.4f}  "
        f"precision above threshold {precision_confident:.4f} "
        f"({confident.sum()} rows not needing review)"
    )
    print(by_kind.round(4).to_string())
    wrong = labelled[~ok].assign(
        got=labelled_result["match_method"],
        score=labelled_result["match_score"],
        reason=labelled_result["reason"],
    )
    assert precision >= MIN_ACCURACY, wrong.head(20).to_string()
    assert recall >= MIN_ACCURACY, wrong.head(20).to_string()
    assert precision_confident >= MIN_ACCURACY
    assert (by_kind >= 0.98).all(), by_kind.to_string()


def test_no_row_is_lost_reordered_or_changed(
    labelled: pd.DataFrame, gazetteer: pd.DataFrame, postcodes: pd.DataFrame
) -> None:
    rows = labelled[["case_id", "location"]].copy()
    rows.index = pd.RangeIndex(1000, 1000 + len(rows), name="row")  # a caller's own index survives
    before = rows.copy()
    result = geocode(rows, gazetteer, postcodes)
    pd.testing.assert_frame_equal(rows, before)  # input untouched
    assert len(result) == len(rows)
    assert result.index.equals(rows.index)
    assert result["case_id"].tolist() == rows["case_id"].tolist()
    assert result["location"].tolist() == rows["location"].tolist()
    assert set(OUTPUT_COLUMNS) <= set(result.columns)
    assert set(result["match_method"]) <= set(MATCH_METHODS)
    assert result["match_score"].between(0, 100).all()


def test_every_junk_row_is_none_with_a_reason(
    labelled: pd.DataFrame, labelled_result: pd.DataFrame
) -> None:
    junk = labelled["kind"] == "junk"
    got = labelled_result[junk]
    assert (got["match_method"] == "none").all(), got[got["match_method"] != "none"][
        ["location", "reason"]
    ]
    assert got["easting"].isna().all() and got["uprn"].isna().all()
    assert (got["reason"].str.len() > 0).all()
    assert not got["needs_review"].any()


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_row_order_does_not_change_any_answer(
    seed: int,
    labelled: pd.DataFrame,
    labelled_result: pd.DataFrame,
    index: GazetteerIndex,
    postcodes: pd.DataFrame,
) -> None:
    # de-duplication and batching must never hand one row another row's answer
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(labelled), size=300, replace=False)
    rows = labelled.iloc[pick][["case_id", "location"]]
    shuffled = geocode(rows, index, postcodes, location_column="location")
    expected = labelled_result.iloc[pick]
    cols = ["match_method", "uprn", "matched_address", "match_score", "reason"]
    pd.testing.assert_frame_equal(shuffled[cols], expected[cols])
    np.testing.assert_allclose(shuffled["easting"], expected["easting"])


def test_small_cdist_chunks_give_the_same_answers(
    monkeypatch: pytest.MonkeyPatch,
    labelled: pd.DataFrame,
    labelled_result: pd.DataFrame,
    index: GazetteerIndex,
    postcodes: pd.DataFrame,
) -> None:
    monkeypatch.setattr(fuzzy_module, "CHUNK_CELLS", 50)  # a handful of queries per chunk
    chunked = geocode(labelled, index, postcodes, location_column="location")
    pd.testing.assert_frame_equal(chunked, labelled_result)


# --- addresses: the hard cases ----------------------------------------------------------------


@pytest.mark.parametrize("flat", [1, 2, 10, 12, 21, 13, 31, 100])
def test_flats_a_digit_apart_are_never_confused(
    gazetteer: pd.DataFrame, index: GazetteerIndex, flat: int
) -> None:
    got = one(index, f"Flat {flat} Perronet Hse")
    assert got["match_method"] == "address"
    assert str(got["uprn"]) == uprn_of(gazetteer, "Perronet House", flat)
    assert got["matched_address"].startswith(f"Flat {flat}, Perronet House")


def test_flat_twelve_and_twenty_one_differ_in_one_batch(
    gazetteer: pd.DataFrame, index: GazetteerIndex
) -> None:
    rows = pd.DataFrame(
        {
            "location": [
                "Flat 12, Perronet House",
                "Flat 21, Perronet House",
                "Flat 2, Perronet House",
                "Flat 112, Prospect House",
                "Flat 12, Prospect House",
            ]
        }
    )
    got = geocode(rows, index)["uprn"].astype(str).tolist()
    assert got == [
        uprn_of(gazetteer, "Perronet House", 12),
        uprn_of(gazetteer, "Perronet House", 21),
        uprn_of(gazetteer, "Perronet House", 2),
        uprn_of(gazetteer, "Prospect House", 112),
        uprn_of(gazetteer, "Prospect House", 12),
    ]
    assert len(set(got)) == 5


@pytest.fixture
def herons() -> pd.DataFrame:
    """A tiny gazetteer where two buildings share a name and differ only in type."""
    return pd.DataFrame(
        {
            "uprn": [1001, 1002, 1003, 2001, 2002, 2003],
            "address": [
                "Flat 1, Heron House, Mill Lane",
                "Flat 2, Heron House, Mill Lane",
                "Flat 3, Heron House, Mill Lane",
                "Flat 1, Heron Court, Mill Lane",
                "Flat 2, Heron Court, Mill Lane",
                "Flat 3, Heron Court, Mill Lane",
            ],
            "easting": [530000.0, 530001.0, 530002.0, 530100.0, 530101.0, 530102.0],
            "northing": [180000.0, 180000.0, 180000.0, 180100.0, 180100.0, 180100.0],
        }
    )


@pytest.mark.parametrize(
    "text,uprn",
    [
        ("Flat 3 Heron House", 1003),
        ("Flat 3, Heron Court", 2003),
        ("flt 3 heron hse", 1003),
        ("Flat 3 Heron Ct", 2003),
        ("Heron Ct flat 2", 2002),
        ("2 Heron Hse", 1002),
        ("Flat 1, Herron Court", 2001),
        ("Flat 1 Heron Crt", 2001),
    ],
)
def test_heron_house_is_never_heron_court(herons: pd.DataFrame, text: str, uprn: int) -> None:
    got = one(herons, text)
    assert got["match_method"] == "address"
    assert got["uprn"] == uprn


def test_a_building_type_missing_from_the_gazetteer_is_no_match(herons: pd.DataFrame) -> None:
    only_house = herons[herons["address"].str.contains("House")]
    got = one(only_house, "Flat 3 Heron Court")
    assert got["match_method"] == "none"
    assert "building type" in got["reason"] and "Heron House" in got["reason"]


def test_a_name_without_its_type_that_fits_two_buildings_is_flagged(herons: pd.DataFrame) -> None:
    got = one(herons, "Flat 3 Heron")
    assert got["match_method"] == "address"  # still offered to the review queue ...
    assert got["match_score"] <= 50 and got["needs_review"]  # ... but never above the threshold
    assert (
        "ambiguous" in got["reason"]
        and "Heron House" in got["reason"]
        and "Heron Court" in got["reason"]
    )


@pytest.mark.parametrize(
    "text,uprn",
    [
        ("Flat 1 Falcon Linnt Buildings", 2),
        ("Flat 1 Falcon Buildings", 1),
        ("Flat 1 Falcn Buildings", 1),
        ("Flat 1 Linnet Falcon Bldgs", 2),
        ("Flat 1, Georges Buildings", 3),
    ],
)
def test_a_name_inside_a_longer_name_does_not_swallow_it(text: str, uprn: int) -> None:
    # token-set similarity alone scores "falcon" 100 against "falcon linnt" (a subset): the longer,
    # misspelt name must still win, and a name missing a word ("Georges" for "St Georges") still
    # match
    gaz = pd.DataFrame(
        {
            "uprn": [1, 2, 3],
            "address": [
                "Flat 1, Falcon Buildings, A Road",
                "Flat 1, Falcon Linnet Buildings, B Road",
                "Flat 1, St Georges Buildings, C Road",
            ],
            "easting": [530000.0, 530500.0, 531000.0],
            "northing": [180000.0] * 3,
        }
    )
    assert one(gaz, text)["uprn"] == uprn


def test_a_street_breaks_a_tie_between_buildings_of_one_name() -> None:
    gaz = pd.DataFrame(
        {
            "uprn": [1, 2],
            "address": ["Flat 1, Heron House, Mill Lane", "Flat 1, Heron House, Kiln Road"],
            "easting": [530000.0, 531000.0],
            "northing": [180000.0, 181000.0],
        }
    )
    assert one(gaz, "Flat 1 Heron House, Kiln Rd")["uprn"] == 2
    assert one(gaz, "Flat 1 Heron House, Mill Ln")["uprn"] == 1
    assert "ambiguous" in one(gaz, "Flat 1 Heron House")["reason"]


@pytest.mark.parametrize(
    "text,building,flat",
    [
        ("Flat 12, Perronet House, Princess Street, London, SE1 6FY", "Perronet House", 12),
        ("Flt 12 Perronet Hse", "Perronet House", 12),
        ("Perronet House Flat 12", "Perronet House", 12),
        ("Perronet House, 12", "Perronet House", 12),
        ("12 Perronet House", "Perronet House", 12),
        ("No. 12 Perronet House", "Perronet House", 12),
        ("#12 Perronet Ho", "Perronet House", 12),
        ("perronet hse flat12", "Perronet House", 12),
        ("FLAT 12 PERRONET HOUSE PRINCESS ST SE1 6FY", "Perronet House", 12),
        ("Flat 12 Peronet House", "Perronet House", 12),
        ("Flat 12 Perronet Hosue", "Perronet House", 12),
        ("Flat 12 Perrnoet House, Princes St", "Perronet House", 12),
        ("o/s flat 12 Perronet House", "Perronet House", 12),
        ("landing outside Flat 12, Perronet Hse, stairwell B", "Perronet House", 12),
        ("Flat 3, St Georges Bldgs, St George's Rd", "St Georges Buildings", 3),
        ("flat 3 st. georges buildings", "St Georges Buildings", 3),
        ("Flat 3 Saint Georges Buildings", "St Georges Buildings", 3),
        ("Hayles Bldgs flt 7, Elliotts Row", "Hayles Buildings", 7),
        ("Flat 7, Hayles Buidlings", "Hayles Buildings", 7),
        ("Flat 5 Lauire House", "Laurie House", 5),
        ("2nd floor, Flat 9, Wardroper Hse", "Wardroper House", 9),
    ],
)
def test_typos_abbreviations_reordering_and_noise(
    gazetteer: pd.DataFrame, index: GazetteerIndex, text: str, building: str, flat: int
) -> None:
    got = one(index, text)
    assert (got["match_method"], str(got["uprn"])) == (
        "address",
        uprn_of(gazetteer, building, flat),
    ), got["reason"]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Gaywood St", "gaywood street"),
        ("St Georges Buildings", "saint georges buildings"),
        ("Flat 3, St George's Rd", "flat 3 saint georges road"),
        ("12 St Marys Ct", "12 saint marys court"),
        ("Princess St, London", "princess street london"),
        ("o/s Perronet Hse jct Gaywood St", "outside perronet house junction gaywood street"),
        ("nr Flt 2 Hayles Bldgs", "near flat 2 hayles buildings"),
        ("Opp 4 Acacia Ave", "opposite 4 acacia avenue"),
    ],
)
def test_normalising_expands_abbreviations_and_tells_saint_from_street(
    text: str, expected: str
) -> None:
    assert normalise_address(text) == expected


def test_parse_separates_flat_building_and_noise() -> None:
    p = parse_address("stairwell 2, 3rd floor landing o/s Flat 21 Newman Hse, Garden Row SE1 6HE")
    assert (p.flat, p.core, p.kind, p.context) == ("21", "newman", "house", "garden row")
    q = parse_address("stairwell of Perronet House")
    assert (q.flat, q.core, q.kind) == (None, "perronet", "house")


@pytest.mark.parametrize(
    "text,building",
    [
        ("stairwell of Perronet House", "Perronet House"),
        ("o/s Perronet Hse", "Perronet House"),
        ("Landings B, Newman House", "Newman House"),
        ("Deck access corridor, Wardroper House", "Wardroper House"),
        ("O/S Bin store door, Laurie House", "Laurie House"),
        ("Stairwell 2, St Georges Buildings", "St Georges Buildings"),
        ("3rd floor landing, Hayles Bldgs", "Hayles Buildings"),
        ("nr Prospect House", "Prospect House"),
    ],
)
def test_a_building_named_without_a_flat_is_placed_at_its_centre(
    gazetteer: pd.DataFrame, index: GazetteerIndex, text: str, building: str
) -> None:
    got = one(index, text)
    e, n = centroid_of(gazetteer, building)
    assert got["match_method"] == "address"
    assert pd.isna(got["uprn"])
    assert got["matched_address"] == building
    assert np.hypot(got["easting"] - e, got["northing"] - n) < 1e-6
    assert (
        got["match_score"] < one(index, f"Flat 1, {building}")["match_score"]
    )  # less exact than a flat
    assert "building only" in got["reason"]


def test_a_flat_the_building_does_not_have_goes_to_review(
    gazetteer: pd.DataFrame, index: GazetteerIndex
) -> None:
    got = one(index, "Flat 999 Perronet House")
    e, n = centroid_of(gazetteer, "Perronet House")
    assert got["match_method"] == "address" and pd.isna(got["uprn"])
    assert np.hypot(got["easting"] - e, got["northing"] - n) < 1e-6
    assert got["match_score"] <= 50 and got["needs_review"]
    assert "no flat 999" in got["reason"]


def test_threshold_flags_but_keeps_weak_matches(
    index: GazetteerIndex, gazetteer: pd.DataFrame
) -> None:
    weak = one(index, "Flat 5 Lauire House")  # a transposition in a short name scores in the 80s
    assert weak["match_method"] == "address" and str(weak["uprn"]) == uprn_of(
        gazetteer, "Laurie House", 5
    )
    assert (
        weak["match_score"] < 85 and weak["needs_review"] and "below threshold 85" in weak["reason"]
    )
    relaxed = one(index, "Flat 5 Lauire House", threshold=80)
    assert relaxed["match_score"] == weak["match_score"] and not relaxed["needs_review"]
    strict = one(index, "Flat 5 Lauire House", min_score=90)
    assert strict["match_method"] == "none" and "below 90" in strict["reason"]


@pytest.mark.parametrize(
    "text",
    [
        "unknown",
        "n/a",
        "see notes",
        "purple elephant",
        "",
        "   ",
        "nan (open space)",
        "Elephant and Castle",
        "various",
    ],
)
def test_junk_is_none(index: GazetteerIndex, postcodes: pd.DataFrame, text: str) -> None:
    got = one(index, text, postcodes)
    assert got["match_method"] == "none" and got["match_score"] == 0 and got["reason"]


def test_a_street_alone_names_no_flat(index: GazetteerIndex) -> None:
    got = one(index, "Gaywood St")
    assert got["match_method"] == "none"
    assert "Prospect House" in got["reason"] and "Laurie House" in got["reason"]


def test_numbered_houses_on_a_street_match_exactly() -> None:
    gaz = pd.DataFrame(
        {
            "uprn": ["A1", "A2", "A12", "B12"],
            "address": [
                "1 Acacia Avenue, London",
                "2 Acacia Avenue, London",
                "12 Acacia Avenue, London",
                "12 Acacia Road, London",
            ],
            "easting": [530000.0, 530010.0, 530020.0, 531000.0],
            "northing": [180000.0] * 4,
        }
    )
    assert one(gaz, "12 Acacia Ave")["uprn"] == "A12"
    assert one(gaz, "o/s 2 Acaica Avenue")["uprn"] == "A2"
    assert one(gaz, "12 Acacia Rd")["uprn"] == "B12"
    assert one(gaz, "21 Acacia Avenue")["match_score"] <= 50  # no number 21: the street, for review


# --- coordinates ---------------------------------------------------------------------------------


def test_easting_northing_columns_win(index: GazetteerIndex) -> None:
    rows = pd.DataFrame(
        {"location": ["Flat 12, Perronet House"], "easting": [531700.0], "northing": [179000.0]}
    )
    got = geocode(rows, index).iloc[0]
    assert (got["match_method"], got["easting"], got["northing"], got["match_score"]) == (
        "coordinates",
        531700.0,
        179000.0,
        100,
    )
    lon_lat = lonlat_to_bng([got["lon"]], [got["lat"]])
    assert abs(lon_lat[0][0] - 531700.0) < 0.01 and abs(lon_lat[1][0] - 179000.0) < 0.01


def test_latitude_longitude_columns_use_ostn15(index: GazetteerIndex) -> None:
    # stack-notes.md: E 530000, N 180000 is lat 51.503992, lon -0.128329 by OSTN15
    rows = pd.DataFrame({"Latitude": [51.503992], "Longitude": [-0.128329]})
    got = geocode(rows, index).iloc[0]
    assert got["match_method"] == "coordinates"
    assert abs(got["easting"] - 530000) < 0.5 and abs(got["northing"] - 180000) < 0.5
    assert (got["lat"], got["lon"]) == (51.503992, -0.128329)


@pytest.mark.parametrize(
    "lat_name,lon_name", [("lat", "lon"), ("lat", "lng"), ("latitude", "long"), ("LAT", "LONG")]
)
def test_swapped_latitude_longitude_columns_are_fixed_and_said(
    index: GazetteerIndex, lat_name: str, lon_name: str
) -> None:
    rows = pd.DataFrame({lat_name: [-0.128329, 51.503992], lon_name: [51.503992, -0.128329]})
    got = geocode(rows, index)
    assert (got["match_method"] == "coordinates").all()
    np.testing.assert_allclose(got["easting"], [530000, 530000], atol=0.5)
    np.testing.assert_allclose(got["northing"], [180000, 180000], atol=0.5)
    assert "swapped" in got["reason"].iloc[0] and "swapped" not in got["reason"].iloc[1]
    assert got["lat"].iloc[0] == 51.503992


@pytest.mark.parametrize(
    "lat,lon", [(40.7128, -74.006), (0.0, 0.0), (48.8566, 2.3522), (-33.87, 151.21)]
)
def test_coordinates_outside_great_britain_are_rejected(
    index: GazetteerIndex, lat: float, lon: float
) -> None:
    got = geocode(pd.DataFrame({"lat": [lat], "lon": [lon]}), index).iloc[0]
    assert got["match_method"] == "none" and np.isnan(got["easting"])
    assert "outside Great Britain" in got["reason"]


def test_rejected_coordinates_fall_through_to_the_text(
    index: GazetteerIndex, gazetteer: pd.DataFrame
) -> None:
    rows = pd.DataFrame(
        {"location": ["Flat 12 Perronet House"], "easting": [0.0], "northing": [0.0]}
    )
    got = geocode(rows, index).iloc[0]
    assert got["match_method"] == "address" and str(got["uprn"]) == uprn_of(
        gazetteer, "Perronet House", 12
    )
    assert "outside Great Britain" in got["reason"]


def test_swapped_or_degree_easting_northing_columns(index: GazetteerIndex) -> None:
    # Orkney (E 340000, N 1010000) typed the wrong way round is detectable: no GB easting exceeds
    # 700 km. A swap that still lands inside the grid (E 179000, N 531700) cannot be told apart.
    rows = pd.DataFrame(
        {
            "easting": [1_010_000.0, -0.128329, 9_000_000.0],
            "northing": [340000.0, 51.503992, 179000.0],
        }
    )
    got = geocode(rows, index)
    assert got["match_method"].tolist() == ["coordinates", "coordinates", "none"]
    assert (got["easting"].iloc[0], got["northing"].iloc[0]) == (340000.0, 1_010_000.0)
    assert "swapped" in got["reason"].iloc[0]
    assert abs(got["easting"].iloc[1] - 530000) < 0.5 and "degrees" in got["reason"].iloc[1]
    assert "outside Great Britain" in got["reason"].iloc[2]


@pytest.mark.parametrize(
    "text,easting,northing,word",
    [
        ("51.503992, -0.128329", 530000, 180000, "latitude, longitude"),
        ("51.503992,-0.128329", 530000, 180000, "latitude, longitude"),
        ("-0.128329, 51.503992", 530000, 180000, "swapped"),
        ("51.503992N 0.128329W", 530000, 180000, "latitude, longitude"),
        ("GPS 51.503992 -0.128329 by the bins", 530000, 180000, "latitude, longitude"),
        ("531700 179000", 531700, 179000, "easting/northing"),
        ("E 531700 N 179000", 531700, 179000, "easting/northing"),
        ("E531700.5, N179000.5", 531700.5, 179000.5, "easting/northing"),
        ("N 179000 E 531700", 531700, 179000, "easting/northing"),
        ("Easting: 531700 Northing: 179000", 531700, 179000, "easting/northing"),
    ],
)
def test_coordinates_written_in_the_text(
    index: GazetteerIndex, text: str, easting: float, northing: float, word: str
) -> None:
    got = one(index, text)
    assert got["match_method"] == "coordinates", got["reason"]
    assert abs(got["easting"] - easting) < 0.5 and abs(got["northing"] - northing) < 0.5
    assert word in got["reason"]


@pytest.mark.parametrize(
    "text", ["40.7128, -74.0060", "E 931700 N 179000", "-33.868800, 151.209300"]
)
def test_coordinates_in_the_text_outside_gb_are_rejected(index: GazetteerIndex, text: str) -> None:
    got = one(index, text)
    assert got["match_method"] == "none" and "outside Great Britain" in got["reason"]


# --- grid references -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,easting,northing,size",
    [
        ("TQ37", 535000, 175000, 10000),
        ("TQ3178", 531500, 178500, 1000),
        ("grid ref TQ 31 78", 531500, 178500, 1000),
        ("TQ310785", 531050, 178550, 100),
        ("TQ 3170 7910", 531705, 179105, 10),
        ("TQ 31700 79100", 531700.5, 179100.5, 1),
        ("youths gathering at TQ 31700 79100 by the bins", 531700.5, 179100.5, 1),
        ("tq 317 791", 531750, 179150, 100),
    ],
)
def test_grid_references_place_the_centre_of_their_square(
    index: GazetteerIndex, text: str, easting: float, northing: float, size: float
) -> None:
    got = one(index, text)
    assert got["match_method"] == "grid_ref", got["reason"]
    assert (got["easting"], got["northing"]) == (easting, northing)
    assert f"{size:g} m square" in got["reason"]


def test_coarser_grid_references_score_lower(index: GazetteerIndex) -> None:
    scores = [
        one(index, t)["match_score"] for t in ("TQ 31700 79100", "TQ310785", "TQ3178", "TQ37")
    ]
    assert scores == sorted(scores, reverse=True) and scores[0] == 100 and scores[-1] < 85


@pytest.mark.parametrize(
    "text,why",
    [
        ("IQ 31700 79000", "does not use"),
        ("TZ 12345 67890", "outside Great Britain"),
        ("TQ 317 7910", "same number"),
    ],
)
def test_bad_grid_references_say_why(index: GazetteerIndex, text: str, why: str) -> None:
    got = one(index, text)
    assert got["match_method"] == "none" and why in got["reason"]


def test_short_letter_number_pairs_inside_addresses_are_not_grid_references(
    gazetteer: pd.DataFrame, index: GazetteerIndex
) -> None:
    # "NO 12" and "ST 12" are valid squares (Dundee, Bristol) but here they are "number 12", "saint"
    got = one(index, "NO 12 Perronet House")
    assert got["match_method"] == "address" and str(got["uprn"]) == uprn_of(
        gazetteer, "Perronet House", 12
    )
    got = one(index, "Flat 12, Hayles Buildings, SE11 4TB")
    assert got["match_method"] == "address"


# --- postcodes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["SE1 6FY", "se16fy", "SE16FY", "near se1 6fy", "o/s shop SE1  6FY"]
)
def test_a_postcode_alone_gives_its_centroid(
    index: GazetteerIndex, postcodes: pd.DataFrame, text: str
) -> None:
    got = one(index, text, postcodes)
    row = postcodes[postcodes["Postcode"] == "SE1 6FY"].iloc[0]
    assert got["match_method"] == "postcode" and got["matched_address"] == "SE1 6FY"
    assert (got["easting"], got["northing"]) == (float(row["Eastings"]), float(row["Northings"]))
    assert pd.isna(got["uprn"]) and got["needs_review"]


def test_an_address_beats_its_postcode(
    index: GazetteerIndex, postcodes: pd.DataFrame, gazetteer: pd.DataFrame
) -> None:
    got = one(index, "Flat 12 Perronet House SE1 6FY", postcodes)
    assert got["match_method"] == "address" and str(got["uprn"]) == uprn_of(
        gazetteer, "Perronet House", 12
    )


def test_a_postcode_that_disagrees_with_the_building_is_noted(
    index: GazetteerIndex, postcodes: pd.DataFrame
) -> None:
    got = one(index, "Flat 12 Perronet House SE1 0AA", postcodes)
    assert got["match_method"] == "address" and "differs" in got["reason"]


def test_unknown_and_unusable_postcodes(index: GazetteerIndex, postcodes: pd.DataFrame) -> None:
    assert "not in the postcode file" in one(index, "EH1 1YZ", postcodes)["reason"]
    assert "no postcode file" in one(index, "SE1 6FY")["reason"]
    no_coords = pd.DataFrame(
        {
            "Postcode": ["SE1 9ZZ"],
            "Positional_quality_indicator": [90],
            "Eastings": [0],
            "Northings": [0],
        }
    )
    got = one(index, "SE1 9ZZ", no_coords)
    assert got["match_method"] == "none" and "no coordinates" in got["reason"]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("se16fy", "SE1 6FY"),
        ("SW1A1AA", "SW1A 1AA"),
        (" n1  9gu ", "N1 9GU"),
        ("SE1", None),
        ("Perronet", None),
    ],
)
def test_normalise_postcode(text: str, expected: str | None) -> None:
    assert normalise_postcode(text) == expected


# --- columns, loading, errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "location",
        "Location",
        "location_text",
        "LOCATION_DESCRIPTION",
        "address",
        "Incident Location",
        "loc_address_free",
    ],
)
def test_the_location_column_is_found(
    index: GazetteerIndex, gazetteer: pd.DataFrame, name: str
) -> None:
    rows = pd.DataFrame({"ref": ["A"], "category": ["ASB"], name: ["Flat 12 Perronet House"]})
    assert str(geocode(rows, index)["uprn"].iloc[0]) == uprn_of(gazetteer, "Perronet House", 12)


def test_no_location_and_no_coordinates_is_a_clear_error(index: GazetteerIndex) -> None:
    rows = pd.DataFrame({"ref": ["A"], "category": ["ASB"], "notes": ["Flat 12 Perronet House"]})
    with pytest.raises(GeocodeError) as err:
        geocode(rows, index)
    assert isinstance(err.value, ClosuremapError)
    assert "ref, category, notes" in str(err.value) and "--location-column" in str(err.value)
    with pytest.raises(GeocodeError, match="'where' is not in the table"):
        geocode(rows, index, location_column="where")
    # the named column works
    assert geocode(rows, index, location_column="notes")["match_method"].iloc[0] == "address"


def test_coordinates_alone_need_no_location_column(index: GazetteerIndex) -> None:
    got = geocode(pd.DataFrame({"Easting": [531700], "Northing": [179000]}), index)
    assert got["match_method"].iloc[0] == "coordinates"


def test_an_empty_table_comes_back_empty(index: GazetteerIndex) -> None:
    got = geocode(pd.DataFrame({"location": pd.Series([], dtype=str)}), index)
    assert len(got) == 0 and set(OUTPUT_COLUMNS) <= set(got.columns)


def test_missing_values_in_the_location_are_none(index: GazetteerIndex) -> None:
    rows = pd.DataFrame({"location": [None, np.nan, pd.NA, "Flat 1 Perronet House"]}, dtype=object)
    got = geocode(rows, index)
    assert got["match_method"].tolist() == ["none", "none", "none", "address"]
    assert (got["reason"].iloc[:3] == "nothing to geocode: the location is empty").all()


def test_integer_uprns_stay_integers_and_text_uprns_stay_text(gazetteer: pd.DataFrame) -> None:
    as_int = gazetteer.assign(uprn=gazetteer["uprn"].astype("int64"))
    got = geocode(
        pd.DataFrame({"location": ["Flat 1 Perronet House", "o/s Perronet House"]}), as_int
    )
    assert str(got["uprn"].dtype) == "Int64" and pd.isna(got["uprn"].iloc[1])
    got = geocode(pd.DataFrame({"location": ["Flat 1 Perronet House"]}), gazetteer)
    assert got["uprn"].iloc[0] == uprn_of(gazetteer, "Perronet House", 1)


def test_load_gazetteer_names_missing_columns(tmp_path: Path) -> None:
    bad = tmp_path / "gaz.csv"
    bad.write_text("UPRN,full_address,x,y\n1,Flat 1 A House,530000,180000\n")
    with pytest.raises(GeocodeError) as err:
        load_gazetteer(bad)
    msg = str(err.value)
    assert (
        "address, easting, northing" in msg
        and "UPRN, full_address, x, y" in msg
        and str(bad) in msg
    )
    with pytest.raises(InputFileError, match="does not exist"):
        load_gazetteer(tmp_path / "nope.csv")


def test_load_gazetteer_accepts_other_case_and_keeps_uprn_text(tmp_path: Path) -> None:
    ok = tmp_path / "gaz.csv"
    ok.write_text('UPRN,Address,Easting,Northing,extra\n000123,"Flat 1, A House",530000,180000,x\n')
    frame = load_gazetteer(ok)
    assert (
        list(frame.columns[:4]) == ["uprn", "address", "easting", "northing"]
        and frame["uprn"].iloc[0] == "000123"
    )


def test_load_postcodes_with_and_without_header(tmp_path: Path) -> None:
    headed = load_postcodes(POSTCODES)
    assert {"Postcode", "Eastings", "Northings"} <= set(headed.columns)
    raw = tmp_path / "se.csv"  # OS ships Code-Point Open data files without a header row
    raw.write_text(
        '"SE1 6FY",10,531850,179120,"E92000001","E19000003","E18000007","",'
        '"E09000028","E05011114"\n'
    )
    frame = load_postcodes(raw)
    assert frame["Postcode"].tolist() == ["SE1 6FY"] and frame["Eastings"].tolist() == [531850]
    bad = tmp_path / "bad.csv"
    bad.write_text("pc,e,n\nSE1 6FY,1,2\n")
    with pytest.raises(GeocodeError, match="Postcode, Eastings, Northings"):
        load_postcodes(bad)


def test_a_gazetteer_frame_without_columns_is_refused(index: GazetteerIndex) -> None:
    with pytest.raises(GeocodeError, match="uprn"):
        geocode(pd.DataFrame({"location": ["x"]}), pd.DataFrame({"address": ["Flat 1 A House"]}))
    with pytest.raises(GeocodeError, match="Postcode"):
        geocode(pd.DataFrame({"location": ["x"]}), index, pd.DataFrame({"pc": ["SE1 6FY"]}))


def test_an_index_and_a_frame_give_the_same_answers(
    labelled: pd.DataFrame,
    labelled_result: pd.DataFrame,
    index: GazetteerIndex,
    postcodes: pd.DataFrame,
) -> None:
    again = geocode(labelled, index, postcodes, location_column="location")
    pd.testing.assert_frame_equal(again, labelled_result)


GEOCODE_PACKAGE = Path(geocode_module.__file__).parent
OFFLINE_MODULES = sorted(GEOCODE_PACKAGE.glob("*.py")) + [GEOCODE_PACKAGE.parent / "gridref.py"]


@pytest.mark.parametrize("module", OFFLINE_MODULES, ids=lambda p: p.name)
def test_offline_and_ostn15_only(module: Path) -> None:
    """No network clients, no UI, and no pyproj: WGS84 <-> BNG goes through geo.crs (OSTN15)."""
    tree = ast.parse(module.read_text())
    names = {
        a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    names |= {
        n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
    }
    assert not names & {
        "requests",
        "urllib",
        "http",
        "socket",
        "httpx",
        "pyproj",
        "streamlit",
        "folium",
        "geopy",
    }
