"""The work of each stage of the daily run: read the stored inputs, call ``models``, store the result.

The Prefect tasks in ``pipelines/daily_run.py`` are thin wrappers around these functions, so
each stage can also be run and tested without Prefect. Every output is written in the form of
``docs/contracts.md`` to the setup's processed folder, atomically (a temporary file beside the
target, then one rename), so a crash mid-write leaves the previous output whole.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr

from models.allocation import board_split
from models.restrictions import decision_log, triggers
from models.restrictions.escalation import escalation_history, escalation_levels, summarise_allocation
from models.indicators.dataset import compute_indicators as indicators_dataset
from models.indicators.dataset import district_weather
from models.allocation.outlook import outlook
from models.restrictions.rules import decide
from models.allocation.verdringingsreeks import PriorityOrder
from pipelines.ingest import flows as ingest
from pipelines.config import Config
from pipelines.dask_cluster import dask_client
from pipelines.store import write_netcdf, write_parquet

INDICATORS = "indicators.nc"
WEATHER = "district_weather.nc"
ALLOCATION = "allocation.nc"
OUTLOOK = "outlook.nc"
TRIGGERS = "triggers.nc"
DECISION_LOG = "decisions.parquet"
PUBLISHED = "published.parquet"
ESCALATION = "escalation.parquet"
ESCALATION_HISTORY = "escalation_history.parquet"


def season_start(day: dt.date) -> dt.date:
    """First day of the water-balance season that ``day`` belongs to: 1 April, else 1 January."""
    april = dt.date(day.year, 4, 1)
    return april if day >= april else dt.date(day.year, 1, 1)


# --- reading stored inputs ------------------------------------------------------------------


def read_districts(config: Config) -> gpd.GeoDataFrame:
    """The setup's districts in EPSG:28992, with their properties (contracts section 3)."""
    districts = gpd.read_file(config.districts)
    if districts.crs is None:
        raise ValueError(f"{config.districts}: no CRS; expected EPSG:28992 named in the GeoJSON 'crs' member")
    districts = districts.to_crs(28992)
    missing = {"district_id", "name", "water_board"} - set(districts.columns)
    if missing:
        raise ValueError(f"{config.districts}: missing properties {sorted(missing)}")
    unknown = set(districts["water_board"]) - {b.id for b in config.water_boards}
    if unknown:
        raise ValueError(f"{config.districts}: water_board {sorted(unknown)} not among the "
                         f"configured water_boards {[b.id for b in config.water_boards]}")
    return districts


def _table(config: Config, name: str, *, geo: bool = False):
    path = config.processed_dir / name
    if not path.exists():
        return None
    return gpd.read_parquet(path) if geo else pd.read_parquet(path)


def read_weather(config: Config) -> xr.Dataset:
    """The areal weather per district (``precipitation_mm``, ``evaporation_mm``, mm/day)."""
    with xr.open_dataset(config.processed_dir / WEATHER, engine="netcdf4") as weather:
        return weather.load()


def read_supply(config: Config, days: pd.DatetimeIndex) -> xr.DataArray:
    """The national source's supply (m³/day) on ``days``, from the configuration."""
    if config.source.file is None:
        values = np.full(len(days), config.source.supply_m3_day, dtype=float)
    else:
        path = config.source.file
        table = pd.read_csv(path, comment="#")
        if not {"date", "supply_m3_day"} <= set(table.columns):
            raise ValueError(f"{path}: expected columns date,supply_m3_day; found {list(table.columns)}")
        series = table.set_index(pd.to_datetime(table["date"]))["supply_m3_day"].astype(float)
        values = series.reindex(days).to_numpy()
        if np.isnan(values).any():
            first = days[np.isnan(values)][0].date()
            raise ValueError(f"{path}: no supply_m3_day for {first}; the run needs every day "
                             f"from {days[0].date()} to {days[-1].date()}")
    return xr.DataArray(values, dims="time", coords={"time": days}, name="supply_m3_day",
                        attrs={"units": "m3/day", "long_name": "supply of the national source"})


def _boards(config: Config) -> pd.DataFrame:
    return pd.DataFrame({"water_board": [b.id for b in config.water_boards],
                         "inlet_capacity_m3_day": [b.inlet_capacity_m3_day for b in config.water_boards]})


# --- stages -------------------------------------------------------------------------------


