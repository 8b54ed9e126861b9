"""The web map: every layer of a workspace, drawn with Leaflet, with no tiles from the internet.

The model comes first (GeoDataFrames in BNG); this is the one place that converts to WGS84 and
knows folium's ``[lat, lon]`` order. Every string that reaches the page is HTML-escaped here,
before it is put into the GeoJSON: incident text is free text typed by members of the public.
Many incidents are drawn in tiers (:mod:`.incident_map`); the attribution, grid-reference readout
and legend are :mod:`.map_parts`.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import folium
import numpy as np
from branca.element import Element
from folium.plugins import MeasureControl

import geopandas as gpd
import shapely

from closuremap.geo.crs import bng_to_lonlat, geometries_to_lonlat
from closuremap.geo.permitted_access import from_json

from .assets import STATIC_URL, localise
from .incident_map import (
    CLUSTER_ABOVE,
    incident_layer,
)
from .map_parts import (
    Attribution,
    GridRefReadout,
    Legend,
    filled_geojson,
    page_escape,
    plain_text,
)
from .model import KINDS, SYSTEM_FIELDS
from .styles import STYLES, feature_style

#: Drawing order, bottom to top.
LAYER_ORDER = (
    "basemap",
    "open_space",
    "premises",
    "access_routes",
    "communal_areas",
    "orders",
    "addresses",
    "entrances",
    "incidents",
    "breaches",
)


#: Layers shown when the map opens; the others are one click away in the layer control.
SHOWN = set(LAYER_ORDER) - {"addresses"}
#: Fields that name a feature in its tooltip, by kind.
LABEL_FIELDS = {
    "premises": "name",
    "communal_areas": "name",
    "access_routes": "name",
    "open_space": "name",
    "entrances": "name",
    "addresses": "address",
    "incidents": "category",
    "breaches": "order_id",
    "orders": "name",
    "basemap": "name",
}


MAX_ZOOM = 22


BACKGROUND = "#f2efe9"


HOTSPOT_FILL = {"hot 99%": "#b2182b", "hot 95%": "#ef8a62", "hot 90%": "#fddbc7"}


@dataclass(frozen=True)
class Overlay:
    """An analysis layer drawn over the workspace's own: a frame, how to colour each feature, and
    which of its columns the popup shows."""

    name: str
    frame: gpd.GeoDataFrame
    fill: Any  # callable(row dict) -> colour, or a colour
    fields: tuple[str, ...] = ()
    show: bool = True
    legend: tuple[tuple[str, str], ...] = ()  # (what, colour) rows for the map's legend


@dataclass(frozen=True)
class TileSource:
    """An online tile layer: an option for networks that have one, never the default."""

    url: str
    attribution: str


def _field_words(name: str, value: Any) -> str:
    """A field as an officer reads it: access terms and scope parts in words, not JSON."""
    text = plain_text(value)
    if not text:
        return ""
    if name == "permitted_access":
        return "; ".join(c.words() for c in from_json(text))
    if name == "scope_parts":
        try:
            parts = json.loads(text)
            return "; ".join(str(p.get("name") or p.get("feature_id")) for p in parts)
        except (ValueError, TypeError, AttributeError):
            return text
    return text


def popup_html(kind: str, row: Mapping[str, Any]) -> str:
    """A feature's popup: its kind and fields as a table, every value escaped."""
    spec = KINDS[kind]
    cells = []
    for f in spec.fields:
        value = _field_words(f.name, row.get(f.name))
        if value:
            cells.append(f"<tr><th>{page_escape(f.name)}</th><td>{page_escape(value)}</td></tr>")
    for extra in ("area_m2", "length_m"):
        if extra in row:
            cells.append(f"<tr><th>{extra}</th><td>{page_escape(plain_text(row[extra]))}</td></tr>")
    title = page_escape(spec.title)
    return f"<b>{title}</b><table class='cm-popup'>{''.join(cells)}</table>"


def layer_geojson(kind: str, frame: gpd.GeoDataFrame) -> dict[str, Any]:
    """A BNG layer as a WGS84 GeoJSON dict whose properties are escaped text and style keys only."""
    if len(frame) == 0:
        return {"type": "FeatureCollection", "features": []}
    geoms = geometries_to_lonlat(frame.geometry.values)
    geoms = shapely.set_precision(geoms, 1e-7)
    label_field = LABEL_FIELDS.get(kind)
    polygonal = KINDS[kind].storage_geometry_type == "MultiPolygon"
    features = []
    records = frame.drop(columns=frame.geometry.name).to_dict("records")
    areas = frame.geometry.area.round(1).tolist() if polygonal else [None] * len(frame)
    for rec, g, area in zip(records, geoms, areas, strict=True):
        if g is None or shapely.is_empty(g):
            continue
        row = {k: v for k, v in rec.items() if k not in SYSTEM_FIELDS}
        if area is not None:
            row["area_m2"] = area
        props = {
            "popup": popup_html(kind, row),
            "label": page_escape(plain_text(rec.get(label_field))) if label_field else "",
            "feature_id": page_escape(plain_text(rec.get("feature_id"))),
            "style_key": page_escape(
                plain_text(rec.get("area_type") or rec.get("feature_class") or "")
            ),
        }
        features.append(
            {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(g)}
        )
    return {"type": "FeatureCollection", "features": features}


