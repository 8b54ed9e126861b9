"""A large import builds the layer's indexes once, at its end: the R-tree packed in one pass and the
unique feature_id index made again. Each test checks what SQLite and a reader see afterwards: the
R-tree passes ``rtreecheck`` and holds exactly each feature's box (as SQLite rounds it), bbox reads
find the same features as a scan, and the unique index is there and still refuses a repeat.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import geopandas as gpd
import shapely

from closuremap.geo.crs import BNG
from closuremap.geo.dates import DATETIME_FORMATS, parse_fixed
from closuremap.geo.errors import WorkspaceError
from closuremap.layers import gpkg_blob, rtree
from closuremap.layers.importer import import_file
from closuremap.layers.store import GeoPackageStore


def _calls(path: Path, n: int, seed: int = 1, first: int = 0) -> Path:
    """CAD-like calls over a borough, one in twenty without coordinates."""
    rng = np.random.default_rng(seed)
    east = (523000 + rng.random(n) * 12000).round(1).astype(str)
    north = (175000 + rng.random(n) * 9000).round(1).astype(str)
    missing = rng.random(n) < 0.05
    east[missing], north[missing] = "", ""
    pd.DataFrame(
        {
            "CAD Ref": [f"CAD{first + i:08d}" for i in range(n)],
            "Date/Time": [f"{1 + i % 28:02d}/03/2024 {i % 24:02d}:{i % 60:02d}" for i in range(n)],
            "Category": rng.choice(["ASB - Nuisance", "Drugs", "Violence"], n),
            "Easting": east,
            "Northing": north,
        }
    ).to_csv(path, index=False)
    return path


def _check_index(path: Path, layer: str = "incidents") -> None:
    """The R-tree is sound and holds one entry per feature, each exactly the feature's bounds as
    SQLite's own insert would round them; the unique index on feature_id is in place."""
    with sqlite3.connect(path) as conn:
        assert conn.execute(f"SELECT rtreecheck('rtree_{layer}_geom')").fetchone()[0] == "ok"
        features = conn.execute(f'SELECT fid, geom FROM "{layer}" ORDER BY fid').fetchall()
        entries = conn.execute(
            f'SELECT id, minx, maxx, miny, maxy FROM "rtree_{layer}_geom" ORDER BY id'
        ).fetchall()
        index_sql = conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = ?", (f"idx_{layer}_feature_id",)
        ).fetchone()
        count = conn.execute(
            "SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = ?", (layer,)
        ).fetchone()[0]
    assert index_sql is not None and "UNIQUE" in index_sql[0]
    assert count == len(features)
    geoms = gpkg_blob.decode([g for _, g in features])
    expected = rtree.float_boxes(shapely.bounds(geoms))
    assert [e[0] for e in entries] == [fid for fid, _ in features]
    # the same boxes SQLite's own R*-tree insert stores, bit for bit
    reference = sqlite3.connect(":memory:")
    reference.execute("CREATE VIRTUAL TABLE r USING rtree(id, minx, maxx, miny, maxy)")
    b = shapely.bounds(geoms)
    reference.executemany(
        "INSERT INTO r VALUES (?, ?, ?, ?, ?)",
        zip(
            range(len(b)),
            b[:, 0].tolist(),
            b[:, 2].tolist(),
            b[:, 1].tolist(),
            b[:, 3].tolist(),
            strict=True,
        ),
    )
    rows = reference.execute("SELECT minx, maxx, miny, maxy FROM r ORDER BY id").fetchall()
    theirs = np.array(rows, dtype=np.float64).reshape(-1, 4)
    ours = np.array([e[1:] for e in entries], dtype=np.float64).reshape(-1, 4)
    assert np.array_equal(ours, theirs)
    assert np.array_equal(ours, expected.astype(np.float64))


