"""Documents as neutral blocks, and the two renderers that turn them into PDF and DOCX.

A legal document is written once as a list of blocks (heading, paragraph, table, picture, page
break); :func:`render_pdf` and :func:`render_docx` lay the same blocks out, so the PDF served and
the DOCX an officer edits say the same words. Block text is plain text: the PDF renderer escapes
it, so a block named ``Rent <b>$5</b> & Co`` prints exactly so.

The PDF is built in reportlab's invariant mode (same blocks, same bytes), on A4 with every page's
footer carrying the reference line, the title and "page X of Y". The top 18 mm of each page stay
free for the court bundle's stamp (reports.bundle needs the top 10 mm).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import docx
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    CondPageBreak,
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

TOP_MARGIN_MM = 18.0  # free for the bundle stamp
SIDE_MARGIN_MM = 20.0
BOTTOM_MARGIN_MM = 24.0  # the footer sits in here
MAP_MAX_HEIGHT_MM = 110.0
LONG_TABLE_ROWS = 12  # longer tables may break across pages right after their introduction


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1  # 0: a document title inside a document (the draft order in the application)


@dataclass(frozen=True)
class Para:
    text: str
    label: str = ""  # printed in bold before the text
    indent: bool = False
    keep: bool = False  # keep on the page of the next block (an introduction to a table)


@dataclass(frozen=True)
class Grid:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]  # fractions of the text width
    lines: bool = True  # False: a form (signature block) without rules


@dataclass(frozen=True)
class Picture:
    png: bytes
    caption: str


@dataclass(frozen=True)
class Break:
    pass


Block = Heading | Para | Grid | Picture | Break


# -- PDF --------------------------------------------------------------------------------------

_MARGIN = SIDE_MARGIN_MM * mm
_WIDTH = A4[0] - 2 * _MARGIN


def _style(name: str, size: float, *, bold: bool = False, **kw: Any) -> ParagraphStyle:
    font = "Helvetica-Bold" if bold else "Helvetica"
    return ParagraphStyle(name, fontName=font, fontSize=size, leading=size * 1.28, **kw)


_STYLES = {
    "title": _style("title", 16, bold=True, spaceAfter=3),
    "subtitle": _style("subtitle", 9.5, spaceAfter=8, textColor=colors.HexColor("#333333")),
    "h0": _style("h0", 15, bold=True, spaceAfter=8),
    "h1": _style("h1", 11.5, bold=True, spaceBefore=9, spaceAfter=4),
    "h2": _style("h2", 10.5, bold=True, spaceBefore=7, spaceAfter=3),
    "body": _style("body", 10, spaceAfter=4),
    "item": _style("item", 10, spaceAfter=2, leftIndent=8 * mm),
    "cell": _style("cell", 9),
    "head": _style("head", 9, bold=True),
}


def markup(text: str) -> str:
    """Plain text made safe for reportlab's mini-markup: '<b>' and '&' print as typed."""
    return escape(text).replace("\n", "<br/>")


def image_size(png: bytes) -> tuple[int, int]:
    """Pixel size of an image; raises OSError or ValueError when it cannot be read."""
    try:
        w, h = ImageReader(io.BytesIO(png)).getSize()
    except Exception as exc:  # reportlab re-raises PIL's errors under several types
        raise ValueError(str(exc)) from exc
    return int(w), int(h)


def _pdf_grid(block: Grid) -> Table:
    cells = [[Paragraph(markup(v), _STYLES["cell"]) for v in row] for row in block.rows]
    if block.header:
        cells.insert(0, [Paragraph(markup(h), _STYLES["head"]) for h in block.header])
    table = Table(
        cells,
        colWidths=[w * _WIDTH for w in block.widths],
        hAlign="LEFT",
        repeatRows=1 if block.header else 0,
    )
    style: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]
    if block.lines:
        style.append(("GRID", (0, 0), (-1, -1), 0.5, colors.grey))
    if block.header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")))
    table.setStyle(TableStyle(style))
    return table


def _pdf_flowables(b: Block) -> list[Any]:
    if isinstance(b, Heading):
        return [Paragraph(markup(b.text), _STYLES[f"h{min(b.level, 2)}"])]
    if isinstance(b, Para):
        lead = f"<b>{markup(b.label)}</b> " if b.label else ""
        return [Paragraph(lead + markup(b.text), _STYLES["item" if b.indent else "body"])]
    if isinstance(b, Grid):
        return [Spacer(1, 2 * mm), _pdf_grid(b), Spacer(1, 3 * mm)]
    if isinstance(b, Picture):
        w, h = image_size(b.png)
        scale = min(_WIDTH / w, MAP_MAX_HEIGHT_MM * mm / h)
        return [
            Image(io.BytesIO(b.png), width=w * scale, height=h * scale, hAlign="LEFT"),
            Paragraph(markup(b.caption), _STYLES["item"]),
        ]
    return [PageBreak()]


