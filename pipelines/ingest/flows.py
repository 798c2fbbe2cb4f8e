"""Ingestion flows: archive each source file, read it, quality-check it, store it.

One flow per kind of source — ``ingest-meteo`` (KNMI station files), ``ingest-groundwater``
(DINOloket CSV), ``ingest-sensors`` (Delft-FEWS PI-XML / PI-JSON, sensor CSV) — and
``ingest-all``, which runs the three and reports a failed one without stopping the others.
Each can run alone (``droogte ingest --source meteo``) or inside the daily run.

For every file: the original bytes go to the raw archive (content-addressed by SHA-256, so
the same bytes twice are stored once); the reader parses it into the form of
``docs/contracts.md`` section 2, setting bad records aside in quarantine with their line and
reason; ``models.qc`` flags every value; the rows are upserted into the processed table on
its natural key, so re-ingesting the same or overlapping files never duplicates. A file that
cannot be read at all fails that file only: the other files still ingest and the stored
tables stay as they were.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from models.qc import run_qc
from pipelines.ingest.archive import archive_file
from pipelines.config import Config, load_config
from pipelines.ingest.sources.dino import read_dino_csv
from pipelines.ingest.sources.errors import SourceFormatError
from pipelines.ingest.sources.fews import read_pi_json, read_pi_xml
from pipelines.ingest.services.bro import BRO_GLD_URL, BRO_MIN_INTERVAL_S, BroGroundwaterLevels
from pipelines.ingest.services.fetch import Fetched, fetch_bro_groundwater, fetch_knmi_daily
from pipelines.ingest.services.http import HttpClient
from pipelines.ingest.services.knmi_daggegevens import DAGGEGEVENS_URL, KnmiDaggegevens
from pipelines.ingest.sources.knmi import knmi_stations, read_knmi_daily
from pipelines.ingest.sources.sensor_csv import read_sensor_csv
from pipelines.store import (GROUNDWATER_TABLE, INGESTED_TABLE, METEO_TABLE, QC_FOLDER, QUARANTINE_TABLE,
                             SENSORS_META_TABLE, SENSORS_TABLE, STATIONS_TABLE, WELLS_TABLE, Store)


@dataclass
class SourceReport:
    """What one ingest flow did: files read or failed, rows stored, values flagged."""

    source: str
    files: int = 0
    unchanged_files: int = 0
    failed_files: list[str] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    qc: dict[str, int] = field(default_factory=dict)
    newest: str | None = None

    def __str__(self) -> str:
        failed = f", {len(self.failed_files)} failed" if self.failed_files else ""
        unchanged = f", {self.unchanged_files} unchanged and skipped" if self.unchanged_files else ""
        return (f"{self.files} file(s) read{unchanged}{failed}; rows +{self.added} added, {self.updated} updated, "
                f"{self.unchanged} unchanged; {self.quarantined} quarantined; qc {self.qc}; "
                f"newest {self.newest}")


def _read_files(config: Config, source: str, files: list[tuple[object, Callable]], logger
                ) -> tuple[list, SourceReport, dict[Path, tuple]]:
    """Archive each configured file and read the ones not ingested before.

    ``files`` pairs a configuration entry (with its ``file``) and its reader. A file whose
    bytes, configuration entry and QC thresholds were ingested before is skipped (nothing new
    in it); a file
    that cannot be read is reported and skipped. Returns the (path, data) read, the report and,
    per path read, the stamp to remember once its rows are stored (:func:`_remember`).
    """
    report = SourceReport(source)
    done = _ingested(config)
    # The QC thresholds are part of every file's setting: new thresholds flag everything anew.
    qc = repr(sorted((variable, sorted(tests.items())) for variable, tests in config.qc_thresholds.items()))
    results, stamps = [], {}
    for entry, reader in files:
        path = entry.file
        archived = archive_file(path, config.raw_archive_dir, source=source)
        stamp = (source, str(path), archived.sha256, f"{entry!r} qc={qc}")
        if stamp in done:
            report.unchanged_files += 1
            continue
        try:
            results.append((path, reader(path)))
            report.files += 1
            stamps[path] = stamp
        except (SourceFormatError, OSError, ValueError) as exc:
            logger.error("%s: not ingested: %s", source, exc)
            report.failed_files.append(f"{path}: {exc}")
    return results, report, stamps


def _ingested(config: Config) -> set[tuple]:
    table = Store(config.processed_dir).table(INGESTED_TABLE)
    if table is None:
        return set()
    return set(zip(table["source"], table["path"], table["sha256"], table["setting"], strict=True))


def _remember(config: Config, stamps) -> None:
    """Record files whose rows are now stored, so an unchanged file is not read again."""
    stamps = list(stamps)
    if not stamps:
        return
    frame = pd.DataFrame(stamps, columns=["source", "path", "sha256", "setting"])
    frame["ingested_at"] = pd.Timestamp.now(tz="UTC")
    Store(config.processed_dir).upsert(INGESTED_TABLE, frame, key=["source", "path", "sha256", "setting"])


def _store(config: Config, table: str, frame: pd.DataFrame, key: list[str], report: SourceReport,
           *, variables: dict[str, str], series_col: str, time_col: str) -> None:
    """Quality-flag ``frame`` and upsert it into ``table``; fill the report's counts."""
    frame = frame.copy()
    for value_col, variable in variables.items():
        flags, summary = run_qc(frame, variable=variable, value_col=value_col, time_col=time_col,
                                series_col=series_col, thresholds=config.qc_thresholds)
        frame[f"qc_{value_col}"] = flags
        for test, count in summary.items():
            report.qc[test] = report.qc.get(test, 0) + int(count)
    result = Store(config.processed_dir).upsert(table, frame, key=key)
    report.added += result.added
    report.updated += result.updated
    report.unchanged += result.unchanged
    if len(frame):
        report.newest = str(frame[time_col].max())


