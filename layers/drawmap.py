"""The drawing map: the workspace as context, one kind's features editable, Leaflet.draw tools.

Saved features go into Leaflet.draw's own feature group one by one, each carrying its
``feature_id``, so an edited vertex comes back to Python with the id it had: the edit reaches the
store, not a copy. Returned drawings are GeoJSON in WGS84; the page converts them to BNG.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import folium
from branca.element import MacroElement
from folium.plugins import Draw
from jinja2 import Template

import geopandas as gpd
import shapely

from closuremap.geo.crs import WGS84, geometries_to_bng, geometries_to_lonlat

from .assets import STATIC_URL, localise
from .map_parts import page_escape
from .model import KINDS
from .styles import feature_style
from .webmap import build_map

EDIT_COLOUR = "#0066ff"


class _EditableFeatures(MacroElement):  # type: ignore[misc]
    _template = Template(
        """{% macro script(this, kwargs) %}
        // Leaflet writes GeoJSON to 6 decimals (0.1 m) unless told: edits must come back to the
        // millimetre, or every untouched shape would look moved.
        (function (group) {
            var toGeoJSON = group.toGeoJSON;
            group.toGeoJSON = function (precision) {
                return toGeoJSON.call(this, precision === undefined ? 9 : precision);
            };
        })({{ this.group }});
        L.geoJSON({{ this.data|tojson }}, {
            style: function (f) { return {{ this.style|tojson }}; },
            pointToLayer: function (f, latlng) { return L.marker(latlng); },
            onEachFeature: function (f, layer) {
                layer.bindTooltip(f.properties.label || '', {sticky: true});
                {{ this.group }}.addLayer(layer);
            }
        });
        {% endmacro %}"""
    )

    def __init__(
        self, group: folium.FeatureGroup, data: dict[str, Any], style: dict[str, Any]
    ) -> None:
        super().__init__()
        self._name = "EditableFeatures"
        self.group = group.get_name()
        self.data = data
        self.style = style


def editable_geojson(kind: str, frame: gpd.GeoDataFrame) -> dict[str, Any]:
    """The features to edit, in WGS84, with their ids and an escaped label only."""
    geoms = shapely.set_precision(geometries_to_lonlat(frame.geometry.values), 1e-8)
    features = []
    names = frame.get("name", [None] * len(frame))
    for fid, name, g in zip(frame["feature_id"], names, geoms, strict=True):
        if g is None or g.is_empty:
            continue
        if g.geom_type == "MultiPolygon" and len(g.geoms) == 1:
            g = g.geoms[0]  # Leaflet.draw edits polygons, not multipolygons
        label = page_escape(str(name or kind))
        features.append(
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(g),
                "properties": {"feature_id": str(fid), "label": label},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def build_draw_map(
    frames: Mapping[str, gpd.GeoDataFrame],
    kind: str,
    *,
    attribution: Sequence[str] = (),
    static_url: str = STATIC_URL,
    guides: Sequence[tuple[str, str, list[list[float]], float]] = (),
    editable: Sequence[str] | None = None,
    focus: Sequence[float] | None = None,
) -> folium.Map:
    """The workspace map with the drawing tools that suit ``kind``. Only the features whose ids are
    in ``editable`` (all when None) go into Leaflet.draw's group, so edit mode puts handles on the
    one being edited, not on every feature of the layer; the others are drawn as context. ``focus``
    (BNG bounds) is what the map opens on, e.g. the shape just saved. ``guides`` are floor-plan
    images to trace from: (name, PNG data URL, [[south, west], [north, east]], opacity)."""
    mine = frames[kind]
    chosen = mine if editable is None else mine[mine["feature_id"].isin(list(editable))]
    context = {
        k: f
        for k, f in frames.items()
        if k != kind and k not in ("incidents", "addresses", "breaches")
    }
    if editable is not None:
        context[kind] = mine[~mine["feature_id"].isin(list(editable))]
    m = build_map(
        context, attribution=attribution, static_url=static_url, layer_control=False, focus=focus
    )
    for name, url, bounds, opacity in guides:
        folium.raster_layers.ImageOverlay(
            image=url,
            bounds=bounds,
            opacity=opacity,
            name=f"Plan: {page_escape(name)}",
            interactive=False,
            zindex=400,
        ).add_to(m)
    group = folium.FeatureGroup(name=f"Editing: {KINDS[kind].title}", show=True)
    group.add_to(m)
    point = kind == "entrances"
    Draw(
        feature_group=group,
        draw_options={
            "polyline": kind == "access_routes",
            "polygon": not point,
            "rectangle": not point,
            "circle": False,
            "circlemarker": False,
            "marker": point,
        },
        edit_options={"edit": True, "remove": True},
    ).add_to(m)
    style = dict(feature_style(kind, {}))
    style.update({"color": EDIT_COLOUR, "weight": 2})
    _EditableFeatures(group, editable_geojson(kind, chosen), style).add_to(m)
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    return localise(m, static_url)


def drawings_to_bng(features: Sequence[Mapping[str, Any]] | None) -> gpd.GeoDataFrame:
    """st_folium's ``all_drawings`` as BNG features, with the feature_id of those already saved."""
    rows = []
    for f in features or []:
        geom = shapely.geometry.shape(f["geometry"])
        props = f.get("properties") or {}
        rows.append({"feature_id": props.get("feature_id"), "geometry": geom})
    if not rows:
        return gpd.GeoDataFrame({"feature_id": []}, geometry=gpd.GeoSeries([], crs="EPSG:27700"))
    geoms = geometries_to_bng([r["geometry"] for r in rows], WGS84)
    return gpd.GeoDataFrame(
        {"feature_id": [r["feature_id"] for r in rows]}, geometry=list(geoms), crs="EPSG:27700"
    )
