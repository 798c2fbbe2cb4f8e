"""Escalation levels per water board and nationally, after the national draaiboek.

The Landelijk Draaiboek Waterverdeling en Droogte names four levels: 0 normal, 1 threatening
water shortage (dreigend watertekort; the national coordination committee LCW meets),
2 actual water shortage (feitelijk watertekort; the national management team decides),
3 (threatening) crisis (as in 1976 and 2003). The draaiboek leaves the call to people; the
rules below propose a level from what the national committee looks at, and say why. The
criteria and their sources are in ``docs/escalation.md``.

**A water board** on a day (the highest level whose condition holds):

* **1** when a restriction is in force in any of its districts (a daytime sprinkling ban,
  a surface-water ban or a groundwater ban). A ``watch`` is the board looking more closely,
  not a shortage, and the outlook's probabilities are a forecast, not a report: neither
  raises a level;
* **2** when surface-water bans cover at least ``ban_area_share`` of the board's area, or
  category 1 or 2 demand (safety, drinking water, energy) is short in any district;
* **3** when category 1 or 2 demand has been short somewhere in the board on each of the last
  ``crisis_days`` days up to and including the day.

A use counts as short when its shortage exceeds ``shortage_tolerance`` of its demand, so
rounding in the allocation does not escalate.

**The nation** follows the national picture, as the LCW does (Rijkswaterstaat, "Droogte:
landelijke aanpak"; the draaiboek): the Rhine discharge at Lobith, the national precipitation
deficit against the climatology of earlier years, and the shortages the regions report. A
single district or board does not make a national level. With ``deficit_percentile`` the
national deficit's percentile among the same season day of earlier years (0-100, KNMI's
national series where the setup names it):

* national **1** when the deficit is at or above ``dry_percentile_threatening`` (default 80:
  among the driest 20 % of years, the US Drought Monitor's D1) and either Lobith is below
  ``discharge_threatening_m3_s`` (LCW: about 1,400 m³/s) or at least ``national_boards[1]``
  boards report level 1 or higher while short of water from the main system;
* national **2** when the deficit is at or above ``dry_percentile_acting`` (default 90: the
  driest 10 %, D2) and either Lobith is below ``discharge_acting_m3_s`` (LCW acts around
  1,200 m³/s) or at least ``national_boards[2]`` boards report an actual shortage (level 2)
  while short of water from the main system;
* national **3** when the conditions for 2 hold and at least ``national_boards[3]`` boards
  are in crisis (level 3) while short of water from the main system.

A board's report counts nationally only on a day on which one of its districts is short
where the national source was the limit (the allocation's ``limit``): the national committee
distributes the water of the main system, and a board short because of its own inlets or
storage is a regional matter that its own level shows. Where the allocation summary does not
say what limited a shortage, every board's level counts. A low river alone is not a shortage
(in a wet spring the regions need no water from it), and regional shortages in a season that
is not nationally dry are the boards' own. Where no
percentile is known (a setup with fewer than ten earlier years and no KNMI series), the
deficit condition is left out and the nation follows the river and the boards.

**Hysteresis** (:func:`hold_levels`): a level is taken as soon as its criteria hold, and left
only after its criteria have been unmet on ``hold_days`` days in a row; until then it holds,
and the reason says when its criteria last held. Every level that ends by a drop has lasted at
least ``hold_days`` days, so the proposal does not flicker between days.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
import xarray as xr

from models import wording
from models.allocation.network import SOURCE as SOURCE_LIMIT
from models.restrictions.rules import Restriction

PRIORITY_CATEGORIES = ("1a", "1b", "1c", "2a", "2b")
NATIONAL = "NL"

ESCALATION_COLUMNS = (
    "date",
    "scope",
    "water_board",
    "level",
    "level_name_nl",
    "level_name_en",
    "reason_nl",
    "reason_en",
    "restricted_districts",
    "surface_water_ban_area_share",
    "priority_shortage_districts",
    "priority_shortage_days",
)


@dataclass(frozen=True)
class EscalationRules:
    """The thresholds of the escalation rules (see the module docstring and docs/escalation.md)."""

    ban_area_share: float = 0.25
    shortage_tolerance: float = 0.01
    crisis_days: int = 5
    national_boards: Mapping[int, int] = field(default_factory=lambda: {1: 3, 2: 3, 3: 2})
    discharge_threatening_m3_s: float = 1400.0  # LCW: threatening shortage below about 1,400 m³/s
    discharge_acting_m3_s: float = 1200.0  # LCW: acts around 1,200 m³/s in summer
    dry_percentile_threatening: float = 80.0  # the driest 20 % of years (US Drought Monitor D1)
    dry_percentile_acting: float = 90.0  # the driest 10 % of years (D2)
    hold_days: int = 14  # a level is left after its criteria are unmet this many days in a row


def summarise_allocation(allocation: xr.Dataset) -> pd.DataFrame:
    """The allocation (docs/contracts.md §5) as a long table of demand and shortage per category.

    Returns columns ``date`` (datetime64, day), ``district_id`` (str), ``category`` (str,
    ``"1a"`` … ``"4"``), ``demand_m3_day`` and ``shortage_m3_day`` (float64, m³/day), summed
    over the uses of each category, and where the allocation says what limited a short use
    (``limit``), ``source_shortage_m3_day``: the part of the shortage that the national source
    left short (water the main system did not deliver).
    """
    for name in ("demand", "shortage"):
        if name not in allocation.data_vars:
            raise ValueError(f"allocation: missing variable {name!r} (time, district, use)")
    if "category" not in allocation.coords:
        raise ValueError("allocation: missing coordinate 'category' on 'use'")
    columns = ["date", "district_id", "category", "demand_m3_day", "shortage_m3_day"]
    parts = allocation[["demand", "shortage"]]
    if "limit" in allocation.data_vars:
        parts = parts.assign(source_shortage=allocation["shortage"].where(allocation["limit"] == SOURCE_LIMIT, 0.0))
        columns.append("source_shortage_m3_day")
    by_category = parts.groupby("category").sum("use")
    df = by_category.to_dataframe().reset_index()
    df = df.rename(columns={"time": "date", "district": "district_id", "demand": "demand_m3_day",
                            "shortage": "shortage_m3_day", "source_shortage": "source_shortage_m3_day"})
    return df.loc[:, columns]


def _district_areas(districts: pd.DataFrame) -> pd.DataFrame:
    """``district_id`` → ``water_board``, ``area_m2`` from a table or a GeoDataFrame (EPSG:28992)."""
    for c in ("district_id", "water_board"):
        if c not in districts.columns:
            raise ValueError(f"districts: missing column {c!r}")
    if "area_m2" in districts.columns:
        area = districts["area_m2"].astype(float)
    elif "geometry" in districts.columns:
        crs = getattr(districts, "crs", None)
        if crs is None or crs.to_epsg() != 28992:
            raise ValueError(f"districts: geometry is in {crs}; expected EPSG:28992 (metres) "
                             "to compute areas, or give a column 'area_m2'")
        area = districts.geometry.area
    else:
        raise ValueError("districts: expected a column 'area_m2' or a geometry in EPSG:28992")
    out = pd.DataFrame({"district_id": districts["district_id"].astype(str),
                        "water_board": districts["water_board"].astype(str),
                        "area_m2": area.to_numpy()})
    if out["district_id"].duplicated().any():
        raise ValueError("districts: 'district_id' is not unique")
    return out.set_index("district_id")


def escalation_levels(
    decisions: pd.DataFrame,
    allocation_summary: pd.DataFrame,
    districts: pd.DataFrame,
    *,
    day: date,
    rules: EscalationRules | None = None,
    discharge_m3_s: float | None = None,
    deficit_percentile: float | None = None,
) -> pd.DataFrame:
    """The level 0-3 whose criteria hold on ``day`` per water board and nationally, with the
    reasons (the criteria of that day alone; :func:`escalation_history` adds the hysteresis).

    ``decisions``: restriction decisions (:func:`models.restrictions.rules.decide` or the current
    records of the decision log); those valid on ``day`` count. ``allocation_summary``: the
    table of :func:`summarise_allocation` (days before ``day`` are needed for level 3; a day
    that is absent counts as not short). ``districts``: ``district_id``, ``water_board`` and
    ``area_m2`` or a geometry in EPSG:28992. ``discharge_m3_s``: the Rhine discharge at Lobith
    on ``day`` (m³/s; None or NaN: no river criterion); ``deficit_percentile``: the national
    precipitation deficit's percentile among earlier years on ``day``'s season day (0-100,
    :func:`models.indicators.climatology.deficit_percentile`; None or NaN: not known, the
    deficit condition is left out).

    Returns one row per water board (sorted) and one with ``scope == "national"`` and
    ``water_board == "NL"``; columns :data:`ESCALATION_COLUMNS`.
    """
    rules = rules or EscalationRules()
    prepared = _prepare(decisions, allocation_summary, districts, rules)
    day = pd.Timestamp(day).normalize()
    national = {day: {"discharge_m3_s": discharge_m3_s, "deficit_percentile": deficit_percentile}}
    return pd.DataFrame(_levels_on_days([day], prepared, rules, national), columns=list(ESCALATION_COLUMNS))


def escalation_history(
    decisions: pd.DataFrame,
    allocation_summary: pd.DataFrame,
    districts: pd.DataFrame,
    *,
    days,
    rules: EscalationRules | None = None,
    national: Mapping | None = None,
) -> pd.DataFrame:
    """The escalation levels on each of ``days`` (consecutive days, from the season start or
    at least ``hold_days`` before the first day that matters), with the hysteresis of
    :func:`hold_levels`: the criteria of each day (:func:`escalation_levels`), a level held
    until its criteria have been unmet ``rules.hold_days`` days in a row. ``national``: per
    day, ``{"discharge_m3_s": ..., "deficit_percentile": ...}`` for the national criteria
    (days absent: left out). Same columns, one block per day.
    """
    rules = rules or EscalationRules()
    prepared = _prepare(decisions, allocation_summary, districts, rules)
    days = [pd.Timestamp(d).normalize() for d in days]
    if not days:
        return pd.DataFrame(columns=list(ESCALATION_COLUMNS))
    rows = _levels_on_days(days, prepared, rules, national or {})
    return hold_levels(pd.DataFrame(rows, columns=list(ESCALATION_COLUMNS)), rules.hold_days)


def hold_levels(history: pd.DataFrame, hold_days: int) -> pd.DataFrame:
    """``history`` (the criteria's level per consecutive day and scope, :func:`escalation_levels`
    day by day) with hysteresis. Per scope, day by day: a level whose criteria hold is taken at
    once (a rise is never delayed); a level is left only on the ``hold_days``-th day in a row
    on which its criteria are unmet, for the highest level whose criteria held on one of those
    days, and that level is then held the same way. So every level that ends by a drop has
    lasted at least ``hold_days`` days (1: no hysteresis). A held row keeps the day's facts and
    says in its reasons on which day the criteria of its level last held.
    """
    if hold_days < 1:
        raise ValueError(f"hold_days: expected a whole number of days >= 1, got {hold_days}")
    out = history.copy()
    out["date"] = pd.to_datetime(out["date"])
    held_all = out["level"].to_numpy(dtype=int).copy()
    last_all = out["date"].to_numpy().copy()
    order = np.argsort(out["date"].to_numpy(), kind="stable")
    boards = out["water_board"].to_numpy()[order]
    for board in pd.unique(boards):
        rows = order[boards == board]  # positions of this scope's rows, by date
        dates, raw = last_all[rows], out["level"].to_numpy(dtype=int)[rows]
        held, unmet, last_met = int(raw[0]), 0, dates[0]
        # a scan: each day's level depends on the one before (plain Python over ~200 days)
        for k, position in enumerate(rows):
            if raw[k] >= held:
                held, unmet, last_met = int(raw[k]), 0, dates[k]
            else:
                unmet += 1
                if unmet >= hold_days:  # left: to the best level of the days it was unmet
                    window = slice(k - hold_days + 1, k + 1)
                    held, unmet = int(raw[window].max()), 0
                    last_met = dates[window][raw[window] == held][-1]
            held_all[position], last_all[position] = held, last_met
    raised = held_all > out["level"].to_numpy(dtype=int)
    if raised.any():
        levels, last = held_all[raised], pd.DatetimeIndex(last_all[raised])
        out.loc[raised, "level"] = levels
        out.loc[raised, "level_name_nl"] = [wording.level_name(x, lang="nl") for x in levels]
        out.loc[raised, "level_name_en"] = [wording.level_name(x, lang="en") for x in levels]
        out.loc[raised, "reason_nl"] = [f"niveau {x} blijft: de criteria golden het laatst op {d:%d-%m-%Y}; een "
                                        f"niveau vervalt pas na {hold_days} dagen achtereen zonder"
                                        for x, d in zip(levels, last, strict=True)]
        out.loc[raised, "reason_en"] = [f"level {x} holds: its criteria last held on {d:%Y-%m-%d}; a level is left "
                                        f"only after {hold_days} days in a row without them"
                                        for x, d in zip(levels, last, strict=True)]
    out["level"] = out["level"].astype(int)
    return out


def _prepare(decisions, allocation_summary, districts, rules) -> dict:
    """What every day's levels need, computed once: areas, decisions, priority shortages."""
    areas = _district_areas(districts)
    _check_known(decisions["district_id"], areas, "decisions")
    _check_known(allocation_summary["district_id"], areas, "allocation_summary")
    alloc = allocation_summary
    short = (alloc["category"].astype(str).isin(PRIORITY_CATEGORIES)
             & (alloc["shortage_m3_day"] > rules.shortage_tolerance * alloc["demand_m3_day"])
             & (alloc["shortage_m3_day"] > 0))
    priority = alloc.loc[short, ["date", "district_id"]].copy()
    priority["date"] = pd.to_datetime(priority["date"]).dt.normalize()
    priority["water_board"] = priority["district_id"].map(areas["water_board"])
    source = None  # unknown what limited the shortages: every board's report counts
    if "source_shortage_m3_day" in alloc.columns:
        per_day = alloc.groupby([pd.to_datetime(alloc["date"]).dt.normalize(), "district_id"])[
            ["demand_m3_day", "source_shortage_m3_day"]].sum()
        short = per_day[(per_day["source_shortage_m3_day"] > rules.shortage_tolerance * per_day["demand_m3_day"])
                        & (per_day["source_shortage_m3_day"] > 0)].reset_index()
        short["water_board"] = short["district_id"].astype(str).map(areas["water_board"])
        source = {day: set(group["water_board"]) for day, group in short.groupby("date")}
    return {"areas": areas, "decisions": decisions, "source": source,
            "priority": {board: group for board, group in priority.groupby("water_board")},
            "members": {board: members for board, members in areas.groupby("water_board")}}


