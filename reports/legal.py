"""The legal documents of a closure, drawn from one :class:`~reports.case.CaseFile`.

Closure notice (s.76), application for a closure order (s.80) with its draft order, extension
(s.82), discharge (s.83) and certificate of service (s.79). Each is a PDF and, because officers edit
wording before they sign, optionally a DOCX with the same words (both laid out by
:mod:`reports.docblocks`, from one list of blocks).

A gap in the case file prints as ``[to be completed]``: the program never invents a value. A
document the court could not act on (an extension past six months, a certificate with no service
record) is refused with a :class:`LegalDocumentError` that says what to fix. The same case file
always gives byte-identical PDFs, so the SHA-256 names the exact paper served. Sections of the
Anti-social Behaviour, Crime and Policing Act 2014 are cited next to each rule (rules table:
``shared/domain/closure-powers.md``). Not legal advice: the wording needs legal sign-off.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd
from dateutil.relativedelta import relativedelta

from closuremap.geo.errors import ClosuremapError
from closuremap.geo.permitted_access import CLASSES, wording
from closuremap.geo.timeline import (
    APPEAL_DAYS,
    EXTENSION_MAX_MONTHS,
    ORDER_MAX_MONTHS,
    ORDER_TOTAL_MAX_MONTHS,
)

from .atomic import write_atomic
from .case import ORDER_GROUNDS, SERVICE_COLUMNS, AdviceContact, CaseFile
from .docblocks import (
    Block,
    Break,
    Grid,
    Heading,
    Para,
    Picture,
    image_size,
    render_docx,
    render_pdf,
)

GAP = "[to be completed]"
ACT = "Anti-social Behaviour, Crime and Policing Act 2014"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # not allowed in PDF text or DOCX XML


#: s.86(5): up to 51 weeks, read as 6 months until s.281(5) of the Criminal Justice Act 2003 is in
#: force (s.86(6)); the notice says both, so it never overstates the maximum a court can give today.
ORDER_BREACH_PENALTY = (
    "up to 51 weeks (6 months until section 281(5) of the Criminal Justice Act 2003 comes "
    "into force), or a fine, or both"
)


class LegalDocumentError(ClosuremapError):
    """A legal document the case file does not (yet) allow; the message says what to fix."""


@dataclass
class DocumentResult:
    """One rendered document: the PDF, its page count and hash, and the DOCX if asked for."""

    path: Path
    pages: int
    sha256: str
    title: str
    docx: Path | None = None


# -- values as printed ------------------------------------------------------------------------


def _text(value: object) -> str:
    """A value as printed; None, NaN/NaT and blank text are gaps, never a guess."""
    if value is None or value is pd.NA or (isinstance(value, (float, date)) and pd.isna(value)):
        return GAP
    if isinstance(value, datetime):
        return f"{value:%H:%M} on {value:%A} {value.day} {value:%B %Y}"
    if isinstance(value, date):
        return f"{value.day} {value:%B %Y}"
    return _CONTROL.sub("", str(value)).strip() or GAP


def _label(label: str, value: object) -> Para:
    return Para(_text(value), label=label)


def _lines(text: str) -> list[Para]:
    """Multi-line wording (from :func:`geo.permitted_access.wording`): a paragraph a line."""
    lines = [line for line in text.splitlines() if line.strip()]
    return [Para(line, indent=i > 0) for i, line in enumerate(lines)]


def _prose(text: str) -> list[Para]:
    """The officer's own words, a paragraph per blank-line-separated part."""
    parts = [p.strip() for p in re.split(r"\n\s*\n", _CONTROL.sub("", text or "")) if p.strip()]
    return [Para(p) for p in parts] or [Para(GAP)]


def _signature(rows: Sequence[tuple[str, object]]) -> Grid:
    """A form to sign: '' leaves a blank to write on, None prints as a gap."""
    cells = tuple((label, "" if v == "" else _text(v)) for label, v in rows)
    return Grid((), cells, (0.38, 0.62), lines=False)


def _signed_by(name: object, on_behalf_of: object, day: object = "") -> Grid:
    return _signature(
        [("Signed:", "_" * 40), ("Name:", name), ("On behalf of:", on_behalf_of), ("Date:", day)]
    )


# -- sections shared by several documents ------------------------------------------------------


