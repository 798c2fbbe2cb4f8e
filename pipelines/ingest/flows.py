"""Ingestion flows: archive each source file, read it, quality-check it, store it.

One flow per kind of source — ``ingest-meteo`` (KNMI station files), ``ingest-groundwater``
(DINOloket CSV), ``ingest-sensors`` (Delft-FEWS PI-XML / PI-JSON, sensor CSV) — and
``ingest-all``, which runs the three and reports a failed one without stopping the others.
Each can run alone (``droogte ingest --source meteo``); inside the daily run and the outlook
the same three run as tasks of that flow (``ingest_sources``), not as sub-flows.

For every file: the original bytes go to the raw archive (content-addressed by SHA-256, so
the same bytes twice are stored once); the reader parses it into the form of
``docs/contracts.md`` section 2, setting bad records aside in quarantine with their line and
reason; ``models.qc`` flags every value; the rows are upserted into the processed table on
its natural key, so re-ingesting the same or overlapping files never duplicates.

One bad file never fails a batch: each file is read and checked on its own (the readers
raise nothing but ``SourceFormatError``); a file that cannot be read, or whose rows do not
have the form of the table, is reported in ``SourceReport.failed_files`` with its path and
reason and contributes nothing, while the rest is stored. Files that overlap are reconciled
before anything is written (:mod:`pipelines.ingest.reconcile`): exact duplicates dropped,
conflicting values quarantined with both values. Every table is written whole through a
temporary file (validate first, then write atomically).
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

from models.qc import run_qc, sensor_thresholds
from pipelines.ingest import prefetch
from pipelines.ingest.archive import archive_file
from pipelines.ingest.files import file_readers, ingested
from pipelines.ingest.files import setting as file_setting
from pipelines.ingest.files import stamp as file_stamp
from pipelines.config import Config, load_config
from pipelines.ingest.reconcile import reconcile
from pipelines.ingest.sources.errors import Quarantined, SourceFormatError
from pipelines.ingest.services.bro import BRO_GLD_URL, BRO_MIN_INTERVAL_S, BroGroundwaterLevels
from pipelines.ingest.services.fetch import Fetched, fetch_bro_groundwater, fetch_knmi_daily
from pipelines.ingest.services.http import HttpClient, RetryPolicy
from pipelines.ingest.services.knmi_daggegevens import DAGGEGEVENS_URL, KnmiDaggegevens
from pipelines.ingest.sources.knmi import knmi_stations
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
    #: rows of overlapping files that were exact repeats of a row already read (dropped)
    duplicates_dropped: int = 0

    @property
    def degraded(self) -> bool:
        """True when a file (or a service) of this source failed: the run went on without it."""
        return bool(self.failed_files)

    def __str__(self) -> str:
        failed = f", {len(self.failed_files)} failed" if self.failed_files else ""
        unchanged = f", {self.unchanged_files} unchanged and skipped" if self.unchanged_files else ""
        return (f"{self.files} file(s) read{unchanged}{failed}; rows +{self.added} added, {self.updated} updated, "
                f"{self.unchanged} unchanged; {self.quarantined} quarantined, {self.duplicates_dropped} duplicate(s)"
                f" of overlapping files dropped; qc {self.qc}; newest {self.newest}")


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
    done = ingested(config)
    setting = file_setting(config)
    results, stamps, ahead = [], {}, 0
    for entry, reader in files:
        path = entry.file
        try:
            archived = archive_file(path, config.raw_archive_dir, source=source)
        except OSError as exc:
            logger.error("%s: not ingested: %s: cannot be archived: %s", source, path, exc)
            report.failed_files.append(f"{path}: cannot be archived: {exc}")
            continue
        stamp = file_stamp(source, entry, archived.sha256, setting)
        if stamp in done:
            report.unchanged_files += 1
            continue
        try:
            read = prefetch.take(source, path, archived.sha256)  # parsed while the run started
            ahead += read is not prefetch.MISSING
            results.append((path, reader(path) if read is prefetch.MISSING else read))
            report.files += 1
            stamps[path] = stamp
        except SourceFormatError as exc:  # the readers raise nothing else; the error names the file
            logger.error("%s: not ingested: %s", source, exc)
            report.failed_files.append(str(exc))
    if ahead:
        logger.info("%s: %d file(s) parsed ahead of this task (pipelines/ingest/prefetch.py)", source, ahead)
    return results, report, stamps


def _fail_file(report: SourceReport, stamps: dict, path: Path, message: str, logger) -> None:
    """Take a file that was read back out of the batch: it is reported and stores nothing."""
    logger.error("%s: not ingested: %s: %s", report.source, path, message)
    report.failed_files.append(f"{path}: {message}")
    report.files -= 1
    stamps.pop(path, None)


def check_rows(path: Path, frame: pd.DataFrame, columns: dict[str, str], key: list[str]) -> None:
    """Raise :class:`SourceFormatError` naming ``path`` unless ``frame`` has exactly the
    ``columns`` (name: dtype kind, e.g. ``"f"`` float, ``"M"`` datetime, ``"O"``/``"T"`` text)
    and one row per ``key``: the last check before a file's rows may join a stored table."""
    found = list(frame.columns)
    if sorted(found) != sorted(columns):
        raise SourceFormatError(path, None, f"rows have columns {found}, the table expects {list(columns)}")
    for name, kinds in columns.items():
        if frame[name].dtype.kind not in kinds:
            raise SourceFormatError(path, None, f"column {name} has dtype {frame[name].dtype}, expected kind {kinds}")
    if frame.duplicated(key).any():
        sample = frame.loc[frame.duplicated(key, keep=False), key].head(2).to_dict("records")
        raise SourceFormatError(path, None, f"rows repeat the key {key}, e.g. {sample}")


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
    # pandas 3 writes DataFrame.attrs into the Parquet metadata: reader notes stay out of it
    frame.attrs = {}
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
    # Records without a line (PI events, whole series, conflicts) differ in their text: the
    # text is part of the key, so two bad events of one reason are two records.
    key = ["path", "line", "reason", "text"]
    frame = frame.drop_duplicates(key)
    Store(config.processed_dir).upsert(QUARANTINE_TABLE, frame, key=key)
    return len(frame)


