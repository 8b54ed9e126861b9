"""Closure orders in a workspace: their scope checked against its layers, their timeline, urgency.

The rules live in geo/ (scope, timeline, permitted access); this module only fetches what they need
from a store or from files and hands it over.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd
from dateutil.relativedelta import relativedelta

import geopandas as gpd
import shapely

from closuremap.geo.crs import BNG
from closuremap.geo.dates import DateError, parse_date, parse_datetime
from closuremap.geo.errors import ClosuremapError, InputFileError, WorkspaceError
from closuremap.geo.permitted_access import from_json
from closuremap.geo.scope import ScopeCheck, check_scope, scope_from_parts
from closuremap.geo.timeline import DEADLINES, Timeline, TimelineError, next_deadline, timeline

from .audit import describe_change
from .model import KINDS, text_or_none
from .order_lookup import order_row
from .placing import read_features
from .store import WorkspaceStore

URGENT_DAYS = 14
_ORDER_KINDS = {f.name: f.kind for f in KINDS["orders"].fields}


#: The layers a scope is checked against, by the names ``check_scope`` gives them.
SCOPE_LAYERS = (
    "premises",
    "communal_areas",
    "access_routes",
    "open_space",
    "entrances",
    "incidents",
)


def read_layers(store: WorkspaceStore, kinds: Iterable[str]) -> dict[str, gpd.GeoDataFrame]:
    """Several layers of a workspace, by kind: handed on as the keyword arguments of a check or a
    document, whose parameters are named after the layer kinds."""
    return {kind: store.read(kind) for kind in kinds}


def streets(basemap: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The basemap's highways (classes ``street:…``): public places a scope must not close."""
    return basemap[basemap["feature_class"].astype(str).str.startswith("street:")]


def check_order(
    store: WorkspaceStore, order_id: str, *, tolerance_m2: float | None = None
) -> ScopeCheck:
    """An order's scope checked against the workspace's blocks, communal areas, routes, open space,
    entrances, streets, incidents and the other orders."""
    row = order_row(store, order_id)
    return check_in_workspace(store, row.geometry, order_id=order_id, tolerance_m2=tolerance_m2)


def check_in_workspace(
    store: WorkspaceStore,
    scope: shapely.Geometry,
    *,
    order_id: str | None = None,
    tolerance_m2: float | None = None,
) -> ScopeCheck:
    """A scope (saved or not) checked against the workspace; ``order_id`` (the order being
    checked) is left out of the overlaps."""
    orders = store.read("orders")
    return check_scope(
        scope,
        **read_layers(store, SCOPE_LAYERS),
        other_orders=orders[orders["order_id"].astype(str) != str(order_id)],
        highways=streets(store.read("basemap")),
        tolerance_m2=tolerance_m2,
    )


@dataclass
class FileInputs:
    scope: Path
    premises: Path
    communal: Path | None = None
    routes: Path | None = None
    open_space: Path | None = None
    incidents: Path | None = None
    entrances: Path | None = None
    highways: Path | None = None
    boroughs: Path | None = None
    other_orders: Path | None = None


