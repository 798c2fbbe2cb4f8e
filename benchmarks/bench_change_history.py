"""What a season of archived issues costs each publication: the history of changes behind the
citizen page's feeds (``dashboards.changes.change_history``).

Size: 183 daily issues (a season, 1 April - 30 September) of 64 districts (the demo) and of
10,000 districts (national scale), each a ``restrictions.csv`` with the open-data columns and
reason texts of a real issue's length (about 1.2 kB a row), a few districts changing each
day. The script writes them to ``--work`` (about 2 GB at 10,000 districts), then times the
history three ways, each the median of ``--repeat`` calls: without the cache of issue states,
with an empty one (the first publication after an upgrade) and with a filled one (every
publication after that).

    .venv/bin/python benchmarks/bench_change_history.py [--districts 64 10000] [--issues 183] [--repeat 3]

Measured on the shared 2-core machine (load 0.2-1), 183 issues: 64 districts, 0.70 s before
the window and the cache (every issue read and compared row by row in pandas, and the
window's oldest issue announcing all its restrictions again: 143 changes instead of 97), now
0.20 s without the cache and 0.11 s with it filled; 10,000 districts, 34.2 s before, now
4.2 s without the cache and 1.6 s with it filled (5.0 s while it is filled). The feed looks
back over 120 issues (``MAX_ARCHIVED_ISSUES``), so the figures no longer grow with the
season.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboards.changes import MAX_ARCHIVED_ISSUES, change_history, read_issue  # noqa: E402
from dashboards.issue_cache import IssueCache  # noqa: E402
from dashboards.open_data import OPEN_DATA_COLUMNS  # noqa: E402
from dashboards.site import archive_name  # noqa: E402

LEVELS = ["none", "watch", "daytime_sprinkling_ban", "surface_water_ban"]
TEXT = ("Op 15 augustus 2025 was er te weinig water voor landbouw, natuur en andere gebruikers: 22% van "
        "het water dat zij nodig hadden, kon niet worden geleverd. ")


def write_season(archive: Path, districts: int, issues: int, seed: int = 1) -> None:
    """``issues`` daily issues of ``districts`` districts in ``archive``."""
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({column: [TEXT if column.endswith(("_nl", "_en")) else ""] * districts
                          for column in OPEN_DATA_COLUMNS})
    table["district_id"] = [f"D{i:05d}" for i in range(districts)]
    table["name"] = [f"Gebied {i}" for i in range(districts)]
    table["water_board"] = [f"WS{i % 21:02d}" for i in range(districts)]
    table["restriction"] = rng.choice(LEVELS, size=districts)
    table["groundwater_ban"] = "false"
    table["groundwater_ban_unknown"] = "false"
    table["rule"] = "ban-level"
    table["valid_from"] = "2025-04-01"
    start = dt.datetime(2025, 4, 1, 4, 15, tzinfo=dt.UTC)
    for day in range(issues):
        issued = start + dt.timedelta(days=day)
        changed = rng.choice(districts, size=max(1, districts // 100), replace=False)
        table.loc[changed, "restriction"] = rng.choice(LEVELS, size=changed.size)
        table.loc[changed, "valid_from"] = (issued.date() + dt.timedelta(days=1)).isoformat()
        table["issued_at"] = issued.isoformat()
        folder = archive.parent / archive_name({"issued_at": issued, "valid_from": issued.date()})
        folder.mkdir(parents=True)
        table.to_csv(folder / "restrictions.csv", index=False, lineterminator="\r\n")


def _median_s(call, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--districts", type=int, nargs="+", default=[64, 10_000])
    parser.add_argument("--issues", type=int, default=183)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None, help="a folder for the issues (default: a temporary one)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-change-history-"))
    print(f"{args.issues} issues a season; the history compares the newest {MAX_ARCHIVED_ISSUES}")
    try:
        for districts in args.districts:
            site = work / f"site-{districts}"
            shutil.rmtree(site, ignore_errors=True)
            start = time.perf_counter()
            write_season(site / "archive", districts, args.issues)
            written = time.perf_counter() - start
            current = read_issue(sorted(site.glob("archive/*/*"))[-1])  # published again
            issued = dt.datetime(2025, 10, 1, 4, 15, tzinfo=dt.UTC)
            cache = site.with_name(f".{site.name}.issues")
            plain = _median_s(lambda: change_history(site / "archive", current, issued), args.repeat)

            def cold():
                shutil.rmtree(cache, ignore_errors=True)
                change_history(site / "archive", current, issued, cache=IssueCache(cache))

            first = _median_s(cold, args.repeat)
            warm = _median_s(lambda: change_history(site / "archive", current, issued, cache=IssueCache(cache)),
                             args.repeat)
            changes = len(change_history(site / "archive", current, issued, cache=IssueCache(cache)))
            print(f"{districts:>6} districts: no cache {plain:6.3f} s, empty cache {first:6.3f} s, "
                  f"filled cache {warm:6.3f} s ({changes} changes; issues written in {written:.0f} s)")
            shutil.rmtree(site, ignore_errors=True)
            shutil.rmtree(cache, ignore_errors=True)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
