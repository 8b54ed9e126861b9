"""What the court exhibit shows, and how it names the blocks on its sheets.

The exhibit's input (:class:`ExhibitInput`) and options (:class:`ExhibitOptions`), shared by the
map sheets (:mod:`.exhibit_map`), the table sheets (:mod:`.exhibit_tables`) and the renderer
(:mod:`.exhibit`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd

import geopandas as gpd
from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True)
class AuditPointer:
    """Where the exhibit points into the workspace's audit chain: the last entry that saved the
    order (its scope and fields) and the chain's last entry when the exhibit was made. A copy of
    the exhibit kept outside the workspace anchors the chain up to that point (`closuremap audit
    --verify`)."""

    entry_id: int
    entry_hash: str
    head_id: int
    head_hash: str


@dataclass
class ExhibitInput:
    """What the exhibit shows, all in BNG."""

    title: str
    scope: BaseGeometry
    premises: gpd.GeoDataFrame
    communal_areas: gpd.GeoDataFrame | None = None
    access_routes: gpd.GeoDataFrame | None = None
    entrances: gpd.GeoDataFrame | None = None
    open_space: gpd.GeoDataFrame | None = None
    basemap: gpd.GeoDataFrame | None = None
    addresses: gpd.GeoDataFrame | None = None
    incidents: gpd.GeoDataFrame | None = None
    attribution: Sequence[str] = ()
    order_id: str | None = None
    audit: AuditPointer | None = None  # None: made from files, not from a workspace


@dataclass
class ExhibitOptions:
    """How the exhibit is made: its reference, who prepared it and when, paper and scale."""

    exhibit_ref: str
    prepared_by: str
    prepared_on: date
    version: int = 1
    paper: str = "A4"
    orientation: str = "landscape"
    scale: int | None = None  # None: fit, rounded to a standard scale
    atlas: bool = False
    evidence_from: date | None = None
    evidence_to: date | None = None


def blocks_touched(data: ExhibitInput) -> gpd.GeoDataFrame:
    """The blocks the order touches: under its scope, or owning a communal area on it."""
    p = data.premises
    touched = p[p.intersection(data.scope).area > 0.5]
    comm = data.communal_areas
    if comm is not None and len(comm) and "block_id" in p.columns and "block_id" in comm.columns:
        ids = set(comm[comm.intersection(data.scope).area > 0.1]["block_id"])
        touched = p[p.index.isin(touched.index) | p["block_id"].isin(ids)]
    return touched


_OSM_ID = re.compile(
    r"^\s*(?:(?:way|node|relation|[wnr])\s*/?\s*)?-?\d+(?:\.0)?\s*$", re.IGNORECASE
)


def shown_text(value: object) -> str | None:
    """A text value, or None for blanks, NaN and None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text if text and text.lower() not in ("nan", "none", "<na>") else None


def block_labels(premises: gpd.GeoDataFrame) -> pd.Series:
    """What each block is called on the sheets: its name, else its address, else "Block N" (N its
    place in the premises list). Never an OSM id ("way/123") or a bare number, which mean nothing
    to a magistrate."""
    out = {}
    for n, (idx, row) in enumerate(premises.iterrows(), start=1):
        name = shown_text(row.get("name"))
        if name is not None and (
            _OSM_ID.match(name) or name == shown_text(row.get("block_id")) and _OSM_ID.match(name)
        ):
            name = None
        street = " ".join(
            t
            for t in (shown_text(row.get("addr_housenumber")), shown_text(row.get("addr_street")))
            if t
        )
        address = (
            shown_text(row.get("address"))
            or shown_text(row.get("addr_housename"))
            or (street or None)
        )
        out[idx] = name or address or f"Block {n}"
    return pd.Series(out, index=premises.index, dtype=object)
