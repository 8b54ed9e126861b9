"""Breaches of closure orders: each recorded breach checked against its order's scope and the
periods the notice and the order were in force (the rule itself is :mod:`closuremap.geo.breach`)."""

from __future__ import annotations

from datetime import datetime
from datetime import time as dtime

import pandas as pd

from closuremap.geo.breach import check_breach, periods
from closuremap.geo.dates import parse_date, parse_datetime

from .model import text_or_none
from .orders import order_row, order_timeline
from .store import WorkspaceStore

BREACH_COLUMNS = (
    "feature_id",
    "order_id",
    "occurred_at",
    "inside_scope",
    "distance_m",
    "in_force",
    "flags",
)


def check_breaches(store: WorkspaceStore, order_id: str | None = None) -> pd.DataFrame:
    """Every breach (of one order, or all) checked against its order's scope and period in force."""
    breaches = store.read("breaches")
    orders = store.read("orders")
    orders = orders.set_index(orders["order_id"].astype(str))
    if order_id is not None:
        order_row(store, order_id)
        breaches = breaches[breaches["order_id"].astype(str) == str(order_id)]
    rows = []
    for b in breaches.itertuples():
        oid = str(b.order_id)
        if oid not in orders.index:
            rows.append(
                {
                    "feature_id": b.feature_id,
                    "order_id": oid,
                    "occurred_at": b.occurred_at,
                    "inside_scope": None,
                    "distance_m": None,
                    "in_force": None,
                    "flags": f"no order '{oid}' in the workspace",
                }
            )
            continue
        order = orders.loc[oid]
        t = order_timeline(order)
        issued = text_or_none(order.get("notice_issued_at"))
        made = text_or_none(order.get("order_made_on"))
        spans = periods(
            t,
            parse_datetime(issued, "notice_issued_at") if issued else None,
            datetime.combine(parse_date(made, "order_made_on"), dtime.min) if made else None,
        )
        result = check_breach(b.geometry, b.occurred_at, order.geometry, spans)
        rows.append(
            {
                "feature_id": b.feature_id,
                "order_id": oid,
                "occurred_at": b.occurred_at,
                "inside_scope": result.inside_scope,
                "distance_m": round(result.distance_m, 2),
                "in_force": result.in_force,
                "flags": "; ".join(result.flags),
            }
        )
    return pd.DataFrame(rows, columns=list(BREACH_COLUMNS))
