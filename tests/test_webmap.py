"""The web map: offline assets only, every layer drawn, every text escaped."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import geopandas as gpd
import shapely

from closuremap.geo.crs import BNG
from closuremap.layers import incident_map
from closuremap.layers.assets import LOCAL_ASSETS, STATIC_DIR
from closuremap.layers.incident_map import GRID_CELLS, grid_cell_m, incident_grid
from closuremap.layers.model import KINDS
from closuremap.layers.store import GeoPackageStore
from closuremap.layers.webmap import TileSource, build_map, map_summary


def _frames(store: GeoPackageStore) -> dict[str, gpd.GeoDataFrame]:
    return {k: store.read(k) for k in KINDS}


def test_every_shipped_asset_exists() -> None:
    for path in filter(None, LOCAL_ASSETS.values()):
        assert (STATIC_DIR / path).is_file(), path


def test_no_script_or_stylesheet_comes_from_the_internet(sample_store: GeoPackageStore) -> None:
    m = build_map(_frames(sample_store), attribution=["© OpenStreetMap contributors"])
    summary = map_summary(m)
    assert summary["external"] == []
    refs = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', summary["html"])
    assert refs and all(r.startswith("/app/static/vendor/") for r in refs)
    assert "tile.openstreetmap" not in summary["html"] and "L.tileLayer" not in summary["html"]


def test_every_layer_is_in_the_layer_control(sample_store: GeoPackageStore) -> None:
    html_text = map_summary(build_map(_frames(sample_store)))["html"]
    for kind in KINDS.values():
        assert f"{kind.title} ({sample_store.count(kind.name)})" in html_text
    assert "L.control.scale" in html_text and "L.control.measure" in html_text.replace(
        "L.Control.Measure", "L.control.measure"
    )


def test_attribution_is_on_the_map(sample_store: GeoPackageStore) -> None:
    html_text = map_summary(
        build_map(_frames(sample_store), attribution=["© OpenStreetMap contributors <ODbL>"])
    )["html"]
    assert "addAttribution" in html_text and "OpenStreetMap contributors" in html_text
    assert "<ODbL>" not in html_text


def test_incident_text_is_escaped_in_popups_and_never_raw_in_the_page() -> None:
    evil = '<img src=x onerror=alert(1)></script><script>alert("x")</script>'
    incidents = gpd.GeoDataFrame(
        {
            "feature_id": ["f1"],
            "category": [evil],
            "description": [evil],
            "location_text": ["o/s Flat 12 & co"],
        },
        geometry=[shapely.Point(531750, 179100)],
        crs=BNG,
    )
    html_text = map_summary(build_map({"incidents": incidents}))["html"]
    assert "<img src=x" not in html_text and "<script>alert" not in html_text
    props = _layer_data(html_text)[0]["properties"]
    # what the popup's innerHTML receives is escaped text: it shows, it does not run
    assert "<td>&lt;img src=x onerror=alert(1)&gt;&lt;/script&gt;&lt;script&gt;" in props["popup"]
    assert "o/s Flat 12 &amp; co" in props["popup"]
    assert props["label"].startswith("&lt;img")


def _layer_data(html_text: str) -> list[dict]:
    """The features handed to Leaflet, decoded from the page's script."""
    start = html_text.index('({"features"') + 1
    data, _ = json.JSONDecoder().raw_decode(html_text, start)
    return data["features"]


def test_tiles_only_when_asked(sample_store: GeoPackageStore) -> None:
    frames = {"premises": sample_store.read("premises")}
    assert "tileLayer" not in map_summary(build_map(frames))["html"]
    with_tiles = map_summary(
        build_map(frames, tiles=TileSource("https://tiles.example/{z}/{x}/{y}.png", "Example"))
    )
    assert "https://tiles.example/{z}/{x}/{y}.png" in with_tiles["html"]


def test_map_is_centred_on_the_blocks(sample_store: GeoPackageStore) -> None:
    m = build_map(_frames(sample_store))
    lat, lon = m.location
    assert 51.49 < lat < 51.50 and -0.106 < lon < -0.100


