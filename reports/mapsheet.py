"""A map drawn to a stated metric scale on paper: the sheet layout, the scale, and the furniture
(grid ticks, scale bar, north point).

Shared by the court exhibit and the service pack. The map frame has an exact size in millimetres
and shows exactly ``frame_mm / 1000 * scale`` metres, so 1 mm on paper is ``scale / 1000`` metres on
the ground: a magistrate can measure it with a ruler.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib

import geopandas as gpd
import shapely

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import FancyArrow, Rectangle  # noqa: E402

from closuremap.geo.errors import ClosuremapError  # noqa: E402

from .maplayers import SheetLayers, basemap_layers  # noqa: E402

matplotlib.rcParams["pdf.fonttype"] = 42  # embed TrueType: searchable, selectable text
matplotlib.rcParams["ps.fonttype"] = 42
matplotlib.rcParams["font.family"] = "DejaVu Sans"

PAPER_MM = {"A4": (210.0, 297.0), "A3": (297.0, 420.0)}
STANDARD_SCALES = (500, 1250, 2500, 5000, 10000)
MM_PER_INCH = 25.4
MARGIN_MM = 12.0
TITLE_BLOCK_MM = 42.0
SCOPE_COLOUR = "#ff0000"  # only the scope is this red, so a test can find its edge
SCOPE_WIDTH_PT = 1.5
TICK_LABEL_MM = 5.0  # room inside the margins for the grid coordinates along the frame


def plain(text: object) -> str:
    """Text as matplotlib must be given it to print it literally.

    matplotlib reads any text holding two ``$`` as mathtext: "Rent $5 and $6 House" would print as
    "Rent 5and6 House" and "Bad $\\frac{ name" would raise. Every name, title, address, category,
    partner and attribution line a user or a data file supplies goes through here.

    >>> plain("Rent $5 and $6 House")
    'Rent \\\\$5 and \\\\$6 House'
    """
    return str(text).replace("$", r"\$")


class SheetError(ClosuremapError):
    """A paper size, orientation or scale that cannot be drawn."""


@dataclass(frozen=True)
class Sheet:
    """Paper and map frame, in millimetres from the bottom-left corner of the page."""

    paper: str
    orientation: str
    width_mm: float
    height_mm: float
    frame: tuple[float, float, float, float]  # x0, y0, width, height of the map frame

    @property
    def figsize(self) -> tuple[float, float]:
        return self.width_mm / MM_PER_INCH, self.height_mm / MM_PER_INCH


def sheet(paper: str = "A4", orientation: str = "landscape", legend_mm: float = 55.0) -> Sheet:
    """The page and its map frame: margins, a legend column on the right, a title block below."""
    if paper not in PAPER_MM:
        raise SheetError(f"paper must be A4 or A3, not {paper}")
    if orientation not in ("portrait", "landscape"):
        raise SheetError(f"orientation must be portrait or landscape, not {orientation}")
    w, h = PAPER_MM[paper]
    if orientation == "landscape":
        w, h = h, w
    x0, y0 = MARGIN_MM + TICK_LABEL_MM, MARGIN_MM + TITLE_BLOCK_MM + 4 + TICK_LABEL_MM
    fw = w - 2 * MARGIN_MM - legend_mm - 4 - 2 * TICK_LABEL_MM
    fh = h - y0 - MARGIN_MM - TICK_LABEL_MM
    return Sheet(paper, orientation, w, h, (x0, y0, fw, fh))


def fit_scale(
    extent_m: tuple[float, float], frame_mm: tuple[float, float], margin: float = 1.15
) -> int:
    """The largest standard scale (most detail) at which the extent, with a margin, fits the
    frame."""
    need = max(
        extent_m[0] * margin / (frame_mm[0] / 1000), extent_m[1] * margin / (frame_mm[1] / 1000)
    )
    for s in STANDARD_SCALES:
        if s >= need:
            return s
    return int(math.ceil(need / 1000) * 1000)


def map_axes(fig: Figure, sh: Sheet, centre: tuple[float, float], scale: int) -> Axes:
    """Axes whose frame is exactly the map frame and whose limits show it at ``scale``."""
    x0, y0, fw, fh = sh.frame
    ax = fig.add_axes((x0 / sh.width_mm, y0 / sh.height_mm, fw / sh.width_mm, fh / sh.height_mm))
    half_w, half_h = fw / 1000 * scale / 2, fh / 1000 * scale / 2
    ax.set_xlim(centre[0] - half_w, centre[0] + half_w)
    ax.set_ylim(centre[1] - half_h, centre[1] + half_h)
    ax.set_aspect("equal", adjustable="box")
    ax.set_facecolor("#ffffff")
    return ax


def draw_basemap(
    ax: Axes, basemap: gpd.GeoDataFrame | None, open_space: gpd.GeoDataFrame | None
) -> None:
    """Open space and the basemap (buildings, streets, the rest) that lie in the axes' view."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    scale = (x1 - x0) / (ax.get_window_extent().width / ax.figure.dpi * MM_PER_INCH) * 1000
    SheetLayers(basemap_layers(basemap, open_space)).draw(ax, shapely.box(x0, y0, x1, y1), scale)


