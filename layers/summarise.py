"""Incidents per area from files or a workspace: read, count (``geo.summarise``), write one CSV.

Both inputs come in any supported format and CRS (``layers.importer.read_features`` converts them to
BNG and explains what it left out); the areas may instead be a polygon layer of a workspace
(``blocks``/``premises``, ``communal_areas``, ``open_space``, ``orders``), and the incidents the
workspace's own. The counting rules, and every number that explains the counts, are
``geo.summarise``'s; this module only fetches, names and writes.

An incidents CSV/TSV is streamed (``layers.summarise_read``): only its coordinate, category and
date columns are read, a chunk of CLOSUREMAP_CHUNK_ROWS rows at a time, each chunk counted against
the areas' index built once (``geo.summarise.AreaCounter``), so a million calls take about as much
memory as fifty thousand. Other formats (GeoPackage, GeoJSON, a workbook...), a workspace's
incidents, and a table with a row of the wrong length are read whole, as the importer reads them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely

from closuremap.geo.area_ids import guess_id_columns
from closuremap.geo.categories import STANDARD
from closuremap.geo.errors import InputFileError, SchemaError
from closuremap.geo.evaluation import standard_categories
from closuremap.geo.summarise import AreaCounter, Summary
from closuremap.geo.summarise_window import SummariseError
from closuremap.geo.validate import POLYGONAL

from .coercion import iso_dates
from .csvio import write_csv
from .limits import Limits
from .placing import read_features
from .progress import Progress, no_progress
from .summarise_read import CsvPlan, NotStreamable, count_csv, estimated_rows, plan_csv

if TYPE_CHECKING:
    from .store import WorkspaceStore

#: Names the areas of a workspace go by on the command line: the page calls premises "blocks".
KIND_ALIASES = {"blocks": "premises"}
#: The workspace's polygon layers, and the columns that name each feature of one.
KIND_ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "premises": ("block_id", "name"),
    "communal_areas": ("feature_id", "block_id", "area_type", "name"),
    "open_space": ("feature_id", "name"),
    "orders": ("order_id", "name"),
}
AREA_NUMBER = "area"  # the id column made when an areas file has none we can recognise


@dataclass
class SummaryRun:
    """A summary written to ``out``: the counts, where they came from, and what to know about
    them."""

    summary: Summary
    out: Path
    areas_source: str
    incidents_source: str
    id_columns_guessed: bool
    category_map: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        s = self.summary
        return {
            "areas": len(s.table),
            "incidents": s.incidents,
            "in_window": s.in_window,
            "counted": s.counted,
            "outside": s.outside,
            "boundary_rule": s.boundary_rule,
            "overlap_rule": s.overlap_rule,
            "out": str(self.out),
            "columns": s.columns,
            "id_columns": list(s.id_columns),
            "id_columns_guessed": self.id_columns_guessed,
            "categories": list(s.categories),
            "category_map": self.category_map,
            "in_several_areas": s.in_several,
            "on_shared_boundary": s.on_shared_boundary,
            "window": None
            if s.window is None
            else {"from": _iso(s.window[0]), "to": _iso(s.window[1])},
            "out_of_window": s.out_of_window,
            "undated": s.undated,
            "month_straddling": s.month_straddling,
            "areas_source": self.areas_source,
            "incidents_source": self.incidents_source,
            "notes": self.notes + s.notes,
        }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def area_kind(value: str) -> str | None:
    """The workspace polygon kind ``--areas`` names (``blocks`` is ``premises``), or None for a
    file."""
    name = KIND_ALIASES.get(value.strip().lower(), value.strip().lower())
    return name if name in KIND_ID_COLUMNS and not Path(value).exists() else None


def _feature_words(
    frame: pd.DataFrame, i: int, id_columns: Sequence[str], renumbered: bool = False
) -> str:
    """A feature named by its number in the file (or, when some could not be placed, among those
    read) and its ids."""
    ids = ", ".join(f"{c} {frame[c].iloc[i]}" for c in id_columns if c != AREA_NUMBER)
    where = f"area {i + 1} of those read" if renumbered else f"feature {i + 1}"
    return where + (f" ({ids})" if ids else "")


def read_areas(
    areas: str | Path,
    store: WorkspaceStore | None = None,
    *,
    layer: str | None = None,
    id_columns: Sequence[str] | None = None,
) -> tuple[gpd.GeoDataFrame, list[str], bool, list[str], str]:
    """The areas in BNG, polygons only: from a file, or a polygon layer of ``store``.

    Returns the areas, their id columns, whether those were guessed, notes, and where they came
    from. A point or line among them is an error naming the feature (an areas file holds areas
    only)."""
    kind = area_kind(str(areas))
    if kind is not None:
        found = _workspace_areas(kind, str(areas), store)
    else:
        found = _file_areas(Path(areas), store, layer)
    frame, source, notes = found.frame, found.source, found.notes
    guessed = not id_columns
    chosen = list(id_columns or found.id_columns)
    columns = [str(c) for c in frame.columns if c != frame.geometry.name]
    missing = [c for c in chosen if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{source}: no column {', '.join(map(repr, missing))} for --id-column; the columns "
            f"are {', '.join(columns)}"
        )
    if not chosen:
        frame = frame.assign(**{AREA_NUMBER: np.arange(1, len(frame) + 1)})
        chosen = [AREA_NUMBER]
        notes.append(
            f"no column in {source} looks like an area's code or name: areas are numbered in the "
            f"'{AREA_NUMBER}' column in the file's order; name the columns with --id-column "
            f"(the columns are {', '.join(columns) or 'none'})"
        )
    notes += _check_polygons(frame, source, chosen, found.renumbered)
    return frame, chosen, guessed, notes, source


@dataclass
class _FoundAreas:
    """Areas as read, before their id columns are chosen."""

    frame: gpd.GeoDataFrame
    source: str  # where they came from, as the messages name it
    id_columns: list[str]  # the columns that name each area, by default
    notes: list[str] = field(default_factory=list)
    renumbered: bool = False  # some could not be placed, so positions are not the file's numbers


def _workspace_areas(kind: str, areas: str, store: WorkspaceStore | None) -> _FoundAreas:
    if store is None:
        raise SchemaError(
            f"--areas {areas} names a workspace layer: give the workspace first "
            f"(closuremap summarise WS.gpkg --areas {areas} ...), or a polygon file"
        )
    frame = store.read(kind)
    if frame.empty:
        raise SummariseError(
            f"the workspace {store.location} has no {kind} to count in: import or draw them "
            "first, or give --areas FILE"
        )
    default = [c for c in KIND_ID_COLUMNS[kind] if c in frame.columns]
    return _FoundAreas(frame, f"{store.location} ({kind})", default)


def _file_areas(path: Path, store: WorkspaceStore | None, layer: str | None) -> _FoundAreas:
    if not path.exists():
        hint = (
            f"; or name a polygon layer of the workspace: {', '.join(['blocks', *KIND_ID_COLUMNS])}"
            if store is not None
            else ""
        )
        raise InputFileError(f"{path}: no such file{hint}")
    try:
        frame, read_notes = read_features(path, None, layer=layer)
    except InputFileError as exc:
        raise InputFileError(str(exc).replace("--layer NAME", "--areas-layer NAME")) from None
    if frame.empty:
        raise InputFileError(
            f"{path}: no areas could be read; give a file of polygons (wards, LSOAs, beats)"
        )
    return _FoundAreas(
        frame,
        str(path),
        guess_id_columns([c for c in frame.columns if c != frame.geometry.name]),
        [f"areas {path.name}: {n}" for n in read_notes],
        renumbered=any(" left out (e.g. " in n for n in read_notes),
    )


def _check_polygons(
    frame: gpd.GeoDataFrame, source: str, chosen: list[str], renumbered: bool
) -> list[str]:
    """Refuse a point or line among the areas (naming the first); note invalid polygons, which
    are counted in as GEOS tests them, not repaired."""
    types = frame.geometry.geom_type.to_numpy()
    wrong = np.flatnonzero(~np.isin(types, POLYGONAL))
    if len(wrong):
        i = int(wrong[0])
        more = (
            f" ({len(wrong)} of the {len(frame)} features are not polygons)"
            if len(wrong) > 1
            else ""
        )
        raise InputFileError(
            f"{source}: {_feature_words(frame, i, chosen, renumbered)} is a {types[i]}, not a "
            f"polygon{more}; an areas file holds polygons only (wards, LSOAs, beats): take the "
            "other shapes out or choose another layer"
        )
    invalid = np.flatnonzero(~shapely.is_valid(frame.geometry.values))
    if not len(invalid):
        return []
    i = int(invalid[0])
    example = _feature_words(frame, i, chosen, renumbered)
    return [
        f"{len(invalid)} area(s) are not valid polygons (e.g. {example}: "
        f"{shapely.is_valid_reason(frame.geometry.values[i])}); points in them are counted as "
        "GEOS tests them, not repaired: fix them in the source to be sure"
    ]


def read_incidents(
    incidents: str | Path | None, store: WorkspaceStore | None = None, *, layer: str | None = None
) -> tuple[gpd.GeoDataFrame, list[str], str]:
    """Incident points in BNG with ``occurred_at`` (ISO text) and ``category`` when the source has
    them: from a file (any supported format and CRS), else the workspace's incidents layer."""
    if incidents is None:
        if store is None:
            raise SchemaError(
                "give the incidents: --incidents FILE, or a workspace whose incidents to count "
                "(closuremap summarise WS.gpkg --areas ...)"
            )
        return store.read("incidents"), [], f"{store.location} (incidents)"
    path = Path(incidents)
    try:
        frame, read_notes = read_features(path, "incidents", layer=layer)
    except InputFileError as exc:
        raise InputFileError(
            str(exc)
            .replace("--layer NAME", "--incidents-layer NAME")
            .replace(", or say which they are with --map easting=COLUMN --map northing=COLUMN", "")
        ) from None
    notes = [f"incidents {path.name}: {n}" for n in read_notes]
    points = frame.geometry.geom_type.to_numpy() == "Point"
    if not points.all():
        shapes = pd.Series(frame.geometry.geom_type.to_numpy()[~points]).value_counts()
        notes.append(
            f"{int((~points).sum())} incident feature(s) of {path.name} are not points "
            f"({', '.join(f'{n} {t}' for t, n in shapes.items())}) and were left out"
        )
        frame = frame[points].reset_index(drop=True)
    if "occurred_at" in frame:
        frame = frame.assign(occurred_at=iso_dates(frame["occurred_at"]))
    return frame, notes, str(path)


