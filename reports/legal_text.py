"""The words of the legal documents that several of them share: how a value is printed (a gap is
``[to be completed]``, never a guess), signature forms, and the sections on the premises, the map,
the grounds, the court and the order. Each document's own wording is :mod:`.legal_blocks`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime

import pandas as pd

from closuremap.geo.errors import ClosuremapError
from closuremap.geo.timeline import ORDER_MAX_MONTHS

from .case import ORDER_GROUNDS, CaseFile
from .docblocks import Block, Grid, Heading, Para, Picture, image_size

GAP = "[to be completed]"


ACT = "Anti-social Behaviour, Crime and Policing Act 2014"


CONTROL_CHARACTERS = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
)  # not allowed in PDF text or DOCX XML


#: s.86(5): up to 51 weeks, read as 6 months until s.281(5) of the Criminal Justice Act 2003 is in
#: force (s.86(6)); the notice says both, so it never overstates the maximum a court can give today.
ORDER_BREACH_PENALTY = (
    "up to 51 weeks (6 months until section 281(5) of the Criminal Justice Act 2003 comes "
    "into force), or a fine, or both"
)


class LegalDocumentError(ClosuremapError):
    """A legal document the case file does not (yet) allow; the message says what to fix."""


def printed(value: object) -> str:
    """A value as printed; None, NaN/NaT and blank text are gaps, never a guess."""
    if value is None or value is pd.NA or (isinstance(value, (float, date)) and pd.isna(value)):
        return GAP
    if isinstance(value, datetime):
        return f"{value:%H:%M} on {value:%A} {value.day} {value:%B %Y}"
    if isinstance(value, date):
        return f"{value.day} {value:%B %Y}"
    return CONTROL_CHARACTERS.sub("", str(value)).strip() or GAP


def labelled(label: str, value: object) -> Para:
    """A labelled value; a missing value prints as the gap."""
    return Para(printed(value), label=label)


def wording_lines(text: str) -> list[Para]:
    """Multi-line wording (from :func:`geo.permitted_access.wording`): a paragraph a line."""
    lines = [line for line in text.splitlines() if line.strip()]
    return [Para(line, indent=i > 0) for i, line in enumerate(lines)]


def prose(text: str) -> list[Para]:
    """The officer's own words, a paragraph per blank-line-separated part."""
    parts = [
        p.strip() for p in re.split(r"\n\s*\n", CONTROL_CHARACTERS.sub("", text or "")) if p.strip()
    ]
    return [Para(p) for p in parts] or [Para(GAP)]


def signature_form(rows: Sequence[tuple[str, object]]) -> Grid:
    """A form to sign: '' leaves a blank to write on, None prints as a gap."""
    cells = tuple((label, "" if v == "" else printed(v)) for label, v in rows)
    return Grid((), cells, (0.38, 0.62), lines=False)


def signed_by(name: object, on_behalf_of: object, day: object = "") -> Grid:
    """A signature form: who signs, for whom, and when."""
    return signature_form(
        [("Signed:", "_" * 40), ("Name:", name), ("On behalf of:", on_behalf_of), ("Date:", day)]
    )


def premises_section(case: CaseFile) -> list[Block]:
    """The premises in words, then block by block (s.76(5)(a), s.80(8))."""
    out: list[Block] = [Para(printed(case.premises))]
    if not case.blocks:
        return out + [labelled("Blocks:", None)]
    return out + [Para(f"{i}. {printed(b)}", indent=True) for i, b in enumerate(case.blocks, 1)]


def map_section(case: CaseFile, *, required: bool) -> list[Block]:
    """The map of the premises edged red; when ``required``, a missing map is a visible gap."""
    if not case.scope_map_png:
        return [labelled("Map of the premises:", None)] if required else []
    try:
        image_size(case.scope_map_png)
    except (OSError, ValueError) as exc:
        raise LegalDocumentError(
            f"the map of the premises cannot be read ({exc}); export the scope map again as PNG"
        ) from exc
    caption = f"Map: the premises edged red (exhibit {printed(case.exhibit_ref)})"
    return [Picture(case.scope_map_png, caption)]


def grounds_section(case: CaseFile) -> list[Block]:
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


def order_months_sought(case: CaseFile) -> int:
    """The order's length in months (3, the maximum, when none was set); refuses more (s.80(6))."""
    months = case.order_months if case.order_months is not None else ORDER_MAX_MONTHS
    if not 0 < months <= ORDER_MAX_MONTHS:  # s.80(6): at most 3 months
        raise LegalDocumentError(
            f"a closure order lasts at most {ORDER_MAX_MONTHS} months "
            f"(s.80(6)); {months} months is not allowed: set the order length "
            "to 1-3 months"
        )
    return months


def court_section(case: CaseFile) -> list[Block]:
    """The court, its address and the case reference."""
    return [
        labelled("Court:", case.court_name),
        labelled("Court address:", case.court_address),
        labelled("Case reference:", case.case_reference),
    ]


def order_section(case: CaseFile) -> list[Block]:
    """The order as made: when, for how long, until when."""
    return [
        Heading("The order"),
        labelled("Order made on:", case.order_made_on),
        labelled("Order length (months):", case.order_months),
        labelled("Order currently expires on:", case.order_expires_on),
    ]
