"""Escalation levels per water board and nationally, on hand-made situations."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import xarray as xr
from shapely.geometry import box

from models.restrictions.escalation import EscalationRules, escalation_levels, summarise_allocation

DAY = date(2026, 8, 3)
#: Board WBA: a large district and two small ones; board WBB and WBC: one district each.
DISTRICTS = pd.DataFrame({
    "district_id": ["WBA-big", "WBA-s1", "WBA-s2", "WBB-1", "WBC-1"],
    "water_board": ["WBA", "WBA", "WBA", "WBB", "WBC"],
    "area_m2": [8e6, 1e6, 1e6, 5e6, 5e6],
})


def _decisions(*rows: tuple[str, str, str, str | None]) -> pd.DataFrame:
    """Decisions from (district, restriction, valid_from, valid_until or None)."""
    return pd.DataFrame({
        "district_id": [r[0] for r in rows],
        "restriction": [r[1] for r in rows],
        "valid_from": pd.to_datetime([r[2] for r in rows]),
        "valid_until": pd.to_datetime([r[3] for r in rows]),
    })


def _allocation(*short: tuple[str, str, str, float], demand: float = 100.0) -> pd.DataFrame:
    """An allocation summary from (district, category, day, shortage m³/day)."""
    rows = [{"date": pd.Timestamp(day), "district_id": d, "category": c,
             "demand_m3_day": demand, "shortage_m3_day": s} for d, c, day, s in short]
    return pd.DataFrame(rows, columns=["date", "district_id", "category", "demand_m3_day",
                                       "shortage_m3_day"])


def _levels(decisions=None, allocation=None, **kw) -> dict[str, int]:
    out = escalation_levels(
        decisions if decisions is not None else _decisions(),
        allocation if allocation is not None else _allocation(),
        DISTRICTS, day=DAY, **kw,
    )
    return dict(zip(out["water_board"], out["level"], strict=True))


def test_nothing_going_on_is_level_zero_everywhere():
    nothing = _decisions(("WBA-big", "none", "2026-06-01", None))
    assert _levels(nothing) == {"WBA": 0, "WBB": 0, "WBC": 0, "NL": 0}


def test_a_restriction_in_one_district_raises_its_board_to_one_but_not_the_nation():
    ban = _decisions(("WBA-s1", "daytime_sprinkling_ban", "2026-07-20", None),
                     ("WBB-1", "daytime_sprinkling_ban", "2026-07-01", "2026-07-31"))  # over before the day
    assert _levels(ban) == {"WBA": 1, "WBB": 0, "WBC": 0, "NL": 0}


def test_a_watch_is_no_level():
    """A watch is the board looking more closely (and an outlook is a forecast): no shortage."""
    watch = _decisions(("WBA-s1", "watch", "2026-07-20", None), ("WBB-1", "watch", "2026-07-20", None),
                       ("WBC-1", "watch", "2026-07-20", None))
    assert _levels(watch) == {"WBA": 0, "WBB": 0, "WBC": 0, "NL": 0}


def test_surface_water_bans_escalate_by_share_of_the_area():
    small = _decisions(("WBA-s1", "surface_water_ban", "2026-07-20", None),
                       ("WBA-s2", "surface_water_ban", "2026-07-20", None))
    assert _levels(small)["WBA"] == 1  # 2 of 10 km²: 20% < 25%
    big = _decisions(("WBA-big", "surface_water_ban", "2026-07-20", None))
    out = escalation_levels(big, _allocation(), DISTRICTS, day=DAY)
    wba = out.set_index("water_board").loc["WBA"]
    assert (wba["level"], wba["surface_water_ban_area_share"]) == (2, 0.8)
    assert wba["reason_nl"] == "verbod op oppervlaktewater in 80% van het oppervlak"
    assert wba["level_name_en"] == "actual water shortage"


def test_priority_shortage_is_level_two_and_level_three_when_it_persists():
    four_days = _allocation(*[("WBB-1", "2a", f"2026-08-0{d}", 20.0) for d in range(0 + 1, 4)]
                            + [("WBB-1", "1b", "2026-07-31", 5.0)])
    assert _levels(allocation=four_days)["WBB"] == 2
    five_days = _allocation(*[("WBB-1", "2a", f"2026-08-0{d}", 20.0) for d in range(1, 4)]
                            + [("WBB-1", "1b", "2026-07-31", 5.0),
                               ("WBB-1", "1c", "2026-07-30", 5.0)])
    out = escalation_levels(_decisions(), five_days, DISTRICTS, day=DAY)
    wbb = out.set_index("water_board").loc["WBB"]
    assert (wbb["level"], wbb["priority_shortage_days"]) == (3, 5)
    assert wbb["reason_en"] == "category 1-2 shortage for 5 days in a row"
    # One board, even in crisis, is not the national picture.
    assert out.set_index("water_board").loc["NL", "level"] == 0


def test_shortage_within_tolerance_or_of_lower_categories_does_not_escalate():
    tiny = _allocation(("WBC-1", "2a", "2026-08-03", 0.5),  # 0.5% of the demand
                       ("WBC-1", "4", "2026-08-03", 90.0))
    assert _levels(allocation=tiny)["WBC"] == 0
    strict = EscalationRules(shortage_tolerance=0.0)
    assert _levels(allocation=tiny, rules=strict)["WBC"] == 2


def test_national_level_follows_the_boards_in_a_dry_country():
    every_board = _decisions(("WBA-s1", "surface_water_ban", "2026-07-20", None),
                             ("WBB-1", "groundwater_ban", "2026-07-20", None),
                             ("WBC-1", "daytime_sprinkling_ban", "2026-07-20", None))
    assert _levels(every_board)["NL"] == 1  # three boards at 1 (no climatology known: boards alone)
    assert _levels(every_board, deficit_percentile=85.0)["NL"] == 1  # among the driest 20 %
    assert _levels(every_board, deficit_percentile=60.0)["NL"] == 0  # not nationally dry: the boards' own
    crisis = _allocation(*[(d, "1a", str(day.date()), 50.0)
                           for d in ("WBA-s2", "WBC-1")
                           for day in pd.date_range("2026-07-25", DAY)])
    # two boards in crisis, but not three boards at 2 nor a low river: threatening only
    assert _levels(every_board, crisis) == {"WBA": 3, "WBB": 1, "WBC": 3, "NL": 1}
    # with the river below the LCW's 1,200 m³/s in the driest 10 %: actual shortage, and crisis
    out = escalation_levels(every_board, crisis, DISTRICTS, day=DAY, discharge_m3_s=1100.0, deficit_percentile=95.0)
    nl = out.set_index("water_board").loc["NL"]
    assert nl["level"] == 3
    assert nl["reason_en"] == ("2 water board(s) at level 3 or higher; precipitation deficit drier than in 95% "
                               "of earlier years; Rhine at Lobith 1,100 m³/s, below 1,200 m³/s")


def test_areas_from_geometry_need_rd_new():
    gdf = gpd.GeoDataFrame(
        {"district_id": ["WBA-1", "WBA-2"], "water_board": ["WBA", "WBA"]},
        geometry=[box(0, 0, 3000, 1000), box(3000, 0, 4000, 1000)], crs="EPSG:28992",
    )
    ban = _decisions(("WBA-1", "surface_water_ban", "2026-08-01", None))
    out = escalation_levels(ban, _allocation(), gdf, day=DAY)
    assert out["surface_water_ban_area_share"].iloc[0] == 0.75
    with pytest.raises(ValueError, match="expected EPSG:28992"):
        escalation_levels(ban, _allocation(), gdf.to_crs("EPSG:4326"), day=DAY)


def test_unknown_districts_are_reported():
    with pytest.raises(ValueError, match=r"decisions: districts not in the districts table: "
                       r"\['WBX-9'\]"):
        _levels(_decisions(("WBX-9", "watch", "2026-08-01", None)))


def test_summarise_allocation_sums_uses_per_category():
    uses = ["dike", "peat", "nature", "drinking", "cooling", "crops", "process", "agri", "ship"]
    cats = ["1a", "1b", "1c", "2a", "2b", "3", "3", "4", "4"]
    shape = (2, 1, len(uses))
    demand = np.arange(np.prod(shape), dtype=float).reshape(shape)
    ds = xr.Dataset(
        {"demand": (("time", "district", "use"), demand),
         "shortage": (("time", "district", "use"), demand / 2),
         "board_shortage": (("time", "board", "use"), demand / 2)},
        coords={"time": pd.date_range("2026-08-02", periods=2), "district": ["WBA-1"],
                "board": ["WBA"],
                "use": uses, "category": ("use", cats), "water_board": ("district", ["WBA"])},
    )
    table = summarise_allocation(ds)
    row = table.loc[(table["date"] == "2026-08-03") & (table["category"] == "4")].iloc[0]
    assert (row["demand_m3_day"], row["shortage_m3_day"]) == (16.0 + 17.0, 16.5)
    assert len(table) == 2 * 7


def test_current_records_of_the_decision_log_escalate():
    from models.restrictions.decision_log import current_decisions, empty_log, merge_decisions
    from models.restrictions.rules import INDICATORS, decide, default_rules

    n, ids = 40, ["WBA-big", "WBA-s1", "WBA-s2", "WBB-1", "WBC-1"]
    data = {k: (("time", "district"), np.zeros((n, len(ids)))) for k in INDICATORS}
    data["surface_level_below_critical"] = (("time", "district"), np.full((n, len(ids)), -1.0))
    data["shortage_fraction_4"][1][20:, 0] = 0.5  # the big district short from 23 July
    coords = {"time": pd.date_range("2026-07-03", periods=n), "district": ids,
              "water_board": ("district", DISTRICTS["water_board"].tolist())}
    decisions = decide(xr.Dataset(data, coords=coords), default_rules(), until=DAY)
    log = merge_decisions(empty_log(), decisions, issued_at=pd.Timestamp("2026-08-03T05:00Z"))
    out = escalation_levels(current_decisions(log), _allocation(), DISTRICTS, day=DAY)
    assert out["level"].tolist() == [2, 0, 0, 0]  # WBA, WBB, WBC, NL (one board is not the nation)


def test_history_without_hysteresis_gives_each_day_the_levels_of_that_day():
    """escalation_history with hold_days 1 is escalation_levels day by day."""
    from models.restrictions.escalation import escalation_history

    days = pd.date_range("2025-08-10", periods=6)
    districts = pd.DataFrame({"district_id": ["A-1", "A-2", "B-1"], "water_board": ["A", "A", "B"],
                              "area_m2": [1.0, 3.0, 1.0]})
    decisions = pd.DataFrame({"district_id": ["A-2", "B-1"], "restriction": ["surface_water_ban", "watch"],
                              "valid_from": [days[2], days[4]], "valid_until": [pd.NaT, pd.NaT]})
    summary = pd.DataFrame([{"date": d, "district_id": i, "category": "1b", "demand_m3_day": 100.0,
                             "shortage_m3_day": 50.0 if (i == "B-1" and d >= days[1]) else 0.0}
                            for d in days for i in districts["district_id"]])
    river = {d: {"discharge_m3_s": 1000.0 + 100 * k, "deficit_percentile": 95.0} for k, d in enumerate(days)}
    history = escalation_history(decisions, summary, districts, days=days, rules=EscalationRules(hold_days=1),
                                 national=river)
    assert len(history) == len(days) * 3
    for day in days:
        expected = escalation_levels(decisions, summary, districts, day=day, **river[day])
        got = history[history["date"] == day].reset_index(drop=True)
        pd.testing.assert_frame_equal(got, expected)
    b = history[history["water_board"] == "B"].set_index("date")["level"]
    assert b.tolist() == [0, 2, 2, 2, 2, 3]  # category 1-2 short from day 2; 5 days in a row: crisis
    nl = history[history["water_board"] == "NL"].set_index("date")["level"]
    # 2 by the river below 1,200 m³/s on the first two days, then by both boards at 2
    assert nl.tolist() == [2] * 6
    assert "Lobith" in nl_reasons(history, days[0]) and "Lobith" not in nl_reasons(history, days[3])


def nl_reasons(history: pd.DataFrame, day) -> str:
    return history.loc[(history["water_board"] == "NL") & (history["date"] == day), "reason_en"].iloc[0]


def _raw_history(levels: list[int]) -> pd.DataFrame:
    """A one-scope history with the given criteria levels on consecutive days."""
    days = pd.date_range("2025-06-01", periods=len(levels))
    return pd.DataFrame({"date": days, "scope": "national", "water_board": "NL", "level": levels,
                         "level_name_nl": "", "level_name_en": "", "reason_nl": "x", "reason_en": "x",
                         "restricted_districts": 0, "surface_water_ban_area_share": np.nan,
                         "priority_shortage_districts": 0, "priority_shortage_days": 0})


def test_a_level_is_left_only_after_its_criteria_are_unmet_hold_days_in_a_row():
    from models.restrictions.escalation import hold_levels

    raw = [0, 1, 2, 1, 1, 2, 0, 0, 0, 1, 0, 0, 0, 0]
    held = hold_levels(_raw_history(raw), 3)
    assert held["level"].tolist() == [0, 1, 2, 2, 2, 2, 2, 2, 0, 1, 1, 1, 0, 0]
    assert held["reason_en"].iloc[7] == ("level 2 holds: its criteria last held on 2025-06-06; a level is left "
                                         "only after 3 days in a row without them")
    assert held["reason_en"].iloc[2] == "x"  # a day whose own criteria give its level keeps its reasons
    assert hold_levels(_raw_history(raw), 1)["level"].tolist() == raw


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=1, max_size=60), st.integers(1, 10))
def test_no_level_ends_before_hold_days_and_none_comes_late(levels, hold_days):
    """Whatever the criteria do: a level that ends by a drop has lasted at least hold_days days;
    the held level is never below the day's criteria; and it drops only after hold_days days
    on which the criteria stayed below it."""
    from models.restrictions.escalation import hold_levels

    held = hold_levels(_raw_history(levels), hold_days)["level"].to_numpy()
    raw = np.array(levels)
    assert (held >= raw).all()
    start = 0
    for k in range(1, len(held)):
        if held[k] != held[k - 1]:
            if held[k] < held[k - 1]:
                assert k - start >= hold_days, (levels, hold_days, held.tolist())
                assert (raw[k - hold_days + 1: k + 1] < held[k - 1]).all()
            start = k


def test_boards_count_nationally_only_when_short_of_water_from_the_main_system():
    """Three boards with restrictions make a threatening shortage only on a day their districts
    are short where the national source was the limit; behind their own inlets it is regional."""
    every_board = _decisions(("WBA-s1", "surface_water_ban", "2026-07-20", None),
                             ("WBB-1", "groundwater_ban", "2026-07-20", None),
                             ("WBC-1", "daytime_sprinkling_ban", "2026-07-20", None))

    def summary(from_source: float) -> pd.DataFrame:
        table = _allocation(("WBA-s1", "4", "2026-08-03", 50.0), ("WBB-1", "4", "2026-08-03", 50.0),
                            ("WBC-1", "4", "2026-08-03", 50.0))
        return table.assign(source_shortage_m3_day=from_source)

    assert _levels(every_board, summary(0.0), deficit_percentile=85.0) == {"WBA": 1, "WBB": 1, "WBC": 1, "NL": 0}
    out = escalation_levels(every_board, summary(50.0), DISTRICTS, day=DAY, deficit_percentile=85.0)
    nl = out.set_index("water_board").loc["NL"]
    assert nl["level"] == 1
    assert "3 water board(s) at level 1 or higher short of water from the main system" in nl["reason_en"]


def test_summarise_allocation_keeps_the_shortage_the_source_left():
    from models.allocation.network import DISTRICT_INLET, SOURCE

    ds = xr.Dataset(
        {"demand": (("time", "district", "use"), np.full((1, 1, 2), 10.0)),
         "shortage": (("time", "district", "use"), np.array([[[4.0, 3.0]]])),
         "limit": (("time", "district", "use"), np.array([[[SOURCE, DISTRICT_INLET]]], dtype="int8"))},
        coords={"time": pd.date_range("2026-08-03", periods=1), "district": ["WBA-1"], "use": ["a", "b"],
                "category": ("use", ["4", "4"])})
    row = summarise_allocation(ds).iloc[0]
    assert (row["shortage_m3_day"], row["source_shortage_m3_day"]) == (7.0, 4.0)
