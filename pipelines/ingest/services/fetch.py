"""Fetch from the public services only what is newer than what is stored.

Each function asks :func:`pipelines.store.latest` for the newest stored day per station or
well, asks the service from the day after it up to ``until``, keeps every answer unchanged
in the raw archive (:func:`pipelines.ingest.archive.archive_file`, content-addressed, so the same
answer twice is stored once) and returns the new rows in the processed-table form, ready
for :func:`pipelines.store.upsert`. Nothing is written to the processed tables here: the
ingest flows quality-check the rows first.

A service that fails raises :class:`~pipelines.ingest.services.http.ServiceError`; rows already
stored stay as they were.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines.ingest.archive import ArchiveEntry, archive_file
from pipelines.ingest.services.bro import BroGroundwaterLevels, read_gld
from pipelines.ingest.services.http import ServiceResponseError
from pipelines.ingest.services.knmi_daggegevens import Download, KnmiDaggegevens, read_daggegevens
from pipelines.ingest.sources.errors import Quarantined
from pipelines.store import GROUNDWATER_TABLE, METEO_TABLE, latest

#: Folder names in the raw archive, one per feed.
KNMI_DAILY_SOURCE = "knmi-daggegevens"
BRO_GLD_SOURCE = "bro-gld"


@dataclass
class Fetched:
    """What a fetch brought: new ``rows`` for upsert, the archived answers, records set aside,
    and the stations or wells that were already up to date (nothing asked for them)."""

    rows: pd.DataFrame
    archived: list[ArchiveEntry] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    up_to_date: list[str] = field(default_factory=list)


def _as_date(value) -> dt.date:
    return pd.Timestamp(value).date()


def _archive(download: Download, raw_root: Path, source: str) -> tuple[ArchiveEntry, Path]:
    entry = archive_file(download.path, raw_root, source=source, retrieved_at=download.retrieved_at)
    return entry, Path(raw_root) / entry.stored_path


def fetch_knmi_daily(
    stations: Iterable[str],
    processed_dir: Path,
    raw_root: Path,
    *,
    client: KnmiDaggegevens,
    until: dt.date,
    first_day: dt.date | None = None,
) -> Fetched:
    """New daily precipitation and evaporation (mm/day) per KNMI station, in ``meteo.parquet`` form.

    Each station is asked from the day after its newest stored ``date`` (or ``first_day``,
    default 1 January of ``until``'s year, when nothing is stored) to the UT day ``until``.
    Stations that start on the same day share one request. Rows outside that span or of
    stations not asked for are dropped (the service may answer more than was asked).
    """
    stations = [str(s) for s in stations]
    stored = {str(k): _as_date(v) for k, v in latest(Path(processed_dir) / METEO_TABLE, "station", "date").items()}
    first_day = first_day or dt.date(until.year, 1, 1)
    by_start: dict[dt.date, list[str]] = defaultdict(list)
    result = Fetched(rows=_empty_meteo())
    for station in stations:
        start = stored[station] + dt.timedelta(days=1) if station in stored else first_day
        if start > until:
            result.up_to_date.append(station)
        else:
            by_start[start].append(station)

    frames = []
    with tempfile.TemporaryDirectory(prefix="droogte-knmi-") as folder:
        for start, group in sorted(by_start.items()):
            download = client.download(group, start, until, Path(folder))
            entry, archived = _archive(download, raw_root, KNMI_DAILY_SOURCE)
            result.archived.append(entry)
            frame = read_daggegevens(archived, url=download.url)
            result.quarantined += frame.attrs.get("quarantined", [])
            wanted = frame["station"].isin(group) & frame["date"].between(pd.Timestamp(start), pd.Timestamp(until))
            frames.append(frame.loc[wanted])
    if frames:
        result.rows = pd.concat([result.rows, *frames], ignore_index=True).sort_values(
            ["station", "date"], ignore_index=True)
    return result


def fetch_bro_groundwater(
    dossiers: Mapping[str, str],
    processed_dir: Path,
    raw_root: Path,
    *,
    client: BroGroundwaterLevels,
    until: dt.date,
    first_day: dt.date | None = None,
) -> Fetched:
    """New daily groundwater levels (m NAP) from BRO dossiers, in ``groundwater.parquet`` form.

    ``dossiers`` maps each GLD id to the well it measures (``"GMW000000041234-001"``, see
    :func:`pipelines.ingest.services.bro.well_id`); a dossier that names another tube raises
    :class:`ServiceResponseError`, so levels never land on the wrong well. Each dossier is
    asked from the day after its well's newest stored ``time`` (or ``first_day``; the whole
    record when None) to ``until``.
    """
    stored = {str(k): _as_date(v) for k, v in
              latest(Path(processed_dir) / GROUNDWATER_TABLE, "well", "time").items()}
    result = Fetched(rows=_empty_groundwater())
    frames = []
    with tempfile.TemporaryDirectory(prefix="droogte-bro-") as folder:
        for gld_id, well in dossiers.items():
            begin = stored[well] + dt.timedelta(days=1) if well in stored else first_day
            if begin is not None and begin > until:
                result.up_to_date.append(well)
                continue
            download = client.download(gld_id, Path(folder), begin=begin, end=until)
            entry, archived = _archive(download, raw_root, BRO_GLD_SOURCE)
            result.archived.append(entry)
            record = read_gld(Download(archived, download.url, download.retrieved_at))
            if record.well != well:
                raise ServiceResponseError(download.url, f"dossier {gld_id} measures well {record.well}, "
                                           f"the configuration expects {well}")
            result.quarantined += record.quarantined
            levels = record.levels
            keep = levels["time"] <= pd.Timestamp(until)
            if begin is not None:
                keep &= levels["time"] >= pd.Timestamp(begin)
            frames.append(levels.loc[keep])
    if frames:
        result.rows = pd.concat([result.rows, *frames], ignore_index=True).sort_values(
            ["well", "time"], ignore_index=True)
    return result


def _empty_meteo() -> pd.DataFrame:
    return pd.DataFrame({"station": pd.Series([], dtype=str), "date": pd.Series([], dtype="datetime64[us]"),
                         "precipitation_mm": pd.Series([], dtype="float64"),
                         "evaporation_mm": pd.Series([], dtype="float64")})


def _empty_groundwater() -> pd.DataFrame:
    return pd.DataFrame({"well": pd.Series([], dtype=str), "time": pd.Series([], dtype="datetime64[us]"),
                         "level_m_nap": pd.Series([], dtype="float64"), "remark": pd.Series([], dtype=str)})
