"""Pages headless with Streamlit's AppTest: they run, show the workspace, and stay offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from closuremap.layers.store import GeoPackageStore
from tests.conftest import ROOT

APP = str(ROOT / "app.py")
ACTING = "PC Ann Example (4321)"


@pytest.fixture
def app(sample_store: GeoPackageStore, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("CLOSUREMAP_WORKSPACE", str(sample_store.path))
    monkeypatch.setenv("CLOSUREMAP_USER", ACTING)
    return AppTest.from_file(APP, default_timeout=60)


def _component_args(at: AppTest) -> dict:
    for node in at.get("component_instance"):
        return json.loads(node.proto.json_args)
    raise AssertionError("no st_folium component on the page")


def test_map_page_is_first_and_draws_the_workspace(app: AppTest) -> None:
    at = app.run()
    assert not at.exception
    assert at.title[0].value.startswith("Sample estate")
    args = _component_args(at)
    assert all(
        link.startswith("/app/static/vendor/") for link in args["js_links"] + args["css_links"]
    )
    assert "Blocks (premises) (7)" in args["script"]
    assert any("OpenStreetMap contributors" in c.value for c in at.caption)


def test_tiles_toggle_is_off_by_default(app: AppTest) -> None:
    at = app.run()
    assert at.toggle(key="tiles_on").value is False
    assert "tileLayer" not in _component_args(at)["script"]
    at.toggle(key="tiles_on").set_value(True)
    at.text_input(key="tiles_url").set_value("https://tiles.example/{z}/{x}/{y}.png")
    at.run()
    assert "https://tiles.example/{z}/{x}/{y}.png" in _component_args(at)["script"]


def test_layers_page_lists_every_kind(app: AppTest) -> None:
    at = app.run()
    at.switch_page("app_pages/layers.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert dict(zip(table["kind"], table["features"], strict=True))["premises"] == 7


def test_a_bad_workspace_path_is_a_sentence_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CLOSUREMAP_WORKSPACE", str(tmp_path / "missing.gpkg"))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "does not exist" in at.error[0].value


def test_every_export_format_on_the_layers_page_downloads_as_one_usable_file(
    app: AppTest,
) -> None:
    at = app.run()
    at.switch_page("app_pages/layers.py").run()
    formats = at.selectbox(key="export_format").options
    assert ".zip" in formats and ".shp" not in formats  # a bare .shp lacks its .dbf, .shx, .prj
    at.selectbox(key="export_kind").set_value("basemap").run()  # mixed points, lines, polygons
    for suffix in formats:
        at.selectbox(key="export_format").set_value(suffix).run()
        at.button[[b.label for b in at.button].index("Prepare export")].click().run()
        assert not at.exception, (suffix, at.exception)
        assert not at.error, (suffix, [e.value for e in at.error])


def test_orders_page_builds_and_checks_a_scope(app: AppTest) -> None:
    at = app.run()
    at.switch_page("app_pages/orders.py").run()
    assert not at.exception
    at.multiselect(key="scope_blocks_new").set_value(["LAU", "WAR"]).run()
    at.button(key="check_scope").click().run()
    assert not at.exception
    verdicts = (
        [s.value for s in at.success] + [w.value for w in at.warning] + [e.value for e in at.error]
    )
    assert "Verdict: premises" in verdicts
    findings = at.dataframe[1].value
    assert set(findings["code"]) >= {"WHOLE_BLOCK"}


def test_saving_an_order_is_audited(app: AppTest, sample_store: GeoPackageStore) -> None:
    communal = sample_store.read("communal_areas")
    stair = communal[(communal.block_id == "HAY") & (communal.area_type == "stairwell")][
        "feature_id"
    ].iloc[0]
    at = app.run()
    at.switch_page("app_pages/orders.py").run()
    at.multiselect(key="scope_for_blocks_new").set_value(["HAY"]).run()
    at.multiselect(key="scope_communal_new").set_value([stair]).run()
    at.button(key="check_scope").click().run()
    assert any(s.value == "Verdict: premises" for s in at.success)
    at.text_input(key="order_ref_new").set_value("ORD-002")
    at.text_input(key="order_name_new").set_value("Hayles Buildings stairwell")
    at.button(key="save_order_button").click().run()
    assert not at.exception
    assert any("saved ORD-002" in s.value for s in at.success), [e.value for e in at.error]
    saved = sample_store.read("orders").set_index("order_id")
    assert saved.loc["ORD-002", "block_ids"] == "HAY"
    stair_shape = communal.set_index("feature_id").geometry[stair]
    assert saved.loc["ORD-002"].geometry.symmetric_difference(stair_shape).area < 1e-6
    entry = sample_store.history(kind="orders").iloc[0]
    assert entry["action"] == "add" and "ORD-002" in entry["after"] and entry["user"] == ACTING


def test_a_notice_that_excludes_residents_is_refused(
    app: AppTest, sample_store: GeoPackageStore
) -> None:
    at = app.run()
    at.switch_page("app_pages/orders.py").run()
    at.multiselect(key="scope_blocks_new").set_value(["WAR"]).run()
    at.button(key="check_scope").click().run()
    at.text_input(key="order_ref_new").set_value("ORD-003")
    at.text_input(key="order_name_new").set_value("Wardroper House")
    at.multiselect(key="permitted_classes_new").set_value(["owner", "emergency_services"])
    at.button(key="save_order_button").click().run()
    assert any("s.76(4)" in e.value for e in at.error)
    assert "ORD-003" not in set(sample_store.read("orders")["order_id"])


def test_briefing_page_shows_no_incident_points_or_text(
    app: AppTest, sample_store: GeoPackageStore
) -> None:
    at = app.run()
    at.switch_page("app_pages/briefing.py").run()
    assert not at.exception
    args = _component_args(at)
    incidents = sample_store.read("incidents")
    page_text = " ".join(str(e.value) for e in at.markdown) + " ".join(
        str(c.value) for c in at.caption
    )
    page_text += " ".join(df.value.to_csv() for df in at.dataframe) + args["script"]
    assert "Incidents (" not in args["script"] and "Addresses (" not in args["script"]
    for ref in incidents["reference"].dropna().head(100):
        assert ref not in page_text
    for desc in incidents["description"].dropna().unique()[:30]:
        assert desc not in page_text
    # no point of any kind on the briefing map: blocks, orders, streets and open space only
    assert '"type": "Point"' not in args["script"] and "circleMarker" not in args["script"]
    assert '"type": "MultiPolygon"' in args["script"]


def test_documents_page_makes_letters(app: AppTest) -> None:
    at = app.run()
    at.switch_page("app_pages/documents.py").run()
    assert not at.exception
    at.button(key="make_letters").click().run()
    assert not at.exception
    assert any("letters, one page each" in s.value for s in at.success)


def test_draw_page_runs_with_a_floor_plan(app: AppTest, sample_store: GeoPackageStore) -> None:
    import io

    from PIL import Image

    from closuremap.layers import floorplans

    buf = io.BytesIO()
    Image.new("RGBA", (300, 150), (200, 200, 255, 255)).save(buf, format="PNG")
    floorplans.save_plan(
        sample_store.location,
        block_id="LAU",
        floor=0,
        name="lau-ground.png",
        png=buf.getvalue(),
        control_points=[
            ((0, 0), (531760, 179110)),
            ((300, 0), (531790, 179110)),
            ((0, 150), (531760, 179095)),
        ],
        user="ann",
    )
    at = app.run()
    at.switch_page("app_pages/draw.py").run()
    assert not at.exception
    script = _component_args(at)["script"]
    assert "L.imageOverlay" in script and "L.Control.Draw" in script
    assert any("lau-ground.png" in e.label for e in at.expander)


def test_review_page_lists_what_the_geocoder_could_not_place(
    app: AppTest, sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    from closuremap.layers.importer import import_file

    src = tmp_path / "cad.csv"
    src.write_text(
        'ref,when,what,location\nC4,04/03/2024 02:00,Criminal damage,"see notes"\n'
        'C1,01/03/2024 22:10,Drugs,"Flat 12 Perronet House"\n'
    )
    import_file(sample_store, "incidents", src, user="t", rejects_path=tmp_path / "r.csv")
    at = app.run()
    at.switch_page("app_pages/review.py").run()
    assert not at.exception
    assert "see notes" in at.dataframe[0].value["location"].tolist()
    at.button(key=f"review_use_address_{at.selectbox(key='review_item').value}").click().run()
    assert not at.exception
    assert any("Nothing to review" in s.value for s in at.success)


def test_an_orders_breaches_are_checked_on_its_page(app: AppTest) -> None:
    at = app.run()
    at.switch_page("app_pages/orders.py").run()
    at.selectbox(key="order_pick").set_value("ORD-001").run()
    assert not at.exception
    assert any("2 of 3 breach(es) flagged" in w.value for w in at.warning)


def _reporting_page() -> None:
    """A page that meets a user's errors and then a bug (run by AppTest.from_function)."""
    # AppTest runs this function's body alone, as a script: its imports must be inside it
    import streamlit as st

    from closuremap.app_pages.common import reporting_errors
    from closuremap.geo.errors import CoordinateError, SchemaError

    with reporting_errors(values={"Column for occurred_at": "Date of call", "Notes": ""}):
        raise SchemaError("no column 'Date of call' in calls.csv")
    with reporting_errors(values={"Coordinate system": "EPSG:1"}):
        raise CoordinateError("'EPSG:1' is not a coordinate system I know")  # named already
    with reporting_errors("Letter template") as outcome:
        raise SchemaError("the letter template uses $x")  # names its field already
    st.write(f"went on; ok={outcome.ok}")
    with reporting_errors():
        raise ValueError("a bug")


def test_pages_say_a_users_error_naming_the_field_and_show_a_bug_as_one() -> None:
    at = AppTest.from_function(_reporting_page, default_timeout=60).run()
    assert [e.value for e in at.error] == [
        "Column for occurred_at: no column 'Date of call' in calls.csv",
        "'EPSG:1' is not a coordinate system I know",
        "the letter template uses $x",
    ]
    assert at.markdown[0].value == "went on; ok=False"
    assert at.exception and "a bug" in at.exception[0].message
