"""Map page: every layer of the workspace over no external tiles, with incident filters and
analysis. The map, counts and tables are cached by the workspace's content and the filter
(layers/map_cache.py): a rerun that changes neither is a lookup, another officer's edit or another
date window builds afresh."""

import numpy as np
import streamlit as st
from streamlit_folium import st_folium

from closuremap.app_pages.common import attribution, open_current, reporting_errors, sentence
from closuremap.geo.crs import lonlat_to_bng
from closuremap.geo.gridref import to_gridref
from closuremap.geo.hotspots import HotspotParams
from closuremap.layers.map_cache import (
    IncidentFacts,
    MapRequest,
    incident_facts,
    map_view,
)
from closuremap.layers.webmap import TileSource


def follow_new_incidents(facts: IncidentFacts) -> None:
    """Keep the officer's filter but take in what others added since: a new category, source or
    precision is ticked, and a date window that reached the first or last date reaches the new
    one (keyed widgets keep their old values, which hid newly imported calls)."""
    basis = (facts.first, facts.last, dict(facts.options))
    seen = st.session_state.get("incident_filter_basis")
    st.session_state["incident_filter_basis"] = basis
    if seen is None or seen == basis:
        return
    first, last, options = seen
    for c, opts in facts.options.items():
        if f"incident_{c}" in st.session_state:
            kept, new = set(st.session_state[f"incident_{c}"]), set(opts) - set(options.get(c, ()))
            st.session_state[f"incident_{c}"] = [o for o in opts if o in kept or o in new]
    if "incident_dates" in st.session_state and facts.first and facts.last:
        lo, hi = st.session_state["incident_dates"]
        lo = facts.first if lo == first else min(max(lo, facts.first), facts.last)
        hi = facts.last if hi == last else max(min(hi, facts.last), lo)
        st.session_state["incident_dates"] = (lo, hi)


with reporting_errors(stop=True):  # a missing or busy workspace is one sentence, not a trace
    store = open_current()
    facts = incident_facts(store, store.content_version())
    name, credits = store.get_meta("name"), attribution(store)

st.title(name or "Workspace")
follow_new_incidents(facts)
with st.sidebar:
    st.caption(f"Workspace: `{store.location}` · EPSG:27700")
    st.subheader("Incidents")
    window = None
    if facts.first is not None and facts.last is not None:
        window = st.slider(
            "Dates",
            min_value=facts.first,
            max_value=facts.last,
            value=(facts.first, facts.last),
            key="incident_dates",
        )
    chosen = {
        c: st.multiselect(
            c.capitalize(),
            list(opts),
            default=list(opts),
            key=f"incident_{c}",
        )
        for c, opts in facts.options.items()
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

request = MapRequest(
    start=window[0] if window else None,
    end=window[1] if window else None,
    categories=tuple(chosen["category"]),
    sources=tuple(chosen["source"]),
    precisions=tuple(chosen["precision"]),
    mode=mode,
    show_counts=show_counts,
    hotspots=HotspotParams(cell_m=cell, bandwidth_m=bandwidth) if show_hot else None,
    tiles=TileSource(url, attr or url) if use_tiles and url else None,
)
with reporting_errors(stop=True):
    view = map_view(store, request)
st.caption(f"{view.shown} of {view.total} incidents shown")
if view.hot_error is not None:  # the map is still worth showing without the hotspots
    st.warning(sentence(view.hot_error))
m = view.fresh_map()
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
if view.hot_note:
    st.caption(f"Hot spots: {view.hot_note}")

blocks, areas = view.blocks, view.areas
c1, c2 = st.columns(2)
c1.markdown("**Incidents per block** (in or within 10 m)")
c1.dataframe(blocks, hide_index=True, width="stretch")
c2.markdown("**Incidents per communal area**")
c2.dataframe(areas, hide_index=True, width="stretch")
st.caption(
    " · ".join(
        f"{kind.replace('_', ' ')}: {n}"
        for kind, n in {**facts.counts, "incidents": view.shown}.items()
        if kind != "basemap"
    )
)
st.caption("Data: " + " · ".join(credits))