def _levels_on_days(days: list[pd.Timestamp], prepared: dict, rules: EscalationRules, national: Mapping) -> list[dict]:
    """The rows (one per board and one national) of each of ``days``, criteria only.

    The facts are gathered for all days at once as (day, district) arrays, since a season of
    hundreds of districts asked day by day of pandas took minutes."""
    areas, decisions = prepared["areas"], prepared["decisions"]
    index = pd.DatetimeIndex(days)
    position = pd.Index(areas.index)
    restricted = np.zeros((len(index), len(position)), dtype=bool)
    banned = np.zeros_like(restricted)
    # A watch is closer monitoring, not a restriction: it raises no level (module docstring).
    counted = ~decisions["restriction"].isin([Restriction.NONE, Restriction.WATCH]).to_numpy()
    is_ban = (decisions["restriction"] == Restriction.SURFACE_WATER_BAN).to_numpy()
    begin = index.searchsorted(pd.DatetimeIndex(decisions["valid_from"]))  # first day on or after
    until = pd.DatetimeIndex(decisions["valid_until"])
    end = np.where(until.isna(), len(index), index.searchsorted(until, side="right"))
    column = position.get_indexer(decisions["district_id"].astype(str))
    for k in np.flatnonzero(counted):
        restricted[begin[k]:end[k], column[k]] = True
        if is_ban[k]:
            banned[begin[k]:end[k], column[k]] = True
    area = areas["area_m2"].to_numpy(dtype=float)
    source = prepared["source"]
    rows_by_day: list[list[dict]] = [[] for _ in days]
    for board, members in prepared["members"].items():
        columns = position.get_indexer(members.index)
        n_restricted = restricted[:, columns].sum(axis=1)
        ban_share = (banned[:, columns] * area[columns]).sum(axis=1) / area[columns].sum()
        mine = prepared["priority"].get(board)
        short_dates = set() if mine is None else set(mine["date"])
        short_today = (mine.groupby("date")["district_id"].nunique() if mine is not None
                       else pd.Series(dtype=int)).reindex(index, fill_value=0).to_numpy()
        run, before = 0, None
        for k, day in enumerate(days):
            if day in short_dates:
                run = run + 1 if before == day - pd.Timedelta(days=1) and run else _days_in_a_row(short_dates, day)
            else:
                run = 0
            before = day
            facts = {"restricted": int(n_restricted[k]), "ban_share": float(ban_share[k]),
                     "short_today": int(short_today[k]), "run": run, "n": len(columns)}
            level, reasons = _board_level(facts, rules)
            rows_by_day[k].append(_row(day, "water_board", str(board), level, reasons, facts))
    rows = []
    for k, day in enumerate(days):
        main_system_short = None if source is None else source.get(day, set())
        rows += rows_by_day[k]
        rows.append(_national_row(day, rows_by_day[k], rules, main_system_short=main_system_short,
                                  **national.get(day, {})))
    return rows


