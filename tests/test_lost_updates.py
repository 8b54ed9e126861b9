"""No lost edits: a save based on a version someone else has changed since is refused, says who
changed what, and keeps the user's edit on the page to re-apply. The store-level tests run on
each backend (``any_sample_store``: a GeoPackage, and PostGIS on the test server)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

import shapely
import shapely.affinity
import shapely.geometry

from closuremap.geo.errors import StaleEditError, WorkspaceError
from closuremap.layers.editing import Outline, load_for_editing, save_outlines
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


# -- the values shown and the version a save names are read together ------------------------------
# A form shows a feature's values and keeps the version its save will name. Read apart (the layer's
# cached frame, then the version), a save landing between the two reads leaves the form showing
# the older values under the newer version: the user's save then overwrites that change unrefused.


def _saves_between(store: WorkspaceStore, kind: str, feature_id: str, on_call: int, **change: Any):
    """A ``version`` method for the store's class that lets PC Ann's ``change`` land just before
    its ``on_call``-th call for the feature (calls counted from 1); ``fired`` says it did."""
    real = type(store).version
    calls: list[int] = []
    fired: list[str] = []

    def version(self: Any, k: str, fid: str) -> int:
        if k == kind and str(fid) == str(feature_id):
            calls.append(1)
            if len(calls) == on_call and not fired:
                fired.append(fid)
                store.update(kind, feature_id, user="PC Ann (1)", **change)
        return real(self, k, fid)

    return version, fired


@pytest.mark.parametrize("on_call", [1, 2])
def test_a_feature_is_loaded_for_editing_with_the_version_of_its_values(
    any_sample_store: WorkspaceStore, monkeypatch: pytest.MonkeyPatch, on_call: int
) -> None:
    """Ann's save lands before the values are read (1), or after them, before the version is
    read again (2): either way the values and the version come back as one state."""
    store = any_sample_store
    fid = store.read("communal_areas")["feature_id"].iloc[0]
    version, fired = _saves_between(
        store, "communal_areas", fid, on_call, attributes={"name": "Ann's name"}
    )
    monkeypatch.setattr(type(store), "version", version)
    base = load_for_editing(store, "communal_areas", fid)
    monkeypatch.undo()
    assert fired
    assert base.row["name"] == "Ann's name"
    assert base.version == store.version("communal_areas", fid)


def test_a_feature_deleted_meanwhile_is_said_to_be_gone(any_sample_store: WorkspaceStore) -> None:
    store = any_sample_store
    fid = store.read("open_space")["feature_id"].iloc[0]
    store.delete("open_space", [fid], user="PC Ann (1)")
    with pytest.raises(WorkspaceError, match="no longer in the workspace"):
        load_for_editing(store, "open_space", fid)


def _page(store: WorkspaceStore, monkeypatch: pytest.MonkeyPatch, page: str) -> AppTest:
    monkeypatch.setenv("CLOSUREMAP_WORKSPACE", store.location)
    monkeypatch.setenv("CLOSUREMAP_USER", "PC Bea (2)")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90).run()
    at.switch_page(page).run()
    assert not at.exception
    return at


def test_the_orders_page_never_saves_over_a_change_made_while_it_opened_the_order(
    any_sample_store: WorkspaceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = any_sample_store
    fid = store.read("orders").set_index("order_id").loc["ORD-001", "feature_id"]
    at = _page(store, monkeypatch, "app_pages/orders.py")
    version, fired = _saves_between(store, "orders", fid, 1, attributes={"court": "Ann's court"})
    monkeypatch.setattr(type(store), "version", version)  # Ann saves as Bea opens the order
    at.selectbox(key="order_pick").set_value("ORD-001").run()
    shown = at.text_input(key=f"order_court_{fid}").value
    at.text_input(key=f"order_court_{fid}").set_value("Bea's court").run()
    at.button(key="save_order_button").click().run()
    assert fired and not at.exception
    court = store.read("orders").set_index("order_id").loc["ORD-001", "court"]
    if shown == "Ann's court":  # Bea saw Ann's court: replacing it is her informed choice
        assert court == "Bea's court"
    else:  # Bea saw the court before Ann's change: her save must be refused, naming Ann
        assert court == "Ann's court"
        assert any("PC Ann (1)" in e.value and "court" in e.value for e in at.error)


def test_the_attribute_form_never_saves_over_a_change_made_while_it_was_built(
    any_sample_store: WorkspaceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = any_sample_store
    version, fired = _saves_between(
        store,
        "communal_areas",
        store.read("communal_areas")["feature_id"].iloc[0],  # the form's first pick
        1,
        attributes={"name": "Ann's name"},
    )
    monkeypatch.setattr(type(store), "version", version)
    at = _page(store, monkeypatch, "app_pages/draw.py")
    pick = at.selectbox(key="attr_pick").value
    shown = at.text_input(key=f"attr_name_{pick}").value
    assert fired == [pick]
    at.text_input(key=f"attr_name_{pick}").set_value("Bea's name")
    at.button(key="save_attrs").click().run()
    assert not at.exception
    name = store.read("communal_areas").set_index("feature_id").loc[pick, "name"]
    if shown == "Ann's name":
        assert name == "Bea's name"
    else:
        assert name == "Ann's name"
        assert any("PC Ann (1)" in e.value for e in at.error)


def test_the_attribute_form_after_a_save_starts_from_what_is_saved(
    any_sample_store: WorkspaceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bea saves; Ann then changes another field; Bea's next save of the form must not write her
    stale copy of Ann's field back (the form is rebuilt from the saved values after a save)."""
    store = any_sample_store
    at = _page(store, monkeypatch, "app_pages/draw.py")
    pick = at.selectbox(key="attr_pick").value
    at.text_input(key=f"attr_name_{pick}").set_value("Bea's name")
    at.button(key="save_attrs").click().run()
    assert not at.error
    store.update("communal_areas", pick, user="PC Ann (1)", attributes={"floor_to": 7})
    at.run()
    at.text_input(key=f"attr_notes_{pick}").set_value("Bea's note")
    at.button(key="save_attrs").click().run()
    row = store.read("communal_areas").set_index("feature_id").loc[pick]
    assert row["floor_to"] == 7 and row["name"] == "Bea's name"


