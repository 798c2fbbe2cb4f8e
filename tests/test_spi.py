"""SPI: maximum-likelihood gamma per calendar month with a probability of zero."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import special, stats

from models.indicators.spi import gamma_cdf, gamma_mle, rolling_sum, spi, spi_from_sums


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
    samples = rng.gamma([[0.7], [2.0], [9.0]], 3.0, (3, 300))
    shape, scale = gamma_mle(samples)
    for row in range(3):
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