def _check_known(ids: pd.Series, areas: pd.DataFrame, what: str) -> None:
    unknown = sorted(set(ids.astype(str)) - set(areas.index))
    if unknown:
        raise ValueError(f"{what}: districts not in the districts table: {unknown[:5]}")


def _days_in_a_row(days: set, day: pd.Timestamp) -> int:
    """How many days up to and including ``day`` are all in ``days``."""
    n = 0
    while day - pd.Timedelta(days=n) in days:
        n += 1
    return n


def _board_level(f: dict, rules: EscalationRules) -> tuple[int, list[tuple[str, str]]]:
    pct = f"{100 * f['ban_share']:.0f}%"
    conditions = [
        (3, f["run"] >= rules.crisis_days,
         (f"tekort voor categorie 1-2 al {f['run']} dagen achtereen",
          f"category 1-2 shortage for {f['run']} days in a row")),
        (2, f["ban_share"] >= rules.ban_area_share,
         (f"verbod op oppervlaktewater in {pct} van het oppervlak",
          f"surface-water ban over {pct} of the area")),
        (2, f["short_today"] > 0,
         (f"tekort voor categorie 1-2 in {f['short_today']} gebied(en)",
          f"category 1-2 shortage in {f['short_today']} district(s)")),
        (1, f["restricted"] > 0,
         (f"beperkingen in {f['restricted']} van {f['n']} gebieden",
          f"restrictions in {f['restricted']} of {f['n']} districts")),
    ]
    met = [(lvl, text) for lvl, holds, text in conditions if holds]
    level = max((lvl for lvl, _ in met), default=0)
    return level, [text for lvl, text in met if lvl == level]


