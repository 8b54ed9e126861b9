"""Which columns of an areas file name each area (ONS codes and names, a beat's number): guessed
from the column names alone, so ``closuremap summarise`` needs no ``--id-column`` for a standard
boundary file."""

from __future__ import annotations

import re
from collections.abc import Sequence


def guess_id_columns(columns: Sequence[object]) -> list[str]:
    """The columns that name an area, guessed from their names: a code (ONS ``LSOA21CD``,
    ``WD24CD``, anything ending in code/id/ref) and a name (``LSOA21NM``, ``WardName``, ``name``),
    the first of each in the file's order; failing both, a column named for the kind of area
    (``beat``, ``ward``); GIS bookkeeping columns (``fid``, ``OBJECTID``, ``GlobalID``) never.

    >>> guess_id_columns(["FID", "WD24CD", "WD24NM", "WD24NMW", "LAD22CD", "GlobalID"])
    ['WD24CD', 'WD24NM']
    >>> guess_id_columns(["ONSWardCode", "WardName"]), guess_id_columns(["area_m2", "Beat"])
    (['ONSWardCode', 'WardName'], ['Beat'])
    """
    skip = {
        "fid",
        "ogc_fid",
        "objectid",
        "object_id",
        "globalid",
        "global_id",
        "gid",
        "shape_area",
        "shape_length",
        "shape_leng",
        "source_file",
        "source_row",
        "source_attrs",
    }
    folded = [
        (str(c), re.sub(r"[^0-9a-z]+", "_", str(c).strip().lower()).strip("_")) for c in columns
    ]
    folded = [(c, f) for c, f in folded if f and f not in skip]
    code_patterns = (r"[a-z]+\d{2}cd", r".*(code|_cd)", r".*(_id|_ref|ref)|id|ref|reference")
    name_patterns = (r"[a-z]+\d{2}nm", r".*name|.*_nm")
    area_words = (
        r"(police_)?(beat|ward|lsoa|msoa|sector|zone|district|neighbourhood|patch|area)s?",
    )
    chosen: list[str] = []
    for patterns in (code_patterns, name_patterns):
        for pattern in patterns:
            hit = next((c for c, f in folded if re.fullmatch(pattern, f) and c not in chosen), None)
            if hit is not None:
                chosen.append(hit)
                break
    if not chosen:  # no code or name: a column named for the kind of area, e.g. "beat"
        chosen += [c for c, f in folded if re.fullmatch(area_words[0], f)][:1]
    return chosen
