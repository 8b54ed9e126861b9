"""The court exhibit with an atlas against raw matplotlib drawing the same views (issue 15).

    python bench/bench_exhibit.py [--repeat N]

A seeded synthetic estate of 50 blocks (footprints; stairwells, landings and lobbies as communal
areas; doors; access paths; flats; a year of incidents; streets, context buildings and open space
around it) is stored in a GeoPackage workspace through the app's own store API, with one order whose
scope covers every block's communal areas and paths. Then, each a whole process:

    ours  closuremap exhibit WS --order EST-001 --paper A3 --scale 1250 --atlas   (53 pages)
    raw   this file's ``raw`` step: pyogrio reads the same layers; matplotlib draws, to a multi-page
          PDF of the same A3 figure size, the overview and one sheet per block (each at the same
          centre and scale as ours, every layer's features cut to the sheet's view with an STRtree
          query and ``clip_by_rect``, the block names as plain text, a title line), then two table
          pages (the premises list and incidents by month): the same 53 pages, no label placement,
          legend, key or title block.

``bench_exhibit(tmp)`` returns a :class:`run.Row` for ``make bench``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import CLI, PY, ROOT, Row, run_measured  # noqa: E402

ORDER_ID = "EST-001"
BLOCKS = 50
COLS = 10  # blocks in a row; five rows of ten
STEP_M = (38.0, 48.0)  # block pitch east and north
ORIGIN = (531000.0, 179000.0)
BLOCK_M = (30.0, 11.0)
A3 = (420.0, 297.0)  # landscape, mm
FRAME_MM = (17.0, 63.0, 327.0, 217.0)  # reports.mapsheet.sheet("A3")'s map frame
SCALES = (500, 1250, 2500, 5000, 10000)
USER = "bench"


# -- the synthetic estate ------------------------------------------------------------------------


def _box(x0: float, y0: float, w: float, h: float):  # noqa: ANN202 - a shapely Polygon
    import shapely

    return shapely.box(x0, y0, x0 + w, y0 + h)


def _block(i: int, bx: float, by: float, rows: dict[str, list[dict]]) -> None:
    """Block ``i`` at (bx, by): its footprint, two stairwells with landings and lobbies, a bin
    store, three doors, two paths and 24 flats, appended to ``rows`` by layer kind."""
    import shapely

    col, row = i % COLS, i // COLS
    bid = f"B{i + 1:02d}"
    name = f"{['Alder', 'Birch', 'Cedar', 'Elm', 'Hazel'][row]} House {col + 1}"
    w, h = BLOCK_M
    notch = _box(bx + w * 0.4, by + h - 3, w * 0.2, 3)  # so the outline is not a bare rectangle
    rows["premises"].append(
        {
            "block_id": bid,
            "name": name,
            "address": f"{col + 1} {name}, Synthetic Road, London",
            "floors": 4 + i % 8,
            "premises_type": "flats",
            "geometry": _box(bx, by, w, h).difference(notch),
        }
    )
    comm, doors = rows["communal_areas"], rows["entrances"]
    bin_store = ("bin_store", (0, 0), "Bin store", _box(bx + w - 2, by + h - 4, 2, 3))
    for side, sx in (("A", bx + 3), ("B", bx + w - 9)):
        areas = [
            ("stairwell", (0, 4), f"Stairwell {side}", _box(sx, by + 1, 3, 5)),
            ("landing", (1, 4), f"Landings {side}", _box(sx + 3, by + 1, 3, 5)),
            ("lobby", (0, 0), f"Entrance lobby {side}", _box(sx, by, 6, 1)),
        ]
        for kind, (low, high), label, geom in areas + ([bin_store] if side == "B" else []):
            comm.append(dict(block_id=bid, area_type=kind, floor_from=low, floor_to=high,
                             name=label, geometry=geom))  # fmt: skip
        doors.append(dict(block_id=bid, entrance_type="door", name=f"Main door {side}",
                          geometry=shapely.Point(sx + 3, by)))  # fmt: skip
        rows["access_routes"].append(dict(block_id=bid, name=f"Path to door {side}", width_m=2.0,
                                          geometry=_box(sx + 2, by - 12, 2, 12)))  # fmt: skip
    doors.append(dict(block_id=bid, entrance_type="service", name="Bin store door",
                      geometry=shapely.Point(bx + w, by + h - 2.5)))  # fmt: skip
    rows["addresses"] += [
        {
            "uprn": f"9{i:03d}{f:04d}",
            "address": f"Flat {f + 1}, {name}, Synthetic Road, London",
            "block_id": bid,
            "flat": str(f + 1),
            "geometry": shapely.Point(bx + 1 + f % 14 * 2, by + 6),
        }
        for f in range(24)
    ]


def estate_layers(blocks: int = BLOCKS, seed: int = 15) -> dict:
    """Every layer of the synthetic estate as GeoDataFrames (EPSG:27700), by layer kind."""
    import geopandas as gpd

    rng = np.random.default_rng(seed)
    kinds = ("premises", "communal_areas", "entrances", "access_routes", "addresses")
    rows: dict[str, list[dict]] = {k: [] for k in kinds}
    for i in range(blocks):
        bx = ORIGIN[0] + i % COLS * STEP_M[0] + rng.uniform(-1.5, 1.5)
        by = ORIGIN[1] + i // COLS * STEP_M[1] + rng.uniform(-1.5, 1.5)
        _block(i, bx, by, rows)
    layers = {k: gpd.GeoDataFrame(v, geometry="geometry", crs=27700) for k, v in rows.items()}
    return {**layers, **_surroundings(rng), "incidents": _incidents(rng)}


def _surroundings(rng: np.random.Generator) -> dict:
    """Streets between the rows and columns, context buildings and open space around the estate."""
    import pandas as pd

    import geopandas as gpd
    import shapely

    x0, y0 = ORIGIN[0] - 200, ORIGIN[1] - 160
    x1, y1 = ORIGIN[0] + COLS * STEP_M[0] + 200, ORIGIN[1] + 5 * STEP_M[1] + 160
    streets = [
        shapely.LineString([(x0, y), (x1, y)]) for y in np.arange(ORIGIN[1] - 17, y1, STEP_M[1])
    ]
    streets += [
        shapely.LineString([(x, y0), (x, y1)]) for x in np.arange(ORIGIN[0] - 4, x1, STEP_M[0] * 2)
    ]
    estate = shapely.box(
        ORIGIN[0] - 20, ORIGIN[1] - 25, ORIGIN[0] + COLS * STEP_M[0], ORIGIN[1] + 5 * STEP_M[1]
    )
    sites = rng.uniform((x0, y0), (x1, y1), size=(900, 2))
    others = [_box(x, y, rng.uniform(6, 16), rng.uniform(5, 12)) for x, y in sites]
    others = [b for b in others if not b.intersects(estate)]
    basemap = pd.concat(
        [
            gpd.GeoDataFrame(geometry=streets, crs=27700).assign(
                feature_class="street:residential", name="Synthetic Road"
            ),
            gpd.GeoDataFrame(geometry=others, crs=27700).assign(
                feature_class="building", name=None
            ),
        ],
        ignore_index=True,
    )
    greens = [
        _box(ORIGIN[0] + c * STEP_M[0] + 4, ORIGIN[1] + r * STEP_M[1] + 14, 22, 12)
        for r in range(5)
        for c in range(0, COLS, 3)
    ]
    open_space = gpd.GeoDataFrame(geometry=greens, crs=27700).assign(
        name="Estate green", open_space_type="grass"
    )
    return {"basemap": basemap, "open_space": open_space}


def _incidents(rng: np.random.Generator, n: int = 3000):  # noqa: ANN202 - a GeoDataFrame
    import pandas as pd

    import geopandas as gpd

    x = ORIGIN[0] + rng.uniform(-10, COLS * STEP_M[0], n)
    y = ORIGIN[1] + rng.uniform(-15, 5 * STEP_M[1], n)
    when = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 182 * 24 * 60, n), "m")
    return gpd.GeoDataFrame(
        {
            "occurred_at": when.strftime("%Y-%m-%dT%H:%M:%S"),
            "category": rng.choice(["ASB - Nuisance", "Drugs", "Criminal damage", "Violence"], n),
            "source": "cad",
            "reference": [f"CAD{k:06d}" for k in range(n)],
        },
        geometry=gpd.points_from_xy(x, y),
        crs=27700,
    )


def make_workspace(path: Path, blocks: int = BLOCKS) -> str:
    """The estate stored through the app's store API, with one order over every block's communal
    areas and paths. Returns the order's id."""
    import geopandas as gpd
    import shapely

    from closuremap.layers.store import GeoPackageStore

    store = GeoPackageStore.create(path, name="Synthetic estate (bench)", overwrite=True)
    store.set_meta("attribution", json.dumps(["Synthetic estate for the exhibit benchmark"]))
    layers = estate_layers(blocks)
    for kind, frame in layers.items():
        store.add(kind, frame, user=USER, note="bench: synthetic estate")
    scope = shapely.union_all(
        [*layers["communal_areas"].geometry, *layers["access_routes"].geometry]
    )
    order = gpd.GeoDataFrame(
        {
            "order_id": [ORDER_ID],
            "name": ["Synthetic estate communal areas"],
            "status": ["draft"],
            "block_ids": [";".join(layers["premises"]["block_id"])],
            "notice_issued_at": ["2024-07-01T09:00:00"],
        },
        geometry=[scope],
        crs=27700,
    )
    store.add("orders", order, user=USER, note="bench: order")
    return ORDER_ID


