"""The web map: every layer of a workspace, drawn with Leaflet, with no tiles from the internet.

The model comes first (GeoDataFrames in BNG); this is the one place that converts to WGS84 and
knows folium's ``[lat, lon]`` order. Every string that reaches the page is HTML-escaped here,
before it is put into the GeoJSON: incident text is free text typed by members of the public.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import folium
import numpy as np
import pandas as pd
from branca.element import Element, MacroElement
from folium.plugins import FastMarkerCluster, HeatMap, MeasureControl
from jinja2 import Template

import geopandas as gpd
import shapely

from closuremap.geo.crs import BNG, bng_to_lonlat, geometries_to_lonlat
from closuremap.geo.permitted_access import from_json

from .assets import STATIC_URL, localise
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
SHOWN = {
    "basemap",
    "open_space",
    "premises",
    "access_routes",
    "communal_areas",
    "orders",
    "entrances",
    "incidents",
    "breaches",
}
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
#: Above this many incidents the map clusters them instead of drawing each one.
CLUSTER_ABOVE = 3000
HOTSPOT_FILL = {"hot 99%": "#b2182b", "hot 95%": "#ef8a62", "hot 90%": "#fddbc7"}
COUNT_FILL = ("#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704")

_CLUSTER_CALLBACK = """function (row) {
    var marker = L.circleMarker(new L.LatLng(row[0], row[1]),
        {radius: 4, color: '#8a0000', fillColor: '#e34a33', fillOpacity: 0.7, weight: 1});
    marker.bindPopup(row[2]);
    return marker;
}"""


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


class _Attribution(MacroElement):  # type: ignore[misc]
    """Data attributions in Leaflet's attribution control (no tile layer brings its own)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.setPrefix('Leaflet');
        {% for a in this.items %}{{ this._parent.get_name() }}.attributionControl.addAttribution({{ a|tojson }});
        {% endfor %}{% endmacro %}"""
    )

    def __init__(self, items: Sequence[str]) -> None:
        super().__init__()
        self._name = "Attribution"
        self.items = [html.escape(a) for a in items]


def _text(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def _field_words(name: str, value: Any) -> str:
    """A field as an officer reads it: access terms and scope parts in words, not JSON."""
    text = _text(value)
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
            cells.append(f"<tr><th>{html.escape(f.name)}</th><td>{html.escape(value)}</td></tr>")
    for extra in ("area_m2", "length_m"):
        if extra in row:
            cells.append(f"<tr><th>{extra}</th><td>{html.escape(_text(row[extra]))}</td></tr>")
    title = html.escape(spec.title)
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
    for rec, g, area in zip(records, geoms, areas):
        if g is None or shapely.is_empty(g):
            continue
        row = {k: v for k, v in rec.items() if k not in SYSTEM_FIELDS}
        if area is not None:
            row["area_m2"] = area
        props = {
            "popup": popup_html(kind, row),
            "label": html.escape(_text(rec.get(label_field))) if label_field else "",
            "feature_id": html.escape(_text(rec.get("feature_id"))),
            "style_key": html.escape(_text(rec.get("area_type") or rec.get("feature_class") or "")),
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


#: Above this many incidents the clusters carry no popups (100k popups made a 15 MB page); above
#: GRID_ONLY_ABOVE only the grid of counts is drawn (a million points would not open at all).
POPUPS_UP_TO = 20_000
GRID_ONLY_ABOVE = 200_000
GRID_CELL_M = (
    100.0  # the smallest square; a wide extent gets bigger ones, at most GRID_CELLS of them
)
GRID_CELLS = 5_000

_PLAIN_CLUSTER_CALLBACK = """function (row) {
    return L.circleMarker(new L.LatLng(row[0], row[1]),
        {radius: 3, color: '#8a0000', fillColor: '#e34a33', fillOpacity: 0.7, weight: 1});
}"""


def grid_cell_m(frame: gpd.GeoDataFrame) -> float:
    """The grid's square side: GRID_CELL_M, or wider in 50 m steps so the extent has at most
    GRID_CELLS squares (the page's size is then set by the area, never by the rows)."""
    minx, miny, maxx, maxy = frame.total_bounds
    if not np.isfinite([minx, miny, maxx, maxy]).all():
        return GRID_CELL_M
    side = float(np.sqrt(max(maxx - minx, 1.0) * max(maxy - miny, 1.0) / GRID_CELLS))
    return max(GRID_CELL_M, float(np.ceil(side / 50.0) * 50.0))


def incident_grid(frame: gpd.GeoDataFrame, cell_m: float = GRID_CELL_M) -> gpd.GeoDataFrame:
    """Incidents counted in square BNG cells (``count`` and the three commonest ``categories``):
    what a map can draw of a borough's year at any zoom."""
    x, y = frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()
    ok = np.isfinite(x) & np.isfinite(y)
    ix, iy = np.floor(x[ok] / cell_m).astype(np.int64), np.floor(y[ok] / cell_m).astype(np.int64)
    cells = pd.DataFrame(
        {
            "ix": ix,
            "iy": iy,
            "category": (
                frame["category"].astype(str).to_numpy()[ok] if "category" in frame else ""
            ),
        }
    )
    by_category = (
        cells.groupby(["ix", "iy", "category"], sort=False).size().rename("n").reset_index()
    )
    by_category = by_category.sort_values(["ix", "iy", "n"], ascending=[True, True, False])
    top = by_category.groupby(["ix", "iy"], sort=False).head(3)
    words = (
        top.assign(text=top["category"] + " " + top["n"].astype(str))
        .groupby(["ix", "iy"], sort=False)["text"]
        .agg(", ".join)
    )
    counts = by_category.groupby(["ix", "iy"], sort=False)["n"].sum()
    out = pd.DataFrame({"count": counts, "categories": words}).reset_index()
    boxes = shapely.box(
        out["ix"] * cell_m, out["iy"] * cell_m, (out["ix"] + 1) * cell_m, (out["iy"] + 1) * cell_m
    )
    return gpd.GeoDataFrame(out[["count", "categories"]], geometry=boxes, crs=BNG)


def _grid_layer(frame: gpd.GeoDataFrame, title: str, show: bool) -> folium.FeatureGroup:
    cell = grid_cell_m(frame)
    grid = incident_grid(frame, cell)
    group = folium.FeatureGroup(name=title.format(cell=cell), show=show)
    if not len(grid):
        return group
    edges = np.unique(np.quantile(grid["count"], [0.2, 0.4, 0.6, 0.8]))
    fills = [
        COUNT_FILL[min(int(np.searchsorted(edges, c, side="right")), len(COUNT_FILL) - 1)]
        for c in grid["count"]
    ]
    boxes = shapely.set_precision(geometries_to_lonlat(grid.geometry.values), 1e-5)  # a metre
    features = [
        {
            "type": "Feature",
            "geometry": shapely.geometry.mapping(g),
            "properties": {
                "popup": f"<b>{c:,}</b> in this {cell:.0f} m square<br>{html.escape(w)}",
                "fill": f,
            },
        }
        for g, c, w, f in zip(
            boxes, grid["count"].tolist(), grid["categories"].tolist(), fills, strict=True
        )
    ]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=title,
        style_function=lambda f: {
            "color": "#7f2704",
            "weight": 0.3,
            "fillColor": f["properties"]["fill"],
            "fillOpacity": 0.65,
        },
        popup=folium.GeoJsonPopup(fields=["popup"], labels=False, localize=False),
    ).add_to(group)
    return group


