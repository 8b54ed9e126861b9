"""A layer's spatial index and extent in the GeoPackage, kept right by every write.

GDAL keeps a layer's R-tree and feature count with per-row triggers; a bulk insert sets them aside
and fills the index in one statement instead (as GDAL does itself), inside the same transaction.
``gpkg_contents`` holds the extent QGIS zooms to: widened by what an import adds, or measured
afresh after an edit or a delete.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

import numpy as np

from .model import LayerKind


def bulk_insert(
    conn: sqlite3.Connection,
    k: LayerKind,
    sql: str,
    rows: list[tuple[Any, ...]],
    bounds: np.ndarray,
) -> None:
    """Insert many rows fast: GDAL's per-row R-tree and count triggers are set aside for the
    insert and the index filled in one go. ``bounds`` are the rows' (minx, miny, maxx, maxy), in
    the rows' order; an empty shape (NaN bounds) has no index entry."""
    triggers = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? "
        "AND (name = ? OR name = ?)",
        (k.name, f"rtree_{k.name}_geom_insert", f"trigger_insert_feature_count_{k.name}"),
    ).fetchall()
    for name, _ in triggers:
        conn.execute(f'DROP TRIGGER "{name}"')
    first = conn.execute(f'SELECT coalesce(max(fid), 0) FROM "{k.name}"').fetchone()[0]
    conn.executemany(sql, rows)
    fids = [
        r[0]
        for r in conn.execute(f'SELECT fid FROM "{k.name}" WHERE fid > ? ORDER BY fid', (first,))
    ]
    ok = np.isfinite(bounds).all(axis=1)
    conn.executemany(
        f'INSERT INTO "rtree_{k.name}_geom" VALUES (?, ?, ?, ?, ?)',
        [
            (fid, b[0], b[2], b[1], b[3])
            for fid, b, good in zip(fids, bounds.tolist(), ok, strict=True)
            if good
        ],
    )
    conn.execute(
        "UPDATE gpkg_ogr_contents SET feature_count = feature_count + ? "
        "WHERE lower(table_name) = lower(?)",
        (len(rows), k.name),
    )
    for _, trigger_sql in triggers:
        conn.execute(trigger_sql)


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
