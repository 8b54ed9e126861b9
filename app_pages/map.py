"""Map page: every layer of the workspace over no external tiles."""

import streamlit as st
from streamlit_folium import st_folium

from app_pages.common import attribution, open_current, read_layers
from geo.errors import ClosuremapError
from layers.webmap import TileSource, build_map

try:
    store = open_current()
    frames = read_layers(store)
except ClosuremapError as exc:
    st.error(str(exc))
    st.stop()

st.title(store.get_meta("name") or "Workspace")
with st.sidebar:
    st.caption(f"Workspace: `{store.location}` · EPSG:27700")
    with st.expander("Online tiles (off by default)"):
        st.caption("Only on a network that allows it. Nothing is fetched unless you switch this on.")
        use_tiles = st.toggle("Use an online tile source", key="tiles_on", value=False)
        url = st.text_input("Tile URL template", key="tiles_url", placeholder="https://…/{z}/{x}/{y}.png")
        attr = st.text_input("Tile attribution", key="tiles_attr")

tiles = TileSource(url, attr or url) if use_tiles and url else None
m = build_map(frames, attribution=attribution(store, short=True), tiles=tiles)
st_folium(m, height=640, use_container_width=True, returned_objects=[], key="workspace_map")

counts = {kind: len(frame) for kind, frame in frames.items()}
st.caption(" · ".join(f"{kind.replace('_', ' ')}: {n}" for kind, n in counts.items() if kind != "basemap"))
st.caption("Data: " + " · ".join(attribution(store)))
