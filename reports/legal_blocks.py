"""What each legal document says, as a list of blocks for :mod:`.docblocks` to lay out: the
closure notice (s.76), the application (s.80) with its draft order, the extension (s.82), the
discharge (s.83) and the certificate of service (s.79). Sections of the Anti-social Behaviour, Crime
and Policing Act 2014 are cited next to each rule.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from dateutil.relativedelta import relativedelta

from closuremap.geo.permitted_access import CLASSES, wording
from closuremap.geo.timeline import (
    APPEAL_DAYS,
    EXTENSION_MAX_MONTHS,
    ORDER_MAX_MONTHS,
    ORDER_TOTAL_MAX_MONTHS,
)

from .case import SERVICE_COLUMNS, AdviceContact, CaseFile
from .docblocks import Block, Break, Grid, Heading, Para
from .legal_text import (
    GAP,
    ORDER_BREACH_PENALTY,
    LegalDocumentError,
    court_section,
    grounds_section,
    labelled,
    map_section,
    order_months_sought,
    order_section,
    premises_section,
    printed,
    prose,
    signature_form,
    signed_by,
    wording_lines,
)


def notice_blocks(case: CaseFile) -> list[Block]:
    """Every item s.76(5) requires, each under its own heading, in the Act's order."""
    return [
        labelled("Issued by:", case.applicant),
        labelled("Authorised by (rank or authority, s.76(1), s.77(2)):", case.authorised_by),
        labelled("Date and time of issue:", case.notice_issued_at),
        labelled("Case reference:", case.case_reference),
        Heading("(a) The premises to which this notice applies (s.76(5)(a))"),
        *premises_section(case),
        *map_section(case, required=False),
        Heading("(b) The effect of this notice (s.76(5)(b))"),
        Para(
            f"Access to the premises is prohibited for {printed(case.notice_hours or None)} hours "
            f"from the time of issue, {printed(case.notice_issued_at)}, until "
            f"{printed(case.notice_expires_at)}, except by the persons permitted below."
        ),
        *wording_lines(wording(printed(case.premises), case.permitted, stage="notice")),
        # s.76(4): a notice may not prohibit access by habitual residents or the owner.
        Para(
            "This notice does not prohibit access by people who habitually live on the premises "
            "or by the owner of the premises (s.76(4))."
        ),
        Heading("(c) Failing to comply with this notice is an offence (s.76(5)(c))"),
        # s.86(1), (4): a summary offence, up to 3 months' imprisonment and/or a fine.
        Para(
            "A person who without reasonable excuse remains on or enters the premises in "
            "contravention of this closure notice commits an offence (s.86(1)). The penalty on "
            "summary conviction is imprisonment for up to 3 months, or a fine, or both "
            "(s.86(4))."
        ),
        Heading("(d) An application will be made for a closure order (s.76(5)(d))"),
        # s.80(1)-(2): once a notice is issued, the order application must follow.
        Para(
            f"{printed(case.applicant)} will apply to the magistrates' court for a closure order "
            "under section 80 of the Act in respect of the premises."
        ),
        Heading("(e) When and where the application will be heard (s.76(5)(e))"),
        labelled("Court:", case.court_name),
        labelled("Address:", case.court_address),
        labelled("Date and time of hearing:", case.hearing_at),
        Heading("(f) The effect of a closure order (s.76(5)(f))"),
        *_order_effect(),
        Heading("(g) Local housing and legal advice (s.76(5)(g))"),
        Para("Advice about housing and legal matters is available from:", keep=True),
        _advice(case.advice_contacts),
        Heading("Signature of the issuing officer"),
        signature_form(
            [
                ("Signed:", "_" * 40),
                ("Name:", ""),
                ("Rank or authority:", case.authorised_by),
                ("On behalf of:", case.applicant),
                ("Date and time of issue:", case.notice_issued_at),
            ]
        ),
    ]


