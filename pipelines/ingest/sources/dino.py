"""Reader for DINOloket groundwater-level exports (TNO's national groundwater database).

A DINO *well* ("put", e.g. ``B33F0080``) has one or more *filters* (screens at different
depths, ``001``, ``002``…); a level series belongs to one filter, so this project names a
series ``"<location>-<filter>"``, e.g. ``"B33F0080-001"``.

An export file holds a few metadata rows, a **well table** (one row per period in which the
surface level, measuring point and filter depths were constant) and a **level table**. Three
layouts are in circulation:

* **dino-2024**: every field quoted; levels in ``Stand (cm t.o.v NAP)``; dates dd-mm-yyyy.
* **dino-2019 ``*_1.csv``**: the same columns, unquoted.
* **dino-2019 ``*_0.csv``**: upper-case headers, dates ``yyyy/mm/dd``, ``PEIL DATUM TIJD``
  with a time, and the level only as ``STAND (MV)``: cm *below* the surface (maaiveld). It
  is converted with the surface level of the well-table row valid at that date.

All DINO values are in cm; this reader returns m. NAP (Normaal Amsterdams Peil) is the Dutch
vertical datum. A well without readings says so in a line ("Van deze put zijn geen standen
opgenomen…"): the reader then returns empty levels.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from pipelines.ingest.sources.errors import (BadRecord, PlausibleDates, Quarantine, Quarantined, SourceFormatError,
                                             decode_text, reader_guard)

LEVEL_COLUMNS = ["well", "time", "level_m_nap", "remark"]
WELL_COLUMNS = [
    "well", "location", "filter", "surface_m_nap", "filter_top_m_nap",
    "filter_bottom_m_nap", "lower_limit_m_nap", "geometry",
]

# Header names (upper-cased) of the two families of layouts, mapped to one vocabulary.
_WELL_NAMES = {
    "LOCATIE": "location",
    "FILTERNUMMER": "filter",
    "X-COORDINAAT": "x",
    "Y-COORDINAAT": "y",
    "MAAIVELD (CM T.O.V. NAP)": "surface_cm",
    "MAAIVELD NAP": "surface_cm",
    "BOVENKANT FILTER (CM T.O.V. NAP)": "top_cm",
    "BOVENKANT FILTER": "top_cm",
    "ONDERKANT FILTER (CM T.O.V. NAP)": "bottom_cm",
    "ONDERKANT FILTER": "bottom_cm",
    "STARTDATUM": "start",
    "START DATUM": "start",
    "EINDDATUM": "end",
    "EIND DATUM": "end",
}
_LEVEL_NAMES = {
    "LOCATIE": "location",
    "FILTERNUMMER": "filter",
    "PEILDATUM": "date",
    "PEIL DATUM TIJD": "date",
    "STAND (CM T.O.V NAP)": "nap_cm",
    "STAND (CM T.O.V. NAP)": "nap_cm",
    "STAND (MV)": "below_surface_cm",
    "STAND (CM T.O.V. MV)": "mv_cm",
    "STAND (CM T.O.V. MP)": "mp_cm",
    "BIJZONDERHEID": "remark",
}
#: RD New (EPSG:28992) coordinates of the Netherlands and its coastal waters, m. A well outside
#: is misplaced (a column shifted, a table run into another), not in another country.
RD_X_RANGE_M = (-7_000.0, 300_000.0)
RD_Y_RANGE_M = (289_000.0, 629_000.0)
_NO_LEVELS = "geen standen opgenomen"


@dataclass
class DinoRecord:
    """What one DINO export holds.

    ``levels``: ``well`` (str), ``time`` (datetime64 naive, date of the reading),
    ``level_m_nap`` (float64, m NAP; NaN where DINO gives a remark but no value, e.g. ``D``
    for a dry well), ``remark`` (str, DINO ``Bijzonderheid``, empty when none).

    ``wells``: one row per filter with the values of its most recent well-table period:
    ``well``, ``location``, ``filter`` (str), ``surface_m_nap``, ``filter_top_m_nap``,
    ``filter_bottom_m_nap`` (float64, m NAP), ``lower_limit_m_nap`` (NaN: set by
    configuration, not by DINO), geometry Point in EPSG:28992.

    ``history``: the full well table (``valid_from``/``valid_until`` per period, same units).
    """

    levels: pd.DataFrame
    wells: gpd.GeoDataFrame
    history: pd.DataFrame
    quarantined: list[Quarantined] = field(default_factory=list)
    #: ``"nap"`` where the file gives levels in m NAP itself, ``"surface"`` where this reader
    #: derived them from depths below the surface (the ``_0`` layout): the weaker of the two
    #: when two files of one well disagree.
    levels_from: str = "nap"


@reader_guard
def read_dino_csv(
    path: Path | str, *, on_bad_record: BadRecord = BadRecord.QUARANTINE, dates: PlausibleDates | None = None
) -> DinoRecord:
    """Read one DINOloket groundwater CSV export in any of the three layouts.

    Levels come back in m NAP whatever the layout; a well without readings gives empty
    levels. When a filter has two readings on one date (DINO records one before and one
    after a change of measuring point), the last one is kept and the earlier quarantined.
    Some real exports lack parts: no well table (then ``wells`` is empty), or readings only
    relative to the measuring point (then ``level_m_nap`` is NaN: NAP cannot be known).
    Checked, and quarantined with the reason where wrong: a level row whose well is not in the
    file's own well table (or, without one, not the well of the file's other rows); a date
    outside ``dates`` (default :class:`PlausibleDates`); a well-table row placed outside the
    RD New extent of the Netherlands; a row with no usable level in NAP (only relative to the
    measuring point or surface, with no NAP height for them in the file; or no level at
    all and no remark saying why). The ``_0`` layout's clock time is dropped: DINO's manual
    readings are by day, and its loggers' readings come at a fixed hour of that day.
    A byte-order mark, CR-only line ends and Windows-1252 text are read as well.

    Raises :class:`SourceFormatError` (and nothing else) when the file has none of well
    table, level table and no-readings note, a table header lacks a needed column, or the
    file cannot be read.
    """
    path = Path(path)
    quarantine = Quarantine(path, on_bad_record)
    window = dates or PlausibleDates()
    blocks = _blocks(path)
    well_block = _find_block(blocks, "X-COORDINAAT")
    level_block = _find_block(blocks, "STAND")
    has_no_levels_note = any(_NO_LEVELS in " ".join(row).lower() for _, row in _all_rows(blocks))
    if well_block is None and level_block is None and not has_no_levels_note:
        raise SourceFormatError(
            path,
            None,
            "expected a well table ('Locatie,Filternummer,...,X-coordinaat'), a level table"
            " ('Locatie,Filternummer,Peildatum,...,Stand ...') or the note that the well has"
            " no readings",
        )
    history = _well_history(path, well_block, quarantine)
    levels, levels_from = _levels(path, level_block, history, quarantine, window)
    return DinoRecord(levels, _wells(history), history, quarantine.items, levels_from)


def _blocks(path: Path) -> list[list[tuple[int, list[str]]]]:
    """The file as blocks of non-empty rows (with line numbers) separated by empty rows."""
    text = decode_text(path, path.read_bytes())
    blocks: list[list[tuple[int, list[str]]]] = [[]]
    # Only the dino-2024 layout quotes its fields. The older ones do not, yet a remark may
    # hold a lone '"' (B39A0235-002 has 'N,"' rows): read those with quoting off, or the
    # csv module would swallow the following lines into one field. Each line is parsed on
    # its own (splitlines knows CR-only line ends too), so a stray quote costs one line.
    quoted = text.lstrip().startswith('"')
    quoting = csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE
    for number, line in enumerate(text.splitlines(), start=1):
        row = [cell.strip() for cell in next(csv.reader([line], quoting=quoting), [])]
        if not any(row):
            if blocks[-1]:
                blocks.append([])
            continue
        # a table header starts a table even where the blank line before it is missing
        if row[0].upper() == "LOCATIE" and blocks[-1]:
            blocks.append([])
        blocks[-1].append((number, row))
    return [block for block in blocks if block]


def _all_rows(blocks: list[list[tuple[int, list[str]]]]):
    return (row for block in blocks for row in block)


def _find_block(blocks, marker: str):
    """The block whose first row is a table header containing ``marker``."""
    for block in blocks:
        header = [cell.upper() for cell in block[0][1]]
        if header and header[0] == "LOCATIE" and any(marker in cell for cell in header):
            return block
    return None


def _columns(path: Path, block, names: dict[str, str], required: list[str]) -> dict[str, int]:
    line, header = block[0]
    positions = {}
    for index, cell in enumerate(header):
        key = names.get(cell.upper())
        if key and key not in positions:
            positions[key] = index
    missing = [name for name in required if name not in positions]
    if missing:
        raise SourceFormatError(path, line, f"table header lacks {missing}; found {header}")
    return positions


def _parse_date(text: str) -> pd.Timestamp:
    """DINO dates: ``dd-mm-yyyy`` (newer layouts) or ``yyyy/mm/dd[ HH:MM:SS]`` (older); the
    clock time is dropped (see :func:`read_dino_csv`). Raises ValueError where it fails."""
    # The forms of _parse_dates, for one text without a Series around it (a file's well table
    # has a few dates; through pandas each cost about 10 ms).
    text = str(text).strip()
    try:
        if re.match(_DAY_FIRST, text):
            return pd.Timestamp(dt.datetime.strptime(text, "%d-%m-%Y"))
        if re.match(_YEAR_FIRST, text):
            return pd.Timestamp(dt.datetime.strptime(text[:10], "%Y/%m/%d"))
    except ValueError:
        pass
    raise ValueError(f"expected a date dd-mm-yyyy or yyyy/mm/dd, got {text!r}")


_DAY_FIRST = r"^\d{2}-\d{2}-\d{4}$"
_YEAR_FIRST = r"^\d{4}/\d{2}/\d{2}(?: \d{2}:\d{2}(?::\d{2})?)?$"


def _parse_dates(texts: pd.Series) -> pd.Series:
    """Dates of a DINO column, each text by its own form (one broken text does not decide the
    format of the rest); the day only; NaT where a text is no date."""
    texts = texts.astype(str).str.strip()
    parsed = pd.Series(pd.NaT, index=texts.index, dtype="datetime64[us]")
    day_first = texts.str.match(_DAY_FIRST)
    year_first = texts.str.match(_YEAR_FIRST)
    if day_first.any():
        parsed[day_first] = pd.to_datetime(texts[day_first], format="%d-%m-%Y", errors="coerce")
    if year_first.any():
        parsed[year_first] = pd.to_datetime(texts[year_first].str.slice(0, 10), format="%Y/%m/%d",
                                            errors="coerce")
    return parsed.astype("datetime64[us]")


def _number(text: str) -> float:
    return float(text) if text else np.nan


def _well_history(path: Path, block, quarantine: Quarantine) -> pd.DataFrame:
    columns = ["well", "location", "filter", "x", "y", "surface_m_nap", "filter_top_m_nap",
               "filter_bottom_m_nap", "valid_from", "valid_until"]
    if block is None:
        return pd.DataFrame(columns=columns)
    at = _columns(path, block, _WELL_NAMES,
                  ["location", "filter", "x", "y", "surface_cm", "top_cm", "bottom_cm", "start"])
    rows = []
    for line, row in block[1:]:
        try:
            location, filter_ = row[at["location"]], row[at["filter"]]
            end = row[at["end"]] if "end" in at and at["end"] < len(row) else ""
            x, y = float(row[at["x"]]), float(row[at["y"]])
            rows.append([
                f"{location}-{filter_}", location, filter_, x, y,
                _number(row[at["surface_cm"]]) / 100,
                _number(row[at["top_cm"]]) / 100,
                _number(row[at["bottom_cm"]]) / 100,
                _parse_date(row[at["start"]]),
                _parse_date(end) if end else pd.NaT,
            ])
        except (IndexError, ValueError, OverflowError) as error:
            quarantine.add(line, f"well-table row does not parse ({error})", ",".join(row))
            continue
        if not (RD_X_RANGE_M[0] <= x <= RD_X_RANGE_M[1] and RD_Y_RANGE_M[0] <= y <= RD_Y_RANGE_M[1]):
            rows.pop()
            quarantine.add(line, f"well position x={x:g}, y={y:g} lies outside the Netherlands in RD New"
                           f" (EPSG:28992, x {RD_X_RANGE_M}, y {RD_Y_RANGE_M} m)", ",".join(row))
    history = pd.DataFrame(rows, columns=columns)
    return history.sort_values(["well", "valid_from"], kind="stable").reset_index(drop=True)


def _wells(history: pd.DataFrame) -> gpd.GeoDataFrame:
    latest = history.groupby("well", sort=True).tail(1).reset_index(drop=True)
    frame = gpd.GeoDataFrame(
        {
            "well": latest["well"].astype(str),
            "location": latest["location"].astype(str),
            "filter": latest["filter"].astype(str),
            "surface_m_nap": latest["surface_m_nap"].astype(float),
            "filter_top_m_nap": latest["filter_top_m_nap"].astype(float),
            "filter_bottom_m_nap": latest["filter_bottom_m_nap"].astype(float),
            "lower_limit_m_nap": np.full(len(latest), np.nan),
        },
        geometry=gpd.points_from_xy(latest["x"].astype(float), latest["y"].astype(float)),
        crs="EPSG:28992",
    )
    return frame[WELL_COLUMNS]


def _empty_levels() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "well": pd.Series([], dtype=str),
            "time": pd.Series([], dtype="datetime64[us]"),
            "level_m_nap": pd.Series([], dtype=float),
            "remark": pd.Series([], dtype=str),
        }
    )


def _levels(path: Path, block, history: pd.DataFrame, quarantine: Quarantine, window: PlausibleDates
            ) -> tuple[pd.DataFrame, str]:
    if block is None:
        return _empty_levels(), "nap"
    header_line, header = block[0]
    at = _columns(path, block, _LEVEL_NAMES, ["location", "filter", "date"])
    if "nap_cm" not in at and "below_surface_cm" not in at:
        raise SourceFormatError(
            path, header_line, "level table has neither 'Stand (cm t.o.v NAP)' nor 'STAND (MV)'"
        )
    value_key = "nap_cm" if "nap_cm" in at else "below_surface_cm"
    levels_from = "nap" if value_key == "nap_cm" else "surface"
    other_keys = [key for key in ("mp_cm", "mv_cm") if key in at]
    # Rows may end in more empty cells than the header has; a row with values beyond the
    # header has run into something else.
    width = len(header)
    rows, lines, texts = [], [], []
    for line, row in block[1:]:
        text = ",".join(row)
        if any(row[width:]):
            quarantine.add(line, f"expected at most {width} filled fields as in the header (line {header_line}),"
                           f" found {len(row)}", text)
            continue
        try:
            remark = row[at["remark"]] if "remark" in at and at["remark"] < len(row) else ""
            others = [_number(row[at[key]]) for key in other_keys if at[key] < len(row)]
            rows.append([
                f"{row[at['location']]}-{row[at['filter']]}",
                row[at["date"]],
                _number(row[at[value_key]]) / 100,
                remark,
                any(np.isfinite(value) for value in others),
            ])
            lines.append(line)
            texts.append(text)
        except (IndexError, ValueError, OverflowError) as error:
            quarantine.add(line, f"level row does not parse ({error})", text)
    levels = pd.DataFrame(rows, columns=["well", "date", "value_m", "remark", "other_reference"])
    levels["_line"] = lines
    levels["_text"] = texts
    levels = _drop(levels, ~np.isfinite(levels["value_m"].to_numpy(float)) & levels["value_m"].notna().to_numpy(),
                   "level is not a finite number", quarantine)
    levels = _drop(levels, _foreign_wells(levels, history), _foreign_reason(levels, history), quarantine)
    levels["time"] = _parse_dates(levels["date"])
    levels = _drop(levels, levels["time"].isna().to_numpy(), "expected a date dd-mm-yyyy or yyyy/mm/dd",
                   quarantine)
    levels = _drop(levels, window.outside(levels["time"]), window.reason(), quarantine)
    if levels.empty:
        return _empty_levels(), levels_from
    if value_key == "nap_cm":  # DINO's own conversion, exact to its measuring-point history
        levels["level_m_nap"] = levels["value_m"]
    else:
        levels["level_m_nap"] = _below_surface_to_nap(path, levels, history)
    no_nap = levels["level_m_nap"].isna().to_numpy()
    relative = no_nap & (levels["other_reference"].to_numpy(bool) | levels["value_m"].notna().to_numpy())
    levels = _drop(levels, relative, "level only relative to the measuring point or surface; the file gives no"
                   " NAP height for them, so the level in m NAP is unknown", quarantine)
    empty = levels["level_m_nap"].isna().to_numpy() & (levels["remark"].astype(str).str.strip() == "").to_numpy()
    levels = _drop(levels, empty, "no level in any reference and no remark saying why", quarantine)
    if levels.empty:
        return _empty_levels(), levels_from

    duplicated = levels.duplicated(["well", "time"], keep="last").to_numpy()
    for line, text in levels.loc[duplicated, ["_line", "_text"]].itertuples(index=False):
        quarantine.add(int(line), "second reading of the well on this date; the last is kept",
                       text)
    levels = levels.loc[~duplicated].sort_values(["well", "time"], kind="stable")
    levels = levels.astype({"well": str, "remark": str, "level_m_nap": float})
    levels["time"] = levels["time"].astype("datetime64[us]")
    return levels[LEVEL_COLUMNS].reset_index(drop=True), levels_from


def _drop(levels: pd.DataFrame, mask, reason, quarantine: Quarantine) -> pd.DataFrame:
    """Quarantine the rows of ``levels`` where ``mask`` holds (``reason`` a text, or a
    function of the row's well) and return the others."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():  # the usual case; six checks a file, each a copy of the table otherwise
        return levels
    for well, line, text in levels.loc[mask, ["well", "_line", "_text"]].itertuples(index=False):
        quarantine.add(int(line), reason if isinstance(reason, str) else reason(well), text)
    return levels.loc[~mask]


def _foreign_wells(levels: pd.DataFrame, history: pd.DataFrame) -> np.ndarray:
    """Rows whose well is not the file's: not in its well table, or (without a well table)
    not the well of most of its rows. A corrupted id would otherwise make a phantom well."""
    if levels.empty:
        return np.zeros(0, dtype=bool)
    known = set(history["well"]) if not history.empty else {levels["well"].mode().iloc[0]}
    return ~levels["well"].isin(known).to_numpy()


def _foreign_reason(levels: pd.DataFrame, history: pd.DataFrame):
    if not history.empty:
        known = sorted(set(history["well"]))
        return lambda well: f"well {well!r} is not in the file's well table ({known})"
    return lambda well: f"well {well!r} differs from the well of the file's other rows"



def _below_surface_to_nap(path: Path, levels: pd.DataFrame, history: pd.DataFrame) -> pd.Series:
    """m NAP = surface (m NAP, of the well-table period valid at the reading) - depth (m).

    Readings before the first period use the first period's surface: DINO's older exports
    sometimes start the well table later than the readings. Where no surface level is known
    at all (an empty well table, a blank ``MAAIVELD NAP``) the level in NAP is unknown: NaN.
    """
    if history.empty:
        return pd.Series(np.nan, index=levels.index)
    periods = history[["well", "valid_from", "surface_m_nap"]].sort_values("valid_from")
    order = levels.sort_values("time", kind="stable")
    matched = pd.merge_asof(
        order[["well", "time"]].reset_index(),
        periods.rename(columns={"valid_from": "time"}).astype({"time": order["time"].dtype}),
        on="time", by="well", direction="backward",
    ).set_index("index")
    first = periods.groupby("well")["surface_m_nap"].first()
    surface = matched["surface_m_nap"].fillna(matched["well"].map(first))
    return surface.reindex(levels.index) - levels["value_m"]
