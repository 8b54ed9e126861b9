"""Writes to a PostGIS workspace: the same :class:`PgTransaction` methods as a GeoPackage's
:class:`.transaction.Transaction`, so the importer, the review queue and the pages write through
either without knowing which.

A write transaction holds the workspace's write lock (an advisory transaction lock) from its
first statement, as a GeoPackage's ``BEGIN IMMEDIATE`` does: audit entries get consecutive ids,
each chained to the one before (:mod:`.audit_chain`), with no other writer between, and two
writers cannot deadlock on each other's rows. An update also locks the feature's row
(``SELECT … FOR UPDATE``) before comparing versions, so a stale save is refused even by a client
that writes without the lock. Features go in by ``COPY`` with their geometry as EWKB; every other
statement is parameterised, identifiers quoted from our own constants.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import psycopg
from psycopg import sql

import geopandas as gpd
import shapely

from closuremap.geo.errors import WorkspaceError
from closuremap.geo.validate import to_multipolygon

from . import audit_chain
from .audit import stale_edit
from .connection import now
from .model import FEATURE_ID, LayerKind, get_kind
from .pg_schema import WRITES_TABLE
from .schema import (
    AUDIT_TABLE,
    META_TABLE,
    SRS_ID,
    column_kind,
    feature_json,
    sql_column,
    sql_value,
)
from .side_sql import SideSQL
from .transaction import AUDIT_EACH_ADD, SETTINGS_KIND, AuditRow, _prepared

_AUDIT_INSERT = (
    f'INSERT INTO {AUDIT_TABLE} (id, at, "user", kind, feature_id, action, before, after, note, '
    "prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def pg_value(kind: LayerKind, column: str, value: Any) -> Any:
    """A value as its PostgreSQL column takes it: what SQLite's column affinity would have made
    of it in a GeoPackage (a whole float in an integer column as an integer, a number in a text
    column as its text), so both backends store the same."""
    value = sql_value(value)
    if value is None:
        return None
    ck = column_kind(kind, column)
    if ck == "int":
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                return value  # refused by the column, as a clear error
    elif ck == "float":
        if isinstance(value, (int, str)) and not isinstance(value, bool):
            try:
                return float(value)
            except ValueError:
                return value
    elif not isinstance(value, str):
        return str(value)
    return value


def ewkb_hex(geoms: Iterable[shapely.Geometry | None]) -> list[str | None]:
    """Geometries as hex EWKB in EPSG:27700 (2D): what PostGIS reads into a geometry column from
    COPY or a parameter."""
    arr = np.asarray(list(geoms), dtype=object)
    if not len(arr):
        return []
    flat = shapely.set_srid(shapely.force_2d(arr), SRS_ID)
    return shapely.to_wkb(flat, hex=True, include_srid=True, output_dimension=2).tolist()


class PgTransaction:
    """A write in progress on a PostGIS workspace (:meth:`PostGISStore.transaction`): committed
    together when the ``with`` block ends, rolled back together if it raises."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self._chain_head: tuple[int, str] | None = None

    @contextmanager
    def deferred_index(self, kind: str) -> Iterator[None]:
        """A GeoPackage builds a large import's indexes once at the end; PostgreSQL keeps its
        GiST and unique indexes right as rows arrive by COPY, so there is nothing to defer."""
        get_kind(kind)
        yield

    # -- features -------------------------------------------------------------------------------
    def add(
        self,
        kind: str,
        features: gpd.GeoDataFrame,
        *,
        user: str,
        note: str = "",
        audit_each: bool = False,
    ) -> list[str]:
        """Store new features (EPSG:27700); returns their feature ids, given or made. A feature
        id already in the layer, or twice in ``features``, is refused."""
        k = get_kind(kind)
        if len(features) == 0:
            return []
        prepared, given = _prepared(k, features)
        cols = [c for c in k.columns if c in prepared.columns]
        geoms = prepared.geometry.values
        columns = [sql_column(prepared[c]) for c in cols]
        stored = [i for i, values in enumerate(columns) if any(v is not None for v in values)]
        ids = prepared[FEATURE_ID].astype(str).tolist()
        repeated = prepared[FEATURE_ID][prepared[FEATURE_ID].duplicated()].tolist()
        if repeated:
            raise WorkspaceError(
                f"feature id {repeated[0]} appears more than once in what is being added; "
                "drop the feature_id column to import them as new features"
            )
        dup = self.existing_ids(k.name, [i for i, g in zip(ids, given, strict=True) if g])
        if dup:
            raise WorkspaceError(
                f"{len(dup)} feature id(s) already exist in '{k.name}' (e.g. {dup[0]}); "
                "drop the feature_id column to import them as new features"
            )
        names = ["geom", *(cols[i] for i in stored)]
        typed = [[pg_value(k, cols[i], v) for v in columns[i]] for i in stored]
        copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(k.name), sql.SQL(", ").join(sql.Identifier(n) for n in names)
        )
        with self.conn.cursor() as cur, cur.copy(copy_sql) as copy:
            for row in zip(ewkb_hex(geoms), *typed, strict=True):
                copy.write_row(row)
        if k.name in AUDIT_EACH_ADD or audit_each:
            records = [dict(zip(cols, r, strict=True)) for r in zip(*columns, strict=True)]
            self.record_many(
                (user, k.name, fid, "add", None, feature_json(rec, g), note)
                for fid, rec, g in zip(ids, records, geoms, strict=True)
            )
        else:
            self.record(
                user=user,
                kind=k.name,
                feature_id=None,
                action="add",
                before=None,
                after=json.dumps({"count": len(ids)}),
                note=note,
            )
        return ids

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
    ) -> None:
        """Change one feature's geometry and/or attributes; with ``expected_version``, a feature
        changed since by anyone is refused (:class:`StaleEditError`, saying who changed what).
        The feature's row is locked first, so no save can slip between the check and the write."""
        k = get_kind(kind)
        attributes = dict(attributes or {})
        unknown = set(attributes) - {f.name for f in k.fields}
        if unknown:
            raise WorkspaceError(f"'{k.name}' has no field(s) {', '.join(sorted(unknown))}")
        before_attrs, before_geom = self._one(k, feature_id, lock=True)
        if expected_version is not None:
            self._refuse_stale(k, feature_id, expected_version)
        sets: list[sql.Composable] = [
            sql.SQL("{} = %s").format(sql.Identifier(name)) for name in attributes
        ]
        params: list[Any] = [pg_value(k, n, v) for n, v in attributes.items()]
        after_geom = before_geom
        if geometry is not None:
            if k.storage_geometry_type == "MultiPolygon":
                geometry = to_multipolygon([geometry])[0]
            sets.append(sql.SQL("geom = %s::geometry"))
            params.append(ewkb_hex([geometry])[0])
            after_geom = geometry
        if not sets:
            return
        self.conn.execute(
            sql.SQL("UPDATE {} SET {} WHERE feature_id = %s").format(
                sql.Identifier(k.name), sql.SQL(", ").join(sets)
            ),
            (*params, feature_id),
        )
        after_attrs = {**before_attrs, **{n: sql_value(v) for n, v in attributes.items()}}
        self.record(
            user=user,
            kind=k.name,
            feature_id=feature_id,
            action="update",
            before=feature_json(before_attrs, before_geom),
            after=feature_json(after_attrs, after_geom),
            note=note,
        )

    def delete(
        self, kind: str, feature_ids: Sequence[str], *, user: str, note: str | None = None
    ) -> int:
        """Remove features; each removal is recorded with what was removed."""
        k = get_kind(kind)
        for fid in feature_ids:
            before = feature_json(*self._one(k, fid, lock=True))
            self.conn.execute(
                sql.SQL("DELETE FROM {} WHERE feature_id = %s").format(sql.Identifier(k.name)),
                (fid,),
            )
            self.record(
                user=user,
                kind=k.name,
                feature_id=fid,
                action="delete",
                before=before,
                after=None,
                note=note,
            )
        return len(feature_ids)

    def version(self, kind: str, feature_id: str) -> int:
        """A feature's version: the number of the last audit entry that changed it (0: as
        imported)."""
        row = self.conn.execute(
            f"SELECT max(id) FROM {AUDIT_TABLE} WHERE kind = %s AND feature_id = %s",
            (kind, feature_id),
        ).fetchone()
        return int(row[0] or 0) if row else 0

    def existing_ids(self, kind: str, ids: list[str]) -> list[str]:
        """Which of these feature ids the layer already holds."""
        k = get_kind(kind)
        if not ids:
            return []
        rows = self.conn.execute(
            sql.SQL("SELECT feature_id FROM {} WHERE feature_id = ANY(%s)").format(
                sql.Identifier(k.name)
            ),
            (list(ids),),
        ).fetchall()
        return [r[0] for r in rows]

    # -- settings and the audit chain -----------------------------------------------------------
    def set_meta(self, key: str, value: str, *, user: str) -> None:
        """Change a workspace setting, as an audit entry (kind ``settings``, the key as its id);
        setting the value it already has records nothing."""
        row = self.conn.execute(
            f"SELECT value FROM {META_TABLE} WHERE key = %s FOR UPDATE", (key,)
        ).fetchone()
        if row is not None and row[0] == value:
            return
        self.conn.execute(
            f"INSERT INTO {META_TABLE} (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
        self.record(
            user=user,
            kind=SETTINGS_KIND,
            feature_id=key,
            action="add" if row is None else "update",
            before=None if row is None else json.dumps({"value": row[0]}),
            after=json.dumps({"value": value}),
        )

    def record(
        self,
        *,
        user: str,
        kind: str,
        feature_id: str | None,
        action: str,
        before: str | None,
        after: str | None,
        note: str | None = None,
    ) -> int:
        """Append one audit entry, chained to the last; returns its id."""
        return self.record_many([(user, kind, feature_id, action, before, after, note)])[-1]

    def record_many(self, rows: Iterable[AuditRow]) -> list[int]:
        """Append audit entries in order, each chained to the one before: (user, kind,
        feature_id, action, before, after, note) each; returns their ids."""
        last_id, prev = self._head()
        out = audit_chain.chained(last_id, prev, now(), rows)
        if not out:
            return []
        with self.conn.cursor() as cur:
            cur.executemany(_AUDIT_INSERT, out)
        self._chain_head = (out[-1][0], out[-1][-1])
        return [r[0] for r in out]

    def _head(self) -> tuple[int, str]:
        """The last entry's id and hash, read once a transaction (the write lock is held, so no
        other writer appends meanwhile)."""
        if self._chain_head is None:
            row = self.conn.execute(
                f"SELECT id, hash FROM {AUDIT_TABLE} ORDER BY id DESC LIMIT 1"
            ).fetchone()
            self._chain_head = (
                (0, audit_chain.GENESIS) if row is None else (int(row[0]), str(row[1] or ""))
            )
        return self._chain_head

    # -- raw statements (the side tables) -------------------------------------------------------
    def execute(self, query: str, params: Sequence[Any] = ()) -> Any:
        """A statement in the side tables' portable ``?`` style (:mod:`.side_sql`)."""
        return SideSQL(self.conn).execute(query, params)

    def executemany(self, query: str, rows: Iterable[Sequence[Any]]) -> None:
        SideSQL(self.conn).executemany(query, rows)

    def bump(self) -> None:
        """Count this write: the store's content version changes when it commits."""
        self.conn.execute(f"UPDATE {WRITES_TABLE} SET n = n + 1")

    # -- helpers --------------------------------------------------------------------------------
    def _one(
        self, k: LayerKind, feature_id: str, *, lock: bool = False
    ) -> tuple[dict[str, Any], Any]:
        """A feature's stored attributes and geometry (its row locked for this transaction)."""
        query = sql.SQL("SELECT ST_AsBinary(geom), {} FROM {} WHERE feature_id = %s{}").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in k.columns),
            sql.Identifier(k.name),
            sql.SQL(" FOR UPDATE" if lock else ""),
        )
        row = self.conn.execute(query, (feature_id,)).fetchone()
        if row is None:
            raise WorkspaceError(f"no feature with id {feature_id} in '{k.name}'")
        geom = None if row[0] is None else shapely.from_wkb(bytes(row[0]))
        return dict(zip(k.columns, row[1:], strict=True)), geom

    def _refuse_stale(self, k: LayerKind, feature_id: str, expected_version: int) -> None:
        """A StaleEditError naming who changed the feature, and how, since the editor loaded it."""
        if self.version(k.name, feature_id) == expected_version:
            return
        rows = self.conn.execute(
            f'SELECT at, "user", before, after FROM {AUDIT_TABLE} WHERE kind = %s '
            "AND feature_id = %s AND id > %s ORDER BY id",
            (k.name, feature_id, expected_version),
        ).fetchall()
        raise stale_edit(k.title, rows)