def _incident_layer(frame: gpd.GeoDataFrame, mode: str, title: str) -> list[folium.FeatureGroup]:
    """Incidents as clusters or a heat map; beyond POPUPS_UP_TO the clusters carry no popups and a
    grid of counts (with its commonest categories) says what is where; beyond GRID_ONLY_ABOVE only
    the grid is drawn. Every popup escaped."""
    group = folium.FeatureGroup(name=title, show=True)
    if not len(frame):
        return [group]
    n = len(frame)
    if mode != "heat" and n > GRID_ONLY_ABOVE:
        return [
            _grid_layer(
                frame,
                title + ": counts per {cell:.0f} m square (filter by date or area to see "
                "each incident)",
                show=True,
            )
        ]
    pts = geometries_to_lonlat(frame.geometry.values)
    lat, lon = shapely.get_y(pts), shapely.get_x(pts)
    if mode == "heat":
        HeatMap(
            np.column_stack([lat, lon]).round(6).tolist(), radius=14, blur=18, min_opacity=0.3
        ).add_to(group)
        return [group]
    if n > POPUPS_UP_TO:  # 5 decimals is a metre: 100k points stay a few MB
        FastMarkerCluster(
            np.column_stack([lat, lon]).round(5).tolist(),
            callback=_PLAIN_CLUSTER_CALLBACK,
            options={"maxClusterRadius": 40},
        ).add_to(group)
        return [
            group,
            _grid_layer(frame, "Incidents per {cell:.0f} m square (click for counts)", show=False),
        ]

    def short(column: str, width: int) -> list[str]:
        if column not in frame:
            return [""] * n
        return [html.escape(_text(v)[:width]) for v in frame[column].tolist()]

    # compact popups: full tables would make a 40 MB page
    rows = [
        [round(float(a), 6), round(float(b), 6), f"<b>{c}</b> {w}<br>{loc}<br>{d}"]
        for a, b, c, w, loc, d in zip(
            lat,
            lon,
            short("category", 40),
            short("occurred_at", 16),
            short("location_text", 60),
            short("description", 80),
        )
    ]
    FastMarkerCluster(rows, callback=_CLUSTER_CALLBACK, options={"maxClusterRadius": 40}).add_to(
        group
    )
    return [group]


