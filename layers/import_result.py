"""What became of an import's records: the counts over the whole file, the rows to show, the notes.

A streamed import reads a table in chunks; :class:`ImportTotals` adds the chunks up as they are
stored, and :meth:`ImportTotals.result` turns the sum into the one :class:`ImportResult` the CLI
and the layers page show.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

import geopandas as gpd

from .sources import SourceTable


@dataclass
class ImportResult:
    """What became of a file's records: ``read == len(accepted) + len(rejected)``."""

    kind: str
    source: Path
    read: int
    accepted: gpd.GeoDataFrame
    rejected: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    rejects_path: Path | None = None
    feature_ids: list[str] = field(default_factory=list)
    queued: int = 0  # rows (placed with low confidence, or not placed) waiting in the review queue
    updated: int = 0  # features changed in place (import with update_existing)
    updated_ids: list[str] = field(default_factory=list)
    #: counts over the whole file: a streamed import keeps ``accepted`` only when the file is read
    #: in one chunk, and at most KEPT_REJECTS rows of ``rejected`` (the rejects file has them all)
    added: int | None = None
    rejected_count: int | None = None
    reason_counts: dict[str, int] | None = None
    import_id: int | None = None

    @property
    def imported(self) -> int:
        return (len(self.accepted) if self.added is None else self.added) + self.updated

    @property
    def n_rejected(self) -> int:
        return len(self.rejected) if self.rejected_count is None else self.rejected_count

    def summary(self) -> dict[str, Any]:
        """The counts and notes as plain data (the CLI's ``--json`` output)."""
        return {
            "kind": self.kind,
            "file": str(self.source),
            "read": self.read,
            "imported": self.imported,
            "rejected": self.n_rejected,
            "rejects_file": str(self.rejects_path) if self.rejects_path else None,
            "queued_for_review": self.queued,
            "updated": self.updated,
            "mapping": self.mapping,
            "notes": self.notes,
            "reasons": (
                self.reason_counts
                if self.reason_counts is not None
                else self.rejected["reason"].value_counts().to_dict()
                if len(self.rejected)
                else {}
            ),
        }


#: rejected rows kept in an ImportResult for the page to show; the rejects file holds every one
KEPT_REJECTS = 100_000


@dataclass
class ImportTotals:
    """What the chunks of one import added up to."""

    read: int = 0
    added: int = 0
    updated: int = 0
    queued: int = 0
    rejected: int = 0
    chunks: int = 0
    geocoded: tuple[int, int] = (0, 0)
    reasons: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    parts: list[ImportResult] = field(default_factory=list)
    kept_rejects: list[pd.DataFrame] = field(default_factory=list)
    rejects_columns: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    updated_ids: list[str] = field(default_factory=list)

    def absorb(self, part: ImportResult, source: SourceTable, kept_rejects: pd.DataFrame) -> None:
        """Add one stored chunk: its counts, notes and (up to KEPT_REJECTS) rejected rows;
        ``kept_rejects`` are the rows its rejects file got, whose columns the file will have."""
        self.chunks += 1
        self.read += part.read
        self.added += len(part.accepted)
        self.updated += part.updated
        self.queued += part.queued
        self.rejected += len(part.rejected)
        self.reasons.update(
            part.rejected["reason"].astype(str).tolist() if len(part.rejected) else []
        )
        self.notes += [n for n in part.notes if n not in self.notes]
        self.mapping = part.mapping
        if source.geocoded:
            self.geocoded = (
                self.geocoded[0] + source.geocoded[0],
                self.geocoded[1] + source.geocoded[1],
            )
        if self.chunks == 1:
            self.parts.append(part)
        self.updated_ids += part.updated_ids
        kept = sum(len(r) for r in self.kept_rejects)
        if kept < KEPT_REJECTS and len(part.rejected):
            self.kept_rejects.append(part.rejected.iloc[: KEPT_REJECTS - kept])
        self.rejects_columns += [
            str(c) for c in kept_rejects.columns if str(c) not in self.rejects_columns
        ]

    def result(self, kind: str, path: Path, import_id: int) -> ImportResult:
        """The import's result: the first chunk's rows when the file was read in one, the
        counts over all chunks, and notes on what was geocoded, queued and cut short."""
        first = self.parts[0]
        whole = self.chunks == 1
        rejected = (
            pd.concat(self.kept_rejects, ignore_index=True)
            if len(self.kept_rejects) > 1
            else self.kept_rejects[0]
            if self.kept_rejects
            else first.rejected.iloc[0:0]
        )
        notes = list(self.notes)
        if self.geocoded[0]:
            tried, placed = self.geocoded
            notes.append(
                f"{tried} row(s) had no coordinates: {placed} placed by the offline geocoder, "
                f"{tried - placed} not placed"
            )
        if self.queued:
            notes.append(
                f"{self.queued} row(s) placed with low confidence or not placed are in the review "
                "queue (Geocoding review page); rows not placed wait there, not in the rejects file"
            )
        if not whole:
            notes.append(
                f"read in {self.chunks} chunks of up to "
                f"{len(first.accepted) + len(first.rejected):,} rows, stored in one transaction"
            )
        if self.rejected > len(rejected):
            notes.append(
                f"{self.rejected:,} rows rejected: the first {len(rejected):,} are shown here, "
                "every one is in the rejects file"
            )
        return ImportResult(
            kind,
            path,
            self.read,
            first.accepted if whole else first.accepted.iloc[0:0],
            rejected,
            notes,
            self.mapping,
            feature_ids=first.feature_ids if whole else [],
            queued=self.queued,
            updated=self.updated,
            updated_ids=self.updated_ids,
            added=self.added,
            rejected_count=self.rejected,
            reason_counts=dict(self.reasons),
            import_id=import_id,
        )
