"""How a run ends: one list of problems gives the exit code, the flow run's state and the summary.

Everything that goes wrong in a run without stopping it (a source that failed, a file that
could not be read, data that end before the run's day, a date the live site or the decision
log refuses) is added to the run's :class:`Outcome` as a :class:`Problem`, with the source it
concerns and a message for the analyst. The outcome then decides, in one place:

- the **exit code** of ``droogte`` (:class:`ExitCode`);
- the **state of the flow run** in Prefect (:func:`final_state`): ``Completed`` when all is
  well, ``Degraded`` / ``Withheld`` (both of the Completed type, so the run counts as done and
  its result is kept) or ``Refused`` / ``Failed`` (of the Failed type), with the problems as
  the state's message;
- the **"Problems" section** of the run-summary artifact (:meth:`Outcome.markdown`).

The exit codes (the README and ``docs/runbook.md`` list them too):

====  ==========  ===========================================================================
code  name        meaning
====  ==========  ===========================================================================
0     OK          all sources ingested and fresh; the run did its work (published, or found
                  nothing to change, or was not approved by the analyst)
1     FAILED      the run stopped on an error; nothing new was published, the live site and
                  the stored data stay as they were
2     CONFIG      the configuration file or the command line is wrong; nothing was done
3     DEGRADED    the run published, but on degraded data: a source or file failed, or a
                  source ends before the run's day; the summary and the page name it
4     WITHHELD    the run finished but published no new decisions: the newest data are older
                  than ``freshness.max_age_days``; the live site stays as it was
5     REFUSED     the run was refused before it changed anything: its date lies before the
                  live issue or before the last day the decision log decided (run it into
                  its own output with ``--output DIR``, or republish on purpose with
                  ``--republish``)
====  ==========  ===========================================================================

When several problems occur the most serious code wins: FAILED, then REFUSED, WITHHELD,
DEGRADED. A stage adds a problem with ``outcome.add(source, message, ExitCode.DEGRADED)``;
an ingest report is turned into problems by :func:`problems_from_ingest`. The Prefect side
(``final_state``) imports Prefect only when called, so the rest is plain Python and tested
without a server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of ``droogte`` (see the module docstring)."""

    OK = 0
    FAILED = 1
    CONFIG = 2
    DEGRADED = 3
    WITHHELD = 4
    REFUSED = 5


#: Most serious first: the code of an outcome is the first of these among its problems.
_SEVERITY = (ExitCode.FAILED, ExitCode.REFUSED, ExitCode.WITHHELD, ExitCode.DEGRADED)

#: Name of the flow run's final state per exit code, as the Prefect UI shows it.
STATE_NAMES = {
    ExitCode.OK: "Completed",
    ExitCode.DEGRADED: "Degraded",
    ExitCode.WITHHELD: "Withheld",
    ExitCode.REFUSED: "Refused",
    ExitCode.FAILED: "Failed",
}


@dataclass(frozen=True)
class Problem:
    """One thing that went wrong: which source (``meteo``, ``groundwater``, ``sensors``,
    ``supply``, ``site``, ``decision-log``, …), what happened, and how serious it is."""

    source: str
    message: str
    code: ExitCode = ExitCode.DEGRADED

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


@dataclass
class Outcome:
    """The problems of one run, collected as the stages meet them."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, source: str, message: str, code: ExitCode = ExitCode.DEGRADED) -> Problem:
        if code not in _SEVERITY:
            raise ValueError(f"a problem has code DEGRADED, WITHHELD, REFUSED or FAILED; got {code!r}")
        problem = Problem(source, message, ExitCode(code))
        self.problems.append(problem)
        return problem

    def extend(self, problems) -> None:
        self.problems.extend(problems)

    @property
    def code(self) -> ExitCode:
        found = {p.code for p in self.problems}
        return next((code for code in _SEVERITY if code in found), ExitCode.OK)

    @property
    def state_name(self) -> str:
        return STATE_NAMES[self.code]

    def message(self) -> str:
        """One line for a state message or a log: the code's name and every problem."""
        if not self.problems:
            return "all sources ingested and fresh"
        return f"{self.code.name}: " + "; ".join(str(p) for p in self.problems)

    def markdown(self) -> list[str]:
        """The "Problems" section of the run summary (Markdown lines)."""
        lines = ["## Problems", "", f"Exit code {int(self.code)} ({self.code.name}).", ""]
        if not self.problems:
            return lines + ["None: every source was ingested and is fresh."]
        lines += ["| source | severity | what happened |", "|---|---|---|"]
        for p in self.problems:
            text = p.message.replace("\n", " ").replace("|", "\\|")
            lines.append(f"| {p.source} | {p.code.name} | {text} |")
        return lines

    def as_dict(self) -> dict:
        """JSON-ready: ``{"code": int, "state": str, "problems": [{source, message, code}]}``."""
        return {"code": int(self.code), "state": self.state_name,
                "problems": [{"source": p.source, "message": p.message, "code": int(p.code)}
                             for p in self.problems]}

    @classmethod
    def from_dict(cls, data: dict) -> Outcome:
        return cls([Problem(p["source"], p["message"], ExitCode(p["code"])) for p in data.get("problems", [])])


def problems_from_ingest(reports: dict) -> list[Problem]:
    """Problems in the reports of ``ingest_all`` (or one ingest flow): a source whose flow
    failed (its report is the text ``"FAILED: ..."``) and every file that failed, each
    DEGRADED — the other sources and files were stored, the failed ones kept their last data."""
    problems = []
    for source, report in reports.items():
        if isinstance(report, str):
            problems.append(Problem(source, f"ingest failed, its stored data stay as they were: "
                                    f"{report.removeprefix('FAILED: ')}"))
            continue
        for failed in getattr(report, "failed_files", []) or []:
            problems.append(Problem(source, f"not ingested: {failed}"))
    return problems


def final_state(outcome: Outcome, result):
    """The Prefect state a flow returns to end with ``outcome``, carrying ``result``.

    OK is a plain ``Completed``; DEGRADED and WITHHELD are ``Completed`` states named so (the
    run did its job and its result is kept; the name and message say what was missing);
    REFUSED and FAILED are ``Failed`` states (the run did not do its job).
    """
    from prefect.states import Completed, Failed

    code = outcome.code
    if code in (ExitCode.OK, ExitCode.DEGRADED, ExitCode.WITHHELD):
        return Completed(data=result, name=outcome.state_name, message=outcome.message())
    return Failed(data=result, name=outcome.state_name, message=outcome.message())


def exit_code_of_state(state) -> ExitCode:
    """The exit code that a flow run's final state stands for (``STATE_NAMES`` backwards);
    any other failed, crashed or cancelled state is FAILED."""
    for code, name in STATE_NAMES.items():
        if state.name == name and (state.is_completed() or code in (ExitCode.REFUSED, ExitCode.FAILED)):
            return code
    return ExitCode.OK if state.is_completed() else ExitCode.FAILED
