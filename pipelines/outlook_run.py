"""The on-demand outlook: what the coming weeks may bring, without publishing anything.

An analyst or policymaker asks between the daily runs "what if it stays dry?" or "what with a
longer horizon?". ``outlook-run`` recomputes the indicators and the allocation up to the given
day and runs the outlook ensemble (one member per past year of the station records, from
today's storage and deficit) with the horizon asked for. It writes ``allocation.nc`` and
``outlook.nc`` like the daily run, and a Markdown artifact with the probability of shortage
per water board and category; decisions and the published site are left alone.
"""

from __future__ import annotations

import datetime as dt

import xarray as xr
from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from models.allocation.outlook import outlook_category_probability
from pipelines.config import load_config
from pipelines.daily_run import allocation_task, indicators_task
from pipelines.ingest.flows import ingest_sources
from pipelines.late_data import find_data_day
from pipelines.inputs import read_districts
from pipelines.store import OUTLOOK, Store


def outlook_markdown(ensemble: xr.Dataset, *, setup: str, day: dt.date) -> str:
    """Probability of shortage per water board and category (the mean over the board's
    districts of the largest probability among the category's uses)."""
    lines = [f"# Outlook for {setup} from {day.isoformat()}", "",
             f"{int(ensemble.attrs.get('members', ensemble.sizes.get('member', 0)))} members (past years), "
             f"{ensemble.sizes['time']} days ahead; supply: {ensemble.attrs.get('supply_assumption', '')}.", "",
             "| water board | category | probability of shortage |", "|---|---|---|"]
    boards = ensemble["water_board"].to_series() if "water_board" in ensemble.coords else None
    for category in sorted(set(ensemble["category"].values.astype(str))):
        probability = outlook_category_probability(ensemble, category).to_series()
        groups = probability.groupby(boards) if boards is not None else [("all", probability)]
        for board, values in groups:
            lines.append(f"| {board} | {category} | {values.mean():.0%} |")
    return "\n".join(lines)


@flow(name="outlook-run", log_prints=True)
def outlook_run(config_path: str, date: str | None = None, dask_address: str | None = None,
                horizon_days: int | None = None, config=None) -> str:
    """Indicators, allocation and the outlook ensemble for ``date``; returns the outlook file.
    ``config``: the setup at ``config_path`` when the caller has loaded it already."""
    logger = get_run_logger()
    config = config or load_config(config_path)
    if horizon_days is not None and horizon_days < 1:
        raise ValueError(f"horizon_days: expected a whole number of days >= 1, got {horizon_days}")
    horizon = horizon_days or config.outlook_horizon_days
    day = dt.date.fromisoformat(date) if date else (config.date or dt.date.today())
    logger.info("outlook of %r from %s, %d days ahead", config.name, day, horizon)
    ingest_sources(config, until=day.isoformat())
    # Late data (pipelines/late_data.py): the outlook starts from the newest complete day.
    found = find_data_day(config, day)
    if found.data_day is None or found.withheld:
        raise ValueError("no outlook: " + "; ".join(str(p) for p in found.problems))
    if found.late:
        for problem in found.problems:
            logger.warning("late data: %s", problem)
        day = found.data_day
    indicators_task(config, day)
    allocation_task.with_options(name="allocate-water-and-outlook")(
        config, day, dask_address or config.dask_address, horizon_days=horizon)
    store = Store(config.processed_dir)
    ensemble = store.dataset(OUTLOOK)
    path = store.path(OUTLOOK)
    districts = read_districts(config).set_index("district_id")["water_board"]
    ensemble = ensemble.assign_coords(water_board=("district", districts.reindex(ensemble["district"].values).values))
    create_markdown_artifact(outlook_markdown(ensemble, setup=config.name, day=day),
                             key=f"{config.name.lower()}-outlook".replace("_", "-"),
                             description=f"Outlook of {config.name} from {day.isoformat()}")
    return str(path)