class _FakeDrawingMap:
    """Stands in for st_folium on the Draw page: hands back, as the user's drawings, the editable
    features of every map it was given (what a real map's edit group holds), each moved north by
    ``shift_deg`` once the user 'edits'. ``shown`` keeps the shapes the map showed, by id, until
    ``frozen`` (the user has drawn on them)."""

    def __init__(self) -> None:
        self.shown: dict[str, dict[str, Any]] = {}
        self.shift_deg = 0.0
        self.frozen = False  # a real map keeps the user's drawing across reruns

    def __call__(self, m: Any, **_: Any) -> dict[str, Any]:
        from closuremap.layers.drawmap import _EditableFeatures

        stack = [m]
        while stack:
            node = stack.pop()
            if isinstance(node, _EditableFeatures) and not self.frozen:
                for f in node.data["features"]:
                    self.shown[f["properties"]["feature_id"]] = f
            stack.extend(getattr(node, "_children", {}).values())
        drawings = []
        for f in self.shown.values():
            moved = shapely.affinity.translate(
                shapely.geometry.shape(f["geometry"]), yoff=self.shift_deg
            )
            drawings.append({**f, "geometry": shapely.geometry.mapping(moved)})
        return {"all_drawings": drawings}


def _bng(feature: dict[str, Any]) -> shapely.Geometry:
    from closuremap.geo.crs import WGS84, geometries_to_bng

    return geometries_to_bng([shapely.geometry.shape(feature["geometry"])], WGS84)[0]


