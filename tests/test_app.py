"""Pages headless with Streamlit's AppTest: they run, show the workspace, and stay offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from layers.store import GeoPackageStore
from tests.conftest import ROOT

APP = str(ROOT / "app.py")


@pytest.fixture
def app(sample_store: GeoPackageStore, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("CLOSUREMAP_WORKSPACE", str(sample_store.path))
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
    assert all(link.startswith("/app/static/vendor/") for link in args["js_links"] + args["css_links"])
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
    assert dict(zip(table["kind"], table["features"]))["premises"] == 7


def test_a_bad_workspace_path_is_a_sentence_not_a_traceback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLOSUREMAP_WORKSPACE", str(tmp_path / "missing.gpkg"))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "does not exist" in at.error[0].value
