"""A GeoPackage workspace's tables row by row, for ``closuremap copy``: every table closuremap
keeps, dumped and loaded verbatim (ids, audit hashes and all) so a copy is the same workspace.

Rows stream in chunks both ways (a million incidents never sit in memory at once). Geometry leaves
as ISO WKB cut straight from the GeoPackage blob (no reprojection, no rounding) and comes back as a
blob with its envelope; a layer's R-tree is packed once at the end of its load (:mod:`.rtree`) and
its extent and feature count set in ``gpkg_contents``, so GDAL and QGIS read the copy as they read
the original.
"""

from __future__ import annotations

import itertools
import sqlite3
import struct
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

import shapely

from closuremap.geo.errors import WorkspaceError

from . import gpkg_blob, importlog
from .connection import workspace_connection, write_transaction
from .deferred import DeferredIndexes
from .extent import bulk_insert, update_extent
from .model import KINDS
from .schema import (
    AUDIT_TABLE,
    CASE_LOG_TABLE,
    CREATE_CASE_LOG,
    CREATE_OBJECTIONS,
    META_TABLE,
    OBJECTIONS_TABLE,
    SRS_ID,
    sql_value,
)

if TYPE_CHECKING:
    from .store import GeoPackageStore

#: Rows read or written at a time: a few MB of incidents, far from the whole layer.
CHUNK_ROWS = 10_000
GEOMETRY = "geom"
#: The review queue's and the floor plans' tables (:mod:`.review`, :mod:`.floorplans`: both import
#: the store, which imports this module, so their names are repeated here and a test holds them
#: equal).
REVIEW_TABLE = "closuremap_review"
FLOORPLANS_TABLE = "closuremap_floorplans"
#: The side tables in the order they are copied (settings first, the audit trail after the
#: features and records it describes); a later closuremap's other ``closuremap_*`` tables follow.
SIDE_TABLES = (
    META_TABLE,
    OBJECTIONS_TABLE,
    CASE_LOG_TABLE,
    REVIEW_TABLE,
    FLOORPLANS_TABLE,
    importlog.IMPORTS_TABLE,
    importlog.REJECTS_TABLE,
    AUDIT_TABLE,
)


def _create_side_table(conn: sqlite3.Connection, name: str) -> bool:
    """Make a side table a GeoPackage makes only when it is first written to, as its module
    makes it; False if ``name`` is none of those."""
    from . import floorplans, review  # here: they import the store, which imports this module

    ddl = {
        OBJECTIONS_TABLE: CREATE_OBJECTIONS,
        CASE_LOG_TABLE: CREATE_CASE_LOG,
        REVIEW_TABLE: review.CREATE_TABLE,
        FLOORPLANS_TABLE: floorplans.CREATE_TABLE,
    }
    if name in (importlog.IMPORTS_TABLE, importlog.REJECTS_TABLE):
        importlog.ensure_tables(conn)
    elif name in ddl:
        conn.execute(ddl[name])
    else:
        return False
    return True


def _existing(conn: sqlite3.Connection) -> set[str]:
    return {
        r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    }


def table_names(store: GeoPackageStore) -> list[str]:
    """Every table closuremap keeps in this workspace: the layer kinds, then the side tables that
    exist (settings, records, review queue, floor plans, import log, audit trail last), then any
    other ``closuremap_*`` table a later version made, so nothing is left behind unnoticed."""
    with workspace_connection(store.path) as conn:
        present = _existing(conn)
    kinds = [k for k in KINDS if k in present]
    side = [t for t in SIDE_TABLES if t in present]
    other = sorted(t for t in present if t.startswith("closuremap_") and t not in SIDE_TABLES)
    return kinds + side + other


def _columns(conn: sqlite3.Connection, table: str) -> list[tuple[str, int]]:
    """A table's (column, position in its primary key) in table order (0: not in the key)."""
    return [(r[1], int(r[5])) for r in conn.execute(f'PRAGMA table_info("{table}")')]


def _known(store: GeoPackageStore, name: str) -> None:
    if name not in table_names(store):
        raise WorkspaceError(
            f"{store.location} has no table '{name}'; the tables it keeps are "
            f"{', '.join(table_names(store))}"
        )