def test_a_multi_chunk_import_leaves_a_sound_rtree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOSUREMAP_CHUNK_ROWS", "700")
    store = GeoPackageStore.create(tmp_path / "ws.gpkg")
    result = import_file(store, "incidents", _calls(tmp_path / "calls.csv", 5000), user="ann")
    assert result.imported + result.n_rejected == 5000 and result.imported > 4500
    assert store.count("incidents") == result.imported
    _check_index(store.path)
    # a bbox read through the index finds exactly what a scan of every feature finds
    every = store.read("incidents")
    box = (527000.0, 177000.0, 530000.0, 180000.0)
    inside = every[every.intersects(shapely.box(*box))]
    assert sorted(store.read("incidents", bbox=box)["feature_id"]) == sorted(inside["feature_id"])


def test_a_second_import_keeps_the_first_ones_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Into a layer that has features: packed afresh with them when the new rows are many, added
    by SQLite's own insert when they are few; either way every feature is found."""
    monkeypatch.setenv("CLOSUREMAP_CHUNK_ROWS", "900")
    store = GeoPackageStore.create(tmp_path / "ws.gpkg")
    import_file(store, "incidents", _calls(tmp_path / "a.csv", 3000, seed=1), user="ann")
    import_file(store, "incidents", _calls(tmp_path / "b.csv", 2500, 2, 10**6), user="ann")
    import_file(store, "incidents", _calls(tmp_path / "c.csv", 40, 3, 2 * 10**6), user="ann")
    _check_index(store.path)
    assert store.count("incidents") == len(store.read("incidents", bbox=(0, 0, 7e5, 1.3e6)))


def test_a_failed_import_leaves_the_indexes_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOSUREMAP_CHUNK_ROWS", "500")
    store = GeoPackageStore.create(tmp_path / "ws.gpkg")
    import_file(store, "incidents", _calls(tmp_path / "a.csv", 1200), user="ann")
    before = store.count("incidents")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("closuremap.layers.importlog.add_rejects", broken)
    with pytest.raises(RuntimeError):
        import_file(store, "incidents", _calls(tmp_path / "b.csv", 3000, 2, 10**6), user="ann")
    assert store.count("incidents") == before
    _check_index(store.path)


def test_edits_during_a_deferred_write_see_a_settled_index(tmp_path: Path) -> None:
    """An edit inside the deferred block settles the index first: the edited feature's box
    moves, and the features added before and after it are all indexed."""
    store = GeoPackageStore.create(tmp_path / "ws.gpkg")
    rng = np.random.default_rng(5)

    def points(n: int) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(
            {"category": ["asb"] * n},
            geometry=shapely.points(530000 + rng.random(n) * 500, 180000 + rng.random(n) * 500),
            crs=BNG,
        )

    with store.transaction() as tx, tx.deferred_index("incidents"):
        first = tx.add("incidents", points(600), user="ann")
        tx.update("incidents", first[0], user="bob", geometry=shapely.Point(531000, 181000))
        tx.add("incidents", points(700), user="ann")
    _check_index(store.path)
    moved = store.read("incidents", bbox=(530999, 180999, 531001, 181001))
    assert moved["feature_id"].tolist() == [first[0]]


def test_a_repeated_id_still_fails_the_whole_deferred_write(tmp_path: Path) -> None:
    """Ids given by the caller are looked up with the unique index in place, so a repeat is
    refused in words and nothing is stored."""
    store = GeoPackageStore.create(tmp_path / "ws.gpkg")
    n = 400
    frame = gpd.GeoDataFrame(
        {"category": ["asb"] * n},
        geometry=shapely.points(np.full(n, 530000.0), np.arange(n) + 180000.0),
        crs=BNG,
    )
    with (
        pytest.raises(WorkspaceError, match="already exist"),
        store.transaction() as tx,
        tx.deferred_index("incidents"),
    ):
        ids = tx.add("incidents", frame, user="ann")
        tx.add("incidents", frame.assign(feature_id=ids[:1] + [None] * (n - 1)), user="ann")
    assert store.count("incidents") == 0
    _check_index(store.path)


