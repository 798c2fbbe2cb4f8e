"""The temporary Prefect API server that ``droogte`` starts first (pipelines/prefect_api.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent("""
    import os, psutil
    from pipelines import prefect_api
    prefect_api.start()
    process = prefect_api._server.process
    url = os.environ["PREFECT_API_URL"]
    from prefect import flow, task
    from prefect.settings import get_current_settings

    @task
    def double(x):
        return 2 * x

    @flow
    def small():
        return double(21)

    prefect_api.wait()
    assert get_current_settings().api.url == url, (get_current_settings().api.url, url)
    state = small(return_state=True)
    assert state.is_completed() and state.result() == 42, state
    import asyncio
    from prefect.client.orchestration import get_client

    async def recorded():
        async with get_client() as client:
            assert str(client.api_url).rstrip("/") == url, client.api_url
            return await client.read_flow_run(state.state_details.flow_run_id)

    assert asyncio.run(recorded()).state.is_completed()
    prefect_api.stop()
    assert process.poll() is not None, "the server still runs after stop()"
    assert "PREFECT_API_URL" not in os.environ and get_current_settings().api.url is None
    print("OK", url)
""")


def test_droogte_starts_the_temporary_api_itself_and_stops_it(tmp_path):
    """Without a Prefect API configured, start() launches the server at once on a loopback
    port, flows run against it, and stop() ends it and gives Prefect its own settings back."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PREFECT_LOGGING_LEVEL="WARNING",
               PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120")
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "OK http://127.0.0.1:" in out.stdout


def test_nothing_is_started_where_an_api_is_configured(prefect_harness):
    """Under a configured API (here the tests' harness; a Prefect server, a worker's run) no
    server is started and the settings stay as they are."""
    from prefect.settings import get_current_settings

    from pipelines import prefect_api

    before = get_current_settings().api.url
    assert before
    prefect_api.start()
    assert prefect_api._server is None
    prefect_api.wait()
    assert get_current_settings().api.url == before
