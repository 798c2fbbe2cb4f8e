"""SPI: maximum-likelihood gamma per calendar month with a probability of zero."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import special, stats

from models.indicators.spi import (gamma_cdf, gamma_mle, monthly_totals, rolling_sum, spi, spi_from_sums,
                                   spi_monthly)
from tests.spi_reference import scipy_spi_monthly


def scipy_spi(precipitation: pd.Series, window: int) -> pd.Series:
    """The straightforward reference: pandas rolling sums, scipy's ML gamma fit per month."""
    sums = precipitation.rolling(window, min_periods=window).sum().round(6)
    result = pd.Series(np.nan, index=precipitation.index)
    for month in range(1, 13):
        x = sums[sums.index.month == month].dropna()
        q = (x == 0).mean()
        shape, _, scale = stats.gamma.fit(x[x > 0], floc=0)
        result[x.index] = stats.norm.ppf(q + (1 - q) * stats.gamma.cdf(x, shape, scale=scale))
    return result


def test_gamma_mle_equals_scipy_fit():
    rng = np.random.default_rng(7)
    # Large shapes too: there the Newton step stalls above its test and stops at the limit.
    samples = rng.gamma([[0.7], [2.0], [9.0], [400.0], [3000.0]], 3.0, (5, 300))
    shape, scale = gamma_mle(samples)
    for row in range(5):
        a, _, s = stats.gamma.fit(samples[row], floc=0)
        assert shape[row] == pytest.approx(a, rel=1e-9) and scale[row] == pytest.approx(s, rel=1e-9)


def test_rolling_sum_needs_a_complete_window():
    values = np.array([1.0, 2.0, np.nan, 4.0, 5.0, 6.0])
    np.testing.assert_array_equal(rolling_sum(values, 2), [np.nan, 3.0, np.nan, np.nan, 9.0, 11.0])


def test_zero_probability_and_dry_windows():
    rng = np.random.default_rng(3)
    time = pd.date_range("1990-01-01", "2019-12-31", freq="D")
    rain = rng.gamma(0.4, 5.0, len(time)) * (rng.random(len(time)) < 0.5)
    rain[(time.month == 7) & (time.year % 3 == 0)] = 0.0  # every third July bone dry
    result = spi(xr.DataArray(rain, dims="time", coords={"time": time}), window_days=30).to_series()
    reference = scipy_spi(pd.Series(rain, index=time), 30)
    np.testing.assert_allclose(result, reference, atol=1e-6)
    dry = result[(result.index.month == 7) & (result.index.day == 31) & (result.index.year % 3 == 0)]
    assert (dry < -0.4).all()  # a window of zeros sits at the probability of zero, not at -inf


@pytest.mark.realdata
@pytest.mark.parametrize("window", [30, 91])
def test_spi_equals_scipy_reference_on_a_real_station(shared_data, window):
    from pipelines.ingest.sources.knmi import read_knmi_daily

    meteo = read_knmi_daily(shared_data / "knmi" / "daily" / "etmgeg_348.zip")
    rain = meteo.set_index("date")["precipitation_mm"].asfreq("D")
    ours = spi(xr.DataArray(rain.to_numpy(), dims="time", coords={"time": rain.index.values}),
               window_days=window).to_series()
    theirs = scipy_spi(rain, window)
    assert ours.isna().equals(theirs.isna()) and ours.notna().sum() > 5000
    np.testing.assert_allclose(ours.dropna(), theirs.dropna(), atol=1e-6)
    assert abs(ours.mean()) < 0.1 and 0.9 < ours.std() < 1.1


def test_vectorised_and_dask_agree_with_single_series():
    rng = np.random.default_rng(11)
    time = pd.date_range("1995-01-01", "2014-12-31", freq="D")
    rain = xr.DataArray(rng.gamma(0.5, 4.0, (len(time), 4)), dims=("time", "station"),
                        coords={"time": time, "station": list("abcd")})
    together = spi(rain, window_days=91)
    lazy = spi(rain.chunk({"station": 2, "time": 1000}), window_days=91)
    assert lazy.chunks is not None
    xr.testing.assert_allclose(together, lazy.compute())
    alone = spi(rain.sel(station="c"), window_days=91)
    xr.testing.assert_allclose(together.sel(station="c"), alone)
    assert together.dims == ("time", "station") and together.attrs["units"] == "1"


@pytest.mark.parametrize("shape", [0.3, 1.0, 2.5, 45.0, 400.0])
def test_gamma_cdf_equals_scipy_gammainc(shape):
    u = stats.gamma.ppf(np.concatenate([np.logspace(-12, -1, 12), np.linspace(0.05, 0.95, 19),
                                        1 - np.logspace(-1, -12, 12)]), shape)
    ours = np.array([gamma_cdf(shape, value) for value in u])
    theirs = special.gammainc(shape, u)
    np.testing.assert_allclose(ours, theirs, rtol=1e-11, atol=1e-15)  # relative in the lower tail
    np.testing.assert_allclose(1 - ours, 1 - theirs, rtol=1e-9, atol=1e-15)  # and in the upper


