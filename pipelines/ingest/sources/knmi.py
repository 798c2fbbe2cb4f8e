"""Readers for KNMI station data: daily automatic-station files, rain gauges, station metadata.

KNMI (Royal Netherlands Meteorological Institute) publishes two kinds of daily rainfall:

* **Daily station data** ("daggegevens", ``etmgeg_<STN>.zip|txt``) of the ~50 automatic
  weather stations: one line per UT day with dozens of variables, of which this project uses
  ``RH`` (daily precipitation sum, 0.1 mm) and ``EV24`` (Makkink reference evaporation,
  0.1 mm).
* **Manual rain gauges** ("neerslagstations", ``neerslaggeg_<NAME>_<STN>.txt``): some 300
  volunteers read a gauge every morning at 08 UTC, so ``RD`` is the sum over 08-08 UTC.

Both files start with a free-text legend, then a header line naming the comma-separated,
fixed-width columns (``# STN,YYYYMMDD,...`` or ``STN,YYYYMMDD,...``); a blank field is a
missing value. Columns are found by their header names, never by position: KNMI adds and
reorders columns over the years.

Bad records (a garbage line, a line cut off by a truncated download, an impossible date)
are quarantined and listed in ``df.attrs["quarantined"]`` (see :mod:`.errors`).
"""

from __future__ import annotations

import re
import zipfile
from functools import cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from pipelines.ingest.sources.errors import (BadRecord, PlausibleDates, Quarantine, SourceFormatError, decode_text,
                                             reader_guard)

#: KNMI writes RH = -1 for "more than nothing but less than 0.05 mm". We count such a day as
#: half the detection limit, so sums over dry spells are not biased low nor high.
TRACE_PRECIPITATION_MM = 0.025

_HEADER = re.compile(r"^\s*#?\s*STN\s*,\s*YYYYMMDD\s*,")
#: Every column name KNMI writes in daily station and rain-gauge files. A header name outside
#: this list is refused: a garbled ``EV24`` would otherwise read as "no evaporation column"
#: and give all-missing evaporation without a word. A column KNMI adds one day goes here.
KNOWN_COLUMNS = frozenset(
    "STN YYYYMMDD DDVEC FHVEC FG FHX FHXH FHN FHNH FXX FXXH TG TN TNH TX TXH T10N T10NH SQ SP Q DR "
    "RH RHX RHXH PG PX PXH PN PNH VVN VVNH VVX VVXH NG UG UX UXH UN UNH EV24 RD SX".split()
)
_STATIONS_CSV = Path(__file__).with_name("knmi_stations.csv")


@reader_guard
def read_knmi_daily(
    path: Path | str, *, on_bad_record: BadRecord = BadRecord.QUARANTINE, dates: PlausibleDates | None = None
) -> pd.DataFrame:
    """Read a KNMI daily station file (``etmgeg_<STN>.zip`` holding the ``.txt``, or the ``.txt``).

    Returns one row per station and UT day, sorted, with columns

    * ``station`` (str): KNMI station number, e.g. ``"260"``;
    * ``date`` (datetime64, naive): the UT day (00-24 UTC) the values belong to;
    * ``precipitation_mm`` (float64, mm/day): ``RH / 10``; KNMI's ``RH = -1``
      (< 0.05 mm) becomes 0.025 mm, half the detection limit; NaN where blank;
    * ``evaporation_mm`` (float64, mm/day): ``EV24 / 10``, Makkink reference evaporation;
      NaN where blank or where the file has no ``EV24`` column (station 340 Woensdrecht
      publishes none at all).

    ``attrs["units"]`` names the units, ``attrs["quarantined"]`` lists records set aside.
    A second line for the same station and day is quarantined as a duplicate.

    A line whose fields do not line up with the header (another number of fields, or a field
    narrower or wider than its fixed-width header column, as when a download is cut off
    inside the last field) is quarantined, as is a day outside ``dates`` (default
    :class:`PlausibleDates`).

    Raises :class:`SourceFormatError` (and nothing else) when the file has no
    ``# STN,YYYYMMDD,...`` header, the header lacks ``RH`` or names a column KNMI does not
    write (:data:`KNOWN_COLUMNS`), or the file cannot be read.
    """
    path = Path(path)
    quarantine = Quarantine(path, on_bad_record)
    table = _read_table(path, quarantine, required=("STN", "YYYYMMDD", "RH"), optional=("EV24",),
                        window=dates or PlausibleDates())
    rh = table["RH"]
    precipitation = np.where(rh == -1, TRACE_PRECIPITATION_MM, rh / 10.0)
    frame = pd.DataFrame(
        {
            "station": table["STN"],
            "date": table["YYYYMMDD"],
            "precipitation_mm": precipitation,
            "evaporation_mm": table["EV24"] / 10.0,
        }
    )
    frame = _drop_duplicates(frame, table["_line"], table["_text"], quarantine)
    frame.attrs["units"] = {"precipitation_mm": "mm/day", "evaporation_mm": "mm/day"}
    frame.attrs["source"] = str(path)
    frame.attrs["quarantined"] = quarantine.items
    return frame


