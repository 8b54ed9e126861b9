"""Shared fixtures: the sample workspace, an empty one, and a zoo of awkward geometries."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import shapely

from closuremap.layers.sample import build_sample_workspace
from closuremap.layers.store import GeoPackageStore

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
TEST_DATA = Path(__file__).resolve().parent / "data"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, what: str) -> None:
    """Skip when a tool the test needs is missing, but fail loudly in CI, where nothing may skip."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is missing in CI: .ci/run must install it")
    pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="session")
def sample_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "sample.gpkg"
    build_sample_workspace(path)
    return path


@pytest.fixture
def sample_store(sample_path: Path, tmp_path: Path) -> GeoPackageStore:
    """A private copy of the sample workspace, free to change."""
    copy = tmp_path / "sample.gpkg"
    shutil.copy(sample_path, copy)
    return GeoPackageStore(copy)


@pytest.fixture
def store(tmp_path: Path) -> GeoPackageStore:
    return GeoPackageStore.create(tmp_path / "empty.gpkg")


# A zoo of awkward geometries, in BNG around the sample estate.
E0, N0 = 531750.0, 179100.0
ZOO = {
    "square": shapely.box(E0, N0, E0 + 10, N0 + 10),
    "multipolygon": shapely.MultiPolygon(
        [shapely.box(E0, N0, E0 + 5, N0 + 5), shapely.box(E0 + 10, N0, E0 + 15, N0 + 5)]
    ),
    "with_hole": shapely.box(E0, N0, E0 + 20, N0 + 20).difference(
        shapely.box(E0 + 5, N0 + 5, E0 + 10, N0 + 10)
    ),
    "bowtie": shapely.Polygon([(E0, N0), (E0 + 10, N0 + 10), (E0 + 10, N0), (E0, N0 + 10)]),
    "empty_polygon": shapely.Polygon(),
    "line": shapely.LineString([(E0, N0), (E0 + 30, N0 + 5)]),
    "point": shapely.Point(E0, N0),
    "with_z": shapely.Polygon([(E0, N0, 5), (E0 + 10, N0, 5), (E0 + 10, N0 + 10, 5), (E0, N0, 5)]),
}