def compute_indicators(config: Config, day: dt.date) -> Path:
    """Indicators from 1 January of ``day``'s year to ``day`` → ``indicators.nc``; the areal
    weather per district (mm/day, the whole record) → ``district_weather.nc``."""
    meteo = _table(config, ingest.METEO_TABLE)
    if meteo is None:
        raise FileNotFoundError(f"{config.processed_dir / ingest.METEO_TABLE}: no meteo ingested; "
                                "the indicators need precipitation and evaporation")
    stations = _table(config, ingest.STATIONS_TABLE, geo=True)
    districts = read_districts(config)
    # The areal weather of every district over the whole record, read by the later stages.
    write_netcdf(district_weather(meteo, stations, districts), config.processed_dir / WEATHER)
    ds = indicators_dataset(
        meteo,
        stations,
        districts,
        groundwater=_table(config, ingest.GROUNDWATER_TABLE),
        wells=_table(config, ingest.WELLS_TABLE, geo=True),
        sensors=_table(config, ingest.SENSORS_TABLE),
        sensors_meta=_table(config, ingest.SENSORS_META_TABLE, geo=True),
        date=day,
        max_age={"meteo": pd.Timedelta(days=config.stale_after_days)},
    )
    return write_netcdf(ds, config.processed_dir / INDICATORS)


def allocate_water(config: Config, day: dt.date, *, dask_address: str | None = None,
                   horizon_days: int | None = None) -> Path:
    """The verdringingsreeks allocation from the season start to ``day`` → ``allocation.nc``,
    then the outlook ensemble for the coming weeks from today's state → ``outlook.nc``.

    Both run on one Dask cluster (the given scheduler, else a local one on loopback). The
    national pass comes first (:mod:`models.allocation.board_split`): it fixes what the shared source
    gives each priority step and today's storage. Then the water boards (one task each) and the
    outlook members (one task per past year's weather, starting from today's storage) run in
    parallel; members are summarised as they come in so memory stays bounded.
    """
    districts = read_districts(config)
    weather = read_weather(config)
    days = pd.date_range(season_start(day), day, freq="D")
    season = weather.sel(time=days)
    supply = read_supply(config, days)
    order = PriorityOrder.from_config(config.priorities)
    boards = _boards(config)
    with dask_client(dask_address, workers=config.dask_workers) as client:
        national, board_runs = board_split.start(districts, boards, season, supply, order, client=client)
        # The outlook starts today, from the state at the start of today (storage, the
        # running deficit that drives irrigation) with today's observed weather as every
        # member's first day: its first day is today's allocation again, so its
        # probabilities read on from today's shortage instead of beside it. Past years'
        # weather follows; the source keeps today's supply (persistence).
        ensemble = outlook(
            districts, boards, weather.sel(time=weather["time"] < pd.Timestamp(day.year, 1, 1)), order,
            start=pd.Timestamp(day),
            storage=national.storage_last_start_m3,
            supply_m3_day=float(supply.isel(time=-1)),
            horizon_days=horizon_days or config.outlook_horizon_days,
            deficit_initial_mm=national.deficit_last_start_mm,
            observed=season.sel(time=[pd.Timestamp(day)]),
            client=client,
        )
        allocation = board_runs.dataset()
    allocation.attrs.update({"date": day.isoformat(), "season_start": days[0].date().isoformat()})
    ensemble.attrs.update({"date": day.isoformat(), "supply_assumption": "today's supply held for the horizon",
                           "first_day": "today, with today's observed weather and state (reproduces today's allocation)"})
    write_netcdf(ensemble, config.processed_dir / OUTLOOK)
    return write_netcdf(allocation, config.processed_dir / ALLOCATION)


def outlook_category_probability(ensemble: xr.Dataset, category: str) -> xr.DataArray:
    """Probability (0–1) that a use of ``category`` runs short in the outlook, per district:
    the largest probability over the category's uses (a lower bound for "any use short")."""
    uses = ensemble["use"].values[[c == category for c in ensemble["category"].values]]
    return ensemble["shortage_probability"].sel(use=list(uses)).max("use")


@dataclass
class Proposal:
    """What the rules propose for a day, and how it differs from what is published."""

    day: dt.date
    decisions: pd.DataFrame  # one row per district: the restrictions in force on ``day``
    changes: list[dict] = field(default_factory=list)
    escalation: pd.DataFrame | None = None

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def weather_fingerprint(config: Config) -> str:
    """SHA-256 of the areal weather's values and labels: equal exactly when the data are equal
    (the netCDF file's own bytes may differ between identical writes)."""
    weather = read_weather(config)
    digest = hashlib.sha256()
    for name in ("time", "district"):
        digest.update(np.ascontiguousarray(weather[name].values.astype(str)).tobytes())
    for name in ("precipitation_mm", "evaporation_mm"):
        digest.update(np.ascontiguousarray(weather[name].values).tobytes())
    return digest.hexdigest()


def deficit_climatology(config: Config, day: dt.date) -> xr.DataArray:
    """Median precipitation deficit (mm) per season day and district over the years before
    ``day``'s year, from the areal weather (the reference that ``deficit_anomaly_mm`` uses)."""
    return triggers.median_deficit_by_season_day(read_weather(config), before_year=day.year)


