"""An analyst approves publication when the proposed restrictions differ from the published ones.

A restriction is a legal act: the pipeline proposes, a person decides. When publishing would
change what citizens see, the daily flow pauses (``pause_flow_run`` with a typed input form in
the Prefect UI: approve or reject, the analyst's name, a note) and shows the changes as a
Markdown artifact. On timeout the published decisions stay as they were and the run says so.
A setup may approve automatically (``publication.approval: auto``, the demo's setting); that
too is logged. Every answer is kept in ``approvals.parquet`` in the processed folder.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from prefect import get_run_logger, pause_flow_run
from prefect.artifacts import create_markdown_artifact
from prefect.exceptions import FlowPauseTimeout
from prefect.input import RunInput

from pipelines.config import Config
from pipelines.store import APPROVALS, Store


class ApprovalInput(RunInput):
    """The form an analyst fills in to answer a paused daily run."""

    approve: bool
    analyst: str
    note: str = ""


@dataclass(frozen=True)
class Approval:
    """The answer to one request: approved or not, by whom, when, and why."""

    approved: bool
    by: str
    at: str
    note: str
    mode: str
    changes: int


def changes_markdown(day: dt.date, changes: list[dict]) -> str:
    """A Markdown table of the restriction changes publishing would make."""
    lines = [f"# Proposed restriction changes for {day.isoformat()}", "",
             f"{len(changes)} district(s) would change.", "",
             "| district | name | water board | published now | proposed |", "|---|---|---|---|---|"]
    from pipelines.publication.artifacts import restriction_words

    lines += [f"| {c['district_id']} | {c['name']} | {c['water_board']} | {restriction_words(c['was'])} | "
              f"{restriction_words(c['becomes'])} |" for c in changes]
    return "\n".join(lines)


def request_approval(config: Config, proposal) -> Approval:
    """Approve publication of ``proposal`` automatically, or pause the flow for an analyst."""
    logger = get_run_logger()
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    n = len(proposal.changes)
    if not proposal.changed:
        approval = Approval(True, "droogte", now, "no change against the published decisions", "unchanged", 0)
    elif config.approval == "auto":
        approval = Approval(True, "auto-approval (publication.approval: auto)", now,
                            f"{n} change(s) approved automatically by the configuration", "auto", n)
        logger.info("publication approved automatically (%d changes)", n)
    else:
        summary = changes_markdown(proposal.day, proposal.changes)
        create_markdown_artifact(summary, key="proposed-restriction-changes",
                                 description="Restriction changes waiting for approval")
        logger.info("waiting up to %d s for an analyst to approve %d change(s)", config.approval_timeout_s, n)
        try:
            answer = pause_flow_run(
                wait_for_input=ApprovalInput.with_initial_data(
                    description=summary + "\n\nApprove publication of these restrictions?",
                    approve=False, analyst="", note=""),
                timeout=config.approval_timeout_s,
            )
        except FlowPauseTimeout:
            approval = Approval(False, "nobody", now, f"no answer within {config.approval_timeout_s} s; "
                                "the published decisions stay as they were", "timeout", n)
        else:
            answered = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            approval = Approval(bool(answer.approve), answer.analyst or "unnamed analyst", answered,
                                answer.note, "analyst", n)
    _record(config, proposal.day, approval)
    logger.info("approval: %s by %s at %s (%s)", "approved" if approval.approved else "not approved",
                approval.by, approval.at, approval.note)
    return approval


def _record(config: Config, day: dt.date, approval: Approval) -> None:
    Store(config.processed_dir).append(APPROVALS, {"date": day.isoformat(), **asdict(approval)})
