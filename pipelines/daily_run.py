"""The daily run: ingest → indicators → allocation → restrictions → approval → publish.

``drought_run`` is the flow an analyst schedules every morning (``prefect.yaml``) or starts by
hand (``droogte run``). It reads like the job it does; each task is one unit of work that
reads its inputs from ``data/processed/<setup>/`` and writes its output there in the form of
``docs/contracts.md``, so any stage can be inspected, re-run or replaced on its own.

The growing season runs from 1 April (KNMI's precipitation deficit starts then, and so does
the allocation's water balance); a run for a day before April covers the winter from
1 January with the same code.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from pipelines import stages, timeline
from pipelines.approval import request_approval
from pipelines.artifacts import page_notices, publish_run_artifacts
from pipelines.ingest.flows import ingest_all
from pipelines.late_data import DataDay, stale_problems
from pipelines.outcome import ExitCode, Outcome, final_state, problems_from_ingest
from pipelines.timeline import setup


@task(name="compute-indicators", cache_policy=NONE)
def compute_indicators(config_path: str, day: dt.date, output: str | None = None) -> Path:
    """Drought indicators per station and district up to ``day`` → ``indicators.nc``."""
    return stages.compute_indicators(setup(config_path, output), day)


@task(name="allocate-water", cache_policy=NONE)
def allocate_water(config_path: str, day: dt.date, dask_address: str | None,
                   horizon_days: int | None = None, output: str | None = None) -> Path:
    """Verdringingsreeks allocation for the season so far and the outlook ensemble, on Dask."""
    return stages.allocate_water(setup(config_path, output), day, dask_address=dask_address,
                                 horizon_days=horizon_days)


def _climatology_key(context, parameters) -> str:
    """Cache key of the deficit climatology: the weather data it is computed from, the years
    before the run's year, and the code that computes it. New data or new code, new key."""
    config = setup(parameters["config_path"], parameters.get("output"))
    day = parameters["day"]
    return f"deficit-climatology-{stages.weather_fingerprint(config)}-{day.year}-{CLIMATOLOGY_CODE_VERSION}"


#: Raise when the climatology's computation changes, so cached results are not reused.
CLIMATOLOGY_CODE_VERSION = "1"


@task(name="deficit-climatology", cache_key_fn=_climatology_key, persist_result=True,
      result_serializer="pickle", cache_expiration=dt.timedelta(days=400))
def deficit_climatology(config_path: str, day: dt.date, output: str | None = None):
    """Median deficit per season day and district over the earlier years: expensive (the whole
    record), deterministic, and the same every day of a season, so it is cached."""
    return stages.deficit_climatology(setup(config_path, output), day)


@task(name="find-data-day", cache_policy=NONE)
def find_data_day(config_path: str, day: dt.date, output: str | None = None) -> DataDay:
    """The newest day up to ``day`` the allocation has every input for (pipelines/late_data.py)."""
    return stages.find_data_day(setup(config_path, output), day)


@task(name="decide-restrictions", cache_policy=NONE)
def decide_restrictions(config_path: str, day: dt.date, deficit_median=None, output: str | None = None,
                        valid_on: dt.date | None = None) -> stages.Proposal:
    """Restriction decisions with hysteresis over the season up to ``day``, in force on
    ``valid_on`` (default ``day``); what would change if published."""
    return stages.decide_restrictions(setup(config_path, output), day, deficit_median, valid_on=valid_on)


@task(name="publish-site", cache_policy=NONE)
def publish_site(config_path: str, day: dt.date, proposal: stages.Proposal, output: str | None = None,
                 notices: list | None = None) -> Path:
    """Write the citizen map, the dashboard and open data, and switch the live site in one step."""
    return stages.publish(setup(config_path, output), day, proposal, notices=notices)


