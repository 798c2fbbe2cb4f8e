"""Quality-control tests: each test flags what it should and nothing else."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.qc import QcFlag, flag_flatline, flag_spike, run_qc

THRESHOLDS = {
    "level_m_nap": {"min": -3.0, "max": 1.0, "spike": 0.3, "flatline_count": 4, "max_gap": "30min"},
}


def _series(values: list[float], sensor: str = "A/H.meting", start: str = "2026-07-01") -> pd.DataFrame:
    times = pd.date_range(start, periods=len(values), freq="15min", tz="UTC")
    return pd.DataFrame({"sensor": sensor, "time": times, "value": values})


def _run(frame: pd.DataFrame):
    return run_qc(frame, "level_m_nap", "value", "time", "sensor", THRESHOLDS)


def test_each_test_flags_its_own_fault() -> None:
    values = [-1.00, -1.01, -0.50, -1.02, -1.03, 5.0, np.nan, -1.04, -1.04, -1.04, -1.04, -1.05]
    flags, summary = _run(_series(values))
    assert flags.iloc[2] == QcFlag.SPIKE
    assert flags.iloc[5] & QcFlag.RANGE and flags.iloc[5] & QcFlag.SPIKE
    assert flags.iloc[6] == QcFlag.MISSING
    assert (flags.iloc[7:11] == int(QcFlag.FLATLINE)).all()
    assert flags.iloc[[0, 1, 3, 4, 11]].eq(0).all()
    assert summary == {"missing": 1, "range": 1, "spike": 2, "flatline": 4, "gap": 0,
                       "values": 12, "passed": 5}


def test_a_step_is_not_a_spike_and_gaps_are_per_series() -> None:
    step = _series([-1.0, -1.0, -0.2, -0.2, -0.21])
    other = _series([-1.0, -1.1], sensor="B/H.meting")
    other.loc[1, "time"] += pd.Timedelta(hours=2)
    frame = pd.concat([other, step], ignore_index=True).sample(frac=1, random_state=1)
    flags, summary = _run(frame)
    assert summary["spike"] == 0
    assert summary["gap"] == 1
    assert flags[(frame["sensor"] == "B/H.meting") & (frame["time"].dt.hour == 2)].eq(int(QcFlag.GAP)).all()


def test_unknown_variable_is_named() -> None:
    with pytest.raises(KeyError, match="discharge"):
        run_qc(_series([1.0]), "discharge", "value", "time", "sensor", THRESHOLDS)


def test_on_the_real_production_export(shared_data: Path) -> None:
    from pipelines.ingest.sources.fews import read_pi_xml

    events = read_pi_xml(shared_data / "sensors" / "fews" / "WaalenBurg_201810-20190215_prod.zip").events
    flags, summary = _run(events)
    assert summary["values"] == len(events)
    assert summary["missing"] == events["value"].isna().sum()
    assert summary["passed"] > 0.5 * len(events)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-2, 0.5, allow_nan=False), min_size=3, max_size=40))
def test_spike_flags_only_one_sample_excursions(values: list[float]) -> None:
    series = pd.Series(values)
    spikes = flag_spike(series, 0.3)
    assert not spikes.iloc[0] and not spikes.iloc[-1]
    for i in np.flatnonzero(spikes.to_numpy()):
        assert abs(values[i] - values[i - 1]) > 0.3 and abs(values[i] - values[i + 1]) > 0.3


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([0.0, 1.0]), min_size=1, max_size=40), st.integers(2, 6))
def test_flatline_flags_exactly_the_long_runs(values: list[float], count: int) -> None:
    flat = flag_flatline(pd.Series(values), count).tolist()
    i = 0
    while i < len(values):
        j = i
        while j < len(values) and values[j] == values[i]:
            j += 1
        assert flat[i:j] == [j - i >= count] * (j - i)
        i = j
