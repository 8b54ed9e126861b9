"""Connections to a workspace file: waiting for a busy workspace, and writing in one transaction.

SQLite lets one process write at a time. A command or a page that finds the workspace busy waits
up to CLOSUREMAP_BUSY_SECONDS (default 10), then says so in words and changes nothing; a write is
``BEGIN IMMEDIATE ... COMMIT`` or a rollback of everything, so other readers never see half of it.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from closuremap.geo.errors import WorkspaceError

#: How long a command or page waits for a workspace another process is writing (seconds): the
#: setting CLOSUREMAP_BUSY_SECONDS, default 10.
DEFAULT_BUSY_SECONDS = 10.0
BUSY_MESSAGE = (
    "the workspace {path} is busy (an import or another user is writing to it); waited "
    "{seconds:g} s. Try again in a moment; nothing was changed"
)


def busy_seconds() -> float:
    """How long to wait for a busy workspace: CLOSUREMAP_BUSY_SECONDS, else the default."""
    try:
        return max(0.0, float(os.environ.get("CLOSUREMAP_BUSY_SECONDS", DEFAULT_BUSY_SECONDS)))
    except ValueError:
        return DEFAULT_BUSY_SECONDS


def is_busy(exc: BaseException) -> bool:
    """Whether SQLite refused because another connection is writing."""
    text = str(exc).lower()
    return "database is locked" in text or "database is busy" in text


def now() -> str:
    """The time an audit or log row records: UTC, to the second, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


@contextmanager
def workspace_connection(path: str | Path) -> Iterator[sqlite3.Connection]:
    """A plain connection to a workspace file for the side tables (review queue, floor plans): it
    waits for a busy workspace as long as the store does, then says so in the store's words."""
    conn = sqlite3.connect(path, timeout=busy_seconds())
    try:
        yield conn
    except (sqlite3.OperationalError, pd.errors.DatabaseError) as exc:
        if is_busy(exc):
            raise WorkspaceError(BUSY_MESSAGE.format(path=path, seconds=busy_seconds())) from exc
        raise
    finally:
        conn.close()


@contextmanager
def write_transaction(conn: sqlite3.Connection, path: str | Path) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK of everything, DDL included; a failed write says
    that nothing was saved (and, if the workspace was busy, that it was)."""
    conn.isolation_level = None
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("PRAGMA cache_size = -65536")  # 64 MB, taken only as a big write needs it
    try:
        yield
    except sqlite3.Error as exc:
        conn.execute("ROLLBACK")
        if is_busy(exc):
            raise WorkspaceError(BUSY_MESSAGE.format(path=path, seconds=busy_seconds())) from exc
        raise WorkspaceError(f"could not write to {path}: {exc}; nothing was saved") from exc
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def workspace_fingerprint(path: str | Path) -> str:
    """What the workspace file holds, in a few bytes: SQLite's file change counter (header bytes
    24-27, incremented by every committed write in rollback-journal mode), the file's size and its
    modification time, and those of a write-ahead log if there is one. Any write by anyone gives a
    new fingerprint; reading gives the same one."""
    p = Path(path)
    stat = p.stat()
    with p.open("rb") as f:
        header = f.read(28)
    counter = int.from_bytes(header[24:28], "big") if header.startswith(b"SQLite format 3") else -1
    wal = p.with_name(p.name + "-wal")
    wal_part = f":{wal.stat().st_size}:{wal.stat().st_mtime_ns}" if wal.exists() else ""
    return f"{counter}:{stat.st_size}:{stat.st_mtime_ns}{wal_part}"
