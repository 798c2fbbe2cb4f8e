"""The daily run: ingest → indicators → allocation → restrictions → approval → publication.

``drought_run`` is the flow an analyst schedules every morning (``prefect.yaml``) or starts by
hand (``droogte run``). It reads like the job it does. It loads and checks its setup once and
hands the loaded configuration to every task (the three ingests among them); each task is one stage
(``pipelines/indicators.py``, ``allocation.py``, ``restrictions.py``, ``publication/``) that
reads its inputs from the setup's processed store (``pipelines/store.py``) and writes its output
there in the form of ``docs/contracts.md``, so any stage can be inspected, re-run or replaced on
its own.

The growing season runs from 1 April (KNMI's precipitation deficit starts then, and so does
the allocation's water balance); a run for a day before April covers the winter from
1 January with the same code (``models/season.py``).
"""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path

from filelock import FileLock
from filelock import Timeout as LockTimeout
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from models.restrictions.proposal import Proposal
from pipelines import allocation, briefing, indicators, restrictions, timeline
from pipelines.briefing import bulletin_due
from pipelines.config import Config, load_config
from pipelines.ingest.flows import ingest_sources
from pipelines.late_data import DataDay, find_data_day, stale_problems
from pipelines.outcome import ExitCode, Outcome, final_state, problems_from_ingest
from pipelines.publication import publish
from pipelines.publication.approval import request_approval
from pipelines.publication.artifacts import page_notices, publish_run_artifacts
from pipelines.input_status import degraded_inputs, unknown_states
from pipelines.store import DECISION_LOG, INDICATORS, Store, remove_interrupted_writes


#: Modules the stages import only where they first need them (the pages and charts, the
#: reference geography, the climatology, dask.array for xarray): about 1.5 s of CPU inside
#: the flow otherwise. ``droogte run`` imports them while Prefect's temporary server is still
#: starting (:func:`import_stages`), when the process would otherwise only wait.
STAGE_IMPORTS = ("dashboards.site", "dashboards.policy_dashboard", "dashboards.public_record", "dashboards.bulletin",
                 "dashboards.charts", "models.indicators.climatology", "models.indicators.deficit",
                 "models.restrictions.explanations", "pipelines.reference.geography", "pipelines.national_source",
                 "dask.array", "prefect.task_engine", "prefect.artifacts",
                 # Prefect serialises a flow's parameters with FastAPI's encoder, importing
                 # FastAPI (about 0.3 s of CPU) as the flow starts (prefect/flows.py: serialize_parameters)
                 "fastapi.encoders")


def import_stages() -> None:
    """Import :data:`STAGE_IMPORTS`, load numba's compiler contexts (``models/jit.py``) and
    compile the pages' templates now. What fails here is left for the stage that needs it,
    which then fails with the error in its own task run, as without this."""
    for name in STAGE_IMPORTS:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - reported by the stage that needs it (see docstring)
            continue
    try:
        from dashboards.citizen_map import TEMPLATE_ENVIRONMENT
        from models.jit import load_compiler

        load_compiler()
        for template in TEMPLATE_ENVIRONMENT.list_templates(extensions=["j2"]):
            TEMPLATE_ENVIRONMENT.get_template(template)  # compiled once, kept by the environment
    except Exception:  # noqa: BLE001 - as above: loaded again where needed, and reported there
        pass


class RunInProgress(RuntimeError):
    """Another daily run of the same setup is still running."""


@task(name="compute-indicators", cache_policy=NONE)
def indicators_task(config: Config, day: dt.date) -> Path:
    """Drought indicators per station and district up to ``day`` → ``indicators.nc``."""
    return indicators.run(config, day)


# Retried once: a result lost with a Dask worker is resubmitted inside the task
# (models/allocation/parallel.py); a retry covers what remains (the scheduler itself restarting).
@task(name="allocate-water", cache_policy=NONE, retries=1, retry_delay_seconds=5)
def allocation_task(config: Config, day: dt.date, dask_address: str | None,
                    horizon_days: int | None = None) -> Path:
    """Verdringingsreeks allocation for the season so far and the outlook ensemble, on Dask."""
    return allocation.run(config, day, dask_address=dask_address, horizon_days=horizon_days)


def _climatology_key(context, parameters) -> str:
    """Cache key of the deficit median: the weather data it is computed from, the years
    before the run's year, and the code that computes it. New data or new code, new key."""
    config = parameters["config"]
    day = parameters["day"]
    return f"deficit-climatology-{restrictions.weather_fingerprint(config)}-{day.year}-{CLIMATOLOGY_CODE_VERSION}"


