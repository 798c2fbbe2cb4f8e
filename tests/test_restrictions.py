"""Restriction rules: configuration errors, hysteresis on known series and random ones, texts."""

from __future__ import annotations

import copy
from datetime import date

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from models.restrictions import explanations
from models.restrictions.rules import (
    INDICATORS,
    Restriction,
    Rule,
    RuleConfigError,
    RuleTable,
    decide,
    default_rules,
    hysteresis,
)

VALID = {
    "output": {"site": "elsewhere"},  # keys of other parts are left alone
    "rules": {
        "WBA": [
            {"id": "a-watch", "restriction": "watch", "indicator": "deficit_anomaly_mm",
             "operator": ">=", "threshold": 60, "min_days": 3, "lift_threshold": 40,
             "lift_days": 2},
            {"id": "a-day", "restriction": "daytime_sprinkling_ban",
             "indicator": "shortage_fraction_4", "operator": ">=", "threshold": 0.1,
             "min_days": 3, "lift_threshold": 0.05, "lift_days": 2},
            {"id": "a-ban", "restriction": "surface_water_ban",
             "indicator": "surface_level_below_critical", "operator": ">=", "threshold": 0.0,
             "min_days": 4, "lift_threshold": -0.1, "lift_days": 2},
            {"id": "a-gw", "restriction": "groundwater_ban", "indicator": "groundwater_low_share",
             "operator": ">=", "threshold": 0.5, "min_days": 5, "lift_threshold": 0.3,
             "lift_days": 3},
        ],
        "*": [
            {"id": "all-ban", "restriction": "surface_water_ban",
             "indicator": "shortage_fraction_4", "operator": ">=", "threshold": 0.3,
             "min_days": 2, "lift_threshold": 0.3, "lift_days": 1},
        ],
    },
}


def _config_with(path: tuple, value) -> dict:
    config = copy.deepcopy(VALID)
    target = config
    for step in path[:-1]:
        target = target[step]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return config


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("rules", "WBA", 2, "threshold"), "high",
         "boards.yaml: rules.WBA[2].threshold: expected a finite number, got 'high'"),
        (("rules", "WBA", 0, "restriction"), "ban",
         "boards.yaml: rules.WBA[0].restriction: 'ban' is not a restriction type; expected one "
         "of watch, daytime_sprinkling_ban, surface_water_ban, groundwater_ban"),
        (("rules", "WBA", 1, "indicator"), "spi_3",
         "boards.yaml: rules.WBA[1].indicator: 'spi_3' is not an indicator; expected one of "
         "shortage_fraction_4, shortage_fraction_3"),
        (("rules", "WBA", 1, "operator"), ">",
         "boards.yaml: rules.WBA[1].operator: '>' is not an operator; expected '>=' or '<='"),
        (("rules", "WBA", 3, "min_days"), 0,
         "boards.yaml: rules.WBA[3].min_days: expected a whole number of days >= 1, got 0"),
        (("rules", "WBA", 3, "lift_days"), 2.5,
         "boards.yaml: rules.WBA[3].lift_days: expected a whole number of days >= 1, got 2.5"),
        (("rules", "WBA", 3, "lift_threshold"), 0.6,
         "boards.yaml: rules.WBA[3].lift_threshold: 0.6 lies beyond the threshold (>= 0.5), so "
         "the restriction could be lifted while its trigger still holds; expected a value <= 0.5"),
        (("rules", "WBA", 3, "threshold"), 50,
         "boards.yaml: rules.WBA[3].threshold: 50 is outside the range of groundwater_low_share; "
         "expected a value from 0 to 1"),
        (("rules", "WBA", 0, "treshold"), 1,
         "boards.yaml: rules.WBA[0].treshold: unknown key; valid keys are id, restriction"),
        (("rules", "*", 0, "lift_days"), KeyError,
         "boards.yaml: rules.*[0].lift_days: missing; every rule needs id, restriction"),
        (("rules", "WBA", 1, "id"), "a-watch",
         "boards.yaml: rules.WBA[1].id: 'a-watch' is already the id of rules.WBA[0]"),
        (("rules", "WBA"), [],
         "boards.yaml: rules.WBA: expected a non-empty list of rules, got []"),
        (("rules",), KeyError, "boards.yaml: rules: missing; expected a mapping of water board"),
        (("exemptions",), {"groundwater_ban": {"nl": ["gieter"]}},
         "boards.yaml: exemptions.groundwater_ban: expected a mapping with exactly keys 'nl' "
         "and 'en'"),
        (("exemptions",), {"sprinkling": {"nl": [], "en": []}},
         "boards.yaml: exemptions.sprinkling: unknown restriction type; expected one of"),
    ],
)
def test_invalid_configuration_names_file_key_and_valid_values(path, value, expected):
    with pytest.raises(RuleConfigError) as err:
        RuleTable.from_config(_config_with(path, value), source="boards.yaml")
    assert str(err.value).startswith(expected)


