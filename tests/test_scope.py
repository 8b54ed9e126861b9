"""The scope check against an independent shapely computation on real OSM footprints, its
invariants, and each finding with a real bad shape."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import geopandas as gpd
import shapely
from shapely import affinity

from closuremap.geo.crs import BNG, WGS84, geometries_to_bng, geometries_to_lonlat
from closuremap.geo.scope import check_scope
from closuremap.layers.orders import FileInputs, check_files
from closuremap.layers.sample import sample_open_space, sample_premises
from tests.conftest import DATA
from tests.test_cli import run

PREMISES = sample_premises()  # real OSM footprints from data/osm, in BNG
OPEN_SPACE = sample_open_space()
P_UNION = shapely.union_all(PREMISES.geometry.values)
O_UNION = shapely.make_valid(shapely.union_all(OPEN_SPACE.geometry.values))
E0, N0, E1, N1 = shapely.union_all([P_UNION, O_UNION]).bounds


def independent(scope: shapely.Geometry) -> tuple[float, float, float]:
    """Premises, open-space and other areas by plain shapely, the way a GIS analyst would do it."""
    on_p = scope.intersection(P_UNION).area
    on_o = scope.difference(P_UNION).intersection(O_UNION).area
    return on_p, on_o, scope.area - on_p - on_o


def _check(scope: shapely.Geometry, **kw):
    return check_scope(scope, premises=PREMISES, open_space=OPEN_SPACE, **kw)


def test_entirely_in_a_block() -> None:
    block = PREMISES.set_index("block_id").geometry["PER"]
    scope = block.buffer(-1.0)
    result = _check(scope)
    assert result.verdict == "premises"
    assert result.premises_fraction == pytest.approx(1.0, abs=1e-9)
    assert result.parts == [
        {"block_id": "PER", "name": "Perronet House", "area_m2": round(scope.area, 3)}
    ]


def test_entirely_in_a_park() -> None:
    park = OPEN_SPACE.geometry.values[np.argmax(OPEN_SPACE.area.values)]
    scope = park.buffer(-2.0)
    result = _check(scope)
    p, o, other = independent(scope)
    assert result.verdict == "open_space"
    assert result.open_space_area_m2 == pytest.approx(o, rel=1e-3)
    assert result.premises_area_m2 == pytest.approx(p, abs=0.01)
    codes = {f.code for f in result.findings}
    assert {"ON_OPEN_SPACE", "NOT_TIED_TO_PREMISES"} <= codes


@pytest.mark.parametrize("frac", [0.25, 0.5, 0.75, 1.0])
def test_sweep_over_the_estate_matches_shapely(frac: float) -> None:
    scope = shapely.box(E0, N0, E0 + (E1 - E0) * frac, N1)
    result = _check(scope)
    p, o, other = independent(scope)
    assert result.premises_area_m2 == pytest.approx(p, rel=1e-3)
    assert result.open_space_area_m2 == pytest.approx(o, rel=1e-3)
    assert result.other_area_m2 == pytest.approx(other, rel=1e-3)
    assert (
        result.premises_fraction + result.open_space_fraction + result.other_fraction
        == pytest.approx(1.0, abs=1e-12)
    )


def test_the_same_in_wgs84_files(tmp_path: Path) -> None:
    """Files in EPSG:4326 give the fractions the BNG computation gives, to 0.1 %."""
    scope = shapely.box(E0, N0, (E0 + E1) / 2, N1)
    lonlat = geometries_to_lonlat([scope])[0]
    gpd.GeoDataFrame({"name": ["sweep"]}, geometry=[lonlat], crs=WGS84).to_file(
        tmp_path / "scope.geojson"
    )
    result, notes = check_files(
        FileInputs(
            scope=tmp_path / "scope.geojson",
            premises=DATA / "osm" / "elephant_and_castle_buildings.geojson",
            open_space=DATA / "osm" / "elephant_and_castle_open_space.geojson",
        )
    )
    # the files hold every OSM building, not just the seven blocks: compare with that union
    buildings = gpd.read_file(DATA / "osm" / "elephant_and_castle_buildings.geojson")
    b_union = shapely.union_all(geometries_to_bng(buildings.geometry.values, WGS84))
    on_p = scope.intersection(b_union).area
    on_o = scope.difference(b_union).intersection(O_UNION).area
    assert result.premises_area_m2 == pytest.approx(on_p, rel=1e-3)
    assert result.open_space_area_m2 == pytest.approx(on_o, rel=1e-3)
    assert result.scope_area_m2 == pytest.approx(scope.area, rel=1e-3)


polygons = st.builds(
    lambda x, y, w, h, angle: affinity.rotate(shapely.box(x, y, x + w, y + h), angle),
    st.floats(E0, E1 - 20),
    st.floats(N0, N1 - 20),
    st.floats(5, 300),
    st.floats(5, 300),
    st.floats(0, 90),
)


@settings(max_examples=40, deadline=None)
@given(polygons)
def test_fractions_sum_to_one(scope: shapely.Polygon) -> None:
    r = _check(scope)
    assert r.premises_fraction + r.open_space_fraction + r.other_fraction == pytest.approx(
        1.0, abs=1e-9
    )
    assert min(r.premises_fraction, r.open_space_fraction, r.other_fraction) >= 0


@settings(max_examples=25, deadline=None)
@given(polygons)
def test_vertex_order_does_not_matter(scope: shapely.Polygon) -> None:
    a, b = _check(scope), _check(shapely.Polygon(list(scope.exterior.coords)[::-1]))
    assert a.premises_area_m2 == pytest.approx(b.premises_area_m2, abs=1e-6)
    assert a.open_space_area_m2 == pytest.approx(b.open_space_area_m2, abs=1e-6)
    assert a.verdict == b.verdict


@settings(max_examples=25, deadline=None)
@given(polygons)
def test_a_crs_round_trip_does_not_change_the_fractions(scope: shapely.Polygon) -> None:
    back = geometries_to_bng(geometries_to_lonlat([scope]), WGS84)[0]
    a, b = _check(scope), _check(back)
    assert a.premises_fraction == pytest.approx(b.premises_fraction, abs=1e-4)
    assert a.open_space_fraction == pytest.approx(b.open_space_fraction, abs=1e-4)


class TestTolerance:
    """Verdict tolerance: the larger of 1 m² and 1 % of the scope (a setting)."""

    block = PREMISES.set_index("block_id").geometry["WAR"]

    def _with_strip(self, extra_m2: float) -> shapely.Geometry:
        minx, miny, maxx, maxy = self.block.bounds
        width = extra_m2 / (maxy - miny)
        strip = shapely.box(
            maxx + 3, miny, maxx + 3 + width, maxy
        )  # off the block, on unmapped land
        return shapely.union_all([self.block, strip])

    def test_just_inside(self) -> None:
        scope = self._with_strip(0.9 * 0.01 * self.block.area / 0.991)
        assert _check(scope).verdict == "premises"

    def test_just_outside(self) -> None:
        scope = self._with_strip(1.1 * 0.01 * self.block.area)
        assert _check(scope).verdict == "mixed"

    def test_a_stated_tolerance(self) -> None:
        scope = self._with_strip(20.0)
        assert _check(scope, tolerance_m2=25.0).verdict == "premises"
        assert _check(scope, tolerance_m2=15.0).verdict == "mixed"

    def test_one_square_metre_floor_for_small_scopes(self) -> None:
        c = self.block.representative_point()
        small = shapely.box(
            c.x - 1.5, c.y - 1.5, c.x + 1.5, c.y + 1.5
        )  # 9 m²: 1 % would be 0.09 m²
        assert _check(small).tolerance_m2 == 1.0


class TestFindings:
    def _codes(self, result) -> dict[str, object]:
        return {f.code: f for f in result.findings}

    def test_whole_block_warns_about_residents(self) -> None:
        block = PREMISES.set_index("block_id").geometry["NEW"]
        f = self._codes(_check(block))["WHOLE_BLOCK"]
        assert f.severity == "warning" and "s.76(4)" in f.message and "Newman House" in f.message

    def test_invalid_scope_is_reported_and_measured(self) -> None:
        c = PREMISES.set_index("block_id").geometry["PER"].centroid
        bowtie = shapely.Polygon(
            [(c.x - 5, c.y - 5), (c.x + 5, c.y + 5), (c.x + 5, c.y - 5), (c.x - 5, c.y + 5)]
        )
        result = _check(bowtie)
        assert "Self-intersection" in self._codes(result)["SCOPE_INVALID"].message
        assert result.scope_area_m2 == pytest.approx(50.0, rel=1e-6)

    def test_a_sliver(self) -> None:
        block = PREMISES.set_index("block_id").geometry["PER"]
        minx, miny, maxx, maxy = block.bounds
        sliver = shapely.box(minx + 10, miny + 10, minx + 10.3, miny + 30)
        f = self._codes(_check(shapely.union_all([block.buffer(-1), sliver])))
        assert "SLIVER" in f or "SLIVER" in self._codes(_check(sliver))

    def test_holes_are_noted(self) -> None:
        block = PREMISES.set_index("block_id").geometry["PER"].buffer(-1)
        c = block.representative_point()
        holed = block.difference(c.buffer(2))
        assert self._codes(_check(holed))["HOLES"].severity == "info"

    def test_crossing_a_highway(self) -> None:
        line = shapely.LineString([(E0 - 10, (N0 + N1) / 2), (E1 + 10, (N0 + N1) / 2)])
        highways = gpd.GeoDataFrame(
            {"feature_class": ["street:primary"], "name": ["St George's Road"]},
            geometry=[line],
            crs=BNG,
        )
        scope = shapely.box(E0, N0, E1, N1)
        f = self._codes(_check(scope, highways=highways))["CROSSES_HIGHWAY"]
        assert f.severity == "error" and "St George's Road" in f.message
        footway = highways.assign(feature_class=["street:footway"])
        assert "CROSSES_HIGHWAY" not in self._codes(_check(scope, highways=footway))

    def test_overlapping_another_order(self) -> None:
        block = PREMISES.set_index("block_id").geometry["PER"].buffer(-1)
        other = gpd.GeoDataFrame({"order_id": ["ORD-9"]}, geometry=[block.buffer(-5)], crs=BNG)
        f = self._codes(_check(block, other_orders=other))["OVERLAPS_ORDER"]
        assert "ORD-9" in f.message and f.area_m2 == pytest.approx(block.buffer(-5).area, rel=1e-6)

    def test_crossing_a_borough_boundary(self) -> None:
        scope = shapely.box(E0, N0, E1, N1)
        mid = (E0 + E1) / 2
        boroughs = gpd.GeoDataFrame(
            {"name": ["Southwark", "Lambeth"]},
            geometry=[shapely.box(mid, 0, 700000, 1e6), shapely.box(0, 0, mid, 1e6)],
            crs=BNG,
        )
        f = self._codes(_check(scope, boroughs=boroughs))["CROSSES_BOROUGH"]
        assert "Southwark" in f.message and "Lambeth" in f.message

    def test_doors_left_off_the_scope(self, sample_store) -> None:
        communal = sample_store.read("communal_areas")
        stair_a = communal[
            (communal.block_id == "PER") & (communal.name == "Stairwell A")
        ].geometry.iloc[0]
        result = check_scope(
            stair_a,
            premises=sample_store.read("premises"),
            communal_areas=communal,
            entrances=sample_store.read("entrances"),
        )
        missing = [f.message for f in result.findings if f.code == "ENTRANCE_NOT_COVERED"]
        assert any("Main door B of Perronet House" in m for m in missing)
        assert not any(
            "Main door A of" in m for m in missing
        )  # the door beside stairwell A is covered


def test_incident_coverage_counts_and_rates() -> None:
    block = PREMISES.set_index("block_id").geometry["PER"]
    c = block.representative_point()
    outside = shapely.Point(block.bounds[2] + 20, c.y)
    far = shapely.Point(block.bounds[2] + 500, c.y)
    points = gpd.GeoSeries([c, c, outside, far], crs=BNG)
    result = _check(block, incidents=points)
    inc = result.incidents
    assert (inc["incidents_total"], inc["incidents_inside"]) == (4, 2)
    assert inc["rate_inside_per_ha"] == pytest.approx(2 / (block.area / 10_000), rel=1e-3)
    ring_area = block.buffer(50).difference(block).area
    assert inc["incidents_ring"] == (1 if outside.distance(block) <= 50 else 0)
    assert inc["rate_ring_per_ha"] == pytest.approx(
        inc["incidents_ring"] / (ring_area / 10_000), rel=1e-2
    )


def test_check_scope_command_on_a_workspace(sample_path: Path) -> None:
    done = run("check-scope", sample_path, "--order", "ORD-001", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    for key in (
        "scope_area_m2",
        "premises_area_m2",
        "premises_fraction",
        "open_space_area_m2",
        "open_space_fraction",
        "other_area_m2",
        "other_fraction",
        "verdict",
        "findings",
        "incidents_total",
        "incidents_inside",
    ):
        assert key in data
    assert data["verdict"] == "premises"
    assert all({"code", "severity", "message"} <= set(f) for f in data["findings"])


def test_check_scope_command_on_files_in_any_crs(tmp_path: Path) -> None:
    park = OPEN_SPACE.geometry.values[np.argmax(OPEN_SPACE.area.values)].buffer(-2)
    gpd.GeoDataFrame(geometry=[park], crs=BNG).to_file(tmp_path / "scope.gpkg")
    done = run(
        "check-scope",
        "--scope",
        tmp_path / "scope.gpkg",
        "--premises",
        DATA / "osm" / "elephant_and_castle_buildings.geojson",
        "--open-space",
        DATA / "osm" / "elephant_and_castle_open_space.geojson",
        "--incidents",
        DATA / "crime" / "police_uk_southwark_estate_2024-01_to_2024-06.csv",
        "--tolerance-m2",
        "5",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    # the park holds a few small OSM buildings (a lodge, sheds): with 5 m² of tolerance, mixed
    assert data["tolerance_m2"] == 5 and data["premises_area_m2"] > 5 and data["verdict"] == "mixed"
    assert data["open_space_fraction"] > 0.95
    assert data["incidents_total"] == 148
    text = run(
        "check-scope",
        "--scope",
        tmp_path / "scope.gpkg",
        "--premises",
        DATA / "osm" / "elephant_and_castle_buildings.geojson",
        "--open-space",
        DATA / "osm" / "elephant_and_castle_open_space.geojson",
        "--tolerance-m2",
        "1000",
    )
    assert "verdict: open_space" in text.stdout and "[error] ON_OPEN_SPACE" in text.stdout


def test_check_scope_command_errors(sample_path: Path) -> None:
    for args, message in (
        (("check-scope", sample_path), "--order ID"),
        (("check-scope", sample_path, "--order", "NOPE"), "no order 'NOPE'"),
        (("check-scope",), "--scope FILE --premises FILE"),
    ):
        done = run(*args)
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
