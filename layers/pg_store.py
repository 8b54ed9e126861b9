"""A workspace in a PostGIS database, for a partnership editing at once: the
:class:`.store.WorkspaceStore` protocol, behaving as a GeoPackage workspace does.

``closuremap init postgresql://USER@HOST/DB`` makes the tables (:mod:`.pg_schema`) in a database
that has PostGIS; opening one made by an older closuremap migrates it. Each call opens its own
connection (from the URL, ``PG*`` variables and ``.pgpass``: :mod:`.pg_connect`) and closes it, so
one store serves every page and thread of the app; a write is one PostgreSQL transaction holding
the workspace's write lock (:mod:`.pg_transaction`). A bounding-box read uses the GiST index
(``&&``); counts and extents are computed by the server.

A person's own login (a member of a ``closuremap_<role>`` group: :mod:`.pg_access`) is told its
role by :meth:`PostGISStore.login_role` and, a partner, its operations; it reads only the columns
its grants allow (a partner's incidents come without their text), a ward member's login the
briefing views in place of the tables, and a refusal by the server is one sentence naming the
login and its role. Only the owner (or a superuser) migrates; another login opening a workspace
that needs it is told to have the owner open it first.

:meth:`PostGISStore.table_names`, :meth:`~PostGISStore.dump_table` and
:meth:`~PostGISStore.load_table` are the raw copy interface ``closuremap copy`` is built on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
from psycopg import sql

import geopandas as gpd
import shapely

from closuremap.geo.crs import BNG
from closuremap.geo.errors import WorkspaceError

from . import audit_chain, importlog, pg_access, pg_schema
from .access import DB_ROLES, ROLES, AccessDenied
from .connection import BUSY_MESSAGE, busy_seconds, now
from .locations import database_name, masked, remember, scrub, unmasked
from .model import KINDS, get_kind
from .order_records import audit_case_record, audit_objection, case_row, objection_row
from .pg_connect import connection
from .pg_schema import SIDE_TABLES, WRITE_LOCK, WRITES_TABLE
from .pg_transaction import PgTransaction
from .schema import (
    AUDIT_TABLE,
    CASE_LOG_TABLE,
    META_TABLE,
    OBJECTIONS_TABLE,
    SRS_ID,
    empty_frame,
    typed_frame,
)

AUDIT_COLUMNS = (*audit_chain.HASHED_FIELDS, "prev_hash", "hash")
#: Where a ward member's login reads a kind: the briefing view standing for its table.
BRIEFING_SOURCES = {
    "premises": "closuremap_briefing_blocks",
    "orders": "closuremap_briefing_orders",
    "open_space": "closuremap_briefing_open_space",
    "basemap": "closuremap_briefing_basemap",
}
BRIEFING_DAYS = "closuremap_briefing_days"
BRIEFING_SETTINGS = "closuremap_briefing_settings"


@dataclass(frozen=True)
class _LoginAccess:
    """The connected login: its name, whether it owns the workspace (or is a superuser), its
    closuremap role and (a partner's) operations."""

    login: str
    owner: bool
    role: str | None
    operations: tuple[str, ...]


def _login_access(conn: psycopg.Connection) -> _LoginAccess:
    row = conn.execute(
        "SELECT current_user::text, r.rolsuper OR pg_has_role(current_user, c.relowner, 'USAGE') "
        "FROM pg_roles AS r, pg_class AS c WHERE r.rolname = current_user "
        "AND c.oid = to_regclass(%s)",
        (sql.Identifier(META_TABLE).as_string(conn),),
    ).fetchone()
    if row is None:
        raise WorkspaceError(f"no {META_TABLE} table: not a closuremap workspace")
    login, owner = str(row[0]), bool(row[1])
    if owner:
        return _LoginAccess(login, True, None, ())
    member = {
        str(r[0])
        for r in conn.execute(
            "SELECT g.rolname FROM pg_roles AS g WHERE g.rolname = ANY(%s) "
            "AND pg_has_role(current_user, g.oid, 'MEMBER')",
            (list(DB_ROLES.values()),),
        )
    }
    role = next((r for r in ROLES if DB_ROLES[r] in member), None)
    operations: tuple[str, ...] = ()
    if role == "partner" and pg_schema.table_exists(conn, pg_access.OPERATIONS_TABLE):
        operations = tuple(
            str(r[0])
            for r in conn.execute(
                sql.SQL(
                    "SELECT operation FROM {} WHERE login IN (current_user, session_user) "
                    "ORDER BY operation"
                ).format(sql.Identifier(pg_access.OPERATIONS_TABLE))
            )
        )
    return _LoginAccess(login, False, role, operations)


def _verify_recomputed(rows: Sequence[tuple[Any, ...]]) -> audit_chain.ChainReport:
    """:func:`.audit_chain.verify`'s walk over (id, prev_hash, hash, recomputed) rows, the
    recomputed hash being the database's (:data:`.pg_access.AUDIT_HASHES`)."""
    prev, count, last_id = audit_chain.GENESIS, 0, 0
    for eid, stored_prev, stored, recomputed in rows:
        count += 1
        eid = int(eid)
        if stored_prev != prev:
            gap = "" if eid == last_id + 1 else f" (entries {last_id + 1}–{eid - 1} are missing)"
            return audit_chain.ChainReport(
                count,
                prev,
                eid,
                f"entry {eid} does not follow entry {last_id}: its previous-hash is "
                f"{str(stored_prev)[:12]}…, entry {last_id} hashes to {prev[:12]}…{gap}",
            )
        if stored != recomputed:
            return audit_chain.ChainReport(
                count,
                prev,
                eid,
                f"entry {eid} was changed after it was written: its content hashes to "
                f"{str(recomputed)[:12]}…, the chain recorded {str(stored)[:12]}…",
            )
        prev, last_id = recomputed, eid
    return audit_chain.ChainReport(count, prev)


class PostGISStore:
    """A workspace in a PostGIS database (``postgresql://`` URL): shared, server-side."""

    def __init__(self, url: str) -> None:
        self._url = unmasked(str(url))
        self.location = remember(self._url)
        self._readable: dict[str, frozenset[str]] = {}
        with connection(self._url) as conn:
            _require_postgis(conn, self.location)
            if not pg_schema.table_exists(conn, META_TABLE):
                raise WorkspaceError(
                    f"{self.location} is not a closuremap workspace (no {META_TABLE} table); "
                    f"create one with `closuremap init {self.location}`"
                )
            self._access = _login_access(conn)
            if self._access.owner:
                pg_schema.migrate(conn, self.location)
                pg_schema.ensure_layers(conn)
            else:  # a person's own login may not alter the tables: the owner upgrades them
                self._check_up_to_date(conn)

    def _check_up_to_date(self, conn: psycopg.Connection) -> None:
        version = None
        if self._readable_in(conn, META_TABLE):
            version = pg_schema.installed_version(conn)
        if version is not None and version > pg_schema.SCHEMA_VERSION:
            raise WorkspaceError(
                f"{self.location} was made by a newer closuremap (schema {version}; this one "
                f"knows {pg_schema.SCHEMA_VERSION}): upgrade closuremap to open it"
            )
        missing, columns = pg_schema.layer_changes(conn)
        if (version is not None and version < pg_schema.SCHEMA_VERSION) or missing or columns:
            raise WorkspaceError(
                "the workspace needs upgrading: open it once as its owner (the login that made "
                "it, or a superuser: e.g. `closuremap layers` with the owner's URL), then again "
                f"as {self._access.login}"
            )

    # -- who is connected -----------------------------------------------------------------------
    def login_role(self) -> str | None:
        """The closuremap role of the database login this store connects as: None for the
        workspace's owner or a superuser (full rights: the users file, or single-user mode, says
        the role), else the closuremap group it is a member of. A login in none is refused."""
        if self._access.owner:
            return None
        if self._access.role is None:
            raise AccessDenied(
                f"the database login {self._access.login} is in none of the closuremap roles: ask "
                "the workspace's owner to grant it one (`closuremap grant URL LOGIN --role ...`)"
            )
        return self._access.role

    def login_operations(self) -> tuple[str, ...]:
        """A partner login's operations (whose orders the database shows it); () otherwise."""
        return self._access.operations

    def _readable_in(self, conn: psycopg.Connection, relation: str) -> frozenset[str]:
        """The columns of a table or view this login may select (cached for the store's life)."""
        if relation not in self._readable:
            rows = conn.execute(
                "SELECT a.attname FROM pg_attribute AS a WHERE a.attrelid = to_regclass(%s) "
                "AND a.attnum > 0 AND NOT a.attisdropped "
                "AND has_column_privilege(a.attrelid, a.attnum, 'SELECT')",
                (sql.Identifier(relation).as_string(conn),),
            ).fetchall()
            self._readable[relation] = frozenset(str(r[0]) for r in rows)
        return self._readable[relation]

    def readable(self, relation: str) -> frozenset[str]:
        """The columns of ``relation`` this store's login may read (none: no access at all)."""
        if relation not in self._readable:
            with self._connect() as conn:
                self._readable_in(conn, relation)
        return self._readable[relation]

    def _source(self, kind: str) -> tuple[str, frozenset[str]]:
        """Where this login reads a kind from: its table, or for a ward member the briefing view
        standing for it; with the columns it may read there."""
        have = self.readable(kind)
        if have:
            return kind, have
        view = BRIEFING_SOURCES.get(kind)
        if view is not None and self.readable(view):
            return view, self.readable(view)
        raise self._refused(f"read {kind.replace('_', ' ')}")

    def _refused(self, what: str) -> WorkspaceError:
        role = self._access.role
        who = f"a {role.replace('_', ' ')}" if role else "in no closuremap role"
        return AccessDenied(
            f"your database login {self._access.login} is {who}: its role may not {what} in "
            f"{self.location}; ask the workspace's owner if it should"
        )

    @contextmanager
    def _connect(self) -> Iterator[psycopg.Connection]:
        """A connection whose permission-denied errors say which login's role may not do what."""
        with connection(self._url) as conn:
            try:
                yield conn
            except psycopg.errors.InsufficientPrivilege as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else "denied"
                raise self._refused(f"do that ({scrub(first, self._url)})") from None

    # -- creation -------------------------------------------------------------------------------
    @classmethod
    def create(cls, url: str, *, name: str = "", overwrite: bool = False) -> PostGISStore:
        """A new, empty workspace in an existing database: a table for every layer kind."""
        url = unmasked(str(url))
        shown = masked(url)
        with connection(url) as conn:
            if not pg_schema.has_postgis(conn):
                try:
                    with conn.transaction():
                        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
                except psycopg.Error:
                    pass
            _require_postgis(conn, shown)
            if pg_schema.installed_version(conn):
                if not overwrite:
                    raise WorkspaceError(
                        f"{shown} is already a closuremap workspace; use --force to start it "
                        "afresh (everything in it is deleted) or choose another database"
                    )
                with conn.transaction():
                    pg_schema.drop_all(conn)
            pg_schema.migrate(conn, shown)
            with conn.transaction():
                conn.execute(
                    f"INSERT INTO {META_TABLE} (key, value) VALUES (%s, %s), (%s, %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    ("created_at", now(), "name", name or database_name(url)),
                )
        return cls(url)

    # -- connections ----------------------------------------------------------------------------
    @contextmanager
    def side_connection(self) -> Iterator[psycopg.Connection]:
        """A connection that commits each statement, for reads (and :mod:`.side_sql`)."""
        with self._connect() as conn:
            yield conn

    def _rows(self, query: sql.Composable | str, params: Sequence[Any] = ()) -> list[tuple]:
        with self._connect() as conn, conn.cursor(binary=True) as cur:
            cur.execute(query, tuple(params))
            return cur.fetchall()

    def _frame(self, query: sql.Composable | str, params: Sequence[Any] = ()) -> pd.DataFrame:
        with self._connect() as conn, conn.cursor() as cur:
            cur.execute(query, tuple(params))
            columns = [d.name for d in cur.description or []]
            return pd.DataFrame.from_records(cur.fetchall(), columns=columns, coerce_float=True)

    # -- writing --------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[PgTransaction]:
        """One write of several parts that lands whole or not at all, holding the workspace's
        write lock (waiting up to CLOSUREMAP_BUSY_SECONDS for another writer)."""
        with self._connect() as conn:
            try:
                with conn.transaction():
                    conn.execute(
                        "SELECT set_config('lock_timeout', %s, true)",
                        (f"{int(busy_seconds() * 1000)}ms",),
                    )
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                    tx = PgTransaction(conn)
                    yield tx
                    tx.bump()
            except psycopg.errors.LockNotAvailable as exc:
                raise WorkspaceError(
                    BUSY_MESSAGE.format(path=self.location, seconds=busy_seconds())
                ) from exc
            except psycopg.errors.InsufficientPrivilege:
                raise
            except psycopg.Error as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise WorkspaceError(
                    f"could not write to {self.location}: {scrub(first, self._url)}; "
                    "nothing was saved"
                ) from None

    def add(
        self,
        kind: str,
        features: gpd.GeoDataFrame,
        *,
        user: str,
        note: str = "",
        audit_each: bool = False,
    ) -> list[str]:
        """Store new features in one transaction; returns their feature ids."""
        with self.transaction() as tx:
            return tx.add(kind, features, user=user, note=note, audit_each=audit_each)

    def update(self, kind: str, feature_id: str, *, user: str, **change: Any) -> None:
        """Change one feature (:meth:`.pg_transaction.PgTransaction.update`'s keywords); with
        ``expected_version``, a save on top of someone else's change is refused."""
        with self.transaction() as tx:
            tx.update(kind, feature_id, user=user, **change)

    def delete(
        self, kind: str, feature_ids: Sequence[str], *, user: str, note: str | None = None
    ) -> int:
        with self.transaction() as tx:
            return tx.delete(kind, feature_ids, user=user, note=note)

    def version(self, kind: str, feature_id: str) -> int:
        """The number of the last audit entry that changed the feature (0: as imported)."""
        rows = self._rows(
            f"SELECT max(id) FROM {AUDIT_TABLE} WHERE kind = %s AND feature_id = %s",
            (kind, feature_id),
        )
        return int(rows[0][0] or 0)

    def content_version(self) -> str:
        """The write counter every committed write transaction bumps (with the data it wrote,
        atomically: a reader never sees the new number with the old data)."""
        return f"pg:{self._rows(f'SELECT n FROM {WRITES_TABLE}')[0][0]}"

    # -- meta -----------------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        """A setting; a ward member's login reads only those its briefing prints (the rest are
        ``default``)."""
        source = META_TABLE
        if not self.readable(META_TABLE):
            if not self.readable(BRIEFING_SETTINGS):
                raise self._refused("read the workspace's settings")
            source = BRIEFING_SETTINGS
        rows = self._rows(
            sql.SQL("SELECT value FROM {} WHERE key = %s").format(sql.Identifier(source)), (key,)
        )
        return default if not rows else rows[0][0]

    def set_meta(self, key: str, value: str, *, user: str) -> None:
        """Change a setting, as an audit entry naming ``user``."""
        with self.transaction() as tx:
            tx.set_meta(key, value, user=user)

    # -- reading --------------------------------------------------------------------------------
    def read(
        self, kind: str, bbox: tuple[float, float, float, float] | None = None
    ) -> gpd.GeoDataFrame:
        """Every feature of a kind (or those whose envelope meets ``bbox``, found by the GiST
        index), in EPSG:27700.

        A login that may not read some columns (a partner: incidents' and breaches' text) gets the
        frame without them; a ward member's login reads the premises, orders, open space and
        basemap from the briefing views (their few columns), and nothing else."""
        k = get_kind(kind)
        source, have = self._source(kind)
        columns = [c for c in k.columns if c in have]
        geom = sql.SQL("ST_AsBinary(geom)") if "geom" in have else sql.SQL("NULL::bytea")
        query = sql.SQL("SELECT {}, {} FROM {}").format(
            geom,
            sql.SQL(", ").join(sql.Identifier(c) for c in columns) or sql.SQL("NULL"),
            sql.Identifier(source),
        )
        params: tuple[float, ...] = ()
        if bbox is not None and "geom" in have:
            query += sql.SQL(" WHERE geom && ST_MakeEnvelope(%s, %s, %s, %s, {})").format(
                sql.Literal(SRS_ID)
            )
            params = tuple(float(v) for v in bbox)
        order = next((c for c in ("fid", "feature_id", *columns) if c in have), None)
        if order is not None:
            query += sql.SQL(" ORDER BY {}").format(sql.Identifier(order))
        rows = self._rows(query, params)
        if not rows:
            return empty_frame(k)[[*columns, "geometry"]]
        geoms = shapely.from_wkb([None if r[0] is None else bytes(r[0]) for r in rows])
        frame = typed_frame(k, columns, [r[1:] for r in rows])
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=BNG))

    def briefing_incidents(self) -> gpd.GeoDataFrame:
        """The incidents the ward briefing counts (:func:`.access.generalise_to_blocks`): from the
        exact points for a login that reads them, else from ``closuremap_briefing_days`` (a ward
        member's login), each incident at a point inside its block with its day: the same
        counts."""
        from .access import generalise_to_blocks

        if {"geom", "occurred_at"} <= self.readable("incidents"):
            return generalise_to_blocks(self.read("incidents"), self.read("premises"))
        if not self.readable(BRIEFING_DAYS):
            raise self._refused("read the briefing's counts")
        rows = self._rows(
            sql.SQL("SELECT block_id, day, incidents FROM {} ORDER BY 1, 2").format(
                sql.Identifier(BRIEFING_DAYS)
            )
        )
        premises = self.read("premises")
        points = premises.set_index("block_id").geometry.representative_point()
        points = points[~points.index.duplicated(keep="first")]
        days: list[Any] = []
        geoms: list[Any] = []
        for block, day, n in rows:
            point = points.get(block) if block is not None else None
            days.extend([day] * int(n))
            geoms.extend([point] * int(n))
        return gpd.GeoDataFrame(
            {"occurred_at": pd.Series(days, dtype=object)},
            geometry=gpd.GeoSeries(geoms, crs=BNG),
            crs=BNG,
        )

    def count(self, kind: str) -> int:
        source, _ = self._source(get_kind(kind).name)
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(source))
        return int(self._rows(query)[0][0])

    def bounds(self, kind: str) -> tuple[float, float, float, float] | None:
        """(min easting, min northing, max easting, max northing) of a kind, or None if empty."""
        source, have = self._source(get_kind(kind).name)
        if "geom" not in have:
            raise self._refused(f"read where {kind.replace('_', ' ')} lie")
        query = sql.SQL(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
            "FROM (SELECT ST_Extent(geom) AS e FROM {}) AS extent"
        ).format(sql.Identifier(source))
        row = self._rows(query)[0]
        return None if row[0] is None else (row[0], row[1], row[2], row[3])

    def history(self, kind: str | None = None, feature_id: str | None = None) -> pd.DataFrame:
        """The audit trail, newest first, with each entry's place in the hash chain."""
        where, params = [], []
        if kind:
            where.append(sql.SQL("kind = %s"))
            params.append(kind)
        if feature_id:
            where.append(sql.SQL("feature_id = %s"))
            params.append(feature_id)
        source = AUDIT_TABLE
        if not set(AUDIT_COLUMNS) <= self.readable(AUDIT_TABLE):
            # a partner: the trail with incidents' and breaches' before and after left out
            if not set(AUDIT_COLUMNS) <= self.readable(pg_access.AUDIT_VIEW):
                raise self._refused("read the audit trail")
            source = pg_access.AUDIT_VIEW
        query = sql.SQL("SELECT {} FROM {}").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in AUDIT_COLUMNS),
            sql.Identifier(source),
        )
        if where:
            query += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(where)
        return self._frame(query + sql.SQL(" ORDER BY id DESC"), params)

    def verify_chain(self) -> audit_chain.ChainReport:
        """The audit chain verified whole. The owner (who reads every entry) verifies it here, as
        a GeoPackage is; any other login through :data:`.pg_access.AUDIT_HASHES`, which recomputes
        each entry's hash inside the database with the owner's rights, so a partner, who may not
        read incidents' before and after, still checks every entry and learns only hashes."""
        if set(AUDIT_COLUMNS) <= self.readable(AUDIT_TABLE):
            trail = self.history().iloc[::-1].to_dict("records")
            return audit_chain.verify([{str(k): v for k, v in e.items()} for e in trail])
        rows = self._rows(
            sql.SQL("SELECT id, prev_hash, hash, recomputed FROM {}()").format(
                sql.Identifier(pg_access.AUDIT_HASHES)
            )
        )
        return _verify_recomputed(rows)

    # -- objections and case records ------------------------------------------------------------
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
            number = self._insert(tx, OBJECTIONS_TABLE, row)
            audit_objection(tx, row, number)
            return number

    def objections(self, order_id: str | None = None) -> pd.DataFrame:
        query = sql.SQL("SELECT * FROM {}").format(sql.Identifier(OBJECTIONS_TABLE))
        if order_id:
            query += sql.SQL(" WHERE order_id = %s")
        return self._frame(query + sql.SQL(" ORDER BY id"), [order_id] if order_id else [])

    def add_case_record(
        self, order_id: str, what: str, record: Mapping[str, Any], *, recorded_by: str
    ) -> int:
        """Append one record of what was done for an order; kept, never edited."""
        row = case_row(order_id, what, record, recorded_by=recorded_by)
        with self.transaction() as tx:
            number = self._insert(tx, CASE_LOG_TABLE, row)
            audit_case_record(tx, row, number)
            return number

    @staticmethod
    def _insert(tx: PgTransaction, table: str, row: Mapping[str, Any]) -> int:
        """One row into a side table; the id the database gave it."""
        got = tx.conn.execute(
            sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING id").format(
                sql.Identifier(table),
                sql.SQL(", ").join(sql.Identifier(c) for c in row),
                sql.SQL(", ").join(sql.Placeholder() for _ in row),
            ),
            list(row.values()),
        ).fetchone()
        return int(got[0]) if got else 0

    def case_records(self, order_id: str, what: str) -> pd.DataFrame:
        """The records of one kind for an order, oldest first: each record's fields as columns,
        plus ``recorded_by`` and ``recorded_at``."""
        rows = self._rows(
            f"SELECT record, recorded_by, recorded_at FROM {CASE_LOG_TABLE} "
            "WHERE order_id = %s AND what = %s ORDER BY id",
            (order_id, what),
        )
        return pd.DataFrame(
            [{**json.loads(r), "recorded_by": by, "recorded_at": at} for r, by, at in rows]
        )

    # -- import log -----------------------------------------------------------------------------
    def imports(self) -> pd.DataFrame:
        """The import log, newest first."""
        with self.side_connection() as conn:
            return importlog.imports(conn)

    def write_rejects(self, import_id: int, target: Path | None = None) -> Path | None:
        """An import's rejects CSV, written from its log: to the path recorded at import, or to
        ``target``."""
        with self.side_connection() as conn:
            return importlog.write_rejects(conn, import_id, target)

    # -- raw copy interface (closuremap copy) ---------------------------------------------------
    def table_names(self) -> list[str]:
        """Every table closuremap keeps here: each kind's, then the side tables."""
        with self.side_connection() as conn:
            return [n for n in [*KINDS, *SIDE_TABLES] if pg_schema.table_exists(conn, n)]

    def _columns(self, conn: psycopg.Connection, name: str) -> list[str]:
        if name not in KINDS and name not in SIDE_TABLES:
            raise WorkspaceError(f"'{name}' is not a closuremap table")
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
            (name,),
        ).fetchall()
        return [r[0] for r in rows]

    def dump_table(self, name: str) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
        """A table's columns and rows as Python values (``geom`` as 2D ISO WKB), in id order."""
        with self.side_connection() as conn:
            columns = self._columns(conn, name)
        order = {"closuremap_rejects": "import_id, seq", META_TABLE: "key"}.get(
            name, "fid" if name in KINDS else "id"
        )
        selected = sql.SQL(", ").join(
            sql.SQL("ST_AsBinary(ST_Force2D(geom))") if c == "geom" else sql.Identifier(c)
            for c in columns
        )
        query = sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
            selected, sql.Identifier(name), sql.SQL(order)
        )

        def rows() -> Iterator[tuple[Any, ...]]:
            with (
                self._connect() as conn,
                conn.transaction(),
                conn.cursor(name=f"dump_{name}", binary=True) as cur,
            ):
                cur.itersize = 2000
                cur.execute(query)
                for row in cur:
                    yield tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)

        return columns, rows()

    def load_table(self, name: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Rows written verbatim (ids, audit hashes and all) into an empty table of a freshly
        created workspace, in one transaction; returns how many."""
        count = 0
        with self.transaction() as tx:
            conn = tx.conn
            have = self._columns(conn, name)
            unknown = [c for c in columns if c not in have]
            if unknown:
                raise WorkspaceError(
                    f"{self.location}: table {name} has no column(s) {', '.join(unknown)}"
                )
            present = conn.execute(
                sql.SQL("SELECT 1 FROM {} LIMIT 1").format(sql.Identifier(name))
            ).fetchone()
            if present and name != META_TABLE:
                raise WorkspaceError(
                    f"{self.location}: table {name} is not empty; copy into a new workspace"
                )
            if name == META_TABLE:  # a new workspace's own meta gives way to the copied one
                conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(name)))
                columns, rows = _own_schema_version(columns, rows)
            values = sql.SQL(", ").join(
                sql.SQL("ST_GeomFromWKB(%s, {})").format(sql.Literal(SRS_ID))
                if c == "geom"
                else sql.Placeholder()
                for c in columns
            )
            insert = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                sql.Identifier(name), sql.SQL(", ").join(sql.Identifier(c) for c in columns), values
            )
            batch: list[tuple[Any, ...]] = []
            with conn.cursor() as cur:
                for row in rows:
                    batch.append(tuple(row))
                    if len(batch) >= 2000:
                        cur.executemany(insert, batch)
                        count += len(batch)
                        batch = []
                if batch:
                    cur.executemany(insert, batch)
                    count += len(batch)
            key = "fid" if name in KINDS else "id"
            if key in have and name not in (AUDIT_TABLE, "closuremap_rejects"):
                conn.execute(
                    sql.SQL(
                        "SELECT setval(pg_get_serial_sequence(%s, %s), "
                        "coalesce((SELECT max({}) FROM {}), 0) + 1, false)"
                    ).format(sql.Identifier(key), sql.Identifier(name)),
                    (sql.Identifier(name).as_string(conn), key),
                )
        return count


def _require_postgis(conn: psycopg.Connection, shown: str) -> None:
    if not pg_schema.has_postgis(conn):
        raise WorkspaceError(
            f"the database of {shown} has no PostGIS: ask its administrator to run "
            "`CREATE EXTENSION postgis;` in it (the postgresql-15-postgis-3 package provides it)"
        )


def _own_schema_version(
    columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> tuple[Sequence[str], Iterator[tuple[Any, ...]]]:
    """Copied meta rows with this database's ``schema_version`` in place of the source's: the
    version says which PostGIS migrations ran here, not which the source had."""
    key, value = list(columns).index("key"), list(columns).index("value")

    def out() -> Iterator[tuple[Any, ...]]:
        seen = False
        for row in rows:
            row = list(row)
            if row[key] == "schema_version":
                row[value], seen = str(pg_schema.SCHEMA_VERSION), True
            yield tuple(row)
        if not seen:
            extra: list[Any] = [None] * len(columns)
            extra[key], extra[value] = "schema_version", str(pg_schema.SCHEMA_VERSION)
            yield tuple(extra)

    return columns, out()
