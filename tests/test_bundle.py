"""The court bundle, read back with pypdf and poppler as the court's software would read it.

Parts are made here with reportlab in three page shapes (A4 portrait, A3 landscape, A4 landscape)
and with the bundle's own renderers, so page numbers, bookmarks and stamps are checked across sizes.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date, datetime, time
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib import image
from matplotlib.figure import Figure
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A3, A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from closuremap.reports import mapsheet
from closuremap.reports.bundle import BundlePart, BundleResult, assemble_bundle
from closuremap.reports.bundle_parts import (
    BundleError,
    render_chronology,
    render_consultation_record,
    render_picture,
)
from closuremap.reports.case import CHRONOLOGY_COLUMNS
from tests.conftest import require

REFERENCE = "Exhibit AB/1 · Order ORD-001 · version 3"
TITLE = "Court bundle: Perronet House communal areas"
WHEN = datetime(2025, 3, 10, 14, 5, 30)
WINDOW = (date(2024, 9, 1), date(2025, 3, 10))
PAGE_RE = re.compile(r"page (\d+) of (\d+)")


def _sheet(size: tuple[float, float], pages: int, label: str) -> bytes:
    """A part shaped like a map sheet: a black rule along the top of a frame 12 mm inside the
    edge (where the stamp must not reach), body text, and the part's own footer."""
    buf = BytesIO()
    c = Canvas(buf, pagesize=size, invariant=1)
    w, h = size
    for n in range(1, pages + 1):
        c.rect(12 * mm, 12 * mm, w - 24 * mm, h - 24 * mm)
        c.rect(12 * mm, h - 16 * mm, w - 24 * mm, 4 * mm, fill=1)
        c.setFont("Helvetica", 18)
        c.drawString(30 * mm, h / 2, f"{label} body {n}")
        c.setFont("Helvetica", 7)
        c.drawCentredString(w / 2, 14 * mm, f"{label} own footer {n}")
        c.showPage()
    c.save()
    return buf.getvalue()


def _chronology(n: int = 60) -> pd.DataFrame:
    """n incidents, one a day from the window's start, in shuffled order (the renderer sorts)."""
    rows = [
        {
            "date": WINDOW[0] + pd.Timedelta(days=i).to_pytimedelta(),
            "time": time(14, i % 60),
            "category": "ASB: nuisance",
            "reference": f"CAD-{i:04d}",
            "location": "Stairwell B, Perronet House",
        }
        for i in range(n)
    ]
    random.Random(7).shuffle(rows)
    return pd.DataFrame(rows, columns=list(CHRONOLOGY_COLUMNS))


def _png() -> bytes:
    fig = Figure(figsize=(4, 3), dpi=50)
    fig.add_subplot().plot([0, 1, 2], [0, 2, 1])
    buf = BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _map_sheet() -> bytes:
    """A real map sheet with no legend column, so its top grid labels run under the stamp's
    corner."""
    sh = mapsheet.sheet("A4", "landscape", legend_mm=0)
    fig = mapsheet.new_figure(sh)
    ax = mapsheet.map_axes(fig, sh, (531750.0, 179100.0), 1250)
    mapsheet.grid_ticks(ax, 1250)
    mapsheet.north_point(ax)
    fig.text(0.05, 0.1, "Map exhibit AB/1: title block", fontsize=10)
    buf = BytesIO()
    fig.savefig(buf, format="pdf")
    mapsheet.close(fig)
    return buf.getvalue()


@pytest.fixture(scope="module")
def parts() -> list[BundlePart]:
    return [
        BundlePart("Application", _sheet(A4, 2, "Application")),
        BundlePart("Hot-spot map", _sheet(landscape(A3), 1, "Hotspot")),
        BundlePart(
            "Incident chronology",
            render_chronology(
                _chronology(),
                evidence_from=WINDOW[0],
                evidence_to=WINDOW[1],
                title="Incident chronology",
            ),
        ),
        BundlePart(
            "Map exhibit sheet 1",
            render_picture("Map exhibit AB/1 sheet 1", _png(), "Scope edged red"),
        ),
        BundlePart("Map exhibit sheet 2", _map_sheet()),
    ]


