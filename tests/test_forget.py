"""Forgetting a file: its rows leave the processed tables, the raw archive keeps its bytes
(pipelines/ingest/forget.py, ``droogte ingest --forget``)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pipelines.config import load_config
from pipelines.demo import write_demo
from pipelines.ingest.flows import INGESTED_TABLE, METEO_TABLE, ingest_meteo


@pytest.fixture()
def ingested(tmp_path, prefect_harness):
    path = write_demo(tmp_path / "raw", processed_dir=tmp_path / "processed", site_dir=tmp_path / "site",
                      archive_dir=tmp_path / "archive")
    ingest_meteo(config_path=str(path))
    return load_config(path)


def test_forget_removes_the_files_rows_logs_it_and_keeps_the_archive(ingested, capsys):
    from pipelines.cli import main

    config = ingested
    station = config.stations[0]
    meteo = pd.read_parquet(config.processed_dir / METEO_TABLE)
    ours = int((meteo["station"] == station.id).sum())
    assert ours > 0
    archive_before = sorted(p.name for p in config.raw_archive_dir.rglob("*") if p.is_file())

    assert main(["ingest", "--config", str(config.path), "--forget", str(station.file)]) == 0
    out, err = capsys.readouterr()
    assert "still in the configuration" in err  # the next ingest would read it again
    after = pd.read_parquet(config.processed_dir / METEO_TABLE)
    assert station.id not in set(after["station"]) and len(after) == len(meteo) - ours
    ingested_files = pd.read_parquet(config.processed_dir / INGESTED_TABLE)
    assert str(station.file) not in set(ingested_files["path"])
    [record] = [json.loads(line) for line in (config.processed_dir / "forgotten.jsonl").read_text().splitlines()]
    assert record["path"] == str(station.file) and record["rows_removed"][METEO_TABLE] == ours
    archive_after = sorted(p.name for p in config.raw_archive_dir.rglob("*") if p.is_file())
    assert archive_after == archive_before  # the raw archive keeps the bytes

    # A file that was never ingested is refused with the file named.
    assert main(["ingest", "--config", str(config.path), "--forget", str(config.path.parent / "nope.txt")]) == 2
    assert "nope.txt: not among the files ingested" in capsys.readouterr().err

    # The next ingest reads the configured files again: the station's rows come back once.
    ingest_meteo(config_path=str(config.path))
    again = pd.read_parquet(config.processed_dir / METEO_TABLE)
    assert len(again) == len(meteo) and not again.duplicated(["station", "date"]).any()
