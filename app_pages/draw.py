"""Draw page: draw, edit and delete blocks, communal areas, routes, open space and entrances, with
snapping, checks on save, floors, versions and undo. Geometry work is in layers/ and geo/."""

import io
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st
from PIL import Image
from streamlit_folium import st_folium

from closuremap.app_pages.common import (
    attribution,
    read_layers,
    reporting_errors,
    require_user,
    workspace_or_stop,
)
from closuremap.geo.drawing import repair_drawing
from closuremap.geo.errors import StaleEditError
from closuremap.geo.floors import floors_of, on_floor
from closuremap.geo.georef import fit_to_outline
from closuremap.layers import floorplans
from closuremap.layers.audit import describe_change
from closuremap.layers.drawmap import build_draw_map, drawings_to_bng
from closuremap.layers.editing import (
    Outline,
    load_for_editing,
    prepare_drawing,
    restore_version,
    save_new,
    save_outlines,
    typed_attributes,
    undo_last,
    with_saved,
)
from closuremap.layers.model import COMMUNAL_AREA_TYPES, KINDS

EDITABLE = ("communal_areas", "premises", "access_routes", "open_space", "entrances", "orders")
MOVED_M = (
    0.01  # a shape whose outline moved less than this came back unchanged (rounding on the way)
)

store, frames = workspace_or_stop()

st.title("Draw and edit")
state = st.session_state
state.setdefault("draw_round", 0)
kind = st.selectbox(
    "Layer to draw or edit", EDITABLE, format_func=lambda k: KINDS[k].title, key="draw_kind"
)
c1, c2, c3 = st.columns(3)
floors = sorted(
    {int(f) for col in ("floor_from", "floor_to") for f in frames["communal_areas"][col].dropna()}
)
floor = c1.selectbox("Floor", ["all", *floors], key="draw_floor")
tolerance = c2.number_input("Snap tolerance (m)", 0.0, 5.0, 0.5, 0.1, key="snap_tolerance")
min_width = c3.number_input("Sliver width (m)", 0.0, 5.0, 0.3, 0.1, key="sliver_width")
if floor != "all":
    frames["communal_areas"] = on_floor(frames["communal_areas"], int(floor))

guides = []
for plan in floorplans.plans(store):
    if floor == "all" or plan.floor is None or plan.floor == int(floor):
        url, bounds = floorplans.warp_for_web(plan)
        guides.append((plan.name, url, bounds, plan.opacity))
saved = frames[kind].set_index("feature_id")
label_of = {f: f"{saved.loc[f].get('name') or kind} ({f[:8]})" for f in saved.index}
options = ["(none: draw new shapes)", *saved.index]
focus_id = state.get(f"draw_focus_{kind}")
editing = st.selectbox(
    "Feature to edit on the map (its vertices get handles; the rest stay put)",
    options,
    index=options.index(focus_id) if focus_id in options else 0,
    key=f"draw_edit_{kind}_{state.draw_round}",
    format_func=lambda f: label_of.get(f, f),
)
editable = [] if editing == options[0] else [editing]
for fid in editable:  # the version this map shows: a save over someone else's later one is refused
    if (loaded := f"draw_version_{kind}_{state.draw_round}_{fid}") not in state:
        with reporting_errors(stop=True):  # the outline and its version read together
            base = load_for_editing(store, kind, fid)
        state[loaded] = base.version
        frames[kind] = with_saved(frames[kind], base)  # the map shows what that version is
        saved = frames[kind].set_index("feature_id")
focus = None
if editable or focus_id in saved.index:  # open on the feature being edited, or the one just saved
    minx, miny, maxx, maxy = saved.geometry[editable[0] if editable else focus_id].bounds
    focus = (minx - 20, miny - 20, maxx + 20, maxy + 20)
out = st_folium(
    build_draw_map(
        frames,
        kind,
        attribution=attribution(store, short=True),
        guides=guides,
        editable=editable,
        focus=focus,
    ),
    height=600,
    use_container_width=True,
    returned_objects=["all_drawings"],
    key=f"draw_map_{kind}_{state.draw_round}",
)
drawn = drawings_to_bng(out.get("all_drawings") if out else None)


