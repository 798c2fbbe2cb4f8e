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

from pipelines import stages
from pipelines.approval import request_approval
from pipelines.artifacts import publish_run_artifacts
from pipelines.briefing import bulletin_due
from pipelines.config import load_config
from pipelines.ingest.flows import ingest_all


@task(name="compute-indicators", cache_policy=NONE)
def compute_indicators(config_path: str, day: dt.date) -> Path:
    """Drought indicators per station and district up to ``day`` → ``indicators.nc``."""
    return stages.compute_indicators(load_config(config_path), day)


@task(name="allocate-water", cache_policy=NONE)
def allocate_water(config_path: str, day: dt.date, dask_address: str | None,
                   horizon_days: int | None = None) -> Path:
    """Verdringingsreeks allocation for the season so far and the outlook ensemble, on Dask."""
    return stages.allocate_water(load_config(config_path), day, dask_address=dask_address,
                                 horizon_days=horizon_days)


def _climatology_key(context, parameters) -> str:
    """Cache key of the deficit climatology: the weather data it is computed from, the years
    before the run's year, and the code that computes it. New data or new code, new key."""
    config = load_config(parameters["config_path"])
    day = parameters["day"]
    return f"deficit-climatology-{stages.weather_fingerprint(config)}-{day.year}-{CLIMATOLOGY_CODE_VERSION}"


#: Raise when the climatology's computation changes, so cached results are not reused.
CLIMATOLOGY_CODE_VERSION = "1"


@task(name="deficit-climatology", cache_key_fn=_climatology_key, persist_result=True,
      result_serializer="pickle", cache_expiration=dt.timedelta(days=400))
def deficit_climatology(config_path: str, day: dt.date):
    """Median deficit per season day and district over the earlier years: expensive (the whole
    record), deterministic, and the same every day of a season, so it is cached."""
    return stages.deficit_climatology(load_config(config_path), day)


@task(name="decide-restrictions", cache_policy=NONE)
def decide_restrictions(config_path: str, day: dt.date, deficit_median=None) -> stages.Proposal:
    """Restriction decisions with hysteresis over the season; what would change if published."""
    return stages.decide_restrictions(load_config(config_path), day, deficit_median)


@task(name="publish-site", cache_policy=NONE)
def publish_site(config_path: str, day: dt.date, proposal: stages.Proposal) -> Path:
    """Write the citizen map, the dashboard and open data, and switch the live site in one step."""
    return stages.publish(load_config(config_path), day, proposal)


@task(name="write-bulletin", cache_policy=NONE)
def write_bulletin(config_path: str, day: dt.date) -> list[Path]:
    """The weekly drought bulletin (Dutch and English) beside the published site."""
    from pipelines.briefing import write_bulletin as write

    return write(load_config(config_path), day)


@flow(name="drought-run", log_prints=True)
def drought_run(config_path: str, date: str | None = None, dask_address: str | None = None) -> dict:
    """Run the whole pipeline for one day (``date`` as YYYY-MM-DD, default: the setup's date).

    ``dask_address`` names an existing Dask scheduler; without it the setup's ``dask.address``
    is used, and without that a local cluster on loopback.
    """
    logger = get_run_logger()
    config = load_config(config_path)
    day = dt.date.fromisoformat(date) if date else (config.date or dt.date.today())
    logger.info("daily run of %r for %s", config.name, day)

    ingest_reports = ingest_all(config_path=str(config.path), until=day.isoformat())
    indicators = compute_indicators(str(config.path), day)
    allocation = allocate_water(str(config.path), day, dask_address or config.dask_address)
    median = deficit_climatology(str(config.path), day)
    proposal = decide_restrictions(str(config.path), day, median)
    approval = request_approval(config, proposal)
    if approval.approved:
        site = publish_site(str(config.path), day, proposal)
    else:
        site = config.site_dir
        logger.warning("publication not approved (%s): the published site stays as it was", approval.note)
    bulletin = None
    if approval.approved and bulletin_due(config, day):  # publication.bulletin_weekday
        bulletin = write_bulletin(str(config.path), day)[0]
    publish_run_artifacts(config, day, proposal, ingest_reports, approval)
    outputs = {
        "indicators": indicators,
        "allocation": allocation,
        "decisions": config.processed_dir / stages.DECISION_LOG,
        "site": site / "index.html",
    }
    if bulletin is not None:
        outputs["bulletin"] = bulletin
    return {"date": day.isoformat(), "ingest": ingest_reports, "approval": approval,
            "changes": proposal.changes, "outputs": outputs}