@reader_guard
def read_knmi_rain_gauge(
    path: Path | str, *, on_bad_record: BadRecord = BadRecord.QUARANTINE, dates: PlausibleDates | None = None
) -> pd.DataFrame:
    """Read a KNMI manual rain-gauge file (``neerslaggeg_<NAME>_<STN>.txt``).

    ``RD`` is the precipitation sum over **08:00 UTC of the previous day to 08:00 UTC of the
    labelled day**: KNMI labels each value by the day its period *ends*, so ``date``
    2000-01-02 covers 2000-01-01 08 UTC to 2000-01-02 08 UTC. That is not a UT day; shift or
    weight it before mixing it with :func:`read_knmi_daily` values.

    Returns columns ``station`` (str), ``date`` (datetime64 naive, the day the period ends),
    ``precipitation_mm`` (float64, mm over the period; NaN where the file has five spaces)
    and ``period_end_utc`` (datetime64 naive UTC, ``date`` 08:00). ``attrs["period"]`` says
    ``"08-08 UTC"``; ``attrs["quarantined"]`` lists records set aside.
    """
    path = Path(path)
    quarantine = Quarantine(path, on_bad_record)
    table = _read_table(path, quarantine, required=("STN", "YYYYMMDD", "RD"), optional=(),
                        window=dates or PlausibleDates())
    frame = pd.DataFrame(
        {
            "station": table["STN"],
            "date": table["YYYYMMDD"],
            "precipitation_mm": table["RD"] / 10.0,
        }
    )
    frame["period_end_utc"] = frame["date"] + pd.Timedelta(hours=8)
    frame = _drop_duplicates(frame, table["_line"], table["_text"], quarantine)
    frame.attrs["units"] = {"precipitation_mm": "mm per 08-08 UTC period"}
    frame.attrs["period"] = "08-08 UTC"
    frame.attrs["source"] = str(path)
    frame.attrs["quarantined"] = quarantine.items
    return frame


def knmi_stations() -> gpd.GeoDataFrame:
    """KNMI automatic weather stations: ``station`` (str), ``name`` (str), Point geometry in
    EPSG:28992 (RD New), from the ``knmi_stations.csv`` shipped beside this module (WGS84
    longitude/latitude, reprojected here)."""
    return _stations().copy()


@cache
def _stations() -> gpd.GeoDataFrame:
    table = pd.read_csv(_STATIONS_CSV, comment="#", dtype={"station": str, "name": str})
    points = gpd.points_from_xy(table["lon"], table["lat"], crs="EPSG:4326")
    frame = gpd.GeoDataFrame(table[["station", "name"]], geometry=points)
    return frame.to_crs("EPSG:28992")


def _read_lines(path: Path) -> list[str]:
    """The text lines of a ``.txt`` file, or of the single ``.txt`` member of a ``.zip``."""
    try:
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                members = [n for n in archive.namelist() if n.lower().endswith(".txt")]
                if len(members) != 1:
                    raise SourceFormatError(
                        path, None, f"expected one .txt file in the zip, found {members}"
                    )
                raw = archive.read(members[0])
        else:
            raw = path.read_bytes()
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, NotImplementedError) as error:
        raise SourceFormatError(path, None, f"not a readable zip file ({error})") from error
    # KNMI files are ASCII; a stray byte decodes (see decode_text) and lands in quarantine.
    return decode_text(path, raw).splitlines()