def _finish(config: Config, report: SourceReport, quarantined: list, stamps: dict, logger,
            until: str | None = None) -> SourceReport:
    """Keep the rejected records, remember the files now stored, keep and log the report."""
    report.quarantined = _quarantine(config, report.source, quarantined)
    _remember(config, stamps.values())
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    # The newest data held, whether or not this run brought anything new.
    report.newest = newest_held(config, report.source, until=until) or report.newest
    Store(config.processed_dir).write_text(json.dumps(asdict(report), indent=2),
                                           f"{QC_FOLDER}/{report.source}-{stamp}.json")
    logger.info("%s: %s", report.source, report)
    return report


#: The processed table and time column of each kind of source.
SOURCE_TABLES = {"meteo": (METEO_TABLE, "date"), "groundwater": (GROUNDWATER_TABLE, "time"),
                 "sensors": (SENSORS_TABLE, "time")}


def newest_held(config: Config, source: str, *, until: str | None = None) -> str | None:
    """The newest time stored for ``source`` in its processed table (text), up to the end of
    the UT day ``until`` (YYYY-MM-DD) when given; None when there is none."""
    table, column = SOURCE_TABLES[source]
    path = config.processed_dir / table
    if not path.exists():
        return None
    times = pd.read_parquet(path, columns=[column])[column].dropna()
    if until:
        end = pd.Timestamp(until) + pd.Timedelta(days=1)
        times = times[times < (end.tz_localize("UTC") if getattr(times.dt, "tz", None) is not None else end)]
    return None if times.empty else str(times.max())


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
    with HttpClient(policy=RetryPolicy(deadline_s=config.service_deadline_s)) as http:
        client = KnmiDaggegevens(http, url=service.url or DAGGEGEVENS_URL)
        return fetch_knmi_daily(service.stations, config.processed_dir, config.raw_archive_dir, client=client,
                                until=until, first_day=service.first_day)


