"""Reference entry points of the allocation that only the tests use: the whole system in one
pass (``allocate``), and demand, local water and the board split in one call
(``run_allocation``). The pipeline runs ``board_split.start`` directly (pipelines/allocation.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from models.allocation.board_split import start
from models.allocation.network import Network, allocate_arrays, allocation_dataset
from models.allocation.verdringingsreeks import PriorityOrder


def _values(x, dims: tuple[str, ...]) -> np.ndarray:
    if isinstance(x, xr.DataArray):
        return x.transpose(*dims).values
    return np.asarray(x)


def allocate(
    network: Network,
    demand: np.ndarray | xr.DataArray,
    local_inflow: np.ndarray | xr.DataArray,
    evaporation: np.ndarray | xr.DataArray,
    supply: np.ndarray | xr.DataArray,
    order: PriorityOrder,
    *,
    time=None,
    storage_initial=None,
) -> xr.Dataset:
    """Allocate water per day, district and use: the Dataset of docs/contracts.md section 5.

    ``demand`` (time, district, use; uses in ``order``), ``local_inflow`` and potential
    open-water ``evaporation`` (time, district) and ``supply`` (time,) are m³/day.
    ``time`` labels the days (taken from ``demand`` when it is a DataArray).
    """
    if isinstance(demand, xr.DataArray):
        if "use" in demand.dims:
            demand = demand.sel(use=list(order.uses))
        time = demand["time"].values if time is None else time
    d = _values(demand, ("time", "district", "use"))
    if d.ndim != 3 or d.shape[2] != len(order):
        raise ValueError(f"demand must be (time, district, use) with {len(order)} uses, got {d.shape}")
    out = allocate_arrays(
        network, d, _values(local_inflow, ("time", "district")), _values(evaporation, ("time", "district")),
        _values(supply, ("time",)), storage_initial,
    )
    time = np.arange(d.shape[0]) if time is None else np.asarray(time)
    return allocation_dataset(network, order, time, d, out)


def run_allocation(
    districts: pd.DataFrame,
    boards: pd.DataFrame,
    weather: xr.Dataset,
    supply_m3_day: xr.DataArray,
    order: PriorityOrder,
    *,
    storage_initial=None,
    deficit_initial_mm=0.0,
    client=None,
) -> xr.Dataset:
    """Demand and local water from the weather, then the allocation: the national pass, then
    the water boards (on ``client``'s cluster when given). The Dataset of
    :func:`allocate`, the same whether or not a cluster runs it.

    ``districts``: ``districts.geojson`` as a GeoDataFrame (EPSG:28992) or a DataFrame with
    ``area_m2``; ``boards``: ``water_board, inlet_capacity_m3_day``; ``weather``:
    ``precipitation_mm``, ``evaporation_mm`` (time, district) mm/day; ``supply_m3_day``: the
    national source per day (``time``), m³/day; ``storage_initial`` (m³) and
    ``deficit_initial_mm`` per district or one value for all.
    """
    _, runs = start(districts, boards, weather, supply_m3_day, order, storage_initial=storage_initial,
                    deficit_initial_mm=deficit_initial_mm, client=client)
    return runs.dataset()