def _style_function(kind: str):  # noqa: ANN202 - folium wants a plain callable
    key = "area_type" if kind == "communal_areas" else "feature_class"

    def style(feature: dict[str, Any]) -> dict[str, Any]:
        return feature_style(kind, {key: html.unescape(feature["properties"].get("style_key", ""))})

    return style


def _box_lonlat(box: Sequence[float]) -> list[list[float]]:
    lon, lat = bng_to_lonlat([box[0], box[2]], [box[1], box[3]])
    return [[float(lat[0]), float(lon[0])], [float(lat[1]), float(lon[1])]]


def _bounds_lonlat(frames: Mapping[str, gpd.GeoDataFrame]) -> list[list[float]] | None:
    for preferred in (("orders", "premises", "communal_areas"), tuple(frames)):
        boxes = [f.total_bounds for k, f in frames.items() if k in preferred and len(f)]
        if boxes:
            b = np.array(boxes)
            return _box_lonlat((b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()))
    return None


def _overlay_layer(overlay: Overlay) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=overlay.name, show=overlay.show)
    if not len(overlay.frame):
        return group
    frame = overlay.frame
    geoms = shapely.set_precision(geometries_to_lonlat(frame.geometry.values), 1e-7)
    features = []
    records = frame.drop(columns=frame.geometry.name).to_dict("records")
    for rec, g in zip(records, geoms, strict=True):
        cells = "".join(
            f"<tr><th>{page_escape(f)}</th><td>{page_escape(plain_text(rec.get(f)))}</td></tr>"
            for f in overlay.fields
        )
        colour = overlay.fill(rec) if callable(overlay.fill) else overlay.fill
        features.append(
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(g),
                "properties": {
                    "popup": (
                        f"<b>{page_escape(overlay.name)}</b><table class='cm-popup'>{cells}</table>"
                    ),
                    "fill": colour,
                },
            }
        )
    filled_geojson(features, overlay.name, edge="#444444", weight=0.5, opacity=0.6).add_to(group)
    return group


WHEEL_PX_PER_LEVEL = 120


def _block_labels(premises: gpd.GeoDataFrame) -> folium.FeatureGroup:
    """Each block's name at a point inside it (escaped), as a label that does not take clicks."""
    labels = folium.FeatureGroup(name="Block names", control=False)
    named = premises[premises.geometry.notna() & ~premises.geometry.is_empty]
    points = geometries_to_lonlat(named.geometry.representative_point().values)
    for name, block_id, p in zip(
        named.get("name", [None] * len(named)),
        named.get("block_id", [None] * len(named)),
        points,
        strict=True,
    ):
        text = page_escape(plain_text(name) or plain_text(block_id))
        folium.Marker(
            [p.y, p.x],
            interactive=False,
            icon=folium.DivIcon(
                html=f"<div class='cm-block-label'>{text}</div>",
                icon_size=(0, 0),
                class_name="cm-label-anchor",
            ),
        ).add_to(labels)
    return labels


def legend_rows(
    frames: Mapping[str, gpd.GeoDataFrame], overlays: Sequence[Overlay] = ()
) -> list[tuple[str, str, str]]:
    """The legend: (what, fill, edge) for each kind on the map and each row an overlay declares."""
    rows = []
    for kind in LAYER_ORDER:
        if kind == "basemap" or frames.get(kind) is None or not len(frames[kind]):
            continue
        style = STYLES.get(kind, {})
        rows.append(
            (
                KINDS[kind].title,
                str(
                    style.get("fillColor", "transparent")
                    if style.get("fill", True)
                    else "transparent"
                ),
                str(style.get("color", "#333")),
            )
        )
    for overlay in overlays:
        rows += [(f"{overlay.name}: {what}", colour, "#777") for what, colour in overlay.legend]
    return rows


#: The page's own styles: the background under the basemap, popups, block names and the legend.
_CSS = (
    f"<style>.leaflet-container{{background:{BACKGROUND};}} "
    ".cm-popup th{padding-right:6px;text-align:left;vertical-align:top;color:#555} "
    ".cm-popup td{max-width:260px} "
    ".leaflet-control-attribution{font-size:10px;max-width:70%} "
    ".cm-block-label{position:absolute;transform:translate(-50%,-50%);white-space:nowrap;"
    "pointer-events:none;background:rgba(255,255,255,.75);color:#1f3a93;font-weight:600;"
    "font-size:11px;padding:0 3px} "
    ".cm-legend{background:#fff;padding:4px 8px;font-size:11px;line-height:16px;"
    "border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);max-height:260px;overflow:auto} "
    ".cm-legend i{display:inline-block;width:14px;height:10px;margin-right:5px;"
    "vertical-align:middle;border:1px solid #777}</style>"
)


