"""Readers for Delft-FEWS *Published Interface* (PI) time series, as XML and as JSON.

Delft-FEWS is the forecasting and monitoring platform most Dutch water boards run; it
exchanges time series in "PI" documents: a ``timeZone`` (offset from UTC in hours, e.g.
``1.0`` for CET all year round: FEWS does not follow daylight saving time), then one
``series`` per location and parameter, each with a ``header`` (``locationId``,
``parameterId``, ``missVal``, ``stationName``, ``x``/``y`` in the system's projected CRS,
``lat``/``lon`` in WGS84, ``units``) and ``event`` elements (``date``, ``time``, ``value``,
``flag``; flag 0 = original reliable … 9 = missing).

A sensor is named ``"<locationId>/<parameterId>"``. A series is identified by location,
parameter, ``qualifierId`` and ``moduleInstanceId`` (one location and parameter may come from
two models, or as a measured and a validated series); ``identity`` chooses what happens when a
file holds more than one series of one location and parameter (:data:`SERIES_IDENTITIES`).
Event times are converted to UTC. x/y are taken as RD New (EPSG:28992), the CRS of Dutch FEWS
systems, where they are metres inside the Netherlands; where a header has no such x/y (none,
or degrees), lat/lon (EPSG:4326) are reprojected; a position that is neither is left out and
the series quarantined with a note.
"""

from __future__ import annotations

import json
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Iterator
from xml.etree import ElementTree

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from pipelines.ingest.sources.errors import (BadRecord, PlausibleDates, Quarantine, Quarantined, SourceFormatError,
                                             decode_text, reader_guard)

PI_NAMESPACE = "{http://www.wldelft.nl/fews/PI}"
EVENT_COLUMNS = ["sensor", "time", "value", "unit", "flag"]
META_COLUMNS = ["sensor", "location", "parameter", "name", "unit", "geometry"]
# header children read as plain text; others (timeStep, startDate…) are not needed here
_HEADER_FIELDS = {"locationId", "parameterId", "missVal", "stationName", "lat", "lon", "x", "y",
                  "units", "type", "qualifierId", "moduleInstanceId"}
_TO_RD = Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)
#: RD New extent of the Netherlands (m) and the WGS84 box around it (degrees): a position in
#: neither is no position of a Dutch sensor.
_RD_BOX = (-7_000.0, 289_000.0, 300_000.0, 629_000.0)
_WGS84_BOX = (2.5, 50.5, 7.5, 54.0)
#: FEWS quality flags run 0 (original reliable) to 9 (missing).
_FLAG_RANGE = (0, 9)

#: ``location-parameter``: the sensor is ``<locationId>/<parameterId>``; where one file holds
#: several series of one location and parameter (other ``qualifierId`` or
#: ``moduleInstanceId``), the **first** in the file is kept and each other series is quarantined
#: as a whole, naming its qualifier and module instance. ``full``: every distinct series is
#: its own sensor, ``<locationId>/<parameterId>`` followed by ``/<qualifierId>`` and
#: ``@<moduleInstanceId>`` where the header has them.
SERIES_IDENTITIES = ("location-parameter", "full")


@dataclass
class PiSeries:
    """Sensor time series and their metadata.

    ``events``: ``sensor`` (str), ``time`` (datetime64[UTC]), ``value`` (float64 in
    ``unit``; NaN for the document's ``missVal``), ``unit`` (str), ``flag`` (Int64, the
    source's own quality flag). Sorted by sensor and time.

    ``meta``: one row per sensor: ``sensor``, ``location``, ``parameter``, ``name``,
    ``unit``, geometry Point in EPSG:28992 (None where the source gives no position).
    """

    events: pd.DataFrame
    meta: gpd.GeoDataFrame
    quarantined: list[Quarantined] = field(default_factory=list)


@dataclass
class _Series:
    """One series as it is being read: header fields and raw event strings."""

    header: dict[str, str] | None
    index: int = 0
    dates: list[str] = field(default_factory=list)
    times: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    lines: list[int | None] = field(default_factory=list)


