"""Workspace stores: where an estate's layers live, behind one interface.

A workspace is one GeoPackage file by default (QGIS opens it too), geometry in EPSG:27700. Every
write is one SQLite transaction: an import lands whole or not at all. Changes to features are
recorded in ``closuremap_audit`` (who, when, before/after). A PostGIS store for shared editing
implements the same :class:`WorkspaceStore` protocol, so callers do not change.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

import geopandas as gpd
import pyogrio
import shapely

from closuremap.geo.crs import BNG
from closuremap.geo.errors import StaleEditError, WorkspaceError
from closuremap.geo.validate import to_multipolygon

from . import gpkg_blob, importlog
from .model import FEATURE_ID, KINDS, SOURCE_ROW, LayerKind, get_kind

SCHEMA_VERSION = "1"
SRS_ID = 27700
META_TABLE = "closuremap_meta"
OBJECTIONS_TABLE = "closuremap_objections"
AUDIT_TABLE = "closuremap_audit"
CASE_LOG_TABLE = "closuremap_case_log"
_SQL_TYPES = {"str": "TEXT", "int": "INTEGER", "float": "REAL", "datetime": "TEXT", "date": "TEXT"}
_PANDAS_TYPES = {
    "str": "object",
    "int": "int64",
    "float": "float64",
    "datetime": "object",
    "date": "object",
}
_UNIQUE_ID = 'CREATE UNIQUE INDEX IF NOT EXISTS "idx_{kind}_feature_id" ON "{kind}" (feature_id)'
#: Kinds whose every added feature gets its own audit row (scopes are court evidence).
AUDIT_EACH_ADD = {"orders"}


#: How long a command or page waits for a workspace another process is writing (seconds): the
#: setting CLOSUREMAP_BUSY_SECONDS, default 10.
DEFAULT_BUSY_SECONDS = 10.0
BUSY_MESSAGE = (
    "the workspace {path} is busy (an import or another user is writing to it); waited {seconds:g} s. "
    "Try again in a moment; nothing was changed"
)


def busy_seconds() -> float:
    try:
        return max(0.0, float(os.environ.get("CLOSUREMAP_BUSY_SECONDS", DEFAULT_BUSY_SECONDS)))
    except ValueError:
        return DEFAULT_BUSY_SECONDS


def _is_busy(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "database is locked" in text or "database is busy" in text


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


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

    def set_meta(self, key: str, value: str) -> None: ...

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


def new_feature_ids(n: int) -> list[str]:
    """``n`` random (version 4) UUIDs as 32 hex digits, made in one go (uuid4() one at a time costs
    a second per million features). Random, so any eight digits tell features apart on a page."""
    raw = np.frombuffer(os.urandom(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    text = raw.tobytes().hex()
    return [text[i : i + 32] for i in range(0, 32 * n, 32)]


@contextmanager
def workspace_connection(path: str | Path) -> Iterator[sqlite3.Connection]:
    """A plain connection to a workspace file for the side tables (review queue, floor plans): it
    waits for a busy workspace as long as the store does, then says so in the store's words."""
    conn = sqlite3.connect(path, timeout=busy_seconds())
    try:
        yield conn
    except (sqlite3.OperationalError, pd.errors.DatabaseError) as exc:
        if _is_busy(exc):
            raise WorkspaceError(BUSY_MESSAGE.format(path=path, seconds=busy_seconds())) from exc
        raise
    finally:
        conn.close()


def _empty_frame(kind: LayerKind) -> gpd.GeoDataFrame:
    cols: dict[str, pd.Series] = {}
    for name in kind.columns:
        f_kind = (
            "int"
            if name == SOURCE_ROW
            else ("str" if name not in {f.name for f in kind.fields} else kind.field(name).kind)
        )
        cols[name] = pd.Series([], dtype=_PANDAS_TYPES[f_kind])
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=BNG))


def _column_kind(kind: LayerKind, name: str) -> str:
    if name == SOURCE_ROW:
        return "int"
    try:
        return kind.field(name).kind
    except KeyError:
        return "str"


def _sql_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return value.isoformat()
    return value


