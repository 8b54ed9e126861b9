"""BNG <-> WGS84 by OSTN15 against Ordnance Survey's own test points, and CRS inference."""

import csv

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shapely
from pyproj import CRS, Transformer

from closuremap.geo.crs import (
    BNG,
    WGS84,
    bng_problems,
    bng_to_lonlat,
    coordinate_problems,
    crs_kind,
    geometries_to_bng,
    geometries_to_lonlat,
    infer_crs,
    lonlat_to_bng,
    parse_crs,
)
from closuremap.geo.errors import CoordinateError
from tests.conftest import TEST_DATA

with open(TEST_DATA / "ostn15_devpack.csv", newline="") as _devpack:
    DEVPACK = list(csv.DictReader(_devpack))


def test_devpack_has_all_forty_points() -> None:
    assert len(DEVPACK) == 40


@pytest.mark.parametrize("row", DEVPACK, ids=lambda r: r["point_id"])
def test_forward_within_a_tenth_of_a_metre_of_ostn15(row: dict) -> None:
    # OS OSTN15 developer pack, ETRS89 -> OSGB36 (tests/data/README.md).
    e, n = lonlat_to_bng([float(row["etrs89_longitude"])], [float(row["etrs89_latitude"])])
    assert abs(e[0] - float(row["osgb36_easting"])) < 0.1
    assert abs(n[0] - float(row["osgb36_northing"])) < 0.1


@pytest.mark.parametrize("row", DEVPACK, ids=lambda r: r["point_id"])
def test_inverse_within_a_tenth_of_a_metre_of_ostn15(row: dict) -> None:
    lon, lat = bng_to_lonlat([float(row["osgb36_easting"])], [float(row["osgb36_northing"])])
    # back to metres: the error of the inverse, measured on the ground
    e, n = lonlat_to_bng(lon, lat)
    e_ref, n_ref = lonlat_to_bng([float(row["etrs89_longitude"])], [float(row["etrs89_latitude"])])
    assert np.hypot(e[0] - e_ref[0], n[0] - n_ref[0]) < 0.1
    assert abs(lat[0] - float(row["etrs89_latitude"])) < 1e-6


def test_stack_notes_reference_point() -> None:
    # ../shared/stack-notes.md: E 530000, N 180000 is lat 51.503992, lon -0.128329 by OSTN15.
    lon, lat = bng_to_lonlat([530000.0], [180000.0])
    assert lat[0] == pytest.approx(51.503992, abs=1e-6)
    assert lon[0] == pytest.approx(-0.128329, abs=1e-6)


def test_pyproj_without_the_grid_is_metres_out_which_is_why_we_use_ostn15() -> None:
    tp09 = next(r for r in DEVPACK if r["point_id"] == "TP09")  # central London
    t = Transformer.from_crs(WGS84, BNG, always_xy=True)
    e, n = t.transform(float(tp09["etrs89_longitude"]), float(tp09["etrs89_latitude"]))
    helmert_error = np.hypot(e - float(tp09["osgb36_easting"]), n - float(tp09["osgb36_northing"]))
    assert helmert_error > 0.5


@settings(max_examples=200, deadline=None)
@given(st.floats(350_000, 560_000), st.floats(100_000, 450_000))  # England, on the OSTN15 grid
def test_round_trip_stays_within_a_millimetre(e: float, n: float) -> None:
    lon, lat = bng_to_lonlat([e], [n])
    if not np.isfinite(lon[0]):  # off the OSTN15 grid (at sea)
        return
    e2, n2 = lonlat_to_bng(lon, lat)
    assert np.hypot(e2[0] - e, n2[0] - n) < 0.001


def test_geometries_round_trip_polygons() -> None:
    poly = shapely.box(531700, 179000, 531760, 179040)
    back = geometries_to_bng(geometries_to_lonlat([poly]), WGS84)[0]
    assert back.symmetric_difference(poly).area < 0.01


