"""Consultation letters: what ``closuremap letters`` imports, and the shared lines drawn as
reportlab's own ``drawString`` draws them.

A mailing of a few hundred letters is a short process, so what it imports is most of its time
(issue 15: letters within 1.3x of reportlab alone). The import check runs in a fresh interpreter,
resolving the body the ``letters`` subcommand runs, so it fails if the command is pointed back at a
heavy module or if a module on its path gains a heavy import.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

import geopandas as gpd
import shapely

from closuremap.geo.crs import BNG
from closuremap.layers.store import GeoPackageStore
from closuremap.reports.letter_inputs import letter_fields
from closuremap.reports.letters import _Lines, render_letters
from tests.conftest import require

#: What letters never need: matplotlib, the exhibit, the briefing, the court bundle and case file,
#: the exhibit's inputs, the orders module's scope checks and file readers.
HEAVY = (
    "matplotlib",
    "closuremap.reports.exhibit",
    "closuremap.reports.exhibit_data",
    "closuremap.reports.mapsheet",
    "closuremap.reports.briefing",
    "closuremap.reports.bundle",
    "closuremap.reports.casefile",
    "closuremap.reports.inputs",
    "closuremap.layers.orders",
    "openpyxl",
)


def _heavy_modules_loaded_by(argv: list[str]) -> list[str]:
    """The HEAVY modules in ``sys.modules`` after a fresh interpreter parses ``closuremap ARGV``
    and imports the body that command would run (without running it)."""
    code = (
        "import json, sys\n"
        "from closuremap.cli import build_parser\n"
        f"build_parser().parse_args({argv!r}).func.resolve()\n"
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return list(json.loads(done.stdout))


def test_the_letters_command_imports_no_matplotlib_exhibit_or_bundle() -> None:
    argv = ["letters", "ws.gpkg", "--order", "O", "--out", "x.pdf"]
    assert _heavy_modules_loaded_by([*argv, "--contact", "c", "--signatory", "s"]) == []


def test_the_import_check_sees_a_heavy_import() -> None:
    # the same check on the exhibit, which draws with matplotlib: a check that could not fail
    # would pass whatever the letters imported
    argv = ["exhibit", "ws.gpkg", "--order", "O", "--exhibit-ref", "AB/1", "--out", "x.pdf"]
    assert "matplotlib" in _heavy_modules_loaded_by(argv)


@pytest.mark.parametrize(
    "text",
    [
        "Dear Resident,",
        "",
        "Flat 3 (rear) \\ the ) and ( must be escaped",
        "Łódź Court — 10 € a week, naïve café",  # outside Helvetica's encoding: substitutions
    ],
)
def test_shared_lines_are_the_bytes_drawstring_writes(text: str) -> None:
    def page(draw_line: Callable[[canvas.Canvas, tuple[str, float], float, str], None]) -> bytes:
        c = canvas.Canvas(None, pagesize=A4, invariant=1)  # no date or random id in the file
        for _ in range(2):  # the second page repeats the first's lines: made once, added twice
            # two fonts at one height (a line's operators can name the font they switch back to)
            for font, size, y in (("Helvetica-Bold", 11, 600.0), ("Helvetica", 10, 600.0)):
                c.setFont(font, size)
                draw_line(c, (font, size), y, text)
                draw_line(c, (font, size), y - 20, text)
            c.showPage()
        return bytes(c.getpdfdata())

    lines: dict[int, _Lines] = {}

    def cached(c: canvas.Canvas, font: tuple[str, float], y: float, line: str) -> None:
        lines.setdefault(id(c), _Lines(c, 62.0)).draw(font, y, line)

    def plain(c: canvas.Canvas, font: tuple[str, float], y: float, line: str) -> None:
        c.drawString(62.0, y, line)

    assert page(cached) == page(plain)


def _words_with_heights(pdf: Path) -> list[list[tuple[str, float]]]:
    """Each page's words, each with the distance of its top from the top of the page (points)."""
    require(shutil.which("pdftotext") is not None, "poppler-utils (pdftotext)")
    html = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return [
        [(w, float(y)) for y, w in re.findall(r'<word [^>]*yMin="([\d.]+)"[^>]*>([^<]*)</word>', p)]
        for p in html.split("<page ")[1:]
    ]


def test_letters_whose_addresses_differ_in_length_each_carry_their_own(tmp_path: Path) -> None:
    # a longer address moves every later line down: the lines made for one height must not be
    # reused at another, and each page names its own address and UPRN
    recipients = pd.DataFrame(
        {
            "uprn": ["1", "2", "3"],
            "address": [
                "Flat 1, Perronet House, SE1 6HG",
                "Flat 2, Rear Wing, Perronet House, Gaywood Street, SE1 6HG",
                "Flat 3, Perronet House, SE1 6HG",
            ],
        }
    )
    template = "$address\nDear Resident,\n$order_name ends"
    run = render_letters(recipients, {"order_name": "Order"}, tmp_path / "l.pdf", template=template)
    pages = _words_with_heights(run.path)
    words = [[w for w, _ in p] for p in pages]
    assert words[0] == ["Flat", "1", "Perronet", "House", "SE1", "6HG", "Dear", "Resident,"] + [
        "Order",
        "ends",
        "UPRN",
        "1",
    ]
    assert words[1][:9] == [
        "Flat",
        "2",
        "Rear",
        "Wing",
        "Perronet",
        "House",
        "Gaywood",
        "Street",
    ] + ["SE1"]
    assert words[2][:2] == ["Flat", "3"] and words[2][-1] == "3"
    dear = [dict(p)["Dear"] for p in pages]
    line = 4.6 * 72 / 25.4  # 4.6 mm in points
    assert dear[1] - dear[0] == pytest.approx(2 * line, abs=0.5)  # two more address lines
    assert dear[2] == pytest.approx(dear[0], abs=0.01)


def test_letters_count_incidents_within_reach_of_the_scope_even_outside_its_box(
    store: GeoPackageStore,
) -> None:
    # the incidents and communal areas are read through the spatial index (the scope's box widened
    # by the reach): one 9 m east of the scope lies outside its box and still counts, 11 m does not
    def layer(kind: str, rows: dict[str, list[object]], geoms: list[shapely.Geometry]) -> None:
        store.add(kind, gpd.GeoDataFrame(rows, geometry=geoms, crs=BNG), user="t")

    layer("premises", {"block_id": ["B"], "name": ["Block"]}, [shapely.box(0, 0, 10, 10)])
    layer(
        "orders", {"order_id": ["O"], "name": ["o"], "block_ids": ["B"]}, [shapely.box(1, 1, 9, 9)]
    )
    layer(
        "addresses",
        {"uprn": ["1"], "address": ["Flat 1, Block"], "block_id": ["B"]},
        [shapely.Point(5, 5)],
    )
    layer(
        "incidents",
        {"occurred_at": ["2026-01-15 10:00"] * 3, "category": ["drugs", "burglary", "violence"]},
        [shapely.Point(18, 5), shapely.Point(20, 5), shapely.Point(900, 900)],
    )
    layer(
        "communal_areas",
        {"block_id": ["B", "B"], "area_type": ["stairwell", "bin_store"]},
        [shapely.box(2, 2, 8, 8), shapely.box(30, 30, 40, 40)],
    )
    recipients, fields = letter_fields(
        store, "O", today=date(2026, 2, 1), contact="c", signatory="s", minimum=1
    )
    assert recipients["uprn"].tolist() == ["1"]
    assert fields["issues"] == "drugs (1)"
    assert fields["scope_words"] == "stairwell (not the flats)"