# -- the raw baseline ----------------------------------------------------------------------------


def _fit_scale(width_m: float, height_m: float) -> int:
    need = max(width_m * 1.15 / (FRAME_MM[2] / 1000), height_m * 1.15 / (FRAME_MM[3] / 1000))
    return next((s for s in SCALES if s >= need), SCALES[-1])


def _views(layers: dict) -> list[tuple[float, float, int, str]]:
    """(centre east, centre north, scale, title): the overview at 1:1250, then one a block fitted
    to the block, its communal areas and doors (as the exhibit's atlas does)."""
    import shapely

    x0, y0, x1, y1 = layers["orders"].total_bounds
    views = [((x0 + x1) / 2, (y0 + y1) / 2, 1250, "Overview")]
    for _, block in layers["premises"].iterrows():
        parts = [block.geometry]
        for kind in ("communal_areas", "entrances"):
            frame = layers[kind]
            parts += list(frame.geometry[frame["block_id"] == block["block_id"]])
        bx0, by0, bx1, by1 = shapely.GeometryCollection(parts).bounds
        views.append(
            ((bx0 + bx1) / 2, (by0 + by1) / 2, _fit_scale(bx1 - bx0, by1 - by0), str(block["name"]))
        )
    return views


STYLE = {  # kind: (face, edge, line width)
    "open_space": ("#dcebd3", "#8fb98a", 0.4),
    "basemap": ("#ebe8e2", "#b9b4aa", 0.3),
    "premises": ("#e3e8f6", "#1f3a93", 0.8),
    "access_routes": ("#e2d2ee", "#7b3fa0", 0.4),
    "communal_areas": ("#ffd2a6", "#c25e00", 0.4),
}


