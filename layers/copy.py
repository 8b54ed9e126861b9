"""A whole workspace copied to a new one, GeoPackage or PostGIS either way (``closuremap copy``):
every layer, order, setting, record, floor plan, the import log and the audit trail, row for row.

A copy is a backup, a move to a shared server, or a laptop's snapshot of one, and what goes to
court may be read from it: so nothing is re-derived. Feature ids, record numbers, geometry (its WKB,
not a reprojected or rounded shape) and audit entries with their ids and hashes arrive as they
were, and the audit chain verifies on the copy. The copy is checked before it is reported: each
table holds as many rows as the source gave, the chain verifies on the copy, and the source did
not change while it was read (else the copy would mix two moments of it).

The destination must be new: a GeoPackage path that does not exist (written under a temporary
name and renamed into place only once checked, so a failed copy leaves nothing), or a PostGIS
database with no workspace in it. An existing workspace is never overwritten: merging two audit
trails cannot keep either chain, and replacing a shared workspace by mistake would lose its
partners' work. Delete or drop it first if that is really meant.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from closuremap.geo.errors import ClosuremapError, WorkspaceError

from . import audit_chain
from .locations import is_url, masked
from .progress import Progress, no_progress
from .schema import AUDIT_TABLE
from .store import GeoPackageStore, WorkspaceStore, open_workspace

#: Progress lines while a big table streams: one every this many rows.
PROGRESS_ROWS = 100_000


class CopyableStore(WorkspaceStore, Protocol):
    """A store that can be copied whole (contracts: the raw copy interface of each backend)."""

    def table_names(self) -> list[str]: ...

    def dump_table(self, name: str) -> tuple[list[str], Iterator[tuple[Any, ...]]]: ...

    def load_table(self, name: str, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> int: ...


@dataclass(frozen=True)
class CopyReport:
    """What was copied and what the check of the copy found: rows per table (the same in source
    and copy, or the copy would have been refused) and the copy's audit chain."""

    source: str
    destination: str
    tables: dict[str, int] = field(default_factory=dict)
    audit: audit_chain.ChainReport = audit_chain.ChainReport(0, audit_chain.GENESIS)
    source_audit: audit_chain.ChainReport = audit_chain.ChainReport(0, audit_chain.GENESIS)

    @property
    def audit_verified(self) -> bool:
        """Whether every audit entry of the copy follows from the one before."""
        return self.audit.ok


def shown(location: str | Path) -> str:
    """A location as it may be printed: a URL with any password masked."""
    text = str(location)
    return masked(text) if is_url(text) else text


def copy_workspace(
    src_location: str | Path, dst_location: str | Path, *, progress: Progress | None = None
) -> CopyReport:
    """Copy the workspace at ``src_location`` into a new one at ``dst_location`` (a ``.gpkg``
    path that does not exist, or a ``postgresql://`` URL of a database with no workspace in it)
    and check the copy; returns what was copied. A :class:`WorkspaceError` says why a copy was
    refused or failed; a failed copy to a GeoPackage leaves no file behind."""
    say = progress or no_progress
    src_text, dst_text = str(src_location), str(dst_location)
    _refuse_same(src_text, dst_text)
    if not is_url(dst_text):
        _refuse_existing_file(Path(dst_text))
    src = _copyable(open_workspace(src_text))
    if is_url(dst_text):
        return _copy(src, _create_postgis(dst_text), shown(dst_text), say)
    final = Path(dst_text)
    partial = final.with_name(f".{final.stem}.copying-{os.getpid()}.gpkg")
    partial.unlink(missing_ok=True)
    try:
        report = _copy(src, GeoPackageStore.create(partial), str(final), say)
        _refuse_existing_file(final)  # made by someone else while this copy ran
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
    return report


