"""An order's records kept beside it — objections (consultation, s.76(7)) and case records (notice
service s.79, letters sent s.76(6)) — as both stores write them: the row checked and made here, and
its audit entry, so a GeoPackage and a PostGIS workspace hold and chain the same thing. Each store
only inserts the row its own way and hands back the number it was given.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from closuremap.geo.errors import WorkspaceError

from .connection import now


class Recorder(Protocol):
    """What a store's transaction offers for the audit entry (:meth:`Transaction.record`)."""

    def record(
        self,
        *,
        user: str,
        kind: str,
        feature_id: str | None,
        action: str,
        before: str | None,
        after: str | None,
        note: str | None = None,
    ) -> int: ...


def objection_row(
    order_id: str, *, who: str, summary: str, received_on: str, recorded_by: str, response: str
) -> dict[str, Any]:
    """An objection as stored, or a sentence saying what it lacks."""
    if not who.strip() or not summary.strip():
        raise WorkspaceError("an objection needs who made it and a summary of what they said")
    return {
        "order_id": order_id,
        "received_on": received_on,
        "who": who.strip(),
        "summary": summary.strip(),
        "response": response.strip() or None,
        "recorded_by": recorded_by,
        "recorded_at": now(),
    }


def audit_objection(tx: Recorder, row: Mapping[str, Any], number: int) -> None:
    """The objection's audit entry: who logged it, on which order, the record as stored."""
    tx.record(
        user=str(row["recorded_by"]),
        kind="objections",
        feature_id=str(row["order_id"]),
        action="add",
        before=None,
        after=json.dumps({"id": number, **row}, ensure_ascii=False),
    )


def case_row(
    order_id: str, what: str, record: Mapping[str, Any], *, recorded_by: str
) -> dict[str, Any]:
    """A case record as stored (its fields as JSON text), or a sentence if nobody is named."""
    if not recorded_by or not recorded_by.strip():
        raise WorkspaceError("say who is recording this: every record carries a name")
    return {
        "order_id": order_id,
        "what": what,
        "record": json.dumps(dict(record), default=str),
        "recorded_by": recorded_by,
        "recorded_at": now(),
    }


def audit_case_record(tx: Recorder, row: Mapping[str, Any], number: int) -> None:
    """The case record's audit entry."""
    tx.record(
        user=str(row["recorded_by"]),
        kind="case_records",
        feature_id=str(row["order_id"]),
        action="add",
        before=None,
        after=json.dumps(
            {
                "id": number,
                "what": row["what"],
                "record": json.loads(str(row["record"])),
                "recorded_at": row["recorded_at"],
            }
        ),
    )
