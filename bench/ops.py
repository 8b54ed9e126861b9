"""One measured operation per process, for bench/run.py: ``python bench/ops.py OP ARGS...``.

Each operation is run as a whole process on both sides (closuremap and the raw libraries), so file
reading, imports and writing count the same way for both; run.py times the process and reads its
peak memory from the kernel. So each operation imports what it uses inside its own function: a
module-level import would add every other operation's libraries to each side's time and memory.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd


def make_calls(path: Path, n: int, seed: int = 1) -> None:
    """A CAD export shaped like a force's: reference, date/time, category, location text, a
    free-text description, BNG eastings/northings over a borough, one row in fifty without
    coordinates."""
    rng = np.random.default_rng(seed)
    east = (523000 + rng.random(n) * 12000).round(1).astype(str)
    north = (175000 + rng.random(n) * 9000).round(1).astype(str)
    missing = rng.random(n) < 0.02
    east[missing], north[missing] = "", ""
    when = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365 * 24 * 60, n), unit="m")
    pd.DataFrame(
        {
            "CAD Ref": [f"CAD{i:08d}" for i in range(n)],
            "Date/Time": when.strftime("%d/%m/%Y %H:%M"),
            "Category": rng.choice(
                ["ASB - Nuisance", "ASB - Personal", "Drugs", "Criminal damage", "Violence"], n
            ),
            "Location": rng.choice(
                ["Stairwell B", "Landing 3", "Car park", "Main entrance", "Bin store"], n
            ),
            "Description": rng.choice(
                [
                    "Group congregating, smell of cannabis",
                    "Youths kicking doors",
                    "Needles found on landing",
                    "Loud music and shouting",
                ],
                n,
            ),
            "Easting": east,
            "Northing": north,
        }
    ).to_csv(path, index=False)


def make_areas(path: Path, n: int) -> None:
    """``n`` square areas tiling the calls' extent (shared edges, like wards or beats), as
    GeoJSON."""
    import geopandas as gpd  # per operation: see the module docstring
    import shapely

    side = int(np.ceil(np.sqrt(n)))
    w, h = 12000 / side, 9000 / side
    boxes = [
        shapely.box(523000 + i * w, 175000 + j * h, 523000 + (i + 1) * w, 175000 + (j + 1) * h)
        for j in range(side)
        for i in range(side)
    ][:n]
    gpd.GeoDataFrame(
        {"area_id": [f"A{k:05d}" for k in range(len(boxes))]}, geometry=boxes, crs=27700
    ).to_file(path)


def import_raw(csv_path: str, out: str) -> None:
    """The raw libraries' import: pandas, points_from_xy, pyogrio into a GeoPackage."""
    import geopandas as gpd  # per operation: see the module docstring
    import pyogrio

    table = pd.read_csv(csv_path)
    table = table[table["Easting"].notna()]
    frame = gpd.GeoDataFrame(
        table, geometry=gpd.points_from_xy(table["Easting"], table["Northing"]), crs=27700
    )
    pyogrio.write_dataframe(frame, out, layer="incidents")


def summarise_raw(csv_path: str, areas: str, out: str) -> None:
    """The raw libraries' count: geopandas read, sjoin (within, then intersects for points on an
    edge), groupby, CSV."""
    import geopandas as gpd  # per operation: see the module docstring

    table = pd.read_csv(csv_path)
    table = table[table["Easting"].notna()]
    points = gpd.GeoDataFrame(
        table[["Category"]],
        geometry=gpd.points_from_xy(table["Easting"], table["Northing"]),
        crs=27700,
    )
    zones = gpd.read_file(areas)
    inside = gpd.sjoin(points, zones, predicate="within")
    # the same boundary rule as closuremap: a point on an edge and inside no area counts once, in
    # the first area (file order) it touches
    edge = gpd.sjoin(points[~points.index.isin(inside.index)], zones, predicate="intersects")
    edge = (
        edge[~edge.index.duplicated(keep="first")]
        if edge.empty
        else edge.sort_values("index_right", kind="stable").groupby(level=0).head(1)
    )
    joined = pd.concat([inside, edge])
    counts = joined.groupby(["area_id", "Category"]).size().unstack(fill_value=0)
    counts.insert(0, "total", counts.sum(axis=1))
    counts.reindex(zones["area_id"], fill_value=0).to_csv(out)