def _copy(src: CopyableStore, dst: CopyableStore, dst_shown: str, say: Progress) -> CopyReport:
    """Stream every table of ``src`` into the new ``dst`` and check the result."""
    try:
        before = src.content_version()
        names = src.table_names()
        copied: dict[str, int] = {}
        for i, name in enumerate(names):
            say(i / (len(names) + 1), f"copying {name}")
            columns, rows = src.dump_table(name)
            counted = _Counted(rows, name, i / (len(names) + 1), say)
            loaded = dst.load_table(name, columns, counted)
            if loaded != counted.n:
                raise WorkspaceError(
                    f"the copy of '{name}' took {loaded} rows where the source gave {counted.n}"
                )
            copied[name] = counted.n
        if src.content_version() != before:
            raise WorkspaceError(
                f"{shown(src.location)} changed while it was being copied (someone saved a "
                "change), so the copy would mix two moments of it; copy again when nobody is "
                "writing to it"
            )
        say(len(names) / (len(names) + 1), "checking the copy")
        _check_counts(dst, copied)
        src_chain = _chain(src)
        dst_chain = _chain(dst)
        if not dst_chain.ok and (dst_chain.broken_id, dst_chain.entries) != (
            src_chain.broken_id,
            src_chain.entries,
        ):
            raise WorkspaceError(
                f"the copy's audit trail does not verify ({dst_chain.reason}) although the "
                "source's does not break there; the copy is not the same workspace"
            )
    except ClosuremapError as exc:
        if is_url(dst.location):
            raise WorkspaceError(
                f"{exc}; the database of {dst_shown} now holds part of a workspace: drop it (or "
                "its closuremap tables) before copying into it again"
            ) from exc
        raise
    say(1.0, f"copied to {dst_shown}")
    return CopyReport(shown(src.location), dst_shown, copied, dst_chain, src_chain)


class _Counted:
    """Rows passed through, counted, with a progress line every :data:`PROGRESS_ROWS`."""

    def __init__(
        self, rows: Iterable[tuple[Any, ...]], name: str, fraction: float, say: Progress
    ) -> None:
        self.rows, self.name, self.fraction, self.say = rows, name, fraction, say
        self.n = 0

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        for row in self.rows:
            self.n += 1
            if self.n % PROGRESS_ROWS == 0:
                self.say(self.fraction, f"copying {self.name}: {self.n:,} rows")
            yield row


def _check_counts(dst: CopyableStore, copied: dict[str, int]) -> None:
    """Each table of the copy, counted afresh, holds the rows the source gave."""
    for name, expected in copied.items():
        _, rows = dst.dump_table(name)
        found = sum(1 for _ in rows)
        if found != expected:
            raise WorkspaceError(
                f"the copy's table '{name}' holds {found} rows, the source's {expected}"
            )


def _chain(store: CopyableStore) -> audit_chain.ChainReport:
    """The store's audit chain verified, oldest first, read as a stream."""
    if AUDIT_TABLE not in store.table_names():
        return audit_chain.verify([])
    columns, rows = store.dump_table(AUDIT_TABLE)
    return audit_chain.verify(dict(zip(columns, row, strict=True)) for row in rows)


def _copyable(store: WorkspaceStore) -> CopyableStore:
    if not all(hasattr(store, m) for m in ("table_names", "dump_table", "load_table")):
        raise WorkspaceError(f"{shown(store.location)} cannot be copied by this closuremap")
    return store  # type: ignore[return-value]


def _refuse_same(src: str, dst: str) -> None:
    def key(location: str) -> str:
        return location if is_url(location) else str(Path(location).resolve())

    if key(src) == key(dst):
        raise WorkspaceError(f"{shown(dst)} is the workspace being copied; give a new destination")


def _refuse_existing_file(path: Path) -> None:
    if path.suffix.lower() != ".gpkg":
        raise WorkspaceError(
            f"a copy goes to a new GeoPackage (a path ending in .gpkg) or a postgresql:// URL, "
            f"not {path.name}"
        )
    if path.exists():
        raise WorkspaceError(
            f"{path} already exists: a copy goes to a new workspace, never over one; choose "
            "another path or delete that file first"
        )


def _create_postgis(url: str) -> CopyableStore:
    """A new workspace in the database at ``url``; a database that holds one already is refused
    (whatever is in it stays as it was)."""
    from . import pg_connect, pg_schema  # psycopg is loaded only for a PostGIS workspace
    from .pg_store import PostGISStore

    with pg_connect.connection(url) as conn:
        exists = pg_schema.installed_version(conn) > 0
    if exists:
        raise WorkspaceError(
            f"{shown(url)} already holds a closuremap workspace: a copy goes to a new one, never "
            "over one; choose an empty database, or drop that one's tables first"
        )
    return _copyable(PostGISStore.create(url))
