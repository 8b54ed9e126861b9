"""Documents page: every document of the chosen order made in one go and offered together (and as a
zip), the consultation letters, the notice-service record, objections, and the area's settings.

What was made is kept in the session under the order it was made for, and the download buttons do
not rerun the page, so taking one never removes the others.
"""

import io
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path

import pandas as pd
import streamlit as st

from closuremap.app_pages.common import (
    acting_user,
    offer_download,
    reporting_errors,
    require_user,
    role_may,
    workspace_or_stop,
)
from closuremap.geo.clock import LONDON
from closuremap.layers.csvio import csv_bytes
from closuremap.layers.documents import log_letters, order_blocks, record_service
from closuremap.layers.orders import order_row, order_version
from closuremap.reports.briefing import render_briefing
from closuremap.reports.case import AdviceContact
from closuremap.reports.casefile import (
    DOCUMENT_TITLES,
    advice_contacts,
    case_file,
    make_bundle,
    make_documents,
    set_advice_contacts,
)
from closuremap.reports.exhibit import render_exhibit
from closuremap.reports.exhibit_data import ExhibitOptions
from closuremap.reports.inputs import briefing_input, exhibit_input, letter_fields
from closuremap.reports.letters import DEFAULT_TEMPLATE, FIELDS, check_template, render_letters
from closuremap.reports.service_pack import checklist, render_service_pack

store, frames = workspace_or_stop()
made = st.session_state.setdefault(
    "made_documents", {}
)  # {order_id: {file name: (label, bytes, mime)}}

st.title("Documents")
orders = frames["orders"]["order_id"].astype(str).tolist()
if not orders:
    st.info("No orders yet: build one on the Closure orders page.")
    st.stop()
order_id = st.selectbox("Order", orders, key="doc_order")
row = order_row(store, order_id)
who = acting_user()
version = order_version(store, order_id)
st.caption(
    f"{row['name']} · version {version} · prepared by {who or '(give your name in the sidebar)'}"
)
today = datetime.now(LONDON).date()


def keep(name: str, label: str, data: bytes, mime: str) -> None:
    made.setdefault(order_id, {})[name] = (label, data, mime)


