"""How old the inputs of an indicator are.

Every indicator carries the time of its newest input per source (``newest_input_<source>``,
ISO 8601) and a ``stale_<source>`` flag (1 or 0; netCDF attributes cannot hold booleans): an
input is stale when its newest value is older than the allowed age on the day the indicators
are computed for. A stale indicator is still shown, but a page must say how old it is.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

#: Allowed age of the newest input per source before it counts as stale. KNMI daily station
#: data are published the next day; groundwater is read about twice a month.
DEFAULT_MAX_AGE = {
    "meteo": pd.Timedelta(days=3),
    "groundwater": pd.Timedelta(days=35),
    "sensors": pd.Timedelta(days=2),
}


def newest(times) -> pd.Timestamp | None:
    """The latest of ``times`` (naive or UTC-aware), as a naive UTC Timestamp; None if empty."""
    index = pd.DatetimeIndex(times).dropna()
    if index.empty:
        return None
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    return index.max()


def freshness(
    newest_inputs: Mapping[str, pd.Timestamp | None],
    *,
    as_of: pd.Timestamp,
    max_age: Mapping[str, pd.Timedelta] | None = None,
) -> dict[str, str | int]:
    """Attributes ``newest_input_<source>`` and ``stale_<source>`` for each source.

    A source without any input (None) is stale and its newest input is ``""``.
    """
    limits = {**DEFAULT_MAX_AGE, **(max_age or {})}
    attrs: dict[str, str | int] = {}
    for source, time in newest_inputs.items():
        if source not in limits:
            raise KeyError(f"no maximum age configured for source {source!r}; known: {sorted(limits)}")
        attrs[f"newest_input_{source}"] = "" if time is None else pd.Timestamp(time).isoformat()
        attrs[f"stale_{source}"] = int(time is None or pd.Timestamp(as_of) - pd.Timestamp(time) > limits[source])
    return attrs