#: Raise when the climatology's computation changes, so cached results are not reused.
CLIMATOLOGY_CODE_VERSION = "1"


@task(name="deficit-climatology", cache_key_fn=_climatology_key, persist_result=True,
      result_serializer="pickle", cache_expiration=dt.timedelta(days=400))
def deficit_median_task(config: Config, day: dt.date):
    """Median deficit per season day and district over the earlier years: expensive (the whole
    record), deterministic, and the same every day of a season, so it is cached."""
    return restrictions.deficit_median(config, day)


@task(name="find-data-day", cache_policy=NONE)
def data_day_task(config: Config, day: dt.date) -> DataDay:
    """The newest day up to ``day`` the allocation has every input for (pipelines/late_data.py)."""
    return find_data_day(config, day)


@task(name="decide-restrictions", cache_policy=NONE)
def restrictions_task(config: Config, day: dt.date, median=None, valid_on: dt.date | None = None) -> Proposal:
    """Restriction decisions with hysteresis over the season up to ``day``, in force on
    ``valid_on`` (default ``day``); what would change if published."""
    return restrictions.run(config, day, median, valid_on=valid_on)


@task(name="publish-site", cache_policy=NONE)
def publication_task(config: Config, day: dt.date, proposal: Proposal,
                     notices: list | None = None) -> tuple[Path, briefing.Briefing]:
    """Write the citizen map, the dashboard and open data, and switch the live site in one step;
    returns the site and the briefing (charts) it was built from, which the bulletin reuses."""
    gathered = briefing.gather_stored(config, proposal.computed_until or day, escalation=proposal.escalation)
    return publish.run(config, day, proposal, notices=notices, briefing=gathered), gathered


@task(name="write-bulletin", cache_policy=NONE)
def bulletin_task(config: Config, day: dt.date, gathered: briefing.Briefing | None = None) -> list[Path]:
    """The weekly drought bulletin (Dutch and English) beside the published site; with the
    publication's briefing of ``day`` its charts are not drawn a second time."""
    return briefing.write_bulletin(config, day, gathered)


@flow(name="drought-run", log_prints=True)
def drought_run(config_path: str, date: str | None = None, dask_address: str | None = None,
                output: str | None = None, republish: bool = False, config=None):
    """Run the whole pipeline for one day (``date`` as YYYY-MM-DD, default: the setup's date).

    ``dask_address`` names an existing Dask scheduler; without it the setup's ``dask.address``
    is used, and without that a local cluster on loopback. ``output`` (a folder) runs the day
    into a timeline of its own instead of the setup's live output (``pipelines/timeline.py``):
    back-tests and replays use it. ``republish`` lets a run for a day before the live issue
    replace it on purpose; without it such a run is refused. ``config``: the setup at
    ``config_path`` when the caller has loaded and checked it already (``droogte run`` does,
    to refuse a wrong setup before Prefect starts); else it is loaded here.

    Ends in the state of ``pipelines/outcome.py`` (Completed, Degraded, Withheld, Refused,
    Failed); the result is a dict with the day, the data day, the ingest reports, the approval,
    the changes, the outputs and ``outcome`` (``Outcome.as_dict()``).
    """
    logger = get_run_logger()
    config = config or load_config(config_path)  # the one time this run reads and checks its setup
    if output:
        config = timeline.own_output(config, output)
    day = dt.date.fromisoformat(date) if date else (config.date or dt.date.today())
    logger.info("daily run of %r for %s%s", config.name, day, f" into {output}" if output else "")
    outcome = Outcome()
    result = {"date": day.isoformat(), "data_day": None, "ingest": {}, "approval": None, "changes": [],
              "outputs": {}, "outcome": None}

    # One run of a setup (of one output) at a time, also without a Prefect server (whose
    # concurrency limits queue the deployments' runs): a second run refuses at once, naming the
    # lock. The lock is the kernel's (fcntl): a run killed by SIGKILL releases it.
    config.processed_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(config.processed_dir / ".run.lock")
    try:
        lock.acquire(timeout=0)
    except LockTimeout:
        raise RunInProgress(f"another run of setup {config.name!r} is in progress (lock {lock.lock_file} "
                            "is held); this run stopped before doing anything. Run again once it has ended.") from None
    try:
        return _accepted(config, day, dask_address, republish, outcome, result)
    finally:
        lock.release()