def _quarantine(config: Config, source: str, items: list) -> int:
    """Keep rejected records with their file, line and reason in the quarantine table."""
    if not items:
        return 0
    now = pd.Timestamp.now(tz="UTC")
    frame = pd.DataFrame([
        {"source": source, "path": str(q.path), "line": -1 if q.line is None else int(q.line),
         "reason": q.reason, "text": q.text, "quarantined_at": now} for q in items
    ])
    Store(config.processed_dir).upsert(QUARANTINE_TABLE, frame, key=["path", "line", "reason"])
    return len(items)


def _finish(config: Config, report: SourceReport, quarantined: list, stamps: dict, logger) -> SourceReport:
    """Keep the rejected records, remember the files now stored, keep and log the report."""
    report.quarantined = _quarantine(config, report.source, quarantined)
    _remember(config, stamps.values())
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    Store(config.processed_dir).write_text(json.dumps(asdict(report), indent=2),
                                           f"{QC_FOLDER}/{report.source}-{stamp}.json")
    logger.info("%s: %s", report.source, report)
    return report


def _setup(config_path: str | None, config: Config | None) -> Config:
    """The setup of a flow run: the loaded ``config`` a calling flow hands over (the daily run
    loads and checks its setup once), else the file at ``config_path`` (a deployment's or the
    CLI's parameter), loaded here."""
    if config is not None:
        return config
    if config_path is None:
        raise ValueError("an ingest flow needs config_path (a setup file) or the loaded config")
    return load_config(config_path)


def _until(until: str | None) -> dt.date:
    return dt.date.fromisoformat(until) if until else dt.datetime.now(dt.UTC).date()