def _premises(case: CaseFile) -> list[Block]:
    """The premises in words, then block by block (s.76(5)(a), s.80(8))."""
    out: list[Block] = [Para(_text(case.premises))]
    if not case.blocks:
        return out + [_label("Blocks:", None)]
    return out + [Para(f"{i}. {_text(b)}", indent=True) for i, b in enumerate(case.blocks, 1)]


def _map(case: CaseFile, *, required: bool) -> list[Block]:
    if not case.scope_map_png:
        return [_label("Map of the premises:", None)] if required else []
    try:
        image_size(case.scope_map_png)
    except (OSError, ValueError) as exc:
        raise LegalDocumentError(
            f"the map of the premises cannot be read ({exc}); export the scope map again as PNG"
        ) from exc
    caption = f"Map: the premises edged red (exhibit {_text(case.exhibit_ref)})"
    return [Picture(case.scope_map_png, caption)]


def _grounds(case: CaseFile) -> list[Block]:
    """The s.80(5) grounds the officer selected, in the Act's words; none is a visible gap."""
    unknown = [g for g in case.grounds if g not in ORDER_GROUNDS]
    if unknown:
        raise LegalDocumentError(
            f"{', '.join(map(repr, unknown))} is not a ground under s.80(5); "
            f"choose from {', '.join(ORDER_GROUNDS)}"
        )
    if not case.grounds:
        return [
            Para(f"{GAP} no ground under s.80(5)(a)-(c) has been selected; select at least one")
        ]
    keys = sorted(set(case.grounds))
    return [
        Para(f"({g}) {ORDER_GROUNDS[g]}{'.' if g == keys[-1] else ';'}", indent=True) for g in keys
    ]


def _order_months(case: CaseFile) -> int:
    months = case.order_months if case.order_months is not None else ORDER_MAX_MONTHS
    if not 0 < months <= ORDER_MAX_MONTHS:  # s.80(6): at most 3 months
        raise LegalDocumentError(
            f"a closure order lasts at most {ORDER_MAX_MONTHS} months "
            f"(s.80(6)); {months} months is not allowed: set the order length "
            "to 1-3 months"
        )
    return months


def _court(case: CaseFile) -> list[Block]:
    return [
        _label("Court:", case.court_name),
        _label("Court address:", case.court_address),
        _label("Case reference:", case.case_reference),
    ]


def _the_order(case: CaseFile) -> list[Block]:
    return [
        Heading("The order"),
        _label("Order made on:", case.order_made_on),
        _label("Order length (months):", case.order_months),
        _label("Order currently expires on:", case.order_expires_on),
    ]


# -- 1. closure notice (s.76) -------------------------------------------------------------------


def _notice_blocks(case: CaseFile) -> list[Block]:
    """Every item s.76(5) requires, each under its own heading, in the Act's order."""
    return [
        _label("Issued by:", case.applicant),
        _label("Authorised by (rank or authority, s.76(1), s.77(2)):", case.authorised_by),
        _label("Date and time of issue:", case.notice_issued_at),
        _label("Case reference:", case.case_reference),
        Heading("(a) The premises to which this notice applies (s.76(5)(a))"),
        *_premises(case),
        *_map(case, required=False),
        Heading("(b) The effect of this notice (s.76(5)(b))"),
        Para(
            f"Access to the premises is prohibited for {_text(case.notice_hours or None)} hours "
            f"from the time of issue, {_text(case.notice_issued_at)}, until "
            f"{_text(case.notice_expires_at)}, except by the persons permitted below."
        ),
        *_lines(wording(_text(case.premises), case.permitted, stage="notice")),
        # s.76(4): a notice may not prohibit access by habitual residents or the owner.
        Para(
            "This notice does not prohibit access by people who habitually live on the premises "
            "or by the owner of the premises (s.76(4))."
        ),
        Heading("(c) Failing to comply with this notice is an offence (s.76(5)(c))"),
        # s.86(1), (4): a summary offence, up to 3 months' imprisonment and/or a fine.
        Para(
            "A person who without reasonable excuse remains on or enters the premises in "
            "contravention of this closure notice commits an offence (s.86(1)). The penalty on "
            "summary conviction is imprisonment for up to 3 months, or a fine, or both "
            "(s.86(4))."
        ),
        Heading("(d) An application will be made for a closure order (s.76(5)(d))"),
        # s.80(1)-(2): once a notice is issued, the order application must follow.
        Para(
            f"{_text(case.applicant)} will apply to the magistrates' court for a closure order "
            "under section 80 of the Act in respect of the premises."
        ),
        Heading("(e) When and where the application will be heard (s.76(5)(e))"),
        _label("Court:", case.court_name),
        _label("Address:", case.court_address),
        _label("Date and time of hearing:", case.hearing_at),
        Heading("(f) The effect of a closure order (s.76(5)(f))"),
        *_order_effect(),
        Heading("(g) Local housing and legal advice (s.76(5)(g))"),
        Para("Advice about housing and legal matters is available from:", keep=True),
        _advice(case.advice_contacts),
        Heading("Signature of the issuing officer"),
        _signature(
            [
                ("Signed:", "_" * 40),
                ("Name:", ""),
                ("Rank or authority:", case.authorised_by),
                ("On behalf of:", case.applicant),
                ("Date and time of issue:", case.notice_issued_at),
            ]
        ),
    ]


