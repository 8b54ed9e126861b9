"""Orders page: orders by urgency, the scope builder and its check, the timeline and access terms."""

from datetime import datetime

import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from app_pages.common import workspace_or_stop, attribution, user_name
from geo.errors import ClosuremapError
from geo.permitted_access import CLASSES, PermittedClass, access_violations, default_classes, from_json, to_json, wording
from layers.model import ORDER_STATUSES
from layers.orders import (build_scope, check_breaches, check_in_workspace, order_timeline, orders_by_urgency,
                           parts_json)
from layers.webmap import build_map

store, frames = workspace_or_stop()

st.title("Closure orders")

st.subheader("By urgency")
urgency = orders_by_urgency(store, datetime.now())
st.dataframe(urgency, hide_index=True, width="stretch")

st.subheader("Scope builder")
orders = frames["orders"]
choices = ["(new order)"] + orders["order_id"].astype(str).tolist()
chosen = st.selectbox("Order", choices, key="order_pick")
current = None if chosen == "(new order)" else orders[orders["order_id"].astype(str) == chosen].iloc[0]

premises, communal, routes = frames["premises"], frames["communal_areas"], frames["access_routes"]
block_names = dict(zip(premises["block_id"], premises["name"]))
picked_blocks = st.multiselect("Whole blocks (footprint, flats included)", list(block_names),
                               format_func=lambda b: f"{block_names[b]} ({b})", key="scope_blocks")
near = st.multiselect("Blocks whose communal parts to choose from", list(block_names), default=picked_blocks,
                      format_func=lambda b: f"{block_names[b]} ({b})", key="scope_for_blocks")
label = {r.feature_id: f"{block_names.get(r.block_id, r.block_id)}: {r.name} ({r.area_type}, floors "
                       f"{r.floor_from}-{r.floor_to})" for r in communal.itertuples()}
picked_communal = st.multiselect("Communal areas", communal[communal["block_id"].isin(near)]["feature_id"].tolist(),
                                 format_func=lambda f: label[f], key="scope_communal")
route_label = {r.feature_id: f"{block_names.get(r.block_id, r.block_id)}: {r.name}" for r in routes.itertuples()}
picked_routes = st.multiselect("Access routes", routes[routes["block_id"].isin(near)]["feature_id"].tolist(),
                               format_func=lambda f: route_label[f], key="scope_routes")
tolerance = st.number_input("Tolerance (m²; 0 = the larger of 1 m² and 1% of the scope)", min_value=0.0,
                            value=0.0, key="scope_tolerance")

picks = {"premises": premises[premises["block_id"].isin(picked_blocks)]["feature_id"].tolist(),
         "communal_areas": picked_communal, "access_routes": picked_routes}
if st.button("Check scope", type="primary", key="check_scope"):
    try:
        scope, parts = build_scope(store, picks)
        result = check_in_workspace(store, scope, order_id=chosen if current is not None else None,
                                    tolerance_m2=tolerance or None)
    except ClosuremapError as exc:
        st.error(str(exc))
    else:
        st.session_state["scope_result"] = (scope, parts, result)
elif current is not None and "scope_result" not in st.session_state:
    try:
        st.session_state["scope_result"] = (current.geometry, [], check_in_workspace(store, current.geometry,
                                                                                     order_id=chosen))
    except ClosuremapError as exc:
        st.error(str(exc))

