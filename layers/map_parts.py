"""Leaflet pieces every web map has: the data attributions, the National Grid reference readout,
the legend, and filled shapes with a popup each. Every string that reaches the page is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import folium
import numpy as np
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template


def plain_text(value: Any) -> str:
    """A cell as text for a popup: blanks (None, NA, NaN) as an empty string."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def page_escape(text: str) -> str:
    """Text for the page: HTML-escaped, and braces as character references. branca reads every
    rendered script back in as a Jinja template, so ``{{ ... }}`` typed by a member of the public
    would otherwise be run as template code (and ``{#`` would swallow the rest of the map)."""
    return html.escape(text).replace("{", "&#123;").replace("}", "&#125;")


def filled_geojson(
    features: list[dict[str, Any]], name: str, *, edge: str, weight: float, opacity: float
) -> folium.GeoJson:
    """Polygons filled by each feature's ``fill`` property, with its ``popup`` (escaped HTML)."""
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=name,
        style_function=lambda f: {
            "color": edge,
            "weight": weight,
            "fillColor": f["properties"]["fill"],
            "fillOpacity": opacity,
        },
        popup=folium.GeoJsonPopup(fields=["popup"], labels=False, localize=False),
    )


class Attribution(MacroElement):  # type: ignore[misc]
    """Data attributions in Leaflet's attribution control (no tile layer brings its own)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.setPrefix('Leaflet');
        {% for a in this.items %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ a|tojson }});
        {% endfor %}{% endmacro %}"""
    )

    def __init__(self, items: Sequence[str]) -> None:
        super().__init__()
        self._name = "Attribution"
        self.items = [page_escape(a) for a in items]


_GRIDREF_JS = """
// OSGB36 National Grid reference of a WGS84 point, for the measure tool's point popups. A
// 7-parameter Helmert shift (OS guide, accurate to a few metres) and the OS transverse Mercator;
// the exact OSTN15 reference of a clicked point is given under the map.
function cmGridRef(lat, lon) {
  var rad = Math.PI / 180;
  function toCart(phi, lam, a, b) {
    var e2 = 1 - (b * b) / (a * a), s = Math.sin(phi), nu = a / Math.sqrt(1 - e2 * s * s);
    return [nu * Math.cos(phi) * Math.cos(lam), nu * Math.cos(phi) * Math.sin(lam),
        (1 - e2) * nu * s];
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
  var F0 = 0.9996012717, phi0 = 49 * rad, lam0 = -2 * rad, N0 = -100000, E0 = 400000,
      n = (a - b) / (a + b);
  var sinP = Math.sin(phi), cosP = Math.cos(phi), tanP = Math.tan(phi);
  var nu = a * F0 / Math.sqrt(1 - e2 * sinP * sinP),
      rho = a * F0 * (1 - e2) / Math.pow(1 - e2 * sinP * sinP, 1.5);
  var eta2 = nu / rho - 1;
  var Ma = (1 + n + 5 / 4 * n * n + 5 / 4 * n * n * n) * (phi - phi0);
  var Mb = (3 * n + 3 * n * n + 21 / 8 * n * n * n) * Math.sin(phi - phi0) * Math.cos(phi + phi0);
  var Mc = (15 / 8 * n * n + 15 / 8 * n * n * n) * Math.sin(2 * (phi - phi0)) *
    Math.cos(2 * (phi + phi0));
  var Md = 35 / 24 * n * n * n * Math.sin(3 * (phi - phi0)) * Math.cos(3 * (phi + phi0));
  var M = b * F0 * (Ma - Mb + Mc - Md);
  var I = M + N0, II = nu / 2 * sinP * cosP,
      III = nu / 24 * sinP * Math.pow(cosP, 3) * (5 - tanP * tanP + 9 * eta2);
  var IIIA = nu / 720 * sinP * Math.pow(cosP, 5) * (61 - 58 * tanP * tanP + Math.pow(tanP, 4));
  var IV = nu * cosP, V = nu / 6 * Math.pow(cosP, 3) * (nu / rho - tanP * tanP);
  var VI = nu / 120 * Math.pow(cosP, 5) *
    (5 - 18 * tanP * tanP + Math.pow(tanP, 4) + 14 * eta2 - 58 * tanP * tanP * eta2);
  var dL = lam - lam0;
  var N = I + II * dL * dL + III * Math.pow(dL, 4) + IIIA * Math.pow(dL, 6);
  var E = E0 + IV * dL + V * Math.pow(dL, 3) + VI * Math.pow(dL, 5);
  var e100k = Math.floor(E / 100000), n100k = Math.floor(N / 100000);
  if (e100k < 0 || e100k > 6 || n100k < 0 || n100k > 12) { return null; }
  var l1 = (19 - n100k) - (19 - n100k) % 5 + Math.floor((e100k + 10) / 5);
  var l2 = (19 - n100k) * 5 % 25 + e100k % 5;
  if (l1 > 7) { l1++; } if (l2 > 7) { l2++; }
  var letters = String.fromCharCode(l1 + 65, l2 + 65);
  function pad(v) {
    var s = String(Math.floor((v % 100000) / 10));
    while (s.length < 4) { s = '0' + s; }
    return s;
  }
  return {ref: letters + ' ' + pad(E) + ' ' + pad(N), easting: E, northing: N};
}
"""


class GridRefReadout(MacroElement):  # type: ignore[misc]
    """The measure tool's point popup gives degrees; this adds the National Grid reference beside
    them (approximate, by a Helmert shift: the page gives the exact OSTN15 one of a clicked
    point)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        """
        + _GRIDREF_JS
        + """
        {{ this._parent.get_name() }}.on('popupopen', function (e) {
            var el = e.popup.getElement();
            if (!el || !el.querySelector('.coorddivider') || el.querySelector('.cm-gridref')) {
                return;
            }
            var at = e.popup.getLatLng(), g = cmGridRef(at.lat, at.lng);
            if (!g) { return; }
            var p = document.createElement('p');
            p.className = 'cm-gridref';
            p.textContent = 'Grid ref ≈ ' + g.ref + ' (E ' + g.easting.toFixed(0) +
                            ' N ' + g.northing.toFixed(0) +
                            '; ±5 m, exact: click the map)';
            // after the popup's own text (update() would redraw it away)
            el.querySelector('.coorddivider').parentNode.after(p);
        });
        {% endmacro %}"""
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "GridRefReadout"


class Legend(MacroElement):  # type: ignore[misc]
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
            f"<div><i style='background:{page_escape(fill)};border-color:{page_escape(edge)}'></i>"
            f"{page_escape(what)}</div>"
            for what, fill, edge in rows
        )
        self.html = (
            f"<details open><summary><b>Legend</b></summary>{items}</details>" if rows else ""
        )