def grid_ticks(ax: Axes, scale: int) -> None:
    """BNG coordinates along the frame: every 50 m at 1:500-1:1250, 100 m at 1:2500, 250 m
    beyond."""
    step = 50 if scale <= 1250 else 100 if scale <= 2500 else 250
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    xs = [v for v in range(int(math.ceil(x0 / step) * step), int(x1) + 1, step)]
    ys = [v for v in range(int(math.ceil(y0 / step) * step), int(y1) + 1, step)]
    ax.set_xticks(xs)
    ax.set_yticks(ys)
    ax.set_xticklabels([f"E {v:,}" for v in xs], fontsize=5.5)
    ax.set_yticklabels([f"N {v:,}" for v in ys], fontsize=5.5, rotation=90, va="center")
    ax.tick_params(
        direction="in",
        length=3,
        width=0.5,
        top=True,
        right=True,
        labeltop=True,
        labelright=True,
        pad=2,
    )
    for spine in ax.spines.values():
        spine.set_linewidth(0.8)


def scale_bar(ax: Axes, scale: int) -> float:
    """A scale bar of round metres at the bottom left of the frame; returns its length in metres."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    target = (x1 - x0) / 5
    length = max(v for v in (5, 10, 20, 25, 50, 100, 200, 250, 500, 1000) if v <= target)
    bx, by = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.05
    h = (y1 - y0) * 0.012
    for i in range(4):
        ax.add_patch(
            Rectangle(
                (bx + i * length / 4, by),
                length / 4,
                h,
                facecolor="black" if i % 2 == 0 else "white",
                edgecolor="black",
                linewidth=0.5,
                zorder=20,
            )
        )
    ax.text(bx, by + h * 1.8, "0", fontsize=6, ha="center", zorder=20)
    ax.text(bx + length, by + h * 1.8, f"{length} m", fontsize=6, ha="center", zorder=20)
    ax.text(
        bx + length / 2, by - h * 2.2, f"1:{scale}", fontsize=6, ha="center", va="top", zorder=20
    )
    return float(length)


def north_point(ax: Axes) -> None:
    """Grid north (BNG): at the top right of the frame."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    x, y = x1 - (x1 - x0) * 0.05, y1 - (y1 - y0) * 0.16
    length = (y1 - y0) * 0.08
    ax.add_patch(
        FancyArrow(
            x,
            y,
            0,
            length,
            width=length * 0.12,
            head_width=length * 0.4,
            head_length=length * 0.35,
            length_includes_head=True,
            color="black",
            zorder=20,
        )
    )
    ax.text(
        x, y + length * 1.15, "N", ha="center", va="bottom", fontsize=9, weight="bold", zorder=20
    )
    ax.text(x, y - length * 0.15, "grid north", ha="center", va="top", fontsize=5, zorder=20)


def furniture(ax: Axes, scale: int) -> float:
    """What every map sheet carries besides the map: BNG grid ticks along the frame, a scale bar
    and a north point (no axis labels). Returns the scale bar's length in metres."""
    ax.set_xlabel("")
    ax.set_ylabel("")
    grid_ticks(ax, scale)
    length = scale_bar(ax, scale)
    north_point(ax)
    return length


def new_figure(sh: Sheet) -> Figure:
    return plt.figure(figsize=sh.figsize)


def close(fig: Figure) -> None:
    plt.close(fig)