@pytest.mark.parametrize("daily_shape", [0.1, 0.5, 4.0])
@pytest.mark.parametrize("window", [30, 91])
def test_cdf_carried_from_day_to_day_equals_the_cdf_afresh(daily_shape, window):
    # The same per-month fit as spi_from_sums, then scipy's gamma CDF value by value: any
    # difference is the CDF carried by quadrature between consecutive window sums.
    rng = np.random.default_rng(int(daily_shape * 10) + window)
    time = pd.date_range("1991-01-01", "2020-12-31", freq="D")
    rain = rng.gamma(daily_shape, 3.0, len(time)) * (rng.random(len(time)) < 0.6)
    rain[rng.random(len(time)) < 0.002] = 60.0  # cloudbursts: steps too wide to carry
    rain[rng.random(len(time)) < 0.001] = np.nan
    sums, months = rolling_sum(rain, window), time.month.to_numpy()
    expected = np.full(len(time), np.nan)
    for month in range(1, 13):
        x = sums[months == month]
        present = x[~np.isnan(x)]
        q = np.mean(present == 0)
        shape, scale = gamma_mle(present[present > 0])
        expected[months == month] = special.ndtri(q + (1 - q) * special.gammainc(shape, np.maximum(x, 0) / scale))
    ours = spi_from_sums(sums, months)
    assert np.array_equal(np.isnan(ours), np.isnan(expected)) and np.isfinite(ours).sum() > 8_000
    np.testing.assert_allclose(ours, expected, atol=1e-8)


def test_float32_precipitation_is_summed_in_float64():
    rng = np.random.default_rng(5)
    time = pd.date_range("2001-01-01", "2020-12-31", freq="D")
    rain = xr.DataArray(rng.gamma(0.5, 4.0, (3, len(time))).astype(np.float32), dims=("cell", "time"),
                        coords={"time": time})
    single = spi(rain, window_days=91)
    double = spi(rain.astype(np.float64), window_days=91)
    assert single.dtype == np.float64
    xr.testing.assert_allclose(single, double, rtol=0, atol=1e-12)


# --- monthly SPI ---------------------------------------------------------------------------------


def monthly_rain(n_series: int, years: int, *, seed: int, dry_share: float = 0.03) -> xr.DataArray:
    """Seeded monthly totals (mm/month) from January 1981, some months without rain, a few missing."""
    rng = np.random.default_rng(seed)
    time = pd.date_range("1981-01-01", periods=12 * years, freq="MS")
    totals = rng.gamma(2.5, 25.0, (n_series, len(time))) * (rng.random((n_series, len(time))) > dry_share)
    totals[rng.random(totals.shape) < 0.005] = np.nan
    return xr.DataArray(totals, dims=("series", "time"), coords={"time": time}, attrs={"units": "mm/month"})


@pytest.mark.parametrize("scale", [1, 3, 6])
def test_monthly_spi_equals_the_scipy_reference(scale):
    rain = monthly_rain(4, 40, seed=scale)
    ours = spi_monthly(rain, scale_months=scale)
    assert ours.dims == ("series", "time") and ours.attrs["units"] == "1" and ours.name == f"spi_{scale}m"
    for row in range(4):
        theirs = scipy_spi_monthly(rain[row].to_series(), scale)
        mine = ours[row].to_series()
        assert mine.isna().equals(theirs.isna()) and mine.notna().sum() > 400
        np.testing.assert_allclose(mine.dropna(), theirs.dropna(), rtol=0, atol=1e-6)


def test_monthly_spi_fits_the_reference_period_only():
    rain = monthly_rain(1, 40, seed=4)[0]
    reference = ("1991-01", "2020-12")
    ours = spi_monthly(rain, scale_months=3, reference=reference).to_series()
    theirs = scipy_spi_monthly(rain.to_series(), 3, reference)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)
    assert np.nanmax(np.abs(ours - spi_monthly(rain, scale_months=3).to_series())) > 0.01


