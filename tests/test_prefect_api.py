"""The temporary Prefect API server that ``droogte`` starts first (pipelines/prefect_api.py)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

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


PROFILE_SCRIPT = textwrap.dedent("""
    import psutil
    from pipelines import prefect_api
    prefect_api.start()  # Prefect not imported yet: the server is launched before its settings are read
    from prefect.settings import get_current_settings
    assert prefect_api._server is None, "a server is kept although the profile names an API"
    left = [p for p in psutil.Process().children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE]
    assert not left, left
    print("API", get_current_settings().api.url)
""")


def test_a_profile_that_names_an_api_stops_the_early_server(tmp_path):
    """``droogte`` launches the temporary server before Prefect reads its settings; where the
    active profile names an API (a Prefect server), that server is stopped again at once and
    the profile's API is used."""
    home = tmp_path / "prefect"
    home.mkdir()
    (home / "profiles.toml").write_text('active = "board"\n\n[profiles.board]\n'
                                        'PREFECT_API_URL = "http://127.0.0.1:9/api"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_PROFILES_PATH=str(home / "profiles.toml"))
    out = subprocess.run([sys.executable, "-c", PROFILE_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "API http://127.0.0.1:9/api" in out.stdout


@pytest.mark.integration
def test_a_run_leaves_its_final_state_logs_and_task_runs_in_the_database_and_no_process(tmp_path):
    """``droogte run`` on the temporary server, as an analyst starts it: the process ends
    without Python's module teardown and stops the server, yet the flow run's final state, its
    last log lines (sent at exit) and every task run's final state are in Prefect's database
    afterwards, the summary is printed whole, and nothing it started is left running (the chart
    worker neither). Started from a folder that holds packages named ``pipelines`` and
    ``prefect``: neither the run nor its server imports those instead of the installed ones."""
    from pipelines.demo import write_demo
    from tests.integration_helpers import BIN, Services, wait_until

    config = write_demo(tmp_path / "raw", processed_dir=tmp_path / "processed", site_dir=tmp_path / "site",
                        archive_dir=tmp_path / "archive")
    home = tmp_path / "prefect"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_LOGGING_LEVEL="INFO", PREFECT_SERVER_ANALYTICS_ENABLED="false")
    folder = tmp_path / "analyst"
    for decoy in ("pipelines", "prefect"):
        (folder / decoy).mkdir(parents=True)
        (folder / decoy / "__init__.py").write_text(f"raise ImportError('{decoy} imported from the working directory')\n")
    services = Services(tmp_path / "logs", env=env)
    services.env = {k: v for k, v in services.env.items() if not k.startswith("PREFECT_")} | env
    try:
        out = subprocess.run([str(BIN / "droogte"), "run", "--config", str(config), "--date", "2025-08-15"],
                             cwd=folder, env=services.env, capture_output=True, text=True, timeout=900)
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
        assert out.stdout.rstrip().endswith("[droogte] exit code 0 (OK)"), out.stdout[-2000:]
        # the orphan guard notices the run has gone within its interval, then ends itself
        wait_until(lambda: not services.marked(), timeout=20, what="every process of the run has ended")
    finally:
        left = services.stop_all()
    assert not left, f"left running: {left}"

    with sqlite3.connect(home / "prefect.db") as db:
        runs = db.execute("SELECT id, state_type, state_name, end_time FROM flow_run f "
                          "WHERE f.flow_id IN (SELECT id FROM flow WHERE name = 'drought-run')").fetchall()
        assert len(runs) == 1, runs
        run_id, state_type, state_name, end_time = runs[0]
        assert (state_type, state_name) == ("COMPLETED", "Completed") and end_time, runs
        logs = [m for (m,) in db.execute("SELECT message FROM log WHERE flow_run_id = ?", (run_id,))]
        assert any(m.startswith("Finished in state Completed") for m in logs), logs[-5:]
        tasks = db.execute("SELECT name, state_type FROM task_run WHERE flow_run_id = ?", (run_id,)).fetchall()
        names = {name.rsplit("-", 1)[0] for name, _ in tasks}
        assert {"ingest-meteo", "compute-indicators", "publish-site", "write-bulletin"} <= names, names
        assert all(state == "COMPLETED" for _, state in tasks), tasks
        # the server's own record of what happened (events, written in batches): stopped
        # gracefully, it wrote the last ones too
        events = {e for (e,) in db.execute("SELECT event FROM events WHERE resource_id = ?",
                                            (f"prefect.flow-run.{run_id}",))}
        assert "prefect.flow-run.Completed" in events, events
