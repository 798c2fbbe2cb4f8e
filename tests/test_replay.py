"""Season replay on the demo with its river as a Lobith discharge series: one run over the days,
into its own folder, never the live site; and the setup keys of the river source."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from pipelines.config import ConfigError, load_config
from pipelines.demo import write_demo


@pytest.fixture(scope="module")
def river_setup(tmp_path_factory) -> Path:
    """The demo, its national source given as the synthetic Lobith discharge it was made from."""
    root = tmp_path_factory.mktemp("river")
    config_path = write_demo(root / "raw", processed_dir=root / "processed", site_dir=root / "site",
                             archive_dir=root / "archive")
    supply = pd.read_csv(config_path.parent / "source" / "supply.csv", comment="#")
    (config_path.parent / "source" / "lobith.csv").write_text(
        "date,discharge_m3_s\n" + "".join(f"{d},{q}\n" for d, q in zip(supply["date"], supply["lobith_m3_s"],
                                                                      strict=True)), encoding="utf-8")
    data = yaml.safe_load(config_path.read_text())
    data["source"] = {"discharge": "source/lobith.csv",
                      "river_model": {"minimum_flow_m3_s": 500, "regional_fraction": 0.08, "max_regional_m3_s": 93},
                      "national_criteria": {"threatening_m3_s": 1400, "acting_m3_s": 1200}}
    path = config_path.parent / "river.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(("source", "key", "expected"), [
    ({"discharge": "source/lobith.csv", "supply_m3_day": 1}, "source", "exactly one of"),
    ({"discharge": "source/none.csv"}, "source.discharge", "file not found"),
    ({"discharge": "source/lobith.csv", "river_model": {"minimum_flow": 5}}, "source.river_model.minimum_flow",
     "did you mean 'minimum_flow_m3_s'"),
    ({"discharge": "source/lobith.csv", "river_model": {"regional_fraction": 2}},
     "source.river_model.regional_fraction", "<= 1"),
    ({"discharge": "source/lobith.csv", "national_criteria": {"threatening_m3_s": 1000, "acting_m3_s": 1200}},
     "source.national_criteria.acting_m3_s", "must not exceed threatening_m3_s"),
])
def test_river_source_errors_name_the_key(river_setup, tmp_path, source, key, expected):
    data = yaml.safe_load(river_setup.read_text())
    data["source"] = source
    path = river_setup.parent / f"bad-{tmp_path.name}.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert error.value.key == key and expected in str(error.value)


def test_river_source_loads_with_its_assumptions(river_setup):
    source = load_config(river_setup).source
    assert source.discharge.name == "lobith.csv" and source.river_model.regional_fraction == 0.08
    assert source.river_model_assumed == ("setup_share",)


@pytest.fixture(scope="module")
def replayed(river_setup, prefect_harness, tmp_path_factory):
    from pipelines.replay import replay_season

    config = load_config(river_setup)
    out = tmp_path_factory.mktemp("replay") / "season"
    outputs = replay_season(config, dt.date(2025, 7, 15), dt.date(2025, 8, 15), out=out, outlook_every=31)
    return config, out, outputs


def test_replay_writes_its_own_folder_and_never_the_site(replayed):
    config, out, outputs = replayed
    assert not config.site_dir.exists() and not config.processed_dir.exists()  # the live outputs untouched
    assert {p.name for p in outputs.values()} == {"decisions.parquet", "escalation.parquet", "restrictions.parquet",
                                                  "timeline.csv", "changes.csv", "timeline.png"}
    assert all(Path(p).parent == out for p in outputs.values())
    assert (out / "timeline.png").read_bytes()[:4] == b"\x89PNG"


def test_timeline_has_one_row_per_day_with_supply_from_the_discharge(replayed):
    config, out, _ = replayed
    timeline = pd.read_csv(out / "timeline.csv", parse_dates=["date"])
    assert list(timeline["date"]) == list(pd.date_range("2025-07-15", "2025-08-15"))
    assert {"national_level", "level_WBW", "level_WBO", "discharge_m3_s", "supply_m3_day",
            "precipitation_deficit_mm", "districts_surface_water_ban"} <= set(timeline.columns)
    expected = config.source.river_model.supply_m3_day(timeline["discharge_m3_s"].to_numpy())
    np.testing.assert_allclose(timeline["supply_m3_day"], expected, rtol=1e-5)
    lobith = pd.read_csv(config.source.discharge, parse_dates=["date"]).set_index("date")["discharge_m3_s"]
    np.testing.assert_allclose(timeline["discharge_m3_s"], lobith.reindex(timeline["date"]).to_numpy(), rtol=1e-5)


def test_restrictions_per_day_are_those_a_daily_run_shows(replayed):
    from models.restrictions.proposal import decisions_on
    from pipelines.inputs import read_districts

    config, out, _ = replayed
    decisions = pd.read_parquet(out / "decisions.parquet")
    restrictions = pd.read_parquet(out / "restrictions.parquet")
    districts = read_districts(config)
    for day in pd.to_datetime(["2025-07-15", "2025-08-01", "2025-08-15"]):
        mine = restrictions[restrictions["date"] == day].set_index("district_id")
        daily = decisions_on(decisions, day.date(), districts).set_index("district_id")
        assert mine["restriction"].to_dict() == daily["restriction"].to_dict()
        assert mine["groundwater_ban"].to_dict() == daily["groundwater_ban"].astype(bool).to_dict()


def test_changes_list_exactly_the_days_levels_moved(replayed):
    _, out, _ = replayed
    timeline = pd.read_csv(out / "timeline.csv", parse_dates=["date"])
    changes = pd.read_csv(out / "changes.csv", parse_dates=["date"])
    national = changes[changes["scope"] == "national"]
    level = timeline.set_index("date")["national_level"]
    moved = level[level != level.shift(fill_value=0)]
    assert list(national["date"]) == list(moved.index)
    assert list(national["becomes"].astype(int)) == list(moved.to_numpy())


def test_briefing_draws_the_measured_discharge_against_the_setups_criteria(river_setup, tmp_path):
    """A setup with a Lobith series shows that series (not a supply-file column) in the
    briefing's river chart, with the national criteria the setup states."""
    from pipelines.briefing import lobith_thresholds, national_supply

    data = yaml.safe_load(river_setup.read_text())
    data["source"]["national_criteria"] = {"threatening_m3_s": 1500, "acting_m3_s": 1100}
    path = river_setup.parent / "river-criteria.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    config = load_config(path)
    days = pd.date_range("2025-07-01", "2025-08-15", freq="D")
    discharge, supply = national_supply(config, days)
    measured = pd.read_csv(river_setup.parent / "source" / "lobith.csv", index_col="date", parse_dates=True)
    assert discharge.reindex(days).to_numpy() == pytest.approx(measured["discharge_m3_s"].reindex(days).to_numpy())
    assert supply.to_numpy() == pytest.approx(config.source.river_model.supply_m3_day(discharge.reindex(days)))
    assert [value for value, _, _ in lobith_thresholds(config)] == [1500.0, 1100.0]