# One retry layer: the HTTP client (pipelines/ingest/services/http.py, RetryPolicy) tries each
# request again on 429, 5xx and time-outs with growing waits and Retry-After. The fetch tasks
# add no Prefect retries on top: that would multiply the attempts (and the load on a service
# that is down) without helping; a service still failing is reported in the run instead.
@task(name="fetch-knmi-daggegevens", cache_policy=NONE)
def fetch_knmi_service(config: Config, until: dt.date) -> Fetched:
    """New days of the configured KNMI stations from the daggegevens service (archived raw)."""
    service = config.knmi_service
    with HttpClient() as http:
        client = KnmiDaggegevens(http, url=service.url or DAGGEGEVENS_URL)
        return fetch_knmi_daily(service.stations, config.processed_dir, config.raw_archive_dir, client=client,
                                until=until, first_day=service.first_day)


@task(name="fetch-bro-gld", cache_policy=NONE)
def fetch_bro_service(config: Config, until: dt.date) -> Fetched:
    """New groundwater levels of the configured BRO dossiers (archived raw), at about 3 requests/s."""
    service = config.bro_service
    with HttpClient(min_interval_s=BRO_MIN_INTERVAL_S) as http:
        client = BroGroundwaterLevels(http, base_url=service.url or BRO_GLD_URL)
        return fetch_bro_groundwater({d.gld: d.well for d in service.dossiers}, config.processed_dir,
                                     config.raw_archive_dir, client=client, until=until,
                                     first_day=service.first_day)


def _fetch(fetch_task, config: Config, until: dt.date, report: SourceReport, logger) -> Fetched | None:
    """Run a service fetch and count its files in ``report``; a service still failing after its
    retries is reported, not raised."""
    state = fetch_task(config, until, return_state=True)
    if not state.is_completed():
        logger.error("%s: service fetch failed after retries; stored data stay as they were: %s",
                     report.source, state.message)
        report.failed_files.append(f"{fetch_task.name}: {state.message}")
        return None
    fetched = state.result()
    report.files += len(fetched.archived)
    return fetched


@flow(name="ingest-meteo", log_prints=True)
def ingest_meteo(config_path: str | None = None, until: str | None = None, config=None) -> SourceReport:
    """Ingest the setup's KNMI daily station files, and new days from the KNMI service where
    configured, into ``meteo.parquet`` and ``stations.parquet``."""
    config = _setup(config_path, config)
    logger = get_run_logger()
    results, report, stamps = _read_files(config, "meteo", [(s, read_knmi_daily) for s in config.stations], logger)
    by_file = {s.file: s for s in config.stations}
    frames, quarantined = [], []
    for path, frame in results:
        station = by_file[path]
        found = set(frame["station"].unique())
        if found - {station.id}:
            message = f"holds station(s) {sorted(found)}, the configuration expects {station.id!r}"
            logger.error("meteo: %s: %s", path, message)
            report.failed_files.append(f"{path}: {message}")
            report.files -= 1
            del stamps[path]
            continue
        frames.append(frame)
        quarantined += frame.attrs.get("quarantined", [])
    station_table = gpd.GeoDataFrame(
        {"station": [s.id for s in config.stations], "name": [s.name for s in config.stations]},
        geometry=gpd.points_from_xy([s.x for s in config.stations], [s.y for s in config.stations]),
        crs="EPSG:28992",
    )
    if config.knmi_service is not None:
        fetched = _fetch(fetch_knmi_service, config, _until(until), report, logger)
        if fetched is not None:
            frames.append(fetched.rows)
            quarantined += fetched.quarantined
        known = knmi_stations()
        station_table = pd.concat([station_table, known[known["station"].isin(config.knmi_service.stations)]],
                                  ignore_index=True)
    if frames:
        _store(config, METEO_TABLE, pd.concat(frames, ignore_index=True), ["station", "date"], report,
               variables={"precipitation_mm": "precipitation", "evaporation_mm": "evaporation"},
               series_col="station", time_col="date")
    Store(config.processed_dir).upsert_metadata(STATIONS_TABLE, gpd.GeoDataFrame(station_table, crs="EPSG:28992"),
                                                key="station")
    return _finish(config, report, quarantined, stamps, logger)


