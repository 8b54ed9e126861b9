"""Map page: every layer of the workspace over no external tiles, with incident filters and
analysis."""

import numpy as np
import streamlit as st
from streamlit_folium import st_folium

from closuremap.app_pages.common import attribution, reporting_errors, workspace_or_stop
from closuremap.geo.crs import lonlat_to_bng
from closuremap.geo.gridref import to_gridref
from closuremap.geo.hotspots import HotspotParams
from closuremap.geo.incidents import filter_incidents, incident_dates
from closuremap.layers.analysis import count_overlays, count_tables, hotspot_overlays
from closuremap.layers.webmap import TileSource, build_map

store, frames = workspace_or_stop()

st.title(store.get_meta("name") or "Workspace")
incidents = frames["incidents"]
with st.sidebar:
    st.caption(f"Workspace: `{store.location}` · EPSG:27700")
    st.subheader("Incidents")
    dates = incident_dates(incidents).dropna()
    window = None
    if len(dates):
        lo, hi = dates.min().date(), dates.max().date()
        window = st.slider(
            "Dates", min_value=lo, max_value=hi, value=(lo, hi), key="incident_dates"
        )
    options = {
        c: sorted(incidents[c].fillna("(none)").unique())
        for c in ("category", "source", "precision")
    }
    chosen = {
        c: st.multiselect(c.capitalize(), opts, default=opts, key=f"incident_{c}")
        for c, opts in options.items()
    }
    mode = st.radio(
        "Show incidents as",
        ["auto", "points", "clusters", "heat"],
        horizontal=True,
        key="incident_mode",
    )
    show_counts = st.checkbox("Shade blocks and communal areas by count", key="show_counts")
    show_hot = st.checkbox("Hot spots (kernel density, Gi*)", key="show_hotspots")
    cell = st.number_input(
        "Cell size (m)", 5.0, 200.0, 25.0, 5.0, key="hot_cell", disabled=not show_hot
    )
    bandwidth = st.number_input(
        "Bandwidth (m)", 10.0, 500.0, 75.0, 5.0, key="hot_bandwidth", disabled=not show_hot
    )
    with st.expander("Online tiles (off by default)"):
        st.caption(
            "Only on a network that allows it. Nothing is fetched unless you switch this on."
        )
        use_tiles = st.toggle("Use an online tile source", key="tiles_on", value=False)
        url = st.text_input(
            "Tile URL template", key="tiles_url", placeholder="https://…/{z}/{x}/{y}.png"
        )
        attr = st.text_input("Tile attribution", key="tiles_attr")

shown = filter_incidents(
    incidents,
    start=window[0] if window else None,
    end=window[1] if window else None,
    categories=chosen["category"],
    sources=chosen["source"],
    precisions=chosen["precision"],
)
frames["incidents"] = shown
st.caption(f"{len(shown)} of {len(incidents)} incidents shown")
overlays = (
    count_overlays(frames["premises"], frames["communal_areas"], shown) if show_counts else []
)
hot_note = ""
if show_hot:
    with reporting_errors(warn=True):  # the map is still worth showing without the hotspots
        more, hot_note = hotspot_overlays(shown, HotspotParams(cell_m=cell, bandwidth_m=bandwidth))
        overlays += more
tiles = TileSource(url, attr or url) if use_tiles and url else None
m = build_map(
    frames,
    attribution=attribution(store, short=True),
    tiles=tiles,
    incident_mode=mode,
    overlays=overlays,
)
clicked = st_folium(
    m, height=640, use_container_width=True, returned_objects=["last_clicked"], key="workspace_map"
)
where = (clicked or {}).get("last_clicked")
# the grid reference of a clicked point, by OSTN15 (the measure tool's own readout is in degrees)
if where:
    e, n = lonlat_to_bng([where["lng"]], [where["lat"]])
    if np.isfinite(e[0]):
        st.caption(
            f"Clicked point: {to_gridref(e[0], n[0])} · E {e[0]:.1f} N {n[0]:.1f} (BNG, OSTN15)"
        )
if hot_note:
    st.caption(f"Hot spots: {hot_note}")

blocks, areas = count_tables(frames["premises"], frames["communal_areas"], shown)
c1, c2 = st.columns(2)
c1.markdown("**Incidents per block** (in or within 10 m)")
c1.dataframe(blocks, hide_index=True, width="stretch")
c2.markdown("**Incidents per communal area**")
c2.dataframe(areas, hide_index=True, width="stretch")
counts = {kind: len(frame) for kind, frame in frames.items()}
st.caption(
    " · ".join(f"{kind.replace('_', ' ')}: {n}" for kind, n in counts.items() if kind != "basemap")
)
st.caption("Data: " + " · ".join(attribution(store)))