@reader_guard
def read_pi_xml(
    path: Path | str, *, on_bad_record: BadRecord = BadRecord.QUARANTINE, dates: PlausibleDates | None = None,
    identity: str = "location-parameter",
) -> PiSeries:
    """Read a PI-XML time-series document (``.xml``, or a ``.zip`` holding one ``.xml``).

    The document is streamed with ``ElementTree.iterparse`` and every element is cleared
    once read, so memory grows with the number of events kept, not with the XML text.
    A series whose header lacks ``locationId`` or ``parameterId``, or that has no header at
    all, is quarantined as a whole; an event that does not parse (or whose date lies outside
    ``dates``, whose flag is not 0-9) is quarantined as ``series[i] event[j]``.
    Raises :class:`SourceFormatError` (and nothing else) for text that is not XML or not a PI
    ``TimeSeries``.
    """
    path = Path(path)
    quarantine = Quarantine(path, on_bad_record)
    offset_hours = 0.0
    series: list[_Series] = []
    header: dict[str, str] = {}
    with _open_member(path, ".xml") as stream:
        try:
            root_checked = False
            for event, element in ElementTree.iterparse(stream, events=("start", "end")):
                tag = element.tag.removeprefix(PI_NAMESPACE)
                if event == "start":
                    if not root_checked:
                        if tag != "TimeSeries":
                            raise SourceFormatError(
                                path, None, f"expected a PI <TimeSeries> document, found <{tag}>"
                            )
                        root_checked = True
                    if tag == "header":
                        header = {}
                    elif tag == "series":
                        # a series without a header must not be filed under the one before
                        series.append(_Series(None, len(series)))
                    continue
                if tag == "timeZone":
                    offset_hours = _offset(path, element.text)
                elif tag == "header" and series and series[-1].header is None:
                    series[-1].header = header
                elif tag in _HEADER_FIELDS:
                    header[tag] = (element.text or "").strip()
                elif tag == "event":
                    if not series:
                        raise SourceFormatError(path, None, "an <event> outside any <series>")
                    current = series[-1]
                    current.dates.append(element.get("date", ""))
                    current.times.append(element.get("time", ""))
                    current.values.append(element.get("value", ""))
                    current.flags.append(element.get("flag", ""))
                    current.lines.append(None)
                    element.clear()
                elif tag == "series":
                    element.clear()
        except ElementTree.ParseError as error:
            line = error.position[0] if error.position else None
            raise SourceFormatError(path, line, f"not well-formed XML ({error})") from error
    return _assemble(series, offset_hours, quarantine, dates or PlausibleDates(), identity)


@reader_guard
def read_pi_json(
    path: Path | str, *, on_bad_record: BadRecord = BadRecord.QUARANTINE, dates: PlausibleDates | None = None,
    identity: str = "location-parameter",
) -> PiSeries:
    """Read a PI-JSON document: ``{"timeZone": "1.0", "timeSeries": [{"header": {...},
    "events": [{"date", "time", "value", "flag"}, ...]}, ...]}``; numbers come as strings.

    Same result and checks as :func:`read_pi_xml`; a series, header, event list or event of
    the wrong JSON type is quarantined as ``timeSeries[i]`` (``events[j]``). Raises
    :class:`SourceFormatError` (and nothing else) for invalid JSON or a document without a
    ``timeSeries`` list.
    """
    path = Path(path)
    quarantine = Quarantine(path, on_bad_record)
    with _open_member(path, ".json") as stream:
        try:
            document = json.loads(decode_text(path, stream.read()))
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
            line = getattr(error, "lineno", None)
            raise SourceFormatError(path, line, f"not valid JSON ({error})") from error
    if not isinstance(document, dict) or not isinstance(document.get("timeSeries"), list):
        raise SourceFormatError(path, None, "expected a PI-JSON object with a 'timeSeries' list")
    offset_hours = _offset(path, document.get("timeZone", "0.0"))
    series = []
    for index, item in enumerate(document["timeSeries"]):
        where = f"timeSeries[{index}]"
        header = item.get("header") if isinstance(item, dict) else None
        events = item.get("events", []) if isinstance(item, dict) else None
        if not isinstance(header, dict) or not isinstance(events, list):
            quarantine.add(None, f"{where}: expected an object with a 'header' object and an 'events' list",
                           json.dumps(item)[:300])
            continue
        current = _Series({key: _text(value) for key, value in header.items()}, index)
        for number, event in enumerate(events):
            if not isinstance(event, dict):
                quarantine.add(None, f"{where}.events[{number}]: expected an object", json.dumps(event)[:300])
                continue
            current.dates.append(_text(event.get("date", "")))
            current.times.append(_text(event.get("time", "")))
            current.values.append(_text(event.get("value", "")))
            current.flags.append(_text(event.get("flag", "")))
            current.lines.append(None)  # JSON has no lines worth naming: the text says events[j]
        series.append(current)
    return _assemble(series, offset_hours, quarantine, dates or PlausibleDates(), identity)


