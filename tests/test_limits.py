"""Each limit added in this change, tested just inside and just outside."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

import geopandas as gpd
import shapely

from closuremap.geo.crs import BNG
from closuremap.geo.geocode import TEXT_COORDINATE_MARGIN_M, geocode
from closuremap.geo.timeline import timeline
from closuremap.layers.coercion import coerce_column
from closuremap.layers.editing import typed_attributes
from closuremap.layers.exporter import SHAPEFILE_TEXT_MAX, shapefile_losses
from closuremap.layers.model import KINDS

GAZ = pd.DataFrame(
    {
        "uprn": ["1", "2"],
        "address": ["1 Alpha Road, London", "2 Alpha Road, London"],
        "easting": [540000.0, 540100.0],
        "northing": [185000.0, 185000.0],
    }
)


@pytest.mark.parametrize(("beyond_m", "placed"), [(-1.0, True), (1.0, False)])
def test_coordinates_in_text_are_taken_only_within_the_margin(
    beyond_m: float, placed: bool
) -> None:
    east = (
        540100 + TEXT_COORDINATE_MARGIN_M + beyond_m
    )  # east of the gazetteer's easternmost address
    coded = geocode(pd.DataFrame({"location": [f"youths at {east:.0f} 185000"]}), GAZ, None)
    assert (coded["match_method"].iloc[0] == "coordinates") is placed


@pytest.mark.parametrize(
    ("kind", "field", "inside", "outside"),
    [
        ("communal_areas", "floor_from", ["200", "-10"], ["201", "-11"]),
        ("access_routes", "width_m", ["0.1", "100"], ["0.09", "100.5"]),
        ("orders", "notice_hours", ["1", "168"], ["0", "169"]),
        ("orders", "order_months", ["1", "24"], ["0", "25"]),
    ],
)
def test_numeric_fields_take_their_range_and_refuse_one_step_beyond(
    kind: str, field: str, inside: list[str], outside: list[str]
) -> None:
    spec = KINDS[kind].field(field)
    values, reasons = coerce_column(pd.Series(inside + outside), spec)
    assert reasons[:2] == [None, None] and all(r and "outside" in r for r in reasons[2:])
    assert values[:2] == [float(v) if spec.kind == "float" else int(v) for v in inside]
    with pytest.raises(Exception, match=field):
        typed_attributes(kind, {field: outside[0]})


@pytest.mark.parametrize(
    ("length", "noted"), [(SHAPEFILE_TEXT_MAX, False), (SHAPEFILE_TEXT_MAX + 1, True)]
)
def test_a_shapefile_export_notes_text_it_would_cut(length: int, noted: bool) -> None:
    frame = gpd.GeoDataFrame(
        {"notes": ["x" * length]}, geometry=[shapely.Point(540000, 185000)], crs=BNG
    )
    assert bool(shapefile_losses(frame)) is noted


@pytest.mark.parametrize(("hours", "noted"), [(24, False), (25, True), (47, True), (48, False)])
def test_a_notice_length_other_than_24_or_48_hours_is_noted(hours: int, noted: bool) -> None:
    t = timeline(
        notice_issued=datetime(2025, 3, 1, 9, 0), notice_hours=hours, authorised_by="Superintendent"
    )
    assert any(f"{hours} hours:" in n for n in t.notes) is noted
