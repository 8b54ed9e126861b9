"""An order's case file read from a workspace, and the documents and court bundle made from it.

This is the one module of ``reports/`` that reads a store: it gathers the order record, its blocks,
the evidence window's incidents, the service and consultation records and the area's advice
contacts into a :class:`~reports.case.CaseFile`, then hands that to the renderers. Every document
of an order is therefore drawn from the same values.
"""

from __future__ import annotations

import io
import json
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import matplotlib

import geopandas as gpd

matplotlib.use("Agg")
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from closuremap.geo.dates import parse_date, parse_datetime  # noqa: E402
from closuremap.geo.errors import ClosuremapError, WorkspaceError  # noqa: E402
from closuremap.geo.hotspots import HotspotError, HotspotParams, hotspots  # noqa: E402
from closuremap.geo.incidents import chronology, evidence_incidents  # noqa: E402
from closuremap.geo.permitted_access import default_classes, from_json  # noqa: E402
from closuremap.layers.documents import order_blocks  # noqa: E402
from closuremap.layers.evaluation import evaluate_order  # noqa: E402
from closuremap.layers.model import text_or_none  # noqa: E402
from closuremap.layers.orders import (  # noqa: E402
    evidence_window,
    extension_list,
    order_row,
    order_timeline,
    order_version,
)
from closuremap.layers.store import WorkspaceStore  # noqa: E402

from . import bundle as bundle_mod  # noqa: E402
from .bundle_parts import (  # noqa: E402
    render_chronology,
    render_consultation_record,
    render_picture,
)
from .case import SERVICE_COLUMNS, AdviceContact, CaseFile  # noqa: E402
from .evaluation import chart_png  # noqa: E402
from .exhibit import render_exhibit, scope_sha256  # noqa: E402
from .exhibit_data import ExhibitOptions
from .inputs import exhibit_input  # noqa: E402
from .legal import DOCUMENTS, DocumentResult, render_application  # noqa: E402
from .mapsheet import SCOPE_COLOUR, plain  # noqa: E402

#: The documents of an order in the order an officer needs them.
DOCUMENT_TITLES = {
    "notice": "Closure notice",
    "application": "Application for a closure order",
    "draft_order": "Draft closure order",
    "certificate_of_service": "Certificate of service",
    "extension": "Application to extend the order",
    "discharge": "Complaint for discharge of the order",
}
ADVICE_KEY = "advice_contacts"
HOTSPOT_REACH_M = 250.0


def advice_contacts(store: WorkspaceStore) -> list[AdviceContact]:
    """The area's housing and legal advice contacts (a workspace setting), for the notice."""
    raw = store.get_meta(ADVICE_KEY)
    try:
        return [AdviceContact(**c) for c in json.loads(raw)] if raw else []
    except (ValueError, TypeError) as exc:
        raise WorkspaceError(
            f"the workspace's advice contacts are not readable ({exc}); set them again on the "
            "Documents page"
        ) from None


def set_advice_contacts(store: WorkspaceStore, user: str, contacts: list[AdviceContact]) -> None:
    """Save the advice contacts the notice lists; ``user`` is who, for the audit trail."""
    store.set_meta(ADVICE_KEY, json.dumps([c.__dict__ for c in contacts]), user=user)


def _when(value: object) -> datetime | None:
    text = text_or_none(value)
    return (
        None if text is None else parse_datetime(text, "date")
    )  # day first, as the timeline reads it


def _day(value: object) -> date | None:
    text = text_or_none(value)
    return None if text is None else parse_date(text, "date")


def _premises_words(store: WorkspaceStore, row: pd.Series, blocks: gpd.GeoDataFrame) -> str:
    """The premises as a notice names them: which parts of which blocks, and that flats are out."""
    scope = row.geometry
    whole = [
        b.name
        for b in blocks.itertuples()
        if b.geometry.intersection(scope).area >= 0.99 * b.geometry.area
    ]
    communal = store.read("communal_areas")
    parts = communal[communal.intersection(scope).area > 0.5 * communal.area]
    kinds = sorted({str(t).replace("_", " ") for t in parts["area_type"]})
    routes = store.read("access_routes")
    has_routes = bool(len(routes) and (routes.intersection(scope).area > 0.5 * routes.area).any())
    names = ", ".join(str(n) for n in blocks["name"]) or "the block"
    if whole and len(whole) == len(blocks):
        return f"The whole of {names}, as edged red on the attached map."
    words = ", ".join(kinds) if kinds else "communal parts"
    routes_words = " and the shared access routes to its entrances" if has_routes else ""
    return (
        f"The communal parts of {names} ({words}){routes_words}, as edged red on the attached map. "
        "The flats themselves are not part of the premises closed."
    )


