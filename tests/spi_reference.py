"""The monthly SPI written the straightforward way, for the tests and ``benchmarks/compare_peers.py``.

The same method as :func:`models.indicators.spi.spi_monthly`, one series and one calendar
month at a time with pandas and scipy: rolling sums of ``scale`` months, per calendar month
``scipy.stats.gamma.fit(floc=0)`` on the non-zero sums (none below 10 of them), the share of
zero sums as the probability of zero, ``Φ⁻¹(q + (1 - q) G(x))``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

MIN_NON_ZERO = 10


def scipy_spi_monthly(totals: pd.Series, scale: int, reference: tuple[str, str] | None = None) -> pd.Series:
    """SPI of monthly totals ``totals`` (mm/month, a monthly DatetimeIndex) over ``scale`` months."""
    sums = totals.rolling(scale, min_periods=scale).sum().round(6)
    fitted = sums if reference is None else sums[reference[0]:reference[1]]
    result = pd.Series(np.nan, index=totals.index)
    for month in range(1, 13):
        x = sums[sums.index.month == month].dropna()
        sample = fitted[fitted.index.month == month].dropna()
        positive = sample[sample > 0]
        if len(positive) < MIN_NON_ZERO:
            continue
        q = (sample == 0).mean()
        shape, _, gamma_scale = stats.gamma.fit(positive, floc=0)
        result[x.index] = stats.norm.ppf(q + (1 - q) * stats.gamma.cdf(x, shape, scale=gamma_scale))
    return result