def _many(n: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(5)
    return gpd.GeoDataFrame(
        {
            "category": rng.choice(["asb", "drugs", "<img src=x onerror=alert(1)>"], n),
            "occurred_at": "2024-01-01",
            "description": "a secret description",
            "location_text": "Landing 3",
        },
        geometry=shapely.points(523000 + rng.random(n) * 12000, 175000 + rng.random(n) * 9000),
        crs=27700,
    )


def test_a_borough_year_of_calls_is_a_page_of_a_few_megabytes() -> None:
    page = build_map({"incidents": _many(100_000)}).get_root().render()
    assert len(page.encode()) <= 5_000_000
    assert (
        "a secret description" not in page
    )  # 100k popups made a 15 MB page: clusters and a grid instead
    assert "Incidents per 150 m square" in page
    assert (
        "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in page and "<img src=x" not in page
    )  # escaped


def test_a_million_calls_still_open_as_counts_per_square() -> None:
    frame = _many(1_000_000)
    page = build_map({"incidents": frame}).get_root().render()
    assert len(page.encode()) <= 5_000_000 and "counts per 150 m square" in page
    grid = incident_grid(frame, grid_cell_m(frame))
    assert int(grid["count"].sum()) == len(frame) and len(grid) <= GRID_CELLS


def test_few_incidents_keep_their_popups() -> None:
    page = build_map({"incidents": _many(5_000)}).get_root().render()
    assert "a secret description" in page and "square" not in page


def test_grid_counts_each_incident_once_in_its_square() -> None:
    frame = gpd.GeoDataFrame(
        {"category": ["asb", "asb", "drugs", "asb"]},
        geometry=shapely.points([10, 99.9, 100, 150], [10, 50, 0, 199.9]),
        crs=27700,
    )
    grid = incident_grid(frame, 100.0).sort_values("count", ascending=False)
    assert grid["count"].tolist() == [2, 1, 1] and grid["categories"].iloc[0] == "asb 2"
    assert sorted(zip(grid.geometry.bounds["minx"], grid.geometry.bounds["miny"], strict=True)) == [
        (0, 0),
        (100, 0),
        (100, 100),
    ]


@pytest.mark.parametrize(
    "n, popups, grid_only",
    [(20, True, False), (21, False, False), (40, False, False), (41, False, True)],
)
def test_the_map_tiers_just_inside_and_just_outside(
    n: int, popups: bool, grid_only: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(incident_map, "POPUPS_UP_TO", 20)
    monkeypatch.setattr(incident_map, "GRID_ONLY_ABOVE", 40)
    page = build_map({"incidents": _many(n)}, incident_mode="clusters").get_root().render()
    assert ("a secret description" in page) == popups
    assert ("counts per" in page) == grid_only
    assert ("square" in page) == (not popups)


@pytest.mark.parametrize("n, mode", [(1, "auto"), (30, "clusters"), (15, "clusters")])
def test_text_typed_as_template_code_is_shown_not_run(
    n: int, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # branca reads each rendered script back in as a Jinja template: "{{ 7*7 }}" in a call's text
    # came out as 49, and worse could run
    monkeypatch.setattr(incident_map, "POPUPS_UP_TO", 20)  # 30: the grid's popups carry the text
    frame = _many(n).assign(category="AA{{ 7*7 }}BB {# c", description="CC{{ 6*7 }}DD")
    page = build_map({"incidents": frame}, incident_mode=mode).get_root().render()
    assert "AA49BB" not in page and "CC42DD" not in page
    assert "7*7" in page and "{{ 7*7 }}" not in page
    if n <= 20:
        assert "6*7" in page  # the description is in the popups


def test_many_points_travel_as_one_compact_array_decoded_to_a_metre() -> None:
    frame = _many(25_000)
    page = build_map({"incidents": frame}).get_root().render()
    data, _ = json.JSONDecoder().raw_decode(page, page.index('{"scale":'))
    lat = (data["lat0"] + np.array(data["lat"])) / data["scale"]
    lon = (data["lon0"] + np.array(data["lon"])) / data["scale"]
    from closuremap.geo.crs import bng_to_lonlat

    want_lon, want_lat = bng_to_lonlat(frame.geometry.x, frame.geometry.y)
    assert np.abs(lat - want_lat).max() <= 0.5e-5 and np.abs(lon - want_lon).max() <= 0.5e-5
    assert data["popups"] is None and "leaflet.markercluster.js" not in page  # no marker objects