def _sql_column(values: pd.Series) -> list[Any]:
    """A column as values sqlite3 can bind: dates and times as ISO text (as :meth:`update` writes
    them), NumPy numbers as Python numbers, blanks as NULL."""
    dated = pd.api.types.is_datetime64_any_dtype(values)
    if not dated and values.dtype == object:
        present = values[values.notna()]
        dated = bool(len(present)) and isinstance(present.iloc[0], (pd.Timestamp, datetime, date))
    if dated:
        return [_sql_value(v) for v in values.astype(object)]
    return values.astype(object).where(values.notna(), None).tolist()


def _feature_json(row: Mapping[str, Any], geometry: shapely.Geometry | None) -> str:
    props = {k: _sql_value(v) for k, v in row.items() if k != "geometry"}
    return json.dumps(
        {"properties": props, "wkt": None if geometry is None else geometry.wkt}, default=str
    )


class GeoPackageStore:
    """A workspace in one GeoPackage file: the single-user default, no server needed."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        if not self.path.exists():
            raise WorkspaceError(
                f"workspace {self.path} does not exist; create it with `closuremap init {self.path}`"
            )
        with self._connect() as conn:
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        if META_TABLE not in tables:
            raise WorkspaceError(
                f"{self.path} is not a closuremap workspace (no {META_TABLE} table); create one with "
                f"`closuremap init NEW.gpkg` and import this file's layers into it"
            )
        missing = [k for k in KINDS.values() if k.name not in tables]
        if missing:  # a workspace made before a kind existed: add its empty table
            self._create_layers(missing)
        self._add_missing_columns([k for k in KINDS.values() if k.name in tables])
        if importlog.IMPORTS_TABLE in tables:
            self._recover_rejects()

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
        """The import log, newest first: who imported which file when, and what became of its rows."""
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
        cls._create_layers_at(p, list(KINDS.values()))
        with closing(sqlite3.connect(p)) as conn, conn:
            for kind in KINDS:
                conn.execute(_UNIQUE_ID.format(kind=kind))
            conn.execute(f"CREATE TABLE {META_TABLE} (key TEXT PRIMARY KEY, value TEXT)")
            conn.execute(
                f"CREATE TABLE {AUDIT_TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, "
                "user TEXT NOT NULL, kind TEXT NOT NULL, feature_id TEXT, action TEXT NOT NULL, "
                "before TEXT, after TEXT, note TEXT)"
            )
            conn.executemany(
                f"INSERT INTO {META_TABLE} VALUES (?, ?)",
                [
                    ("schema_version", SCHEMA_VERSION),
                    ("created_at", _now()),
                    ("name", name or p.stem),
                ],
            )
            importlog.ensure_tables(conn)
        return cls(p)

    @staticmethod
    def _create_layers_at(path: Path, kinds: Iterable[LayerKind]) -> None:
        for kind in kinds:
            pyogrio.write_dataframe(
                _empty_frame(kind),
                path,
                layer=kind.name,
                driver="GPKG",
                geometry_type=kind.storage_geometry_type,
                promote_to_multi=False,
            )

    def _create_layers(self, kinds: Iterable[LayerKind]) -> None:
        self._create_layers_at(self.path, kinds)
        with closing(sqlite3.connect(self.path)) as conn, conn:
            for kind in kinds:
                conn.execute(_UNIQUE_ID.format(kind=kind.name))

    def _add_missing_columns(self, kinds: Iterable[LayerKind]) -> None:
        """A workspace made before a field existed gains the column, empty."""
        with closing(sqlite3.connect(self.path)) as conn, conn:
            for kind in kinds:
                have = {r[1] for r in conn.execute(f'PRAGMA table_info("{kind.name}")')}
                for name in kind.columns:
                    if name not in have:
                        conn.execute(
                            f'ALTER TABLE "{kind.name}" ADD COLUMN "{name}" '
                            f"{_SQL_TYPES[_column_kind(kind, name)]}"
                        )

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

    def set_meta(self, key: str, value: str) -> None:
        with self._connect() as conn, conn:
            conn.execute(f"INSERT OR REPLACE INTO {META_TABLE} VALUES (?, ?)", (key, value))

    # -- objections log (consultation, s.76(7)) ------------------------------------------------
    def _ensure_objections(self, conn: sqlite3.Connection) -> None:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {OBJECTIONS_TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT "
            "NULL, received_on TEXT NOT NULL, who TEXT NOT NULL, summary TEXT NOT NULL, response TEXT, "
            "recorded_by TEXT NOT NULL, recorded_at TEXT NOT NULL)"
        )

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
        if not who.strip() or not summary.strip():
            raise WorkspaceError("an objection needs who made it and a summary of what they said")
        with self._connect() as conn, self._transaction(conn):
            self._ensure_objections(conn)
            cur = conn.execute(
                f"INSERT INTO {OBJECTIONS_TABLE} (order_id, received_on, who, summary, response, recorded_by, "
                "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    order_id,
                    received_on,
                    who.strip(),
                    summary.strip(),
                    response.strip() or None,
                    recorded_by,
                    _now(),
                ),
            )
            return int(cur.lastrowid or 0)

    def objections(self, order_id: str | None = None) -> pd.DataFrame:
        with self._connect() as conn:
            self._ensure_objections(conn)
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
        """Append one record of what was done for an order ('service': a notice fixed at an entrance;
        'letters': a consultation mailing). Records are kept, never edited: the bundle cites them."""
        if not recorded_by or not recorded_by.strip():
            raise WorkspaceError("say who is recording this: every record carries a name")
        with self._connect() as conn, self._transaction(conn):
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {CASE_LOG_TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT "
                "NOT NULL, what TEXT NOT NULL, record TEXT NOT NULL, recorded_by TEXT NOT NULL, recorded_at TEXT "
                "NOT NULL)"
            )
            cur = conn.execute(
                f"INSERT INTO {CASE_LOG_TABLE} (order_id, what, record, recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?)",
                (order_id, what, json.dumps(dict(record), default=str), recorded_by, _now()),
            )
            return int(cur.lastrowid or 0)

    def case_records(self, order_id: str, what: str) -> pd.DataFrame:
        """The records of one kind for an order, oldest first: each record's fields as columns, plus
        ``recorded_by`` and ``recorded_at``."""
        with self._connect() as conn:
            exists = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE name = ?", (CASE_LOG_TABLE,)
            ).fetchone()
            rows = (
                []
                if not exists
                else conn.execute(
                    f"SELECT record, recorded_by, recorded_at FROM {CASE_LOG_TABLE} WHERE order_id = ? AND what = ? "
                    "ORDER BY id",
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
                f' WHERE fid IN (SELECT id FROM "rtree_{k.name}_geom" WHERE maxx >= ? AND minx <= ? '
                "AND maxy >= ? AND miny <= ?)"
            )
            params = (minx, maxx, miny, maxy)
        sql += " ORDER BY fid"
        with self._connect() as conn:
            rows = conn.execute(sql, params).fetchall()
        if not rows:
            return _empty_frame(k)
        geoms = gpkg_blob.decode([r[0] for r in rows])
        data = {c: [r[i + 1] for r in rows] for i, c in enumerate(k.columns)}
        frame = pd.DataFrame(data)
        for c in k.columns:
            ck = _column_kind(k, c)
            if ck == "int":
                frame[c] = pd.array(frame[c], dtype="Int64")
            elif ck == "float":
                frame[c] = pd.to_numeric(frame[c]).astype("float64")
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=BNG))

    def count(self, kind: str) -> int:
        k = get_kind(kind)
        with self._connect() as conn:
            return int(conn.execute(f'SELECT count(*) FROM "{k.name}"').fetchone()[0])

    def bounds(self, kind: str) -> tuple[float, float, float, float] | None:
        """(min easting, min northing, max easting, max northing) of a kind, or None if empty."""
        k = get_kind(kind)
        with self._connect() as conn:
            row = conn.execute(
                f'SELECT min(minx), min(miny), max(maxx), max(maxy) FROM "rtree_{k.name}_geom"'
            ).fetchone()
        return None if row is None or row[0] is None else (row[0], row[1], row[2], row[3])

    def history(self, kind: str | None = None, feature_id: str | None = None) -> pd.DataFrame:
        """The audit trail, newest first: who changed what, when, with before/after."""
        sql = (
            f"SELECT id, at, user, kind, feature_id, action, before, after, note FROM {AUDIT_TABLE}"
        )
        where, params = [], []
        if kind:
            where.append("kind = ?")
            params.append(kind)
        if feature_id:
            where.append("feature_id = ?")
            params.append(feature_id)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC"
        with self._connect() as conn:
            return pd.read_sql_query(sql, conn, params=params)

    # -- writing --------------------------------------------------------------------------------
    def _prepared(self, k: LayerKind, features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
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
        out.loc[missing, FEATURE_ID] = new_feature_ids(int(missing.sum()))
        if k.storage_geometry_type == "MultiPolygon":
            out = out.set_geometry(
                gpd.GeoSeries(to_multipolygon(out.geometry.values), index=out.index, crs=BNG)
            )
        return out

    def _update_extent(
        self, conn: sqlite3.Connection, k: LayerKind, added: np.ndarray | None = None
    ) -> None:
        """The layer's extent in gpkg_contents: widened by ``added`` bounds (an import, without
        reading the whole index again), or measured afresh after an edit or a delete."""
        if added is None:
            row = conn.execute(
                f'SELECT min(minx), min(miny), max(maxx), max(maxy) FROM "rtree_{k.name}_geom"'
            ).fetchone()
        else:
            old = (
                conn.execute(
                    "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?",
                    (k.name,),
                ).fetchone()
                or (None,) * 4
            )
            boxes = np.vstack(
                [np.array(old, dtype=float), added]
            )  # an empty layer's NULLs become NaN
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
            "UPDATE gpkg_contents SET min_x=?, min_y=?, max_x=?, max_y=?, last_change=? WHERE table_name=?",
            (*row, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"), k.name),
        )

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

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One write of several parts (an import's features, review queue, rejects and log) that
        lands whole or not at all: other readers never see half of it."""
        with self._connect() as conn, self._transaction(conn):
            yield Transaction(self, conn)

    def _add(
        self,
        conn: sqlite3.Connection,
        kind: str,
        features: gpd.GeoDataFrame,
        *,
        user: str,
        note: str,
        audit_each: bool,
    ) -> list[str]:
        k = get_kind(kind)
        if len(features) == 0:
            return []
        prepared = self._prepared(k, features)
        cols = [c for c in k.columns if c in prepared.columns]
        geoms = prepared.geometry.values
        blobs = gpkg_blob.encode(geoms, SRS_ID)
        columns = [_sql_column(prepared[c]) for c in cols]
        rows = list(zip(blobs, *columns))
        ids = prepared[FEATURE_ID].astype(str).tolist()
        repeated = prepared[FEATURE_ID][prepared[FEATURE_ID].duplicated()].tolist()
        if repeated:
            raise WorkspaceError(
                f"feature id {repeated[0]} appears more than once in what is being added; "
                "drop the feature_id column to import them as new features"
            )
        sql = (
            f'INSERT INTO "{k.name}" (geom, {", ".join(chr(34) + c + chr(34) for c in cols)}) '
            f"VALUES (?{', ?' * len(cols)})"
        )
        dup = self._existing_ids(conn, k, ids)
        if dup:
            raise WorkspaceError(
                f"{len(dup)} feature id(s) already exist in '{k.name}' (e.g. {dup[0]}); "
                "drop the feature_id column to import them as new features"
            )
        bounds = shapely.bounds(np.asarray(geoms, dtype=object))
        self._bulk_insert(conn, k, sql, rows, bounds)
        self._update_extent(conn, k, bounds)
        if k.name in AUDIT_EACH_ADD or audit_each:
            records = list(zip(*columns))
            conn.executemany(
                f"INSERT INTO {AUDIT_TABLE} (at, user, kind, feature_id, action, before, after, note) "
                "VALUES (?, ?, ?, ?, 'add', NULL, ?, ?)",
                [
                    (_now(), user, k.name, fid, _feature_json(dict(zip(cols, rec)), g), note)
                    for fid, rec, g in zip(ids, records, geoms)
                ],
            )
        else:
            conn.execute(
                f"INSERT INTO {AUDIT_TABLE} (at, user, kind, feature_id, action, before, after, note) "
                "VALUES (?, ?, ?, NULL, 'add', NULL, ?, ?)",
                (_now(), user, k.name, json.dumps({"count": len(ids)}), note),
            )
        return ids

    @contextmanager
    def _transaction(self, conn: sqlite3.Connection) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK of everything, DDL included."""
        conn.isolation_level = None
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("PRAGMA cache_size = -65536")  # 64 MB, taken only as a big write needs it
        try:
            yield
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            if _is_busy(exc):
                raise WorkspaceError(
                    BUSY_MESSAGE.format(path=self.path, seconds=busy_seconds())
                ) from exc
            raise WorkspaceError(
                f"could not write to {self.path}: {exc}; nothing was saved"
            ) from exc
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    @staticmethod
    def _bulk_insert(
        conn: sqlite3.Connection,
        k: LayerKind,
        sql: str,
        rows: list[tuple[Any, ...]],
        bounds: np.ndarray,
    ) -> None:
        """Insert many rows fast: GDAL's per-row R-tree and count triggers are set aside for the
        insert and the index filled in one go, inside the same transaction (as GDAL does itself)."""
        triggers = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? AND (name = ? OR name = ?)",
            (k.name, f"rtree_{k.name}_geom_insert", f"trigger_insert_feature_count_{k.name}"),
        ).fetchall()
        for name, _ in triggers:
            conn.execute(f'DROP TRIGGER "{name}"')
        first = conn.execute(f'SELECT coalesce(max(fid), 0) FROM "{k.name}"').fetchone()[0]
        conn.executemany(sql, rows)
        fids = [
            r[0]
            for r in conn.execute(
                f'SELECT fid FROM "{k.name}" WHERE fid > ? ORDER BY fid', (first,)
            )
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
            "UPDATE gpkg_ogr_contents SET feature_count = feature_count + ? WHERE lower(table_name) = lower(?)",
            (len(rows), k.name),
        )
        for _, trigger_sql in triggers:
            conn.execute(trigger_sql)

    @staticmethod
    def _existing_ids(conn: sqlite3.Connection, k: LayerKind, ids: list[str]) -> list[str]:
        found: list[str] = []
        for i in range(0, len(ids), 900):
            chunk = ids[i : i + 900]
            q = f'SELECT feature_id FROM "{k.name}" WHERE feature_id IN ({",".join("?" * len(chunk))})'
            found += [r[0] for r in conn.execute(q, chunk)]
        return found

    def _one(
        self, conn: sqlite3.Connection, k: LayerKind, feature_id: str
    ) -> tuple[dict[str, Any], Any]:
        cols = ", ".join(f'"{c}"' for c in k.columns)
        row = conn.execute(
            f'SELECT geom, {cols} FROM "{k.name}" WHERE feature_id = ?', (feature_id,)
        ).fetchone()
        if row is None:
            raise WorkspaceError(f"no feature with id {feature_id} in '{k.name}'")
        return dict(zip(k.columns, row[1:])), gpkg_blob.decode([row[0]])[0]

    def version(self, kind: str, feature_id: str) -> int:
        """A feature's version: the number of the last audit entry that changed it (0: as imported).
        An editor keeps the version it loaded and hands it back to :meth:`update`."""
        with self._connect() as conn:
            return self._version(conn, kind, feature_id)

    @staticmethod
    def _version(conn: sqlite3.Connection, kind: str, feature_id: str) -> int:
        row = conn.execute(
            f"SELECT max(id) FROM {AUDIT_TABLE} WHERE kind = ? AND feature_id = ?",
            (kind, feature_id),
        ).fetchone()
        return int(row[0] or 0)

    def _changes_since(
        self, conn: sqlite3.Connection, kind: str, feature_id: str, version: int
    ) -> str:
        from .editing import (
            describe_change,
        )  # words for the audit entries (editing reads the store)

        rows = conn.execute(
            f"SELECT at, user, before, after FROM {AUDIT_TABLE} WHERE kind = ? AND feature_id = ? "
            "AND id > ? ORDER BY id",
            (kind, feature_id, version),
        ).fetchall()
        return "; ".join(
            f"{who} at {at[:16].replace('T', ' ')}: {describe_change(b, a)}"
            for at, who, b, a in rows
        )

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
        ``expected_version`` (what :meth:`version` said when the editor loaded it), a feature changed
        since by anyone is not overwritten: :class:`StaleEditError` says who changed what."""
        with self.transaction() as tx:
            tx.update(
                kind,
                feature_id,
                user=user,
                geometry=geometry,
                attributes=attributes,
                note=note,
                expected_version=expected_version,
            )

    def _update(
        self,
        conn: sqlite3.Connection,
        kind: str,
        feature_id: str,
        *,
        user: str,
        geometry: shapely.Geometry | None,
        attributes: Mapping[str, Any] | None,
        note: str | None,
        expected_version: int | None,
    ) -> None:
        k = get_kind(kind)
        attributes = dict(attributes or {})
        unknown = set(attributes) - {f.name for f in k.fields}
        if unknown:
            raise WorkspaceError(f"'{k.name}' has no field(s) {', '.join(sorted(unknown))}")
        before_attrs, before_geom = self._one(conn, k, feature_id)
        if expected_version is not None:
            current = self._version(conn, k.name, feature_id)
            if current != expected_version:
                raise StaleEditError(
                    f"not saved: this {k.title.lower()} was changed after you opened it ("
                    f"{self._changes_since(conn, k.name, feature_id, expected_version)}). Your edit is kept on "
                    "the page: load the new version, check it, and save your change again"
                )
        sets, params = [], []
        for name, value in attributes.items():
            sets.append(f'"{name}" = ?')
            params.append(_sql_value(value))
        after_geom = before_geom
        if geometry is not None:
            if k.storage_geometry_type == "MultiPolygon":
                geometry = to_multipolygon([geometry])[0]
            sets.append("geom = ?")
            params.append(gpkg_blob.encode([geometry], SRS_ID)[0])
            after_geom = geometry
        if not sets:
            return
        conn.execute(
            f'UPDATE "{k.name}" SET {", ".join(sets)} WHERE feature_id = ?', (*params, feature_id)
        )
        self._update_extent(conn, k)
        after_attrs = {**before_attrs, **{n: _sql_value(v) for n, v in attributes.items()}}
        conn.execute(
            f"INSERT INTO {AUDIT_TABLE} (at, user, kind, feature_id, action, before, after, note) "
            "VALUES (?, ?, ?, ?, 'update', ?, ?, ?)",
            (
                _now(),
                user,
                k.name,
                feature_id,
                _feature_json(before_attrs, before_geom),
                _feature_json(after_attrs, after_geom),
                note,
            ),
        )

    def delete(
        self, kind: str, feature_ids: Sequence[str], *, user: str, note: str | None = None
    ) -> int:
        """Remove features; each removal is recorded with what was removed."""
        k = get_kind(kind)
        with self._connect() as conn, self._transaction(conn):
            for fid in feature_ids:
                before_attrs, before_geom = self._one(conn, k, fid)
                conn.execute(f'DELETE FROM "{k.name}" WHERE feature_id = ?', (fid,))
                conn.execute(
                    f"INSERT INTO {AUDIT_TABLE} (at, user, kind, feature_id, action, before, after, note) "
                    "VALUES (?, ?, ?, ?, 'delete', ?, NULL, ?)",
                    (_now(), user, k.name, fid, _feature_json(before_attrs, before_geom), note),
                )
            self._update_extent(conn, k)
        return len(feature_ids)


