"""Properties of the allocation on random networks, demands and weather (hypothesis).

Assume the allocation wrong until these hold for every network hypothesis can think of:
nobody gets more than asked, no inlet carries more than its capacity, water is conserved,
a lower priority step never gets shared water a short higher step could have used, and a
shortage is shared in equal fractions where capacities allow.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from models.allocation.network import BOARD_INLET, DISTRICT_INLET, NONE, SOURCE, Network
from tests.allocation_helpers import allocate
from models.allocation.verdringingsreeks import PriorityOrder

ORDER = PriorityOrder.default()
U = len(ORDER)


def sparse(rng, shape, scale):
    """Positive values with many exact zeros, on mixed scales (hits ties and empty steps)."""
    values = rng.uniform(0, scale, shape) * (rng.random(shape) < 0.5)
    return np.where(rng.random(shape) < 0.1, np.round(values, -1), values)


@st.composite
def cases(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    n_boards, n_districts, n_days = draw(st.integers(1, 3)), draw(st.integers(1, 7)), draw(st.integers(1, 4))
    rng = np.random.default_rng(seed)
    network = Network(
        districts=tuple(f"d{k}" for k in range(n_districts)),
        boards=tuple(f"b{k}" for k in range(n_boards)),
        board_of_district=rng.integers(0, n_boards, n_districts),
        district_inlet_m3_day=sparse(rng, n_districts, 200) + (rng.random(n_districts) < 0.5) * 1e6,
        board_inlet_m3_day=sparse(rng, n_boards, 400) + (rng.random(n_boards) < 0.3) * 1e6,
        storage_max_m3=sparse(rng, n_districts, 100),
        storage_initial_m3=sparse(rng, n_districts, 150),  # may start above storage_max
    )
    demand = sparse(rng, (n_days, n_districts, U), 60)
    inflow = sparse(rng, (n_days, n_districts), 100)
    evaporation = sparse(rng, (n_days, n_districts), 30)
    supply = sparse(rng, n_days, 800) + (rng.random(n_days) < 0.2) * 1e6
    return network, demand, inflow, evaporation, supply


TOL = 1e-9


@settings(max_examples=100, deadline=None)
@given(cases())
def test_allocation_properties(case):
    network, demand, inflow, evaporation, supply = case
    ds = allocate(network, demand, inflow, evaporation, supply, ORDER)
    allocated, shared = ds["allocated"].values, ds["allocated_shared"].values
    limit, inlet, storage = ds["limit"].values, ds["inlet"].values, ds["storage"].values
    board = network.board_of_district
    scale = max(demand.max(), inflow.max(), network.storage_initial_m3.max(), 1.0)
    tol = TOL * scale

    # Nobody gets more than asked, or less than nothing.
    assert (allocated >= 0).all() and (shared >= 0).all()
    assert (allocated <= demand + tol).all()
    # No capacity exceeded: district inlets, board inlets, the source; storage bounds.
    assert (inlet <= network.district_inlet_m3_day + tol).all()
    for b in range(len(network.boards)):
        assert (inlet[:, board == b].sum(axis=1) <= network.board_inlet_m3_day[b] * (1 + TOL) + tol).all()
    assert (inlet.sum(axis=1) <= supply * (1 + TOL) + tol).all()
    assert (storage >= 0).all() and (storage <= network.storage_max_m3 + tol).all()

    # Water conserved per district and day: sources = uses + storage change + losses.
    before = np.concatenate([[network.storage_initial_m3], storage[:-1]])
    balance = inflow + inlet - allocated.sum(axis=2) - (storage - before) - ds["evaporation"].values - ds["spill"].values
    np.testing.assert_allclose(balance, 0, atol=TOL * max(scale, network.storage_initial_m3.max(), 1))

    residual = demand - (allocated - shared)  # what was left for shared water after local water
    short = demand - allocated > 1e-9 * demand + tol
    assert ((limit != NONE) == short).all()
    for t in range(demand.shape[0]):
        for u in range(U):
            later = shared[t, :, u + 1 :]
            for i in np.flatnonzero(short[t, :, u]):
                code = limit[t, i, u]
                # What limited the short use is really used up ...
                if code == SOURCE:
                    assert np.isclose(inlet[t].sum(), supply[t], rtol=1e-9, atol=tol)
                    # ... and no lower step anywhere got shared water that it could have had.
                    assert (later <= tol).all()
                elif code == BOARD_INLET:
                    in_board = board == board[i]
                    assert np.isclose(inlet[t, in_board].sum(), network.board_inlet_m3_day[board[i]], rtol=1e-9, atol=tol)
                    assert (later[in_board] <= tol).all()
                elif code == DISTRICT_INLET:
                    assert np.isclose(inlet[t, i], network.district_inlet_m3_day[i], rtol=1e-9, atol=tol)
                    assert (later[i] <= tol).all()
            # Equal shortage fractions where only the source (or only the board inlet) binds.
            has = residual[t, :, u] > 1e-6
            fraction = np.divide(shared[t, :, u], residual[t, :, u], out=np.zeros(len(board)), where=has)
            by_source = has & (limit[t, :, u] == SOURCE)
            if by_source.sum() > 1:
                np.testing.assert_allclose(fraction[by_source], fraction[by_source][0], rtol=1e-9, atol=1e-9)
            for b in np.unique(board):
                by_board = has & (limit[t, :, u] == BOARD_INLET) & (board == b)
                if by_board.sum() > 1:
                    np.testing.assert_allclose(fraction[by_board], fraction[by_board][0], rtol=1e-9, atol=1e-9)
            if by_source.any():
                # When the source binds nobody with residual demand is fully served, and a
                # district held back by an inlet never gets a larger fraction than the rest.
                assert not (has & (limit[t, :, u] == NONE)).any()
                capped = has & np.isin(limit[t, :, u], [BOARD_INLET, DISTRICT_INLET])
                assert (fraction[capped] <= fraction[by_source][0] * (1 + 1e-9) + 1e-12).all()
