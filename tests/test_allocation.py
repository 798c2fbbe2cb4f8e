"""Allocation on a network small enough to work out by hand, and the convenience path from weather."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from models.allocation.network import BOARD_INLET, DISTRICT_INLET, NONE, OWN_STORAGE, SOURCE, Network
from models.allocation.verdringingsreeks import PriorityOrder
from tests.allocation_helpers import allocate, run_allocation

ORDER = PriorityOrder.default()
DIKE, DRINK, AGRI = (ORDER.index(u) for u in ("dike_stability", "drinking_water", "agriculture"))


def small_network() -> Network:
    """Board A (inlet 100 m³/day) with districts A1, A2 (inlet 30); board B (1000) with B1."""
    return Network(
        districts=("A1", "A2", "B1"),
        boards=("A", "B"),
        board_of_district=np.array([0, 0, 1]),
        district_inlet_m3_day=np.array([1000.0, 30.0, 1000.0]),
        board_inlet_m3_day=np.array([100.0, 1000.0]),
        storage_max_m3=np.array([50.0, 0.0, 0.0]),
        storage_initial_m3=np.array([40.0, 0.0, 0.0]),
    )


def small_case():
    demand = np.zeros((3, 3, len(ORDER)))
    for district, (dike, drink, agri) in enumerate([(20, 40, 100), (0, 20, 40), (10, 50, 100)]):
        demand[:, district, [DIKE, DRINK, AGRI]] = dike, drink, agri
    inflow = np.zeros((3, 3))
    inflow[2, 0] = 250.0
    evaporation = np.zeros((3, 3))
    evaporation[:, 0] = 10.0
    supply = np.array([1000.0, 150.0, 60.0])
    return demand, inflow, evaporation, supply


def test_small_network_by_hand():
    demand, inflow, evaporation, supply = small_case()
    ds = allocate(small_network(), demand, inflow, evaporation, supply, ORDER)
    got = ds["allocated"].values[:, :, [DIKE, DRINK, AGRI]]
    limit = ds["limit"].values[:, :, [DIKE, DRINK, AGRI]]

    # Day 1. A1: storage 40 - evaporation 10 = 30 local: dike 20, drinking 10. Shared (supply
    # 1000 is ample): dike B1 10; drinking A1 30, A2 20, B1 50, leaving board A 100-50 = 50 and
    # A2's inlet 30-20 = 10. Agriculture in board A wants 100 + 40 > 50: the board fraction g
    # with 100g + min(40g, 10) = 50 is 0.4, so A1 gets 40 and A2 its last 10; B1 gets 100.
    np.testing.assert_allclose(got[0], [[20, 40, 40], [0, 20, 10], [10, 50, 100]], rtol=1e-12)
    assert limit[0, 0, 2] == BOARD_INLET and limit[0, 1, 2] == DISTRICT_INLET
    assert limit[0, 2, 2] == NONE
    # Day 2. Storage empty. Supply 150: dike 30 and drinking 110 served, 10 left. Agriculture:
    # board A has 100-20-60 = 20 left, g = 20/140 = 1/7; the source then binds below that:
    # f·(100 + 40 + 100) = 10, f = 1/24, everyone gets 1/24 of the demand.
    np.testing.assert_allclose(
        got[1], [[20, 40, 100 / 24], [0, 20, 40 / 24], [10, 50, 100 / 24]], rtol=1e-12
    )
    assert (limit[1, :, 2] == SOURCE).all()
    # Day 3. A1: 0 + 250 inflow - 10 evaporation = 240 serves all 160 itself, 80 left of
    # which 30 spill above storage_max 50. Supply 60: dike B1 10; drinking 20 + 50 > 50
    # gets f = 5/7; nothing left for agriculture.
    np.testing.assert_allclose(
        got[2], [[20, 40, 100], [0, 100 / 7, 0], [10, 250 / 7, 0]], rtol=1e-12
    )
    assert (limit[2, 1:, 1:] == SOURCE).all() and (limit[2, 0] == NONE).all()
    np.testing.assert_allclose(ds["storage"].sel(district="A1").values, [0, 0, 50])
    np.testing.assert_allclose(ds["spill"].sel(district="A1").values, [0, 0, 30])
    np.testing.assert_allclose(ds["evaporation"].sel(district="A1").values, [10, 0, 10])
    np.testing.assert_allclose(
        ds["national_shortage"].sel(use="agriculture").values,
        [60 + 30, 240 - 10, 140],
        rtol=1e-12,
    )
    np.testing.assert_allclose(ds["board_shortage"].sel(board="A", use="agriculture").values, [90, 140 - 140 / 24, 40])


def test_contract_form():
    ds = allocate(small_network(), *small_case(), ORDER, time=pd.date_range("2026-07-01", periods=3))
    for name in ("demand", "allocated", "shortage", "limit"):
        assert ds[name].dims == ("time", "district", "use")
    assert ds["storage"].dims == ("time", "district")
    assert ds["board_shortage"].dims == ("time", "board", "use")
    assert ds["national_shortage"].dims == ("time", "use")
    assert list(ds["use"].values) == list(ORDER.uses)
    assert list(ds["category"].values) == list(ORDER.categories)
    assert list(ds["water_board"].values) == ["A", "A", "B"]
    assert all("units" in ds[v].attrs and "long_name" in ds[v].attrs for v in ds.data_vars)


def test_district_without_inlet_is_limited_by_own_storage():
    net = Network(("X",), ("A",), np.array([0]), np.array([0.0]), np.array([10.0]), np.array([5.0]), np.array([5.0]))
    demand = np.zeros((1, 1, len(ORDER)))
    demand[0, 0, DRINK] = 8.0
    ds = allocate(net, demand, np.zeros((1, 1)), np.zeros((1, 1)), np.array([100.0]), ORDER)
    assert ds["allocated"].values[0, 0, DRINK] == 5.0
    assert ds["limit"].values[0, 0, DRINK] == OWN_STORAGE


def districts_frame() -> pd.DataFrame:
    base = dict(
        inlet_capacity_m3_day=5_000.0, storage_max_m3=20_000.0, storage_initial_m3=10_000.0,
        open_water_share=0.05, irrigated_share=0.5, high_value_share=0.1, peat_share=0.2,
        nature_share=0.1, dike_flushing_m3_day=100.0, drinking_water_m3_day=500.0,
        cooling_water_m3_day=200.0, process_water_m3_day=50.0, target_level_m_nap=-1.0,
        critical_level_m_nap=-1.3, area_m2=4e6,
    )
    rows = [dict(base, district_id=f"WBA-{k:03d}", name=f"d{k}", water_board="WBA") for k in range(3)]
    return pd.DataFrame(rows)


def test_run_allocation_from_weather_conserves_water():
    districts = districts_frame()
    time = pd.date_range("2026-06-01", periods=10)
    ids = list(districts["district_id"])
    rng = np.random.default_rng(1)
    weather = xr.Dataset(
        {
            "precipitation_mm": (("time", "district"), rng.gamma(0.5, 2.0, (10, 3))),
            "evaporation_mm": (("time", "district"), rng.uniform(2, 5, (10, 3))),
        },
        coords={"time": time, "district": ids},
    )
    supply = xr.DataArray(np.full(10, 8_000.0), dims="time", coords={"time": time})
    boards = pd.DataFrame({"water_board": ["WBA"], "inlet_capacity_m3_day": [9_000.0]})
    ds = run_allocation(districts, boards, weather, supply, ORDER)
    assert float(ds["shortage"].sum()) > 0  # a dry spell with little supply: someone is short
    previous = np.concatenate([[districts["storage_initial_m3"].to_numpy()], ds["storage"].values[:-1]])
    p, e = weather["precipitation_mm"].values, weather["evaporation_mm"].values
    inflow = (np.maximum(p - e, 0) * 0.95 * 0.3 + p * 0.05) * 4e6 / 1000
    balance = inflow + ds["inlet"].values - ds["allocated"].sum("use").values - (ds["storage"].values - previous) - ds["evaporation"].values - ds["spill"].values
    np.testing.assert_allclose(balance, 0, atol=1e-9 * 20_000)


def test_run_allocation_rejects_missing_property():
    districts = districts_frame().drop(columns="peat_share")
    with pytest.raises(ValueError, match="peat_share"):
        run_allocation(districts, pd.DataFrame({"water_board": ["WBA"], "inlet_capacity_m3_day": [1.0]}), xr.Dataset(), xr.DataArray([1.0], dims="time"), ORDER)
