"""The legal documents: what the Act requires is on the paper, gaps show, refusals refuse.

Text is read back with pypdf (and python-docx for the Word copies) and compared with whitespace
collapsed, because a PDF breaks lines wherever the layout does.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import docx
import pandas as pd
import pytest
from PIL import Image
from pypdf import PdfReader

from closuremap.geo.errors import ClosuremapError
from closuremap.geo.permitted_access import PermittedClass
from closuremap.reports.case import ORDER_GROUNDS, SERVICE_COLUMNS, AdviceContact
from closuremap.reports.legal import (
    DOCUMENTS,
    DocumentResult,
    render_application,
    render_certificate_of_service,
    render_discharge,
    render_draft_order,
    render_extension,
    render_notice,
)
from closuremap.reports.legal_text import LegalDocumentError
from tests.case_fixtures import COURT, COURT_ADDRESS, make_case, service, tiny_png
from tests.conftest import require

GAP = "[to be completed]"  # spelled out here, so the test fails if the module's constant changes

#: The s.76(5) items, each under its own heading, each citing its paragraph.
NOTICE_HEADINGS = [
    "(a) The premises to which this notice applies (s.76(5)(a))",
    "(b) The effect of this notice (s.76(5)(b))",
    "(c) Failing to comply with this notice is an offence (s.76(5)(c))",
    "(d) An application will be made for a closure order (s.76(5)(d))",
    "(e) When and where the application will be heard (s.76(5)(e))",
    "(f) The effect of a closure order (s.76(5)(f))",
    "(g) Local housing and legal advice (s.76(5)(g))",
]


def norm(text: str) -> str:
    return " ".join(text.split())


def page_texts(path: Path) -> list[str]:
    return [norm(p.extract_text()) for p in PdfReader(path).pages]


def pdf_text(path: Path) -> str:
    return " ".join(page_texts(path))


def docx_text(path: Path) -> str:
    d = docx.Document(str(path))
    parts = [p.text for p in d.paragraphs]
    parts += [cell.text for table in d.tables for row in table.rows for cell in row.cells]
    return norm(" ".join(parts))


def section(text: str, start: str, end: str) -> str:
    """The text from one heading to the next, so an item is checked where the Act wants it."""
    i = text.index(start)
    return text[i : text.index(end, i + len(start))]


def busy_case(**overrides: object):
    """Enough text and rows that every document runs to more than one page."""
    long = "\n\n".join(
        f"Paragraph {i}: " + "Residents describe the stairwells at night. " * 12
        for i in range(1, 9)
    )
    rows = pd.concat([service()] * 20, ignore_index=True)
    values = dict(facts=long, extension_reason=long, discharge_reason=long, service=rows)
    values.update(overrides)
    return make_case(**values)


# -- the notice: s.76(5) ------------------------------------------------------------------------


def test_notice_contains_every_s76_5_item(tmp_path: Path) -> None:
    case = make_case()
    result = render_notice(case, tmp_path / "notice.pdf")
    text = pdf_text(result.path)
    starts = [text.index(heading) for heading in NOTICE_HEADINGS]
    assert starts == sorted(starts), "s.76(5)(a)-(g) must appear in the Act's order"

    a = section(text, "(a) The premises", "(b) The effect")
    assert norm(case.premises) in a
    assert all(block in a for block in case.blocks)
    assert len(PdfReader(result.path).pages[0].images) == 1  # the scope map
    b = section(text, "(b) The effect", "(c) Failing")
    assert "48 hours" in b and "until 09:30 on Wednesday 12 March 2025" in b
    for permitted in case.permitted:
        assert permitted.words() in b
    assert "habitually live on the premises or by the owner" in b  # s.76(4)
    c = section(text, "(c) Failing", "(d) An application")
    assert "offence" in c and "3 months" in c and "without reasonable excuse" in c
    d = section(text, "(d) An application", "(e) When")
    assert "application" in d and "closure order" in d and "section 80" in d
    e = section(text, "(e) When", "(f) The effect")
    assert COURT in e and COURT_ADDRESS in e and "10:00 on Wednesday 12 March 2025" in e
    f = section(text, "(f) The effect", "(g) Local")
    assert "closure order" in f and "up to 3 months" in f and "51 weeks" in f
    assert "6 months in all" in f and "including the owner" in f
    g = section(text, "(g) Local", "Signature of the issuing officer")
    for contact in case.advice_contacts:
        assert contact.name in g and contact.detail in g
    assert "Issued by: Metropolitan Police Service" in text
    assert "Superintendent" in text and "09:30 on Monday 10 March 2025" in text
    assert GAP not in text  # the full case file leaves nothing to complete


def test_notice_without_a_map_has_no_image(tmp_path: Path) -> None:
    result = render_notice(make_case(scope_map_png=None), tmp_path / "notice.pdf")
    assert sum(len(p.images) for p in PdfReader(result.path).pages) == 0


def test_missing_advice_kind_is_a_gap(tmp_path: Path) -> None:
    housing_only = [AdviceContact("Housing Options", "020 7946 0999", "housing")]
    text = pdf_text(render_notice(make_case(advice_contacts=housing_only), tmp_path / "n.pdf").path)
    g = section(text, "(g) Local", "Signature")
    assert "Housing Options" in g and f"{GAP} legal {GAP}" in g


# -- footers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_every_page_has_reference_title_and_page_x_of_y(tmp_path: Path, name: str) -> None:
    case = busy_case(extension_months=[3])
    result = DOCUMENTS[name](case, tmp_path / f"{name}.pdf")
    pages = page_texts(result.path)
    assert result.pages == len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        assert re.findall(r"page (\d+) of (\d+)", text) == [(str(number), str(len(pages)))]
        assert case.reference_line in text
        assert result.title in text


# -- the application and the draft order -------------------------------------------------------


def test_application_states_grounds_facts_evidence_and_includes_the_draft_order(
    tmp_path: Path,
) -> None:
    case = make_case()
    text = pdf_text(render_application(case, tmp_path / "app.pdf").path)
    grounds = section(text, "5. Grounds", "6. Necessity")
    assert norm(ORDER_GROUNDS["a"]) in grounds and norm(ORDER_GROUNDS["b"]) in grounds
    assert norm(ORDER_GROUNDS["c"]) not in grounds  # only what the officer selected
    assert "necessary to prevent" in section(text, "6. Necessity", "7. Statement")
    assert "deal and take drugs" in section(text, "7. Statement", "8. Evidence")
    evidence = section(text, "8. Evidence", "9. Order sought")
    assert "1 December 2024 to 9 March 2025" in evidence
    assert "ASB - Nuisance 2" in evidence and "Drugs 2" in evidence and "Total 6" in evidence
    assert "Served at (s.79): 10:15 on Monday 10 March 2025" in text
    assert "Latest time for the hearing (s.80(3)): 10:15 on Wednesday 12 March 2025" in text
    order = text[text.index("DRAFT CLOSURE ORDER", text.index("9. Order sought")) :]
    assert "The court orders that" in order and "Schedule of permitted access" in order


def test_application_without_grounds_shows_a_gap(tmp_path: Path) -> None:
    text = pdf_text(render_application(make_case(grounds=[]), tmp_path / "app.pdf").path)
    assert f"{GAP} no ground under s.80(5)" in section(text, "5. Grounds", "6. Necessity")


def test_unknown_ground_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LegalDocumentError, match="s.80\\(5\\); choose from a, b, c"):
        render_application(make_case(grounds=["a", "z"]), tmp_path / "app.pdf")
    assert not (tmp_path / "app.pdf").exists()


def test_draft_order_terms_schedule_duration_warning_and_appeal(tmp_path: Path) -> None:
    case = make_case(order_months=None)
    text = pdf_text(render_draft_order(case, tmp_path / "order.pdf").path)
    assert "The court orders that" in text and "be closed to all persons except" in text
    schedule = section(text, "Schedule of permitted access", "Duration")
    assert "Flats 1-48" in schedule and "between 08:00 and 22:00" in schedule
    assert "the owner of the premises and the landlord's agents at all times -" in schedule
    assert "3 months from the day it is made (the maximum" in text
    assert "51 weeks" in section(text, "Warning (s.86(2))", "Right of appeal")
    assert "Crown Court within 21 days" in text
    assert (
        len(PdfReader(tmp_path / "order.pdf").pages[-1].images)
        + len(PdfReader(tmp_path / "order.pdf").pages[0].images)
        >= 1
    )


@pytest.mark.parametrize("months", [0, 4])
def test_draft_order_longer_than_three_months_is_refused(tmp_path: Path, months: int) -> None:
    with pytest.raises(LegalDocumentError, match="s.80\\(6\\)"):
        render_draft_order(make_case(order_months=months), tmp_path / "order.pdf")


# -- DOCX says what the PDF says ------------------------------------------------------------------


@pytest.mark.parametrize(
    "render, extra",
    [
        (render_notice, ["(c) Failing to comply", "up to 3 months", "section 80"]),
        (
            render_application,
            [
                norm(ORDER_GROUNDS["b"]),
                "deal and take drugs",
                "DRAFT CLOSURE ORDER",
                "Crown Court within 21 days",
            ],
        ),
    ],
)
def test_docx_has_the_same_key_items_as_the_pdf(tmp_path: Path, render, extra: list[str]) -> None:
    case = make_case()
    result = render(case, tmp_path / "doc.pdf", docx_out=tmp_path / "doc.docx")
    assert result.docx == tmp_path / "doc.docx"
    pdf, word = pdf_text(result.path), docx_text(result.docx)
    items = [
        norm(case.premises),
        COURT,
        COURT_ADDRESS,
        "10:00 on Wednesday 12 March 2025",
        *(p.words() for p in case.permitted),
        *extra,
    ]
    items += (
        [x for c in case.advice_contacts for x in (c.name, c.detail)]
        if render is render_notice
        else []
    )
    for item in items:
        assert item in pdf, item
        assert item in word, item
    footer = docx.Document(str(result.docx)).sections[0].footer.paragraphs[0].text
    assert case.reference_line in footer and result.title in footer


# -- gaps are printed, never invented -----------------------------------------------------------


def test_gaps_print_as_to_be_completed(tmp_path: Path) -> None:
    case = make_case(court_address=None, hearing_at=None, authorised_by="")
    text = pdf_text(render_notice(case, tmp_path / "notice.pdf").path)
    e = section(text, "(e) When", "(f) The effect")
    assert f"Address: {GAP}" in e and f"Date and time of hearing: {GAP}" in e
    assert f"Authorised by (rank or authority, s.76(1), s.77(2)): {GAP}" in text


@pytest.mark.parametrize("name", ["notice", "application", "draft_order"])
def test_an_empty_case_file_renders_with_gaps_and_no_placeholders(
    tmp_path: Path, name: str
) -> None:
    empty = make_case(
        premises="",
        blocks=[],
        applicant="",
        authorised_by=None,
        notice_issued_at=None,
        notice_served_at=None,
        notice_hours=0,
        notice_expires_at=None,
        hearing_at=None,
        hearing_deadline=None,
        court_name=None,
        court_address=None,
        case_reference=None,
        order_made_on=None,
        order_months=None,
        order_expires_on=None,
        permitted=[],
        grounds=[],
        facts="",
        chronology=pd.DataFrame(),
        advice_contacts=[],
        prepared_by="",
        scope_map_png=None,
        timeline=None,
    )
    result = DOCUMENTS[name](empty, tmp_path / f"{name}.pdf", docx_out=tmp_path / f"{name}.docx")
    for text in (pdf_text(result.path), docx_text(result.docx)):
        assert GAP in text
        assert not re.search(r"\b(None|nan|NaT)\b", text)


# -- extension (s.82), discharge (s.83), certificate (s.79) -------------------------------------


@pytest.mark.parametrize(
    "order_months, extensions, requested, total",
    [
        (3, [], 3, 6),  # no months given: the 3-month maximum
        (3, [3], 3, 6),  # just inside the 6-month cap
        (3, [2, 1], 1, 6),
        (2, [1], 1, 3),
    ],
)
def test_extension_within_six_months(
    tmp_path: Path, order_months: int, extensions: list[int], requested: int, total: int
) -> None:
    case = make_case(
        order_months=order_months,
        extension_months=extensions,
        extension_reason="Dealing has moved to the bin store <since> 1 May & goes on.",
    )
    text = pdf_text(render_extension(case, tmp_path / "ext.pdf").path)
    assert f"extended by {requested} months" in text
    assert f"last {total} months in all" in text and "6 months in all (s.82(8))" in text
    end = date(2025, 3, 12).replace(month=3 + total)
    assert f"to {end.day} {end:%B %Y}" in text
    assert "Dealing has moved to the bin store <since> 1 May & goes on." in text


@pytest.mark.parametrize(
    "order_months, extensions, message",
    [
        (3, [3, 1], "3 \\+ 3 \\+ 1|6 \\+ 1 = 7 months"),  # just outside the cap
        (3, [3, 3], "6 \\+ 3 = 9 months: it cannot be extended any further"),
        (3, [4], "s.82\\(7\\)"),
        (3, [0], "s.82\\(7\\)"),
    ],
)
def test_extension_past_the_caps_is_refused(
    tmp_path: Path, order_months: int, extensions: list[int], message: str
) -> None:
    out = tmp_path / "ext.pdf"
    with pytest.raises(LegalDocumentError, match=message):
        render_extension(make_case(order_months=order_months, extension_months=extensions), out)
    assert list(tmp_path.iterdir()) == []


def test_extension_of_an_unmade_order_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LegalDocumentError, match="has not been made.*record the date"):
        render_extension(make_case(order_made_on=None), tmp_path / "ext.pdf")
    assert list(tmp_path.iterdir()) == []


def test_discharge(tmp_path: Path) -> None:
    case = make_case(discharge_reason="The landlord has fitted fob-controlled doors.")
    text = pdf_text(render_discharge(case, tmp_path / "dis.pdf").path)
    assert "order made on 12 March 2025 to be discharged" in text
    assert "fob-controlled doors" in section(text, "Reasons for discharge", "Signed")
    with pytest.raises(LegalDocumentError, match="no closure order to discharge"):
        render_discharge(make_case(order_made_on=None), tmp_path / "none.pdf")
    assert not (tmp_path / "none.pdf").exists()


def test_certificate_of_service_lists_every_entrance(tmp_path: Path) -> None:
    case = make_case()
    text = pdf_text(render_certificate_of_service(case, tmp_path / "cert.pdf").path)
    table = section(text, "Service of the notice", "Statement of truth")
    for row in case.service.itertuples():
        assert row.entrance in table and row.photo_ref in table and row.officer in table
    assert "10:15 on Monday 10 March 2025" in table and "10:41 on Monday 10 March 2025" in table
    assert "facts stated in this certificate are true" in text


def test_a_long_service_table_starts_on_the_first_page(tmp_path: Path) -> None:
    result = render_certificate_of_service(busy_case(), tmp_path / "cert.pdf")
    first = page_texts(result.path)[0]
    assert result.pages >= 2 and "Entrance lobby A (Princess Street)" in first


def test_certificate_without_service_is_refused(tmp_path: Path) -> None:
    empty = pd.DataFrame(columns=list(SERVICE_COLUMNS))
    with pytest.raises(LegalDocumentError, match="record where, when and by whom"):
        render_certificate_of_service(make_case(service=empty), tmp_path / "cert.pdf")
    assert list(tmp_path.iterdir()) == []


def test_refusals_are_closuremap_errors() -> None:
    assert issubclass(LegalDocumentError, ClosuremapError)


# -- output -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_same_case_gives_byte_identical_pdf(tmp_path: Path, name: str) -> None:
    first = DOCUMENTS[name](make_case(), tmp_path / "one.pdf")
    second = DOCUMENTS[name](make_case(), tmp_path / "two.pdf")
    assert isinstance(first, DocumentResult)
    data = first.path.read_bytes()
    assert data == second.path.read_bytes()
    assert first.sha256 == second.sha256 == hashlib.sha256(data).hexdigest()
    changed = DOCUMENTS[name](make_case(version=4), tmp_path / "three.pdf")
    assert changed.sha256 != first.sha256


def test_user_text_prints_literally(tmp_path: Path) -> None:
    odd = "Rent <b>$5</b> & Co"
    case = make_case(
        blocks=[odd],
        facts="Costs < £5 & > $3 &amp; <i>no</i> markup",
        advice_contacts=[AdviceContact("Help & <Advice>", "<tel> 020 7946 0000 & $1", "housing")],
        permitted=[PermittedClass("residents", detail="Flats <1> & 2")],
        service=service().assign(block=odd),
    )
    notice = render_notice(case, tmp_path / "n.pdf", docx_out=tmp_path / "n.docx")
    app = render_application(case, tmp_path / "a.pdf", docx_out=tmp_path / "a.docx")
    cert = render_certificate_of_service(case, tmp_path / "c.pdf")
    for text in (pdf_text(notice.path), docx_text(notice.docx)):
        for item in (odd, "Help & <Advice>", "<tel> 020 7946 0000 & $1", "(Flats <1> & 2)"):
            assert item in text
    for text in (pdf_text(app.path), docx_text(app.docx)):
        assert "Costs < £5 & > $3 &amp; <i>no</i> markup" in text
    assert pdf_text(cert.path).count(odd) >= 4  # the premises list and three table rows


def test_failed_render_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "notice.pdf"
    out.write_bytes(b"the notice as served")
    with pytest.raises(LegalDocumentError, match="export the scope map again"):
        render_notice(make_case(scope_map_png=b"not a png"), out)
    assert out.read_bytes() == b"the notice as served"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notice.pdf"]


def test_documents_registry() -> None:
    assert set(DOCUMENTS) == {
        "notice",
        "application",
        "draft_order",
        "extension",
        "discharge",
        "certificate_of_service",
    }


def test_make_case_gives_a_fresh_case_each_time() -> None:
    one, two = make_case(), make_case(case_reference="X/1")
    one.chronology.loc[0, "category"] = "changed"
    one.permitted.append(PermittedClass("police"))
    assert two.chronology.loc[0, "category"] != "changed" and len(two.permitted) == 3
    assert two.case_reference == "X/1" and one.scope_map_png == tiny_png()


# -- layout ------------------------------------------------------------------------------------


@pytest.mark.parametrize("render", [render_notice, render_application])
def test_nothing_is_drawn_in_the_margins(tmp_path: Path, render) -> None:
    """The top 10 mm stay free for the bundle stamp, and nothing runs off the sides."""
    require(shutil.which("pdftoppm") is not None, "pdftoppm (poppler-utils)")
    result = render(busy_case(), tmp_path / "doc.pdf")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", str(result.path), str(tmp_path / "p")], check=True
    )
    sheets = sorted(tmp_path.glob("p-*.png"))
    assert len(sheets) == result.pages
    px_per_mm = 60 / 25.4
    for sheet in sheets:
        image = Image.open(sheet).convert("L")
        w, h = image.size
        top = image.crop((0, 0, w, int(10 * px_per_mm)))
        left = image.crop((0, 0, int(15 * px_per_mm), h))
        right = image.crop((w - int(15 * px_per_mm), 0, w, h))
        for strip in (top, left, right):
            assert strip.getextrema()[0] > 240, sheet.name  # white: nothing drawn there


def test_the_breach_penalty_never_overstates_todays_maximum(tmp_path) -> None:  # noqa: ANN001
    """s.86(5)-(6): 51 weeks is read as 6 months until CJA 2003 s.281(5) is in force."""
    from pypdf import PdfReader

    from closuremap.reports.legal import render_draft_order, render_notice

    for render in (render_notice, render_draft_order):
        result = render(make_case(), tmp_path / f"{render.__name__}.pdf")
        text = " ".join(p.extract_text() for p in PdfReader(result.path).pages).replace("\n", " ")
        assert "51 weeks (6 months until section 281(5) of the Criminal Justice Act 2003" in text
