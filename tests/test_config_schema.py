"""The setup file's schema: typos refused at every depth, numbers as people write them, positions
in RD New, finite bounded numbers, safe paths, and no YAML bombs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from pipelines.config import ConfigError, load_config
from pipelines.config_schema import RD_X_RANGE, RD_Y_RANGE
from pipelines.demo import write_demo

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo_config(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("schema")
    return write_demo(root / "raw", processed_dir=root / "processed", site_dir=root / "site",
                      archive_dir=root / "archive")


def _write(demo_config: Path, tmp_path: Path, text: str) -> Path:
    path = demo_config.parent / f"case-{tmp_path.name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _edited(demo_config: Path, tmp_path: Path, change) -> Path:
    data = yaml.safe_load(demo_config.read_text())
    change(data)
    return _write(demo_config, tmp_path, yaml.safe_dump(data, sort_keys=False))


def _replaced(demo_config: Path, tmp_path: Path, old: str, new: str) -> Path:
    text = demo_config.read_text()
    assert old in text, old
    return _write(demo_config, tmp_path, text.replace(old, new, 1))


def _faults(path: Path) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return dict(caught.value.faults)


def test_typos_at_every_depth_are_refused_with_the_nearest_key(demo_config, tmp_path):
    def typos(d):
        d["publication"] = {"aproval": "analyst"}
        d["dask"] = {"worker": 2}
        d["outlook"] = {"horizon_day": 10}
        d["freshness"] = {"stale_after": 3}
        d["output"]["procesed"] = d["output"].pop("processed")
        d["wells"][0]["lower_limit_nap"] = d["wells"][0].pop("lower_limit_m_nap")
        d["stations"][2]["fiel"] = "x"
        d["qc"] = {"water_level": {"spik": 0.4}}
        d["services"] = {"bro_gld": {"first_day": "2025-01-01", "dossiers": [
            {"gld": "G1", "well": "W-1", "x": 140000, "y": 456000, "lower_limit": -1}]}}
        d["rules"] = {"WBW": [{"id": "r", "restriction": "watch", "indicator": "deficit_anomaly_mm",
                               "operator": ">=", "treshold": 5, "min_days": 3, "lift_threshold": 1,
                               "lift_days": 2}]}
        d["exemptions"] = {"groundwater_ban": {"nl": ["vee"], "en": ["cattle"], "de": ["Vieh"]}}

    faults = _faults(_edited(demo_config, tmp_path, typos))
    assert faults["publication.aproval"] == "unknown key (did you mean 'approval'?)"
    assert faults["dask.worker"] == "unknown key (did you mean 'workers'?)"
    assert faults["outlook.horizon_day"] == "unknown key (did you mean 'horizon_days'?)"
    assert faults["freshness.stale_after"] == "unknown key (did you mean 'stale_after_days'?)"
    assert faults["output.procesed"] == "unknown key (did you mean 'processed'?)"
    assert faults["wells[0].lower_limit_nap"] == "unknown key (did you mean 'lower_limit_m_nap'?)"
    assert faults["stations[2].fiel"] == "unknown key (did you mean 'file'?)"
    assert faults["qc.water_level.spik"] == "unknown test (did you mean 'spike'?)"
    assert faults["services.bro_gld.dossiers[0].lower_limit"].startswith("unknown key (did you mean 'lower_limit_m_nap'")
    assert faults["rules.WBW[0].treshold"].startswith("unknown key; valid keys are id, restriction")
    assert faults["exemptions.groundwater_ban.de"].startswith("unknown key")


def test_every_fault_is_one_line_naming_the_file(demo_config, tmp_path):
    path = _edited(demo_config, tmp_path, lambda d: d.update(dask={"worker": 2}, outlook={"horizon_day": 1}))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    lines = str(caught.value).splitlines()
    assert len(lines) == 2 and all(line.startswith(f"{path}: ") for line in lines)
    assert caught.value.key == "dask.worker"  # the first fault, as before for callers


@pytest.mark.parametrize(("written", "value"), [
    ("1.5e6", 1.5e6), ("4.0e6", 4.0e6), ("1.5E+6", 1.5e6), ("1_500_000", 1.5e6), ("1500000", 1.5e6),
    ("15e5", 1.5e6), ("1.5e+6", 1.5e6), ("2e5", 2.0e5),
])
def test_numbers_as_people_write_them(demo_config, tmp_path, written, value):
    path = _replaced(demo_config, tmp_path, "inlet_capacity_m3_day: 1500000.0",
                     f"inlet_capacity_m3_day: {written}")
    board = load_config(path).water_boards[0]
    assert board.inlet_capacity_m3_day == value


def test_a_supply_in_exponent_notation_is_a_number(demo_config, tmp_path):
    path = _replaced(demo_config, tmp_path, "source:\n  file: source/supply.csv", "source:\n  supply_m3_day: 4.0e6")
    assert load_config(path).source.supply_m3_day == 4.0e6


def test_yes_and_no_stay_text(demo_config, tmp_path):
    path = _replaced(demo_config, tmp_path, "name: Demo-Noordwest", "name: NO")
    assert load_config(path).stations[0].name == "NO"


@pytest.mark.parametrize(
    ("old", "new", "key", "expected"),
    [
        ("  x: 125000\n", "  x: .nan\n", "stations[0].x", "expected a finite number, got nan"),
        ("  x: 125000\n", "  x: .inf\n", "stations[0].x", "expected a finite number, got inf"),
        ("inlet_capacity_m3_day: 1500000.0", "inlet_capacity_m3_day: 1e400", "water_boards[0].inlet_capacity_m3_day",
         "expected a finite number, got inf"),
        ("inlet_capacity_m3_day: 1500000.0", "inlet_capacity_m3_day: 3e9", "water_boards[0].inlet_capacity_m3_day",
         "must be <= 1_000_000_000 m³/day"),
        ("source:\n  file: source/supply.csv", "source:\n  supply_m3_day: -.inf",
         "source.supply_m3_day", "expected a finite number"),
        ("workers: 2", "workers: 100000", "dask.workers", "expected a whole number from 1 to 256"),
        ("workers: 2", "workers: 0", "dask.workers", "expected a whole number from 1 to 256"),
        ("horizon_days: 42", "horizon_days: 5000", "outlook.horizon_days", "expected a whole number from 1 to 366"),
        ("lower_limit_m_nap: -1.66", "lower_limit_m_nap: .nan", "wells[0].lower_limit_m_nap", "finite"),
        ("date: '2025-08-15'", "date: 9999-01-01", "date", "expected a date from 1900-01-01 to 2100-12-31"),
    ],
)
def test_numbers_must_be_finite_and_within_bounds(demo_config, tmp_path, old, new, key, expected):
    faults = _faults(_replaced(demo_config, tmp_path, old, new))
    assert expected in faults[key]


def test_ten_to_the_400_is_a_clean_error_at_its_line(demo_config, tmp_path):
    path = _replaced(demo_config, tmp_path, "inlet_capacity_m3_day: 1500000.0",
                     "inlet_capacity_m3_day: 1" + "0" * 400)
    with pytest.raises(ConfigError, match=r": line \d+, column \d+: not valid YAML: a number of 401 digits is too "
                                          r"large") as caught:
        load_config(path)
    assert len(str(caught.value)) < 400


def test_rule_days_are_bounded(demo_config, tmp_path):
    rule = {"id": "r", "restriction": "watch", "indicator": "deficit_anomaly_mm", "operator": ">=",
            "threshold": 5, "min_days": 10 ** 6, "lift_threshold": 1, "lift_days": 2}
    faults = _faults(_edited(demo_config, tmp_path, lambda d: d.update(rules={"*": [rule]})))
    assert faults["rules.*[0].min_days"].startswith("expected a whole number from 1 to 366 days")


def test_a_rule_for_a_board_that_does_not_exist_is_a_typo(demo_config, tmp_path):
    rule = {"id": "r", "restriction": "watch", "indicator": "deficit_anomaly_mm", "operator": ">=",
            "threshold": 5, "min_days": 3, "lift_threshold": 1, "lift_days": 2}
    faults = _faults(_edited(demo_config, tmp_path, lambda d: d.update(rules={"WBX": [rule]})))
    assert faults["rules.WBX"].startswith("not a water board of this setup (did you mean 'WBW'?)")


def test_rules_from_the_setup_become_the_rule_table(demo_config, tmp_path):
    rule = {"id": "own-ban", "restriction": "surface_water_ban", "indicator": "shortage_fraction_4",
            "operator": ">=", "threshold": 0.4, "min_days": 10, "lift_threshold": 0.2, "lift_days": 4}
    config = load_config(_edited(demo_config, tmp_path, lambda d: d.update(rules={"WBO": [rule]})))
    (own,) = config.rules.for_board("WBO")
    assert (own.id, own.threshold, own.min_days, own.lift_threshold, own.lift_days) == ("own-ban", 0.4, 10, 0.2, 4)
    assert config.rules.for_board("WBW") == ()  # WBW has no rules and there is no "*" entry


@pytest.mark.parametrize(("x", "y", "expected"), [
    (5.1, 475000, "5.1 looks like degrees (a longitude); expected metres east in EPSG:28992"),
    (125000, 52.1, "52.1 looks like degrees (a latitude); expected metres north in EPSG:28992"),
    (900000, 475000, "900_000 m lies outside the domain of EPSG:28992 (RD New)"),
])
def test_positions_must_be_rd_new_metres(demo_config, tmp_path, x, y, expected):
    def move(d):
        d["stations"][0].update(x=x, y=y)
    faults = _faults(_edited(demo_config, tmp_path, move))
    assert any(expected in message for key, message in faults.items() if key.startswith("stations[0]."))


def test_a_position_in_degrees_is_answered_with_its_rd_new_metres(demo_config, tmp_path):
    faults = _faults(_edited(demo_config, tmp_path, lambda d: d["stations"][0].update(x=5.1765, y=52.0992)))
    message = faults["stations[0].x"]
    assert message.startswith("x and y look like degrees: longitude 5.1765, latitude 52.0992 is x: ")
    east, north = (float(part.split(": ")[1]) for part in message.split(" is ")[1].split(" in ")[0].split(", "))
    assert abs(east - 140_000) < 1_500 and abs(north - 456_000) < 1_500  # De Bilt


def test_rd_new_domain_holds_the_area_of_use_of_epsg_28992():
    from pyproj import CRS, Transformer

    area = CRS.from_epsg(28992).area_of_use
    west, south, east, north = Transformer.from_crs(4326, 28992, always_xy=True).transform_bounds(
        area.west, area.south, area.east, area.north, densify_pts=50)
    assert RD_X_RANGE[0] <= west and east <= RD_X_RANGE[1]
    assert RD_Y_RANGE[0] <= south and north <= RD_Y_RANGE[1]
    assert RD_X_RANGE[1] - east < 10_000 and south - RD_Y_RANGE[0] < 10_000  # rounded, not widened


def test_a_knmi_station_named_by_its_number_takes_its_position_from_the_table(demo_config, tmp_path):
    def by_number(d):
        d["stations"][0] = {"id": "260", "file": d["stations"][0]["file"]}
    path = _edited(demo_config, tmp_path, by_number)
    # the file holds station 901; only the configuration is checked here, not the file's content
    station = load_config(path).stations[0]
    assert station.name == "De Bilt"
    assert abs(station.x - 140_800) < 1_000 and abs(station.y - 456_000) < 1_500


def test_a_station_not_in_the_table_needs_a_position(demo_config, tmp_path):
    def unplaced(d):
        d["stations"][0] = {"id": "901", "file": d["stations"][0]["file"]}
    faults = _faults(_edited(demo_config, tmp_path, unplaced))
    assert faults["stations[0].x"].startswith("station '901' is not in the KNMI station table")


def test_inputs_outside_the_setups_folder_must_be_allowed(demo_config, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    target = outside / "supply.csv"
    target.write_text((demo_config.parent / "source" / "supply.csv").read_text())
    relative = os.path.relpath(target, demo_config.parent)
    path = _edited(demo_config, tmp_path, lambda d: d.update(source={"file": relative}))
    assert "lies outside the setup's folder" in _faults(path)["source.file"]
    allowed = _edited(demo_config, tmp_path, lambda d: d.update(
        source={"file": relative}, allow_inputs_from=[os.path.relpath(outside, demo_config.parent)]))
    assert load_config(allowed).source.file == target.resolve()


@pytest.mark.parametrize("site", [".", "..", "knmi"])
def test_an_existing_folder_is_never_taken_as_the_site(demo_config, tmp_path, site):
    path = _edited(demo_config, tmp_path, lambda d: d["output"].update(site=site))
    before = sorted(p.name for p in demo_config.parent.iterdir())
    faults = _faults(path)
    assert "exists and is not a droogte site" in faults["output.site"] or "holds it" in faults["output.site"]
    assert sorted(p.name for p in demo_config.parent.iterdir()) == before


def test_the_setups_folder_is_no_output_folder(demo_config, tmp_path):
    faults = _faults(_edited(demo_config, tmp_path, lambda d: d["output"].update(processed=".")))
    assert "is the setup's folder or holds it" in faults["output.processed"]


def test_a_published_site_link_is_accepted(demo_config, tmp_path):
    config = load_config(demo_config)
    version = config.site_dir.with_name(f"{config.site_dir.name}.20250815T061500123456Z")
    version.mkdir(parents=True)
    config.site_dir.symlink_to(version.name)
    try:
        assert load_config(demo_config).site_dir == config.site_dir
    finally:
        config.site_dir.unlink()
        version.rmdir()


def test_an_alias_bomb_is_refused_quickly_with_a_short_message(demo_config, tmp_path):
    bomb = 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
        f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]\n" for i in range(1, 9))
    path = _write(demo_config, tmp_path, demo_config.read_text() + "\nbomb:\n  " + bomb.replace("\n", "\n  "))
    start = time.perf_counter()
    with pytest.raises(ConfigError, match="aliases expand this document past 200_000 values") as caught:
        load_config(path)
    assert time.perf_counter() - start < 30  # generous on a busy machine; the old loader needed minutes
    assert len(str(caught.value)) < 500


def test_shared_rules_through_an_alias_are_fine(demo_config, tmp_path):
    text = demo_config.read_text().replace("rules: {}\n", (
        "rules:\n  WBW: &shared\n  - {id: a, restriction: watch, indicator: deficit_anomaly_mm, operator: '>=',"
        " threshold: 80, min_days: 7, lift_threshold: 50, lift_days: 7}\n"))
    path = _write(demo_config, tmp_path, text)
    assert [r.id for r in load_config(path).rules.for_board("WBW")] == ["a"]


def test_long_values_are_quoted_short(demo_config, tmp_path):
    long = "x" * 100_000
    faults = _faults(_edited(demo_config, tmp_path, lambda d: d.update(
        name=long, dask={"workers": long}, **{long: 1})))
    assert all(len(key) < 100 and len(message) < 300 for key, message in faults.items())


def test_a_name_is_no_path(demo_config, tmp_path):
    faults = _faults(_edited(demo_config, tmp_path, lambda d: d.update(name="../../etc")))
    assert "may not contain /" in faults["name"]


def _droogte(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_config_check_validates_without_running(demo_config, tmp_path):
    good = _droogte("config", "check", str(demo_config))
    assert good.returncode == 0 and "valid: setup 'demo'" in good.stdout
    processed = load_config(demo_config).processed_dir
    assert not processed.exists()  # nothing ran
    bad = _droogte("config", "check", str(_edited(demo_config, tmp_path, lambda d: d.update(dask={"worker": 2}))))
    assert bad.returncode == 2 and "dask.worker: unknown key (did you mean 'workers'?)" in bad.stderr


def test_config_schema_is_json_schema_that_the_demo_satisfies(demo_config):
    jsonschema = pytest.importorskip("jsonschema")
    result = _droogte("config", "schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    data = yaml.safe_load(demo_config.read_text())
    jsonschema.validate(data, schema)
    data["publication"]["aproval"] = "analyst"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)


def test_a_dollar_name_is_text_in_the_chart_title(tmp_path):
    import pandas as pd

    from dashboards.charts import levels_chart

    name = r"Waterschap $\frac{x$ / Oost"
    history = pd.DataFrame({"date": pd.date_range("2025-06-01", periods=3), "water_board": "WBO", "level": [0, 1, 2]})
    chart = levels_chart(history, names={"WBO": name})  # matplotlib would read $…$ as mathematics
    assert r"$\frac{x$ / Oost" in chart.svg["nl"] and r"$\frac{x$ / Oost" in chart.svg["en"]


def test_the_outlook_horizon_on_the_command_line_has_the_bounds_of_the_setup_file():
    result = _droogte("outlook", "--config", "x.yaml", "--horizon-days", "100000")
    assert result.returncode == 2 and "expected a whole number of days from 1 to 366" in result.stderr
