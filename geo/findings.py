"""One thing an officer should know about a shape: the type both the scope check and the drawing
checks report in, so a page or the CLI shows either the same way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True)
class Finding:
    """One thing an officer should know, worded for them, with the geometry it is about.

    ``severity`` is ``"error"`` (cannot go ahead as it is), ``"warning"`` (can, but probably
    should not) or ``"info"``. ``area_m2`` is how much of the shape is concerned, in m²;
    ``geometry`` the part to highlight on the map (EPSG:27700).
    """

    code: str
    severity: str
    message: str
    area_m2: float | None = None
    geometry: BaseGeometry | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain values for a table or JSON (area to the cm², geometry as WKT to the centimetre).

        >>> Finding("SLIVER", "warning", "thin", 0.123, shapely.Point(1.234, 5)).as_dict()
        ... # doctest: +NORMALIZE_WHITESPACE
        {'code': 'SLIVER', 'severity': 'warning', 'message': 'thin', 'area_m2': 0.12,
         'geometry_wkt': 'POINT (1.23 5)'}
        """
        out: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
        }
        if self.area_m2 is not None:
            out["area_m2"] = round(self.area_m2, 2)
        if self.geometry is not None and not self.geometry.is_empty:
            out["geometry_wkt"] = shapely.to_wkt(self.geometry, rounding_precision=2)
        return out