def decide_restrictions(config: Config, day: dt.date, deficit_median: xr.DataArray | None = None) -> Proposal:
    """Rules with hysteresis over the season so far; merge into the decision log; compare with
    what is published."""
    processed = config.processed_dir
    with xr.open_dataset(processed / ALLOCATION, engine="netcdf4") as a, \
            xr.open_dataset(processed / INDICATORS, engine="netcdf4") as i:
        allocation, indicators = a.load(), i.load()
    districts = read_districts(config)
    median = deficit_median if deficit_median is not None else deficit_climatology(config, day)
    with xr.open_dataset(processed / OUTLOOK, engine="netcdf4") as o:
        ensemble = o.load()
    trigger_values = triggers.trigger_dataset(allocation=allocation, indicators=indicators,
                                              deficit_median=median,
                                              outlook_probability=outlook_category_probability(ensemble, "4"))
    write_netcdf(trigger_values, processed / TRIGGERS)

    decisions = decide(trigger_values, config.rules, until=day)
    log_path = processed / DECISION_LOG
    log = decision_log.merge_decisions(decision_log.load_log(log_path, missing_ok=True), decisions,
                                       issued_at=pd.Timestamp.now(tz="UTC"))
    decision_log.save_log(log_path, log)

    in_force = decisions_on(decision_log.current_decisions(log), day, districts)
    summary = summarise_allocation(allocation)
    probability = outlook_category_probability(ensemble, "4").to_series()
    escalation = escalation_levels(decisions, summary, districts, day=day, outlook_probability=probability)
    write_parquet(escalation, processed / ESCALATION)
    # The levels of every day of the season so far, for the dashboard's and the bulletin's
    # "season at a glance" (the outlook counts on the last day only: earlier ones are not kept).
    season_days = pd.DatetimeIndex(allocation["time"].values)
    history = escalation_history(decisions, summary, districts, days=season_days[season_days <= pd.Timestamp(day)],
                                 outlook_probability=probability)
    write_parquet(history, processed / ESCALATION_HISTORY)
    published = _table(config, PUBLISHED)
    return Proposal(day=day, decisions=in_force, changes=compare(published, in_force), escalation=escalation)


def decisions_on(log: pd.DataFrame, day: dt.date, districts: gpd.GeoDataFrame) -> pd.DataFrame:
    """One row per district: its surface-water level and groundwater ban in force on ``day``."""
    stamp = pd.Timestamp(day)
    valid = log[(log["valid_from"] <= stamp) & (log["valid_until"].isna() | (log["valid_until"] >= stamp))]
    surface = valid[valid["restriction"] != "groundwater_ban"].drop_duplicates("district_id", keep="last")
    ground = valid[valid["restriction"] == "groundwater_ban"].drop_duplicates("district_id", keep="last")
    base = pd.DataFrame(districts[["district_id", "name", "water_board"]])
    out = base.merge(surface.drop(columns=["water_board"]), on="district_id", how="left")
    out["restriction"] = out["restriction"].fillna("none")
    out["groundwater_ban"] = out["district_id"].isin(ground["district_id"])
    gw = ground.set_index("district_id")
    for column in ("reason_nl", "reason_en", "meaning_nl", "meaning_en", "exemptions_nl", "exemptions_en",
                   "valid_from", "rule"):
        out[f"groundwater_{column}"] = out["district_id"].map(gw[column]) if len(gw) else pd.NA
    return out


def compare(published: pd.DataFrame | None, proposed: pd.DataFrame) -> list[dict]:
    """The districts whose restriction or groundwater ban would change by publishing ``proposed``."""
    before = ({} if published is None else
              {r["district_id"]: (r["restriction"], bool(r["groundwater_ban"])) for r in published.to_dict("records")})
    changes = []
    for r in proposed.to_dict("records"):
        now = (r["restriction"], bool(r["groundwater_ban"]))
        was = before.get(r["district_id"], ("none", False))
        if now != was:
            changes.append({"district_id": r["district_id"], "name": r["name"], "water_board": r["water_board"],
                            "was": _describe(was), "becomes": _describe(now)})
    return changes


def _describe(state: tuple[str, bool]) -> str:
    restriction, groundwater = state
    return restriction + (" + groundwater_ban" if groundwater else "")