def webmap_ours(workspace: str, out: str) -> None:
    from closuremap.layers.model import KINDS  # per operation: see the module docstring
    from closuremap.layers.store import GeoPackageStore
    from closuremap.layers.webmap import build_map

    store = GeoPackageStore(workspace)
    frames = {k: store.read(k) for k in KINDS}
    build_map(frames).save(out)


def webmap_raw(csv_path: str, out: str) -> None:
    """The raw libraries' map: the points as a FastMarkerCluster (no popups) on a tileless folium
    map, with folium's usual maxZoom (without tiles Leaflet has none: the page would not open)."""
    import folium  # per operation: see the module docstring
    from folium.plugins import FastMarkerCluster

    from pyproj import Transformer

    table = pd.read_csv(csv_path)
    table = table[table["Easting"].notna()]
    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(
        table["Easting"].to_numpy(), table["Northing"].to_numpy()
    )
    m = folium.Map(
        location=[float(np.mean(lat)), float(np.mean(lon))], zoom_start=14, tiles=None, maxZoom=18
    )
    FastMarkerCluster(np.column_stack([lat, lon]).tolist()).add_to(m)
    m.save(out)


def letters_setup(workspace: str, n: str) -> None:
    """The sample estate with ``n`` flats in ORD-001's block (Perronet House), for the letters."""
    import geopandas as gpd  # per operation: see the module docstring
    import shapely

    from closuremap.layers.sample import build_sample_workspace

    store = build_sample_workspace(Path(workspace))
    block = store.read("premises").set_index("block_id").loc["PER"].geometry
    count = int(n)
    points = shapely.points(
        np.full(count, block.representative_point().x),
        np.full(count, block.representative_point().y),
    )
    flats = gpd.GeoDataFrame(
        {
            "uprn": [f"99{i:08d}" for i in range(count)],
            "address": [
                f"Flat {i + 1}, Perronet House, Gaywood Street, London, SE1 6HG"
                for i in range(count)
            ],
            "block_id": "PER",
            "postcode": "SE1 6HG",
            "flat": [str(i + 1) for i in range(count)],
        },
        geometry=points,
        crs=27700,
    )
    existing = store.read("addresses")
    store.delete(
        "addresses",
        existing.loc[existing["block_id"] == "PER", "feature_id"].tolist(),
        user="bench",
    )
    store.add("addresses", flats, user="bench")


def letters_raw(n: str, out: str) -> None:
    """The raw library's letters: reportlab, one A4 page per flat, the same template text wrapped
    and drawn line by line."""
    from string import Template  # per operation: see the module docstring

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.lib.utils import simpleSplit
    from reportlab.pdfgen import canvas

    from closuremap.reports.letters import DEFAULT_TEMPLATE

    fields = {
        "date": "29 November 2026",
        "order_name": "Perronet House closure",
        "blocks": "Perronet House",
        "issues": "ASB - nuisance (41); drugs (12)",
        "scope_words": "stairwells, landings (not the flats)",
        "contact": "Safer Neighbourhoods, 020 7946 0000",
        "signatory": "Inspector A. Smith",
    }
    tpl = Template(DEFAULT_TEMPLATE)
    c = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    width, height = A4
    for i in range(int(n)):
        text = tpl.safe_substitute(
            {**fields, "address": f"Flat {i + 1}\nPerronet House\nGaywood Street\nLondon\nSE1 6HG"}
        )
        y = height - 22 * mm
        c.setFont("Helvetica", 10)
        for paragraph in text.split("\n"):
            for line in simpleSplit(paragraph, "Helvetica", 10, width - 44 * mm) or [""]:
                c.drawString(22 * mm, y, line)
                y -= 4.6 * mm
        c.showPage()
    c.save()


OPS = {
    "make-calls": lambda p, n: make_calls(Path(p), int(n)),
    "make-areas": lambda p, n: make_areas(Path(p), int(n)),
    "import-raw": import_raw,
    "summarise-raw": summarise_raw,
    "webmap-ours": webmap_ours,
    "webmap-raw": webmap_raw,
    "letters-setup": letters_setup,
    "letters-raw": letters_raw,
}

if __name__ == "__main__":
    OPS[sys.argv[1]](*sys.argv[2:])
