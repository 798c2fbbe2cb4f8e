"""KNMI's national precipitation deficit series and its climatology.

``int_nl.dat`` (KNMI Climate Explorer) holds KNMI's official national potential precipitation
deficit (mm), one value per day from 1 April to 30 September, 1906 to the current season:
tab-separated ``YYYYMMDD value``, header lines starting with ``#``.

The climatology is what KNMI's graph draws: per day of the season, the **median** and the
**5 %-driest line** (the 95th percentile of the deficit, exceeded in 1 year in 20) over the
reference years 1906-2019, and single years (1976, 2018) for comparison.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

REFERENCE_YEARS = (1906, 2019)
COMPARISON_YEARS = (1976, 2018)


def read_int_nl(path: Path | str) -> pd.Series:
    """KNMI's national deficit series: float mm, index the date (datetime64), name ``deficit_mm``.

    Raises ValueError naming the file and line of a record that is not ``YYYYMMDD value``.
    """
    path = Path(path)
    dates, values = [], []
    for number, line in enumerate(path.read_text(encoding="latin-1").splitlines(), start=1):
        fields = line.split()
        if not fields or line.lstrip().startswith("#"):
            continue
        try:
            if len(fields) != 2 or len(fields[0]) != 8:
                raise ValueError
            dates.append(pd.Timestamp(fields[0]))
            values.append(float(fields[1]))
        except ValueError:
            raise ValueError(f"{path}, line {number}: expected 'YYYYMMDD<TAB>value', found {line[:80]!r}") from None
    if not dates:
        raise ValueError(f"{path}: no 'YYYYMMDD value' records found")
    return pd.Series(values, index=pd.DatetimeIndex(dates, name="date"), name="deficit_mm")


def by_season_day(series: pd.Series) -> pd.DataFrame:
    """The series as a table: index season day ``"MM-DD"``, one column per year."""
    frame = pd.DataFrame(
        {"year": series.index.year, "day": series.index.strftime("%m-%d"), "value": series.to_numpy()}
    )
    return frame.pivot(index="day", columns="year", values="value")


def deficit_climatology(
    series: pd.Series,
    *,
    reference_years: tuple[int, int] = REFERENCE_YEARS,
    comparison_years: tuple[int, ...] = COMPARISON_YEARS,
) -> pd.DataFrame:
    """Per season day (index ``"MM-DD"``): ``median`` and ``driest_5pct`` over the reference
    years, and one column per comparison year (named by the year as str), all in mm."""
    table = by_season_day(series)
    first, last = reference_years
    reference = table.loc[:, (table.columns >= first) & (table.columns <= last)]
    if reference.shape[1] == 0:
        raise ValueError(f"the series has no years within the reference period {first}-{last}")
    result = pd.DataFrame(
        {
            "median": reference.median(axis=1),
            "driest_5pct": reference.quantile(0.95, axis=1),
        }
    )
    for year in comparison_years:
        result[str(year)] = table[year] if year in table.columns else np.nan
    result.attrs = {"units": "mm", "reference_years": f"{first}-{last}"}
    return result


def own_record_deficit(weather, *, day) -> tuple[pd.Series, pd.DataFrame]:
    """This season's deficit and its climatology from a setup's own record, for setups
    without KNMI's national series: the deficit (mm) of the weather averaged over all districts
    (``precipitation_mm``, ``evaporation_mm``, dims ``time``, ``district``, mm/day), and per
    season day the median and 5 %-driest line over the complete earlier years of the record
    (``attrs["reference_years"]`` says which), with 2018 for comparison where the record has it.
    """
    from models.indicators.deficit import precipitation_deficit

    mean = weather[["precipitation_mm", "evaporation_mm"]].mean("district")
    series = precipitation_deficit(mean["precipitation_mm"], mean["evaporation_mm"]).to_series().dropna()
    day = pd.Timestamp(day)
    years = sorted(set(series.index.year) - {day.year})
    if not years:
        raise ValueError("own_record_deficit: the record has no complete earlier season")
    climatology = deficit_climatology(series[series.index.year < day.year],
                                      reference_years=(years[0], years[-1]), comparison_years=(2018,))
    current = series[(series.index.year == day.year) & (series.index <= day)]
    return current, climatology


#: Fewer earlier years than this give no percentile (NaN): a percentile of a handful of years says little.
MIN_PERCENTILE_YEARS = 10


def deficit_percentile(reference: pd.Series, current: pd.Series, *,
                       min_years: int = MIN_PERCENTILE_YEARS) -> pd.Series:
    """How dry each day of ``current`` is against the earlier years of ``reference``.

    ``reference``: a national deficit series (mm, e.g. KNMI's :func:`read_int_nl`, 1906-);
    ``current``: this season's national deficit (mm) per day. Returns per day of ``current``
    the percentile (0-100) of its value among the same season day (``MM-DD``) of the years of
    ``reference`` **before** that day's year (so a replayed day sees no later year), ties
    counted half: 80 means drier than 80 % of the earlier years, the line KNMI's graphs and
    the US Drought Monitor's D1 class (20 % driest) draw. NaN where the day's value is missing
    or fewer than ``min_years`` earlier years have the season day.
    """
    table = by_season_day(reference.dropna())
    out = np.full(len(current), np.nan)
    for i, (day, value) in enumerate(current.items()):
        day = pd.Timestamp(day)
        key = day.strftime("%m-%d")
        if pd.isna(value) or key not in table.index:
            continue
        past = table.loc[key, table.columns < day.year].dropna().to_numpy()
        if len(past) < min_years:
            continue
        out[i] = 100.0 * ((past < value).sum() + 0.5 * (past == value).sum()) / len(past)
    return pd.Series(out, index=current.index, name="deficit_percentile")
