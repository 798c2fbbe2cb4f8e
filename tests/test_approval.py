"""The analyst's approval under a real (temporary) Prefect API: approved, rejected, timed out, auto.

A flow that asks for approval really pauses (``pause_flow_run`` with a typed input); a thread
plays the analyst and answers it through the API with ``resume_flow_run``, as the Prefect UI
does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import threading
import time

import pandas as pd
import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
from prefect.client.schemas.objects import StateType
from prefect.flow_runs import resume_flow_run

from pipelines.publication.approval import request_approval
from pipelines.store import APPROVALS
from pipelines.config import load_config
from pipelines.demo import write_demo
from models.restrictions.proposal import Proposal

DAY = dt.date(2025, 8, 15)
CHANGES = [{"district_id": "WBW-001", "name": "Zuiderveen I", "water_board": "WBW",
            "was": "none", "becomes": "surface_water_ban"}]


@pytest.fixture(scope="module")
def demo_config(tmp_path_factory):
    root = tmp_path_factory.mktemp("approval")
    path = write_demo(root / "raw", processed_dir=root / "processed", site_dir=root / "site",
                      archive_dir=root / "archive")
    return load_config(path)


def _proposal(changes) -> Proposal:
    return Proposal(day=DAY, decisions=pd.DataFrame({"district_id": ["WBW-001"]}), changes=changes)


def _approval_flow(config, proposal):
    @flow(name="approval-under-test")
    def ask():
        return request_approval(config, proposal)

    return ask


def _answer_when_paused(run_input: dict, answered: list) -> threading.Thread:
    """Play the analyst: wait for a paused flow run, then resume it with ``run_input``."""

    async def paused_run_id():
        async with get_client() as client:
            for _ in range(600):
                runs = await client.read_flow_runs(flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))))
                if runs:
                    return runs[0].id
                await asyncio.sleep(0.1)
        raise TimeoutError("no paused flow run appeared")

    def play():
        run_id = asyncio.run(paused_run_id())
        resume_flow_run(run_id, run_input=run_input)
        answered.append(run_id)

    thread = threading.Thread(target=play, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("approve", [True, False])
def test_analyst_answers_the_paused_run(demo_config, prefect_harness, approve):
    config = dataclasses.replace(demo_config, approval="analyst", approval_timeout_s=120)
    answered: list = []
    thread = _answer_when_paused({"approve": approve, "analyst": "J. de Vries", "note": "checked the gauges"},
                                 answered)
    approval = _approval_flow(config, _proposal(CHANGES))()
    thread.join(timeout=10)
    assert answered, "the flow never paused for the analyst"
    assert approval.approved is approve
    assert (approval.by, approval.note, approval.mode, approval.changes) == (
        "J. de Vries", "checked the gauges", "analyst", 1)
    log = pd.read_parquet(config.processed_dir / APPROVALS)
    last = log.iloc[-1]
    assert (bool(last["approved"]), last["by"], last["note"]) == (approve, "J. de Vries", "checked the gauges")


def test_no_answer_keeps_the_published_decisions(demo_config, prefect_harness):
    config = dataclasses.replace(demo_config, approval="analyst", approval_timeout_s=3)
    started = time.monotonic()
    approval = _approval_flow(config, _proposal(CHANGES))()
    assert not approval.approved
    assert approval.mode == "timeout" and "stay as they were" in approval.note
    assert time.monotonic() - started >= 3


def test_automatic_approval_is_logged(demo_config, prefect_harness):
    approval = _approval_flow(demo_config, _proposal(CHANGES))()
    assert approval.approved and approval.mode == "auto"
    log = pd.read_parquet(demo_config.processed_dir / APPROVALS)
    assert log.iloc[-1]["mode"] == "auto" and "publication.approval" in log.iloc[-1]["by"]


def test_nothing_to_approve_when_nothing_changes(demo_config, prefect_harness):
    config = dataclasses.replace(demo_config, approval="analyst", approval_timeout_s=1)
    approval = _approval_flow(config, _proposal([]))()
    assert approval.approved and approval.mode == "unchanged"