def done(message: str, focus: str | None = None) -> None:
    state.draw_round += 1  # a fresh map: the saved shape now comes from the store
    focus = focus or (editable[0] if editable else None)
    if focus is not None:
        state[f"draw_focus_{kind}"] = (
            focus  # and it opens where the user was working, not on the estate
        )
    state.draw_message = message
    st.cache_data.clear()
    st.rerun()


if state.get("draw_message"):
    st.success(state.pop("draw_message"))


def show(problems: list) -> None:
    for p in problems:
        (st.error if p.severity == "error" else st.warning)(f"{p.code}: {p.message}")


new = drawn[drawn["feature_id"].isna()]
if len(new):
    geometry = new.geometry.iloc[-1]
    st.subheader("New shape")
    blocks = frames["premises"]["block_id"].tolist()
    with st.form("new_shape"):
        attrs = {"name": st.text_input("Name", key="new_name")}
        if kind == "orders":
            attrs["order_id"] = st.text_input("Order reference", key="new_order_id")
            attrs["status"] = "draft"
        if kind == "premises":
            attrs["block_id"] = st.text_input("Block reference (block_id)", key="new_block_ref")
            attrs["floors"] = st.number_input("Floors", 1, 60, 4, key="new_floors")
        elif kind in ("communal_areas", "access_routes", "entrances"):
            attrs["block_id"] = st.selectbox("Block", blocks, key="new_block")
        if kind == "communal_areas":
            attrs["area_type"] = st.selectbox("Type", COMMUNAL_AREA_TYPES, key="new_area_type")
            attrs["floor_from"] = st.number_input("From floor", 0, 60, 0, key="new_floor_from")
            attrs["floor_to"] = st.number_input("To floor", 0, 60, 0, key="new_floor_to")
        if kind == "access_routes":
            attrs["width_m"] = st.number_input("Width (m)", 0.5, 20.0, 2.0, 0.5, key="new_width")
        if kind == "entrances":
            attrs["entrance_type"] = st.selectbox(
                "Type",
                ["door", "gate", "car_park", "service", "emergency", "other"],
                key="new_entrance_type",
            )
        if kind == "open_space":
            attrs["open_space_type"] = st.text_input(
                "Type (park, grass, playground…)", key="new_space_type"
            )
        attrs["notes"] = st.text_input("Notes", key="new_notes")
        save = st.form_submit_button("Save the new shape", key="save_new")
        repair = st.form_submit_button("Repair and save", key="repair_new")
    if (save or repair) and (who := require_user()):
        with reporting_errors():
            shape = repair_drawing(geometry) if repair else geometry
            snapped, moved, problems = prepare_drawing(
                store, kind, shape, attrs, tolerance_m=tolerance, min_width_m=min_width
            )
            if any(p.severity == "error" for p in problems):
                show(problems)
                st.info("Nothing was saved. Redraw the shape, or use 'Repair and save'.")
            else:
                show(problems)
                fid = save_new(store, kind, snapped, attrs, user=who)
                done(
                    focus=fid,
                    message=f"saved {attrs.get('name') or kind} ({fid[:8]}); "
                    f"{moved} vertices snapped"
                    + (
                        f"; {len(problems)} warning(s): " + "; ".join(p.message for p in problems)
                        if problems
                        else ""
                    ),
                )

changed = []
for row in drawn[drawn["feature_id"].notna()].itertuples():
    if (
        row.feature_id in saved.index
        and row.geometry.hausdorff_distance(saved.geometry[row.feature_id]) > MOVED_M
    ):
        changed.append(row)
