"""What a workspace keeps for an order's documents: the blocks an order covers, the record of the
notice's service and of the consultation letters, and the data attribution every document prints.

Assembling a document's input from these is ``closuremap.reports.inputs``' job: storage never
knows what a document looks like.
"""

from __future__ import annotations

import json
from datetime import date

import pandas as pd

import geopandas as gpd

from closuremap.geo.dates import parse_datetime
from closuremap.geo.errors import ClosuremapError, WorkspaceError

from .model import text_or_none
from .order_lookup import order_row
from .store import WorkspaceStore

#: The workspace settings holding the data attributions (JSON lists of lines): the full lines for
#: documents, and short forms that fit the web map's corner.
ATTRIBUTION_KEY = "attribution"
ATTRIBUTION_SHORT_KEY = "attribution_short"


def workspace_attribution(store: WorkspaceStore, *, short: bool = False) -> list[str]:
    """The workspace's data attributions, which the data's licences require on every map and
    document (short: the forms that fit the map's corner, else the full lines)."""
    raw = (short and store.get_meta(ATTRIBUTION_SHORT_KEY)) or store.get_meta(ATTRIBUTION_KEY)
    return list(json.loads(raw)) if raw else []


def order_blocks(
    store: WorkspaceStore, order_id: str, *, row: pd.Series | None = None
) -> gpd.GeoDataFrame:
    """The blocks an order covers: its block_ids, else the blocks its scope reaches. ``row`` is the
    order as :func:`order_row` gave it, when the caller has read it already."""
    row = order_row(store, order_id) if row is None else row
    premises = store.read("premises")
    ids = [b.strip() for b in (text_or_none(row.get("block_ids")) or "").split(";") if b.strip()]
    chosen = premises[premises["block_id"].astype(str).isin(ids)] if ids else premises.iloc[0:0]
    if chosen.empty:  # no block ids saved, or none that still exist: the blocks the scope reaches
        chosen = premises[premises.intersection(row.geometry).area > 0.5]
    if chosen.empty:
        raise WorkspaceError(
            f"order {order_id} covers no block: its scope reaches no premises and it names "
            "none; rebuild its scope from blocks or communal areas on the Closure orders page"
        )
    return chosen


SERVICE_ALIASES = {"time_fixed": "served_at", "served": "served_at", "time": "served_at"}


def record_service(
    store: WorkspaceStore, order_id: str, rows: pd.DataFrame, *, user: str
) -> tuple[int, pd.DataFrame]:
    """Record where and when the notice was fixed (s.79(2): every normal means of access), from
    the service pack's checklist filled in on the day. Rows with no time are doors not yet served
    and are skipped; a row with a time the app cannot read, or no officer, is rejected with its
    reason."""
    order_row(store, order_id)
    table = rows.rename(columns=SERVICE_ALIASES)
    recorded, rejected = 0, []
    for i, row in table.iterrows():
        when, officer = text_or_none(row.get("served_at")), text_or_none(row.get("officer"))
        if when is None and officer is None:
            continue
        try:
            at = parse_datetime(when or "", "served_at")
        except ClosuremapError:
            rejected.append(
                {
                    **row.to_dict(),
                    "reason": f"row {i + 1}: time '{when}' is not a date-time; use "
                    "YYYY-MM-DD HH:MM",
                }
            )
            continue
        if officer is None:
            rejected.append(
                {**row.to_dict(), "reason": f"row {i + 1}: say which officer fixed the notice"}
            )
            continue
        store.add_case_record(
            str(order_id),
            "service",
            {
                "entrance": text_or_none(row.get("entrance")) or "door",
                "block": text_or_none(row.get("block")) or "",
                "served_at": at.strftime("%Y-%m-%d %H:%M"),
                "officer": officer,
                "photo_ref": text_or_none(row.get("photo_ref")) or "",
            },
            recorded_by=user,
        )
        recorded += 1
    return recorded, pd.DataFrame(rejected)


def log_letters(
    store: WorkspaceStore, order_id: str, *, count: int, made_on: date, user: str
) -> None:
    """Note a consultation mailing (s.76(6)-(7)) so the bundle's consultation record can show it."""
    store.add_case_record(
        str(order_id),
        "letters",
        {"made_at": made_on.isoformat(), "count": int(count), "made_by": user},
        recorded_by=user,
    )
