"""Standardized Precipitation Index (SPI; McKee et al. 1993, WMO-No. 1090).

The SPI says how unusual the precipitation over a window is, in standard deviations of a
normal distribution: about -1 is drier than 5 years in 6, -2 drier than 39 in 40.

Steps, per series:

1. Window sums: the precipitation over the **rolling window of ``window_days`` days** ending
   on each day (30 days for "SPI-1", 91 for "SPI-3"). A window with any missing day is NaN.
   Daily rolling windows (not calendar months) are used so the indicator is available every
   day; they are fitted per calendar month, see 2.
2. Per **calendar month of the window's last day**, all window sums of that month over the
   reference years are pooled and fitted with a gamma distribution (location 0), with the
   **probability of zero** ``q`` (share of windows with no precipitation) kept apart, since a
   gamma distribution has no mass at zero.
3. Cumulative probability ``H(x) = q + (1 - q) G(x)`` is mapped to the standard normal:
   ``SPI = Φ⁻¹(H)``.

Estimator: **maximum likelihood** for the gamma shape and scale, the same estimator as
``scipy.stats.gamma.fit(x, floc=0)``: the shape ``a`` solves ``ln a - ψ(a) = ln(mean x) -
mean(ln x)`` (Thom's 1958 approximation as the start, then Newton steps, vectorised over all
series and months at once), and scale = mean / a.

Sums are rounded to 1e-6 mm before fitting so that floating-point noise in a window of
zeros counts as zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy import special

#: Window lengths (days) of the two SPI variants in the indicators.
SPI_WINDOWS = {"spi_1": 30, "spi_3": 91}

_MIN_SAMPLES = 10  # fewer non-zero sums than this in a calendar month: no fit, SPI NaN


def rolling_sum(values: np.ndarray, window: int) -> np.ndarray:
    """Sum over the last ``window`` steps of the last axis; NaN where any value is missing
    or fewer than ``window`` steps precede."""
    filled = np.where(np.isnan(values), 0.0, values)
    gaps = np.isnan(values).astype(np.int64)
    zero = np.zeros(values.shape[:-1] + (1,))
    cumulative = np.concatenate([zero, np.cumsum(filled, axis=-1)], axis=-1)
    cumulative_gaps = np.concatenate([zero.astype(np.int64), np.cumsum(gaps, axis=-1)], axis=-1)
    result = np.full(values.shape, np.nan)
    if values.shape[-1] >= window:
        sums = cumulative[..., window:] - cumulative[..., :-window]
        complete = (cumulative_gaps[..., window:] - cumulative_gaps[..., :-window]) == 0
        result[..., window - 1 :] = np.where(complete, np.round(sums, 6), np.nan)
    return result


def gamma_mle(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood gamma ``(shape, scale)`` with location 0 along the last axis.

    ``samples`` (..., n) holds positive values, NaN for absent ones. Rows with fewer than two
    distinct values have no fit (NaN).
    """
    count = np.sum(~np.isnan(samples), axis=-1)
    mean = np.nanmean(np.where(count[..., None] > 0, samples, 1.0), axis=-1)
    mean_log = np.nanmean(np.log(np.where(count[..., None] > 0, samples, 1.0)), axis=-1)
    s = np.log(mean) - mean_log
    valid = (count >= 2) & (s > 0)
    s = np.where(valid, s, 1.0)
    shape = (3.0 - s + np.sqrt((s - 3.0) ** 2 + 24.0 * s)) / (12.0 * s)  # Thom (1958) start
    for _ in range(50):
        f = np.log(shape) - special.digamma(shape) - s
        step = f / (1.0 / shape - special.polygamma(1, shape))
        # Newton on a convex, decreasing function from the left converges monotonically;
        # halving keeps the shape positive when a start overshoots.
        shape = np.where(shape - step > 0, shape - step, shape / 2.0)
        if np.all(np.abs(step) <= 1e-14 * shape):
            break
    shape = np.where(valid, shape, np.nan)
    return shape, np.where(valid, mean / shape, np.nan)


def spi_from_sums(
    sums: np.ndarray, months: np.ndarray, reference: np.ndarray | None = None
) -> np.ndarray:
    """SPI of window sums ``sums`` (..., time), fitted per calendar month ``months`` (time,).

    ``reference`` (time,) marks the time steps whose sums enter the fit (default: all).
    """
    sums = np.asarray(sums, dtype=float)
    reference = np.ones(sums.shape[-1], dtype=bool) if reference is None else reference
    result = np.full(sums.shape, np.nan)
    for month in range(1, 13):
        in_month = months == month
        if not in_month.any():
            continue
        fit_sample = sums[..., in_month & reference]
        present = ~np.isnan(fit_sample)
        n_present = present.sum(axis=-1)
        n_zero = (fit_sample == 0).sum(axis=-1)
        positive = np.where(fit_sample > 0, fit_sample, np.nan)
        shape, scale = gamma_mle(positive)
        shape = np.where(n_present - n_zero >= _MIN_SAMPLES, shape, np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            zero_probability = n_zero / n_present
        x = sums[..., in_month]
        # scipy.special directly: the regularised incomplete gamma function is the gamma CDF
        # and ndtri the normal quantile, without scipy.stats' per-call argument checking.
        cdf = special.gammainc(shape[..., None], np.maximum(x, 0.0) / scale[..., None])
        probability = zero_probability[..., None] + (1.0 - zero_probability[..., None]) * cdf
        result[..., in_month] = np.where(np.isnan(x), np.nan, special.ndtri(probability))
    return result


def _spi_core(values: np.ndarray, *, months, reference, window) -> np.ndarray:
    return spi_from_sums(rolling_sum(values, window), months, reference)


def spi(
    precipitation: xr.DataArray,
    *,
    window_days: int,
    reference: tuple[str, str] | None = None,
) -> xr.DataArray:
    """SPI of daily precipitation (mm/day, dimension ``time`` consecutive days) over a
    rolling window of ``window_days`` days, fitted per calendar month.

    ``reference`` = (first, last) date of the fitting period (default: the whole record).
    Any other dimensions are vectorised; dask-chunked input is computed per chunk
    (``apply_ufunc(dask="parallelized")``), which needs ``time`` in a single chunk.
    Returns a dimensionless DataArray with the same dimensions.
    """
    time = pd.DatetimeIndex(precipitation.indexes["time"])
    months = time.month.to_numpy()
    in_reference = (
        np.ones(len(time), dtype=bool)
        if reference is None
        else np.asarray((time >= pd.Timestamp(reference[0])) & (time <= pd.Timestamp(reference[1])))
    )
    if precipitation.chunks is not None:
        precipitation = precipitation.chunk({"time": -1})
    result = xr.apply_ufunc(
        _spi_core,
        precipitation,
        kwargs={"months": months, "reference": in_reference, "window": window_days},
        input_core_dims=[["time"]],
        output_core_dims=[["time"]],
        dask="parallelized",
        output_dtypes=[float],
    ).transpose(*precipitation.dims)
    result.name = f"spi_{window_days}d"
    result.attrs = {
        "units": "1",
        "long_name": f"standardized precipitation index over {window_days} days",
        "method": "rolling window sums, gamma (maximum likelihood, location 0) with "
        "probability of zero fitted per calendar month of the window end (McKee 1993)",
    }
    return result
