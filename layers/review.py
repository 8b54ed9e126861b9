"""The geocoding review queue: rows placed with low confidence, and rows not placed at all, kept in
the workspace until someone accepts the match, picks another address, or clicks the map.

Nothing is dropped: an unplaced row waits here with its original values and the reason; placing it
creates the incident, with the row's source file and number, and says how it was placed.

The queue is a side table of the workspace, on either backend: its SQL runs through
:class:`.side_sql.SideSQL` (a GeoPackage's sqlite3 connection, or a PostGIS workspace's), rows are
queued in the import's own transaction and closed in the transaction that places the incident.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

import geopandas as gpd
import shapely

from closuremap.geo.categories import standard_category
from closuremap.geo.crs import BNG
from closuremap.geo.errors import WorkspaceError
from closuremap.geo.geocode import normalise_address, parse_address

from .access import AccessDenied, RoleStore
from .coercion import coerce_column, map_columns
from .import_result import ImportResult
from .model import get_kind
from .side_sql import SideSQL, reading
from .store import WorkspaceStore, open_workspace
from .transaction import Transaction

TABLE = "closuremap_review"


CREATE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, source_file TEXT, "
    "source_row INTEGER, row_json TEXT NOT NULL, location TEXT, reason TEXT, match_score REAL, "
    "feature_id TEXT, status TEXT NOT NULL DEFAULT 'open', resolution TEXT, resolved_by TEXT, "
    "resolved_at TEXT)"
)


def queue_from_import(tx: Transaction, result: ImportResult) -> int:
    """Queue an incident import's low-confidence matches and unplaced rows, in the import's own
    transaction (so a row is never imported but not queued); returns how many."""
    items = []
    accepted = (
        result.accepted.assign(feature_id=result.feature_ids)
        if result.feature_ids
        else result.accepted
    )
    for row in accepted.itertuples():
        attrs = (
            json.loads(row.source_attrs)
            if isinstance(row.source_attrs, str) and row.source_attrs
            else {}
        )
        if str(attrs.get("geocode_needs_review")) == "True":
            items.append(
                (
                    row.source_file,
                    int(row.source_row),
                    json.dumps(attrs),
                    row.location_text,
                    attrs.get("geocode_reason"),
                    float(attrs.get("geocode_match_score") or 0),
                    row.feature_id,
                )
            )
    unit = "row" if "row" in result.rejected.columns else "feature"
    for rec in result.rejected.to_dict("records"):
        if not str(rec.get("reason", "")).startswith("not placed"):
            continue
        ours = (unit, "line", "reason")
        original = {
            (k[:-9] if k.endswith("_original") and k[:-9] in ours else k): v
            for k, v in rec.items()
            if k not in ours and not str(k).startswith("geocode_")
        }  # the user's own names back
        text = next(
            (
                str(v)
                for k, v in original.items()
                if str(k).lower()
                in ("location", "location_text", "address", "location_description")
            ),
            "",
        )
        items.append(
            (
                result.source.name,
                int(rec[unit]),
                json.dumps(original, default=str),
                text,
                rec["reason"],
                0.0,
                None,
            )
        )
    if items:
        side = SideSQL(tx.conn)
        side.ensure(CREATE_TABLE)
        side.executemany(
            f"INSERT INTO {TABLE} (source_file, source_row, row_json, location, reason, "
            "match_score, feature_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            items,
        )
    return len(items)


def _side(store: WorkspaceStore | RoleStore, what: str) -> WorkspaceStore:
    """The store whose own connection reads the queue. The queue holds what callers said and
    where (incident text), so a store opened for a role (:class:`.access.RoleStore`) is asked
    first whether the role geocodes; its workspace is then opened for the side table."""
    if isinstance(store, RoleStore):
        store.require("geocode", what)
        return open_workspace(store.location)
    return store


def open_items(store: WorkspaceStore | RoleStore) -> pd.DataFrame:
    """Open items: low-confidence matches first (lowest score first), then rows not placed."""
    with reading(_side(store, "read the geocoding review queue")) as side:
        side.ensure(CREATE_TABLE)
        side.commit()
        return side.frame(
            f"SELECT * FROM {TABLE} WHERE status = 'open' "
            "ORDER BY feature_id IS NULL, match_score, id"
        )


def candidates(text: str, gazetteer: pd.DataFrame, limit: int = 5) -> pd.DataFrame:
    """The addresses most like the text (one row at a time: extract is fine here, not for 100k).

    As in the geocoder, a flat or house number must agree exactly: when the text names one, the
    addresses with that number come first, ranked by how like the building or street they are, so
    'Flat 9 Hales Buildings' does not offer flat 9 of another block at the same score."""
    if not text or gazetteer.empty:
        return gazetteer.iloc[0:0].assign(score=[])
    query = parse_address(text)
    choices = [normalise_address(a) for a in gazetteer["address"].astype(str)]
    scores = process.cdist([normalise_address(text)], choices, scorer=fuzz.WRatio)[0]
    if query.unit:
        parsed = [parse_address(a) for a in gazetteer["address"].astype(str)]
        same_unit = np.array([p.unit == query.unit for p in parsed])
        name = np.array(
            [fuzz.WRatio(query.core, p.core) if p.core and query.core else 0.0 for p in parsed]
        )
        order = np.lexsort(
            (-scores, -name, ~same_unit)
        )  # same number, then the likest name, then overall
        scores = np.where(
            same_unit, name, np.minimum(scores, name) / 2
        )  # the score says how alike the names are
    else:
        order = np.argsort(-scores, kind="stable")
    best = order[:limit]
    rows = gazetteer.iloc[best].copy()
    rows["score"] = [round(float(scores[i]), 1) for i in best]
    return rows.reset_index(drop=True)


def resolve(
    store: WorkspaceStore | RoleStore,
    item_id: int,
    *,
    user: str,
    point: shapely.Point | None = None,
    how: str = "accepted",
) -> None:
    """Close a queue item: keep the match (``point`` None), or place the incident at ``point``
    (BNG), creating it if the row had not been placed; the incident's precision says how. A
    store opened for a role must be one that geocodes, acting under its own signed-in name."""
    side_store = _side(store, "place incidents from the review queue")
    if isinstance(store, RoleStore) and store.user and user.strip() != store.user:
        raise AccessDenied(
            f"signed in as {store.user}: a change is recorded under your own name, not '{user}'"
        )
    with reading(side_store) as side:
        side.ensure(CREATE_TABLE)
        side.commit()
        row = side.execute(
            f"SELECT row_json, feature_id, source_file, source_row, status FROM {TABLE} "
            "WHERE id = ?",
            (item_id,),
        ).fetchone()
    if row is None or row[4] != "open":
        raise WorkspaceError(f"review item #{item_id} is not open")
    original: dict[str, Any] = json.loads(row[0])
    fid = row[1]
    if point is None and fid is None:
        raise WorkspaceError("this row was never placed: pick an address or click the map")
    # the incident placed and the item closed together; an item someone closed meanwhile is not
    # placed twice
    with store.transaction() as tx:
        side = SideSQL(tx.conn)
        still = side.execute(f"SELECT status FROM {TABLE} WHERE id = ?", (item_id,)).fetchone()
        if still is None or still[0] != "open":
            raise WorkspaceError(f"review item #{item_id} is not open (someone closed it)")
        if point is not None:
            if fid is not None:
                tx.update(
                    "incidents",
                    fid,
                    user=user,
                    geometry=point,
                    attributes={"precision": f"{how} (reviewed)"},
                )
            else:
                fid = tx.add(
                    "incidents",
                    _placed_row(original, row, point, how),
                    user=user,
                    note=f"review item #{item_id}",
                    audit_each=True,
                )[0]
        side.execute(
            f"UPDATE {TABLE} SET status = 'resolved', resolution = ?, resolved_by = ?, "
            "resolved_at = ?, feature_id = ? WHERE id = ?",
            (how, user, datetime.now(UTC).isoformat(timespec="seconds"), fid, item_id),
        )


def _placed_row(
    original: dict[str, Any], row: tuple[Any, ...], point: shapely.Point, how: str
) -> gpd.GeoDataFrame:
    """An unplaced row as the incident it becomes at ``point``, typed as an import types it
    (dates the filters can read); a value that cannot be read is refused with its row."""
    kind = get_kind("incidents")
    mapping = map_columns(list(original), kind)
    attrs = {}
    for name, col in mapping.items():
        if name == "feature_id":
            continue
        values, problems = coerce_column(pd.Series([original.get(col)]), kind.field(name))
        if problems[0]:
            raise WorkspaceError(
                f"row {row[3]} of {row[2]}: {problems[0]}; correct it in the file and "
                "import the row again"
            )
        attrs[name] = values[0]
    attrs.update({"precision": f"{how} (reviewed)", "source_file": row[2], "source_row": row[3]})
    attrs["category_original"] = attrs.get("category")
    attrs["category"] = standard_category(attrs.get("category"))
    return gpd.GeoDataFrame({k: [v] for k, v in attrs.items()}, geometry=[point], crs=BNG)