@task(name="fetch-bro-gld", cache_policy=NONE)
def fetch_bro_service(config: Config, until: dt.date) -> Fetched:
    """New groundwater levels of the configured BRO dossiers (archived raw), at about 3 requests/s."""
    service = config.bro_service
    with HttpClient(policy=RetryPolicy(deadline_s=config.service_deadline_s), min_interval_s=BRO_MIN_INTERVAL_S) as http:
        client = BroGroundwaterLevels(http, base_url=service.url or BRO_GLD_URL)
        return fetch_bro_groundwater({d.gld: d.well for d in service.dossiers}, config.processed_dir,
                                     config.raw_archive_dir, client=client, until=until,
                                     first_day=service.first_day)


def _fetch(fetch_task, config: Config, until: dt.date, report: SourceReport, logger) -> Fetched | None:
    """Run a service fetch and count its files in ``report``; a service still failing after its
    retries, or past the task's timeout (``services.task_timeout_s``), is reported, not raised,
    and so is every station or dossier that failed alone."""
    state = fetch_task.with_options(timeout_seconds=config.service_task_timeout_s)(config, until, return_state=True)
    if not state.is_completed():
        logger.error("%s: service fetch failed after retries; stored data stay as they were: %s",
                     report.source, state.message)
        report.failed_files.append(f"{fetch_task.name}: {state.message}")
        return None
    fetched = state.result()
    report.files += len(fetched.archived)
    for item, problem in fetched.failed.items():
        logger.error("%s: %s: nothing new fetched, its stored data stay as they were: %s",
                     report.source, item, problem)
        report.failed_files.append(f"{fetch_task.name} {item}: {problem}")
    return fetched


METEO_COLUMNS = {"station": "OT", "date": "M", "precipitation_mm": "f", "evaporation_mm": "f"}
LEVEL_COLUMNS = {"well": "OT", "time": "M", "level_m_nap": "f", "remark": "OT"}
EVENT_COLUMNS = {"sensor": "OT", "time": "M", "value": "f", "unit": "OT", "flag": "iu"}


def rain_gauge_as_daily(frame: pd.DataFrame) -> pd.DataFrame:
    """A rain gauge's 08-08 UTC sums in the ``meteo.parquet`` form: each sum is labelled by the
    UT day on which its period **starts** (the day holding 16 of its 24 hours), evaporation
    missing (a rain gauge measures none). Values stay in mm per period."""
    return pd.DataFrame({
        "station": frame["station"].astype(str),
        "date": (frame["date"] - pd.Timedelta(days=1)).astype("datetime64[us]"),
        "precipitation_mm": frame["precipitation_mm"].astype(float),
        "evaporation_mm": pd.Series(float("nan"), index=frame.index),
    })


@flow(name="ingest-meteo", log_prints=True)
def ingest_meteo(config_path: str | None = None, until: str | None = None, config=None) -> SourceReport:
    """Ingest the setup's KNMI daily station files and rain gauges, and new days from the KNMI
    service where configured, into ``meteo.parquet`` and ``stations.parquet``."""
    return _meteo(_setup(config_path, config), until)


