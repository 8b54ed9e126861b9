"""Drawing on the map: snapping onto walls, routes with a width, the checks on save (each with a
real bad shape and the message the officer sees), floors, and the real sample estate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import geopandas as gpd
import shapely
from shapely import affinity
from shapely.ops import nearest_points

from closuremap.geo.crs import BNG, WGS84
from closuremap.geo.drawing import DrawingError, check_drawing, repair_drawing, route_to_polygon
from closuremap.geo.errors import CoordinateError, SchemaError
from closuremap.geo.findings import Finding
from closuremap.geo.floors import floors_of, on_floor
from closuremap.geo.snapping import snap_to_existing
from closuremap.layers.sample import SYNTHETIC_DIR, sample_premises
from tests.conftest import ZOO

# Two blocks with a gap between them, in plain metres (the checks do not care where on the grid).
PER = shapely.box(0, 0, 20, 10)
NEW = shapely.box(30, 0, 45, 10)
BLOCKS = gpd.GeoDataFrame(
    {"block_id": ["PER", "NEW"], "name": ["Perronet House", "Newman House"]},
    geometry=[PER, NEW],
    crs=BNG,
)


def communal(*rows: dict) -> gpd.GeoDataFrame:
    cols = ["feature_id", "block_id", "name", "floor_from", "floor_to"]
    data = {c: [r.get(c) for r in rows] for c in cols}
    return gpd.GeoDataFrame(data, geometry=[r["geometry"] for r in rows], crs=BNG)


NO_COMMUNAL = communal()


def codes(problems: list[Finding]) -> list[str]:
    return [p.code for p in problems]


def only(problems: list[Finding], code: str) -> Finding:
    found = [p for p in problems if p.code == code]
    assert len(found) == 1, problems
    return found[0]


def shared_line(a: shapely.Geometry, b: shapely.Geometry) -> shapely.Geometry:
    """The boundary two shapes share, merged into one line where it is one."""
    common = a.boundary.intersection(b.boundary)
    lines = [
        g for g in shapely.get_parts(common) if g.geom_type in ("LineString", "MultiLineString")
    ]
    return shapely.line_merge(shapely.union_all(lines)) if lines else shapely.LineString()


# ------------------------------------------------------------------------------------------
# Snapping

A = shapely.box(0, 0, 10, 10)


def test_a_room_drawn_short_of_a_wall_shares_the_whole_wall_after_snapping() -> None:
    drawn = shapely.Polygon([(10.3, 0.2), (20, 0.2), (20, 10), (10.3, 10)])
    snapped, changed = snap_to_existing(drawn, [A], 0.5)
    # (10.3, 0.2) is 0.36 m from A's corner (10, 0) and 0.3 m from its wall: a corner drawn near
    # a corner means the corner, so both left-hand vertices land on A's corners.
    assert changed == 2
    assert shapely.get_coordinates(snapped.exterior).tolist() == [
        [10, 0],
        [20, 0.2],
        [20, 10],
        [10, 10],
        [10, 0],
    ]
    assert snapped.intersection(A).area == 0.0
    wall = shared_line(A, snapped)
    assert wall.geom_type == "LineString"
    assert wall.length == 10.0
    assert snapped.hausdorff_distance(drawn) <= 0.5


def test_a_vertex_near_the_middle_of_a_wall_lands_exactly_on_the_wall() -> None:
    drawn = shapely.box(10.3, 2, 20, 8)  # 0.3 m short of A's wall x = 10, corners 2 m from A's
    snapped, changed = snap_to_existing(drawn, [A], 0.5)
    assert changed == 2
    assert snapped.equals(shapely.box(10, 2, 20, 8))
    assert snapped.intersection(A).area == 0.0
    assert shared_line(A, snapped).length == 6.0


def test_a_wall_corner_near_a_new_edge_is_added_to_it() -> None:
    # The new room's left edge runs from (10.2, -5) (too far from anything) to (10.2, 5), which
    # snaps to the wall at (10, 5); A's corner (10, 0) lies 0.1 m off the new edge and is added.
    drawn = shapely.Polygon([(10.2, -5), (20, -5), (20, 5), (10.2, 5)])
    snapped, changed = snap_to_existing(drawn, [A], 0.5)
    assert changed == 2  # one vertex moved, one added
    assert [10.0, 0.0] in shapely.get_coordinates(snapped).tolist()
    assert snapped.intersection(A).area == 0.0
    assert shared_line(A, snapped).length == 5.0


def test_nothing_within_the_tolerance_leaves_the_shape_as_drawn() -> None:
    drawn = shapely.box(10.6, 2, 20, 8)
    snapped, changed = snap_to_existing(drawn, [A], 0.5)
    assert changed == 0 and snapped.equals_exact(drawn, 0)
    assert snap_to_existing(drawn, [], 0.5) == (drawn, 0)
    assert snap_to_existing(drawn, [A], 0.0) == (drawn, 0)


def test_a_snap_that_would_collapse_the_shape_is_not_made() -> None:
    # A 0.2 m strip drawn along the wall: all four corners are within 0.5 m of it, so snapping
    # would fold it onto the wall (no area). The drawing comes back as drawn, count 0.
    strip = shapely.box(10.1, 2, 10.3, 8)
    snapped, changed = snap_to_existing(strip, [A], 0.5)
    assert changed == 0 and snapped.equals_exact(strip, 0)


def test_each_part_of_a_multipolygon_is_snapped() -> None:
    drawn = shapely.MultiPolygon([shapely.box(10.3, 2, 12, 4), shapely.box(-2, 6, -0.2, 8)])
    snapped, changed = snap_to_existing(drawn, [A], 0.5)
    assert changed == 4
    assert snapped.equals(
        shapely.MultiPolygon([shapely.box(10, 2, 12, 4), shapely.box(-2, 6, 0, 8)])
    )


def test_an_entrance_drawn_near_a_wall_snaps_onto_it() -> None:
    snapped, changed = snap_to_existing(shapely.Point(10.4, 5), [A], 0.5)
    assert changed == 1 and snapped.equals(shapely.Point(10, 5))


def test_a_negative_tolerance_is_refused() -> None:
    with pytest.raises(DrawingError, match="tolerance must be 0 m or more"):
        snap_to_existing(shapely.box(0, 0, 1, 1), [A], -1)


def test_snapping_onto_an_oblique_wall_of_a_real_block() -> None:
    """Prospect House's long south wall runs at about 25° to the grid; a 4 m x 3 m room drawn
    0.3 m outside it ends up on the wall to within floating point (projected points on an
    oblique line are not exactly representable, so 'shares' means within a micrometre here)."""
    blocks = sample_premises().set_index("block_id")
    block = blocks.loc["PRO"].geometry
    a, c = np.array(block.exterior.coords[0]), np.array(block.exterior.coords[1])
    u = (c - a) / np.hypot(*(c - a))
    n = np.array([u[1], -u[0]])  # outward
    assert not block.contains(shapely.Point(a + 20 * u + n))
    room = shapely.Polygon(
        [a + 20 * u + 0.3 * n, a + 24 * u + 0.3 * n, a + 24 * u + 3.3 * n, a + 20 * u + 3.3 * n]
    )
    snapped, changed = snap_to_existing(room, list(blocks.geometry), 0.5)
    assert changed == 2
    assert snapped.intersection(block).area < 1e-6
    assert block.boundary.buffer(1e-6).intersection(snapped.boundary).length == pytest.approx(
        4.0, abs=1e-5
    )
    assert all(
        block.exterior.distance(shapely.Point(p)) < 1e-9 for p in snapped.exterior.coords[:2]
    )
    assert snapped.hausdorff_distance(room) == pytest.approx(0.3, abs=1e-9)


# Coordinates near the test block A's corners and walls, so that snaps actually happen.
_near = st.one_of(
    st.sampled_from([0.0, 10.0, 5.0, 2.5]).flatmap(lambda v: st.floats(v - 1, v + 1)),
    st.floats(-3, 13),
)
_points = st.lists(st.tuples(_near, _near), min_size=3, max_size=8, unique=True)
EXISTING = [
    A,
    shapely.Polygon([(10, 0), (14, 3), (10, 10)]),
    shapely.LineString([(-3, 12), (13, 11.5)]),
]


def _star(points: list[tuple[float, float]]) -> shapely.Polygon:
    """A simple (often concave) polygon: the points in order of angle round their centre."""
    xy = np.array(points)
    centre = xy.mean(axis=0)
    order = np.argsort(np.arctan2(*(xy - centre).T[::-1]))
    return shapely.Polygon(xy[order])


def _check_snap(drawn: shapely.Geometry, tolerance: float) -> None:
    snapped, changed = snap_to_existing(drawn, EXISTING, tolerance)
    assert snapped.is_valid and snapped.geom_type == drawn.geom_type
    assert snapped.hausdorff_distance(drawn) <= tolerance + 1e-9
    if changed == 0:
        assert snapped.equals_exact(drawn, 0)
        return
    # every vertex drawn is still there, moved by at most the tolerance
    new = shapely.get_coordinates(snapped)
    for x, y in shapely.get_coordinates(drawn):
        assert np.hypot(new[:, 0] - x, new[:, 1] - y).min() <= tolerance + 1e-9


@settings(max_examples=300, deadline=None)
@given(_points, st.floats(0.01, 1.5), st.booleans())
def test_snapping_never_makes_a_shape_invalid_nor_moves_it_beyond_the_tolerance(
    points: list[tuple[float, float]], tolerance: float, convex: bool
) -> None:
    drawn = shapely.MultiPoint(points).convex_hull if convex else _star(points)
    assume(drawn.geom_type == "Polygon" and drawn.is_valid and drawn.area > 0.01)
    _check_snap(drawn, tolerance)


@settings(max_examples=150, deadline=None)
@given(_points, st.floats(0.01, 1.5))
def test_snapping_a_route_or_entrance_never_moves_it_beyond_the_tolerance(
    points: list[tuple[float, float]], tolerance: float
) -> None:
    _check_snap(shapely.LineString(points), tolerance)
    _check_snap(shapely.Point(points[0]), tolerance)


# ------------------------------------------------------------------------------------------
# Routes


def test_a_straight_route_covers_length_times_width() -> None:
    line = shapely.LineString([(0, 0), (30, 40)])  # 50 m at an angle
    strip = route_to_polygon(line, 2.0)
    assert strip.geom_type == "Polygon"
    assert strip.area == pytest.approx(50 * 2.0, rel=0.01)
    assert strip.area == pytest.approx(100.0, rel=1e-9)  # flat ends: exactly, not 1 % more
    assert strip.length == pytest.approx(2 * 50 + 2 * 2.0)


def test_an_l_shaped_route_keeps_its_square_corner() -> None:
    line = shapely.LineString([(0, 0), (20, 0), (20, 12)])
    strip = route_to_polygon(line, 3.0)
    assert strip.area == pytest.approx(line.length * 3.0, rel=1e-9)
    assert strip.contains(shapely.Point(21.4, -1.4))  # the outer corner is mitred, not rounded


@pytest.mark.parametrize("width", [0, -1, float("nan")])
def test_a_route_without_a_width_is_refused(width: float) -> None:
    with pytest.raises(DrawingError, match="needs a width of more than 0 m"):
        route_to_polygon(shapely.LineString([(0, 0), (1, 0)]), width)


def test_a_route_drawn_as_an_area_is_refused() -> None:
    with pytest.raises(DrawingError, match="must be drawn as a line"):
        route_to_polygon(shapely.box(0, 0, 1, 1), 2.0)


# ------------------------------------------------------------------------------------------
# Checks on save

BOWTIE = shapely.Polygon([(2, 2), (6, 6), (6, 2), (2, 6)])


def test_a_bowtie_is_an_error_naming_where_it_crosses_and_repair_is_offered() -> None:
    problems = check_drawing(
        "communal_areas",
        BOWTIE,
        {"block_id": "PER", "name": "Bin store"},
        blocks=BLOCKS,
        communal=NO_COMMUNAL,
    )
    p = only(problems, "SELF_INTERSECTION")
    assert p.severity == "error"
    assert "Self-intersection[4 4]" in p.message
    assert "Redraw it, or use 'Repair'" in p.message
    assert p.geometry is not None and p.geometry.equals(shapely.Point(4, 4))
    assert codes(problems) == ["SELF_INTERSECTION"]  # the area checks need a valid shape

    fixed = repair_drawing(BOWTIE)
    assert fixed.is_valid and fixed.geom_type == "MultiPolygon"
    assert fixed.area == pytest.approx(8.0)  # the two triangles the bowtie encloses
    assert BOWTIE.is_valid is False  # never repaired in place
    assert (
        check_drawing(
            "communal_areas",
            fixed,
            {"block_id": "PER", "name": "Bin store"},
            blocks=BLOCKS,
            communal=NO_COMMUNAL,
        )
        == []
    )


def test_repair_of_a_shape_with_no_area_says_to_redraw() -> None:
    with pytest.raises(DrawingError, match="Repair leaves no area"):
        repair_drawing(shapely.Polygon([(0, 0), (1, 1), (2, 2), (0, 0)]))


def test_a_stairwell_sticking_out_of_its_block_is_reported_in_square_metres() -> None:
    # 2 m wide, from 3 m inside the north wall to 3 m beyond it: 2 m x 3 m sticks out.
    stairwell = shapely.box(15, 7, 17, 13)
    problems = check_drawing(
        "communal_areas",
        stairwell,
        {"block_id": "PER", "name": "Stairwell C", "floor_from": 0, "floor_to": 5},
        blocks=BLOCKS,
        communal=NO_COMMUNAL,
    )
    p = only(problems, "OUTSIDE_BLOCK")
    assert p.severity == "warning"
    assert p.message.startswith(
        "'Stairwell C' sticks out by 6.0 m² beyond its block Perronet House (PER)"
    )
    assert "move or reshape it to lie inside the footprint" in p.message
    assert p.area_m2 == pytest.approx(6.0)
    assert p.geometry is not None and p.geometry.equals(shapely.box(15, 10, 17, 13))


def test_floating_point_noise_on_a_wall_is_not_reported() -> None:
    flush = shapely.box(15, 7, 17, 10 + 1e-7)  # 2e-7 m² over the wall
    problems = check_drawing(
        "communal_areas",
        flush,
        {"block_id": "PER", "name": "Stairwell C"},
        blocks=BLOCKS,
        communal=NO_COMMUNAL,
    )
    assert problems == []


STAIR_A = {
    "feature_id": "aaaa1111bbbb",
    "block_id": "PER",
    "name": "Stairwell A",
    "floor_from": 0,
    "floor_to": 5,
    "geometry": shapely.box(2, 2, 6, 8),
}
LOBBY_A = {
    "feature_id": "cccc2222dddd",
    "block_id": "PER",
    "name": "Entrance lobby A",
    "floor_from": 0,
    "floor_to": 0,
    "geometry": shapely.box(6, 2, 9, 8),
}
NEW_STAIR = {
    "feature_id": "eeee3333ffff",
    "block_id": "NEW",
    "name": "Stairwell A",
    "floor_from": 0,
    "floor_to": 4,
    "geometry": shapely.box(31, 2, 35, 8),
}
STORED = communal(STAIR_A, LOBBY_A, NEW_STAIR)


def test_two_stairwells_overlapping_on_the_same_floors_are_reported() -> None:
    stair_b = shapely.box(5, 2, 8, 8)  # 1 m x 6 m over Stairwell A, 2 m x 6 m over the lobby
    problems = check_drawing(
        "communal_areas",
        stair_b,
        {"block_id": "PER", "name": "Stairwell B", "floor_from": 2, "floor_to": 3},
        blocks=BLOCKS,
        communal=STORED,
    )
    p = only(problems, "OVERLAPS_COMMUNAL")  # the lobby is on floor 0 only: not reported
    assert p.message.startswith(
        "'Stairwell B' overlaps 'Stairwell A' (feature aaaa1111) by 6.0 m² on floors 2–3."
    )
    assert "correct their floors if one is above the other" in p.message
    assert p.area_m2 == pytest.approx(6.0)
    assert p.geometry is not None and p.geometry.equals(shapely.box(5, 2, 6, 8))


def test_areas_stacked_on_different_floors_may_overlap() -> None:
    landing = shapely.box(6, 2, 9, 8)  # exactly over the entrance lobby, one floor up
    problems = check_drawing(
        "communal_areas",
        landing,
        {"block_id": "PER", "name": "Landings A", "floor_from": 1, "floor_to": 5},
        blocks=BLOCKS,
        communal=STORED,
    )
    assert problems == []
    on_ground = check_drawing(
        "communal_areas",
        landing,
        {"block_id": "PER", "name": "Landings A", "floor_from": 0, "floor_to": 0},
        blocks=BLOCKS,
        communal=STORED,
    )
    assert only(on_ground, "OVERLAPS_COMMUNAL").message.startswith(
        "'Landings A' overlaps 'Entrance lobby A' (feature cccc2222) by 18.0 m² on floor 0."
    )


def test_an_area_with_no_floors_is_on_every_floor() -> None:
    problems = check_drawing(
        "communal_areas",
        shapely.box(5, 2, 8, 8),
        {"block_id": "PER", "name": "Lift"},
        blocks=BLOCKS,
        communal=STORED,
    )
    assert sorted(p.area_m2 for p in problems if p.code == "OVERLAPS_COMMUNAL") == pytest.approx(
        [6.0, 12.0]
    )
    assert "on floors 0–5" in problems[0].message + problems[1].message


def test_an_area_being_edited_does_not_overlap_its_old_self() -> None:
    moved = shapely.box(2, 2.5, 6, 8.5)
    attrs = {"block_id": "PER", "name": "Stairwell A", "floor_from": 0, "floor_to": 5}
    problems = check_drawing("communal_areas", moved, attrs, blocks=BLOCKS, communal=STORED)
    assert codes(problems) == ["OVERLAPS_COMMUNAL"]
    assert (
        check_drawing(
            "communal_areas",
            moved,
            attrs,
            blocks=BLOCKS,
            communal=STORED,
            exclude_feature_id="aaaa1111bbbb",
        )
        == []
    )


def test_another_blocks_areas_are_not_compared() -> None:
    attrs = {"block_id": "PER", "name": "Odd", "floor_from": 0, "floor_to": 0}
    problems = check_drawing(
        "communal_areas", shapely.box(31, 2, 35, 8), attrs, blocks=BLOCKS, communal=STORED
    )
    assert codes(problems) == ["OUTSIDE_BLOCK"]  # drawn over Newman House, tagged Perronet House
    assert "sticks out by 24.0 m²" in problems[0].message


def test_a_spike_narrower_than_the_minimum_width_is_a_sliver() -> None:
    room = shapely.box(2, 2, 6, 8)
    spike = shapely.box(6, 4.95, 8, 5.05)  # a 0.1 m x 2 m slip of the mouse
    drawn = shapely.union_all([room, spike])
    problems = check_drawing(
        "communal_areas",
        drawn,
        {"block_id": "PER", "name": "Bin store"},
        blocks=BLOCKS,
        communal=NO_COMMUNAL,
    )
    p = only(problems, "SLIVER")
    assert p.severity == "warning"
    assert p.message.startswith("'Bin store' has a part of 0.20 m² narrower than 0.3 m")
    assert "widen that part to at least 0.3 m" in p.message
    assert p.area_m2 == pytest.approx(0.2)
    assert p.geometry is not None and p.geometry.symmetric_difference(spike).area < 1e-9
    # a clean room has no sliver, and a narrower minimum lets the spike through
    assert (
        check_drawing(
            "communal_areas", room, {"block_id": "PER"}, blocks=BLOCKS, communal=NO_COMMUNAL
        )
        == []
    )
    assert (
        check_drawing(
            "communal_areas",
            drawn,
            {"block_id": "PER"},
            blocks=BLOCKS,
            communal=NO_COMMUNAL,
            min_width_m=0.05,
        )
        == []
    )


def test_a_shape_thinner_than_the_minimum_everywhere_is_one_sliver() -> None:
    thin = shapely.box(2, 2, 12, 2.25)
    p = only(check_drawing("open_space", thin, {}, blocks=BLOCKS, communal=NO_COMMUNAL), "SLIVER")
    assert p.message.startswith("This open space has a part of 2.5 m² narrower than 0.3 m")


def test_overlapping_blocks_are_reported_naming_the_other_block() -> None:
    drawn = shapely.box(18, 0, 32, 10)  # 2 m into Perronet House and 2 m into Newman House
    problems = check_drawing(
        "premises",
        drawn,
        {"block_id": "HAY", "name": "Hayles Buildings"},
        blocks=BLOCKS,
        communal=NO_COMMUNAL,
    )
    assert codes(problems) == ["BLOCK_OVERLAP", "BLOCK_OVERLAP"]
    assert problems[0].message.startswith(
        "'Hayles Buildings' overlaps the block Perronet House (PER) by 20.0 m²."
    )
    assert problems[1].message.startswith(
        "'Hayles Buildings' overlaps the block Newman House (NEW) by 20.0 m²."
    )
    assert "draw it as one block" in problems[0].message
    # sharing a wall exactly is fine; and a block being edited is not compared with itself
    assert (
        check_drawing(
            "premises",
            shapely.box(20, 0, 30, 10),
            {"name": "Hayles Buildings"},
            blocks=BLOCKS,
            communal=NO_COMMUNAL,
        )
        == []
    )
    assert (
        check_drawing(
            "premises",
            shapely.box(0, 0, 21, 10),
            {"block_id": "PER", "name": "Perronet House"},
            blocks=BLOCKS,
            communal=NO_COMMUNAL,
            exclude_feature_id="PER",
        )
        == []
    )


def test_an_entrance_off_its_blocks_wall_is_reported() -> None:
    problems = check_drawing(
        "entrances",
        shapely.Point(10, -3),
        {"block_id": "PER", "name": "Main door C"},
        blocks=BLOCKS,
        communal=NO_COMMUNAL,
    )
    p = only(problems, "ENTRANCE_OFF_WALL")
    assert p.message.startswith(
        "'Main door C' is 3.0 m outside the outline of Perronet House (PER)"
    )
    assert "move it onto the wall" in p.message
    assert p.geometry is not None and p.geometry.length == pytest.approx(3.0)
    inside = check_drawing(
        "entrances", shapely.Point(10, 5), {"block_id": "PER"}, blocks=BLOCKS, communal=NO_COMMUNAL
    )
    assert "is 5.0 m inside the outline" in only(inside, "ENTRANCE_OFF_WALL").message
    for near in (shapely.Point(10, 0), shapely.Point(10, -0.8)):
        assert (
            check_drawing(
                "entrances", near, {"block_id": "PER"}, blocks=BLOCKS, communal=NO_COMMUNAL
            )
            == []
        )


def test_a_communal_area_or_entrance_without_a_known_block_is_an_error() -> None:
    room = shapely.box(2, 2, 6, 8)
    p = only(
        check_drawing(
            "communal_areas", room, {"block_id": "XYZ"}, blocks=BLOCKS, communal=NO_COMMUNAL
        ),
        "UNKNOWN_BLOCK",
    )
    assert p.severity == "error" and "There is no block 'XYZ' in this workspace" in p.message
    p = only(
        check_drawing("entrances", shapely.Point(0, 0), {}, blocks=BLOCKS, communal=NO_COMMUNAL),
        "UNKNOWN_BLOCK",
    )
    assert p.message == "Choose the block this entrance belongs to before saving."


def test_the_wrong_geometry_type_or_nothing_at_all_is_an_error() -> None:
    p = only(
        check_drawing(
            "entrances",
            shapely.box(0, 0, 1, 1),
            {"block_id": "PER"},
            blocks=BLOCKS,
            communal=NO_COMMUNAL,
        ),
        "WRONG_TYPE",
    )
    assert p.message == (
        "An entrance must be drawn as a point, not a Polygon: delete this one and draw it with "
        "the matching tool."
    )
    for nothing in (None, shapely.Polygon()):
        p = only(
            check_drawing(
                "communal_areas", nothing, {"block_id": "PER"}, blocks=BLOCKS, communal=NO_COMMUNAL
            ),
            "NO_GEOMETRY",
        )
        assert (
            p.message == "Nothing is drawn for this communal area: draw it on the map, then save."
        )


def test_floors_the_wrong_way_round_are_an_error() -> None:
    p = only(
        check_drawing(
            "communal_areas",
            shapely.box(2, 2, 6, 8),
            {"block_id": "PER", "floor_from": 5, "floor_to": 2},
            blocks=BLOCKS,
            communal=NO_COMMUNAL,
        ),
        "FLOOR_RANGE",
    )
    assert p.severity == "error" and p.message.startswith(
        "'To floor' (2) is below 'from floor' (5)"
    )


def test_errors_come_before_warnings() -> None:
    problems = check_drawing(
        "communal_areas",
        shapely.box(15, 7, 17, 13),
        {"block_id": "PER", "floor_from": 3, "floor_to": 1},
        blocks=BLOCKS,
        communal=NO_COMMUNAL,
    )
    assert codes(problems) == ["FLOOR_RANGE", "OUTSIDE_BLOCK"]


def test_an_unknown_kind_or_a_foreign_crs_is_refused() -> None:
    with pytest.raises(SchemaError, match="'incidents' is not a kind of layer that can be drawn"):
        check_drawing("incidents", shapely.Point(0, 0), {}, blocks=BLOCKS, communal=NO_COMMUNAL)
    with pytest.raises(CoordinateError, match="not British National Grid"):
        check_drawing(
            "premises",
            shapely.box(0, 0, 1, 1),
            {},
            blocks=BLOCKS.set_crs(WGS84, allow_override=True),
            communal=NO_COMMUNAL,
        )


@pytest.mark.parametrize(
    "kind", ["premises", "communal_areas", "access_routes", "open_space", "entrances"]
)
@pytest.mark.parametrize("name", sorted(ZOO))
def test_every_awkward_geometry_gets_problems_not_an_exception(kind: str, name: str) -> None:
    geom = ZOO[name]
    e0, n0 = 531750.0, 179100.0
    blocks = gpd.GeoDataFrame(
        {"block_id": ["B"], "name": ["Block"]},
        geometry=[shapely.box(e0, n0, e0 + 12, n0 + 12)],
        crs=BNG,
    )
    problems = check_drawing(
        kind,
        geom,
        {"block_id": "B", "floor_from": np.int32(0), "floor_to": pd.NA},
        blocks=blocks,
        communal=NO_COMMUNAL,
    )
    assert all(isinstance(p, Finding) and p.message for p in problems)
    if name == "bowtie" and kind != "entrances":
        assert codes(problems) == ["SELF_INTERSECTION"]
    if name == "empty_polygon":
        assert codes(problems) == ["NO_GEOMETRY"]


def test_a_problem_reads_as_plain_values() -> None:
    p = Finding("OUTSIDE_BLOCK", "warning", "sticks out", 6.04321, shapely.box(0, 0, 2, 3))
    assert p.as_dict() == {
        "code": "OUTSIDE_BLOCK",
        "severity": "warning",
        "message": "sticks out",
        "area_m2": 6.04,
        "geometry_wkt": "POLYGON ((2 0, 2 3, 0 3, 0 0, 2 0))",
    }


# ------------------------------------------------------------------------------------------
# Floors

FLOORS = communal(
    {
        "feature_id": "1",
        "block_id": "PER",
        "name": "Stairwell A",
        "floor_from": 0,
        "floor_to": 2,
        "geometry": A,
    },
    {
        "feature_id": "2",
        "block_id": "PER",
        "name": "Entrance lobby",
        "floor_from": 0,
        "floor_to": None,
        "geometry": A,
    },
    {
        "feature_id": "3",
        "block_id": "PER",
        "name": "Landings",
        "floor_from": 1,
        "floor_to": 2,
        "geometry": A,
    },
    {
        "feature_id": "4",
        "block_id": "PER",
        "name": "Lift",
        "floor_from": None,
        "floor_to": None,
        "geometry": A,
    },
    {
        "feature_id": "5",
        "block_id": "PER",
        "name": "Basement store",
        "floor_from": -1,
        "floor_to": -1,
        "geometry": A,
    },
    {
        "feature_id": "6",
        "block_id": "NEW",
        "name": "Stairwell A",
        "floor_from": 0,
        "floor_to": 7,
        "geometry": A,
    },
)


def test_floors_of_a_block_list_the_parts_on_each_floor() -> None:
    assert floors_of(FLOORS, "PER") == {
        -1: ["Lift", "Basement store"],
        0: ["Stairwell A", "Entrance lobby", "Lift"],
        1: ["Stairwell A", "Landings", "Lift"],
        2: ["Stairwell A", "Landings", "Lift"],
    }
    assert floors_of(FLOORS, "HAY") == {}


def test_an_area_with_no_floors_in_a_block_with_none_is_on_the_ground_floor() -> None:
    assert floors_of(FLOORS[FLOORS["feature_id"] == "4"], "PER") == {0: ["Lift"]}


def test_on_floor_keeps_the_areas_whose_range_includes_it() -> None:
    assert on_floor(FLOORS, 0)["feature_id"].tolist() == ["1", "2", "4", "6"]
    assert on_floor(FLOORS, 2)["feature_id"].tolist() == ["1", "3", "4", "6"]
    assert on_floor(FLOORS, 5)["feature_id"].tolist() == ["4", "6"]
    assert on_floor(FLOORS, -1)["feature_id"].tolist() == ["4", "5"]
    picked = on_floor(FLOORS, 0)
    picked.loc[picked.index[0], "name"] = "changed"
    assert FLOORS["name"].iloc[0] == "Stairwell A"  # a new frame, not a view


# ------------------------------------------------------------------------------------------
# The real sample estate: OSM block footprints, synthetic communal areas and entrances

SAMPLE_BLOCKS = sample_premises()
SAMPLE_COMMUNAL = gpd.read_file(SYNTHETIC_DIR / "communal_areas.geojson")
SAMPLE_COMMUNAL["feature_id"] = [
    f"CA{i:02d}" for i in range(len(SAMPLE_COMMUNAL))
]  # as the store adds
SAMPLE_ENTRANCES = gpd.read_file(SYNTHETIC_DIR / "entrances.geojson")


def _attrs(row: pd.Series) -> dict:
    return {k: row[k] for k in ("block_id", "name", "area_type", "floor_from", "floor_to")}


def _check_sample(row: pd.Series, geom: shapely.Geometry | None = None) -> list[Finding]:
    return check_drawing(
        "communal_areas",
        row.geometry if geom is None else geom,
        _attrs(row),
        blocks=SAMPLE_BLOCKS,
        communal=SAMPLE_COMMUNAL,
        exclude_feature_id=row["feature_id"],
    )


def test_the_sample_data_is_what_these_tests_assume() -> None:
    assert SAMPLE_COMMUNAL.crs.equals(BNG) and len(SAMPLE_COMMUNAL) == 47
    assert sorted(SAMPLE_BLOCKS["block_id"]) == ["HAY", "LAU", "NEW", "PER", "PRO", "SGB", "WAR"]


@pytest.mark.parametrize("i", range(47), ids=lambda i: f"CA{i:02d}")
def test_every_sample_communal_area_lies_inside_its_block(i: int) -> None:
    row = SAMPLE_COMMUNAL.iloc[i]
    problems = _check_sample(row)
    assert "OUTSIDE_BLOCK" not in codes(problems)
    # nothing else is wrong with the drawn shapes themselves
    assert set(codes(problems)) <= {"OVERLAPS_COMMUNAL"}


def test_the_samples_lobbies_and_landings_are_stacked_not_overlapping() -> None:
    """In the sample each landing (floors 1+) is drawn over its entrance lobby (floor 0)."""
    stacked = 0
    for _, lobby in SAMPLE_COMMUNAL[SAMPLE_COMMUNAL["area_type"] == "lobby"].iterrows():
        landing = SAMPLE_COMMUNAL[
            (SAMPLE_COMMUNAL["block_id"] == lobby["block_id"])
            & (SAMPLE_COMMUNAL["name"] == lobby["name"].replace("Entrance lobby", "Landings"))
        ]
        assert len(landing) == 1
        if landing.geometry.iloc[0].intersection(lobby.geometry).area > 1.0:
            stacked += 1
            assert not any(
                p.code == "OVERLAPS_COMMUNAL" and lobby["name"] in p.message
                for p in _check_sample(landing.iloc[0])
            )
    assert stacked == 11


def test_the_sample_has_same_floor_overlaps_the_check_finds() -> None:
    """A finding about the synthetic data, pinned so a change to it is noticed: some stairwells
    overlap their landings, and the deck access corridors cross the landings, on the same floors."""
    found = {
        (row["block_id"], row["name"], p.message.split("'")[3])
        for _, row in SAMPLE_COMMUNAL.iterrows()
        for p in _check_sample(row)
        if p.code == "OVERLAPS_COMMUNAL"
    }
    assert ("PER", "Stairwell A", "Landings A") in found
    assert ("LAU", "Stairwell A", "Entrance lobby A") in found
    assert ("HAY", "Deck access corridor", "Landings B") in found
    assert len(found) == 30


@pytest.mark.parametrize("i", np.flatnonzero(SAMPLE_COMMUNAL["area_type"] == "stairwell").tolist())
def test_a_sample_stairwell_moved_5_m_out_of_its_block_is_reported(i: int) -> None:
    row = SAMPLE_COMMUNAL.iloc[i]
    block = SAMPLE_BLOCKS.set_index("block_id").loc[row["block_id"]]
    centre = row.geometry.centroid
    wall = nearest_points(block.geometry.exterior, centre)[0]
    direction = np.subtract(wall.coords[0], centre.coords[0])
    dx, dy = 5.0 * direction / np.hypot(*direction)
    moved = affinity.translate(row.geometry, dx, dy)
    expected = moved.area - moved.intersection(block.geometry).area  # independently of difference()
    assert expected > 0.3
    p = only(_check_sample(row, moved), "OUTSIDE_BLOCK")
    shown = f"{expected:,.1f}" if expected >= 1 else f"{expected:,.2f}"
    assert p.message.startswith(
        f"'{row['name']}' sticks out by {shown} m² beyond its block {block['name']} "
        f"({row['block_id']})"
    )
    assert p.area_m2 == pytest.approx(expected, abs=1e-6)


def test_the_sample_entrances_are_on_their_walls() -> None:
    for _, row in SAMPLE_ENTRANCES.iterrows():
        problems = check_drawing(
            "entrances",
            row.geometry,
            {"block_id": row["block_id"], "name": row["name"]},
            blocks=SAMPLE_BLOCKS,
            communal=SAMPLE_COMMUNAL,
        )
        assert problems == [], (row["name"], problems)
    door = SAMPLE_ENTRANCES.geometry.iloc[0]
    far = shapely.Point(door.x + 100, door.y)
    problems = check_drawing(
        "entrances",
        far,
        {"block_id": SAMPLE_ENTRANCES["block_id"].iloc[0]},
        blocks=SAMPLE_BLOCKS,
        communal=SAMPLE_COMMUNAL,
    )
    assert codes(problems) == ["ENTRANCE_OFF_WALL"]


def test_the_sample_blocks_do_not_overlap_each_other() -> None:
    for _, row in SAMPLE_BLOCKS.iterrows():
        assert (
            check_drawing(
                "premises",
                row.geometry,
                {"block_id": row["block_id"], "name": row["name"]},
                blocks=SAMPLE_BLOCKS,
                communal=SAMPLE_COMMUNAL,
                exclude_feature_id=row["block_id"],
            )
            == []
        )


def test_floors_of_a_sample_block() -> None:
    per = floors_of(SAMPLE_COMMUNAL, "PER")
    assert list(per) == [0, 1, 2, 3, 4, 5]  # Perronet House: 6 floors, 0-5
    assert per[0] == [
        "Stairwell A",
        "Entrance lobby A",
        "Stairwell B",
        "Entrance lobby B",
        "Bin store",
    ]
    assert per[3] == [
        "Stairwell A",
        "Landings A",
        "Stairwell B",
        "Landings B",
        "Deck access corridor",
    ]
    assert (
        len(on_floor(SAMPLE_COMMUNAL, 10)) == 5
    )  # only Prospect House (11 floors) reaches floor 10
    assert set(on_floor(SAMPLE_COMMUNAL, 10)["block_id"]) == {"PRO"}