def _overlay_layer(overlay: Overlay) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=overlay.name, show=overlay.show)
    if not len(overlay.frame):
        return group
    frame = overlay.frame
    geoms = shapely.set_precision(geometries_to_lonlat(frame.geometry.values), 1e-7)
    features = []
    for rec, g in zip(frame.drop(columns=frame.geometry.name).to_dict("records"), geoms):
        cells = "".join(
            f"<tr><th>{html.escape(f)}</th><td>{html.escape(_text(rec.get(f)))}</td></tr>"
            for f in overlay.fields
        )
        colour = overlay.fill(rec) if callable(overlay.fill) else overlay.fill
        features.append(
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(g),
                "properties": {
                    "popup": f"<b>{html.escape(overlay.name)}</b><table class='cm-popup'>{cells}</table>",
                    "fill": colour,
                },
            }
        )
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=overlay.name,
        style_function=lambda f: {
            "color": "#444444",
            "weight": 0.5,
            "fillColor": f["properties"]["fill"],
            "fillOpacity": 0.6,
        },
        popup=folium.GeoJsonPopup(fields=["popup"], labels=False, localize=False),
    ).add_to(group)
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
        text = html.escape(_text(name) or _text(block_id))
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


_GRIDREF_JS = """// OSGB36 National Grid reference of a WGS84 point, for the measure tool's point popups. A
// 7-parameter Helmert shift (OS guide, accurate to a few metres) and the OS transverse Mercator;
// the exact OSTN15 reference of a clicked point is given under the map.
function cmGridRef(lat, lon) {
  var rad = Math.PI / 180;
  function toCart(phi, lam, a, b) {
    var e2 = 1 - (b * b) / (a * a), s = Math.sin(phi), nu = a / Math.sqrt(1 - e2 * s * s);
    return [nu * Math.cos(phi) * Math.cos(lam), nu * Math.cos(phi) * Math.sin(lam), (1 - e2) * nu * s];
  }
  var c = toCart(lat * rad, lon * rad, 6378137.0, 6356752.314245);
  var tx = -446.448, ty = 125.157, tz = -542.060, sc = 20.4894e-6;
  var rx = -0.1502 / 3600 * rad, ry = -0.2470 / 3600 * rad, rz = -0.8421 / 3600 * rad;
  var x = tx + (1 + sc) * c[0] - rz * c[1] + ry * c[2];
  var y = ty + rz * c[0] + (1 + sc) * c[1] - rx * c[2];
  var z = tz - ry * c[0] + rx * c[1] + (1 + sc) * c[2];
  var a = 6377563.396, b = 6356256.909, e2 = 1 - (b * b) / (a * a), p = Math.sqrt(x * x + y * y);
  var phi = Math.atan2(z, p * (1 - e2)), phiP = 2 * Math.PI;
  while (Math.abs(phi - phiP) > 1e-12) {
    var nu0 = a / Math.sqrt(1 - e2 * Math.sin(phi) * Math.sin(phi));
    phiP = phi; phi = Math.atan2(z + e2 * nu0 * Math.sin(phi), p);
  }
  var lam = Math.atan2(y, x);
  var F0 = 0.9996012717, phi0 = 49 * rad, lam0 = -2 * rad, N0 = -100000, E0 = 400000, n = (a - b) / (a + b);
  var sinP = Math.sin(phi), cosP = Math.cos(phi), tanP = Math.tan(phi);
  var nu = a * F0 / Math.sqrt(1 - e2 * sinP * sinP), rho = a * F0 * (1 - e2) / Math.pow(1 - e2 * sinP * sinP, 1.5);
  var eta2 = nu / rho - 1;
  var Ma = (1 + n + 5 / 4 * n * n + 5 / 4 * n * n * n) * (phi - phi0);
  var Mb = (3 * n + 3 * n * n + 21 / 8 * n * n * n) * Math.sin(phi - phi0) * Math.cos(phi + phi0);
  var Mc = (15 / 8 * n * n + 15 / 8 * n * n * n) * Math.sin(2 * (phi - phi0)) * Math.cos(2 * (phi + phi0));
  var Md = 35 / 24 * n * n * n * Math.sin(3 * (phi - phi0)) * Math.cos(3 * (phi + phi0));
  var M = b * F0 * (Ma - Mb + Mc - Md);
  var I = M + N0, II = nu / 2 * sinP * cosP, III = nu / 24 * sinP * Math.pow(cosP, 3) * (5 - tanP * tanP + 9 * eta2);
  var IIIA = nu / 720 * sinP * Math.pow(cosP, 5) * (61 - 58 * tanP * tanP + Math.pow(tanP, 4));
  var IV = nu * cosP, V = nu / 6 * Math.pow(cosP, 3) * (nu / rho - tanP * tanP);
  var VI = nu / 120 * Math.pow(cosP, 5) * (5 - 18 * tanP * tanP + Math.pow(tanP, 4) + 14 * eta2 - 58 * tanP * tanP * eta2);
  var dL = lam - lam0;
  var N = I + II * dL * dL + III * Math.pow(dL, 4) + IIIA * Math.pow(dL, 6);
  var E = E0 + IV * dL + V * Math.pow(dL, 3) + VI * Math.pow(dL, 5);
  var e100k = Math.floor(E / 100000), n100k = Math.floor(N / 100000);
  if (e100k < 0 || e100k > 6 || n100k < 0 || n100k > 12) { return null; }
  var l1 = (19 - n100k) - (19 - n100k) % 5 + Math.floor((e100k + 10) / 5);
  var l2 = (19 - n100k) * 5 % 25 + e100k % 5;
  if (l1 > 7) { l1++; } if (l2 > 7) { l2++; }
  var letters = String.fromCharCode(l1 + 65, l2 + 65);
  function pad(v) { var s = String(Math.floor((v % 100000) / 10)); while (s.length < 4) { s = '0' + s; } return s; }
  return {ref: letters + ' ' + pad(E) + ' ' + pad(N), easting: E, northing: N};
}
"""


