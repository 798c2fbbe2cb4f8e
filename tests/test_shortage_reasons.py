"""Every shortage explained: what limits a category, where, and why a higher category can be
short beside a served category 4."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from models.allocation.network import BOARD_INLET, DISTRICT_INLET, NONE, OWN_STORAGE, SOURCE
from models.allocation.shortage_reasons import shortage_reasons

USES = ["peat", "drinking_water", "agriculture"]
CATEGORY = ["1b", "2a", "4"]


def _allocation(shortage, limit, demand=100.0) -> xr.Dataset:
    """One day, four districts on boards A (A-1, A-2, A-3) and B (B-1); uses 1b, 2a and 4."""
    shortage = np.asarray(shortage, dtype=float)[None]
    dims = ("time", "district", "use")
    return xr.Dataset(
        {"shortage": (dims, shortage), "demand": (dims, np.full(shortage.shape, demand)),
         "limit": (dims, np.asarray(limit, dtype=np.int8)[None])},
        coords={"time": pd.date_range("2025-08-15", periods=1), "district": ["A-1", "A-2", "A-3", "B-1"],
                "use": USES, "category": ("use", CATEGORY), "water_board": ("district", ["A", "A", "A", "B"])})


def test_a_priority_shortage_beside_served_category_4_gets_its_reason_in_words():
    # A-1 has no inlet and its storage ran dry: peat (1b) short; are served in full
    # through their inlets, category 4 included. B-1: category 4 short at the source.
    shortage = [[60, 0, 100], [0, 0, 0], [0, 0, 0], [0, 0, 30]]
    limit = [[OWN_STORAGE, NONE, OWN_STORAGE], [NONE] * 3, [NONE] * 3, [NONE, NONE, SOURCE]]
    names = pd.Series({"A-1": "Veenpolder", "A-2": "Hoogland", "A-3": "Rivierland", "B-1": "Oostpolder"})
    reasons = shortage_reasons(_allocation(shortage, limit), "2025-08-15", names)
    assert [(r.water_board, r.category) for r in reasons] == [("A", "1b"), ("A", "4"), ("B", "4")]
    peat = reasons[0]
    assert peat.shortage_m3_day == 60 and peat.demand_m3_day == 300 and peat.share == 0.2
    assert peat.by_limit == {OWN_STORAGE: ["Veenpolder"]} and peat.share_by_limit == {OWN_STORAGE: 1.0}
    assert "Categorie 1b: 20 % van de vraag niet geleverd" in peat.text_nl
    assert "geen inlaat en zijn eigen voorraad was op (100 % van het tekort; in Veenpolder)" in peat.text_nl
    # category 4 of board A gets 200 of 300: the words say why the order looks broken
    assert "Category 4 still gets 67 % of its demand in this water board" in peat.text_en
    assert "cannot reach the districts named above" in peat.text_en
    assert "the source (the national main system) had no water left" in reasons[2].text_en
    assert "1 district(s)" in reasons[2].text_en


def test_limits_are_shared_out_by_their_part_of_the_shortage_and_rounding_is_not_a_shortage():
    shortage = [[0, 0, 30], [0, 0, 10], [0, 0, 0], [0, 0.5, 0]]  # B-1: 0.5 of 100 m³/day, under 1 %
    limit = [[NONE, NONE, BOARD_INLET], [NONE, NONE, DISTRICT_INLET], [NONE] * 3, [NONE, SOURCE, NONE]]
    reasons = shortage_reasons(_allocation(shortage, limit), "2025-08-15")
    assert [(r.water_board, r.category) for r in reasons] == [("A", "4")]
    assert reasons[0].share_by_limit == {BOARD_INLET: 0.75, DISTRICT_INLET: 0.25}
    assert reasons[0].by_limit[DISTRICT_INLET] == ["A-2"]  # ids where no names are given
    assert "inlets from the national system were at capacity (75 % of the shortage" in reasons[0].text_en
    assert "Categorie 4 krijgt" not in reasons[0].text_nl  # category 4 itself needs no such note
