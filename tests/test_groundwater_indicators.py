"""Groundwater percentile, lower limits and the share of low wells per district."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from models.indicators import groundwater as gw


def readings(well: str, levels_by_year: dict[int, float], month: int = 8) -> pd.DataFrame:
    times = [pd.Timestamp(year, month, 14) for year in levels_by_year]
    return pd.DataFrame({"well": well, "time": times, "level_m_nap": list(levels_by_year.values()), "remark": ""})


def test_percentile_against_the_same_month_of_other_years():
    data = readings("W-001", {2000: 1.0, 2001: 3.0, 2002: 2.0, 2003: 4.0, 2004: 0.5})
    data = pd.concat([data, readings("W-001", {2000: -9.0}, month=2)])  # another month: ignored
    monthly = gw.monthly_levels(data)
    august = monthly[monthly.index.month == 8]["W-001"]
    percentile = gw.level_percentile(monthly)["W-001"][august.index]
    # 2002's 2.0 is above 2 of the 4 other years
    assert percentile["2002-08-01"] == pytest.approx(50.0)
    assert percentile["2004-08-01"] == 0.0 and percentile["2003-08-01"] == 100.0
    assert np.isnan(gw.level_percentile(monthly)["W-001"]["2000-02-01"])  # one February only


def test_default_lower_limit_is_the_monthly_10th_percentile_and_config_wins():
    data = readings("A", {y: float(y - 2000) for y in range(2000, 2011)})
    data = pd.concat([data, readings("B", {y: 0.0 for y in range(2000, 2011)})])
    wells = pd.DataFrame({"well": ["A", "B"], "lower_limit_m_nap": [np.nan, -1.5]})
    limits = gw.lower_limits(data, wells)
    assert limits.loc[8, "A"] == pytest.approx(np.quantile(np.arange(11.0), 0.10))
    assert limits.loc[8, "B"] == -1.5 and limits.loc[3, "B"] == -1.5
    assert np.isnan(limits.loc[3, "A"])


def test_low_share_per_district_with_stale_readings_left_out():
    districts = gpd.GeoDataFrame(
        {"district_id": ["north", "south"]},
        geometry=[box(0, 100, 100, 200), box(0, 0, 100, 100)],
        crs="EPSG:28992",
    )
    wells = gpd.GeoDataFrame(
        {"well": ["n1", "n2", "s1"], "lower_limit_m_nap": [1.0, 1.0, 1.0]},
        geometry=[Point(10, 150), Point(20, 150), Point(50, 50)],
        crs="EPSG:28992",
    )
    data = pd.DataFrame(
        {
            "well": ["n1", "n2", "s1"],
            "time": pd.to_datetime(["2022-08-01", "2022-08-10", "2022-05-01"]),
            "level_m_nap": [0.5, 1.5, 0.2],
        }
    )
    days = pd.date_range("2022-08-05", "2022-08-15")
    share = gw.low_share(data, wells, districts, days)
    assert share.sel(district="north", time="2022-08-05") == 1.0  # only n1 read so far, low
    assert share.sel(district="north", time="2022-08-12") == 0.5
    assert np.isnan(share.sel(district="south", time="2022-08-12"))  # s1's reading is too old
    assert share.attrs["units"] == "1"


@pytest.mark.realdata
def test_real_dino_wells(shared_data):
    from pipelines.ingest.sources.dino import read_dino_csv

    record = read_dino_csv(shared_data / "groundwater" / "dino-2019" / "B33F0080001_1.csv")
    monthly = gw.monthly_levels(record.levels)
    percentile = gw.level_percentile(monthly).stack().dropna()
    assert percentile.between(0, 100).all() and len(percentile) > 300
