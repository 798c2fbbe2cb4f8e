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

from pipelines.ingest.sources.errors import BadRecord, Quarantine, SourceFormatError
from pipelines.ingest.sources.fews import META_COLUMNS, PiSeries, _drop_duplicate_times

REQUIRED = ["sensor", "time", "value", "unit"]


def read_sensor_csv(
    path: Path | str, *, on_bad_record: BadRecord = BadRecord.QUARANTINE
) -> PiSeries:
    """Read a sensor CSV into the same :class:`PiSeries` form as the FEWS readers.

    Times are converted to UTC. A row without an offset in its time, with a value that is not
    a number, or with the wrong number of fields is quarantined; a second row for the same
    sensor and time replaces the first (the first is quarantined). Raises
    :class:`SourceFormatError` when the header lacks a required column.
    """
    path = Path(path)
    quarantine = Quarantine(path, on_bad_record)
    rows: list[dict[str, object]] = []
    positions: dict[str, Point] = {}
    units: dict[str, str] = {}
    with path.open(newline="", encoding="utf-8") as stream:
        reader = csv.reader(stream)
        header, header_line = None, 0
        for fields in reader:
            if not any(f.strip() for f in fields) or fields[0].startswith("#"):
                continue
            if header is None:
                header = [f.strip() for f in fields]
                header_line = reader.line_num
                missing = [name for name in REQUIRED if name not in header]
                if missing:
                    raise SourceFormatError(
                        path, header_line,
                        f"header lacks {missing}; expected 'sensor,time,value,unit[,flag][,x,y]'",
                    )
                continue
            text = ",".join(fields)
            if len(fields) != len(header):
                quarantine.add(reader.line_num, f"expected {len(header)} fields, found {len(fields)}", text)
                continue
            record = dict(zip(header, (f.strip() for f in fields)))
            try:
                rows.append(_row(record))
            except ValueError as error:
                quarantine.add(reader.line_num, str(error), text)
                continue
            sensor = record["sensor"]
            units.setdefault(sensor, record["unit"])
            if record.get("x") and record.get("y") and sensor not in positions:
                positions[sensor] = Point(float(record["x"]), float(record["y"]))
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
    return {"sensor": record["sensor"], "time": time.tz_convert("UTC"), "value": value,
            "unit": record["unit"], "flag": flag}
