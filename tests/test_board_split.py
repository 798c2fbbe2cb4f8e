"""The national pass, then every water board apart: the same allocation as the whole network.

A water board allocated with the national fractions of a run of the whole network must get
exactly what it got in that run, for any network, any demand and any weather; the boards may
then run in any order, on any worker, and still give the whole network's result bit for bit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings

from models.allocation.network import SOURCE, Network, allocate_arrays, allocate_in_chunks
from models.allocation.board_split import national_pass, start
from models.allocation.demand import district_table, local_water, water_demand
from models.allocation.verdringingsreeks import PriorityOrder
from tests.allocation_helpers import allocate, run_allocation
from tests.test_allocation_properties import cases

ORDER = PriorityOrder.default()
OUTPUTS = ("allocated", "allocated_shared", "limit", "storage", "inlet", "evaporation", "spill")


@settings(max_examples=150, deadline=None)
@given(cases())
def test_each_board_under_the_national_fractions_gets_what_it_got_in_the_whole_run(case):
    network, demand, inflow, evaporation, supply = case
    whole = {k: v.copy() for k, v in allocate_arrays(network, demand, inflow, evaporation, supply).items()}
    for board in network.boards:
        part, where = network.part(board)
        got = allocate_arrays(part, demand[:, where], inflow[:, where], evaporation[:, where], None,
                              source_fraction=whole["source_fraction"])
        for name in OUTPUTS:
            np.testing.assert_array_equal(got[name], whole[name][:, where], err_msg=f"{board} {name}")


def test_fractions_say_how_the_source_bound():
    """Board A 30 m³/day, board B unbounded; the source 50 m³/day on day 1, ample on day 0."""
    network = Network(
        districts=("A1", "B1"), boards=("A", "B"), board_of_district=np.array([0, 1]),
        district_inlet_m3_day=np.array([1e6, 1e6]), board_inlet_m3_day=np.array([30.0, 1e6]),
        storage_max_m3=np.zeros(2), storage_initial_m3=np.zeros(2),
    )
    demand = np.zeros((2, 2, len(ORDER)))
    dike, agri = ORDER.index("dike_stability"), ORDER.index("agriculture")
    demand[:, :, dike] = 10.0
    demand[:, :, agri] = 40.0
    out = allocate_arrays(network, demand, np.zeros((2, 2)), np.zeros((2, 2)), np.array([1e6, 50.0]))
    fraction = out["source_fraction"]
    # Day 0: board A's inlet binds (A gets 30 of 50), the source does not.
    assert np.isinf(fraction[0]).all()
    # Day 1: 20 m³ to the dikes, then agriculture: A can take 20 more, B 40, the source has 30.
    # f = 30 / 80 = 0.375 would give A 15, B 15; both under their reach, so f is exact.
    assert np.isinf(fraction[1, dike])
    assert fraction[1, agri] == pytest.approx(0.375)
    assert (fraction[1, agri + 1:] == 0).all()  # nothing left for the steps after
    assert out["limit"][1, 1, agri] == SOURCE
    # A day on which everything fits has no fraction at all.
    calm = allocate_arrays(network, demand[:1] / 10, np.zeros((1, 2)), np.zeros((1, 2)), np.array([1e6]))
    assert np.isnan(calm["source_fraction"]).all()


def test_part_keeps_the_district_order_and_rejects_unknown_boards():
    network = Network(
        districts=("a", "b", "c", "d"), boards=("X", "Y", "Z"), board_of_district=np.array([1, 0, 1, 2]),
        district_inlet_m3_day=np.arange(4.0), board_inlet_m3_day=np.array([5.0, 6.0, 7.0]),
        storage_max_m3=np.ones(4), storage_initial_m3=np.zeros(4),
    )
    part, where = network.part("Y")
    assert part.districts == ("a", "c") and list(where) == [0, 2]
    assert part.boards == ("Y",) and list(part.board_of_district) == [0, 0]
    assert list(part.board_inlet_m3_day) == [6.0] and list(part.district_inlet_m3_day) == [0.0, 2.0]
    with pytest.raises(ValueError, match=r"no water board \['Q'\]"):
        network.part("Q")


def _national_case(n_districts=60, n_days=40, seed=5):
    """Three boards on real-looking weather with a source that binds on the dry days."""
    rng = np.random.default_rng(seed)
    boards = pd.DataFrame({"water_board": ["WBA", "WBB", "WBC"], "inlet_capacity_m3_day": [40_000.0, 25_000.0, 60_000.0]})
    area = rng.uniform(2e6, 8e6, n_districts)
    districts = pd.DataFrame({
        "district_id": [f"D{k:03d}" for k in range(n_districts)],
        "water_board": rng.choice(boards.water_board, n_districts),
        "area_m2": area,
        "inlet_capacity_m3_day": area * rng.uniform(0.5e-3, 3e-3, n_districts),
        "storage_max_m3": area * 0.02, "storage_initial_m3": area * 0.01,
        "open_water_share": rng.uniform(0.02, 0.1, n_districts), "irrigated_share": rng.uniform(0, 0.6, n_districts),
        "high_value_share": rng.uniform(0, 0.1, n_districts), "peat_share": rng.uniform(0, 0.4, n_districts),
        "nature_share": rng.uniform(0, 0.2, n_districts), "dike_flushing_m3_day": 100.0,
        "drinking_water_m3_day": rng.uniform(0, 3000, n_districts), "cooling_water_m3_day": 0.0,
        "process_water_m3_day": rng.uniform(0, 800, n_districts),
        "target_level_m_nap": -1.0, "critical_level_m_nap": -1.3,
    })
    time = pd.date_range("2026-06-01", periods=n_days)
    weather = xr.Dataset(
        {
            "precipitation_mm": (("time", "district"), rng.gamma(0.4, 3.0, (n_days, n_districts))),
            "evaporation_mm": (("time", "district"), rng.uniform(2.5, 5.5, (n_days, n_districts))),
        },
        coords={"time": time, "district": list(districts["district_id"])},
    )
    supply = xr.DataArray(np.where(np.arange(n_days) % 3 == 0, 1e7, 60_000.0), dims="time", coords={"time": time})
    return districts, boards, weather, supply


def _whole_network(districts, boards, weather, supply, **initial):
    table = district_table(districts)
    network = Network.from_tables(table, boards)
    demand = water_demand(weather, table, ORDER, deficit_initial_mm=initial.get("deficit_initial_mm", 0.0))
    inflow, evaporation = local_water(weather, table)
    return allocate(network, demand, inflow, evaporation, supply, ORDER, storage_initial=initial.get("storage_initial"))


def test_run_allocation_by_board_is_the_whole_network_run():
    districts, boards, weather, supply = _national_case()
    initial = {"storage_initial": np.linspace(0, 5e4, len(districts)), "deficit_initial_mm": np.linspace(0, 80, len(districts))}
    whole = _whole_network(districts, boards, weather, supply, **initial)
    assert (whole["limit"] == SOURCE).any()  # the source binds: the boards really are coupled
    xr.testing.assert_identical(run_allocation(districts, boards, weather, supply, ORDER, **initial), whole)


def test_national_pass_in_chunks_gives_the_whole_run_state():
    districts, boards, weather, supply = _national_case(n_days=29)
    table = district_table(districts)
    network = Network.from_tables(table, boards)
    p, e = weather["precipitation_mm"].values, weather["evaporation_mm"].values
    national = national_pass(network, table, ORDER, p, e, supply.values, deficit_initial_mm=12.0)
    whole = _whole_network(districts, boards, weather, supply, deficit_initial_mm=12.0)
    np.testing.assert_array_equal(national.storage_end_m3, whole["storage"].isel(time=-1).values)
    # The fractions of a run in one piece: the chunks carry the storage over exactly.
    chunks = list(allocate_in_chunks(network, table, ORDER, p, e, supply.values, deficit_initial_mm=12.0, days_per_chunk=len(p)))
    np.testing.assert_array_equal(national.source_fraction, chunks[0][2]["source_fraction"])


def test_boards_on_a_dask_cluster_give_the_serial_result():
    """The water boards as tasks of their own under the national fractions give what the
    national pass kept (the serial run) bit for bit."""
    distributed = pytest.importorskip("distributed")
    districts, boards, weather, supply = _national_case()
    serial = run_allocation(districts, boards, weather, supply, ORDER)
    with distributed.LocalCluster(n_workers=2, processes=False, threads_per_worker=1, dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        national, runs = start(districts, boards, weather, supply, ORDER, client=client, board_tasks=True)
        # One task per water board, started before anything waits for them.
        assert len(client.futures) >= len(boards)
        parallel = runs.dataset()
    xr.testing.assert_identical(serial, parallel)
    np.testing.assert_array_equal(national.storage_end_m3, serial["storage"].isel(time=-1).values)


def test_a_board_without_districts_is_no_task():
    districts, boards, weather, supply = _national_case()
    boards = pd.concat([boards, pd.DataFrame({"water_board": ["EMPTY"], "inlet_capacity_m3_day": [1.0]})], ignore_index=True)
    ds = run_allocation(districts, boards, weather, supply, ORDER)
    assert "EMPTY" in ds["board"].values and float(ds["board_shortage"].sel(board="EMPTY").sum()) == 0.0


@pytest.mark.parametrize("n_days", [1, 2, 29])
def test_the_season_in_the_background_starts_the_outlook_from_the_same_state(n_days):
    """With ``background`` the state comes from the districts' own water alone (storage never
    holds shared water) while the national pass runs in a thread: state and Dataset must be
    those of the national pass bit for bit."""
    districts, boards, weather, supply = _national_case(n_days=n_days)
    initial = {"storage_initial": np.linspace(0, 5e4, len(districts)), "deficit_initial_mm": 20.0}
    national, season = start(districts, boards, weather, supply, ORDER, **initial)
    early, later = start(districts, boards, weather, supply, ORDER, background=True, **initial)
    for name in ("storage_end_m3", "storage_last_start_m3", "deficit_end_mm", "deficit_last_start_mm"):
        np.testing.assert_array_equal(getattr(early, name), getattr(national, name))
    expected = season.dataset()
    assert n_days < 29 or (expected["limit"] == SOURCE).any()  # the source binds: shared water flows
    xr.testing.assert_identical(later.dataset(), expected)
    np.testing.assert_array_equal(early.source_fraction, national.source_fraction)


@pytest.mark.parametrize("bad", [-1.0, np.inf])
def test_weather_out_of_range_is_refused_before_the_season_runs(bad):
    """The chunks' demand and local water are not checked again: P and E are, once."""
    districts, boards, weather, supply = _national_case(n_days=12)
    weather["evaporation_mm"][7, 3] = bad
    with pytest.raises(ValueError, match=r"evaporation_mm must be finite and >= 0 \(mm/day\)"):
        start(districts, boards, weather, supply, ORDER)