def test_a_calendar_month_with_fewer_than_ten_non_zero_sums_has_no_spi():
    time = pd.date_range("1981-01-01", periods=12 * 40, freq="MS")
    rng = np.random.default_rng(8)
    rain = rng.gamma(2.5, 25.0, (2, len(time)))
    july = np.flatnonzero(time.month == 7)
    rain[0, july[9:]] = 0.0   # 9 Julys with rain: no fit for July
    rain[1, july[10:]] = 0.0  # 10: a fit, and the 30 dry Julys at the probability of zero
    result = spi_monthly(xr.DataArray(rain, dims=("series", "time"), coords={"time": time}), scale_months=1)
    assert result[0, july].isnull().all() and result[0, time.month == 6].notnull().all()
    assert result[1, july].notnull().all()
    np.testing.assert_allclose(result[1, july[10:]], special.ndtri(30 / 40), atol=1e-12)
    np.testing.assert_allclose(result[1].to_series(), scipy_spi_monthly(pd.Series(rain[1], index=time), 1),
                               atol=1e-6)


def test_monthly_spi_vectorised_dask_and_single_series_agree():
    rain = monthly_rain(6, 30, seed=9)
    together = spi_monthly(rain, scale_months=3)
    lazy = spi_monthly(rain.chunk({"series": 2}), scale_months=3)
    assert lazy.chunks is not None
    xr.testing.assert_allclose(together, lazy.compute())
    xr.testing.assert_allclose(together[4], spi_monthly(rain[4], scale_months=3))


def test_monthly_spi_refuses_a_gap_in_the_months_and_a_bad_scale():
    rain = monthly_rain(1, 12, seed=1)[0]
    with pytest.raises(ValueError, match="consecutive calendar months.*1981-03 is followed by 1981-05"):
        spi_monthly(rain.drop_isel(time=3), scale_months=3)
    with pytest.raises(ValueError, match="scale_months"):
        spi_monthly(rain, scale_months=0)


def test_monthly_totals_of_daily_rain():
    time = pd.date_range("2000-01-15", "2000-04-30", freq="D")
    rain = xr.DataArray(np.ones(len(time)), dims="time", coords={"time": time})
    rain[np.flatnonzero(time == "2000-03-10")[0]] = np.nan
    totals = monthly_totals(rain)
    assert totals.attrs["units"] == "mm/month"
    # January starts mid-month, March misses a day: NaN; February 2000 has 29 days.
    np.testing.assert_array_equal(totals.values, [np.nan, 29.0, np.nan, 30.0])
    assert list(totals.indexes["time"].strftime("%Y-%m-%d")) == ["2000-01-01", "2000-02-01", "2000-03-01",
                                                                  "2000-04-01"]


def test_monthly_spi_agrees_with_climate_indices():
    indices = pytest.importorskip("climate_indices.indices", reason="climate_indices (the [peers] extra) is not installed")
    from climate_indices import compute

    rain = monthly_rain(5, 40, seed=12, dry_share=0.0)
    rain = rain.fillna(30.0)  # climate_indices takes a missing month as missing, not as a gap
    ours = spi_monthly(rain, scale_months=3).values
    theirs = indices.spi(np.ascontiguousarray(rain.values.T)[:, :, None], 3, indices.Distribution.gamma, 1981, 1981,
                         2020, compute.Periodicity.monthly, spatial_time_major=True)[:, :, 0].T
    both = np.isfinite(ours) & np.isfinite(theirs) & (np.abs(theirs) < 3.09)  # they clip to ±3.09
    assert both.sum() > 0.98 * ours.size
    # They fit with Thom's approximation of the ML shape: close, not equal.
    assert np.abs(ours[both] - theirs[both]).max() <= 0.05


def test_monthly_blocks_equal_the_value_by_value_gamma_cdf():
    """The monthly path evaluates the sums of one fit side by side (``by_month``); each
    probability must be the one :func:`gamma_cdf` gives value by value, in both branches
    (series below a + 1, continued fraction above), with far tails, gaps, dry months and
    a record that does not end on a December."""
    from models.indicators.spi import _standardise

    rng = np.random.default_rng(19)
    n_time = 12 * 35 + 5
    months = (np.arange(n_time) % 12) + 1
    sums = rng.gamma(rng.uniform(0.5, 20.0, (40, 1)), 30.0, (40, n_time))
    sums[rng.random(sums.shape) < 0.05] = 0.0
    sums[rng.random(sums.shape) < 0.02] = np.nan
    sums[:5, ::7] *= rng.choice([1e-4, 30.0], (5, len(range(0, n_time, 7))))  # far into both tails
    sums = np.round(sums, 6)
    by_value = _standardise(sums.copy(), months, None, out=np.empty(sums.shape))
    rows = sums.copy()
    in_blocks = _standardise(rows, months, None, out=rows, by_month=True)  # in place, as spi_monthly
    np.testing.assert_array_equal(np.isnan(in_blocks), np.isnan(by_value))
    assert np.isfinite(by_value).mean() > 0.9
    np.testing.assert_allclose(in_blocks, by_value, rtol=0, atol=1e-11)
