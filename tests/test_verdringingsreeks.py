"""The verdringingsreeks: fixed categories, configurable order inside 3 and 4 only."""

from __future__ import annotations

import pytest

from models.allocation.verdringingsreeks import CATEGORIES, PriorityOrder


def test_default_order_follows_the_law():
    order = PriorityOrder.default()
    assert order.uses[:5] == ("dike_stability", "peat", "nature_soil", "drinking_water", "cooling_water")
    assert order.categories == ("1a", "1b", "1c", "2a", "2b", "3", "3", "4", "4", "4", "4", "4")
    assert sorted(set(order.categories), key=CATEGORIES.index) == list(CATEGORIES)


def test_province_may_rank_inside_categories_3_and_4():
    order = PriorityOrder.from_config(
        {
            "category_3": ["process_water", "high_value_irrigation"],
            "category_4": ["shipping", "nature_other", "agriculture", "industry", "recreation"],
        }
    )
    assert order.uses[5:7] == ("process_water", "high_value_irrigation")
    assert order.uses[7:] == ("shipping", "nature_other", "agriculture", "industry", "recreation")
    assert order.index("shipping") == 7
    assert PriorityOrder.from_config({}) == PriorityOrder.default()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"category_3": ["process_water", "golf"]}, r"category_3: unknown use 'golf'.*valid values"),
        ({"category_3": ["process_water"]}, r"category_3: missing use\(s\) \['high_value_irrigation'\]"),
        (
            {"category_3": ["process_water", "high_value_irrigation", "agriculture"]},
            r"category_3: use 'agriculture' belongs to category 4",
        ),
        ({"category_4": ["drinking_water"]}, r"category_4: use 'drinking_water' belongs to category 2a"),
        ({"category_2": ["cooling_water", "drinking_water"]}, r"unknown key.*category_2.*valid keys"),
        ({"category_3": "process_water"}, r"category_3 must be a list"),
        (
            {"category_3": ["process_water", "process_water", "high_value_irrigation"]},
            r"listed twice",
        ),
    ],
)
def test_bad_configuration_names_key_and_valid_values(config, message):
    with pytest.raises(ValueError, match=message):
        PriorityOrder.from_config(config)


def test_order_across_categories_is_refused():
    uses = list(PriorityOrder.default().uses)
    uses[0], uses[3] = uses[3], uses[0]
    with pytest.raises(ValueError, match="cross categories"):
        PriorityOrder(tuple(uses))
