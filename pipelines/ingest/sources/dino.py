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
import io
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from pipelines.ingest.sources.errors import BadRecord, Quarantine, Quarantined, SourceFormatError

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
    "BIJZONDERHEID": "remark",
}
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


def read_dino_csv(
    path: Path | str, *, on_bad_record: BadRecord = BadRecord.QUARANTINE
) -> DinoRecord:
    """Read one DINOloket groundwater CSV export in any of the three layouts.

    Levels come back in m NAP whatever the layout; a well without readings gives empty
    levels. When a filter has two readings on one date (DINO records one before and one
    after a change of measuring point), the last one is kept and the earlier quarantined.
    Some real exports lack parts: no well table (then ``wells`` is empty), or readings only
    relative to the measuring point (then ``level_m_nap`` is NaN: NAP cannot be known).
    Raises :class:`SourceFormatError` when the file has none of well table, level table and
    no-readings note, or a table header lacks a needed column.
    """
    path = Path(path)
    quarantine = Quarantine(path, on_bad_record)
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
    levels = _levels(path, level_block, history, quarantine)
    return DinoRecord(levels, _wells(history), history, quarantine.items)


def _blocks(path: Path) -> list[list[tuple[int, list[str]]]]:
    """The file as blocks of non-empty rows (with line numbers) separated by empty rows."""
    text = path.read_bytes().decode("latin-1")
    blocks: list[list[tuple[int, list[str]]]] = [[]]
    # Only the dino-2024 layout quotes its fields. The older ones do not, yet a remark may
    # hold a lone '"' (B39A0235-002 has 'N,"' rows): read those with quoting off, or the
    # csv module would swallow the following lines into one field.
    quoted = text.lstrip().startswith('"')
    reader = csv.reader(io.StringIO(text), quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE)
    for row in reader:
        if any(cell.strip() for cell in row):
            blocks[-1].append((reader.line_num, [cell.strip() for cell in row]))
        elif blocks[-1]:
            blocks.append([])
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
    """DINO dates: ``dd-mm-yyyy`` (newer layouts) or ``yyyy/mm/dd[ HH:MM:SS]`` (older)."""
    fmt = "%d-%m-%Y" if "-" in text else "%Y/%m/%d %H:%M:%S" if ":" in text else "%Y/%m/%d"
    return pd.to_datetime(text, format=fmt)


def _parse_dates(texts: pd.Series) -> pd.Series:
    """Vectorised :func:`_parse_date` for a column in one layout; NaT where a text fails."""
    if texts.empty:
        return pd.Series([], dtype="datetime64[us]")
    sample = texts.iloc[0]
    fmt = "%d-%m-%Y" if "-" in sample else "%Y/%m/%d %H:%M:%S" if ":" in sample else "%Y/%m/%d"
    return pd.to_datetime(texts, format=fmt, errors="coerce")


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
            end = row[at["end"]] if "end" in at else ""
            rows.append([
                f"{location}-{filter_}", location, filter_,
                float(row[at["x"]]), float(row[at["y"]]),
                _number(row[at["surface_cm"]]) / 100,
                _number(row[at["top_cm"]]) / 100,
                _number(row[at["bottom_cm"]]) / 100,
                _parse_date(row[at["start"]]),
                _parse_date(end) if end else pd.NaT,
            ])
        except (IndexError, ValueError) as error:
            quarantine.add(line, f"well-table row does not parse ({error})", ",".join(row))
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


def _levels(path: Path, block, history: pd.DataFrame, quarantine: Quarantine) -> pd.DataFrame:
    if block is None:
        return _empty_levels()
    at = _columns(path, block, _LEVEL_NAMES, ["location", "filter", "date"])
    if "nap_cm" not in at and "below_surface_cm" not in at:
        raise SourceFormatError(
            path, block[0][0], "level table has neither 'Stand (cm t.o.v NAP)' nor 'STAND (MV)'"
        )
    value_key = "nap_cm" if "nap_cm" in at else "below_surface_cm"
    rows, lines, texts = [], [], []
    for line, row in block[1:]:
        try:
            remark = row[at["remark"]] if "remark" in at and at["remark"] < len(row) else ""
            rows.append([
                f"{row[at['location']]}-{row[at['filter']]}",
                row[at["date"]],
                _number(row[at[value_key]]) / 100,
                remark,
            ])
            lines.append(line)
            texts.append(",".join(row))
        except (IndexError, ValueError) as error:
            quarantine.add(line, f"level row does not parse ({error})", ",".join(row))
    levels = pd.DataFrame(rows, columns=["well", "date", "value_m", "remark"])
    levels["_line"] = lines
    levels["_text"] = texts
    # one format per file: parse the dates in one vectorised call, quarantine the failures
    levels["time"] = _parse_dates(levels["date"])
    for line, text in levels.loc[levels["time"].isna(), ["_line", "_text"]].itertuples(index=False):
        quarantine.add(int(line), "expected a date dd-mm-yyyy or yyyy/mm/dd", text)
    levels = levels.loc[levels["time"].notna()]
    if levels.empty:
        return _empty_levels()
    if value_key == "nap_cm":  # DINO's own conversion, exact to its measuring-point history
        levels["level_m_nap"] = levels["value_m"]
    else:
        levels["level_m_nap"] = _below_surface_to_nap(path, levels, history)

    duplicated = levels.duplicated(["well", "time"], keep="last").to_numpy()
    for line, text in levels.loc[duplicated, ["_line", "_text"]].itertuples(index=False):
        quarantine.add(int(line), "second reading of the well on this date; the last is kept",
                       text)
    levels = levels.loc[~duplicated].sort_values(["well", "time"], kind="stable")
    levels = levels.astype({"well": str, "remark": str, "level_m_nap": float})
    levels["time"] = levels["time"].astype("datetime64[us]")
    return levels[LEVEL_COLUMNS].reset_index(drop=True)


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
