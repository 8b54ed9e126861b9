"""The court bundle: one paginated PDF for the magistrates, an index first, then every part.

The justices and the advocates must be able to say "page 14 of 31" and all mean the same sheet, so
every page carries the bundle's own page number and the exhibit reference, stamped in the top-right
margin where no part draws (parts keep their own footers). The index lists each part with its first
page, its length and the SHA-256 of the PDF exactly as it was supplied, so a part can be matched to
the file it came from. Bookmarks mirror the index.

The same parts, title, reference and generation time always give a byte-identical file: the
generation time is the only thing printed that is not derived from the parts. The bundle is built in
memory and written to a temporary file that replaces the target only when complete.

The renderers below (chronology, consultation record, picture) make parts that fit the stamp: they
leave the top 18 mm of each page free.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, time
from io import BytesIO
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import matplotlib
import pandas as pd
from pypdf import PdfReader, PdfWriter, Transformation
from pypdf.errors import PyPdfError
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

from .atomic import write_atomic
from .case import CHRONOLOGY_COLUMNS

SANS, SANS_BOLD, MONO = "BundleSans", "BundleSans-Bold", "BundleMono"
STAMP_PT = 7.0
STAMP_FROM_TOP_MM = 6.0  # top of the capitals; the stamp needs the top 10 mm of every part free (map sheets keep 12)
STAMP_FROM_RIGHT_MM = 10.0
TOP_MARGIN_MM = 18.0  # what the renderers here leave free above their content, for the stamp
CELL_PAD_PT = 2.0

LETTER_COLUMNS = ("made_at", "count", "made_by")
OBJECTION_COLUMNS = ("who", "received_on", "summary", "response")


class BundleError(ClosuremapError):
    """A part or a table that cannot go into the bundle; the message names it and says what to fix."""


@dataclass(frozen=True)
class BundlePart:
    """One document for the bundle, as a complete PDF made elsewhere."""

    title: str
    pdf: bytes


@dataclass(frozen=True)
class PartEntry:
    """Where a part sits in the bundle: what the index and the bookmarks say about it."""

    title: str
    first_page: int  # 1-based, counting the index page(s)
    pages: int
    sha256: str  # of the part's PDF bytes as supplied, before stamping


@dataclass
class BundleResult:
    """The written bundle and its index, for the case record."""

    path: Path
    pages: int
    sha256: str
    parts: list[PartEntry]

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON: the record of exactly what went to court."""
        return {
            "file": str(self.path),
            "pages": self.pages,
            "sha256": self.sha256,
            "parts": [asdict(p) for p in self.parts],
        }


# ---------------------------------------------------------------------------------------------
# Fonts and styles


def _fonts() -> None:
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


def _style(
    size: float = 9.0, *, bold: bool = False, mono: bool = False, space_after: float = 0.0
) -> ParagraphStyle:
    _fonts()
    font = MONO if mono else SANS_BOLD if bold else SANS
    return ParagraphStyle(
        f"{font}-{size}", fontName=font, fontSize=size, leading=size * 1.25, spaceAfter=space_after
    )


def _para(text: object, style: ParagraphStyle) -> Paragraph:
    """A paragraph of user text: escaped, so '<b>' and '&' print as typed."""
    return Paragraph(escape(str(text)), style)


def _heading(text: str) -> Paragraph:
    return _para(text, _style(14, bold=True, space_after=6))


def _grid(rows: list[list[Any]], widths: list[float], *, header_font: str = SANS_BOLD) -> Table:
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


