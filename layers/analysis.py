"""Analysis layers for the map: incident counts per block and communal area, hot spots.

The numbers come from geo/ (counts, kernel density, Gi*); this module turns them into overlays.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import geopandas as gpd

from closuremap.geo.aggregate import counts_by_block
from closuremap.geo.hotspots import HotspotParams, hotspots
from closuremap.geo.incidents import counts_in

from .incident_map import COUNT_FILL
from .webmap import HOTSPOT_FILL, Overlay


def _band_colour(count: int, top: int) -> str:
    if count <= 0:
        return "#ffffff"
    edges = np.linspace(0, max(top, 1), len(COUNT_FILL) + 1)[1:]
    return COUNT_FILL[int(np.searchsorted(edges, count))] if count < edges[-1] else COUNT_FILL[-1]


def count_tables(
    premises: gpd.GeoDataFrame, communal: gpd.GeoDataFrame, incidents: gpd.GeoDataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Incidents per block (in or within 10 m, nearest block) and per communal area (inside)."""
    blocks = counts_by_block(incidents, premises)
    areas = communal[["block_id", "name", "area_type", "floor_from", "floor_to"]].copy()
    areas["incidents"] = counts_in(communal, incidents).to_numpy() if len(communal) else []
    return blocks, areas.sort_values("incidents", ascending=False).reset_index(drop=True)


def count_overlays(
    premises: gpd.GeoDataFrame, communal: gpd.GeoDataFrame, incidents: gpd.GeoDataFrame
) -> list[Overlay]:
    blocks, _ = count_tables(premises, communal, incidents)
    shaded = premises[["block_id", "name", "geometry"]].merge(
        blocks[["block_id", "incidents"]], on="block_id"
    )
    top = int(shaded["incidents"].max()) if len(shaded) else 0
    areas = communal[["block_id", "name", "area_type", "geometry"]].copy()
    areas["incidents"] = counts_in(communal, incidents).to_numpy() if len(communal) else []
    top_a = int(areas["incidents"].max()) if len(areas) else 0
    return [
        Overlay(
            "Incidents per block",
            gpd.GeoDataFrame(shaded, geometry="geometry", crs=premises.crs),
            lambda r: _band_colour(int(r["incidents"]), top),
            ("name", "block_id", "incidents"),
            legend=_band_legend(top),
        ),
        Overlay(
            "Incidents per communal area",
            gpd.GeoDataFrame(areas, geometry="geometry", crs=communal.crs),
            lambda r: _band_colour(int(r["incidents"]), top_a),
            ("name", "block_id", "area_type", "incidents"),
            legend=_band_legend(top_a),
        ),
    ]


def _band_legend(top: int) -> tuple[tuple[str, str], ...]:
    """The count bands the shading uses, as legend rows."""
    edges = np.linspace(0, max(top, 1), len(COUNT_FILL) + 1)
    rows = [("none", "#ffffff")]
    for i, colour in enumerate(COUNT_FILL):
        lo, hi = int(np.floor(edges[i])) + 1, int(np.ceil(edges[i + 1]))
        rows.append((f"{lo}–{hi}" if hi > lo else f"{hi}", colour))
    return tuple(rows)


def hotspot_overlays(
    incidents: gpd.GeoDataFrame, params: HotspotParams
) -> tuple[list[Overlay], str]:
    cells = hotspots(incidents, params)
    hot = cells[cells["hotspot"].str.startswith("hot")].copy()
    dense = cells[cells["density_per_ha"] > 0].copy()
    dense["density_per_ha"] = dense["density_per_ha"].round(1)
    hot["z"] = hot["z"].round(2)
    top = float(dense["density_per_ha"].max()) if len(dense) else 1.0
    ramp = ("#ffffcc", "#c2e699", "#78c679", "#31a354", "#006837")

    def density_colour(r: dict) -> str:
        return ramp[min(int(r["density_per_ha"] / top * len(ramp)), len(ramp) - 1)]

    return [
        Overlay(
            "Kernel density (incidents per ha)",
            dense,
            density_colour,
            ("density_per_ha", "count"),
            show=False,
            legend=tuple(
                (f"up to {top * (i + 1) / len(ramp):.0f} per ha", c) for i, c in enumerate(ramp)
            ),
        ),
        Overlay(
            "Gi* hot spots",
            hot,
            lambda r: HOTSPOT_FILL.get(r["hotspot"], "#fddbc7"),
            ("hotspot", "z", "p", "count"),
            legend=tuple(HOTSPOT_FILL.items()),
        ),
    ], str(cells.attrs.get("params", params.describe()))
