"""The legal documents of a closure, drawn from one :class:`~reports.case.CaseFile`.

Closure notice (s.76), application for a closure order (s.80) with its draft order, extension
(s.82), discharge (s.83) and certificate of service (s.79). Each is a PDF and, because officers edit
wording before they sign, optionally a DOCX with the same words (both laid out by
:mod:`reports.docblocks`, from one list of blocks). What each says is :mod:`.legal_blocks`; the
wording they share, :mod:`.legal_text`.

A gap in the case file prints as ``[to be completed]``: the program never invents a value. A
document the court could not act on (an extension past six months, a certificate with no service
record) is refused with a :class:`LegalDocumentError` that says what to fix. The same case file
always gives byte-identical PDFs, so the SHA-256 names the exact paper served. Sections of the
Anti-social Behaviour, Crime and Policing Act 2014 are cited next to each rule (rules table:
``shared/domain/closure-powers.md``). Not legal advice: the wording needs legal sign-off.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .atomic import write_atomic
from .case import CaseFile
from .docblocks import Block, render_docx, render_pdf
from .legal_blocks import (
    DRAFT_ORDER_BREAK,
    application_blocks,
    discharge_blocks,
    draft_order_blocks,
    extension_blocks,
    notice_blocks,
    service_blocks,
)

ACT = "Anti-social Behaviour, Crime and Policing Act 2014"


@dataclass
class DocumentResult:
    """One rendered document: the PDF, its page count and hash, and the DOCX if asked for."""

    path: Path
    pages: int
    sha256: str
    title: str
    docx: Path | None = None


@dataclass(frozen=True)
class LegalDocument:
    """One kind of legal document: its title, the section of the Act it is made under, and what
    it says (blocks drawn from the case file)."""

    title: str
    section: str
    blocks: Callable[[CaseFile], list[Block]]

    def render(
        self,
        case: CaseFile,
        out_pdf: str | Path,
        docx_out: str | Path | None = None,
        blocks: Sequence[Block] | None = None,
    ) -> DocumentResult:
        """Lay out in memory first, so a failure leaves no file; then write each atomically."""
        content = self.blocks(case) if blocks is None else blocks
        look = dict(
            title=self.title,
            subtitle=f"{ACT}, {self.section}",
            reference=case.reference_line,
            author=case.applicant or "",
        )
        pdf, pages = render_pdf(content, **look)
        word = render_docx(content, **look) if docx_out is not None else None
        path = write_atomic(out_pdf, pdf)
        docx_path = (
            write_atomic(docx_out, word) if docx_out is not None and word is not None else None
        )
        return DocumentResult(path, pages, hashlib.sha256(pdf).hexdigest(), self.title, docx_path)


NOTICE = LegalDocument("CLOSURE NOTICE", "section 76", notice_blocks)
APPLICATION = LegalDocument("APPLICATION FOR A CLOSURE ORDER", "section 80", application_blocks)
DRAFT_ORDER = LegalDocument("DRAFT CLOSURE ORDER", "section 80", draft_order_blocks)
EXTENSION = LegalDocument("APPLICATION TO EXTEND A CLOSURE ORDER", "section 82", extension_blocks)
DISCHARGE = LegalDocument(
    "COMPLAINT FOR DISCHARGE OF A CLOSURE ORDER", "section 83", discharge_blocks
)
CERTIFICATE_OF_SERVICE = LegalDocument(
    "CERTIFICATE OF SERVICE OF A CLOSURE NOTICE", "section 79", service_blocks
)


def render_notice(
    case: CaseFile, out_pdf: str | Path, docx_out: str | Path | None = None
) -> DocumentResult:
    """The closure notice: what is closed, to whom, until when, and what happens next (s.76)."""
    return NOTICE.render(case, out_pdf, docx_out)


def render_application(
    case: CaseFile,
    out_pdf: str | Path,
    docx_out: str | Path | None = None,
    *,
    include_draft_order: bool = True,
) -> DocumentResult:
    """The application for a closure order to the magistrates (s.80), with the draft order (left
    out where the draft order travels as its own part, as in the court bundle)."""
    blocks = application_blocks(case)
    if not include_draft_order:
        blocks = blocks[: next(i for i, b in enumerate(blocks) if b is DRAFT_ORDER_BREAK)]
    return APPLICATION.render(case, out_pdf, docx_out, blocks)


def render_draft_order(
    case: CaseFile, out_pdf: str | Path, docx_out: str | Path | None = None
) -> DocumentResult:
    """The order as the court is asked to make it (s.80), on its own for editing."""
    return DRAFT_ORDER.render(case, out_pdf, docx_out)


def render_extension(
    case: CaseFile, out_pdf: str | Path, docx_out: str | Path | None = None
) -> DocumentResult:
    """An application to extend the order by ``extension_months[-1]`` (or 3) months (s.82)."""
    return EXTENSION.render(case, out_pdf, docx_out)


def render_discharge(
    case: CaseFile, out_pdf: str | Path, docx_out: str | Path | None = None
) -> DocumentResult:
    """A complaint for the discharge of the order (s.83)."""
    return DISCHARGE.render(case, out_pdf, docx_out)


def render_certificate_of_service(
    case: CaseFile, out_pdf: str | Path, docx_out: str | Path | None = None
) -> DocumentResult:
    """The officer's certificate that the notice was served at every entrance (s.79)."""
    return CERTIFICATE_OF_SERVICE.render(case, out_pdf, docx_out)


DOCUMENTS: dict[str, Callable[..., DocumentResult]] = {
    "notice": render_notice,
    "application": render_application,
    "draft_order": render_draft_order,
    "extension": render_extension,
    "discharge": render_discharge,
    "certificate_of_service": render_certificate_of_service,
}
