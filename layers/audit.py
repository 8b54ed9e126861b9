"""The audit trail in words: what one entry changed, as an officer reads a feature's history.

Every change to a feature is an audit row holding its state before and after (properties and WKT);
the history panes, the stale-edit message and the order record show them through
:func:`describe_change`, so a history reads as names and changes, not ids.
"""

from __future__ import annotations

import json

import shapely

from .model import text_or_none

#: Fields holding JSON: a change to one is said, not spelled out.
_JSON_FIELDS = ("scope_parts", "permitted_access", "source_attrs")


def _words(value: object) -> str:
    return text_or_none(value) or ""


def describe_change(before: object, after: object) -> str:
    """What one audit entry changed, in words: fields with old -> new, and whether the shape moved
    (and by how much), so a history reads as names and changes, not ids."""
    if not isinstance(before, str) or not before:
        return "created"
    if not isinstance(after, str) or not after:
        return "deleted"
    old, new = json.loads(before), json.loads(after)
    words = []
    for key, value in new.get("properties", {}).items():
        was = old.get("properties", {}).get(key)
        if _words(was) == _words(value):
            continue
        if key in _JSON_FIELDS:
            words.append(f"{key.replace('_', ' ')} changed")
        else:
            words.append(f"{key}: {_words(was) or '(blank)'} → {_words(value) or '(blank)'}")
    if old.get("wkt") != new.get("wkt") and old.get("wkt") and new.get("wkt"):
        a, b = shapely.from_wkt(old["wkt"]), shapely.from_wkt(new["wkt"])
        words.append(
            f"shape changed: {a.area:.1f} m² → {b.area:.1f} m² "
            f"({a.symmetric_difference(b).area:.1f} m² moved)"
        )
    return "; ".join(words) or "saved without changes"
