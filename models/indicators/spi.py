"""Standardized Precipitation Index (SPI; McKee et al. 1993, WMO-No. 1090).

The SPI says how unusual the precipitation over a window is, in standard deviations of a
normal distribution: about -1 is drier than 5 years in 6, -2 drier than 39 in 40.

Two variants, one method:

- :func:`spi_monthly`, the **standard SPI** on calendar-month totals (mm/month) over
  ``scale_months`` months (SPI-1, -3, -6, -12, any scale), fitted per calendar month of
  the last month; :func:`monthly_totals` makes the totals from daily precipitation.
- :func:`spi`, the **daily** variant the indicators use: rolling windows of ``window_days``
  days (30 for "SPI-1", 91 for "SPI-3") ending on each day, so the indicator is available
  every day, fitted per calendar month of the window's last day.

Steps, per series:

1. Sums: the precipitation over the window ending at each time step. A window with any
   missing value is NaN.
2. Per **calendar month** (of the window's last day or month), all sums of that month over
   the reference period are pooled and fitted with a gamma distribution (location 0), with
   the **probability of zero** ``q`` (share of sums with no precipitation) kept apart, since
   a gamma distribution has no mass at zero.
3. Cumulative probability ``H(x) = q + (1 - q) G(x)`` is mapped to the standard normal:
   ``SPI = Φ⁻¹(H)``. A sum of zero gets ``Φ⁻¹(q)``.

Too few non-zero sums: a calendar month with **fewer than 10 non-zero sums** in the
reference period gets no fit, and its SPI is NaN (also for its dry months), rather than a
shape estimated from a handful of values. The peers are more lenient. xclim 0.62
(``standardized_precipitation_index``; ``_fitfunc_1d`` returns NaN only for fewer than 2
values) and climate_indices 3.1 (``gamma_parameters``, Thom's approximation; no minimum for
the gamma, 4 non-zero values only for Pearson III, a warning but no refusal when the
calibration is shorter than 30 years) fit a calendar month from 2 non-zero sums; with one,
its wet month is NaN and its dry months still get ``Φ⁻¹(q)``. Tried on 40 Julys of which
1, 2, 3, 5 or 9 had rain, both gave the same SPI (to 2 decimals): for 2 wet Julys 2.41 and
1.73, and +1.64 for each of the 38 dry ones; here all of them are NaN. With 30-40 reference
years a monthly SPI meets the 10 wherever it rains at all in a month; the rule matters for
a short record or a dry climate, where a gamma fit on fewer values has a shape uncertain by
half or more and the tails of the SPI mean little.

Estimator: **maximum likelihood** for the gamma shape and scale, the same estimator as
``scipy.stats.gamma.fit(x, floc=0)``: the shape ``a`` solves ``ln a - ψ(a) = ln(mean x) -
mean(ln x)`` (Thom's 1958 approximation as the start, then Newton steps, a compiled loop
over all series and months, each fit stopping at its own first step below 1e-14 a), and
scale = mean / a. Sums are rounded to 1e-6 mm before fitting so that
floating-point noise in a window of zeros counts as zero.

Speed (thousands of series of 40 years): the window sums, the per-month sums that the fit
needs and the gamma CDF are compiled loops over each series (:mod:`models.jit`), one pass
each, with no temporary arrays. The gamma CDF ``G`` (the regularised incomplete gamma
function) costs 200-500 ns per value when evaluated from scratch. But the window sums of
consecutive days differ only by the day that enters and the day that leaves the window, so
``G`` of today's sum is ``G`` of yesterday's plus the integral of the gamma density between
the two sums, a short Taylor series (see :func:`_gamma_cdf_step`). The CDF is evaluated from
scratch at the start of each calendar month, after a gap or a dry window, in the tails
(G < 0.001 or > 0.999), and where a step is too wide for the series; the result agrees with
scipy's ``gammainc`` to about 1e-12. Monthly sums of consecutive months belong to
different calendar months: there every ``G`` is evaluated afresh, with ``ln Γ(a)`` of the
fit computed once, and the sums of one series and calendar month (one fit) side by side in
lock step, which lets the processor overlap their chains of multiplications (see
:func:`_cumulative_probability_by_month`; 0.19 s instead of 0.32 s for 10,000 series x 40
years of SPI-3). Carrying ``G`` between the sums of one calendar month in order of size was
tried, and was no faster: neighbours 1/40 of the distribution apart need as many terms as a
fresh evaluation. Figures against xclim and climate_indices: ``benchmarks/compare_peers.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import xarray as xr
from scipy import special

from models.jit import kernel

#: Window lengths (days) of the two SPI variants in the indicators.
SPI_WINDOWS = {"spi_1": 30, "spi_3": 91}

_MIN_SAMPLES = 10  # fewer non-zero sums than this in a calendar month: no fit, SPI NaN
_NEWTON_STEPS = 50  # at most, per gamma fit


# --- window sums -----------------------------------------------------------------------------


@kernel
def _window_sums(values, window, out):
    """Rolling sums of each row of ``values`` (series, time) into ``out``: add the day that
    enters the window, subtract the one that leaves it; count missing days the same way."""
    n_series, n_time = values.shape
    for i in range(n_series):
        total = 0.0
        gaps = 0
        for t in range(n_time):
            entering = float(values[i, t])  # float64 sums also of float32 input
            if np.isnan(entering):
                gaps += 1
            else:
                total += entering
            if t >= window:
                leaving = float(values[i, t - window])
                if np.isnan(leaving):
                    gaps -= 1
                else:
                    total -= leaving
            if t >= window - 1 and gaps == 0:
                out[i, t] = np.rint(total * 1e6) / 1e6  # as numpy's round(sums, 6)
            else:
                out[i, t] = np.nan


def rolling_sum(values: np.ndarray, window: int) -> np.ndarray:
    """Sum over the last ``window`` steps of the last axis; NaN where any value is missing
    or fewer than ``window`` steps precede. Rounded to 1e-6."""
    values = np.asarray(values)
    rows = np.ascontiguousarray(values.reshape(-1, values.shape[-1]))
    out = np.empty(rows.shape)
    _window_sums(rows, window, out)
    return out.reshape(values.shape)


# --- gamma fit per calendar month -----------------------------------------------------------


@kernel
def _month_moments(sums, months, reference, present, zeros, total, total_log):
    """Per series and calendar month (index ``month - 1``) over the reference days: number of
    sums present, of zero sums, and the sum of the positive sums and of their logarithms."""
    n_series, n_time = sums.shape
    for i in range(n_series):
        for t in range(n_time):
            x = sums[i, t]
            if not reference[t] or np.isnan(x):
                continue
            m = months[t] - 1
            present[i, m] += 1
            if x == 0.0:
                zeros[i, m] += 1
            elif x > 0.0:
                total[i, m] += x
                total_log[i, m] += math.log(x)


@kernel
def _log_minus_digamma(a):
    """``ln a - ψ(a)`` for ``a`` > 0, to about 1e-15 relative.

    Written out rather than ``np.log(a) - scipy.special.digamma(a)``: for large shapes the
    two logarithms cancel and scipy's difference keeps ~1e-16 of ``ln a`` as error, more than
    the Newton step test allows (1 % of the monthly fits then ran all their steps); and a
    compiled loop over the fits is several times quicker than scipy's ``digamma`` and
    ``zeta``. The recurrence ``ψ(x) = ψ(x + 1) - 1/x`` lifts ``a`` to at least 10, then the
    asymptotic series ``ln x - ψ(x) = 1/(2x) + Σ B_2k / (2k x^2k)`` (Abramowitz & Stegun
    6.3.18), to x⁻¹⁴, is exact to ~1e-16 there.
    """
    total = 0.0
    x = a
    while x < 10.0:
        total += 1.0 / x
        x += 1.0
    inv2 = 1.0 / (x * x)
    series = inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (1.0 / 240 - inv2 * (
        1.0 / 132 - inv2 * (691.0 / 32760 - inv2 / 12.0))))))
    return math.log(a / x) + total + 0.5 / x + series


@kernel
def _trigamma(a):
    """``ψ'(a)`` for ``a`` > 0, to about 1e-13 relative (it only sets Newton's step length):
    recurrence ``ψ'(x) = ψ'(x + 1) + 1/x²`` to x >= 10, then A & S 6.4.12."""
    total = 0.0
    x = a
    while x < 10.0:
        total += 1.0 / (x * x)
        x += 1.0
    inv = 1.0 / x
    inv2 = inv * inv
    series = inv + inv2 * (0.5 + inv * (1.0 / 6 - inv2 * (1.0 / 30 - inv2 * (1.0 / 42 - inv2 * (
        1.0 / 30 - inv2 * 5.0 / 66)))))
    return total + series


@kernel
def _gamma_shapes(s, valid, out):
    """ML gamma shapes ``a`` with ``ln a - ψ(a) = s`` for each ``valid`` entry (NaN elsewhere):
    Thom's (1958) approximation as the start, then Newton steps until one is below 1e-14 a
    (at most 50). ``ln a - ψ(a) - s`` is convex and decreasing, so Newton from the left
    converges monotonically; halving keeps a start that overshoots positive."""
    for k in range(s.size):
        if not valid[k]:
            out[k] = np.nan
            continue
        target = s[k]
        a = (3.0 - target + math.sqrt((target - 3.0) ** 2 + 24.0 * target)) / (12.0 * target)
        for _ in range(_NEWTON_STEPS):
            step = (_log_minus_digamma(a) - target) / (1.0 / a - _trigamma(a))
            a = a - step if a - step > 0 else a / 2.0
            if abs(step) <= 1e-14 * a:
                break
        out[k] = a


def _gamma_mle_from_moments(
    count: np.ndarray, mean: np.ndarray, mean_log: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """ML gamma ``(shape, scale)`` from the number, mean and mean logarithm of positive samples."""
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.log(mean) - mean_log
    valid = (count >= 2) & (s > 0)
    s = np.asarray(np.where(valid, s, 1.0), dtype=float)
    shape = np.empty(s.shape)
    _gamma_shapes(s.reshape(-1), np.asarray(valid).reshape(-1), shape.reshape(-1))
    return shape, np.where(valid, mean / shape, np.nan)


def gamma_mle(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood gamma ``(shape, scale)`` with location 0 along the last axis.

    ``samples`` (..., n) holds positive values, NaN for absent ones. Rows with fewer than two
    distinct values have no fit (NaN).
    """
    count = np.sum(~np.isnan(samples), axis=-1)
    mean = np.nanmean(np.where(count[..., None] > 0, samples, 1.0), axis=-1)
    mean_log = np.nanmean(np.log(np.where(count[..., None] > 0, samples, 1.0)), axis=-1)
    return _gamma_mle_from_moments(count, mean, mean_log)


