"""Writes to a workspace: features added, updated and deleted, each change in the audit trail.

Everything done through one :class:`Transaction` is committed together when its ``with`` block
ends, or rolled back together if it raises: an import's features, review-queue rows, rejected rows
and log line land whole or not at all. Every change to a feature, a setting or an order's record
is an audit entry (who, when, before and after) appended through :meth:`Transaction.record`, which
chains it to the one before (:mod:`.audit_chain`); a feature's version is the number of the last
entry that changed it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

import geopandas as gpd
import shapely

from closuremap.geo.crs import BNG
from closuremap.geo.errors import WorkspaceError
from closuremap.geo.validate import to_multipolygon

from . import audit_chain, gpkg_blob
from .audit import stale_edit
from .connection import now
from .deferred import DeferredIndexes
from .extent import bulk_insert, update_extent
from .model import FEATURE_ID, LayerKind, get_kind
from .schema import (
    AUDIT_TABLE,
    META_TABLE,
    SRS_ID,
    chain_audit,
    feature_json,
    new_feature_ids,
    sql_column,
    sql_value,
)

#: The audit kind of a change to a workspace setting (closuremap_meta); its feature_id is the key.
SETTINGS_KIND = "settings"
#: Kinds whose every added feature gets its own audit row (scopes are court evidence).
AUDIT_EACH_ADD = {"orders"}
_AUDIT_INSERT = (
    f"INSERT INTO {AUDIT_TABLE} (id, at, user, kind, feature_id, action, before, after, note, "
    "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
#: What one audit entry says, in the order :meth:`Transaction.record_many` takes it.
AuditRow = tuple[str, str, str | None, str, str | None, str | None, str | None]


class Transaction:
    """A write in progress (:meth:`GeoPackageStore.transaction`): what is done through it is
    committed together when the ``with`` block ends, or rolled back together if it raises."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._deferred: dict[str, DeferredIndexes] = {}
        self._chain_head: tuple[int, str] | None = None  # (last id, its hash) once read

    @contextmanager
    def deferred_index(self, kind: str) -> Iterator[None]:
        """Within, features added to ``kind`` wait for their index entries until the block ends,
        when the R-tree is filled in one pass and the unique feature_id index made once
        (:mod:`.deferred`): a large import's indexes are built once, not grown row by row. An
        edit, a delete or a look-up of given ids in between settles them first; if the block
        raises, the transaction's rollback discards it all."""
        name = get_kind(kind).name
        if name in self._deferred:  # already deferred by an outer block: that one settles
            yield
            return
        self._deferred[name] = DeferredIndexes(self.conn, name)
        try:
            yield
            self._settle(name)
        finally:
            del self._deferred[name]

    def _settle(self, name: str) -> None:
        """Any index work a large import set aside for this layer, done now."""
        deferred = self._deferred.get(name)
        if deferred is not None:
            deferred.settle()

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
        id already in the layer, or twice in ``features``, is refused. ``audit_each`` records each
        feature (drawn shapes, order scopes) rather than one line for a bulk import."""
        k = get_kind(kind)
        if len(features) == 0:
            return []
        prepared, given = _prepared(k, features)
        cols = [c for c in k.columns if c in prepared.columns]
        geoms = prepared.geometry.values
        columns = [sql_column(prepared[c]) for c in cols]
        # a column no feature has a value for is left out: NULL (schema.py gives no column a
        # DEFAULT) without binding it a row at a time
        stored = [i for i, values in enumerate(columns) if any(v is not None for v in values)]
        rows = list(
            zip(gpkg_blob.encode(geoms, SRS_ID), *(columns[i] for i in stored), strict=True)
        )
        ids = prepared[FEATURE_ID].astype(str).tolist()
        repeated = prepared[FEATURE_ID][prepared[FEATURE_ID].duplicated()].tolist()
        if repeated:
            raise WorkspaceError(
                f"feature id {repeated[0]} appears more than once in what is being added; "
                "drop the feature_id column to import them as new features"
            )
        deferred = self._deferred.get(k.name)
        if deferred is not None:
            deferred.before_add(len(ids), any(given))
        # ids made here are random 128-bit UUIDs: only those the caller gave are looked up (the
        # unique index refuses any clash all the same)
        dup = self.existing_ids(k.name, [i for i, g in zip(ids, given, strict=True) if g])
        if dup:
            raise WorkspaceError(
                f"{len(dup)} feature id(s) already exist in '{k.name}' (e.g. {dup[0]}); "
                "drop the feature_id column to import them as new features"
            )
        bounds = shapely.bounds(np.asarray(geoms, dtype=object))
        pending = deferred.entries if deferred else None
        bulk_insert(self.conn, k, ["geom", *(cols[i] for i in stored)], rows, bounds, pending)
        update_extent(self.conn, k, bounds)
        if k.name in AUDIT_EACH_ADD or audit_each:
            records = [dict(zip(cols, r, strict=True)) for r in zip(*columns, strict=True)]
            self.record_many(
                (user, k.name, fid, "add", None, feature_json(rec, g), note)
                for fid, rec, g in zip(ids, records, geoms, strict=True)
            )
        else:
            count = json.dumps({"count": len(ids)})
            self.record(
                user=user,
                kind=k.name,
                feature_id=None,
                action="add",
                before=None,
                after=count,
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
        """Change one feature's geometry and/or attributes; its feature id stays the same. With
        ``expected_version`` (what :meth:`version` said when the editor loaded it), a feature
        changed since by anyone is not overwritten: :class:`StaleEditError` says who changed
        what."""
        k = get_kind(kind)
        attributes = dict(attributes or {})
        unknown = set(attributes) - {f.name for f in k.fields}
        if unknown:
            raise WorkspaceError(f"'{k.name}' has no field(s) {', '.join(sorted(unknown))}")
        self._settle(k.name)
        before_attrs, before_geom = self._one(k, feature_id)
        if expected_version is not None:
            self._refuse_stale(k, feature_id, expected_version)
        sets = [f'"{name}" = ?' for name in attributes]
        params = [sql_value(v) for v in attributes.values()]
        after_geom = before_geom
        if geometry is not None:
            if k.storage_geometry_type == "MultiPolygon":
                geometry = to_multipolygon([geometry])[0]
            sets.append("geom = ?")
            params.append(gpkg_blob.encode([geometry], SRS_ID)[0])
            after_geom = geometry
        if not sets:
            return
        self.conn.execute(
            f'UPDATE "{k.name}" SET {", ".join(sets)} WHERE feature_id = ?', (*params, feature_id)
        )
        update_extent(self.conn, k)
        after_attrs = {**before_attrs, **{n: sql_value(v) for n, v in attributes.items()}}
        before = feature_json(before_attrs, before_geom)
        after = feature_json(after_attrs, after_geom)
        self.record(
            user=user,
            kind=k.name,
            feature_id=feature_id,
            action="update",
            before=before,
            after=after,
            note=note,
        )

    def delete(
        self, kind: str, feature_ids: Sequence[str], *, user: str, note: str | None = None
    ) -> int:
        """Remove features; each removal is recorded with what was removed."""
        k = get_kind(kind)
        self._settle(k.name)
        for fid in feature_ids:
            before = feature_json(*self._one(k, fid))
            self.conn.execute(f'DELETE FROM "{k.name}" WHERE feature_id = ?', (fid,))
            self.record(
                user=user,
                kind=k.name,
                feature_id=fid,
                action="delete",
                before=before,
                after=None,
                note=note,
            )
        update_extent(self.conn, k)
        return len(feature_ids)

    def version(self, kind: str, feature_id: str) -> int:
        """A feature's version: the number of the last audit entry that changed it (0: as
        imported)."""
        row = self.conn.execute(
            f"SELECT max(id) FROM {AUDIT_TABLE} WHERE kind = ? AND feature_id = ?",
            (kind, feature_id),
        ).fetchone()
        return int(row[0] or 0)

    def existing_ids(self, kind: str, ids: list[str]) -> list[str]:
        """Which of these feature ids the layer already holds."""
        k = get_kind(kind)
        if not ids:
            return []
        if k.name in self._deferred:  # looked up by the unique index, not a scan
            self._deferred[k.name].restore_unique()
        found: list[str] = []
        for i in range(0, len(ids), 900):
            chunk = ids[i : i + 900]
            q = (
                f'SELECT feature_id FROM "{k.name}" '
                f"WHERE feature_id IN ({','.join('?' * len(chunk))})"
            )
            found += [r[0] for r in self.conn.execute(q, chunk)]
        return found

    def set_meta(self, key: str, value: str, *, user: str) -> None:
        """Change a workspace setting; the change is an audit entry (kind ``settings``, the key as
        its id, the old and new value), so who set the applicant or the letter template, and
        when, is on the record. Setting the value it already has records nothing."""
        row = self.conn.execute(f"SELECT value FROM {META_TABLE} WHERE key = ?", (key,)).fetchone()
        if row is not None and row[0] == value:
            return
        self.conn.execute(f"INSERT OR REPLACE INTO {META_TABLE} VALUES (?, ?)", (key, value))
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
        """Append one audit entry, chained to the last (:mod:`.audit_chain`); returns its id.
        ``before`` and ``after`` are the entry's JSON text (a feature's :func:`.schema.
        feature_json`, a setting's ``{"value": …}``, a record as written)."""
        return self.record_many([(user, kind, feature_id, action, before, after, note)])[-1]

    def record_many(self, rows: Iterable[AuditRow]) -> list[int]:
        """Append audit entries in order, each chained to the one before: (user, kind,
        feature_id, action, before, after, note) each; returns their ids. The ids follow the
        last entry's, taken while this transaction holds the write lock, so no other writer can
        put an entry between."""
        last_id, prev = self._head()
        out = audit_chain.chained(last_id, prev, now(), rows)
        if not out:
            return []
        self.conn.executemany(_AUDIT_INSERT, out)
        self._chain_head = (out[-1][0], out[-1][-1])
        return [r[0] for r in out]

    def _head(self) -> tuple[int, str]:
        """The last entry's id and hash (0 and GENESIS for an empty trail), read once a
        transaction: every append after goes through :meth:`record_many`, which keeps it."""
        if self._chain_head is None:
            chain_audit(self.conn)  # a workspace opened while busy or read-only: chained now
            row = self.conn.execute(
                f"SELECT id, hash FROM {AUDIT_TABLE} ORDER BY id DESC LIMIT 1"
            ).fetchone()
            # a hash blanked behind the app's back chains on from "": verify names that entry
            head = (0, audit_chain.GENESIS) if row is None else (int(row[0]), str(row[1] or ""))
            self._chain_head = head
        return self._chain_head

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> sqlite3.Cursor:
        return self.conn.executemany(sql, rows)

    def _one(self, k: LayerKind, feature_id: str) -> tuple[dict[str, Any], Any]:
        """A feature's stored attributes and geometry."""
        cols = ", ".join(f'"{c}"' for c in k.columns)
        row = self.conn.execute(
            f'SELECT geom, {cols} FROM "{k.name}" WHERE feature_id = ?', (feature_id,)
        ).fetchone()
        if row is None:
            raise WorkspaceError(f"no feature with id {feature_id} in '{k.name}'")
        return dict(zip(k.columns, row[1:], strict=True)), gpkg_blob.decode([row[0]])[0]

    def _refuse_stale(self, k: LayerKind, feature_id: str, expected_version: int) -> None:
        """A StaleEditError naming who changed the feature, and how, since the editor loaded it."""
        if self.version(k.name, feature_id) == expected_version:
            return
        rows = self.conn.execute(
            f"SELECT at, user, before, after FROM {AUDIT_TABLE} WHERE kind = ? AND feature_id = ? "
            "AND id > ? ORDER BY id",
            (k.name, feature_id, expected_version),
        ).fetchall()
        raise stale_edit(k.title, rows)


def _prepared(k: LayerKind, features: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[bool]]:
    """Features ready to store: in BNG (or refused), each with a feature id, polygons as the
    layer's multipolygons; and which ids the caller gave (the rest are made here)."""
    if features.crs is None or not features.crs.equals(BNG):
        raise WorkspaceError(
            f"features for '{k.name}' must be in EPSG:27700 before they are stored "
            f"(got {features.crs}); import them with `closuremap import`, which converts"
        )
    out = features.copy()
    if FEATURE_ID not in out.columns:
        out[FEATURE_ID] = None
    ids = out[FEATURE_ID].astype(object)
    missing = ids.isna() | (ids.astype(str).str.len() == 0)
    if missing.any():
        out.loc[missing, FEATURE_ID] = new_feature_ids(int(missing.sum()))
    if k.storage_geometry_type == "MultiPolygon":
        out = out.set_geometry(
            gpd.GeoSeries(to_multipolygon(out.geometry.values), index=out.index, crs=BNG)
        )
    return out, (~missing).tolist()
