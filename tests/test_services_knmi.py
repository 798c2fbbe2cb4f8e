"""KNMI clients against a loopback server: the daily script service and the Data Platform API."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from test_services_fake_server import Reply, fake_service, knmi_daily_body  # noqa: F401 (fixture)

from pipelines.ingest.services.http import HttpClient, RetryPolicy, ServiceError, ServiceResponseError
from pipelines.ingest.services.knmi_daggegevens import KnmiDaggegevens, read_daggegevens
from pipelines.ingest.services.knmi_dataplatform import KnmiDataPlatform, MissingApiKeyError, knmi_api_key

FAST = RetryPolicy(attempts=3, backoff_s=0.01, timeout_s=2.0)
KEY = "eyJvcmciOiJ0ZXN0LWtleS0xMjM0NSJ9"
FILES = "/open-data/v1/datasets/Rd1/versions/5/files"


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


# --- KNMI Data Platform ---------------------------------------------------------------------

def _listing(names, token=None):
    return json.dumps({
        "isTruncated": token is not None, "resultCount": len(names), "maxResults": 2,
        "files": [{"filename": n, "size": 1234, "created": "2025-07-02T08:30:00+00:00",
                   "lastModified": "2025-07-02T08:30:00+00:00"} for n in names],
        **({"nextPageToken": token} if token else {}),
    })


def test_dataplatform_lists_all_pages_and_downloads_without_sending_the_key(fake_service, client, tmp_path):
    fake_service.script(FILES, Reply(200, _listing(["INTER_OPER_R___RD1_____L3__20250701T080000_20250702T080000_0005.nc",
                                                    "INTER_OPER_R___RD1_____L3__20250702T080000_20250703T080000_0005.nc"], "tok2")),
                        Reply(200, _listing(["INTER_OPER_R___RD1_____L3__20250703T080000_20250704T080000_0005.nc"])))
    platform = KnmiDataPlatform(client, api_key=KEY, base_url=fake_service.base_url)
    files = platform.list_files("Rd1", "5", begin="INTER_OPER_R___RD1_____L3__20250701")
    assert [f.filename[27:35] for f in files] == ["20250701", "20250702", "20250703"]
    first, second = fake_service.requests_to(FILES)
    assert first.headers["Authorization"] == KEY
    assert first.query["begin"] == ["INTER_OPER_R___RD1_____L3__20250701"] and first.query["orderBy"] == ["filename"]
    assert second.query["nextPageToken"] == ["tok2"]

    name = files[0].filename
    signed = fake_service.url("/bucket/" + name) + "?X-Amz-Signature=deadbeef"
    fake_service.script(f"{FILES}/{name}/url", Reply(200, json.dumps({"temporaryDownloadUrl": signed})))
    fake_service.script("/bucket/" + name, Reply(200, b"\x89HDF\r\n\x1a\nnetcdf-bytes"))
    download = platform.download("Rd1", "5", name, tmp_path)
    assert download.path.read_bytes() == b"\x89HDF\r\n\x1a\nnetcdf-bytes"
    assert "Authorization" not in fake_service.requests_to("/bucket/" + name)[0].headers


def test_dataplatform_truncated_json_names_the_url(fake_service, client):
    fake_service.script(FILES, Reply(200, _listing(["a.nc", "b.nc"])[:40], content_type="application/json"))
    platform = KnmiDataPlatform(client, api_key=KEY, base_url=fake_service.base_url)
    with pytest.raises(ServiceResponseError, match="expected JSON, got invalid JSON") as caught:
        platform.list_files("Rd1", "5")
    assert fake_service.url(FILES) in str(caught.value)


def test_dataplatform_rejected_key_is_reported_without_the_key(fake_service, client):
    fake_service.script(FILES, Reply(403, json.dumps({"message": f"Invalid key {KEY}"})))
    platform = KnmiDataPlatform(client, api_key=KEY, base_url=fake_service.base_url)
    with pytest.raises(ServiceError) as caught:
        platform.list_files("Rd1", "5")
    assert caught.value.status == 403 and KEY not in str(caught.value)
    assert len(fake_service.requests) == 1  # a refused key is not asked again


def test_api_key_comes_from_the_environment_before_prefect():
    asked = []
    key = knmi_api_key(environ={"KNMI_API_KEY": " abc "}, load_secret=lambda name: asked.append(name) or "x")
    assert key == "abc" and asked == []


def test_api_key_falls_back_to_the_secret_block_and_explains_when_absent():
    assert knmi_api_key(environ={}, load_secret=lambda name: "from-block" if name == "knmi-api-key" else "") == "from-block"

    def no_block(name):
        raise ValueError(f"Unable to find block document named {name}")

    with pytest.raises(MissingApiKeyError, match="KNMI_API_KEY is unset.*'knmi-api-key' could not be read"):
        knmi_api_key(environ={}, load_secret=no_block)


def test_api_key_is_looked_up_only_when_a_request_needs_it(fake_service, client):
    looked = []
    platform = KnmiDataPlatform(client, base_url=fake_service.base_url,
                                key_source=lambda: looked.append(1) or KEY)
    assert looked == []
    fake_service.script(FILES, Reply(200, _listing(["a.nc"])))
    platform.list_files("Rd1", "5")
    platform.list_files("Rd1", "5")
    assert looked == [1]