# --- gamma CDF --------------------------------------------------------------------------------


# Where the gamma CDF's series and continued fraction stop: the SPI's error is at most about
# the relative error of H (and of 1 - H in the upper tail), so 1e-14 is far below anything.
_RELATIVE_PRECISION = 1e-14


@kernel
def gamma_cdf(a, u):
    """Regularised lower incomplete gamma function P(a, u): the CDF of a gamma distribution
    of shape ``a`` and scale 1 at ``u`` > 0, to about 1e-14 (series below ``a + 1``,
    continued fraction above; Numerical Recipes §6.2)."""
    return _gamma_cdf(a, math.lgamma(a), u)


@kernel
def _gamma_cdf(a, log_gamma_a, u):
    """:func:`gamma_cdf` with ``ln Γ(a)`` given: a fit's shape serves hundreds of values."""
    log_prefactor = a * math.log(u) - u - log_gamma_a
    if u < a + 1.0:
        # Two terms per division, the throughput limit of this loop:
        # t(n) = t(n-1) u / (a+n), t(n+1) = t(n-1) u² / ((a+n)(a+n+1)).
        term = 1.0 / a
        total = term
        for n in range(1, 200_000, 2):
            first = a + n
            ratio = u / (first * (first + 1.0))
            total += term * ratio * (first + 1.0)
            term *= ratio * u
            total += term
            if term < total * _RELATIVE_PRECISION:
                break
        return min(total * math.exp(log_prefactor), 1.0)
    # Continued fraction for the upper tail Q = 1 - P, by the forward recurrence of its
    # numerators A and denominators B (Wallis) rather than by modified Lentz: Lentz's two
    # divisions a term lie on the chain from one term to the next, the recurrence's
    # multiply-adds are four times quicker there, and the ratio B/A that gives the
    # fraction is computed beside the chain. Only ratios matter, so A and B are rescaled
    # before they overflow.
    b = u + 1.0 - a
    a_before, a_now = 1.0, b  # A(n-2), A(n-1)
    b_before, b_now = 0.0, 1.0
    fraction = b_now / a_now
    for n in range(1, 100_000):
        an = -n * (n - a)
        b += 2.0
        a_before, a_now = a_now, b * a_now + an * a_before
        b_before, b_now = b_now, b * b_now + an * b_before
        if abs(a_now) > 1e150:
            a_before, b_before, b_now = a_before / a_now, b_before / a_now, b_now / a_now
            a_now = 1.0
        previous = fraction
        fraction = b_now / a_now
        if abs(fraction - previous) <= _RELATIVE_PRECISION * abs(fraction):
            break
    return max(1.0 - math.exp(log_prefactor) * fraction, 0.0)


