"""Incident categories mapped to one standard set, the original always kept beside it.

The set follows the Home Office's National Standard for Incident Recording: anti-social behaviour
with its three qualifiers (personal, nuisance, environmental) and the crime groups that closure
applications cite. police.uk's "Anti-social behaviour" rows carry no qualifier; they are counted as
nuisance, the qualifier most such reports receive, and the original text stays in
``category_original`` so nothing is lost.
"""

from __future__ import annotations

import re

import pandas as pd

STANDARD = (
    "asb_personal",
    "asb_nuisance",
    "asb_environmental",
    "public_order",
    "drugs",
    "weapons",
    "violence",
    "burglary",
    "criminal_damage",
    "other",
)

# first match wins: specific before general
_RULES: tuple[tuple[str, str], ...] = (
    (r"\basb\b.*\bpersonal|personal\b.*\basb\b|anti.?social.*personal", "asb_personal"),
    (r"\basb\b.*\benviron|environmental|fly.?tip|graffiti|litter", "asb_environmental"),
    (r"\basb\b|anti.?social|nuisance|noise|rowdy|youths", "asb_nuisance"),
    (r"public.?order|affray|harassment|threat", "public_order"),
    (r"drug|cannabis|needle|dealing", "drugs"),
    (r"weapon|knife|firearm|blade", "weapons"),
    (r"violen|assault|robbery|wounding|sexual|fight", "violence"),
    (r"burglary|break.?in", "burglary"),
    (r"criminal.?damage|arson|vandal|damage", "criminal_damage"),
)


def standard_category(text: object) -> str:
    """The standard category of a free-text category (``other`` when nothing matches).

    >>> standard_category("ASB - Nuisance"), standard_category("Violence and sexual offences")
    ('asb_nuisance', 'violence')
    """
    t = str(text or "").lower()
    for pattern, code in _RULES:
        if re.search(pattern, t):
            return code
    return "other"


def standardise(categories: pd.Series) -> pd.Series:
    """Vectorised over unique values: 100k rows have a few dozen distinct categories."""
    values = categories.astype(object)
    uniques = {v: standard_category(v) for v in values.dropna().unique()}
    mapped = values.map(uniques)
    return mapped.where(mapped.notna(), "other").astype(object)
