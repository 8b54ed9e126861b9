"""Import a file into a layer: validate every record, keep the good, explain the rest.

Each record ends up either accepted (converted to BNG, mapped onto the kind's schema) or rejected
with a reason naming the row or feature, so ``accepted + rejected == read`` always holds and
nothing the user gave us is lost: rejected records go to a rejects CSV with ``row`` and ``reason``
columns beside their original values, ready to fix and import again.

This module runs an import from end to end: how a file is read (tables stream in chunks), each
chunk checked (:mod:`.validation`) and stored in the import's one transaction, the column mapping
remembered, and the result summed up (:mod:`.import_result`). Incidents are placed first
(:mod:`.incident_import`).
"""

from __future__ import annotations

import gc
import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from closuremap.geo.columns import coordinate_columns
from closuremap.geo.crs import parse_crs
from closuremap.geo.errors import InputFileError, SchemaError, StaleEditError

from . import importlog
from .coercion import map_columns, source_signature
from .exporter import VERSION_COLUMN
from .import_result import ImportResult, ImportTotals
from .incident_import import (
    IncidentGeocoder,
    placed_source,
    prepare_incidents,
    workspace_gazetteer,
)
from .limits import Limits
from .locations import database_name, is_url
from .model import FEATURE_ID, SOURCE_ROW, get_kind
from .progress import Progress, no_progress
from .review import queue_from_import
from .sources import COORDINATE_KEYS, TABLE_SUFFIXES, SourceTable, read_source, table_to_source
from .store import WorkspaceStore
from .tabular import iter_table, read_table, table_columns
from .transaction import Transaction
from .validation import rejected_rows, validate_source


@dataclass(frozen=True)
class ImportOptions:
    """How a file is imported; every field has a default that suits a first import.

    ``crs`` is for a file that has none; ``layer`` picks one layer of a multi-layer file;
    ``mapping`` ({field: column}, None unmaps) overrides the automatic column choice and, with
    ``remember``, is kept for the next file with the same columns. ``update_existing`` updates in
    place the features whose feature_id the workspace holds. Incident tables without coordinates
    are geocoded with ``gazetteer`` (default: the workspace's addresses), ``postcodes``,
    ``location_column`` and ``threshold``. ``chunk_rows`` is the streaming chunk size (default:
    the CLOSUREMAP_CHUNK_ROWS setting)."""

    rejects_path: str | Path | None = None
    layer: str | None = None
    crs: str | None = None
    repair_geometry: bool = False
    gazetteer: pd.DataFrame | None = None
    postcodes: pd.DataFrame | None = None
    location_column: str | None = None
    threshold: float = 85
    mapping: dict[str, str | None] | None = None
    remember: bool = True
    update_existing: bool = False
    limits: Limits | None = None
    chunk_rows: int | None = None


