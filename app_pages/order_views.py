"""What the Closure orders page shows of an order without editing it: the verdict of a scope check
with its map, and the timeline of deadlines with the order's life on a chart.

Kept apart from orders.py so that page reads as the order's form; these take plain values and
draw them, and hold no state of their own.
"""

from __future__ import annotations

from datetime import datetime

import altair as alt
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

import geopandas as gpd
import shapely

from closuremap.geo.scope import ScopeCheck
from closuremap.geo.timeline import Timeline, deadline_rows
from closuremap.layers.orders import URGENT_DAYS, order_life
from closuremap.layers.webmap import build_map

PREVIEW_LAYERS = (
    "basemap",
    "open_space",
    "premises",
    "access_routes",
    "communal_areas",
    "entrances",
)


def show_check(result: ScopeCheck, built: bool) -> None:
    """The verdict and the areas of a scope check (``built``: a scope just built, not the saved
    one)."""
    data = result.as_dict()
    show = (
        st.success
        if result.verdict == "premises"
        else st.error
        if result.verdict == "open_space"
        else st.warning
    )
    show(f"Verdict: {result.verdict}" + ("" if built else " (the saved scope)"))
    columns = st.columns(3)
    for column, title, key in zip(
        columns,
        ("On premises", "On open space", "Other"),
        ("premises", "open_space", "other"),
        strict=True,
    ):
        column.metric(
            title,
            f"{data[f'{key}_area_m2']:.1f} m²",
            f"{data[f'{key}_fraction']:.1%}",
            delta_color="off",
        )
    if data["findings"]:
        st.dataframe(
            pd.DataFrame(data["findings"]).drop(columns=["geometry_wkt"], errors="ignore"),
            hide_index=True,
            width="stretch",
        )
    if "incidents_total" in data:
        st.caption(
            f"Incidents: {data['incidents_inside']} inside ({data['rate_inside_per_ha']} per ha) "
            f"vs {data['incidents_ring']} in the {data['ring_m']:.0f} m ring "
            f"({data['rate_ring_per_ha']} per ha)"
        )


def show_scope_map(
    frames: dict[str, gpd.GeoDataFrame],
    scope: shapely.Geometry,
    *,
    order_id: str,
    built: bool,
    attribution: list[str],
    key: str,
) -> None:
    """The scope over the estate, framed on the scope with 15 m around it."""
    preview = {k: frames[k] for k in PREVIEW_LAYERS}
    preview["orders"] = gpd.GeoDataFrame(
        {
            "order_id": [order_id],
            "name": ["Scope being checked" if built else "Saved scope"],
        },
        geometry=[scope],
        crs=frames["orders"].crs,
    )
    minx, miny, maxx, maxy = scope.bounds
    st_folium(
        build_map(
            preview,
            attribution=attribution,
            focus=(minx - 15, miny - 15, maxx + 15, maxy + 15),
        ),
        height=420,
        use_container_width=True,
        returned_objects=[],
        key=key,
    )


def show_timeline(row: pd.Series, timeline: Timeline, now: datetime) -> None:
    """The order's deadlines (those due within two weeks shaded), its life on a chart with today
    marked while it runs, and the rules the saved dates break."""
    rows = pd.DataFrame(deadline_rows(timeline, now))
    st.dataframe(
        rows.style.map(
            lambda d: (
                "background-color: #fde2e1"
                if 0 <= d <= URGENT_DAYS
                else ("color: #888" if d < 0 else "")
            ),
            subset=["days_left"],
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "due": st.column_config.DatetimeColumn("due", format="ddd D MMM YYYY HH:mm"),
            "days_left": st.column_config.NumberColumn("days left", format="%.1f"),
        },
    )
    life = order_life(row, timeline)
    chart = (
        alt.Chart(life)
        .mark_point(filled=True, size=80)
        .encode(
            x=alt.X("when:T", title=None),
            y=alt.Y("event:N", sort=None, title=None),
            color=alt.Color("kind:N", title=None),
            tooltip=["event", "when"],
        )
    )
    today_rule = (
        alt.Chart(pd.DataFrame({"when": [pd.Timestamp(now)]}))
        .mark_rule(color="red")
        .encode(x="when:T")
    )
    during = len(life) and life["when"].min() <= pd.Timestamp(now) <= life["when"].max()
    st.altair_chart(chart + today_rule if during else chart, width="stretch")
    for v in timeline.violations:
        st.error(f"{v.section} ({v.rule}): {v.message}")
    for n in timeline.notes:
        st.caption(n)
