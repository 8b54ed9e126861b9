"""The pages the court bundle makes itself: the incident chronology, the consultation record and
a picture page (the hot-spot map, the before/after chart), in the bundle's fonts and styles, each
leaving the top 18 mm free for the bundle's page stamp (:mod:`.bundle` assembles them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from io import BytesIO
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import matplotlib
import pandas as pd
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from closuremap.geo.errors import ClosuremapError

from .case import CHRONOLOGY_COLUMNS

SANS, SANS_BOLD, MONO = "BundleSans", "BundleSans-Bold", "BundleMono"
TOP_MARGIN_MM = 18.0  # what the renderers here leave free above their content, for the stamp

CELL_PAD_PT = 2.0


LETTER_COLUMNS = ("made_at", "count", "made_by")

OBJECTION_COLUMNS = ("who", "received_on", "summary", "response")


class BundleError(ClosuremapError):
    """A part or a table that cannot go into the bundle; the message names it and says what to
    fix."""


# -- fonts and styles, shared with the index page --------------------------------------------------


def register_fonts() -> None:
    """Register DejaVu (shipped with matplotlib): it prints '·', '—' and Welsh names, and its text
    extracts, which the standard Type 1 fonts cannot promise for anything beyond Latin-1."""
    if SANS in pdfmetrics.getRegisteredFontNames():
        return
    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(SANS, str(ttf / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(SANS_BOLD, str(ttf / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFont(TTFont(MONO, str(ttf / "DejaVuSansMono.ttf")))
    pdfmetrics.registerFontFamily(
        SANS, normal=SANS, bold=SANS_BOLD, italic=SANS, boldItalic=SANS_BOLD
    )


def text_style(
    size: float = 9.0, *, bold: bool = False, mono: bool = False, space_after: float = 0.0
) -> ParagraphStyle:
    """A paragraph style in the bundle's fonts (DejaVu), by size and weight."""
    register_fonts()
    font = MONO if mono else SANS_BOLD if bold else SANS
    return ParagraphStyle(
        f"{font}-{size}", fontName=font, fontSize=size, leading=size * 1.25, spaceAfter=space_after
    )


def paragraph(text: object, style: ParagraphStyle) -> Paragraph:
    """A paragraph of user text: escaped, so '<b>' and '&' print as typed."""
    return Paragraph(escape(str(text)), style)


def heading(text: str) -> Paragraph:
    """A part's heading, 14 pt bold."""
    return paragraph(text, text_style(14, bold=True, space_after=6))


def ruled_table(
    rows: list[list[Any]], widths: list[float], *, header_font: str = SANS_BOLD
) -> Table:
    """A ruled table whose header repeats on every page it runs onto."""
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#808080")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")),
                ("FONTNAME", (0, 0), (-1, 0), header_font),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD_PT),
                ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD_PT),
            ]
        )
    )
    return table


def document_pdf(
    story: list[Flowable], *, title: str, pagesize: tuple[float, float] = A4, side_mm: float = 15.0
) -> bytes:
    """Lay out flowables into a PDF with the top margin the bundle stamp needs; invariant, so
    the same story gives the same bytes."""
    buf = BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=pagesize,
        leftMargin=side_mm * mm,
        rightMargin=side_mm * mm,
        topMargin=TOP_MARGIN_MM * mm,
        bottomMargin=15 * mm,
        title=title,
        author="closuremap",
        creator="closuremap",
        invariant=1,
    )
    doc.build(story)
    return buf.getvalue()


# -- formatting plain values ----------------------------------------------------------------------


def long_date(d: date) -> str:
    """A date as the bundle prints it in prose: 1 September 2024."""
    return f"{d.day} {d:%B %Y}"


def _blank(value: object) -> bool:
    return value is None or (not isinstance(value, (list, tuple)) and bool(pd.isna(value)))


