"""Honest about inputs: stale and missing stations, wells and sensors are named, and a
measuring point that goes silent makes its district uncertain instead of lifting a ban."""

from __future__ import annotations


import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dashboards.citizen_map import render_citizen_page
from dashboards.public_record import checked_metadata, public_districts
from tests.synthetic import synthetic_districts, synthetic_metadata
from models.indicators import groundwater as gw
from models.indicators.freshness import series_attrs, series_freshness
from models.indicators.surface_water import surface_water_indicators

DAYS = pd.date_range("2025-08-01", "2025-08-10")


def _district():
    return gpd.GeoDataFrame({"district_id": ["D1"], "target_level_m_nap": [-0.5], "critical_level_m_nap": [-0.8]},
                            geometry=[shapely.box(0, 0, 1000, 1000)], crs="EPSG:28992")


def test_each_station_well_and_sensor_is_named_when_stale_or_missing():
    frame = pd.DataFrame({"well": ["A", "A", "B", "C"],
                          "time": pd.to_datetime(["2025-08-09", "2025-08-10", "2011-05-01", "2025-08-10"]),
                          "level_m_nap": [-1.0, -1.1, -2.0, np.nan]})
    table = series_freshness(frame, key="well", time="time", value="level_m_nap", as_of=pd.Timestamp("2025-08-10"),
                             max_age=pd.Timedelta(days=35), expected=["A", "B", "C", "D"])
    status = dict(zip(table["series"], table["status"]))
    # B stopped in 2011: the newest value of the source (A, today) used to hide it
    assert status == {"A": "ok", "B": "stale", "C": "missing", "D": "missing"}
    assert table.loc[table["series"] == "B", "age_days"].item() > 5000
    attrs = series_attrs("groundwater", table)
    assert attrs == {"series_stale_groundwater": "B", "series_missing_groundwater": "C,D",
                     "series_count_groundwater": 4}


def test_the_lowest_sensor_falling_silent_makes_the_district_uncertain_not_safe():
    # S1 is far below the critical level, S2 above it; S1 stops reporting after 5 August.
    rows = []
    for day in DAYS:
        if day <= pd.Timestamp("2025-08-05"):
            rows.append(("S1", day, -1.2))
        rows.append(("S2", day, -0.6))
    sensors = pd.DataFrame(rows, columns=["sensor", "time", "value"]).assign(unit="m")
    sensors["time"] = pd.to_datetime(sensors["time"]).dt.tz_localize("UTC") + pd.Timedelta(hours=12)
    meta = gpd.GeoDataFrame({"sensor": ["S1", "S2"]}, geometry=[shapely.Point(100, 100), shapely.Point(900, 900)],
                            crs="EPSG:28992")
    below = surface_water_indicators(sensors, meta, _district(), DAYS)["surface_level_below_critical"]
    series = below.sel(district="D1").to_series()
    assert series[:"2025-08-05"].round(3).eq(0.4).all()  # S1 0.4 m below critical
    # without S1, S2 alone (0.2 m above critical) would read as "no shortage" and lift the ban
    assert series["2025-08-06":].isna().all()


def test_a_well_falling_silent_makes_the_district_uncertain_but_a_well_not_yet_started_does_not():
    wells = gpd.GeoDataFrame({"well": ["A", "B", "C"], "lower_limit_m_nap": [-1.0, -1.0, -1.0]},
                             geometry=[shapely.Point(100, 100), shapely.Point(500, 500), shapely.Point(900, 900)],
                             crs="EPSG:28992")
    rows = []
    for day in DAYS:
        rows.append(("A", day, -1.5))  # below its limit all along
        if day <= pd.Timestamp("2025-08-03"):
            rows.append(("B", day, -1.5))  # below, then silent: the logger failed
        if day >= pd.Timestamp("2025-08-06"):
            rows.append(("C", day, -0.5))  # above, first read on 6 August
    levels = pd.DataFrame(rows, columns=["well", "time", "level_m_nap"])
    share = gw.low_share(levels, wells, _district(), DAYS, max_reading_age=pd.Timedelta(days=1)).sel(district="D1")
    values = share.to_series()
    assert values["2025-08-01"] == 1.0  # A and B below; C not started yet
    assert np.isnan(values["2025-08-05"])  # B silent since the 4th (after its one day of grace)
    assert np.isnan(values["2025-08-08"])  # still silent: uncertain, not the 0.5 of A and C alone