def test_valid_configuration_gives_board_rules_and_fallback():
    table = RuleTable.from_config(VALID, source="boards.yaml")
    assert [r.id for r in table.for_board("WBA")] == ["a-watch", "a-day", "a-ban", "a-gw"]
    assert [r.id for r in table.for_board("WBZ")] == ["all-ban"]  # no rules of its own
    gw = table.for_board("WBA")[3]
    assert (gw.restriction, gw.threshold, gw.lift_days) == (Restriction.GROUNDWATER_BAN, 0.5, 3)
    assert table.exemptions["groundwater_ban"].text("en").endswith("with a watering can")


def test_configured_exemptions_replace_the_defaults_of_that_type_only():
    config = _config_with(("exemptions",), {"surface_water_ban": {
        "nl": ["de Maas"], "en": ["the river Meuse"]}})
    table = RuleTable.from_config(config)
    assert table.exemptions["surface_water_ban"].text("nl") == "de Maas"
    assert "drinkwater voor vee" in table.exemptions["groundwater_ban"].text("nl")


def test_default_rules_follow_dutch_practice():
    rules = default_rules().for_board("any board")
    gw = [r for r in rules if r.restriction is Restriction.GROUNDWATER_BAN]
    assert [(r.indicator, r.operator, r.threshold) for r in gw] == [
        ("groundwater_low_share", ">=", 0.5)
    ]
    assert {r.restriction for r in rules} == set(Restriction) - {Restriction.NONE}
    assert {r.indicator for r in rules} <= set(INDICATORS)


def test_severity_order_and_tracks():
    order = sorted(
        [r for r in Restriction if r.track == "surface_water"], key=lambda r: r.severity
    )
    assert [r.value for r in order] == [
        "none", "watch", "daytime_sprinkling_ban", "surface_water_ban"
    ]
    assert Restriction.GROUNDWATER_BAN.track == "groundwater"


def _rule(operator=">=", threshold=0.5, lift_threshold=0.3, min_days=3, lift_days=2) -> Rule:
    return Rule(id="r", water_board="*", restriction=Restriction.SURFACE_WATER_BAN,
                indicator="shortage_fraction_4", operator=operator, threshold=threshold,
                min_days=min_days, lift_threshold=lift_threshold, lift_days=lift_days)


