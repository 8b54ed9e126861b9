"""Saving drawn shapes: snapping and checks on save, every save a version, undo and restore."""

from __future__ import annotations

import json

import pytest

import shapely

from closuremap.geo.errors import WorkspaceError
from closuremap.layers.audit import describe_change
from closuremap.layers.editing import (
    prepare_drawing,
    restore_version,
    save_new,
    undo_last,
    undoable,
)
from closuremap.layers.store import GeoPackageStore


def _block(store: GeoPackageStore, block_id: str = "PER") -> shapely.Geometry:
    return store.read("premises").set_index("block_id").geometry[block_id]


def _spot(store: GeoPackageStore) -> tuple[float, float]:
    block = _block(store).buffer(-1)
    taken = shapely.union_all(store.read("communal_areas").geometry.values).buffer(1)
    minx, miny, maxx, maxy = block.bounds
    for x in range(int(minx), int(maxx)):
        for y in range(int(miny), int(maxy)):
            if block.contains(shapely.box(x, y, x + 8, y + 4)) and not shapely.box(
                x, y, x + 8, y + 4
            ).intersects(taken):
                return float(x), float(y)
    raise AssertionError("no room")


def test_a_straight_route_two_metres_wide(sample_store: GeoPackageStore) -> None:
    minx, miny, maxx, maxy = _block(sample_store).bounds
    line = shapely.LineString(
        [(maxx + 20, miny), (maxx + 50, miny - 40)]
    )  # 50 m long, clear of everything
    shape, _, _ = prepare_drawing(
        sample_store, "access_routes", line, {"block_id": "PER", "width_m": 2.0}
    )
    assert shape.geom_type in ("Polygon", "MultiPolygon")
    assert shape.area == pytest.approx(50 * 2.0, rel=0.01)


def test_checks_on_save_report_what_a_user_sees(sample_store: GeoPackageStore) -> None:
    block = _block(sample_store)
    minx, miny, maxx, maxy = block.bounds
    sticking_out = shapely.box(maxx - 1, miny + 5, maxx + 2, miny + 7)  # part of it past the wall
    _, _, problems = prepare_drawing(
        sample_store,
        "communal_areas",
        sticking_out,
        {
            "block_id": "PER",
            "area_type": "stairwell",
            "floor_from": 0,
            "floor_to": 5,
            "name": "Stray stairwell",
        },
    )
    codes = {p.code: p for p in problems}
    assert "OUTSIDE_BLOCK" in codes and "sticks out by" in codes["OUTSIDE_BLOCK"].message
    bowtie = shapely.Polygon(
        [(minx + 5, miny + 5), (minx + 9, miny + 9), (minx + 9, miny + 5), (minx + 5, miny + 9)]
    )
    _, _, problems = prepare_drawing(
        sample_store, "communal_areas", bowtie, {"block_id": "PER", "area_type": "landing"}
    )
    assert problems[0].code == "SELF_INTERSECTION" and problems[0].severity == "error"


def test_snapping_on_save_shares_an_edge(sample_store: GeoPackageStore) -> None:
    x, y = _spot(sample_store)
    attrs = {
        "block_id": "PER",
        "area_type": "stairwell",
        "floor_from": 0,
        "floor_to": 2,
        "name": "S1",
    }
    first = shapely.box(x, y, x + 3, y + 4)
    shape, _, problems = prepare_drawing(sample_store, "communal_areas", first, attrs)
    save_new(sample_store, "communal_areas", shape, attrs, user="ann")
    second = shapely.Polygon([(x + 3.2, y + 0.1), (x + 7, y), (x + 7, y + 4), (x + 3.3, y + 3.9)])
    snapped, moved, _ = prepare_drawing(
        sample_store, "communal_areas", second, {**attrs, "name": "S2"}
    )
    assert moved >= 2
    shared = shapely.line_merge(first.boundary.intersection(snapped.boundary))
    assert shared.geom_type == "LineString" and shared.length == pytest.approx(4.0, abs=1e-9)
    assert first.intersection(snapped).area == 0