def _order_effect() -> list[Block]:
    """What a closure order can do, as the notice must say (s.76(5)(f))."""
    return [
        # s.80(6): at most 3 months; s.80(7): may bar all persons, owner and residents included.
        Para(
            "If the court makes a closure order, it may prohibit access to the premises for up to "
            "3 months (s.80(6)). A closure order may prohibit access by all persons, including "
            "the owner and people who habitually live on the premises, or by all persons except "
            "those it names, at all times or at the times it names (s.80(7))."
        ),
        # s.82(7)-(8): extensions of up to 3 months each, 6 months in all.
        Para("The court may extend a closure order so that it lasts up to 6 months in all (s.82)."),
        # s.86(2), (5): 51 weeks (read as 6 months until CJA 2003 s.281(5) is in force, s.86(6)).
        Para(
            "A person who without reasonable excuse remains on or enters the premises in "
            "contravention of a closure order commits an offence, punishable by imprisonment for "
            f"{ORDER_BREACH_PENALTY} (s.86(2), (5), (6))."
        ),
    ]


def _advice(contacts: Sequence[AdviceContact]) -> Grid:
    """Each advice service's name and how to reach it; a missing kind is a visible gap."""
    rows = [(_text(c.name), _text(c.kind), _text(c.detail)) for c in contacts]
    for kind in ("housing", "legal"):  # s.76(5)(g) names both
        if not any(c.kind == kind for c in contacts):
            rows.append((GAP, kind, GAP))
    return Grid(("Advice service", "Advice on", "How to contact"), tuple(rows), (0.35, 0.15, 0.5))


# -- 2. application (s.80) and 3. draft order ----------------------------------------------------

_DRAFT_ORDER_BREAK = Break()


def _application_blocks(case: CaseFile) -> list[Block]:
    """What the justices need to decide s.80(5), then the order sought, as a draft."""
    return [
        Heading("1. Applicant"),
        _label("Applicant:", case.applicant),
        _label("Notice authorised by:", case.authorised_by),
        _label("Prepared by:", case.prepared_by),
        Heading("2. Court and hearing"),
        *_court(case),
        _label("Hearing:", case.hearing_at),
        # s.80(3)-(4): heard within 48 hours of service, Christmas Day disregarded.
        _label("Latest time for the hearing (s.80(3)):", case.hearing_deadline),
        Heading("3. The premises"),
        *_premises(case),
        Heading("4. The closure notice (s.76)"),
        _label("Issued at:", case.notice_issued_at),
        _label("Served at (s.79):", case.notice_served_at),
        _label("Length (hours):", case.notice_hours or None),
        _label("Expires at:", case.notice_expires_at),
        Heading("5. Grounds (s.80(5))"),
        Para("The applicant asks the court to be satisfied, on the balance of probabilities:"),
        *_grounds(case),
        Heading("6. Necessity (s.80(5))"),
        Para(
            "The applicant believes that a closure order is necessary to prevent the behaviour, "
            "nuisance or disorder set out above from continuing, recurring or occurring."
        ),
        Heading("7. Statement of facts"),
        *_prose(case.facts),
        Heading("8. Evidence"),
        Para(f"Evidence window: {_text(case.evidence_from)} to {_text(case.evidence_to)}."),
        *_chronology_summary(case.chronology),
        Heading("9. Order sought"),
        Para(
            "The applicant asks the court to make a closure order in the terms of the draft order "
            "that follows.",
            keep=True,
        ),
        _signed_by(case.prepared_by, case.applicant, case.prepared_on),
        _DRAFT_ORDER_BREAK,
        Heading("DRAFT CLOSURE ORDER", level=0),
        *_draft_order_blocks(case),
    ]


