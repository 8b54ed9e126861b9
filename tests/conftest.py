"""Shared fixtures: the sample workspace, an empty one, and a zoo of awkward geometries."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import shapely

from closuremap.layers.sample import build_sample_workspace
from closuremap.layers.store import GeoPackageStore, WorkspaceStore

from .pgserver import PgServer, running_server

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
TEST_DATA = Path(__file__).resolve().parent / "data"
BENCH = ROOT / "bench"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def free_port() -> int:
    """A port nothing listens on now: each server a test starts gets its own (xdist-safe)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require(condition: bool, what: str) -> None:
    """Skip when a tool the test needs is missing, but fail loudly in CI, where nothing may skip."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is missing in CI: .ci/run must install it")
    pytest.skip(f"{what} is not installed")


def load_bench_script(name: str) -> ModuleType:
    """``bench/<name>.py`` as a module, seeing what it sees when run as ``python bench/<name>.py``.

    bench/ is a folder of scripts, not a package (it is neither installed nor importable as
    ``bench``): its scripts import each other by plain names (``from load_server import Server``),
    which resolve because a script's own folder is first on ``sys.path``. Loading by path, with
    bench/ on ``sys.path`` only while the module runs its imports, gives a test the same module
    (registered under its plain name, as its siblings are) without relying on pytest putting the
    repository on ``sys.path``. The closuremap code it uses comes from the installed
    ``closuremap`` package, as in any other test.
    """
    if name in sys.modules:
        return sys.modules[name]
    path = BENCH / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before it runs: dataclasses look their module up by name
    sys.path.insert(0, str(BENCH))
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    finally:
        sys.path.remove(str(BENCH))
    return module


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


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One throwaway PostgreSQL + PostGIS server per test process (tests/pgserver.py)."""
    with running_server() as server:
        yield server


@pytest.fixture
def pg_database(pg_server: PgServer) -> str:
    """A fresh, empty PostGIS database's URL (no password in it: ``.pgpass`` has it)."""
    return pg_server.new_database()


BACKENDS = ["gpkg", "postgis"]


@pytest.fixture(params=BACKENDS)
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> WorkspaceStore:
    """An empty, newly created workspace on each backend: a GeoPackage file, then a PostGIS
    database on the throwaway server (tests/pgserver.py)."""
    if request.param == "gpkg":
        return GeoPackageStore.create(tmp_path / "empty.gpkg")
    from closuremap.layers.pg_store import PostGISStore

    return PostGISStore.create(request.getfixturevalue("pg_database"))


@pytest.fixture(params=BACKENDS)
def any_sample_store(request: pytest.FixtureRequest, sample_path: Path, tmp_path: Path) -> Any:
    """The sample workspace on each backend, free to change: a copy of the sample GeoPackage, or
    a PostGIS workspace loaded from it table by table (the raw copy interface), ids and audit
    and all."""
    copy = tmp_path / "sample.gpkg"
    shutil.copy(sample_path, copy)
    source = GeoPackageStore(copy)
    if request.param == "gpkg":
        return source
    from closuremap.layers.pg_store import PostGISStore

    store = PostGISStore.create(request.getfixturevalue("pg_database"))
    for name in source.table_names():
        store.load_table(name, *source.dump_table(name))
    return store


@pytest.fixture(params=BACKENDS)
def any_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a new workspace can be made, on each backend (for ``closuremap init`` run by a
    subprocess): a .gpkg path not yet there, or the URL of an empty PostGIS database (its
    password in ``PGPASSFILE``, never in the URL)."""
    if request.param == "gpkg":
        return str(tmp_path / "workspace.gpkg")
    return str(request.getfixturevalue("pg_database"))


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
