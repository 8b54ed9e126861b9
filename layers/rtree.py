"""A layer's R-tree built in one pass, for a large import: the GeoPackage spatial index QGIS and our
bbox reads use, written straight into SQLite's R-tree tables as GDAL does for a new layer.

SQLite's R*-tree insert costs ~17 µs a row and touches pages all over a growing index (the 1M-row
import was 7× the raw libraries, and not linear). A large import instead sets its boxes aside and,
before it commits, packs every entry of the layer (old and new) Sort-Tile-Recursive into full
nodes and writes the ``_node``, ``_rowid`` and ``_parent`` tables afresh, in the same transaction.
SQLite's ``rtreecheck`` passes on the result (the tests run it), and later single edits go through
the usual triggers. Boxes are stored as SQLite stores them: 32-bit floats, minimums rounded down
and maximums up, so every feature lies inside its entry.
"""

from __future__ import annotations

import sqlite3
import struct

import numpy as np
from numpy.typing import NDArray

# SQLite's rtreeValueDown/rtreeValueUp (rtree.c): a double that does not fit a float exactly is
# nudged by one part in 2^23 before the cast, so the float box contains the double one.
_RND_TOWARDS = 1.0 - 1.0 / 8388608.0
_RND_AWAY = 1.0 + 1.0 / 8388608.0
_CELL = np.dtype([("id", ">i8"), ("box", ">f4", (4,))])  # 24 bytes, as rtree.c lays a 2-D cell
#: Below this many new entries, or when the layer already holds many more, SQLite's own insert is
#: cheaper than repacking the whole index.
MIN_BULK = 256
MAX_EXISTING_PER_NEW = 4


def float_boxes(bounds: NDArray[np.float64]) -> NDArray[np.float32]:
    """(minx, miny, maxx, maxy) doubles as the R-tree's (minx, maxx, miny, maxy) floats, minimums
    rounded down and maximums up exactly as SQLite rounds them."""
    b = np.asarray(bounds, dtype=np.float64).reshape(-1, 4)
    out = np.empty((len(b), 4), dtype=np.float32)
    for col, (src, down) in enumerate(((0, True), (2, False), (1, True), (3, False))):
        d = b[:, src]
        f = d.astype(np.float32)
        if down:
            off = f > d
            factor = np.where(d < 0, _RND_AWAY, _RND_TOWARDS)
        else:
            off = f < d
            factor = np.where(d < 0, _RND_TOWARDS, _RND_AWAY)
        f[off] = (d[off] * factor[off]).astype(np.float32)
        out[:, col] = f
    return out


def should_rebuild(new: int, existing: int) -> bool:
    """Whether packing the whole index beats inserting ``new`` entries one by one."""
    return new >= MIN_BULK and existing <= MAX_EXISTING_PER_NEW * new


