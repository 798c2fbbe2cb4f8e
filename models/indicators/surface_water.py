"""Surface-water levels against a district's target and critical levels.

Each district has a **target level** ("streefpeil", ``target_level_m_nap``) that the water
board keeps its ditches and canals at, and a **critical level** (``critical_level_m_nap``)
below which withdrawing surface water must stop. Sensors report water levels in m relative to
NAP at sub-daily UTC times; they are averaged per UT day first.

* per sensor: ``surface_level_minus_target`` (m; negative when below target);
* per district: ``surface_level_below_critical`` (m): how far the **lowest** daily mean
  level of the district's sensors lies below the critical level, ≤ 0 when all are above.
  The lowest sensor is used because one dry section is enough to stop withdrawals there.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr

from models.indicators import areal
from models.qc import WATER_LEVEL_UNITS

#: Units a level sensor may report, and the factor to metres (one list with ingest's check).
_TO_METRES = WATER_LEVEL_UNITS


def daily_levels(sensors: pd.DataFrame, days: pd.DatetimeIndex) -> pd.DataFrame:
    """Daily mean level (m NAP) per sensor: index the UT days ``days``, columns sensors.

    ``sensors`` has columns ``sensor``, ``time`` (UTC), ``value``, ``unit``. Values in cm are
    converted; any other unit raises a ValueError naming the sensor and unit.
    """
    absent = [c for c in ("sensor", "time", "value", "unit") if c not in sensors.columns]
    if absent:
        raise KeyError(f"sensors: expected column(s) {absent}; found {list(sensors.columns)}")
    units = sensors["unit"].astype(str).str.strip().str.lower()
    unknown = sorted(set(units) - set(_TO_METRES))
    if unknown:
        bad = sensors.loc[units.isin(unknown), "sensor"].unique()[:5]
        raise ValueError(
            f"sensors: unit(s) {unknown} (sensors {list(bad)}) are not a water level; "
            f"expected one of {sorted(_TO_METRES)}"
        )
    time = pd.DatetimeIndex(sensors["time"])
    if time.tz is not None:
        time = time.tz_convert("UTC").tz_localize(None)  # UT day labels are naive
    level = sensors["value"].to_numpy(dtype=float) * units.map(_TO_METRES).to_numpy()
    frame = pd.DataFrame({"sensor": sensors["sensor"].astype(str), "day": time.normalize(), "level": level})
    table = frame.pivot_table(index="day", columns="sensor", values="level", aggfunc="mean")
    return table.reindex(pd.DatetimeIndex(days))


def sensors_in_districts(
    sensors_meta: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, *, id_column: str = "district_id"
) -> pd.Series:
    """District id per sensor (index sensor), for sensors inside a district (EPSG:28992)."""
    return areal.district_of_points(sensors_meta, districts, key="sensor", id_column=id_column)


def surface_water_indicators(
    sensors: pd.DataFrame,
    sensors_meta: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    days: pd.DatetimeIndex,
    *,
    id_column: str = "district_id",
) -> xr.Dataset:
    """``surface_level_minus_target`` (sensor, time) and ``surface_level_below_critical``
    (district, time), both in m."""
    for column in (id_column, "target_level_m_nap", "critical_level_m_nap"):
        if column not in districts.columns:
            raise KeyError(f"districts: expected property {column!r}; found {list(districts.columns)}")
    days = pd.DatetimeIndex(days)
    levels = daily_levels(sensors, days)
    district_of = sensors_in_districts(sensors_meta, districts, id_column=id_column)
    located = [s for s in levels.columns if s in district_of.index]
    levels = levels[located]
    settings = districts.set_index(districts[id_column].astype(str))
    target = settings.loc[district_of[located], "target_level_m_nap"].to_numpy(dtype=float)
    minus_target = levels - target[None, :]

    district_ids = settings.index.to_numpy()
    below = pd.DataFrame(np.nan, index=days, columns=district_ids)
    for district, members in district_of[located].groupby(district_of[located]).groups.items():
        lowest = levels[list(members)].min(axis=1, skipna=True)
        below[district] = settings.at[district, "critical_level_m_nap"] - lowest
    return xr.Dataset(
        {
            "surface_level_minus_target": (
                ("sensor", "time"),
                minus_target.T.to_numpy(),
                {"units": "m", "long_name": "daily mean water level minus the district's target level"},
            ),
            "surface_level_below_critical": (
                ("district", "time"),
                below.T.to_numpy(),
                {"units": "m", "long_name": "lowest sensor's daily mean level below the critical level (<= 0 when above)"},
            ),
        },
        coords={"sensor": np.asarray(located, dtype=str), "district": district_ids, "time": days.values},
    )
