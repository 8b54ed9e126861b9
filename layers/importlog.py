"""The import log: each import's counts, and its rejected rows kept in the workspace.

An import's features, its review-queue rows, its rejected rows and its log line are written in one
transaction, so a crash leaves either all of them or none. The rejects CSV is written from the log
after the commit; if the process dies before it is written, the next open of the workspace writes
it (:func:`write_pending_rejects`), so no rejected row is ever lost with the file.

Each function takes the connection it runs on, a GeoPackage's (sqlite3) or a PostGIS workspace's
(psycopg), and runs the same SQL on either through :class:`.side_sql.SideSQL`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from closuremap.geo.errors import WorkspaceError

from .csvio import write_csv_rows
from .side_sql import SideSQL


class ImportLogError(WorkspaceError):
    """An import the workspace has no record of."""


IMPORTS_TABLE = "closuremap_imports"
REJECTS_TABLE = "closuremap_rejects"
_CREATE = (
    f"CREATE TABLE IF NOT EXISTS {IMPORTS_TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    'at TEXT NOT NULL, "user" TEXT NOT NULL, kind TEXT NOT NULL, file TEXT NOT NULL, '
    "read INTEGER, added INTEGER, updated INTEGER, rejected INTEGER, queued INTEGER, "
    "rejects_path TEXT, rejects_columns TEXT, rejects_written INTEGER NOT NULL DEFAULT 0)",
    f"CREATE TABLE IF NOT EXISTS {REJECTS_TABLE} (import_id INTEGER NOT NULL, "
    "seq INTEGER NOT NULL, row_json TEXT NOT NULL, PRIMARY KEY (import_id, seq))",
)


def ensure_tables(conn: Any) -> None:
    SideSQL(conn).ensure(*_CREATE)


def begin(conn: Any, *, kind: str, file: Path, user: str) -> int:
    """Open a log line for an import inside its transaction; returns the import's id."""
    ensure_tables(conn)
    return SideSQL(conn).insert(
        f'INSERT INTO {IMPORTS_TABLE} (at, "user", kind, file) VALUES (?, ?, ?, ?) RETURNING id',
        (datetime.now(UTC).isoformat(timespec="seconds"), user, kind, str(file)),
    )


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value if isinstance(value, (str, int, float, bool)) else str(value)


def add_rejects(conn: Any, import_id: int, rejected: pd.DataFrame, first_seq: int) -> None:
    """Keep a chunk's rejected rows (row number, reason and original values) with the import."""
    columns = [str(c) for c in rejected.columns]
    SideSQL(conn).executemany(
        f"INSERT INTO {REJECTS_TABLE} (import_id, seq, row_json) VALUES (?, ?, ?)",
        (
            (
                import_id,
                first_seq + i,
                json.dumps(dict(zip(columns, map(_plain, row), strict=True)), ensure_ascii=False),
            )
            for i, row in enumerate(rejected.itertuples(index=False, name=None))
        ),
    )


def count_rejects(conn: Any, import_id: int) -> int:
    return int(
        SideSQL(conn)
        .execute(f"SELECT count(*) FROM {REJECTS_TABLE} WHERE import_id = ?", (import_id,))
        .fetchone()[0]
    )


def finish(
    conn: Any,
    import_id: int,
    *,
    read: int,
    added: int,
    updated: int,
    rejected: int,
    queued: int,
    rejects_path: Path | None,
    rejects_columns: list[str],
) -> None:
    SideSQL(conn).execute(
        f"UPDATE {IMPORTS_TABLE} SET read = ?, added = ?, updated = ?, rejected = ?, queued = ?, "
        "rejects_path = ?, rejects_columns = ?, rejects_written = ? WHERE id = ?",
        (
            read,
            added,
            updated,
            rejected,
            queued,
            str(rejects_path) if rejects_path else None,
            json.dumps(rejects_columns),
            0 if rejects_path else 1,
            import_id,
        ),
    )


def _rows(conn: Any, import_id: int, columns: list[str]) -> Iterator[list[Any]]:
    cursor = SideSQL(conn).execute(
        f"SELECT row_json FROM {REJECTS_TABLE} WHERE import_id = ? ORDER BY seq", (import_id,)
    )
    for (text,) in cursor:
        record = json.loads(text)
        yield [record.get(c) for c in columns]


def write_rejects(conn: Any, import_id: int, target: Path | None = None) -> Path | None:
    """Write an import's rejects CSV from the log (streamed): to its recorded path, marking it
    written, or to ``target`` (a copy for a user whose first file is gone)."""
    side = SideSQL(conn)
    row = side.execute(
        f"SELECT rejects_path, rejects_columns FROM {IMPORTS_TABLE} WHERE id = ?", (import_id,)
    ).fetchone()
    if row is None:
        raise ImportLogError(
            f"the workspace has no import #{import_id}; `closuremap imports WS` lists them"
        )
    columns = json.loads(row[1] or "[]")
    if target is not None:
        return write_csv_rows(target, columns, _rows(conn, import_id, columns))
    if not row[0]:
        return None
    path = write_csv_rows(row[0], columns, _rows(conn, import_id, columns))
    side.execute(f"UPDATE {IMPORTS_TABLE} SET rejects_written = 1 WHERE id = ?", (import_id,))
    side.commit()
    return path


def write_pending_rejects(conn: Any) -> list[Path]:
    """Rejects files of committed imports that a crash kept from being written: write them now."""
    side = SideSQL(conn)
    if not side.table_exists(IMPORTS_TABLE):
        return []
    pending = [
        r[0]
        for r in side.execute(
            f"SELECT id FROM {IMPORTS_TABLE} WHERE rejects_written = 0"
        ).fetchall()
    ]
    return [p for p in (write_rejects(conn, i) for i in pending) if p is not None]


def imports(conn: Any) -> pd.DataFrame:
    """The import log, newest first."""
    ensure_tables(conn)
    return SideSQL(conn).frame(
        f'SELECT id, at, "user", kind, file, read, added, updated, rejected, queued, rejects_path '
        f"FROM {IMPORTS_TABLE} ORDER BY id DESC"
    )