def build_map(
    frames: Mapping[str, gpd.GeoDataFrame],
    *,
    attribution: Sequence[str] = (),
    tiles: TileSource | None = None,
    static_url: str = STATIC_URL,
    height: str = "100%",
    incident_mode: str = "auto",
    overlays: Sequence[Overlay] = (),
    layer_control: bool = True,
    focus: Sequence[float] | None = None,
) -> folium.Map:
    """A Leaflet map of the given layers (BNG GeoDataFrames by kind), ready for st_folium.

    No tiles unless ``tiles`` is given; the workspace's own basemap layer makes it readable.
    A scale bar, a measuring tool (metres, m²) and a layer control are always there. Incidents are
    drawn one by one (``points``), clustered (``clusters``; ``auto`` above 3,000) or as ``heat``.
    ``focus`` (BNG minx, miny, maxx, maxy) is what the map opens on, e.g. the scope being checked.
    """
    bounds = _box_lonlat(focus) if focus is not None else _bounds_lonlat(frames)
    centre = (
        [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
        if bounds
        else [51.5, -0.12]
    )
    # one wheel notch is one zoom level (Leaflet's default 60 px per level makes a 100 px notch two)
    m = folium.Map(
        location=centre,
        zoom_start=17,
        tiles=None,
        control_scale=True,
        max_zoom=MAX_ZOOM,
        maxZoom=MAX_ZOOM,
        height=height,
        prefer_canvas=False,
        wheelPxPerZoomLevel=WHEEL_PX_PER_LEVEL,
    )
    m.get_root().header.add_child(Element(_CSS))
    if tiles is not None:
        folium.TileLayer(
            tiles=tiles.url,
            attr=page_escape(tiles.attribution),
            name="Online tiles",
            max_zoom=MAX_ZOOM,
            max_native_zoom=19,
            overlay=False,
            control=True,
        ).add_to(m)
    for kind in LAYER_ORDER:
        frame = frames.get(kind)
        if frame is not None:
            for group in _kind_layers(kind, frame, incident_mode):
                group.add_to(m)
    for overlay in overlays:
        _overlay_layer(overlay).add_to(m)
    Legend(legend_rows(frames, overlays)).add_to(m)
    if layer_control:  # callers that add layers afterwards add the control after them
        folium.LayerControl(collapsed=True, position="topright").add_to(m)
    MeasureControl(
        position="topleft",
        primary_length_unit="meters",
        secondary_length_unit=None,
        primary_area_unit="sqmeters",
        secondary_area_unit=None,
    ).add_to(m)
    GridRefReadout().add_to(m)
    Attribution(list(attribution) + ([] if tiles is None else [tiles.attribution])).add_to(m)
    if bounds:  # opened at the extent, not zoomed to it (an animation before the map is usable)
        fit = folium.FitBounds(bounds, padding=(20, 20))
        fit.options["animate"] = False
        fit.add_to(m)
    return localise(m, static_url)


def _kind_layers(
    kind: str, frame: gpd.GeoDataFrame, incident_mode: str
) -> list[folium.FeatureGroup]:
    """One kind's layer: each feature with its popup and tooltip (blocks with their names), or
    many incidents clustered, gridded or as a heat map."""
    if kind == "incidents" and (
        incident_mode in ("clusters", "heat")
        or (incident_mode == "auto" and len(frame) > CLUSTER_ABOVE)
    ):
        mode = "heat" if incident_mode == "heat" else "clusters"
        return incident_layer(frame, mode, f"{KINDS[kind].title} ({len(frame)})")
    data = layer_geojson(kind, frame)
    title = f"{KINDS[kind].title} ({len(data['features'])})"
    group = folium.FeatureGroup(name=title, show=kind in SHOWN, control=True)
    if not data["features"]:
        return [group]
    common: dict[str, Any] = {"name": title, "style_function": _style_function(kind)}
    if kind != "basemap":
        common["popup"] = folium.GeoJsonPopup(fields=["popup"], labels=False, localize=False)
    if kind not in ("basemap", "addresses", "incidents"):
        common["tooltip"] = folium.GeoJsonTooltip(fields=["label"], labels=False, localize=False)
    if KINDS[kind].storage_geometry_type == "Point":
        common["marker"] = folium.CircleMarker(radius=STYLES[kind]["radius"])
    folium.GeoJson(data, **common).add_to(group)
    if kind == "premises":  # blocks carry their names on the map, as on paper
        _block_labels(frame).add_to(group)
    return [group]


def map_summary(m: folium.Map) -> dict[str, Any]:
    """Layer names and asset URLs of a built map: what tests and the page assert on."""
    html_text = m.get_root().render()
    return {
        "html": html_text,
        "external": [u for u in _asset_urls(m) if u.startswith(("http:", "https:", "//"))],
    }


def _asset_urls(m: folium.Map) -> list[str]:
    urls: list[str] = []

    def walk(element: object) -> None:
        for _, url in getattr(element, "default_js", []) + getattr(element, "default_css", []):
            urls.append(url)
        for child in getattr(element, "_children", {}).values():
            walk(child)

    walk(m)
    return urls


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)
