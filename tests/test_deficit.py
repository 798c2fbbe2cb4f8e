"""Precipitation deficit: the KNMI recurrence, seasons, gaps, and agreement with KNMI's own series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from models.indicators import areal, climatology
from models.indicators.deficit import FROM_APRIL, FROM_JANUARY, clipped_running_sum, precipitation_deficit


def daily(values, start="2022-04-01", dims=("time",), coords=None) -> xr.DataArray:
    values = np.asarray(values, dtype=float)
    time = pd.date_range(start, periods=values.shape[0], freq="D")
    return xr.DataArray(values, dims=dims, coords={"time": time, **(coords or {})}, attrs={"units": "mm/day"})


def reference_deficit(surplus: list[float]) -> list[float]:
    """The recurrence as KNMI states it, one day at a time in plain Python."""
    running, out = 0.0, []
    for value in surplus:
        running = max(0.0, running + value)
        out.append(running)
    return out


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-20, 20, allow_nan=False), min_size=1, max_size=60))
def test_clipped_running_sum_matches_the_recurrence(surplus):
    n = len(surplus)
    result = clipped_running_sum(np.array([surplus]), np.eye(1, n, dtype=bool)[0], np.ones(n, dtype=bool))
    np.testing.assert_allclose(result[0], reference_deficit(surplus), atol=1e-9)


def test_deficit_vectorised_over_series_equals_each_series_alone():
    rng = np.random.default_rng(4)
    p = daily(rng.gamma(0.5, 4.0, (183, 5)), dims=("time", "station"), coords={"station": list("abcde")})
    e = daily(rng.uniform(0, 5, (183, 5)), dims=("time", "station"), coords={"station": list("abcde")})
    together = precipitation_deficit(p, e)
    for station in "abcde":
        alone = precipitation_deficit(p.sel(station=station), e.sel(station=station))
        np.testing.assert_allclose(together.sel(station=station), alone)
        expected = reference_deficit((e - p).sel(station=station).values.tolist())
        np.testing.assert_allclose(alone, expected)
    assert together.attrs["units"] == "mm"


def test_season_restarts_each_year_and_is_nan_outside():
    p = daily(np.zeros(800), start="2021-01-01")
    e = daily(np.ones(800), start="2021-01-01")
    d = precipitation_deficit(p, e).to_series()
    assert d["2021-03-31"] != d["2021-03-31"]  # NaN before 1 April
    assert d["2021-04-01"] == 1.0 and d["2021-09-30"] == 183.0
    assert np.isnan(d["2021-10-01"]) and d["2022-04-01"] == 1.0
    jan = precipitation_deficit(p, e, season=FROM_JANUARY).to_series()
    assert jan["2022-01-01"] == 1.0 and jan["2021-12-31"] == 365.0


def test_gap_adds_nothing_and_is_nan_that_day():
    p = daily([0.0, np.nan, 0.0, 10.0])
    e = daily([2.0, 2.0, 2.0, 2.0])
    d = precipitation_deficit(p, e, season=FROM_APRIL).values
    assert d[0] == 2.0 and np.isnan(d[1]) and d[2] == 4.0 and d[3] == 0.0


def test_dask_chunked_input_gives_the_same_result():
    rng = np.random.default_rng(1)
    coords = {"station": [str(i) for i in range(6)]}
    p = daily(rng.gamma(0.5, 4.0, (200, 6)), dims=("time", "station"), coords=coords)
    e = daily(rng.uniform(0, 5, (200, 6)), dims=("time", "station"), coords=coords)
    eager = precipitation_deficit(p, e)
    lazy = precipitation_deficit(p.chunk({"station": 2}), e.chunk({"station": 2}))
    assert lazy.chunks is not None
    xr.testing.assert_allclose(eager, lazy.compute().transpose(*eager.dims))


def test_inputs_in_other_dimension_orders_and_spans_are_aligned():
    rng = np.random.default_rng(2)
    coords = {"station": ["a", "b", "c"]}
    p = daily(rng.gamma(0.5, 4.0, (300, 3)), start="2022-03-01", dims=("time", "station"), coords=coords)
    e = daily(rng.uniform(0, 5, (300, 3)), start="2022-03-01", dims=("time", "station"), coords=coords)
    shifted = precipitation_deficit(p, e.isel(time=slice(31, None)).transpose("station", "time").astype(np.float32))
    expected = precipitation_deficit(p.isel(time=slice(31, None)), e.isel(time=slice(31, None)).astype(np.float32))
    assert shifted.sizes["time"] == 269  # only the days both cover, as e - p would give
    xr.testing.assert_allclose(shifted.transpose(*expected.dims), expected)
    np.testing.assert_allclose(expected.sel(station="b").values[:183],
                               reference_deficit((e - p).sel(station="b").values[31:214].tolist()), rtol=1e-6)


def test_non_daily_time_axis_is_refused():
    p = xr.DataArray([1.0, 2.0], dims="time", coords={"time": pd.to_datetime(["2022-04-01", "2022-04-03"])})
    with pytest.raises(ValueError, match="consecutive daily"):
        precipitation_deficit(p, p)


# --- agreement with KNMI's national series -------------------------------------------------


@pytest.fixture(scope="module")
def national(shared_data):
    from pipelines.ingest.sources.knmi import read_knmi_daily

    files = sorted((shared_data / "knmi" / "daily").glob("etmgeg_*.zip"))
    assert len(files) == 11, files
    meteo = pd.concat([read_knmi_daily(path) for path in files], ignore_index=True)
    frame = meteo[(meteo["date"] >= "2003-01-01") & (meteo["date"] <= "2025-12-31")]
    p = frame.pivot(index="date", columns="station", values="precipitation_mm").asfreq("D")
    e = frame.pivot(index="date", columns="station", values="evaporation_mm").asfreq("D")

    def as_array(table):
        return xr.DataArray(table.to_numpy(), dims=("time", "station"),
                            coords={"time": table.index.values, "station": table.columns.to_numpy(str)})

    # KNMI averages precipitation (P13) and evaporation (EV24-13) over stations separately.
    p_nl, e_nl = areal.national_mean(as_array(p)), areal.national_mean(as_array(e))
    computed = precipitation_deficit(p_nl, e_nl).to_series()
    knmi = climatology.read_int_nl(shared_data / "knmi" / "national-deficit" / "int_nl.dat")
    return computed, knmi


@pytest.mark.realdata
@pytest.mark.parametrize("year", [2003, 2018, 2020, 2022, 2025])
def test_national_deficit_agrees_with_knmi(national, year):
    computed, knmi = national
    season = slice(f"{year}-04-01", f"{year}-09-30")
    ours, theirs = computed[season], knmi[season]
    assert len(ours) == len(theirs) == 183 and ours.notna().all()
    assert np.corrcoef(ours, theirs)[0, 1] >= 0.99
    assert abs(ours.max() - theirs.max()) <= 0.10 * theirs.max()
