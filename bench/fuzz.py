"""Fuzz every importer and the geocoder at the large profile (`make fuzz`): tests/test_fuzz.py with
HYPOTHESIS_PROFILE=fuzz, then a short table of what it tried and what it found.

Passes only when pytest passed, no input crashed (raised anything but a ClosuremapError) and no
row went unaccounted (neither stored nor rejected with a reason). The counts come from the test
module itself (CLOSUREMAP_FUZZ_REPORT); they are printed, and kept as JSON at --out (default: a
file in the temporary folder), never in the repository.

    python bench/fuzz.py                      # 2000 cases per test
    python bench/fuzz.py --examples 300       # fewer, e.g. on a slow machine
    python bench/fuzz.py --no-shrink          # report failures as found, without minimising them
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--examples", type=int, help="cases per test (default: the profile's, 2000 for fuzz)"
    )
    parser.add_argument(
        "--profile", default="fuzz", help="hypothesis profile (default fuzz; ci is the quick one)"
    )
    parser.add_argument(
        "--no-shrink", action="store_true", help="do not minimise failing cases (faster)"
    )
    parser.add_argument(
        "--out", type=Path, help="where to keep the JSON counts (default: a temporary file)"
    )
    parser.add_argument(
        "-k", dest="select", help="only the tests matching this pytest -k expression"
    )
    args = parser.parse_args(argv)

    out = args.out or Path(tempfile.mkstemp(prefix="closuremap-fuzz-", suffix=".json")[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)  # a stale report must not pass for this run's
    env = {**os.environ, "HYPOTHESIS_PROFILE": args.profile, "CLOSUREMAP_FUZZ_REPORT": str(out)}
    if args.examples:
        env["CLOSUREMAP_FUZZ_EXAMPLES"] = str(args.examples)
    if args.no_shrink:
        env["CLOSUREMAP_FUZZ_SHRINK"] = "0"
    command = [sys.executable, "-m", "pytest", "tests/test_fuzz.py", "-q", "-p", "no:cacheprovider"]
    if args.select:
        command += ["-k", args.select]

    started = time.perf_counter()
    pytest_rc = subprocess.call(command, cwd=ROOT, env=env)
    wall = time.perf_counter() - started

    if not out.exists():
        print(
            f"\nno fuzz report at {out}: pytest stopped before the fuzz module finished "
            f"(exit {pytest_rc})"
        )
        return 1
    report = json.loads(out.read_text())
    report.update(
        {
            "wall_seconds": round(wall, 1),
            "pytest_exit": pytest_rc,
            "profile": args.profile,
            "examples_per_test": args.examples,
        }
    )
    out.write_text(json.dumps(report, indent=2))

    rows = [
        (
            "profile",
            f"{args.profile}" + (f" ({args.examples} cases per test)" if args.examples else ""),
        ),
        ("cases tried", f"{report['cases']:,}"),
        ("crashes", f"{report['crashes']:,}"),
        ("rows read (imports)", f"{report['rows_read']:,}"),
        ("rows geocoded", f"{report.get('geocoded_rows', 0):,}"),
        ("rows unaccounted", f"{report['rows_unaccounted']:,}"),
        ("imports stored / refused", f"{report['imports_ok']:,} / {report['imports_refused']:,}"),
        ("wall time", f"{wall:,.1f} s"),
        ("pytest", "passed" if pytest_rc == 0 else f"FAILED (exit {pytest_rc})"),
    ]
    width = max(len(name) for name, _ in rows)
    print("\nclosuremap fuzz")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    for signature, count in report.get("crash_signatures", {}).items():
        print(f"  crash x{count}: {signature}")
    print(f"  counts kept in {out}")
    ok = pytest_rc == 0 and report["crashes"] == 0 and report["rows_unaccounted"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
