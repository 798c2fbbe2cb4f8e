"""The whole daily run on the embedded demo: raw files in, processed outputs and a map out.

Runs the real Prefect flow (ephemeral API, see conftest) and the allocation on a real local
Dask cluster. One run is shared by the assertions below; a second run of the same day checks
that nothing is duplicated.
"""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pandas as pd
import pytest
import xarray as xr

from pipelines.daily_run import drought_run
from pipelines.store import ALLOCATION, DECISION_LOG, INDICATORS


@pytest.fixture(scope="module")
def demo_run(demo_daily_run):
    return demo_daily_run  # the session's demo run (tests/conftest.py); these tests carry it on


def test_run_reports_its_outputs(demo_run):
    config, result = demo_run
    assert result["date"] == "2025-08-15"
    for label, path in result["outputs"].items():
        assert path.exists(), f"{label}: {path} missing"
    reports = result["ingest"]
    assert reports["meteo"].files == 6 and not reports["meteo"].failed_files
    assert reports["groundwater"].files == 16
    assert reports["sensors"].files == 1
    # The demo's day is a Friday, its publication.bulletin_weekday: the run writes the bulletin.
    bulletin = result["outputs"]["bulletin"]
    assert bulletin.name == "bulletin-demo-2025-W33-nl.html" and bulletin.parent == config.site_dir.parent / "bulletins"
    page = bulletin.read_text(encoding="utf-8")
    assert "Droogtebericht demo – week 33, 2025" in page and "Rijnafvoer bij Lobith" in page
    assert (bulletin.parent / "bulletin-demo-2025-W33-en.html").exists()


def test_the_dashboard_reads_the_outlook_on_from_today(demo_run):
    """The outlook's first day is today's allocation; the dashboard says what its chances are of."""
    config, _ = demo_run
    allocation = xr.open_dataset(config.processed_dir / ALLOCATION)
    ensemble = xr.open_dataset(config.processed_dir / "outlook.nc")
    today = allocation.isel(time=-1)
    short = (today["shortage"] > 1e-9 * today["demand"] + 1e-9).transpose("district", "use").values
    first = ensemble["shortage_probability_daily"].isel(time=0).transpose("district", "use").values
    assert short.any() and (first == short).all()
    page = (config.site_dir / "dashboard.html").read_text(encoding="utf-8")
    assert "op minstens één dag, vandaag meegerekend" in page and "Rijnafvoer bij Lobith" in page
    assert "Tekort vandaag en waardoor" in page and "Oorzaak:" in page


def test_ingest_stores_the_demo_files_through_the_real_readers(demo_run):
    config, _ = demo_run
    meteo = pd.read_parquet(config.processed_dir / "meteo.parquet")
    days = (pd.Timestamp("2025-08-15") - pd.Timestamp("1991-01-01")).days + 1
    assert len(meteo) == 6 * days
    assert meteo.loc[meteo["station"] == "906", "evaporation_mm"].isna().all()
    assert meteo["precipitation_mm"].max() < 150  # mm/day, not 0.1 mm
    levels = pd.read_parquet(config.processed_dir / "groundwater.parquet")
    assert levels["well"].nunique() == 16
    sensors = pd.read_parquet(config.processed_dir / "sensors.parquet")
    assert sensors["sensor"].nunique() == 24
    assert str(sensors["time"].dt.tz) == "UTC"


def test_indicators_carry_the_deficit_per_district(demo_run):
    config, _ = demo_run
    with xr.open_dataset(config.processed_dir / INDICATORS) as ds:
        deficit = ds["precipitation_deficit"].sel(time="2025-08-15")
        assert deficit.sizes["district"] == 64
        assert ds["precipitation_deficit"].attrs["units"] == "mm"
        # a dry 2025 in the demo: a marked deficit everywhere by mid-August
        assert float(deficit.min()) > 100


def test_allocation_follows_the_verdringingsreeks_and_runs_short(demo_run):
    config, _ = demo_run
    with xr.open_dataset(config.processed_dir / ALLOCATION) as ds:
        assert set(ds["category"].values) == {"1a", "1b", "1c", "2a", "2b", "3", "4"}
        shortage = ds["shortage"].sum(["time", "district"])
        demand = ds["demand"].sum(["time", "district"])
        frac = (shortage / demand.where(demand > 0)).groupby(ds["category"]).max()
        assert float(frac.sel(category="4")) > 0.05, "the demo season must produce category-4 shortage"
        # higher categories are never worse off than category 4 across the season
        assert float(frac.sel(category="1a")) <= float(frac.sel(category="4"))
        assert float(frac.sel(category="2a")) <= float(frac.sel(category="4"))
        assert ds["demand"].attrs["units"] == "m3/day"


