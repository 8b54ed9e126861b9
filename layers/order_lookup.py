"""Finding one stored order by its id, without the rest of :mod:`.orders`.

Kept apart so that a command needing only an order's row (the consultation letters) does not load
what :mod:`.orders` needs for checking and saving scopes (the file readers, openpyxl, the legal
timeline): each letters run pays for every import.
"""

from __future__ import annotations

import pandas as pd

from closuremap.geo.errors import WorkspaceError

from .store import WorkspaceStore


def order_row(store: WorkspaceStore, order_id: str) -> pd.Series:
    """The stored order ``order_id``; an unknown id is refused with the ids there are."""
    orders = store.read("orders")
    match = orders[orders["order_id"].astype(str) == str(order_id)]
    if match.empty:
        known = ", ".join(orders["order_id"].astype(str)) or "none yet"
        raise WorkspaceError(f"no order '{order_id}' in {store.location}; the orders are: {known}")
    return match.iloc[0]