def _as_date(value: object) -> date | None:
    """A cell's date, or None when it is not one (then the row cannot be placed in time)."""
    if _blank(value):
        return None
    if isinstance(value, datetime):  # pd.Timestamp is a datetime
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def _cell(value: object) -> str:
    """How a table cell prints: dates as '1 Sep 2024', times as '14:05', gaps as blank."""
    if _blank(value):
        return ""
    if isinstance(
        value, datetime
    ):  # pd.Timestamp too; a bare midnight is a date read as a datetime
        clock = "" if value.time() == time(0) else f" {value:%H:%M}"
        return f"{value.day} {value:%b %Y}{clock}"
    if isinstance(value, date):
        return f"{value.day} {value:%b %Y}"
    if isinstance(value, time):
        return f"{value:%H:%M}"
    return str(value)


def _require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise BundleError(
            f"The {what} has no column(s) {', '.join(missing)}; it needs {', '.join(columns)}."
        )


# -- the pages --------------------------------------------------------------------------------


def _chronology_rows(
    chronology: pd.DataFrame, evidence_from: date, evidence_to: date
) -> pd.DataFrame:
    """The rows oldest first, refusing any that cannot be dated or that fall outside the window:
    the heading states the window, so the table must not contradict it."""
    _require_columns(chronology, CHRONOLOGY_COLUMNS, "incident chronology")
    frame = chronology.loc[:, list(CHRONOLOGY_COLUMNS)].reset_index(drop=True)
    days = [_as_date(v) for v in frame["date"]]
    undated = [str(frame.at[i, "reference"]) for i, d in enumerate(days) if d is None]
    if undated:
        raise BundleError(
            f"Incidents without a readable date: {', '.join(undated[:5])}. "
            "Give each a date (YYYY-MM-DD) before building the chronology."
        )
    outside = [
        str(frame.at[i, "reference"])
        for i, d in enumerate(days)
        if not evidence_from <= d <= evidence_to
    ]
    if outside:
        raise BundleError(
            f"{len(outside)} incident(s) fall outside the evidence window "
            f"({long_date(evidence_from)} to {long_date(evidence_to)}): {', '.join(outside[:5])}. "
            "Filter the chronology to the window, or widen the window."
        )
    frame["date"] = pd.Series(
        days, dtype=object
    )  # printed alike, whether given as dates or ISO text
    order = sorted(range(len(frame)), key=lambda i: (days[i], _cell(frame.at[i, "time"])))
    return frame.iloc[order].reset_index(drop=True)


def render_chronology(
    chronology: pd.DataFrame, *, evidence_from: date, evidence_to: date, title: str
) -> bytes:
    """The incident chronology as a table, oldest first, under a heading that states the evidence
    window and how many incidents it holds. An empty window says so rather than printing nothing.

    Raises BundleError when a column is missing, a date is unreadable or a row is outside the
    window.
    """
    if evidence_from > evidence_to:
        raise BundleError(
            f"The evidence window starts ({long_date(evidence_from)}) after it ends "
            f"({long_date(evidence_to)})."
        )
    rows = _chronology_rows(chronology, evidence_from, evidence_to)
    body = text_style(9, space_after=4)
    n = len(rows)
    story: list[Flowable] = [
        heading(title),
        paragraph(f"Evidence window: {long_date(evidence_from)} to {long_date(evidence_to)}", body),
    ]
    if n == 0:
        story.append(
            paragraph(
                "No incidents were recorded in the evidence window.", text_style(11, bold=True)
            )
        )
        return document_pdf(story, title=title)
    story += [
        paragraph(
            f"{n} incident{'s' if n != 1 else ''} recorded in the window, oldest first.", body
        ),
        Spacer(1, 3 * mm),
    ]
    cell = text_style(8)
    header = [paragraph(c.capitalize(), text_style(8, bold=True)) for c in CHRONOLOGY_COLUMNS]
    data = [header] + [
        [paragraph(_cell(v), cell) for v in row] for row in rows.itertuples(index=False)
    ]
    story.append(ruled_table(data, [22 * mm, 13 * mm, 38 * mm, 32 * mm, 75 * mm]))
    return document_pdf(story, title=title)


