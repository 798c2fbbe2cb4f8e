"""Timelines: own output, forward-only decision logs, the live site kept (pipelines/timeline.py),
and restrictions of an earlier season closed at a new season (models/restrictions/decision_log.py)."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from models.restrictions.decision_log import close_before, current_decisions, empty_log, merge_decisions
from models.restrictions.rules import DECISION_COLUMNS
from pipelines.demo import write_demo
from pipelines.timeline import decided_until, own_output, record_decided, refusal, setup

D = dt.date


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    root = tmp_path_factory.mktemp("timeline")
    path = write_demo(root / "raw", processed_dir=root / "processed", site_dir=root / "site",
                      archive_dir=root / "archive")
    return setup(str(path))


def test_own_output_moves_every_written_output_and_keeps_inputs_and_archive(config, tmp_path):
    mine = own_output(config, tmp_path / "backtest")
    assert mine.processed_dir == (tmp_path / "backtest" / "processed").resolve()
    assert mine.site_dir == (tmp_path / "backtest" / "site").resolve()
    assert mine.raw_archive_dir == config.raw_archive_dir and mine.stations == config.stations
    assert setup(str(config.path), str(tmp_path / "backtest")) == mine


def test_a_day_before_the_log_or_the_live_site_is_refused_unless_republished(tmp_path, config):
    cfg = own_output(config, tmp_path / "t")
    assert refusal(cfg, D(2025, 6, 1)) is None  # a new timeline takes any day
    record_decided(cfg.processed_dir, D(2025, 8, 15))
    assert decided_until(cfg.processed_dir) == D(2025, 8, 15)
    why = refusal(cfg, D(2025, 6, 1))
    assert "decided up to 2025-08-15" in why and "2025-06-01" in why and "--output DIR" in why
    assert refusal(cfg, D(2025, 8, 15)) is None and refusal(cfg, D(2025, 8, 16)) is None
    assert refusal(cfg, D(2025, 6, 1), republish=True) is None
    # the live site's issue protects it even where the log is new
    other = own_output(config, tmp_path / "u")
    other.site_dir.mkdir(parents=True)
    (other.site_dir / "metadata.json").write_text(json.dumps({"valid_from": "2025-08-15"}))
    assert "live site" in refusal(other, D(2025, 8, 1))


def _decision(district, restriction, start, end=None):
    row = {c: "" for c in DECISION_COLUMNS}
    row.update(district_id=district, water_board="WBA", restriction=restriction, valid_from=pd.Timestamp(start),
               valid_until=pd.NaT if end is None else pd.Timestamp(end), value=float("nan"),
               threshold=float("nan"), triggered_on=pd.Timestamp(start), rule="gw")
    return row


def test_a_restriction_left_open_by_an_earlier_season_does_not_reach_the_next():
    issued = pd.Timestamp("2018-08-15 06:00", tz="UTC")
    log = merge_decisions(empty_log(), pd.DataFrame([_decision("WBA-1", "groundwater_ban", "2018-07-17"),
                                                      _decision("WBA-1", "none", "2018-04-01")]),
                          issued_at=issued)
    later = pd.Timestamp("2022-07-01 06:00", tz="UTC")
    closed = close_before(log, pd.Timestamp("2022-04-01"), issued_at=later, last_day=D(2018, 8, 15))
    current = current_decisions(closed)
    assert current["valid_until"].notna().all(), "an open 2018 record is still in force in 2022"
    assert set(current["valid_until"]) == {pd.Timestamp("2018-08-15")}
    assert set(closed["change"].iloc[len(log):]) == {"closed"} and len(closed) == len(log) + 2
    # nothing from before the season: nothing to close; closing twice adds nothing
    assert close_before(closed, pd.Timestamp("2022-04-01"), issued_at=later).equals(closed)
