"""Stage ``publication``: the approved decisions → the citizen map, the policymaker dashboard
and open data, switched live in one step; then ``published.parquet`` records what is live."""

from __future__ import annotations

import datetime as dt
from importlib.metadata import version
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr

from models.allocation.outlook import outlook_category_probability
from models.restrictions.proposal import Proposal
from pipelines.config import Config
from pipelines.input_status import input_status
from pipelines.inputs import read_districts
from pipelines.store import ALLOCATION, INDICATORS, OUTLOOK, PUBLISHED, Store


def run(config: Config, day: dt.date, proposal: Proposal, *, notices: list[dict] | None = None,
        briefing=None) -> Path:
    """Publish the approved decisions, valid from ``day``: citizen map, policymaker dashboard,
    open data; then record what is live in ``published.parquet``. ``notices``: texts
    ``{"nl", "en"}`` the page shows about the data (a source that failed or ends early).
    ``briefing``: the :class:`pipelines.briefing.Briefing` of the data day when the caller
    has gathered it already (the daily run, to reuse its charts in the bulletin)."""
    computed = proposal.computed_until or day  # the data day the indicators end on
    from dashboards.policy_dashboard import render_policy_dashboard
    from dashboards.public_record import checked_metadata, public_districts
    from dashboards.site import publish_site
    from pipelines.briefing import gather, restriction_change

    store = Store(config.processed_dir)
    districts = read_districts(config)
    public = gpd.GeoDataFrame(districts[["district_id", "geometry"]].merge(proposal.decisions, on="district_id"),
                              geometry="geometry", crs=districts.crs)
    indicators, allocation, ensemble = (store.dataset(n) for n in (INDICATORS, ALLOCATION, OUTLOOK))
    # newest input per source, as stored by models.indicators.freshness: naive UTC, "" when none
    data_ages = {k.removeprefix("newest_input_"): pd.Timestamp(v).tz_localize("UTC")
                 for k, v in indicators.attrs.items() if k.startswith("newest_input_") and v}
    metadata = {
        "issued_at": dt.datetime.now(dt.UTC),
        "valid_from": day,
        "data_ages": data_ages,
        "software_version": version("droogte"),
        "setup_name": config.name,
        "notices": list(notices or []) + assumption_notices(config, districts),
        "input_status": input_status(config, indicators.attrs),
    }
    if briefing is None or briefing.day != computed:
        briefing = gather(config, computed, indicators=indicators, allocation=allocation, ensemble=ensemble,
                          districts=districts, escalation=proposal.escalation)
    frame = _dashboard_indicators(indicators, ensemble, allocation, computed)
    change = restriction_change(store.table(PUBLISHED), proposal.decisions)  # against the previous issue
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
        outlook_weather=briefing.outlook_weather,
        board_names=briefing.board_names,
        tiles=config.tiles,
    )
    publish_site(public, metadata, config.site_dir, tiles=config.tiles, extra_pages={"dashboard.html": dashboard},
                 citizen=citizen_page_inputs(config, day))
    store.write_table(proposal.decisions, PUBLISHED)
    return config.site_dir  # the live name; it now points at the version just built


def assumption_notices(config: Config, districts: gpd.GeoDataFrame) -> list[dict[str, str]]:
    """The notice every page shows while the setup rests on documented defaults: the district
    properties listed in the districts' ``assumed`` property (``droogte init`` writes it) and
    the river supply parameters left at their defaults. ``[{"nl": ..., "en": ...}]`` or ``[]``."""
    parts = assumed_values(config, districts)
    if not parts:
        return []
    return [{"nl": "Let op: deze kaart rust deels op aangenomen standaardwaarden, niet op gegevens van het "
                   "waterschap: " + "; ".join(nl for nl, _ in parts) + ".",
             "en": "Note: this map rests partly on assumed default values, not on the water board's own "
                   "data: " + "; ".join(en for _, en in parts) + "."}]


def assumed_values(config: Config, districts: gpd.GeoDataFrame) -> list[tuple[str, str]]:
    """What rests on documented defaults, as ``[(text_nl, text_en), ...]``."""
    out = []
    if "assumed" in districts.columns:
        n = int((districts["assumed"].fillna("").astype(str) != "").sum())
        if n:
            out.append((f"gebiedskenmerken van {n} van de {len(districts)} gebieden",
                        f"district properties of {n} of {len(districts)} districts"))
    if config.source.discharge is not None and config.source.river_model_assumed:
        names = ", ".join(config.source.river_model_assumed)
        out.append((f"het model van de aanvoer uit de Rijn ({names})", f"the river supply model ({names})"))
    return out


def citizen_page_inputs(config: Config, day: dt.date) -> dict:
    """What the citizen page needs beyond the decisions (``dashboards.site.publish_site``'s
    ``citizen``): water boards by name with their links, the orientation layer (municipality
    and province borders, places and large waters from the reference geography, EPSG:28992),
    the groundwater ban's texts and the day of the next issue."""
    from models.restrictions import explanations
    from pipelines.reference.geography import reference_layer, reference_places, reference_waters

    exemptions = config.rules.exemptions.get("groundwater_ban", explanations.DEFAULT_EXEMPTIONS["groundwater_ban"])
    return {
        "boards": {b.id: {"name": b.name, "announcement_url": b.announcement_url, "contact_url": b.contact_url}
                   for b in config.water_boards},
        "orientation": {layer: reference_layer(layer, crs="EPSG:28992") for layer in ("municipalities", "provinces")}
        | {"places": reference_places(crs="EPSG:28992"), "waters": reference_waters(crs="EPSG:28992")},
        "groundwater": {f"meaning_{lang}": explanations.meaning("groundwater_ban", lang=lang) for lang in ("nl", "en")}
        | {f"exemptions_{lang}": exemptions.text(lang) for lang in ("nl", "en")},
        "next_update": day + dt.timedelta(days=config.update_every_days),
        "site_url": config.site_url,
    }


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
