"""One order's case file: everything the legal documents are drawn from, as plain values.

The notice, the application, the draft order, the extension and discharge requests, the
certificate of service and the court bundle are all rendered from one :class:`CaseFile`, so a date
or a term is typed once (on the order) and copied by the program, never by hand. Building a
CaseFile from a workspace is ``reports.casefile``; everything here is pure.

Times are Europe/London wall-clock times (what an officer writes on a notice), kept naive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd

from closuremap.geo.permitted_access import PermittedClass
from closuremap.geo.timeline import Timeline

#: The grounds for a closure order (s.80(5)): the court must be satisfied of one of these, and
#: that the order is necessary to prevent it continuing, recurring or occurring.
ORDER_GROUNDS: dict[str, str] = {
    "a": "that a person has engaged, or (if the order is not made) is likely to engage, in "
    "disorderly, offensive or criminal behaviour on the premises",
    "b": "that the use of the premises has resulted, or (if the order is not made) is likely to "
    "result, in serious nuisance to members of the public",
    "c": "that there has been, or (if the order is not made) is likely to be, disorder near "
    "those premises associated with the use of those premises",
}

#: Columns of the incident chronology, in order (personal details are never among them).
CHRONOLOGY_COLUMNS = ("date", "time", "category", "reference", "location")

#: Columns of the service record (s.79): one row per entrance where the notice was fixed.
SERVICE_COLUMNS = ("entrance", "block", "served_at", "officer", "photo_ref")


@dataclass(frozen=True)
class AdviceContact:
    """A local housing or legal advice service named on the notice (s.76(5)(g))."""

    name: str
    detail: str  # how to reach it: telephone, address, web
    kind: str = "housing"  # "housing" or "legal"


@dataclass
class CaseFile:
    """An order as its documents see it. Empty strings and Nones are gaps the documents show as
    '[to be completed]' rather than inventing a value."""

    order_id: str
    name: str  # the order's name, e.g. "Perronet House communal areas"
    premises: str  # the premises in words: blocks, communal parts included, flats excluded
    blocks: list[str]  # "Perronet House, Gladstone Street, London SE1 6EY", one per block
    applicant: str  # the body that applies: the police force or the council
    authorised_by: str | None  # the issuer's rank or authority (s.76(1), s.77(2))
    notice_issued_at: datetime | None
    notice_served_at: datetime | None
    notice_hours: int
    notice_expires_at: (
        datetime | None
    )  # from the timeline (Christmas Day and clock changes handled)
    hearing_at: datetime | None
    hearing_deadline: datetime | None  # s.80(3)
    court_name: str | None
    court_address: str | None
    case_reference: str | None
    order_made_on: date | None
    order_months: int | None
    order_expires_on: date | None
    extension_months: list[int]
    permitted: list[PermittedClass]
    grounds: list[str]  # keys of ORDER_GROUNDS
    facts: str  # the statement of facts, in the officer's words
    evidence_from: date
    evidence_to: date
    chronology: pd.DataFrame  # CHRONOLOGY_COLUMNS, oldest first, only the evidence window
    advice_contacts: list[AdviceContact]
    exhibit_ref: str  # e.g. "AB/1"
    version: int  # how many times the order has been saved
    prepared_by: str
    prepared_on: date
    scope_sha256: str
    scope_map_png: bytes | None = None  # the scope edged red, for the notice and the draft order
    hotspot_map_png: bytes | None = None  # incident density in the evidence window, for the bundle
    timeline: Timeline | None = None
    service: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(SERVICE_COLUMNS))
    )
    objections: pd.DataFrame = field(
        default_factory=pd.DataFrame
    )  # who, received_on, summary, response
    letters: pd.DataFrame = field(default_factory=pd.DataFrame)  # made_at, count, made_by
    discharge_reason: str = ""
    extension_reason: str = ""

    @property
    def reference_line(self) -> str:
        """What every page carries: exhibit reference, order and version."""
        return f"Exhibit {self.exhibit_ref} · Order {self.order_id} · version {self.version}"
