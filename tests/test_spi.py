"""SPI: maximum-likelihood gamma per calendar month with a probability of zero."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

from models.spi import gamma_mle, rolling_sum, spi


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
    from pipelines.sources.knmi import read_knmi_daily

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
