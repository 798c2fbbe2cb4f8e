"""Reader for the project's plain sensor CSV (for loggers and boards without Delft-FEWS).

The format is defined in ``docs/contracts.md`` section 2 ("sensor CSV"): UTF-8, comma
separated, one header row, then one row per observation::

    sensor,time,value,unit,flag,x,y
    PEIL-017/H.meting,2026-03-29T01:45:00+01:00,-0.412,m NAP,0,121500.0,487300.0

``sensor``, ``time``, ``value`` and ``unit`` are required; ``time`` is ISO-8601 **with** a
UTC offset (``Z`` or ``±hh:mm``), so daylight-saving changes are unambiguous; ``value`` is
blank for a missing value; ``flag`` (integer, optional) follows the FEWS scheme; ``x``/``y``
(optional, RD New EPSG:28992 metres) give the sensor's position. Lines starting with ``#``
are comments.
"""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely import Point

from pipelines.ingest.sources.errors import (BadRecord, PlausibleDates, Quarantine, SourceFormatError, decode_text,
                                             reader_guard)
from pipelines.ingest.sources.fews import _FLAG_RANGE, _RD_BOX, META_COLUMNS, PiSeries, _drop_duplicate_times, _inside

REQUIRED = ["sensor", "time", "value", "unit"]


@reader_guard
def read_sensor_csv(
    path: Path | str, *, on_bad_record: BadRecord = BadRecord.QUARANTINE, dates: PlausibleDates | None = None
) -> PiSeries:
    """Read a sensor CSV into the same :class:`PiSeries` form as the FEWS readers.

    Times are converted to UTC. A row without an offset in its time, with a value that is not
    a number, or with the wrong number of fields is quarantined; a second row for the same
    sensor and time replaces the first (the first is quarantined), an exact repeat is dropped.
    Also quarantined: a time outside ``dates`` (default :class:`PlausibleDates`), a flag that
    is not an integer 0-9, an x/y that is not a number in the RD New extent of the Netherlands.
    A byte-order mark, CR-only line ends and Windows-1252 text are read as well. Raises
    :class:`SourceFormatError` (and nothing else) when the header lacks a required column
    or the file cannot be read.
    """
    path = Path(path)
    quarantine = Quarantine(path, on_bad_record)
    window = dates or PlausibleDates()
    rows: list[dict[str, object]] = []
    positions: dict[str, Point] = {}
    units: dict[str, str] = {}
    header, header_line = None, 0
    # each line parsed on its own: a stray quote costs that line, not the rest of the file
    for number, line in enumerate(decode_text(path, path.read_bytes()).splitlines(), start=1):
        fields = next(csv.reader([line]), [])
        if not any(f.strip() for f in fields) or fields[0].startswith("#"):
            continue
        if header is None:
            header = [f.strip() for f in fields]
            header_line = number
            missing = [name for name in REQUIRED if name not in header]
            if missing:
                raise SourceFormatError(
                    path, header_line,
                    f"header lacks {missing}; expected 'sensor,time,value,unit[,flag][,x,y]'",
                )
            if len(set(header)) != len(header):
                raise SourceFormatError(path, header_line, f"header repeats a column name: {header}")
            continue
        text = ",".join(fields)
        if len(fields) != len(header):
            quarantine.add(number, f"expected {len(header)} fields, found {len(fields)}", text)
            continue
        record = dict(zip(header, (f.strip() for f in fields)))
        try:
            row = _row(record)
            position = _point(record)
        except (ValueError, OverflowError, TypeError) as error:
            quarantine.add(number, str(error), text)
            continue
        if window.outside([row["time"]])[0]:
            quarantine.add(number, window.reason(), text)
            continue
        rows.append(row)
        sensor = record["sensor"]
        units.setdefault(sensor, record["unit"])
        if position is not None and sensor not in positions:
            positions[sensor] = position
    if header is None:
        raise SourceFormatError(path, 1, "empty file; expected a header 'sensor,time,value,unit'")

    events = pd.DataFrame(rows, columns=["sensor", "time", "value", "unit", "flag"])
    events = events.astype(
        {"sensor": str, "value": float, "unit": str, "flag": "Int64"}
    )
    events["time"] = pd.to_datetime(events["time"], utc=True).astype("datetime64[us, UTC]")
    events = _drop_duplicate_times(events, quarantine)

    sensors = sorted(units)
    meta = gpd.GeoDataFrame(
        {
            "sensor": pd.Series(sensors, dtype=str),
            "location": pd.Series([s.split("/", 1)[0] for s in sensors], dtype=str),
            "parameter": pd.Series([s.split("/", 1)[1] if "/" in s else "" for s in sensors], dtype=str),
            "name": pd.Series([""] * len(sensors), dtype=str),
            "unit": pd.Series([units[s] for s in sensors], dtype=str),
        },
        geometry=[positions.get(s) for s in sensors],
        crs="EPSG:28992",
    )[META_COLUMNS]
    return PiSeries(events, meta, quarantine.items)


def _row(record: dict[str, str]) -> dict[str, object]:
    if not record["sensor"]:
        raise ValueError("empty sensor id")
    time = pd.Timestamp(record["time"])
    if time.tzinfo is None:
        raise ValueError(f"time {record['time']!r} has no UTC offset (write e.g. +01:00 or Z)")
    value = float(record["value"]) if record["value"] else np.nan
    flag = int(record["flag"]) if record.get("flag") else pd.NA
    if flag is not pd.NA and not _FLAG_RANGE[0] <= flag <= _FLAG_RANGE[1]:
        raise ValueError(f"flag {flag} is not in the FEWS scheme {_FLAG_RANGE[0]}-{_FLAG_RANGE[1]}")
    return {"sensor": record["sensor"], "time": time.tz_convert("UTC"), "value": value,
            "unit": record["unit"], "flag": flag}


def _point(record: dict[str, str]) -> Point | None:
    """The row's position in EPSG:28992, None where it gives none; ValueError where x/y are
    not numbers or lie outside the RD New extent of the Netherlands (degrees, say)."""
    if not (record.get("x") and record.get("y")):
        return None
    x, y = float(record["x"]), float(record["y"])
    if not _inside(_RD_BOX, x, y):
        raise ValueError(f"x={x:g}, y={y:g} are not RD New metres inside the Netherlands (EPSG:28992)")
    return Point(x, y)
