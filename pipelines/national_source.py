"""The setup's national source, day by day: supply (m³/day) and, where given, the Lobith discharge (m³/s).

A setup names its national source in one of three ways (``source:`` in the configuration,
:class:`pipelines.config.Source`): a constant supply, a CSV of supply per day, or the Rhine
discharge at Lobith turned into supply by the river supply model
(:mod:`models.allocation.river_supply`). The stages ask this module, never the files.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from models.allocation.river_supply import discharge_members
from pipelines.config import Config
from pipelines.ingest.sources.rijkswaterstaat import read_discharge


@lru_cache(maxsize=4)
def _discharge(path: Path, location: str | None, stamp: tuple[int, int]) -> pd.Series:
    # Keyed on the file's size and time of change: a replay reads the 125-year series once.
    return read_discharge(path, location=location)


def discharge_series(config: Config, until: dt.date | None = None) -> pd.Series | None:
    """The Lobith discharge (m³/s per Europe/Amsterdam day) up to ``until``; None without one."""
    path = config.source.discharge
    if path is None:
        return None
    stat = path.stat()
    series = _discharge(path, config.source.discharge_location, (stat.st_size, stat.st_mtime_ns))
    return series if until is None else series.loc[:pd.Timestamp(until)]


def read_supply(config: Config, days: pd.DatetimeIndex) -> xr.DataArray:
    """The national source's supply (m³/day) on ``days``, from the configuration.

    With a discharge series, ``discharge_m3_s`` rides along as a coordinate on ``time``."""
    attrs = {"units": "m3/day", "long_name": "supply of the national source"}
    if config.source.discharge is not None:
        series = discharge_series(config)
        discharge = series.reindex(days)
        if discharge.isna().any():
            first = days[discharge.isna().to_numpy()][0].date()
            raise ValueError(f"{config.source.discharge}: no discharge for {first}; the run needs every day "
                             f"from {days[0].date()} to {days[-1].date()}")
        values = np.asarray(config.source.river_model.supply_m3_day(discharge.to_numpy()), dtype=float)
        attrs["source"] = f"river supply model from the Lobith discharge ({config.source.discharge.name})"
        return xr.DataArray(values, dims="time", name="supply_m3_day", attrs=attrs,
                            coords={"time": days, "discharge_m3_s": ("time", discharge.to_numpy(),
                                                                     {"units": "m3/s"})})
    if config.source.file is None:
        values = np.full(len(days), config.source.supply_m3_day, dtype=float)
    else:
        path = config.source.file
        table = pd.read_csv(path, comment="#")
        if not {"date", "supply_m3_day"} <= set(table.columns):
            raise ValueError(f"{path}: expected columns date,supply_m3_day; found {list(table.columns)}")
        series = table.set_index(pd.to_datetime(table["date"]))["supply_m3_day"].astype(float)
        values = series.reindex(days).to_numpy()
        if np.isnan(values).any():
            first = days[np.isnan(values)][0].date()
            raise ValueError(f"{path}: no supply_m3_day for {first}; the run needs every day "
                             f"from {days[0].date()} to {days[-1].date()}")
    return xr.DataArray(values, dims="time", coords={"time": days}, name="supply_m3_day", attrs=attrs)


def outlook_supply(config: Config, day: dt.date, today_supply_m3_day: float, *, horizon_days: int,
                   years, starts_today: bool = False) -> tuple[dict[int, np.ndarray] | float, str]:
    """The supply (m³/day) for the outlook's members and a sentence saying how it was made.

    Without a discharge series every member holds today's supply. With one, each member
    follows its own year's relative change of the discharge from today's value
    (:func:`models.allocation.river_supply.discharge_members`), through the supply model;
    only data up to ``day`` are used for today's value. ``starts_today``: the outlook's first
    day is ``day`` itself (it then has today's supply in every member), else ``day + 1``.
    """
    series = discharge_series(config)
    if series is None:
        return today_supply_m3_day, "today's supply held for the horizon"
    # Past years only, so every window ends before ``day``: the members see no data after it.
    ahead = horizon_days - 1 if starts_today else horizon_days
    members = discharge_members(series.loc[:pd.Timestamp(day)], start=pd.Timestamp(day) + pd.Timedelta(days=1),
                                horizon_days=ahead, years=[y for y in years if y < day.year])
    model = config.source.river_model
    supply = {year: np.asarray(model.supply_m3_day(q), dtype=float) for year, q in members.items()}
    if starts_today:
        supply = {year: np.concatenate([[today_supply_m3_day], s]) for year, s in supply.items()}
    return supply, ("each member starts from today's Lobith discharge and follows its own year's relative "
                    "change of the discharge, through the river supply model")