st.header("The case documents")
c1, c2, c3, c4 = st.columns(4)
ref = c1.text_input(
    "Exhibit reference",
    value=store.get_meta(f"exhibit_ref:{order_id}") or "AB/1",
    key=f"ex_ref_{order_id}",
)
paper = c2.selectbox("Exhibit paper", ["A4", "A3"], key=f"ex_paper_{order_id}")
scale = c3.selectbox("Exhibit scale", ["fit", 500, 1250, 2500], key=f"ex_scale_{order_id}")
atlas = c4.checkbox("One exhibit sheet per block (atlas)", key=f"ex_atlas_{order_id}")
with_docx = st.checkbox(
    "Also Word (DOCX) copies to edit before signing", value=True, key=f"docx_{order_id}"
)
if (
    role_may("documents")
    and st.button("Make every document", type="primary", key="make_all")
    and (who := require_user())
):
    bar = st.progress(0.0, text="Reading the order…")
    with reporting_errors(values={"Exhibit reference": ref}):
        store.set_meta(f"exhibit_ref:{order_id}", ref, user=who)
        case = case_file(store, order_id, exhibit_ref=ref, prepared_by=who, today=today)
        fresh: dict[str, tuple[str, bytes, str]] = {}  # kept only if every document is made

        def keep_new(name: str, label: str, data: bytes, mime: str) -> None:
            fresh[name] = (label, data, mime)

        with tempfile.TemporaryDirectory() as tmp:
            bar.progress(0.15, text="Notice, application, draft order…")
            docs = make_documents(case, tmp, docx=with_docx)
            for name, result in docs.made.items():
                keep_new(
                    result.path.name,
                    f"{DOCUMENT_TITLES[name]} (PDF, {result.pages} "
                    f"page{'s' if result.pages != 1 else ''})",
                    result.path.read_bytes(),
                    "application/pdf",
                )
                if result.docx is not None:
                    keep_new(
                        result.docx.name,
                        f"{DOCUMENT_TITLES[name]} (Word)",
                        result.docx.read_bytes(),
                        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    )
            bar.progress(0.4, text="Map exhibit…")
            ex = render_exhibit(
                exhibit_input(store, order_id),
                ExhibitOptions(
                    ref,
                    who,
                    today,
                    version=version,
                    paper=paper,
                    scale=None if scale == "fit" else int(scale),
                    atlas=atlas,
                    evidence_from=case.evidence_from,
                    evidence_to=case.evidence_to,
                ),
                Path(tmp) / "ex.pdf",
            )
            keep_new(
                f"exhibit-{ref.replace('/', '-')}.pdf",
                f"Map exhibit ({ex.pages} sheets, {ex.scale_statement})",
                ex.path.read_bytes(),
                "application/pdf",
            )
            bar.progress(0.6, text="Service pack and briefing…")
            blocks = order_blocks(store, order_id)
            doors = frames["entrances"][frames["entrances"]["block_id"].isin(blocks["block_id"])]
            pack = render_service_pack(
                title=str(row["name"]),
                scope=row.geometry,
                premises=blocks,
                entrances=doors,
                basemap=frames["basemap"],
                out=Path(tmp) / "pack.pdf",
                prepared_on=today,
            )
            keep_new(
                f"service-pack-{order_id}.pdf",
                "Notice-service pack (PDF)",
                pack.pdf.read_bytes(),
                "application/pdf",
            )
            brief = render_briefing(
                briefing_input(store, order_id, today=today), Path(tmp) / "b.pdf", prepared_on=today
            )
            keep_new(
                f"ward-briefing-{order_id}.pdf",
                "Ward-member briefing (PDF)",
                brief.read_bytes(),
                "application/pdf",
            )
            bar.progress(0.75, text="Court bundle…")
            bundle, notes = make_bundle(
                store,
                case,
                Path(tmp) / "bundle.pdf",
                generated_at=datetime.now(LONDON).replace(tzinfo=None, microsecond=0),
            )
            keep_new(
                f"court-bundle-{order_id}.pdf",
                f"Court bundle ({bundle.pages} pages, {len(bundle.parts)} parts)",
                bundle.path.read_bytes(),
                "application/pdf",
            )
        made.setdefault(order_id, {}).update(fresh)  # letters made before stay on offer
        st.session_state[f"doc_notes_{order_id}"] = [
            f"{DOCUMENT_TITLES[n]} not made: {why}" for n, why in docs.not_made.items()
        ] + notes
    bar.empty()

if "doc_flash" in st.session_state:
    st.success(st.session_state.pop("doc_flash"))
for note in st.session_state.get(f"doc_notes_{order_id}", []):
    st.warning(note)
