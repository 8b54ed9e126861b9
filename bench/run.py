"""`make bench`: closuremap against the raw libraries, each side a whole process, in the same run.

Synthetic, seeded data (bench/ops.py): CAD exports of 10k / 100k / 1M calls and 100 / 10k areas.
For each operation the table shows both times, the ratio, its target and both peak memories (the
kernel's maximum resident set of each process). ``--sizes 10000,100000`` for a quicker run; the JSON
goes to ``--out`` (default: a file in the system's temporary folder, never into the checkout).

    import      closuremap import WS incidents CALLS.csv   vs  pandas + points_from_xy + pyogrio
    summarise   closuremap summarise --incidents --areas   vs  geopandas read + sjoin + groupby
    web map     the Map page's HTML for the imported calls  vs  folium FastMarkerCluster, no popups
    letters     closuremap letters for 500 / 5,000 flats    vs  reportlab drawing the same text
    exhibit     closuremap exhibit, 50-block atlas          vs  matplotlib, clipped to each sheet
    browser     the map interactive in Chromium             vs  FastMarkerCluster's page, same way;
                and the Map page's date-filter rerun (bench_map_browser.py)
    geocode     closuremap geocode, typical and worst case  vs  rapidfuzz cdist + argmax
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
CLI = str(Path(PY).with_name("closuremap"))
OPS = str(ROOT / "bench" / "ops.py")


@dataclass
class Row:
    work: str
    ours_s: float
    raw_s: float | None
    ours_mb: float
    raw_mb: float | None
    target: str
    extra: str = ""
    ok: bool | None = None  # for a target that is not a ratio (an HTML size, equal counts)

    @property
    def ratio(self) -> float | None:
        return None if not self.raw_s else self.ours_s / self.raw_s

    def met(self) -> bool | None:
        if self.ok is not None:
            return self.ok
        if self.target.startswith("ratio <="):
            return None if self.ratio is None else self.ratio <= float(self.target.split("<=")[1])
        return None


def run_measured(*command: str) -> tuple[float, float, str]:
    """Wall time (s), peak memory (MB) and stdout of one whole process: spawned and reaped here
    with wait4, so the kernel's maximum resident set is that child's own."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        pid = os.posix_spawn(
            command[0],
            list(command),
            {**os.environ, "CLOSUREMAP_USER": "bench"},
            file_actions=[
                (os.POSIX_SPAWN_DUP2, out.fileno(), 1),
                (os.POSIX_SPAWN_DUP2, err.fileno(), 2),
            ],
        )
        _, status, usage = os.wait4(pid, 0)
        elapsed = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{err.read()[-2000:]}")
        return elapsed, usage.ru_maxrss / 1024, out.read()


def bench_import(tmp: Path, calls: Path, n: int) -> Row:
    ws = tmp / f"ws{n}.gpkg"
    ws.unlink(missing_ok=True)
    subprocess.run([CLI, "init", str(ws), "--quiet"], check=True, cwd=ROOT, capture_output=True)
    ours, ours_mb, out = run_measured(
        CLI,
        "import",
        str(ws),
        "incidents",
        str(calls),
        "--json",
        "--quiet",
        "--user",
        "bench",
        "--rejects",
        str(tmp / f"rejects{n}.csv"),
    )
    summary = json.loads(out)
    raw_out = tmp / f"raw{n}.gpkg"
    raw_out.unlink(missing_ok=True)
    raw, raw_mb, _ = run_measured(PY, OPS, "import-raw", str(calls), str(raw_out))
    return Row(
        f"import {n:,} CSV rows",
        ours,
        raw,
        ours_mb,
        raw_mb,
        "ratio <= 1.5",
        f"imported {summary['imported']:,}, rejected {summary['rejected']:,}",
    )


def bench_summarise(tmp: Path, calls: Path, n: int, areas: Path, n_areas: int) -> Row | None:
    if not (ROOT / "layers" / "summarise.py").exists():
        return None
    ours, ours_mb, _ = run_measured(
        CLI,
        "summarise",
        "--incidents",
        str(calls),
        "--areas",
        str(areas),
        "--out",
        str(tmp / "ours-summary.csv"),
        "--json",
        "--quiet",
    )
    raw, raw_mb, _ = run_measured(
        PY, OPS, "summarise-raw", str(calls), str(areas), str(tmp / "raw-summary.csv")
    )
    mine = pd.read_csv(tmp / "ours-summary.csv").set_index("area_id")["total"]
    theirs = pd.read_csv(tmp / "raw-summary.csv").set_index("area_id")["total"]
    differ = int((mine.reindex(theirs.index, fill_value=0) != theirs).sum())
    return Row(
        f"summarise {n:,} x {n_areas:,} areas",
        ours,
        raw,
        ours_mb,
        raw_mb,
        "same counts as sjoin",
        f"totals per area {f'differ in {differ} areas from' if differ else 'equal to'} "
        "sjoin + groupby",
        ok=not differ,
    )


def bench_webmap(tmp: Path, calls: Path, n: int) -> Row:
    ours, ours_mb, _ = run_measured(
        PY, OPS, "webmap-ours", str(tmp / f"ws{n}.gpkg"), str(tmp / "ours.html")
    )
    raw, raw_mb, _ = run_measured(PY, OPS, "webmap-raw", str(calls), str(tmp / "raw.html"))
    size = (tmp / "ours.html").stat().st_size / 1e6
    raw_size = (tmp / "raw.html").stat().st_size / 1e6
    return Row(
        f"web map {n:,} incidents",
        ours,
        raw,
        ours_mb,
        raw_mb,
        "HTML <= 5 MB",
        f"HTML {size:.1f} MB (raw {raw_size:.1f} MB)",
        ok=size <= 5,
    )


