"""The late-data rule: the data day, carried decisions, and the maximum age (pipelines/late_data.py)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pipelines.late_data import data_day, newest_supply_day, newest_weather_day, stale_problems
from pipelines.outcome import ExitCode

D = dt.date


def _meteo(last_rain: str, last_evap: str) -> pd.DataFrame:
    days = pd.date_range("2025-08-01", "2025-08-15")
    return pd.DataFrame({"station": "260", "date": days,
                         "precipitation_mm": np.where(days <= last_rain, 1.0, np.nan),
                         "evaporation_mm": np.where(days <= last_evap, 3.0, np.nan)})


def test_the_newest_complete_day_needs_rain_and_evaporation_and_never_looks_past_the_day():
    assert newest_weather_day(_meteo("2025-08-15", "2025-08-13"), D(2025, 8, 15)) == D(2025, 8, 13)
    assert newest_weather_day(_meteo("2025-08-15", "2025-08-15"), D(2025, 8, 10)) == D(2025, 8, 10)
    assert newest_weather_day(None, D(2025, 8, 10)) is None
    supply = pd.DataFrame({"date": ["2025-08-01", "2025-08-02", "2025-08-03"], "supply_m3_day": [1.0, 2.0, np.nan]})
    assert newest_supply_day(supply, D(2025, 8, 30)) == D(2025, 8, 2)


def test_data_ending_before_the_day_is_carried_and_named_with_the_day_held_and_asked():
    found = data_day(D(2026, 11, 30), {"meteo": D(2026, 11, 28), "supply": D(2026, 11, 30)})
    assert found.data_day == D(2026, 11, 28) and found.late and not found.withheld
    [problem] = found.problems
    assert problem.source == "meteo" and problem.code == ExitCode.DEGRADED
    assert "2026-11-28" in problem.message and "2026-11-30" in problem.message and "carried" in problem.message


def test_beyond_the_maximum_age_no_new_decisions_are_published():
    found = data_day(D(2026, 11, 30), {"meteo": D(2025, 8, 15)}, max_age_days=5)
    assert found.withheld
    assert any(p.code == ExitCode.WITHHELD and "freshness.max_age_days = 5" in p.message for p in found.problems)
    assert data_day(D(2026, 11, 30), {"meteo": D(2026, 11, 25)}, max_age_days=5).withheld is False
    assert data_day(D(2026, 11, 30), {"meteo": None}).withheld


def test_on_time_data_make_no_problem():
    found = data_day(D(2025, 8, 15), {"meteo": D(2025, 8, 15)})
    assert found.data_day == D(2025, 8, 15) and not found.late and found.problems == []


def test_a_stale_source_is_named_with_its_newest_data():
    attrs = {"newest_input_groundwater": "2025-06-01T00:00:00", "stale_groundwater": 1,
             "newest_input_meteo": "2025-08-15T00:00:00", "stale_meteo": 0, "stale_sensors": 1,
             "newest_input_sensors": ""}
    problems = stale_problems(attrs, D(2025, 8, 15))
    assert [(p.source, p.message) for p in problems] == [
        ("groundwater", "stale on 2025-08-15: newest data held 2025-06-01"),
        ("sensors", "stale on 2025-08-15: no data held")]
