"""No lost edits: a save based on a version someone else has changed since is refused, says who
changed what, and keeps the user's edit on the page to re-apply. The store-level tests run on
each backend (``any_sample_store``: a GeoPackage, and PostGIS on the test server)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from closuremap.geo.errors import StaleEditError
from closuremap.layers.store import WorkspaceStore
from tests.conftest import ROOT


def test_a_stale_save_is_refused_and_names_who_changed_what(
    any_sample_store: WorkspaceStore,
) -> None:
    sample_store = any_sample_store
    fid = sample_store.read("communal_areas")["feature_id"].iloc[0]
    ann_loaded = sample_store.version("communal_areas", fid)
    bea_loaded = sample_store.version("communal_areas", fid)
    sample_store.update(
        "communal_areas",
        fid,
        user="PC Ann (1)",
        attributes={"name": "Stair A (north)"},
        expected_version=ann_loaded,
    )
    with pytest.raises(StaleEditError, match=r"PC Ann \(1\) at .*name: .* → Stair A \(north\)"):
        sample_store.update(
            "communal_areas",
            fid,
            user="PC Bea (2)",
            attributes={"floor_to": 9},
            expected_version=bea_loaded,
        )
    row = sample_store.read("communal_areas").set_index("feature_id").loc[fid]
    assert (
        row["name"] == "Stair A (north)" and row["floor_to"] != 9
    )  # Ann's change kept, Bea's not applied
    assert (
        sample_store.history(kind="communal_areas", feature_id=fid).iloc[0]["user"] == "PC Ann (1)"
    )


def test_two_editors_over_many_rounds_lose_nothing(any_sample_store: WorkspaceStore) -> None:
    sample_store = any_sample_store
    fid = sample_store.read("orders")["feature_id"].iloc[0]
    rng = random.Random(7)
    accepted: list[str] = []
    refused = 0
    for i in range(20):
        first, second = rng.sample(["PC Ann (1)", "PC Bea (2)"], 2)
        v = sample_store.version("orders", fid)  # both open the order
        sample_store.update(
            "orders",
            fid,
            user=first,
            attributes={"notes": f"{first} round {i}"},
            expected_version=v,
        )
        accepted.append(f"{first} round {i}")
        try:
            sample_store.update(
                "orders",
                fid,
                user=second,
                attributes={"notes": f"{second} round {i}"},
                expected_version=v,
            )
        except StaleEditError:
            refused += 1
        else:
            raise AssertionError("a stale save went through")
    assert refused == 20
    notes = sample_store.history(kind="orders", feature_id=fid)["after"].str.extract(
        r'"notes": "([^"]*)"'
    )[0]
    assert (
        list(reversed(notes.dropna().tolist()))[-20:] == accepted
    )  # every accepted edit is in the trail


def test_the_orders_page_refuses_a_save_on_top_of_anothers_change_and_keeps_the_edit(
    any_sample_store: WorkspaceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On either backend: the app opened on a .gpkg path or a postgresql:// URL."""
    sample_store = any_sample_store
    monkeypatch.setenv("CLOSUREMAP_WORKSPACE", sample_store.location)
    monkeypatch.setenv("CLOSUREMAP_USER", "PC Bea (2)")
    fid = sample_store.read("orders")["feature_id"].iloc[0]
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90).run()
    at.switch_page("app_pages/orders.py").run()
    at.selectbox(key="order_pick").set_value("ORD-001").run()
    # meanwhile someone else corrects the court
    sample_store.update("orders", fid, user="PC Ann (1)", attributes={"court": "Highbury Corner"})
    at.text_input(key=f"order_case_{fid}").set_value("BEA-REF").run()
    at.button(key="save_order_button").click().run()
    assert not at.exception
    assert any("PC Ann (1)" in e.value and "court" in e.value for e in at.error)
    row = sample_store.read("orders").set_index("order_id").loc["ORD-001"]
    assert row["court"] == "Highbury Corner" and row["case_reference"] == "SYN-2024-001"
    assert (
        at.text_input(key=f"order_case_{fid}").value == "BEA-REF"
    )  # the edit is still on the page
    at.button(key=f"order_reload_{fid}").click().run()
    assert at.text_input(key=f"order_court_{fid}").value == "Highbury Corner"
    at.text_input(key=f"order_case_{fid}").set_value("BEA-REF").run()
    at.button(key="save_order_button").click().run()
    row = sample_store.read("orders").set_index("order_id").loc["ORD-001"]
    assert row["court"] == "Highbury Corner" and row["case_reference"] == "BEA-REF"


def test_the_attribute_form_writes_only_what_changed_and_refuses_a_stale_save(
    any_sample_store: WorkspaceStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sample_store = any_sample_store
    monkeypatch.setenv("CLOSUREMAP_WORKSPACE", sample_store.location)
    monkeypatch.setenv("CLOSUREMAP_USER", "PC Bea (2)")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90).run()
    at.switch_page("app_pages/draw.py").run()
    pick = at.selectbox(key="attr_pick").value
    sample_store.update("communal_areas", pick, user="PC Ann (1)", attributes={"floor_to": 7})
    at.text_input(key=f"attr_name_{pick}").set_value("Renamed by Bea")
    at.button(key="save_attrs").click().run()
    assert any("PC Ann (1)" in e.value and "floor_to" in e.value for e in at.error)
    assert (
        sample_store.read("communal_areas").set_index("feature_id").loc[pick, "name"]
        != "Renamed by Bea"
    )
