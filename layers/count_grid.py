"""A grid of incident counts as one compact array, drawn on a canvas only when it is switched on.

As a folium GeoJson layer, 5,000 squares with their popups were 1.7 MB of a 100k-incident page and
the browser built and styled every polygon while the page opened, even with the layer hidden.
Here each square is its four corners (integer steps of 1e-5 degree, about a metre), its count, a
colour number and its commonest categories (escaped text); the squares are made into canvas
polygons the first time the layer is shown, and a popup's text is put together when clicked.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from jinja2 import Template
from jinja2.utils import htmlsafe_json_dumps
from numpy.typing import NDArray

from .incident_points import COARSE_SCALE, PageData, compact_json, no_braces

_JS = """
var {{ this.get_name() }} = (function () {
  var d = {{ this.data_json }};
  function thousands(v) { return String(v).replace(/\\B(?=(\\d{3})+(?!\\d))/g, ','); }
  var Layer = L.Layer.extend({
    onAdd: function (map) {
      if (!this._group) {
        var renderer = L.canvas({padding: 0.25}), group = L.featureGroup(), k = 1 / d.scale;
        for (var i = 0; i < d.count.length; i++) {
          var c = d.corners.slice(8 * i, 8 * i + 8), ring = [];
          for (var j = 0; j < 8; j += 2) {
            ring.push([(d.lat0 + c[j + 1]) * k, (d.lon0 + c[j]) * k]);
          }
          var square = L.polygon(ring, {renderer: renderer, color: d.edge, weight: d.weight,
            fillColor: d.fills[d.fill[i]], fillOpacity: d.opacity});
          square.bindPopup((function (n, words) {
            return function () {
              return '<b>' + thousands(n) + '</b> in this ' + d.cell + ' m square<br>' + words;
            };
          })(d.count[i], d.words[i]));
          group.addLayer(square);
        }
        this._group = group;
      }
      this._group.addTo(map);
    },
    onRemove: function (map) { map.removeLayer(this._group); }
  });
  return new Layer().addTo({{ this._parent.get_name() }});
})();
"""


class CountGrid(PageData):
    """Squares filled by a colour band, each with a popup of its count and the commonest categories
    (``words``, escaped HTML). ``corners``: each square's four (longitude, latitude) corners."""

    _template = Template("{% macro script(this, kwargs) %}" + _JS + "{% endmacro %}")

    def __init__(
        self,
        corners: NDArray[np.float64],
        counts: Sequence[int],
        words: Sequence[str],
        bands: Sequence[int],
        *,
        cell_m: float,
        fills: Sequence[str],
        edge: str = "#7f2704",
        weight: float = 0.3,
        opacity: float = 0.65,
    ) -> None:
        super().__init__()
        self._name = "CountGrid"
        q = np.round(np.asarray(corners, dtype=float) * COARSE_SCALE).astype(np.int64)
        lon0 = int(q[..., 0].min()) if len(q) else 0
        lat0 = int(q[..., 1].min()) if len(q) else 0
        q[..., 0] -= lon0
        q[..., 1] -= lat0
        self.data_json = htmlsafe_json_dumps(
            {
                "scale": COARSE_SCALE,
                "lat0": lat0,
                "lon0": lon0,
                "corners": q.ravel().tolist(),
                "count": [int(c) for c in counts],
                "fill": [int(b) for b in bands],
                "words": [no_braces(w) for w in words],
                "fills": list(fills),
                "cell": f"{cell_m:.0f}",
                "edge": edge,
                "weight": weight,
                "opacity": opacity,
            },
            dumps=compact_json,
        )
