"""The setup's own inputs that are not ingested: its districts, the national source's supply
and its water boards, read from the files and values the configuration names."""

from __future__ import annotations

import geopandas as gpd
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
    for column in ("target_level_m_nap", "critical_level_m_nap"):
        if column in districts.columns:  # all-null in GeoJSON reads as object: unknown levels are NaN
            districts[column] = pd.to_numeric(districts[column], errors="coerce").astype(float)
    unknown = set(districts["water_board"]) - {b.id for b in config.water_boards}
    if unknown:
        raise ValueError(f"{config.districts}: water_board {sorted(unknown)} not among the "
                         f"configured water_boards {[b.id for b in config.water_boards]}")
    return districts


def read_supply(config: Config, days: pd.DatetimeIndex) -> xr.DataArray:
    """The national source's supply (m³/day) on ``days`` (:mod:`pipelines.national_source`);
    with a river source, ``discharge_m3_s`` rides along as a coordinate on ``time``."""
    from pipelines.national_source import read_supply as national_supply

    return national_supply(config, days)


def water_boards(config: Config) -> pd.DataFrame:
    """One row per water board: ``water_board`` and ``inlet_capacity_m3_day`` (m³/day)."""
    return pd.DataFrame({"water_board": [b.id for b in config.water_boards],
                         "inlet_capacity_m3_day": [b.inlet_capacity_m3_day for b in config.water_boards]})