def _accepted(config: Config, day: dt.date, dask_address: str | None, republish: bool, outcome: Outcome,
              result: dict):
    """The run, once it holds the setup's run lock: the timeline's check, then the stages."""
    logger = get_run_logger()
    # Temporary files of writes that a crash or kill interrupted (their targets are whole).
    leftovers = remove_interrupted_writes(config.processed_dir) + remove_interrupted_writes(config.raw_archive_dir)
    if leftovers:
        logger.warning("removed %d temporary file(s) of interrupted writes, e.g. %s", len(leftovers), leftovers[0])
    refused = timeline.refusal(config, day, republish=republish)
    if refused:
        outcome.add("timeline", refused, ExitCode.REFUSED)
        logger.error("refused: %s", refused)
        publish_run_artifacts(config, day, None, {}, None, outcome=outcome)
        return _end(config, day, outcome, result)
    if republish:
        logger.warning("--republish: the issue for %s replaces the live one; the decision log records "
                       "corrections", day)
    try:
        return _run_day(config, day, dask_address, outcome, result)
    except Exception as exc:
        # The summary artifact says what failed too, not only the run's state and log.
        outcome.add("run", f"{type(exc).__name__}: {exc}", ExitCode.FAILED)
        try:
            publish_run_artifacts(config, day, None, result["ingest"], None, outcome=outcome)
        except Exception as artifact_error:  # never hide the run's own error behind this one
            logger.error("the run-summary artifact could not be written: %s", artifact_error)
        raise


def _run_day(config: Config, day: dt.date, dask_address: str | None, outcome: Outcome, result: dict):
    """The stages of one day, after the timeline has accepted it."""
    logger = get_run_logger()
    ingest_reports = ingest_sources(config, until=day.isoformat())
    result["ingest"] = ingest_reports
    outcome.extend(problems_from_ingest(ingest_reports))
    found = data_day_task(config, day)
    result["data_day"] = found.data_day and found.data_day.isoformat()
    outcome.extend(found.problems)
    if found.withheld:
        for problem in found.problems:
            logger.error("%s", problem)
        publish_run_artifacts(config, day, None, ingest_reports, None, outcome=outcome)
        return _end(config, day, outcome, result)
    computed = found.data_day  # indicators, allocation and rules run to the newest complete day
    for problem in found.problems:
        logger.warning("late data: %s", problem)

    indicators_file = indicators_task(config, computed)
    named = {p.source for p in outcome.problems}
    attrs = Store(config.processed_dir).attributes(INDICATORS)
    outcome.extend(p for p in stale_problems(attrs, computed) if p.source not in named)
    # Stations, wells and sensors that are stale or without data, by name (the newest value of
    # a source hides a station that stopped years ago); their districts keep their decisions.
    for reason in degraded_inputs(config, attrs):
        outcome.add(reason.split(":", 1)[0], reason.split(":", 1)[1].strip())
    allocation_file = allocation_task(config, computed, dask_address or config.dask_address)
    median = deficit_median_task(config, computed)
    proposal = restrictions_task(config, computed, median, valid_on=day)
    unknown = unknown_states(proposal.decisions)
    if unknown:  # a source without any data and no earlier decision (models/restrictions/missing_input.py)
        outcome.add("decisions", unknown)
    approval = request_approval(config, proposal)
    gathered = None
    if approval.approved:
        site, gathered = publication_task(config, day, proposal, notices=page_notices(outcome, day, found.newest))
    else:
        site = config.site_dir
        logger.warning("publication not approved (%s): the published site stays as it was", approval.note)
    bulletin = None
    if approval.approved and bulletin_due(config, day):  # publication.bulletin_weekday
        bulletin = bulletin_task(config, computed, gathered)[0]  # from the run's data day (earlier when data are late)
    publish_run_artifacts(config, day, proposal, ingest_reports, approval, outcome=outcome)
    result.update(approval=approval, changes=proposal.changes, outputs={
        "indicators": indicators_file,
        "allocation": allocation_file,
        "decisions": config.processed_dir / DECISION_LOG,
        "site": site / "index.html",
    })
    if bulletin is not None:
        result["outputs"]["bulletin"] = bulletin
    return _end(config, day, outcome, result)


def _end(config: Config, day: dt.date, outcome: Outcome, result: dict):
    """Log the outcome and end the flow in its state (``pipelines/outcome.py``)."""
    logger = get_run_logger()
    result["outcome"] = outcome.as_dict()
    if outcome.problems:
        logger.warning("run of %r for %s ends %s", config.name, day, outcome.message())
    return final_state(outcome, result)