def _national_row(day: pd.Timestamp, boards: list[dict], rules: EscalationRules,
                  discharge_m3_s: float | None = None, deficit_percentile: float | None = None,
                  main_system_short: set | None = None) -> dict:
    """The national level by the LCW's criteria (module docstring): a dry country, and the
    river low or enough boards reporting a shortage of water from the main system
    (``main_system_short``: the boards with a district short where the national source was
    the limit; None: not known, every board's level counts)."""
    levels = [b["level"] if main_system_short is None or b["water_board"] in main_system_short else 0
              for b in boards]
    known = deficit_percentile is not None and pd.notna(deficit_percentile)
    river = discharge_m3_s is not None and pd.notna(discharge_m3_s)

    def dry(percentile_limit: float):
        if not known:
            return True, None  # no climatology: the deficit condition is left out
        return deficit_percentile >= percentile_limit, (
            f"neerslagtekort droger dan in {deficit_percentile:.0f}% van de eerdere jaren",
            f"precipitation deficit drier than in {deficit_percentile:.0f}% of earlier years")

    def reporting(lvl: int):
        at_least = sum(x >= lvl for x in levels)
        needed = min(rules.national_boards[lvl], len(levels))
        short = "" if main_system_short is None else (" met tekort uit het hoofdwatersysteem",
                                                      " short of water from the main system")
        return at_least >= needed > 0, (f"{at_least} waterschap(pen) op niveau {lvl} of hoger{short and short[0]}",
                                        f"{at_least} water board(s) at level {lvl} or higher{short and short[1]}")

    def low_river(limit: float):
        if not river or not discharge_m3_s < limit:
            return False, None
        return True, (f"Rijn bij Lobith {_nl(discharge_m3_s)} m³/s, onder {_nl(limit)} m³/s",
                      f"Rhine at Lobith {discharge_m3_s:,.0f} m³/s, below {limit:,.0f} m³/s")

    level, reasons = 0, []
    for lvl, percentile_limit, limit in ((1, rules.dry_percentile_threatening, rules.discharge_threatening_m3_s),
                                         (2, rules.dry_percentile_acting, rules.discharge_acting_m3_s)):
        is_dry, dry_text = dry(percentile_limit)
        (low, river_text), (boards_report, boards_text) = low_river(limit), reporting(lvl)
        if is_dry and (low or boards_report):
            level = lvl
            reasons = [t for t, holds in ((dry_text, True), (river_text, low), (boards_text, boards_report))
                       if holds and t is not None]
    crisis, crisis_text = reporting(3)
    if level == 2 and crisis:
        level, reasons = 3, [crisis_text] + reasons
    facts = {
        "restricted": sum(b["restricted_districts"] for b in boards),
        "ban_share": float("nan"),
        "short_today": sum(b["priority_shortage_districts"] for b in boards),
        "run": max((b["priority_shortage_days"] for b in boards), default=0),
    }
    return _row(day, "national", NATIONAL, level, reasons, facts)


def _nl(value: float) -> str:
    """A whole number with the Dutch thousands separator (1.400)."""
    return f"{value:,.0f}".replace(",", ".")


def _row(day, scope, board, level, reasons, facts) -> dict:
    none = ("geen aanleiding", "no cause")
    texts = reasons or [none]
    return {
        "date": day,
        "scope": scope,
        "water_board": board,
        "level": int(level),
        "level_name_nl": wording.level_name(level, lang="nl"),
        "level_name_en": wording.level_name(level, lang="en"),
        "reason_nl": "; ".join(t[0] for t in texts),
        "reason_en": "; ".join(t[1] for t in texts),
        "restricted_districts": int(facts["restricted"]),
        "surface_water_ban_area_share": facts["ban_share"],
        "priority_shortage_districts": int(facts["short_today"]),
        "priority_shortage_days": int(facts["run"]),
    }
