"""Fetching only what is newer: ask from the day after the stored data, archive, return rows for upsert."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from test_services_fake_server import Reply, fake_service, gld_body, knmi_daily_body  # noqa: F401 (fixture)

from pipelines.ingest.archive import read_index
from pipelines.ingest.services.bro import BroGroundwaterLevels
from pipelines.ingest.services.fetch import fetch_bro_groundwater, fetch_knmi_daily
from pipelines.ingest.services.http import HttpClient, RetryPolicy, ServiceError, ServiceResponseError
from pipelines.ingest.services.knmi_daggegevens import KnmiDaggegevens
from pipelines.store import upsert

FAST = RetryPolicy(attempts=2, backoff_s=0.01, timeout_s=2.0)


@pytest.fixture
def client():
    with HttpClient(policy=FAST) as c:
        yield c


def _stored_meteo(processed, rows):
    frame = pd.DataFrame(rows, columns=["station", "date", "precipitation_mm", "evaporation_mm"])
    frame["date"] = pd.to_datetime(frame["date"])
    upsert(processed / "meteo.parquet", frame, key=["station", "date"])


def test_knmi_asks_each_station_from_the_day_after_its_newest_row(fake_service, client, tmp_path):
    processed, raw = tmp_path / "processed", tmp_path / "raw"
    _stored_meteo(processed, [("260", "2025-07-02", 1.0, 3.0), ("348", "2025-07-02", 0.0, 2.0),
                              ("249", "2025-07-05", 0.0, 2.0)])
    body = knmi_daily_body([("260", "20250702", 99, 99),  # already stored: the service answered more than asked
                            ("260", "20250703", 12, 41), ("260", "20250704", 0, 38),
                            ("348", "20250703", 5, 40), ("348", "20250704", 7, 39)])
    fake_service.script("/daggegevens", Reply(200, body))
    service = KnmiDaggegevens(client, url=fake_service.url("/daggegevens"))

    fetched = fetch_knmi_daily(["260", "348", "249"], processed, raw, client=service, until=dt.date(2025, 7, 4))

    (sent,) = fake_service.requests  # 260 and 348 start on the same day: one request
    assert sent.form["start"] == "20250703" and sent.form["end"] == "20250704" and sent.form["stns"] == "260:348"
    assert fetched.up_to_date == ["249"]
    assert fetched.rows[["station", "date"]].astype(str).values.tolist() == [
        ["260", "2025-07-03"], ["260", "2025-07-04"], ["348", "2025-07-03"], ["348", "2025-07-04"]]
    result = upsert(processed / "meteo.parquet", fetched.rows, key=["station", "date"])
    assert (result.added, result.updated) == (4, 0)

    (entry,) = fetched.archived
    assert (raw / entry.stored_path).read_bytes() == body
    assert read_index(raw)[0]["source"] == "knmi-daggegevens"


def test_knmi_station_without_data_starts_at_first_day(fake_service, client, tmp_path):
    fake_service.script("/daggegevens", Reply(200, knmi_daily_body([("260", "20250101", 3, 2)])))
    service = KnmiDaggegevens(client, url=fake_service.url("/daggegevens"))
    fetched = fetch_knmi_daily(["260"], tmp_path / "p", tmp_path / "raw", client=service, until=dt.date(2025, 1, 1))
    assert fake_service.requests[0].form["start"] == "20250101"
    assert fetched.rows["precipitation_mm"].tolist() == [0.3]


def test_knmi_nothing_new_asks_nothing(fake_service, client, tmp_path):
    _stored_meteo(tmp_path / "p", [("260", "2025-07-04", 1.0, 3.0)])
    service = KnmiDaggegevens(client, url=fake_service.url("/daggegevens"))
    fetched = fetch_knmi_daily(["260"], tmp_path / "p", tmp_path / "raw", client=service, until=dt.date(2025, 7, 4))
    assert fake_service.requests == [] and fetched.rows.empty and fetched.up_to_date == ["260"]


def test_knmi_service_down_leaves_the_store_alone(fake_service, client, tmp_path):
    _stored_meteo(tmp_path / "p", [("260", "2025-07-01", 1.0, 3.0)])
    before = (tmp_path / "p" / "meteo.parquet").read_bytes()
    fake_service.script("/daggegevens", Reply(503, "down"))
    service = KnmiDaggegevens(client, url=fake_service.url("/daggegevens"))
    with pytest.raises(ServiceError, match="HTTP 503"):
        fetch_knmi_daily(["260"], tmp_path / "p", tmp_path / "raw", client=service, until=dt.date(2025, 7, 4))
    assert (tmp_path / "p" / "meteo.parquet").read_bytes() == before


def test_bro_asks_from_the_day_after_the_stored_level(fake_service, tmp_path):
    processed, raw = tmp_path / "p", tmp_path / "raw"
    well = "GMW000000041234-001"
    upsert(processed / "groundwater.parquet",
           pd.DataFrame({"well": [well], "time": pd.to_datetime(["2025-07-01"]), "level_m_nap": [-1.1], "remark": [""]}),
           key=["well", "time"])
    body = gld_body("GLD000000012345", "GMW000000041234", 1, [
        {"status": "voorlopig", "kind": "reguliereMeting", "points": [
            ("2025-07-01T12:00:00+02:00", -1.10, "goedgekeurd"),
            ("2025-07-02T12:00:00+02:00", -1.15, "goedgekeurd"),
            ("2025-07-03T12:00:00+02:00", -1.20, "goedgekeurd")]}])
    fake_service.script("/gld/GLD000000012345", Reply(200, body))
    with HttpClient(policy=FAST, min_interval_s=0.01) as client:
        bro = BroGroundwaterLevels(client, base_url=fake_service.url("/gld"))
        fetched = fetch_bro_groundwater({"GLD000000012345": well}, processed, raw, client=bro,
                                        until=dt.date(2025, 7, 3))
    assert fake_service.requests[0].query["observationPeriodBeginDate"] == ["2025-07-02"]
    assert fetched.rows["time"].dt.strftime("%Y-%m-%d").tolist() == ["2025-07-02", "2025-07-03"]
    assert fetched.rows["level_m_nap"].tolist() == [-1.15, -1.20]
    assert (raw / fetched.archived[0].stored_path).read_bytes() == body


def test_bro_dossier_of_another_well_is_refused(fake_service, tmp_path):
    fake_service.script("/gld/GLD000000012345", Reply(200, gld_body("GLD000000012345", "GMW000000099999", 2, [])))
    with HttpClient(policy=FAST) as client:
        bro = BroGroundwaterLevels(client, base_url=fake_service.url("/gld"))
        with pytest.raises(ServiceResponseError, match="measures well GMW000000099999-002"):
            fetch_bro_groundwater({"GLD000000012345": "GMW000000041234-001"}, tmp_path / "p", tmp_path / "raw",
                                  client=bro, until=dt.date(2025, 7, 3))