def existing_entries(
    conn: sqlite3.Connection, table: str
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """Every entry of an R-tree (its ids and float boxes), read in batches."""
    cur = conn.execute(f'SELECT id, minx, maxx, miny, maxy FROM "{table}"')
    ids: list[NDArray[np.int64]] = []
    boxes: list[NDArray[np.float32]] = []
    while batch := cur.fetchmany(65536):
        arr = np.array(batch, dtype=np.float64)
        ids.append(np.array([r[0] for r in batch], dtype=np.int64))
        boxes.append(arr[:, 1:].astype(np.float32))  # stored as floats: exact
    if not ids:
        return np.empty(0, dtype=np.int64), np.empty((0, 4), dtype=np.float32)
    return np.concatenate(ids), np.concatenate(boxes)


def insert_entries(
    conn: sqlite3.Connection, table: str, ids: NDArray[np.int64], boxes: NDArray[np.float32]
) -> None:
    """Entries added by SQLite's own R*-tree insert (a few, into a big index)."""
    conn.executemany(
        f'INSERT INTO "{table}" VALUES (?, ?, ?, ?, ?)',
        zip(ids.tolist(), *boxes.astype(np.float64).T.tolist(), strict=True),
    )


def rebuild(
    conn: sqlite3.Connection, table: str, ids: NDArray[np.int64], boxes: NDArray[np.float32]
) -> None:
    """Replace the R-tree ``table``'s contents with these entries, packed into full nodes.

    The node size is kept from the existing root (SQLite reads it from there when it opens the
    table); the root is node 1 and carries the tree's depth."""
    row = conn.execute(f'SELECT length(data) FROM "{table}_node" WHERE nodeno = 1').fetchone()
    node_bytes = int(row[0])
    capacity = min(51, (node_bytes - 4) // _CELL.itemsize)  # rtree.c: RTREE_MAXCELLS = 51
    levels = _pack(ids, boxes.astype(np.float32), capacity)
    conn.execute(f'DELETE FROM "{table}_node"')
    conn.execute(f'DELETE FROM "{table}_rowid"')
    conn.execute(f'DELETE FROM "{table}_parent"')
    depth = len(levels) - 1
    blobs: list[tuple[int, bytes]] = []
    parents: list[tuple[int, int]] = []
    for level, (cells, starts, nodenos, parent_of) in enumerate(levels):
        raw = cells.tobytes()
        ends = np.append(starts[1:], len(cells))
        for nodeno, start, end in zip(
            nodenos.tolist(), starts.tolist(), ends.tolist(), strict=True
        ):
            head = struct.pack(">HH", depth if nodeno == 1 else 0, end - start)
            body = raw[start * _CELL.itemsize : end * _CELL.itemsize]
            blobs.append((nodeno, (head + body).ljust(node_bytes, b"\0")))
        if level < depth:
            parents += zip(nodenos.tolist(), parent_of.tolist(), strict=True)
    conn.executemany(f'INSERT INTO "{table}_node" (nodeno, data) VALUES (?, ?)', blobs)
    conn.executemany(f'INSERT INTO "{table}_parent" (nodeno, parentnode) VALUES (?, ?)', parents)
    leaf_cells, leaf_starts, leaf_nodes, _ = levels[0]
    counts = np.diff(np.append(leaf_starts, len(leaf_cells)))
    leaf_of = np.repeat(leaf_nodes, counts)
    order = np.argsort(leaf_cells["id"], kind="stable")  # the rowid table's own order: appends
    rowids, nodes = leaf_cells["id"][order].astype(np.int64), leaf_of[order]
    for start in range(0, len(rowids), 65536):  # in batches: no million Python ints at once
        conn.executemany(
            f'INSERT INTO "{table}_rowid" (rowid, nodeno) VALUES (?, ?)',
            zip(
                rowids[start : start + 65536].tolist(),
                nodes[start : start + 65536].tolist(),
                strict=True,
            ),
        )


_Level = tuple[NDArray[np.void], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]


def _pack(ids: NDArray[np.int64], boxes: NDArray[np.float32], capacity: int) -> list[_Level]:
    """Sort-Tile-Recursive packing, leaves first: each level's cells in node order, where each
    node starts, its number, and (below the root) its parent's number. The root is node 1."""
    raw: list[tuple[NDArray[np.void], NDArray[np.int64]]] = []
    cells = np.empty(len(ids), dtype=_CELL)
    cells["id"], cells["box"] = ids, boxes
    while True:
        cells = cells[_str_order(cells["box"].astype(np.float64), capacity)]
        starts = np.arange(0, max(len(cells), 1), capacity, dtype=np.int64)
        raw.append((cells, starts))
        if len(starts) == 1:
            break
        box = cells["box"].astype(np.float32)
        parent = np.empty(len(starts), dtype=_CELL)
        parent["id"] = np.arange(len(starts))  # which node below: numbered once all are known
        parent["box"] = np.column_stack(
            [
                np.minimum.reduceat(box[:, 0], starts),
                np.maximum.reduceat(box[:, 1], starts),
                np.minimum.reduceat(box[:, 2], starts),
                np.maximum.reduceat(box[:, 3], starts),
            ]
        )
        cells = parent
    # number the nodes from the root down: root 1, then each level in order
    levels: list[_Level] = []
    next_no = 1
    numbers: list[NDArray[np.int64]] = []
    for _, starts in reversed(raw):
        numbers.append(np.arange(next_no, next_no + len(starts), dtype=np.int64))
        next_no += len(starts)
    numbers.reverse()
    for level, (cells_, starts) in enumerate(raw):
        if level + 1 < len(raw):
            # the level above holds one cell per node here, in the order STR put them
            above_cells, above_starts = raw[level + 1]
            above_counts = np.diff(np.append(above_starts, len(above_cells)))
            parent_of_cell = np.repeat(numbers[level + 1], above_counts)
            # above_cells["id"] still says which node here each cell stands for
            parent_of = np.empty(len(starts), dtype=np.int64)
            parent_of[above_cells["id"]] = parent_of_cell
        else:
            parent_of = np.empty(0, dtype=np.int64)
        levels.append((cells_, starts, numbers[level], parent_of))
    for level in range(1, len(raw)):
        cells_ = levels[level][0]
        cells_["id"] = numbers[level - 1][cells_["id"]]
    return levels


def _str_order(box: NDArray[np.float64], capacity: int) -> NDArray[np.int64]:
    """The order that tiles these boxes into nodes of ``capacity``: slices by x centre, then by y
    centre within each slice."""
    n = len(box)
    if n <= capacity:
        return np.arange(n, dtype=np.int64)
    cx = (box[:, 0] + box[:, 1]) / 2
    cy = (box[:, 2] + box[:, 3]) / 2
    nodes = -(-n // capacity)
    slices = int(np.ceil(np.sqrt(nodes)))
    per_slice = slices * capacity
    by_x = np.argsort(cx, kind="stable")
    slice_of = np.empty(n, dtype=np.int64)
    slice_of[by_x] = np.arange(n) // per_slice
    return np.lexsort((cy, slice_of)).astype(np.int64)


class PendingEntries:
    """Index entries set aside while a large write goes on, added in one go by :meth:`settle`
    (packed afresh with the layer's other entries when that is cheaper). Held as 24 bytes a row."""

    def __init__(self) -> None:
        self._ids: list[NDArray[np.int64]] = []
        self._boxes: list[NDArray[np.float32]] = []

    def __len__(self) -> int:
        return sum(len(i) for i in self._ids)

    def add(self, ids: NDArray[np.int64], bounds: NDArray[np.float64]) -> None:
        """Features' ids and (minx, miny, maxx, maxy) bounds; an empty shape (NaN) has no entry."""
        b = np.asarray(bounds, dtype=np.float64).reshape(-1, 4)
        ok = np.isfinite(b).all(axis=1)
        self._ids.append(np.asarray(ids, dtype=np.int64)[ok])
        self._boxes.append(float_boxes(b[ok]))

    def settle(self, conn: sqlite3.Connection, table: str) -> None:
        """Put the entries set aside into the R-tree ``table``; nothing is left pending."""
        if not self._ids:
            return
        ids, boxes = np.concatenate(self._ids), np.concatenate(self._boxes)
        self._ids, self._boxes = [], []
        if not len(ids):
            return
        existing = int(conn.execute(f'SELECT count(*) FROM "{table}_rowid"').fetchone()[0])
        if should_rebuild(len(ids), existing):
            old_ids, old_boxes = existing_entries(conn, table)
            rebuild(conn, table, np.concatenate([old_ids, ids]), np.concatenate([old_boxes, boxes]))
        else:
            insert_entries(conn, table, ids, boxes)