def test_restrictions_are_decided_and_logged(demo_run):
    config, result = demo_run
    log = pd.read_parquet(config.processed_dir / DECISION_LOG)
    assert len(log) > 0
    assert set(log["restriction"]) - {"none"}, "the demo drought must restrict somewhere"
    assert result["approval"].approved and result["approval"].mode in {"auto", "unchanged"}


def test_published_map_opens_offline_and_shows_every_district(demo_run):
    config, _ = demo_run
    html = (config.site_dir / "index.html").read_text(encoding="utf-8")
    assert "<html lang=" in html and "<title>" in html
    # Links a person may follow (the water board's announcement) are allowed; nothing is loaded.
    loads = re.findall(r"""<(?:script|img|link|iframe|source)\b[^>]*?\b(?:src|href)\s*=\s*["']?((?:https?:)?//[^"'\s>]+)""",
                       html)
    assert loads == [], "the page must load nothing external"
    assert '<a href="https://www.officielebekendmakingen.nl/">' in html  # the demo boards' announcement
    for district in gpd.read_file(config.districts)["name"]:
        assert district.split()[0] in html
    geojson = json.loads((config.site_dir / "restrictions.geojson").read_text(encoding="utf-8"))
    assert len(geojson["features"]) == 64


def test_second_run_of_the_same_day_adds_no_records(demo_run, monkeypatch):
    import yaml

    config, _ = demo_run
    before = pd.read_parquet(config.processed_dir / DECISION_LOG)
    meteo_before = pd.read_parquet(config.processed_dir / "meteo.parquet")
    parsed = []
    load = yaml.load

    def counting(stream, Loader=None, *args, **kwargs):
        if getattr(Loader, "__name__", "") == "SetupLoader":  # pipelines/config_yaml.py
            parsed.append(1)
        return load(stream, Loader, *args, **kwargs)

    monkeypatch.setattr(yaml, "load", counting)
    result = drought_run(config_path=str(config.path))
    assert len(parsed) == 1  # the run loads its setup once and hands it to every task and flow
    after = pd.read_parquet(config.processed_dir / DECISION_LOG)
    assert len(after) == len(before)
    assert len(pd.read_parquet(config.processed_dir / "meteo.parquet")) == len(meteo_before)
    assert result["ingest"]["meteo"].added == 0
    assert result["approval"].mode == "unchanged"
    # the live site is still one symlink to one plain version folder
    assert config.site_dir.is_symlink()
    versions = sorted(p.name for p in config.site_dir.parent.iterdir() if p.name.startswith("site."))
    assert versions and all(name.count(".") == 1 for name in versions), versions


def test_the_climatology_is_cached_until_its_inputs_change(demo_run):
    import asyncio

    from prefect.client.orchestration import get_client

    from pipelines.daily_run import _climatology_key
    from pipelines.store import WEATHER, write_netcdf

    config, _ = demo_run

    async def climatology_states():
        async with get_client() as client:
            runs = await client.read_task_runs()
        return [r.state.name for r in runs if r.name.startswith("deficit-climatology")]

    states = asyncio.run(climatology_states())
    assert states.count("Completed") >= 1 and "Cached" in states  # the second daily run reused it

    parameters = {"config": config, "day": pd.Timestamp("2025-08-15").date()}
    key = _climatology_key(None, parameters)
    assert _climatology_key(None, parameters) == key
    with xr.open_dataset(config.processed_dir / WEATHER) as weather:
        changed = weather.load()
    changed["precipitation_mm"][0, 0] += 1.0  # one corrected rain value on one day
    write_netcdf(changed, config.processed_dir / WEATHER)
    assert _climatology_key(None, parameters) != key
    next_year = dict(parameters, day=pd.Timestamp("2026-08-15").date())
    assert _climatology_key(None, next_year) != _climatology_key(None, parameters)


def test_on_demand_outlook_with_a_longer_horizon_publishes_nothing(demo_run):
    from pipelines.outlook_run import outlook_run

    config, _ = demo_run
    site_before = (config.site_dir / "index.html").resolve()
    log_before = pd.read_parquet(config.processed_dir / DECISION_LOG)
    path = outlook_run(config_path=str(config.path), horizon_days=14)
    with xr.open_dataset(path) as ensemble:
        assert ensemble.sizes["time"] == 14
        assert str(ensemble["time"].values[0])[:10] == "2025-08-15"  # it starts today, from today's state
        assert ensemble.sizes["member"] == 34  # one per past year, 1991-2024
        probability = ensemble["shortage_probability"]
        assert float(probability.min()) >= 0 and float(probability.max()) <= 1
    assert (config.site_dir / "index.html").resolve() == site_before
    assert len(pd.read_parquet(config.processed_dir / DECISION_LOG)) == len(log_before)


