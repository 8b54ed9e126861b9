"""The workspace's side tables (import log, review queue, floor plans) on either backend, with one
SQL text.

Their SQL is written once, in SQLite's ``?`` style with ``"user"`` quoted and ``RETURNING id`` for
a new row's number (SQLite has both since 3.35): :class:`SideSQL` runs it on a ``sqlite3``
connection as it is, and on a psycopg connection with each ``?`` turned into ``%s``. Only table
creation differs (AUTOINCREMENT, BLOB): on a GeoPackage a module's ``CREATE TABLE IF NOT EXISTS``
runs when the table is first needed (:meth:`SideSQL.ensure`); on PostGIS every side table is made
by the schema (:mod:`.pg_schema`), so ``ensure`` does nothing there.

A write goes through the store's transaction (``SideSQL(tx.conn)``), so it lands with the audit
entry that records it; a read uses :func:`reading`, a connection of its own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd

from .connection import workspace_connection


class SideSQL:
    """One connection (sqlite3 or psycopg) running the side tables' portable SQL."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.postgres = not isinstance(conn, sqlite3.Connection)

    def _sql(self, text: str) -> str:
        # our own constant SQL: no literal ? or % in it
        return text.replace("%", "%%").replace("?", "%s") if self.postgres else text

    def ensure(self, *create: str) -> None:
        """A GeoPackage's side table made if it is not there yet (PostGIS: made at init)."""
        if not self.postgres:
            for ddl in create:
                self.conn.execute(ddl)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """A cursor, after running ``sql``: ``fetchone``, ``fetchall``, ``rowcount``, iteration."""
        return self.conn.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        if self.postgres:
            with self.conn.cursor() as cur:
                cur.executemany(self._sql(sql), [tuple(r) for r in rows])
        else:
            self.conn.executemany(sql, rows)

    def insert(self, sql: str, params: Sequence[Any]) -> int:
        """Run an ``INSERT … RETURNING id``; the new row's id."""
        row = self.execute(sql, params).fetchone()
        return int(row[0])

    def frame(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """A query's rows as a table, columns named as the query names them."""
        cur = self.execute(sql, params)
        columns = [d[0] for d in cur.description]
        return pd.DataFrame.from_records(cur.fetchall(), columns=columns, coerce_float=True)

    def table_exists(self, name: str) -> bool:
        if self.postgres:
            row = self.conn.execute("SELECT to_regclass(%s)", (name,)).fetchone()
            return row is not None and row[0] is not None
        return (
            self.conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
            ).fetchone()
            is not None
        )

    def commit(self) -> None:
        """Make a standalone write stick (a PostGIS reading connection commits each statement)."""
        if not self.postgres:
            self.conn.commit()


@contextmanager
def reading(store: Any) -> Iterator[SideSQL]:
    """A connection of its own to the store's workspace, for reading the side tables (and a
    standalone write that needs no audit entry, committed by :meth:`SideSQL.commit`)."""
    opener = getattr(store, "side_connection", None)
    if opener is not None:  # a PostGIS store
        with opener() as conn:
            yield SideSQL(conn)
        return
    with workspace_connection(store.location) as conn:
        yield SideSQL(conn)