@flow(name="ingest-groundwater", log_prints=True)
def ingest_groundwater(config_path: str | None = None, until: str | None = None, config=None) -> SourceReport:
    """Ingest the setup's DINOloket CSV files, and new levels from BRO where configured, into
    ``groundwater.parquet`` and ``wells.parquet``."""
    config = _setup(config_path, config)
    logger = get_run_logger()
    results, report, stamps = _read_files(config, "groundwater", [(w, read_dino_csv) for w in config.wells], logger)
    limits = {w.file: w.lower_limit_m_nap for w in config.wells}
    levels, wells, quarantined = [], [], []
    for path, record in results:
        well_table = record.wells.copy()
        if limits[path] is not None:
            well_table["lower_limit_m_nap"] = limits[path]
        levels.append(record.levels)
        wells.append(well_table)
        quarantined += record.quarantined
    if config.bro_service is not None:
        fetched = _fetch(fetch_bro_service, config, _until(until), report, logger)
        if fetched is not None:
            levels.append(fetched.rows)
            quarantined += fetched.quarantined
        dossiers = config.bro_service.dossiers
        wells.append(gpd.GeoDataFrame(
            {"well": [d.well for d in dossiers], "location": [d.well.rsplit("-", 1)[0] for d in dossiers],
             "filter": [d.well.rsplit("-", 1)[-1] for d in dossiers],
             "lower_limit_m_nap": [d.lower_limit_m_nap for d in dossiers]},
            geometry=gpd.points_from_xy([d.x for d in dossiers], [d.y for d in dossiers]), crs="EPSG:28992"))
    if levels:
        _store(config, GROUNDWATER_TABLE, pd.concat(levels, ignore_index=True), ["well", "time"], report,
               variables={"level_m_nap": "groundwater_level"}, series_col="well", time_col="time")
    if wells:
        Store(config.processed_dir).upsert_metadata(WELLS_TABLE, pd.concat(wells, ignore_index=True), key="well")
    return _finish(config, report, quarantined, stamps, logger)


_SENSOR_READERS = {"pi-xml": read_pi_xml, "pi-json": read_pi_json, "csv": read_sensor_csv}


@flow(name="ingest-sensors", log_prints=True)
def ingest_sensors(config_path: str | None = None, until: str | None = None, config=None) -> SourceReport:
    """Ingest the setup's sensor files into ``sensors.parquet`` and ``sensors_meta.parquet``."""
    config = _setup(config_path, config)
    logger = get_run_logger()
    files = [(s, _SENSOR_READERS[s.format]) for s in config.sensors]
    results, report, stamps = _read_files(config, "sensors", files, logger)
    events, meta, quarantined = [], [], []
    for _, series in results:
        events.append(series.events)
        meta.append(series.meta)
        quarantined += series.quarantined
    if events:
        _store(config, SENSORS_TABLE, pd.concat(events, ignore_index=True), ["sensor", "time"], report,
               variables={"value": "water_level"}, series_col="sensor", time_col="time")
    if meta:
        Store(config.processed_dir).upsert_metadata(SENSORS_META_TABLE, pd.concat(meta, ignore_index=True),
                                                    key="sensor")
    return _finish(config, report, quarantined, stamps, logger)


@flow(name="ingest-all", log_prints=True)
def ingest_all(config_path: str | None = None, until: str | None = None, config=None) -> dict[str, SourceReport | str]:
    """Run every ingest flow; a source that fails is reported and the others still run.

    ``until`` (YYYY-MM-DD, default today in UTC) is the last UT day asked of the services.
    """
    config = _setup(config_path, config)
    logger = get_run_logger()
    reports: dict[str, SourceReport | str] = {}
    for name, source_flow in (("meteo", ingest_meteo), ("groundwater", ingest_groundwater),
                              ("sensors", ingest_sensors)):
        state = source_flow(until=until, config=config, return_state=True)
        if state.is_completed():
            reports[name] = state.result()
        else:
            reports[name] = f"FAILED: {state.message}"
            logger.error("ingest of %s failed; the stored %s data stay as they were: %s",
                         name, name, state.message)
    return reports