def _meteo(config: Config, until: str | None) -> SourceReport:
    """The work of ``ingest-meteo`` (the flow alone, a task of the daily run)."""
    logger = get_run_logger()
    results, report, stamps = _read_files(config, "meteo", file_readers(config)["meteo"], logger)
    by_file = {s.file: s for s in config.stations}
    parts, quarantined = [], []
    for path, frame in results:
        station = by_file[path]
        found = set(frame["station"].unique())
        if found - {station.id}:
            _fail_file(report, stamps, path, f"holds station(s) {sorted(found)}, the configuration expects"
                       f" {station.id!r}", logger)
            continue
        items = frame.attrs.get("quarantined", [])
        rows = rain_gauge_as_daily(frame) if station.format == "knmi-rain-gauge" else frame
        rows = rows.reset_index(drop=True)
        rows.attrs = {}
        try:
            check_rows(path, rows, METEO_COLUMNS, ["station", "date"])
        except SourceFormatError as exc:
            _fail_file(report, stamps, path, exc.message, logger)
            continue
        parts.append((path, rows))
        quarantined += items
    # stations whose file was read now (a failed file leaves its station's stored row alone)
    read = [s for s in config.stations if any(s.file == path for path, _ in parts)]
    station_table = gpd.GeoDataFrame(
        {"station": [s.id for s in read], "name": [s.name for s in read]},
        geometry=gpd.points_from_xy([s.x for s in read], [s.y for s in read]),
        crs="EPSG:28992",
    )
    if config.knmi_service is not None:
        fetched = _fetch(fetch_knmi_service, config, _until(until), report, logger)
        if fetched is not None:
            rows = fetched.rows.reset_index(drop=True)
            rows.attrs = {}
            parts.append((Path("knmi-daggegevens"), rows))
            quarantined += fetched.quarantined
        known = knmi_stations()
        station_table = pd.concat([station_table, known[known["station"].isin(config.knmi_service.stations)]],
                                  ignore_index=True)
    rows, conflicts, dropped = reconcile(parts, ["station", "date"], ["precipitation_mm", "evaporation_mm"])
    report.duplicates_dropped += dropped
    if len(rows):
        _store(config, METEO_TABLE, rows, ["station", "date"], report,
               variables={"precipitation_mm": "precipitation", "evaporation_mm": "evaporation"},
               series_col="station", time_col="date")
    if len(station_table):
        Store(config.processed_dir).upsert_metadata(STATIONS_TABLE,
                        gpd.GeoDataFrame(station_table.drop_duplicates("station"), crs="EPSG:28992"), key="station")
    return _finish(config, report, quarantined + conflicts, stamps, logger, until)


@flow(name="ingest-groundwater", log_prints=True)
def ingest_groundwater(config_path: str | None = None, until: str | None = None, config=None) -> SourceReport:
    """Ingest the setup's DINOloket CSV files, and new levels from BRO where configured, into
    ``groundwater.parquet`` and ``wells.parquet``.

    Where files of one well overlap, a file with levels in m NAP of its own wins over one whose
    levels were derived from depths below the surface (DINO's ``_0`` layout); between equals,
    the file listed first in the configuration wins (:mod:`pipelines.ingest.reconcile`).
    """
    return _groundwater(_setup(config_path, config), until)


