"""Groundwater indicators per well and per district.

Groundwater levels (m relative to NAP, the Dutch ordnance datum) are read by hand or logger
at irregular times, often twice a month. The seasonal cycle is larger than most droughts, so a
level only means something against **the same calendar month in other years**:

* **percentile** ("t.o.v. normaal"): the share (0-100) of the other years' monthly mean
  levels in the same calendar month that lie below this month's, ties counting half:
  ``100 (rank - 1) / (n - 1)`` with average ranks among the n years of that month.

Per district, **groundwater_low_share** is the share of the district's wells whose latest
reading (no older than ``max_reading_age``) lies below the well's **lower limit**: the
configured ``lower_limit_m_nap`` of the well, or where that is not configured, the 10th
percentile of that well's own readings in the same calendar month over all years
(``DEFAULT_LIMIT_QUANTILE``). Water boards use this share for the groundwater irrigation ban
("more than half of the wells below their lower limit").
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr

from models.indicators import areal

#: Quantile of a well's own readings in a calendar month used as its lower limit when none
#: is configured.
DEFAULT_LIMIT_QUANTILE = 0.10
#: A reading older than this on a given day no longer counts as the well's current level.
DEFAULT_MAX_READING_AGE = pd.Timedelta(days=45)


def monthly_levels(groundwater: pd.DataFrame) -> pd.DataFrame:
    """Monthly mean level (m NAP) per well: index month start (datetime64), columns wells."""
    _require(groundwater, "groundwater", ["well", "time", "level_m_nap"])
    month = pd.DatetimeIndex(groundwater["time"]).to_period("M").to_timestamp()
    table = groundwater.assign(month=month).pivot_table(
        index="month", columns="well", values="level_m_nap", aggfunc="mean"
    )
    table.columns = table.columns.astype(str)
    return table.asfreq("MS")


def level_percentile(monthly: pd.DataFrame) -> pd.DataFrame:
    """Percentile (0-100) of each monthly level among the other years' same calendar month.

    NaN where the well has fewer than two years with that calendar month.
    """
    ranks = monthly.groupby(monthly.index.month).rank(method="average")
    counts = monthly.groupby(monthly.index.month).transform("count")
    return 100.0 * (ranks - 1.0) / (counts - 1.0).where(counts > 1)


def lower_limits(
    groundwater: pd.DataFrame,
    wells: pd.DataFrame | None = None,
    *,
    quantile: float = DEFAULT_LIMIT_QUANTILE,
) -> pd.DataFrame:
    """Lower limit (m NAP) per calendar month (index 1-12) and well (columns).

    A well's configured ``lower_limit_m_nap`` (in ``wells``) applies to every month; where it
    is NaN or the well is not listed, the ``quantile`` of the well's readings in that month.
    """
    _require(groundwater, "groundwater", ["well", "time", "level_m_nap"])
    month = pd.DatetimeIndex(groundwater["time"]).month
    limits = (
        groundwater.assign(month=month)
        .groupby(["month", "well"])["level_m_nap"]
        .quantile(quantile)
        .unstack("well")
        .reindex(range(1, 13))
    )
    limits.columns = limits.columns.astype(str)
    if wells is not None and "lower_limit_m_nap" in wells.columns:
        configured = wells.set_index(wells["well"].astype(str))["lower_limit_m_nap"].dropna()
        for well, limit in configured.items():
            if well in limits.columns:
                limits[well] = float(limit)
    return limits


def latest_levels(
    groundwater: pd.DataFrame,
    days: pd.DatetimeIndex,
    *,
    max_reading_age: pd.Timedelta = DEFAULT_MAX_READING_AGE,
) -> pd.DataFrame:
    """The latest reading (m NAP) of each well on or before each day of ``days`` (index),
    NaN where that reading is older than ``max_reading_age``."""
    daily = (
        groundwater.assign(day=pd.DatetimeIndex(groundwater["time"]).normalize())
        .pivot_table(index="day", columns="well", values="level_m_nap", aggfunc="last")
        .sort_index()
    )
    daily.columns = daily.columns.astype(str)
    days = pd.DatetimeIndex(days)
    every_day = pd.date_range(min(daily.index.min(), days.min()), max(daily.index.max(), days.max()))
    # A daily forward fill limited to the maximum age carries each reading forward that long.
    return daily.reindex(every_day).ffill(limit=max_reading_age.days).reindex(days)


def wells_in_districts(
    wells: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, *, id_column: str = "district_id"
) -> pd.Series:
    """District id per well (index well), for wells inside a district polygon (EPSG:28992)."""
    return areal.district_of_points(wells, districts, key="well", id_column=id_column)


def low_share(
    groundwater: pd.DataFrame,
    wells: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    days: pd.DatetimeIndex,
    *,
    id_column: str = "district_id",
    max_reading_age: pd.Timedelta = DEFAULT_MAX_READING_AGE,
) -> xr.DataArray:
    """Share (0-1) of each district's wells below their lower limit, per day.

    Only wells with a current reading (see :func:`latest_levels`) count; a district with none
    is NaN. Returns DataArray (``district``, ``time``).
    """
    days = pd.DatetimeIndex(days)
    levels = latest_levels(groundwater, days, max_reading_age=max_reading_age)
    limits = lower_limits(groundwater, wells).reindex(columns=levels.columns)
    limit_per_day = limits.reindex(days.month).set_axis(days)
    below = (levels < limit_per_day).astype(float).where(levels.notna() & limit_per_day.notna())
    district_of = wells_in_districts(wells, districts, id_column=id_column)
    district_ids = districts[id_column].astype(str).to_numpy()
    share = pd.DataFrame(np.nan, index=days, columns=district_ids)
    for district, members in district_of.groupby(district_of).groups.items():
        columns = [w for w in members if w in below.columns]
        if columns:
            share[district] = below[columns].mean(axis=1, skipna=True)
    return xr.DataArray(
        share.T.to_numpy(),
        dims=("district", "time"),
        coords={"district": district_ids, "time": days.values},
        name="groundwater_low_share",
        attrs={
            "units": "1",
            "long_name": "share of the district's wells below their lower limit",
            "lower_limit": "configured lower_limit_m_nap, else the well's "
            f"{DEFAULT_LIMIT_QUANTILE:.0%} quantile of readings in the same calendar month",
        },
    )


def _require(frame: pd.DataFrame, what: str, columns: list[str]) -> None:
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise KeyError(f"{what}: expected column(s) {absent}; found {list(frame.columns)}")
