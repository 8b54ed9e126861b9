"""Gathering from a workspace what each document needs: briefing, letters, service pack."""

from __future__ import annotations

import json
from datetime import date, timedelta

import geopandas as gpd
import pandas as pd

from geo.aggregate import DEFAULT_MINIMUM, counts_by_category, suppress
from geo.errors import WorkspaceError
from geo.permitted_access import default_classes, from_json
from layers.orders import order_row
from layers.store import WorkspaceStore
from reports.briefing import DEFAULT_PARTNERS, BriefingInput
from reports.letters import plain_date

ISSUES_REACH_M = 10.0


def _attribution(store: WorkspaceStore) -> list[str]:
    raw = store.get_meta("attribution")
    return list(json.loads(raw)) if raw else []


def briefing_input(store: WorkspaceStore, order_id: str | None = None) -> BriefingInput:
    """The whole workspace's proposals, or one order's."""
    orders = store.read("orders")
    if order_id is not None:
        orders = orders[orders["order_id"].astype(str) == str(order_id)]
        if orders.empty:
            order_row(store, order_id)  # raises the error that lists the orders
    partners = store.get_meta("partners")
    return BriefingInput(
        title=store.get_meta("name") or "closure orders",
        premises=store.read("premises"), orders=orders, incidents=store.read("incidents")[["occurred_at", "geometry"]],
        basemap=store.read("basemap"), open_space=store.read("open_space"),
        partners=json.loads(partners) if partners else list(DEFAULT_PARTNERS),
        attribution=_attribution(store),
    )


def order_blocks(store: WorkspaceStore, order_id: str) -> gpd.GeoDataFrame:
    """The blocks an order covers: its block_ids, else the blocks its scope reaches."""
    row = order_row(store, order_id)
    premises = store.read("premises")
    ids = [b for b in str(row.get("block_ids") or "").split(";") if b.strip()]
    if ids:
        return premises[premises["block_id"].isin(ids)]
    return premises[premises.intersects(row.geometry.buffer(1.0))]


def letter_fields(store: WorkspaceStore, order_id: str, *, today: date, contact: str, signatory: str,
                  respond_days: int = 21, minimum: int = DEFAULT_MINIMUM) -> tuple[pd.DataFrame, dict[str, str]]:
    """The recipients (every address in the order's blocks) and the fields every letter shares."""
    row = order_row(store, order_id)
    blocks = order_blocks(store, order_id)
    addresses = store.read("addresses")
    recipients = addresses[addresses["block_id"].isin(blocks["block_id"])]
    if recipients.empty:
        raise WorkspaceError(f"no addresses in the blocks of {order_id} ({', '.join(blocks['block_id'])}); import "
                             "the flats into the addresses layer first")
    recipients = recipients.sort_values(["block_id", "uprn"])[["uprn", "address", "block_id", "postcode", "flat"]]
    incidents = store.read("incidents")
    near = incidents[incidents.distance(row.geometry) <= ISSUES_REACH_M]
    months = near["occurred_at"].astype(str).str.slice(0, 7)
    dated = months[months.str.match(r"^\d{4}-\d{2}$")]
    if len(dated):  # the twelve months up to the latest record, not up to today: exports lag
        last = pd.Period(dated.max(), freq="M")
        near = near[(months > str(last - 12)) & (months <= str(last))]
    counts = counts_by_category(near)
    shown = suppress(counts, minimum)
    issues = "; ".join(f"{cat} ({n})" for cat, n in shown.items()) or "reports of anti-social behaviour"
    classes = from_json(row.get("permitted_access")) or default_classes()
    communal = store.read("communal_areas")
    in_scope = communal[communal.intersection(row.geometry).area > 0.5 * communal.area]
    kinds = sorted({str(t).replace("_", " ") for t in in_scope["area_type"]}) or ["shared areas"]
    fields = {
        "date": plain_date(today),
        "order_name": str(row["name"]),
        "blocks": ", ".join(blocks["name"]),
        "issues": issues,
        "scope_words": ", ".join(kinds) + " (not the flats)",
        "permitted_access": "\n".join(f"  - {c.words()}" for c in classes),
        "contact": contact,
        "respond_by": plain_date(today + timedelta(days=respond_days)),
        "signatory": signatory,
    }
    return recipients.reset_index(drop=True), fields