_MAX_STEP = 0.4  # largest step, relative to where it starts, carried by the Taylor series
_MAX_TERMS = 60
_RECIPROCALS = 1.0 / np.arange(1.0, _MAX_TERMS + 2)  # 1/(k+1): multiplications, not divisions
_TAIL = 1e-3  # G below this or above 1 - _TAIL: evaluated afresh (0.2 % of the days)


@kernel
def _gamma_density(a, log_gamma_a, u):
    """Density of the gamma distribution of shape ``a`` and scale 1 at ``u`` > 0."""
    return math.exp((a - 1.0) * math.log(u) - u - log_gamma_a)


@kernel
def _gamma_cdf_step(a, u_from, density_from, u_to, cdf_from):
    """P(a, u_to) from P(a, u_from) = ``cdf_from`` and the density there: plus the integral of
    the density from ``u_from`` to ``u_to`` as its Taylor series, or P(a, u_to) afresh where
    that series would converge slowly.

    The density ``f`` solves ``u f' = (a - 1 - u) f``, so its Taylor coefficients about
    ``u0`` follow ``c[k+1] = ((a - 1 - u0 - k) c[k] - c[k-1]) / (u0 (k+1))`` (``c[0] = 1``,
    relative to ``f(u0)``), and the integral over a step ``h`` is ``f(u0) Σ c[k] h^(k+1) /
    (k+1)``. The series converges for ``|h| < u0``; within 0.4 u0 it reaches 1e-15 in a few
    to a few tens of terms, a handful of multiplications each.
    """
    h = u_to - u_from
    if abs(h) > _MAX_STEP * u_from:
        return gamma_cdf(a, u_to)
    ratio = h / u_from
    before, term = 0.0, 1.0  # c[k-1] h^(k-1), c[k] h^k
    total = 1.0  # Σ c[k] h^k / (k+1)
    for k in range(_MAX_TERMS):
        before, term = term, ((a - 1.0 - u_from - k) * term - h * before) * ratio * _RECIPROCALS[k]
        total += term * _RECIPROCALS[k + 1]
        if abs(term) + abs(before) <= 1e-15 * total:
            break
    else:
        return gamma_cdf(a, u_to)
    cdf = cdf_from + density_from * h * total
    if cdf < _TAIL or cdf > 1.0 - _TAIL:
        # A small probability as the difference of two larger ones keeps their absolute
        # error, not the relative precision the SPI needs in its tails: afresh there.
        return gamma_cdf(a, u_to)
    return cdf


