"""A source without any data: the decisions it feeds keep their last state, or are unknown.

Copies of the demo's processed store (one real daily run, ``demo_daily_run``) are run through
the real stages (ingest flow, indicators, restrictions, publication) with a source's files
broken or absent on a first run, or its processed table lost after a good run. The reference
is the same stages on an untouched copy, so no count is written down here; on the demo for
2025-08-15 (the decisions of a run for the 16th) it is 47 surface-water and 16 groundwater
bans.
"""

from __future__ import annotations

import datetime as dt
import shutil

import pandas as pd
import pytest

from pipelines import indicators, restrictions
from pipelines.store import DECISION_LOG, INDICATORS, Store
from pipelines.timeline import own_output

DAY = dt.date(2025, 8, 15)
FIRST_RUN = ("decisions.parquet", "timeline.json", "published.parquet")


def _copy(demo_daily_run, folder, *, drop=(), raw=False):
    """The demo setup writing into ``folder``, its processed store copied without ``drop``.
    ``raw``: the setup's input files copied too (to break them), read from the copy."""
    from pipelines.config import load_config

    config, _ = demo_daily_run
    if raw:
        shutil.copytree(config.path.parent, folder / "raw")
        config = load_config(folder / "raw" / config.path.name)
    config = own_output(config, folder / "out")
    shutil.copytree(demo_daily_run[0].processed_dir, config.processed_dir,
                    ignore=shutil.ignore_patterns(".run.lock", "*.tmp*"))
    for name in drop:
        (config.processed_dir / name).unlink(missing_ok=True)
    return config


def _decide(config):
    indicators.run(config, DAY)
    return restrictions.run(config, DAY)


@pytest.fixture(scope="module")
def clean(demo_daily_run, tmp_path_factory):
    """The decisions of the untouched store, and its decision log after deciding the day."""
    config = _copy(demo_daily_run, tmp_path_factory.mktemp("clean"))
    proposal = _decide(config)
    return proposal.decisions, Store(config.processed_dir).decision_log()


def _bans(decisions):
    return (set(decisions.loc[decisions["restriction"] == "surface_water_ban", "district_id"]),
            set(decisions.loc[decisions["groundwater_ban"], "district_id"]))


def test_the_clean_reference_rests_on_sensors_and_wells(clean):
    decisions, _ = clean
    surface, ground = _bans(decisions)
    # otherwise the tests below could not tell held decisions from recomputed ones
    assert (decisions["rule"] == "ban-level").any() and ground
    assert not (decisions["restriction"] == "unknown").any() and not decisions["groundwater_ban_unknown"].any()


@pytest.mark.parametrize("lost", ["sensors.parquet", "groundwater.parquet"])
def test_a_table_lost_after_a_good_run_keeps_the_logged_decisions(demo_daily_run, clean, tmp_path, lost):
    decisions, log = clean
    config = _copy(demo_daily_run, tmp_path, drop=[lost])
    # the clean decision log of the day is the one before this run
    Store(config.processed_dir).write_decision_log(log)
    proposal = _decide(config)
    attrs = Store(config.processed_dir).attributes(INDICATORS)
    source = "sensors" if lost.startswith("sensors") else "groundwater"
    assert attrs["sources_without_data"] == source
    assert attrs[f"series_missing_{source}"] and not attrs[f"series_stale_{source}"]
    assert _bans(proposal.decisions) == _bans(decisions)  # 47 / 16 on the demo, not 34 / 0
    columns = ["district_id", "restriction", "groundwater_ban", "rule", "valid_from"]
    assert proposal.decisions[columns].equals(decisions[columns])
    # nothing withdrawn or corrected because an input vanished: the log is as it was
    assert len(pd.read_parquet(config.processed_dir / DECISION_LOG)) == len(log)
    assert not (proposal.decisions["restriction"] == "unknown").any()


