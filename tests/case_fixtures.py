"""A realistic :class:`~reports.case.CaseFile` for document tests, built fresh on every call.

``make_case(**overrides)`` gives a Metropolitan Police 48-hour notice over the communal parts of two
blocks on the sample estate, an order made at the hearing, a chronology, advice contacts, a service
record and a tiny map. Override any field by name; nothing is recomputed from the overrides (pass
``notice_expires_at`` yourself if you change ``notice_issued_at``). Telephone numbers are from
Ofcom's range reserved for drama (020 7946 0xxx), so none of them reaches a real service.
"""

from __future__ import annotations

import hashlib
import io
from datetime import date, datetime
from typing import Any

import pandas as pd
from PIL import Image, ImageDraw

from closuremap.geo.permitted_access import PermittedClass
from closuremap.geo.timeline import timeline
from closuremap.reports.case import CHRONOLOGY_COLUMNS, SERVICE_COLUMNS, AdviceContact, CaseFile

ISSUED = datetime(2025, 3, 10, 9, 30)
SERVED = datetime(2025, 3, 10, 10, 15)
HEARING = datetime(2025, 3, 12, 10, 0)
ORDER_MADE = date(2025, 3, 12)
COURT = "Camberwell Green Magistrates' Court"
COURT_ADDRESS = "15 D'Eynsford Road, London SE5 7UP"
BLOCKS = [
    "Perronet House, Princess Street, London SE1 6FY",
    "Hayles Buildings, Elliott's Row, London SE11 4TB",
]


def tiny_png(width: int = 160, height: int = 100) -> bytes:
    """A small map stand-in: a white sheet with a block edged red, as PNG bytes."""
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, width - 40, height - 20), fill="#e3e8f6", outline="#1f3a93")
    draw.rectangle((8, 8, width - 38, height - 18), outline="red", width=3)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def chronology() -> pd.DataFrame:
    rows = [
        (
            "2025-01-04",
            "22:41",
            "ASB - Nuisance",
            "CAD 7311/04JAN25",
            "Stairwell B, Perronet House",
        ),
        ("2025-01-19", "01:12", "Drugs", "CRIS 5024117/25", "Entrance lobby A, Perronet House"),
        (
            "2025-02-02",
            "23:55",
            "ASB - Nuisance",
            "CAD 8120/02FEB25",
            "Landing, 3rd floor, Hayles Buildings",
        ),
        (
            "2025-02-15",
            "20:30",
            "Criminal damage",
            "CRIS 5031982/25",
            "Lift lobby, Hayles Buildings",
        ),
        ("2025-02-27", "02:05", "Drugs", "CAD 1044/27FEB25", "Bin store, Perronet House"),
        ("2025-03-08", "21:47", "Violence", "CRIS 5040213/25", "Entrance lobby B, Perronet House"),
    ]
    return pd.DataFrame(rows, columns=list(CHRONOLOGY_COLUMNS))


def service() -> pd.DataFrame:
    rows = [
        (
            "Entrance lobby A (Princess Street)",
            "Perronet House",
            pd.Timestamp("2025-03-10 10:15"),
            "PC 1234 Alex Brown",
            "AB/2/1",
        ),
        (
            "Entrance lobby B (rear courtyard)",
            "Perronet House",
            pd.Timestamp("2025-03-10 10:22"),
            "PC 1234 Alex Brown",
            "AB/2/2",
        ),
        (
            "Main entrance (Elliott's Row)",
            "Hayles Buildings",
            pd.Timestamp("2025-03-10 10:41"),
            "PC 5678 Sam Okafor",
            "AB/2/3",
        ),
    ]
    return pd.DataFrame(rows, columns=list(SERVICE_COLUMNS))


def make_case(**overrides: Any) -> CaseFile:
    """A complete, realistic case file; ``overrides`` replace fields as given."""
    tl = timeline(
        notice_issued=ISSUED,
        notice_served=SERVED,
        notice_hours=48,
        authorised_by="Superintendent",
        hearing_at=HEARING,
        order_made=ORDER_MADE,
        order_months=3,
    )
    values: dict[str, Any] = dict(
        order_id="ORD-2025-007",
        name="Perronet House and Hayles Buildings communal areas",
        premises="The communal parts of Perronet House and Hayles Buildings (entrance lobbies, "
        "stairwells, landings, corridors, lifts and bin stores), excluding the individual "
        "flats",
        blocks=list(BLOCKS),
        applicant="Metropolitan Police Service",
        authorised_by="Superintendent",
        notice_issued_at=ISSUED,
        notice_served_at=SERVED,
        notice_hours=48,
        notice_expires_at=tl.notice_expires,
        hearing_at=HEARING,
        hearing_deadline=tl.hearing_deadline,
        court_name=COURT,
        court_address=COURT_ADDRESS,
        case_reference="MPS-SE-2025-0142",
        order_made_on=ORDER_MADE,
        order_months=3,
        order_expires_on=tl.order_expires,
        extension_months=[],
        permitted=[
            PermittedClass("residents", detail="Flats 1-48"),
            PermittedClass("owner"),
            PermittedClass("visitors", times="between 08:00 and 22:00"),
        ],
        grounds=["a", "b"],
        facts="Since December 2024 the communal parts of both blocks have been used by "
        "non-residents to deal and take drugs, mostly between 22:00 and 03:00.\n\n"
        "Residents report drug litter, urine and noise on the stairwells, and say they are "
        "afraid to use the lifts at night. Six incidents in the evidence window are set out "
        "in the chronology.",
        evidence_from=date(2024, 12, 1),
        evidence_to=date(2025, 3, 9),
        chronology=chronology(),
        advice_contacts=[
            AdviceContact(
                "Southwark Council Housing Solutions",
                "020 7946 0123, 160 Tooley Street, London SE1 2QH",
                "housing",
            ),
            AdviceContact(
                "Walworth Community Law Centre",
                "020 7946 0456, advice@walworth-law.example.org",
                "legal",
            ),
        ],
        exhibit_ref="AB/1",
        version=3,
        prepared_by="PC 1234 Alex Brown",
        prepared_on=date(2025, 3, 10),
        scope_sha256=hashlib.sha256(b"ORD-2025-007 scope v3").hexdigest(),
        scope_map_png=tiny_png(),
        timeline=tl,
        service=service(),
        objections=pd.DataFrame(
            [
                (
                    "Resident, Flat 12 Perronet House",
                    date(2025, 3, 11),
                    "Worried visiting carers will be turned away",
                    "Carers are visitors invited by a resident; permitted 08:00-22:00",
                )
            ],
            columns=["who", "received_on", "summary", "response"],
        ),
        letters=pd.DataFrame(
            [(datetime(2025, 3, 10, 8, 45), 96, "PC 1234 Alex Brown")],
            columns=["made_at", "count", "made_by"],
        ),
    )
    values.update(overrides)
    return CaseFile(**values)