def _block_lines(blocks: gpd.GeoDataFrame) -> list[str]:
    lines = []
    for b in blocks.itertuples():
        address = text_or_none(getattr(b, "address", None)) or ""
        if address.lower().startswith(str(b.name).lower()):  # OSM addresses often repeat the name
            address = address[len(str(b.name)) :].lstrip(" ,")
        postcode = text_or_none(getattr(b, "postcode", None))
        words = [str(b.name)] + ([address] if address else [])
        if postcode and postcode not in address:
            words.append(postcode)
        lines.append(", ".join(words) + f" (block {b.block_id})")
    return lines


def scope_map_png(store: WorkspaceStore, scope, blocks: gpd.GeoDataFrame) -> bytes:  # noqa: ANN001
    """A small map of the scope edged red over its blocks and communal areas, for the notice and
    the draft order (the exhibit is the measured map; this one shows what is closed)."""
    fig = Figure(figsize=(6.4, 4.2), dpi=150)
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.98))
    minx, miny, maxx, maxy = scope.union(blocks.union_all() if len(blocks) else scope).bounds
    pad = max(maxx - minx, maxy - miny) * 0.12 + 10
    view = (minx - pad, miny - pad, maxx + pad, maxy + pad)
    basemap = store.read("basemap", bbox=view)
    if len(basemap):
        streets = basemap[basemap["feature_class"].astype(str).str.startswith("street:")]
        streets.plot(ax=ax, color="#cfcac0", linewidth=0.8)
    premises = store.read("premises", bbox=view)
    premises.plot(ax=ax, color="#e3e8f6", edgecolor="#1f3a93", linewidth=0.6)
    communal = store.read("communal_areas", bbox=view)
    if len(communal):
        communal.plot(ax=ax, color="#ffd2a6", edgecolor="#c25e00", linewidth=0.3)
    gpd.GeoSeries([scope]).boundary.plot(ax=ax, color=SCOPE_COLOUR, linewidth=1.6)
    for b in premises.itertuples():
        p = b.geometry.representative_point()
        ax.text(p.x, p.y, plain(b.name), fontsize=6, ha="center", va="center", color="#1f3a93")
    ax.set_xlim(view[0], view[2])
    ax.set_ylim(view[1], view[3])
    ax.set_aspect("equal")
    ax.set_axis_off()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def hotspot_png(
    store: WorkspaceStore, scope, incidents: gpd.GeoDataFrame
) -> tuple[bytes | None, str]:  # noqa: ANN001
    """Kernel density of the evidence window's incidents within 250 m of the scope, the scope
    edged red."""
    area = scope.buffer(HOTSPOT_REACH_M)
    near = incidents[incidents.within(area)]
    params = HotspotParams()
    try:
        cells = hotspots(near, params)
    except HotspotError as exc:
        return None, f"No hot-spot map: {exc}."
    fig = Figure(figsize=(7.5, 5.0), dpi=150)
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.98))
    basemap = store.read("basemap", bbox=area.bounds)
    if len(basemap):
        basemap[basemap["feature_class"].astype(str).str.startswith("street:")].plot(
            ax=ax, color="#cfcac0", linewidth=0.8
        )
    cells.plot(ax=ax, column="density_per_ha", cmap="YlOrRd", alpha=0.75, linewidth=0)
    store.read("premises", bbox=area.bounds).boundary.plot(ax=ax, color="#1f3a93", linewidth=0.5)
    gpd.GeoSeries([scope]).boundary.plot(ax=ax, color=SCOPE_COLOUR, linewidth=1.6)
    minx, miny, maxx, maxy = area.bounds
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_aspect("equal")
    ax.set_axis_off()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue(), (
        f"Kernel density of the {len(near)} incidents of the evidence window within "
        f"{HOTSPOT_REACH_M:.0f} m of the scope (darker: more per hectare); {params.describe()}."
    )


