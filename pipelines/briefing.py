"""What the dashboard and the weekly bulletin are made of, read from one run's stored outputs.

The publish stage and ``droogte bulletin`` both need the same briefing: the charts (deficit
against climate for the setup and each water board, the river discharge or national supply
against its thresholds), the escalation levels over the season, today's shortages with what
limits them, the outlook per water board and category, and what changed since the previous
issue. :func:`gather` reads them from ``data/processed/<setup>/`` into a :class:`Briefing`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr

from models.allocation.shortage_reasons import ShortageReason, shortage_reasons
from pipelines.config import Config
from pipelines.inputs import read_districts
from pipelines.store import ALLOCATION, ESCALATION, ESCALATION_HISTORY, INDICATORS, OUTLOOK, PUBLISHED, Store

#: The Rhine at Lobith (m³/s): the national coordination speaks of a threatening shortage
#: when it is expected below about 1,400 m³/s and acts around 1,200 m³/s in summer
#: (Landelijk Draaiboek Waterverdeling en Droogte; see docs of the domain).
def lobith_thresholds(config: Config) -> tuple[tuple[float, str, str], ...]:
    """The national committee's discharge criteria at Lobith (m³/s) as the setup states them
    (``source.national_criteria``; LCW's public figures 1,400 and 1,200 m³/s by default),
    with their names in Dutch and English."""
    return ((config.source.threatening_m3_s, "dreigend watertekort", "threatening water shortage"),
            (config.source.acting_m3_s, "landelijke coördinatie grijpt in", "national coordination acts"))


@dataclass
class Briefing:
    """Everything the dashboard and the bulletin show beyond the map (see the module docstring)."""

    day: dt.date
    deficit_chart: object | None  # dashboards.charts.Chart
    board_deficit_charts: dict
    river_chart: object | None
    level_history: pd.DataFrame | None
    reasons: list[ShortageReason]
    outlook_summary: pd.DataFrame | None
    board_names: dict[str, str]
    board_shortage: pd.DataFrame
    escalation: pd.DataFrame | None
    outlook_weather: dict | None = None


def gather(config: Config, day: dt.date, *, indicators: xr.Dataset, allocation: xr.Dataset, ensemble: xr.Dataset,
           districts: gpd.GeoDataFrame, escalation: pd.DataFrame | None) -> Briefing:
    """The briefing of ``day`` from the run's datasets (contracts sections 4-6)."""
    from pipelines.publication.publish import _board_shortage

    setup_chart, board_charts = deficit_charts(config, day, indicators, districts)
    history = Store(config.processed_dir).table(ESCALATION_HISTORY)
    names = dict(zip(districts["district_id"].astype(str), districts["name"].astype(str)))
    return Briefing(
        day=day,
        deficit_chart=setup_chart,
        board_deficit_charts=board_charts,
        river_chart=river_chart(config, day, allocation),
        level_history=history,
        reasons=shortage_reasons(allocation, day, pd.Series(names)),
        outlook_summary=outlook_summary(ensemble, allocation, day),
        board_names={b.id: getattr(b, "name", None) or b.id for b in config.water_boards},
        board_shortage=_board_shortage(allocation),
        escalation=escalation,
        outlook_weather=outlook_weather(Store(config.processed_dir).weather(), day, ensemble),
    )


def gather_stored(config: Config, day: dt.date, *, escalation: pd.DataFrame | None) -> Briefing:
    """The briefing of ``day`` from the datasets of the run stored in the setup's processed folder."""
    store = Store(config.processed_dir)
    indicators, allocation, ensemble = (store.dataset(n) for n in (INDICATORS, ALLOCATION, OUTLOOK))
    return gather(config, day, indicators=indicators, allocation=allocation, ensemble=ensemble,
                  districts=read_districts(config), escalation=escalation)


def deficit_charts(config: Config, day: dt.date, indicators: xr.Dataset, districts: gpd.GeoDataFrame):
    """The KNMI-style deficit charts: one of the setup's mean deficit, and one per water board
    of the mean over its districts of the indicators' deficit (mm since 1 April). Against
    KNMI's national climatology (median and 5 %-driest over 1906-2019, 1976, 2018) where the
    setup names ``int_nl.dat``, else against the climatology of the setup's (or the board's)
    own record. Returns ``(Chart, {water_board: Chart})``; ``(None, {})`` before 1 April."""
    from dashboards.charts import deficit_chart
    from models.indicators.climatology import deficit_climatology, own_record_deficit, read_int_nl

    weather = Store(config.processed_dir).weather()
    national = (None if config.knmi_national_deficit is None
                else deficit_climatology(read_int_nl(config.knmi_national_deficit)))
    current, climatology = own_record_deficit(weather, day=day)
    if current.empty:
        return None, {}  # before 1 April: the deficit season has not started, nothing to draw
    setup = deficit_chart(current, national if national is not None else climatology,
                          scope_nl=f"het gebied van {config.name}", scope_en=f"the area of {config.name}")
    season = indicators["precipitation_deficit"].sel(time=slice(pd.Timestamp(day.year, 4, 1), pd.Timestamp(day)))
    known = set(season["district"].values.astype(str))
    names = {b.id: getattr(b, "name", None) or b.id for b in config.water_boards}
    boards = {}
    for board, ids in districts.groupby("water_board")["district_id"]:
        ids = [i for i in ids.astype(str) if i in known]
        series = season.sel(district=ids).mean("district").to_series().dropna() if ids else pd.Series(dtype=float)
        if series.empty:
            continue
        climatology = national if national is not None else own_record_deficit(weather.sel(district=ids), day=day)[1]
        name = names.get(str(board), str(board))
        boards[str(board)] = deficit_chart(series, climatology, scope_nl=f"waterschap {name}",
                                           scope_en=f"water board {name}")
    return setup, boards


def national_supply(config: Config, days: pd.DatetimeIndex) -> tuple[pd.Series | None, pd.Series | None]:
    """The river discharge at Lobith (m³/s) and the national supply (m³/day) on ``days``; None
    where absent. The discharge is the setup's measured Lobith series (``source.discharge``,
    through the river supply model) where it names one, else a ``lobith_m3_s`` column of its
    supply file (as the demo has); the supply comes from the supply model or that file."""
    from pipelines.national_source import discharge_series

    if config.source.discharge is not None:
        discharge = discharge_series(config)
        return discharge, config.source.river_model.supply_m3_day(discharge.reindex(days))
    if config.source.file is None:
        return None, None
    table = pd.read_csv(config.source.file, comment="#")
    table = table.set_index(pd.to_datetime(table["date"]))
    discharge = table["lobith_m3_s"].astype(float) if "lobith_m3_s" in table else None
    supply = table["supply_m3_day"].astype(float).reindex(days) if "supply_m3_day" in table else None
    return discharge, supply


def river_chart(config: Config, day: dt.date, allocation: xr.Dataset):
    """The Rhine at Lobith against the LCW thresholds, with its normal, where the setup has the
    discharge; else the national supply (m³/day) against what the source would need to serve
    categories 1-2 and 1-3 today (the shared demand of the allocation: what each category
    asked of the source after local water). None when the setup has neither."""
    from dashboards.charts import Threshold
    from dashboards.charts import river_chart as draw

    days = pd.DatetimeIndex(allocation["time"].values)
    discharge, supply = national_supply(config, days)
    if discharge is not None and discharge.reindex(days).notna().any():
        earlier = discharge[discharge.index.year < day.year]
        normal = None
        if len(earlier):
            by_day = earlier.groupby(earlier.index.strftime("%m-%d")).median()
            normal = pd.Series(by_day.reindex(days.strftime("%m-%d")).to_numpy(), index=days)
        thresholds = [Threshold(v, nl, en) for v, nl, en in lobith_thresholds(config)]
        return draw(discharge.reindex(days), thresholds, title_nl="Rijnafvoer bij Lobith",
                    title_en="Rhine discharge at Lobith", unit="m³/s", normal=normal)
    if supply is None or supply.isna().all():
        return None
    # Shared demand per category: what a use asked of the source once local water was used
    # (allocated_shared + shortage), summed over the districts, on the last day.
    asked = (allocation["allocated_shared"] + allocation["shortage"]).isel(time=-1)
    by_category = asked.groupby("category").sum(...).to_series()
    top = float(by_category[[c for c in by_category.index if c[0] in "12"]].sum())
    with_3 = top + float(by_category.get("3", 0.0))
    thresholds = [Threshold(with_3, "vraag categorie 1-3 aan de bron", "demand of categories 1-3 on the source"),
                  Threshold(top, "vraag categorie 1-2 aan de bron", "demand of categories 1-2 on the source")]
    return draw(supply, [t for t in thresholds if t.value > 0], title_nl="Aanvoer uit het hoofdwatersysteem",
                title_en="Supply from the national system", unit="m³/dag")


def outlook_summary(ensemble: xr.Dataset, allocation: xr.Dataset, day: dt.date) -> pd.DataFrame:
    """Per water board and category with demand: ``short_today`` (0–1 share of demand unmet
    on ``day``), ``p_any`` and ``p_end`` (0–1; the highest over the board's districts of the
    probability of a shortage on at least one day of the horizon, and on its last day),
    ``horizon_days``, ``members`` (the years replayed, e.g. ``"1991-2024"``)."""
    today = allocation[["shortage", "demand"]].sel(time=pd.Timestamp(day))
    by = today.groupby("category").sum("use").groupby("water_board").sum("district")
    boards = pd.Series(ensemble["district"].values.astype(str)).map(
        dict(zip(allocation["district"].values.astype(str), allocation["water_board"].values.astype(str))))
    members = ensemble["member"].values
    span = f"{int(members.min())}-{int(members.max())}" if len(members) else ""
    rows = []
    for category in dict.fromkeys(ensemble["category"].values.astype(str)):
        uses = ensemble["use"].values[ensemble["category"].values.astype(str) == category]
        p_any = ensemble["shortage_probability"].sel(use=list(uses)).max("use").values
        p_end = ensemble["shortage_probability_daily"].isel(time=-1).sel(use=list(uses)).max("use").values
        for board in sorted(set(boards)):
            where = (boards == board).to_numpy()
            demand = float(by["demand"].sel(category=category, water_board=board))
            if demand <= 0:
                continue
            rows.append({"water_board": board, "category": category,
                         "short_today": float(by["shortage"].sel(category=category, water_board=board)) / demand,
                         "p_any": float(np.max(p_any[where])), "p_end": float(np.max(p_end[where])),
                         "horizon_days": int(ensemble.sizes["time"]), "members": span})
    return pd.DataFrame(rows, columns=["water_board", "category", "short_today", "p_any", "p_end", "horizon_days",
                                       "members"])


def outlook_weather(weather: xr.Dataset, day: dt.date, ensemble: xr.Dataset, *, recent_days: int = 14) -> dict | None:
    """Why the outlook may differ from today, in numbers: the evaporation surplus E − P (mm/day,
    mean over the districts) of the last ``recent_days`` days against that of the weather
    years the outlook replays over its horizon (after its first day, which is today). Irrigation
    and the needs of peat and nature follow E − P, so wetter years ask for less water.

    Returns ``recent_mm_day``, ``ahead_mm_day`` (mean over the members), ``drier_members``
    (members whose horizon is at least as dry as the recent days), ``members``, ``weeks``."""
    years = [int(y) for y in ensemble["member"].values]
    horizon = int(ensemble.sizes["time"])
    if not years or horizon < 2:
        return None
    surplus = (weather["evaporation_mm"] - weather["precipitation_mm"]).mean("district").to_series()
    today = pd.Timestamp(day)
    recent = float(surplus[today - pd.Timedelta(days=recent_days - 1):today].mean())
    ahead = []
    for year in years:
        try:
            start = pd.Timestamp(year=year, month=today.month, day=min(today.day, 28) if today.month == 2 else today.day)
        except ValueError:
            continue
        window = surplus[start + pd.Timedelta(days=1):start + pd.Timedelta(days=horizon - 1)]
        if len(window):
            ahead.append(float(window.mean()))
    if not ahead or not np.isfinite(recent):
        return None
    return {"recent_mm_day": recent, "ahead_mm_day": float(np.mean(ahead)),
            "drier_members": int(sum(a >= recent for a in ahead)), "members": len(ahead),
            "weeks": int(round(horizon / 7)), "recent_days": recent_days}


def restriction_change(previous: pd.DataFrame | None, now: pd.DataFrame) -> pd.Series:
    """Per district (index ``district_id``): 1 stricter, -1 lighter, 0 unchanged restrictions
    than in the previous issue (``published.parquet``); NaN everywhere for a first issue.
    Stricter: a higher level on the surface-water track, or a groundwater ban added at the
    same level."""
    from dashboards.restriction_styles import BY_CODE

    def severity(frame: pd.DataFrame) -> pd.Series:
        # an unknown state (measurements missing) is ranked as no restriction: never "lighter"
        level = frame["restriction"].map(lambda r: max(BY_CODE[r].level, 0) if r in BY_CODE else 0)
        return (2 * level + frame["groundwater_ban"].astype(bool).astype(int)).set_axis(frame["district_id"])

    ids = now["district_id"].astype(str)
    if previous is None:
        return pd.Series(np.nan, index=ids)
    was = severity(previous).reindex(now["district_id"]).fillna(0)
    return pd.Series(np.sign(severity(now).to_numpy() - was.to_numpy()), index=ids)


def bulletin_dir(config: Config) -> Path:
    """Where the weekly bulletins are archived: ``bulletins/`` beside the published site
    (not inside it: the site's version folders come and go, the bulletins stay)."""
    return Path(config.site_dir).parent / "bulletins"


def bulletin_due(config: Config, day: dt.date) -> bool:
    """Whether the daily run of ``day`` writes the weekly bulletin (``publication.bulletin_weekday``)."""
    from pipelines.config_schema import WEEKDAYS

    return config.bulletin_weekday is not None and WEEKDAYS[day.weekday()] == config.bulletin_weekday


def write_bulletin(config: Config, day: dt.date, briefing: Briefing | None = None) -> list[Path]:
    """Write the bulletin of ``day``'s week in Dutch and English from the stored run of ``day``
    (``droogte run`` for that day first); returns the two pages. Each page is written to a
    temporary file and renamed, so a failure leaves an earlier bulletin of the week whole.
    ``briefing``: the briefing of ``day`` the daily run's publication was just built from (its
    charts are drawn once), else it is gathered here from the stored run."""
    from importlib.metadata import version

    from dashboards.bulletin import bulletin_name, render_bulletin
    from pipelines.store import write_atomically

    store = Store(config.processed_dir)
    stored = store.attributes(ALLOCATION).get("date")
    if stored is None:
        raise FileNotFoundError(f"bulletin for {day}: no run stored in {config.processed_dir}; "
                                f"run `droogte run --config {config.path} --date {day}` first")
    if stored != day.isoformat():
        raise ValueError(f"bulletin for {day}: the stored run in {config.processed_dir} is for {stored}; "
                         f"run `droogte run --config {config.path} --date {day}` first")
    indicators, allocation, ensemble = (store.dataset(n) for n in (INDICATORS, ALLOCATION, OUTLOOK))
    escalation = store.table(ESCALATION)
    if escalation is None:
        raise FileNotFoundError(f"bulletin for {day}: {store.path(ESCALATION)} not written; the restrictions "
                                "stage has not run")
    districts = read_districts(config)
    restrictions = store.table(PUBLISHED)
    if restrictions is None:
        restrictions = pd.DataFrame(columns=["district_id", "water_board", "restriction", "groundwater_ban",
                                             "valid_from"])
    if briefing is None or briefing.day != day:
        briefing = gather(config, day, indicators=indicators, allocation=allocation, ensemble=ensemble,
                          districts=districts, escalation=escalation)
    folder = bulletin_dir(config)
    folder.mkdir(parents=True, exist_ok=True)
    issued = dt.datetime.now(dt.UTC)
    written = []
    for lang, other in (("nl", "en"), ("en", "nl")):
        page = render_bulletin(
            lang, setup_name=config.name, day=day, issued_at=issued, software_version=version("droogte"),
            escalation=escalation, restrictions=restrictions, board_shortage=briefing.board_shortage,
            deficit_chart=briefing.deficit_chart, river_chart=briefing.river_chart,
            level_history=briefing.level_history, reasons=briefing.reasons,
            outlook_summary=briefing.outlook_summary, board_names=briefing.board_names,
            other_language_href=bulletin_name(config.name, day, other))
        target = folder / bulletin_name(config.name, day, lang)
        written.append(write_atomically(target, lambda t, page=page: Path(t).write_text(page, encoding="utf-8")))
    return written