def _chronology_summary(chronology: pd.DataFrame | None) -> list[Block]:
    if chronology is None or not len(chronology) or "category" not in chronology.columns:
        return [_label("Incidents in the chronology:", None)]
    counts = chronology["category"].map(_text).value_counts().sort_index()
    rows = tuple((str(k), str(v)) for k, v in counts.items()) + (("Total", str(len(chronology))),)
    return [
        Para(
            f"The chronology lists {len(chronology)} incidents in the evidence window, by "
            "category:",
            keep=True,
        ),
        Grid(("Category", "Incidents"), rows, (0.7, 0.3)),
    ]


def _draft_order_blocks(case: CaseFile) -> list[Block]:
    """The order the court is asked to make: terms, schedule, duration, map and warnings."""
    months = _order_months(case)
    schedule = tuple(
        (CLASSES.get(c.code, c.code), _text(c.times), c.detail.strip() or "-")
        for c in case.permitted
    ) or (("No one (closed to all persons)", "-", "-"),)
    default = "" if case.order_months is not None else " (the maximum; no shorter period was set)"
    return [
        *_court(case),
        _label("Applicant:", case.applicant),
        Para(
            f"Upon the application of {_text(case.applicant)} under section 80 of the Act, the "
            "court being satisfied of the following (s.80(5)), and that the order is necessary to "
            "prevent the behaviour, nuisance or disorder continuing, recurring or occurring:"
        ),
        *_grounds(case),
        Heading("Terms of the order (s.80(7))", level=2),
        *_lines(wording(_text(case.premises), case.permitted, stage="order")),
        Heading("Schedule of permitted access", level=2),
        Grid(("Class", "Times", "Detail"), schedule, (0.5, 0.25, 0.25)),
        Heading("Duration (s.80(6))", level=2),
        Para(
            f"This order has effect for {months} months from the day it is made{default}. A "
            f"closure order may not last more than {ORDER_MAX_MONTHS} months (s.80(6)); it may be "
            f"extended to {ORDER_TOTAL_MAX_MONTHS} months in all (s.82)."
        ),
        _label("Made on:", case.order_made_on),
        _label("Expires on:", case.order_expires_on),
        Heading("Map of the premises", level=2),
        *_map(case, required=True),
        Heading("Warning (s.86(2))", level=2),
        Para(
            "A person who without reasonable excuse remains on or enters the premises in "
            "contravention of this order commits an offence, punishable by imprisonment for "
            f"{ORDER_BREACH_PENALTY} (s.86(2), (5), (6))."
        ),
        Heading("Right of appeal (s.84)", level=2),
        # s.84: appeal to the Crown Court within 21 days of the decision.
        Para(
            "A person on whom the closure notice was served, or anyone else with an interest in "
            "the premises, may appeal against this order to the Crown Court within "
            f"{APPEAL_DAYS} days of the day on which it is made (s.84)."
        ),
        _signature(
            [
                ("By the court:", "_" * 40),
                ("Justice of the Peace / District Judge:", ""),
                ("Date:", ""),
            ]
        ),
    ]


# -- 4. extension (s.82), 5. discharge (s.83), 6. certificate of service (s.79) ------------------


def _extension_months(case: CaseFile) -> tuple[int, int]:
    """(months requested, total months with it); refuses what the court could not grant."""
    if case.order_made_on is None:  # s.82(1): only an order in force can be extended
        raise LegalDocumentError(
            "the closure order has not been made, so it cannot be extended "
            "(s.82): record the date the court made the order first"
        )
    requested = case.extension_months[-1] if case.extension_months else EXTENSION_MAX_MONTHS
    if not 0 < requested <= EXTENSION_MAX_MONTHS:  # s.82(7): at most 3 months at a time
        raise LegalDocumentError(
            f"an extension is at most {EXTENSION_MAX_MONTHS} months at a time "
            f"(s.82(7)); {requested} months is not allowed: ask for 1-3 "
            "months"
        )
    before = _order_months(case) + sum(case.extension_months[:-1])
    total = before + requested
    if total > ORDER_TOTAL_MAX_MONTHS:  # s.82(8): 6 months in all
        room = ORDER_TOTAL_MAX_MONTHS - before
        fix = f"ask for at most {room} months" if room > 0 else "it cannot be extended any further"
        raise LegalDocumentError(
            f"a closure order with its extensions lasts at most "
            f"{ORDER_TOTAL_MAX_MONTHS} months in all (s.82(8)); {before} + "
            f"{requested} = {total} months: {fix}"
        )
    return requested, total