def _order_effect() -> list[Block]:
    """What a closure order can do, as the notice must say (s.76(5)(f))."""
    return [
        # s.80(6): at most 3 months; s.80(7): may bar all persons, owner and residents included.
        Para(
            "If the court makes a closure order, it may prohibit access to the premises for up to "
            "3 months (s.80(6)). A closure order may prohibit access by all persons, including "
            "the owner and people who habitually live on the premises, or by all persons except "
            "those it names, at all times or at the times it names (s.80(7))."
        ),
        # s.82(7)-(8): extensions of up to 3 months each, 6 months in all.
        Para("The court may extend a closure order so that it lasts up to 6 months in all (s.82)."),
        # s.86(2), (5): 51 weeks (read as 6 months until CJA 2003 s.281(5) is in force, s.86(6)).
        Para(
            "A person who without reasonable excuse remains on or enters the premises in "
            "contravention of a closure order commits an offence, punishable by imprisonment for "
            f"{ORDER_BREACH_PENALTY} (s.86(2), (5), (6))."
        ),
    ]


def _advice(contacts: Sequence[AdviceContact]) -> Grid:
    """Each advice service's name and how to reach it; a missing kind is a visible gap."""
    rows = [(printed(c.name), printed(c.kind), printed(c.detail)) for c in contacts]
    for kind in ("housing", "legal"):  # s.76(5)(g) names both
        if not any(c.kind == kind for c in contacts):
            rows.append((GAP, kind, GAP))
    return Grid(("Advice service", "Advice on", "How to contact"), tuple(rows), (0.35, 0.15, 0.5))


DRAFT_ORDER_BREAK = Break()


def application_blocks(case: CaseFile) -> list[Block]:
    """What the justices need to decide s.80(5), then the order sought, as a draft."""
    return [
        Heading("1. Applicant"),
        labelled("Applicant:", case.applicant),
        labelled("Notice authorised by:", case.authorised_by),
        labelled("Prepared by:", case.prepared_by),
        Heading("2. Court and hearing"),
        *court_section(case),
        labelled("Hearing:", case.hearing_at),
        # s.80(3)-(4): heard within 48 hours of service, Christmas Day disregarded.
        labelled("Latest time for the hearing (s.80(3)):", case.hearing_deadline),
        Heading("3. The premises"),
        *premises_section(case),
        Heading("4. The closure notice (s.76)"),
        labelled("Issued at:", case.notice_issued_at),
        labelled("Served at (s.79):", case.notice_served_at),
        labelled("Length (hours):", case.notice_hours or None),
        labelled("Expires at:", case.notice_expires_at),
        Heading("5. Grounds (s.80(5))"),
        Para("The applicant asks the court to be satisfied, on the balance of probabilities:"),
        *grounds_section(case),
        Heading("6. Necessity (s.80(5))"),
        Para(
            "The applicant believes that a closure order is necessary to prevent the behaviour, "
            "nuisance or disorder set out above from continuing, recurring or occurring."
        ),
        Heading("7. Statement of facts"),
        *prose(case.facts),
        Heading("8. Evidence"),
        Para(f"Evidence window: {printed(case.evidence_from)} to {printed(case.evidence_to)}."),
        *_chronology_summary(case.chronology),
        Heading("9. Order sought"),
        Para(
            "The applicant asks the court to make a closure order in the terms of the draft order "
            "that follows.",
            keep=True,
        ),
        signed_by(case.prepared_by, case.applicant, case.prepared_on),
        DRAFT_ORDER_BREAK,
        Heading("DRAFT CLOSURE ORDER", level=0),
        *draft_order_blocks(case),
    ]


def _chronology_summary(chronology: pd.DataFrame | None) -> list[Block]:
    if chronology is None or not len(chronology) or "category" not in chronology.columns:
        return [labelled("Incidents in the chronology:", None)]
    counts = chronology["category"].map(printed).value_counts().sort_index()
    rows = tuple((str(k), str(v)) for k, v in counts.items()) + (("Total", str(len(chronology))),)
    return [
        Para(
            f"The chronology lists {len(chronology)} incidents in the evidence window, by "
            "category:",
            keep=True,
        ),
        Grid(("Category", "Incidents"), rows, (0.7, 0.3)),
    ]