@dataclass
class _Counted:
    """Incidents counted, whichever way they were read, and what to say about them."""

    counter: AreaCounter
    source: str
    notes: list[str]
    category_map: dict[str, str] = field(default_factory=dict)
    standard_used: int = 0  # how many standard categories the wordings fall under
    categorised: bool = False


def _no_dates(source: str) -> InputFileError:
    return InputFileError(
        f"{source}: no date column (e.g. Month, date, occurred_at) for --from/--to; "
        "leave the window out to count every incident"
    )


def _count_streamed(
    path: Path, plan: CsvPlan, new_counter: Callable[[], AreaCounter], progress: Progress
) -> _Counted:
    """A CSV's incidents counted a chunk at a time (``layers.summarise_read``): memory is bound
    by the chunk (CLOSUREMAP_CHUNK_ROWS), not the file."""
    limits = Limits.from_env()
    limits.check_file(path)
    limits.check_columns(path, len(plan.header))
    expected = estimated_rows(path)
    counter, tally, read_notes = count_csv(
        plan,
        new_counter,
        limits=limits,
        progress=lambda rows: progress(
            0.2 + 0.75 * min(1.0, rows / expected), f"counted {rows:,} rows of {path.name}"
        ),
    )
    if tally.first_left_out is not None:
        row, reason = tally.first_left_out
        read_notes.append(
            f"{tally.left_out} of {tally.rows} rows of {path.name} left out "
            f"(e.g. row {row}: {reason})"
        )
    return _Counted(
        counter,
        str(path),
        [f"incidents {path.name}: {n}" for n in read_notes],
        dict(sorted(tally.category_map.items())),
        len(tally.standard_seen),
        tally.categorised,
    )