def _extension_blocks(case: CaseFile) -> list[Block]:
    """An application the court can grant: there is an order, within 3 and 6 months (s.82)."""
    requested, total = _extension_months(case)
    assert case.order_made_on is not None  # checked above
    earlier = ", ".join(f"{m} months" for m in case.extension_months[:-1]) or "none"
    new_end = _text(case.order_made_on + relativedelta(months=total))
    return [
        _label("Applicant:", case.applicant),
        *_court(case),
        Heading("The premises"),
        *_premises(case),
        *_the_order(case),
        _label("Earlier extensions:", earlier),
        Heading("Extension sought (s.82)"),
        Para(
            f"The applicant applies for the closure order to be extended by {requested} months, "
            f"to {new_end}. With this extension the order would last {total} months in all. Each "
            f"extension is at most {EXTENSION_MAX_MONTHS} months (s.82(7)) and an order may not "
            f"last more than {ORDER_TOTAL_MAX_MONTHS} months in all (s.82(8)). The application "
            "must be made before the order expires (s.82)."
        ),
        Heading("Reasons for the extension"),
        *_prose(case.extension_reason),
        _signed_by(case.prepared_by, case.applicant),
    ]


def _discharge_blocks(case: CaseFile) -> list[Block]:
    """A complaint to discharge the order; there must be an order to discharge (s.83)."""
    if case.order_made_on is None:
        raise LegalDocumentError(
            "there is no closure order to discharge: the order has not been "
            "made (s.83); record the date the court made the order first"
        )
    return [
        _label("Complainant:", case.applicant),
        *_court(case),
        Heading("The premises"),
        *_premises(case),
        *_the_order(case),
        Heading("Complaint (s.83)"),
        # s.83: by complaint, before expiry, by the applicant body, anyone served or interested.
        Para(
            "The complainant applies by complaint to the magistrates' court for the closure order "
            f"made on {_text(case.order_made_on)} to be discharged. A complaint may be made by "
            "the body that applied for the order, a person on whom the closure notice was served, "
            "or anyone else with an interest in the premises, before the order expires (s.83)."
        ),
        Heading("Reasons for discharge"),
        *_prose(case.discharge_reason),
        _signed_by(case.prepared_by, case.applicant),
    ]


def _service_blocks(case: CaseFile) -> list[Block]:
    """Where, when and by whom the notice was fixed (s.79(2)); no record, nothing to certify."""
    if case.service is None or not len(case.service):
        raise LegalDocumentError(
            "there is no record of service: record where, when and by whom "
            "the notice was served (s.79) before making the certificate"
        )
    rows = tuple(
        tuple(_text(r.get(c)) for c in SERVICE_COLUMNS) for r in case.service.to_dict("records")
    )
    officers = sorted({row[3] for row in rows if row[3] != GAP})
    return [
        _label("Closure notice issued by:", case.applicant),
        _label("Issued at:", case.notice_issued_at),
        _label("Case reference:", case.case_reference),
        Heading("The premises"),
        *_premises(case),
        Heading("Service of the notice (s.79)"),
        # s.79(2)(a): a copy fixed at every normal means of access, if possible.
        Para(
            "A copy of the closure notice was fixed at each of the following entrances to the "
            "premises (s.79(2)(a)):",
            keep=True,
        ),
        Grid(
            ("Entrance", "Block", "Served at", "Officer", "Photo ref"),
            rows,
            (0.26, 0.22, 0.2, 0.18, 0.14),
        ),
        # s.79(2)(b)-(c): copies to people in control, residents and those told under s.76(6).
        _label(
            "Copies given to people in control of, living on, or with an interest in the "
            "premises (s.79(2)(b)-(c)):",
            None,
        ),
        Heading("Statement of truth"),
        Para(
            "I certify that the closure notice was served as set out above. I believe that the "
            "facts stated in this certificate are true.",
            keep=True,
        ),
        _signature(
            [
                ("Signed:", "_" * 40),
                ("Name:", officers[0] if len(officers) == 1 else ""),
                ("Date:", ""),
            ]
        ),
    ]


