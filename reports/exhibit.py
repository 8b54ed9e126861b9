"""The court map exhibit: an order's scope edged red on a map at a stated metric scale, with the
premises schedule and an incident summary, a title block on every sheet.

Conventions follow HM Land Registry plans (Practice Guide 40): a stated metric scale (1:500, 1:1250,
1:2500), a north point, the boundary edged red, plus an exhibit reference on each sheet, date,
version and the data attributions (closure-powers.md §3). The SHA-256 of the scope ties the paper
to the exact geometry in the workspace; the audit entry that last saved the order, and the chain's
head when the exhibit was made, tie it to the workspace's audit chain (``closuremap audit``).
"""

from __future__ import annotations

import hashlib
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

import shapely
from shapely.geometry.base import BaseGeometry

from . import labels, mapsheet
from .atomic import atomic_path
from .exhibit_data import (
    AuditPointer,
    ExhibitInput,
    ExhibitOptions,
    block_labels,
    blocks_touched,
)
from .exhibit_map import PreparedMap, atlas_view, draw_map, prepare_map
from .exhibit_tables import (
    incident_page,
    incident_summary,
    premises_schedule,
    table_page,
)
from .mapsheet import Sheet, plain


@dataclass
class SheetRecord:
    """What one sheet is: a map (with its scale, centre and labels) or a table (not to scale)."""

    page: int
    kind: str  # map | atlas | schedule | incidents
    statement: str
    scale: int | None = None
    centre: tuple[float, float] | None = None
    placement: labels.Placement | None = None