if changed:
    st.subheader("Edited outlines")
    st.write(
        ", ".join(str(saved.loc[r.feature_id].get("name") or r.feature_id[:8]) for r in changed)
    )
    if st.button("Save the edited outlines", key="save_edits") and (who := require_user()):
        outlines, moves, blocked = [], [], False
        # a busy workspace, a drawing it cannot repair, an outline someone changed meanwhile
        with reporting_errors() as saving:
            for r in changed:
                attrs = saved.loc[r.feature_id].drop(labels=["geometry"]).to_dict()
                snapped, moved, problems = prepare_drawing(
                    store,
                    kind,
                    r.geometry,
                    attrs,
                    tolerance_m=tolerance,
                    min_width_m=min_width,
                    feature_id=r.feature_id,
                )
                show(problems)
                blocked = blocked or any(p.severity == "error" for p in problems)
                name = str(attrs.get("name") or r.feature_id[:8])
                outlines.append(
                    Outline(
                        r.feature_id,
                        snapped,
                        state.get(f"draw_version_{kind}_{state.draw_round}_{r.feature_id}"),
                        f"{name} ({r.feature_id[:8]})",
                    )
                )
                moves.append(f"{name} ({moved} vertices snapped)")
            if blocked:
                st.info("Nothing was saved: redraw the outlines marked above, then save them all.")
            else:  # all or nothing: one stale outline saves none of them
                save_outlines(store, kind, outlines, user=who)
                done("saved " + ", ".join(moves), focus=str(changed[-1].feature_id))
        if isinstance(saving.error, StaleEditError):  # the drawn edits stay on the map
            state["draw_stale"] = state.draw_round
    if state.get("draw_stale") == state.draw_round and st.button(
        "Load the saved outlines (your drawn edits are dropped)", key="draw_reload"
    ):
        state.pop("draw_stale", None)
        state.draw_round += 1  # a fresh map, and versions read again
        st.rerun()

if out and out.get("all_drawings") is not None:
    gone = [fid for fid in editable if fid not in set(drawn["feature_id"].dropna())]
    if gone:
        st.subheader("Deleted on the map")
        st.write(", ".join(str(saved.loc[f].get("name") or f[:8]) for f in gone))
        if st.button(f"Delete {len(gone)} feature(s)", key="confirm_delete") and (
            who := require_user()
        ):
            with reporting_errors():
                store.delete(kind, gone, user=who)
                done(f"deleted {len(gone)}")

st.subheader("Attributes of a saved feature")
if len(saved):
    pick = st.selectbox(
        "Feature",
        list(saved.index),
        key="attr_pick",
        format_func=lambda f: f"{saved.loc[f].get('name') or kind} ({f[:8]})",
    )
    fields = [f for f in KINDS[kind].fields if f.kind in ("str", "int", "float")]
    if f"attr_version_{pick}" not in state or f"attr_base_{pick}" not in state:
        # the form is (re)built: the saved values and the version they are, read together
        with reporting_errors(stop=True):
            base = load_for_editing(store, kind, pick)
        state[f"attr_version_{pick}"] = base.version
        state[f"attr_base_{pick}"] = {
            f.name: ""
            if base.row.get(f.name) is None or pd.isna(base.row.get(f.name))
            else str(base.row.get(f.name))
            for f in fields
        }
        for f in fields:  # the widgets show those values, not what a previous form held
            state.pop(f"attr_{f.name}_{pick}", None)
    saved_text = state[f"attr_base_{pick}"]  # what the form shows: a save writes only the changes
    with st.form("attributes"):
        values = {
            f.name: st.text_input(f.name, value=saved_text[f.name], key=f"attr_{f.name}_{pick}")
            for f in fields
        }
        if st.form_submit_button("Save attributes", key="save_attrs") and (who := require_user()):
            with reporting_errors(values=values) as outcome:  # names the attribute it is about
                typed, before = typed_attributes(kind, values), typed_attributes(kind, saved_text)
                changes = {
                    n: v for n, v in typed.items() if v != before[n]
                }  # only what the user changed
                if changes:
                    store.update(
                        kind,
                        pick,
                        user=who,
                        attributes=changes,
                        expected_version=state[f"attr_version_{pick}"],
                    )
                for key in [k for k in state if str(k).startswith("attr_")]:
                    if str(key).endswith(f"_{pick}"):  # rebuilt from the saved values next run
                        del state[key]
                done("attributes saved" if changes else "nothing had changed", focus=pick)
            if isinstance(outcome.error, StaleEditError):  # offer the other person's version
                state["attr_stale"] = pick
    if state.get("attr_stale") == pick and st.button(
        "Load the saved values (your unsaved edits are dropped)", key=f"attr_reload_{pick}"
    ):
        for key in [k for k in state if str(k).startswith("attr_") and str(k).endswith(f"_{pick}")]:
            del state[key]
        state.pop("attr_stale", None)
        st.rerun()

