"""The audit trail as a hash chain: each entry carries the SHA-256 of the one before it, so an entry
edited, removed or reordered behind the app's back is found, and the first broken one named.

The hash covers what a court relies on: the entry's number, when, who, what action on which kind
and id, the state before and after (attributes and geometry), and the note. Both stores compute it
with :func:`entry_hash` on the same text, so a workspace copied between a GeoPackage and PostGIS
keeps a chain that verifies on either.

What a chain cannot show alone is the *last* entries being cut off: a document (the exhibit, the
bundle) prints the entry number and hash it was made from, so a copy kept outside the workspace
anchors the chain up to that point.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from closuremap.geo.errors import WorkspaceError

#: The ``prev_hash`` of the first entry: 64 zeros.
GENESIS = "0" * 64
#: The fields an entry's hash covers, in this order (``id`` is its place in the chain).
HASHED_FIELDS = ("id", "at", "user", "kind", "feature_id", "action", "before", "after", "note")


def _plain(value: Any) -> Any:
    """A stored value as the hash reads it: numbers as int, blanks as None, the rest as text."""
    if value is None:
        return None
    if isinstance(value, float):
        if value != value:  # NaN: what pandas makes of a NULL
            return None
        if value.is_integer():
            return int(value)
    if isinstance(value, int):
        return int(value)
    if hasattr(value, "item"):  # NumPy scalar
        return _plain(value.item())
    return str(value)


def entry_text(entry: Mapping[str, Any]) -> str:
    """The canonical text an entry's hash is taken of: its hashed fields as compact JSON."""
    return json.dumps(
        [_plain(entry.get(name)) for name in HASHED_FIELDS],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def entry_hash(prev_hash: str, entry: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the previous entry's hash followed by this entry's canonical text."""
    return hashlib.sha256((prev_hash + "\n" + entry_text(entry)).encode("utf-8")).hexdigest()


def chained(
    last_id: int, prev_hash: str, at: str, rows: Iterable[Sequence[Any]]
) -> list[tuple[Any, ...]]:
    """New entries (user, kind, feature_id, action, before, after, note) as rows to insert, each
    numbered after ``last_id`` and chained to the one before: (id, at, user, kind, feature_id,
    action, before, after, note, prev_hash, hash). Both stores append through this, holding their
    write lock, so no other writer can put an entry between."""
    out: list[tuple[Any, ...]] = []
    for user, kind, feature_id, action, before, after, note in rows:
        if not user or not str(user).strip():
            raise WorkspaceError(
                f"say who is making this change to '{kind}': every change records a name"
            )
        last_id += 1
        entry = dict(
            zip(
                HASHED_FIELDS,
                (last_id, at, user, kind, feature_id, action, before, after, note),
                strict=True,
            )
        )
        digest = entry_hash(prev_hash, entry)
        out.append((*entry.values(), prev_hash, digest))
        prev_hash = digest
    return out


@dataclass(frozen=True)
class ChainReport:
    """What verifying a chain found: how many entries, the last hash, the first broken entry."""

    entries: int
    head: str
    broken_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def verify(entries: Iterable[Mapping[str, Any]]) -> ChainReport:
    """Walk the chain oldest first (``entries`` in id order, each with ``prev_hash`` and ``hash``)
    and stop at the first entry that does not follow from the one before."""
    prev, count, last_id = GENESIS, 0, 0
    for entry in entries:
        count += 1
        eid = int(_plain(entry.get("id")) or 0)
        if eid <= last_id:
            return ChainReport(count, prev, eid, f"entry {eid} is out of order after {last_id}")
        stored_prev = entry.get("prev_hash")
        if stored_prev != prev:
            gap = "" if eid == last_id + 1 else f" (entries {last_id + 1}–{eid - 1} are missing)"
            return ChainReport(
                count,
                prev,
                eid,
                f"entry {eid} does not follow entry {last_id}: its previous-hash is "
                f"{str(stored_prev)[:12]}…, entry {last_id} hashes to {prev[:12]}…{gap}",
            )
        expected = entry_hash(prev, entry)
        if entry.get("hash") != expected:
            return ChainReport(
                count,
                prev,
                eid,
                f"entry {eid} was changed after it was written: its content hashes to "
                f"{expected[:12]}…, the chain recorded {str(entry.get('hash'))[:12]}…",
            )
        prev, last_id = expected, eid
    return ChainReport(count, prev)