def _build(parts: list[BundlePart], out: Path, when: datetime = WHEN) -> BundleResult:
    return assemble_bundle(parts, out, title=TITLE, reference=REFERENCE, generated_at=when)


@pytest.fixture(scope="module")
def bundle(
    parts: list[BundlePart], tmp_path_factory: pytest.TempPathFactory
) -> tuple[BundleResult, PdfReader]:
    result = _build(parts, tmp_path_factory.mktemp("bundle") / "bundle.pdf")
    return result, PdfReader(result.path)


def _outline(reader: PdfReader, items: list[Any] | None = None) -> Iterator[tuple[str, int]]:
    """Every bookmark, however deeply nested, as (title, 1-based page)."""
    for item in reader.outline if items is None else items:
        if isinstance(item, list):
            yield from _outline(reader, item)
        else:
            yield item.title, reader.get_destination_page_number(item) + 1


def _index_rows(reader: PdfReader, index_pages: int) -> list[tuple[int, str, int, int, str]]:
    """The index table as printed: number, title, first page, pages, SHA-256."""
    text = "\n".join(reader.pages[i].extract_text() for i in range(index_pages))
    found = re.findall(r"^(\d+)\n(.+)\n(\d+)\n(\d+)\n([0-9a-f]{64})$", text, flags=re.MULTILINE)
    return [(int(n), t, int(f), int(p), sha) for n, t, f, p, sha in found]


# ---------------------------------------------------------------------------------------------
# Assembly


def test_page_count_is_index_plus_parts(
    bundle: tuple[BundleResult, PdfReader], parts: list[BundlePart]
) -> None:
    result, reader = bundle
    part_pages = [len(PdfReader(BytesIO(p.pdf)).pages) for p in parts]
    assert part_pages[:2] == [2, 1] and part_pages[2] >= 2  # the chronology paginates
    index_pages = result.parts[0].first_page - 1
    assert index_pages == 1
    assert len(reader.pages) == result.pages == index_pages + sum(part_pages)
    assert [e.pages for e in result.parts] == part_pages


def test_each_part_starts_where_the_index_says(bundle: tuple[BundleResult, PdfReader]) -> None:
    result, reader = bundle
    assert "Application body 1" in reader.pages[result.parts[0].first_page - 1].extract_text()
    assert "Application body 2" in reader.pages[result.parts[0].first_page].extract_text()
    assert "Hotspot body 1" in reader.pages[result.parts[1].first_page - 1].extract_text()
    assert "Evidence window" in reader.pages[result.parts[2].first_page - 1].extract_text()
    assert "Map exhibit AB/1 sheet 1" in reader.pages[result.parts[3].first_page - 1].extract_text()
    box = reader.pages[result.parts[1].first_page - 1].mediabox
    assert (round(float(box.width)), round(float(box.height))) == tuple(
        round(v) for v in landscape(A3)
    )


def test_outline_and_printed_index_agree_with_entries(
    bundle: tuple[BundleResult, PdfReader],
) -> None:
    result, reader = bundle
    expected = [(e.title, e.first_page) for e in result.parts]
    assert list(_outline(reader)) == [("Index", 1), *expected]
    printed = _index_rows(reader, result.parts[0].first_page - 1)
    assert printed == [
        (n, e.title, e.first_page, e.pages, e.sha256) for n, e in enumerate(result.parts, start=1)
    ]
    text = reader.pages[0].extract_text()
    assert TITLE in text and REFERENCE in text and "10 March 2025 at 14:05:30" in text


def test_every_page_is_stamped_with_its_number_and_the_reference(
    bundle: tuple[BundleResult, PdfReader],
) -> None:
    result, reader = bundle
    total = len(reader.pages)
    for i, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert [tuple(map(int, m)) for m in PAGE_RE.findall(text)] == [(i, total)], f"page {i}"
        assert f"{REFERENCE} · page {i} of {total}" in text


