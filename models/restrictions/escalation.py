"""Escalation levels per water board and nationally, after the national draaiboek.

The Landelijk Draaiboek Waterverdeling en Droogte names four levels: 0 normal, 1 threatening
water shortage (dreigend watertekort; the national coordination committee LCW meets),
2 actual water shortage (feitelijk watertekort; the national management team decides),
3 (threatening) crisis (as in 1976 and 2003). The draaiboek leaves the call to people; the
rules below propose a level from the decisions and the allocation, and say why.

For a water board on ``day`` (each level needs the condition of its own line; the highest
level whose condition holds wins):

* **1** when any district of the board has a restriction in force (``watch`` or worse, or a
  groundwater ban), or the outlook probability of a category-4 shortage reaches
  ``outlook_probability`` in any district;
* **2** when surface-water bans cover at least ``ban_area_share`` of the board's area, or
  category 1 or 2 demand (safety, drinking water, energy) is short in any district;
* **3** when category 1 or 2 demand has been short somewhere in the board on each of the last
  ``crisis_days`` days up to and including ``day``.

A use counts as short when its shortage exceeds ``shortage_tolerance`` of its demand, so
rounding in the allocation does not escalate. Nationally, level *L* holds when at least
``national_boards[L]`` boards are at level *L* or higher (fewer where fewer boards take part);
besides, one board at level 2 makes the nation at least 1, and one board at 3 at least 2.

Where the setup gives the Rhine discharge at Lobith, the national level also follows the
public criteria of the national water-distribution committee (LCW, Landelijke Coördinatie-
commissie Waterverdeling; Rijkswaterstaat, "Droogte: landelijke aanpak" and the Landelijk
Draaiboek Waterverdeling en Droogte): it speaks of a threatening water shortage when Lobith is
expected below about 1,400 m³/s, and in summer it acts around 1,200 m³/s. A low river alone is
not a shortage (in a wet spring the regions need no water from it), so each criterion counts
only while the country is drier than normal (the mean precipitation-deficit anomaly of the
districts above 0 mm):

* national **1** when the discharge is below ``discharge_threatening_m3_s`` and it is drier than normal;
* national **2** when the discharge is below ``discharge_acting_m3_s`` and it is drier than normal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
import xarray as xr

from models import wording
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
    """The thresholds of the escalation rules (see the module docstring)."""

    outlook_probability: float = 0.5
    ban_area_share: float = 0.25
    shortage_tolerance: float = 0.01
    crisis_days: int = 5
    national_boards: Mapping[int, int] = field(default_factory=lambda: {1: 3, 2: 3, 3: 2})
    discharge_threatening_m3_s: float = 1400.0  # LCW: threatening shortage below about 1,400 m³/s
    discharge_acting_m3_s: float = 1200.0  # LCW: acts around 1,200 m³/s in summer


def summarise_allocation(allocation: xr.Dataset) -> pd.DataFrame:
    """The allocation (docs/contracts.md §5) as a long table of demand and shortage per category.

    Returns columns ``date`` (datetime64, day), ``district_id`` (str), ``category`` (str,
    ``"1a"`` … ``"4"``), ``demand_m3_day`` and ``shortage_m3_day`` (float64, m³/day), summed
    over the uses of each category.
    """
    for name in ("demand", "shortage"):
        if name not in allocation.data_vars:
            raise ValueError(f"allocation: missing variable {name!r} (time, district, use)")
    if "category" not in allocation.coords:
        raise ValueError("allocation: missing coordinate 'category' on 'use'")
    by_category = allocation[["demand", "shortage"]].groupby("category").sum("use")
    df = by_category.to_dataframe().reset_index()
    df = df.rename(columns={"time": "date", "district": "district_id",
                            "demand": "demand_m3_day", "shortage": "shortage_m3_day"})
    return df.loc[:, ["date", "district_id", "category", "demand_m3_day", "shortage_m3_day"]]


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
    outlook_probability: pd.Series | None = None,
    rules: EscalationRules | None = None,
    discharge_m3_s: float | None = None,
    deficit_anomaly_mm: float | None = None,
) -> pd.DataFrame:
    """Escalation level 0–3 on ``day`` per water board and nationally, with the reasons.

    ``decisions``: restriction decisions (:func:`models.restrictions.rules.decide` or the current
    records of the decision log); those valid on ``day`` count. ``allocation_summary``: the
    table of :func:`summarise_allocation` (days before ``day`` are needed for level 3; a day
    that is absent counts as not short). ``districts``: ``district_id``, ``water_board`` and
    ``area_m2`` or a geometry in EPSG:28992. ``outlook_probability``: probability 0–1 of a
    category-4 shortage in the coming weeks, indexed by ``district_id``. ``discharge_m3_s``:
    the Rhine discharge at Lobith on ``day`` (m³/s) and ``deficit_anomaly_mm`` the mean
    precipitation-deficit anomaly of the districts (mm, > 0 drier than normal), for the
    national discharge criteria; None leaves them out.

    Returns one row per water board (sorted) and one with ``scope == "national"`` and
    ``water_board == "NL"``; columns :data:`ESCALATION_COLUMNS`.
    """
    rules = rules or EscalationRules()
    prepared = _prepare(decisions, allocation_summary, districts, outlook_probability, rules)
    return _levels_on(pd.Timestamp(day).normalize(), prepared, rules, with_outlook=True,
                      discharge_m3_s=discharge_m3_s, deficit_anomaly_mm=deficit_anomaly_mm)


def escalation_history(
    decisions: pd.DataFrame,
    allocation_summary: pd.DataFrame,
    districts: pd.DataFrame,
    *,
    days,
    outlook_probability: pd.Series | None = None,
    rules: EscalationRules | None = None,
    river: Mapping | None = None,
) -> pd.DataFrame:
    """The escalation levels of :func:`escalation_levels` on each of ``days``: the season at a
    glance. The outlook counts only on the last day (earlier outlooks are not kept; a past
    day's level rests on its decisions and allocation alone). Same columns, one block per day.
    ``river``: per day, ``{"discharge_m3_s": ..., "deficit_anomaly_mm": ...}`` for the national
    discharge criteria (days absent: left out).
    """
    rules = rules or EscalationRules()
    prepared = _prepare(decisions, allocation_summary, districts, outlook_probability, rules)
    days = [pd.Timestamp(d).normalize() for d in days]
    river = river or {}
    frames = [_levels_on(d, prepared, rules, with_outlook=d == days[-1], **river.get(d, {})) for d in days]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(ESCALATION_COLUMNS))


def _prepare(decisions, allocation_summary, districts, outlook_probability, rules) -> dict:
    """What every day's levels need, computed once: areas, decisions, priority shortages."""
    areas = _district_areas(districts)
    _check_known(decisions["district_id"], areas, "decisions")
    _check_known(allocation_summary["district_id"], areas, "allocation_summary")
    outlook = set()
    if outlook_probability is not None:
        _check_known(pd.Series(outlook_probability.index), areas, "outlook_probability")
        outlook = set(outlook_probability.index[outlook_probability >= rules.outlook_probability])
    alloc = allocation_summary
    short = (alloc["category"].astype(str).isin(PRIORITY_CATEGORIES)
             & (alloc["shortage_m3_day"] > rules.shortage_tolerance * alloc["demand_m3_day"])
             & (alloc["shortage_m3_day"] > 0))
    priority = alloc.loc[short, ["date", "district_id"]].copy()
    priority["date"] = pd.to_datetime(priority["date"]).dt.normalize()
    priority["water_board"] = priority["district_id"].map(areas["water_board"])
    return {"areas": areas, "decisions": decisions, "outlook": outlook,
            "priority": {board: group for board, group in priority.groupby("water_board")},
            "members": {board: members for board, members in areas.groupby("water_board")}}


def _levels_on(day: pd.Timestamp, prepared: dict, rules: EscalationRules, *, with_outlook: bool,
               discharge_m3_s: float | None = None, deficit_anomaly_mm: float | None = None) -> pd.DataFrame:
    decisions = prepared["decisions"]
    valid = decisions.loc[
        (decisions["valid_from"] <= day)
        & (decisions["valid_until"].isna() | (decisions["valid_until"] >= day))
    ]
    restricted = set(valid.loc[valid["restriction"] != Restriction.NONE, "district_id"])
    banned = set(valid.loc[valid["restriction"] == Restriction.SURFACE_WATER_BAN, "district_id"])
    outlook = prepared["outlook"] if with_outlook else set()
    empty = pd.DataFrame(columns=["date", "district_id", "water_board"])
    rows = []
    for board, members in prepared["members"].items():
        ids = set(members.index)
        ban_share = members.loc[list(ids & banned), "area_m2"].sum() / members["area_m2"].sum()
        mine = prepared["priority"].get(board, empty)
        mine = mine.loc[mine["date"] <= day]
        short_today = set(mine.loc[mine["date"] == day, "district_id"])
        run = _days_in_a_row(set(mine["date"]), day)
        facts = {
            "restricted": len(ids & restricted),
            "outlook": len(ids & outlook),
            "ban_share": float(ban_share),
            "short_today": len(short_today),
            "run": run,
            "n": len(ids),
        }
        level, reasons = _board_level(facts, rules)
        rows.append(_row(day, "water_board", str(board), level, reasons, facts))
    rows.append(_national_row(day, rows, rules, discharge_m3_s, deficit_anomaly_mm))
    return pd.DataFrame(rows, columns=list(ESCALATION_COLUMNS))


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
        (1, f["outlook"] > 0,
         (f"grote kans op tekort in de komende weken in {f['outlook']} gebied(en)",
          f"high probability of shortage in the coming weeks in {f['outlook']} district(s)")),
    ]
    met = [(lvl, text) for lvl, holds, text in conditions if holds]
    level = max((lvl for lvl, _ in met), default=0)
    return level, [text for lvl, text in met if lvl == level]