if "scope_result" in st.session_state:
    scope, parts, result = st.session_state["scope_result"]
    data = result.as_dict()
    (st.success if result.verdict == "premises" else st.error if result.verdict == "open_space" else st.warning)(
        f"Verdict: {result.verdict}")
    c1, c2, c3 = st.columns(3)
    c1.metric("On premises", f"{data['premises_area_m2']:.1f} m²", f"{data['premises_fraction']:.1%}", delta_color="off")
    c2.metric("On open space", f"{data['open_space_area_m2']:.1f} m²", f"{data['open_space_fraction']:.1%}",
              delta_color="off")
    c3.metric("Other", f"{data['other_area_m2']:.1f} m²", f"{data['other_fraction']:.1%}", delta_color="off")
    if data["findings"]:
        st.dataframe(pd.DataFrame(data["findings"]).drop(columns=["geometry_wkt"], errors="ignore"),
                     hide_index=True, width="stretch")
    if "incidents_total" in data:
        st.caption(f"Incidents: {data['incidents_inside']} inside ({data['rate_inside_per_ha']} per ha) vs "
                   f"{data['incidents_ring']} in the {data['ring_m']:.0f} m ring ({data['rate_ring_per_ha']} per ha)")
    preview = {k: frames[k] for k in ("basemap", "open_space", "premises", "access_routes", "communal_areas",
                                      "entrances")}
    preview["orders"] = gpd.GeoDataFrame({"order_id": ["(scope)"], "name": ["Proposed scope"]}, geometry=[scope],
                                         crs=orders.crs)
    st_folium(build_map(preview, attribution=attribution(store, short=True)), height=420,
              use_container_width=True, returned_objects=[], key="scope_map")

    st.subheader("Save")
    with st.form("save_order"):
        order_id = st.text_input("Order reference", value="" if current is None else str(current["order_id"]),
                                 key="order_ref")
        name = st.text_input("Name", value="" if current is None else str(current["name"]), key="order_name")
        status = st.selectbox("Status", ORDER_STATUSES,
                              index=0 if current is None else ORDER_STATUSES.index(current["status"] or "draft"))
        authorised = st.text_input("Authorised by (rank or authority)",
                                   value="" if current is None else str(current["authorised_by"] or ""))
        def value(field: str) -> str:
            v = None if current is None else current[field]
            return "" if v is None or pd.isna(v) else str(v)

        col1, col2, col3 = st.columns(3)
        dates = {
            "notice_issued_at": col1.text_input("Notice issued (YYYY-MM-DDTHH:MM)", value=value("notice_issued_at")),
            "notice_served_at": col2.text_input("Notice served (YYYY-MM-DDTHH:MM)", value=value("notice_served_at")),
            "hearing_at": col3.text_input("Hearing (YYYY-MM-DDTHH:MM)", value=value("hearing_at")),
            "order_made_on": col1.text_input("Order made (YYYY-MM-DD)", value=value("order_made_on")),
        }
        hours = col2.selectbox("Notice hours", [24, 48], index=1 if value("notice_hours") == "48" else 0)
        months = col3.number_input("Order months", min_value=1, max_value=6, value=int(value("order_months") or 3))
        existing = from_json(None if current is None else current["permitted_access"])
        codes = st.multiselect("Permitted access", list(CLASSES), format_func=lambda c: CLASSES[c],
                               default=[c.code for c in existing if c.code in CLASSES] or
                               [c.code for c in default_classes()], key="permitted_classes")
        if st.form_submit_button("Save order", key="save_order_button"):
            classes = [PermittedClass(c) for c in codes]
            stage = "notice" if status in ("draft", "notice_issued", "notice_served") else "order"
            refused = access_violations(classes, stage=stage)
            if refused:
                for v in refused:
                    st.error(f"{v.section}: {v.message}")
            elif not order_id or not name:
                st.error("give the order a reference and a name")
            else:
                attrs = {"order_id": order_id, "name": name, "status": status, "authorised_by": authorised or None,
                         **{k: (v or None) for k, v in dates.items()}, "notice_hours": hours,
                         "order_months": int(months) if dates["order_made_on"] else None,
                         "permitted_access": to_json(classes), "scope_parts": parts_json(parts) if parts else None,
                         "block_ids": ";".join(sorted({p["block_id"] for p in parts if p.get("block_id")})) or None}
                try:
                    if current is None:
                        frame = gpd.GeoDataFrame({k: [v] for k, v in attrs.items()}, geometry=[scope], crs=orders.crs)
                        store.add("orders", frame, user=user_name(), note="scope builder")
                    else:
                        store.update("orders", current["feature_id"], user=user_name(), geometry=scope,
                                     attributes={k: v for k, v in attrs.items() if k != "order_id"})
                except ClosuremapError as exc:
                    st.error(str(exc))
                else:
                    st.success(f"saved {order_id}; the change is in the audit trail")

if current is not None:
    st.subheader(f"Timeline of {current['order_id']}")
    try:
        t = order_timeline(current)
    except ClosuremapError as exc:
        st.error(str(exc))
        t = None
    if t is None:
        st.caption("No notice issued yet: the timeline starts when notice_issued_at is set.")
    else:
        st.json({k: v for k, v in t.as_dict().items() if v})
    st.subheader(f"Breaches of {current['order_id']}")
    breaches = check_breaches(store, str(current["order_id"]))
    if breaches.empty:
        st.caption("No breaches recorded.")
    else:
        st.dataframe(breaches.drop(columns=["feature_id"]), hide_index=True, width="stretch")
        flagged = int((breaches["flags"] != "").sum())
        (st.warning if flagged else st.success)(f"{flagged} of {len(breaches)} breach(es) flagged: outside the scope "
                                                 "or outside the period the notice or order was in force")
    classes = from_json(current["permitted_access"])
    if classes:
        st.subheader("Access terms")
        st.text(wording(str(current["name"]), classes, stage="order"))
