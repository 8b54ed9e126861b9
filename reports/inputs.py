"""What each document needs, gathered from a workspace (or, for the exhibit, from files).

The one place where ``reports/`` turns stored layers and settings into a document's input: the
renderers take plain values and never open a store, and ``layers/`` never knows what a document
looks like. (:mod:`closuremap.reports.casefile` does the same for the legal documents and the
court bundle, which share one case file; :mod:`closuremap.reports.letter_inputs` for the letters,
apart so that making letters need not import the exhibit and the briefing, which this module does.)
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd

from closuremap.geo.errors import ClosuremapError
from closuremap.geo.evaluation import EvaluationResult
from closuremap.geo.incidents import filter_incidents
from closuremap.geo.scope import scope_from_parts
from closuremap.layers.access import briefing_incidents, evaluate_for_briefing
from closuremap.layers.documents import order_blocks, workspace_attribution
from closuremap.layers.model import text_or_none
from closuremap.layers.orders import FeatureFiles, evidence_window, order_row, read_layers
from closuremap.layers.store import WorkspaceStore

from .attribution import infer_attribution
from .briefing import DEFAULT_PARTNERS, BriefingInput
from .exhibit_data import AuditPointer, ExhibitInput
from .letter_inputs import ISSUES_REACH_M, letter_fields

__all__ = [  # letter_fields lives in letter_inputs (a light import); still importable from here
    "EXHIBIT_LAYERS",
    "ISSUES_REACH_M",
    "briefing_input",
    "exhibit_input",
    "exhibit_input_from_files",
    "letter_fields",
]

#: The layers the exhibit draws, by the names :class:`ExhibitInput` gives them.
EXHIBIT_LAYERS = (
    "premises",
    "communal_areas",
    "access_routes",
    "entrances",
    "open_space",
    "basemap",
    "addresses",
    "incidents",
)


def exhibit_input(store: WorkspaceStore, order_id: str) -> ExhibitInput:
    """Everything the court exhibit of a stored order shows."""
    row = order_row(store, order_id)
    return ExhibitInput(
        title=str(row["name"]),
        scope=row.geometry,
        order_id=str(row["order_id"]),
        **read_layers(store, EXHIBIT_LAYERS),
        attribution=workspace_attribution(store),
        audit=audit_pointer(store, str(row["feature_id"])),
    )


def audit_pointer(store: WorkspaceStore, feature_id: str) -> AuditPointer | None:
    """The audit entry that last saved the order (``feature_id``) and the chain's head now; None
    if the trail holds neither (an order stored before the chain, in a workspace not yet
    chained)."""
    trail = store.history()  # newest first
    own = trail[(trail["kind"] == "orders") & (trail["feature_id"] == feature_id)]
    if own.empty or not isinstance(own.iloc[0]["hash"], str):
        return None
    return AuditPointer(
        int(own.iloc[0]["id"]),
        str(own.iloc[0]["hash"]),
        int(trail.iloc[0]["id"]),
        str(trail.iloc[0]["hash"]),
    )


def exhibit_input_from_files(
    *,
    title: str,
    scope: Path,
    premises: Path,
    communal: Path | None = None,
    incidents: Path | None = None,
    routes: Path | None = None,
    entrances: Path | None = None,
    open_space: Path | None = None,
    attribution: list[str] | None = None,
) -> tuple[ExhibitInput, list[str]]:
    """The exhibit's input from files in any supported format and CRS (no workspace). The data
    attribution is the lines given plus those of every source recognised in the files
    (OpenStreetMap ids, police.uk columns, Code-Point Open), each noted."""
    files = FeatureFiles()
    scope_frame = files.scope(scope)
    raw_premises = files.load(premises, "premises")
    frames = {
        "communal_areas": files.load(communal, "communal_areas"),
        "access_routes": files.load(routes, "access_routes"),
        "entrances": files.load(entrances, "entrances"),
        "open_space": files.load(open_space, "open_space"),
        "incidents": files.load(incidents, "incidents"),
    }
    found = infer_attribution([raw_premises, *frames.values()])  # before block ids are made up
    given = list(attribution or [])
    for line in found:
        if line not in given:
            given.append(line)
            files.notes.append(f"attribution recognised from the data: {line}")
    return ExhibitInput(
        title=title,
        scope=scope_from_parts(scope_frame.geometry.values),
        premises=files.numbered(raw_premises),
        attribution=given,
        **frames,
    ), files.notes


def briefing_input(
    store: WorkspaceStore, order_id: str | None = None, *, today: date | None = None
) -> BriefingInput:
    """The whole workspace's proposals, or one order's; incidents only from the evidence window
    (one order's, or the span of every order's window)."""
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
    for _, row in orders.iterrows():
        try:
            windows.append(evidence_window(row, today or date.today()))
        except ClosuremapError:
            continue  # one order's bad window must not stop the briefing of the others
    window = (min(w[0] for w in windows), max(w[1] for w in windows)) if windows else None
    incidents = briefing_incidents(store)  # dates and blocks only: no text, no exact points
    if window is not None:
        incidents = filter_incidents(incidents, start=window[0], end=window[1])
    partners = store.get_meta("partners")
    return BriefingInput(
        results=_made_orders_results(store, orders),
        title=store.get_meta("name") or "closure orders",
        window=window,
        premises=store.read("premises"),
        orders=orders,
        incidents=incidents,
        basemap=store.read("basemap"),
        open_space=store.read("open_space"),
        partners=json.loads(partners) if partners else list(DEFAULT_PARTNERS),
        attribution=workspace_attribution(store),
    )


def _made_orders_results(
    store: WorkspaceStore, orders: pd.DataFrame
) -> list[tuple[str, EvaluationResult]]:
    """Before and after, for each order once it has been made (suppressed in the briefing)."""
    results = []
    for _, row in orders.iterrows():
        if text_or_none(row.get("order_made_on")):
            try:
                results.append(
                    (str(row["name"]), evaluate_for_briefing(store, str(row["order_id"])))
                )
            except ClosuremapError:
                continue  # too early, or no incidents to compare: nothing to report yet
    return results


def _blocks_or_blank(store: WorkspaceStore, order_id: str) -> str:
    try:
        return ";".join(order_blocks(store, order_id)["block_id"].astype(str))
    except ClosuremapError:
        return ""  # an order over no block: the briefing says "-"
