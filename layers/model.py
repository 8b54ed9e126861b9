"""What each kind of layer is: its fields, their types, and its geometry.

Import validates against these schemas; the stores create their tables from them. A kind's
``aliases`` map the column names found in real exports (police.uk, council gazetteers, QGIS
attribute tables) onto our field names, so a file imports without a mapping step when it can.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from closuremap.geo.errors import SchemaError
from closuremap.geo.validate import LINEAR, POLYGONAL, PUNTAL

SAFE_INTEGER = 2.0**53  # the largest integer a float holds exactly; well inside int64

#: Columns every layer carries besides its own fields.
FEATURE_ID = "feature_id"  # stable id (uuid4 hex), kept through every edit
SOURCE_FILE = "source_file"  # the file a feature was imported from
SOURCE_ROW = "source_row"  # its row or feature number there (1-based)
SOURCE_ATTRS = "source_attrs"  # JSON of the source's columns that have no field here
SYSTEM_FIELDS = (FEATURE_ID, SOURCE_FILE, SOURCE_ROW, SOURCE_ATTRS)

COMMUNAL_AREA_TYPES = (
    "stairwell",
    "corridor",
    "landing",
    "lobby",
    "walkway",
    "bin_store",
    "lift",
    "balcony_access",
    "car_park",
    "courtyard",
    "other",
)
ORDER_STATUSES = (
    "draft",
    "notice_issued",
    "notice_served",
    "heard",
    "order_made",
    "refused",
    "extended",
    "discharged",
    "expired",
)


@dataclass(frozen=True)
class Field:
    """One attribute of a layer. ``kind`` is str, int, float, datetime (ISO text) or date."""

    name: str
    kind: str = "str"
    required: bool = False
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    help: str = ""
    minimum: float | None = None  # numbers outside [minimum, maximum] are refused with a reason
    maximum: float | None = None

    @property
    def bounds(self) -> tuple[float, float]:
        """The range a number of this field may take: its own, else what an int64 column holds
        exactly (a floor of 1e19 is a typo, not a floor)."""
        return (
            self.minimum if self.minimum is not None else -SAFE_INTEGER,
            self.maximum if self.maximum is not None else SAFE_INTEGER,
        )


@dataclass(frozen=True)
class LayerKind:
    """A kind of layer: its name, its geometry types and its fields."""

    name: str
    title: str
    geometry_types: tuple[str, ...]
    fields: tuple[Field, ...] = field(default_factory=tuple)
    description: str = ""

    @property
    def storage_geometry_type(self) -> str:
        """The single geometry type declared to the store (polygons are kept as MultiPolygon)."""
        if self.geometry_types == POLYGONAL:
            return "MultiPolygon"
        if self.geometry_types == PUNTAL:
            return "Point"
        return "Unknown"

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every attribute column in store order (system fields first)."""
        return SYSTEM_FIELDS + tuple(f.name for f in self.fields)


def text_or_none(value: object) -> str | None:
    """A stored value as trimmed text, or None for a blank, NaN or NA: how every reader of a
    stored record tells an empty field from a filled one."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def normalise_column(name: str) -> str:
    """A column name folded for matching: ``"Crime ID"`` -> ``"crime_id"``."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


_NAME = Field("name", help="what people call it, e.g. 'Perronet House'")
_NOTES = Field("notes", aliases=("note", "comments", "comment"))
_BLOCK = Field(
    "block_id",
    required=True,
    aliases=("block", "premises_id", "building_id", "block_ref"),
    help="the block_id of the block (premises) it belongs to",
)
_BLOCK_OPT = Field("block_id", aliases=("block", "premises_id", "building_id", "block_ref"))