def _document(
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


# ---------------------------------------------------------------------------------------------
# Formatting plain values


def _long_date(d: date) -> str:
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


# ---------------------------------------------------------------------------------------------
# Part renderers


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
            f"({_long_date(evidence_from)} to {_long_date(evidence_to)}): {', '.join(outside[:5])}. "
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

    Raises BundleError when a column is missing, a date is unreadable or a row is outside the window.
    """
    if evidence_from > evidence_to:
        raise BundleError(
            f"The evidence window starts ({_long_date(evidence_from)}) after it ends "
            f"({_long_date(evidence_to)})."
        )
    rows = _chronology_rows(chronology, evidence_from, evidence_to)
    body = _style(9, space_after=4)
    n = len(rows)
    story: list[Flowable] = [
        _heading(title),
        _para(f"Evidence window: {_long_date(evidence_from)} to {_long_date(evidence_to)}", body),
    ]
    if n == 0:
        story.append(
            _para("No incidents were recorded in the evidence window.", _style(11, bold=True))
        )
        return _document(story, title=title)
    story += [
        _para(f"{n} incident{'s' if n != 1 else ''} recorded in the window, oldest first.", body),
        Spacer(1, 3 * mm),
    ]
    cell = _style(8)
    header = [_para(c.capitalize(), _style(8, bold=True)) for c in CHRONOLOGY_COLUMNS]
    data = [header] + [[_para(_cell(v), cell) for v in row] for row in rows.itertuples(index=False)]
    story.append(_grid(data, [22 * mm, 13 * mm, 38 * mm, 32 * mm, 75 * mm]))
    return _document(story, title=title)


def _table_or_none(
    frame: pd.DataFrame | None,
    columns: Sequence[str],
    headers: Sequence[str],
    widths_mm: Sequence[float],
    what: str,
) -> list[Flowable]:
    """One consultation table, or the words 'None recorded.' when there is nothing to list."""
    if frame is None or len(frame) == 0:
        return [_para("None recorded.", _style(9, space_after=6))]
    _require_columns(frame, columns, what)
    cell = _style(8)
    data = [[_para(h, _style(8, bold=True)) for h in headers]]
    data += [
        [_para(_cell(v), cell) for v in row]
        for row in frame.loc[:, list(columns)].itertuples(index=False)
    ]
    return [_grid(data, [w * mm for w in widths_mm]), Spacer(1, 6 * mm)]


def render_consultation_record(
    letters: pd.DataFrame, objections: pd.DataFrame, *, title: str
) -> bytes:
    """Who was told and who answered: the letters sent and the objections or views received, each
    with the response, in the order given. An empty table says 'None recorded.'"""
    sub = _style(11, bold=True, space_after=4)
    story: list[Flowable] = [_heading(title), _para("Letters sent", sub)]
    if letters is not None and len(letters):
        _require_columns(letters, LETTER_COLUMNS, "letters record")
        total = pd.to_numeric(letters["count"], errors="coerce").fillna(0).sum()
        story.append(
            _para(
                f"{int(total)} letter{'s' if total != 1 else ''} in {len(letters)} "
                f"mailing{'s' if len(letters) != 1 else ''}.",
                _style(9, space_after=4),
            )
        )
    story += _table_or_none(
        letters, LETTER_COLUMNS, ("Sent", "Letters", "Sent by"), (45, 25, 110), "letters record"
    )
    story.append(_para("Objections and views received", sub))
    story += _table_or_none(
        objections,
        OBJECTION_COLUMNS,
        ("From", "Received", "Summary", "Response"),
        (35, 25, 60, 60),
        "objections record",
    )
    return _document(story, title=title)


def render_picture(title: str, png: bytes | None, caption: str) -> bytes:
    """One A4 landscape page: a title, the picture scaled to fit without distortion, a caption.
    Without a picture the page says it is not available and gives the caption as the reason, so the
    bundle's numbering does not depend on whether a map could be drawn."""
    _fonts()
    buf = BytesIO()
    width, height = landscape(A4)
    side, bottom = 15 * mm, 15 * mm
    c = Canvas(buf, pagesize=(width, height), invariant=1)
    c.setTitle(title)
    top = height - TOP_MARGIN_MM * mm
    heading = _heading(title)
    _, h = heading.wrapOn(c, width - 2 * side, height)
    heading.drawOn(c, side, top - h)
    top -= h + 4 * mm
    if png is None:
        note = _para("Picture not available", _style(16, bold=True, space_after=6))
        reason = _para(f"Reason: {caption or 'none given'}", _style(11))
        for flow in (note, reason):
            _, h = flow.wrapOn(c, width - 2 * side, height)
            flow.drawOn(c, side, top - h - 20 * mm)
            top -= h + 4 * mm
    else:
        cap = _para(caption, _style(9))
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


# ---------------------------------------------------------------------------------------------
# Assembly


def _read_part(n: int, part: BundlePart) -> PdfReader:
    """Open one part, naming it in the error when it cannot go into a bundle."""
    name = f"Part {n} ('{part.title}')"
    try:
        reader = PdfReader(BytesIO(part.pdf))
        if reader.is_encrypted:
            raise BundleError(f"{name} is password-protected; supply an unencrypted PDF.")
        if len(reader.pages) == 0:
            raise BundleError(f"{name} has no pages.")
    except PyPdfError as error:
        raise BundleError(f"{name} is not a readable PDF ({error}); render it again.") from error
    return reader


def _index_pdf(
    entries: list[PartEntry],
    *,
    title: str,
    reference: str,
    generated_at: datetime,
    total_pages: int,
    index_pages: int,
) -> bytes:
    """The index page(s): what the bundle is, when it was made, and where each part starts."""
    body = _style(9, space_after=3)
    stamp = f"{_long_date(generated_at.date())} at {generated_at:%H:%M:%S}"
    if generated_at.tzinfo is not None:
        stamp += f" {generated_at.tzname()}"
    story: list[Flowable] = [
        _heading(title),
        _para(f"Reference: {reference}", body),
        _para(f"Generated: {stamp}", body),
        _para(
            f"{len(entries)} part{'s' if len(entries) != 1 else ''}, {total_pages} pages in all, "
            f"counting this index ({index_pages} page{'s' if index_pages != 1 else ''}).",
            body,
        ),
        Spacer(1, 3 * mm),
    ]
    mono = _style(6, mono=True)
    data: list[list[Any]] = [
        [
            _para(h, _style(8, bold=True))
            for h in ("No.", "Part", "First page", "Pages", "SHA-256 of the part as supplied")
        ]
    ]
    for n, e in enumerate(entries, start=1):
        data.append(
            [
                str(n),
                _para(e.title, _style(8)),
                str(e.first_page),
                str(e.pages),
                _para(e.sha256, mono),
            ]
        )
    table = _grid(data, [9 * mm, 65 * mm, 16 * mm, 13 * mm, 83 * mm])
    table.setStyle(
        TableStyle([("FONTNAME", (0, 1), (-1, -1), SANS), ("FONTSIZE", (0, 1), (-1, -1), 8)])
    )
    story += [
        table,
        Spacer(1, 4 * mm),
        _para(
            "Each page of this bundle is numbered at the top right. A part's SHA-256 is of its PDF file as "
            "supplied, before the bundle's page numbers were added; it identifies that file, not these pages.",
            _style(7.5),
        ),
    ]
    return _document(story, title=title, side_mm=12.0)


def _settle_index(
    parts: Sequence[BundlePart],
    counts: list[int],
    render: Callable[[list[PartEntry], int, int], bytes],
) -> tuple[bytes, list[PartEntry]]:
    """Render the index until the page numbers it prints agree with its own length."""
    titles = [" ".join(p.title.split()) for p in parts]
    hashes = [hashlib.sha256(p.pdf).hexdigest() for p in parts]
    index_pages = 1
    for _ in range(10):
        entries, first = [], index_pages + 1
        for title, count, sha in zip(titles, counts, hashes):
            entries.append(PartEntry(title, first, count, sha))
            first += count
        pdf = render(entries, index_pages, first - 1)
        actual = len(PdfReader(BytesIO(pdf)).pages)
        if actual == index_pages:
            return pdf, entries
        index_pages = actual
    raise RuntimeError("the index page count did not settle")  # a bug, not a user error


def _stamps(boxes: list[tuple[float, float]], reference: str) -> PdfReader:
    """One transparent overlay page per bundle page, each the size of that page, carrying
    'reference · page X of Y' right-aligned in the top margin."""
    _fonts()
    buf = BytesIO()
    c = Canvas(buf, pagesize=boxes[0], invariant=1)
    total = len(boxes)
    for x, (w, h) in enumerate(boxes, start=1):
        c.setPageSize((w, h))
        c.setFont(SANS, STAMP_PT)
        c.setFillColor(colors.black)
        baseline = h - STAMP_FROM_TOP_MM * mm - STAMP_PT * 0.73  # 0.73: DejaVu's cap height
        c.drawRightString(
            w - STAMP_FROM_RIGHT_MM * mm, baseline, f"{reference} · page {x} of {total}"
        )
        c.showPage()
    c.save()
    return PdfReader(BytesIO(buf.getvalue()))


def _pdf_date(moment: datetime) -> str:
    offset = moment.strftime("%z")
    tz = "" if not offset else "Z" if offset == "+0000" else f"{offset[:3]}'{offset[3:]}'"
    return f"D:{moment:%Y%m%d%H%M%S}{tz}"


def _bundle_bytes(
    readers: list[PdfReader],
    index: bytes,
    entries: list[PartEntry],
    *,
    title: str,
    reference: str,
    generated_at: datetime,
) -> bytes:
    """Join index and parts, stamp every page, add bookmarks and metadata; no random file ID."""
    writer = PdfWriter()
    for reader in [PdfReader(BytesIO(index)), *readers]:
        for page in reader.pages:
            writer.add_page(page)
    for page in writer.pages:
        if page.rotation:
            page.transfer_rotation_to_content()  # so 'top right' is the top right as printed
    boxes = [(float(p.cropbox.width), float(p.cropbox.height)) for p in writer.pages]
    overlay = _stamps(boxes, reference)
    for page, stamp in zip(writer.pages, overlay.pages):
        left, bottom = float(page.cropbox.left), float(page.cropbox.bottom)
        page.merge_transformed_page(stamp, Transformation().translate(left, bottom))
    writer.add_outline_item(title="Index", page_number=0)
    for e in entries:
        writer.add_outline_item(title=e.title, page_number=e.first_page - 1)
    writer.page_mode = "/UseOutlines"
    when = _pdf_date(generated_at)
    writer.add_metadata(
        {
            "/Title": title,
            "/Subject": reference,
            "/Creator": "closuremap",
            "/CreationDate": when,
            "/ModDate": when,
        }
    )
    buf = BytesIO()
    writer.write(buf)
    return buf.getvalue()


def assemble_bundle(
    parts: Sequence[BundlePart],
    out: str | Path,
    *,
    title: str,
    reference: str,
    generated_at: datetime,
) -> BundleResult:
    """Write the court bundle: index page(s), then the parts in the order given, every page stamped
    '<reference> · page X of Y', one bookmark per part. Part titles are printed with their
    whitespace collapsed. Each part must leave the top 10 mm of its pages free for the stamp (the
    map sheets and the renderers here do). Raises BundleError for an empty list or a part that is
    not a usable PDF; then nothing is written."""
    if not parts:
        raise BundleError("A bundle needs at least one part.")
    for n, part in enumerate(parts, start=1):
        if not part.title.strip():
            raise BundleError(f"Part {n} has no title; the index and bookmarks need one.")
    readers = [_read_part(n, p) for n, p in enumerate(parts, start=1)]
    counts = [len(r.pages) for r in readers]

    def render(entries: list[PartEntry], index_pages: int, total: int) -> bytes:
        return _index_pdf(
            entries,
            title=title,
            reference=reference,
            generated_at=generated_at,
            total_pages=total,
            index_pages=index_pages,
        )

    index, entries = _settle_index(parts, counts, render)
    data = _bundle_bytes(
        readers, index, entries, title=title, reference=reference, generated_at=generated_at
    )
    path = Path(out)
    write_atomic(path, data)
    pages = entries[-1].first_page + entries[-1].pages - 1
    return BundleResult(path, pages, hashlib.sha256(data).hexdigest(), entries)