def test_before_the_deficit_season_there_is_no_chart_to_draw(demo_run):
    import datetime as dt

    from pipelines.inputs import read_districts
    from pipelines.briefing import deficit_charts

    config, _ = demo_run
    assert deficit_charts(config, dt.date(2025, 3, 15), None, None) == (None, {})
    setup_chart, board_charts = deficit_charts(config, dt.date(2025, 8, 15),
                                               xr.open_dataset(config.processed_dir / INDICATORS).load(),
                                               read_districts(config))
    assert setup_chart is not None and set(board_charts) == {"WBW", "WBO"}


# --- daily operations: freshness, late data, the live timeline, failed files ------------------
# These run after the tests above: they move the demo's timeline forward to 17 August.


def test_the_newest_data_held_is_reported_when_nothing_new_came_in(demo_run):
    from pipelines.ingest.flows import ingest_groundwater

    config, _ = demo_run
    report = ingest_groundwater(config_path=str(config.path), until="2025-08-15")
    assert report.files == 0 and report.unchanged_files == 16  # nothing new
    assert report.newest is not None and report.newest.startswith("2025-08-14")


def test_a_run_two_days_past_the_data_carries_the_decisions_and_says_which_data_are_missing(demo_run, capsys):
    from pipelines.cli import main

    config, _ = demo_run
    published_before = pd.read_parquet(config.processed_dir / "published.parquet")
    code = main(["run", "--config", str(config.path), "--date", "2025-08-17"])
    out, err = capsys.readouterr()
    assert code == 3, out + err
    assert "exit code 3 (DEGRADED)" in out
    assert "meteo: newest complete day held is 2025-08-15, the run asked for 2025-08-17" in err
    assert "Traceback" not in out + err
    metadata = json.loads((config.site_dir / "metadata.json").read_text(encoding="utf-8"))
    assert metadata["valid_from"] == "2025-08-17"
    assert any("(meteo)" in n["en"] and "15 August 2025" in n["en"] for n in metadata["notices"])
    page = (config.site_dir / "index.html").read_text(encoding="utf-8")
    assert "lopen tot en met 15 augustus 2025" in page
    # carried unchanged: the same restriction per district as on the 15th
    published = pd.read_parquet(config.processed_dir / "published.parquet")
    columns = ["district_id", "restriction", "groundwater_ban"]
    assert published[columns].equals(published_before[columns])
    assert json.loads((config.processed_dir / "timeline.json").read_text())["decided_until"] == "2025-08-17"


def test_a_back_dated_run_is_refused_and_leaves_the_live_site_and_log_alone(demo_run, capsys, tmp_path):
    from pipelines.cli import main

    config, _ = demo_run
    live = config.site_dir.resolve()
    log = pd.read_parquet(config.processed_dir / DECISION_LOG)
    code = main(["run", "--config", str(config.path), "--date", "2025-06-01"])
    out, err = capsys.readouterr()
    assert code == 5, out + err
    assert "decided up to 2025-08-17" in err and "--output DIR" in err
    assert config.site_dir.resolve() == live
    assert pd.read_parquet(config.processed_dir / DECISION_LOG).equals(log)


def test_a_back_test_runs_into_its_own_output_and_never_touches_the_live_site(demo_run, capsys, tmp_path):
    from pipelines.cli import main

    config, _ = demo_run
    live = config.site_dir.resolve()
    log = pd.read_parquet(config.processed_dir / DECISION_LOG)
    # (the demo's sensor records begin in mid-June: a day within them keeps every source fresh)
    code = main(["run", "--config", str(config.path), "--date", "2025-07-15", "--output", str(tmp_path / "bt")])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    own = json.loads((tmp_path / "bt" / "site" / "metadata.json").read_text(encoding="utf-8"))
    assert own["valid_from"] == "2025-07-15" and own["notices"] == []
    assert (tmp_path / "bt" / "processed" / DECISION_LOG).is_file()
    assert config.site_dir.resolve() == live
    assert pd.read_parquet(config.processed_dir / DECISION_LOG).equals(log)


def test_the_ingests_are_tasks_of_the_daily_run_with_their_own_states(demo_run):
    """Each source's ingest shows in the Prefect UI as a task run of the daily run, with its
    own state (no sub-flow runs: those cost about 0.5 s each)."""
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (FlowFilter, FlowFilterName, FlowRunFilter, FlowRunFilterId,
                                                FlowRunFilterParentFlowRunId)

    async def daily_runs():
        async with get_client() as client:
            flows = await client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["drought-run"])))
            found = []
            for run in flows:
                tasks = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])))
                children = await client.read_flow_runs(flow_run_filter=FlowRunFilter(
                    parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[run.id])))
                found.append(({t.name.rsplit("-", 1)[0]: t.state.name for t in tasks}, children))
            return found

    runs = asyncio.run(daily_runs())
    assert runs
    for tasks, children in runs:
        assert children == [], [c.name for c in children]
    assert any(all(tasks.get(f"ingest-{source}") == "Completed" for source in ("meteo", "groundwater", "sensors"))
               for tasks, _ in runs), [tasks for tasks, _ in runs]
