"""The Map page's cache: keyed by the workspace's content and the filter, never by identity.

The same request on the same content is a lookup (the very same map); another date window, or an
edit to the workspace by anyone, is a new key and a map that shows it.
"""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

import geopandas as gpd
import shapely

from closuremap.geo.crs import BNG
from closuremap.layers import map_cache
from closuremap.layers.connection import workspace_fingerprint
from closuremap.layers.map_cache import (
    ContentCache,
    MapRequest,
    incident_facts,
    map_view,
)
from closuremap.layers.store import GeoPackageStore
from closuremap.layers.webmap import map_summary
from tests.conftest import ROOT


@pytest.fixture(autouse=True)
def _empty_caches() -> None:
    map_cache.clear()


def _incident(reference: str, when: str = "2024-03-01") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"reference": [reference], "occurred_at": [when], "category": ["ASB"]},
        geometry=[shapely.Point(531790, 179105)],
        crs=BNG,
    )


def _whole_window(store: GeoPackageStore) -> MapRequest:
    facts = incident_facts(store)
    return MapRequest(start=facts.first, end=facts.last)


def test_the_fingerprint_changes_with_every_write_and_not_with_reads(
    sample_store: GeoPackageStore,
) -> None:
    before = workspace_fingerprint(sample_store.path)
    sample_store.read("incidents")
    assert workspace_fingerprint(sample_store.path) == before
    sample_store.set_meta("note", "x", user="PC Ann (1)")
    after_meta = workspace_fingerprint(sample_store.path)
    assert after_meta != before
    # another officer's store object on the same file, writing: seen all the same
    GeoPackageStore(sample_store.path).add("incidents", _incident("NEW-1"), user="PC Other (2)")
    assert workspace_fingerprint(sample_store.path) not in (before, after_meta)


def test_the_same_request_on_the_same_content_is_the_same_map(
    sample_store: GeoPackageStore,
) -> None:
    first = map_view(sample_store, _whole_window(sample_store))
    builds = map_cache._VIEWS.builds
    # an equal request made afresh, on a store object opened afresh: keyed by value, not identity
    again = map_view(GeoPackageStore(sample_store.path), _whole_window(sample_store))
    assert again is first and map_cache._VIEWS.builds == builds
    assert first.shown == first.total == len(sample_store.read("incidents"))


def test_another_date_window_is_another_map(sample_store: GeoPackageStore) -> None:
    whole = _whole_window(sample_store)
    assert whole.start is not None and whole.end is not None
    first = map_view(sample_store, whole)
    later = MapRequest(start=whole.start + (whole.end - whole.start) / 2, end=whole.end)
    second = map_view(sample_store, later)
    assert second is not first and 0 < second.shown < first.shown
    assert second.total == first.total


def test_an_edit_to_the_workspace_is_seen_on_the_next_run(sample_store: GeoPackageStore) -> None:
    request = _whole_window(sample_store)
    first = map_view(sample_store, request)
    GeoPackageStore(sample_store.path).add(
        "incidents", _incident("NEW-2", str(request.start)), user="PC Other (2)"
    )
    second = map_view(sample_store, request)
    assert second is not first
    assert second.total == first.total + 1 and second.shown == first.shown + 1
    assert incident_facts(sample_store).counts["incidents"] == first.total + 1


def test_the_map_handed_out_is_a_copy_st_folium_may_rename(sample_store: GeoPackageStore) -> None:
    from streamlit_folium import generate_leaflet_string

    def names(element: object) -> list[str]:
        children = getattr(element, "_children", {}).values()
        return [element.get_name(), *(n for c in children for n in names(c))]  # type: ignore[attr-defined]

    view = map_view(sample_store, _whole_window(sample_store))
    before = names(view.map)
    copy = view.fresh_map()
    generate_leaflet_string(copy)  # renames every element it renders
    assert names(copy) != before and names(view.map) == before
    assert view.map.get_name() in map_summary(view.map)["html"]


def test_the_least_recently_used_entry_goes_first() -> None:
    cache: ContentCache[str] = ContentCache(2)
    cache.get("a", lambda: "A")
    cache.get("b", lambda: "B")
    cache.get("a", lambda: "not built")  # a is now the most recent
    cache.get("c", lambda: "C")  # b goes
    assert cache.get("a", lambda: "rebuilt") == "A"
    assert cache.get("b", lambda: "rebuilt") == "rebuilt" and cache.builds == 4


def _script(at: AppTest) -> str:
    for node in at.get("component_instance"):
        return str(json.loads(node.proto.json_args)["script"])
    raise AssertionError("no st_folium component on the page")


def test_the_map_page_reruns_from_the_cache_and_sees_a_new_window_and_an_edit(
    sample_store: GeoPackageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOSUREMAP_WORKSPACE", str(sample_store.path))
    monkeypatch.setenv("CLOSUREMAP_USER", "PC Map (1)")
    at = AppTest.from_file(str(ROOT / "app_pages" / "map.py"), default_timeout=60).run()
    assert not at.exception
    total = len(sample_store.read("incidents"))
    assert f"{total} of {total} incidents shown" in [c.value for c in at.caption]
    builds = map_cache._VIEWS.builds
    at.run()  # a rerun that changes nothing: no new build, the same map
    assert map_cache._VIEWS.builds == builds
    lo, hi = at.slider(key="incident_dates").value
    at.slider(key="incident_dates").set_value((lo + (hi - lo) / 2, hi)).run()
    shown = int(next(c.value for c in at.caption if "incidents shown" in c.value).split()[0])
    assert map_cache._VIEWS.builds == builds + 1 and 0 < shown < total
    # another officer adds a call in the window, like one already shown: the next run draws it
    like = sample_store.read("incidents").iloc[0]
    call = _incident("NEW-3", str(hi)).assign(
        category=like["category"], source=like["source"], precision=like["precision"]
    )
    GeoPackageStore(sample_store.path).add("incidents", call, user="PC Other (2)")
    at.run()
    assert not at.exception
    assert f"{shown + 1} of {total + 1} incidents shown" in [c.value for c in at.caption]
    assert "Incidents (" in _script(at)


def test_calls_imported_by_someone_else_are_not_hidden_by_the_filter_already_set(
    sample_store: GeoPackageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOSUREMAP_WORKSPACE", str(sample_store.path))
    monkeypatch.setenv("CLOSUREMAP_USER", "PC Map (1)")
    at = AppTest.from_file(str(ROOT / "app_pages" / "map.py"), default_timeout=60).run()
    categories = at.multiselect(key="incident_category")
    dropped = categories.value[0]
    categories.set_value(categories.value[1:]).run()  # the officer unticks one category
    lo, hi = at.slider(key="incident_dates").value
    shown = int(next(c.value for c in at.caption if "incidents shown" in c.value).split()[0])
    like = sample_store.read("incidents").iloc[0]
    later = str(hi + (hi - lo) / 10)
    call = _incident("NEW-4", later).assign(
        category="Brand new category", source=like["source"], precision=like["precision"]
    )
    GeoPackageStore(sample_store.path).add("incidents", call, user="PC Other (2)")
    at.run()
    assert not at.exception
    # the new category is ticked and the window reaches the new last date; the unticked one stays
    assert "Brand new category" in at.multiselect(key="incident_category").value
    assert dropped not in at.multiselect(key="incident_category").value
    assert at.slider(key="incident_dates").value == (lo, hi + (hi - lo) / 10)
    assert any(c.value.startswith(f"{shown + 1} of ") for c in at.caption)
