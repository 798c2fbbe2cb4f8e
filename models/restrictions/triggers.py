"""The daily district values that restriction rules look at, gathered from the other stages.

Rules (``models/restrictions/rules.py``) read one Dataset with dims (``time``, ``district``), a
``water_board`` coordinate and these variables:

- ``shortage_fraction_4``, ``shortage_fraction_3`` — share of the category-4 / category-3
  demand of the verdringingsreeks that the allocation could not meet that day (0–1; 0 where
  there is no demand);
- ``groundwater_low_share`` — share of the district's wells below their lower limit (0–1);
- ``surface_level_below_critical`` — m below the district's critical surface-water level;
- ``deficit_anomaly_mm`` — the district's precipitation deficit minus the median deficit of
  the same day of the season over the earlier years of its own record (mm);
- ``outlook_shortage_probability`` — probability of a category-4 shortage in the coming weeks
  (0–1); known only on the day an outlook ran, NaN on the others (NaN neither starts nor
  lifts a restriction).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from models.indicators import deficit

def shortage_fraction(allocation: xr.Dataset, category: str) -> xr.DataArray:
    """Share (0–1) of the demand of one verdringingsreeks category not met, per day and district."""
    uses = allocation["category"] == category
    demand = allocation["demand"].where(uses).sum("use")
    short = allocation["shortage"].where(uses).sum("use")
    fraction = xr.where(demand > 0, short / demand.where(demand > 0), 0.0)
    return fraction.assign_attrs(units="1", long_name=f"share of category-{category} demand not met")


def median_deficit_by_season_day(weather: xr.Dataset, *, before_year: int) -> xr.DataArray:
    """Median precipitation deficit (mm) per day of the season (``dayofyear``) and district,
    over the complete years of ``weather`` before ``before_year``."""
    past = weather.sel(time=weather["time"].dt.year < before_year)
    if past.sizes["time"] == 0:
        raise ValueError(f"no weather before {before_year}: a climatology needs earlier years")
    history = deficit.precipitation_deficit(past["precipitation_mm"], past["evaporation_mm"])
    history = history.where(history["time"].dt.strftime("%m-%d") != "02-29", drop=True)
    day = history["time"].dt.strftime("%m-%d").rename("season_day")
    return history.groupby(day).median("time").assign_attrs(
        units="mm", long_name="median precipitation deficit of earlier years")


def deficit_anomaly(current: xr.DataArray, median: xr.DataArray) -> xr.DataArray:
    """``current`` deficit minus the climatological ``median`` of the same season day (mm)."""
    day = current["time"].dt.strftime("%m-%d")
    reference = median.reindex(season_day=day.values.tolist()).rename(season_day="time")
    reference = reference.assign_coords(time=current["time"].values)
    return (current - reference.transpose(*current.dims)).assign_attrs(
        units="mm", long_name="precipitation deficit above the median of earlier years")


def trigger_dataset(
    *,
    allocation: xr.Dataset,
    indicators: xr.Dataset,
    deficit_median: xr.DataArray,
    outlook_probability: xr.DataArray | None = None,
) -> xr.Dataset:
    """Assemble the rules' Dataset over the days of ``allocation`` (see the module docstring).

    ``outlook_probability`` (``district``) is the probability of a category-4 shortage from
    the outlook that ran on the last day; it is placed on that day only.
    """
    days = pd.DatetimeIndex(allocation["time"].values)
    districts = allocation["district"].values
    frame = {
        "shortage_fraction_4": shortage_fraction(allocation, "4"),
        "shortage_fraction_3": shortage_fraction(allocation, "3"),
    }
    on_days = indicators.reindex(time=days, district=districts)
    nan = xr.full_like(frame["shortage_fraction_4"], np.nan)
    for name in ("groundwater_low_share", "surface_level_below_critical"):
        frame[name] = on_days[name] if name in on_days else nan.copy()
    frame["deficit_anomaly_mm"] = deficit_anomaly(on_days["precipitation_deficit"], deficit_median)
    outlook = nan.copy().assign_attrs(units="1", long_name="probability of category-4 shortage in the coming weeks")
    if outlook_probability is not None:
        outlook.loc[{"time": days[-1]}] = outlook_probability.reindex(district=districts).values
    frame["outlook_shortage_probability"] = outlook
    ds = xr.Dataset({k: v.transpose("time", "district") for k, v in frame.items()})
    return ds.assign_coords(water_board=("district", allocation["water_board"].values))