def draft_order_blocks(case: CaseFile) -> list[Block]:
    """The order the court is asked to make: terms, schedule, duration, map and warnings."""
    months = order_months_sought(case)
    schedule = tuple(
        (CLASSES.get(c.code, c.code), printed(c.times), c.detail.strip() or "-")
        for c in case.permitted
    ) or (("No one (closed to all persons)", "-", "-"),)
    default = "" if case.order_months is not None else " (the maximum; no shorter period was set)"
    return [
        *court_section(case),
        labelled("Applicant:", case.applicant),
        Para(
            f"Upon the application of {printed(case.applicant)} under section 80 of the Act, the "
            "court being satisfied of the following (s.80(5)), and that the order is necessary to "
            "prevent the behaviour, nuisance or disorder continuing, recurring or occurring:"
        ),
        *grounds_section(case),
        Heading("Terms of the order (s.80(7))", level=2),
        *wording_lines(wording(printed(case.premises), case.permitted, stage="order")),
        Heading("Schedule of permitted access", level=2),
        Grid(("Class", "Times", "Detail"), schedule, (0.5, 0.25, 0.25)),
        Heading("Duration (s.80(6))", level=2),
        Para(
            f"This order has effect for {months} months from the day it is made{default}. A "
            f"closure order may not last more than {ORDER_MAX_MONTHS} months (s.80(6)); it may be "
            f"extended to {ORDER_TOTAL_MAX_MONTHS} months in all (s.82)."
        ),
        labelled("Made on:", case.order_made_on),
        labelled("Expires on:", case.order_expires_on),
        Heading("Map of the premises", level=2),
        *map_section(case, required=True),
        Heading("Warning (s.86(2))", level=2),
        Para(
            "A person who without reasonable excuse remains on or enters the premises in "
            "contravention of this order commits an offence, punishable by imprisonment for "
            f"{ORDER_BREACH_PENALTY} (s.86(2), (5), (6))."
        ),
        Heading("Right of appeal (s.84)", level=2),
        # s.84: appeal to the Crown Court within 21 days of the decision.
        Para(
            "A person on whom the closure notice was served, or anyone else with an interest in "
            "the premises, may appeal against this order to the Crown Court within "
            f"{APPEAL_DAYS} days of the day on which it is made (s.84)."
        ),
        signature_form(
            [
                ("By the court:", "_" * 40),
                ("Justice of the Peace / District Judge:", ""),
                ("Date:", ""),
            ]
        ),
    ]


def _extension_months(case: CaseFile) -> tuple[int, int]:
    """(months requested, total months with it); refuses what the court could not grant."""
    if case.order_made_on is None:  # s.82(1): only an order in force can be extended
        raise LegalDocumentError(
            "the closure order has not been made, so it cannot be extended "
            "(s.82): record the date the court made the order first"
        )
    requested = case.extension_months[-1] if case.extension_months else EXTENSION_MAX_MONTHS
    if not 0 < requested <= EXTENSION_MAX_MONTHS:  # s.82(7): at most 3 months at a time
        raise LegalDocumentError(
            f"an extension is at most {EXTENSION_MAX_MONTHS} months at a time "
            f"(s.82(7)); {requested} months is not allowed: ask for 1-3 "
            "months"
        )
    before = order_months_sought(case) + sum(case.extension_months[:-1])
    total = before + requested
    if total > ORDER_TOTAL_MAX_MONTHS:  # s.82(8): 6 months in all
        room = ORDER_TOTAL_MAX_MONTHS - before
        fix = f"ask for at most {room} months" if room > 0 else "it cannot be extended any further"
        raise LegalDocumentError(
            f"a closure order with its extensions lasts at most "
            f"{ORDER_TOTAL_MAX_MONTHS} months in all (s.82(8)); {before} + "
            f"{requested} = {total} months: {fix}"
        )
    return requested, total


