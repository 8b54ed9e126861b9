"""The map and drawing pages as an officer uses them: labelled blocks, a legend, a folded layer
list, one zoom level a wheel notch, a grid reference for a clicked point, handles only on the shape
chosen."""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

import geopandas as gpd
import shapely

from closuremap.geo.crs import BNG, bng_to_lonlat
from closuremap.layers.drawmap import build_draw_map
from closuremap.layers.store import GeoPackageStore
from closuremap.layers.webmap import Overlay, build_map, legend_rows, map_summary
from tests.conftest import ROOT


def test_the_map_has_block_labels_a_legend_and_a_folded_layer_list(
    sample_store: GeoPackageStore,
) -> None:
    frames = {k: sample_store.read(k) for k in ("basemap", "premises", "communal_areas", "orders")}
    frames["premises"].loc[0, "name"] = "<b>Rent $5</b> & House"
    shading = Overlay(
        "Incidents per block", frames["premises"], "#fd8d3c", legend=(("1–5", "#fdd0a2"),)
    )
    html = map_summary(build_map(frames, overlays=[shading]))["html"]
    labels = [
        json.loads(m) for m in re.findall(r'L\.divIcon\(\{\s*"html": ("(?:[^"\\]|\\.)*")', html)
    ]
    assert len(labels) == len(frames["premises"]) and all("cm-block-label" in x for x in labels)
    assert "<div class='cm-block-label'>&lt;b&gt;Rent $5&lt;/b&gt; &amp; House</div>" in labels
    assert "Newman House" in " ".join(labels)
    legend = json.loads(re.search(r'div\.innerHTML = ("(?:[^"\\]|\\.)*")', html).group(1))
    assert (
        "Blocks (premises)" in legend
        and "Incidents per block: 1–5" in legend
        and "cm-legend" in html
    )
    assert '"collapsed": true' in html
    assert '"wheelPxPerZoomLevel": 120' in html


def test_legend_rows_name_each_kind_shown_and_each_overlay_band(
    sample_store: GeoPackageStore,
) -> None:
    frames = {
        "premises": sample_store.read("premises"),
        "entrances": sample_store.read("entrances"),
        "incidents": sample_store.read("incidents").iloc[0:0],
    }
    rows = legend_rows(
        frames,
        [Overlay("Gi* hot spots", frames["premises"], "#b2182b", legend=(("hot 99%", "#b2182b"),))],
    )
    names = [r[0] for r in rows]
    assert names == [
        "Blocks (premises)",
        "Entrances",
        "Gi* hot spots: hot 99%",
    ]  # empty layers left out


def test_edit_mode_puts_handles_only_on_the_chosen_feature(sample_store: GeoPackageStore) -> None:
    frames = {
        k: sample_store.read(k) for k in ("basemap", "premises", "communal_areas", "entrances")
    }
    chosen = frames["communal_areas"]["feature_id"].iloc[3]
    html = map_summary(build_draw_map(frames, "communal_areas", editable=[chosen]))["html"]
    editable = json.loads(html.split("L.geoJSON(", 1)[1].split(", {\n", 1)[0])
    assert [f["properties"]["feature_id"] for f in editable["features"]] == [chosen]
    assert (
        f"Communal areas ({len(frames['communal_areas']) - 1})" in html
    )  # the rest are drawn as context


def test_names_typed_as_template_code_are_shown_not_run_on_the_drawing_map(
    sample_store: GeoPackageStore,
) -> None:
    # branca reads each rendered script back in as a Jinja template: a block named "{{ 7*7 }}"
    # came out as 49 on the drawing map, and a floor plan's name likewise
    frames = {k: sample_store.read(k) for k in ("basemap", "premises", "communal_areas")}
    frames["communal_areas"].loc[0, "name"] = "AA{{ 7*7 }}BB"
    guide = ("CC{{ 6*7 }}DD", "data:image/png;base64,", [[51.5, -0.2], [51.6, -0.1]], 0.5)
    html = map_summary(build_draw_map(frames, "communal_areas", guides=[guide]))["html"]
    assert "AA49BB" not in html and "CC42DD" not in html
    assert "7*7" in html and "6*7" in html and "{{ 7*7 }}" not in html


def test_the_drawing_map_opens_on_the_shape_in_focus(sample_store: GeoPackageStore) -> None:
    frames = {k: sample_store.read(k) for k in ("basemap", "premises", "communal_areas")}
    shape = frames["communal_areas"].geometry.iloc[0]
    minx, miny, maxx, maxy = shape.bounds
    html = map_summary(
        build_draw_map(frames, "communal_areas", editable=[], focus=(minx, miny, maxx, maxy))
    )["html"]
    lon, lat = bng_to_lonlat([minx, maxx], [miny, maxy])
    assert f"[[{lat[0]}, {lon[0]}], [{lat[1]}, {lon[1]}]]" in html.replace("\n", "")


def test_a_clicked_point_is_given_as_a_grid_reference(
    sample_store: GeoPackageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamlit_folium

    lon, lat = bng_to_lonlat([531870.2], [179120.4])
    monkeypatch.setattr(
        streamlit_folium,
        "st_folium",
        lambda *a, **k: {"last_clicked": {"lat": float(lat[0]), "lng": float(lon[0])}},
    )
    monkeypatch.setenv("CLOSUREMAP_WORKSPACE", str(sample_store.path))
    monkeypatch.setenv("CLOSUREMAP_USER", "PC Map (1)")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert any(
        "TQ 31870 79120" in c.value and "E 531870.2 N 179120.4" in c.value for c in at.caption
    )


def test_a_polygon_kind_with_no_features_still_gets_a_legend_row_for_what_is_shown(
    store: GeoPackageStore,
) -> None:
    block = gpd.GeoDataFrame(
        {"block_id": ["B"], "name": ["Block"]},
        geometry=[shapely.box(531700, 179000, 531720, 179020)],
        crs=BNG,
    )
    html = map_summary(
        build_map({"premises": block, "communal_areas": store.read("communal_areas")})
    )["html"]
    legend = json.loads(re.search(r'div\.innerHTML = ("(?:[^"\\]|\\.)*")', html).group(1))
    assert "Blocks (premises)</div>" in legend and "Communal areas</div>" not in legend