def _count_whole(
    incidents: str | Path | None,
    store: WorkspaceStore | None,
    layer: str | None,
    new_counter: Callable[[], AreaCounter],
    progress: Progress,
) -> _Counted:
    """Incidents read whole and counted at once: a workspace's, a vector file's (GeoPackage,
    GeoJSON...), a workbook's, or a table the streaming reader hands back."""
    progress(
        0.2,
        f"reading the incidents ({Path(str(incidents)).name if incidents else 'the workspace'})",
    )
    frame, notes, source = read_incidents(incidents, store, layer=layer)
    counter = new_counter()
    if counter.window is not None and "occurred_at" not in frame:
        raise _no_dates(source)
    counted = _Counted(counter, source, notes)
    categories = None
    if "category" in frame and frame["category"].notna().any():
        original = frame["category"].astype(object)
        categories = standard_categories(original)
        pairs = pd.DataFrame({"original": original.fillna("").astype(str), "standard": categories})
        counted.category_map = dict(
            pairs.drop_duplicates("original").sort_values("original").itertuples(index=False)
        )
        counted.standard_used = int(pairs["standard"].nunique())
        counted.categorised = True
    progress(0.5, f"counting {len(frame)} incidents")
    counter.add(frame.geometry, categories=categories, occurred_at=frame.get("occurred_at"))
    return counted


