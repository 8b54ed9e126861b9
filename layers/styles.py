"""How each kind of layer looks on the web map (and, later, on the court exhibit)."""

from __future__ import annotations

from typing import Any

#: Drawing order, bottom to top, with each kind's base style (Leaflet path options).
STYLES: dict[str, dict[str, Any]] = {
    "open_space": {"color": "#5a9e4b", "weight": 1, "fillColor": "#b8dca4", "fillOpacity": 0.7},
    "premises": {"color": "#1f3a93", "weight": 2, "fillColor": "#c9d3f0", "fillOpacity": 0.55},
    "access_routes": {"color": "#7b3fa0", "weight": 1, "fillColor": "#d5b8e8", "fillOpacity": 0.8},
    "communal_areas": {
        "color": "#c25e00",
        "weight": 1,
        "fillColor": "#ffb366",
        "fillOpacity": 0.85,
    },
    "orders": {"color": "#d00000", "weight": 3, "fill": False, "dashArray": None},
    "entrances": {
        "color": "#1f3a93",
        "fillColor": "#ffffff",
        "radius": 5,
        "weight": 2,
        "fillOpacity": 1,
    },
    "addresses": {
        "color": "#555555",
        "fillColor": "#888888",
        "radius": 2,
        "weight": 0,
        "fillOpacity": 0.8,
    },
    "incidents": {
        "color": "#8a0000",
        "fillColor": "#e34a33",
        "radius": 4,
        "weight": 1,
        "fillOpacity": 0.7,
    },
    "breaches": {
        "color": "#000000",
        "fillColor": "#ff0000",
        "radius": 7,
        "weight": 2,
        "fillOpacity": 1,
    },
}

COMMUNAL_FILL = {
    "stairwell": "#ff8c1a",
    "corridor": "#ffc680",
    "landing": "#ffb366",
    "lobby": "#ffd9b3",
    "walkway": "#ffe0a3",
    "bin_store": "#b38f6b",
    "lift": "#e07b39",
}

#: Basemap classes: streets by OSM highway value, buildings and barriers.
BASEMAP: dict[str, dict[str, Any]] = {
    "street:trunk": {"color": "#b0a89a", "weight": 9},
    "street:primary": {"color": "#c2bbae", "weight": 8},
    "street:primary_link": {"color": "#c2bbae", "weight": 6},
    "street:residential": {"color": "#d5d0c6", "weight": 5},
    "street:unclassified": {"color": "#d5d0c6", "weight": 5},
    "street:service": {"color": "#ddd8cf", "weight": 3},
    "street:footway": {"color": "#a39e93", "weight": 1.5, "dashArray": "4 3"},
    "street:path": {"color": "#a39e93", "weight": 1.5, "dashArray": "4 3"},
    "street:steps": {"color": "#8a857a", "weight": 2, "dashArray": "1 3"},
    "street:cycleway": {"color": "#8fa6c9", "weight": 1.5, "dashArray": "4 3"},
    "street:pedestrian": {"color": "#ddd8cf", "weight": 4},
    "building": {"color": "#b9b4aa", "weight": 1, "fillColor": "#dedad2", "fillOpacity": 1},
    "barrier": {"color": "#6b665d", "weight": 1},
}
BASEMAP_DEFAULT = {"color": "#c8c3b8", "weight": 2, "fillColor": "#e6e2da", "fillOpacity": 1}


def basemap_style(feature_class: str) -> dict[str, Any]:
    if feature_class in BASEMAP:
        return BASEMAP[feature_class]
    if feature_class.startswith("barrier"):
        return BASEMAP["barrier"]
    return BASEMAP_DEFAULT


def feature_style(kind: str, properties: dict[str, Any]) -> dict[str, Any]:
    """The style of one feature: its kind's style, varied by sub-type where that helps reading."""
    if kind == "basemap":
        return basemap_style(str(properties.get("feature_class", "")))
    style = dict(STYLES.get(kind, {"color": "#333333", "weight": 1}))
    if kind == "communal_areas":
        style["fillColor"] = COMMUNAL_FILL.get(str(properties.get("area_type")), style["fillColor"])
    return style
