"""Ingest time and peak Python memory for the shared real data: all KNMI daily stations and
the 7.7 MB PI-XML production export. Run from the checkout: ``python -m benchmarks.bench_ingest``.
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

from pipelines.sources.fews import read_pi_xml
from pipelines.sources.knmi import read_knmi_daily

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _peak_rss_mib() -> float:
    # ru_maxrss is in KiB on Linux. tracemalloc is not used: it slows the line-by-line
    # parsers twentyfold and would distort the timing.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(label: str, work) -> None:
    before = _peak_rss_mib()
    started = time.perf_counter()
    rows = work()
    seconds = time.perf_counter() - started
    after = _peak_rss_mib()
    print(
        f"{label:<44} {rows:>9,d} rows {seconds:6.2f} s  "
        f"peak RSS {after:6.0f} MiB (+{after - before:.0f})"
    )


def main() -> None:
    print(f"{'interpreter and libraries loaded':<44} peak RSS {_peak_rss_mib():6.0f} MiB")
    stations = sorted((SHARED / "knmi" / "daily").glob("etmgeg_*.zip"))
    measure(
        f"KNMI daily, {len(stations)} stations",
        lambda: sum(len(read_knmi_daily(path)) for path in stations),
    )
    export = SHARED / "sensors" / "fews" / "WaalenBurg_201810-20190215_prod.zip"
    measure(f"PI-XML {export.name}", lambda: len(read_pi_xml(export).events))


if __name__ == "__main__":
    main()