@pytest.mark.parametrize(
    ("rule", "values", "expected"),
    [
        # Lift condition holds from day 2, but the ban stays its 3 minimum days (1-3).
        (_rule(), [0.1, 0.6, 0.2, 0.2, 0.2, 0.4, 0.2, 0.2, 0.6, 0.1],
         [0, 1, 1, 1, 0, 0, 0, 0, 1, 1]),
        # Values in the band (0.3-0.5) neither lift nor restart; lifting needs 2 days in a row.
        (_rule(min_days=1), [0.6, 0.4, 0.4, 0.4, 0.2, 0.4, 0.2, 0.2, 0.2],
         [1, 1, 1, 1, 1, 1, 1, 0, 0]),
        # Missing values neither start nor lift.
        (_rule(min_days=1), [np.nan, 0.6, np.nan, np.nan, np.nan, 0.1, 0.1],
         [0, 1, 1, 1, 1, 1, 0]),
        # "<=" rules lift when the value rises above the lift threshold.
        (_rule("<=", -1.0, -0.5, min_days=1, lift_days=1), [0.0, -1.2, -0.8, -0.4, -0.3],
         [0, 1, 1, 0, 0]),
        # Lift threshold equal to the threshold: in force exactly while triggered (after min).
        (_rule(threshold=0.5, lift_threshold=0.5, min_days=2, lift_days=1),
         [0.5, 0.1, 0.1, 0.7, 0.7, 0.49], [1, 1, 0, 1, 1, 0]),
    ],
)
def test_hysteresis_on_hand_made_series(rule, values, expected):
    active, started = hysteresis(np.array(values), rule)
    assert active.astype(int).tolist() == expected
    # ``started`` points at the first day of each run of active days.
    for t, on in enumerate(active):
        assert (started[t] >= 0) == on
        if on:
            assert started[t] == t or started[t] == started[t - 1]


@st.composite
def rule_and_series(draw):
    operator = draw(st.sampled_from([">=", "<="]))
    threshold = draw(st.sampled_from([0.3, 0.5, 0.7]))
    band = draw(st.sampled_from([0.0, 0.1, 0.2]))
    lift = threshold - band if operator == ">=" else threshold + band
    rule = _rule(operator, threshold, lift, draw(st.integers(1, 6)), draw(st.integers(1, 4)))
    value = st.one_of(st.floats(0, 1), st.just(np.nan), st.sampled_from([threshold, lift]))
    return rule, np.array(draw(st.lists(value, min_size=1, max_size=60)), dtype=float)


@settings(max_examples=150, deadline=None)
@given(rule_and_series())
def test_hysteresis_never_flip_flops(case):
    rule, values = case
    active, _ = hysteresis(values, rule)
    trigger, lift = rule.trigger_holds(values), rule.lift_holds(values)
    run = 0  # days in force so far
    for t in range(len(values)):
        was = t > 0 and active[t - 1]
        if active[t] and not was:
            assert trigger[t], "a restriction starts only on a day its trigger holds"
        if was and not active[t]:
            assert run >= rule.min_days, "lifted before its minimum duration"
            assert lift[t - rule.lift_days + 1 : t + 1].all() and t + 1 >= rule.lift_days, (
                "lifted without its lift condition holding lift_days days in a row"
            )
        if was and active[t] and run >= rule.min_days and t + 1 >= rule.lift_days:
            assert not lift[t - rule.lift_days + 1 : t + 1].all(), "kept although liftable"
        if not was and not active[t]:
            assert not trigger[t], "not started although the trigger held"
        run = run + 1 if active[t] else 0


def _indicators(series: dict[str, dict[str, list[float]]], start="2026-06-01") -> xr.Dataset:
    """A Dataset (time, district) from {district: {indicator: values}}; others are NaN."""
    districts = list(series)
    n = len(next(iter(series.values()))["shortage_fraction_4"])
    data = {}
    for name in INDICATORS:
        grid = np.full((n, len(districts)), np.nan)
        for j, d in enumerate(districts):
            if name in series[d]:
                grid[:, j] = series[d][name]
        data[name] = (("time", "district"), grid, {"units": INDICATORS[name].unit})
    coords = {"time": pd.date_range(start, periods=n), "district": districts,
              "water_board": ("district", [d.split("-")[0] for d in districts])}
    return xr.Dataset(data, coords=coords)


