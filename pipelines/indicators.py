"""Stage ``indicators``: the ingested tables → the drought indicators per district and the
areal weather (docs/contracts.md section 4)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from models.indicators.dataset import compute_indicators, district_weather
from pipelines.config import Config
from pipelines.input_status import configured_series
from pipelines.inputs import read_districts
from pipelines.store import (GROUNDWATER_TABLE, INDICATORS, METEO_TABLE, SENSORS_META_TABLE, SENSORS_TABLE,
                             STATIONS_TABLE, WEATHER, WELLS_TABLE, Store)


def run(config: Config, day: dt.date) -> Path:
    """Indicators from 1 January of ``day``'s year to ``day`` → ``indicators.nc``; the areal
    weather per district (mm/day, the whole record) → ``district_weather.nc``."""
    store = Store(config.processed_dir)
    meteo = store.table(METEO_TABLE)
    if meteo is None:
        raise FileNotFoundError(f"{store.path(METEO_TABLE)}: no meteo ingested; "
                                "the indicators need precipitation and evaporation")
    stations = store.table(STATIONS_TABLE, geo=True)
    districts = read_districts(config)
    # The areal weather of every district over the whole record, read by the later stages.
    store.write_dataset(district_weather(meteo, stations, districts), WEATHER)
    groundwater, sensors = store.table(GROUNDWATER_TABLE), store.table(SENSORS_TABLE)
    # A source the setup uses of which no row is held (a first run with its files broken, or
    # its table lost) leaves the indicators it feeds unknown, never "no shortage"; the
    # decisions they feed keep their last state (pipelines/restrictions.py).
    configured = configured_series(config)
    without_data = {source: configured[source] for source, rows in (("groundwater", groundwater), ("sensors", sensors))
                    if configured[source] and (rows is None or rows.empty)}
    indicators = compute_indicators(
        meteo,
        stations,
        districts,
        groundwater=None if "groundwater" in without_data else groundwater,
        wells=store.table(WELLS_TABLE, geo=True),
        sensors=None if "sensors" in without_data else sensors,
        sensors_meta=store.table(SENSORS_META_TABLE, geo=True),
        date=day,
        max_age={"meteo": pd.Timedelta(days=config.stale_after_days)},
        without_data=without_data,
    )
    return store.write_dataset(indicators, INDICATORS)
