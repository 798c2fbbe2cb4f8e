"""BRO groundwater level dossiers: the client against a loopback server, the WaterML 2.0 reader."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from test_services_fake_server import Reply, fake_service, gld_body  # noqa: F401 (fixture)

from pipelines.ingest.services.bro import BroGroundwaterLevels, read_gld, read_gld_xml, well_id
from pipelines.ingest.services.http import HttpClient, RetryPolicy, ServiceResponseError
from pipelines.ingest.sources.errors import BadRecord, SourceFormatError

GLD = "GLD000000012345"
GMW = "GMW000000041234"
FAST = RetryPolicy(attempts=3, backoff_s=0.01, timeout_s=2.0)

OBSERVATIONS = [
    {"status": "volledigBeoordeeld", "kind": "reguliereMeting", "points": [
        ("2025-06-30T23:30:00+00:00", -1.20, "goedgekeurd"),   # 01:30 on 1 July in the Netherlands
        ("2025-07-01T12:00:00+02:00", -1.30, "goedgekeurd"),
        ("2025-07-02T12:00:00+02:00", -1.40, "afgekeurd"),     # rejected: left out
        ("2025-07-03T12:00:00+02:00", None, "onbekend"),        # logger failure: no value
    ]},
    {"status": "voorlopig", "kind": "reguliereMeting", "points": [
        ("2025-07-01T12:00:00+02:00", -9.99, "goedgekeurd"),   # same instant: assessed value wins
        ("2025-07-04T12:00:00+02:00", -1.50, "onbeslist"),
    ]},
    {"status": "volledigBeoordeeld", "kind": "controleMeting", "points": [
        ("2025-07-01T10:00:00+02:00", -5.00, "goedgekeurd"),   # hand check reading: not in the series
    ]},
]


def test_gld_xml_becomes_daily_levels_per_well(tmp_path):
    path = tmp_path / f"{GLD}.xml"
    path.write_bytes(gld_body(GLD, GMW, 1, OBSERVATIONS))
    record = read_gld_xml(path)
    assert (record.gld_id, record.well) == (GLD, "GMW000000041234-001")
    levels = record.levels
    assert list(levels.columns) == ["well", "time", "level_m_nap", "remark"]
    assert levels["time"].tolist() == [pd.Timestamp("2025-07-01"), pd.Timestamp("2025-07-04")]
    assert levels["level_m_nap"].tolist() == pytest.approx([-1.25, -1.50])
    assert levels["remark"].tolist() == ["", "BRO onbeslist; voorlopig"]
    assert [q.reason for q in record.quarantined] == ["BRO qualifier afgekeurd (rejected)"]


def test_gld_point_in_another_unit_is_quarantined_or_raised(tmp_path):
    body = gld_body(GLD, GMW, 2, OBSERVATIONS[:1]).replace(b'uom="m">-1.3', b'uom="cm">-1.3')
    path = tmp_path / "unit.xml"
    path.write_bytes(body)
    assert "unit 'cm'" in read_gld_xml(path).quarantined[0].reason
    with pytest.raises(SourceFormatError, match="unit 'cm'"):
        read_gld_xml(path, on_bad_record=BadRecord.RAISE)


def test_well_id_pads_the_tube_number():
    assert well_id(GMW, "12") == "GMW000000041234-012"


def test_client_asks_for_the_period_and_keeps_the_answer(fake_service, tmp_path):
    body = gld_body(GLD, GMW, 1, OBSERVATIONS)
    fake_service.script(f"/gm/gld/v1/objects/{GLD}", Reply(200, body, content_type="application/xml"))
    with HttpClient(policy=FAST) as client:
        bro = BroGroundwaterLevels(client, base_url=fake_service.url("/gm/gld/v1/objects"))
        download = bro.download(GLD, tmp_path, begin=dt.date(2025, 7, 1), end=dt.date(2025, 7, 31))
    sent = fake_service.requests[0]
    assert sent.query == {"observationPeriodBeginDate": ["2025-07-01"], "observationPeriodEndDate": ["2025-07-31"]}
    assert download.path.read_bytes() == body
    assert len(read_gld(download).levels) == 2


def test_truncated_xml_names_url_and_line(fake_service, tmp_path):
    body = gld_body(GLD, GMW, 1, OBSERVATIONS)
    fake_service.script(f"/gm/gld/v1/objects/{GLD}", Reply(200, body[: len(body) // 2]))
    with HttpClient(policy=FAST) as client:
        bro = BroGroundwaterLevels(client, base_url=fake_service.url("/gm/gld/v1/objects"))
        download = bro.download(GLD, tmp_path)
    with pytest.raises(ServiceResponseError, match=r"not well-formed XML") as caught:
        read_gld(download)
    assert fake_service.url(f"/gm/gld/v1/objects/{GLD}") in str(caught.value) and ", line " in str(caught.value)


def test_html_page_instead_of_xml_is_refused(fake_service, tmp_path):
    fake_service.script(f"/gm/gld/v1/objects/{GLD}", Reply(200, "<html><body>Storing</body></html>"))
    with HttpClient(policy=FAST) as client:
        bro = BroGroundwaterLevels(client, base_url=fake_service.url("/gm/gld/v1/objects"))
        with pytest.raises(ServiceResponseError, match="HTML page") as caught:
            bro.download(GLD, tmp_path)
    assert GLD in str(caught.value)


def test_xml_that_is_no_dossier_is_a_format_error(tmp_path):
    path = tmp_path / "other.xml"
    path.write_text('<?xml version="1.0"?><rejectionResponse><reason>onbekend object</reason></rejectionResponse>')
    with pytest.raises(SourceFormatError, match="expected a GLD_O element"):
        read_gld_xml(path)
