"""Fetch from the public services only what is newer than what is stored.

Each function asks :func:`pipelines.store.latest` for the newest stored day per station or
well, asks the service from the day after it up to ``until``, keeps every answer unchanged
in the raw archive (:func:`pipelines.ingest.archive.archive_file`, content-addressed, so the same
answer twice is stored once) and returns the new rows in the processed-table form, ready
for :func:`pipelines.store.upsert`. Nothing is written to the processed tables here: the
ingest flows quality-check the rows first.

Stations and dossiers stand alone: one that fails (a 404, a refused answer) is listed in
:attr:`Fetched.failed` and the others still bring their rows. A service that gives no answer
at all (down, hanging until the request's deadline) is not asked again in the same fetch:
the items not asked are listed as failed too, so a hanging service costs one deadline, not
one per item. An answer is read before it is archived: a refused answer (an HTML page,
cut-off XML, text without KNMI's header) never enters the raw archive. Rows already stored
stay as they were.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines.ingest.archive import ArchiveEntry, archive_file
from pipelines.ingest.services.bro import BroGroundwaterLevels, read_gld
from pipelines.ingest.services.http import ServiceError, ServiceResponseError
from pipelines.ingest.services.knmi_daggegevens import Download, KnmiDaggegevens, read_daggegevens
from pipelines.ingest.sources.errors import Quarantined
from pipelines.store import GROUNDWATER_TABLE, METEO_TABLE, latest

#: Folder names in the raw archive, one per feed.
KNMI_DAILY_SOURCE = "knmi-daggegevens"
BRO_GLD_SOURCE = "bro-gld"


@dataclass
class Fetched:
    """What a fetch brought: new ``rows`` for upsert, the archived answers, records set aside,
    the stations or wells that were already up to date (nothing asked for them), and the ones
    that failed (``{station or well: why}``; their stored rows stay as they were)."""

    rows: pd.DataFrame
    archived: list[ArchiveEntry] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    up_to_date: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def _moved(items: list[Quarantined], archived: Path) -> list[Quarantined]:
    """Quarantined records of an answer read from its download, pointed at its archived copy."""
    return [dataclasses.replace(q, path=archived) for q in items]


def _no_answer(error: ServiceError) -> bool:
    """True when the service gave no answer at all (down, refused the connection, hung past
    the deadline): asking it for the next item would only cost another deadline."""
    return error.status is None and not isinstance(error, ServiceResponseError)


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
        queue = sorted(by_start.items())
        while queue:
            start, group = queue.pop(0)
            try:
                download = client.download(group, start, until, Path(folder))
                # read before archiving: a refused answer never enters the archive
                frame = read_daggegevens(download)
            except ServiceError as exc:
                if _no_answer(exc):
                    for _, rest in [(start, group), *queue]:
                        for station in rest:
                            result.failed[station] = str(exc)
                    break
                if len(group) > 1:  # one station's trouble must not cost the others: ask each alone
                    queue[:0] = [(start, [station]) for station in group]
                    continue
                result.failed[group[0]] = str(exc)
                continue
            entry, archived = _archive(download, raw_root, KNMI_DAILY_SOURCE)
            result.archived.append(entry)
            result.quarantined += _moved(frame.attrs.get("quarantined", []), archived)
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
    :func:`pipelines.ingest.services.bro.well_id`); a dossier that names another tube is
    refused (listed in ``failed``), so levels never land on the wrong well. Each dossier is
    asked from the day after its well's newest stored ``time`` (or ``first_day``; the whole
    record when None) to ``until``.
    """
    stored = {str(k): _as_date(v) for k, v in
              latest(Path(processed_dir) / GROUNDWATER_TABLE, "well", "time").items()}
    result = Fetched(rows=_empty_groundwater())
    frames = []
    with tempfile.TemporaryDirectory(prefix="droogte-bro-") as folder:
        pending = list(dossiers.items())
        while pending:
            gld_id, well = pending.pop(0)
            begin = stored[well] + dt.timedelta(days=1) if well in stored else first_day
            if begin is not None and begin > until:
                result.up_to_date.append(well)
                continue
            try:
                download = client.download(gld_id, Path(folder), begin=begin, end=until)
                # read before archiving: a refused answer never enters the archive
                record = read_gld(download)
                if record.well != well:
                    raise ServiceResponseError(download.url, f"dossier {gld_id} measures well {record.well}, "
                                               f"the configuration expects {well}")
            except ServiceError as exc:
                result.failed[well] = str(exc)
                if _no_answer(exc):
                    for _, rest in pending:
                        result.failed[rest] = f"not asked: the service gave no answer for {gld_id} ({exc})"
                    break
                continue
            entry, archived = _archive(download, raw_root, BRO_GLD_SOURCE)
            result.archived.append(entry)
            result.quarantined += _moved(record.quarantined, archived)
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
