"""Consultation letters: one page per address in the order's blocks, merged into one PDF, with a
CSV of recipients. The template is plain text with $fields, editable in the app and kept in the
workspace.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from string import Template

import pandas as pd
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas

from closuremap.geo.errors import ClosuremapError

from .atomic import atomic_path

DEFAULT_TEMPLATE = (
    # a long paragraph runs over several strings; the letter wraps it to the page
    "$date\n"
    "\n"
    "The Resident\n"
    "$address\n"
    "\n"
    "Dear Resident,\n"
    "\n"
    "$order_name: the shared areas of your block\n"
    "\n"
    "Why we are writing. Police and the council are concerned about anti-social behaviour and "
    "crime in the shared parts of $blocks. In the twelve months to the latest records we have: "
    "$issues. We are considering asking the magistrates' court for a closure order.\n"
    "\n"
    "What a closure order is. A closure order is made by the magistrates' court under the "
    "Anti-social Behaviour, Crime and Policing Act 2014. It makes it a criminal offence for "
    "anyone not permitted to enter the closed area. It can last up to three months, and up to "
    "six months if the court extends it. It would cover only the shared areas: $scope_words.\n"
    "\n"
    "What it means for you. You keep full access to your home at all times, and so do your "
    "visitors. The order would permit:\n"
    "$permitted_access\n"
    "\n"
    "Who to contact. If you have questions, or want to tell us what you think before "
    "$respond_by, contact $contact. We will record your views and reply.\n"
    "\n"
    "Yours faithfully,\n"
    "\n"
    "$signatory\n"
)

FIELDS = (
    "date",
    "address",
    "order_name",
    "blocks",
    "issues",
    "scope_words",
    "permitted_access",
    "contact",
    "respond_by",
    "signatory",
)


class TemplateError(ClosuremapError):
    """A letter template with a $field we do not fill."""


def check_template(template: str) -> None:
    """Refuse a template with unknown $fields, naming them and the ones there are."""
    unknown = sorted(
        {
            m.group("named") or m.group("braced")
            for m in Template.pattern.finditer(template)
            if (m.group("named") or m.group("braced"))
            and (m.group("named") or m.group("braced")) not in FIELDS
        }
    )
    if unknown:
        raise TemplateError(
            f"the letter template uses unknown field(s) {', '.join('$' + u for u in unknown)}; "
            f"the fields are {', '.join('$' + f for f in FIELDS)}"
        )


@dataclass
class LetterRun:
    path: Path
    recipients: pd.DataFrame
    pages: int


def render_letters(
    recipients: pd.DataFrame,
    common: dict[str, str],
    out: str | Path,
    template: str = DEFAULT_TEMPLATE,
    letterhead: str = "",
) -> LetterRun:
    """One A4 page per recipient (columns uprn, address, ...), each naming its address; the PDF is
    written whole or not at all."""
    check_template(template)
    tpl = Template(template)
    path = Path(out)
    with atomic_path(path) as tmp:
        _draw_letters(
            canvas.Canvas(str(tmp), pagesize=A4, pageCompression=1),
            recipients,
            common,
            tpl,
            letterhead,
        )
    return LetterRun(path, recipients, len(recipients))


class _Lines:
    """``canvas.drawString`` for the lines every letter shares, each line's PDF operators made once.

    The letters differ only in the address and the UPRN, so the same paragraphs fall at the same
    heights on every page; making a line's operators (a text object, its font encoding, escaping)
    is most of reportlab's time per page, so they are made by reportlab once for each font, height
    and text, and the same bytes are added to every later page. The output is what ``drawString``
    writes: ``tests/test_letters.py`` compares the two byte for byte.
    """

    def __init__(self, c: canvas.Canvas, x: float) -> None:
        self.c, self.x = c, x
        self.made: dict[tuple[str, float, float, str], str] = {}

    def draw(self, font: tuple[str, float], y: float, text: str) -> None:
        """One line at height ``y`` in ``font`` (name, size), the font the canvas has set."""
        key = (*font, y, text)
        code = self.made.get(key)
        if code is None:  # what drawString does for plain left-to-right text
            t = self.c.beginText(self.x, y)
            t.textLine(text)
            code = self.made[key] = t.getCode()
        self.c.addLiteral(code)


def _draw_letters(
    c: canvas.Canvas,
    recipients: pd.DataFrame,
    common: dict[str, str],
    tpl: Template,
    letterhead: str,
) -> None:
    c.setTitle(f"Consultation letters: {common.get('order_name', '')}")
    width, height = A4
    left, right, top = 22 * mm, width - 22 * mm, height - 22 * mm
    wrapped: dict[str, list[str]] = {}
    lines = _Lines(c, left)
    heading, body = ("Helvetica-Bold", 11), ("Helvetica", 10)
    for address, uprn in zip(
        recipients["address"].tolist(), recipients["uprn"].tolist(), strict=True
    ):
        text = tpl.safe_substitute({**common, "address": str(address).replace(", ", "\n")})
        y = top
        if letterhead:
            c.setFont(*heading)
            lines.draw(heading, y, letterhead)
            y -= 10 * mm
        c.setFont(*body)
        for paragraph in text.split("\n"):
            if (
                paragraph not in wrapped
            ):  # the letters share all but the address: wrap each paragraph once
                wrapped[paragraph] = simpleSplit(paragraph, *body, right - left) or [""]
            for line in wrapped[paragraph]:
                lines.draw(body, y, line)
                y -= 4.6 * mm
        c.setFont("Helvetica", 7)
        c.drawString(left, 12 * mm, f"UPRN {uprn}")
        c.showPage()
    c.save()


def plain_date(d: date) -> str:
    return f"{d.day} {d:%B %Y}"
