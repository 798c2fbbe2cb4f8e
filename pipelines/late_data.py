"""Late data: the day a run can compute, and what a run says when its data end before its day.

Every morning a run for today (day D) starts before KNMI's values for yesterday are in, so
the inputs of the water balance end a day or more before D. The rule:

1. The **data day** is the newest UT day up to D on which every input the allocation needs
   is there: areal precipitation *and* evaporation for every district (the areal weather
   renormalises over the stations with a value, so one KNMI station reporting both is enough)
   and the national source's supply (when it comes from a file; a constant supply never ends).
2. Indicators, the water balance, the outlook and the rules are computed up to the data day.
   The decisions in force on the data day are **carried to D unchanged**: restrictions in force
   stay, and nothing starts or lifts on days without data. They are published for D; the run
   summary, the page (a notice) and ``metadata.json`` name each source that ends before D,
   its newest day and the day asked for. Exit code DEGRADED (3).
3. When D is more than ``freshness.max_age_days`` (default 5) after the data day, or there is
   no data at all, the run **publishes no new decisions**: the live site stays as it was and
   the summary says why. Exit code WITHHELD (4).

Groundwater and sensors do not hold the run back (the rules read NaN as "no evidence"); their
age is reported per source, and a stale one is named (``freshness.stale_after_days`` for
meteo, ``models.indicators.freshness.DEFAULT_MAX_AGE`` for the others).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from pipelines.outcome import ExitCode, Problem

#: Default of ``freshness.max_age_days``: days between the data day and the run's day beyond
#: which a run publishes no new decisions. KNMI's daily values normally come in the next
#: morning; five days bridge a long weekend with a late delivery.
DEFAULT_MAX_AGE_DAYS = 5


@dataclass
class DataDay:
    """What the run can compute: ``data_day`` (None without any data) for the asked ``day``,
    the newest complete day per required source, and the problems to report."""

    day: dt.date
    data_day: dt.date | None
    newest: dict[str, dt.date | None]
    problems: list[Problem] = field(default_factory=list)

    @property
    def late(self) -> bool:
        return self.data_day != self.day

    @property
    def withheld(self) -> bool:
        return any(p.code == ExitCode.WITHHELD for p in self.problems)


def newest_weather_day(meteo: pd.DataFrame | None, day: dt.date) -> dt.date | None:
    """Newest UT day up to ``day`` with precipitation and evaporation from some station
    (``meteo.parquet``: ``date``, ``precipitation_mm``, ``evaporation_mm``)."""
    if meteo is None or meteo.empty:
        return None
    upto = meteo[pd.to_datetime(meteo["date"]) <= pd.Timestamp(day)]
    rain = pd.to_datetime(upto.loc[upto["precipitation_mm"].notna(), "date"])
    evap = pd.to_datetime(upto.loc[upto["evaporation_mm"].notna(), "date"])
    if rain.empty or evap.empty:
        return None
    # the newest day on which both are there (a day with rain but no evaporation is incomplete);
    # as index operations, not Python sets of Timestamps (0.3 s for the demo's 35 years)
    both = pd.DatetimeIndex(rain.dt.normalize().unique()).intersection(pd.DatetimeIndex(evap.dt.normalize().unique()))
    return both.max().date() if len(both) else None


def newest_supply_day(supply: pd.DataFrame | None, day: dt.date) -> dt.date | None:
    """Newest day up to ``day`` with a ``supply_m3_day`` (the national source's file)."""
    if supply is None:
        return None
    dates = pd.to_datetime(supply.loc[supply["supply_m3_day"].notna(), "date"])
    dates = dates[dates <= pd.Timestamp(day)]
    return None if dates.empty else dates.max().date()


def data_day(day: dt.date, newest: dict[str, dt.date | None], *, max_age_days: int = DEFAULT_MAX_AGE_DAYS) -> DataDay:
    """Apply the rule of the module docstring to the newest complete day per required source."""
    known = [d for d in newest.values() if d is not None]
    computed = min(known) if known and len(known) == len(newest) else None
    too_old = computed is not None and (day - computed).days > max_age_days
    problems = []
    for source, last in newest.items():
        if last is None:
            problems.append(Problem(source, f"no data up to {day.isoformat()}; no new decisions are published",
                                    ExitCode.WITHHELD))
        elif last < day:
            carried = ("" if too_old else
                       f"; decisions computed to {computed.isoformat()} are carried to {day.isoformat()}")
            problems.append(Problem(source, f"newest complete day held is {last.isoformat()}, the run asked for "
                                    f"{day.isoformat()} ({(day - last).days} day(s) missing){carried}"))
    if too_old:
        problems.append(Problem("data", f"the newest complete day, {computed.isoformat()}, is {(day - computed).days} "
                                f"days before {day.isoformat()}, more than freshness.max_age_days = {max_age_days}; "
                                "no new decisions are published and the live site stays as it was",
                                ExitCode.WITHHELD))
    return DataDay(day=day, data_day=computed, newest=dict(newest), problems=problems)


def stale_problems(indicator_attrs: dict, day: dt.date) -> list[Problem]:
    """A DEGRADED problem per source the indicators flag stale (``stale_<source>`` = 1),
    with its newest input (``newest_input_<source>``)."""
    problems = []
    for key, value in sorted(indicator_attrs.items()):
        if not key.startswith("stale_") or not int(value):
            continue
        source = key.removeprefix("stale_")
        newest = indicator_attrs.get(f"newest_input_{source}") or ""
        held = f"newest data held {newest[:10]}" if newest else "no data held"
        problems.append(Problem(source, f"stale on {day.isoformat()}: {held}"))
    return problems


def find_data_day(config, day: dt.date, *, max_age_days: int | None = None) -> DataDay:
    """The rule applied to a setup's stored meteo (``meteo.parquet``) and its national
    source's supply file (when it has one)."""
    from pipelines.store import METEO_TABLE

    meteo_path = config.processed_dir / METEO_TABLE
    meteo = (pd.read_parquet(meteo_path, columns=["date", "precipitation_mm", "evaporation_mm"])
             if meteo_path.exists() else None)
    newest = {"meteo": newest_weather_day(meteo, day)}
    if config.source.file is not None:
        table = pd.read_csv(config.source.file, comment="#")
        if not {"date", "supply_m3_day"} <= set(table.columns):
            raise ValueError(f"{config.source.file}: expected columns date,supply_m3_day; "
                             f"found {list(table.columns)}")
        newest["supply"] = newest_supply_day(table, day)
    limit = config.max_age_days if max_age_days is None else max_age_days
    return data_day(day, newest, max_age_days=limit)
