"""Potential precipitation deficit ("neerslagtekort") the way KNMI computes it.

The potential precipitation deficit is the running sum of Makkink reference evaporation
(KNMI ``EV24``) minus precipitation (``RH``), in mm, from the start of a season: 1 April in
KNMI's classic graph (ending 30 September), and since 2026 also from 1 January. KNMI sets the
running sum to zero whenever it would go negative, so a wet spell cannot bank a surplus:

    D(t) = max(0, D(t-1) + E(t) - P(t)),   D(start - 1) = 0.

That recurrence is a scan (each day needs the one before), so it cannot be a single
``cumsum``. It is a compiled loop over the days of each series (:mod:`models.jit`): one pass
over the data, a few nanoseconds a day, with no temporary arrays.

Missing input: a day where the daily surplus is missing leaves the running sum unchanged
(that day adds nothing) and that day's deficit is NaN, so a gap never invents a value but
does not wipe out the season either. A series with no evaporation at all (KNMI station 340
Woensdrecht) therefore has no deficit; areal and national values handle such stations by
averaging precipitation and evaporation separately over the stations that have each (see
:mod:`models.indicators.areal`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from models.jit import kernel


@dataclass(frozen=True)
class Season:
    """Days of the year over which the deficit accumulates, as ``"MM-DD"`` (both inclusive)."""

    start: str
    end: str
    name: str

    def mask(self, time: pd.DatetimeIndex) -> np.ndarray:
        """True for the days of ``time`` inside the season."""
        day = time.strftime("%m-%d")
        return np.asarray((day >= self.start) & (day <= self.end))


#: KNMI's classic season: 1 April to 30 September.
FROM_APRIL = Season("04-01", "09-30", "from 1 April")
#: KNMI's variant since 2026: from 1 January, through the whole calendar year.
FROM_JANUARY = Season("01-01", "12-31", "from 1 January")


@kernel
def _clipped_scan(gain, loss, restart, active, out):
    """The recurrence along each row of ``gain - loss`` (series, time) into ``out``; NaN on
    inactive days and where an increment is missing."""
    n_series, n_time = gain.shape
    for i in range(n_series):
        running = 0.0
        for t in range(n_time):
            increment = float(gain[i, t]) - float(loss[i, t])  # float64 also for float32 input
            if not active[t] or np.isnan(increment):
                out[i, t] = np.nan
                continue
            if restart[t]:
                running = 0.0
            running = max(running + increment, 0.0)
            out[i, t] = running


def _as_rows(values: np.ndarray) -> np.ndarray:
    """(series, time) view of (..., time), each series' days side by side in memory."""
    return np.ascontiguousarray(values.reshape(-1, values.shape[-1]))


def _check_markers(n_time: int, restart: np.ndarray, active: np.ndarray) -> None:
    if restart.shape != (n_time,) or active.shape != (n_time,):
        raise ValueError(
            f"restart and active must have shape ({n_time},) like the time axis of daily; "
            f"got {restart.shape} and {active.shape}"
        )


