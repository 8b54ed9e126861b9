"""Documents page: the court exhibit, consultation letters (editable template), the service pack,
the briefing PDF, and each order's objections log."""

import tempfile
from datetime import date
from pathlib import Path

import streamlit as st

from app_pages.common import workspace_or_stop, user_name
from geo.errors import ClosuremapError
from layers.documents import briefing_input, letter_fields, order_blocks
from layers.orders import exhibit_input, order_row, order_version
from reports.briefing import render_briefing
from reports.exhibit import ExhibitOptions, render_exhibit
from reports.letters import DEFAULT_TEMPLATE, FIELDS, TemplateError, check_template, render_letters
from reports.service_pack import render_service_pack

store, frames = workspace_or_stop()

st.title("Documents")
orders = frames["orders"]["order_id"].astype(str).tolist()
if not orders:
    st.info("No orders yet: build one on the Closure orders page.")
    st.stop()
order_id = st.selectbox("Order", orders, key="doc_order")
tmp = Path(tempfile.mkdtemp(prefix="closuremap-"))

st.header("Court map exhibit")
c1, c2, c3, c4 = st.columns(4)
ref = c1.text_input("Exhibit reference", value="AB/1", key="ex_ref")
prepared_by = c2.text_input("Prepared by", value=user_name(), key="ex_by")
paper = c3.selectbox("Paper", ["A4", "A3"], key="ex_paper")
scale = c4.selectbox("Scale", ["fit", 500, 1250, 2500], key="ex_scale")
atlas = st.checkbox("One map sheet per block (atlas)", key="ex_atlas")
if st.button("Make the exhibit", key="make_exhibit"):
    with st.spinner("Drawing the exhibit…"):
        try:
            result = render_exhibit(exhibit_input(store, order_id), ExhibitOptions(
                ref, prepared_by, date.today(), version=order_version(store, order_id), paper=paper,
                scale=None if scale == "fit" else int(scale), atlas=atlas), tmp / "exhibit.pdf")
        except (ClosuremapError, ValueError) as exc:
            st.error(str(exc))
        else:
            st.success(f"{result.pages} sheets, {result.scale_statement}, scope SHA-256 {result.scope_sha256}")
            st.download_button("Download the exhibit (PDF)", result.path.read_bytes(),
                               file_name=f"exhibit-{ref.replace('/', '-')}.pdf", mime="application/pdf")

st.header("Consultation letters")
template = st.text_area("Letter template", value=store.get_meta("letter_template") or DEFAULT_TEMPLATE, height=320,
                        key="letter_template", help="Fields: " + ", ".join("$" + f for f in FIELDS))
c1, c2 = st.columns(2)
contact = c1.text_input("Contact for residents", value="the ASB team", key="letter_contact")
signatory = c2.text_input("Signed by", value=user_name(), key="letter_signatory")
b1, b2 = st.columns(2)
if b1.button("Save template", key="save_template"):
    try:
        check_template(template)
    except TemplateError as exc:
        st.error(str(exc))
    else:
        store.set_meta("letter_template", template)
        st.success("template saved in the workspace")
if b2.button("Make the letters", key="make_letters"):
    try:
        recipients, fields = letter_fields(store, order_id, today=date.today(), contact=contact, signatory=signatory)
        run = render_letters(recipients, fields, tmp / "letters.pdf", template=template)
    except (ClosuremapError, TemplateError) as exc:
        st.error(str(exc))
    else:
        st.success(f"{run.pages} letters, one page each")
        st.download_button("Download the letters (PDF)", run.path.read_bytes(), file_name=f"letters-{order_id}.pdf")
        st.download_button("Download the recipients (CSV)", recipients.to_csv(index=False),
                           file_name=f"recipients-{order_id}.csv")

st.header("Objections and views")
log = store.objections(order_id)
st.dataframe(log.drop(columns=["id"]) if len(log) else log, hide_index=True, width="stretch")
with st.form("objection"):
    who = st.text_input("From (name or flat)", key="obj_who")
    received = st.date_input("Received on", key="obj_received")
    summary = st.text_area("Summary", key="obj_summary")
    response = st.text_area("Our response", key="obj_response")
    if st.form_submit_button("Log it"):
        try:
            store.add_objection(order_id, who=who, summary=summary, received_on=received.isoformat(),
                                recorded_by=user_name(), response=response)
        except ClosuremapError as exc:
            st.error(str(exc))
        else:
            st.success("logged")

st.header("Notice-service pack and briefing")
if st.button("Make the service pack", key="make_pack"):
    row = order_row(store, order_id)
    blocks = order_blocks(store, order_id)
    doors = frames["entrances"][frames["entrances"]["block_id"].isin(blocks["block_id"])]
    pack = render_service_pack(title=str(row["name"]), scope=row.geometry, premises=blocks, entrances=doors,
                               basemap=frames["basemap"], out=tmp / "pack.pdf", prepared_on=date.today())
    st.download_button("Download the pack (PDF)", pack.pdf.read_bytes(), file_name=f"service-pack-{order_id}.pdf")
    st.download_button("Download the checklist (CSV)", pack.checklist.to_csv(index=False),
                       file_name=f"service-pack-{order_id}.csv")
if st.button("Make the ward briefing", key="make_briefing"):
    path = render_briefing(briefing_input(store), tmp / "briefing.pdf", prepared_on=date.today())
    st.download_button("Download the briefing (PDF)", path.read_bytes(), file_name="ward-briefing.pdf")