def _table_or_none(
    frame: pd.DataFrame | None,
    columns: Sequence[str],
    headers: Sequence[str],
    widths_mm: Sequence[float],
    what: str,
) -> list[Flowable]:
    """One consultation table, or the words 'None recorded.' when there is nothing to list."""
    if frame is None or len(frame) == 0:
        return [paragraph("None recorded.", text_style(9, space_after=6))]
    _require_columns(frame, columns, what)
    cell = text_style(8)
    data = [[paragraph(h, text_style(8, bold=True)) for h in headers]]
    data += [
        [paragraph(_cell(v), cell) for v in row]
        for row in frame.loc[:, list(columns)].itertuples(index=False)
    ]
    return [ruled_table(data, [w * mm for w in widths_mm]), Spacer(1, 6 * mm)]


def render_consultation_record(
    letters: pd.DataFrame, objections: pd.DataFrame, *, title: str
) -> bytes:
    """Who was told and who answered: the letters sent and the objections or views received, each
    with the response, in the order given. An empty table says 'None recorded.'"""
    sub = text_style(11, bold=True, space_after=4)
    story: list[Flowable] = [heading(title), paragraph("Letters sent", sub)]
    if letters is not None and len(letters):
        _require_columns(letters, LETTER_COLUMNS, "letters record")
        total = pd.to_numeric(letters["count"], errors="coerce").fillna(0).sum()
        story.append(
            paragraph(
                f"{int(total)} letter{'s' if total != 1 else ''} in {len(letters)} "
                f"mailing{'s' if len(letters) != 1 else ''}.",
                text_style(9, space_after=4),
            )
        )
    story += _table_or_none(
        letters, LETTER_COLUMNS, ("Sent", "Letters", "Sent by"), (45, 25, 110), "letters record"
    )
    story.append(paragraph("Objections and views received", sub))
    story += _table_or_none(
        objections,
        OBJECTION_COLUMNS,
        ("From", "Received", "Summary", "Response"),
        (35, 25, 60, 60),
        "objections record",
    )
    return document_pdf(story, title=title)


def render_picture(title: str, png: bytes | None, caption: str) -> bytes:
    """One A4 landscape page: a title, the picture scaled to fit without distortion, a caption.
    Without a picture the page says it is not available and gives the caption as the reason, so the
    bundle's numbering does not depend on whether a map could be drawn."""
    register_fonts()
    buf = BytesIO()
    width, height = landscape(A4)
    side, bottom = 15 * mm, 15 * mm
    c = Canvas(buf, pagesize=(width, height), invariant=1)
    c.setTitle(title)
    top = height - TOP_MARGIN_MM * mm
    head = heading(title)
    _, h = head.wrapOn(c, width - 2 * side, height)
    head.drawOn(c, side, top - h)
    top -= h + 4 * mm
    if png is None:
        note = paragraph("Picture not available", text_style(16, bold=True, space_after=6))
        reason = paragraph(f"Reason: {caption or 'none given'}", text_style(11))
        for flow in (note, reason):
            _, h = flow.wrapOn(c, width - 2 * side, height)
            flow.drawOn(c, side, top - h - 20 * mm)
            top -= h + 4 * mm
    else:
        cap = paragraph(caption, text_style(9))
        _, cap_h = cap.wrapOn(c, width - 2 * side, height)
        cap.drawOn(c, side, bottom)
        box_w, box_h = width - 2 * side, top - (bottom + cap_h + 4 * mm)
        try:
            image = ImageReader(BytesIO(png))
            img_w, img_h = image.getSize()
        except Exception as error:  # PIL raises several types for a broken image
            raise BundleError(
                f"The picture for '{title}' is not a readable PNG ({error})."
            ) from error
        scale = min(box_w / img_w, box_h / img_h)
        draw_w, draw_h = img_w * scale, img_h * scale
        c.drawImage(image, side + (box_w - draw_w) / 2, top - draw_h, draw_w, draw_h, mask="auto")
    c.showPage()
    c.save()
    return buf.getvalue()