def test_decide_gives_intervals_per_track_with_explanations():
    table = RuleTable.from_config(VALID, source="boards.yaml")
    ds = _indicators({
        "WBA-1": {
            "deficit_anomaly_mm": [70, 70, 70, 70, 70, 70, 70, 70, 30, 30, 30, 30],
            "shortage_fraction_4": [0, 0, 0.2, 0.2, 0, 0, 0, 0, 0, 0, 0, 0],
            "surface_level_below_critical": [-1, -1, -1, -1, -1, 0.35, -1, -1, -1, -1, -1, -1],
            "groundwater_low_share": [0, 0.634, 0.634, 0.6, 0.2, 0.2, 0.2, 0.2, 0.2, 0, 0, 0.9],
        },
        "WBB-1": {"shortage_fraction_4": [0.1] * 3 + [0.5] * 2 + [0.1] * 7},
    })
    out = decide(ds, table)
    got = [
        (r.district_id, r.restriction, str(r.valid_from.date()),
         None if pd.isna(r.valid_until) else str(r.valid_until.date()), r.rule)
        for r in out.itertuples()
    ]
    assert got == [
        ("WBA-1", "watch", "2026-06-01", "2026-06-02", "a-watch"),
        ("WBA-1", "groundwater_ban", "2026-06-02", "2026-06-06", "a-gw"),  # 5 min days
        ("WBA-1", "daytime_sprinkling_ban", "2026-06-03", "2026-06-05", "a-day"),
        ("WBA-1", "surface_water_ban", "2026-06-06", "2026-06-09", "a-ban"),
        ("WBA-1", "none", "2026-06-10", None, ""),
        ("WBA-1", "groundwater_ban", "2026-06-12", None, "a-gw"),
        ("WBB-1", "none", "2026-06-01", "2026-06-03", ""),
        ("WBB-1", "surface_water_ban", "2026-06-04", "2026-06-05", "all-ban"),
        ("WBB-1", "none", "2026-06-06", None, ""),
    ]
    gw = out.iloc[1]
    assert (gw.value, gw.threshold) == (0.634, 0.5)
    assert gw.reason_nl == (
        "Op 2 juni 2026 stond het grondwater bij 63% van de meetpunten te laag. "
        "Bij 50% of meer van de meetpunten geldt deze maatregel. Daarom geldt deze maatregel sinds 2 juni 2026."
    )
    assert "was 0.35 m below the lowest level allowed. This measure applies at 0.00 m or more below that level." \
        in out.iloc[3].reason_en
    assert "a-gw" not in gw.reason_nl and "a-ban" not in out.iloc[3].reason_en  # no rule ids for the public
    assert "0,35 m" in out.iloc[3].reason_nl
    assert "07:00 en 19:00" in out.iloc[2].meaning_nl
    assert out.iloc[2].exemptions_en.startswith("streams and waters that always carry water")
    assert out.iloc[0].exemptions_nl == ""  # a watch restricts nothing


def test_decide_after_a_more_severe_level_names_the_day_the_lower_rule_triggered():
    table = RuleTable.from_config(VALID)
    ds = _indicators({"WBA-1": {
        "deficit_anomaly_mm": [80, 50, 50, 50, 50, 50, 50, 10, 10],
        "shortage_fraction_4": [0, 0.5, 0, 0, 0, 0, 0, 0, 0],
    }})
    out = decide(ds, table)
    assert out["restriction"].tolist() == ["watch", "daytime_sprinkling_ban", "watch", "none"]
    back = out.iloc[2]
    assert (str(back.triggered_on.date()), back.value) == ("2026-06-01", 80.0)
    assert back.reason_en.startswith("On 1 June 2026 the rainfall deficit was 80 mm larger")
    assert back.reason_en.endswith("This measure applies at 60 mm or more above normal. This lighter measure has "
                                   "applied since 5 June 2026; a stricter one applied before.")


def test_decide_until_leaves_later_days_out_and_open_intervals_open():
    ds = _indicators({"WBB-1": {"shortage_fraction_4": [0.5] * 6 + [0.0] * 4}})
    out = decide(ds, RuleTable.from_config(VALID), until=date(2026, 6, 4))
    assert out["restriction"].tolist() == ["surface_water_ban"]
    assert pd.isna(out["valid_until"].iloc[0])


