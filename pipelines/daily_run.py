"""The daily run: ingest → indicators → allocation → restrictions → approval → publication.

``drought_run`` is the flow an analyst schedules every morning (``prefect.yaml``) or starts by
hand (``droogte run``). It reads like the job it does. It loads and checks its setup once and
hands the loaded configuration to every task and to the ingest flows; each task is one stage
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
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from models.restrictions.proposal import Proposal
from pipelines import allocation, indicators, restrictions
from pipelines import briefing
from pipelines.briefing import bulletin_due
from pipelines.config import Config, load_config
from pipelines.ingest.flows import ingest_all
from pipelines.publication import publish
from pipelines.publication.approval import request_approval
from pipelines.publication.artifacts import publish_run_artifacts
from pipelines.store import DECISION_LOG


@task(name="compute-indicators", cache_policy=NONE)
def indicators_task(config: Config, day: dt.date) -> Path:
    """Drought indicators per station and district up to ``day`` → ``indicators.nc``."""
    return indicators.run(config, day)


@task(name="allocate-water", cache_policy=NONE)
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


@task(name="decide-restrictions", cache_policy=NONE)
def restrictions_task(config: Config, day: dt.date, median=None) -> Proposal:
    """Restriction decisions with hysteresis over the season; what would change if published."""
    return restrictions.run(config, day, median)


@task(name="publish-site", cache_policy=NONE)
def publication_task(config: Config, day: dt.date, proposal: Proposal) -> Path:
    """Write the citizen map, the dashboard and open data, and switch the live site in one step."""
    return publish.run(config, day, proposal)


@task(name="write-bulletin", cache_policy=NONE)
def bulletin_task(config: Config, day: dt.date) -> list[Path]:
    """The weekly drought bulletin (Dutch and English) beside the published site."""
    return briefing.write_bulletin(config, day)


@flow(name="drought-run", log_prints=True)
def drought_run(config_path: str, date: str | None = None, dask_address: str | None = None, config=None) -> dict:
    """Run the whole pipeline for one day (``date`` as YYYY-MM-DD, default: the setup's date).

    ``dask_address`` names an existing Dask scheduler; without it the setup's ``dask.address``
    is used, and without that a local cluster on loopback. ``config``: the setup at
    ``config_path`` when the caller has loaded and checked it already (``droogte run`` does,
    to refuse a wrong setup before Prefect starts); else it is loaded here.
    """
    logger = get_run_logger()
    config = config or load_config(config_path)  # the one time this run reads and checks its setup
    day = dt.date.fromisoformat(date) if date else (config.date or dt.date.today())
    logger.info("daily run of %r for %s", config.name, day)

    ingest_reports = ingest_all(until=day.isoformat(), config=config)
    indicators_file = indicators_task(config, day)
    allocation_file = allocation_task(config, day, dask_address or config.dask_address)
    median = deficit_median_task(config, day)
    proposal = restrictions_task(config, day, median)
    approval = request_approval(config, proposal)
    if approval.approved:
        site = publication_task(config, day, proposal)
    else:
        site = config.site_dir
        logger.warning("publication not approved (%s): the published site stays as it was", approval.note)
    bulletin = None
    if approval.approved and bulletin_due(config, day):  # publication.bulletin_weekday
        bulletin = bulletin_task(config, day)[0]
    publish_run_artifacts(config, day, proposal, ingest_reports, approval)
    outputs = {
        "indicators": indicators_file,
        "allocation": allocation_file,
        "decisions": config.processed_dir / DECISION_LOG,
        "site": site / "index.html",
    }
    if bulletin is not None:
        outputs["bulletin"] = bulletin
    return {"date": day.isoformat(), "ingest": ingest_reports, "approval": approval,
            "changes": proposal.changes, "outputs": outputs}
