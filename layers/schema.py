"""A workspace file's shape: one GeoPackage table per layer kind (geometry in EPSG:27700, a unique
``feature_id``), the meta and audit tables, and how values go in and out of SQLite.

A workspace made by an older closuremap gains a new kind's table, or a new field's column, empty,
when it is opened; nothing is ever dropped.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Mapping
from contextlib import closing
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import geopandas as gpd
import pyogrio
import shapely

from closuremap.geo.crs import BNG

from . import audit_chain, importlog
from .connection import now
from .model import KINDS, SOURCE_ROW, LayerKind

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
#: The side tables an order's record keeps, made when first written to.
CREATE_OBJECTIONS = (
    f"CREATE TABLE IF NOT EXISTS {OBJECTIONS_TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "order_id TEXT NOT NULL, received_on TEXT NOT NULL, who TEXT NOT NULL, summary TEXT NOT NULL, "
    "response TEXT, recorded_by TEXT NOT NULL, recorded_at TEXT NOT NULL)"
)
CREATE_CASE_LOG = (
    f"CREATE TABLE IF NOT EXISTS {CASE_LOG_TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "order_id TEXT NOT NULL, what TEXT NOT NULL, record TEXT NOT NULL, recorded_by TEXT NOT NULL, "
    "recorded_at TEXT NOT NULL)"
)
#: The audit table: one row a change, each with the hash of the one before (:mod:`.audit_chain`).
CREATE_AUDIT = (
    f"CREATE TABLE {AUDIT_TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "at TEXT NOT NULL, user TEXT NOT NULL, kind TEXT NOT NULL, feature_id TEXT, "
    "action TEXT NOT NULL, before TEXT, after TEXT, note TEXT, prev_hash TEXT, hash TEXT)"
)
#: What :meth:`GeoPackageStore.history` returns, in this order.
AUDIT_COLUMNS = audit_chain.HASHED_FIELDS + ("prev_hash", "hash")
_UNIQUE_ID = 'CREATE UNIQUE INDEX IF NOT EXISTS "idx_{kind}_feature_id" ON "{kind}" (feature_id)'


def create_workspace_file(path: Path, name: str) -> None:
    """A new GeoPackage with a table for every layer kind, the meta, audit and import tables."""
    create_layers(path, list(KINDS.values()))
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(f"CREATE TABLE {META_TABLE} (key TEXT PRIMARY KEY, value TEXT)")
        conn.execute(CREATE_AUDIT)
        conn.executemany(
            f"INSERT INTO {META_TABLE} VALUES (?, ?)",
            [("schema_version", SCHEMA_VERSION), ("created_at", now()), ("name", name)],
        )
        importlog.ensure_tables(conn)


def create_layers(path: Path, kinds: Iterable[LayerKind]) -> None:
    """Empty tables for these kinds, each with its unique feature_id index."""
    kinds = list(kinds)
    for kind in kinds:
        pyogrio.write_dataframe(
            empty_frame(kind),
            path,
            layer=kind.name,
            driver="GPKG",
            geometry_type=kind.storage_geometry_type,
            promote_to_multi=False,
        )
    with closing(sqlite3.connect(path)) as conn, conn:
        for kind in kinds:
            conn.execute(_UNIQUE_ID.format(kind=kind.name))


def add_missing_columns(path: Path, kinds: Iterable[LayerKind]) -> None:
    """A workspace made before a field existed gains the column, empty."""
    with closing(sqlite3.connect(path)) as conn, conn:
        for kind in kinds:
            have = {r[1] for r in conn.execute(f'PRAGMA table_info("{kind.name}")')}
            for name in kind.columns:
                if name not in have:
                    conn.execute(
                        f'ALTER TABLE "{kind.name}" ADD COLUMN "{name}" '
                        f"{_SQL_TYPES[column_kind(kind, name)]}"
                    )


def audit_is_chained(conn: sqlite3.Connection) -> bool:
    """Whether the audit table has its hash columns (a workspace made before the chain has not)."""
    have = {r[1] for r in conn.execute(f"PRAGMA table_info({AUDIT_TABLE})")}
    return {"prev_hash", "hash"} <= have


def chain_audit(conn: sqlite3.Connection) -> int:
    """Give a workspace made before the hash chain its ``prev_hash`` and ``hash`` columns and chain
    the rows it already holds, oldest first; returns how many rows were chained (0: nothing to do).

    Run inside a write transaction (BEGIN IMMEDIATE), so two processes opening the same old
    workspace chain it once: the second finds the columns there. What the rows said before the
    chain existed is taken as it stands; from here on any change to them is found."""
    if audit_is_chained(conn):
        return 0
    have = {r[1] for r in conn.execute(f"PRAGMA table_info({AUDIT_TABLE})")}
    for column in ("prev_hash", "hash"):
        if column not in have:
            conn.execute(f"ALTER TABLE {AUDIT_TABLE} ADD COLUMN {column} TEXT")
    fields = ", ".join(f'"{c}"' for c in audit_chain.HASHED_FIELDS)
    rows = conn.execute(f"SELECT {fields} FROM {AUDIT_TABLE} ORDER BY id").fetchall()
    prev, chained = audit_chain.GENESIS, []
    for row in rows:
        digest = audit_chain.entry_hash(
            prev, dict(zip(audit_chain.HASHED_FIELDS, row, strict=True))
        )
        chained.append((prev, digest, row[0]))
        prev = digest
    conn.executemany(f"UPDATE {AUDIT_TABLE} SET prev_hash = ?, hash = ? WHERE id = ?", chained)
    return len(chained)


def column_kind(kind: LayerKind, name: str) -> str:
    """The type a stored column holds: a field's kind; text for the system columns."""
    if name == SOURCE_ROW:
        return "int"
    try:
        return kind.field(name).kind
    except KeyError:
        return "str"


