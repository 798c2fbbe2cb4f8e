"""Station → district weights, per-day renormalisation, and the 21 real water boards."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from shapely.geometry import Point, box

from models.indicators import areal
from models.indicators.dataset import compute_indicators

RD = "EPSG:28992"


def stations_at(*points) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"station": [str(i) for i in range(len(points))]}, geometry=[Point(p) for p in points], crs=RD
    )


def districts_of(*boxes) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"district_id": [f"D{i}" for i in range(len(boxes))]}, geometry=[box(*b) for b in boxes], crs=RD
    )


def test_weights_are_inverse_distance_over_the_nearest_stations():
    stations = stations_at((150_000, 450_000), (160_000, 450_000), (170_000, 450_000), (300_000, 600_000))
    districts = districts_of((145_000, 445_000, 155_000, 455_000), (152_000, 440_000, 158_000, 460_000))
    weights = areal.idw_weights(stations, districts, neighbours=3)
    np.testing.assert_allclose(weights.sum("station"), 1.0)
    assert weights.sel(district="D0", station="0") == pytest.approx(1.0)  # station at the centroid
    inverse = np.array([1 / 5_000**2, 1 / 5_000**2, 1 / 15_000**2])
    np.testing.assert_allclose(weights.sel(district="D1").values[:3], inverse / inverse.sum())
    assert weights.sel(district="D1", station="3") == 0.0  # not among the 3 nearest
    assert areal.feeding_stations(weights)["D1"] == ["0", "1", "2"]


def test_weights_reproject_wgs84_input():
    stations = stations_at((150_000, 450_000), (170_000, 470_000))
    districts = districts_of((152_000, 452_000, 160_000, 460_000))
    in_rd = areal.idw_weights(stations, districts)
    in_wgs84 = areal.idw_weights(stations.to_crs(4326), districts.to_crs(4326))
    np.testing.assert_allclose(in_rd, in_wgs84, rtol=1e-6)
    with pytest.raises(ValueError, match="no CRS"):
        areal.idw_weights(stations.set_crs(None, allow_override=True), districts)


def test_weights_renormalise_per_day_over_stations_with_a_value():
    weights = xr.DataArray([[0.75, 0.25]], dims=("district", "station"), coords={"district": ["D"], "station": ["a", "b"]})
    values = xr.DataArray(
        [[2.0, 2.0, np.nan], [6.0, np.nan, np.nan]],
        dims=("station", "time"),
        coords={"station": ["a", "b"], "time": pd.date_range("2022-06-01", periods=3)},
    )
    result = areal.areal_mean(values, weights).sel(district="D").values
    np.testing.assert_allclose(result[:2], [0.75 * 2 + 0.25 * 6, 2.0])
    assert np.isnan(result[2])
    np.testing.assert_allclose(areal.national_mean(values).values[:2], [4.0, 2.0])


@pytest.fixture(scope="module")
def knmi_meteo(shared_data):
    from pipelines.ingest.sources.knmi import read_knmi_daily

    files = sorted((shared_data / "knmi" / "daily").glob("etmgeg_*.zip"))
    return pd.concat([read_knmi_daily(path) for path in files], ignore_index=True)


@pytest.mark.realdata
@pytest.mark.parametrize("date", ["2018-08-15", "2022-08-15"])
def test_each_water_board_lies_within_its_stations(shared_data, knmi_meteo, date):
    from pipelines.ingest.sources.knmi import knmi_stations

    meteo = knmi_meteo[knmi_meteo["date"] >= f"{date[:4]}-01-01"]
    stations = knmi_stations()
    stations = stations[stations["station"].isin(meteo["station"].unique())]
    boards = gpd.read_file(shared_data / "regions" / "waterschappen.geojson").to_crs(RD)
    assert len(boards) == 21 and len(stations) == 11
    indicators = compute_indicators(meteo, stations, boards, date=date, id_column="code")
    feeders = areal.feeding_stations(indicators["station_weight"])
    board_deficit = indicators["precipitation_deficit"].sel(time=date)
    station_deficit = indicators["precipitation_deficit_station"].sel(time=date)
    assert board_deficit.notnull().all() and float(board_deficit.min()) > 100.0  # both dry summers
    for board in board_deficit.district.values:
        fed_by = station_deficit.sel(station=feeders[board]).dropna("station")
        assert fed_by.size >= 2, board
        value = float(board_deficit.sel(district=board))
        assert float(fed_by.min()) - 1e-9 <= value <= float(fed_by.max()) + 1e-9, (board, value, fed_by.values)