@dataclass
class ExhibitResult:
    path: Path
    pages: int
    scale: int
    sheet: Sheet
    scope_sha256: str
    map_pages: list[int] = field(default_factory=list)
    sheets: list[SheetRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # warnings for the user (e.g. no attribution)
    audit: AuditPointer | None = None  # where the sheets point into the workspace's audit chain

    @property
    def scale_statement(self) -> str:
        return f"Scale 1:{self.scale} at {self.sheet.paper}"


def scope_sha256(scope: BaseGeometry) -> str:
    """SHA-256 of the scope's WKB (little-endian, 2D, BNG coordinates rounded to the millimetre)."""
    fixed = shapely.set_precision(scope, 0.001)
    return hashlib.sha256(shapely.to_wkb(fixed, byte_order=1, output_dimension=2)).hexdigest()


def _title_block(
    fig: Figure,
    sh: Sheet,
    data: ExhibitInput,
    opts: ExhibitOptions,
    statement: str,
    sha: str,
    page: int,
    pages: int,
    subtitle: str,
    premises: str,
) -> None:
    """The title block along the foot of every sheet; every supplied string printed literally.
    ``premises``: the names of the blocks the order touches (:func:`_premises_line`)."""
    ax = fig.add_axes(
        (
            mapsheet.MARGIN_MM / sh.width_mm,
            mapsheet.MARGIN_MM / sh.height_mm,
            (sh.width_mm - 2 * mapsheet.MARGIN_MM) / sh.width_mm,
            mapsheet.TITLE_BLOCK_MM / sh.height_mm,
        )
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(0.8)
    ax.axvline(0.22, color="black", linewidth=0.5)
    ax.axvline(0.72, color="black", linewidth=0.5)
    ax.text(
        0.01, 0.8, plain(f"Exhibit {opts.exhibit_ref}"), fontsize=13, weight="bold", va="center"
    )
    ax.text(0.01, 0.55, f"Sheet {page} of {pages}", fontsize=8, va="center")
    ax.text(0.01, 0.33, plain(statement), fontsize=8, weight="bold", va="center")
    ax.text(0.01, 0.12, f"Version {opts.version}", fontsize=7, va="center")
    ax.text(
        0.23, 0.85, plain(textwrap.shorten(data.title, 90)), fontsize=10, weight="bold", va="center"
    )
    ax.text(
        0.23, 0.66, plain(textwrap.shorten(f"Premises: {premises}", 110)), fontsize=7, va="center"
    )
    ax.text(0.23, 0.49, plain(subtitle), fontsize=7, va="center")
    ax.text(
        0.23, 0.31, f"Scope SHA-256: {sha}", fontsize=5.2, va="center", family="DejaVu Sans Mono"
    )
    attribution = (
        " ".join(data.attribution) or "No data attribution given: name the data sources before use"
    )
    # every attribution line is printed (the licences require it): smaller type on a narrow sheet
    lines = textwrap.wrap(attribution, int(150 * sh.width_mm / 297))
    size = 3.8 if len(lines) <= 4 else 3.8 * 4 / len(lines) * 1.15
    if len(lines) > 4:
        lines = textwrap.wrap(attribution, int(150 * sh.width_mm / 297 * 3.8 / size))
    ax.text(0.23, 0.06, plain("\n".join(lines)), fontsize=size, va="bottom")
    ax.text(0.73, 0.84, plain(f"Prepared by: {opts.prepared_by}"), fontsize=8, va="center")
    ax.text(0.73, 0.67, f"Date: {opts.prepared_on:%d %B %Y}", fontsize=8, va="center")
    ax.text(0.73, 0.5, plain(f"Order: {data.order_id or '-'}"), fontsize=8, va="center")
    ax.text(0.73, 0.35, "Grid: BNG (EPSG:27700)", fontsize=6, va="center")
    if data.audit is not None:  # where this sheet points into the workspace's audit chain
        a = data.audit
        for y, line in (
            (0.2, f"Audit entry #{a.entry_id} {a.entry_hash[:12]}"),
            (0.08, f"Chain head  #{a.head_id} {a.head_hash[:12]}"),
        ):
            ax.text(0.73, y, line, fontsize=5.2, va="center", family="DejaVu Sans Mono")


def _audit_keywords(data: ExhibitInput) -> str:
    """The full hashes of the audit pointer, for the PDF's keywords (the sheet prints 12 digits)."""
    a = data.audit
    if a is None:
        return ""
    return f"; audit-entry:{a.entry_id}:{a.entry_hash}; audit-head:{a.head_id}:{a.head_hash}"


def _premises_line(data: ExhibitInput) -> str:
    """The blocks the order touches, by name, for every title block (worked out once)."""
    return ", ".join(block_labels(data.premises).loc[blocks_touched(data).index].tolist()) or "-"


def _map_sheet(
    pdf: PdfPages,
    sh: Sheet,
    data: ExhibitInput,
    opts: ExhibitOptions,
    view: tuple[tuple[float, float], int, str, str],
    head: tuple[str, int, int, str],
    prepared: PreparedMap,
) -> SheetRecord:
    """Draw, title and save one map sheet; its statement is its own scale. ``head``: the scope's
    hash, the page, the pages and the premises line."""
    centre, scale, subtitle, kind = view
    sha, page, pages, premises = head
    statement = f"Scale 1:{scale} at {opts.paper}"
    fig = mapsheet.new_figure(sh)
    try:
        placement = draw_map(fig, sh, data, centre, scale, prepared=prepared)
        _title_block(fig, sh, data, opts, statement, sha, page, pages, subtitle, premises)
        pdf.savefig(fig)
    finally:
        mapsheet.close(fig)
    return SheetRecord(page, kind, statement, scale, centre, placement)


def _attribution_notes(data: ExhibitInput) -> list[str]:
    """A warning when the exhibit carries no data attribution, which the data's licences require."""
    if any(str(a).strip() for a in data.attribution):
        return []
    return [
        "warning: the exhibit carries no data attribution; the data's licences (e.g. "
        "OpenStreetMap's ODbL, the Open Government Licence) require one: give --attribution"
    ]


def _check(data: ExhibitInput, opts: ExhibitOptions) -> None:
    """Refuse an exhibit that cannot be drawn, before any file is touched."""
    if data.scope is None or data.scope.is_empty:
        raise mapsheet.SheetError("the order has no scope to draw")
    if opts.scale is not None and opts.scale not in mapsheet.STANDARD_SCALES:
        raise mapsheet.SheetError(
            f"scale must be one of {', '.join(f'1:{s}' for s in mapsheet.STANDARD_SCALES)}"
        )


def _map_views(
    data: ExhibitInput, opts: ExhibitOptions, sh: Sheet
) -> list[tuple[tuple[float, float], int, str, str]]:
    """Each map sheet as (centre, scale, subtitle, kind): the overview, then with ``atlas`` one
    sheet a block the order touches, at the largest scale that shows it."""
    minx, miny, maxx, maxy = data.scope.bounds
    centre = ((minx + maxx) / 2, (miny + maxy) / 2)
    scale = opts.scale or mapsheet.fit_scale((maxx - minx, maxy - miny), (sh.frame[2], sh.frame[3]))
    views = [(centre, scale, "Map of the premises and the closure scope", "map")]
    if opts.atlas:
        names = block_labels(data.premises)
        for idx, block in blocks_touched(data).iterrows():
            block_centre, block_scale = atlas_view(data, block, sh)
            views.append((block_centre, block_scale, f"Atlas sheet: {names[idx]}", "atlas"))
    return views


def _table_sheet(
    pdf: PdfPages,
    sh: Sheet,
    data: ExhibitInput,
    opts: ExhibitOptions,
    kind: str,
    head: tuple[str, int, int, str],
) -> SheetRecord:
    """Draw, title and save the premises schedule or the incident summary (not to scale)."""
    sha, page, pages, premises = head
    fig = mapsheet.new_figure(sh)
    try:
        if kind == "schedule":
            statement, subtitle = "Not to scale: schedule", "Premises schedule"
            table_page(
                fig,
                sh,
                "Premises schedule",
                premises_schedule(data),
                "UPRNs are listed as count: first–last. "
                "Flats are private dwellings: residents keep access.",
            )
        else:
            statement = "Not to scale: summary"
            subtitle = "Incident summary for the evidence window"
            incident_page(fig, sh, *incident_summary(data, opts))
        _title_block(fig, sh, data, opts, statement, sha, page, pages, subtitle, premises)
        pdf.savefig(fig)
    finally:
        mapsheet.close(fig)
    return SheetRecord(page, kind, statement)


def render_exhibit(data: ExhibitInput, opts: ExhibitOptions, out: str | Path) -> ExhibitResult:
    """Write the exhibit PDF (complete or not at all): the map, an atlas sheet a block if asked,
    the premises schedule and the incident summary. Returns its path, pages, scale and sheets."""
    _check(data, opts)
    sh = mapsheet.sheet(opts.paper, opts.orientation)
    views = _map_views(data, opts, sh)
    scale = views[0][1]
    sha = scope_sha256(data.scope)
    pages = len(views) + 2
    meta = {
        "Title": f"Exhibit {opts.exhibit_ref}: {data.title}",
        "Author": opts.prepared_by,
        "Subject": f"Scale 1:{scale} at {opts.paper}",
        "Keywords": f"scope-sha256:{sha}" + _audit_keywords(data),
        "CreationDate": None,
    }
    sheets: list[SheetRecord] = []
    prepared = prepare_map(data)  # shared by every map sheet: layers, names, text sizes
    premises = _premises_line(data)
    with atomic_path(out) as tmp, PdfPages(tmp, metadata=meta) as pdf:
        for view in views:
            head = (sha, len(sheets) + 1, pages, premises)
            sheets.append(_map_sheet(pdf, sh, data, opts, view, head, prepared))
        for kind in ("schedule", "incidents"):
            head = (sha, len(sheets) + 1, pages, premises)
            sheets.append(_table_sheet(pdf, sh, data, opts, kind, head))
    return ExhibitResult(
        Path(out),
        pages,
        scale,
        sh,
        sha,
        [s.page for s in sheets if s.scale is not None],
        sheets=sheets,
        notes=_attribution_notes(data),
        audit=data.audit,
    )