def empty_frame(kind: LayerKind) -> gpd.GeoDataFrame:
    """A kind's columns with no rows, each of its stored type."""
    cols = {
        name: pd.Series([], dtype=_PANDAS_TYPES[column_kind(kind, name)]) for name in kind.columns
    }
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=BNG))


def typed_frame(kind: LayerKind, columns: list[str], rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """Rows read from a kind's table (``columns`` in order) with whole numbers as nullable
    integers and numbers as floats, as an import stored them."""
    frame = pd.DataFrame({c: [r[i] for r in rows] for i, c in enumerate(columns)})
    for c in columns:
        ck = column_kind(kind, c)
        if ck == "int":
            frame[c] = pd.array(frame[c], dtype="Int64")
        elif ck == "float":
            frame[c] = pd.to_numeric(frame[c]).astype("float64")
    return frame


def sql_value(value: Any) -> Any:
    """One value as sqlite3 binds it: blanks as NULL, NumPy numbers as Python's, dates as ISO."""
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


def sql_column(values: pd.Series) -> list[Any]:
    """A column as values sqlite3 can bind: dates and times as ISO text (as an update writes
    them), NumPy numbers as Python numbers, blanks as NULL."""
    dated = pd.api.types.is_datetime64_any_dtype(values)
    if not dated and values.dtype == object:
        present = values[values.notna()]
        dated = bool(len(present)) and isinstance(present.iloc[0], (pd.Timestamp, datetime, date))
    if dated:
        return [sql_value(v) for v in values.astype(object)]
    return values.astype(object).where(values.notna(), None).tolist()


def feature_json(row: Mapping[str, Any], geometry: shapely.Geometry | None) -> str:
    """A feature's state as an audit row keeps it: its properties and its WKT."""
    props = {k: sql_value(v) for k, v in row.items() if k != "geometry"}
    return json.dumps(
        {"properties": props, "wkt": None if geometry is None else geometry.wkt}, default=str
    )


def new_feature_ids(n: int) -> list[str]:
    """``n`` random (version 4) UUIDs as 32 hex digits, made in one go (uuid4() one at a time
    costs a second per million features). Random, so any eight digits tell features apart on a
    page."""
    raw = np.frombuffer(os.urandom(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    text = raw.tobytes().hex()
    return [text[i : i + 32] for i in range(0, 32 * n, 32)]