class Transaction:
    """A write in progress (:meth:`GeoPackageStore.transaction`): what is done through it is
    committed together when the ``with`` block ends, or rolled back together if it raises."""

    def __init__(self, store: GeoPackageStore, conn: sqlite3.Connection) -> None:
        self.store = store
        self.conn = conn

    def add(
        self,
        kind: str,
        features: gpd.GeoDataFrame,
        *,
        user: str,
        note: str = "",
        audit_each: bool = False,
    ) -> list[str]:
        return self.store._add(
            self.conn, kind, features, user=user, note=note, audit_each=audit_each
        )

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
        self.store._update(
            self.conn,
            kind,
            feature_id,
            user=user,
            geometry=geometry,
            attributes=attributes,
            note=note,
            expected_version=expected_version,
        )

    def existing_ids(self, kind: str, ids: list[str]) -> list[str]:
        """Which of these feature ids the layer already holds."""
        return self.store._existing_ids(self.conn, get_kind(kind), ids)

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(f"INSERT OR REPLACE INTO {META_TABLE} VALUES (?, ?)", (key, value))

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> sqlite3.Cursor:
        return self.conn.executemany(sql, rows)


def open_workspace(location: str | Path) -> WorkspaceStore:
    """The store for a workspace location: a ``.gpkg`` path (PostGIS URLs follow)."""
    text = str(location)
    if text.startswith(("postgresql://", "postgres://")):
        raise WorkspaceError("PostGIS workspaces are not available yet; use a .gpkg workspace path")
    if not text.lower().endswith(".gpkg"):
        raise WorkspaceError(f"a workspace is a .gpkg file; '{text}' is not")
    return GeoPackageStore(text)