def dump_table(store: GeoPackageStore, name: str) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
    """A table's columns and its rows in primary-key order (fid, id), as Python values; ``geom``
    as ISO WKB (2D), NULL as None. The rows are read as they are iterated, in one read
    transaction: a consistent table, a chunk in memory at a time."""
    _known(store, name)
    with workspace_connection(store.path) as conn:
        described = _columns(conn, name)
    columns = [c for c, _ in described]
    key = [c for c, pk in sorted(described, key=lambda x: x[1]) if pk] or ["rowid"]
    geom_at = columns.index(GEOMETRY) if name in KINDS and GEOMETRY in columns else None
    sql = (
        f"SELECT {', '.join(_quoted(c) for c in columns)} FROM {_quoted(name)} "
        f"ORDER BY {', '.join(_quoted(c) for c in key)}"
    )
    return columns, _rows(store, sql, geom_at)


def _rows(store: GeoPackageStore, sql: str, geom_at: int | None) -> Iterator[tuple[Any, ...]]:
    with workspace_connection(store.path) as conn:
        conn.execute("BEGIN")  # one snapshot of the table however long the reader takes
        cursor = conn.execute(sql)
        while chunk := cursor.fetchmany(CHUNK_ROWS):
            if geom_at is None:
                yield from chunk
                continue
            wkbs = blob_wkbs([r[geom_at] for r in chunk])
            for row, wkb in zip(chunk, wkbs, strict=True):
                yield (*row[:geom_at], wkb, *row[geom_at + 1 :])
        conn.execute("ROLLBACK")


def blob_wkbs(blobs: Sequence[bytes | None]) -> list[bytes | None]:
    """ISO WKB (2D, little-endian) of GeoPackage blobs: the blob's own WKB, cut from behind its
    header, when it already is that (what closuremap and GDAL write); re-written by shapely
    otherwise (a blob with Z or M, big-endian, or in extended WKB)."""
    out: list[bytes | None] = []
    redo: list[int] = []
    for i, blob in enumerate(blobs):
        if blob is None:
            out.append(None)
            continue
        wkb = bytes(blob[gpkg_blob.wkb_offset(blob) :])
        out.append(wkb)
        if len(wkb) < 5 or wkb[0] != 1 or struct.unpack_from("<I", wkb, 1)[0] > 7:
            redo.append(i)
    if redo:
        geoms = gpkg_blob.decode([blobs[i] for i in redo])
        again = shapely.to_wkb(geoms, output_dimension=2, byte_order=1, flavor="iso")
        for i, wkb in zip(redo, again.tolist(), strict=True):
            out[i] = wkb
    return out