def _groundwater(config: Config, until: str | None) -> SourceReport:
    """The work of ``ingest-groundwater`` (the flow alone, a task of the daily run)."""
    logger = get_run_logger()
    results, report, stamps = _read_files(config, "groundwater", file_readers(config)["groundwater"], logger)
    limits = {w.file: w.lower_limit_m_nap for w in config.wells}
    order = {w.file: i for i, w in enumerate(config.wells)}
    # NAP levels of the file's own before derived ones, then configuration order (stable sort)
    results.sort(key=lambda item: (item[1].levels_from != "nap", order[item[0]]))
    parts, wells, quarantined = [], [], []
    for path, record in results:
        try:
            check_rows(path, record.levels, LEVEL_COLUMNS, ["well", "time"])
        except SourceFormatError as exc:
            _fail_file(report, stamps, path, exc.message, logger)
            continue
        well_table = record.wells.copy()
        if limits[path] is not None:
            well_table["lower_limit_m_nap"] = limits[path]
        parts.append((path, record.levels))
        wells.append(well_table)
        quarantined += record.quarantined
    if config.bro_service is not None:
        fetched = _fetch(fetch_bro_service, config, _until(until), report, logger)
        if fetched is not None:
            parts.append((Path("bro-gld"), fetched.rows.reset_index(drop=True)))
            quarantined += fetched.quarantined
        dossiers = config.bro_service.dossiers
        wells.append(gpd.GeoDataFrame(
            {"well": [d.well for d in dossiers], "location": [d.well.rsplit("-", 1)[0] for d in dossiers],
             "filter": [d.well.rsplit("-", 1)[-1] for d in dossiers],
             "lower_limit_m_nap": [d.lower_limit_m_nap for d in dossiers]},
            geometry=gpd.points_from_xy([d.x for d in dossiers], [d.y for d in dossiers]), crs="EPSG:28992"))
    rows, conflicts, dropped = reconcile(parts, ["well", "time"], ["level_m_nap", "remark"])
    report.duplicates_dropped += dropped
    if len(rows):
        _store(config, GROUNDWATER_TABLE, rows, ["well", "time"], report,
               variables={"level_m_nap": "groundwater_level"}, series_col="well", time_col="time")
    if wells:
        # one row per well, from the file that wins for its levels too
        table = pd.concat(wells, ignore_index=True).drop_duplicates("well", keep="first")
        Store(config.processed_dir).upsert_metadata(WELLS_TABLE, table, key="well")
    return _finish(config, report, quarantined + conflicts, stamps, logger, until)


def water_level_series(path: Path, series, config: Config) -> tuple[pd.DataFrame, pd.DataFrame, list, dict]:
    """The series of one sensor file that are water levels, with their QC thresholds.

    ``sensors.parquet`` holds surface-water levels; a series in another unit (radar rain in mm,
    a fill degree in %) is refused here with one quarantine record naming its unit, instead of
    being judged by water-level thresholds and failing every later run. Returns the events and
    metadata kept, the quarantine records and the thresholds per sensor (in its unit).
    """
    per_parameter = [(q.parameter, q.unit, q.tests) for q in config.ingest.sensor_qc]
    meta = series.meta
    thresholds, refused = {}, []
    for row in meta.itertuples(index=False):
        limits = sensor_thresholds(row.parameter, row.unit, config.qc_thresholds, per_parameter)
        if limits is None:
            refused.append(Quarantined(path, None, f"series {row.sensor} has unit {row.unit!r}, not a water level"
                                       " (expected one of m, m NAP, cm, ...): sensors.parquet holds water levels;"
                                       " the series is not stored", f"{row.sensor} [{row.unit}]"))
        else:
            thresholds[row.sensor] = limits
    events = series.events[series.events["sensor"].isin(thresholds)].reset_index(drop=True)
    kept_meta = meta[meta["sensor"].isin(thresholds)].reset_index(drop=True)
    return events, kept_meta, refused, thresholds


@flow(name="ingest-sensors", log_prints=True)
def ingest_sensors(config_path: str | None = None, until: str | None = None, config=None) -> SourceReport:
    """Ingest the setup's sensor files into ``sensors.parquet`` and ``sensors_meta.parquet``.

    Only water-level series are stored (:func:`water_level_series`); QC thresholds are those
    of each series' parameter and unit. Overlapping files: the one listed first wins.
    """
    return _sensors(_setup(config_path, config), until)