def _pdf_story(blocks: Sequence[Block], title: str, subtitle: str) -> list[Any]:
    """The flowables, each heading (and each introduction) kept on the page of what follows."""
    story: list[Any] = [
        Paragraph(markup(title), _STYLES["title"]),
        Paragraph(markup(subtitle), _STYLES["subtitle"]),
    ]
    pending: list[Any] = []
    for b in blocks:
        flowables = _pdf_flowables(b)
        if isinstance(b, Heading) or (isinstance(b, Para) and b.keep):
            pending += flowables
        elif pending and isinstance(b, Grid) and len(b.rows) > LONG_TABLE_ROWS:
            # a long table starts on this page if its introduction and a few rows fit
            story += [CondPageBreak(40 * mm), *pending, *flowables]
            pending = []
        elif pending and not isinstance(b, Break):
            story.append(KeepTogether(pending + flowables))
            pending = []
        elif isinstance(b, Picture):
            story.append(KeepTogether(flowables))  # never a caption without its map
        else:
            story += pending + flowables
            pending = []
    return story + pending


class _FooterCanvas(canvas.Canvas):
    """Draws every footer after the last page, when 'page X of Y' is known (two-pass pattern)."""

    def __init__(self, *args: Any, footer: tuple[str, str], pages: list[int], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._footer, self._pages_out = footer, pages
        self._states: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 (reportlab's name)
        self._states.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._states)
        reference, title = self._footer
        for number, state in enumerate(self._states, start=1):
            self.__dict__.update(state)
            self.setStrokeColor(colors.grey)
            self.line(_MARGIN, 17 * mm, A4[0] - _MARGIN, 17 * mm)
            self.setFont("Helvetica", 8)
            self.drawString(_MARGIN, 12.5 * mm, reference)
            self.drawString(_MARGIN, 8.5 * mm, title)
            self.drawRightString(A4[0] - _MARGIN, 8.5 * mm, f"page {number} of {total}")
            super().showPage()
        self._pages_out.append(total)
        super().save()


def render_pdf(
    blocks: Sequence[Block], *, title: str, subtitle: str, reference: str, author: str = ""
) -> tuple[bytes, int]:
    """The PDF bytes and page count; invariant, so the same blocks always give the same bytes."""
    buffer, pages = io.BytesIO(), []
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=TOP_MARGIN_MM * mm,
        bottomMargin=BOTTOM_MARGIN_MM * mm,
        invariant=1,
        title=title,
        author=author,
        subject=reference,
        creator="closuremap",
    )

    def maker(*args: Any, **kwargs: Any) -> _FooterCanvas:
        return _FooterCanvas(*args, footer=(reference, title), pages=pages, **kwargs)

    doc.build(_pdf_story(blocks, title, subtitle), canvasmaker=maker)
    return buffer.getvalue(), pages[-1]


# -- DOCX -------------------------------------------------------------------------------------


def _docx_field(paragraph: Any, code: str) -> None:
    """A PAGE / NUMPAGES field, which Word fills in when it lays the pages out."""
    field, run, text = OxmlElement("w:fldSimple"), OxmlElement("w:r"), OxmlElement("w:t")
    field.set(qn("w:instr"), code)
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _docx_block(d: Any, b: Block) -> None:
    if isinstance(b, Heading):
        d.add_heading(b.text, level=min(b.level, 3))
    elif isinstance(b, Para):
        p = d.add_paragraph()
        if b.label:
            p.add_run(b.label + " ").bold = True
        p.add_run(b.text)
        if b.indent:
            p.paragraph_format.left_indent = Mm(8)
    elif isinstance(b, Grid):
        rows = ([b.header] if b.header else []) + list(b.rows)
        table = d.add_table(rows=len(rows), cols=len(b.widths))
        if b.lines:
            table.style = "Table Grid"
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                table.cell(r, c).text = value
                if b.header and r == 0:
                    for run in table.cell(r, c).paragraphs[0].runs:
                        run.bold = True
    elif isinstance(b, Picture):
        d.add_picture(io.BytesIO(b.png), width=Mm(120))
        d.add_paragraph(b.caption)
    else:
        d.add_page_break()


def render_docx(
    blocks: Sequence[Block], *, title: str, subtitle: str, reference: str, author: str = ""
) -> bytes:
    """The same blocks as an editable Word document, with the reference and page in the footer."""
    d = docx.Document()
    d.core_properties.title, d.core_properties.author = title, author
    d.styles["Normal"].font.size = Pt(10.5)
    d.add_heading(title, level=0)
    d.add_paragraph(subtitle)
    for b in blocks:
        _docx_block(d, b)
    foot = d.sections[0].footer.paragraphs[0]
    foot.text = f"{reference} · {title} · page "
    _docx_field(foot, "PAGE")
    foot.add_run(" of ")
    _docx_field(foot, "NUMPAGES")
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()
