"""The court exhibit with an atlas against raw matplotlib drawing the same views (issue 15).

    python bench/bench_exhibit.py [--repeat N]

A seeded synthetic estate of 50 blocks (footprints; stairwells, landings and lobbies as communal
areas; doors; access paths; flats; a year of incidents; streets, context buildings and open space
around it) is stored in a GeoPackage workspace through the app's own store API, with one order whose
scope covers every block's communal areas and paths. Then, each a whole process:

    ours  closuremap exhibit WS --order EST-001 --paper A3 --scale 1250 --atlas   (53 pages)
    raw   bench/raw_exhibit.py: pyogrio reads the same layers; matplotlib draws the same 53 pages
          with the same texts (a label at each named feature's representative point, in our
          styles and halo; grid coordinates; scale bar; north point; legend; title block), every
          layer cut to each sheet's view, but no label placement search (ours alone).

A third, untimed step (``count``) renders both in-process and counts the visible text artists
on each page, so the row shows that the two sides draw like for like.

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
RAW = str(Path(__file__).resolve().parent / "raw_exhibit.py")
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
    store.set_meta(
        "attribution", json.dumps(["Synthetic estate for the exhibit benchmark"]), user=USER
    )
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


def count_texts(workspace: str, out_dir: str) -> dict[str, list[int]]:
    """The visible, non-empty text artists on each page of ours and of raw (untimed): every
    ``savefig`` of a multi-page PDF is counted on the way through."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.text import Text

    import raw_exhibit
    from closuremap.cli import main as cli_main

    counts: list[int] = []
    savefig = PdfPages.savefig

    def counting(self, figure=None, **kw):  # noqa: ANN001, ANN202 - PdfPages.savefig's shape
        fig = figure if figure is not None else matplotlib.pyplot.gcf()
        texts = fig.findobj(lambda a: isinstance(a, Text) and a.get_visible() and a.get_text())
        counts.append(len(texts))
        return savefig(self, figure, **kw)

    PdfPages.savefig = counting  # type: ignore[method-assign]
    try:
        cli_main(_ours_command(Path(workspace), Path(out_dir) / "count-ours.pdf")[1:])
        ours = list(counts)
        counts.clear()
        raw_exhibit.raw(workspace, str(Path(out_dir) / "count-raw.pdf"))
    finally:
        PdfPages.savefig = savefig  # type: ignore[method-assign]
    return {"ours": ours, "raw": list(counts)}


def _count_note(tmp: Path, ws: Path) -> str:
    """Texts a page on each side: the overview, the atlas sheets' mean and range, the tables."""
    done = subprocess.run(
        [PY, __file__, "count", str(ws), str(tmp)], cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode:
        return f"text count failed: {done.stderr.strip().splitlines()[-1:]}"
    notes = []
    for side, pages in json.loads(done.stdout.strip().splitlines()[-1]).items():
        atlas = pages[1:-2]
        notes.append(
            f"{side} {pages[0]} / {np.mean(atlas):.0f} ({min(atlas)}-{max(atlas)}) / "
            f"{pages[-2]}, {pages[-1]}"
        )
    return "texts a page (overview / atlas mean (range) / tables): " + "; ".join(notes)


def bench_exhibit(tmp: Path, repeat: int = 1) -> Row:
    """Time ``closuremap exhibit`` with the atlas against the raw atlas, each a whole process,
    alternating, ``repeat`` times each; the row carries the fastest of each."""
    ws = tmp / "estate.gpkg"
    subprocess.run([PY, __file__, "setup", str(ws)], check=True, cwd=ROOT, capture_output=True)
    ours_runs, raw_runs = [], []
    for _ in range(repeat):
        ours_runs.append(_measured(*_ours_command(ws, tmp / "ours.pdf")))
        raw_runs.append(_measured(PY, RAW, str(ws), str(tmp / "raw.pdf")))
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
        f"ours {runs(ours_runs)}; raw {runs(raw_runs)}; {_count_note(tmp, ws)}",
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
    elif len(sys.argv) > 1 and sys.argv[1] == "count":
        print(json.dumps(count_texts(sys.argv[2], sys.argv[3])))
    else:
        main()
