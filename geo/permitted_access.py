"""Who may still enter: an order's terms as permitted classes, and the wording made from them.

An order should say what access is permitted, not outlaw an activity (Leeds CC v Persons Unknown
[2023] EWHC 1504 (Admin)). A closure notice may not exclude people who habitually live on the
premises or the owner (s.76(4)); an order may exclude everyone (s.80(7)).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from .timeline import Violation

#: The classes an officer can permit, with the words that go into the notice or order.
CLASSES: dict[str, str] = {
    "residents": "people who habitually live in the flats of the premises",
    "visitors": "visitors invited by a resident and accompanying them",
    "owner": "the owner of the premises and the landlord's agents",
    "housing_staff": "housing and council staff on duty",
    "contractors": "contractors and maintenance workers instructed by the landlord or the council",
    "emergency_services": "the emergency services",
    "post_utilities": "postal workers, delivery staff and utility workers on duty",
    "police": "police officers and police staff on duty",
}
ALL_DAY = "at all times"
MUST_PERMIT_ON_NOTICE = ("residents", "owner")  # s.76(4)


@dataclass(frozen=True)
class PermittedClass:
    """A class of people permitted access, at some or all times; ``detail`` narrows it
    (e.g. 'Flats 1-48')."""

    code: str
    times: str = ALL_DAY
    detail: str = ""

    def words(self) -> str:
        base = CLASSES.get(self.code, self.code)
        detail = f" ({self.detail})" if self.detail else ""
        return f"{base}{detail}, {self.times}"


def default_classes() -> list[PermittedClass]:
    return [
        PermittedClass(c)
        for c in (
            "residents",
            "visitors",
            "owner",
            "housing_staff",
            "contractors",
            "emergency_services",
            "post_utilities",
            "police",
        )
    ]


def to_json(classes: list[PermittedClass]) -> str:
    return json.dumps([asdict(c) for c in classes])


def from_json(text: str | None) -> list[PermittedClass]:
    """Classes stored with an order; old free-text terms read as one 'other' class."""
    if not text:
        return []
    try:
        return [PermittedClass(**c) for c in json.loads(text)]
    except (ValueError, TypeError):
        return [PermittedClass("other", detail=text)]


def access_violations(classes: list[PermittedClass], *, stage: str) -> list[Violation]:
    """Why these terms cannot be used at this stage (``notice`` or ``order``)."""
    if stage not in ("notice", "order"):
        raise ValueError(f"stage is 'notice' or 'order', not {stage!r}")
    if stage == "order":
        return []  # s.80(7): an order may bar all persons; the court weighs it (Article 8)
    out = []
    for code in MUST_PERMIT_ON_NOTICE:
        match = [c for c in classes if c.code == code]
        if not match:
            out.append(
                Violation(
                    "N8",
                    "s.76(4)",
                    f"a closure notice may not exclude {CLASSES[code]}; "
                    f"add them to the permitted access",
                )
            )
        elif all(c.times != ALL_DAY for c in match):
            out.append(
                Violation(
                    "N8",
                    "s.76(4)",
                    f"a closure notice may not exclude {CLASSES[code]} at any "
                    f"time; permit them at all times",
                )
            )
    return out


def wording(premises: str, classes: list[PermittedClass], *, stage: str) -> str:
    """The access terms as they are written into the notice or the draft order."""
    if stage == "notice":
        head = f"This closure notice prohibits access to {premises} by all persons except:"
    else:
        head = f"The court orders that {premises} be closed to all persons except:"
    lines = [head] + [f"({chr(97 + i)}) {c.words()};" for i, c in enumerate(classes)]
    if classes:
        lines[-1] = lines[-1].rstrip(";") + "."
    else:
        lines[0] = lines[0].replace(" except:", ".")
    return "\n".join(lines)
