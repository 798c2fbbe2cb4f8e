"""Season replay: each day of a season as the daily run would have decided it, in one run.

``droogte replay --config FILE --from 2018-04-01 --to 2018-09-30`` answers "what would the
system have said, day by day, in that season?". It is one Prefect flow (``season-replay``)
that ingests once, then goes over the days in plain Python, because every stage of the
daily run looks only backwards in time:

* the indicators of day D use the inputs up to D (``compute_indicators`` drops later ones);
  the precipitation deficit and its anomaly are running sums, the anomaly's median comes from
  the years before D's year;
* the allocation from the season start to D is a water balance run forwards: the run up to
  the last day holds, on each day D, exactly the state a run up to D ends with;
* the supply of day D uses the Lobith discharge of D; the outlook of day D starts from D's
  storage, deficit and discharge and replays past years only;
* the restriction rules run day by day with hysteresis, so one evaluation over the season
  gives on each day what an evaluation up to that day gives. The outlook probability is
  known from the days an outlook ran (every ``outlook_every`` days, 7 by default), each
  valid until the next, as in a daily run whose outlook runs weekly;
* the escalation of day D reads the decisions and shortages in force on D, the discharge and
  the national deficit's percentile among earlier years on D, and (for its hysteresis) the
  levels of the days before D from the season start.

Two fits look at the whole stored record rather than the past only: the SPI's gamma fits and
the groundwater percentile that serves as a well's default lower limit. Both are fitted over
many years, so the season itself moves them little; the default rules read neither SPI nor
the percentile of the current day.

Everything is written into the replay's own folder (default ``<setup folder>/replays/<from>_<to>``):
its own processed store (``processed/``), the decisions (``decisions.parquet``), the escalation
per day (``escalation.parquet``), the restrictions per district and day
(``restrictions.parquet``), and the timeline: ``timeline.csv`` (one row per day: national and
per-board levels, restricted districts per type, the precipitation deficit, supply,
discharge and shortage), ``changes.csv`` (the days on which a level or a restriction changed)
and ``timeline.png`` (the chart of the season). The live site and the live decision log are
never touched.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
import yaml

from models.allocation import board_split
from models.allocation.network import SOURCE as SOURCE_LIMIT
from models.allocation.demand import district_table, running_deficit, weather_arrays
from models.allocation.outlook import outlook
from models.allocation.verdringingsreeks import PriorityOrder
from models.restrictions import triggers
from models.restrictions.escalation import NATIONAL, PRIORITY_CATEGORIES, escalation_history, summarise_allocation
from models.restrictions.rules import decide
from models.allocation.outlook import outlook_category_probability
from models.season import season_start
from pipelines import indicators as indicators_stage
from pipelines import national_source
from pipelines.allocation import with_source
from pipelines.inputs import read_districts, read_supply, water_boards
from pipelines.restrictions import deficit_median, escalation_rules, national_facts
from pipelines.config import Config, load_config
from pipelines.store import ALLOCATION, INDICATORS, TRIGGERS, Store, write_parquet

SURFACE_TYPES = ("watch", "daytime_sprinkling_ban", "surface_water_ban")


def default_folder(config: Config, first: dt.date, last: dt.date) -> Path:
    """Where a replay writes unless told otherwise: beside the setup, never inside its site."""
    return config.path.parent / "replays" / f"{first.isoformat()}_{last.isoformat()}"


def replay_season(config: Config, first: dt.date, last: dt.date, *, out: Path | None = None,
                  outlook_every: int = 7) -> dict[str, Path]:
    """Replay ``first``..``last`` (one season) of ``config`` into ``out``; returns the outputs."""
    from pipelines.ingest.flows import ingest_all  # Prefect only where the flow runs

    out = Path(out or default_folder(config, first, last)).resolve()
    if (out / "processed").exists() and (out / "replay.yaml").exists():
        # A replay starts from the setup's files as they are now: what an earlier replay
        # ingested into this folder (perhaps from other files) is not reused.
        shutil.rmtree(out / "processed")
    replay_config = write_replay_config(config, out)
    from prefect import flow

    @flow(name="season-replay", log_prints=True)
    def season_replay(config_path: str, first: str, last: str) -> dict[str, Path]:
        ingest_all(config_path=config_path, until=last)
        return replay_days(load_config(config_path), dt.date.fromisoformat(first), dt.date.fromisoformat(last),
                           out=out, outlook_every=outlook_every)

    return season_replay(str(replay_config), first.isoformat(), last.isoformat())


def write_replay_config(config: Config, out: Path) -> Path:
    """A copy of the setup file whose outputs point into ``out`` (paths made absolute), so the
    replay has its own processed store and archive and no site of the setup is written."""
    raw = yaml.safe_load(config.path.read_text(encoding="utf-8"))
    base = config.path.parent

    def absolute(value):
        return str((base / str(value)).resolve())

    raw["districts"] = absolute(raw["districts"])
    for key in ("stations", "wells", "sensors"):
        for item in raw.get(key) or []:
            item["file"] = absolute(item["file"])
    source = raw.get("source") or {}
    if "file" in source:
        source["file"] = absolute(source["file"])
    if source.get("discharge"):
        source["discharge"] = absolute(source["discharge"])
    climatology = raw.get("climatology") or {}
    if climatology.get("knmi_national_deficit"):
        climatology["knmi_national_deficit"] = absolute(climatology["knmi_national_deficit"])
    # The replay file lives in the replay folder; the setup's inputs stay where they are.
    raw["allow_inputs_from"] = [str(base.resolve())] + [absolute(f) for f in raw.get("allow_inputs_from") or []]
    raw["output"] = {"processed": str(out / "processed"), "site": str(out / "site-not-published"),
                     "raw_archive": str(out / "archive")}
    raw["publication"] = {**(raw.get("publication") or {}), "approval": "auto"}
    raw["name"] = f"{raw['name']}-replay"
    if Path(raw["output"]["site"]).resolve() == config.site_dir.resolve():
        raise ValueError(f"{out}: the replay folder would write the live site {config.site_dir}")
    out.mkdir(parents=True, exist_ok=True)
    path = out / "replay.yaml"
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(f"# replay of {config.path}; outputs redirected into this folder\n"
                   + yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    os.replace(tmp, path)
    return path


def replay_days(config: Config, first: dt.date, last: dt.date, *, out: Path, outlook_every: int = 7) -> dict[str, Path]:
    """The days of the replay, after ingest: see the module docstring. No Prefect here."""
    start = season_start(first)
    if season_start(last) != start or last < first:
        raise ValueError(f"replay: {first}..{last} is not one season (the season starts on 1 April, "
                         "before April on 1 January); replay one season at a time")
    store = Store(config.processed_dir)
    indicators_stage.run(config, last)
    indicators = store.dataset(INDICATORS)
    districts = read_districts(config)
    weather = store.weather()
    days = pd.date_range(start, last, freq="D")
    season = weather.sel(time=days)
    supply = read_supply(config, days)
    order = PriorityOrder.from_config(config.priorities)
    boards = water_boards(config)
    plain_supply = supply.drop_vars([c for c in supply.coords if c != "time"])
    _, season_allocation = board_split.start(districts, boards, season, plain_supply, order)
    allocation = season_allocation.dataset()
    with_source(allocation, supply)
    store.write_dataset(allocation, ALLOCATION)

    median = deficit_median(config, last)
    trigger_values = triggers.trigger_dataset(allocation=allocation, indicators=indicators, deficit_median=median)
    probabilities = _outlooks(config, districts, boards, weather, allocation, order, first, last, outlook_every)
    # Each outlook holds until the next one (as a weekly outlook does in daily operation), so
    # the rules' "lift after N days" can count days between outlooks.
    outlook_days = sorted(probabilities)
    for k, day in enumerate(outlook_days):
        until = outlook_days[k + 1] - pd.Timedelta(days=1) if k + 1 < len(outlook_days) else pd.Timestamp(last)
        values = probabilities[day].reindex(trigger_values["district"].values).to_numpy()
        trigger_values["outlook_shortage_probability"].loc[{"time": slice(day, until)}] = values[None, :]
    store.write_dataset(trigger_values, TRIGGERS)

    decisions = decide(trigger_values, config.rules, until=last)
    rules = escalation_rules(config)
    # The escalation reads only the shortages of categories 1-2, the district-days short of
    # water from the national source, and the decisions valid on the day: handing it just
    # those (same result) keeps 183 days × hundreds of districts quick.
    summary = summarise_allocation(allocation)
    priority = (summary["category"].astype(str).isin(PRIORITY_CATEGORIES)
                & (summary["shortage_m3_day"] > rules.shortage_tolerance * summary["demand_m3_day"])
                & (summary["shortage_m3_day"] > 0))
    # and the rows short of water from the national source (whether a board's report counts
    # nationally); a district-day's demand is summed over its categories, so keep its rows
    short_days = summary.loc[summary["source_shortage_m3_day"] > 0, ["date", "district_id"]].drop_duplicates()
    from_source = summary.set_index(["date", "district_id"]).index.isin(pd.MultiIndex.from_frame(short_days))
    summary = summary[priority | from_source]
    areas = pd.DataFrame({"district_id": districts["district_id"].astype(str),
                          "water_board": districts["water_board"].astype(str),
                          "area_m2": districts.geometry.area.to_numpy()})  # EPSG:28992, once
    # From the season start, as the daily run computes its history: a level's hysteresis
    # needs the days before the first day shown.
    history_days = pd.date_range(start, last, freq="D")
    national = national_facts(config, allocation, indicators, history_days)
    escalation = escalation_history(decisions, summary, areas, days=history_days, rules=rules, national=national)
    escalation = escalation[escalation["date"] >= pd.Timestamp(first)].reset_index(drop=True)
    restrictions = restrictions_by_day(decisions, districts, first, last)

    timeline = season_timeline(escalation, restrictions, allocation, indicators, trigger_values, first, last,
                               facts=national)
    changes = change_days(escalation, restrictions)
    out.mkdir(parents=True, exist_ok=True)
    outputs = {
        "decisions": write_parquet(decisions, out / "decisions.parquet"),
        "escalation": write_parquet(escalation, out / "escalation.parquet"),
        "restrictions": write_parquet(restrictions, out / "restrictions.parquet"),
        "timeline": _write_csv(timeline, out / "timeline.csv"),
        "changes": _write_csv(changes, out / "changes.csv"),
    }
    outputs["chart"] = season_chart(timeline, out / "timeline.png", title=f"{config.name}: {first} – {last}")
    return outputs


def restrictions_by_day(decisions: pd.DataFrame, districts, first, last) -> pd.DataFrame:
    """Per district and day from ``first`` to ``last``: ``restriction`` on the surface-water
    track (``none`` when none) and ``groundwater_ban`` (bool), as
    :func:`models.restrictions.proposal.decisions_on` gives for one day (the later record wins)."""
    days = pd.date_range(first, last, freq="D")
    ids = districts["district_id"].astype(str).to_numpy()
    where = pd.Index(ids)
    surface = np.full((len(days), len(ids)), "none", dtype=object)
    ground = np.zeros((len(days), len(ids)), dtype=bool)
    for r in decisions.itertuples():  # in log order, so a later record overwrites an earlier one
        begin = max(days.searchsorted(r.valid_from), 0)
        end = len(days) if pd.isna(r.valid_until) else days.searchsorted(r.valid_until, side="right")
        if end <= begin:
            continue
        column = where.get_loc(str(r.district_id))
        if r.restriction == "groundwater_ban":
            ground[begin:end, column] = True
        else:
            surface[begin:end, column] = r.restriction
    boards = districts["water_board"].astype(str).to_numpy()
    return pd.DataFrame({"date": np.repeat(days.values, len(ids)), "district_id": np.tile(ids, len(days)),
                         "water_board": np.tile(boards, len(days)), "restriction": surface.ravel(),
                         "groundwater_ban": ground.ravel()})


def _outlooks(config: Config, districts, boards, weather, allocation, order, first, last, every) -> dict:
    """The category-4 shortage probability per district (Series) on every ``every``-th day."""
    table = district_table(districts)
    p, e = (np.ascontiguousarray(x.values) for x in weather_arrays(weather.sel(time=allocation["time"].values), table))
    deficit = running_deficit(p, e, 0.0)
    time = pd.DatetimeIndex(allocation["time"].values)
    storage = allocation["storage"].transpose("time", "district").reindex(district=table.index.values).values
    supply = allocation["supply_m3_day"].values
    # The members replay the years before the season's year: the same history for every
    # outlook of the season, cut once, in the districts' order, (time, district) row-major, so
    # that no outlook copies decades of weather again.
    weather_days = pd.DatetimeIndex(weather["time"].values)
    before = weather_days.searchsorted(pd.Timestamp(pd.Timestamp(first).year, 1, 1))
    history = weather[["precipitation_mm", "evaporation_mm"]].isel(time=slice(0, before))
    history = history.transpose("time", "district").sel(district=table.index.values)
    history = xr.Dataset({name: (("time", "district"), np.ascontiguousarray(history[name].values))
                          for name in ("precipitation_mm", "evaporation_mm")},
                         coords={"time": history["time"].values, "district": table.index.values})
    years = sorted(set(weather_days[:before].year))
    out = {}
    for day in pd.date_range(first, last, freq=f"{max(every, 1)}D"):
        i = time.get_loc(day)
        member_supply, _ = national_source.outlook_supply(config, day.date(), float(supply[i]),
                                                          horizon_days=config.outlook_horizon_days, years=years)
        ensemble = outlook(districts, boards, history, order, start=day + pd.Timedelta(days=1),
                           storage=storage[i], supply_m3_day=member_supply,
                           horizon_days=config.outlook_horizon_days, deficit_initial_mm=deficit[i], client=None)
        out[day] = outlook_category_probability(ensemble, "4").to_series()
    return out


def season_timeline(escalation: pd.DataFrame, restrictions: pd.DataFrame, allocation: xr.Dataset,
                    indicators: xr.Dataset, trigger_values: xr.Dataset, first, last,
                    facts: dict | None = None) -> pd.DataFrame:
    """One row per day: ``national_level``, ``level_<board>`` per water board, the number of
    districts per restriction type, the national precipitation deficit (mm), its percentile
    among earlier years (``deficit_percentile``, 0-100, from ``facts``: the facts of
    :func:`pipelines.restrictions.national_facts`), the mean deficit anomaly (mm), supply
    (m³/day), discharge (m³/s), shortage (m³/day, all uses) and the part of it that the
    national source left short (``source_shortage_m3_day``)."""
    days = pd.date_range(first, last, freq="D")
    levels = escalation.pivot(index="date", columns="water_board", values="level").reindex(days)
    frame = pd.DataFrame({"date": days, "national_level": levels[NATIONAL].to_numpy()})
    for board in [b for b in levels.columns if b != NATIONAL]:
        frame[f"level_{board}"] = levels[board].to_numpy()
    counts = restrictions.groupby(["date", "restriction"]).size().unstack(fill_value=0).reindex(days, fill_value=0)
    for kind in SURFACE_TYPES:
        frame[f"districts_{kind}"] = counts[kind].to_numpy() if kind in counts else 0
    frame["districts_groundwater_ban"] = restrictions.groupby("date")["groundwater_ban"].sum().reindex(days).to_numpy()
    national = indicators["precipitation_deficit_national"].reindex(time=days)
    frame["precipitation_deficit_mm"] = national.to_numpy()
    frame["deficit_percentile"] = [(facts or {}).get(d, {}).get("deficit_percentile", np.nan) for d in days]
    frame["deficit_anomaly_mm"] = trigger_values["deficit_anomaly_mm"].reindex(time=days).mean("district").to_numpy()
    frame["supply_m3_day"] = allocation["supply_m3_day"].reindex(time=days).to_numpy()
    frame["discharge_m3_s"] = (allocation["discharge_m3_s"].reindex(time=days).to_numpy()
                               if "discharge_m3_s" in allocation else np.nan)
    frame["shortage_m3_day"] = allocation["shortage"].sum(["district", "use"]).reindex(time=days).to_numpy()
    # the shortage whose limit was the national source (network.LIMITS): a national shortage,
    # as against uses left short by a board's or district's own inlet or storage
    by_source = allocation["shortage"].where(allocation["limit"] == SOURCE_LIMIT, 0.0)
    frame["source_shortage_m3_day"] = by_source.sum(["district", "use"]).reindex(time=days).to_numpy()
    return frame


def change_days(escalation: pd.DataFrame, restrictions: pd.DataFrame) -> pd.DataFrame:
    """The days on which an escalation level or a district's restriction changed:
    ``date``, ``scope`` (``national``, ``water_board`` or ``district``), ``id``, ``was``, ``becomes``, ``reason``."""
    rows = []
    for board, group in escalation.sort_values("date").groupby("water_board"):
        was = 0
        for r in group.itertuples():
            if r.level != was:
                rows.append({"date": r.date, "scope": r.scope, "id": board, "was": str(was),
                             "becomes": str(r.level), "reason": r.reason_en})
                was = r.level
    state = restrictions.assign(state=restrictions["restriction"]
                                + np.where(restrictions["groundwater_ban"], " + groundwater_ban", ""))
    state = state.sort_values(["district_id", "date"])
    before = state.groupby("district_id")["state"].shift(fill_value="none")
    moved = state[state["state"] != before]
    for r, was in zip(moved.itertuples(), before[moved.index], strict=True):
        rows.append({"date": r.date, "scope": "district", "id": r.district_id, "was": was,
                     "becomes": r.state, "reason": ""})
    frame = pd.DataFrame(rows, columns=["date", "scope", "id", "was", "becomes", "reason"])
    order = {"national": 0, "water_board": 1, "district": 2}
    return frame.sort_values(["date", "scope", "id"], key=lambda c: c.map(order) if c.name == "scope" else c,
                             ignore_index=True)


def season_chart(timeline: pd.DataFrame, path: Path, *, title: str) -> Path:
    """The season on one page: national level and the spread of board levels over time,
    the Lobith discharge with the LCW criteria, and the precipitation deficit."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    boards = [c for c in timeline.columns if c.startswith("level_")]
    fig, axes = plt.subplots(3, 1, figsize=(10, 8), sharex=True, gridspec_kw={"height_ratios": [1.2, 1, 1]})
    t = timeline["date"]
    ax = axes[0]
    if boards:
        ax.fill_between(t, timeline[boards].min(axis=1), timeline[boards].max(axis=1), step="post",
                        color="#c9d6e8", label="water boards (lowest–highest)")
        ax.step(t, timeline[boards].mean(axis=1), where="post", color="#6b8fbf", lw=1, label="water boards (mean)")
    ax.step(t, timeline["national_level"], where="post", color="#b2182b", lw=2.5, label="national")
    ax.set_ylim(-0.2, 3.2)
    ax.set_yticks([0, 1, 2, 3], ["0 normal", "1 threatening", "2 shortage", "3 crisis"])
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    ax = axes[1]
    if timeline["discharge_m3_s"].notna().any():
        ax.plot(t, timeline["discharge_m3_s"], color="#2166ac", label="Rhine at Lobith (m³/s)")
        for limit, text in ((1400, "1,400: threatening"), (1200, "1,200: LCW acts")):
            ax.axhline(limit, color="grey", ls="--", lw=0.8)
            ax.text(t.iloc[0], limit, f" {text}", va="bottom", fontsize=7, color="grey")
        ax.set_ylabel("m³/s")
    else:
        ax.plot(t, timeline["supply_m3_day"], color="#2166ac", label="supply (m³/day)")
    ax.legend(loc="upper right", fontsize=8)
    ax = axes[2]
    ax.plot(t, timeline["precipitation_deficit_mm"], color="#8c510a", label="precipitation deficit, setup's stations (mm)")
    ax.set_ylabel("mm")
    ax.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    os.replace(tmp, path)
    return path


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    tmp = path.with_suffix(".csv.tmp")
    frame.to_csv(tmp, index=False, date_format="%Y-%m-%d", float_format="%.6g")
    os.replace(tmp, path)
    return path

