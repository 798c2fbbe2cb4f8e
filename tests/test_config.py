"""The setup file is validated before any work: errors name the file, the key and what is valid."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipelines.config import ConfigError, load_config
from pipelines.demo import write_demo


@pytest.fixture(scope="module")
def demo_config(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("setup")
    return write_demo(root / "raw", processed_dir=root / "processed", site_dir=root / "site",
                      archive_dir=root / "archive")


def _variant(demo_config: Path, tmp_path: Path, change) -> Path:
    data = yaml.safe_load(demo_config.read_text())
    change(data)
    path = demo_config.parent / f"variant-{tmp_path.name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_demo_configuration_loads_with_absolute_paths(demo_config):
    config = load_config(demo_config)
    assert config.name == "demo"
    assert [s.id for s in config.stations] == ["901", "902", "903", "904", "905", "906"]
    assert all(s.file.is_absolute() and s.file.is_file() for s in config.stations)
    assert len(config.wells) == 16 and all(w.lower_limit_m_nap is not None for w in config.wells)
    assert {b.id for b in config.water_boards} == {"WBW", "WBO"}
    assert config.site_dir == (demo_config.parent.parent / "site").resolve()
    assert config.approval == "auto"
    assert all(b.announcement_url.startswith("https://") for b in config.water_boards)
    assert config.update_every_days == 1 and config.site_url is None


@pytest.mark.parametrize(
    ("change", "key", "expected"),
    [
        (lambda d: d["stations"][1].update(x="far"), "stations[1].x", "expected a number"),
        (lambda d: d["stations"][0].update(file="knmi/missing.txt"), "stations[0].file", "file not found"),
        (lambda d: d.pop("water_boards"), "water_boards", "is required"),
        (lambda d: d["water_boards"][1].update(id="WBW"), "water_boards[1].id", "duplicate id"),
        (lambda d: d["water_boards"][0].update(inlet_capacity_m3_day=-5), "water_boards[0].inlet_capacity_m3_day",
         "must be >= 0"),
        (lambda d: d.update(date="15-08-2025"), "date", "expected a date YYYY-MM-DD"),
        (lambda d: d["sensors"][0].update(format="xlsx"), "sensors[0].format", "expected one of pi-xml, pi-json, csv"),
        (lambda d: d.update(publication={"approval": "maybe"}), "publication.approval", "expected one of auto, analyst"),
        (lambda d: d.update(priorities={"category_2": ["drinking_water"]}), "priorities.category_2",
         "only category_3 and category_4"),
        (lambda d: d.update(source={"supply_m3_day": 1, "file": "x.csv"}), "source", "exactly one of"),
        (lambda d: d.update(colour="blue"), "colour", "unknown key"),
        (lambda d: d.update(priorities={"category_4": ["agriculture", "drinking_water"]}), "priorities",
         "belongs to category 2a"),
        (lambda d: d.update(rules={"WBW": [{"id": "r1", "restriction": "watch", "indicator": "deficit_anomaly_mm",
                                             "operator": ">=", "threshold": "high", "min_days": 3,
                                             "lift_threshold": 1, "lift_days": 2}]}),
         "rules.WBW[0].threshold", "expected a finite number"),
        (lambda d: d.update(qc={"water_level": {"spike_height": 1}}), "qc.water_level.spike_height", "unknown test"),
        (lambda d: d.update(qc={"rainfall": {"max": 1}}), "qc.rainfall", "unknown variable"),
        (lambda d: d.update(services={"knmi_daggegevens": {"stations": ["260"]}}),
         "services.knmi_daggegevens.first_day", "is required"),
        (lambda d: d.update(services={"bro_gld": {"first_day": "2025-01-01", "dossiers": [{"gld": "G1", "well": "W-1",
                                                                                         "x": 1}]}}),
         "services.bro_gld.dossiers[0].y", "is required"),
        (lambda d: d.update(climatology={"knmi_national_deficit": "int_nl.dat"}), "climatology.knmi_national_deficit",
         "file not found"),
        (lambda d: d["water_boards"][0].update(announcement_url="javascript:alert(1)"),
         "water_boards[0].announcement_url", "expected an https://, http://, mailto: or tel: address"),
        (lambda d: d.update(publication={"site_url": "ftp://x"}), "publication.site_url", "expected an http:// or https://"),
        (lambda d: d.update(publication={"update_every_days": 0}), "publication.update_every_days", "expected a whole number from 1 to 366 days"),
    ],
)
def test_wrong_values_fail_naming_file_key_and_what_is_valid(demo_config, tmp_path, change, key, expected):
    path = _variant(demo_config, tmp_path, change)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert str(path) in message
    assert f": {key}: " in message
    assert expected in message


def test_broken_yaml_names_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: demo\nstations: [\n  - {id: 1\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml: line \d+, column \d+: not valid YAML"):
        load_config(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "nope.yaml")


def test_the_site_folder_is_not_resolved_through_the_live_symlink(demo_config, tmp_path):
    config = load_config(demo_config)
    version = config.site_dir.parent / "site.20250815T061500Z"
    version.mkdir(parents=True, exist_ok=True)
    config.site_dir.symlink_to(version.name)
    try:
        assert load_config(demo_config).site_dir == config.site_dir
    finally:
        config.site_dir.unlink()
