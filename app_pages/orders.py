"""Orders page: orders by urgency, the chosen order's scope, record, timeline, breaches and history.

Every widget that edits an order is keyed by that order's id, and every check result is kept under
the id it was computed for, so choosing another order shows that order's saved values, never the
last one's (style.md, habit 13). A save writes only the fields the user changed.
"""

import json
from datetime import date, datetime, time

import pandas as pd
import streamlit as st

from closuremap.app_pages.common import (
    attribution,
    reporting_errors,
    require_user,
    role_may,
    workspace_or_stop,
)
from closuremap.app_pages.order_views import show_check, show_scope_map, show_timeline
from closuremap.geo.clock import LONDON
from closuremap.geo.dates import parse_datetime
from closuremap.geo.errors import ClosuremapError, StaleEditError
from closuremap.geo.permitted_access import (
    CLASSES,
    PermittedClass,
    access_violations,
    default_classes,
    from_json,
    to_json,
    wording,
)
from closuremap.geo.timeline import AUTHORITY_CHOICES
from closuremap.layers.breaches import check_breaches
from closuremap.layers.editing import load_for_editing
from closuremap.layers.model import ORDER_STATUSES
from closuremap.layers.orders import (
    build_scope,
    changed_fields,
    check_in_workspace,
    evidence_window,
    order_history,
    order_timeline,
    orders_by_urgency,
    save_order,
)
from closuremap.reports.case import ORDER_GROUNDS

store, frames = workspace_or_stop()
now = datetime.now(LONDON).replace(tzinfo=None)
checks = st.session_state.setdefault(
    "scope_checks", {}
)  # {order key: (scope, parts, result, built)}

st.title("Closure orders")
if "order_flash" in st.session_state:
    st.success(st.session_state.pop("order_flash"))

st.subheader("By urgency")
st.dataframe(orders_by_urgency(store, now), hide_index=True, width="stretch")

orders = frames["orders"]
choices = ["(new order)"] + orders["order_id"].astype(str).tolist()
if st.session_state.get("order_pick_next") in choices:  # a just-saved order is the one shown next
    st.session_state["order_pick"] = st.session_state.pop("order_pick_next")
chosen = st.selectbox("Order", choices, key="order_pick")
current = (
    None if chosen == "(new order)" else orders[orders["order_id"].astype(str) == chosen].iloc[0]
)
okey = (
    "new" if current is None else str(current["feature_id"])
)  # every widget below is keyed by this
# the version the user's edits start from: a save on top of someone else's later change is refused
if f"order_name_{okey}" not in st.session_state or f"order_version_{okey}" not in st.session_state:
    # the form is (re)built: from the saved values and the version they are, read together (the
    # layer's frame may be older than the version: its values would be saved over a change unseen)
    checks.pop(okey, None)  # the order's saved scope, not an old check
    if current is None:
        st.session_state[f"order_version_{okey}"] = None
    else:
        for key in [k for k in st.session_state if str(k).endswith(f"_{okey}")]:
            del st.session_state[key]  # the widgets show the values read here
        if st.session_state.get("order_stale") == okey:
            del st.session_state["order_stale"]
        with reporting_errors(stop=True):
            base = load_for_editing(store, "orders", okey)
        current = base.row
        st.session_state[f"order_version_{okey}"] = base.version
loaded = st.session_state[f"order_version_{okey}"]


def saved(field: str) -> object:
    """The chosen order's saved value of a field (None for a new order or a blank)."""
    if current is None:
        return None
    v = current.get(field)
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) or v == "" else v


# -- scope ----------------------------------------------------------------------------------------
st.subheader("Scope" if current is None else f"Scope of {chosen}")
premises, communal, routes = frames["premises"], frames["communal_areas"], frames["access_routes"]
block_names = dict(zip(premises["block_id"], premises["name"], strict=True))
parts_saved = json.loads(saved("scope_parts") or "[]")
saved_ids = {
    kind: [p["feature_id"] for p in parts_saved if p.get("kind") == kind]
    for kind in ("premises", "communal_areas", "access_routes")
}
saved_blocks = premises[premises["feature_id"].isin(saved_ids["premises"])]["block_id"].tolist()
saved_near = sorted(
    (
        set(saved_blocks)
        | {p["block_id"] for p in parts_saved if p.get("block_id")}
        | {b.strip() for b in str(saved("block_ids") or "").split(";")}
    )
    & set(block_names)
)


def pick_parts(
    title: str, kind: str, labels: dict[str, str], near: list[str], key: str
) -> list[str]:
    """A multiselect of the ``kind`` features (communal areas or routes) of the blocks ``near``,
    showing the saved order's picks."""
    frame = frames[kind]
    options = frame[frame["block_id"].isin(near)]["feature_id"].tolist()
    return st.multiselect(
        title,
        options,
        format_func=lambda f: labels[f],
        default=[f for f in saved_ids[kind] if f in options],
        key=key,
    )


