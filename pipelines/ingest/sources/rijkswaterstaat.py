"""Readers of the Rhine discharge at Lobith (m³/s): the compiled daily series and the
Rijkswaterstaat water-data services' own CSV export.

Two forms are read, both into one daily Series of m³/s indexed by the calendar day in
Europe/Amsterdam (timezone-naive ``datetime64`` at midnight, named ``discharge_m3_s``):

* the compiled daily series ``date,discharge_m3_s`` (``../shared/data/rijkswaterstaat/
  lobith_discharge_daily.csv``; comma-separated, one row per day, ``#`` comment lines allowed);
* the export of Rijkswaterstaat's water-data services (Waterinfo / "Waterwebservices" CSV):
  semicolon-separated, one row per measurement, dozens of metadata columns, of which these are
  used: ``WAARNEMINGDATUM`` (dd-mm-yyyy), ``WAARNEMINGTIJD (MET/CET)`` (hh:mm:ss, in MET = UTC+1
  all year, no summer time), ``NUMERIEKEWAARDE`` (decimal comma; 999999999 or 9.99999E+37 mean
  "no value"), ``EENHEID_CODE`` (``m3/s``), and where present ``GROOTHEID_ CODE`` (``Q`` for
  discharge; the export writes the header with the space) and ``LOCATIE_CODE`` / ``MEETPUNT_
  IDENTIFICATIE``. Older exports have ``ALFANUMERIEKEWAARDE`` holding the number instead. Metadata
  lines before the header (starting with ``%`` in some exports) are skipped. The 10-minute
  values are averaged per Europe/Amsterdam day, as the compiled series is.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.ingest.sources.errors import BadRecord, Quarantine, SourceFormatError

#: Values at or above this are the services' "no value" codes (999999999, 9.99999E+37).
NO_VALUE_AT_LEAST = 1e8
#: MET (Middle European Time) as the services write it: UTC+1 the whole year.
MET_OFFSET = pd.Timedelta(hours=1)


def read_discharge(path: Path | str, *, location: str | None = None,
                   on_bad_record: BadRecord = BadRecord.QUARANTINE) -> pd.Series:
    """The daily mean discharge (m³/s) from either form, recognised by its header.

    ``location``: for a services export holding several locations, the ``LOCATIE_CODE`` or
    ``MEETPUNT_IDENTIFICATIE`` to keep (e.g. ``LOBI`` or ``Lobith``); required when the file
    holds more than one. Bad records are quarantined in ``series.attrs["quarantined"]``.
    """
    path = Path(path)
    text = _text(path)
    header = _first_data_line(text)
    if header is None:
        raise SourceFormatError(path, None, "empty file; expected a discharge series")
    if ";" in header[1]:
        return read_waterinfo_csv(path, location=location, on_bad_record=on_bad_record, text=text)
    return read_daily_discharge(path, on_bad_record=on_bad_record, text=text)


def read_daily_discharge(path: Path | str, *, on_bad_record: BadRecord = BadRecord.QUARANTINE,
                         text: str | None = None) -> pd.Series:
    """The compiled daily series ``date,discharge_m3_s`` (m³/s per Europe/Amsterdam day)."""
    path = Path(path)
    text = _text(path) if text is None else text
    quarantine = Quarantine(path, on_bad_record)
    days, values = [], []
    header_seen = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        parts = [p.strip() for p in stripped.split(",")]
        if not header_seen:
            if parts[:2] != ["date", "discharge_m3_s"]:
                raise SourceFormatError(path, number, f"expected the header 'date,discharge_m3_s', got {stripped[:80]!r}")
            header_seen = True
            continue
        if len(parts) < 2:
            quarantine.add(number, "expected 2 fields date,discharge_m3_s", line)
            continue
        try:
            day = pd.Timestamp(parts[0])
            value = float(parts[1]) if parts[1] else np.nan
        except ValueError:
            quarantine.add(number, "date or discharge does not parse", line)
            continue
        if value < 0:
            quarantine.add(number, "negative discharge", line)
            continue
        days.append(day)
        values.append(value)
    if not header_seen:
        raise SourceFormatError(path, None, "no header 'date,discharge_m3_s' found")
    return _finish(path, pd.Series(values, index=pd.DatetimeIndex(days), dtype=float), quarantine)


def read_waterinfo_csv(path: Path | str, *, location: str | None = None,
                       on_bad_record: BadRecord = BadRecord.QUARANTINE, text: str | None = None) -> pd.Series:
    """A Rijkswaterstaat services CSV export of discharge → daily mean m³/s (see the module)."""
    path = Path(path)
    text = _text(path) if text is None else text
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if "WAARNEMINGDATUM" in line.upper()), None)
    if start is None:
        raise SourceFormatError(path, None, "no header line with WAARNEMINGDATUM; expected a "
                                "Rijkswaterstaat services CSV export (semicolon-separated)")
    header = [h.strip().lstrip("%").strip() for h in lines[start].split(";")]
    columns = {h.upper().replace("_ ", "_"): i for i, h in enumerate(header)}
    for needed in ("WAARNEMINGDATUM", "WAARNEMINGTIJD (MET/CET)"):
        if needed not in columns:
            raise SourceFormatError(path, start + 1, f"missing column {needed!r}; found {header[:8]}...")
    value_column = next((c for c in ("NUMERIEKEWAARDE", "ALFANUMERIEKEWAARDE") if c in columns), None)
    if value_column is None:
        raise SourceFormatError(path, start + 1, "missing column NUMERIEKEWAARDE (or ALFANUMERIEKEWAARDE)")
    quarantine = Quarantine(path, on_bad_record)
    stamps, raw_values, places, numbers, texts = [], [], [], [], []
    reader = csv.reader(io.StringIO("\n".join(lines[start + 1:])), delimiter=";")
    for offset, row in enumerate(reader):
        number = start + 2 + offset
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) < len(header):
            quarantine.add(number, f"expected {len(header)} fields, got {len(row)}", ";".join(row))
            continue
        field = {name: row[i].strip() for name, i in columns.items()}
        if field.get("GROOTHEID_CODE", "Q") not in ("Q", ""):
            continue  # another quantity (water level, ...) in the same export
        unit = field.get("EENHEID_CODE", "m3/s")
        if unit not in ("m3/s", ""):
            quarantine.add(number, f"unit {unit!r}; expected m3/s", ";".join(row))
            continue
        stamps.append(f"{field['WAARNEMINGDATUM']} {field['WAARNEMINGTIJD (MET/CET)']}")
        raw_values.append(field[value_column].replace(",", "."))
        places.append((field.get("LOCATIE_CODE", ""), field.get("MEETPUNT_IDENTIFICATIE", "")))
        numbers.append(number)
        texts.append(";".join(row))
    # Parsed in one go (an export of a year of 10-minute values has ~52,000 rows); the rows
    # that do not parse are then quarantined one by one.
    local = pd.to_datetime(pd.Series(stamps, dtype=object), format="%d-%m-%Y %H:%M:%S", errors="coerce")
    numeric = pd.to_numeric(pd.Series(raw_values, dtype=object).replace("", np.nan), errors="coerce")
    bad = local.isna() | (numeric.isna() & (pd.Series(raw_values, dtype=object) != "")) | (numeric < 0)
    for i in np.flatnonzero(bad.to_numpy()):
        reason = "negative discharge" if numeric.iloc[i] < 0 else "date, time or value does not parse"
        quarantine.add(numbers[i], reason, texts[i])
    keep_rows = ~bad.to_numpy()
    values = numeric.to_numpy(dtype=float)[keep_rows]
    values[values >= NO_VALUE_AT_LEAST] = np.nan
    utc = (pd.DatetimeIndex(local[keep_rows]) - MET_OFFSET).tz_localize("UTC")  # MET → UTC
    places = [p for p, k in zip(places, keep_rows, strict=True) if k]
    frame = pd.DataFrame({"time": utc, "value": values, "place": [code or name for code, name in places]})
    names = {p for p in frame["place"] if p}
    if location is not None:
        # the location may be named by its code (LOBI) or by its measuring point (Lobith)
        keep = pd.Series([location in pair for pair in places], index=frame.index, dtype=bool)
        if not keep.any():
            raise SourceFormatError(path, None, f"no measurements of location {location!r}; found {sorted(names)}")
        frame = frame[keep]
    elif len(names) > 1:
        raise SourceFormatError(path, None, f"measurements of several locations {sorted(names)}; "
                                "name the one to read (location)")
    local_day = frame["time"].dt.tz_convert("Europe/Amsterdam").dt.tz_localize(None).dt.normalize()
    daily = frame.groupby(local_day)["value"].mean()
    daily.index = pd.DatetimeIndex(daily.index)
    return _finish(path, daily.astype(float), quarantine)


def _finish(path: Path, series: pd.Series, quarantine: Quarantine) -> pd.Series:
    if series.empty:
        raise SourceFormatError(path, None, "no discharge values found")
    series = series[~series.index.duplicated(keep="last")].sort_index()
    # Whole days, gaps as NaN: a missing day stays visible instead of being skipped.
    series = series.reindex(pd.date_range(series.index[0], series.index[-1], freq="D"))
    series.index.name = "date"
    series.name = "discharge_m3_s"
    series.attrs = {"units": "m3/s", "source": str(path), "quarantined": list(quarantine.items)}
    return series


def _text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SourceFormatError(path, None, "file not found") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # The services' exports are written in Windows-1252 (e.g. "°" in descriptions).
        return raw.decode("cp1252", errors="replace")


def _first_data_line(text: str) -> tuple[int, str] | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            return number, line
    return None