KINDS: dict[str, LayerKind] = {
    k.name: k
    for k in (
        LayerKind(
            "premises",
            "Blocks (premises)",
            POLYGONAL,
            (
                Field(
                    "block_id",
                    required=True,
                    aliases=("block", "premises_id", "building_id", "osm_id", "id"),
                    help="a short reference unique in the workspace, e.g. 'PER'",
                ),
                Field(
                    "name", required=True, aliases=("block_name", "building_name", "addr_housename")
                ),
                Field("address", aliases=("addr", "street_address", "full_address")),
                Field("postcode", aliases=("addr_postcode", "post_code")),
                Field("uprn", aliases=("parent_uprn",), help="the parent UPRN of the block"),
                Field(
                    "floors",
                    "int",
                    aliases=("levels", "building_levels", "storeys", "floor_count"),
                    minimum=0,
                    maximum=200,
                ),
                Field(
                    "premises_type", aliases=("building", "type"), help="flats, maisonettes, ..."
                ),
                _NOTES,
            ),
            "Block footprints: the identifiable property a closure premises is part of.",
        ),
        LayerKind(
            "communal_areas",
            "Communal areas",
            POLYGONAL,
            (
                _BLOCK,
                Field(
                    "area_type",
                    required=True,
                    choices=COMMUNAL_AREA_TYPES,
                    aliases=("type", "subtype"),
                ),
                Field(
                    "floor_from",
                    "int",
                    aliases=("floor", "level", "from_floor"),
                    minimum=-10,
                    maximum=200,
                ),
                Field("floor_to", "int", aliases=("to_floor",), minimum=-10, maximum=200),
                _NAME,
                _NOTES,
            ),
            "Stairwells, corridors, landings, lobbies, walkways, bin stores: each tied to a block "
            "and floors.",
        ),
        LayerKind(
            "access_routes",
            "Access routes",
            POLYGONAL + LINEAR,
            (
                _BLOCK_OPT,
                _NAME,
                Field("width_m", "float", aliases=("width",), minimum=0.1, maximum=100),
                _NOTES,
            ),
            "Shared routes to a block's doors: lines with a width, or polygons.",
        ),
        LayerKind(
            "open_space",
            "Open space",
            POLYGONAL,
            (_NAME, Field("open_space_type", aliases=("leisure", "landuse", "type")), _NOTES),
            "Parks, grass, playgrounds: not premises (Leeds CC v Persons Unknown [2023]).",
        ),
        LayerKind(
            "entrances",
            "Entrances",
            PUNTAL,
            (
                _BLOCK,
                Field(
                    "entrance_type",
                    choices=("door", "gate", "car_park", "service", "emergency", "other"),
                    aliases=("type", "entrance"),
                ),
                _NAME,
                _NOTES,
            ),
            "Doors and gates: every normal means of access gets a copy of the notice (s.79(2)).",
        ),
        LayerKind(
            "addresses",
            "Addresses",
            PUNTAL,
            (
                Field("uprn", required=True, aliases=("uprn_id",)),
                Field(
                    "address",
                    required=True,
                    aliases=("full_address", "address_text", "single_line_address"),
                ),
                _BLOCK_OPT,
                Field("postcode", aliases=("post_code",)),
                Field("flat", aliases=("flat_number", "sub_building", "unit")),
                Field("floor", "int", aliases=("level",), minimum=-10, maximum=200),
            ),
            "Flat-level addresses (UPRN) for consultation letters and geocoding.",
        ),
        LayerKind(
            "incidents",
            "Incidents",
            PUNTAL,
            (
                Field(
                    "occurred_at",
                    "datetime",
                    aliases=(
                        "date",
                        "datetime",
                        "date_time",
                        "time",
                        "month",
                        "when",
                        "reported_at",
                        "created",
                        "incident_date",
                    ),
                ),
                Field(
                    "category",
                    aliases=(
                        "crime_type",
                        "type",
                        "incident_type",
                        "asb_type",
                        "what",
                        "nature",
                        "call_type",
                        "incident_category",
                    ),
                    help=(
                        "standard category (geo.categories); the file's own text is kept in "
                        "category_original"
                    ),
                ),
                Field("category_original"),
                Field(
                    "source",
                    aliases=("reported_by", "system"),
                    help="cad, crime, housing, police.uk, other",
                ),
                Field(
                    "reference",
                    aliases=(
                        "crime_id",
                        "ref",
                        "incident_ref",
                        "cad_ref",
                        "reference_number",
                        "persistent_id",
                        "id",
                    ),
                ),
                Field("description", aliases=("details", "summary", "context", "narrative")),
                Field("location_text", aliases=("location", "location_description", "address")),
                Field(
                    "precision",
                    help="how exactly the point is known: exact, street (police.uk), ...",
                ),
            ),
            "Police CAD calls, crime reports, housing ASB logs.",
        ),
        LayerKind(
            "breaches",
            "Breaches",
            PUNTAL,
            (
                Field("order_id", required=True, aliases=("order", "order_ref")),
                Field(
                    "occurred_at", "datetime", required=True, aliases=("date", "datetime", "time")
                ),
                Field("description", aliases=("details", "summary")),
                Field("outcome", aliases=("result", "disposal")),
                Field("reference", aliases=("ref", "crime_id")),
            ),
            "Breaches of a closure notice or order (s.86).",
        ),
        LayerKind(
            "orders",
            "Closure orders",
            POLYGONAL,
            (
                Field("order_id", required=True, aliases=("order", "order_ref", "id")),
                Field("name", required=True),
                Field(
                    "operation",
                    aliases=("operation_name",),
                    help="the closure operation (partnership) it belongs to: a partner sees only "
                    "its own operations' orders",
                ),
                Field("status", choices=ORDER_STATUSES, aliases=("state",)),
                Field("block_ids", help="the premises covered, block_ids separated by ';'"),
                Field("notice_issued_at", "datetime"),
                Field("notice_served_at", "datetime"),
                Field("authorised_by", help="rank or authority of the issuer (s.76(1), s.77(2))"),
                Field(
                    "applicant",
                    help="the police force or council that issues the notice and applies",
                ),
                Field("court", help="the magistrates' court that hears the application"),
                Field("court_address"),
                Field("case_reference"),
                Field(
                    "notice_hours",
                    "int",
                    help="24, or up to 48 with a superintendent's authority (s.77)",
                    minimum=1,
                    maximum=168,
                ),
                Field("hearing_at", "datetime"),
                Field("order_made_on", "date"),
                Field("order_months", "int", minimum=1, maximum=24),
                Field("extension_months", help="each extension in months, separated by ';' (s.82)"),
                Field(
                    "evidence_from",
                    "date",
                    help="start of the evidence window (default 6 months before the notice)",
                ),
                Field(
                    "evidence_to",
                    "date",
                    help="end of the evidence window (default the notice's issue)",
                ),
                Field("grounds", help="s.80(5) grounds relied on: a, b, c separated by ';'"),
                Field("facts", help="the statement of facts for the application"),
                Field("permitted_access", help="permitted classes as JSON (geo.permitted_access)"),
                Field("scope_parts", help="JSON list of the features the scope was built from"),
                _NOTES,
            ),
            "Closure notices and orders with their scope (s.76, s.80).",
        ),
        LayerKind(
            "basemap",
            "Basemap",
            POLYGONAL + LINEAR + PUNTAL,
            (Field("feature_class", required=True, aliases=("class", "highway")), _NAME),
            "Streets, paths and context buildings drawn under everything else: a map without "
            "tiles.",
        ),
    )
}


def get_kind(name: str) -> LayerKind:
    """The layer kind called ``name``, or a :class:`SchemaError` listing the kinds there are."""
    try:
        return KINDS[name]
    except KeyError:
        raise SchemaError(
            f"unknown layer kind '{name}'; the kinds are: {', '.join(KINDS)}"
        ) from None
