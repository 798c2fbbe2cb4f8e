"""Ingest time and peak memory for the shared real data, cold and incremental.

Sizes: all eleven KNMI daily station files in ``../shared/data/knmi/daily`` (137,989 station
days, 1986-2026) and the 7.7 MB Delft-FEWS PI-XML production export
``../shared/data/sensors/fews/WaalenBurg_201810-20190215_prod.zip`` (100,114 events).

Each source goes through its real ingest flow (``ingest-meteo``, ``ingest-sensors``: archive,
read, QC, upsert into Parquet) on a temporary Prefect API:

- **cold**: empty archive and processed store;
- **incremental**: the same files again, nothing new (archive hits, every row unchanged).

Also the bare readers, without the flow, for comparison. Run from the checkout::

    .venv/bin/python benchmarks/bench_ingest.py

Peak memory is the process's peak resident set size after each step (``ru_maxrss``), so a
step's figure includes everything before it; tracemalloc is not used, it slows the
line-by-line parsers twentyfold.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import yaml

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure(label: str, work) -> None:
    started = time.perf_counter()
    detail = work()
    seconds = time.perf_counter() - started
    print(f"{label:<46} {seconds:6.2f} s  peak RSS {_peak_rss_mib():6.0f} MiB  {detail}", flush=True)


def _setup(folder: Path) -> Path:
    """A setup file naming the shared KNMI stations and the PI-XML export."""
    from pipelines.ingest.sources.knmi import knmi_stations

    stations = sorted((SHARED / "knmi" / "daily").glob("etmgeg_*.zip"))
    table = knmi_stations().set_index("station")
    ids = [p.stem.split("_")[1] for p in stations]
    box = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
           "features": [{"type": "Feature", "properties": {"district_id": "NL-1", "name": "Nederland",
                                                           "water_board": "NL"},
                         "geometry": {"type": "Polygon", "coordinates": [[[0, 300000], [280000, 300000],
                                                                          [280000, 620000], [0, 620000],
                                                                          [0, 300000]]]}}]}
    (folder / "districts.geojson").write_text(json.dumps(box))
    config = {
        "name": "bench",
        "districts": "districts.geojson",
        "stations": [{"id": sid, "name": str(table.loc[sid, "name"]), "x": float(table.loc[sid].geometry.x),
                      "y": float(table.loc[sid].geometry.y), "file": str(path)} for sid, path in zip(ids, stations)],
        "sensors": [{"file": str(SHARED / "sensors" / "fews" / "WaalenBurg_201810-20190215_prod.zip"),
                     "format": "pi-xml"}],
        "water_boards": [{"id": "NL", "name": "Nederland", "inlet_capacity_m3_day": 1.0}],
        "source": {"supply_m3_day": 1.0},
        "output": {"processed": "processed", "site": "site", "raw_archive": "archive"},
    }
    path = folder / "bench.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def main() -> int:
    if not SHARED.is_dir():
        print(f"bench_ingest: {SHARED} is absent; nothing to measure", file=sys.stderr)
        return 1
    from pipelines.ingest.sources.fews import read_pi_xml
    from pipelines.ingest.sources.knmi import read_knmi_daily

    print(f"{'interpreter and libraries loaded':<46}          peak RSS {_peak_rss_mib():6.0f} MiB")
    stations = sorted((SHARED / "knmi" / "daily").glob("etmgeg_*.zip"))
    export = SHARED / "sensors" / "fews" / "WaalenBurg_201810-20190215_prod.zip"
    measure(f"reader only: KNMI daily, {len(stations)} stations",
            lambda: f"{sum(len(read_knmi_daily(p)) for p in stations):,} rows")
    measure("reader only: PI-XML 7.7 MB export", lambda: f"{len(read_pi_xml(export).events):,} events")

    with tempfile.TemporaryDirectory(prefix="droogte-bench-ingest-") as tmp:
        home = Path(tmp) / "prefect-home"
        home.mkdir()
        os.environ["PREFECT_HOME"] = str(home)
        os.environ.pop("PREFECT_API_URL", None)
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
        from prefect import flow

        from pipelines.ingest.flows import ingest_meteo, ingest_sensors

        @flow(name="bench-warm-up")
        def warm_up() -> str:
            return "temporary Prefect API up"

        config = str(_setup(Path(tmp)))
        measure("Prefect start-up (temporary local API)", warm_up)
        for phase in ("cold", "incremental"):
            measure(f"{phase}: ingest-meteo, {len(stations)} stations",
                    lambda: _summary(ingest_meteo(config_path=config)))
            measure(f"{phase}: ingest-sensors, PI-XML 7.7 MB", lambda: _summary(ingest_sensors(config_path=config)))
    return 0


def _summary(report) -> str:
    return f"+{report.added:,} added, {report.unchanged:,} unchanged, {report.quarantined} quarantined"


if __name__ == "__main__":
    sys.exit(main())