with st.expander(
    "Build the scope from blocks, communal areas and routes", expanded=current is None
):
    picked_blocks = st.multiselect(
        "Whole blocks (footprint, flats included)",
        list(block_names),
        default=saved_blocks,
        format_func=lambda b: f"{block_names[b]} ({b})",
        key=f"scope_blocks_{okey}",
    )
    near = st.multiselect(
        "Blocks whose communal parts to choose from",
        list(block_names),
        default=sorted(set(saved_near) | set(picked_blocks))
        if current is not None
        else picked_blocks,
        format_func=lambda b: f"{block_names[b]} ({b})",
        key=f"scope_for_blocks_{okey}",
    )
    picked_communal = pick_parts(
        "Communal areas",
        "communal_areas",
        {
            r.feature_id: f"{block_names.get(r.block_id, r.block_id)}: {r.name} ({r.area_type}, "
            f"floors {r.floor_from}-{r.floor_to})"
            for r in communal.itertuples()
        },
        near,
        f"scope_communal_{okey}",
    )
    picked_routes = pick_parts(
        "Access routes",
        "access_routes",
        {
            r.feature_id: f"{block_names.get(r.block_id, r.block_id)}: {r.name}"
            for r in routes.itertuples()
        },
        near,
        f"scope_routes_{okey}",
    )
    tolerance = st.number_input(
        "Tolerance (m²; 0 = the larger of 1 m² and 1% of the scope)",
        min_value=0.0,
        value=0.0,
        key=f"scope_tolerance_{okey}",
    )
    if st.button("Check scope", type="primary", key="check_scope"):
        picks = {
            "premises": premises[premises["block_id"].isin(picked_blocks)]["feature_id"].tolist(),
            "communal_areas": picked_communal,
            "access_routes": picked_routes,
        }
        with reporting_errors():
            scope, parts = build_scope(store, picks)
            result = check_in_workspace(
                store,
                scope,
                order_id=chosen if current is not None else None,
                tolerance_m2=tolerance or None,
            )
            checks[okey] = (scope, parts, result, True)
    if okey in checks and checks[okey][3] and current is not None:
        st.info("This checked scope replaces the saved one when you save the order.")
        if st.button("Keep the saved scope instead", key=f"drop_scope_{okey}"):
            del checks[okey]
            st.rerun()

if okey not in checks and current is not None:
    with reporting_errors():
        checks[okey] = (
            current.geometry,
            [],
            check_in_workspace(store, current.geometry, order_id=chosen),
            False,
        )

if okey in checks:
    scope, parts, result, built = checks[okey]
    show_check(result, built)
    show_scope_map(
        frames,
        scope,
        order_id=chosen if current is not None else "(scope)",
        built=built,
        attribution=attribution(store, short=True),
        key=f"scope_map_{okey}",
    )

# -- the order record -----------------------------------------------------------------------------
st.subheader("New order" if current is None else f"The order record of {chosen}")


def _split(value: object) -> tuple[date | None, time | None]:
    """A saved date-time read exactly as the timeline reads it (day first), or nothing."""
    if value is None:
        return None, None
    try:
        when = parse_datetime(str(value), "date")
    except ClosuremapError:  # the field shows blank; the dates check below says why
        return None, None
    return when.date(), when.time()


def day_input(
    column: st.delta_generator.DeltaGenerator,
    label: str,
    field: str,
    key: str,
    hint: str | None = None,
) -> date | None:
    """A date picker for one saved field (read day first), keyed by the order."""
    return column.date_input(
        label,
        value=_split(saved(field))[0],
        format="DD/MM/YYYY",
        key=f"{key}_{okey}",
        help=hint,
    )


def when_input(
    column: st.delta_generator.DeltaGenerator, label: str, field: str
) -> tuple[str | None, str | None]:
    """A date and a time picker for one field (Europe/London time); the ISO text and any problem."""
    day0, hour0 = _split(saved(field))
    day = column.date_input(
        f"{label}: date", value=day0, format="DD/MM/YYYY", key=f"{field}_d_{okey}"
    )
    hour = column.time_input(f"{label}: time", value=hour0, step=300, key=f"{field}_t_{okey}")
    if day is None:
        return None, None
    if hour is None:
        return None, f"{label}: give the time as well as the date"
    return datetime.combine(day, hour).strftime("%Y-%m-%dT%H:%M"), None


