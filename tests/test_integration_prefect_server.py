"""The daily run as operations run it: a Prefect server, a process work pool, the deployment of
``prefect.yaml``, a worker, and the run's artifacts and published site.

Every command is the one of docs/runbook.md, run on loopback with a Prefect home of its own.
The test writes the demo into a temporary folder and points the run at it, so the project
folder gets no data; the code comes from the project folder (the deployment's pull step,
``DROOGTE_HOME``).
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from pipelines.publication.approval import Approval
from pipelines.publication.artifacts import artifact_key, restriction_rows, run_summary_markdown
from pipelines.demo import write_demo
from pipelines.ingest.flows import SourceReport
from models.restrictions.proposal import Proposal
from tests.integration_helpers import BIN, ROOT, start_prefect_server, wait_until

PROJECT = ROOT  # where prefect.yaml and the flows' code are
POOL = "droogte-process"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def test_summary_names_changes_levels_freshness_and_failed_sources():
    import pandas as pd

    day = dt.date(2025, 8, 15)
    decisions = pd.DataFrame({"district_id": ["WBA-001"], "name": ["Polder | Oost"], "water_board": ["WBA"],
                              "restriction": ["surface_water_ban"], "groundwater_ban": [True],
                              "valid_from": [pd.Timestamp("2025-08-12")], "reason_en": ["dry"]})
    escalation = pd.DataFrame({"scope": ["water_board", "national"], "water_board": ["WBA", "NL"],
                               "level": [2, 1], "level_name_en": ["actual water shortage", "threatening"],
                               "reason_en": ["ban over 60% of the area", "1 board at 2"]})
    proposal = Proposal(day=day, decisions=decisions, escalation=escalation, changes=[
        {"district_id": "WBA-001", "name": "Polder | Oost", "water_board": "WBA", "was": "watch",
         "becomes": "surface_water_ban + groundwater_ban"}])
    reports = {"meteo": SourceReport("meteo", files=6, newest="2025-08-13 00:00:00",
                                     qc={"range": 3, "spike": 0, "values": 90, "passed": 87}),
               "groundwater": "FAILED: disk full"}
    approval = Approval(False, "nobody", "2025-08-15T05:00:00+00:00", "no answer", "timeout", 1)
    text = run_summary_markdown("Demo Setup", day, proposal, reports, approval, stale={"meteo": True})

    assert "NOT approved" in text
    # Words, not codes, for the analyst.
    assert ("| WBA-001 | Polder \\| Oost | WBA | Watch: use water sparingly | Surface-water withdrawal ban + "
            "groundwater irrigation ban |") in text
    assert "| water board | WBA | 2 | actual water shortage |" in text
    assert "surface_water_ban" not in text and "| water_board |" not in text
    assert "| meteo | 2025-08-13 | 2 | stale |" in text
    assert "| groundwater |  |  | FAILED: disk full |" in text
    assert "| sensors |  |  | not configured |" in text
    assert "| meteo | 6 | 0 | +0 / 0 / 0 | 0 | 90 | 87 | range 3 |" in text
    assert restriction_rows(decisions) == [{
        "district": "WBA-001", "name": "Polder | Oost", "water board": "WBA",
        "restriction": "Surface-water withdrawal ban", "groundwater irrigation ban": "yes", "valid from": "2025-08-12",
        "reason": "dry"}]
    assert artifact_key("Demo Setup", "run-summary") == "demo-setup-run-summary"


@pytest.mark.integration
def test_daily_deployment_runs_on_a_worker_and_leaves_artifacts(tmp_path):
    prefect = str(BIN / "prefect")
    config = write_demo(tmp_path / "raw", processed_dir=tmp_path / "processed", site_dir=tmp_path / "site",
                        archive_dir=tmp_path / "archive")
    services, api = start_prefect_server(tmp_path, pool=POOL)
    try:
        services.run("deploy", [prefect, "--no-prompt", "deploy", "--name", "daily"], cwd=PROJECT, timeout=180)
        # no scheduled run may slip in beside the one triggered here
        services.run("schedule", [prefect, "deployment", "schedule", "clear", "drought-run/daily", "-y"])
        # Two daily runs of one setup at once: the deployment's concurrency limit (ENQUEUE) must
        # hold the second until the first has finished, or both would write one decision log.
        flow_run_ids = [
            UUID.search(services.run(f"trigger-{k}", [prefect, "deployment", "run", "drought-run/daily",
                                                      "--params", json.dumps({"config_path": str(config)})])).group(0)
            for k in (1, 2)
        ]
        worker = services.start("worker", [prefect, "worker", "start", "--pool", POOL],
                                env={"PREFECT_WORKER_QUERY_SECONDS": "2"})
        wait_until(lambda: all(_read_run(api, i)[0].state.is_final() for i in flow_run_ids), timeout=600,
                   what="both daily runs final", proc=worker, log=services.log("worker"), interval=3)
        runs = sorted((_read_run(api, i)[0] for i in flow_run_ids), key=lambda r: r.start_time)
        assert all(r.state.is_completed() for r in runs), f"{[r.state for r in runs]}\n{services.log('worker')}"
        assert runs[1].start_time >= runs[0].end_time, "two runs of one setup overlapped"
        assert "AwaitingConcurrencySlot" in _state_names(api, runs[1].id), "the second run never waited"

        flow_run_id = str(runs[0].id)
        run, artifacts = _read_run(api, flow_run_id)
        assert run.state.is_completed(), f"{run.state}\n{services.log('worker')}"
        assert run.parameters["config_path"] == str(config)
        by_key = {a.key: a for a in artifacts}
        summary, table, link = (by_key.get(artifact_key("demo", what))
                                for what in ("run-summary", "restrictions", "published-map"))
        assert summary is not None and summary.type == "markdown", sorted(by_key)
        assert "## Escalation levels" in summary.data and "| meteo | 2025-08-15 | 0 | ok |" in summary.data
        rows = json.loads(table.data) if isinstance(table.data, str) else table.data
        assert len(rows) == 64 and {r["district"][:3] for r in rows} == {"WBW", "WBO"}
        assert link.type == "markdown" and (tmp_path / "site" / "index.html").as_uri() in link.data
        assert (tmp_path / "site" / "index.html").is_file()
        assert run.state.name == "Completed" and "## Problems" in summary.data and "Exit code 0 (OK)" in summary.data

        # A back-dated run in the live timeline: refused, and the UI says so in the run's state
        # (Refused, of the Failed type) and in its summary artifact (pipelines/outcome.py).
        live = (tmp_path / "site").resolve()
        refused_id = UUID.search(services.run("trigger-back-dated", [
            prefect, "deployment", "run", "drought-run/daily",
            "--params", json.dumps({"config_path": str(config), "date": "2025-06-01"})])).group(0)
        wait_until(lambda: _read_run(api, refused_id)[0].state.is_final(), timeout=300,
                   what="back-dated run final", proc=worker, log=services.log("worker"), interval=3)
        refused, artifacts = _read_run(api, refused_id)
        assert refused.state.name == "Refused" and refused.state.is_failed(), refused.state
        assert "decided up to 2025-08-15" in refused.state.message
        summary = {a.key: a for a in artifacts}[artifact_key("demo", "run-summary")]
        assert "Exit code 5 (REFUSED)" in summary.data and "--output DIR" in summary.data
        assert (tmp_path / "site").resolve() == live
    finally:
        left = services.stop_all()
    assert not left, f"processes left behind: {left}"


def _state_names(api: str, flow_run_id) -> list[str]:
    """The names of every state a flow run has been in, oldest first."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
        return [state.name for state in client.read_flow_run_states(flow_run_id)]


def _read_run(api: str, flow_run_id: str):
    """The flow run and its artifacts, read from the server's API."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
        run = client.read_flow_run(flow_run_id)
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id])))
    return run, artifacts
