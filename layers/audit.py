"""The audit trail in words: what one entry changed, as an officer reads a feature's history.

Every change to a feature is an audit row holding its state before and after (properties and WKT);
the history panes, the stale-edit message and the order record show them through
:func:`describe_change`, so a history reads as names and changes, not ids. Entries that are not a
feature's (a setting, an objection, a case record, a bulk import's count) are said by
:func:`describe_entry`, which ``closuremap audit`` lists the whole trail with.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import shapely

from closuremap.geo.errors import StaleEditError

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


def _quoted(value: object, width: int = 60) -> str:
    text = _words(value)
    return f"'{textwrap.shorten(text, width, placeholder='…')}'" if text else "(blank)"


def _loaded(text: object) -> Any:
    """An entry's before/after as JSON, or None when blank or not JSON (an edited row)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _setting(value: object) -> object:
    """A setting's value as read: one holding JSON (a list of contacts) shown as written, not
    escaped."""
    if isinstance(value, str) and value[:1] in "[{":
        loaded = _loaded(value)
        if loaded is not None:
            return json.dumps(loaded, ensure_ascii=False)
    return value


def describe_entry(entry: Mapping[str, Any]) -> str:
    """One audit entry of any kind in words (an entry is a :meth:`history` row): a setting's old
    and new value, an objection or a case record logged, a bulk import's count, a feature's
    change as :func:`describe_change` says it."""
    kind, action = str(entry.get("kind")), str(entry.get("action"))
    before, after = _loaded(entry.get("before")), _loaded(entry.get("after"))
    if kind == "settings":
        new = _setting(after.get("value") if isinstance(after, dict) else after)
        if isinstance(before, dict):
            return f"setting changed: {_quoted(_setting(before.get('value')))} → {_quoted(new)}"
        return f"setting made: {_quoted(new)}"
    if kind == "objections" and isinstance(after, dict):
        return f"objection received {_words(after.get('received_on'))} logged (#{after.get('id')})"
    if kind == "case_records" and isinstance(after, dict):
        return f"{_words(after.get('what')) or 'case'} record added (#{after.get('id')})"
    if action == "add" and isinstance(after, dict) and set(after) == {"count"}:
        n = after["count"]
        return f"{n} feature{'' if n == 1 else 's'} added"
    if before is None and after is None:  # nothing recorded, or withheld from the reader's role
        return {"add": "created", "delete": "deleted"}.get(action, f"{action} (no detail shown)")
    if any(isinstance(x, dict) and "properties" in x for x in (before, after)):
        return describe_change(entry.get("before"), entry.get("after"))
    # another record (a floor plan's placement, …): its top-level values that changed
    if not isinstance(before, dict) or not isinstance(after, dict):
        return {"add": "created", "delete": "deleted"}.get(action, action)
    changed = [
        f"{key}: {_quoted(before.get(key), 30)} → {_quoted(value, 30)}"
        for key, value in after.items()
        if _words(before.get(key)) != _words(value)
    ]
    return "; ".join(changed) or "saved without changes"


def stale_edit(title: str, changes: Iterable[Sequence[Any]]) -> StaleEditError:
    """The refusal of a save based on an old version, in the same words on both stores: who
    changed the feature, when and how since the editor loaded it (``changes``: at, user, before,
    after of each audit entry since), and that the user's edit is kept."""
    said = "; ".join(
        f"{who} at {str(at)[:16].replace('T', ' ')}: {describe_change(b, a)}"
        for at, who, b, a in changes
    )
    return StaleEditError(
        f"not saved: this {title.lower()} was changed after you opened it ({said}). "
        "Your edit is kept on the page: load the new version, check it, and save your change "
        "again"
    )
