"""The indicators Dataset: contract form, district weather, surface water and freshness."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from shapely.geometry import Point, box

from models.indicators import freshness
from models.indicators.dataset import compute_indicators, district_weather

RD = "EPSG:28992"


@pytest.fixture
def setup():
    rng = np.random.default_rng(5)
    days = pd.date_range("2000-01-01", "2022-08-15")
    stations = gpd.GeoDataFrame({"station": ["260", "348"]}, geometry=[Point(140_000, 455_000), Point(120_000, 440_000)], crs=RD)
    meteo = pd.concat(
        pd.DataFrame({
            "station": s, "date": days,
            "precipitation_mm": rng.gamma(0.5, 4.0, len(days)),
            "evaporation_mm": np.nan if s == "348" else rng.uniform(0, 4, len(days)),
        })
        for s in ["260", "348"]
    )
    districts = gpd.GeoDataFrame(
        {"district_id": ["D1", "D2"], "target_level_m_nap": [-0.4, 1.0], "critical_level_m_nap": [-0.6, 0.8]},
        geometry=[box(130_000, 445_000, 150_000, 465_000), box(110_000, 430_000, 130_000, 445_000)],
        crs=RD,
    )
    return meteo, stations, districts


def test_dataset_follows_the_contract(setup, tmp_path):
    meteo, stations, districts = setup
    sensors = pd.DataFrame({
        "sensor": "L1/H.meting",
        "time": pd.date_range("2022-08-13", periods=48, freq="h", tz="UTC"),
        "value": np.linspace(-0.5, -0.7, 48), "unit": "m", "flag": 0,
    })
    sensors_meta = gpd.GeoDataFrame({"sensor": ["L1/H.meting"]}, geometry=[Point(140_000, 455_000)], crs=RD)
    ds = compute_indicators(meteo, stations, districts, sensors=sensors, sensors_meta=sensors_meta, date="2022-08-15")
    assert ds.sizes["time"] == 227 and list(ds.district.values) == ["D1", "D2"]
    for name in ["precipitation_deficit", "precipitation_deficit_jan", "spi_1", "spi_3", "surface_level_below_critical"]:
        assert ds[name].dims == ("district", "time"), name
    for name, variable in ds.data_vars.items():
        assert "units" in variable.attrs and "long_name" in variable.attrs, name
    # station 348 has no evaporation: its deficit is NaN, and the districts use 260's
    assert ds["precipitation_deficit_station"].sel(station="348").isnull().all()
    np.testing.assert_allclose(
        ds["precipitation_deficit"].sel(district="D2").dropna("time"),
        ds["precipitation_deficit_station"].sel(station="260").dropna("time"),
    )
    below = ds["surface_level_below_critical"].sel(district="D1")
    day = pd.Timestamp("2022-08-14")
    expected = -0.6 - np.linspace(-0.5, -0.7, 48)[24:].mean()
    assert float(below.sel(time=day)) == pytest.approx(expected)
    assert ds.attrs["stale_meteo"] == 0 and ds.attrs["stale_sensors"] == 0
    assert ds["surface_level_below_critical"].attrs["newest_input"] == "2022-08-14T23:00:00"
    ds.to_netcdf(tmp_path / "indicators.nc")
    xr.testing.assert_identical(xr.load_dataset(tmp_path / "indicators.nc")["spi_3"], ds["spi_3"])


def test_old_meteo_is_flagged_stale(setup):
    meteo, stations, districts = setup
    ds = compute_indicators(meteo[meteo["date"] <= "2022-08-01"], stations, districts, date="2022-08-15")
    assert ds.attrs["stale_meteo"] == 1 and ds.attrs["newest_input_meteo"] == "2022-08-01T00:00:00"
    assert ds["spi_3"].attrs["stale"] == 1


def test_district_weather_is_mm_per_day_on_time_and_district(setup):
    meteo, stations, districts = setup
    weather = district_weather(meteo, stations, districts)
    assert weather["precipitation_mm"].dims == ("time", "district")
    assert weather["evaporation_mm"].attrs["units"] == "mm/day"
    p = meteo.pivot(index="date", columns="station", values="precipitation_mm")
    d1 = weather["precipitation_mm"].sel(district="D1").to_series()
    assert ((d1 >= p.min(axis=1) - 1e-12) & (d1 <= p.max(axis=1) + 1e-12)).all()
    # evaporation only at 260, so both districts get exactly 260's evaporation
    e260 = meteo.loc[meteo["station"] == "260", "evaporation_mm"].to_numpy()
    np.testing.assert_allclose(weather["evaporation_mm"].sel(district="D2"), e260)


def test_freshness_flags_and_bad_input():
    attrs = freshness.freshness(
        {"meteo": pd.Timestamp("2022-08-10"), "groundwater": None}, as_of=pd.Timestamp("2022-08-15")
    )
    assert attrs == {"newest_input_meteo": "2022-08-10T00:00:00", "stale_meteo": 1,
                     "newest_input_groundwater": "", "stale_groundwater": 1}
    relaxed = freshness.freshness({"meteo": pd.Timestamp("2022-08-10")}, as_of=pd.Timestamp("2022-08-15"),
                                  max_age={"meteo": pd.Timedelta(days=7)})
    assert relaxed["stale_meteo"] == 0
    with pytest.raises(KeyError, match="precipitation_mm"):
        compute_indicators(pd.DataFrame({"station": [], "date": []}), None, None, date="2022-08-15")