def clipped_running_sum(daily: np.ndarray, restart: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Running sum over the last axis of ``daily``, set to zero whenever it would go negative.

    ``daily`` (..., time) holds the daily increments (mm); ``restart`` (time,) is True on the
    first day of each season (the sum starts again from zero); ``active`` (time,) is False on
    days outside any season (result NaN). A NaN increment adds nothing and yields NaN that day.
    """
    daily = np.asarray(daily)
    _check_markers(daily.shape[-1], restart, active)
    rows = _as_rows(daily)
    result = np.empty(rows.shape)
    _clipped_scan(rows, np.zeros_like(rows), restart, active, result)
    return result.reshape(daily.shape)


def _deficit_core(evaporation: np.ndarray, precipitation: np.ndarray, *, restart, active) -> np.ndarray:
    """:func:`clipped_running_sum` of ``evaporation - precipitation`` without the difference
    as an array of its own (one pass over the inputs instead of three)."""
    evaporation, precipitation = np.broadcast_arrays(evaporation, precipitation)
    _check_markers(evaporation.shape[-1], restart, active)
    result = np.empty(evaporation.shape)
    _clipped_scan(_as_rows(evaporation), _as_rows(precipitation), restart, active,
                  result.reshape(-1, result.shape[-1]))
    return result


def season_markers(time: pd.DatetimeIndex, season: Season) -> tuple[np.ndarray, np.ndarray]:
    """``(restart, active)`` for :func:`clipped_running_sum`: the first day of each season
    present in ``time`` (first active day of each year) and every day inside the season."""
    time = pd.DatetimeIndex(time)
    active = season.mask(time)
    years = time.year.to_numpy()
    previous_year = np.concatenate([[-1], years[:-1]])
    previous_active = np.concatenate([[False], active[:-1]])
    restart = active & ((years != previous_year) | ~previous_active)
    return restart, active


def precipitation_deficit(
    precipitation: xr.DataArray,
    evaporation: xr.DataArray,
    *,
    season: Season = FROM_APRIL,
) -> xr.DataArray:
    """Potential precipitation deficit (mm) from daily precipitation and evaporation (mm/day).

    Both inputs share a daily ``time`` dimension (consecutive UT days) and any other
    dimensions (``station``, ``district``, ...). Returns the deficit with the same
    dimensions, NaN outside the season. Chunked (dask) inputs are computed lazily, each chunk
    along the non-time dimensions on its own; ``time`` must then be one chunk.
    """
    _check_daily(precipitation)
    evaporation, precipitation = xr.align(evaporation, precipitation, join="inner", copy=False)  # as e - p
    restart, active = season_markers(precipitation.indexes["time"], season)
    deficit = xr.apply_ufunc(
        _deficit_core,
        evaporation,
        precipitation,
        kwargs={"restart": restart, "active": active},
        input_core_dims=[["time"], ["time"]],
        output_core_dims=[["time"]],
        dask="parallelized",
        output_dtypes=[float],
    )
    deficit.name = "precipitation_deficit" if season == FROM_APRIL else "precipitation_deficit_jan"
    deficit.attrs = {
        "units": "mm",
        "long_name": f"potential precipitation deficit {season.name} (KNMI method)",
        "description": (
            "running sum of Makkink reference evaporation minus precipitation from "
            f"{season.start} to {season.end}, set to zero when it would go negative"
        ),
    }
    return deficit


def _check_daily(values: xr.DataArray) -> None:
    if "time" not in values.dims:
        raise ValueError(f"expected a 'time' dimension, found dimensions {values.dims}")
    time = values.indexes["time"]
    if len(time) > 1 and not (np.diff(time.values) == np.timedelta64(1, "D")).all():
        raise ValueError(
            "expected consecutive daily time steps (reindex to a daily range first); "
            f"found steps {sorted(set(np.diff(time.values).astype('timedelta64[h]').tolist()))[:5]}"
        )


def board_mean_deficit(deficit: xr.DataArray, water_board_of: pd.Series, *, start, end) -> dict[str, pd.Series]:
    """Per water board, the mean over its districts of the precipitation deficit (mm) from
    ``start`` to ``end`` (dates). ``deficit`` has dims ``time`` and ``district``;
    ``water_board_of`` maps district id to water board. A board without values (before the
    season starts, or no district in ``deficit``) is left out."""
    season = deficit.sel(time=slice(pd.Timestamp(start), pd.Timestamp(end)))
    present = set(season["district"].values.astype(str))
    boards = {}
    for board, ids in water_board_of.groupby(water_board_of):
        ids = [i for i in ids.index.astype(str) if i in present]
        current = season.sel(district=ids).mean("district").to_series().dropna() if ids else pd.Series(dtype=float)
        if not current.empty:
            boards[str(board)] = current
    return boards