files = made.get(order_id, {})
if files:
    st.subheader(f"Made for {order_id}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle_zip:
        for name, (_, data, _) in sorted(files.items()):
            bundle_zip.writestr(name, data)
    offer_download(
        f"Download all {len(files)} files (zip)",
        buffer.getvalue(),
        f"{order_id}-documents.zip",
        "application/zip",
        f"dl_zip_{order_id}",
        primary=True,
    )
    for name, (label, data, mime) in files.items():
        offer_download(f"{label}: {name}", data, name, mime, f"dl_{order_id}_{name}")

st.header("Consultation letters")
template = st.text_area(
    "Letter template",
    value=store.get_meta("letter_template") or DEFAULT_TEMPLATE,
    height=320,
    key="letter_template",
    help="Fields: " + ", ".join("$" + f for f in FIELDS),
)
c1, c2 = st.columns(2)
contact = c1.text_input(
    "Contact for residents", value="the ASB team", key=f"letter_contact_{order_id}"
)
signatory = c2.text_input("Signed by", value=who or "", key=f"letter_signatory_{order_id}")
b1, b2 = st.columns(2)
if (
    role_may("settings")
    and b1.button("Save template", key="save_template")
    and (who := require_user())
):
    with reporting_errors():  # the template's error names it
        check_template(template)
        store.set_meta("letter_template", template, user=who)
        st.success("template saved in the workspace")
if (
    role_may("letters")
    and b2.button("Make the letters", key="make_letters")
    and (who := require_user())
):
    with reporting_errors():
        recipients, fields = letter_fields(
            store, order_id, today=today, contact=contact, signatory=signatory
        )
        with tempfile.TemporaryDirectory() as tmp:
            run = render_letters(recipients, fields, Path(tmp) / "letters.pdf", template=template)
            keep(
                f"letters-{order_id}.pdf",
                f"Consultation letters ({run.pages})",
                run.path.read_bytes(),
                "application/pdf",
            )
        keep(
            f"recipients-{order_id}.csv",
            "Letter recipients (CSV)",
            csv_bytes(recipients),
            "text/csv",
        )
        log_letters(store, order_id, count=run.pages, made_on=today, user=who)
        st.session_state["doc_flash"] = (
            f"{run.pages} letters, one page each; offered with the other documents"
        )
        st.rerun()

st.header("Notice service (s.79)")
blocks = frames["premises"].iloc[0:0]  # none, if the order's blocks cannot be read
with reporting_errors():
    blocks = order_blocks(store, order_id)
doors = frames["entrances"][frames["entrances"]["block_id"].isin(blocks["block_id"])]
sheet = checklist(doors, blocks)[["entrance", "block", "time_fixed", "officer", "photo_ref"]]
st.caption(
    "Fill in each entrance where a copy of the notice was fixed (time as YYYY-MM-DD HH:MM), then "
    "record."
)
filled = st.data_editor(
    sheet,
    hide_index=True,
    width="stretch",
    key=f"service_sheet_{order_id}",
    disabled=["entrance", "block"],
)
if (
    role_may("record_service")
    and st.button("Record service", key="record_service")
    and (who := require_user())
):
    with reporting_errors():
        count, rejected = record_service(store, order_id, filled, user=who)
        (st.warning if len(rejected) else st.success)(
            f"recorded {count} entrance(s)"
            + (f"; {len(rejected)} row(s) not recorded" if len(rejected) else "")
        )
        if len(rejected):
            st.dataframe(rejected, hide_index=True, width="stretch")
served = store.case_records(order_id, "service")
if len(served):
    st.dataframe(served, hide_index=True, width="stretch")
else:
    st.caption("No service recorded yet.")

st.header("Objections and views")
log = store.objections(order_id)
st.dataframe(log.drop(columns=["id"]) if len(log) else log, hide_index=True, width="stretch")
with st.form(f"objection_{order_id}"):
    said_by = st.text_input("From (name or flat)", key=f"obj_who_{order_id}")
    received = st.date_input("Received on", key=f"obj_received_{order_id}")
    summary = st.text_area("Summary", key=f"obj_summary_{order_id}")
    response = st.text_area("Our response", key=f"obj_response_{order_id}")
    if st.form_submit_button("Log it", disabled=not role_may("comment")) and (
        who := require_user()
    ):
        with reporting_errors():
            store.add_objection(
                order_id,
                who=said_by,
                summary=summary,
                received_on=received.isoformat(),
                recorded_by=who,
                response=response,
            )
            st.success("logged")

st.header("Area settings")
st.caption(
    "Local housing and legal advice services named on every closure notice (s.76(5)), and the body "
    "that applies for orders."
)
contacts = []  # none, if the saved ones cannot be read
with reporting_errors():
    contacts = advice_contacts(store)
table = st.data_editor(
    pd.DataFrame([c.__dict__ for c in contacts], columns=["name", "detail", "kind"]),
    num_rows="dynamic",
    hide_index=True,
    width="stretch",
    key="advice_contacts",
    column_config={"kind": st.column_config.SelectboxColumn("kind", options=["housing", "legal"])},
)
applicant = st.text_input(
    "Applicant for new orders (force or council)",
    value=store.get_meta("applicant") or "",
    key="settings_applicant",
)
if (
    role_may("settings")
    and st.button("Save the settings", key="save_settings")
    and (who := require_user())
):
    rows = table.dropna(subset=["name"])
    set_advice_contacts(
        store,
        who,
        [
            AdviceContact(str(r.name), str(r.detail or ""), str(r.kind or "housing"))
            for r in rows.itertuples()
            if str(r.name).strip()
        ],
    )
    store.set_meta("applicant", applicant.strip(), user=who)
    st.success("settings saved in the workspace")