def test_a_first_run_with_the_sensor_file_broken_marks_the_surface_water_state_unknown(demo_daily_run, clean, tmp_path):
    from pipelines.ingest.flows import ingest_sensors
    from pipelines.input_status import degraded_inputs
    from pipelines.publication import publish

    decisions, _ = clean
    config = _copy(demo_daily_run, tmp_path, drop=("sensors.parquet", "sensors_meta.parquet", *FIRST_RUN), raw=True)
    for sensor in config.sensors:
        sensor.file.write_text("<TimeSeries><series>cut off", encoding="utf-8")
    (config.processed_dir / "ingested_files.parquet").unlink()
    report = ingest_sensors(config=config, until=DAY.isoformat())
    assert report.failed_files and not (config.processed_dir / "sensors.parquet").exists()

    proposal = _decide(config)
    now = proposal.decisions.set_index("district_id")
    before = decisions.set_index("district_id")
    # a ban that rests on the water level alone is not lifted to "no restriction": it is unknown
    level_only = before.index[before["rule"] == "ban-level"]
    assert len(level_only) and (now.loc[level_only, "restriction"] == "unknown").all()
    # bans from the allocation's shortage stand; no district reads "none" where it was banned
    banned = before.index[before["restriction"] == "surface_water_ban"]
    assert set(now.loc[banned, "restriction"]) == {"surface_water_ban", "unknown"}
    assert _bans(proposal.decisions)[0] < set(banned)
    unknown = now[now["restriction"] == "unknown"]
    assert unknown["reason_nl"].str.contains("waterpeilen in sloten en vaarten ontbreken").all()
    # the groundwater track, fed by wells that report, is decided as in the clean run
    assert now["groundwater_ban"].equals(before["groundwater_ban"]) and not now["groundwater_ban_unknown"].any()

    # the next run, the file still broken: what the first run logged is no valid earlier state
    again = _decide(config).decisions.set_index("district_id")
    assert again["restriction"].equals(now["restriction"])

    reasons = degraded_inputs(config, Store(config.processed_dir).attributes(INDICATORS))
    assert any(r.startswith("sensors: no data held at all") for r in reasons)

    publish.run(config, DAY, proposal)
    site = config.site_dir
    table = pd.read_csv(site / "restrictions.csv", dtype=str)
    assert set(table.loc[table["restriction"] == "unknown", "district_id"]) == set(unknown.index)
    page = (site / "index.html").read_text(encoding="utf-8")
    assert "We weten nu niet of u hier water uit sloten en vaarten mag halen. Er ontbreken metingen." in page
    assert "Onbekend: metingen ontbreken" in page


def test_a_first_run_without_groundwater_files_marks_the_groundwater_ban_unknown(demo_daily_run, clean, tmp_path):
    from pipelines.ingest.flows import ingest_groundwater
    from pipelines.publication.artifacts import run_summary_markdown

    decisions, _ = clean
    config = _copy(demo_daily_run, tmp_path, drop=("groundwater.parquet", "wells.parquet", *FIRST_RUN), raw=True)
    for well in config.wells:
        well.file.unlink()
    (config.processed_dir / "ingested_files.parquet").unlink()
    report = ingest_groundwater(config=config, until=DAY.isoformat())
    assert report.failed_files and not (config.processed_dir / "groundwater.parquet").exists()

    proposal = _decide(config)
    now = proposal.decisions.set_index("district_id")
    assert not now["groundwater_ban"].any()
    # where the wells are is not known either: every district's groundwater ban is unknown,
    # above all the 16 banned in the clean run, none of them shown as "no ban"
    assert now["groundwater_ban_unknown"].all()
    assert _bans(decisions)[0] == _bans(proposal.decisions)[0]  # the surface-water track is whole
    from types import SimpleNamespace

    approval = SimpleNamespace(approved=True, mode="auto", by="droogte", at="2025-08-15T06:30:00+00:00", note="")
    summary = run_summary_markdown("demo", DAY, proposal, {}, approval)
    assert "## Unknown: measurements missing" in summary and f"groundwater ban: {len(now)} district(s)" in summary