@flow(name="drought-run", log_prints=True)
def drought_run(config_path: str, date: str | None = None, dask_address: str | None = None,
                output: str | None = None, republish: bool = False):
    """Run the whole pipeline for one day (``date`` as YYYY-MM-DD, default: the setup's date).

    ``dask_address`` names an existing Dask scheduler; without it the setup's ``dask.address``
    is used, and without that a local cluster on loopback. ``output`` (a folder) runs the day
    into a timeline of its own instead of the setup's live output (``pipelines/timeline.py``):
    back-tests and replays use it. ``republish`` lets a run for a day before the live issue
    replace it on purpose; without it such a run is refused.

    Ends in the state of ``pipelines/outcome.py`` (Completed, Degraded, Withheld, Refused,
    Failed); the result is a dict with the day, the data day, the ingest reports, the approval,
    the changes, the outputs and ``outcome`` (``Outcome.as_dict()``).
    """
    logger = get_run_logger()
    config = setup(config_path, output)
    day = dt.date.fromisoformat(date) if date else (config.date or dt.date.today())
    path = str(config.path)
    logger.info("daily run of %r for %s%s", config.name, day, f" into {output}" if output else "")
    outcome = Outcome()
    result = {"date": day.isoformat(), "data_day": None, "ingest": {}, "approval": None, "changes": [],
              "outputs": {}, "outcome": None}

    refused = timeline.refusal(config, day, republish=republish)
    if refused:
        outcome.add("timeline", refused, ExitCode.REFUSED)
        logger.error("refused: %s", refused)
        return _end(config, day, outcome, result)
    if republish:
        logger.warning("--republish: the issue for %s replaces the live one; the decision log records "
                       "corrections", day)

    try:
        return _run_day(config, day, path, dask_address, output, outcome, result)
    except Exception as exc:
        # The summary artifact says what failed too, not only the run's state and log.
        outcome.add("run", f"{type(exc).__name__}: {exc}", ExitCode.FAILED)
        publish_run_artifacts(config, day, None, result["ingest"], None, outcome=outcome)
        raise


def _run_day(config, day: dt.date, path: str, dask_address: str | None, output: str | None,
             outcome: Outcome, result: dict):
    """The stages of one day, after the timeline has accepted it."""
    logger = get_run_logger()
    ingest_reports = ingest_all(config_path=path, until=day.isoformat(), output=output)
    result["ingest"] = ingest_reports
    outcome.extend(problems_from_ingest(ingest_reports))
    found = find_data_day(path, day, output)
    result["data_day"] = found.data_day and found.data_day.isoformat()
    outcome.extend(found.problems)
    if found.withheld:
        for problem in found.problems:
            logger.error("%s", problem)
        publish_run_artifacts(config, day, None, ingest_reports, None, outcome=outcome)
        return _end(config, day, outcome, result)
    computed = found.data_day
    for problem in found.problems:
        logger.warning("late data: %s", problem)

    indicators = compute_indicators(path, computed, output)
    outcome.extend(p for p in stale_problems(stages.indicator_attrs(config), computed)
                   if p.source not in {q.source for q in outcome.problems})
    allocation = allocate_water(path, computed, dask_address or config.dask_address, output=output)
    median = deficit_climatology(path, computed, output)
    proposal = decide_restrictions(path, computed, median, output, valid_on=day)
    approval = request_approval(config, proposal)
    if approval.approved:
        site = publish_site(path, day, proposal, output, notices=page_notices(outcome, day, found.newest))
    else:
        site = config.site_dir
        logger.warning("publication not approved (%s): the published site stays as it was", approval.note)
    publish_run_artifacts(config, day, proposal, ingest_reports, approval, outcome=outcome)
    result.update(approval=approval, changes=proposal.changes, outputs={
        "indicators": indicators,
        "allocation": allocation,
        "decisions": config.processed_dir / stages.DECISION_LOG,
        "site": site / "index.html",
    })
    return _end(config, day, outcome, result)


def _end(config, day: dt.date, outcome: Outcome, result: dict):
    """Log the outcome and end the flow in its state (``pipelines/outcome.py``)."""
    logger = get_run_logger()
    result["outcome"] = outcome.as_dict()
    if outcome.problems:
        logger.warning("run of %r for %s ends %s", config.name, day, outcome.message())
    return final_state(outcome, result)
