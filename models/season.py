"""The water-balance season: where a run's allocation and deficit start counting.

KNMI's precipitation deficit starts on 1 April, and so does the allocation's water balance;
a run for a day before April covers the winter from 1 January with the same code.
"""

from __future__ import annotations

import datetime as dt

#: Month and day the growing season (and KNMI's precipitation deficit) starts.
SEASON_START = (4, 1)


def season_start(day: dt.date) -> dt.date:
    """First day of the water-balance season that ``day`` belongs to: 1 April, else 1 January."""
    april = dt.date(day.year, *SEASON_START)
    return april if day >= april else dt.date(day.year, 1, 1)