def import_file(
    store: WorkspaceStore,
    kind: str,
    path: str | Path,
    *,
    user: str,
    options: ImportOptions | None = None,
    progress: Progress = no_progress,
    **settings: Any,
) -> ImportResult:
    """Read, validate and store a file's records; keep its rejects; all in one transaction.

    How is ``options``, with ``settings`` (any :class:`ImportOptions` field by name, as the CLI
    and the layers page pass them: ``crs="EPSG:27700"``) over it. Tables stream in chunks, so
    memory does not grow with the file; the features, review-queue rows, rejected rows and the
    import's log line land together or not at all, and the rejects CSV is written from the log
    after the commit (or at the next open, if the process dies first). Incident tables are placed
    offline first (coordinates, grid references, the gazetteer, then postcodes), each row with
    how it was placed."""
    opts = replace(options or ImportOptions(), **settings)
    limits = opts.limits or Limits.from_env()
    p = Path(path)
    if not p.exists():
        raise InputFileError(f"{p}: no such file")
    limits.check_file(p)
    progress(0.0, f"reading {p.name}")
    if p.suffix.lower() in TABLE_SUFFIXES:
        reading = _table_reading(store, kind, p, opts, limits)
    else:
        reading = _vector_reading(p, kind, opts)
    fields_only = (
        {k: v for k, v in reading.mapping.items() if k not in COORDINATE_KEYS}
        if reading.mapping
        else None
    )
    target = Path(opts.rejects_path or default_rejects_path(p, store.location))
    totals = ImportTotals()
    # the layer's indexes are built once, at the end, not grown row by row
    with _collector_paused(), store.transaction() as tx, tx.deferred_index(kind):
        import_id = importlog.begin(tx.conn, kind=kind, file=p, user=user)
        for source in reading.sources:
            progress(
                min(0.9, 0.05 + 0.85 * totals.chunks / max(1, totals.chunks + 1)),
                f"checking and storing rows from {source.first_row:,}",
            )
            part = validate_source(
                source,
                kind,
                repair_geometry=opts.repair_geometry,
                mapping=fields_only,
                keep_feature_ids=opts.update_existing,
                limits=limits,
            )
            rejects = _store_chunk(
                tx, source, part, import_id, user, opts, reading.geocoding, totals.rejected
            )
            totals.absorb(part, source, rejects)
            gc.collect(1)  # what this chunk made and left in cycles, not the whole heap
        if reading.mapping and opts.remember:  # the next file with these columns maps the same way
            tx.set_meta(reading.mapping_key, json.dumps(reading.mapping), user=user)
        written = importlog.count_rejects(tx.conn, import_id)
        importlog.finish(
            tx.conn,
            import_id,
            read=totals.read,
            added=totals.added,
            updated=totals.updated,
            rejected=totals.rejected,
            queued=totals.queued,
            rejects_path=target if written else None,
            rejects_columns=totals.rejects_columns,
        )
    result = totals.result(kind, p, import_id)
    if written:
        result.rejects_path = store.write_rejects(import_id)
    progress(1.0, "done")
    return result


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector paused for an import (and run by the importer once a chunk):
    each automatic run walks every live list and tuple, and a chunk makes hundreds of thousands
    of them (its records), which cost a tenth of a 100k-row import."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class _Reading:
    """How a file will be read: its records as one or more SourceTables, and the mapping used."""

    sources: Iterator[SourceTable]
    mapping: dict[str, str | None] | None
    mapping_key: str
    geocoding: bool


def _table_reading(
    store: WorkspaceStore, kind: str, p: Path, opts: ImportOptions, limits: Limits
) -> _Reading:
    """A table read in chunks: the mapping given, or the one remembered for its columns; incidents
    placed by the geocoder when the table may need it."""
    chunks = iter_table(p, limits, opts.chunk_rows)
    first = next(chunks)
    key = f"mapping:{kind}:{source_signature([str(c) for c in first.frame.columns])}"
    remembered = store.get_meta(key)
    mapping, note = opts.mapping, None
    if mapping is None and remembered:
        mapping = json.loads(remembered)
        note = "used the column mapping remembered for files with these columns"
    coords = {k: v for k, v in (mapping or {}).items() if k in COORDINATE_KEYS and v}
    missing = [v for v in coords.values() if v not in first.frame.columns]
    if missing:
        raise SchemaError(
            f"the file has no column {', '.join(map(repr, missing))}; its columns are "
            f"{', '.join(map(str, first.frame.columns))}"
        )
    geocoder = _geocoder(store, kind, opts)

    def sources() -> Iterator[SourceTable]:
        fixed = parse_crs(opts.crs) if opts.crs else None
        for number, chunk in enumerate(itertools.chain([first], chunks)):
            # the names every reader knows
            table = chunk.frame.rename(columns={v: k for k, v in coords.items()})
            if geocoder is not None:
                source = placed_source(p, table, chunk.ragged, geocoder)
            else:
                source = table_to_source(p, table, chunk.ragged, fixed)
            source.first_row = chunk.first_row
            if number == 0:
                # later chunks are read as the first was
                fixed = fixed or (source.crs if geocoder is None else None)
                if note:
                    source.notes.append(note)
            else:  # the CRS was decided, and said, once
                source.notes = [n for n in source.notes if not n.startswith("coordinates read as")]
            yield source

    return _Reading(sources(), mapping, key, geocoder is not None)


def _geocoder(store: WorkspaceStore, kind: str, opts: ImportOptions) -> IncidentGeocoder | None:
    """The geocoder for an incident table with no CRS given, if it has anything to look up in: the
    gazetteer given, else the workspace's addresses (read only when it may be needed)."""
    if kind != "incidents" or opts.crs is not None:
        return None
    gazetteer = opts.gazetteer if opts.gazetteer is not None else workspace_gazetteer(store)
    if not len(gazetteer) and opts.postcodes is None:
        return None
    return IncidentGeocoder.indexed(gazetteer, opts.postcodes, opts.location_column, opts.threshold)