class FeatureFiles:
    """Files read as BNG features in any supported format and CRS; what was left out of each, and
    what was assumed, is collected in ``notes`` for the user."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def load(self, path: Path | None, kind: str | None) -> gpd.GeoDataFrame | None:
        """An optional file's features as ``kind`` (None: no file given)."""
        if path is None:
            return None
        frame, more = read_features(path, kind)
        self.notes.extend(more)
        return frame

    def scope(self, path: Path) -> gpd.GeoDataFrame:
        """The scope file's features; refused when it has no usable geometry."""
        frame = self.load(path, "orders")
        if frame is None or frame.empty:
            raise InputFileError(f"{path}: no usable scope geometry")
        return frame

    def numbered(self, premises: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Premises without block references get P1, P2, … in file order (and a note says so)."""
        out = premises.copy()
        if "block_id" not in out.columns:
            out["block_id"] = [f"P{i + 1}" for i in range(len(out))]
            self.notes.append(
                "the premises file has no block_id column: blocks numbered P1, P2, … in file order"
            )
        if "name" not in out.columns:
            out["name"] = out["block_id"]
        return out


def check_files(
    inputs: FileInputs, *, tolerance_m2: float | None = None
) -> tuple[ScopeCheck, list[str]]:
    """The same check on files in any supported format and CRS (no workspace)."""
    files = FeatureFiles()
    load = files.load
    scope_frame = files.scope(inputs.scope)
    if len(scope_frame) > 1:
        files.notes.append(
            f"the scope file has {len(scope_frame)} features: checked as their union"
        )
    scope = scope_from_parts(scope_frame.geometry.values)
    premises = files.numbered(load(inputs.premises, "premises"))
    return check_scope(
        scope,
        premises=premises,
        communal_areas=load(inputs.communal, "communal_areas"),
        access_routes=load(inputs.routes, "access_routes"),
        open_space=load(inputs.open_space, "open_space"),
        incidents=load(inputs.incidents, "incidents"),
        entrances=load(inputs.entrances, "entrances"),
        highways=load(inputs.highways, "basemap"),
        boroughs=load(inputs.boroughs, None),
        other_orders=load(inputs.other_orders, "orders"),
        tolerance_m2=tolerance_m2,
    ), files.notes


def extension_list(value: object) -> list[int]:
    """An order's extensions in months, as saved ("3" or "3;2"); a sentence if they cannot be
    read."""
    out = []
    for part in (text_or_none(value) or "").replace(",", ";").split(";"):
        if part.strip():
            try:
                out.append(int(float(part.strip())))
            except ValueError:
                raise TimelineError(
                    f"extension_months: '{part.strip()}' is not a number of months; write each "
                    "extension as a number, separated by ';' (e.g. 3;2)"
                ) from None
    return out


def order_timeline(row: pd.Series) -> Timeline | None:
    """The timeline of a stored order, or None before a notice is issued."""
    issued = text_or_none(row.get("notice_issued_at"))
    if issued is None:
        return None
    served = text_or_none(row.get("notice_served_at"))
    hearing = text_or_none(row.get("hearing_at"))
    made = text_or_none(row.get("order_made_on"))
    months = row.get("order_months")
    extensions = extension_list(row.get("extension_months"))
    hours = row.get("notice_hours")
    return timeline(
        notice_issued=parse_datetime(issued, "notice_issued_at"),
        notice_served=parse_datetime(served, "notice_served_at") if served else None,
        notice_hours=int(hours) if text_or_none(hours) else 24,
        authorised_by=text_or_none(row.get("authorised_by")),
        hearing_at=parse_datetime(hearing, "hearing_at") if hearing else None,
        order_made=parse_date(made, "order_made_on") if made else None,
        order_months=int(months) if text_or_none(months) else None,
        extension_months=extensions,
    )


def orders_by_urgency(store: WorkspaceStore, now: datetime) -> pd.DataFrame:
    """Every order with its next deadline, soonest first; flags what falls due within 14 days."""
    rows = []
    for _, row in store.read("orders").iterrows():
        try:
            t = order_timeline(row)
        except ClosuremapError as exc:  # one order's bad record must not hide the others
            rows.append(
                {
                    "order_id": row["order_id"],
                    "name": row["name"],
                    "status": row.get("status") or "draft",
                    "next_deadline": f"cannot be worked out: {exc}",
                    "due": None,
                    "days_left": None,
                    "urgent": False,
                    "violations": 0,
                }
            )
            continue
        nxt = next_deadline(t, now) if t else None
        days = None if nxt is None else (nxt[1] - now).total_seconds() / 86400
        rows.append(
            {
                "order_id": row["order_id"],
                "name": row["name"],
                "status": row.get("status") or "draft",
                "next_deadline": None if nxt is None else nxt[0].replace("_", " "),
                "due": None if nxt is None else nxt[1].strftime("%Y-%m-%d %H:%M"),
                "days_left": None if days is None else round(days, 1),
                "urgent": days is not None and days <= URGENT_DAYS,
                "violations": len(t.violations) if t else 0,
            }
        )
    frame = pd.DataFrame(
        rows,
        columns=[
            "order_id",
            "name",
            "status",
            "next_deadline",
            "due",
            "days_left",
            "urgent",
            "violations",
        ],
    )
    return frame.sort_values("days_left", na_position="last", kind="stable").reset_index(drop=True)


def build_scope(
    store: WorkspaceStore, picks: dict[str, list[str]]
) -> tuple[shapely.Geometry, list[dict[str, str]]]:
    """The union of the picked features ({kind: [feature_id, ...]}) and a record of where each part
    came from (kind, feature_id, block_id, name), kept with the order."""
    geoms, parts = [], []
    for kind, ids in picks.items():
        if not ids:
            continue
        frame = store.read(kind)
        chosen = frame[frame["feature_id"].isin(ids)]
        for row in chosen.itertuples():
            geoms.append(row.geometry)
            parts.append(
                {
                    "kind": kind,
                    "feature_id": row.feature_id,
                    "block_id": getattr(row, "block_id", None),
                    "name": getattr(row, "name", None),
                }
            )
    if not geoms:
        raise WorkspaceError("pick at least one block, communal area or access route for the scope")
    return scope_from_parts(geoms), parts


def parts_json(parts: list[dict[str, str]]) -> str:
    return json.dumps(parts, ensure_ascii=False)


def order_version(store: WorkspaceStore, order_id: str) -> int:
    """How many times the order has been saved: the exhibit's version number."""
    row = order_row(store, order_id)
    return max(1, len(store.history(kind="orders", feature_id=str(row["feature_id"]))))


# -- the order record -----------------------------------------------------------------------------
#: Default evidence window: the six months before the notice was issued.
EVIDENCE_MONTHS = 6


def evidence_window(row: pd.Series, today: date) -> tuple[date, date]:
    """The order's evidence window: its saved dates, else the 6 months up to the notice's issue
    (or up to ``today`` before a notice exists)."""
    start, end = text_or_none(row.get("evidence_from")), text_or_none(row.get("evidence_to"))
    issued = text_or_none(row.get("notice_issued_at"))
    default_end = parse_date(issued, "notice_issued_at") if issued else today
    to = parse_date(end, "evidence_to") if end else default_end
    since = (
        parse_date(start, "evidence_from") if start else to - relativedelta(months=EVIDENCE_MONTHS)
    )
    if since > to:
        raise WorkspaceError(
            f"the evidence window of {row.get('order_id')} starts ({since}) after it ends ({to}); "
            "correct evidence_from or evidence_to"
        )
    return since, to


def _normal(name: str, value: object) -> object:
    """A field's value as compared for a change: dates and times parsed, numbers as numbers."""
    text = text_or_none(value)
    if text is None:
        return None
    kind = _ORDER_KINDS.get(name, "str")
    if name == "permitted_access":
        return tuple(from_json(text))
    if name in ("grounds", "block_ids"):  # lists: "a; b" and "a;b" say the same
        return tuple(sorted(g.strip() for g in text.split(";") if g.strip()))
    try:
        if kind == "datetime":
            return parse_datetime(text, name)
        if kind == "date":
            return parse_date(text, name)
        if kind == "int":
            return int(float(text))
    except (ValueError, DateError):
        return text
    return text


def _same(a: object, b: object, name: str = "") -> bool:
    return _normal(name, a) == _normal(name, b)


def changed_fields(saved: pd.Series | None, edited: dict[str, object]) -> dict[str, object]:
    """Only the fields whose value the user changed (compared as text, blanks equal): a save writes
    these and nothing else, so a field the page did not show is never blanked."""
    if saved is None:
        return {k: v for k, v in edited.items() if text_or_none(v) is not None}
    return {k: v for k, v in edited.items() if not _same(saved.get(k), v, k)}


def save_order(
    store: WorkspaceStore,
    *,
    user: str,
    feature_id: str | None,
    changes: dict[str, object],
    scope: shapely.Geometry | None = None,
    parts: list[dict[str, str]] | None = None,
    note: str = "orders page",
    expected_version: int | None = None,
) -> str:
    """Add a new order or change a saved one. With ``parts`` (a scope built from features), the
    scope's record and its blocks are written too; otherwise ``block_ids`` and ``scope_parts`` keep
    their saved values. With ``expected_version`` a change someone else saved since is never
    overwritten (:class:`~geo.errors.StaleEditError`). Returns the order's feature id."""
    if not user or not user.strip():
        raise WorkspaceError("say who you are before saving: every change is recorded with a name")
    attrs = dict(changes)
    if parts:
        attrs["scope_parts"] = parts_json(parts)
        attrs["block_ids"] = (
            ";".join(sorted({str(p["block_id"]) for p in parts if p.get("block_id")})) or None
        )
    if feature_id is None:
        if scope is None:
            raise WorkspaceError(
                "a new order needs a scope: build one from blocks, communal areas or routes"
            )
        missing = [f for f in ("order_id", "name") if not text_or_none(attrs.get(f))]
        if missing:
            raise WorkspaceError(
                f"give the order its {' and '.join(missing).replace('_id', ' reference')}"
            )
        if str(attrs["order_id"]) in set(store.read("orders")["order_id"].astype(str)):
            raise WorkspaceError(
                f"an order '{attrs['order_id']}' exists already; choose it in the Order box "
                "to change it, or give this one another reference"
            )
        frame = gpd.GeoDataFrame({k: [v] for k, v in attrs.items()}, geometry=[scope], crs=BNG)
        return store.add("orders", frame, user=user, note=note)[0]
    if attrs or scope is not None:
        store.update(
            "orders",
            feature_id,
            user=user,
            geometry=scope,
            attributes=attrs,
            note=note,
            expected_version=expected_version,
        )
    return feature_id


def order_history(store: WorkspaceStore, order_id: str) -> pd.DataFrame:
    """Who changed the order, when, and what: names and words, not ids."""
    row = order_row(store, order_id)
    log = store.history(kind="orders", feature_id=str(row["feature_id"]))
    return pd.DataFrame(
        {
            "when": log["at"],
            "who": log["user"],
            "action": log["action"],
            "what changed": [
                describe_change(b, a) for b, a in zip(log["before"], log["after"], strict=True)
            ],
            "note": log["note"].fillna(""),
        }
    )


_EVENTS = {
    "notice_issued_at": "Notice issued",
    "notice_served_at": "Notice served",
    "hearing_at": "Hearing",
    "order_made_on": "Order made",
}
_LIFE_DEADLINES = (
    "notice_expires",
    "notice_extended_until",
    "hearing_deadline",
    "order_expires",
    "latest_possible_end",
)


def order_life(row: pd.Series, t: Timeline) -> pd.DataFrame:
    """What has happened to an order and what its deadlines are, in time order, for a chart of its
    life: notice, hearing, order, expiry, the 6-month cap."""
    events = [
        {"event": what, "when": pd.Timestamp(parse_datetime(text, field_name)), "kind": "happened"}
        for field_name, what in _EVENTS.items()
        if (text := text_or_none(row.get(field_name)))
    ]
    events += [
        {"event": DEADLINES[name][0], "when": pd.Timestamp(getattr(t, name)), "kind": "deadline"}
        for name in _LIFE_DEADLINES
        if getattr(t, name) is not None
    ]
    return pd.DataFrame(events, columns=["event", "when", "kind"]).sort_values(
        "when", kind="stable"
    )