@kernel
def _cumulative_probability(sums, months, shape, scale, log_gamma_shape, zero_probability, out):
    """``H = q + (1 - q) G(x)`` of each window sum, with the fit of its calendar month.

    Walks each series in time order and carries ``G`` from one day to the next within a
    calendar month (see the module docstring); a new month, a gap or a dry window starts
    afresh. Monthly sums start afresh at every step: each is in a calendar month of its own.
    """
    n_series, n_time = sums.shape
    for i in range(n_series):
        carried = -1.0  # yesterday's standardised sum in the same month; -1: start afresh
        cdf = 0.0
        density = 0.0  # of the gamma distribution at ``carried``
        for t in range(n_time):
            m = months[t] - 1
            if t > 0 and months[t - 1] != months[t]:
                carried = -1.0
            x = sums[i, t]
            a = shape[i, m]
            if np.isnan(x) or np.isnan(a):
                out[i, t] = np.nan
                carried = -1.0
                continue
            if x <= 0.0:
                cdf = 0.0
                carried = -1.0
            else:
                u = x / scale[i, m]
                if carried > 0.0:
                    cdf = _gamma_cdf_step(a, carried, density, u, cdf)
                else:
                    cdf = _gamma_cdf(a, log_gamma_shape[i, m], u)
                carried = u
                if t + 1 < n_time and months[t + 1] == months[t]:  # a step to carry may follow
                    density = _gamma_density(a, log_gamma_shape[i, m], u)
            q = zero_probability[i, m]
            out[i, t] = q + (1.0 - q) * cdf