def _vector_reading(p: Path, kind: str, opts: ImportOptions) -> _Reading:
    source = read_source(p, layer=opts.layer, crs=opts.crs, prefer_layer=kind)
    key = f"mapping:{kind}:{source_signature([str(c) for c in source.attributes.columns])}"
    return _Reading(iter([source]), opts.mapping, key, False)


def _store_chunk(
    tx: Transaction,
    source: SourceTable,
    part: ImportResult,
    import_id: int,
    user: str,
    opts: ImportOptions,
    geocoding: bool,
    seq: int,
) -> pd.DataFrame:
    """One chunk's features, updates, review-queue rows and rejects, in the import's transaction;
    returns the rows that go to the rejects file (``seq`` is how many earlier chunks sent)."""
    note = f"import of {source.path.name}"
    if part.kind == "incidents":
        part.accepted = prepare_incidents(part.accepted, source)
    if opts.update_existing:
        part.updated = _update_in_place(tx, part, source, user=user, note=note)
    part.feature_ids = tx.add(part.kind, part.accepted, user=user, note=note)
    if geocoding and "geocode_match_method" in source.attributes.columns:
        part.queued = queue_from_import(tx, part)
    rejects = part.rejected
    if part.queued and len(rejects):  # rows waiting in the review queue are fixed there
        rejects = rejects[~rejects["reason"].astype(str).str.startswith("not placed")]
    importlog.add_rejects(tx.conn, import_id, rejects, seq)
    return rejects


def _update_in_place(
    tx: Transaction, result: ImportResult, source: SourceTable, *, user: str, note: str
) -> int:
    """Features whose feature_id the workspace already holds are updated (attributes and geometry,
    each change audited) in the import's transaction; the rest stay in ``result.accepted`` to be
    added. Returns how many.

    A file with a ``version`` column (as ``closuremap export`` writes) updates a feature only if
    nobody has changed it since that version: a row on top of someone else's change is refused
    into the rejects file with who changed what (:class:`StaleEditError`), as is a row for a
    feature deleted since; a row with an empty version, or a file without the column, updates as
    it is."""
    kind, accepted = result.kind, result.accepted
    if FEATURE_ID not in accepted.columns:
        return 0
    ids = accepted[FEATURE_ID].astype("string")
    existing = set(tx.existing_ids(kind, [str(i) for i in ids.dropna()]))
    hit = ids.isin(existing).fillna(False).to_numpy(dtype=bool)
    versions, refused = _file_versions(source, accepted)
    # only the fields the file has a column for: a field it leaves out keeps its value, not a blank
    fields = [
        f.name
        for f in get_kind(kind).fields
        if f.name in accepted.columns and f.name in result.mapping
    ]
    updated = 0
    # the rows to update, and those with a version that may be of a feature deleted since
    for i in map(int, np.flatnonzero(hit | np.array([v is not None for v in versions], bool))):
        row = accepted.iloc[i]
        fid, version = row[FEATURE_ID], versions[i]
        if i in refused or pd.isna(fid):
            continue
        if not hit[i]:  # not in the workspace: added, unless it was deleted since the export
            now_at = tx.version(kind, str(fid))
            if now_at and now_at != version:
                refused[i] = (
                    f"feature {fid} was deleted from the workspace after this file was exported "
                    f"(audit entry {now_at}); not added back. To add it back, empty its version "
                    "and import it again with --update"
                )
            continue
        try:
            tx.update(
                kind,
                str(fid),
                user=user,
                geometry=row.geometry,
                note=note,
                attributes={f: (None if pd.isna(row[f]) else row[f]) for f in fields},
                expected_version=version,
            )
        except StaleEditError as exc:
            refused[i] = _stale_reason(str(exc))
            continue
        result.updated_ids.append(str(fid))
        updated += 1
    keep = np.array([i not in refused and not hit[i] for i in range(len(accepted))], dtype=bool)
    if refused:
        result.rejected = _with_refused(result.rejected, source, accepted, refused)
        result.notes.append(
            "rows whose feature was changed or deleted after the file was exported were not "
            "applied: they are in the rejects file with who changed what; make their change in a "
            "fresh export and import that"
        )
    result.accepted = accepted[keep]
    return updated


