"""The setup's own inputs that are not ingested: its districts, the national source's supply
and its water boards, read from the files and values the configuration names."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr

from pipelines.config import Config


def read_districts(config: Config) -> gpd.GeoDataFrame:
    """The setup's districts in EPSG:28992, with their properties (contracts section 3)."""
    districts = gpd.read_file(config.districts)
    if districts.crs is None:
        raise ValueError(f"{config.districts}: no CRS; expected EPSG:28992 named in the GeoJSON 'crs' member")
    districts = districts.to_crs(28992)
    missing = {"district_id", "name", "water_board"} - set(districts.columns)
    if missing:
        raise ValueError(f"{config.districts}: missing properties {sorted(missing)}")
    unknown = set(districts["water_board"]) - {b.id for b in config.water_boards}
    if unknown:
        raise ValueError(f"{config.districts}: water_board {sorted(unknown)} not among the "
                         f"configured water_boards {[b.id for b in config.water_boards]}")
    return districts


def read_supply(config: Config, days: pd.DatetimeIndex) -> xr.DataArray:
    """The national source's supply (m³/day) on ``days``, from the configuration."""
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
    return xr.DataArray(values, dims="time", coords={"time": days}, name="supply_m3_day",
                        attrs={"units": "m3/day", "long_name": "supply of the national source"})


def water_boards(config: Config) -> pd.DataFrame:
    """One row per water board: ``water_board`` and ``inlet_capacity_m3_day`` (m³/day)."""
    return pd.DataFrame({"water_board": [b.id for b in config.water_boards],
                         "inlet_capacity_m3_day": [b.inlet_capacity_m3_day for b in config.water_boards]})