def _text(value: object) -> str:
    # PI-JSON writes numbers as strings; startDate/endDate/timeStep are objects, not used here.
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value)


@contextmanager
def _open_member(path: Path, suffix: str) -> Iterator[IO[bytes]]:
    """Open ``path``, or its single ``suffix`` member when it is a zip, as a byte stream."""
    if not path.exists():
        raise FileNotFoundError(path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = [n for n in archive.namelist() if n.lower().endswith(suffix)]
            if len(members) != 1:
                raise SourceFormatError(
                    path, None, f"expected one {suffix} file in the zip, found {members}"
                )
            with archive.open(members[0]) as stream:
                yield stream
    else:
        with path.open("rb") as stream:
            yield stream


def _offset(path: Path, text: object) -> float:
    try:
        hours = float(str(text if text not in (None, "") else "0").strip())
    except ValueError as error:
        raise SourceFormatError(path, None, f"timeZone must be hours from UTC, got {text!r}") from error
    if not -14 <= hours <= 14:
        raise SourceFormatError(path, None, f"timeZone must be hours from UTC (-14 to 14), got {text!r}")
    return hours


def _assemble(series: list[_Series], offset_hours: float, quarantine: Quarantine, window: PlausibleDates,
              identity: str) -> PiSeries:
    if identity not in SERIES_IDENTITIES:
        raise ValueError(f"identity must be one of {SERIES_IDENTITIES}, got {identity!r}")
    frames, meta_rows = [], []
    seen: dict[str, str] = {}
    for current in series:
        header = current.header
        where = f"series[{current.index}]"
        if header is None:
            quarantine.add(None, f"{where} has no <header>; its {len(current.dates)} event(s) belong to no sensor",
                           "")
            continue
        lacking = [needed for needed in ("locationId", "parameterId") if not header.get(needed, "").strip()]
        if lacking:
            quarantine.add(None, f"{where}: header lacks {lacking}; its {len(current.dates)} event(s) are not"
                           " stored", repr(header)[:300])
            continue
        sensor = f"{header['locationId'].strip()}/{header['parameterId'].strip()}"
        qualifier = header.get("qualifierId", "").strip()
        module = header.get("moduleInstanceId", "").strip()
        described = f"qualifierId={qualifier!r} moduleInstanceId={module!r}"
        if identity == "full":
            sensor += (f"/{qualifier}" if qualifier else "") + (f"@{module}" if module else "")
        elif sensor in seen and seen[sensor] != described:
            quarantine.add(None, f"{where}: a second series of {sensor} ({described}; the first has {seen[sensor]});"
                           " the first is kept (ingest.pi_series_identity: location-parameter)",
                           f"{len(current.dates)} event(s)")
            continue
        seen.setdefault(sensor, described)
        unit = header.get("units", "")
        position, note = _position(header)
        if note:
            quarantine.add(None, f"{where} ({sensor}): {note}; the sensor is stored without a position",
                           repr({k: header.get(k) for k in ("x", "y", "lat", "lon")}))
        meta_rows.append(
            {
                "sensor": sensor,
                "location": header["locationId"].strip(),
                "parameter": header["parameterId"].strip(),
                "name": header.get("stationName", ""),
                "unit": unit,
                "geometry": position,
            }
        )
        frames.append(_events(current, sensor, unit, offset_hours, quarantine, window, where))
    events = pd.concat(frames, ignore_index=True) if frames else _empty_events()
    events = _drop_duplicate_times(events, quarantine)
    meta = gpd.GeoDataFrame(
        pd.DataFrame(meta_rows, columns=META_COLUMNS), geometry="geometry", crs="EPSG:28992"
    )
    meta = meta.drop_duplicates("sensor", keep="first").reset_index(drop=True)
    return PiSeries(events, meta, quarantine.items)


def _position(header: dict[str, str]):
    """The sensor's Point in EPSG:28992 and a note where the header's position was not usable.

    x/y count as RD New when they are metres inside the Netherlands; x/y in degrees (some
    systems export geographic coordinates there) and a missing x/y fall back to lat/lon."""
    from shapely import Point

    def number(key: str) -> float | None:
        try:
            value = float(header.get(key, "") or "nan")
        except ValueError:
            return None
        return value if np.isfinite(value) else None

    x, y, lat, lon = number("x"), number("y"), number("lat"), number("lon")
    if x is not None and y is not None and _inside(_RD_BOX, x, y):
        return Point(x, y), None
    if lat is not None and lon is not None and _inside(_WGS84_BOX, lon, lat):
        return Point(*_TO_RD.transform(lon, lat)), None
    if x is not None and y is not None and _inside(_WGS84_BOX, x, y):
        return Point(*_TO_RD.transform(x, y)), None  # degrees written as x (lon) and y (lat)
    if not any(header.get(key) for key in ("x", "y", "lat", "lon")):
        return None, None
    return None, "x/y are not RD New metres and lat/lon not degrees inside the Netherlands"


def _inside(box: tuple[float, float, float, float], x: float, y: float) -> bool:
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def _events(
    current: _Series, sensor: str, unit: str, offset_hours: float, quarantine: Quarantine,
    window: PlausibleDates, where: str,
) -> pd.DataFrame:
    stamps = pd.Series(current.dates, dtype=str) + " " + pd.Series(current.times, dtype=str)
    local = pd.to_datetime(stamps, format="%Y-%m-%d %H:%M:%S", errors="coerce")
    raw_values = pd.Series(current.values, dtype=str).str.strip()
    values = pd.to_numeric(raw_values, errors="coerce").astype(float)
    raw_flags = pd.Series(current.flags, dtype=str).str.strip()
    # flags are read as floats first: a huge or odd flag must fail the range test, not overflow
    flags = pd.to_numeric(raw_flags.replace("", None), errors="coerce").astype(float)
    bad_value = values.isna() & ~raw_values.str.lower().isin(["nan", ""])
    bad_flag = raw_flags.ne("") & ~(flags.between(*_FLAG_RANGE) & (flags == flags.round()))
    reasons = np.select(
        [local.isna().to_numpy(), bad_value.to_numpy(), bad_flag.to_numpy(), window.outside(local)],
        [f"event of {sensor}: expected date yyyy-mm-dd and time HH:MM:SS",
         f"event of {sensor}: value is not a number",
         f"event of {sensor}: flag is not an integer {_FLAG_RANGE[0]}-{_FLAG_RANGE[1]}",
         f"event of {sensor}: {window.reason()}"],
        default="",
    )
    bad = reasons != ""
    for index in np.flatnonzero(bad):
        text = (
            f'{where} events[{index}]: date="{current.dates[index]}" time="{current.times[index]}" '
            f'value="{current.values[index]}" flag="{current.flags[index]}"'
        )
        quarantine.add(current.lines[index], str(reasons[index]), text)
    keep = ~bad
    missing_value = (current.header or {}).get("missVal", "NaN")
    try:
        missing = float(missing_value)
    except ValueError:
        missing = np.nan
    values = values[keep].astype(float)
    if not np.isnan(missing):
        values = values.mask(values == missing)
    # FEWS times are local *standard* time at a fixed offset: subtract it to get UTC.
    utc = (local[keep] - pd.Timedelta(hours=offset_hours)).dt.tz_localize("UTC")
    return pd.DataFrame(
        {
            "sensor": pd.Series(sensor, index=values.index, dtype=str),
            "time": utc.astype("datetime64[us, UTC]"),
            "value": values,
            "unit": pd.Series(unit, index=values.index, dtype=str),
            "flag": flags[keep].astype("Int64"),
        }
    ).reset_index(drop=True)


def _empty_events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sensor": pd.Series([], dtype=str),
            "time": pd.Series([], dtype="datetime64[us, UTC]"),
            "value": pd.Series([], dtype=float),
            "unit": pd.Series([], dtype=str),
            "flag": pd.Series([], dtype="Int64"),
        }
    )


def _drop_duplicate_times(events: pd.DataFrame, quarantine: Quarantine) -> pd.DataFrame:
    """One value per sensor and time. An exact repeat (same value, unit and flag) is dropped;
    where the values differ the later event wins (a re-delivered value replaces the earlier
    one) and the replaced one is quarantined with both values."""
    events = events.drop_duplicates(EVENT_COLUMNS, keep="last")
    duplicated = events.duplicated(["sensor", "time"], keep="last").to_numpy()
    if duplicated.any():
        kept = events.loc[~duplicated].set_index(["sensor", "time"])["value"]
        for row in events.loc[duplicated].itertuples(index=False):
            quarantine.add(None, f"second event of {row.sensor} at {row.time.isoformat()} with another value"
                           f" ({row.value} replaced by {kept.loc[(row.sensor, row.time)]}); the later event is kept",
                           f"{row.sensor} {row.time.isoformat()} value={row.value} flag={row.flag}")
    events = events.loc[~duplicated].sort_values(["sensor", "time"], kind="stable")
    return events.reset_index(drop=True)[EVENT_COLUMNS]
