"""How a run ends: problems → exit code, Prefect state and summary (pipelines/outcome.py)."""

from __future__ import annotations

import pytest

from pipelines.ingest.flows import SourceReport
from pipelines.outcome import STATE_NAMES, ExitCode, Outcome, exit_code_of_state, final_state, problems_from_ingest


def test_no_problem_is_ok_and_the_most_serious_problem_sets_the_code():
    outcome = Outcome()
    assert outcome.code == ExitCode.OK and outcome.state_name == "Completed"
    outcome.add("groundwater", "stale")
    assert outcome.code == ExitCode.DEGRADED
    outcome.add("data", "too old", ExitCode.WITHHELD)
    assert outcome.code == ExitCode.WITHHELD
    outcome.add("timeline", "before the live issue", ExitCode.REFUSED)
    assert outcome.code == ExitCode.REFUSED
    outcome.add("run", "boom", ExitCode.FAILED)
    assert outcome.code == ExitCode.FAILED
    assert Outcome.from_dict(outcome.as_dict()).problems == outcome.problems
    with pytest.raises(ValueError, match="DEGRADED, WITHHELD, REFUSED or FAILED"):
        outcome.add("x", "y", ExitCode.OK)


def test_a_failed_source_and_a_failed_file_from_ingest_are_problems_named_by_source():
    reports = {"meteo": SourceReport("meteo", files=5, failed_files=["/data/etmgeg_260.txt: line 3: bad"]),
               "groundwater": "FAILED: disk full",
               "sensors": SourceReport("sensors", files=1)}
    problems = problems_from_ingest(reports)
    assert [(p.source, p.code) for p in problems] == [("meteo", ExitCode.DEGRADED), ("groundwater", ExitCode.DEGRADED)]
    assert "etmgeg_260.txt" in problems[0].message and "disk full" in problems[1].message
    text = "\n".join(Outcome(problems).markdown())
    assert "Exit code 3 (DEGRADED)" in text and "| groundwater | DEGRADED |" in text


@pytest.mark.parametrize("code", list(STATE_NAMES))
def test_the_flow_state_stands_for_the_exit_code(code):
    outcome = Outcome()
    if code != ExitCode.OK:
        outcome.add("meteo", "something", code)
    state = final_state(outcome, {"answer": 42})
    assert state.name == STATE_NAMES[code]
    assert state.is_completed() == (code in (ExitCode.OK, ExitCode.DEGRADED, ExitCode.WITHHELD))
    assert exit_code_of_state(state) == code
    if code != ExitCode.OK:
        assert "meteo: something" in state.message