def test_points_outside_the_grid_become_nan() -> None:
    e, n = lonlat_to_bng([10.0], [10.0])
    assert np.isnan(e[0]) and np.isnan(n[0])


def test_a_polygon_off_the_grid_becomes_none_not_a_crash() -> None:
    out = geometries_to_bng([shapely.box(10, 10, 10.1, 10.1), shapely.Point(-0.1, 51.5)], WGS84)
    assert out[0] is None and out[1] is not None


def test_crs_kinds() -> None:
    assert crs_kind(CRS.from_epsg(27700)) == "bng"
    assert crs_kind(CRS.from_epsg(4326)) == "lonlat"
    assert crs_kind(CRS.from_user_input("OGC:CRS84")) == "lonlat"
    assert crs_kind(CRS.from_epsg(4258)) == "lonlat"
    assert crs_kind(CRS.from_epsg(3857)) == "other"


def test_web_mercator_goes_through_wgs84_then_ostn15() -> None:
    merc = Transformer.from_crs(4326, 3857, always_xy=True)
    x, y = merc.transform(-0.128329, 51.503992)
    p = geometries_to_bng([shapely.Point(x, y)], CRS.from_epsg(3857))[0]
    assert abs(p.x - 530000) < 0.1 and abs(p.y - 180000) < 0.1


class TestInference:
    def test_bng(self) -> None:
        guess = infer_crs([531700, 531800], [179000, 179100])
        assert guess.crs.equals(BNG) and "BNG" in guess.reason

    def test_lonlat(self) -> None:
        guess = infer_crs([-0.1, -0.2], [51.5, 51.6])
        assert guess.crs.equals(WGS84) and "longitude/latitude" in guess.reason

    def test_swapped_majority_is_said(self) -> None:
        guess = infer_crs([51.5, 51.6], [-0.1, -0.2])
        assert guess.crs.equals(WGS84) and "wrong order" in guess.reason

    def test_neither_raises_with_the_ranges(self) -> None:
        with pytest.raises(CoordinateError, match="--crs"):
            infer_crs([5_000_000, 6_000_000], [5_000_000, 6_000_000])

    def test_nothing_usable(self) -> None:
        with pytest.raises(CoordinateError):
            infer_crs([np.nan], [np.nan])


class TestCoordinateProblems:
    def _one(self, x: float, y: float, crs: CRS) -> str | None:
        return coordinate_problems(np.array([[x, y, x, y]]), crs)[0]

    def test_good_lonlat(self) -> None:
        assert self._one(-0.1, 51.5, WGS84) is None

    def test_swapped_lonlat(self) -> None:
        assert "swapped" in self._one(51.5, -0.1, WGS84)

    def test_zeroed_police_uk_point_is_outside_gb(self) -> None:
        assert "outside Great Britain" in self._one(0.0, 0.0, WGS84)

    def test_paris_is_outside_gb(self) -> None:
        assert "outside Great Britain" in self._one(2.35, 48.85, WGS84)

    def test_bng_numbers_in_a_lonlat_file(self) -> None:
        assert "look like BNG" in self._one(531700, 179000, WGS84)

    def test_degrees_in_a_bng_file(self) -> None:
        assert "look like degrees" in self._one(-0.1, 51.5, BNG)

    def test_bng_outside_gb(self) -> None:
        assert "outside Great Britain" in self._one(900_000, 179_000, BNG)

    def test_bng_problems_after_transformation(self) -> None:
        assert "OSTN15" in bng_problems([None])[0]
        assert "OSTN15" in bng_problems([shapely.Point(np.nan, np.nan)])[0]
        assert bng_problems([shapely.Point(531700, 179000)]) == [None]
        assert "outside" in bng_problems([shapely.Point(-5000, 179000)])[0]


def test_parse_crs() -> None:
    assert parse_crs("27700").equals(BNG)
    assert parse_crs("bng").equals(BNG)
    assert parse_crs("EPSG:4326").equals(WGS84)
    with pytest.raises(CoordinateError, match="EPSG:27700"):
        parse_crs("not a crs")
