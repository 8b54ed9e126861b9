"""Data attribution recognised from the data itself, for documents made from loose files.

OpenStreetMap's ODbL, the Open Government Licence (police.uk) and OS's Code-Point Open licence
each require a credit line on anything published from the data. A workspace stores its lines when
the data is imported; an exhibit made from files (``closuremap exhibit --scope … --premises …``)
has only the files, so the sources are recognised from their columns and ids. What cannot be
recognised is not guessed: the caller warns that the document carries no attribution.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

from closuremap.layers.model import normalise_column

# The same words the sample workspace stores (layers.sample.ATTRIBUTION); a test keeps them equal.
OSM = "© OpenStreetMap contributors, ODbL (openstreetmap.org/copyright)"
POLICE_UK = (
    "Contains public sector information licensed under the Open Government Licence v3.0 (police.uk)"
)
CODE_POINT = (
    "Contains OS data © Crown copyright and database right 2025; Royal Mail data © Royal Mail "
    "copyright and database right 2025; National Statistics data © Crown copyright and database "
    "right 2025 (Code-Point Open)"
)

#: police.uk street-level crime columns (normalised): two of them name the source.
POLICE_UK_COLUMNS = {
    "crime_id",
    "falls_within",
    "reported_by",
    "lsoa_code",
    "lsoa_name",
    "last_outcome_category",
    "context",
}
#: Code-Point Open columns, or a geocoder's note that a postcode centroid placed the row.
CODE_POINT_COLUMNS = {
    "positional_quality_indicator",
    "pqi",
    "eastings",
    "northings",
    "admin_ward_code",
}
OSM_COLUMNS = {"osm_id", "osm_type", "osm_way_id", "osmid", "all_tags"}
_OSM_REF = re.compile(r"^(?:way|node|relation)/\d+$")


def _columns(frame: pd.DataFrame | None) -> set[str]:
    return set() if frame is None else {normalise_column(c) for c in frame.columns}


def _looks_osm(frame: pd.DataFrame | None) -> bool:
    if frame is None or not len(frame):
        return False
    if _columns(frame) & OSM_COLUMNS:
        return True
    for col in ("block_id", "id", "feature_id", "source_id"):
        if col in frame.columns:
            values = frame[col].dropna().astype(str).head(50)
            if len(values) and values.str.match(_OSM_REF).all():
                return True
    return False


def _looks_police_uk(frame: pd.DataFrame | None) -> bool:
    return len(_columns(frame) & POLICE_UK_COLUMNS) >= 2


def _looks_code_point(frame: pd.DataFrame | None) -> bool:
    if frame is None or not len(frame):
        return False
    cols = _columns(frame)
    if {"positional_quality_indicator", "pqi"} & cols or {
        "postcode",
        "eastings",
        "northings",
    } <= cols:
        return True
    method = frame.get("match_method")
    return method is not None and bool((method.astype(str) == "postcode").any())


def infer_attribution(frames: Iterable[pd.DataFrame | None]) -> list[str]:
    """The credit lines of every recognised source among ``frames`` (OSM, police.uk, Code-Point),
    each once, in that order.

    >>> import pandas as pd
    >>> infer_attribution([pd.DataFrame({"osm_id": [1]})]) == [OSM]
    True
    >>> infer_attribution([pd.DataFrame({"name": ["x"]})])
    []
    """
    frames = list(frames)
    lines = []
    if any(_looks_osm(f) for f in frames):
        lines.append(OSM)
    if any(_looks_police_uk(f) for f in frames):
        lines.append(POLICE_UK)
    if any(_looks_code_point(f) for f in frames):
        lines.append(CODE_POINT)
    return lines