def load_table(
    store: GeoPackageStore, name: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Write rows verbatim into a table of a new workspace, in one transaction; returns how many.

    The table must be empty, but for the settings (``closuremap_meta``), whose rows a new
    workspace was given when it was made: the copied workspace's settings replace them. A layer's
    ``geom`` comes as WKB (ISO or extended) and is stored as a GeoPackage blob, its R-tree entry,
    the layer's extent and feature count kept right. A side table a workspace makes only when first
    written to is made here."""
    columns = list(columns)
    if name not in KINDS and not name.startswith("closuremap_"):
        raise WorkspaceError(
            f"'{name}' is not a table closuremap keeps; nothing was copied into it"
        )
    with workspace_connection(store.path) as conn, write_transaction(conn, store.path):
        gpkg_blob.register_functions(conn)  # the R-tree triggers' functions
        if name not in _existing(conn) and not _create_side_table(conn, name):
            raise WorkspaceError(
                f"{store.location} has no table '{name}' to copy into: the source was made by a "
                "newer closuremap; copy with that version"
            )
        have = {c for c, _ in _columns(conn, name)}
        missing = [c for c in columns if c not in have]
        if missing:
            raise WorkspaceError(
                f"the copy's table '{name}' has no column(s) {', '.join(missing)}: the source was "
                "made by a newer closuremap; copy with that version"
            )
        if name == META_TABLE:
            own = conn.execute(
                f"SELECT value FROM {META_TABLE} WHERE key = 'schema_version'"
            ).fetchone()
            conn.execute(f"DELETE FROM {META_TABLE}")
            rows = _own_schema_version(columns, rows, None if own is None else own[0])
        elif conn.execute(f"SELECT 1 FROM {_quoted(name)} LIMIT 1").fetchone():
            raise WorkspaceError(
                f"the table '{name}' of {store.location} already holds rows; copy into a new "
                "workspace"
            )
        if name in KINDS:
            return _load_layer(conn, name, columns, rows)
        insert = (
            f"INSERT INTO {_quoted(name)} ({', '.join(_quoted(c) for c in columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})"
        )
        count = 0
        for chunk in _chunks(rows):
            conn.executemany(insert, zip(*_bindable(chunk), strict=True))
            count += len(chunk)
        return count


def _own_schema_version(
    columns: list[str], rows: Iterable[Sequence[Any]], version: str | None
) -> Iterator[Sequence[Any]]:
    """The copied settings with this workspace's own ``schema_version``: it says which of its
    backend's migrations a workspace has had (a PostGIS workspace counts its own), and a new one
    is up to date."""
    key, value = columns.index("key"), columns.index("value")
    for row in rows:
        if row[key] == "schema_version" and version is not None:
            row = [*row[:value], version, *row[value + 1 :]]
        yield row


def _load_layer(
    conn: sqlite3.Connection, name: str, columns: list[str], rows: Iterable[Sequence[Any]]
) -> int:
    """A layer's rows, chunk by chunk: geometry as blobs, the index entries set aside and the
    R-tree packed once at the end (with the unique feature_id index made once from all keys)."""
    k = KINDS[name]
    geom_at = columns.index(GEOMETRY) if GEOMETRY in columns else None
    fid_at = columns.index("fid") if "fid" in columns else None
    deferred = DeferredIndexes(conn, name)
    box = np.full(4, np.nan)
    count, last_fid = 0, 0
    for chunk in _chunks(rows):
        values = _bindable(chunk)
        if fid_at is not None:  # the R-tree's entries follow the fids in the order inserted
            fids = np.asarray(values[fid_at], dtype=np.int64)
            if fids[0] <= last_fid or (np.diff(fids) <= 0).any():
                raise WorkspaceError(f"the rows of '{name}' to copy are not in fid order")
            last_fid = int(fids[-1])
        if geom_at is None:
            geoms = np.full(len(chunk), None, dtype=object)
        else:
            geoms = shapely.from_wkb(np.asarray(values[geom_at], dtype=object))
            values[geom_at] = gpkg_blob.encode(geoms, SRS_ID)
        bounds = shapely.bounds(geoms)
        deferred.before_add(len(chunk), False)
        bulk_insert(conn, k, columns, list(zip(*values, strict=True)), bounds, deferred.entries)
        present = bounds[np.isfinite(bounds).all(axis=1)]
        if len(present):
            box = np.array(
                [
                    np.fmin(box[0], present[:, 0].min()),
                    np.fmin(box[1], present[:, 1].min()),
                    np.fmax(box[2], present[:, 2].max()),
                    np.fmax(box[3], present[:, 3].max()),
                ]
            )
        count += len(chunk)
    deferred.settle()
    update_extent(conn, k, box.reshape(1, 4))
    return count


def _chunks(rows: Iterable[Sequence[Any]]) -> Iterator[list[Sequence[Any]]]:
    it = iter(rows)
    while chunk := list(itertools.islice(it, CHUNK_ROWS)):
        yield chunk


#: The types sqlite3 binds as they are (SQLite itself stores a NaN as NULL).
_PLAIN = frozenset({str, int, float, bytes, type(None)})


def _bindable(chunk: list[Sequence[Any]]) -> list[list[Any]]:
    """A chunk's values column by column, as sqlite3 binds them: a column of plain values (what
    either store dumps, nearly always) as it is, any other converted value by value."""
    columns = [list(c) for c in zip(*chunk, strict=True)]
    for i, column in enumerate(columns):
        if not set(map(type, column)) <= _PLAIN:
            columns[i] = [_value(v) for v in column]
    return columns


def _value(value: Any) -> Any:
    """A value as sqlite3 binds it: bytes for a memoryview (psycopg's bytea), the rest as
    :func:`.schema.sql_value` (dates as ISO text, NumPy numbers as Python's)."""
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    return sql_value(value)


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
