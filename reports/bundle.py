"""The court bundle: one paginated PDF for the magistrates, an index first, then every part.

The justices and the advocates must be able to say "page 14 of 31" and all mean the same sheet, so
every page carries the bundle's own page number and the exhibit reference, stamped in the top-right
margin where no part draws (parts keep their own footers). The index lists each part with its first
page, its length and the SHA-256 of the PDF exactly as it was supplied, so a part can be matched to
the file it came from. Bookmarks mirror the index.

The same parts, title, reference and generation time always give a byte-identical file: the
generation time is the only thing printed that is not derived from the parts. The bundle is built in
memory and written to a temporary file that replaces the target only when complete.

The pages the bundle makes itself (chronology, consultation record, picture) are
:mod:`.bundle_parts`; they leave the top 18 mm of each page free for the stamp.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from pypdf import PdfReader, PdfWriter, Transformation
from pypdf.errors import PyPdfError
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Spacer, TableStyle

from .atomic import write_atomic
from .bundle_parts import (
    SANS,
    BundleError,
    document_pdf,
    heading,
    long_date,
    paragraph,
    register_fonts,
    ruled_table,
    text_style,
)

STAMP_PT = 7.0
# the top of the stamp's capitals; the stamp needs the top 10 mm of every part free (map sheets
# keep 12)
STAMP_FROM_TOP_MM = 6.0
STAMP_FROM_RIGHT_MM = 10.0


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
    body = text_style(9, space_after=3)
    stamp = f"{long_date(generated_at.date())} at {generated_at:%H:%M:%S}"
    if generated_at.tzinfo is not None:
        stamp += f" {generated_at.tzname()}"
    story: list[Flowable] = [
        heading(title),
        paragraph(f"Reference: {reference}", body),
        paragraph(f"Generated: {stamp}", body),
        paragraph(
            f"{len(entries)} part{'s' if len(entries) != 1 else ''}, {total_pages} pages in all, "
            f"counting this index ({index_pages} page{'s' if index_pages != 1 else ''}).",
            body,
        ),
        Spacer(1, 3 * mm),
    ]
    mono = text_style(6, mono=True)
    data: list[list[Any]] = [
        [
            paragraph(h, text_style(8, bold=True))
            for h in ("No.", "Part", "First page", "Pages", "SHA-256 of the part as supplied")
        ]
    ]
    for n, e in enumerate(entries, start=1):
        data.append(
            [
                str(n),
                paragraph(e.title, text_style(8)),
                str(e.first_page),
                str(e.pages),
                paragraph(e.sha256, mono),
            ]
        )
    table = ruled_table(data, [9 * mm, 65 * mm, 16 * mm, 13 * mm, 83 * mm])
    table.setStyle(
        TableStyle([("FONTNAME", (0, 1), (-1, -1), SANS), ("FONTSIZE", (0, 1), (-1, -1), 8)])
    )
    story += [
        table,
        Spacer(1, 4 * mm),
        paragraph(
            "Each page of this bundle is numbered at the top right. A part's SHA-256 is of its "
            "PDF file as supplied, before the bundle's page numbers were added; it identifies "
            "that file, not these pages.",
            text_style(7.5),
        ),
    ]
    return document_pdf(story, title=title, side_mm=12.0)


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
        for title, count, sha in zip(titles, counts, hashes, strict=True):
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
    register_fonts()
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
    for page, stamp in zip(writer.pages, overlay.pages, strict=True):
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
