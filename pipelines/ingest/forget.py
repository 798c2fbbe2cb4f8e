"""Forgetting a file: take the rows one file brought out of the processed tables.

A wrong file (another station's data under this station's name, a test export, a file taken
out of the configuration) must not stay in ``meteo.parquet`` / ``groundwater.parquet`` /
``sensors.parquet`` for ever. ``droogte ingest --forget FILE`` (:func:`forget_file`):

1. finds every version of FILE in ``ingested_files.parquet`` (by path; each version is one
   SHA-256) and reads each version again from the raw archive, which keeps the bytes;
2. removes the rows with the natural keys those versions hold from the source's table, and
   the file's records from ``quarantine.parquet``; series left without rows lose their
   metadata row (``wells.parquet``, ``sensors_meta.parquet``);
3. forgets that the source's *other* files were ingested, so the next ingest reads them again
   and restores any row they share with the forgotten file (the upsert never duplicates);
4. appends a record to ``forgotten.jsonl`` in the processed folder (path, source, SHA-256s,
   rows removed per table, UTC time) and logs it.

The raw archive is never changed. Every table is rewritten atomically (``pipelines.store``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd

from pipelines.ingest import flows
from pipelines.ingest.files import sensor_reader
from pipelines.ingest.sources.dino import read_dino_csv
from pipelines.ingest.sources.knmi import read_knmi_daily, read_knmi_rain_gauge
from pipelines.store import write_parquet

FORGOTTEN_LOG = "forgotten.jsonl"
logger = logging.getLogger("droogte.forget")

_KEYS = {"meteo": ["station", "date"], "groundwater": ["well", "time"], "sensors": ["sensor", "time"]}
_META = {"groundwater": (flows.WELLS_TABLE, "well"), "sensors": (flows.SENSORS_META_TABLE, "sensor")}


def _rows_of(config, source: str, archived: Path, setting: str) -> pd.DataFrame:
    """The rows (natural keys included) one archived file gives, read as the ingest reads it."""
    found = re.search(r"format='([a-z-]+)'", setting)
    fmt = found.group(1) if found else None
    if source == "meteo":
        if fmt == "knmi-rain-gauge":
            return flows.rain_gauge_as_daily(read_knmi_rain_gauge(archived))
        return read_knmi_daily(archived)
    if source == "groundwater":
        return read_dino_csv(archived).levels
    fmt = fmt or {".xml": "pi-xml", ".json": "pi-json"}.get(archived.suffix, "csv")
    return sensor_reader(config, fmt)(archived).events


def _archived(config, source: str, sha256: str) -> Path:
    matches = sorted((config.raw_archive_dir / source / sha256[:2]).glob(f"{sha256}*"))
    if not matches:
        raise FileNotFoundError(f"{config.raw_archive_dir / source / sha256[:2]}: no archived copy of "
                                f"{sha256}; the file's rows cannot be identified")
    return matches[0]


def forget_file(config, path: Path | str) -> dict:
    """Remove the rows of the file at ``path`` (as configured when it was ingested) from the
    processed tables of ``config``; return the log record (see the module docstring)."""
    processed = config.processed_dir
    target = str(Path(path).resolve())
    ingested_path = processed / flows.INGESTED_TABLE
    ingested = pd.read_parquet(ingested_path) if ingested_path.exists() else None
    if ingested is None or not (ingested["path"] == target).any():
        known = [] if ingested is None else sorted(set(ingested["path"]))
        raise ValueError(f"{target}: not among the files ingested into {processed} "
                         f"({ingested_path.name} lists {len(known)} file(s){': ' + ', '.join(known[:5]) if known else ''})")
    versions = ingested[ingested["path"] == target]
    sources = sorted(set(versions["source"]))
    removed: dict[str, int] = {}
    for source in sources:
        table_name, _ = flows.SOURCE_TABLES[source]
        key = _KEYS[source]
        keys = []
        for row in versions[versions["source"] == source].to_dict("records"):
            rows = _rows_of(config, source, _archived(config, source, row["sha256"]), row["setting"])
            keys.append(rows[key])
        keys = pd.concat(keys, ignore_index=True).drop_duplicates()
        table_path = processed / table_name
        if table_path.exists():
            table = pd.read_parquet(table_path)
            hit = pd.MultiIndex.from_frame(table[key]).isin(pd.MultiIndex.from_frame(keys))
            removed[table_name] = int(hit.sum())
            kept = table.loc[~hit].reset_index(drop=True)
            write_parquet(kept, table_path)
            if source in _META and (processed / _META[source][0]).exists():
                meta_name, series = _META[source]
                meta = gpd.read_parquet(processed / meta_name)
                orphan = ~meta[series].isin(set(kept[series]))
                removed[meta_name] = int(orphan.sum())
                write_parquet(meta.loc[~orphan].reset_index(drop=True), processed / meta_name)
    quarantine_path = processed / flows.QUARANTINE_TABLE
    if quarantine_path.exists():
        quarantine = pd.read_parquet(quarantine_path)
        mine = quarantine["path"] == target
        removed[flows.QUARANTINE_TABLE] = int(mine.sum())
        write_parquet(quarantine.loc[~mine].reset_index(drop=True), quarantine_path)
    # The file itself is forgotten; the other files of its sources are read again at the next
    # ingest, so rows they share with the forgotten file come back from them.
    remaining = ingested[~ingested["source"].isin(sources)].reset_index(drop=True)
    write_parquet(remaining, ingested_path)

    configured = {str(Path(e.file).resolve()) for e in (*config.stations, *config.wells, *config.sensors)}
    record = {"path": target, "sources": sources, "sha256": sorted(set(versions["sha256"])),
              "rows_removed": removed, "still_configured": target in configured,
              "forgotten_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    with (processed / FORGOTTEN_LOG).open("a", encoding="utf-8") as log:
        log.write(json.dumps(record) + "\n")
    logger.warning("forgot %s: rows removed %s", target, removed)
    return record
