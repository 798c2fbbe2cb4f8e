"""Readers for Delft-FEWS *Published Interface* (PI) time series, as XML and as JSON.

Delft-FEWS is the forecasting and monitoring platform most Dutch water boards run; it
exchanges time series in "PI" documents: a ``timeZone`` (offset from UTC in hours, e.g.
``1.0`` for CET all year round: FEWS does not follow daylight saving time), then one
``series`` per location and parameter, each with a ``header`` (``locationId``,
``parameterId``, ``missVal``, ``stationName``, ``x``/``y`` in the system's projected CRS,
``lat``/``lon`` in WGS84, ``units``) and ``event`` elements (``date``, ``time``, ``value``,
``flag``; flag 0 = original reliable … 9 = missing).

A sensor is named ``"<locationId>/<parameterId>"``. Event times are converted to UTC.
x/y are taken as RD New (EPSG:28992), the CRS of Dutch FEWS systems; where a header has no
x/y, lat/lon (EPSG:4326) are reprojected.
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

from pipelines.ingest.sources.errors import BadRecord, Quarantine, Quarantined, SourceFormatError

PI_NAMESPACE = "{http://www.wldelft.nl/fews/PI}"
EVENT_COLUMNS = ["sensor", "time", "value", "unit", "flag"]
META_COLUMNS = ["sensor", "location", "parameter", "name", "unit", "geometry"]
# header children read as plain text; others (timeStep, startDate…) are not needed here
_HEADER_FIELDS = {"locationId", "parameterId", "missVal", "stationName", "lat", "lon", "x", "y",
                  "units", "type"}
_TO_RD = Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)


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

    header: dict[str, str]
    dates: list[str] = field(default_factory=list)
    times: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    lines: list[int | None] = field(default_factory=list)


def read_pi_xml(
    path: Path | str, *, on_bad_record: BadRecord = BadRecord.QUARANTINE
) -> PiSeries:
    """Read a PI-XML time-series document (``.xml``, or a ``.zip`` holding one ``.xml``).

    The document is streamed with ``ElementTree.iterparse`` and every element is cleared
    once read, so memory grows with the number of events kept, not with the XML text.
    Raises :class:`SourceFormatError` for text that is not XML or not a PI ``TimeSeries``.
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
                    continue
                if tag == "timeZone":
                    offset_hours = _offset(path, element.text)
                elif tag == "header":
                    series.append(_Series(header))
                elif tag in _HEADER_FIELDS:
                    header[tag] = (element.text or "").strip()
                elif tag == "event":
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
    return _assemble(series, offset_hours, quarantine)


def read_pi_json(
    path: Path | str, *, on_bad_record: BadRecord = BadRecord.QUARANTINE
) -> PiSeries:
    """Read a PI-JSON document: ``{"timeZone": "1.0", "timeSeries": [{"header": {...},
    "events": [{"date", "time", "value", "flag"}, ...]}, ...]}``; numbers come as strings.

    Same result as :func:`read_pi_xml`. Raises :class:`SourceFormatError` for invalid JSON
    or a document without ``timeSeries``.
    """
    path = Path(path)
    quarantine = Quarantine(path, on_bad_record)
    with _open_member(path, ".json") as stream:
        try:
            document = json.load(stream)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            line = getattr(error, "lineno", None)
            raise SourceFormatError(path, line, f"not valid JSON ({error})") from error
    if not isinstance(document, dict) or not isinstance(document.get("timeSeries"), list):
        raise SourceFormatError(path, None, "expected a PI-JSON object with a 'timeSeries' list")
    offset_hours = _offset(path, document.get("timeZone", "0.0"))
    series = []
    for item in document["timeSeries"]:
        header = item.get("header", {})
        flat = {key: _text(value) for key, value in header.items()}
        current = _Series(flat)
        for event in item.get("events", []):
            current.dates.append(str(event.get("date", "")))
            current.times.append(str(event.get("time", "")))
            current.values.append(str(event.get("value", "")))
            current.flags.append(str(event.get("flag", "")))
            current.lines.append(None)
        series.append(current)
    return _assemble(series, offset_hours, quarantine)