def _draw_clipped(ax, geoms, kind: str, z: int) -> None:  # noqa: ANN001
    """Polygons as one PathCollection, lines as one LineCollection, points as one scatter."""
    from matplotlib.collections import LineCollection, PathCollection
    from matplotlib.path import Path

    import shapely

    parts = shapely.get_parts(geoms)
    parts = parts[~shapely.is_empty(parts)]
    kinds = shapely.get_type_id(parts)
    polygons, lines, points = (
        parts[kinds == 3],
        parts[(kinds == 1) | (kinds == 2)],
        parts[kinds == 0],
    )
    if kind == "orders":
        lines = shapely.get_parts(shapely.boundary(polygons))
        polygons = polygons[:0]
    face, edge, width = STYLE.get(kind, ("white", "#1f3a93", 0.8))
    if len(polygons):
        paths = [
            Path.make_compound_path(
                *[Path(np.asarray(r.coords), closed=True) for r in (p.exterior, *p.interiors)]
            )
            for p in polygons
        ]
        ax.add_collection(
            PathCollection(paths, facecolor=face, edgecolor=edge, linewidth=width, zorder=z)
        )
    if len(lines):
        red = kind == "orders"
        ax.add_collection(
            LineCollection(
                [shapely.get_coordinates(g) for g in lines],
                color="#ff0000" if red else "#cfcac0",
                linewidth=1.5 if red else 2.0,
                zorder=z,
            )
        )
    if len(points):
        xy = shapely.get_coordinates(points)
        ax.scatter(xy[:, 0], xy[:, 1], s=14, color="white", edgecolor=edge, linewidth=0.8, zorder=z)