def _sensors(config: Config, until: str | None) -> SourceReport:
    """The work of ``ingest-sensors`` (the flow alone, a task of the daily run)."""
    logger = get_run_logger()
    results, report, stamps = _read_files(config, "sensors", file_readers(config)["sensors"], logger)
    parts, meta, quarantined, thresholds = [], [], [], {}
    for path, series in results:
        events, kept_meta, refused, limits = water_level_series(path, series, config)
        if len(series.meta) and kept_meta.empty:
            units = sorted(set(series.meta["unit"]))
            _fail_file(report, stamps, path, f"holds no water-level series (units {units})", logger)
            quarantined += refused
            continue
        try:
            check_rows(path, events, EVENT_COLUMNS, ["sensor", "time"])
        except SourceFormatError as exc:
            _fail_file(report, stamps, path, exc.message, logger)
            continue
        parts.append((path, events))
        meta.append(kept_meta)
        quarantined += series.quarantined + refused
        for sensor, limit in limits.items():
            thresholds.setdefault(sensor, limit)
    rows, conflicts, dropped = reconcile(parts, ["sensor", "time"], ["value", "unit", "flag"])
    report.duplicates_dropped += dropped
    if len(rows):
        _store_sensors(config, rows, thresholds, report)
    if meta:
        table = pd.concat(meta, ignore_index=True).drop_duplicates("sensor", keep="first")
        Store(config.processed_dir).upsert_metadata(SENSORS_META_TABLE, table, key="sensor")
    return _finish(config, report, quarantined + conflicts, stamps, logger, until)


def _store_sensors(config: Config, rows: pd.DataFrame, thresholds: dict[str, dict], report: SourceReport) -> None:
    """QC each sensor by the thresholds of its parameter and unit, then upsert the events."""
    frame = rows.copy()
    frame.attrs = {}
    frame["qc_value"] = 0
    groups: dict[str, list[str]] = {}
    for sensor, limits in thresholds.items():
        groups.setdefault(repr(sorted(limits.items())), []).append(sensor)
    for sensors in groups.values():
        part = frame["sensor"].isin(sensors)
        if not part.any():
            continue
        flags, summary = run_qc(frame.loc[part], variable="sensor", value_col="value", time_col="time",
                                series_col="sensor", thresholds={"sensor": thresholds[sensors[0]]})
        frame.loc[part, "qc_value"] = flags
        for test, count in summary.items():
            report.qc[test] = report.qc.get(test, 0) + int(count)
    frame["qc_value"] = frame["qc_value"].astype("int64")
    result = Store(config.processed_dir).upsert(SENSORS_TABLE, frame, key=["sensor", "time"])
    report.added += result.added
    report.updated += result.updated
    report.unchanged += result.unchanged
    report.newest = str(frame["time"].max())


# The same three ingests as tasks, for flows that ingest on their way (the daily run, the
# outlook, ingest-all): a sub-flow run costs about 0.5-0.8 s of Prefect bookkeeping more than a
# task run (its own flow run, states, logger and result handling on the API), three of them
# plus ingest-all about 2.3 s of the demo's daily run. As tasks they keep their own state, log
# and name in the Prefect UI, and a failure of one is still reported without stopping the rest.
meteo_task = task(name="ingest-meteo", cache_policy=NONE)(_meteo)
groundwater_task = task(name="ingest-groundwater", cache_policy=NONE)(_groundwater)
sensors_task = task(name="ingest-sensors", cache_policy=NONE)(_sensors)


def ingest_sources(config: Config, until: str | None = None) -> dict[str, SourceReport | str]:
    """Run the three ingest tasks inside the calling flow; a source that fails is reported
    (``"FAILED: ..."``) and the others still run.

    ``until`` (YYYY-MM-DD, default today in UTC) is the last UT day asked of the services.
    """
    logger = get_run_logger()
    reports: dict[str, SourceReport | str] = {}
    for name, source_task in (("meteo", meteo_task), ("groundwater", groundwater_task),
                              ("sensors", sensors_task)):
        state = source_task(config, until, return_state=True)
        if state.is_completed():
            reports[name] = state.result()
        else:
            reports[name] = f"FAILED: {state.message}"
            logger.error("ingest of %s failed; the stored %s data stay as they were: %s",
                         name, name, state.message)
    return reports


@flow(name="ingest-all", log_prints=True)
def ingest_all(config_path: str | None = None, until: str | None = None, config=None) -> dict[str, SourceReport | str]:
    """Run every ingest (as tasks of this flow); a source that fails is reported and the
    others still run.

    ``until`` (YYYY-MM-DD, default today in UTC) is the last UT day asked of the services.
    """
    return ingest_sources(_setup(config_path, config), until)
