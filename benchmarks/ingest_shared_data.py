"""Ingest every real file in ``../shared/data`` in one setup and say what happened.

Sizes (November 2026 copy): 11 KNMI daily station files (137,989 station days), 3 KNMI rain
gauges, 5 DINO 2024 and 46 DINO 2019 exports (23 wells/filters in both `_0` and `_1`
layouts), the PI-XML radar-rain file and the 7.7 MB PI-XML production export, and one
sensor CSV written from the production export's first series (the shared data hold no
sensor CSV of their own).

The setup is the demo's (districts, water boards, supply) with its stations, wells and
sensors replaced by the real files; rain gauges are configured as precipitation sources.
Prints, per source: files read / failed (with the reason), rows stored, rows quarantined
by reason, and the wall time of ``ingest-all`` on a temporary Prefect API. Run::

    .venv/bin/python benchmarks/ingest_shared_data.py
"""

from __future__ import annotations

import collections
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))


def write_setup(folder: Path) -> Path:
    """A setup naming every real file of ``../shared/data``; returns its configuration path."""
    from pipelines.demo import write_demo
    from pipelines.ingest.sources.fews import read_pi_xml
    from pipelines.ingest.sources.knmi import knmi_stations

    config_path = write_demo(folder / "raw", processed_dir=folder / "processed", site_dir=folder / "site",
                             archive_dir=folder / "archive")
    data = yaml.safe_load(config_path.read_text())
    known = knmi_stations().set_index("station")
    stations = []
    for path in sorted((SHARED / "knmi" / "daily").glob("etmgeg_*.zip")):
        sid = path.stem.split("_")[1]
        point = known.geometry[sid]
        stations.append({"id": sid, "name": str(known.loc[sid, "name"]), "x": round(point.x), "y": round(point.y),
                         "file": str(path)})
    rain_gauges = []
    for path in sorted((SHARED / "knmi" / "rain-gauges").glob("neerslaggeg_*.txt")):
        sid = path.stem.rsplit("_", 1)[1]
        rain_gauges.append({"id": sid, "name": path.stem.split("_")[1].title(), "x": 150000, "y": 450000,
                            "file": str(path), "format": "knmi-rain-gauge"})
    wells = [{"file": str(p)} for p in sorted((SHARED / "groundwater").glob("dino-*/*.csv"))]
    sensor_csv = folder / "raw" / "sensors" / "waalenburg_first_series.csv"
    production = SHARED / "sensors" / "fews" / "WaalenBurg_201810-20190215_prod.zip"
    series = read_pi_xml(production)
    first = series.events[series.events["sensor"] == series.events["sensor"].iloc[0]]
    pd.DataFrame({"sensor": first["sensor"], "time": first["time"].map(lambda t: t.isoformat()),
                  "value": first["value"], "unit": first["unit"], "flag": first["flag"]}).to_csv(
        sensor_csv, index=False)
    sensors = [{"file": str(SHARED / "sensors" / "fews" / "test_wsvv_fews.xml"), "format": "pi-xml"},
               {"file": str(production), "format": "pi-xml"},
               {"file": str(sensor_csv), "format": "csv"}]
    data.update(stations=stations + rain_gauges, wells=wells, sensors=sensors, allow_inputs_from=[str(SHARED)])
    config_path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return config_path


def _kind_of(reason: str) -> str:
    """A quarantine reason without the key, values and numbers that make each one unique."""
    reason = re.sub(r"^(\w+=[^,]+, )?\w+=\S+( \S+)? is also in", "is also in", reason)
    reason = re.sub(r"\(\{.*\}\)", "(values)", reason)
    reason = re.sub(r"\d+", "#", reason)
    return reason if len(reason) < 110 else reason[:107] + "..."


def main() -> None:
    if not SHARED.is_dir():
        sys.exit(f"no shared data at {SHARED}")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    with tempfile.TemporaryDirectory(prefix="droogte-shared-") as tmp:
        os.environ["PREFECT_HOME"] = str(Path(tmp) / "prefect")
        os.environ.pop("PREFECT_API_URL", None)
        folder = Path(tmp)
        config_path = write_setup(folder)
        from pipelines.config import load_config
        from pipelines.ingest.flows import ingest_all

        started = time.perf_counter()
        reports = ingest_all(config_path=str(config_path))
        elapsed = time.perf_counter() - started
        config = load_config(config_path)
        print(f"ingest-all over every file of {SHARED}: {elapsed:.1f} s (includes Prefect start-up)")
        for source, report in reports.items():
            print(f"\n== {source}")
            if isinstance(report, str):
                print(f"   {report[:400]}")
                continue
            print(f"   {report}")
            for failed in report.failed_files:
                print(f"   FAILED {failed[:300]}")
        for table in ("meteo", "groundwater", "sensors"):
            path = config.processed_dir / f"{table}.parquet"
            if path.exists():
                frame = pd.read_parquet(path)
                series = frame.columns[0]
                print(f"{table}.parquet: {len(frame):,} rows, {frame[series].nunique()} {series}s")
            else:
                print(f"{table}.parquet: not written")
        path = config.processed_dir / "quarantine.parquet"
        if path.exists():
            quarantine = pd.read_parquet(path)
            print(f"quarantine.parquet: {len(quarantine):,} rows")
            reasons = collections.Counter((row.source, _kind_of(row.reason)) for row in quarantine.itertuples())
            for (source, reason), count in sorted(reasons.items(), key=lambda kv: -kv[1])[:40]:
                print(f"   {count:7,}  {source:12} {reason}")


if __name__ == "__main__":
    main()
