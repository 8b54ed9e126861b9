"""What the consultation letters need, gathered from a workspace: the recipients and the fields
every letter shares.

Apart from :mod:`.inputs` (which gathers the exhibit's and the briefing's inputs) so that making
letters loads only the store, the incident counts and reportlab: a mailing of a few hundred
letters is a short process, and importing matplotlib or the exhibit for it would cost more than
drawing the letters. ``tests/test_letters.py`` keeps it that way.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

import shapely

from closuremap.geo.aggregate import DEFAULT_MINIMUM, counts_by_category, suppress
from closuremap.geo.errors import WorkspaceError
from closuremap.geo.permitted_access import default_classes, from_json
from closuremap.layers.documents import order_blocks
from closuremap.layers.order_lookup import order_row
from closuremap.layers.store import WorkspaceStore

from .letters import plain_date

#: How near an order's scope an incident must be for the letters to name its category.
ISSUES_REACH_M = 10.0


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
    blocks = order_blocks(store, order_id, row=row)
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
    incidents = _read_near(store, "incidents", row.geometry, ISSUES_REACH_M)
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
    communal = _read_near(store, "communal_areas", row.geometry, 0.0)
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


def _read_near(
    store: WorkspaceStore, kind: str, scope: shapely.Geometry | None, reach_m: float
) -> pd.DataFrame:
    """The features of ``kind`` whose boxes come within ``reach_m`` of the scope's box (through
    the spatial index), a superset of those the letters count: a borough's year of incidents is
    not read to find the few hundred by one estate. Every feature when the order has no scope."""
    if scope is None or shapely.is_empty(scope):
        return store.read(kind)
    minx, miny, maxx, maxy = scope.bounds
    margin = reach_m + 1.0  # a metre more: the index stores its boxes as 32-bit floats
    return store.read(kind, bbox=(minx - margin, miny - margin, maxx + margin, maxy + margin))