def test_every_save_is_a_version_and_undo_restores_exactly(sample_store: GeoPackageStore) -> None:
    x, y = _spot(sample_store)
    attrs = {
        "block_id": "PER",
        "area_type": "landing",
        "floor_from": 1,
        "floor_to": 1,
        "name": "L1",
    }
    original = shapely.box(x, y, x + 3, y + 3)
    fid = save_new(sample_store, "communal_areas", original, attrs, user="ann")
    moved = shapely.box(x, y, x + 4, y + 3)
    sample_store.update(
        "communal_areas", fid, user="bob", geometry=moved, attributes={"name": "L1 moved"}
    )
    history = sample_store.history(kind="communal_areas", feature_id=fid)
    assert list(history["action"]) == ["update", "add"] and list(history["user"]) == ["bob", "ann"]

    undo_last(sample_store, "communal_areas", user="cat")
    row = sample_store.read("communal_areas").set_index("feature_id").loc[fid]
    assert row.geometry.equals(shapely.MultiPolygon([original])) and row["name"] == "L1"
    undo_last(sample_store, "communal_areas", user="cat")  # undoes the add
    assert fid not in set(sample_store.read("communal_areas")["feature_id"])
    # both changes are undone, so neither is offered again
    assert not set(undoable(sample_store, "communal_areas")["feature_id"]) & {fid}


def test_undo_a_delete_brings_the_same_feature_back(sample_store: GeoPackageStore) -> None:
    areas = sample_store.read("communal_areas")
    fid = areas["feature_id"].iloc[0]
    before = areas.set_index("feature_id").geometry[fid]
    sample_store.delete("communal_areas", [fid], user="ann")
    undo_last(sample_store, "communal_areas", user="ann")
    after = sample_store.read("communal_areas").set_index("feature_id").geometry[fid]
    assert after.equals(before)


def test_restore_an_earlier_version(sample_store: GeoPackageStore) -> None:
    x, y = _spot(sample_store)
    fid = save_new(
        sample_store,
        "communal_areas",
        shapely.box(x, y, x + 2, y + 2),
        {"block_id": "PER", "area_type": "lobby", "name": "v1"},
        user="ann",
    )
    first_version = int(sample_store.history(feature_id=fid).iloc[0]["id"])
    sample_store.update("communal_areas", fid, user="ann", geometry=shapely.box(x, y, x + 5, y + 2))
    sample_store.update("communal_areas", fid, user="ann", geometry=shapely.box(x, y, x + 6, y + 2))
    restore_version(sample_store, "communal_areas", first_version, user="bob")
    assert sample_store.read("communal_areas").set_index("feature_id").geometry[
        fid
    ].area == pytest.approx(4.0)
    assert (
        json.loads(sample_store.history(feature_id=fid).iloc[0]["after"])["properties"]["name"]
        == "v1"
    )


def test_nothing_to_undo(store: GeoPackageStore) -> None:
    with pytest.raises(WorkspaceError, match="nothing to undo"):
        undo_last(store, "communal_areas", user="ann")


def test_a_drawn_scope_snaps_to_the_block_and_is_checked(sample_store: GeoPackageStore) -> None:
    block = _block(sample_store, "WAR")
    minx, miny, maxx, maxy = block.bounds
    outline = block.geoms[0] if block.geom_type == "MultiPolygon" else block
    rough = shapely.Polygon(
        [(x + 0.05, y - 0.04) for x, y in outline.exterior.coords]
    )  # traced a little off
    snapped, moved, problems = prepare_drawing(
        sample_store, "orders", rough, {"order_id": "ORD-9", "name": "W"}
    )
    assert moved > 0  # the traced outline moved onto the premises edges nearby
    assert snapped.symmetric_difference(block).area < 0.5 * rough.symmetric_difference(block).area
    assert any(p.code == "WHOLE_BLOCK" for p in problems)  # the scope check speaks on save
    fid = save_new(
        sample_store,
        "orders",
        snapped,
        {"order_id": "ORD-9", "name": "W", "status": "draft"},
        user="ann",
    )
    assert sample_store.history(feature_id=fid).iloc[0]["user"] == "ann"


def test_the_history_says_in_words_what_changed(sample_store) -> None:  # noqa: ANN001
    import shapely

    stair = sample_store.read("communal_areas").iloc[0]
    bigger = shapely.affinity.scale(stair.geometry, 1.1, 1.1)
    sample_store.update(
        "communal_areas",
        stair["feature_id"],
        user="PC Ann (1)",
        geometry=bigger,
        attributes={"name": "Stair A (north)"},
    )
    entry = sample_store.history(kind="communal_areas", feature_id=stair["feature_id"]).iloc[0]
    words = describe_change(entry["before"], entry["after"])
    assert f"name: {stair['name']} → Stair A (north)" in words
    assert f"shape changed: {stair.geometry.area:.1f} m² → {bigger.area:.1f} m²" in words
    assert describe_change(None, entry["after"]) == "created"
    assert describe_change(entry["before"], None) == "deleted"
