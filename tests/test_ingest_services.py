"""The ingest flows fetch new data from the public services where a setup configures them.

The services are played by a local HTTP server on 127.0.0.1 that answers in the real formats
(``tests/test_services_fake_server.py``); the flows run under a real (temporary) Prefect API.
"""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from test_services_fake_server import Reply, fake_service, gld_body, knmi_daily_body  # noqa: F401 (fixture)

from pipelines.config import load_config
from pipelines.demo import write_demo
from pipelines.ingest.flows import GROUNDWATER_TABLE, METEO_TABLE, STATIONS_TABLE, WELLS_TABLE, ingest_groundwater, ingest_meteo


@pytest.fixture()
def config_with_services(tmp_path, fake_service):
    path = write_demo(tmp_path / "raw", processed_dir=tmp_path / "processed", site_dir=tmp_path / "site",
                      archive_dir=tmp_path / "archive")
    data = yaml.safe_load(path.read_text())
    data["services"] = {
        "knmi_daggegevens": {"stations": ["260"], "first_day": "2025-08-14", "url": fake_service.url("/daggegevens")},
        "bro_gld": {"first_day": "2025-08-13", "url": fake_service.url("/gld"),
                    "dossiers": [{"gld": "GLD000000012345", "well": "GMW000000041234-001",
                                  "x": 140000, "y": 456000, "lower_limit_m_nap": -1.3}]},
    }
    path.write_text(yaml.safe_dump(data))
    return load_config(path)


def test_meteo_flow_fetches_the_configured_knmi_station(config_with_services, fake_service, prefect_harness):
    fake_service.script("/daggegevens", Reply(200, knmi_daily_body([("260", "20250814", 12, 41),
                                                                    ("260", "20250815", -1, 38)])))
    report = ingest_meteo(config_path=str(config_with_services.path), until="2025-08-15")
    assert not report.failed_files
    sent = fake_service.requests_to("/daggegevens")[0].form
    assert (sent["stns"], sent["start"], sent["end"]) == ("260", "20250814", "20250815")
    meteo = pd.read_parquet(config_with_services.processed_dir / METEO_TABLE)
    de_bilt = meteo[meteo["station"] == "260"].sort_values("date")
    assert de_bilt["precipitation_mm"].tolist() == [1.2, 0.025]
    assert de_bilt["evaporation_mm"].tolist() == [4.1, 3.8]
    stations = pd.read_parquet(config_with_services.processed_dir / STATIONS_TABLE)
    assert {"260", "901"} <= set(stations["station"])

    # the next run asks only for what is newer, and here nothing is
    again = ingest_meteo(config_path=str(config_with_services.path), until="2025-08-15")
    assert len(fake_service.requests_to("/daggegevens")) == 1 and again.added == 0


def test_groundwater_flow_fetches_the_configured_bro_dossier(config_with_services, fake_service, prefect_harness):
    body = gld_body("GLD000000012345", "GMW000000041234", 1, [
        {"status": "voorlopig", "kind": "reguliereMeting", "points": [
            ("2025-08-13T12:00:00+02:00", -1.25, "goedgekeurd"),
            ("2025-08-14T12:00:00+02:00", -1.32, "goedgekeurd")]}])
    fake_service.script("/gld/GLD000000012345", Reply(200, body))
    report = ingest_groundwater(config_path=str(config_with_services.path), until="2025-08-15")
    assert not report.failed_files
    levels = pd.read_parquet(config_with_services.processed_dir / GROUNDWATER_TABLE)
    bro = levels[levels["well"] == "GMW000000041234-001"].sort_values("time")
    assert bro["level_m_nap"].tolist() == [-1.25, -1.32]
    wells = pd.read_parquet(config_with_services.processed_dir / WELLS_TABLE)
    assert wells.set_index("well").loc["GMW000000041234-001", "lower_limit_m_nap"] == -1.3


def test_a_service_that_stays_down_is_reported_and_files_still_ingest(config_with_services, fake_service,
                                                                       prefect_harness):
    fake_service.script("/daggegevens", Reply(404, "<html>not here</html>", content_type="text/html"))
    report = ingest_meteo(config_path=str(config_with_services.path), until="2025-08-15")
    assert report.files == 6  # the station files
    assert len(report.failed_files) == 1 and "fetch-knmi-daggegevens" in report.failed_files[0]
    meteo = pd.read_parquet(config_with_services.processed_dir / METEO_TABLE)
    assert "260" not in set(meteo["station"])