# Monthly sums: each is in a calendar month of its own, so nothing is carried from one to
# the next; instead the sums of one series and calendar month (one fit, ~40 of them) are
# evaluated side by side. The series and the continued fraction of :func:`_gamma_cdf` are
# chains of dependent multiplications, one value at a time; run over a block of values in
# lock step, the processor overlaps (and the compiler vectorises) the chains of different
# values, with the divisions, which depend only on the shape, shared: the CDF of 10,000 x 40
# years of SPI-3 sums takes 0.19 s instead of 0.32 s. A block stops when its slowest value
# has converged, tested every _LANE_STEPS steps; the extra steps of the others only add terms
# below the precision.
_LANE_STEPS = 4


@kernel
def _gamma_series_block(a, u, count, out):
    """``Σ u^n / (a (a+1) ... (a+n))`` of :func:`_gamma_cdf`'s series for ``u[:count]``
    (each below ``a + 1``) into ``out[:count]``, the values in lock step."""
    term = np.empty(count)
    total = np.empty(count)
    for j in range(count):
        term[j] = 1.0 / a
        total[j] = term[j]
    n = 1
    while n < 200_000:
        for _ in range(_LANE_STEPS):
            first, second = 1.0 / (a + n), 1.0 / (a + n + 1.0)
            for j in range(count):
                step = term[j] * u[j] * first
                partial = total[j] + step
                step = step * u[j] * second
                term[j] = step
                total[j] = partial + step
            n += 2
        converged = True
        for j in range(count):
            if term[j] >= total[j] * _RELATIVE_PRECISION:
                converged = False
        if converged:
            break
    for j in range(count):
        out[j] = total[j]


