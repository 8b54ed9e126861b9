"""Gathering from a workspace what each document needs: briefing, letters, service pack."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd

import geopandas as gpd

from closuremap.geo.aggregate import DEFAULT_MINIMUM, counts_by_category, suppress
from closuremap.geo.errors import ClosuremapError, WorkspaceError
from closuremap.geo.incidents import filter_incidents
from closuremap.geo.permitted_access import default_classes, from_json
from closuremap.geo.timeline import parse_datetime
from closuremap.reports.briefing import DEFAULT_PARTNERS, BriefingInput
from closuremap.reports.letters import plain_date

from .evaluation import evaluate_order
from .model import text_or_none
from .orders import evidence_window, order_row
from .store import WorkspaceStore

ISSUES_REACH_M = 10.0


def _attribution(store: WorkspaceStore) -> list[str]:
    raw = store.get_meta("attribution")
    return list(json.loads(raw)) if raw else []


def briefing_input(
    store: WorkspaceStore, order_id: str | None = None, *, today: date | None = None
) -> BriefingInput:
    """The whole workspace's proposals, or one order's; incidents only from the evidence window (one
    order's, or the span of every order's window)."""
    orders = store.read("orders")
    if order_id is not None:
        orders = orders[orders["order_id"].astype(str) == str(order_id)]
        if orders.empty:
            order_row(store, order_id)  # raises the error that lists the orders
    orders = orders.assign(
        block_ids=[
            text_or_none(row.get("block_ids")) or _blocks_or_blank(store, str(row["order_id"]))
            for _, row in orders.iterrows()
        ]
    )
    windows = []
    for (
        _,
        row,
    ) in orders.iterrows():  # one order's bad window must not stop the briefing of the others
        try:
            windows.append(evidence_window(row, today or date.today()))
        except ClosuremapError:
            continue
    window = (min(w[0] for w in windows), max(w[1] for w in windows)) if windows else None
    incidents = store.read("incidents")[["occurred_at", "geometry"]]
    if window is not None:
        incidents = filter_incidents(incidents, start=window[0], end=window[1])
    partners = store.get_meta("partners")
    results = []
    for (
        _,
        row,
    ) in (
        orders.iterrows()
    ):  # before/after, once an order has been made (suppressed in the briefing)
        if text_or_none(row.get("order_made_on")):
            try:
                results.append((str(row["name"]), evaluate_order(store, str(row["order_id"]))))
            except ClosuremapError:
                continue  # too early, or no incidents to compare: nothing to report yet
    return BriefingInput(
        results=results,
        title=store.get_meta("name") or "closure orders",
        window=window,
        premises=store.read("premises"),
        orders=orders,
        incidents=incidents,
        basemap=store.read("basemap"),
        open_space=store.read("open_space"),
        partners=json.loads(partners) if partners else list(DEFAULT_PARTNERS),
        attribution=_attribution(store),
    )


def _blocks_or_blank(store: WorkspaceStore, order_id: str) -> str:
    try:
        return ";".join(order_blocks(store, order_id)["block_id"].astype(str))
    except ClosuremapError:
        return ""  # an order over no block: the briefing says "-"


def order_blocks(store: WorkspaceStore, order_id: str) -> gpd.GeoDataFrame:
    """The blocks an order covers: its block_ids, else the blocks its scope reaches."""
    row = order_row(store, order_id)
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


def letter_fields(
    store: WorkspaceStore,
    order_id: str,
    *,
    today: date,
    contact: str,
    signatory: str,
    respond_days: int = 21,
    minimum: int = DEFAULT_MINIMUM,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The recipients (every address in the order's blocks) and the fields every letter shares."""
    row = order_row(store, order_id)
    blocks = order_blocks(store, order_id)
    addresses = store.read("addresses")
    recipients = addresses[addresses["block_id"].isin(blocks["block_id"])]
    if recipients.empty:
        raise WorkspaceError(
            f"no addresses in the blocks of {order_id} ({', '.join(blocks['block_id'])}); import "
            "the flats into the addresses layer first"
        )
    recipients = recipients.sort_values(["block_id", "uprn"])[
        ["uprn", "address", "block_id", "postcode", "flat"]
    ]
    incidents = store.read("incidents")
    near = incidents[incidents.distance(row.geometry) <= ISSUES_REACH_M]
    months = near["occurred_at"].astype(str).str.slice(0, 7)
    dated = months[months.str.match(r"^\d{4}-\d{2}$")]
    if len(dated):  # the twelve months up to the latest record, not up to today: exports lag
        last = pd.Period(dated.max(), freq="M")
        near = near[(months > str(last - 12)) & (months <= str(last))]
    counts = counts_by_category(near)
    shown = suppress(counts, minimum)
    issues = (
        "; ".join(f"{cat} ({n})" for cat, n in shown.items()) or "reports of anti-social behaviour"
    )
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


SERVICE_ALIASES = {"time_fixed": "served_at", "served": "served_at", "time": "served_at"}


def record_service(
    store: WorkspaceStore, order_id: str, rows: pd.DataFrame, *, user: str
) -> tuple[int, pd.DataFrame]:
    """Record where and when the notice was fixed (s.79(2): every normal means of access), from the
    service pack's checklist filled in on the day. Rows with no time are doors not yet served and are
    skipped; a row with a time the app cannot read, or no officer, is rejected with its reason."""
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