c1, c2 = st.columns(2)
order_ref = c1.text_input(
    "Order reference",
    value=chosen if current is not None else "",
    key=f"order_ref_{okey}",
    disabled=current is not None,
    help="fixed once saved: documents and breaches cite it",
)
name = c2.text_input("Name", value=str(saved("name") or ""), key=f"order_name_{okey}")
c1, c2, c3 = st.columns(3)
status = c1.selectbox(
    "Status",
    ORDER_STATUSES,
    index=ORDER_STATUSES.index(saved("status") or "draft"),
    key=f"order_status_{okey}",
)
ranks = list(AUTHORITY_CHOICES) + (
    [str(saved("authorised_by"))]
    if saved("authorised_by") and saved("authorised_by") not in AUTHORITY_CHOICES
    else []
)
authorised = c2.selectbox(
    "Issued or authorised by (rank or authority)",
    ranks,
    index=None if not saved("authorised_by") else ranks.index(str(saved("authorised_by"))),
    placeholder="choose a rank or authority",
    key=f"order_authority_{okey}",
    disabled=not role_may("authorise"),
    help=None if role_may("authorise") else "only a supervisor records who authorised it",
)
applicant = c3.text_input(
    "Applicant (force or council)",
    key=f"order_applicant_{okey}",
    value=str(saved("applicant") or (store.get_meta("applicant") if current is None else "") or ""),
)
st.markdown(
    "**Notice and hearing** (London time; the Act's hours are real hours, across clock changes)"
)
c1, c2, c3 = st.columns(3)
issued, p1 = when_input(c1, "Notice issued", "notice_issued_at")
served, p2 = when_input(c2, "Notice served", "notice_served_at")
hearing, p3 = when_input(c3, "Hearing", "hearing_at")
c1, c2, c3 = st.columns(3)
saved_hours = int(float(saved("notice_hours") or 24))
hour_options = sorted(
    {24, 48, saved_hours}
)  # a saved odd length is shown as it is, not turned into 24
hours = c1.selectbox(
    "Notice hours", hour_options, index=hour_options.index(saved_hours), key=f"order_hours_{okey}"
)
made = day_input(c2, "Order made on", "order_made_on", "order_made")
saved_months = int(float(saved("order_months") or 3))
months = c3.number_input(
    "Order months",
    min_value=1,
    max_value=max(3, saved_months),
    value=saved_months,
    key=f"order_months_{okey}",
    help="at most 3 (s.80(6)); a longer one is shown to be put right",
)
extensions = c3.text_input(
    "Extensions (months, separated by ;)",
    value=str(saved("extension_months") or ""),
    key=f"order_ext_{okey}",
    help="each at most 3; at most 6 months in all (s.82)",
)
c1, c2, c3 = st.columns(3)
court = c1.text_input(
    "Magistrates' court", value=str(saved("court") or ""), key=f"order_court_{okey}"
)
court_address = c2.text_input(
    "Court address", value=str(saved("court_address") or ""), key=f"order_court_addr_{okey}"
)
case_ref = c3.text_input(
    "Case reference", value=str(saved("case_reference") or ""), key=f"order_case_{okey}"
)

st.markdown("**Evidence window** (used by the exhibit, the chronology and the briefing)")
window = None  # none, if the saved dates cannot be read
with reporting_errors():
    window = evidence_window(current, now.date()) if current is not None else None
c1, c2 = st.columns(2)
ev_from = day_input(
    c1, "Evidence from", "evidence_from", "order_ev_from", "blank: 6 months before the notice"
)
ev_to = day_input(
    c2, "Evidence to", "evidence_to", "order_ev_to", "blank: the day the notice was issued"
)
if window is not None:
    st.caption(f"Saved window in use: {window[0]:%d %B %Y} to {window[1]:%d %B %Y}")

st.markdown("**Grounds and terms**")
grounds_shown = [
    g.strip() for g in str(saved("grounds") or "").split(";") if g.strip() in ORDER_GROUNDS
]
grounds = st.multiselect(
    "Grounds relied on (s.80(5))",
    list(ORDER_GROUNDS),
    default=grounds_shown,
    format_func=lambda g: f"({g}) {ORDER_GROUNDS[g]}",
    key=f"order_grounds_{okey}",
)
facts = st.text_area(
    "Statement of facts", value=str(saved("facts") or ""), height=120, key=f"order_facts_{okey}"
)
existing = from_json(saved("permitted_access"))  # type: ignore[arg-type]
codes_shown = [c.code for c in existing if c.code in CLASSES] or [c.code for c in default_classes()]
codes = st.multiselect(
    "Permitted access",
    list(CLASSES),
    format_func=lambda c: CLASSES[c],
    default=codes_shown,
    key=f"permitted_classes_{okey}",
)
kept = {c.code: c for c in existing}
classes = [
    kept.get(c, PermittedClass(c)) for c in codes
]  # keeps each class's saved times and detail