@kernel
def _gamma_fraction_block(a, u, count, out):
    """The continued fraction of :func:`_gamma_cdf`'s upper tail for ``u[:count]`` (each at
    least ``a + 1``) into ``out[:count]``, the values in lock step; the numerators and
    denominators are rescaled after every block of steps, so they cannot overflow."""
    a_before = np.ones(count)
    a_now = np.empty(count)
    b_before = np.zeros(count)
    b_now = np.ones(count)
    b = np.empty(count)
    fraction = np.empty(count)
    for j in range(count):
        b[j] = u[j] + 1.0 - a
        a_now[j] = b[j]
        fraction[j] = 1.0 / b[j]
    n = 1
    while n < 100_000:
        for _ in range(_LANE_STEPS):
            an = -n * (n - a)
            for j in range(count):
                bj = b[j] + 2.0
                b[j] = bj
                a_next = bj * a_now[j] + an * a_before[j]
                b_next = bj * b_now[j] + an * b_before[j]
                a_before[j], a_now[j] = a_now[j], a_next
                b_before[j], b_now[j] = b_now[j], b_next
            n += 1
        converged = True
        for j in range(count):
            scale = 1.0 / a_now[j]
            a_before[j] *= scale
            b_before[j] *= scale
            b_now[j] *= scale
            a_now[j] = 1.0
            if abs(b_now[j] - fraction[j]) > _RELATIVE_PRECISION * abs(b_now[j]):
                converged = False
            fraction[j] = b_now[j]
        if converged:
            break
    for j in range(count):
        out[j] = fraction[j]


@kernel
def _cumulative_probability_by_month(sums, order, starts, shape, scale, log_gamma_shape, zero_probability, out):
    """``H = q + (1 - q) G(x)`` of each sum, every ``G`` afresh, the sums of one series and
    calendar month as one block (see above). ``order`` lists the time steps by calendar
    month, those of month ``m`` (0-11) at ``order[starts[m]:starts[m + 1]]``. ``out`` may be
    ``sums``: each value is read before its probability is written."""
    n_series, n_time = sums.shape
    low_u = np.empty(n_time)
    low_t = np.empty(n_time, dtype=np.int64)
    high_u = np.empty(n_time)
    high_t = np.empty(n_time, dtype=np.int64)
    found = np.empty(n_time)
    for i in range(n_series):
        for m in range(12):
            a = shape[i, m]
            q = zero_probability[i, m]
            n_low = 0
            n_high = 0
            for p in range(starts[m], starts[m + 1]):
                t = order[p]
                x = sums[i, t]
                if np.isnan(x) or np.isnan(a):
                    out[i, t] = np.nan
                elif x <= 0.0:
                    out[i, t] = q
                else:
                    u = x / scale[i, m]
                    if u < a + 1.0:  # the series, as in _gamma_cdf
                        low_u[n_low] = u
                        low_t[n_low] = t
                        n_low += 1
                    else:
                        high_u[n_high] = u
                        high_t[n_high] = t
                        n_high += 1
            if n_low:
                _gamma_series_block(a, low_u, n_low, found)
                for j in range(n_low):
                    u = low_u[j]
                    cdf = min(found[j] * math.exp(a * math.log(u) - u - log_gamma_shape[i, m]), 1.0)
                    out[i, low_t[j]] = q + (1.0 - q) * cdf
            if n_high:
                _gamma_fraction_block(a, high_u, n_high, found)
                for j in range(n_high):
                    u = high_u[j]
                    cdf = max(1.0 - math.exp(a * math.log(u) - u - log_gamma_shape[i, m]) * found[j], 0.0)
                    out[i, high_t[j]] = q + (1.0 - q) * cdf


# --- SPI ----------------------------------------------------------------------------------------


def spi_from_sums(
    sums: np.ndarray, months: np.ndarray, reference: np.ndarray | None = None
) -> np.ndarray:
    """SPI of window sums ``sums`` (..., time), fitted per calendar month ``months`` (time,).

    ``reference`` (time,) marks the time steps whose sums enter the fit (default: all).
    """
    sums = np.asarray(sums, dtype=float)
    rows = np.ascontiguousarray(sums.reshape(-1, sums.shape[-1]))
    return _standardise(rows, months, reference, out=np.empty(rows.shape)).reshape(sums.shape)


