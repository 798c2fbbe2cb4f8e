"""Stage ``allocation``: the verdringingsreeks allocation over the season so far and the
outlook ensemble for the coming weeks (docs/contracts.md section 5), on Dask."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import xarray as xr

from models.allocation import board_split
from models.allocation.outlook import outlook
from models.allocation.verdringingsreeks import PriorityOrder
from models.season import season_start
from pipelines.config import Config
from pipelines.dask_cluster import dask_client
from pipelines.inputs import read_districts, read_supply, water_boards
from pipelines.national_source import outlook_supply
from pipelines.store import ALLOCATION, OUTLOOK, Store


def with_source(allocation: xr.Dataset, supply: xr.DataArray) -> xr.Dataset:
    """``supply_m3_day`` (m³/day) and, with a river, ``discharge_m3_s`` (m³/s) on ``time``
    added to the allocation (docs/contracts.md section 5)."""
    allocation["supply_m3_day"] = supply.drop_vars([c for c in supply.coords if c != "time"])
    if "discharge_m3_s" in supply.coords:
        allocation["discharge_m3_s"] = xr.DataArray(supply["discharge_m3_s"].values, dims="time",
                                                    attrs={"units": "m3/s", "long_name": "Rhine discharge at Lobith"})
    return allocation


def run(config: Config, day: dt.date, *, dask_address: str | None = None,
        horizon_days: int | None = None) -> Path:
    """The verdringingsreeks allocation from the season start to ``day`` → ``allocation.nc``,
    then the outlook ensemble for the coming weeks from today's state → ``outlook.nc``.

    The national pass over the season runs in a thread of this process
    (:mod:`models.allocation.board_split`): it is the season's allocation. Today's storage and
    running deficit come first from a pass over the districts' own water, so the outlook
    members (a few past years' weather to a task, starting from today's state) run meanwhile
    on a Dask cluster (the given scheduler, else a local one: worker threads of this process
    by default, ``dask.process_workers_from_districts``); members are summarised as they come
    in so memory stays bounded.
    """
    store = Store(config.processed_dir)
    districts = read_districts(config)
    weather = store.weather()
    days = pd.date_range(season_start(day), day, freq="D")
    season = weather.sel(time=days)
    supply = read_supply(config, days)
    order = PriorityOrder.from_config(config.priorities)
    boards = water_boards(config)
    processes = len(districts) >= config.dask_process_workers_from_districts
    with dask_client(dask_address, workers=config.dask_workers, processes=processes) as client:
        plain_supply = supply.drop_vars([c for c in supply.coords if c != "time"])
        # The national pass runs in a thread beside the outlook members, which start at once
        # from today's state (the districts' own water gives it without the allocation).
        national, season_allocation = board_split.start(districts, boards, season, plain_supply, order,
                                                        background=True)
        # The outlook starts today, from the state at the start of today (storage, the
        # running deficit that drives irrigation) with today's observed weather as every
        # member's first day: its first day is today's allocation again, so its
        # probabilities read on from today's shortage instead of beside it. Past years'
        # weather follows; the source keeps today's supply (persistence), or with a river
        # each member follows its own year's course of the discharge from today's.
        history = weather.sel(time=weather["time"] < pd.Timestamp(day.year, 1, 1))
        horizon = horizon_days or config.outlook_horizon_days
        member_supply, supply_assumption = outlook_supply(
            config, day, float(supply.isel(time=-1)), horizon_days=horizon,
            years=sorted(set(pd.DatetimeIndex(history["time"].values).year)), starts_today=True)
        ensemble = outlook(
            districts, boards, history, order,
            start=pd.Timestamp(day),
            storage=national.storage_last_start_m3,
            supply_m3_day=member_supply,
            horizon_days=horizon,
            deficit_initial_mm=national.deficit_last_start_mm,
            observed=season.sel(time=[pd.Timestamp(day)]),
            client=client,
        )
        allocation = season_allocation.dataset()
    with_source(allocation, supply)
    allocation.attrs.update({"date": day.isoformat(), "season_start": days[0].date().isoformat()})
    ensemble.attrs.update({"date": day.isoformat(), "supply_assumption": supply_assumption,
                           "first_day": "today, with today's observed weather and state (reproduces today's allocation)"})
    store.write_dataset(ensemble, OUTLOOK)
    return store.write_dataset(allocation, ALLOCATION)