def _text(value: object) -> str:
    # startDate/endDate/timeStep are objects in PI-JSON; they are not used here.
    return value if isinstance(value, str) else json.dumps(value)


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


def _offset(path: Path, text: str | None) -> float:
    try:
        return float((text or "0").strip())
    except ValueError as error:
        raise SourceFormatError(path, None, f"timeZone must be hours from UTC, got {text!r}") from error


def _assemble(series: list[_Series], offset_hours: float, quarantine: Quarantine) -> PiSeries:
    frames, meta_rows = [], []
    for current in series:
        header = current.header
        for needed in ("locationId", "parameterId"):
            if not header.get(needed):
                raise SourceFormatError(quarantine.path, None, f"a series header lacks <{needed}>")
        sensor = f"{header['locationId']}/{header['parameterId']}"
        unit = header.get("units", "")
        meta_rows.append(
            {
                "sensor": sensor,
                "location": header["locationId"],
                "parameter": header["parameterId"],
                "name": header.get("stationName", ""),
                "unit": unit,
                "geometry": _position(header),
            }
        )
        frames.append(_events(current, sensor, unit, offset_hours, quarantine))
    events = pd.concat(frames, ignore_index=True) if frames else _empty_events()
    events = _drop_duplicate_times(events, quarantine)
    meta = gpd.GeoDataFrame(
        pd.DataFrame(meta_rows, columns=META_COLUMNS), geometry="geometry", crs="EPSG:28992"
    )
    meta = meta.drop_duplicates("sensor", keep="first").reset_index(drop=True)
    return PiSeries(events, meta, quarantine.items)


def _position(header: dict[str, str]):
    from shapely import Point

    try:
        if header.get("x") and header.get("y"):
            return Point(float(header["x"]), float(header["y"]))
        if header.get("lat") and header.get("lon"):
            return Point(*_TO_RD.transform(float(header["lon"]), float(header["lat"])))
    except ValueError:
        pass
    return None


def _events(
    current: _Series, sensor: str, unit: str, offset_hours: float, quarantine: Quarantine
) -> pd.DataFrame:
    stamps = pd.Series(current.dates, dtype=str) + " " + pd.Series(current.times, dtype=str)
    local = pd.to_datetime(stamps, format="%Y-%m-%d %H:%M:%S", errors="coerce")
    values = pd.to_numeric(pd.Series(current.values, dtype=str), errors="coerce")
    flags = pd.to_numeric(pd.Series(current.flags, dtype=str).replace("", None), errors="coerce")
    raw_values = pd.Series(current.values, dtype=str)
    bad_value = values.isna() & ~raw_values.str.strip().str.lower().isin(["nan", ""])
    bad = local.isna() | bad_value | (flags.isna() & pd.Series(current.flags, dtype=str).ne(""))
    for index in np.flatnonzero(bad.to_numpy()):
        text = (
            f'date="{current.dates[index]}" time="{current.times[index]}" '
            f'value="{current.values[index]}" flag="{current.flags[index]}"'
        )
        quarantine.add(current.lines[index], f"event of {sensor} does not parse", text)
    keep = ~bad.to_numpy()
    missing_value = current.header.get("missVal", "NaN")
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
    """One value per sensor and time: later events win (a re-delivered value replaces the
    earlier one); the replaced ones are quarantined."""
    duplicated = events.duplicated(["sensor", "time"], keep="last").to_numpy()
    for row in events.loc[duplicated].itertuples(index=False):
        quarantine.add(None, "duplicate sensor and time; the later event is kept",
                       f"{row.sensor} {row.time.isoformat()} value={row.value}")
    events = events.loc[~duplicated].sort_values(["sensor", "time"], kind="stable")
    return events.reset_index(drop=True)[EVENT_COLUMNS]