def _raw_page(pdf, layers: dict, trees: dict, view: tuple, names) -> None:  # noqa: ANN001
    """One map page: each layer's features in view (STRtree), clipped to it, as collections."""
    import matplotlib.pyplot as plt

    import shapely

    cx, cy, scale, title = view
    hw, hh = FRAME_MM[2] / 2000 * scale, FRAME_MM[3] / 2000 * scale
    rect = (cx - hw, cy - hh, cx + hw, cy + hh)
    fig = plt.figure(figsize=(A3[0] / 25.4, A3[1] / 25.4))
    ax = fig.add_axes(
        (FRAME_MM[0] / A3[0], FRAME_MM[1] / A3[1], FRAME_MM[2] / A3[0], FRAME_MM[3] / A3[1])
    )
    ax.set_xlim(rect[0], rect[2])
    ax.set_ylim(rect[1], rect[3])
    ax.set_aspect("equal")
    for z, kind in enumerate(
        (
            "open_space",
            "basemap",
            "premises",
            "access_routes",
            "communal_areas",
            "orders",
            "entrances",
        )
    ):
        hit = np.sort(trees[kind].query(shapely.box(*rect)))
        if not len(hit):
            continue
        geoms = shapely.clip_by_rect(layers[kind].geometry.values[hit], *rect)
        _draw_clipped(ax, np.asarray(geoms), kind, z)
        if kind == "premises":
            part = layers[kind].iloc[hit]
            for bid, point in zip(part["block_id"], shapely.point_on_surface(geoms), strict=True):
                ax.text(
                    point.x, point.y, names[bid], fontsize=6.5, ha="center", va="center", zorder=12
                )
    fig.text(0.04, 0.06, f"{title}: scale 1:{scale} at A3", fontsize=10)
    pdf.savefig(fig)
    plt.close(fig)