def _stamp_position(page: Any) -> tuple[float, float]:
    """Where the stamp's text starts, in points from the page's top-left corner."""
    found: list[tuple[float, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], *_: Any) -> None:
        if PAGE_RE.search(text):
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            found.append((x - float(page.mediabox.left), float(page.mediabox.top) - y))

    page.extract_text(visitor_text=visit)
    assert len(found) == 1
    return found[0]


def test_stamp_sits_in_the_top_right_margin_of_every_page_shape(
    bundle: tuple[BundleResult, PdfReader],
) -> None:
    _, reader = bundle
    for page in reader.pages:
        x, from_top = _stamp_position(page)
        assert (
            6 * mm < from_top < 10 * mm
        )  # baseline, below the 6 mm line and above the 12 mm margin
        assert (
            x > float(page.mediabox.width) / 3
        )  # right-aligned, so it starts well right of the left edge


def test_stamp_follows_a_rotated_page(tmp_path: Path) -> None:
    """A portrait page shown landscape by /Rotate still gets the stamp at the top as printed."""
    writer = PdfWriter()
    writer.append(PdfReader(BytesIO(_sheet(A4, 1, "Rotated"))))
    writer.pages[0].rotate(90)
    buf = BytesIO()
    writer.write(buf)
    result = _build([BundlePart("Rotated plan", buf.getvalue())], tmp_path / "rotated.pdf")
    page = PdfReader(result.path).pages[1]
    assert float(page.mediabox.width) > float(page.mediabox.height)
    x, from_top = _stamp_position(page)
    assert 6 * mm < from_top < 10 * mm


def test_part_hashes_are_of_the_bytes_given(
    bundle: tuple[BundleResult, PdfReader], parts: list[BundlePart]
) -> None:
    result, _ = bundle
    assert [e.sha256 for e in result.parts] == [hashlib.sha256(p.pdf).hexdigest() for p in parts]
    assert result.sha256 == hashlib.sha256(result.path.read_bytes()).hexdigest()
    record = json.loads(json.dumps(result.as_dict()))
    assert record["file"] == str(result.path) and record["pages"] == result.pages
    assert record["parts"][1] == {
        "title": "Hot-spot map",
        "first_page": 4,
        "pages": 1,
        "sha256": hashlib.sha256(parts[1].pdf).hexdigest(),
    }


def test_same_inputs_give_the_same_bytes(parts: list[BundlePart], tmp_path: Path) -> None:
    first = _build(parts, tmp_path / "a.pdf")
    second = _build(parts, tmp_path / "b.pdf")
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.sha256 == second.sha256


def test_only_the_generation_time_changes_with_the_generation_time(
    parts: list[BundlePart], tmp_path: Path
) -> None:
    first = _build(parts, tmp_path / "a.pdf")
    later = _build(parts, tmp_path / "b.pdf", when=datetime(2025, 3, 11, 9, 0))
    assert first.sha256 != later.sha256
    assert first.parts == later.parts
    a, b = PdfReader(first.path), PdfReader(later.path)
    assert [p.extract_text() for p in a.pages[1:]] == [p.extract_text() for p in b.pages[1:]]
    diff = [
        line
        for line in b.pages[0].extract_text().splitlines()
        if line not in a.pages[0].extract_text()
    ]
    assert diff == ["Generated: 11 March 2025 at 09:00:00"]


def test_a_long_index_runs_onto_more_pages_and_still_counts_right(tmp_path: Path) -> None:
    many = [BundlePart(f"Statement {n}", _sheet(A4, 1 + n % 2, f"Statement{n}")) for n in range(70)]
    result = _build(many, tmp_path / "long.pdf")
    reader = PdfReader(result.path)
    index_pages = result.parts[0].first_page - 1
    assert index_pages >= 2
    assert len(reader.pages) == index_pages + sum(1 + n % 2 for n in range(70))
    for n, entry in enumerate(result.parts):
        assert f"Statement{n} body 1" in reader.pages[entry.first_page - 1].extract_text()
    assert list(_outline(reader))[1:] == [(e.title, e.first_page) for e in result.parts]
    assert len(_index_rows(reader, index_pages)) == 70
    assert (
        f"page {index_pages} of {len(reader.pages)}" in reader.pages[index_pages - 1].extract_text()
    )