def _read_table(
    path: Path, quarantine: Quarantine, *, required: tuple[str, ...], optional: tuple[str, ...],
    window: PlausibleDates,
) -> dict[str, np.ndarray]:
    """Parse the records below the header into arrays for the wanted columns.

    Values are integers in KNMI's units (blank → NaN); ``STN`` comes back as str,
    ``YYYYMMDD`` as datetime64, ``_line``/``_text`` hold each record's 1-based line number and text.
    """
    lines = _read_lines(path)
    header_at = next((i for i, line in enumerate(lines) if _HEADER.match(line)), None)
    if header_at is None:
        raise SourceFormatError(
            path, None, "expected a header line 'STN,YYYYMMDD,...' (with or without '# ')"
        )
    header_cells = lines[header_at].rstrip().split(",")
    header_cells[0] = header_cells[0].lstrip().lstrip("#")
    names = [name.strip() for name in header_cells]
    unknown = [name for name in names if name and name not in KNOWN_COLUMNS]
    if unknown:
        raise SourceFormatError(
            path, header_at + 1, f"header names column(s) {unknown} that KNMI does not write; expected names"
            f" from {sorted(KNOWN_COLUMNS)}"
        )
    if len(set(names)) != len(names):
        raise SourceFormatError(path, header_at + 1, f"header repeats a column name: {names}")
    # KNMI pads every value column to the width of its header cell ("   RH", " EV24"): a field
    # of another width is a line cut short or run together, whose number would be wrong.
    widths = {names.index(name): len(header_cells[names.index(name)])
              for name in names if name not in ("STN", "YYYYMMDD", "")
              and header_cells[names.index(name)] != name}
    missing = [name for name in required if name not in names]
    if missing:
        raise SourceFormatError(
            path, header_at + 1, f"header lacks column(s) {missing}; found {names}"
        )
    wanted = [name for name in (*required, *optional) if name in names]
    positions = [names.index(name) for name in wanted]
    numeric = [name for name in wanted if name not in ("STN", "YYYYMMDD")]

    stations: list[str] = []
    dates: list[str] = []
    values: list[list[float]] = []
    numbers: list[int] = []
    # Records of the common, well-formed kind are matched whole by one compiled pattern and
    # converted column by column below (about 5x faster than field by field in Python: the
    # demo's six station files, 76,000 records, took about 0.45 s of CPU of every daily run).
    # Any other record takes the field-by-field path, which gives its quarantine reason.
    clean = _clean_record(names, wanted, widths)
    fast: list[tuple[str | None, ...]] = []  # the pattern's groups, in the order of ``wanted``
    fast_at: list[int] = []  # each fast record's index among all records (``numbers``)
    slow_at: list[int] = []  # the same for the records parsed field by field
    for number, line in enumerate(lines[header_at + 1 :], start=header_at + 2):
        match = clean.fullmatch(line)
        if match is not None:
            fast.append(match.groups())
            fast_at.append(len(numbers))
            numbers.append(number)
            continue
        if not line.strip():
            continue
        fields = line.split(",")
        if len(fields) != len(names):
            quarantine.add(
                number, f"expected {len(names)} comma-separated fields, found {len(fields)}", line
            )
            continue
        # an empty last field is a missing value (editors strip trailing blanks); any other
        # field of another width is a cut or run-together line, blank or not
        narrow = next((i for i, width in widths.items()
                       if len(fields[i]) != width and not (fields[i] == "" and i == len(fields) - 1)), None)
        if narrow is not None:
            quarantine.add(number, f"field {names[narrow]} is {len(fields[narrow])} characters wide, its header"
                           f" column {widths[narrow]}: the line does not line up with the header", line)
            continue
        picked = dict(zip(wanted, (fields[p].strip() for p in positions)))
        try:
            record = [float(int(picked[n])) if picked[n] else np.nan for n in numeric]
            station = str(int(picked["STN"]))
        except (ValueError, OverflowError):
            quarantine.add(number, f"expected integers in columns {['STN', *numeric]}", line)
            continue
        if not re.fullmatch(r"\d{8}", picked["YYYYMMDD"]):
            quarantine.add(number, "expected a date YYYYMMDD", line)
            continue
        stations.append(station)
        dates.append(picked["YYYYMMDD"])
        values.append(record)
        slow_at.append(len(numbers))
        numbers.append(number)

    count = len(numbers)
    station_column = np.empty(count, dtype=object)
    date_column = np.empty(count, dtype=object)
    matrix = np.full((count, len(numeric)), np.nan)
    if slow_at:
        station_column[slow_at] = stations
        date_column[slow_at] = dates
        matrix[slow_at] = np.array(values, dtype=float).reshape(len(values), len(numeric))
    if fast:
        _fill_clean(fast, fast_at, wanted, numeric, station_column, date_column, matrix)
    parsed_dates = pd.to_datetime(pd.Series(date_column, dtype=str), format="%Y%m%d", errors="coerce")
    valid = parsed_dates.notna().to_numpy().copy()
    for index in np.flatnonzero(~valid):
        quarantine.add(numbers[index], "expected a calendar date YYYYMMDD", lines[numbers[index] - 1])
    implausible = window.outside(parsed_dates)
    for index in np.flatnonzero(implausible):
        quarantine.add(numbers[index], window.reason(), lines[numbers[index] - 1])
    valid &= ~implausible

    matrix = matrix[valid]
    table: dict[str, np.ndarray] = {
        "STN": station_column[valid],
        "YYYYMMDD": parsed_dates[valid].to_numpy(),
        "_line": np.array(numbers, dtype=int)[valid],
        "_text": np.array([lines[n - 1] for n in numbers], dtype=object)[valid],
    }
    for column, name in enumerate(numeric):
        table[name] = matrix[:, column]
    for name in optional:
        table.setdefault(name, np.full(len(table["STN"]), np.nan))
    return table


