"""Drawing and editing features in a workspace: save with snapping and checks, versions, undo.

Every save is a version in the audit trail (who, when, before, after); undo restores the state
before the latest change exactly, and any earlier version of a feature can be restored. The checks
report, they do not fix: the page offers the repair.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

import geopandas as gpd
import shapely

from closuremap.geo.crs import BNG
from closuremap.geo.drawing import check_drawing, route_to_polygon
from closuremap.geo.errors import StaleEditError, WorkspaceError
from closuremap.geo.snapping import snap_to_existing

from .coercion import coerce_column  # the import's reader: one rule for files and forms
from .model import get_kind
from .orders import check_in_workspace
from .store import WorkspaceStore

UNDO_NOTE = "undo of #"
RESTORE_NOTE = "restore of #"


@dataclass(frozen=True)
class EditBase:
    """A feature as an editor opens it: its saved values (a row with its geometry) and the version
    those values are. A save hands the version back, so it is refused if anyone saved since."""

    row: pd.Series
    version: int


def load_for_editing(
    store: WorkspaceStore, kind: str, feature_id: str, *, attempts: int = 5
) -> EditBase:
    """A feature's saved values and their version, taken together.

    A form must show the values of the version its save will name: values older than the version
    (someone saved between the two reads) would be shown, then written back over that change with
    no refusal. So the version is read before and after the values, and the read repeated when
    someone saved in between; a feature that is being saved continuously is refused rather than
    shown out of step."""
    for _ in range(attempts):
        before = store.version(kind, feature_id)
        frame = store.read(kind)
        match = frame[frame["feature_id"].astype(str) == str(feature_id)]
        if store.version(kind, feature_id) != before:
            continue  # a save landed while the values were read: read them again
        if match.empty:
            raise WorkspaceError(
                f"the {get_kind(kind).title.lower()} {feature_id} is no longer in the workspace "
                "(someone deleted it): choose another, or undo the deletion on the Draw page"
            )
        return EditBase(match.iloc[0], before)
    raise WorkspaceError(
        f"the {get_kind(kind).title.lower()} {feature_id} is being saved by someone else right "
        "now: open it again in a moment"
    )


def with_saved(frame: gpd.GeoDataFrame, base: EditBase) -> gpd.GeoDataFrame:
    """A copy of ``frame`` with the feature of ``base`` as ``base`` holds it: what a map shows of
    the feature being edited is what its version is (the layer's frame may be older)."""
    out = frame.copy()
    hit = out.index[out["feature_id"].astype(str) == str(base.row["feature_id"])]
    for index in hit:
        for column in out.columns:
            if column in base.row.index:
                out.at[index, column] = base.row[column]
    return out


@dataclass(frozen=True)
class Outline:
    """An edited outline to save: the shape (prepared), the version it was drawn on, and how the
    page names the feature."""

    feature_id: str
    geometry: shapely.Geometry
    expected_version: int | None
    label: str


def save_outlines(
    store: WorkspaceStore, kind: str, outlines: Sequence[Outline], *, user: str
) -> None:
    """Save edited outlines all or nothing, in one transaction: if one was changed by someone else
    since it was opened, none is saved (half an edit of neighbouring shapes would leave them out of
    step), and the refusal names that outline and who changed what."""
    with store.transaction() as tx:
        for outline in outlines:
            if outline.expected_version is None:
                raise WorkspaceError(
                    f"{outline.label}: not saved, it was not opened for editing; choose it in "
                    "'Feature to edit' and draw the change again. Nothing was saved"
                )
            try:
                tx.update(
                    kind,
                    outline.feature_id,
                    user=user,
                    geometry=outline.geometry,
                    expected_version=outline.expected_version,
                )
            except StaleEditError as exc:
                others = (
                    f" None of the {len(outlines)} edited outlines was saved."
                    if len(outlines) > 1
                    else ""
                )
                raise StaleEditError(f"{outline.label}: {exc}.{others}") from None


def _context(store: WorkspaceStore) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    return store.read("premises"), store.read("communal_areas")


def _snap_targets(
    store: WorkspaceStore, kind: str, block_id: object, exclude: str | None
) -> list[shapely.Geometry]:
    """What a shape may snap to: a block to other blocks; a communal area, route or door to its own
    block and that block's parts; open space to blocks and other open space. A block edited next to
    its stairwells must not be pulled inward onto them."""
    # a drawn scope follows the blocks' walls (not the parts 0.3 m inside them)
    if kind in ("orders", "premises"):
        sources: dict[str, object] = {"premises": None}
    elif kind == "open_space":
        sources = {"premises": None, "open_space": None}
    else:
        sources = {"premises": block_id, "communal_areas": block_id, "access_routes": block_id}
    targets = []
    for other, only_block in sources.items():
        frame = store.read(other)
        if exclude is not None and other == kind:
            frame = frame[frame["feature_id"] != exclude]
        if only_block is not None and "block_id" in frame:
            frame = frame[frame["block_id"] == only_block]
        targets += list(frame.geometry.values)
    return targets


def prepare_drawing(
    store: WorkspaceStore,
    kind: str,
    geometry: shapely.Geometry,
    attrs: dict[str, Any],
    *,
    tolerance_m: float = 0.5,
    min_width_m: float = 0.3,
    feature_id: str | None = None,
) -> tuple[shapely.Geometry, int, list[Any]]:
    """The drawn shape snapped to its neighbours, and the problems the checks find in it."""
    if kind == "access_routes" and geometry.geom_type in ("LineString", "MultiLineString"):
        width = float(attrs.get("width_m") or 2.0)
        geometry = route_to_polygon(
            shapely.line_merge(geometry) if geometry.geom_type == "MultiLineString" else geometry,
            width,
        )
    targets = _snap_targets(store, kind, attrs.get("block_id"), feature_id)
    snapped, moved = snap_to_existing(geometry, targets, tolerance_m)
    if kind == "orders":
        result = check_in_workspace(store, snapped, order_id=attrs.get("order_id"))
        problems = [
            replace(
                f,
                severity=f.severity if f.severity != "error" else "warning",
                message=f"scope check ({result.verdict}): {f.message}",
                geometry=None,  # as before: the page lists the order's findings
            )
            for f in result.findings
        ]
        return snapped, moved, problems
    blocks, communal = _context(store)
    problems = check_drawing(
        kind,
        snapped,
        attrs,
        blocks=blocks,
        communal=communal,
        min_width_m=min_width_m,
        exclude_feature_id=feature_id,
    )
    return snapped, moved, problems


def save_new(
    store: WorkspaceStore,
    kind: str,
    geometry: shapely.Geometry,
    attrs: dict[str, Any],
    *,
    user: str,
) -> str:
    """Store a drawn feature (already prepared); returns its new stable id."""
    spec = get_kind(kind)
    known = {f.name for f in spec.fields}
    data = {k: [v] for k, v in attrs.items() if k in known}
    frame = gpd.GeoDataFrame(data, geometry=[geometry], crs=BNG)
    return store.add(kind, frame, user=user, note="drawn on the map", audit_each=True)[0]


def _state(text: str | None) -> tuple[dict[str, Any], shapely.Geometry | None]:
    data = json.loads(text or "{}")
    wkt = data.get("wkt")
    return data.get("properties", {}), (shapely.from_wkt(wkt) if wkt else None)


def undoable(store: WorkspaceStore, kind: str | None = None) -> pd.DataFrame:
    """Changes that can still be undone, newest first: feature-level entries not yet undone."""
    h = store.history(kind=kind)
    h = h[h["feature_id"].notna()]
    undone = {int(n[len(UNDO_NOTE) :]) for n in h["note"].dropna() if str(n).startswith(UNDO_NOTE)}
    is_undo = h["note"].fillna("").astype(str).str.startswith(UNDO_NOTE)
    return h[~is_undo & ~h["id"].isin(undone)]


def undo_last(store: WorkspaceStore, kind: str, *, user: str) -> str:
    """Undo the latest change to a feature of this kind; returns what was done."""
    todo = undoable(store, kind)
    if todo.empty:
        raise WorkspaceError(f"nothing to undo in '{kind}'")
    entry = todo.iloc[0]
    note = f"{UNDO_NOTE}{int(entry['id'])}"
    fid = str(entry["feature_id"])
    if entry["action"] == "add":
        store.delete(kind, [fid], user=user, note=note)
        return f"removed the {kind} feature added at {entry['at']}"
    before_attrs, before_geom = _state(entry["before"])
    if entry["action"] == "update":
        spec = get_kind(kind)
        attrs = {k: v for k, v in before_attrs.items() if k in {f.name for f in spec.fields}}
        store.update(kind, fid, user=user, geometry=before_geom, attributes=attrs, note=note)
        return f"put back the {kind} feature as it was before {entry['at']}"
    if entry["action"] == "delete":
        frame = gpd.GeoDataFrame(
            {k: [v] for k, v in before_attrs.items()}, geometry=[before_geom], crs=BNG
        )
        store.add(kind, frame, user=user, note=note, audit_each=True)
        return f"brought back the {kind} feature deleted at {entry['at']}"
    raise WorkspaceError(f"cannot undo a '{entry['action']}'")


def restore_version(store: WorkspaceStore, kind: str, audit_id: int, *, user: str) -> None:
    """Make a feature as it was right after the change ``audit_id`` (same feature id)."""
    h = store.history(kind=kind)
    entry = h[h["id"] == audit_id]
    if entry.empty:
        raise WorkspaceError(f"no change #{audit_id} in '{kind}'")
    row = entry.iloc[0]
    attrs, geom = _state(row["after"])
    if geom is None:
        raise WorkspaceError(
            f"change #{audit_id} deleted the feature: undo it, or restore an earlier version"
        )
    spec = get_kind(kind)
    fields = {k: v for k, v in attrs.items() if k in {f.name for f in spec.fields}}
    store.update(
        kind,
        str(row["feature_id"]),
        user=user,
        geometry=geom,
        attributes=fields,
        note=f"{RESTORE_NOTE}{audit_id}",
    )


def typed_attributes(kind: str, values: dict[str, str]) -> dict[str, Any]:
    """Form text as the layer's typed values, read exactly as an import reads them (numbers in
    range, dates in the formats the filters know); every field's problem is said at once."""
    spec = get_kind(kind)
    typed: dict[str, Any] = {}
    problems: list[str] = []
    for name, text in values.items():
        out, reasons = coerce_column(pd.Series([text]), spec.field(name))
        if reasons[0]:
            problems.append(reasons[0])
        typed[name] = out[0]
    if problems:
        raise WorkspaceError("not saved: " + "; ".join(problems))
    return typed
