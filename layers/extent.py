"""A layer's spatial index and extent in the GeoPackage, kept right by every write.

GDAL keeps a layer's R-tree and feature count with per-row triggers; a bulk insert sets them aside
and fills the index in one statement instead (as GDAL does itself), inside the same transaction.
``gpkg_contents`` holds the extent QGIS zooms to: widened by what an import adds, or measured
afresh after an edit or a delete.
"""

from __future__ import annotations

import itertools
import sqlite3
from datetime import UTC, datetime
from typing import Any

import numpy as np

from .model import LayerKind
from .rtree import PendingEntries


def bulk_insert(
    conn: sqlite3.Connection,
    k: LayerKind,
    columns: list[str],
    rows: list[tuple[Any, ...]],
    bounds: np.ndarray,
    pending: PendingEntries | None = None,
) -> None:
    """Insert many rows (values for ``columns``, in order) fast: GDAL's per-row R-tree and count
    triggers are set aside for the insert and the index filled in one go (:mod:`.rtree`).
    ``bounds`` are the rows' (minx, miny, maxx, maxy), in the rows' order; an empty shape (NaN
    bounds) has no index entry. With ``pending`` (a large import's), the entries wait there for
    the import's end instead."""
    triggers = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? "
        "AND (name = ? OR name = ?)",
        (k.name, f"rtree_{k.name}_geom_insert", f"trigger_insert_feature_count_{k.name}"),
    ).fetchall()
    for name, _ in triggers:
        conn.execute(f'DROP TRIGGER "{name}"')
    first = conn.execute(f'SELECT coalesce(max(fid), 0) FROM "{k.name}"').fetchone()[0]
    _insert_rows(conn, k.name, columns, rows)
    fids = _new_fids(conn, k.name, first, len(rows))
    entries = PendingEntries() if pending is None else pending
    entries.add(fids, bounds)
    if pending is None:
        entries.settle(conn, rtree_table(k.name))
    conn.execute(
        "UPDATE gpkg_ogr_contents SET feature_count = feature_count + ? "
        "WHERE lower(table_name) = lower(?)",
        (len(rows), k.name),
    )
    for _, trigger_sql in triggers:
        conn.execute(trigger_sql)


#: Rows per INSERT statement: one statement of many rows costs SQLite and Python's sqlite3 a
#: quarter less a row than a statement a row, and stays under SQLite's 999 bound parameters.
_ROWS_PER_STATEMENT = 50


def _insert_rows(
    conn: sqlite3.Connection, table: str, columns: list[str], rows: list[tuple[Any, ...]]
) -> None:
    """Rows inserted in order (so their fids are consecutive), many to a statement."""
    one = "(" + ", ".join("?" * len(columns)) + ")"
    head = f'INSERT INTO "{table}" ({", ".join(chr(34) + c + chr(34) for c in columns)}) VALUES '
    per = max(1, min(_ROWS_PER_STATEMENT, 999 // len(columns)))
    full = len(rows) - len(rows) % per
    if full:
        conn.executemany(
            head + ", ".join([one] * per),
            (list(itertools.chain.from_iterable(rows[s : s + per])) for s in range(0, full, per)),
        )
    if full < len(rows):
        conn.executemany(head + one, rows[full:])


def _new_fids(conn: sqlite3.Connection, table: str, after: int, count: int) -> np.ndarray:
    """The fids SQLite gave the rows just inserted (all above ``after``), in order: a run of
    consecutive numbers, as AUTOINCREMENT gives them, is not read back row by row."""
    low, high, n = conn.execute(
        f'SELECT min(fid), max(fid), count(*) FROM "{table}" WHERE fid > ?', (after,)
    ).fetchone()
    if n == count and (n == 0 or high - low + 1 == n):
        return np.arange(low or 0, (low or 0) + n, dtype=np.int64)
    cur = conn.execute(f'SELECT fid FROM "{table}" WHERE fid > ? ORDER BY fid', (after,))
    return np.fromiter((r[0] for r in cur), dtype=np.int64, count=count)


def rtree_table(kind: str) -> str:
    """The R-tree GDAL made for a layer's geometry column."""
    return f"rtree_{kind}_geom"


def index_bounds(conn: sqlite3.Connection, kind: str) -> tuple[Any, Any, Any, Any]:
    """(min easting, min northing, max easting, max northing) of a layer's R-tree (None each when
    it is empty)."""
    row = conn.execute(
        f'SELECT min(minx), min(miny), max(maxx), max(maxy) FROM "rtree_{kind}_geom"'
    ).fetchone()
    return (None,) * 4 if row is None else (row[0], row[1], row[2], row[3])


def update_extent(conn: sqlite3.Connection, k: LayerKind, added: np.ndarray | None = None) -> None:
    """The layer's extent in gpkg_contents: widened by ``added`` bounds (an import, without
    reading the whole index again), or measured afresh after an edit or a delete."""
    if added is None:
        row: tuple[Any, ...] = index_bounds(conn, k.name)
    else:
        old = (
            conn.execute(
                "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?",
                (k.name,),
            ).fetchone()
            or (None,) * 4
        )
        # an empty layer's NULLs become NaN
        boxes = np.vstack([np.array(old, dtype=float), added])
        boxes = boxes[np.isfinite(boxes).all(axis=1)]
        row = (
            (
                float(boxes[:, 0].min()),
                float(boxes[:, 1].min()),
                float(boxes[:, 2].max()),
                float(boxes[:, 3].max()),
            )
            if len(boxes)
            else (None,) * 4
        )
    conn.execute(
        "UPDATE gpkg_contents SET min_x=?, min_y=?, max_x=?, max_y=?, last_change=? "
        "WHERE table_name=?",
        (*row, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"), k.name),
    )
