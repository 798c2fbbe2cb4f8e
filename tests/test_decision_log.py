"""The decision log: idempotent re-runs, explicit corrections, atomic Parquet storage."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from models.restrictions.decision_log import current_decisions, empty_log, merge_decisions
from models.restrictions.rules import INDICATORS, RuleTable, decide
from pipelines.store import DECISION_LOG, Store

RULES = RuleTable.from_config({"rules": {"*": [
    {"id": "ban", "restriction": "surface_water_ban", "indicator": "shortage_fraction_4",
     "operator": ">=", "threshold": 0.3, "min_days": 3, "lift_threshold": 0.1, "lift_days": 2},
    {"id": "gw", "restriction": "groundwater_ban", "indicator": "groundwater_low_share",
     "operator": ">=", "threshold": 0.5, "min_days": 3, "lift_threshold": 0.3, "lift_days": 2},
]}})
MORNING = pd.Timestamp("2026-06-10 06:00", tz="Europe/Amsterdam")
NEXT_MORNING = pd.Timestamp("2026-06-11 06:00", tz="Europe/Amsterdam")


def _indicators(shortage: list[float], groundwater: list[float] | None = None) -> xr.Dataset:
    n = len(shortage)
    data = {name: (("time", "district"), np.full((n, 1), np.nan)) for name in INDICATORS}
    data["shortage_fraction_4"] = (("time", "district"), np.array(shortage)[:, None])
    if groundwater is not None:
        data["groundwater_low_share"] = (("time", "district"), np.array(groundwater)[:, None])
    coords = {"time": pd.date_range("2026-06-01", periods=n), "district": ["WBA-1"],
              "water_board": ("district", ["WBA"])}
    return xr.Dataset(data, coords=coords)


SEASON = [0.0, 0.0, 0.5, 0.5, 0.2, 0.2, 0.0, 0.0, 0.0, 0.0]


def test_rerunning_the_same_day_adds_nothing():
    decisions = decide(_indicators(SEASON), RULES)
    log = merge_decisions(empty_log(), decisions, issued_at=MORNING)
    assert len(log) == len(decisions) == 3  # none, ban, none
    assert (log["change"] == "new").all() and log["corrects"].isna().all()
    assert log["record_id"].is_unique
    again = merge_decisions(log, decide(_indicators(SEASON), RULES), issued_at=NEXT_MORNING)
    pd.testing.assert_frame_equal(again, log)
    # The same run on a fresh log gives the same ids: they derive from content and time.
    fresh = merge_decisions(empty_log(), decisions, issued_at=MORNING)
    assert fresh["record_id"].tolist() == log["record_id"].tolist()


def test_a_changed_past_decision_becomes_a_correcting_record():
    log = merge_decisions(empty_log(), decide(_indicators(SEASON), RULES), issued_at=MORNING)
    # Late data: the shortage began a day earlier than first reported.
    revised = [0.0, 0.4, 0.5, 0.5, 0.2, 0.2, 0.0, 0.0, 0.0, 0.0]
    log2 = merge_decisions(log, decide(_indicators(revised), RULES), issued_at=NEXT_MORNING)
    assert log2.iloc[: len(log)].equals(log)  # old records kept unchanged
    added = log2.iloc[len(log):]
    # The first "none" is now one day shorter and the ban one day longer; the last "none"
    # (from 8 June) is unchanged and stays as it was.
    assert added[["restriction", "change"]].values.tolist() == [
        ["none", "corrected"], ["surface_water_ban", "corrected"]
    ]
    old_ban = log.loc[log["restriction"] == "surface_water_ban"].iloc[0]
    new_ban = added.loc[added["restriction"] == "surface_water_ban"].iloc[0]
    assert new_ban["corrects"] == old_ban["record_id"]
    assert new_ban["valid_from"] == pd.Timestamp("2026-06-02")
    assert new_ban["issued_at"] == NEXT_MORNING.tz_convert("UTC")
    current = current_decisions(log2)
    assert current["restriction"].tolist() == ["none", "surface_water_ban", "none"]
    assert set(added["record_id"]) < set(current["record_id"])


def test_closing_an_open_decision_is_recorded_as_closed():
    first = decide(_indicators(SEASON[:5]), RULES)  # the ban is still open on 5 June
    log = merge_decisions(empty_log(), first, issued_at=MORNING)
    assert pd.isna(log["valid_until"].iloc[-1])
    log2 = merge_decisions(log, decide(_indicators(SEASON), RULES), issued_at=NEXT_MORNING)
    added = log2.iloc[len(log):]
    assert added[["restriction", "change"]].values.tolist() == [
        ["surface_water_ban", "closed"], ["none", "new"]
    ]
    assert added["valid_until"].iloc[0] == pd.Timestamp("2026-06-07")


def test_a_decision_that_no_longer_follows_is_withdrawn_not_deleted():
    log = merge_decisions(
        empty_log(), decide(_indicators(SEASON, [0.6] * 4 + [0.0] * 6), RULES), issued_at=MORNING
    )
    gw = log.loc[log["restriction"] == "groundwater_ban"].iloc[0]
    # Corrected well data: no well was ever below its lower limit.
    log2 = merge_decisions(
        log, decide(_indicators(SEASON, [0.0] * 10), RULES), issued_at=NEXT_MORNING
    )
    added = log2.iloc[len(log):]
    assert added[["restriction", "change", "corrects"]].values.tolist() == [
        ["groundwater_ban", "withdrawn", gw["record_id"]]
    ]
    assert "groundwater_ban" not in set(current_decisions(log2)["restriction"])


def test_records_before_the_evaluated_period_are_left_alone():
    log = merge_decisions(empty_log(), decide(_indicators(SEASON), RULES), issued_at=MORNING)
    later = decide(_indicators(SEASON), RULES, until=date(2026, 6, 10)).iloc[[-1]]
    assert merge_decisions(log, later, issued_at=NEXT_MORNING).equals(log)


def test_issued_at_must_know_its_time_zone():
    with pytest.raises(ValueError, match="issued_at: 2026-06-10 06:00:00 has no time zone"):
        merge_decisions(empty_log(), decide(_indicators(SEASON), RULES),
                        issued_at=pd.Timestamp("2026-06-10 06:00"))


def test_save_and_load_round_trip(tmp_path):
    log = merge_decisions(empty_log(), decide(_indicators(SEASON), RULES), issued_at=MORNING)
    store = Store(tmp_path / "log")
    store.write_decision_log(log)
    pd.testing.assert_frame_equal(store.decision_log(), log)
    assert [p.name for p in store.folder.iterdir()] == [DECISION_LOG]  # no temp files


def test_save_replaces_the_file_in_one_step(tmp_path):
    store = Store(tmp_path)
    old = merge_decisions(empty_log(), decide(_indicators(SEASON[:5]), RULES), issued_at=MORNING)
    store.write_decision_log(old)
    with open(store.path(DECISION_LOG), "rb") as reader:  # a reader that opened the old log before the write
        new = merge_decisions(old, decide(_indicators(SEASON), RULES), issued_at=NEXT_MORNING)
        store.write_decision_log(new)
        assert len(pd.read_parquet(reader)) == len(old)  # still sees the whole old file
    assert len(store.decision_log()) == len(new)


def test_a_failed_save_keeps_the_previous_log(tmp_path):
    store = Store(tmp_path)
    log = merge_decisions(empty_log(), decide(_indicators(SEASON), RULES), issued_at=MORNING)
    store.write_decision_log(log)
    with pytest.raises(ValueError, match="occurs more than once"):
        store.write_decision_log(pd.concat([log, log]))
    pd.testing.assert_frame_equal(store.decision_log(), log)
    assert len(list(tmp_path.iterdir())) == 1


def test_load_log_names_the_file_when_absent_or_malformed(tmp_path):
    assert Store(tmp_path / "none").decision_log().empty  # before the first run: an empty log
    store = Store(tmp_path)
    pd.DataFrame({"district_id": ["WBA-1"]}).to_parquet(store.path(DECISION_LOG))
    with pytest.raises(ValueError, match=r"decisions.parquet: missing columns \['record_id'"):
        store.decision_log()