def _category_note(counted: _Counted) -> str:
    if counted.categorised:
        return (
            "categories standardised (geo.categories): the incidents' "
            f"{len(counted.category_map)} wording(s) fall under {counted.standard_used} of the "
            f"{len(STANDARD)} standard categories (the CSV has a column for each); the map from "
            "the wording is category_map in the JSON"
        )
    return (
        f"{counted.source}: no category column (e.g. 'Crime type', category): only totals counted"
    )


def summarise_to_csv(
    out: str | Path,
    *,
    areas: str | Path,
    incidents: str | Path | None = None,
    store: WorkspaceStore | None = None,
    id_columns: Sequence[str] | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    areas_layer: str | None = None,
    incidents_layer: str | None = None,
    progress: Progress = no_progress,
) -> SummaryRun:
    """Count ``incidents`` per area of ``areas`` and write the table to ``out`` (CSV, written whole
    or not at all): id columns, ``total``, then one column per standard category
    (geo.categories).

    A CSV/TSV of incidents is read a chunk at a time (only its coordinate, category and date
    columns), so memory does not grow with the file; other formats, a workspace's incidents, and
    a table with rows of the wrong length are read whole."""
    progress(0.0, f"reading the areas ({Path(str(areas)).name})")
    area_frame, ids, guessed, area_notes, area_source = read_areas(
        areas, store, layer=areas_layer, id_columns=id_columns
    )

    def new_counter() -> AreaCounter:
        return AreaCounter(
            area_frame, ids, date_from=date_from, date_to=date_to, category_columns=STANDARD
        )

    plan = plan_csv(incidents) if incidents is not None else None
    counted = None
    if plan is not None and incidents is not None:
        if (date_from or date_to) and plan.date is None:
            raise _no_dates(str(Path(incidents)))
        progress(
            0.2, f"counting the incidents of {Path(incidents).name} in {len(area_frame)} areas"
        )
        try:
            counted = _count_streamed(Path(incidents), plan, new_counter, progress)
        except NotStreamable:
            counted = None  # rows only the importer's reader explains: read it whole
    if counted is None:
        counted = _count_whole(incidents, store, incidents_layer, new_counter, progress)
    summary = counted.counter.summary()
    path = write_csv(summary.table, out)
    progress(1.0, f"wrote {path}")
    if guessed and ids != [AREA_NUMBER]:
        area_notes.append(
            f"area ids: {', '.join(ids)} (chosen from the column names; choose others with "
            "--id-column NAME, repeated)"
        )
    return SummaryRun(
        summary=summary,
        out=path,
        areas_source=area_source,
        incidents_source=counted.source,
        id_columns_guessed=guessed,
        category_map=counted.category_map,
        notes=area_notes + counted.notes + [_category_note(counted)],
    )
