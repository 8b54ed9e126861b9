"""Benchmarks: closuremap's import, store and CRS paths as ratios against the raw libraries doing
the same work in the same run (run with `make bench`; figures go in the closing note, not in tests).

    import   100k-row CSV (lon/lat) -> validated, OSTN15, stored
             vs  pandas.read_csv + convertbng + pyogrio.write_dataframe (GPKG)
    read     100k points from the workspace                    vs  pyogrio.read_dataframe
    ostn15   1M points lon/lat -> BNG (geo.crs.lonlat_to_bng)  vs  convertbng.convert_bng
    webmap   the sample estate's map HTML                      (absolute time only)
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import geopandas as gpd
import pyogrio
from convertbng.cutil import convert_bng

from closuremap.geo.crs import BNG, lonlat_to_bng
from closuremap.layers.importer import import_file
from closuremap.layers.model import KINDS
from closuremap.layers.sample import build_sample_workspace
from closuremap.layers.store import GeoPackageStore
from closuremap.layers.webmap import build_map

ROWS = 100_000


def timed(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def make_csv(path: Path) -> None:
    rng = np.random.default_rng(1)
    lon = -0.1045 + rng.random(ROWS) * 0.004
    lat = 51.4943 + rng.random(ROWS) * 0.003
    table = pd.DataFrame(
        {
            "reference": [f"CAD{i}" for i in range(ROWS)],
            "occurred_at": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 365 * 24 * 60, ROWS), unit="m"),
            "category": rng.choice(["ASB - Nuisance", "Drugs", "Criminal damage"], ROWS),
            "description": "Group congregating in stairwell",
            "longitude": lon.round(6),
            "latitude": lat.round(6),
        }
    )
    table["occurred_at"] = table["occurred_at"].dt.strftime("%d/%m/%Y %H:%M")
    table.to_csv(path, index=False)


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    csv_path = tmp / "incidents.csv"
    make_csv(csv_path)
    rows = []

    def ours_import() -> None:
        store = GeoPackageStore.create(tmp / "ws.gpkg", overwrite=True)
        result = import_file(store, "incidents", csv_path, user="bench")
        assert result.imported == ROWS

    def raw_import() -> None:
        t = pd.read_csv(csv_path)
        e, n = convert_bng(t["longitude"].to_numpy(), t["latitude"].to_numpy())
        g = gpd.GeoDataFrame(t, geometry=gpd.points_from_xy(e, n), crs=BNG)
        pyogrio.write_dataframe(g, tmp / "raw.gpkg", layer="incidents")

    rows.append(("import 100k CSV rows", timed(ours_import, 3), timed(raw_import, 3)))

    store = GeoPackageStore(tmp / "ws.gpkg")
    rows.append(
        (
            "read 100k points",
            timed(lambda: store.read("incidents")),
            timed(lambda: pyogrio.read_dataframe(tmp / "ws.gpkg", layer="incidents")),
        )
    )

    rng = np.random.default_rng(2)
    lon = -3 + rng.random(1_000_000) * 3
    lat = 51 + rng.random(1_000_000) * 2
    rows.append(
        (
            "OSTN15 1M points",
            timed(lambda: lonlat_to_bng(lon, lat)),
            timed(lambda: convert_bng(lon, lat)),
        )
    )

    sample = build_sample_workspace(tmp / "sample.gpkg")
    frames = {k: sample.read(k) for k in KINDS}
    web = timed(lambda: build_map(frames).get_root().render())

    print(f"{'work':<24}{'closuremap s':>14}{'raw s':>10}{'ratio':>8}")
    for name, ours, raw in rows:
        print(f"{name:<24}{ours:>14.3f}{raw:>10.3f}{ours / raw:>8.2f}")
    print(f"{'sample web map HTML':<24}{web:>14.3f}{'-':>10}{'-':>8}")


if __name__ == "__main__":
    main()
