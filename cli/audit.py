"""The ``audit`` command: list a workspace's audit trail and verify its hash chain.

Every change to a feature, an order, a setting or an order's record is an audit entry carrying the
SHA-256 of the one before (:mod:`closuremap.layers.audit_chain`). ``--verify`` walks the whole
chain, oldest first, and names the first entry that does not follow: edited, removed or put out of
order behind the app's back. Only the store's :meth:`history` is used, so any store will do. The
store is opened for the acting user's role: a role that reads the trail without the before and
after of some entries (:mod:`closuremap.layers.access`) still verifies the whole, unredacted chain
(the guard's ``verify_chain``, which says only counts, ids and hashes).

Exit codes: 0 listed (and, with ``--verify``, intact); 2 a problem the user can fix (no such
workspace or order); :data:`EXIT_CHAIN_BROKEN` (3) the chain is broken.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

import pandas as pd

from closuremap.cli.shared import emit, open_store
from closuremap.layers import audit_chain
from closuremap.layers.audit import describe_entry
from closuremap.layers.model import KINDS
from closuremap.layers.order_lookup import order_row
from closuremap.layers.store import WorkspaceStore

#: The exit code of ``audit --verify`` when the chain is broken (2 is a user error).
EXIT_CHAIN_BROKEN = 3
#: The kinds whose entries are about an order by its order_id (the order's own are by feature id).
ORDER_RECORD_KINDS = ("objections", "case_records")


def _plain(value: Any) -> Any:
    """A history cell as JSON takes it: NaN and NA as None, NumPy numbers as Python's."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def chain_entries(store: WorkspaceStore) -> list[dict[str, Any]]:
    """The whole audit trail oldest first, each entry a plain dict of :meth:`history`'s columns
    (what is hashed, exactly as stored, so the JSON output can be re-verified by anyone)."""
    history = store.history()
    return [
        {column: _plain(value) for column, value in row.items()}
        for row in history.iloc[::-1].to_dict("records")
    ]


def order_filter(store: WorkspaceStore, order_id: str) -> tuple[str, str]:
    """The order's feature id and order id: its own entries are by the first, its objections' and
    case records' by the second. An unknown order is refused with the ids there are."""
    row = order_row(store, order_id)
    return str(row["feature_id"]), str(row["order_id"])


def is_about(entry: Mapping[str, Any], feature_id: str, order_id: str) -> bool:
    """Whether an entry is about the order: its scope and fields, its objections, its records."""
    if entry.get("kind") == "orders":
        return entry.get("feature_id") == feature_id
    return entry.get("kind") in ORDER_RECORD_KINDS and entry.get("feature_id") == order_id


def _line(entry: Mapping[str, Any]) -> str:
    at = str(entry.get("at") or "")[:19].replace("T", " ")
    fid, kind = entry.get("feature_id"), entry.get("kind")
    if fid and kind in KINDS:  # a feature's 32-digit id: its first 12 tell features apart
        fid = str(fid)[:12]
    what = f"{kind} {fid or '(bulk)'}"
    return (
        f"#{entry.get('id')}  {at}  {entry.get('user')}  {entry.get('action')} {what}: "
        f"{describe_entry(entry)}  [{str(entry.get('hash') or '')[:12]}]"
    )


def cmd_audit(args: argparse.Namespace) -> int:
    store = open_store(args, "history")  # a partner's trail lacks incidents' before/after
    entries = chain_entries(store)
    shown = entries
    if args.order:
        feature_id, order_id = order_filter(store, args.order)
        shown = [e for e in entries if is_about(e, feature_id, order_id)]
    head = entries[-1]["hash"] if entries else audit_chain.GENESIS
    report = store.verify_chain() if args.verify else None  # the whole, unredacted chain
    broken = None if report is None or report.ok else report
    data = {
        "workspace": store.location,
        "order": args.order,
        "entries": [{**e, "description": describe_entry(e)} for e in shown],
        "verified": None if report is None else report.ok,
        "head": head,
        "first_broken": None
        if broken is None
        else {"id": broken.broken_id, "reason": broken.reason},
    }
    text = [_line(e) for e in shown] or [
        "no audit entries" + (" for this order" if args.order else "")
    ]
    scope = f"{len(entries)} entries, head {str(head)[:12]}"
    if args.order:
        text.append(f"{len(shown)} of the chain's {scope} are about order {args.order}")
    else:
        text.append(f"chain of {scope}")
    if report is not None:
        whole = " (verification always walks the whole chain, not only the order's entries)"
        if broken is None:
            text.append(f"verified: the chain is intact{whole if args.order else ''}")
        else:
            text.append(
                f"BROKEN at entry {broken.broken_id}: {broken.reason}{whole if args.order else ''}"
            )
    emit(data, args.json, "\n".join(text))
    return EXIT_CHAIN_BROKEN if broken is not None else 0