def test_the_logged_state_is_carried_over_new_days_and_only_a_stricter_rule_changes_it():
    import numpy as np
    import xarray as xr

    from models.restrictions import decision_log, missing_input
    from models.restrictions.rules import RuleTable, decide

    rules = RuleTable.from_config({"rules": {"*": [
        {"id": "watch-shortage", "restriction": "watch", "indicator": "shortage_fraction_4", "operator": ">=",
         "threshold": 0.1, "min_days": 1, "lift_threshold": 0.05, "lift_days": 1},
        {"id": "ban-level", "restriction": "daytime_sprinkling_ban", "indicator": "surface_level_below_critical",
         "operator": ">=", "threshold": 0.0, "min_days": 1, "lift_threshold": -0.1, "lift_days": 1},
        {"id": "ban-shortage", "restriction": "surface_water_ban", "indicator": "shortage_fraction_4",
         "operator": ">=", "threshold": 0.5, "min_days": 1, "lift_threshold": 0.3, "lift_days": 1}]}})
    days = pd.date_range("2025-08-01", "2025-08-10")

    def triggers(level, shortage):
        return xr.Dataset({"surface_level_below_critical": (("time", "district"), np.array(level, float)[:, None]),
                           "shortage_fraction_4": (("time", "district"), np.array(shortage, float)[:, None])},
                          coords={"time": days, "district": ["D1"], "water_board": ("district", ["W"])})

    # with sensors, up to 5 August: the level below critical from the 2nd on
    with_data = decide(triggers([-1, 0.2, 0.2, 0.2, 0.2] + [np.nan] * 5, [0.0] * 10), rules,
                       until=dt.date(2025, 8, 5))
    log = decision_log.merge_decisions(decision_log.empty_log(), with_data, issued_at=pd.Timestamp("2025-08-05", tz="UTC"))
    # then no sensor data at all; the shortage reaches the watch on the 8th and the full ban on the 10th
    shortage = [0.0] * 7 + [0.2, 0.2, 0.6]
    new = decide(triggers([np.nan] * 10, shortage), rules, until=dt.date(2025, 8, 10))
    assert set(new["restriction"]) == {"none", "watch", "surface_water_ban"}  # recomputed: the daytime ban is gone
    affected = {("D1", "surface_water"): 2}
    current = decision_log.current_decisions(log)
    held = missing_input.hold_decisions(new, current, affected, last_decided=pd.Timestamp("2025-08-05"),
                                        until=pd.Timestamp("2025-08-10"))
    by_day = {d: held[(held["valid_from"] <= d) & (held["valid_until"].isna() | (held["valid_until"] >= d))]
              ["restriction"].item() for d in days}
    assert by_day[pd.Timestamp("2025-08-01")] == "none"
    # the logged daytime ban stands and is carried; the watch (lighter) does not replace it ...
    assert all(by_day[d] == "daytime_sprinkling_ban" for d in pd.date_range("2025-08-02", "2025-08-09"))
    # ... a stricter rule with input does
    assert by_day[pd.Timestamp("2025-08-10")] == "surface_water_ban"
    # merged into the log: nothing withdrawn
    merged = decision_log.merge_decisions(log, held, issued_at=pd.Timestamp("2025-08-10", tz="UTC"))
    assert "withdrawn" not in set(merged["change"])
    assert missing_input.without_earlier_decision(new, current, affected, last_decided=pd.Timestamp("2025-08-05"),
                                                  day=pd.Timestamp("2025-08-10")) == set()
    assert missing_input.without_earlier_decision(new, decision_log.current_decisions(decision_log.empty_log()),
                                                  affected, last_decided=None,
                                                  day=pd.Timestamp("2025-08-10")) == {("D1", "surface_water")}