def test_an_outline_is_never_saved_over_a_change_made_while_the_map_opened_it(
    any_sample_store: WorkspaceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamlit_folium

    store = any_sample_store
    fake = _FakeDrawingMap()
    monkeypatch.setattr(streamlit_folium, "st_folium", fake)
    fid = store.read("communal_areas")["feature_id"].iloc[0]
    before = store.read("communal_areas").set_index("feature_id").geometry[fid]
    ann = shapely.affinity.translate(before, xoff=0.3)
    at = _page(store, monkeypatch, "app_pages/draw.py")
    at.number_input(key="snap_tolerance").set_value(0.0).run()
    version, fired = _saves_between(store, "communal_areas", fid, 1, geometry=ann)
    monkeypatch.setattr(type(store), "version", version)  # Ann moves it as Bea opens it
    at.selectbox(key="draw_edit_communal_areas_0").set_value(fid).run()
    assert fired
    fake.shift_deg = 5e-7  # Bea moves the outline she sees about 5 cm north
    fake.frozen = True  # what she moves is what the map showed her when she opened it
    at.run()
    at.button(key="save_edits").click().run()
    assert not at.exception
    final = store.read("communal_areas").set_index("feature_id").geometry[fid]
    shown = _bng(fake.shown[fid])
    if shown.hausdorff_distance(ann) < shown.hausdorff_distance(before):  # it showed Ann's outline
        assert 0.03 < final.hausdorff_distance(ann) < 0.1  # Bea's edit of it saved
    else:  # it showed the outline before Ann moved it: Bea's save must be refused
        assert final.hausdorff_distance(ann) < 0.01
        assert any("PC Ann (1)" in e.value for e in at.error)


def test_edited_outlines_are_saved_all_or_nothing(any_sample_store: WorkspaceStore) -> None:
    store = any_sample_store
    areas = store.read("communal_areas").set_index("feature_id")
    first, second = areas.index[:2]
    outlines = [
        Outline(
            fid,
            shapely.affinity.translate(areas.geometry[fid], yoff=0.05),
            store.version("communal_areas", fid),
            f"{areas.loc[fid, 'name']} ({fid[:8]})",
        )
        for fid in (first, second)
    ]
    store.update("communal_areas", second, user="PC Ann (1)", attributes={"floor_to": 7})
    with pytest.raises(StaleEditError, match=rf"^.*\({second[:8]}\): .*PC Ann \(1\).*floor_to"):
        save_outlines(store, "communal_areas", outlines, user="PC Bea (2)")
    after = store.read("communal_areas").set_index("feature_id")
    assert after.geometry[first].equals_exact(areas.geometry[first], 1e-6)  # not saved either
    assert after.geometry[second].equals_exact(areas.geometry[second], 1e-6)
    assert store.history(kind="communal_areas", feature_id=first)["user"].tolist()[:1] != [
        "PC Bea (2)"
    ]
    fresh = [
        Outline(o.feature_id, o.geometry, store.version("communal_areas", o.feature_id), o.label)
        for o in outlines
    ]
    save_outlines(store, "communal_areas", fresh, user="PC Bea (2)")
    after = store.read("communal_areas").set_index("feature_id")
    assert all(after.geometry[o.feature_id].equals_exact(o.geometry, 1e-6) for o in fresh)


def test_the_draw_page_saves_no_outline_when_one_is_stale_and_keeps_the_drawing(
    any_sample_store: WorkspaceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamlit_folium

    store = any_sample_store
    fake = _FakeDrawingMap()
    monkeypatch.setattr(streamlit_folium, "st_folium", fake)
    areas = store.read("communal_areas").set_index("feature_id")
    first, second = areas.index[:2]
    at = _page(store, monkeypatch, "app_pages/draw.py")
    at.number_input(key="snap_tolerance").set_value(0.0).run()
    at.selectbox(key="draw_edit_communal_areas_0").set_value(first).run()
    at.selectbox(key="draw_edit_communal_areas_0").set_value(second).run()
    fake.shift_deg, fake.frozen = 5e-7, True  # Bea moves both outlines
    at.run()
    store.update("communal_areas", second, user="PC Ann (1)", attributes={"floor_to": 7})
    at.button(key="save_edits").click().run()
    assert not at.exception
    assert any(second[:8] in e.value and "PC Ann (1)" in e.value for e in at.error)
    after = store.read("communal_areas").set_index("feature_id")
    assert after.geometry[first].equals_exact(areas.geometry[first], 1e-6)
    assert after.geometry[second].equals_exact(areas.geometry[second], 1e-6)
    assert at.button(key="save_edits") is not None  # the edits are still there to save again
    at.button(key="draw_reload").click().run()  # load the saved outlines: a fresh map
    assert not at.exception and at.session_state["draw_round"] == 1