def bench_letters(tmp: Path, n: int) -> Row:
    ws = tmp / f"letters{n}.gpkg"
    subprocess.run(
        [PY, OPS, "letters-setup", str(ws), str(n)], check=True, cwd=ROOT, capture_output=True
    )
    ours, ours_mb, out = run_measured(
        CLI,
        "letters",
        str(ws),
        "--order",
        "ORD-001",
        "--out",
        str(tmp / "ours.pdf"),
        "--contact",
        "Safer Neighbourhoods, 020 7946 0000",
        "--signatory",
        "Inspector A. Smith",
        "--user",
        "bench",
        "--json",
        "--quiet",
    )
    letters = json.loads(out)["letters"]
    raw, raw_mb, _ = run_measured(PY, OPS, "letters-raw", str(n), str(tmp / "raw.pdf"))
    return Row(f"letters, {letters:,}", ours, raw, ours_mb, raw_mb, "ratio <= 1.3")


def bench_geocode(tmp: Path) -> list[Row]:
    """bench_geocode.py's two scenarios (both sides in its one process, so one peak for both)."""
    figures = tmp / "geocode.json"
    _, peak, _ = run_measured(PY, str(ROOT / "bench" / "bench_geocode.py"), "--json", str(figures))
    rows = []
    for name, work in (("typical", "100k rows x 10k flats"), ("worst", "10k one-flat buildings")):
        f = json.loads(figures.read_text())[name]
        rows.append(
            Row(
                f"geocode, {work}",
                f["ours_s"],
                f["raw_s"],
                peak,
                None,
                "ratio <= 1.0",
                f"top-1 right {f['ours_top1']:.2%} (cdist argmax {f['raw_top1']:.2%}); "
                "index build and normalising not in either time",
            )
        )
    return rows


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--areas", type=int, default=10_000)
    parser.add_argument("--letters", default="500,5000")
    parser.add_argument("--no-exhibit", dest="exhibit", action="store_false")
    parser.add_argument("--no-geocode", dest="geocode", action="store_false")
    parser.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "closuremap-bench.json"))
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    # imported here: each imports Row and run_measured from this module
    from bench_exhibit import bench_exhibit
    from bench_map_browser import bench_map_browser

    tmp = Path(tempfile.mkdtemp(prefix="closuremap-bench-"))
    rows: list[Row] = []
    try:
        areas = tmp / "areas.geojson"
        subprocess.run([PY, OPS, "make-areas", str(areas), str(args.areas)], check=True, cwd=ROOT)
        for n in sizes:
            calls = tmp / f"calls{n}.csv"
            subprocess.run([PY, OPS, "make-calls", str(calls), str(n)], check=True, cwd=ROOT)
            rows.append(bench_import(tmp, calls, n))
            print(_line(rows[-1]), flush=True)
            if n == 100_000:
                rows.append(bench_webmap(tmp, calls, n))
                print(_line(rows[-1]), flush=True)
            if n == max(sizes) and (row := bench_summarise(tmp, calls, n, areas, args.areas)):
                rows.append(row)
                print(_line(rows[-1]), flush=True)
        for row in bench_map_browser(tmp, sizes=tuple(n for n in sizes if n >= 100_000)):
            rows.append(row)
            print(_line(row), flush=True)
        if args.exhibit:
            rows.append(bench_exhibit(tmp))
            print(_line(rows[-1]), flush=True)
        for n in [int(x) for x in args.letters.split(",") if x]:
            rows.append(bench_letters(tmp, n))
            print(_line(rows[-1]), flush=True)
        if args.geocode:
            for row in bench_geocode(tmp):
                rows.append(row)
                print(_line(row), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(_table(rows))
    Path(args.out).write_text(
        json.dumps([{**asdict(r), "ratio": r.ratio, "met": r.met()} for r in rows], indent=2)
    )
    print(f"\nJSON: {args.out}")
    return rows


def _line(r: Row) -> str:
    ratio = f"{r.ratio:.2f}" if r.ratio else "-"
    raw = (
        f"{r.raw_s:.2f} s, {r.raw_mb:,.0f} MB"
        if r.raw_s is not None and r.raw_mb is not None
        else "-"
    )
    return (
        f"{r.work}: ours {r.ours_s:.2f} s, {r.ours_mb:,.0f} MB; raw {raw}; "
        f"ratio {ratio} ({r.target}) {r.extra}"
    )


def _table(rows: list[Row]) -> str:
    head = (
        "| work | closuremap | peak | raw | peak | ratio | target | |\n"
        "|---|---|---|---|---|---|---|---|"
    )
    body = [
        f"| {r.work} | {r.ours_s:.2f} s | {r.ours_mb:,.0f} MB | "
        f"{'-' if r.raw_s is None else f'{r.raw_s:.2f} s'} | "
        f"{'-' if r.raw_mb is None else f'{r.raw_mb:,.0f} MB'} | "
        f"{'-' if r.ratio is None else f'{r.ratio:.2f}'} | {r.target} | "
        f"{'met' if r.met() else 'MISSED' if r.met() is False else ''} {r.extra} |"
        for r in rows
    ]
    return "\n".join([head, *body])


if __name__ == "__main__":
    main()