def case_file(
    store: WorkspaceStore, order_id: str, *, exhibit_ref: str, prepared_by: str, today: date
) -> CaseFile:
    """Everything the order's documents say, read once from the workspace."""
    if not prepared_by or not prepared_by.strip():
        raise WorkspaceError("say who is preparing the documents: each carries a name")
    row = order_row(store, order_id)
    blocks = order_blocks(store, order_id)
    start, end = evidence_window(row, today)
    window = evidence_incidents(store.read("incidents"), row.geometry, start, end)
    t = order_timeline(row)
    service = store.case_records(str(order_id), "service")
    letters = store.case_records(str(order_id), "letters")
    objections = store.objections(str(order_id))
    return CaseFile(
        order_id=str(row["order_id"]),
        name=str(row["name"]),
        premises=_premises_words(store, row, blocks),
        blocks=_block_lines(blocks),
        applicant=text_or_none(row.get("applicant")) or store.get_meta("applicant") or "",
        authorised_by=text_or_none(row.get("authorised_by")),
        notice_issued_at=_when(row.get("notice_issued_at")),
        notice_served_at=_when(row.get("notice_served_at")),
        notice_hours=int(float(text_or_none(row.get("notice_hours")) or 24)),
        notice_expires_at=None if t is None else (t.notice_extended_until or t.notice_expires),
        hearing_at=_when(row.get("hearing_at")),
        hearing_deadline=None if t is None else t.hearing_deadline,
        court_name=text_or_none(row.get("court")),
        court_address=text_or_none(row.get("court_address")),
        case_reference=text_or_none(row.get("case_reference")),
        order_made_on=_day(row.get("order_made_on")),
        order_months=int(float(m)) if (m := text_or_none(row.get("order_months"))) else None,
        order_expires_on=None if t is None else t.order_expires,
        extension_months=extension_list(row.get("extension_months")),
        permitted=from_json(text_or_none(row.get("permitted_access"))) or default_classes(),
        grounds=[
            g.strip() for g in (text_or_none(row.get("grounds")) or "").split(";") if g.strip()
        ],
        facts=text_or_none(row.get("facts")) or "",
        evidence_from=start,
        evidence_to=end,
        chronology=chronology(window, store.read("premises"), store.read("communal_areas")),
        advice_contacts=advice_contacts(store),
        exhibit_ref=exhibit_ref,
        version=order_version(store, order_id),
        prepared_by=prepared_by.strip(),
        prepared_on=today,
        scope_sha256=scope_sha256(row.geometry),
        scope_map_png=scope_map_png(store, row.geometry, blocks),
        timeline=t,
        service=service.reindex(columns=list(SERVICE_COLUMNS))
        if len(service)
        else pd.DataFrame(columns=list(SERVICE_COLUMNS)),
        objections=objections,
        letters=letters,
    )


@dataclass
class CaseDocuments:
    """Each document made (name -> result), and why any could not be made."""

    made: dict[str, DocumentResult] = field(default_factory=dict)
    not_made: dict[str, str] = field(default_factory=dict)