def test_the_citizen_page_names_stale_points_and_a_source_without_data():
    metadata = synthetic_metadata()
    metadata["input_status"] = {"groundwater": {"count": 16, "stale": ["GMW01-001", "GMW02-001"], "missing": []},
                                "sensors": {"count": 3, "stale": [], "missing": ["PEIL_A", "PEIL_B", "PEIL_C"]}}
    metadata["data_ages"] = {k: v for k, v in metadata["data_ages"].items() if k != "sensors"}
    page = render_citizen_page(public_districts(synthetic_districts(3)), checked_metadata(metadata))
    assert "2 van 16 meetpunten verouderd: GMW01-001, GMW02-001" in page
    assert "2 of 16 measuring points out of date" in page
    assert "3 zonder gegevens: PEIL_A, PEIL_B, PEIL_C" in page
    assert "no data (decisions that rest on it stay as they were, or are unknown)" in page


def test_degraded_inputs_name_failed_sources_and_stale_points(tmp_path):
    from types import SimpleNamespace

    from pipelines.config import load_config
    from pipelines.demo import write_demo
    from pipelines.input_status import degraded_inputs, input_status
    from pipelines.publication.artifacts import run_summary_markdown

    config = load_config(write_demo(tmp_path / "raw", processed_dir=tmp_path / "p", site_dir=tmp_path / "site",
                                    archive_dir=tmp_path / "a"))
    attrs = {"series_count_meteo": 6, "series_stale_meteo": "", "series_missing_meteo": "",
             "series_count_groundwater": 16, "series_stale_groundwater": "W03,W07", "series_missing_groundwater": ""}
    status = input_status(config, attrs)
    assert status["groundwater"] == {"count": 16, "stale": ["W03", "W07"], "missing": []}
    # the setup has sensors but nothing of them is stored: every sensor file is missing
    assert status["sensors"]["count"] == len(config.sensors) and len(status["sensors"]["missing"]) == len(config.sensors)
    assert degraded_inputs(config, {**attrs, "series_count_sensors": 0}, {}) == [
        "groundwater: 2 of 16 out of date (W03, W07)"]
    reports = {"sensors": "FAILED: every file unreadable"}
    reasons = degraded_inputs(config, attrs, reports)
    assert reasons[0].startswith("sensors: ingest failed") and "groundwater: 2 of 16 out of date (W03, W07)" in reasons
    from pipelines.outcome import ExitCode, Outcome

    outcome = Outcome()
    for reason in degraded_inputs(config, attrs):
        outcome.add(reason.split(":", 1)[0], reason.split(":", 1)[1].strip())
    assert outcome.code == ExitCode.DEGRADED
    approval = SimpleNamespace(approved=True, mode="auto", by="droogte", at="2025-08-15T06:30:00+00:00", note="")
    proposal = SimpleNamespace(changes=[], escalation=None, computed_until=None, decisions=None)
    summary = run_summary_markdown("demo", config.date, proposal, {}, approval, outcome=outcome)
    assert "W03, W07" in summary


def test_a_source_without_any_data_gets_its_own_notice_and_the_unknown_count_none():
    import datetime as dt

    from pipelines.input_status import unknown_states
    from pipelines.outcome import Outcome
    from pipelines.publication.artifacts import page_notices

    decisions = pd.DataFrame({"restriction": ["unknown", "none", "unknown"],
                              "groundwater_ban_unknown": [False, False, True]})
    outcome = Outcome()
    outcome.add("sensors", "no data held at all (peilen.xml); the decisions it feeds keep the decision log's state")
    outcome.add("decisions", unknown_states(decisions))
    assert outcome.problems[1].message.startswith("2 district(s) with the surface-water restriction unknown; "
                                                  "1 district(s) with the groundwater ban unknown")
    notices = page_notices(outcome, dt.date(2025, 8, 16))
    assert len(notices) == 1  # the unknown districts say so on their own cards
    assert "Er zijn geen gegevens over waterpeilen in sloten en vaarten" in notices[0]["nl"]
    assert "'Onbekend'" in notices[0]["nl"] and "'Unknown'" in notices[0]["en"]
