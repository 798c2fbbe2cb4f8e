"""The compiled allocation kernel against the straightforward numpy implementation.

``_reference`` below is the allocation as first written: for every day and priority step a
few numpy passes over all districts. It is slow at national scale but easy to check by eye;
:func:`models.allocation.network.allocate_arrays` must give its results (to rounding: sums are taken
in another order) on every network, and the kernel without numba must give the compiled one.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from models.allocation.network import (
    BOARD_INLET, DISTRICT_INLET, NONE, OWN_STORAGE, SOURCE, Network, _allocate_days, allocate_arrays,
    kernel_work,
)
from tests.test_allocation_properties import cases

_NEWTON_MAX_ITERATIONS = 200
_RELATIVE_TOLERANCE = 1e-13


def _fill_fraction(demand, cap, group, n_groups, target, active):
    """Per active group the fraction g with ``Σ_{i∈group} min(g·demand_i, cap_i) = target``.

    Requires ``Σ min(demand, cap) > target`` for active groups. Newton's method on this
    concave, piecewise-linear function, started from the lower bound ``target / Σ demand``,
    never overshoots and reaches the exact root after crossing a few breakpoints.
    """
    demand_sum = np.bincount(group, demand, n_groups)
    g = np.ones(n_groups)
    g[active] = target[active] / demand_sum[active]
    todo = active.copy()
    for _ in range(_NEWTON_MAX_ITERATIONS):
        gi = g[group]
        value = np.bincount(group, np.minimum(gi * demand, cap), n_groups)
        slope = np.bincount(group, np.where(gi * demand < cap, demand, 0.0), n_groups)
        gap = target - value
        todo &= (gap > _RELATIVE_TOLERANCE * target) & (slope > 0)
        if not todo.any():
            break
        g[todo] += gap[todo] / slope[todo]
    return g


def _share_step(residual, cap, board_cap, source, board_of, n_boards):
    """Shared water for one priority step; returns allocation and the remaining capacities."""
    reach = np.minimum(residual, cap)
    board_reach = np.bincount(board_of, reach, n_boards)
    board_bound = board_reach > board_cap
    if board_bound.any():
        g = _fill_fraction(residual, cap, board_of, n_boards, board_cap, board_bound)
        reach = np.minimum(cap, g[board_of] * residual)
    source_bound = reach.sum() > source
    if source_bound:
        nation = np.zeros(len(reach), np.intp)
        f = _fill_fraction(residual, reach, nation, 1, np.array([source]), np.array([True]))[0]
        given = np.minimum(f * residual, reach)
        if board_bound.any():
            board_bound &= f >= g  # a board whose fraction the source undercuts is not full
    else:
        given = reach
    # Exhausted capacities become exactly zero so no later step can take a rounding crumb.
    cap = np.where(given >= cap, 0.0, np.maximum(cap - given, 0.0))
    board_cap = np.maximum(board_cap - np.bincount(board_of, given, n_boards), 0.0)
    board_cap[board_bound] = 0.0
    source = 0.0 if source_bound else max(source - given.sum(), 0.0)
    return given, cap, board_cap, source


def _share_day(residual, supply, board_of, n_boards, district_cap, board_cap, no_inlet):
    """Shared water for all steps of one day: (allocation, limit codes), both (district, use)."""
    limit = np.zeros(residual.shape, np.int8)
    total = residual.sum(axis=1)
    # Most days nothing binds: one check instead of a step-by-step solve.
    if (total <= district_cap).all():
        board_total = np.bincount(board_of, total, n_boards)
        if (board_total <= board_cap).all() and board_total.sum() <= supply:
            return residual.copy(), limit
    given = np.zeros_like(residual)
    cap, bcap, source = district_cap.copy(), board_cap.copy(), float(supply)
    for u in range(residual.shape[1]):
        r = residual[:, u]
        if not (r > 0).any():
            continue
        if source > 0:
            given[:, u], cap, bcap, source = _share_step(r, cap, bcap, source, board_of, n_boards)
        short = r - given[:, u] > 1e-9 * r
        if short.any():
            code = np.where(
                no_inlet,
                OWN_STORAGE,
                np.where(cap <= 0, DISTRICT_INLET, np.where(bcap[board_of] <= 0, BOARD_INLET, SOURCE)),
            )
            limit[:, u] = np.where(short, code, NONE)
    return given, limit


def _reference(network: Network, demand, local_inflow, evaporation, supply, storage_initial=None):
    """The allocation as first written: numpy passes over all districts, step by step."""
    demand = np.asarray(demand, dtype=float)
    n_time, n_district, n_use = demand.shape
    local_inflow = np.asarray(local_inflow, dtype=float)
    evaporation = np.asarray(evaporation, dtype=float)
    supply = np.broadcast_to(np.asarray(supply, dtype=float), (n_time,))
    for name, values, shape in (
        ("local_inflow", local_inflow, (n_time, n_district)),
        ("evaporation", evaporation, (n_time, n_district)),
    ):
        if values.shape != shape:
            raise ValueError(f"{name} must have shape (time, district) = {shape}, got {values.shape}")
    for name, values in (("demand", demand), ("local_inflow", local_inflow), ("evaporation", evaporation)):
        if not np.isfinite(values).all() or (values < 0).any():
            raise ValueError(f"{name} must be finite and >= 0 (m3/day)")
    if np.isnan(supply).any() or (supply < 0).any():
        raise ValueError("supply must be >= 0 m3/day (inf: unlimited)")
    if n_district != len(network.districts):
        raise ValueError(f"demand has {n_district} districts, the network {len(network.districts)}")

    board_of, n_boards = network.board_of_district, len(network.boards)
    no_inlet = network.district_inlet_m3_day <= 0
    storage = np.array(network.storage_initial_m3 if storage_initial is None else storage_initial, dtype=float)
    out = {
        "allocated": np.empty(demand.shape),
        "allocated_shared": np.empty(demand.shape),
        "limit": np.empty(demand.shape, np.int8),
    }
    for name in ("storage", "inlet", "evaporation", "spill"):
        out[name] = np.empty((n_time, n_district))
    for t in range(n_time):
        d = demand[t]
        available = storage + local_inflow[t]
        evaporated = np.minimum(evaporation[t], available)
        available = available - evaporated
        before = np.cumsum(d, axis=1) - d  # demand of the higher-priority uses
        local = np.clip(available[:, None] - before, 0.0, d)
        left = np.maximum(available - local.sum(axis=1), 0.0)
        spill = np.maximum(left - network.storage_max_m3, 0.0)
        storage = left - spill
        shared, limit = _share_day(
            d - local, supply[t], board_of, n_boards, network.district_inlet_m3_day,
            network.board_inlet_m3_day, no_inlet,
        )
        out["allocated"][t] = local + shared
        out["allocated_shared"][t] = shared
        out["limit"][t] = limit
        out["storage"][t] = storage
        out["inlet"][t] = shared.sum(axis=1)
        out["evaporation"][t] = evaporated
        out["spill"][t] = spill
    return out


def assert_same(network, got, expected):
    scale = max(float(np.abs(expected["allocated"]).max(initial=0)), float(network.storage_max_m3.max(initial=0)), 1.0)
    for name in ("allocated", "allocated_shared", "storage", "inlet", "evaporation", "spill"):
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-9, atol=1e-9 * scale, err_msg=name)
    np.testing.assert_array_equal(got["limit"], expected["limit"])


@settings(max_examples=100, deadline=None)
@given(cases())
def test_kernel_gives_the_reference_on_small_networks(case):
    network, demand, inflow, evaporation, supply = case
    assert_same(network, allocate_arrays(network, demand, inflow, evaporation, supply), _reference(network, demand, inflow, evaporation, supply))


def national_like(seed, n_districts=400, n_boards=7, n_days=40):
    """A network where the source, board inlets and district inlets all bind on dry days."""
    rng = np.random.default_rng(seed)
    area = rng.uniform(1e6, 2e7, n_districts)
    board = rng.integers(0, n_boards, n_districts)
    inlet = area * rng.uniform(0.5e-3, 3e-3, n_districts) * (rng.random(n_districts) > 0.05)
    network = Network(
        districts=tuple(f"d{k}" for k in range(n_districts)),
        boards=tuple(f"b{k}" for k in range(n_boards)),
        board_of_district=board,
        district_inlet_m3_day=inlet,
        board_inlet_m3_day=np.bincount(board, inlet, n_boards) * rng.uniform(0.2, 0.9, n_boards),
        storage_max_m3=area * rng.uniform(0.01, 0.05, n_districts),
        storage_initial_m3=area * 0.02,
    )
    wet = rng.random((n_days, n_districts)) < 0.2
    demand = rng.uniform(0, 1, (n_days, n_districts, 12)) * area[None, :, None] * 6e-4 * (rng.random((n_days, n_districts, 12)) < 0.6)
    inflow = wet * rng.uniform(0, 5e-3, (n_days, n_districts)) * area
    evaporation = rng.uniform(0, 3e-4, (n_days, n_districts)) * area
    supply = network.board_inlet_m3_day.sum() * rng.uniform(0.05, 1.0, n_days)
    return network, demand, inflow, evaporation, supply


@pytest.mark.parametrize("seed", range(3))
def test_kernel_gives_the_reference_on_a_large_network(seed):
    network, demand, inflow, evaporation, supply = national_like(seed)
    got = allocate_arrays(network, demand, inflow, evaporation, supply)
    expected = _reference(network, demand, inflow, evaporation, supply)
    # The case exercises every limit, or the comparison would prove little.
    assert {SOURCE, BOARD_INLET, DISTRICT_INLET, OWN_STORAGE, NONE} <= set(np.unique(expected["limit"]))
    assert_same(network, got, expected)


def test_kernel_without_numba_gives_the_compiled_result():
    kernel = getattr(_allocate_days, "py_func", None)
    if kernel is None:
        pytest.skip("numba is not installed: the kernel already runs as plain Python")
    network, demand, inflow, evaporation, supply = national_like(7, n_districts=40, n_boards=3, n_days=6)
    compiled = allocate_arrays(network, demand, inflow, evaporation, supply)
    shape, shape2 = demand.shape, demand.shape[:2]
    plain = {name: np.empty(shape) for name in ("allocated", "allocated_shared")}
    plain["limit"] = np.empty(shape, np.int8)
    plain |= {name: np.empty(shape2) for name in ("storage", "inlet", "evaporation", "spill")}
    plain["source_fraction"] = np.empty((shape[0], shape[2]))
    kernel(
        demand, inflow, evaporation, supply, network.board_of_district.astype(np.intp), network.district_inlet_m3_day,
        network.board_inlet_m3_day, network.storage_max_m3, network.storage_initial_m3,
        False, plain["source_fraction"], plain["allocated"], plain["allocated_shared"], plain["limit"], plain["storage"], plain["inlet"],
        plain["evaporation"], plain["spill"], *kernel_work(40, len(demand[0, 0]), 3),
    )
    for name, values in compiled.items():
        np.testing.assert_array_equal(plain[name], values, err_msg=name)


def test_storage_carried_between_calls_gives_one_long_call():
    """The outlook allocates a member in chunks of days, carrying the storage along."""
    network, demand, inflow, evaporation, supply = national_like(11, n_districts=60, n_boards=4, n_days=20)
    whole = allocate_arrays(network, demand, inflow, evaporation, supply)
    first = allocate_arrays(network, demand[:7], inflow[:7], evaporation[:7], supply[:7])
    rest = allocate_arrays(network, demand[7:], inflow[7:], evaporation[7:], supply[7:], first["storage"][-1])
    for name, values in whole.items():
        np.testing.assert_array_equal(np.concatenate([first[name], rest[name]]), values, err_msg=name)
