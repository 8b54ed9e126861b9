"""Evaluation inputs from a workspace or from files: the target, buffer and control polygons, the
incidents and the order's dates, handed to ``geo.evaluation`` (which holds every rule and formula).

Control areas can be a file, a drawn polygon, or one of the bundled boundaries in
``data/boundaries`` (ONS wards 2024, LSOAs 2021, boroughs 2022; OGL v3.0, see data/README.md).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

import pandas as pd
from dateutil.relativedelta import relativedelta

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from closuremap.geo.crs import BNG
from closuremap.geo.dates import parse_date, parse_datetime
from closuremap.geo.errors import InputFileError
from closuremap.geo.evaluation import (
    DEFAULT_BUFFER_M,
    SMALL_COUNT,
    EvaluationError,
    EvaluationResult,
    Windows,
    evaluate,
    evaluation_areas,
    make_windows,
)

from .coercion import iso_dates
from .documents import order_blocks
from .model import text_or_none
from .orders import extension_list, order_row
from .placing import read_features
from .store import WorkspaceStore

BOUNDARIES_DIR = Path(__file__).resolve().parent.parent / "data" / "boundaries"
#: kind -> (file, code column, name column)
BOUNDARY_FILES = {
    "wards": ("wards_2024_barnet_southwark.geojson", "WD24CD", "WD24NM"),
    "lsoas": ("southwark_lsoa_2021_bgc20m.gpkg", "LSOA21CD", "LSOA21NM"),
    "boroughs": ("london_boroughs_2022_selected_bgc20m.gpkg", "LAD22CD", "LAD22NM"),
}
AreaInput = Path | BaseGeometry | None


@lru_cache(maxsize=len(BOUNDARY_FILES))
def _boundaries(kind: str) -> gpd.GeoDataFrame:
    if kind not in BOUNDARY_FILES:
        raise EvaluationError(
            f"no boundary set '{kind}': choose one of {', '.join(BOUNDARY_FILES)}"
        )
    name, code_col, name_col = BOUNDARY_FILES[kind]
    frame, _ = read_features(BOUNDARIES_DIR / name, None)  # OSTN15 for the WGS84 files
    return gpd.GeoDataFrame(
        {"code": frame[code_col].astype(str), "name": frame[name_col].astype(str)},
        geometry=frame.geometry.values,
        crs=BNG,
    )


def boundaries(kind: str) -> gpd.GeoDataFrame:
    """A bundled boundary set (``wards``, ``lsoas``, ``boroughs``) in BNG with ``code`` and
    ``name``."""
    return _boundaries(kind).copy()


def boundary_area(
    kind: str, *, name: str | None = None, near: BaseGeometry | None = None
) -> tuple[BaseGeometry, str]:
    """One boundary as a control area: by code or name, else the one that holds most of ``near``."""
    frame = boundaries(kind)
    if name:
        hit = frame[
            (frame["code"].str.lower() == name.lower())
            | (frame["name"].str.lower() == name.lower())
        ]
        if hit.empty:
            raise EvaluationError(
                f"no {kind[:-1]} called '{name}' in data/boundaries; e.g. "
                f"{', '.join(frame['name'].head(5))}"
            )
        row = hit.iloc[0]
    else:
        if near is None or near.is_empty:
            raise EvaluationError(f"name the {kind[:-1]} to use as control")
        overlap = frame.geometry.intersection(near.buffer(1.0)).area
        if overlap.max() <= 0:
            raise EvaluationError(
                f"the target lies in none of the bundled {kind}: give a control file instead"
            )
        row = frame.loc[overlap.idxmax()]
    return row.geometry, f"{row['name']} ({kind[:-1]} {row['code']}) minus target and buffer"


def _polygon(value: AreaInput, what: str) -> BaseGeometry | None:
    """A file (any supported format and CRS) or a geometry, as one BNG polygon (their union)."""
    if value is None or isinstance(value, BaseGeometry):
        return value
    frame, _ = read_features(value, None)
    polys = frame[frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polys.empty:
        raise InputFileError(
            f"{value}: no polygons for the {what}; give a polygon file "
            "(GeoJSON, GeoPackage, KML, zipped shapefile)"
        )
    return shapely.union_all(polys.geometry.values)


def order_dates(row: pd.Series) -> tuple[date | None, date | None, list[tuple[str, date]]]:
    """An order's start (the order made, else the notice issued), its planned end (order months plus
    extensions, s.80(6)/s.82) and its events for the chart: notice, order, each extension."""
    oid = row.get("order_id")
    events: list[tuple[str, date]] = []
    issued = text_or_none(row.get("notice_issued_at"))
    made = text_or_none(row.get("order_made_on"))
    notice = parse_datetime(issued, "notice_issued_at").date() if issued else None
    order = parse_date(made, "order_made_on") if made else None
    if notice:
        events.append((f"{oid} notice", notice))
    if order:
        events.append((f"{oid} order", order))
    start = order or notice
    months = int(row["order_months"]) if text_or_none(row.get("order_months")) else None
    end = start + relativedelta(months=months) if start and months else None
    extensions = extension_list(row.get("extension_months"))
    for i, extra in enumerate(extensions, 1):
        if end is not None:
            events.append((f"{oid} extension {i}", end))
            end += relativedelta(months=extra)
    return start, end, events


def _order_target(store: WorkspaceStore, rows: pd.DataFrame, target: str) -> BaseGeometry:
    """The orders' scopes, or with ``target='blocks'`` their scopes and the whole blocks they
    cover."""
    geom = shapely.union_all(rows.geometry.values)
    if target == "blocks":
        blocks = [order_blocks(store, str(oid)) for oid in rows["order_id"]]
        geom = shapely.union_all(
            [geom, *[shapely.union_all(b.geometry.values) for b in blocks if len(b)]]
        )
    elif target != "scope":
        raise EvaluationError(f"target '{target}': choose 'scope' or 'blocks'")
    return geom


def _control(
    control: AreaInput, control_boundary: str, control_name: str | None, target: BaseGeometry
) -> tuple[BaseGeometry, str]:
    if control is not None:
        where = control.name if isinstance(control, Path) else "the drawn control area"
        polygon = _polygon(control, "control")
        assert polygon is not None
        return polygon, f"{where} minus target and buffer"
    return boundary_area(control_boundary, name=control_name, near=target)


def _areas(
    target: BaseGeometry, control: BaseGeometry, buffer_m: float | None, buffer: AreaInput
) -> gpd.GeoDataFrame:
    """Target, buffer and control as ``geo.evaluation`` wants them; ``buffer`` (a file or a drawn
    polygon) replaces the ring of ``buffer_m`` metres."""
    return evaluation_areas(
        target, control, buffer_m=buffer_m, buffer_area=_polygon(buffer, "buffer")
    )


def _windows(
    start: date,
    end: date | None,
    before_months: int | None,
    after_months: int | None,
    year_earlier: bool,
) -> Windows:
    """The before and after windows from the options every evaluation takes."""
    return make_windows(
        start,
        end=end,
        before_months=before_months,
        after_months=after_months,
        year_earlier=year_earlier,
    )


def evaluate_orders(
    store: WorkspaceStore,
    order_ids: list[str] | None = None,
    *,
    target: str = "scope",
    buffer_m: float | None = DEFAULT_BUFFER_M,
    buffer: AreaInput = None,
    control: AreaInput = None,
    control_boundary: str = "wards",
    control_name: str | None = None,
    start: date | None = None,
    end: date | None = None,
    before_months: int | None = None,
    after_months: int | None = None,
    year_earlier: bool = False,
    min_count: int = SMALL_COUNT,
) -> EvaluationResult:
    """A set of orders (None: the whole operation, every order) evaluated on the workspace's
    incidents.

    Defaults: the target is the scopes; the buffer a 200 m ring; the control the ward holding the
    target; the after window from the earliest order to the latest planned end (else 3 months), the
    before window as long, just before it."""
    orders = store.read("orders")
    if order_ids:
        rows = pd.DataFrame([order_row(store, oid) for oid in order_ids])
        rows = gpd.GeoDataFrame(rows, geometry="geometry", crs=orders.crs)
    else:
        rows = orders
    if rows.empty:
        raise EvaluationError(
            f"no orders in {store.location} to evaluate: save an order's scope first"
        )
    dates = [order_dates(r) for _, r in rows.iterrows()]
    starts = [s for s, _, _ in dates if s]
    ends = [e for _, e, _ in dates if e]
    if start is None:
        if not starts:
            raise EvaluationError(
                "the orders have no notice or order date: give a start date (--start YYYY-MM-DD)"
            )
        start = min(starts)
        if end is None and after_months is None and ends:
            end = max(ends) - relativedelta(days=1)
    target_geom = _order_target(store, rows, target)
    control_geom, control_words = _control(control, control_boundary, control_name, target_geom)
    areas = _areas(target_geom, control_geom, buffer_m, buffer)
    windows = _windows(start, end, before_months, after_months, year_earlier)
    incidents = store.read("incidents")
    incidents = incidents.assign(occurred_at=iso_dates(incidents["occurred_at"]))
    ids = list(rows["order_id"].astype(str))
    title = (
        f"{ids[0]} {text_or_none(rows.iloc[0].get('name')) or ''}".strip()
        if len(ids) == 1
        else f"{'Whole operation' if not order_ids else 'Orders'}: {', '.join(ids)}"
    )
    return evaluate(
        incidents,
        areas,
        windows,
        title=title,
        control_name=control_words,
        buffer_m=None if buffer is not None else buffer_m,
        events=[e for _, _, evs in dates for e in evs],
        min_count=min_count,
    )


def evaluate_order(store: WorkspaceStore, order_id: str, **options: object) -> EvaluationResult:
    """One order evaluated (the options as :func:`evaluate_orders`): what the ward briefing and the
    court bundle for an extension draw on."""
    return evaluate_orders(store, [order_id], **options)  # type: ignore[arg-type]


def evaluate_files(
    *,
    incidents: Path,
    target: Path,
    control: Path,
    start: date,
    buffer_m: float | None = None,
    buffer: Path | None = None,
    end: date | None = None,
    before_months: int | None = None,
    after_months: int | None = None,
    category_column: str | None = None,
    year_earlier: bool = False,
    min_count: int = SMALL_COUNT,
) -> EvaluationResult:
    """The same evaluation from files in any supported format and CRS (no workspace)."""
    frame, notes = read_features(incidents, "incidents")
    if category_column:
        if category_column not in frame.columns:
            raw, _ = read_features(incidents, None)
            if category_column not in raw.columns or len(raw) != len(frame):
                raise InputFileError(
                    f"{incidents}: no column '{category_column}'; the columns are "
                    f"{', '.join(map(str, raw.columns.drop('geometry')))}"
                )
            frame["category"] = raw[category_column].to_numpy()
        else:
            frame["category"] = frame[category_column]
    if "occurred_at" not in frame:
        raise InputFileError(f"{incidents}: no date column (e.g. Month, date, occurred_at)")
    frame["occurred_at"] = iso_dates(frame["occurred_at"])
    target_geom = _polygon(target, "target")
    control_geom = _polygon(control, "control")
    assert target_geom is not None and control_geom is not None
    areas = _areas(target_geom, control_geom, buffer_m, buffer)
    windows = _windows(start, end, before_months, after_months, year_earlier)
    result = evaluate(
        frame,
        areas,
        windows,
        title=f"{Path(target).name} ({Path(incidents).name})",
        control_name=f"{Path(control).name} minus target and buffer",
        buffer_m=buffer_m if buffer is None else None,
        min_count=min_count,
    )
    result.notes.extend(notes)
    return result