def raw(workspace: str, out: str) -> None:
    """The raw libraries' atlas: pyogrio reads, matplotlib draws every sheet clipped to its view."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["pdf.fonttype"] = 42
    import matplotlib.pyplot as plt
    import pandas as pd
    from matplotlib.backends.backend_pdf import PdfPages

    import pyogrio
    import shapely

    kinds = (
        "premises",
        "communal_areas",
        "access_routes",
        "entrances",
        "open_space",
        "basemap",
        "addresses",
        "incidents",
        "orders",
    )
    layers = {k: pyogrio.read_dataframe(workspace, layer=k) for k in kinds}
    trees = {k: shapely.STRtree(f.geometry.values) for k, f in layers.items()}
    names = dict(zip(layers["premises"]["block_id"], layers["premises"]["name"], strict=True))
    with PdfPages(out) as pdf:
        for view in _views(layers):
            _raw_page(pdf, layers, trees, view, names)
        fig = plt.figure(figsize=(A3[0] / 25.4, A3[1] / 25.4))
        ax = fig.add_axes((0.05, 0.2, 0.9, 0.75))
        ax.axis("off")
        table = layers["premises"][["block_id", "name", "address", "floors"]].astype(str)
        ax.table(cellText=table.values.tolist(), colLabels=list(table.columns), loc="upper left")
        pdf.savefig(fig)
        plt.close(fig)
        fig = plt.figure(figsize=(A3[0] / 25.4, A3[1] / 25.4))
        ax = fig.add_axes((0.08, 0.45, 0.8, 0.45))
        incidents = layers["incidents"]
        month = pd.to_datetime(incidents["occurred_at"]).dt.to_period("M").astype(str)
        pd.crosstab(incidents["category"], month).T.plot(kind="bar", stacked=True, ax=ax)
        pdf.savefig(fig)
        plt.close(fig)


# -- the measurement -----------------------------------------------------------------------------


def _ours_command(ws: Path, out: Path) -> list[str]:
    return [
        CLI,
        "exhibit",
        str(ws),
        "--order",
        ORDER_ID,
        "--out",
        str(out),
        "--paper",
        "A3",
        "--scale",
        "1250",
        "--atlas",
        "--exhibit-ref",
        "BENCH/1",
        "--user",
        USER,
        "--date",
        "2026-11-29",
        "--json",
        "--quiet",
    ]


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=False)
    for line in info.stdout.splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    return -1


def _measured(*command: str) -> tuple[float, float, str, float]:
    """:func:`run.run_measured` and the child's CPU seconds: on a shared machine the wall time
    of either side can double, its CPU time much less."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, mb, out = run_measured(*command)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, mb, out, cpu


def bench_exhibit(tmp: Path, repeat: int = 1) -> Row:
    """Time ``closuremap exhibit`` with the atlas against the raw atlas, each a whole process,
    alternating, ``repeat`` times each; the row carries the fastest of each."""
    ws = tmp / "estate.gpkg"
    subprocess.run([PY, __file__, "setup", str(ws)], check=True, cwd=ROOT, capture_output=True)
    ours_runs, raw_runs = [], []
    for _ in range(repeat):
        ours_runs.append(_measured(*_ours_command(ws, tmp / "ours.pdf")))
        raw_runs.append(_measured(PY, __file__, "raw", str(ws), str(tmp / "raw.pdf")))
    ours_s, ours_mb, out, _ = min(ours_runs)
    raw_s, raw_mb, _, _ = min(raw_runs)
    pages = json.loads(out)["pages"]

    def runs(rs: list) -> str:
        return ", ".join(f"{r[0]:.1f} s (CPU {r[3]:.1f} s)" for r in rs)

    cpu_ratio = min(r[3] for r in ours_runs) / min(r[3] for r in raw_runs)
    return Row(
        f"exhibit, {BLOCKS}-block estate, A3 1:1250 with atlas",
        ours_s,
        raw_s,
        ours_mb,
        raw_mb,
        "ratio <= 1.5",
        f"{pages} pages (raw {_pages(tmp / 'raw.pdf')}); CPU ratio {cpu_ratio:.2f}; "
        f"ours {runs(ours_runs)}; raw {runs(raw_runs)}",
    )


def main(argv: list[str] | None = None) -> Row:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--keep", help="a folder to keep the workspace and both PDFs in")
    args = parser.parse_args(argv)
    tmp = Path(args.keep or tempfile.mkdtemp(prefix="closuremap-bench-exhibit-"))
    tmp.mkdir(parents=True, exist_ok=True)
    row = bench_exhibit(tmp, args.repeat)
    print(
        f"{row.work}: ours {row.ours_s:.2f} s, {row.ours_mb:,.0f} MB; raw {row.raw_s:.2f} s, "
        f"{row.raw_mb:,.0f} MB; ratio {row.ratio:.2f} ({row.target}: "
        f"{'met' if row.met() else 'MISSED'}); {row.extra}"
    )
    return row


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "setup":
        make_workspace(Path(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "raw":
        raw(sys.argv[2], sys.argv[3])
    else:
        main()
