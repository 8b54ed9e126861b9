"""A large import's index work put off to its end, inside its transaction: the layer's R-tree
packed once (:mod:`.rtree`) and its unique ``feature_id`` index made once from all the keys.

Grown row by row, both indexes touch pages all over an ever larger tree: at a million rows the
random ids alone doubled the cost of each insert and the R-tree added ~17 µs a row. Only ids made
here (random 128-bit UUIDs) are inserted while the unique index is set aside; before ids the
caller gave are looked up, or a feature is edited or deleted, everything is put back. Making the
index again still refuses a repeated id, and so rolls the whole import back.
"""

from __future__ import annotations

import sqlite3

from .extent import rtree_table
from .rtree import MAX_EXISTING_PER_NEW, MIN_BULK, PendingEntries


class DeferredIndexes:
    """One layer's index work set aside during a large write (``Transaction.deferred_index``)."""

    def __init__(self, conn: sqlite3.Connection, kind: str) -> None:
        self.conn = conn
        self.kind = kind
        self.entries = PendingEntries()
        self._unique_sql: str | None = None  # the feature_id index set aside, to make again
        self._decided = False

    def before_add(self, rows: int, ids_given: bool) -> None:
        """Called before rows are added: the first large batch of made ids, into a layer not
        much bigger than it, sets the unique index aside; ids given to look up put it back."""
        if ids_given:
            self.restore_unique()
            self._decided = True
            return
        if self._decided or rows < MIN_BULK:
            return
        self._decided = True
        existing = int(self.conn.execute(f'SELECT count(*) FROM "{self.kind}"').fetchone()[0])
        if existing > MAX_EXISTING_PER_NEW * rows:
            return
        name = f"idx_{self.kind}_feature_id"
        row = self.conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)
        ).fetchone()
        if row and row[0]:
            self._unique_sql = str(row[0])
            self.conn.execute(f'DROP INDEX "{name}"')

    def restore_unique(self) -> None:
        """The unique feature_id index made again (a repeated id raises IntegrityError)."""
        if self._unique_sql is not None:
            sql, self._unique_sql = self._unique_sql, None
            self.conn.execute(sql)

    def settle(self) -> None:
        """Everything set aside put in now: the R-tree entries, then the unique index."""
        self.entries.settle(self.conn, rtree_table(self.kind))
        self.restore_unique()