def _national_row(day: pd.Timestamp, boards: list[dict], rules: EscalationRules,
                  discharge_m3_s: float | None = None, deficit_anomaly_mm: float | None = None) -> dict:
    levels = [b["level"] for b in boards]
    level, reasons = 0, []
    for lvl in (1, 2, 3):
        at_least = sum(x >= lvl for x in levels)
        needed = min(rules.national_boards[lvl], len(levels))
        if at_least >= needed > 0:
            level = lvl
            reasons = [(f"{at_least} waterschap(pen) op niveau {lvl} of hoger",
                        f"{at_least} water board(s) at level {lvl} or higher")]
    top = max(levels, default=0)
    if top - 1 > level:
        level = top - 1
        reasons = [(f"een waterschap op niveau {top}", f"a water board at level {top}")]
    river_level, river_reason = _river_level(rules, discharge_m3_s, deficit_anomaly_mm)
    if river_level > level:
        level, reasons = river_level, [river_reason]
    elif river_level == level and river_level > 0:
        reasons.append(river_reason)
    facts = {
        "restricted": sum(b["restricted_districts"] for b in boards),
        "ban_share": float("nan"),
        "short_today": sum(b["priority_shortage_districts"] for b in boards),
        "run": max((b["priority_shortage_days"] for b in boards), default=0),
    }
    return _row(day, "national", NATIONAL, level, reasons, facts)


def _river_level(rules: EscalationRules, discharge_m3_s: float | None,
                 deficit_anomaly_mm: float | None) -> tuple[int, tuple[str, str]]:
    """The national level the Lobith discharge criteria give (0 when they do not apply)."""
    if discharge_m3_s is None or deficit_anomaly_mm is None:
        return 0, ("", "")
    if not (pd.notna(discharge_m3_s) and pd.notna(deficit_anomaly_mm)) or deficit_anomaly_mm <= 0:
        return 0, ("", "")
    dry = (f"neerslagtekort {deficit_anomaly_mm:.0f} mm boven normaal",
           f"precipitation deficit {deficit_anomaly_mm:.0f} mm above normal")
    for level, limit in ((2, rules.discharge_acting_m3_s), (1, rules.discharge_threatening_m3_s)):
        if discharge_m3_s < limit:
            return level, (f"Rijn bij Lobith {_nl(discharge_m3_s)} m³/s, onder {_nl(limit)} m³/s; {dry[0]}",
                           f"Rhine at Lobith {discharge_m3_s:,.0f} m³/s, below {limit:,.0f} m³/s; {dry[1]}")
    return 0, ("", "")


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