def _file_versions(
    source: SourceTable, accepted: pd.DataFrame
) -> tuple[list[int | None], dict[int, str]]:
    """Each accepted row's version from the file's ``version`` column (None: no column, or an
    empty cell), and the rows whose version cannot be read, with why."""
    columns = [c for c in source.attributes.columns if str(c).strip().lower() == VERSION_COLUMN]
    if not columns:
        return [None] * len(accepted), {}
    cells = source.attributes[columns[0]]
    versions: list[int | None] = []
    refused: dict[int, str] = {}
    for i, number in enumerate(accepted[SOURCE_ROW]):
        cell = cells.iloc[int(number) - source.first_row]  # the row's cell as the file has it
        text = "" if cell is None or (not isinstance(cell, str) and pd.isna(cell)) else str(cell)
        try:
            value = float(text) if text.strip() else None
        except ValueError:
            value = -1.0
        if value is not None and (value < 0 or not value.is_integer()):
            refused[i] = (
                f"version '{text}' is not a version number; export the layer again to get each "
                "feature's version, or empty the cell to update regardless"
            )
            value = None
        versions.append(None if value is None else int(value))
    return versions, refused


def _stale_reason(message: str) -> str:
    """A refused row's reason: who changed what since the export, and how to re-apply the row (in
    a fresh export: the row's other cells are as they were, and would undo the other change)."""
    said = message.split(" Your edit is kept")[0].rstrip(" .")
    return (
        f"{said}; this row was not applied. Export the layer again, make this row's change in the "
        "new export and import that with --update"
    )


def _with_refused(
    rejected: pd.DataFrame, source: SourceTable, accepted: pd.DataFrame, refused: dict[int, str]
) -> pd.DataFrame:
    """The chunk's rejected rows with the refused ones added, as validation writes rejects (the
    original values beside their row, line and reason), in file order."""
    reasons: list[list[str]] = [[] for _ in range(len(source))]
    ok = np.ones(len(source), dtype=bool)
    for i, why in refused.items():
        at = int(accepted[SOURCE_ROW].iloc[i]) - source.first_row
        reasons[at].append(why)
        ok[at] = False
    more = rejected_rows(source, reasons, ok)
    if not len(rejected):
        return more
    unit = source.unit
    return pd.concat([rejected, more], ignore_index=True).sort_values(unit, kind="stable")


def default_rejects_path(source: Path, workspace: str) -> Path:
    """Rejects go beside the workspace, named after the input file, so nothing is overwritten; a
    PostGIS workspace is on a server, so beside the input file, in a folder named after the
    database."""
    if is_url(workspace):
        folder = source.parent / f"{database_name(workspace)}-rejects"
    else:
        folder = Path(workspace).with_suffix("").parent / f"{Path(workspace).stem}-rejects"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return folder / f"{source.stem}.{stamp}.rejects.csv"


def file_columns(path: str | Path, kind: str) -> tuple[list[str], dict[str, str]]:
    """A file's columns and the field each would feed automatically: for the mapping step."""
    p = Path(path)
    if p.suffix.lower() in TABLE_SUFFIXES:
        columns = table_columns(p)
    else:
        columns = [str(c) for c in read_source(p, prefer_layer=kind).attributes.columns]
    auto = map_columns(columns, get_kind(kind))
    found = coordinate_columns(columns)  # what the reader will use, so the panel says so
    for key, alt in (
        ("easting", "x"),
        ("northing", "y"),
        ("longitude", None),
        ("latitude", None),
        ("wkt", None),
    ):
        column = found.get(key) or (found.get(alt) if alt else None)
        if column is not None:
            auto.setdefault(key, str(column))
    return columns, auto


def read_rows(path: str | Path) -> pd.DataFrame:
    """A table (CSV, TSV, XLSX) as text cells, one row per record: what the geocoder reads."""
    p = Path(path)
    if not p.exists():
        raise InputFileError(f"{p}: no such file")
    if p.suffix.lower() not in TABLE_SUFFIXES:
        raise InputFileError(
            f"{p}: geocoding reads tables (CSV, TSV, XLSX), not {p.suffix or 'no extension'}"
        )
    table, _ = read_table(p)
    return table
