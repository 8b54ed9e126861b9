"""Map labels that never hide each other or the red edge: greedy placement with leader lines and a
numbered key.

A magistrate must be able to read every name on an exhibit and see the whole scope edge. Labels are
placed one at a time, most important first. Each tries a list of candidate positions (inside its
block, around its door or communal area, then further out on a leader line) and takes the first
whose box, measured in display units, overlaps no label, leader, door symbol, scale bar or north
point, stays inside the map frame, and keeps clear of the scope edge by its own line width. A label
that fits nowhere becomes a number on the map and a line in the key ("1 Stairwell A, E 531 850
N 179 120"), so nothing required is dropped.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.text import Text

import shapely
from shapely.geometry.base import BaseGeometry

from .mapsheet import MM_PER_INCH, SCOPE_WIDTH_PT, plain

#: Text styles of each kind of label (size in points).
STYLES = {
    "block": {"fontsize": 6.5, "color": "#1f3a93", "weight": "bold"},
    "communal": {"fontsize": 4.6, "color": "#6b3300", "weight": "normal"},
    "door": {"fontsize": 4.6, "color": "#1f3a93", "weight": "normal"},
    "number": {"fontsize": 4.6, "color": "black", "weight": "bold"},
}
HALO = {"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 0.6}
HALO_PT = (
    HALO["pad"] + 0.4
)  # the halo's pad (points) and a little for font rounding between backends
DIRECTIONS = ((1, 1), (1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1), (0, 1))
#: map units to display units (or back), for an (n, 2) array of points
Transform = Callable[[Any], np.ndarray]
GRID = np.array([0.5, 0.3, 0.7, 0.15, 0.85])  # fractions of an area's bounds tried for a label
REACHES_PT = (10.0, 18.0, 28.0)  # leader lengths tried, 16 directions each


@dataclass
class LabelSpec:
    """One thing to name: its words, where it is (map units) and, for an area, its shape."""

    text: str
    anchor: tuple[float, float]
    kind: str  # block | communal | door
    shape: BaseGeometry | None = None
    required: bool = True  # False: drop quietly when it cannot fit (context, not evidence)


@dataclass
class Placed:
    """Where a label went: ``how`` is label, leader, key (a number on the map) or skipped."""

    text: str
    kind: str
    how: str
    box_px: tuple[float, float, float, float] | None = None  # display units, halo included
    number: int | None = None
    anchor: tuple[float, float] = (0.0, 0.0)


@dataclass
class Placement:
    """Everything placed on one map, and the key lines for what went by number."""

    placed: list[Placed] = field(default_factory=list)
    dpi: float = 72.0

    @property
    def key(self) -> list[Placed]:
        return [p for p in self.placed if p.how == "key"]

    def boxes_mm(self) -> list[tuple[str, tuple[float, float, float, float]]]:
        """Each drawn label's box in mm from the page's bottom-left corner (for tests and
        checks)."""
        k = MM_PER_INCH / self.dpi
        return [
            (p.text, tuple(v * k for v in p.box_px)) for p in self.placed if p.box_px is not None
        ]


class _Board:
    """What is already on the map, in display units: boxes and lines a new label must not touch.

    Each shape's bounding box is kept in an array, so a candidate is tested exactly only against
    the few shapes whose boxes meet its own (the overview of a large estate holds a thousand)."""

    def __init__(self, ax: Axes, edge: BaseGeometry, clear_px: float) -> None:
        bb = ax.get_window_extent()
        inset = 2.0
        self.frame = shapely.box(bb.x0 + inset, bb.y0 + inset, bb.x1 - inset, bb.y1 - inset)
        self.edge = edge.buffer(clear_px) if not edge.is_empty else edge
        shapely.prepare(self.edge)
        self._frame_bounds = np.asarray(self.frame.bounds)
        self.taken: list[BaseGeometry] = []
        self._bounds = np.empty((64, 4))
        self._is_box = np.empty(64, dtype=bool)  # the shape is its own bounding box
        self._shapes = np.empty(64, dtype=object)
        self.sizes = TextSizes()

    def take(self, shapes: Iterable[BaseGeometry]) -> None:
        """Mark shapes as taken: no later label or leader may touch them."""
        for shape in shapes:
            n = len(self.taken)
            if n == len(self._bounds):
                self._bounds = np.concatenate([self._bounds, np.empty_like(self._bounds)])
                self._is_box = np.concatenate([self._is_box, np.empty_like(self._is_box)])
                self._shapes = np.concatenate([self._shapes, np.empty_like(self._shapes)])
            x0, y0, x1, y1 = self._bounds[n] = shape.bounds
            self._is_box[n] = (
                shape.geom_type == "Polygon"
                and shapely.get_num_coordinates(shape) == 5
                and abs(shape.area - (x1 - x0) * (y1 - y0)) <= 1e-9 * max(shape.area, 1.0)
            )
            self._shapes[n] = shape
            self.taken.append(shape)

    def free_boxes(self, bounds: np.ndarray) -> np.ndarray:
        """Which of the label boxes ``bounds`` ((n, 4): x0, y0, x1, y1) are free, as indices in
        their order: inside the frame, off the red edge, touching nothing taken.

        Every box is tested at once, cheapest test first: the frame and what is taken that is
        itself a box (labels, door symbols, the scale bar) by their bounds alone, which for two
        boxes is exact; only the survivors are tested against the red edge, and against a leader
        whose bounds they meet."""
        x0, y0, x1, y1 = (bounds[:, k : k + 1] for k in range(4))
        f = self._frame_bounds
        ok = (x0 >= f[0]) & (y0 >= f[1]) & (x1 <= f[2]) & (y1 <= f[3])
        n = len(self.taken)
        b = self._bounds[:n]
        meets = (b[:, 0] <= x1) & (b[:, 2] >= x0) & (b[:, 1] <= y1) & (b[:, 3] >= y0)
        ok = ok[:, 0] & ~(meets & self._is_box[:n]).any(axis=1)
        idx = np.flatnonzero(ok)
        if not len(idx):
            return idx
        boxes = shapely.box(*bounds[idx].T)
        if not self.edge.is_empty:
            keep = ~shapely.intersects(self.edge, boxes)
            idx, boxes = idx[keep], boxes[keep]
        rows, cols = np.nonzero(meets[idx] & ~self._is_box[:n])
        if len(rows):
            hit = shapely.intersects(boxes[rows], self._shapes[:n][cols])
            idx = np.delete(idx, np.unique(rows[hit]))
        return idx

    def touches_taken(self, shape: BaseGeometry) -> bool:
        x0, y0, x1, y1 = shape.bounds
        b = self._bounds[: len(self.taken)]
        near = np.flatnonzero((b[:, 0] <= x1) & (b[:, 2] >= x0) & (b[:, 1] <= y1) & (b[:, 3] >= y0))
        return any(shape.intersects(self.taken[i]) for i in near)

    def free_line(self, line: BaseGeometry) -> bool:
        """A leader may pass under the red edge (it is drawn beneath it) but not over a label."""
        return self.frame.contains(line) and not self.touches_taken(line)


def _edge_px(ax: Axes, scope: BaseGeometry | None, margin_px: float = 0.0) -> BaseGeometry:
    """The scope boundary in display units (the red line a label must keep clear of), cut to
    the frame and ``margin_px`` around it: labels stay inside the frame, so the edge elsewhere
    (the rest of a large estate's scope, on an atlas sheet) cannot touch one."""
    if scope is None or scope.is_empty:
        return shapely.GeometryCollection()
    boundary = shapely.transform(scope.boundary, lambda xy: ax.transData.transform(xy))
    bb = ax.get_window_extent()
    m = margin_px
    return shapely.clip_by_rect(boundary, bb.x0 - m, bb.y0 - m, bb.x1 + m, bb.y1 + m)


class TextSizes:
    """Width and height (display units) of each label's ink box, measured once with the renderer
    that draws it and kept: an atlas names the same blocks, areas and doors on many sheets.

    Keep one for sheets of one dpi and one set of fonts (one document)."""

    def __init__(self) -> None:
        self._sizes: dict[tuple[str, str, float], tuple[float, float]] = {}

    def __call__(self, ax: Axes, text: str, kind: str) -> tuple[float, float]:
        key = (text, kind, float(ax.figure.dpi))
        if key not in self._sizes:
            t = ax.text(0, 0, plain(text), ha="left", va="bottom", **STYLES[kind])
            bb = t.get_window_extent(ax.figure.canvas.get_renderer())
            t.remove()
            # the PDF backend sets type up to ~2% wider than Agg measures it
            self._sizes[key] = (bb.width * 1.04, bb.height)
        return self._sizes[key]


def _interior_points(shape: BaseGeometry, view: BaseGeometry) -> np.ndarray:
    """Points inside an area, best first: the centre of its largest inscribed circle, its
    representative point, then a grid over it (so a label can dodge the red edge); (n, 2)."""
    part = shape.intersection(view)
    if part.is_empty:
        return np.empty((0, 2))
    first = [
        shapely.maximum_inscribed_circle(part).coords[0],
        part.representative_point().coords[0],
    ]
    minx, miny, maxx, maxy = part.bounds
    xs = minx + (maxx - minx) * np.tile(GRID, len(GRID))  # row by row, as listed
    ys = miny + (maxy - miny) * np.repeat(GRID, len(GRID))
    inside = shapely.contains_xy(part, xs, ys)
    return np.concatenate([np.asarray(first)[:, :2], np.column_stack([xs, ys])[inside]])


def _candidates(
    spec: LabelSpec, to_px: Transform, view: BaseGeometry, w: float, h: float, pt: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre x, centre y and needs-a-leader of each candidate, in display units, in the order
    they are tried: inside a block; else on a communal area, in eight directions around the
    feature (nearest first), then further out on a leader in sixteen."""
    if spec.kind == "block" and spec.shape is not None:
        xy = to_px(_interior_points(spec.shape, view)).reshape(-1, 2)
        return xy[:, 0], xy[:, 1], np.zeros(len(xy), dtype=bool)
    ax_, ay_ = to_px(np.asarray([spec.anchor]))[0]
    near = 3.5 * pt  # clear of a door symbol (radius about 2.3 pt)
    d = np.asarray(DIRECTIONS, dtype=float)
    angle = np.tile(np.arange(16) * (np.pi * 2 / 16), len(REACHES_PT))
    reach = np.repeat(np.asarray(REACHES_PT) * pt, 16)
    on = [ax_], [ay_]
    xs = np.concatenate(
        [
            on[0] if spec.kind == "communal" else [],
            ax_ + d[:, 0] * (w / 2 + near),
            ax_ + np.cos(angle) * (w / 2 + reach),
        ]
    )
    ys = np.concatenate(
        [
            on[1] if spec.kind == "communal" else [],
            ay_ + d[:, 1] * (h / 2 + near),
            ay_ + np.sin(angle) * (h / 2 + reach),
        ]
    )
    leads = np.arange(len(xs)) >= len(xs) - len(angle)
    return xs, ys, leads


def _leader(ax_: float, ay_: float, box: np.ndarray, pt: float) -> shapely.LineString:
    """The leader from just off the feature to the nearest point of the label's box (bounds)."""
    ex, ey = min(max(ax_, box[0]), box[2]), min(max(ay_, box[1]), box[3])
    length = math.hypot(ex - ax_, ey - ay_)
    if length > 5 * pt:
        k = 3.5 * pt / length
        return shapely.LineString([(ax_ + (ex - ax_) * k, ay_ + (ey - ay_) * k), (ex, ey)])
    return shapely.LineString([(ax_, ay_), (ex, ey)])


def _display(ax: Axes) -> Transform:
    """Map units to display units for ``ax`` as one matrix product (its transform is affine on
    a map), not a walk of matplotlib's transform tree a point at a time."""
    if not ax.transData.is_affine:
        return ax.transData.transform
    m = ax.transData.get_affine().get_matrix()
    return lambda xy: np.asarray(xy, dtype=float) @ m[:2, :2].T + m[:2, 2]


def _try_place(
    spec: LabelSpec,
    to_px: Transform,
    board: _Board,
    view: BaseGeometry,
    pt: float,
    size: tuple[float, float],
) -> tuple[BaseGeometry, tuple[float, float], BaseGeometry | None] | None:
    """The first free candidate: its box, centre and leader line (or None if none is free)."""
    w, h = size
    pad = HALO_PT * pt
    cx, cy, leads = _candidates(spec, to_px, view, w, h, pt)
    if not len(cx):
        return None
    bounds = np.column_stack(
        [cx - w / 2 - pad, cy - h / 2 - pad, cx + w / 2 + pad, cy + h / 2 + pad]
    )
    ax_, ay_ = to_px(np.asarray([spec.anchor]))[0]
    for i in board.free_boxes(bounds):
        leader = _leader(ax_, ay_, bounds[i], pt) if leads[i] else None
        if leader is not None and not board.free_line(leader):
            continue
        return shapely.box(*bounds[i]), (float(cx[i]), float(cy[i])), leader
    return None


def place_labels(
    ax: Axes,
    specs: Sequence[LabelSpec],
    *,
    scope: BaseGeometry | None,
    obstacles: Sequence[BaseGeometry] = (),
    sizes: TextSizes | None = None,
) -> Placement:
    """Draw ``specs`` on ``ax`` in order without overlap; return where each went.

    ``obstacles`` are display-unit shapes already on the map (door symbols, scale bar, north point).
    A required label that fits nowhere is drawn as a number and listed in the placement's key.
    ``sizes`` keeps text measurements between the sheets of one document.
    """
    fig = ax.figure
    ax.apply_aspect()
    pt = fig.dpi / 72.0
    clear_px = (SCOPE_WIDTH_PT / 2 + 0.5) * pt
    board = _Board(ax, _edge_px(ax, scope, margin_px=4 * clear_px), clear_px=clear_px)
    board.sizes = sizes or TextSizes()
    board.take(obstacles)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    view = shapely.box(x0, y0, x1, y1)
    out = Placement(dpi=fig.dpi)
    to_data = ax.transData.inverted().transform
    leaders: list[np.ndarray] = []
    to_px = _display(ax)
    for spec in specs:
        size = board.sizes(ax, spec.text, spec.kind)
        found = _try_place(spec, to_px, board, view, pt, size)
        if found is not None:
            box, centre, leader = found
            _draw(ax, spec.text, spec.kind, to_data(centre), leader, to_data, leaders)
            board.take([box] if leader is None else [box, leader.buffer(0.5 * pt)])
            out.placed.append(
                Placed(
                    spec.text,
                    spec.kind,
                    "leader" if leader is not None else "label",
                    box.bounds,
                    anchor=spec.anchor,
                )
            )
        elif spec.required:
            n = len(out.key) + 1
            out.placed.append(_by_number(ax, spec, board, (view, pt, n), to_px, to_data, leaders))
        else:
            out.placed.append(Placed(spec.text, spec.kind, "skipped", anchor=spec.anchor))
    _draw_leaders(ax, leaders)
    return out


def _draw_leaders(ax: Axes, leaders: list[np.ndarray]) -> None:
    """Every leader of a map as one collection, beneath the scope edge (zorder 8), so a leader
    never hides the red line."""
    if leaders:
        ax.add_collection(
            LineCollection(leaders, colors="#555555", linewidths=0.4, zorder=7, capstyle="butt"),
            autolim=False,
        )


def _by_number(
    ax: Axes,
    spec: LabelSpec,
    board: _Board,
    where: tuple[BaseGeometry, float, int],
    to_px: Transform,
    to_data: Transform,
    leaders: list[np.ndarray],
) -> Placed:
    """A number beside the feature (if even that has no room, the key's grid reference places
    it). ``where``: the view, display units a point and the number."""
    view, pt, n = where
    number_spec = LabelSpec(str(n), spec.anchor, "door")
    size = board.sizes(ax, str(n), "number")
    found = _try_place(number_spec, to_px, board, view, pt, size)
    box = None
    if found is not None:
        box, centre, leader = found
        _draw(ax, str(n), "number", to_data(centre), leader, to_data, leaders)
        board.take([box] if leader is None else [box, leader.buffer(0.5 * pt)])
    return Placed(
        spec.text, spec.kind, "key", box.bounds if box is not None else None, n, spec.anchor
    )


def _draw(
    ax: Axes,
    text: str,
    kind: str,
    centre,
    leader: BaseGeometry | None,  # noqa: ANN001
    to_data,
    leaders: list[np.ndarray],
) -> Text:  # noqa: ANN001
    """The label in its halo; its leader (in map units) goes on ``leaders``, drawn as one
    collection by :func:`_draw_leaders`."""
    style = STYLES[kind]
    if leader is not None:
        leaders.append(to_data(list(leader.coords)))
    return ax.text(
        centre[0], centre[1], plain(text), ha="center", va="center", zorder=12, bbox=HALO, **style
    )


def draw_key(
    ax: Axes,
    entries: Sequence[Placed],
    *,
    top: float,
    width_mm: float,
    height_mm: float,
    fontsize: float = 5.5,
) -> None:
    """The numbered key under the legend ("1  Stairwell A" over its grid reference), in type small
    enough to fit the column; what still does not fit is counted, not drawn past the margin."""
    if not entries or height_mm <= 8:
        return
    ax.text(
        0.0,
        top,
        "Key to numbered features",
        fontsize=fontsize + 1.5,
        weight="bold",
        va="top",
        transform=ax.transAxes,
    )
    size = fontsize
    per_line_mm = size * 1.35 / 72 * MM_PER_INCH
    lines = _key_lines(entries, width_mm, size)
    while len(lines) * per_line_mm > height_mm - 5 and size > 4.0:
        size -= 0.25
        per_line_mm = size * 1.35 / 72 * MM_PER_INCH
        lines = _key_lines(entries, width_mm, size)
    room = max(0, int((height_mm - 5) / per_line_mm))
    if len(lines) > room:
        lines = [
            *lines[: max(0, room - 1)],
            f"… {len(lines) - room + 1} more lines: see the premises schedule",
        ]
    ax.text(
        0.0,
        top - 4.0 / height_mm * top,
        "\n".join(plain(line) for line in lines),
        fontsize=size,
        va="top",
        transform=ax.transAxes,
        linespacing=1.35,
    )


def _key_lines(entries: Sequence[Placed], width_mm: float, size: float) -> list[str]:
    """Each entry as "n  words" wrapped to the column, its grid reference on the next line."""
    chars = max(12, int(width_mm / (size * 0.6 / 72 * MM_PER_INCH)))
    lines: list[str] = []
    for p in entries:
        head = f"{p.number}  {p.text}"
        lines.extend(textwrap.wrap(head, chars, subsequent_indent="    ") or [head])
        lines.append(
            f"    E {p.anchor[0]:,.0f}  N {p.anchor[1]:,.0f}"
            + ("" if p.box_px else " (not marked)")
        )
    return lines
