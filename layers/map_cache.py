"""The Map page's layers, cached by what they show: the workspace's content and the filter.

A borough's year of calls takes seconds to read, filter, convert to WGS84 and render; a page rerun
(a widget moved, a map clicked) should not pay that again when nothing it shows has changed. Every
key here is made of values, never of object identity: the workspace's location and its
content version (:meth:`WorkspaceStore.content_version`, which every committed write
changes, whoever made it), and the filter
and drawing options as a frozen :class:`MapRequest`. So the same filter on the same content is a
lookup, and an edit by another officer, or another date window, is a new key and a fresh map.

The caches are per process, as Streamlit serves every user from one process; a key carries the
workspace's location and content, so one user's workspace never answers another's. What they hand
out is shared: callers treat the frames and tables as read-only and render a map from
:meth:`MapView.fresh_map` (st_folium renames the elements of the map it is given).
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, TypeVar

import folium
import pandas as pd

import geopandas as gpd

from closuremap.geo.errors import ClosuremapError
from closuremap.geo.hotspots import HotspotParams
from closuremap.geo.incidents import filter_incidents, incident_dates

from .analysis import count_overlays, count_tables, hotspot_overlays
from .documents import workspace_attribution
from .model import KINDS
from .store import GeoPackageStore
from .webmap import Overlay, TileSource, build_map

T = TypeVar("T")

#: The incident fields the Map page filters on, each with its choices.
FILTER_FIELDS = ("category", "source", "precision")


class ContentCache(Generic[T]):
    """The last ``max_entries`` values built, by key (least recently used goes first). Thread-safe;
    a value is built outside the lock, so a slow build never holds up a lookup."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[Hashable, T] = OrderedDict()
        self._lock = threading.Lock()
        self.builds = 0  # how many lookups missed: what a test counts

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        """The value for ``key``, built by ``build()`` if it is not here."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = build()
        with self._lock:
            self.builds += 1
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


@dataclass(frozen=True)
class IncidentFacts:
    """What the Map page's sidebar offers, from the workspace's incidents: the first and last
    dates, the choices for each filter field, and how many features each kind has."""

    first: date | None
    last: date | None
    options: Mapping[str, tuple[str, ...]]
    counts: Mapping[str, int]


@dataclass(frozen=True)
class MapRequest:
    """What the Map page was asked to show: the filter (``None``: no filter on that field) and how
    to draw. Frozen and made of values, so it is a cache key."""

    start: date | None = None
    end: date | None = None
    categories: tuple[str, ...] | None = None
    sources: tuple[str, ...] | None = None
    precisions: tuple[str, ...] | None = None
    mode: str = "auto"
    show_counts: bool = False
    hotspots: HotspotParams | None = None
    tiles: TileSource | None = None


@dataclass(frozen=True)
class MapView:
    """The Map page's content for one request on one version of the workspace."""

    map: folium.Map
    shown: int
    total: int
    blocks: pd.DataFrame
    areas: pd.DataFrame
    hot_note: str = ""
    hot_error: ClosuremapError | None = None
    key: tuple[Any, ...] = field(default=(), compare=False)

    def fresh_map(self) -> folium.Map:
        """A copy of the map to hand to st_folium, which renames the elements it renders (the
        page data inside are shared strings, so this is cheap)."""
        return copy.deepcopy(self.map)


_FRAMES: ContentCache[dict[str, gpd.GeoDataFrame]] = ContentCache(2)
_FACTS: ContentCache[IncidentFacts] = ContentCache(8)
_VIEWS: ContentCache[MapView] = ContentCache(8)


def workspace_frames(
    store: GeoPackageStore, fingerprint: str | None = None
) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of the workspace, read once per content (shared: do not modify)."""
    fp = fingerprint or store.content_version()
    return _FRAMES.get((store.location, fp), lambda: {k: store.read(k) for k in KINDS})


def incident_facts(store: GeoPackageStore, fingerprint: str | None = None) -> IncidentFacts:
    """The sidebar's dates, choices and counts, worked out once per content."""
    fp = fingerprint or store.content_version()

    def build() -> IncidentFacts:
        frames = workspace_frames(store, fp)
        incidents = frames["incidents"]
        dates = incident_dates(incidents).dropna()
        return IncidentFacts(
            first=dates.min().date() if len(dates) else None,
            last=dates.max().date() if len(dates) else None,
            options={
                c: tuple(sorted(incidents[c].fillna("(none)").unique())) for c in FILTER_FIELDS
            },
            counts={kind: len(frame) for kind, frame in frames.items()},
        )

    return _FACTS.get((store.location, fp), build)


def map_view(store: GeoPackageStore, request: MapRequest) -> MapView:
    """The map, counts and tables for ``request`` on the workspace as it is now: built once per
    (content, request), then a lookup."""
    fp = store.content_version()  # before reading: a write after it makes a new key
    key = (store.location, fp, request)
    return _VIEWS.get(key, lambda: _build_view(store, fp, request, key))


def _build_view(
    store: GeoPackageStore, fp: str, request: MapRequest, key: tuple[Any, ...]
) -> MapView:
    frames = dict(workspace_frames(store, fp))
    incidents = frames["incidents"]
    shown = filter_incidents(
        incidents,
        start=request.start,
        end=request.end,
        categories=request.categories,
        sources=request.sources,
        precisions=request.precisions,
    )
    frames["incidents"] = shown
    overlays: list[Overlay] = []
    if request.show_counts:
        overlays += count_overlays(frames["premises"], frames["communal_areas"], shown)
    hot_note, hot_error = "", None
    if request.hotspots is not None:
        try:
            more, hot_note = hotspot_overlays(shown, request.hotspots)
            overlays += more
        except ClosuremapError as exc:  # the map is still worth showing without the hot spots
            hot_error = exc
    m = build_map(
        frames,
        attribution=workspace_attribution(store, short=True),
        tiles=request.tiles,
        incident_mode=request.mode,
        overlays=overlays,
    )
    blocks, areas = count_tables(frames["premises"], frames["communal_areas"], shown)
    return MapView(m, len(shown), len(incidents), blocks, areas, hot_note, hot_error, key)


def clear() -> None:
    """Forget everything cached (tests)."""
    for cache in (_FRAMES, _FACTS, _VIEWS):
        cache.clear()
