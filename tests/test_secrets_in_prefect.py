"""A failing signed download inside a Prefect flow: the signature and token of its URL appear in
no message, log line, state or event, nor anywhere in the Prefect database."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote

from test_services_fake_server import Reply, fake_service  # noqa: F401 (fixture)

from pipelines.ingest.services.http import HttpClient, RetryPolicy

SIGNATURE = "5ec4e7519a7c0ffee0ddba11deadbeef"
TOKEN = "FQoGZXIvYXdzEJr//////////wEaDSecretToken=="


def test_a_failing_signed_download_leaks_its_secrets_nowhere(fake_service, prefect_harness, caplog):
    from prefect import flow, task
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    body = (f"<Error><Code>AccessDenied</Code><SignatureProvided>{SIGNATURE}</SignatureProvided>"
            f"<Token>{TOKEN}</Token><Url>{fake_service.url('/bucket/Rd1.nc')}?X-Amz-Signature={SIGNATURE}</Url></Error>")
    fake_service.script("/bucket/Rd1.nc", Reply(503, body, content_type="application/xml"),
                        Reply(403, body, content_type="application/xml"))
    url = (fake_service.url("/bucket/Rd1.nc") + f"?X-Amz-Signature={SIGNATURE}"
           f"&X-Amz-Security-Token={quote(TOKEN, safe='')}&X-Amz-Expires=60")

    @task(name="download-signed")
    def download() -> bytes:
        with HttpClient(policy=RetryPolicy(attempts=2, backoff_s=0.01, timeout_s=2.0)) as client:
            return client.get(url).content

    @flow(name="signed-download")
    def signed_download() -> bytes:
        return download()

    with caplog.at_level(logging.DEBUG):
        state = signed_download(return_state=True)
    assert state.is_failed()
    texts = [state.message or "", caplog.text]
    with get_client(sync_client=True) as client:
        run_id = state.state_details.flow_run_id
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
        texts += [log.message for log in logs]
        texts += [s.message or "" for s in client.read_flow_run_states(run_id)]
        for task_run in client.read_task_runs():
            texts += [task_run.state.message or "" if task_run.state else ""]
    assert any("HTTP 403" in t for t in texts), "the failure itself is reported"
    secrets = (SIGNATURE, TOKEN, quote(TOKEN, safe=""))
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"secret in: {text[:300]}"
    # and nowhere in the Prefect database (state messages, logs, events), WAL included
    from prefect.settings import get_current_settings

    url = get_current_settings().server.database.connection_url
    url = url.get_secret_value() if hasattr(url, "get_secret_value") else str(url)
    database = Path(url.split(":///", 1)[-1])
    stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*") if p.is_file())
    assert stored, f"no Prefect database found at {database}"
    for secret in secrets:
        assert secret.encode() not in stored
