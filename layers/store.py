"""Workspace stores: where an estate's layers live, behind one interface.

A workspace is one GeoPackage file by default (QGIS opens it too), geometry in EPSG:27700. Every
write is one SQLite transaction (:mod:`.transaction`): an import lands whole or not at all.
Changes to features are recorded in ``closuremap_audit`` (who, when, before/after). A PostGIS store
for shared editing implements the same :class:`WorkspaceStore` protocol, so callers do not change.
The file's tables are :mod:`.schema`'s; waiting for a busy workspace is :mod:`.connection`'s.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

import geopandas as gpd
import shapely

from closuremap.geo.crs import BNG
from closuremap.geo.errors import WorkspaceError

from . import gpkg_blob, gpkg_copy, importlog
from .connection import workspace_connection, workspace_fingerprint, write_transaction
from .extent import index_bounds
from .model import KINDS, get_kind
from .order_records import audit_case_record, audit_objection, case_row, objection_row
from .schema import (
    AUDIT_COLUMNS,
    AUDIT_TABLE,
    CASE_LOG_TABLE,
    CREATE_CASE_LOG,
    CREATE_OBJECTIONS,
    META_TABLE,
    OBJECTIONS_TABLE,
    add_missing_columns,
    audit_is_chained,
    chain_audit,
    create_layers,
    create_workspace_file,
    empty_frame,
    typed_frame,
)
from .transaction import Transaction


class WorkspaceStore(Protocol):
    """What every store offers. Geometry in and out is EPSG:27700."""

    location: str

    def read(
        self, kind: str, bbox: tuple[float, float, float, float] | None = None
    ) -> gpd.GeoDataFrame: ...

    def add(
        self,
        kind: str,
        features: gpd.GeoDataFrame,
        *,
        user: str,
        note: str = "",
        audit_each: bool = False,
    ) -> list[str]: ...

    def update(
        self,
        kind: str,
        feature_id: str,
        *,
        user: str,
        geometry: shapely.Geometry | None = None,
        attributes: Mapping[str, Any] | None = None,
        note: str | None = None,
        expected_version: int | None = None,
    ) -> None: ...

    def version(self, kind: str, feature_id: str) -> int: ...

    def transaction(self) -> contextlib.AbstractContextManager[Transaction]: ...

    def delete(
        self, kind: str, feature_ids: Sequence[str], *, user: str, note: str | None = None
    ) -> int: ...

    def count(self, kind: str) -> int: ...

    def bounds(self, kind: str) -> tuple[float, float, float, float] | None: ...

    def history(self, kind: str | None = None, feature_id: str | None = None) -> pd.DataFrame: ...

    def get_meta(self, key: str, default: str | None = None) -> str | None: ...

    def set_meta(self, key: str, value: str, *, user: str) -> None: ...

    def content_version(self) -> str:
        """Changes whenever anyone commits a write to the workspace; the same while nobody does:
        the key of every cached read (maps, pages)."""
        ...

    def add_objection(
        self,
        order_id: str,
        *,
        who: str,
        summary: str,
        received_on: str,
        recorded_by: str,
        response: str = "",
    ) -> int: ...

    def objections(self, order_id: str | None = None) -> pd.DataFrame: ...

    def add_case_record(
        self, order_id: str, what: str, record: Mapping[str, Any], *, recorded_by: str
    ) -> int: ...

    def case_records(self, order_id: str, what: str) -> pd.DataFrame: ...


class GeoPackageStore:
    """A workspace in one GeoPackage file: the single-user default, no server needed."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        if not self.path.exists():
            raise WorkspaceError(
                f"workspace {self.path} does not exist; "
                f"create it with `closuremap init {self.path}`"
            )
        with self._connect() as conn:
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        if META_TABLE not in tables:
            raise WorkspaceError(
                f"{self.path} is not a closuremap workspace (no {META_TABLE} table); create one "
                "with `closuremap init NEW.gpkg` and import this file's layers into it"
            )
        missing = [k for k in KINDS.values() if k.name not in tables]
        if missing:  # a workspace made before a kind existed: add its empty table
            create_layers(self.path, missing)
        add_missing_columns(self.path, [k for k in KINDS.values() if k.name in tables])
        if AUDIT_TABLE in tables:
            self._chain_audit()
        if importlog.IMPORTS_TABLE in tables:
            self._recover_rejects()

    def _chain_audit(self) -> None:
        """A workspace made before the audit hash chain: its audit rows chained, once
        (:func:`.schema.chain_audit`). A read-only or busy workspace still opens; its next write
        chains them first."""
        try:
            with self._connect() as conn:
                if audit_is_chained(conn):
                    return
                with write_transaction(conn, self.path):
                    chain_audit(conn)
        except (OSError, sqlite3.Error, WorkspaceError):
            pass

    def _recover_rejects(self) -> None:
        """Write the rejects files of committed imports that a crash kept from being written."""
        try:
            with self._connect() as conn:
                importlog.write_pending_rejects(conn)
        except (OSError, sqlite3.Error, WorkspaceError):
            pass  # a read-only or busy workspace still opens: the next writable open writes them

    def write_rejects(self, import_id: int, target: Path | None = None) -> Path | None:
        """An import's rejects CSV, written from its log (streamed, renamed into place when whole):
        to the path recorded at import, or to ``target``."""
        with self._connect() as conn:
            return importlog.write_rejects(conn, import_id, target)

    def imports(self) -> pd.DataFrame:
        """The import log, newest first: who imported which file when, what became of its rows."""
        with self._connect() as conn:
            return importlog.imports(conn)

    # -- creation -------------------------------------------------------------------------------
    @classmethod
    def create(
        cls, path: str | Path, *, name: str = "", overwrite: bool = False
    ) -> GeoPackageStore:
        """A new, empty workspace with a table for every layer kind."""
        p = Path(path)
        if p.suffix.lower() != ".gpkg":
            raise WorkspaceError(
                f"a workspace is a GeoPackage: give a path ending in .gpkg, not {p.name}"
            )
        if p.exists():
            if not overwrite:
                raise WorkspaceError(f"{p} already exists; choose another path or delete it first")
            p.unlink()
        p.parent.mkdir(parents=True, exist_ok=True)
        create_workspace_file(p, name or p.stem)
        return cls(p)

    # -- connections ----------------------------------------------------------------------------
    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with workspace_connection(self.path) as conn:
            gpkg_blob.register_functions(conn)
            yield conn

    # -- meta -----------------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        with self._connect() as conn:
            row = conn.execute(f"SELECT value FROM {META_TABLE} WHERE key = ?", (key,)).fetchone()
        return default if row is None else row[0]

    def set_meta(self, key: str, value: str, *, user: str) -> None:
        """Change a setting, as an audit entry naming ``user`` (:meth:`Transaction.set_meta`)."""
        with self.transaction() as tx:
            tx.set_meta(key, value, user=user)

    # -- objections log (consultation, s.76(7)) ------------------------------------------------
    def add_objection(
        self,
        order_id: str,
        *,
        who: str,
        summary: str,
        received_on: str,
        recorded_by: str,
        response: str = "",
    ) -> int:
        """Log a resident's or partner's objection or view on an order; returns its number."""
        row = objection_row(
            order_id,
            who=who,
            summary=summary,
            received_on=received_on,
            recorded_by=recorded_by,
            response=response,
        )
        with self.transaction() as tx:
            tx.execute(CREATE_OBJECTIONS)
            cur = tx.execute(
                f"INSERT INTO {OBJECTIONS_TABLE} ({', '.join(row)}) "
                f"VALUES ({', '.join('?' * len(row))})",
                list(row.values()),
            )
            number = int(cur.lastrowid or 0)
            audit_objection(tx, row, number)
            return number

    def objections(self, order_id: str | None = None) -> pd.DataFrame:
        with self._connect() as conn:
            conn.execute(CREATE_OBJECTIONS)
            conn.commit()
            sql = (
                f"SELECT * FROM {OBJECTIONS_TABLE}"
                + (" WHERE order_id = ?" if order_id else "")
                + " ORDER BY id"
            )
            return pd.read_sql_query(sql, conn, params=[order_id] if order_id else [])

    # -- case records: notice service, letters sent (s.79, s.76(6)-(7)) ------------------------
    def add_case_record(
        self, order_id: str, what: str, record: Mapping[str, Any], *, recorded_by: str
    ) -> int:
        """Append one record of what was done for an order ('service': a notice fixed at an
        entrance; 'letters': a consultation mailing). Records are kept, never edited: the bundle
        cites them."""
        row = case_row(order_id, what, record, recorded_by=recorded_by)
        with self.transaction() as tx:
            tx.execute(CREATE_CASE_LOG)
            cur = tx.execute(
                f"INSERT INTO {CASE_LOG_TABLE} ({', '.join(row)}) VALUES (?, ?, ?, ?, ?)",
                list(row.values()),
            )
            number = int(cur.lastrowid or 0)
            audit_case_record(tx, row, number)
            return number

    def case_records(self, order_id: str, what: str) -> pd.DataFrame:
        """The records of one kind for an order, oldest first: each record's fields as columns,
        plus ``recorded_by`` and ``recorded_at``."""
        with self._connect() as conn:
            exists = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE name = ?", (CASE_LOG_TABLE,)
            ).fetchone()
            rows = (
                []
                if not exists
                else conn.execute(
                    f"SELECT record, recorded_by, recorded_at FROM {CASE_LOG_TABLE} "
                    "WHERE order_id = ? AND what = ? ORDER BY id",
                    (order_id, what),
                ).fetchall()
            )
        return pd.DataFrame(
            [{**json.loads(r), "recorded_by": by, "recorded_at": at} for r, by, at in rows]
        )

    # -- reading --------------------------------------------------------------------------------
    def read(
        self, kind: str, bbox: tuple[float, float, float, float] | None = None
    ) -> gpd.GeoDataFrame:
        """Every feature of a kind (or those whose envelope meets ``bbox``), in EPSG:27700."""
        k = get_kind(kind)
        cols = ", ".join(f'"{c}"' for c in k.columns)
        sql = f'SELECT geom, {cols} FROM "{k.name}"'
        params: tuple[float, ...] = ()
        if bbox is not None:
            minx, miny, maxx, maxy = bbox
            sql += (
                f' WHERE fid IN (SELECT id FROM "rtree_{k.name}_geom" '
                "WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?)"
            )
            params = (minx, maxx, miny, maxy)
        sql += " ORDER BY fid"
        with self._connect() as conn:
            rows = conn.execute(sql, params).fetchall()
        if not rows:
            return empty_frame(k)
        geoms = gpkg_blob.decode([r[0] for r in rows])
        frame = typed_frame(k, list(k.columns), [r[1:] for r in rows])
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=BNG))

    def count(self, kind: str) -> int:
        k = get_kind(kind)
        with self._connect() as conn:
            return int(conn.execute(f'SELECT count(*) FROM "{k.name}"').fetchone()[0])

    def bounds(self, kind: str) -> tuple[float, float, float, float] | None:
        """(min easting, min northing, max easting, max northing) of a kind, or None if empty."""
        k = get_kind(kind)
        with self._connect() as conn:
            box = index_bounds(conn, k.name)
        return None if box[0] is None else box

    def history(self, kind: str | None = None, feature_id: str | None = None) -> pd.DataFrame:
        """The audit trail, newest first: who changed what, when, with before/after, and each
        entry's place in the hash chain (``prev_hash``, ``hash``: :mod:`.audit_chain`)."""
        where, params = [], []
        if kind:
            where.append("kind = ?")
            params.append(kind)
        if feature_id:
            where.append("feature_id = ?")
            params.append(feature_id)
        with self._connect() as conn:
            # a workspace not yet chained (opened read-only or busy) has no hashes to give
            have = {r[1] for r in conn.execute(f"PRAGMA table_info({AUDIT_TABLE})")}
            cols = ", ".join(f'"{c}"' if c in have else f'NULL AS "{c}"' for c in AUDIT_COLUMNS)
            sql = f"SELECT {cols} FROM {AUDIT_TABLE}"
            if where:
                sql += " WHERE " + " AND ".join(where)
            return pd.read_sql_query(sql + " ORDER BY id DESC", conn, params=params)

    # -- writing --------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One write of several parts (an import's features, review queue, rejects and log) that
        lands whole or not at all: other readers never see half of it."""
        with self._connect() as conn, write_transaction(conn, self.path):
            yield Transaction(conn)

    def add(
        self,
        kind: str,
        features: gpd.GeoDataFrame,
        *,
        user: str,
        note: str = "",
        audit_each: bool = False,
    ) -> list[str]:
        """Store new features in one transaction; returns their feature ids. ``audit_each`` records
        each feature (drawn shapes, order scopes) rather than one line for a bulk import."""
        with self.transaction() as tx:
            return tx.add(kind, features, user=user, note=note, audit_each=audit_each)

    def update(self, kind: str, feature_id: str, *, user: str, **change: Any) -> None:
        """Change one feature's ``geometry`` and/or ``attributes`` (with a ``note``); its feature
        id stays the same. With ``expected_version`` (what :meth:`version` said when the editor
        loaded it), a feature changed since by anyone is not overwritten: :class:`StaleEditError`
        says who changed what. The keywords are :meth:`Transaction.update`'s."""
        with self.transaction() as tx:
            tx.update(kind, feature_id, user=user, **change)

    def delete(
        self, kind: str, feature_ids: Sequence[str], *, user: str, note: str | None = None
    ) -> int:
        """Remove features; each removal is recorded with what was removed."""
        with self.transaction() as tx:
            return tx.delete(kind, feature_ids, user=user, note=note)

    def content_version(self) -> str:
        """SQLite's change counter, size and mtime of the file (:func:`.connection.
        workspace_fingerprint`): any committed write by any process changes it."""
        return workspace_fingerprint(self.path)

    def version(self, kind: str, feature_id: str) -> int:
        """A feature's version: the number of the last audit entry that changed it (0: as
        imported). An editor keeps the version it loaded and hands it back to :meth:`update`."""
        with self._connect() as conn:
            return Transaction(conn).version(kind, feature_id)

    # -- raw copy (`closuremap copy`: :mod:`.gpkg_copy`) ----------------------------------------
    def table_names(self) -> list[str]:
        """Every table closuremap keeps here: the kinds, then the side tables that exist."""
        return gpkg_copy.table_names(self)

    def dump_table(self, name: str) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
        """A table's columns and rows in id order, ``geom`` as ISO WKB, read as iterated."""
        return gpkg_copy.dump_table(self, name)

    def load_table(self, name: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Rows written verbatim into an empty table of a new workspace; returns how many."""
        return gpkg_copy.load_table(self, name, columns, rows)


def open_workspace(location: str | Path) -> WorkspaceStore:
    """The store for a workspace location: a ``.gpkg`` path, or a ``postgresql://`` URL
    (:class:`.pg_store.PostGISStore`, imported only then: psycopg is not loaded for a file)."""
    text = str(location)
    if text.lower().startswith(("postgresql://", "postgres://")):
        from .pg_store import PostGISStore

        return PostGISStore(text)
    if not text.lower().endswith(".gpkg"):
        raise WorkspaceError(
            f"a workspace is a .gpkg file or a postgresql:// URL; '{text}' is neither"
        )
    return GeoPackageStore(text)