def _fit(rows: np.ndarray, months, reference):
    """Per series and calendar month: gamma shape, scale, ln Γ(shape) and probability of zero.

    Fitted on the sums of ``rows`` (series, time) at the ``reference`` time steps; NaN
    where a calendar month has fewer than ``_MIN_SAMPLES`` non-zero sums.
    """
    moments = [np.zeros((rows.shape[0], 12), dtype=dtype) for dtype in (np.int64, np.int64, float, float)]
    _month_moments(rows, months, reference, *moments)
    present, zeros, total, total_log = moments
    positive = present - zeros
    with np.errstate(invalid="ignore", divide="ignore"):
        shape, scale = _gamma_mle_from_moments(positive, total / positive, total_log / positive)
        zero_probability = zeros / present
    shape = np.where(positive >= _MIN_SAMPLES, shape, np.nan)
    return shape, scale, special.gammaln(shape), zero_probability


def _standardise(rows: np.ndarray, months, reference, *, out: np.ndarray, by_month: bool = False) -> np.ndarray:
    """SPI of the window sums ``rows`` (series, time) into ``out``, which may be ``rows``.

    ``by_month``: the sums are monthly (no two consecutive in one calendar month), their
    CDF evaluated in blocks per calendar month; otherwise daily, carried from day to day.
    """
    months = np.asarray(months, dtype=np.int64)
    reference = np.ones(rows.shape[-1], dtype=bool) if reference is None else np.asarray(reference, dtype=bool)
    shape, scale, log_gamma_shape, zero_probability = _fit(rows, months, reference)
    # Each value is read before its probability is written: ``out`` may be ``rows``.
    if by_month:
        order = np.argsort(months, kind="stable")
        starts = np.searchsorted(months[order], np.arange(1, 14))
        _cumulative_probability_by_month(rows, order, starts, shape, scale, log_gamma_shape, zero_probability, out)
    else:
        _cumulative_probability(rows, months, shape, scale, log_gamma_shape, zero_probability, out)
    return special.ndtri(out, out=out)


def _spi_core(values: np.ndarray, *, months, reference, window, by_month: bool = False) -> np.ndarray:
    sums = rolling_sum(values, window)
    rows = sums.reshape(-1, sums.shape[-1])  # a fresh array of its own: SPI in its place
    _standardise(rows, months, reference, out=rows, by_month=by_month)
    return sums


