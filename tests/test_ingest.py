"""The ingest flows under a real (temporary) Prefect API: bad files and bad records cost only
themselves, a failing source does not stop the others, and re-ingesting duplicates nothing."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
import yaml

from models.qc import QcFlag
from pipelines.ingest.archive import read_index
from pipelines.config import load_config
from pipelines.demo import write_demo
from pipelines.ingest.flows import (GROUNDWATER_TABLE, METEO_TABLE, QUARANTINE_TABLE, SENSORS_TABLE, ingest_all,
                              ingest_groundwater, ingest_meteo)


@pytest.fixture()
def setup(tmp_path):
    path = write_demo(tmp_path / "raw", processed_dir=tmp_path / "processed", site_dir=tmp_path / "site",
                      archive_dir=tmp_path / "archive")
    return load_config(path)


def test_a_broken_file_fails_alone_and_stored_data_stay(setup, prefect_harness):
    first = ingest_meteo(config_path=str(setup.path))
    assert first.files == 6 and first.added > 0
    stored = pd.read_parquet(setup.processed_dir / METEO_TABLE)

    broken = setup.stations[2].file
    broken.write_text("this is not a KNMI file\n")
    report = ingest_meteo(config_path=str(setup.path))
    assert report.files == 0 and report.unchanged_files == 5  # the others have nothing new
    assert len(report.failed_files) == 1 and str(broken) in report.failed_files[0]
    assert "STN,YYYYMMDD" in report.failed_files[0]  # says what was expected
    assert report.added == 0 and report.updated == 0
    pd.testing.assert_frame_equal(pd.read_parquet(setup.processed_dir / METEO_TABLE), stored)


def test_a_bad_record_is_quarantined_with_file_and_line(setup, prefect_harness):
    well = setup.wells[0].file
    lines = well.read_text(encoding="utf-8").splitlines()
    bad_line = len(lines) - 3
    lines[bad_line - 1] = '"B90A0000","001","31-02-2024","x","y","z","","","","","","",""'
    well.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    report = ingest_groundwater(config_path=str(setup.path))
    assert report.files == 16 and report.quarantined == 1
    quarantine = pd.read_parquet(setup.processed_dir / QUARANTINE_TABLE)
    row = quarantine.iloc[0]
    assert row["path"] == str(well) and row["line"] == bad_line and row["source"] == "groundwater"
    assert "31-02-2024" in row["text"]
    levels = pd.read_parquet(setup.processed_dir / GROUNDWATER_TABLE)
    assert levels["well"].nunique() == 16  # the rest of that file still ingested


def test_a_failing_source_is_reported_and_the_others_run(setup, prefect_harness):
    # a sensors table of another form: storing the sensor series must fail
    (setup.processed_dir).mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"sensor": ["x"], "time": [pd.Timestamp("2025-01-01", tz="UTC")]}).to_parquet(
        setup.processed_dir / SENSORS_TABLE)
    reports = ingest_all(config_path=str(setup.path))
    assert isinstance(reports["sensors"], str) and reports["sensors"].startswith("FAILED")
    assert "columns differ" in reports["sensors"]
    assert reports["meteo"].files == 6 and reports["groundwater"].files == 16


def test_reingesting_the_same_and_overlapping_files_adds_nothing(setup, prefect_harness, tmp_path):
    first = ingest_all(config_path=str(setup.path))
    again = ingest_all(config_path=str(setup.path))
    for source in ("meteo", "groundwater", "sensors"):
        assert again[source].added == 0 and again[source].updated == 0
        # unchanged files are not even read again
        assert again[source].files == 0 and again[source].unchanged_files == first[source].files
    # a changed setting (a well's lower limit) makes its file count as new again
    data = yaml.safe_load(setup.path.read_text())
    data["wells"][0]["lower_limit_m_nap"] = -9.0
    setup.path.write_text(yaml.safe_dump(data))
    changed = ingest_all(config_path=str(setup.path))
    assert changed["groundwater"].files == 1 and changed["groundwater"].unchanged_files == 15
    assert changed["groundwater"].added == 0  # same levels, now stored with the new limit
    wells = pd.read_parquet(setup.processed_dir / "wells.parquet")
    assert (wells["lower_limit_m_nap"] == -9.0).sum() == 1
    # the same bytes are archived once, however often they are ingested
    index = read_index(setup.raw_archive_dir)
    assert len({entry["sha256"] for entry in index}) == 6 + 16 + 1 + 0
    stored = list((setup.raw_archive_dir).rglob("*"))
    assert sum(1 for p in stored if p.is_file() and p.name != "index.jsonl") == 23


def test_new_qc_thresholds_flag_unchanged_files_anew(setup, prefect_harness):
    first = ingest_meteo(config_path=str(setup.path))
    meteo = pd.read_parquet(setup.processed_dir / METEO_TABLE)
    wet = meteo["precipitation_mm"] > 5.0
    assert wet.any() and not (meteo.loc[wet, "qc_precipitation_mm"] & int(QcFlag.RANGE)).any()
    data = yaml.safe_load(setup.path.read_text())
    data["qc"] = {"precipitation": {"max": 5.0}}
    setup.path.write_text(yaml.safe_dump(data))
    again = ingest_meteo(config_path=str(load_config(setup.path).path))
    # every file is read again under the new thresholds, and only the flags change
    assert again.files == first.files and again.unchanged_files == 0 and again.added == 0
    meteo = pd.read_parquet(setup.processed_dir / METEO_TABLE)
    wet = meteo["precipitation_mm"] > 5.0
    assert again.updated == int(wet.sum())
    assert (meteo.loc[wet, "qc_precipitation_mm"] & int(QcFlag.RANGE)).all()
    assert not (meteo.loc[~wet, "qc_precipitation_mm"] & int(QcFlag.RANGE)).any()


def test_overlapping_newer_file_adds_only_the_new_days(setup, prefect_harness):
    ingest_meteo(config_path=str(setup.path))
    before = pd.read_parquet(setup.processed_dir / METEO_TABLE)
    station = setup.stations[0]
    text = station.file.read_text(encoding="latin-1")
    extra = text.rstrip("\r\n").splitlines()[-1].replace("20250815", "20250816")
    shutil.copy(station.file, station.file.with_suffix(".bak"))
    station.file.write_text(text + extra + "\r\n", encoding="latin-1")
    report = ingest_meteo(config_path=str(setup.path))
    assert report.added == 1 and report.updated == 0
    after = pd.read_parquet(setup.processed_dir / METEO_TABLE)
    assert len(after) == len(before) + 1
