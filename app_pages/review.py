"""Review queue: geocoded incidents placed with low confidence, and rows not placed at all."""

import json

import folium
import streamlit as st
from streamlit_folium import st_folium

import shapely

from closuremap.app_pages.common import (
    attribution,
    reporting_errors,
    require_user,
    workspace_or_stop,
)
from closuremap.geo.crs import WGS84, geometries_to_bng
from closuremap.layers.incident_import import workspace_gazetteer
from closuremap.layers.review import candidates, open_items, resolve
from closuremap.layers.webmap import build_map

store, frames = workspace_or_stop()

st.title("Geocoding review")
items = open_items(store)
placed_count = int(items["feature_id"].notna().sum())
st.caption(
    f"{len(items)} row(s) to review: {placed_count} placed with low confidence (lowest score "
    f"first), then {len(items) - placed_count} not placed. Nothing here is lost; each waits until "
    "someone decides."
)
if items.empty:
    st.success("Nothing to review.")
    st.stop()
st.dataframe(
    items[["id", "source_file", "source_row", "location", "reason", "match_score"]].assign(
        placed=items["feature_id"].notna()
    ),
    hide_index=True,
    width="stretch",
)
item_id = st.selectbox(
    "Row",
    items["id"].tolist(),
    key="review_item",
    format_func=lambda i: f"#{i}: {items.set_index('id').loc[i, 'location']}",
)
item = items.set_index("id").loc[item_id]
st.json(json.loads(item["row_json"]))
st.caption(f"Why it is here: {item['reason']}")


def settle(**how: object) -> None:
    """Resolve the chosen row as the user said; a problem is a sentence on the page."""
    with reporting_errors():
        resolve(store, int(item_id), user=str(who), **how)  # type: ignore[arg-type]
        st.cache_data.clear()
        st.rerun()


if not isinstance(item["feature_id"], str):
    st.info("This row was not placed: pick an address or click the map to place it.")
elif st.button("Accept the match", key=f"review_accept_{item_id}") and (who := require_user()):
    settle()

st.subheader("Pick an address")
options = candidates(str(item["location"] or ""), workspace_gazetteer(store))
if len(options):
    pick = st.radio(
        "Candidates",
        options.index.tolist(),
        key=f"review_candidate_{item_id}",
        format_func=lambda i: f"{options.loc[i, 'address']} (score {options.loc[i, 'score']})",
    )
    if st.button("Use this address", key=f"review_use_address_{item_id}") and (
        who := require_user()
    ):
        settle(
            how="address",
            point=shapely.Point(options.loc[pick, "easting"], options.loc[pick, "northing"]),
        )

st.subheader("Or click the map")
context = {
    k: frames[k] for k in ("basemap", "open_space", "premises", "communal_areas", "entrances")
}
marker = folium.FeatureGroup(name="Clicked point")
where = st.session_state.get(f"review_click_{item_id}")
if where:  # the point clicked for this row, shown until it is placed or another point is clicked
    folium.Marker([where["lat"], where["lng"]], tooltip="place the incident here").add_to(marker)
clicked = st_folium(
    build_map(context, attribution=attribution(store, short=True)),
    height=420,
    use_container_width=True,
    returned_objects=["last_clicked"],
    key=f"review_map_{item_id}",
    feature_group_to_add=marker,
)
if clicked and clicked.get("last_clicked") and clicked["last_clicked"] != where:
    st.session_state[f"review_click_{item_id}"] = clicked["last_clicked"]
    st.rerun()
if where:
    point = geometries_to_bng([shapely.Point(where["lng"], where["lat"])], WGS84)[0]
    st.caption(f"Clicked E {point.x:.1f}, N {point.y:.1f}")
    if st.button("Place it here", key=f"review_place_click_{item_id}") and (who := require_user()):
        settle(how="map", point=point)