def _along_time(precipitation: xr.DataArray, **kwargs) -> xr.DataArray:
    """:func:`_spi_core` over the ``time`` axis of every series (the whole axis in one chunk:
    the fits need every year of a calendar month), in the dims of ``precipitation``."""
    if precipitation.chunks is not None:
        precipitation = precipitation.chunk({"time": -1})
    return xr.apply_ufunc(
        _spi_core,
        precipitation,
        kwargs=kwargs,
        input_core_dims=[["time"]],
        output_core_dims=[["time"]],
        dask="parallelized",
        output_dtypes=[float],
    ).transpose(*precipitation.dims)

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
    (``apply_ufunc(dask="parallelized")``), which needs ``time`` in a single chunk: chunk
    over the series only, a few hundred series per chunk. float32 input is summed in float64.
    Returns a dimensionless float64 DataArray with the same dimensions.
    """
    time = pd.DatetimeIndex(precipitation.indexes["time"])
    months = time.month.to_numpy()
    in_reference = (
        np.ones(len(time), dtype=bool)
        if reference is None
        else np.asarray((time >= pd.Timestamp(reference[0])) & (time <= pd.Timestamp(reference[1])))
    )
    result = _along_time(precipitation, months=months, reference=in_reference, window=window_days)
    result.name = f"spi_{window_days}d"
    result.attrs = {
        "units": "1",
        "long_name": f"standardized precipitation index over {window_days} days",
        "method": "rolling window sums, gamma (maximum likelihood, location 0) with "
        "probability of zero fitted per calendar month of the window end (McKee 1993)",
    }
    return result


# --- monthly SPI --------------------------------------------------------------------------------


def monthly_totals(precipitation: xr.DataArray) -> xr.DataArray:
    """Calendar-month totals (mm/month) of daily precipitation (mm/day, dimension ``time``).

    A month with any day missing, or not wholly inside the record, is NaN. ``time`` of the
    result is the first day of each month.
    """
    days = pd.DatetimeIndex(precipitation.indexes["time"])
    if len(days) > 1 and not (np.diff(days.values) == np.timedelta64(1, "D")).all():
        raise ValueError("precipitation: time must be consecutive days (one value per day)")
    resampled = precipitation.resample(time="MS")
    totals = resampled.sum(skipna=False)
    count = resampled.count()
    days_in_month = xr.DataArray(pd.DatetimeIndex(totals.indexes["time"]).days_in_month, dims="time",
                                 coords={"time": totals["time"]})
    totals = totals.where(count == days_in_month)
    totals.name = "precipitation_monthly"
    totals.attrs = {"units": "mm/month", "long_name": "calendar-month precipitation total"}
    return totals


def _calendar_months(time: pd.Index) -> pd.PeriodIndex:
    """The calendar months of ``time``, checked to follow each other without a gap."""
    try:
        periods = pd.DatetimeIndex(time).to_period("M")
    except (TypeError, ValueError) as error:
        raise ValueError(f"precipitation: time must hold dates, one per calendar month ({error})") from None
    steps = np.diff(periods.asi8)
    if len(steps) and not (steps == 1).all():
        where = int(np.flatnonzero(steps != 1)[0])
        raise ValueError(
            f"precipitation: time must be consecutive calendar months, one value each; "
            f"{periods[where]} is followed by {periods[where + 1]}"
        )
    return periods


def spi_monthly(
    precipitation: xr.DataArray,
    *,
    scale_months: int,
    reference: tuple[str, str] | None = None,
) -> xr.DataArray:
    """SPI of monthly precipitation totals (mm/month, dimension ``time``: consecutive
    calendar months, any day of the month) over ``scale_months`` months: the standard
    SPI-1, SPI-3, SPI-6, SPI-12 (McKee et al. 1993; WMO-No. 1090).

    The sum of the ``scale_months`` months ending at each month (NaN if any is missing) is
    fitted per calendar month of its last month: gamma by maximum likelihood (location 0)
    on the non-zero sums, the probability of zero kept apart, ``SPI = Φ⁻¹(q + (1 - q) G(x))``.
    A calendar month with fewer than 10 non-zero sums in the reference period has no fit:
    its SPI is NaN (see the module docstring for how the peers differ).

    ``reference`` = (first, last) month of the fitting period, e.g. ``("1991-01", "2020-12")``
    (default: the whole record). Other dimensions are vectorised, dask-chunked input per
    chunk (``time`` in one chunk). :func:`monthly_totals` makes the input from daily
    precipitation. Returns a dimensionless float64 DataArray with the same dimensions.
    """
    if not isinstance(scale_months, (int, np.integer)) or scale_months < 1:
        raise ValueError(f"scale_months must be a whole number of months >= 1, got {scale_months!r}")
    periods = _calendar_months(precipitation.indexes["time"])
    months = periods.month.to_numpy()
    if reference is None:
        in_reference = np.ones(len(periods), dtype=bool)
    else:
        first, last = (pd.Period(value, freq="M") for value in reference)
        in_reference = np.asarray((periods >= first) & (periods <= last))
    result = _along_time(precipitation, months=months, reference=in_reference, window=int(scale_months),
                         by_month=True)
    result.name = f"spi_{scale_months}m"
    result.attrs = {
        "units": "1",
        "long_name": f"standardized precipitation index over {scale_months} months",
        "method": "sums of calendar-month totals, gamma (maximum likelihood, location 0) with "
        "probability of zero fitted per calendar month (McKee 1993); NaN where a calendar month "
        f"has fewer than {_MIN_SAMPLES} non-zero sums",
    }
    return result