def extension_blocks(case: CaseFile) -> list[Block]:
    """An application the court can grant: there is an order, within 3 and 6 months (s.82)."""
    requested, total = _extension_months(case)
    assert case.order_made_on is not None  # checked above
    earlier = ", ".join(f"{m} months" for m in case.extension_months[:-1]) or "none"
    new_end = printed(case.order_made_on + relativedelta(months=total))
    return [
        labelled("Applicant:", case.applicant),
        *court_section(case),
        Heading("The premises"),
        *premises_section(case),
        *order_section(case),
        labelled("Earlier extensions:", earlier),
        Heading("Extension sought (s.82)"),
        Para(
            f"The applicant applies for the closure order to be extended by {requested} months, "
            f"to {new_end}. With this extension the order would last {total} months in all. Each "
            f"extension is at most {EXTENSION_MAX_MONTHS} months (s.82(7)) and an order may not "
            f"last more than {ORDER_TOTAL_MAX_MONTHS} months in all (s.82(8)). The application "
            "must be made before the order expires (s.82)."
        ),
        Heading("Reasons for the extension"),
        *prose(case.extension_reason),
        signed_by(case.prepared_by, case.applicant),
    ]


def discharge_blocks(case: CaseFile) -> list[Block]:
    """A complaint to discharge the order; there must be an order to discharge (s.83)."""
    if case.order_made_on is None:
        raise LegalDocumentError(
            "there is no closure order to discharge: the order has not been "
            "made (s.83); record the date the court made the order first"
        )
    return [
        labelled("Complainant:", case.applicant),
        *court_section(case),
        Heading("The premises"),
        *premises_section(case),
        *order_section(case),
        Heading("Complaint (s.83)"),
        # s.83: by complaint, before expiry, by the applicant body, anyone served or interested.
        Para(
            "The complainant applies by complaint to the magistrates' court for the closure order "
            f"made on {printed(case.order_made_on)} to be discharged. A complaint may be made by "
            "the body that applied for the order, a person on whom the closure notice was served, "
            "or anyone else with an interest in the premises, before the order expires (s.83)."
        ),
        Heading("Reasons for discharge"),
        *prose(case.discharge_reason),
        signed_by(case.prepared_by, case.applicant),
    ]


def service_blocks(case: CaseFile) -> list[Block]:
    """Where, when and by whom the notice was fixed (s.79(2)); no record, nothing to certify."""
    if case.service is None or not len(case.service):
        raise LegalDocumentError(
            "there is no record of service: record where, when and by whom "
            "the notice was served (s.79) before making the certificate"
        )
    rows = tuple(
        tuple(printed(r.get(c)) for c in SERVICE_COLUMNS) for r in case.service.to_dict("records")
    )
    officers = sorted({row[3] for row in rows if row[3] != GAP})
    return [
        labelled("Closure notice issued by:", case.applicant),
        labelled("Issued at:", case.notice_issued_at),
        labelled("Case reference:", case.case_reference),
        Heading("The premises"),
        *premises_section(case),
        Heading("Service of the notice (s.79)"),
        # s.79(2)(a): a copy fixed at every normal means of access, if possible.
        Para(
            "A copy of the closure notice was fixed at each of the following entrances to the "
            "premises (s.79(2)(a)):",
            keep=True,
        ),
        Grid(
            ("Entrance", "Block", "Served at", "Officer", "Photo ref"),
            rows,
            (0.26, 0.22, 0.2, 0.18, 0.14),
        ),
        # s.79(2)(b)-(c): copies to people in control, residents and those told under s.76(6).
        labelled(
            "Copies given to people in control of, living on, or with an interest in the "
            "premises (s.79(2)(b)-(c)):",
            None,
        ),
        Heading("Statement of truth"),
        Para(
            "I certify that the closure notice was served as set out above. I believe that the "
            "facts stated in this certificate are true.",
            keep=True,
        ),
        signature_form(
            [
                ("Signed:", "_" * 40),
                ("Name:", officers[0] if len(officers) == 1 else ""),
                ("Date:", ""),
            ]
        ),
    ]