class _GridRefReadout(MacroElement):  # type: ignore[misc]
    """The measure tool's point popup gives degrees; this adds the National Grid reference beside
    them (approximate, by a Helmert shift: the page gives the exact OSTN15 one of a clicked point)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        """
        + _GRIDREF_JS
        + """
        {{ this._parent.get_name() }}.on('popupopen', function (e) {
            var el = e.popup.getElement();
            if (!el || !el.querySelector('.coorddivider') || el.querySelector('.cm-gridref')) { return; }
            var at = e.popup.getLatLng(), g = cmGridRef(at.lat, at.lng);
            if (!g) { return; }
            var p = document.createElement('p');
            p.className = 'cm-gridref';
            p.textContent = 'Grid ref ≈ ' + g.ref + ' (E ' + g.easting.toFixed(0) + ' N ' + g.northing.toFixed(0) +
                            '; ±5 m, exact: click the map)';
            el.querySelector('.coorddivider').parentNode.after(p);  // (update() would redraw it away)
        });
        {% endmacro %}"""
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "GridRefReadout"


class _Legend(MacroElement):  # type: ignore[misc]
    """What each colour and symbol means, in a corner that can be folded away."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function () {
            var legend = L.control({position: 'bottomleft'});
            legend.onAdd = function () {
                var div = L.DomUtil.create('div', 'cm-legend');
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}"""
    )

    def __init__(self, rows: Sequence[tuple[str, str, str]]) -> None:
        super().__init__()
        self._name = "Legend"
        items = "".join(
            f"<div><i style='background:{html.escape(fill)};border-color:{html.escape(edge)}'></i>"
            f"{html.escape(what)}</div>"
            for what, fill, edge in rows
        )
        self.html = (
            f"<details open><summary><b>Legend</b></summary>{items}</details>" if rows else ""
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
    m.get_root().header.add_child(
        Element(
            f"<style>.leaflet-container{{background:{BACKGROUND};}} .cm-popup th{{padding-right:6px;"
            "text-align:left;vertical-align:top;color:#555} .cm-popup td{max-width:260px} "
            ".leaflet-control-attribution{font-size:10px;max-width:70%} "
            ".cm-block-label{position:absolute;transform:translate(-50%,-50%);white-space:nowrap;pointer-events:none;"
            "background:rgba(255,255,255,.75);color:#1f3a93;font-weight:600;font-size:11px;padding:0 3px} "
            ".cm-legend{background:#fff;padding:4px 8px;font-size:11px;line-height:16px;border-radius:4px;"
            "box-shadow:0 1px 4px rgba(0,0,0,.3);max-height:260px;overflow:auto} .cm-legend i{display:inline-block;"
            "width:14px;height:10px;margin-right:5px;vertical-align:middle;border:1px solid #777}</style>"
        )
    )
    if tiles is not None:
        folium.TileLayer(
            tiles=tiles.url,
            attr=html.escape(tiles.attribution),
            name="Online tiles",
            max_zoom=MAX_ZOOM,
            max_native_zoom=19,
            overlay=False,
            control=True,
        ).add_to(m)
    for kind in LAYER_ORDER:
        frame = frames.get(kind)
        if frame is None:
            continue
        if kind == "incidents" and (
            incident_mode in ("clusters", "heat")
            or (incident_mode == "auto" and len(frame) > CLUSTER_ABOVE)
        ):
            mode = "heat" if incident_mode == "heat" else "clusters"
            for group in _incident_layer(frame, mode, f"{KINDS[kind].title} ({len(frame)})"):
                group.add_to(m)
            continue
        data = layer_geojson(kind, frame)
        title = f"{KINDS[kind].title} ({len(data['features'])})"
        group = folium.FeatureGroup(name=title, show=kind in SHOWN, control=True)
        common: dict[str, Any] = {"name": title, "style_function": _style_function(kind)}
        if data["features"]:
            if kind != "basemap":
                common["popup"] = folium.GeoJsonPopup(
                    fields=["popup"], labels=False, localize=False
                )
            if kind not in ("basemap", "addresses", "incidents"):
                common["tooltip"] = folium.GeoJsonTooltip(
                    fields=["label"], labels=False, localize=False
                )
            if KINDS[kind].storage_geometry_type == "Point":
                style = STYLES[kind]
                common["marker"] = folium.CircleMarker(radius=style["radius"])
            folium.GeoJson(data, **common).add_to(group)
            if kind == "premises":  # blocks carry their names on the map, as on paper
                _block_labels(frame).add_to(group)
        group.add_to(m)
    for overlay in overlays:
        _overlay_layer(overlay).add_to(m)
    _Legend(legend_rows(frames, overlays)).add_to(m)
    if layer_control:  # callers that add layers afterwards add the control after them
        folium.LayerControl(collapsed=True, position="topright").add_to(m)
    MeasureControl(
        position="topleft",
        primary_length_unit="meters",
        secondary_length_unit=None,
        primary_area_unit="sqmeters",
        secondary_area_unit=None,
    ).add_to(m)
    _GridRefReadout().add_to(m)
    _Attribution(list(attribution) + ([] if tiles is None else [tiles.attribution])).add_to(m)
    if bounds:
        m.fit_bounds(bounds, padding=(20, 20))
    return localise(m, static_url)


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
