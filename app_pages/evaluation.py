"""Evaluation: did the closure work, and did the problem move next door? Before/after counts in
target, buffer and control, the WDQ and TNE (closure-powers.md §4), a chart and the downloads.
Widgets and state only; the rules are in geo.evaluation, the reading in layers.evaluation."""

import tempfile
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

from closuremap.app_pages.common import open_current, reporting_errors, workspace_version
from closuremap.geo.evaluation import DEFAULT_BUFFER_M, DEFAULT_MONTHS, EvaluationResult
from closuremap.layers.access import open_for
from closuremap.layers.evaluation import evaluate_orders, order_dates
from closuremap.reports.evaluation import chart_png, results_csv

_CONTROLS = {
    "The ward holding the target": "wards",
    "The LSOA holding the target": "lsoas",
    "The borough holding the target": "boroughs",
    "A polygon file I upload": "file",
}


@st.cache_data(show_spinner="Counting incidents…", max_entries=8)
def _evaluate(
    location: str,
    version: str,
    role: str,
    operation: str | None,
    ids: tuple[str, ...],
    target: str,
    buffer_m: float,
    control_kind: str,
    control_file: bytes | None,
    control_suffix: str,
    start: date,
    before: int,
    after: int,
    year_earlier: bool,
) -> tuple[EvaluationResult, bytes, bytes]:
    """The evaluation with its PNG and CSV, cached per workspace version and choice of inputs."""
    control = None
    if control_file is not None:
        with tempfile.NamedTemporaryFile(suffix=control_suffix, delete=False) as f:
            f.write(control_file)
        control = Path(f.name)
    try:
        result = evaluate_orders(
            open_for(location, role=role, user=None, operation=operation),
            list(ids) or None,
            target=target,
            buffer_m=buffer_m,
            control=control,
            control_boundary=control_kind if control is None else "wards",
            start=start,
            before_months=before,
            after_months=after,
            year_earlier=year_earlier,
        )
    finally:
        if control is not None:
            control.unlink(missing_ok=True)
    return result, chart_png(result), results_csv(result)


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


with reporting_errors(stop=True):
    store = open_current()
    orders = store.read("orders")

st.title("Evaluation: before and after, with displacement")
if orders.empty:
    st.info("No orders yet: save an order's scope on the Closure orders page first.")
    st.stop()
ids_all = list(orders["order_id"].astype(str))
chosen = st.multiselect(
    "Orders to evaluate (none chosen: the whole operation)",
    ids_all,
    default=ids_all[:1],
    key="evaluation_orders",
)
sel = "-".join(chosen) or "all"
rows = orders[orders["order_id"].astype(str).isin(chosen)] if chosen else orders
starts = [s for s in (order_dates(r)[0] for _, r in rows.iterrows()) if s]
months = [
    int(m) for m in rows.get("order_months", pd.Series(dtype=object)).dropna() if str(m).strip()
]

c1, c2, c3 = st.columns(3)
target = c1.radio(
    "Target",
    ["scope", "blocks"],
    key=f"ev-target-{sel}",
    horizontal=True,
    format_func=lambda t: "the scope" if t == "scope" else "scope and whole blocks",
)
buffer_m = c2.number_input(
    "Buffer ring (m)", 10.0, 2000.0, DEFAULT_BUFFER_M, step=50.0, key=f"ev-buffer-{sel}"
)
control_label = c3.selectbox(
    "Control area (minus target and buffer)", list(_CONTROLS), key=f"ev-control-{sel}"
)
upload = None
if _CONTROLS[control_label] == "file":
    upload = st.file_uploader(
        "Control polygon (GeoJSON, GeoPackage, KML, zipped shapefile)", key=f"ev-file-{sel}"
    )
d1, d2, d3, d4 = st.columns(4)
start = d1.date_input(
    "After window starts",
    min(starts) if starts else date.today(),
    key=f"ev-start-{sel}",
    format="DD/MM/YYYY",
)
after = d2.number_input(
    "After (months)", 1, 24, max(months) if months else DEFAULT_MONTHS, key=f"ev-after-{sel}"
)
before = d3.number_input("Before (months)", 1, 24, int(after), key=f"ev-before-{sel}")
year_earlier = d4.checkbox("Before = same months a year earlier", key=f"ev-year-{sel}")
if _CONTROLS[control_label] == "file" and upload is None:
    st.info("Upload the control polygon to evaluate.")
    st.stop()

with reporting_errors(stop=True):
    result, png, csv_bytes = _evaluate(
        store.location,
        workspace_version(store),
        store.role,
        store.operation,
        tuple(chosen),
        target,
        float(buffer_m),
        _CONTROLS[control_label],
        upload.getvalue() if upload else None,
        Path(upload.name).suffix if upload else "",
        start,
        int(before),
        int(after),
        bool(year_earlier),
    )

st.caption(
    f"{result.title}. Before {result.windows.before.words()}; after {result.windows.after.words()} "
    f"({result.windows.basis}). Control: {result.control_name}."
)
m1, m2, m3, m4 = st.columns(4)
target_pct = result.change_pct["target"]
m1.metric("Target change", "n/a" if target_pct is None else f"{target_pct:+.0f}%")
m2.metric("WDQ", _fmt(result.wdq, "+.3f"))
m3.metric("TNE", _fmt(result.tne, "+.1f"))
m4.metric(
    "Odds ratio (95% CI)",
    _fmt(result.odds.value, ".2f"),
    help=None if result.odds.low is None else f"{result.odds.low:.2f} to {result.odds.high:.2f}",
)
reading = result.reading
st.write(reading["summary"])
st.write(reading["significance"])
for warning in result.warnings:
    st.warning(warning)
st.image(
    png,
    caption="Incidents per month in target, buffer and control; notice, order and extension dates "
    "marked",
)

st.subheader("Results by category")
table = result.per_category.drop(columns=["category"]).rename(columns={"label": "category"})
st.dataframe(table.round(3), hide_index=True, width="stretch")
st.download_button(
    "Results (CSV)",
    csv_bytes,
    file_name=f"evaluation-{sel}.csv",
    mime="text/csv",
    on_click="ignore",
    key=f"ev-csv-{sel}",
)
st.download_button(
    "Chart (PNG)",
    png,
    file_name=f"evaluation-{sel}.png",
    mime="image/png",
    on_click="ignore",
    key=f"ev-png-{sel}",
)
with st.expander("Method"):
    st.markdown(
        "SM = Ra/Ca − Rb/Cb (must be negative); BD = Da/Ca − Db/Cb; **WDQ = BD/SM**; "
        "TNE = [Rb·(Ca/Cb) − Ra] + [Db·(Ca/Cb) − Da] — Bowers & Johnson (2003), "
        "POP Center Tool Guide 10."
    )
    st.write(result.odds.as_dict()["method"])
    for note in result.notes:
        st.caption(note)
