"""Many incidents as one compact array, counted into screen cells in the browser at each zoom.

Leaflet.markercluster builds a marker object for every point and a distance grid for every zoom
level before the map can be used: 100,000 calls kept Chromium busy for over ten seconds. Here the
page carries the points once, as integer offsets in one JSON object (a metre's precision, about 11
bytes a point), and on each move counts only the points near the view into square cells of
``cell_px`` screen pixels: a cell of several is drawn as one numbered circle (click: zoom to its
points; at the deepest zoom, their popups listed), a cell of one as a dot. Popups are escaped HTML
strings kept in an array and put into a popup only when a point is clicked.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
from branca.element import Element, MacroElement
from jinja2 import Template
from jinja2.utils import htmlsafe_json_dumps
from numpy.typing import ArrayLike

#: Integer steps per degree: 1e5 is about a metre (what the clusters showed before); with popups,
#: 1e6 (10 cm), since a few thousand points cost little either way.
COARSE_SCALE = 100_000
FINE_SCALE = 1_000_000

_CSS = """<style>
.cm-cluster{border-radius:50%;text-align:center;font:600 11px/30px sans-serif;color:#222;
  box-shadow:0 0 0 5px rgba(0,0,0,.08)}
.cm-cluster span{display:block;width:30px;height:30px;margin:5px;border-radius:50%}
.cm-cluster-s{background:rgba(181,226,140,.6)} .cm-cluster-s span{background:rgba(110,204,57,.7)}
.cm-cluster-m{background:rgba(241,211,87,.6)} .cm-cluster-m span{background:rgba(240,194,12,.7)}
.cm-cluster-l{background:rgba(253,156,115,.6)} .cm-cluster-l span{background:rgba(241,128,23,.7)}
</style>"""

_JS = """
var {{ this.get_name() }} = (function () {
  var d = {{ this.data_json }};
  var n = d.lat.length, lat = new Float64Array(n), lon = new Float64Array(n);
  var px = new Float64Array(n), py = new Float64Array(n), i;
  for (i = 0; i < n; i++) {  // degrees, and Web Mercator pixels at zoom 0 (as Leaflet projects)
    lat[i] = (d.lat0 + d.lat[i]) / d.scale;
    lon[i] = (d.lon0 + d.lon[i]) / d.scale;
    var s = Math.sin(lat[i] * Math.PI / 180);
    px[i] = (lon[i] / 360 + 0.5) * 256;
    py[i] = (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * 256;
  }
  var popups = d.popups, dot = {{ this.dot|tojson }}, cellPx = {{ this.cell_px|tojson }};
  var listed = 20;

  function popupOf(members, count) {
    if (!popups) { return '<b>' + count.toLocaleString() + '</b> incidents here'; }
    var parts = members.slice(0, listed).map(function (k) { return popups[k]; });
    if (count > parts.length) {
      parts.push('and ' + (count - parts.length).toLocaleString() + ' more');
    }
    return parts.join('<hr>');
  }

  var Layer = L.Layer.extend({
    onAdd: function (map) {
      this._items = L.layerGroup().addTo(map);
      this._renderer = L.canvas({padding: 0.25});
      map.on('moveend', this._redraw, this);
      this._pending = L.Util.requestAnimFrame(this._redraw, this);
    },
    onRemove: function (map) {
      L.Util.cancelAnimFrame(this._pending);
      map.off('moveend', this._redraw, this);
      map.removeLayer(this._items);
    },
    _redraw: function () {
      L.Util.cancelAnimFrame(this._pending);
      var map = this._map;
      if (!map) { return; }
      var z = map.getZoom(), scale = Math.pow(2, z), deepest = z >= map.getMaxZoom();
      var b = map.getPixelBounds(), w = b.max.x - b.min.x, h = b.max.y - b.min.y;
      var x0 = b.min.x - w / 4, x1 = b.max.x + w / 4, y0 = b.min.y - h / 4, y1 = b.max.y + h / 4;
      var cells = new Map(), c, x, y, key;
      for (i = 0; i < n; i++) {
        x = px[i] * scale;
        if (x < x0 || x > x1) { continue; }
        y = py[i] * scale;
        if (y < y0 || y > y1) { continue; }
        key = Math.floor(x / cellPx) * 1e8 + Math.floor(y / cellPx);
        c = cells.get(key);
        if (!c) {
          cells.set(key, {n: 1, sx: x, sy: y, x0: x, x1: x, y0: y, y1: y, members: [i]});
          continue;
        }
        c.n++; c.sx += x; c.sy += y;
        if (x < c.x0) { c.x0 = x; } if (x > c.x1) { c.x1 = x; }
        if (y < c.y0) { c.y0 = y; } if (y > c.y1) { c.y1 = y; }
        if (c.members.length < listed) { c.members.push(i); }
      }
      this._items.clearLayers();
      var items = this._items, renderer = this._renderer;
      cells.forEach(function (c) {
        if (c.n === 1) {
          var k = c.members[0];
          var p = L.circleMarker([lat[k], lon[k]], L.extend({renderer: renderer}, dot));
          if (popups) { p.on('click', function () { p.bindPopup(popups[k]).openPopup(); }); }
          items.addLayer(p);
          return;
        }
        var at = map.unproject([c.sx / c.n, c.sy / c.n], z);
        var size = c.n < 10 ? 's' : c.n < 100 ? 'm' : 'l';
        var m = L.marker(at, {icon: L.divIcon({
          html: '<span>' + c.n + '</span>', className: 'cm-cluster cm-cluster-' + size,
          iconSize: [40, 40]})});
        m.on('click', function () {
          var sw = map.unproject([c.x0, c.y1], z), ne = map.unproject([c.x1, c.y0], z);
          if (deepest) {  // points that share a spot: list them, as markercluster spiders them
            m.bindPopup(popupOf(c.members, c.n), {maxHeight: 300}).openPopup();
          } else {
            map.fitBounds(L.latLngBounds(sw, ne), {padding: [20, 20]});
          }
        });
        items.addLayer(m);
      });
    }
  });
  return new Layer().addTo({{ this._parent.get_name() }});
})();
"""


class _Verbatim(Element):  # type: ignore[misc]
    """Rendered text put into the page as it is. branca wraps what a MacroElement renders in an
    Element, which compiles it as a Jinja template: for a megabyte of numbers that took longer than
    drawing them, and every st_folium call renders the map twice."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: object) -> str:
        return self._text


class PageData(MacroElement):  # type: ignore[misc]
    """A MacroElement whose header and script go into the page verbatim (see :class:`_Verbatim`)."""

    def render(self, **kwargs: object) -> None:
        figure = self.get_root()
        module = self._template.module.__dict__
        for part in ("header", "script"):
            if part in module:
                getattr(figure, part).add_child(
                    _Verbatim(module[part](self, kwargs)), name=self.get_name()
                )
        for child in self._children.values():
            child.render(**kwargs)


class IncidentPoints(PageData):
    """Points counted into ``cell_px`` screen cells in the browser, with popups opened on click
    (branca puts the ``header`` macro, the cluster styles, in the page's head).

    ``popups`` (escaped HTML, one per point) is optional: without it a dot has no popup and a cell
    at the deepest zoom says how many incidents it holds.
    """

    _template = Template(
        "{% macro header(this, kwargs) %}"
        + _CSS
        + "{% endmacro %}{% macro script(this, kwargs) %}"
        + _JS
        + "{% endmacro %}"
    )

    def __init__(
        self,
        lat: ArrayLike,
        lon: ArrayLike,
        popups: Sequence[str] | None = None,
        *,
        cell_px: int = 60,
        dot: dict[str, object] | None = None,
    ) -> None:
        super().__init__()
        self._name = "IncidentPoints"
        scale = FINE_SCALE if popups is not None else COARSE_SCALE
        # branca reads each rendered script back in as a Jinja template: braces typed by the
        # public ("{{ ... }}") must reach it as character references, never as template syntax
        texts = None if popups is None else [no_braces(p) for p in popups]
        self.data_json = htmlsafe_json_dumps(
            compact_points(lat, lon, scale) | {"popups": texts}, dumps=compact_json
        )
        self.cell_px = cell_px
        self.dot = dot or {
            "radius": 4,
            "color": "#8a0000",
            "fillColor": "#e34a33",
            "fillOpacity": 0.7,
            "weight": 1,
        }


def compact_points(lat: ArrayLike, lon: ArrayLike, scale: int) -> dict[str, object]:
    """Latitudes and longitudes as integer steps of ``1/scale`` degree above the smallest: short
    numbers that JSON writes and a browser reads quickly, decoded exactly by ``(lat0 + lat) /
    scale``."""
    qlat = np.round(np.asarray(lat, dtype=float) * scale).astype(np.int64)
    qlon = np.round(np.asarray(lon, dtype=float) * scale).astype(np.int64)
    lat0 = int(qlat.min()) if len(qlat) else 0
    lon0 = int(qlon.min()) if len(qlon) else 0
    return {
        "scale": scale,
        "lat0": lat0,
        "lon0": lon0,
        "lat": (qlat - lat0).tolist(),
        "lon": (qlon - lon0).tolist(),
    }


def no_braces(text: str) -> str:
    """Braces as character references (see :func:`.map_parts.page_escape`)."""
    return text.replace("{", "&#123;").replace("}", "&#125;")


def compact_json(obj: object, **kwargs: object) -> str:
    """JSON with no spaces (for ``htmlsafe_json_dumps``): a page of numbers is mostly separators."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
