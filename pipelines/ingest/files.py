"""The setup's source files as the ingest reads them: the reader of each file, and the stamp
that tells whether the same bytes were ingested before with the same settings.

Without Prefect: the files' readers and stamps are what the ingest tasks
(``pipelines/ingest/flows.py``) and the read-ahead (:func:`read_ahead`,
``pipelines/ingest/prefetch.py``) share.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from pipelines.config import Config
from pipelines.ingest import prefetch
from pipelines.ingest.sources.dino import read_dino_csv
from pipelines.ingest.sources.errors import PlausibleDates
from pipelines.ingest.sources.fews import read_pi_json, read_pi_xml
from pipelines.ingest.sources.knmi import read_knmi_daily, read_knmi_rain_gauge
from pipelines.ingest.sources.sensor_csv import read_sensor_csv
from pipelines.store import INGESTED_TABLE, Store

STATION_READERS = {"knmi-daily": read_knmi_daily, "knmi-rain-gauge": read_knmi_rain_gauge}
SENSOR_READERS = {"pi-xml": read_pi_xml, "pi-json": read_pi_json, "csv": read_sensor_csv}


def plausible_dates(config: Config) -> PlausibleDates:
    return PlausibleDates(config.ingest.first_plausible_date, config.ingest.plausible_days_ahead)


def sensor_reader(config: Config, fmt: str) -> Callable:
    window = plausible_dates(config)
    if fmt == "csv":
        return functools.partial(read_sensor_csv, dates=window)
    return functools.partial(SENSOR_READERS[fmt], dates=window, identity=config.ingest.pi_series_identity)


def file_readers(config: Config) -> dict[str, list[tuple[object, Callable]]]:
    """Per source, the setup's files (configuration entries with their ``file``) and the
    reader of each, in the order the source's ingest reads them."""
    window = plausible_dates(config)
    read_dino = functools.partial(read_dino_csv, dates=window)
    return {
        "meteo": [(s, functools.partial(STATION_READERS[s.format], dates=window)) for s in config.stations],
        "groundwater": [(w, read_dino) for w in config.wells],
        "sensors": [(s, sensor_reader(config, s.format)) for s in config.sensors],
    }


def setting(config: Config) -> str:
    """The part of every file's stamp that the setup decides: the QC thresholds and the ingest
    settings (new ones judge every file anew)."""
    qc = repr(sorted((variable, sorted(tests.items())) for variable, tests in config.qc_thresholds.items()))
    return f"qc={qc} ingest={config.ingest!r}"


def stamp(source: str, entry, sha256: str, file_setting: str) -> tuple:
    """What identifies one ingest of a file: its source, path, bytes and setting."""
    return (source, str(entry.file), sha256, f"{entry!r} {file_setting}")


def ingested(config: Config) -> set[tuple]:
    """The stamps of the files ingested into the setup's processed store."""
    table = Store(config.processed_dir).table(INGESTED_TABLE)
    if table is None:
        return set()
    return set(zip(table["source"], table["path"], table["sha256"], table["setting"], strict=True))


def read_ahead(config: Config) -> bool:
    """Start reading the setup's files in a child process (:mod:`pipelines.ingest.prefetch`)
    for the ingest tasks of a run that follows in this process; whether it started."""
    done = ingested(config)
    file_setting = setting(config)

    def known(sha256: str, source: str, entry) -> bool:
        return stamp(source, entry, sha256, file_setting) in done

    jobs = [(source, entry.file, reader, functools.partial(known, source=source, entry=entry))
            for source, files in file_readers(config).items() for entry, reader in files]
    return prefetch.start(jobs)
