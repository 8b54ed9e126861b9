"""Review queue: geocoded incidents placed with low confidence, and rows not placed at all."""

import json

import shapely
import streamlit as st
from streamlit_folium import st_folium

from app_pages.common import attribution, require_user, workspace_or_stop
from geo.crs import WGS84, geometries_to_bng
from layers.importer import workspace_gazetteer
from layers.review import candidates, open_items, resolve
from layers.webmap import build_map

store, frames = workspace_or_stop()

st.title("Geocoding review")
items = open_items(store)
st.caption(f"{len(items)} row(s) to review: low-confidence matches first. Nothing here is lost; each waits until "
           "someone decides.")
if items.empty:
    st.success("Nothing to review.")
    st.stop()
st.dataframe(items[["id", "source_file", "source_row", "location", "reason", "match_score"]], hide_index=True,
             width="stretch")
item_id = st.selectbox("Row", items["id"].tolist(), key="review_item",
                       format_func=lambda i: f"#{i}: {items.set_index('id').loc[i, 'location']}")
item = items.set_index("id").loc[item_id]
st.json(json.loads(item["row_json"]))
st.caption(f"Why it is here: {item['reason']}")

if item["feature_id"] and st.button("Accept the match", key="review_accept") and (who := require_user()):
    resolve(store, int(item_id), user=who)
    st.cache_data.clear()
    st.rerun()

st.subheader("Pick an address")
options = candidates(str(item["location"] or ""), workspace_gazetteer(store))
if len(options):
    pick = st.radio("Candidates", options.index.tolist(), key=f"review_candidate_{item_id}",
                    format_func=lambda i: f"{options.loc[i, 'address']} (score {options.loc[i, 'score']})")
    if st.button("Use this address", key="review_use_address") and (who := require_user()):
        resolve(store, int(item_id), user=who, how="address",
                point=shapely.Point(options.loc[pick, "easting"], options.loc[pick, "northing"]))
        st.cache_data.clear()
        st.rerun()

st.subheader("Or click the map")
context = {k: frames[k] for k in ("basemap", "open_space", "premises", "communal_areas", "entrances")}
clicked = st_folium(build_map(context, attribution=attribution(store, short=True)), height=420,
                    use_container_width=True, returned_objects=["last_clicked"], key=f"review_map_{item_id}")
where = clicked.get("last_clicked") if clicked else None
if where:
    point = geometries_to_bng([shapely.Point(where["lng"], where["lat"])], WGS84)[0]
    st.caption(f"Clicked E {point.x:.1f}, N {point.y:.1f}")
    if st.button("Place it here", key="review_place_click") and (who := require_user()):
        resolve(store, int(item_id), user=who, how="map", point=point)
        st.cache_data.clear()
        st.rerun()
