"""Plausibility of the real national setup, built by ``droogte init`` from ``../shared/data``.

These tests check properties that must hold whatever the thresholds and defaults are, on the
real data, not numbers tuned to come out:

* the national precipitation deficit from the setup's real KNMI stations follows KNMI's own
  national series (``int_nl.dat``) within a stated tolerance. The tolerance comes from the
  stations: the setup has the 11 stations in ``../shared/data`` where KNMI averages 13 others,
  so single days differ by some tens of millimetres while the course of a season agrees;
* in a dry summer (2018, 2022) the country reaches at least escalation level 1 at some point
  in July-August;
* in a wet summer (2021, 2024) the national source leaves no use short and the country stays
  at level 0 (a board may be short behind its own assumed inlet capacity: a regional matter);
* no level, national or of a board, ends before it has lasted ``escalation.hold_days`` days.

The replays show the days of the windows only (the season's allocation and escalation from
1 April are part of them), with an outlook once a month to keep the suite short.
"""

from __future__ import annotations

import datetime as dt
import glob

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from models.indicators.climatology import read_int_nl
from models.indicators.deficit import precipitation_deficit
from pipelines.config import load_config
from pipelines.ingest.sources.knmi import read_knmi_daily

#: Tolerances of the national deficit against KNMI's series, per season (mm); see the module.
MEAN_ABSOLUTE_DIFFERENCE_MM = 35.0
SEASON_MAXIMUM_DIFFERENCE_MM = 50.0


@pytest.fixture(scope="module")
def knmi_national(shared_data) -> pd.Series:
    return read_int_nl(shared_data / "knmi" / "national-deficit" / "int_nl.dat")


def test_national_deficit_of_the_real_stations_follows_knmi(shared_data, knmi_national):
    """Every season 1991-2025: the deficit of the mean rain and mean evaporation of the 11
    stations (KNMI's own method) against KNMI's national series."""
    meteo = pd.concat([read_knmi_daily(p) for p in sorted(glob.glob(str(shared_data / "knmi" / "daily" / "etmgeg_*.zip")))])
    days = pd.date_range("1991-01-01", "2025-12-31")
    mean = {v: meteo.pivot_table(index="date", columns="station", values=v).mean(axis=1).reindex(days).fillna(0.0)
            for v in ("precipitation_mm", "evaporation_mm")}
    mine = precipitation_deficit(xr.DataArray(mean["precipitation_mm"].to_numpy(), dims="time", coords={"time": days}),
                                 xr.DataArray(mean["evaporation_mm"].to_numpy(), dims="time", coords={"time": days}))
    mine = mine.to_series().dropna()
    maxima = []
    for year in range(1991, 2026):
        season = pd.date_range(f"{year}-04-02", f"{year}-09-30")
        ours, knmi = mine.reindex(season), knmi_national.reindex(season)
        assert (ours - knmi).abs().mean() <= MEAN_ABSOLUTE_DIFFERENCE_MM, year
        assert abs(ours.max() - knmi.max()) <= SEASON_MAXIMUM_DIFFERENCE_MM, year
        maxima.append((ours.max(), knmi.max()))
    ours, knmi = np.array(maxima).T
    assert np.corrcoef(ours, knmi)[0, 1] > 0.9


@pytest.fixture(scope="module")
def national(shared_data, prefect_harness, tmp_path_factory):
    """The national setup by ``droogte init``, ingested once."""
    from pipelines.ingest.flows import ingest_all
    from pipelines.setup_init import init_setup

    report = init_setup(tmp_path_factory.mktemp("nl"), data=[shared_data], boards=["all"])
    ingest_all(config_path=str(report.config))
    return load_config(report.config)


def _replay(config, first: str, last: str, tmp_path):
    from pipelines.replay import replay_days

    replay_days(config, dt.date.fromisoformat(first), dt.date.fromisoformat(last), out=tmp_path, outlook_every=31)
    timeline = pd.read_csv(tmp_path / "timeline.csv", parse_dates=["date"])
    with xr.open_dataset(config.processed_dir / "indicators.nc") as indicators:
        deficit = indicators["precipitation_deficit_national"].to_series()
    return timeline, deficit


def _runs_ended_by_a_drop(levels: pd.Series) -> list[tuple[pd.Timestamp, int, int]]:
    """(first day, level, days) of each run of one level that ends by a drop to a lower level,
    leaving out the first run (it may have begun before the days shown)."""
    values, days = levels.to_numpy(), levels.index
    runs, start = [], 0
    for k in range(1, len(values)):
        if values[k] != values[k - 1]:
            if values[k] < values[k - 1] and start > 0:
                runs.append((days[start], int(values[k - 1]), k - start))
            start = k
    return runs


def _check_hysteresis(timeline: pd.DataFrame, hold_days: int) -> None:
    for column in [c for c in timeline.columns if c == "national_level" or c.startswith("level_")]:
        short = [r for r in _runs_ended_by_a_drop(timeline.set_index("date")[column]) if r[2] < hold_days]
        assert not short, f"{column}: levels shorter than {hold_days} days: {short}"


@pytest.mark.parametrize("year", [2018, 2022])
def test_dry_summer_reaches_at_least_level_1(national, knmi_national, year, tmp_path):
    timeline, deficit = _replay(national, f"{year}-07-01", f"{year}-08-31", tmp_path)
    assert timeline["national_level"].max() >= 1
    season = pd.date_range(f"{year}-04-02", f"{year}-08-31")
    # the run's own national deficit (indicators.nc) within the tolerance of KNMI's
    assert (deficit.reindex(season) - knmi_national.reindex(season)).abs().mean() <= MEAN_ABSOLUTE_DIFFERENCE_MM
    # the hysteresis: no level, national or of a board, ends before it has lasted hold_days
    _check_hysteresis(timeline, national.escalation.hold_days)


@pytest.mark.parametrize("year", [2021, 2024])
def test_wet_summer_has_no_national_shortage_and_level_0(national, year, tmp_path):
    """A wet summer: the country stays at level 0 and the national source leaves no use short
    (a board may still be short behind its own assumed inlets: that is regional, and its own
    level shows it)."""
    timeline, _ = _replay(national, f"{year}-06-01", f"{year}-08-31", tmp_path)
    assert (timeline["national_level"] == 0).all(), timeline.loc[timeline["national_level"] > 0, "date"].head()
    assert (timeline["source_shortage_m3_day"] <= 1.0).all(), \
        timeline.loc[timeline["source_shortage_m3_day"] > 1.0, ["date", "source_shortage_m3_day"]].head()
    assert (timeline["deficit_percentile"] < national.escalation.dry_percentile_threatening).mean() > 0.5
    _check_hysteresis(timeline, national.escalation.hold_days)