def test_a_bad_part_writes_nothing_and_keeps_the_old_bundle(
    parts: list[BundlePart], tmp_path: Path
) -> None:
    out = tmp_path / "bundle.pdf"
    _build(parts, out)
    before = out.read_bytes()
    with pytest.raises(BundleError, match="Part 2 .'Broken'. is not a readable PDF"):
        _build([parts[0], BundlePart("Broken", b"%PDF-1.4 not really")], out)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle.pdf"]


def test_no_parts_or_a_blank_title_is_refused(parts: list[BundlePart], tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="at least one part"):
        _build([], tmp_path / "x.pdf")
    with pytest.raises(BundleError, match="no title"):
        _build([BundlePart("  ", parts[0].pdf)], tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()


# ---------------------------------------------------------------------------------------------
# Renderers


def _text(pdf: bytes) -> list[str]:
    return [p.extract_text() for p in PdfReader(BytesIO(pdf)).pages]


def test_chronology_lists_exactly_the_rows_oldest_first() -> None:
    pages = _text(
        render_chronology(
            _chronology(),
            evidence_from=WINDOW[0],
            evidence_to=WINDOW[1],
            title="Incident chronology",
        )
    )
    assert len(pages) >= 2
    refs = re.findall(r"CAD-\d{4}", "\n".join(pages))
    assert refs == [f"CAD-{i:04d}" for i in range(60)]
    assert "Evidence window: 1 September 2024 to 10 March 2025" in pages[0]
    assert "60 incidents recorded in the window" in pages[0]
    assert all("Reference" in p and "Location" in p for p in pages)  # the header repeats
    assert "1 Sep 2024" in pages[0] and "14:00" in pages[0]


def test_chronology_prints_markup_and_ampersands_literally() -> None:
    rows = pd.DataFrame(
        [
            {
                "date": "2024-10-01",
                "time": "23:10",
                "category": "Drugs & <b>dealing</b>",
                "reference": "CAD-<i>1</i>",
                "location": "Flats 1&2 <br/> lobby",
            }
        ]
    )
    text = _text(
        render_chronology(
            rows, evidence_from=WINDOW[0], evidence_to=WINDOW[1], title="A & <b>B</b>"
        )
    )[0]
    text = " ".join(text.split())  # cells wrap
    assert "1 Oct 2024" in text  # an ISO date string prints like any other date
    for literal in (
        "Drugs & <b>dealing</b>",
        "CAD-<i>1</i>",
        "Flats 1&2 <br/> lobby",
        "A & <b>B</b>",
    ):
        assert literal in text


def test_an_empty_chronology_says_so() -> None:
    empty = pd.DataFrame(columns=list(CHRONOLOGY_COLUMNS))
    pages = _text(
        render_chronology(empty, evidence_from=WINDOW[0], evidence_to=WINDOW[1], title="Chronology")
    )
    assert len(pages) == 1
    assert "No incidents were recorded in the evidence window." in pages[0]
    assert "Evidence window: 1 September 2024 to 10 March 2025" in pages[0]


def test_chronology_refuses_rows_outside_the_window_or_without_columns() -> None:
    rows = _chronology(3)
    rows.loc[0, "date"] = date(2025, 4, 1)
    with pytest.raises(BundleError, match="outside the evidence window"):
        render_chronology(rows, evidence_from=WINDOW[0], evidence_to=WINDOW[1], title="C")
    with pytest.raises(BundleError, match="no column.*location"):
        render_chronology(
            rows.drop(columns="location"), evidence_from=WINDOW[0], evidence_to=WINDOW[1], title="C"
        )


def test_consultation_record_lists_letters_and_objections() -> None:
    letters = pd.DataFrame(
        {
            "made_at": [datetime(2025, 3, 1, 9, 30), datetime(2025, 3, 3, 10, 0)],
            "count": [120, 14],
            "made_by": ["PC Smith", "ASB team"],
        }
    )
    objections = pd.DataFrame(
        {
            "who": ["Resident, flat 12"],
            "received_on": [date(2025, 3, 4)],
            "summary": ["Carers need access <after> 10pm"],
            "response": ["Carers exempted"],
        }
    )
    text = "\n".join(
        _text(render_consultation_record(letters, objections, title="Consultation record"))
    )
    for expected in (
        "Consultation record",
        "134 letters in 2 mailings",
        "1 Mar 2025 09:30",
        "PC Smith",
        "Resident, flat 12",
        "4 Mar 2025",
        "Carers need access <after> 10pm",
        "Carers exempted",
    ):
        assert expected in text
    assert "None recorded" not in text


def test_empty_consultation_tables_say_none_recorded() -> None:
    text = _text(
        render_consultation_record(pd.DataFrame(), pd.DataFrame(), title="Consultation record")
    )[0]
    assert text.count("None recorded.") == 2


def test_picture_page_is_a4_landscape_with_title_and_caption() -> None:
    pdf = render_picture("Hot-spot map", _png(), "Incidents per 50 m cell & the scope")
    reader = PdfReader(BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == tuple(
        round(v) for v in landscape(A4)
    )
    text = reader.pages[0].extract_text()
    assert "Hot-spot map" in text and "Incidents per 50 m cell & the scope" in text
    assert "/XObject" in reader.pages[0]["/Resources"]  # the picture is drawn


def test_missing_picture_says_why() -> None:
    text = _text(render_picture("Hot-spot map", None, "no incidents in the window"))[0]
    assert "Picture not available" in text and "no incidents in the window" in text


# ---------------------------------------------------------------------------------------------
# Rendered pixels: the stamp does not cover the part


def _render(pdf: Path, page: int, out: Path) -> np.ndarray:
    subprocess.run(
        [
            "pdftoppm",
            "-f",
            str(page),
            "-l",
            str(page),
            "-r",
            "50",
            "-png",
            "-singlefile",
            str(pdf),
            str(out),
        ],
        check=True,
    )
    return image.imread(out.with_suffix(".png"))[..., :3]


@pytest.mark.parametrize("part_no", [0, 1, 2, 3, 4])
def test_stamp_changes_only_blank_pixels_in_the_top_margin(
    bundle: tuple[BundleResult, PdfReader], parts: list[BundlePart], tmp_path: Path, part_no: int
) -> None:
    require(shutil.which("pdftoppm") is not None, "poppler-utils (pdftoppm)")
    result, _ = bundle
    alone = tmp_path / "alone.pdf"
    alone.write_bytes(parts[part_no].pdf)
    before = _render(alone, 1, tmp_path / "before")
    after = _render(result.path, result.parts[part_no].first_page, tmp_path / "after")
    assert before.shape == after.shape
    changed = np.abs(after - before).max(axis=2) > 0.05
    rows, _cols = np.nonzero(changed)
    assert len(rows), "the stamp should be visible"
    px_per_mm = 50 / 25.4
    assert rows.max() < 10 * px_per_mm  # only within the top 10 mm
    assert before[changed].min() > 0.95  # and only where the part was blank


def test_renderers_give_the_same_bytes_for_the_same_input() -> None:
    """So a part rebuilt from an unchanged case keeps the SHA-256 the index printed."""

    def chronology() -> bytes:
        return render_chronology(
            _chronology(5), evidence_from=WINDOW[0], evidence_to=WINDOW[1], title="C"
        )

    letters = pd.DataFrame(
        {"made_at": [datetime(2025, 3, 1, 9, 30)], "count": [3], "made_by": ["PC Smith"]}
    )
    assert chronology() == chronology()
    assert render_consultation_record(
        letters, pd.DataFrame(), title="R"
    ) == render_consultation_record(letters, pd.DataFrame(), title="R")
    png = _png()
    assert render_picture("P", png, "c") == render_picture("P", png, "c")
