"""Ward-member briefing, read-only: counts per block and month with small counts suppressed, a map
of blocks and proposed orders; no incident points, references, descriptions or addresses."""

import streamlit as st
from streamlit_folium import st_folium

import geopandas as gpd

from closuremap.app_pages.common import (
    attribution,
    open_current,
    reporting_errors,
    workspace_version,
)
from closuremap.geo.aggregate import DEFAULT_MINIMUM
from closuremap.layers.access import open_for
from closuremap.layers.webmap import build_map
from closuremap.reports.briefing import LEGAL_BASIS, briefing_tables
from closuremap.reports.inputs import briefing_input


@st.cache_data(show_spinner="Counting incidents and results…", max_entries=4)
def _briefing(location: str, version: str, role: str, operation: str | None):  # noqa: ANN202
    """The briefing's input (a BriefingInput), worked out once per version of the workspace and
    role (the before/after of every order made is the slow part), not on every change of the
    suppression threshold; read through the role's guard, so a ward member's holds no incident
    text and no exact point."""
    return briefing_input(open_for(location, role=role, user=None, operation=operation))


with reporting_errors(stop=True):
    store = open_current()
    data = _briefing(store.location, workspace_version(store), store.role, store.operation)

minimum = st.sidebar.number_input(
    "Suppress counts below",
    min_value=2,
    max_value=20,
    value=DEFAULT_MINIMUM,
    key="briefing_minimum",
)
tables = briefing_tables(data, int(minimum))
st.title(f"Ward member briefing: {data.title}")
st.caption(
    f"No personal data. Counts of 1-{int(minimum) - 1} are shown as <{int(minimum)}; where one "
    "could be worked out by subtraction another count is hidden too. "
    f"Counts are of {data.window_words}."
)
st.subheader("What is proposed")
st.dataframe(tables.proposals, hide_index=True, width="stretch")
st.subheader("Where")
blocks = data.premises.merge(tables.per_block[["block_id", "incidents", "band"]], on="block_id")
blocks = gpd.GeoDataFrame(
    blocks[["block_id", "name", "geometry"]].assign(notes="incidents: " + blocks["incidents"]),
    geometry="geometry",
    crs=data.premises.crs,
)
st_folium(
    build_map(
        {
            "basemap": data.basemap,
            "open_space": data.open_space,
            "premises": blocks,
            "orders": data.orders[["order_id", "name", "status", "geometry"]],
        },
        attribution=attribution(store, short=True),
    ),
    height=420,
    use_container_width=True,
    returned_objects=[],
    key="briefing_map",
)
st.subheader("Why: incidents in or at each block")
st.caption(f"Incidents in the area: {tables.total}. {tables.note}")
st.dataframe(tables.per_block[["name", "block_id", "incidents"]], hide_index=True, width="stretch")
st.subheader("Incidents per month, whole area")
st.dataframe(
    tables.per_month[["month", "shown"]].rename(columns={"shown": "incidents"}),
    hide_index=True,
    width="stretch",
)
if data.results:
    st.subheader("Results so far: before and after each order")
    st.caption(
        "Target: the order's scope. Buffer: the ring around it (did the problem move next door?). "
        "Control: the rest of the ward, for the trend."
    )
    for name, result in data.results:
        rows, words = result.briefing_rows(int(minimum))
        st.markdown(
            f"**{name}**: {result.windows.after.words()} against {result.windows.before.words()}"
        )
        st.dataframe(rows, hide_index=True, width="stretch")
        st.caption(words)
st.subheader("Legal basis in plain words")
st.write(LEGAL_BASIS)
st.caption("Partners: " + ", ".join(data.partners))