def publish(config: Config, day: dt.date, proposal: Proposal) -> Path:
    """Publish the approved decisions: citizen map, policymaker dashboard, open data; then
    record what is live in ``published.parquet``."""
    from dashboards.policy_dashboard import render_policy_dashboard
    from dashboards.public_record import checked_metadata, public_districts
    from dashboards.site import publish_site
    from pipelines.briefing import gather as gather_briefing
    from pipelines.briefing import restriction_change

    processed = config.processed_dir
    districts = read_districts(config)
    public = gpd.GeoDataFrame(districts[["district_id", "geometry"]].merge(proposal.decisions, on="district_id"),
                              geometry="geometry", crs=districts.crs)
    with xr.open_dataset(processed / INDICATORS, engine="netcdf4") as i, \
            xr.open_dataset(processed / ALLOCATION, engine="netcdf4") as a, \
            xr.open_dataset(processed / OUTLOOK, engine="netcdf4") as o:
        indicators, allocation, ensemble = i.load(), a.load(), o.load()
    # newest input per source, as stored by models.indicators.freshness: naive UTC, "" when none
    data_ages = {k.removeprefix("newest_input_"): pd.Timestamp(v).tz_localize("UTC")
                 for k, v in indicators.attrs.items() if k.startswith("newest_input_") and v}
    metadata = {
        "issued_at": dt.datetime.now(dt.UTC),
        "valid_from": day,
        "data_ages": data_ages,
        "software_version": version("droogte"),
        "setup_name": config.name,
    }
    briefing = gather_briefing(config, day, indicators=indicators, allocation=allocation, ensemble=ensemble,
                               districts=districts, escalation=proposal.escalation)
    frame = _dashboard_indicators(indicators, ensemble, allocation, day)
    change = restriction_change(_table(config, PUBLISHED), proposal.decisions)  # the previous issue
    frame["change"] = frame["district_id"].map(change)
    dashboard = render_policy_dashboard(
        public_districts(public), checked_metadata(metadata),
        indicators=frame,
        board_shortage=briefing.board_shortage,
        escalation=_escalation_levels(proposal.escalation),
        deficit_chart=briefing.deficit_chart,
        board_deficit_charts=briefing.board_deficit_charts,
        river_chart=briefing.river_chart,
        level_history=briefing.level_history,
        reasons=briefing.reasons,
        outlook_summary=briefing.outlook_summary,
        board_names=briefing.board_names,
        tiles=config.tiles,
    )
    publish_site(public, metadata, config.site_dir, tiles=config.tiles, extra_pages={"dashboard.html": dashboard})
    write_parquet(proposal.decisions, processed / PUBLISHED)
    return config.site_dir  # the live name; it now points at the version just built


def _dashboard_indicators(indicators: xr.Dataset, ensemble: xr.Dataset, allocation: xr.Dataset,
                          day: dt.date) -> pd.DataFrame:
    """Per district on ``day``: deficit (mm), share of wells below their limit (0–1), and the
    outlook probability of shortage (0–1) per category of the verdringingsreeks, as
    ``shortage_probability_<category>`` — only for categories with demand somewhere this
    season (a category nobody asks water for cannot run short) — and the probability that
    category 4 is still short on the outlook's last day (``still_short_probability_4``)."""
    at = indicators.sel(time=pd.Timestamp(day))
    frame = pd.DataFrame({"district_id": at["district"].values.astype(str),
                          "precipitation_deficit_mm": at["precipitation_deficit"].values})
    frame["groundwater_low_share"] = (at["groundwater_low_share"].values if "groundwater_low_share" in at
                                      else np.nan)
    demand = allocation["demand"].groupby("category").sum(...)
    for category in demand["category"].values[demand.values > 0]:
        probability = outlook_category_probability(ensemble, str(category)).to_series()
        frame[f"shortage_probability_{category}"] = frame["district_id"].map(probability)
    if "4" in set(demand["category"].values[demand.values > 0]) and "shortage_probability_daily" in ensemble:
        uses = ensemble["use"].values[[c == "4" for c in ensemble["category"].values]]
        still = ensemble["shortage_probability_daily"].isel(time=-1).sel(use=list(uses)).max("use").to_series()
        frame["still_short_probability_4"] = frame["district_id"].map(still)
    return frame


def _board_shortage(allocation: xr.Dataset) -> pd.DataFrame:
    """Long table over the season: date, water_board, category, shortage_m3_day and
    demand_m3_day (m³/day, summed over the board's districts and the category's uses)."""
    frames = []
    for name in ("shortage", "demand"):
        by_category = allocation[name].groupby("category").sum("use")
        frames.append(by_category.groupby("water_board").sum("district").to_series().rename(f"{name}_m3_day"))
    frame = pd.concat(frames, axis=1).reset_index().rename(columns={"time": "date"})
    return frame[["date", "water_board", "category", "shortage_m3_day", "demand_m3_day"]]


def _escalation_levels(escalation: pd.DataFrame | None) -> pd.DataFrame:
    """The escalation table (contracts section 6) as the dashboard reads it; empty when none."""
    columns = ["scope", "water_board", "level", "level_name_nl", "level_name_en", "reason_nl", "reason_en"]
    return pd.DataFrame(columns=columns) if escalation is None else escalation[columns]