# -- rendering ----------------------------------------------------------------------------------


def _render(
    case: CaseFile,
    blocks: Sequence[Block],
    *,
    title: str,
    section: str,
    out_pdf: str | Path,
    docx_out: str | Path | None,
) -> DocumentResult:
    """Lay out in memory first, so a failure leaves no file; then write each atomically."""
    look = dict(
        title=title,
        subtitle=f"{ACT}, {section}",
        reference=case.reference_line,
        author=case.applicant or "",
    )
    pdf, pages = render_pdf(blocks, **look)
    word = render_docx(blocks, **look) if docx_out is not None else None
    path = write_atomic(out_pdf, pdf)
    docx_path = write_atomic(docx_out, word) if docx_out is not None and word is not None else None
    return DocumentResult(path, pages, hashlib.sha256(pdf).hexdigest(), title, docx_path)


def render_notice(
    case: CaseFile, out_pdf: str | Path, docx_out: str | Path | None = None
) -> DocumentResult:
    """The closure notice: what is closed, to whom, until when, and what happens next (s.76)."""
    return _render(
        case,
        _notice_blocks(case),
        title="CLOSURE NOTICE",
        section="section 76",
        out_pdf=out_pdf,
        docx_out=docx_out,
    )


def render_application(
    case: CaseFile,
    out_pdf: str | Path,
    docx_out: str | Path | None = None,
    *,
    include_draft_order: bool = True,
) -> DocumentResult:
    """The application for a closure order to the magistrates (s.80), with the draft order (left
    out where the draft order travels as its own part, as in the court bundle)."""
    blocks = _application_blocks(case)
    if not include_draft_order:
        blocks = blocks[: next(i for i, b in enumerate(blocks) if b is _DRAFT_ORDER_BREAK)]
    return _render(
        case,
        blocks,
        title="APPLICATION FOR A CLOSURE ORDER",
        section="section 80",
        out_pdf=out_pdf,
        docx_out=docx_out,
    )


def render_draft_order(
    case: CaseFile, out_pdf: str | Path, docx_out: str | Path | None = None
) -> DocumentResult:
    """The order as the court is asked to make it (s.80), on its own for editing."""
    return _render(
        case,
        _draft_order_blocks(case),
        title="DRAFT CLOSURE ORDER",
        section="section 80",
        out_pdf=out_pdf,
        docx_out=docx_out,
    )


def render_extension(
    case: CaseFile, out_pdf: str | Path, docx_out: str | Path | None = None
) -> DocumentResult:
    """An application to extend the order by ``extension_months[-1]`` (or 3) months (s.82)."""
    return _render(
        case,
        _extension_blocks(case),
        title="APPLICATION TO EXTEND A CLOSURE ORDER",
        section="section 82",
        out_pdf=out_pdf,
        docx_out=docx_out,
    )


def render_discharge(
    case: CaseFile, out_pdf: str | Path, docx_out: str | Path | None = None
) -> DocumentResult:
    """A complaint for the discharge of the order (s.83)."""
    return _render(
        case,
        _discharge_blocks(case),
        title="COMPLAINT FOR DISCHARGE OF A CLOSURE ORDER",
        section="section 83",
        out_pdf=out_pdf,
        docx_out=docx_out,
    )


def render_certificate_of_service(
    case: CaseFile, out_pdf: str | Path, docx_out: str | Path | None = None
) -> DocumentResult:
    """The officer's certificate that the notice was served at every entrance (s.79)."""
    return _render(
        case,
        _service_blocks(case),
        title="CERTIFICATE OF SERVICE OF A CLOSURE NOTICE",
        section="section 79",
        out_pdf=out_pdf,
        docx_out=docx_out,
    )


DOCUMENTS: dict[str, Callable[..., DocumentResult]] = {
    "notice": render_notice,
    "application": render_application,
    "draft_order": render_draft_order,
    "extension": render_extension,
    "discharge": render_discharge,
    "certificate_of_service": render_certificate_of_service,
}