def test_decide_reports_a_missing_indicator_and_broken_time_axis():
    ds = _indicators({"WBA-1": {"shortage_fraction_4": [0.0] * 3}})
    with pytest.raises(ValueError, match="no variable 'groundwater_low_share', needed by rule "
                       "'a-gw' \\(boards.yaml\\) for water board WBA"):
        decide(ds.drop_vars("groundwater_low_share"),
               RuleTable.from_config(VALID, source="boards.yaml"))
    gap = ds.isel(time=[0, 2])
    with pytest.raises(ValueError, match="consecutive days.*first break before 2026-06-03"):
        decide(gap, default_rules())


@settings(max_examples=40, deadline=None)
@given(rule_and_series())
def test_decided_intervals_cover_every_day_and_respect_min_days(case):
    rule, values = case
    config = {"rules": {"*": [{
        "id": "r", "restriction": "surface_water_ban", "indicator": "shortage_fraction_4",
        "operator": rule.operator, "threshold": rule.threshold, "min_days": rule.min_days,
        "lift_threshold": rule.lift_threshold, "lift_days": rule.lift_days}]}}
    out = decide(_indicators({"WBX-1": {"shortage_fraction_4": values}}),
                 RuleTable.from_config(config))
    last = pd.Timestamp("2026-06-01") + pd.Timedelta(days=len(values) - 1)
    ends = out["valid_until"].fillna(last)
    assert out["valid_from"].iloc[0] == pd.Timestamp("2026-06-01")
    next_days = (ends.iloc[:-1] + pd.Timedelta(days=1)).values
    assert (out["valid_from"].iloc[1:].values == next_days).all()  # no gaps, no overlaps
    bans = out.loc[out["restriction"] == "surface_water_ban"]
    closed = bans.loc[bans["valid_until"].notna()]
    days = (closed["valid_until"] - closed["valid_from"]).dt.days + 1
    assert (days >= rule.min_days).all()
    for start in bans["valid_from"]:
        assert rule.trigger_holds(values[(start - pd.Timestamp("2026-06-01")).days])


@pytest.mark.parametrize(
    ("value", "unit", "lang", "text"),
    [(0.634, "1", "nl", "63%"), (0.35, "m", "nl", "0,35 m"), (0.35, "m", "en", "0.35 m"),
     (120.4, "mm", "en", "120 mm"), (float("nan"), "mm", "nl", "onbekend")],
)
def test_numbers_are_written_with_units(value, unit, lang, text):
    assert explanations.format_value(value, unit, lang=lang) == text


def test_texts_refuse_an_unknown_language():
    with pytest.raises(ValueError, match="language 'de' is not supported"):
        explanations.meaning("watch", lang="de")


def test_rules_read_from_yaml_text():
    text = """
rules:
  WBA:
    - {id: gw, restriction: groundwater_ban, indicator: groundwater_low_share,
       operator: ">=", threshold: 0.5, min_days: 14, lift_threshold: 0.3, lift_days: 14}
    - {id: level, restriction: surface_water_ban, indicator: surface_level_below_critical,
       operator: ">=", threshold: 0, min_days: 14, lift_threshold: -0.1, lift_days: [7]}
"""
    with pytest.raises(RuleConfigError, match=r"^wba.yaml: rules.WBA\[1\].lift_days: expected "
                       r"a whole number of days >= 1, got \[7\]$"):
        RuleTable.from_config(yaml.safe_load(text), source="wba.yaml")
    table = RuleTable.from_config(yaml.safe_load(text.replace("[7]", "7")), source="wba.yaml")
    assert [(r.id, r.threshold, r.lift_days) for r in table.rules] == [
        ("gw", 0.5, 14), ("level", 0.0, 7)
    ]