def make_documents(
    case: CaseFile, out_dir: str | Path, *, names: list[str] | None = None, docx: bool = True
) -> CaseDocuments:
    """Render the order's documents into ``out_dir``; a document the record cannot support yet (no
    service recorded, no order made) is listed with the sentence saying why, not raised."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    slug = case.order_id.replace("/", "-")
    out = CaseDocuments()
    for name in names or list(DOCUMENT_TITLES):
        try:
            out.made[name] = DOCUMENTS[name](
                case,
                folder / f"{name}-{slug}.pdf",
                docx_out=folder / f"{name}-{slug}.docx" if docx else None,
            )
        except ClosuremapError as exc:
            out.not_made[name] = str(exc)
    return out


def _exhibit_bytes(store: WorkspaceStore, case: CaseFile) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "exhibit.pdf"
        render_exhibit(
            exhibit_input(store, case.order_id),
            ExhibitOptions(
                case.exhibit_ref,
                case.prepared_by,
                case.prepared_on,
                version=case.version,
                paper="A4",
                evidence_from=case.evidence_from,
                evidence_to=case.evidence_to,
            ),
            path,
        )
        return path.read_bytes()


def make_bundle(
    store: WorkspaceStore,
    case: CaseFile,
    out: str | Path,
    *,
    generated_at: datetime,
    docx_dir: str | Path | None = None,
) -> tuple[bundle_mod.BundleResult, list[str]]:
    """The court bundle: application, draft order, notice, certificate of service, chronology,
    hot-spot map, consultation record and the map exhibit, in one paginated PDF. Returns the result
    and notes on any part left out (with why)."""
    parts: list[bundle_mod.BundlePart] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        names = ["application", "draft_order", "notice", "certificate_of_service"]
        docs = make_documents(
            case, Path(docx_dir) if docx_dir else tmp, names=names, docx=docx_dir is not None
        )
        # the draft order is its own part here, so the application goes in without its copy of it
        if "application" in docs.made:
            docs.made["application"] = render_application(
                case, Path(tmp) / "application-bundle.pdf", include_draft_order=False
            )
        for name in names:
            if name in docs.made:
                parts.append(
                    bundle_mod.BundlePart(DOCUMENT_TITLES[name], docs.made[name].path.read_bytes())
                )
            else:
                notes.append(f"{DOCUMENT_TITLES[name]} left out: {docs.not_made[name]}")
    window = f"{case.evidence_from:%d %B %Y} to {case.evidence_to:%d %B %Y}"
    parts.append(
        bundle_mod.BundlePart(
            "Incident chronology",
            render_chronology(
                case.chronology,
                evidence_from=case.evidence_from,
                evidence_to=case.evidence_to,
                title=f"Incident chronology: {case.name}",
            ),
        )
    )
    row = order_row(store, case.order_id)
    window_incidents = evidence_incidents(
        store.read("incidents"),
        row.geometry.buffer(HOTSPOT_REACH_M),
        case.evidence_from,
        case.evidence_to,
        reach_m=0.0,
    )
    png, caption = hotspot_png(store, row.geometry, window_incidents)
    parts.append(
        bundle_mod.BundlePart(
            "Hot-spot map",
            render_picture(f"Hot-spot map, evidence window {window}", png, caption),
        )
    )
    parts.append(
        bundle_mod.BundlePart(
            "Consultation record",
            render_consultation_record(
                case.letters, case.objections, title=f"Consultation record: {case.name}"
            ),
        )
    )
    parts.append(bundle_mod.BundlePart("Map exhibit", _exhibit_bytes(store, case)))
    if extension_sought(row):
        parts[:0], more = _extension_parts(store, case)
        notes += more
    result = bundle_mod.assemble_bundle(
        parts,
        out,
        title=f"Court bundle: {case.name}",
        reference=case.reference_line,
        generated_at=generated_at,
    )
    return result, notes


def extension_sought(row: pd.Series) -> bool:
    """An order in force whose extension is asked for (s.82): its record lists extensions, or
    says so."""
    return bool(text_or_none(row.get("order_made_on"))) and (
        bool(text_or_none(row.get("extension_months")))
        or text_or_none(row.get("status")) == "extended"
    )


def _extension_parts(
    store: WorkspaceStore, case: CaseFile
) -> tuple[list[bundle_mod.BundlePart], list[str]]:
    """For an extension hearing: the application to extend (s.82) and the before/after evaluation
    of the order so far (exact counts: the court sees the evidence, not a ward briefing's
    suppressed one)."""
    parts: list[bundle_mod.BundlePart] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            made = DOCUMENTS["extension"](case, Path(tmp) / "extension.pdf")
            parts.append(
                bundle_mod.BundlePart(DOCUMENT_TITLES["extension"], made.path.read_bytes())
            )
        except ClosuremapError as exc:
            notes.append(f"{DOCUMENT_TITLES['extension']} left out: {exc}")
    try:
        result = evaluate_order(store, case.order_id)
    except ClosuremapError as exc:
        notes.append(f"Before and after evaluation left out: {exc}")
        return parts, notes
    reading = result.reading
    caption = " ".join(
        [
            reading["target"],
            reading["buffer"],
            reading["control"],
            reading["wdq"],
            reading["tne"],
            reading["significance"],
            *(f"Warning: {w}" for w in result.warnings),
        ]
    )
    parts.append(
        bundle_mod.BundlePart(
            "Before and after evaluation",
            render_picture(
                f"Before and after: {result.windows.after.words()} "
                f"against {result.windows.before.words()}",
                chart_png(result),
                caption,
            ),
        )
    )
    return parts, notes