def _clean_record(names: list[str], wanted: list[str], widths: dict[int, int]) -> re.Pattern[str]:
    """A pattern matching a record the field-by-field parse of :func:`_read_table` accepts
    as it stands: every field as wide as its header column (the last may be empty), ``STN``
    and the numeric columns plain ASCII integers of at most 15 digits (exact as float64) or
    blank, ``YYYYMMDD`` eight ASCII digits. Its groups are the wanted columns' digits, in the
    order of ``wanted`` (None for a blank value). Anything else (a sign "+", other digits or
    white space, a longer number) does not match and is parsed field by field."""
    parts = []
    last = len(names) - 1
    for index, name in enumerate(names):
        if name == "STN" and "STN" in wanted:
            body = r" *([0-9]{1,15}) *"
        elif name == "YYYYMMDD" and "YYYYMMDD" in wanted:
            body = r" *([0-9]{8}) *"
        elif name in wanted:
            body = r" *(-?[0-9]{1,15})? *"
        else:
            body = r"[^,]*"
        if index in widths:
            ahead = rf"(?=[^,]{{{widths[index]}}}(?:,|$){'|$' if index == last else ''})"
            body = ahead + body
        parts.append(body)
    # the groups come in the header's order; reorder them to the order of ``wanted``
    in_header = [name for name in names if name in wanted]
    order = [in_header.index(name) for name in wanted]
    pattern = re.compile(",".join(parts))
    if order == list(range(len(order))):
        return pattern
    return _Reordered(pattern, order)  # type: ignore[return-value]


class _Reordered:
    """A compiled pattern whose ``fullmatch(...).groups()`` come in another order."""

    def __init__(self, pattern: re.Pattern[str], order: list[int]) -> None:
        self.pattern, self.order = pattern, order

    def fullmatch(self, line: str) -> _ReorderedMatch | None:
        match = self.pattern.fullmatch(line)
        return None if match is None else _ReorderedMatch(match.groups(), self.order)


class _ReorderedMatch:
    def __init__(self, groups: tuple[str | None, ...], order: list[int]) -> None:
        self._groups = tuple(groups[i] for i in order)

    def groups(self) -> tuple[str | None, ...]:
        return self._groups


def _fill_clean(
    fast: list[tuple[str | None, ...]], fast_at: list[int], wanted: list[str], numeric: list[str],
    station_column: np.ndarray, date_column: np.ndarray, matrix: np.ndarray,
) -> None:
    """Convert the pattern-matched records column by column into their rows (``fast_at``):
    the same values as the field-by-field ``str(int(STN))`` and ``float(int(value))``, NaN
    when blank (at most 15 digits: exact in float64 either way)."""
    # one fixed-width text array in C (a blank group, None, becomes "None"); numpy then
    # parses each column at once
    groups = np.array(fast, dtype="U15")
    station_column[fast_at] = groups[:, wanted.index("STN")].astype(np.int64).astype(str)
    date_column[fast_at] = groups[:, wanted.index("YYYYMMDD")]
    for index, name in enumerate(numeric):
        column = groups[:, wanted.index(name)]
        column[column == "None"] = "nan"
        matrix[fast_at, index] = column.astype(float)


def _drop_duplicates(
    frame: pd.DataFrame, line_numbers: np.ndarray, texts: np.ndarray, quarantine: Quarantine
) -> pd.DataFrame:
    """Keep the first record per (station, date); later ones go to quarantine."""
    frame = frame.astype({"station": str})
    duplicated = frame.duplicated(["station", "date"], keep="first").to_numpy()
    for number, text in zip(line_numbers[duplicated], texts[duplicated]):
        quarantine.add(int(number), "duplicate station and date", text)
    frame = frame.loc[~duplicated].sort_values(["station", "date"], kind="stable")
    return frame.reset_index(drop=True)