edited: dict[str, object] = {
    "name": name.strip(),
    "status": status,
    "authorised_by": authorised,
    "applicant": applicant.strip(),
    "notice_issued_at": issued,
    "notice_served_at": served,
    "hearing_at": hearing,
    "notice_hours": hours,
    "order_made_on": made.isoformat() if made else None,
    "order_months": int(months) if made else saved("order_months"),
    "extension_months": extensions.strip(),
    "court": court.strip(),
    "court_address": court_address.strip(),
    "case_reference": case_ref.strip(),
    "evidence_from": ev_from.isoformat() if ev_from else None,
    "evidence_to": ev_to.isoformat() if ev_to else None,
    "facts": facts.strip(),
}
# A saved value the pickers cannot show (grounds in words, access terms as free text) is kept
# unless the officer changes the picker: only a changed picker writes its field.
if current is None or grounds != grounds_shown:
    edited["grounds"] = ";".join(grounds)
if current is None or codes != codes_shown:
    edited["permitted_access"] = to_json(classes)
if current is None:
    edited["order_id"] = order_ref.strip()
problems = [p for p in (p1, p2, p3) if p]
stage = "notice" if status in ("draft", "notice_issued", "notice_served") else "order"
problems += [f"{v.section}: {v.message}" for v in access_violations(classes, stage=stage)]
draft_row = pd.Series({**({} if current is None else current.to_dict()), **edited})
for problem in problems:
    st.error(problem)
draft_timeline = None
with reporting_errors() as dates_check:
    draft_timeline = order_timeline(draft_row)
    evidence_window(draft_row, now.date())
if dates_check.error is not None:
    problems.append(str(dates_check.error))  # not saved until put right, like those above
if draft_timeline is not None:
    for v in draft_timeline.violations:
        st.warning(f"{v.section} ({v.rule}): {v.message}")

changes = changed_fields(current, edited)
pending = okey in checks and checks[okey][3]
st.caption(
    "Changed since the last save: "
    + (", ".join(changes) + (", scope" if pending else "") if changes or pending else "nothing")
)
if role_may("edit_orders") and st.button("Save order", type="primary", key="save_order_button"):
    who = require_user()
    if problems:
        st.error("Not saved: put right what is marked above first.")
    elif who:
        scope, parts = (checks[okey][0], checks[okey][1]) if pending else (None, None)
        with reporting_errors() as saving:
            save_order(
                store,
                user=who,
                feature_id=None if current is None else str(current["feature_id"]),
                changes=changes,
                scope=scope,
                parts=parts,
                expected_version=loaded,
            )
            ref = chosen if current is not None else str(edited["order_id"])
            checks.pop(okey, None)
            if current is not None:  # the form is rebuilt from what was saved, with its version
                for key in [k for k in st.session_state if str(k).endswith(f"_{okey}")]:
                    del st.session_state[key]
            st.session_state["order_pick_next"] = ref
            st.session_state["order_flash"] = (
                f"saved {ref} ({', '.join(changes) or 'no field changes'}"
                f"{'; new scope' if pending else ''}); the change is in the audit "
                f"trail under {who}"
            )
            st.rerun()
        if isinstance(saving.error, StaleEditError):  # offer to load the other person's version
            st.session_state["order_stale"] = okey

if st.session_state.get("order_stale") == okey and st.button(
    "Load the new version (your unsaved edits are dropped)", key=f"order_reload_{okey}"
):
    for key in [k for k in st.session_state if str(k).endswith(f"_{okey}")]:
        del st.session_state[key]  # the widgets show the saved values again
    st.session_state.pop("order_stale", None)
    st.rerun()

# -- timeline, breaches, terms, history -----------------------------------------------------------
if current is not None:
    st.subheader(f"Timeline of {chosen}")
    saved_timeline = None  # none, if the saved dates cannot be read
    with reporting_errors():
        saved_timeline = order_timeline(current)
    if saved_timeline is None:
        st.caption("No notice issued yet: the timeline starts when the notice's issue is saved.")
    else:
        show_timeline(current, saved_timeline, now)

    st.subheader(f"Breaches of {chosen}")
    breaches = check_breaches(store, chosen)
    if breaches.empty:
        st.caption("No breaches recorded.")
    else:
        st.dataframe(breaches.drop(columns=["feature_id"]), hide_index=True, width="stretch")
        flagged = int((breaches["flags"] != "").sum())
        (st.warning if flagged else st.success)(
            f"{flagged} of {len(breaches)} breach(es) flagged: outside the scope "
            "or outside the period the notice or order was in force"
        )
    saved_classes = from_json(saved("permitted_access"))  # type: ignore[arg-type]
    if saved_classes:
        st.subheader("Access terms")
        st.text(wording(str(current["name"]), saved_classes, stage=stage))
    st.subheader(f"History of {chosen}")
    st.dataframe(order_history(store, chosen), hide_index=True, width="stretch")
