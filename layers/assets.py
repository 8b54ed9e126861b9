"""Leaflet and its plugins, served by the app itself: a police network has no internet.

folium asks public CDNs for its JavaScript and CSS; :func:`localise` points every element of a map
at our copies under ``static/vendor/`` (Streamlit serves ``static/`` at ``/app/static/``), and
raises if any element still wants something from the internet.
"""

from __future__ import annotations

from pathlib import Path

import folium

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
#: Where the running Streamlit app serves static/ (``[server] enableStaticServing = true``).
STATIC_URL = "/app/static"

#: folium's asset names -> our file under static/, or None for assets we do not need at all.
LOCAL_ASSETS: dict[str, str | None] = {
    "leaflet": "vendor/leaflet/leaflet.js",
    "jquery": "vendor/jquery/jquery.min.js",
    "bootstrap": "vendor/bootstrap/bootstrap.bundle.min.js",
    "awesome_markers": "vendor/awesome-markers/leaflet.awesome-markers.min.js",
    "leaflet_css": "vendor/leaflet/leaflet.css",
    "bootstrap_css": "vendor/bootstrap/bootstrap.min.css",
    "glyphicons_css": None,  # Bootstrap 3 icons: no marker of ours uses them
    "awesome_markers_font_css": "vendor/fontawesome/css/all.min.css",
    "awesome_markers_css": "vendor/awesome-markers/leaflet.awesome-markers.css",
    "awesome_rotate_css": None,  # rotation of awesome-marker icons: unused
    "leaflet_draw_js": "vendor/leaflet-draw/leaflet.draw.js",
    "leaflet_draw_css": "vendor/leaflet-draw/leaflet.draw.css",
    "leaflet_measure_js": "vendor/leaflet-measure/leaflet-measure.js",
    "leaflet_measure_css": "vendor/leaflet-measure/leaflet-measure.css",
    "markerclusterjs": "vendor/markercluster/leaflet.markercluster.js",
    "markerclustercss": "vendor/markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": "vendor/markercluster/MarkerCluster.Default.css",
    "leaflet-heat.js": "vendor/leaflet-heat/leaflet_heat.min.js",
}


class ExternalAssetError(RuntimeError):
    """A map element wants an asset from the internet that we do not ship (a bug, not user
    error)."""


def _local(assets: list[tuple[str, str]], base: str) -> list[tuple[str, str]]:
    out = []
    for name, url in assets:
        if not url.startswith(("http://", "https://", "//")):
            out.append((name, url))
            continue
        if name not in LOCAL_ASSETS:
            raise ExternalAssetError(
                f"map asset '{name}' ({url}) is not shipped in static/vendor; add it"
            )
        path = LOCAL_ASSETS[name]
        if path is not None:
            out.append((name, f"{base}/{path}"))
    return out


def localise(m: folium.Map, base: str = STATIC_URL) -> folium.Map:
    """Point every element of ``m`` at the app's own copies of Leaflet and its plugins."""

    def walk(element: object) -> None:
        if isinstance(element, folium.elements.JSCSSMixin):
            element.default_js = _local(
                list(element.default_js), base
            )  # instance attrs shadow the class's
            element.default_css = _local(list(element.default_css), base)
        for child in getattr(element, "_children", {}).values():
            walk(child)

    walk(m)
    return m
