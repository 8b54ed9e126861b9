"""The geocoder on a street layout it was not written against (tests/data/make_geocode_unseen.py):
precision and recall per shape of location, each at least 99 %, and junk placed nowhere."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from closuremap.geo.geocode import TEXT_COORDINATE_SCORE, geocode
from tests.data import make_geocode_unseen as unseen

TARGET = 0.99


@pytest.fixture(scope="module")
def result() -> pd.DataFrame:
    gaz, labelled = unseen.build()
    coded = geocode(labelled, gaz, None, location_column="location")
    got = coded[
        ["match_method", "match_score", "uprn", "easting", "northing", "needs_review"]
    ].rename(columns={"uprn": "uprn_got"})
    return pd.concat([labelled, got], axis=1)


def _scores(rows: pd.DataFrame) -> tuple[float, float]:
    """(precision, recall): right answers over rows placed, and over rows that have an answer."""
    if "uprn" in rows and rows["uprn"].notna().any():
        right = rows["uprn_got"].astype("string") == rows["uprn"].astype("string")
    else:
        right = (
            np.hypot(
                rows["easting"] - rows["expected_easting"],
                rows["northing"] - rows["expected_northing"],
            )
            < 1.0
        )
    placed = rows["match_method"] != "none"
    precision = float((right & placed).sum() / placed.sum()) if placed.any() else 1.0
    return precision, float(right.sum() / len(rows))


@pytest.mark.parametrize(
    "shape", ["street_number", "flat_no_type_word", "flat_type_word", "text_coordinates_in"]
)
def test_each_shape_is_placed_right(result: pd.DataFrame, shape: str) -> None:
    rows = result[result["shape"] == shape]
    precision, recall = _scores(rows)
    wrong = (
        rows[rows["uprn_got"].astype("string") != rows["uprn"].astype("string")]
        if shape != "text_coordinates_in"
        else rows[
            np.hypot(
                rows["easting"] - rows["expected_easting"],
                rows["northing"] - rows["expected_northing"],
            )
            >= 1.0
        ]
    )
    assert precision >= TARGET and recall >= TARGET, (
        shape,
        precision,
        recall,
        wrong["location"].head(8).tolist(),
    )
    print(f"{shape}: {len(rows)} locations, precision {precision:.3f}, recall {recall:.3f}")


def test_street_numbers_and_typeless_flats_are_placed_at_the_property(result: pd.DataFrame) -> None:
    rows = result[result["shape"].isin(["street_number", "flat_no_type_word"])]
    assert (rows["uprn_got"].notna()).all()  # a property, never the street's or building's centre


def test_coordinates_in_free_text_go_to_review_and_far_ones_are_not_taken(
    result: pd.DataFrame,
) -> None:
    inside = result[result["shape"] == "text_coordinates_in"]
    assert inside["needs_review"].all() and (inside["match_score"] == TEXT_COORDINATE_SCORE).all()
    outside = result[result["shape"] == "text_coordinates_out"]
    assert (outside["match_method"] == "none").all(), outside["location"].head().tolist()


def test_junk_stays_unplaced(result: pd.DataFrame) -> None:
    junk = result[result["shape"] == "junk"]
    assert (junk["match_method"] == "none").all(), junk[junk["match_method"] != "none"][
        "location"
    ].tolist()
