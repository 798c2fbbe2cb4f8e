"""The allocation kernel against the kernel before issue 19 (``benchmarks/allocation_previous.py``)
bit for bit, on random networks that bind in every way and on the edge cases, and its checks of
the inputs it reads."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from models.allocation.network import Network, allocate_arrays, kernel_work

_PREVIOUS = Path(__file__).resolve().parents[1] / "benchmarks" / "allocation_previous.py"


def _previous_module():
    spec = importlib.util.spec_from_file_location("allocation_previous", _PREVIOUS)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("allocation_previous", module)
    spec.loader.exec_module(module)
    return module


previous = _previous_module()


def random_case(seed, n_districts=300, n_boards=7, n_days=24, n_use=12):
    """Districts under boards whose inlets, the districts' inlets and the source bind on some
    days and not on others; some uses ask nothing in many districts, some districts have no
    inlet, some days are wet."""
    rng = np.random.default_rng(seed)
    area = rng.uniform(1e6, 2e7, n_districts)
    board = rng.integers(0, n_boards, n_districts)
    inlet = area * rng.uniform(0.5e-3, 3e-3, n_districts) * (rng.random(n_districts) > 0.05)
    network = Network(
        districts=tuple(f"d{k}" for k in range(n_districts)),
        boards=tuple(f"b{k}" for k in range(n_boards)),
        board_of_district=board,
        district_inlet_m3_day=inlet,
        board_inlet_m3_day=np.bincount(board, inlet, n_boards) * rng.uniform(0.2, 1.5, n_boards),
        storage_max_m3=area * rng.uniform(0.01, 0.05, n_districts),
        storage_initial_m3=area * rng.uniform(0.0, 0.03, n_districts),
    )
    asks = rng.random((1, n_districts, n_use)) < rng.uniform(0.05, 1.0, n_use)  # some uses are rare
    demand = rng.uniform(0, 1, (n_days, n_districts, n_use)) * area[None, :, None] * 3e-4 * asks
    wet = rng.random((n_days, 1)) < 0.3
    inflow = wet * rng.uniform(0, 8e-3, (n_days, n_districts)) * area
    evaporation = rng.uniform(0, 3e-4, (n_days, n_districts)) * area
    supply = network.board_inlet_m3_day.sum() * rng.uniform(0.0, 1.5, n_days)
    return network, demand, inflow, evaporation, supply


def with_capacities(network, district=None, board=None):
    return Network(
        districts=network.districts, boards=network.boards, board_of_district=network.board_of_district,
        district_inlet_m3_day=network.district_inlet_m3_day if district is None else district,
        board_inlet_m3_day=network.board_inlet_m3_day if board is None else board,
        storage_max_m3=network.storage_max_m3, storage_initial_m3=network.storage_initial_m3,
    )


def variants(seed):
    """The random case and its edge cases: (name, network, demand, inflow, evaporation, supply)."""
    network, demand, inflow, evaporation, supply = random_case(seed)
    yield "random", network, demand, inflow, evaporation, supply
    yield "no supply", network, demand, inflow, evaporation, np.zeros_like(supply)
    yield "supply unlimited", network, demand, inflow, evaporation, np.full_like(supply, np.inf)
    ample = with_capacities(network, network.district_inlet_m3_day * 1e3 + 1e9, network.board_inlet_m3_day * 1e3 + 1e12)
    yield "all fits", ample, demand, inflow, evaporation, np.full_like(supply, np.inf)
    yield "only the source binds", ample, demand, inflow, evaporation, supply * 0.3
    rng = np.random.default_rng(seed + 1000)
    district = network.district_inlet_m3_day * (rng.random(len(network.districts)) > 0.3)
    board = network.board_inlet_m3_day.copy()
    board[rng.integers(0, len(board))] = 0.0
    yield "zero capacities", with_capacities(network, district, board), demand, inflow, evaporation, supply
    yield "no demand", network, np.zeros_like(demand), inflow, evaporation, supply
    sparse = demand * (rng.random(demand.shape) < 0.05)
    yield "sparse demand", network, sparse, inflow, evaporation, supply
    yield "one day", network, demand[:1], inflow[:1], evaporation[:1], supply[:1]


def assert_bits_equal(got, expected, what):
    for name, values in expected.items():
        a, b = np.asarray(got[name]), np.asarray(values)
        assert a.dtype == b.dtype and a.shape == b.shape, (what, name)
        # The bits, not the values: -0.0 against 0.0 and NaN against NaN count too.
        assert np.array_equal(a.view(np.uint8), b.view(np.uint8)), f"{what}: {name} differs in {np.sum(a != b)} places"


@pytest.mark.parametrize("seed", range(6))
def test_kernel_gives_the_previous_kernels_bits(seed):
    for name, network, demand, inflow, evaporation, supply in variants(seed):
        expected = previous.allocate_arrays(network, demand, inflow, evaporation, supply)
        got = allocate_arrays(network, demand, inflow, evaporation, supply)
        assert_bits_equal(got, expected, name)
        # The water boards on their own, following the national fractions (board_split).
        fractions = expected["source_fraction"]
        for boards in (["b0"], ["b1", "b4", "b6"]):
            part, where = network.part(boards)
            args = (demand[:, where], inflow[:, where], evaporation[:, where], None, None)
            expected_part = previous.allocate_arrays(part, *args, source_fraction=fractions)
            got_part = allocate_arrays(part, *args, source_fraction=fractions)
            assert_bits_equal(got_part, expected_part, f"{name}, boards {boards}")


def test_kernel_in_chunks_with_kept_buffers_gives_the_previous_kernels_bits():
    network, demand, inflow, evaporation, supply = random_case(11, n_days=20)
    expected = previous.allocate_arrays(network, demand, inflow, evaporation, supply)
    out, storage = None, None
    work = kernel_work(len(network.districts), demand.shape[2], len(network.boards))
    for first in range(0, 20, 8):
        days = slice(first, first + 8)
        out = allocate_arrays(network, demand[days], inflow[days], evaporation[days], supply[days], storage,
                              out=out if out is not None and len(out["allocated"]) == len(demand[days]) else None,
                              work=work)
        storage = out["storage"][-1].copy()
        assert_bits_equal(out, {k: v[days] for k, v in expected.items()}, f"days {days}")


@pytest.mark.parametrize("name", ["demand", "local_inflow", "evaporation"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, -1e-300])
def test_bad_input_on_a_later_day_names_the_input(name, bad):
    network, demand, inflow, evaporation, supply = random_case(3, n_days=5)
    inputs = {"demand": demand, "local_inflow": inflow, "evaporation": evaporation}
    values = inputs[name]
    values[3].flat[7] = bad
    with pytest.raises(ValueError, match=f"{name} must be finite and >= 0"):
        allocate_arrays(network, inputs["demand"], inputs["local_inflow"], inputs["evaporation"], supply)


def test_negative_zero_input_is_accepted_like_zero():
    network, demand, inflow, evaporation, supply = random_case(4, n_days=5)
    demand[2, 5, :] = 0.0
    inflow[1, :] = 0.0
    zero = allocate_arrays(network, demand, inflow, evaporation, supply)
    demand[2, 5, :] = -0.0
    inflow[1, :] = -0.0
    got = allocate_arrays(network, demand, inflow, evaporation, supply)
    np.testing.assert_array_equal(got["allocated"], zero["allocated"])