st.subheader("History")
history = store.history(kind=kind)
names = saved["name"].to_dict() if "name" in saved else {}
st.dataframe(
    pd.DataFrame(
        {
            "version": history["id"],
            "when": history["at"],
            "who": history["user"],
            "action": history["action"],
            "feature": [
                names.get(f) or (f[:8] if isinstance(f, str) else "(import)")
                for f in history["feature_id"]
            ],
            "what changed": [
                describe_change(b, a)
                for b, a in zip(history["before"], history["after"], strict=True)
            ],
        }
    ).head(30),
    hide_index=True,
    width="stretch",
)
h1, h2 = st.columns(2)
if h1.button("Undo the last change", key="undo") and (who := require_user()):
    with reporting_errors():
        done(undo_last(store, kind, user=who))
versions = history[history["after"].notna() & history["feature_id"].notna()]["id"].tolist()
if versions:
    version = h2.selectbox("Version", versions, key="restore_pick")
    if h2.button("Restore this version", key="restore") and (who := require_user()):
        with reporting_errors():
            restore_version(store, kind, int(version), user=who)
            done(f"restored version #{version}")

st.subheader("Floors of a block")
block_names = dict(zip(frames["premises"]["block_id"], frames["premises"]["name"], strict=True))
if block_names:
    block = st.selectbox(
        "Block", list(block_names), format_func=lambda b: block_names[b], key="floors_block"
    )
    listing = floors_of(read_layers(store)["communal_areas"], block)
    st.dataframe(
        pd.DataFrame(
            [{"floor": f, "communal parts": ", ".join(parts)} for f, parts in listing.items()]
        ),
        hide_index=True,
        width="stretch",
    )

st.subheader("Floor plans to trace from")
with st.form("floor_plan"):
    upload = st.file_uploader(
        "Plan image (PNG, JPG or a PDF page)", type=["png", "jpg", "jpeg", "pdf"], key="plan_file"
    )
    c1, c2, c3 = st.columns(3)
    plan_block = c1.selectbox(
        "Block", list(block_names), format_func=lambda b: block_names[b], key="plan_block"
    )
    plan_floor = c2.number_input("Floor", 0, 60, 0, key="plan_floor")
    page_no = c3.number_input("PDF page", 1, 500, 1, key="plan_page")
    if (
        st.form_submit_button("Add the plan over the block", key="add_plan")
        and upload is not None
        and (who := require_user())
    ):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / upload.name
            path.write_bytes(upload.getvalue())
            with reporting_errors():
                png = floorplans.read_image(path, int(page_no))
                with Image.open(io.BytesIO(png)) as im:
                    points = fit_to_outline(
                        im.width,
                        im.height,
                        frames["premises"].set_index("block_id").geometry[plan_block],
                    )
                floorplans.save_plan(
                    store,
                    block_id=plan_block,
                    floor=int(plan_floor),
                    name=upload.name,
                    png=png,
                    control_points=points,
                    user=who,
                )
                done(
                    f"placed {upload.name} over {block_names[plan_block]}: correct it with three "
                    "control points"
                )
for plan in floorplans.plans(store):
    with st.expander(
        f"Control points of {plan.name} "
        f"({block_names.get(plan.block_id, plan.block_id)}, floor {plan.floor})"
    ):
        table = pd.DataFrame(
            [
                {"image x": p[0], "image y": p[1], "easting": g[0], "northing": g[1]}
                for p, g in plan.control_points
            ]
        )
        edited = st.data_editor(table, num_rows="fixed", key=f"plan_points_{plan.id}")
        if st.button("Place the plan by these points", key=f"place_plan_{plan.id}") and (
            who := require_user()
        ):
            with reporting_errors():
                floorplans.update_placement(
                    store,
                    plan.id,
                    [
                        ((r["image x"], r["image y"]), (r["easting"], r["northing"]))
                        for r in edited.to_dict("records")
                    ],
                    user=who,
                )
                done(f"placed {plan.name}")
