"""All drought indicators in one Dataset (docs/contracts.md, section 4).

:func:`compute_indicators` turns the processed tables (meteo, stations, districts and
optionally groundwater, wells, sensors) into the indicators Dataset for a period ending on
``date``; :func:`district_weather` gives the daily areal precipitation and evaporation per
district that the allocation model consumes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr

from models.indicators import areal, deficit, freshness, groundwater as gw, spi, surface_water

_METEO_COLUMNS = ("station", "date", "precipitation_mm", "evaporation_mm")


def station_weather(meteo: pd.DataFrame) -> xr.Dataset:
    """The meteo table as a Dataset (``time``, ``station``) on consecutive UT days:
    ``precipitation_mm`` and ``evaporation_mm`` in mm/day, NaN where missing."""
    absent = [c for c in _METEO_COLUMNS if c not in meteo.columns]
    if absent:
        raise KeyError(f"meteo: expected column(s) {absent}; found {list(meteo.columns)}")
    frame = meteo.assign(station=meteo["station"].astype(str), date=pd.to_datetime(meteo["date"]))
    if frame.duplicated(["station", "date"]).any():
        first = frame.loc[frame.duplicated(["station", "date"]), ["station", "date"]].iloc[0]
        raise ValueError(f"meteo: duplicate (station, date), e.g. {tuple(first)}; the key must be unique")
    days = pd.date_range(frame["date"].min(), frame["date"].max(), freq="D", name="time")
    variables = {}
    for column, long_name in (
        ("precipitation_mm", "daily precipitation (KNMI RH)"),
        ("evaporation_mm", "Makkink reference evaporation (KNMI EV24)"),
    ):
        table = frame.pivot(index="date", columns="station", values=column).reindex(days)
        variables[column] = xr.DataArray(
            table.to_numpy(dtype=float),
            dims=("time", "station"),
            coords={"time": days.values, "station": table.columns.to_numpy(dtype=str)},
            attrs={"units": "mm/day", "long_name": long_name},
        )
    return xr.Dataset(variables)


def district_weather(
    meteo: pd.DataFrame,
    stations: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    *,
    id_column: str = "district_id",
    neighbours: int = 4,
) -> xr.Dataset:
    """Daily areal ``precipitation_mm`` and ``evaporation_mm`` (``time``, ``district``) in
    mm/day, by inverse distance weighting of the stations (see :mod:`models.indicators.areal`)."""
    weather = station_weather(meteo)
    known = set(stations["station"].astype(str))
    weather = weather.sel(station=[s for s in weather.station.values if s in known])
    if weather.sizes["station"] == 0:
        raise ValueError("meteo: none of its stations appears in the stations table")
    used = stations[stations["station"].astype(str).isin(weather.station.values)]
    weights = areal.idw_weights(used, districts, id_column=id_column, neighbours=neighbours)
    result = xr.Dataset(
        {name: areal.areal_mean(weather[name], weights).transpose("time", "district") for name in weather}
    )
    result.attrs["areal_method"] = weights.attrs["method"]
    return result


#: The district indicator each optional source feeds (a source without data leaves it NaN).
_WITHOUT_DATA_FEEDS = {"groundwater": "groundwater_low_share", "sensors": "surface_level_below_critical"}


def _covered_districts(points: gpd.GeoDataFrame | None, districts: gpd.GeoDataFrame, source: str, *,
                       id_column: str) -> np.ndarray:
    """1 per district that holds one of ``points`` (wells or sensors, EPSG:28992); every district
    when the positions are not held either (nothing then tells which districts they serve)."""
    ids = districts[id_column].astype(str).to_numpy()
    if points is None or not len(points):
        return np.ones(len(ids), dtype="int8")
    key = "well" if source == "groundwater" else "sensor"
    located = set(areal.district_of_points(points, districts, key=key, id_column=id_column).astype(str))
    return np.array([i in located for i in ids], dtype="int8")


def compute_indicators(
    meteo: pd.DataFrame,
    stations: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    *,
    groundwater: pd.DataFrame | None = None,
    wells: gpd.GeoDataFrame | None = None,
    sensors: pd.DataFrame | None = None,
    sensors_meta: gpd.GeoDataFrame | None = None,
    date,
    start=None,
    id_column: str = "district_id",
    neighbours: int = 4,
    spi_reference: tuple[str, str] | None = None,
    max_age: Mapping[str, pd.Timedelta] | None = None,
    without_data: Mapping[str, Sequence[str]] | None = None,
) -> xr.Dataset:
    """The indicators Dataset for the days ``start`` (default 1 January of ``date``'s year)
    to ``date`` (a UT day).

    Inputs after ``date`` are ignored, so a run for a past day sees what was known then.
    SPI is fitted on the whole meteo record up to ``date`` (or ``spi_reference``).
    Groundwater and surface-water variables appear only when their inputs are given.

    ``without_data``: sources the setup uses (``"groundwater"``, ``"sensors"``) of which no row
    is held, each with the ids of its wells or sensors (or files). Such a source is the case of
    every one of its series gone silent: the indicators it feeds are NaN (uncertain) for every
    district and day, all its series are ``missing``, and the variable ``without_data``
    (``source``, ``district``; 1 where the district has, or may have, its measuring points:
    every district when their positions are not held either) says where.
    """
    date = pd.Timestamp(date).normalize()
    start = pd.Timestamp(start).normalize() if start is not None else pd.Timestamp(date.year, 1, 1)
    if start > date:
        raise ValueError(f"start {start.date()} lies after date {date.date()}")
    days = pd.date_range(start, date, freq="D")
    meteo = meteo[pd.to_datetime(meteo["date"]) <= date]
    weather = station_weather(meteo).reindex(time=pd.date_range(min(start, pd.Timestamp(meteo["date"].min())), date))
    known = set(stations["station"].astype(str))
    weather = weather.sel(station=[s for s in weather.station.values if s in known])
    used = stations[stations["station"].astype(str).isin(weather.station.values)]
    weights = areal.idw_weights(used, districts, id_column=id_column, neighbours=neighbours)

    # Deficits restart each season, so the current year's days suffice; from the first of
    # January of the first year shown.
    season_days = pd.date_range(pd.Timestamp(start.year, 1, 1), date)
    recent = weather.sel(time=season_days)
    p, e = recent["precipitation_mm"], recent["evaporation_mm"]
    p_nation, e_nation = areal.national_mean(p), areal.national_mean(e)

    variables: dict[str, xr.DataArray] = {}
    for suffix, season in (("", deficit.FROM_APRIL), ("_jan", deficit.FROM_JANUARY)):
        name = f"precipitation_deficit{suffix}"
        station_deficit = deficit.precipitation_deficit(p, e, season=season).transpose("station", "time")
        variables[f"{name}_station"] = station_deficit
        # The clipped running sum is not linear: the deficit of an areal mean can lie outside
        # the range of its stations' deficits (timing of the resets differs per station), so
        # districts interpolate the stations' deficits. The national series follows KNMI
        # instead: the deficit of the mean precipitation and mean evaporation.
        variables[name] = areal.areal_mean(station_deficit, weights)
        variables[name].attrs["areal"] = "IDW-weighted mean of station deficits"
        variables[f"{name}_national"] = deficit.precipitation_deficit(p_nation, e_nation, season=season)
        variables[f"{name}_national"].attrs["areal"] = (
            "deficit of the mean precipitation and mean evaporation over the stations (KNMI method)"
        )
    for name, window in spi.SPI_WINDOWS.items():
        station_spi = spi.spi(weather["precipitation_mm"], window_days=window, reference=spi_reference)
        variables[f"{name}_station"] = station_spi.transpose("station", "time")
        # SPI is not additive; the district value is the weighted mean of its stations' SPI.
        variables[name] = areal.areal_mean(station_spi.sel(time=season_days), weights)
        variables[name].attrs = dict(station_spi.attrs, areal="IDW-weighted mean of station SPI")

    newest = {"meteo": freshness.newest(meteo.loc[meteo["precipitation_mm"].notna(), "date"])}
    sources = {name: "meteo" for name in variables}

    without = {s: list(map(str, ids)) for s, ids in (without_data or {}).items()}
    unknown_sources = sorted(set(without) - set(_WITHOUT_DATA_FEEDS))
    if unknown_sources:
        raise KeyError(f"without_data: unknown source(s) {unknown_sources}; expected {sorted(_WITHOUT_DATA_FEEDS)}")
    if "groundwater" in without and groundwater is not None and len(groundwater):
        raise ValueError("groundwater: rows given and the source named in without_data; expected one or the other")
    if "sensors" in without and sensors is not None and len(sensors):
        raise ValueError("sensors: rows given and the source named in without_data; expected one or the other")
    covered = {}
    for source, points in (("groundwater", wells), ("sensors", sensors_meta)):
        if source in without:
            covered[source] = _covered_districts(points, districts, source, id_column=id_column)
            groundwater = None if source == "groundwater" else groundwater
            sensors = None if source == "sensors" else sensors
            name = _WITHOUT_DATA_FEEDS[source]
            variables[name] = xr.DataArray(
                np.full((len(districts), len(days)), np.nan), dims=("district", "time"),
                coords={"district": districts[id_column].astype(str).to_numpy(), "time": days.values},
                attrs={"units": "1" if source == "groundwater" else "m",
                       "long_name": f"{name} (unknown: no {source} data held)"})
            sources[name] = source
            newest[source] = None

    if groundwater is not None:
        if wells is None:
            raise ValueError("groundwater given without wells: wells are needed to place them in districts")
        groundwater = groundwater[pd.to_datetime(groundwater["time"]) <= date + pd.Timedelta(days=1)]
        variables["groundwater_low_share"] = gw.low_share(groundwater, wells, districts, days, id_column=id_column)
        sources["groundwater_low_share"] = "groundwater"
        newest["groundwater"] = freshness.newest(groundwater["time"])
    if sensors is not None:
        if sensors_meta is None:
            raise ValueError("sensors given without sensors_meta: locations are needed to place them in districts")
        sensor_time = pd.DatetimeIndex(pd.to_datetime(sensors["time"], utc=True))
        sensors = sensors[sensor_time < pd.Timestamp(date + pd.Timedelta(days=1), tz="UTC")]
        surface = surface_water.surface_water_indicators(sensors, sensors_meta, districts, days, id_column=id_column)
        for name in surface:
            variables[name] = surface[name]
            sources[name] = "sensors"
        newest["sensors"] = freshness.newest(sensors["time"])

    dataset = xr.Dataset({name: da.reindex(time=days.values) for name, da in variables.items()})
    limits = {**freshness.DEFAULT_MAX_AGE, **(max_age or {})}
    # Per station, well and sensor: stale or missing ones are named, not hidden behind the
    # newest value of their source.
    per_series = {"meteo": freshness.series_freshness(meteo, key="station", time="date", value="precipitation_mm",
                                                      as_of=date, max_age=limits["meteo"],
                                                      expected=stations["station"].astype(str))}
    if groundwater is not None:
        per_series["groundwater"] = freshness.series_freshness(groundwater, key="well", time="time",
                                                               value="level_m_nap", as_of=date,
                                                               max_age=limits["groundwater"],
                                                               expected=wells["well"].astype(str))
    if sensors is not None:
        per_series["sensors"] = freshness.series_freshness(sensors, key="sensor", time="time", value="value",
                                                           as_of=date, max_age=limits["sensors"],
                                                           expected=sensors_meta["sensor"].astype(str))
    for source, ids in without.items():
        # the whole source missing is every one of its series missing
        per_series[source] = freshness.series_freshness(None, key="series", time="time", as_of=date,
                                                        max_age=limits[source], expected=ids)
    for source, table in per_series.items():
        dataset.attrs.update(freshness.series_attrs(source, table))
    dataset.attrs["sources_without_data"] = ",".join(sorted(without))
    if covered:
        names = sorted(covered)
        dataset["without_data"] = xr.DataArray(
            np.array([covered[s] for s in names], dtype="int8"), dims=("source", "district"),
            coords={"source": np.asarray(names, dtype=str), "district": districts[id_column].astype(str).to_numpy()},
            attrs={"units": "1", "long_name": "1 where a source without any data held leaves the district's "
                                              "indicators it feeds unknown"})
    status = freshness.freshness(newest, as_of=date, max_age=max_age)
    for name, source in sources.items():
        dataset[name].attrs["newest_input"] = status[f"newest_input_{source}"]
        dataset[name].attrs["stale"] = status[f"stale_{source}"]
        dataset[name].attrs["source"] = source
    dataset.attrs.update(status)
    dataset.attrs.update(
        {
            "title": "drought indicators",
            "date": date.date().isoformat(),
            "areal_method": weights.attrs["method"],
            "Conventions": "CF-1.10",
        }
    )
    dataset["time"].attrs = {"long_name": "UT day", "standard_name": "time"}
    dataset["station_weight"] = weights
    return dataset