@pytest.mark.parametrize("n", [0, 1, 51, 52, 2602, 20000])
def test_packing_any_number_of_entries_passes_rtreecheck(n: int) -> None:
    """Empty, one node, one more than a node, and several levels deep."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE r USING rtree(id, minx, maxx, miny, maxy)")
    rng = np.random.default_rng(n)
    x, y, w = rng.random(n) * 1e4, rng.random(n) * 1e4, rng.random(n) * 30
    ids = np.arange(n, dtype=np.int64) * 7 + 3
    rtree.rebuild(conn, "r", ids, rtree.float_boxes(np.column_stack([x, y, x + w, y + w])))
    assert conn.execute("SELECT rtreecheck('r')").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM r").fetchone()[0] == n
    q = (2000.0, 3000.0, 2600.0, 3900.0)
    got = sorted(
        r[0]
        for r in conn.execute(
            "SELECT id FROM r WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?",
            (q[0], q[2], q[1], q[3]),
        )
    )
    hit = (x + w >= q[0]) & (x <= q[2]) & (y + w >= q[1]) & (y <= q[3])
    assert got == sorted(ids[hit].tolist())
    # SQLite's own inserts and deletes carry on from the packed tree
    conn.execute("INSERT INTO r VALUES (1, 5, 6, 5, 6)")
    conn.executemany("DELETE FROM r WHERE id = ?", [(int(i),) for i in ids[: n // 2]])
    assert conn.execute("SELECT rtreecheck('r')").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM r").fetchone()[0] == n - n // 2 + 1


def test_float_boxes_round_outwards_like_sqlite() -> None:
    """Minimums down, maximums up, negatives too: every feature lies inside its entry, and the
    floats are SQLite's own, bit for bit (a subnormal one included)."""
    values = np.array([0.1, -0.1, 531700.123456, -531700.123456, 1e-40, 3.0, 16777217.0])
    bounds = np.column_stack([values, values, values, values])
    boxes = rtree.float_boxes(bounds).astype(np.float64)
    normal = np.abs(values) > 1e-30  # SQLite's nudge is too small for a subnormal float
    assert (boxes[normal, 0] <= values[normal]).all() and (boxes[normal, 1] >= values[normal]).all()
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE r USING rtree(id, minx, maxx, miny, maxy)")
    conn.executemany(
        "INSERT INTO r VALUES (?, ?, ?, ?, ?)", [(i, v, v, v, v) for i, v in enumerate(values)]
    )
    theirs = np.array(conn.execute("SELECT minx, maxx, miny, maxy FROM r ORDER BY id").fetchall())
    assert np.array_equal(boxes, theirs)


@pytest.mark.parametrize("fmt", DATETIME_FORMATS)
def test_the_fast_date_reader_agrees_with_strptime(fmt: str) -> None:
    """Whatever the NumPy reader reads, pandas' strptime reads the same; the rest it leaves."""
    rng = np.random.default_rng(abs(hash(fmt)) % 2**32)
    stamps = pd.Timestamp("1999-12-31") + pd.to_timedelta(rng.integers(0, 10**9, 3000), unit="s")
    text = list(stamps.strftime(fmt)) + [
        "29/02/2023 10:00",
        "29/02/2024 10:00",
        "31/04/2024",
        "2024-02-30",
        "0000-01-01",
        "2024-01-01T24:00",
        "3/1/2024 15:44",
        " 2024-01-01",
        "2024-01-01x",
        "",
        "٢٠٢٤-01-01",
    ]
    values = np.array(text, dtype=object)
    ours, ok = parse_fixed(values, fmt)
    theirs = pd.to_datetime(pd.Series(values), format=fmt, errors="coerce")
    theirs_s = theirs.to_numpy().astype("datetime64[s]")
    assert np.array_equal(ours[ok], theirs_s[ok])
    if "%b" not in fmt and "%B" not in fmt and "%f" not in fmt:
        assert ok[:3000].all()  # the form it writes is always read the fast way
