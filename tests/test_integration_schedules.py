"""Schedules fire: the deployments of ``prefect.yaml`` get runs from the server's scheduler, and a
worker runs one that nobody triggered to Completed.

This is the check that catches a stack that stores deployments but never schedules them (as
prefect 3.8.8 with SQLAlchemy 2.1 did: the scheduler failed every loop with "Can't evaluate
bulk DML statement", while runs started by hand kept working). The scheduler's loop is
shortened by ``PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS``; everything else is as in
docs/runbook.md, on 127.0.0.1 with a Prefect home of its own.

The delay from a run's scheduled moment to its start is written to the test's log folder
(``schedule-delay.txt``) and printed (``pytest -s``).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from pipelines.demo import write_demo
from tests.integration_helpers import BIN, ROOT, start_prefect_server, wait_until

POOL = "droogte-process"


def _client(api: str):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    class _Scoped:
        def __enter__(self):
            self.settings = temporary_settings({PREFECT_API_URL: api})
            self.settings.__enter__()
            self.client = get_client(sync_client=True)
            return self.client.__enter__()

        def __exit__(self, *exc):
            self.client.__exit__(*exc)
            self.settings.__exit__(*exc)

    return _Scoped()


def _auto_runs(api: str, deployment: str):
    """Runs of ``deployment`` ("flow/name") that the scheduler created (nobody triggered them)."""
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    with _client(api) as client:
        dep = client.read_deployment_by_name(deployment)
        runs = client.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[dep.id])))
    return [r for r in runs if r.auto_scheduled]


@pytest.mark.integration
def test_the_scheduler_creates_runs_of_the_deployments_and_a_worker_completes_one(tmp_path):
    prefect = str(BIN / "prefect")
    config = write_demo(tmp_path / "raw", processed_dir=tmp_path / "processed", site_dir=tmp_path / "site",
                        archive_dir=tmp_path / "archive")
    services, api = start_prefect_server(tmp_path, pool=POOL, PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="5")
    server = dict(services.procs)["server"]
    try:
        services.run("deploy", [prefect, "--no-prompt", "deploy", "--all"], cwd=ROOT, timeout=300)

        # 1. The schedules of prefect.yaml as they are: the scheduler fills them in by itself.
        daily = wait_until(lambda: _auto_runs(api, "drought-run/daily"), timeout=120,
                           what="scheduled runs of drought-run/daily", proc=server, log=services.log("server"))
        local = [r.expected_start_time.astimezone(ZoneInfo("Europe/Amsterdam")) for r in daily]
        assert {(t.hour, t.minute) for t in local} == {(6, 15)}, local
        assert len({t.date() for t in local}) == len(local) >= 3  # one a day, days ahead
        hourly = wait_until(lambda: _auto_runs(api, "ingest-sensors/sensors-hourly"), timeout=60,
                            what="scheduled runs of ingest-sensors/sensors-hourly", proc=server,
                            log=services.log("server"))
        assert {r.expected_start_time.astimezone(dt.UTC).minute for r in hourly} == {5}
        assert "bulk DML" not in (tmp_path / "logs" / "server.log").read_text(errors="replace")

        # 2. A schedule due within a minute on the hourly ingest (this test's demo as its setup),
        #    and a worker: a run nobody triggered must reach Completed.
        from prefect.client.schemas.schedules import CronSchedule

        with _client(api) as client:
            dep = client.read_deployment_by_name("ingest-sensors/sensors-hourly")
            client.create_deployment_schedules(dep.id, [(CronSchedule(cron="* * * * *", timezone="UTC"), True)],
                                               parameters={"config_path": str(config)})
        worker = services.start("worker", [prefect, "worker", "start", "--pool", POOL],
                                env={"PREFECT_WORKER_QUERY_SECONDS": "2"})

        def completed():
            return [r for r in _auto_runs(api, "ingest-sensors/sensors-hourly")
                    if r.state is not None and r.state.is_completed()]

        done = wait_until(completed, timeout=420, what="a scheduled ingest run Completed", proc=worker,
                          log=services.log("worker") + "\n" + services.log("server"), interval=3)
        run = min(done, key=lambda r: r.expected_start_time)
        assert run.auto_scheduled and run.parameters["config_path"] == str(config)
        assert (tmp_path / "processed" / "sensors.parquet").is_file()
        delay = (run.start_time - run.expected_start_time).total_seconds()
        note = (f"scheduled {run.expected_start_time.isoformat()} started {run.start_time.isoformat()} "
                f"delay {delay:.1f} s (worker polling every 2 s, scheduler loop 5 s)")
        (tmp_path / "logs" / "schedule-delay.txt").write_text(note + "\n")
        print(note)
        # A worker submits a run up to its prefetch time (Prefect's default: 10 s) before the
        # scheduled moment, so a run may start a moment early, never much earlier.
        assert delay >= -10.0
    finally:
        left = services.stop_all()
    assert not left, f"processes left behind: {left}"
