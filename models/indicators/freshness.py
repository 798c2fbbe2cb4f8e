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


def series_freshness(
    frame: pd.DataFrame | None,
    *,
    key: str,
    time: str,
    as_of: pd.Timestamp,
    max_age: pd.Timedelta,
    expected=(),
    value: str | None = None,
) -> pd.DataFrame:
    """Per station, well or sensor: its newest value and whether it is current.

    ``frame`` holds the stored rows (``key`` the series id, ``time`` naive UTC or aware,
    ``value`` the column that must be present for a row to count); ``expected`` the ids the
    setup names (one without any row is ``missing``). Returns columns ``series`` (str),
    ``newest`` (naive UTC Timestamp or NaT), ``age_days`` (float, days on ``as_of``, NaN when
    missing) and ``status`` (``ok``, ``stale`` — newest older than ``max_age`` — or
    ``missing``), sorted by status (missing, stale, ok) then id.
    """
    as_of = pd.Timestamp(as_of)
    newest_per: dict[str, pd.Timestamp] = {}
    if frame is not None and len(frame):
        rows = frame if value is None else frame[frame[value].notna()]
        times = pd.DatetimeIndex(pd.to_datetime(rows[time]))
        if times.tz is not None:
            times = times.tz_convert("UTC").tz_localize(None)
        keep = times <= as_of + pd.Timedelta(days=1)
        grouped = pd.Series(times[keep], index=rows[key].astype(str).to_numpy()[keep]).groupby(level=0).max()
        newest_per = grouped.to_dict()
    ids = sorted(set(map(str, expected)) | set(newest_per))
    table = pd.DataFrame({"series": pd.Series(ids, dtype=str),
                          "newest": pd.to_datetime(pd.Series([newest_per.get(i) for i in ids], dtype="object"))})
    table["age_days"] = (as_of - table["newest"]) / pd.Timedelta(days=1)
    table["status"] = "ok"
    table.loc[table["age_days"] > max_age / pd.Timedelta(days=1), "status"] = "stale"
    table.loc[table["newest"].isna(), "status"] = "missing"
    order = table["status"].map({"missing": 0, "stale": 1, "ok": 2})
    return table.assign(_o=order).sort_values(["_o", "series"], kind="stable").drop(columns="_o").reset_index(drop=True)


def series_attrs(source: str, table: pd.DataFrame) -> dict[str, str | int]:
    """Dataset attributes naming the stale and missing series of ``source`` (comma-separated
    ids, ``""`` when none) and how many series it has."""
    return {
        f"series_stale_{source}": ",".join(table.loc[table["status"] == "stale", "series"]),
        f"series_missing_{source}": ",".join(table.loc[table["status"] == "missing", "series"]),
        f"series_count_{source}": int(len(table)),
    }
