"""The KNMI daily script service client against a loopback server."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from test_services_fake_server import Reply, fake_service, knmi_daily_body  # noqa: F401 (fixture)

from pipelines.ingest.services.http import HttpClient, RetryPolicy, ServiceResponseError
from pipelines.ingest.services.knmi_daggegevens import KnmiDaggegevens, read_daggegevens

FAST = RetryPolicy(attempts=3, backoff_s=0.01, timeout_s=2.0)


@pytest.fixture
def client():
    with HttpClient(policy=FAST) as c:
        yield c


def test_daggegevens_posts_the_form_and_reads_the_answer_like_the_files(fake_service, client, tmp_path):
    rows = [("260", "20250701", 12, 41), ("260", "20250702", -1, 38), ("348", "20250701", 0, None)]
    fake_service.script("/daggegevens", Reply(200, knmi_daily_body(rows)))
    service = KnmiDaggegevens(client, url=fake_service.url("/daggegevens"))
    download = service.download(["260", "348"], dt.date(2025, 7, 1), dt.date(2025, 7, 2), tmp_path)

    sent = fake_service.requests[0]
    assert sent.method == "POST"
    assert sent.form == {"start": "20250701", "end": "20250702", "vars": "RH:EV24", "stns": "260:348"}
    assert download.path.read_bytes() == knmi_daily_body(rows)  # kept exactly as delivered

    frame = read_daggegevens(download)
    assert list(frame["station"]) == ["260", "260", "348"]
    assert frame["precipitation_mm"].tolist() == [1.2, 0.025, 0.0]  # 0.1 mm → mm; -1 → trace
    assert frame["evaporation_mm"].iloc[:2].tolist() == [4.1, 3.8] and np.isnan(frame["evaporation_mm"].iloc[2])


def test_daggegevens_html_error_page_is_refused_naming_the_url(fake_service, client, tmp_path):
    page = "<!DOCTYPE html><html><head><title>Onderhoud</title></head><body>Even geduld</body></html>"
    fake_service.script("/daggegevens", Reply(200, page, content_type="text/html"))
    service = KnmiDaggegevens(client, url=fake_service.url("/daggegevens"))
    with pytest.raises(ServiceResponseError, match="HTML page") as caught:
        service.download(["260"], dt.date(2025, 7, 1), dt.date(2025, 7, 2), tmp_path)
    assert fake_service.url("/daggegevens") in str(caught.value)


def test_daggegevens_text_without_header_names_url_and_file(fake_service, client, tmp_path):
    fake_service.script("/daggegevens", Reply(200, "Fout: onbekende variabele XX\n"))
    service = KnmiDaggegevens(client, url=fake_service.url("/daggegevens"))
    download = service.download(["260"], dt.date(2025, 7, 1), dt.date(2025, 7, 2), tmp_path)
    with pytest.raises(ServiceResponseError, match="not KNMI daily text") as caught:
        read_daggegevens(download)
    assert fake_service.url("/daggegevens") in str(caught.value) and str(download.path) in str(caught.value)


def test_daggegevens_truncated_answer_keeps_the_whole_lines_and_quarantines_the_cut_one(fake_service, client, tmp_path):
    body = knmi_daily_body([("260", "20250701", 12, 41), ("260", "20250702", 7, 30)])
    fake_service.script("/daggegevens", Reply(200, body[:-9]))  # cut inside the last line
    service = KnmiDaggegevens(client, url=fake_service.url("/daggegevens"))
    frame = read_daggegevens(service.download(["260"], dt.date(2025, 7, 1), dt.date(2025, 7, 2), tmp_path))
    assert frame["date"].tolist() == [np.datetime64("2025-07-01")]
    assert len(frame.attrs["quarantined"]) == 1


def test_daggegevens_recovers_from_a_503(fake_service, client, tmp_path):
    body = knmi_daily_body([("260", "20250701", 12, 41)])
    fake_service.script("/daggegevens", Reply(503, "Service Unavailable"), Reply(200, body))
    service = KnmiDaggegevens(client, url=fake_service.url("/daggegevens"))
    frame = read_daggegevens(service.download(["260"], dt.date(2025, 7, 1), dt.date(2025, 7, 1), tmp_path))
    assert frame["precipitation_mm"].tolist() == [1.2]
