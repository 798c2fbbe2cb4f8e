"""The allocation kernel as it was before issue 19, kept so that
``benchmarks/bench_allocation.py`` can check that today's kernel gives its results bit for bit.
Not used by the project; the text below is its module docstring of the time.

Water balance and priority allocation over the network national source → water boards → districts.

The network: one national source delivers at most ``supply`` m³ on each day; it feeds the
water boards, each through inlets of at most ``board inlet capacity`` m³/day; each board feeds
its districts, each through an inlet of at most ``district inlet capacity`` m³/day. Capacities
are shared by all uses of the day: what one priority step uses is gone for the next.

Per district and day, in m³ (S storage, bounded by [0, storage_max]):

1. ``available = S_{t-1} + local_inflow``; open-water evaporation takes
   ``evaporation = min(potential evaporation, available)`` (a dry ditch cannot evaporate more).
2. Local water first: what remains serves the district's own demands in priority order, each
   use fully before the next gets any.
3. Shared water then serves the residual demands, one priority step at a time across the
   whole network (below).
4. ``S_t = available - evaporation - local use - spill``, with ``spill = max(·, storage_max)``
   overflow lost downstream. Shared water is used where delivered, it does not fill storage.

Water balance (conserved to rounding): ``local_inflow + inlet = allocated + (S_t - S_{t-1})
+ evaporation + spill``, with ``inlet`` the shared water let into the district.

Shared water, per priority step r (one use): every district i has residual demand ``d_i``
and remaining inlet capacity ``c_i``; board b has remaining capacity ``C_b``, the source
``S`` left. Shortage is shared in proportion to residual demand (water-filling): a board
fraction ``g_b`` solves ``Σ_{i∈b} min(g_b·d_i, c_i) = C_b`` where the board inlet is the
bottleneck (``g_b = 1`` elsewhere), the national fraction ``f`` solves
``Σ_i min(f·d_i, c_i, g_b·d_i) = S`` where the source is (``f = 1`` elsewhere), and district i
receives ``min(f·d_i, g_b·d_i, c_i)``. Both are concave piecewise-linear equations, solved
exactly by Newton's method from below (it moves from segment to segment and lands on the
root of the last one), every board at once, in one pass over the districts with residual
demand per Newton step. Step r+1 only gets what step r left; a short use keeps the code of
what limited it (:data:`LIMITS`).

On a day the source binds, the fraction ``f`` of each step is all the water boards have in
common: given the fractions of a run of the whole network (``source_fraction``), a water
board's districts allocated on their own get exactly what they got in that run. That is how
:mod:`models.allocation.board_split` runs a national pass first and then the water boards in parallel.

The day loop is a compiled kernel (:mod:`models.jit`): a national day of 10,000 districts and
12 steps takes about 2 ms. ``tests/test_allocation_reference.py`` keeps the first, numpy
implementation and holds the kernel to its results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from models.allocation.demand import DemandModel, local_water_arrays


def running_deficit(precipitation_mm: np.ndarray, evaporation_mm: np.ndarray, initial_mm=0.0) -> np.ndarray:
    """Running potential precipitation deficit D (mm), ``D_t = max(D_{t-1} + E_t - P_t, 0)``."""
    deficit = np.empty(np.shape(precipitation_mm))
    d = np.broadcast_to(np.asarray(initial_mm, dtype=float), deficit.shape[1:]).copy()
    for t in range(deficit.shape[0]):
        d = np.maximum(d + evaporation_mm[t] - precipitation_mm[t], 0.0)
        deficit[t] = d
    return deficit

from models.jit import kernel
from models.allocation.verdringingsreeks import PriorityOrder

#: Codes of the ``limit`` variable: what kept a short use from its demand.
LIMITS = {
    0: "none",
    1: "source",
    2: "water-board inlet capacity",
    3: "district inlet capacity",
    4: "own storage",
}
NONE, SOURCE, BOARD_INLET, DISTRICT_INLET, OWN_STORAGE = range(5)

#: Days allocated at once by :func:`allocate_in_chunks`: enough to keep the kernel busy, few
#: enough that the (day, district, use) arrays of a national run stay small (8 days × 10,000
#: districts × 12 uses × 8 B ≈ 8 MB).
DAYS_PER_CHUNK = 8
_NEWTON_MAX_ITERATIONS = 200
# Rows of the kernel's work arrays, one value per water board (the source's group uses column 0).
_W_BOARD_TOTAL, _W_BOARD_CAP, _W_USED, _W_BOARD_REACH, _W_G, _W_SUM, _W_VALUE, _W_SLOPE, _W_TARGET, _W_F = range(10)
_W_ROWS = 10
_F_BOARD_BOUND, _F_TODO, _F_NATION = range(3)
_F_ROWS = 3
_RELATIVE_TOLERANCE = 1e-13


@dataclass(frozen=True)
class Network:
    """Districts under water boards under one national source; capacities in m³/day."""

    districts: tuple[str, ...]
    boards: tuple[str, ...]
    board_of_district: np.ndarray  # int index into ``boards`` per district
    district_inlet_m3_day: np.ndarray
    board_inlet_m3_day: np.ndarray
    storage_max_m3: np.ndarray
    storage_initial_m3: np.ndarray

    def __post_init__(self) -> None:
        n, b = len(self.districts), len(self.boards)
        for name, values, size in (
            ("board_of_district", self.board_of_district, n),
            ("district_inlet_m3_day", self.district_inlet_m3_day, n),
            ("board_inlet_m3_day", self.board_inlet_m3_day, b),
            ("storage_max_m3", self.storage_max_m3, n),
            ("storage_initial_m3", self.storage_initial_m3, n),
        ):
            if np.shape(values) != (size,):
                raise ValueError(f"network: {name} must have shape ({size},), got {np.shape(values)}")
            if name != "board_of_district" and (~np.isfinite(values) | (np.asarray(values) < 0)).any():
                raise ValueError(f"network: {name} must be finite and >= 0")
        if n and (self.board_of_district.min() < 0 or self.board_of_district.max() >= b):
            raise ValueError("network: board_of_district points outside the list of boards")

    @classmethod
    def from_tables(cls, districts: pd.DataFrame, boards: pd.DataFrame) -> Network:
        """From :func:`models.allocation.demand.district_table` and a table
        ``water_board, inlet_capacity_m3_day``."""
        for name in ("water_board", "inlet_capacity_m3_day"):
            if name not in boards.columns:
                raise ValueError(f"boards: missing column {name!r}; need water_board, inlet_capacity_m3_day")
        board_ids = boards["water_board"].astype(str).tolist()
        unknown = sorted(set(districts["water_board"]) - set(board_ids))
        if unknown:
            raise ValueError(f"districts: water_board {unknown} not in the boards table {board_ids}")
        position = {b: k for k, b in enumerate(board_ids)}
        return cls(
            districts=tuple(districts.index),
            boards=tuple(board_ids),
            board_of_district=np.array([position[b] for b in districts["water_board"]], dtype=np.intp),
            district_inlet_m3_day=districts["inlet_capacity_m3_day"].to_numpy(float),
            board_inlet_m3_day=boards["inlet_capacity_m3_day"].to_numpy(float),
            storage_max_m3=districts["storage_max_m3"].to_numpy(float),
            storage_initial_m3=districts["storage_initial_m3"].to_numpy(float),
        )


    def part(self, boards) -> tuple[Network, np.ndarray]:
        """The districts of ``boards`` as a network of their own, in this network's order, and
        their positions in this network. Allocated with the ``source_fraction`` of a run of
        this network, the part gets what it got in that run (:func:`allocate_arrays`)."""
        names = [boards] if isinstance(boards, str) else list(boards)
        unknown = sorted(set(names) - set(self.boards))
        if unknown:
            raise ValueError(f"network: no water board {unknown}; boards are {list(self.boards)}")
        keep = np.array([self.boards.index(b) for b in names], dtype=np.intp)
        where = np.flatnonzero(np.isin(self.board_of_district, keep))
        renumber = np.full(len(self.boards), -1, np.intp)
        renumber[keep] = np.arange(len(keep))
        return (
            Network(
                districts=tuple(self.districts[i] for i in where),
                boards=tuple(names),
                board_of_district=renumber[self.board_of_district[where]],
                district_inlet_m3_day=self.district_inlet_m3_day[where],
                board_inlet_m3_day=self.board_inlet_m3_day[keep],
                storage_max_m3=self.storage_max_m3[where],
                storage_initial_m3=self.storage_initial_m3[where],
            ),
            where,
        )


# The kernel: plain loops over districts (models.jit), visiting only those with residual demand.


@kernel
def _fill_fraction(residual, cap, board_of, active, n_active, target, bound, g, demand_sum, value, slope, todo):
    """Board fractions ``g_b`` with ``Σ_{i∈b} min(g_b·residual_i, cap_i) = target_b`` for bound boards.

    Requires ``Σ min(residual, cap) > target`` where ``bound``. Newton's method on this
    concave, piecewise-linear function, started from the lower bound ``target / Σ residual``,
    never overshoots and reaches the exact root after crossing a few breakpoints. Only the
    districts listed in ``active[:n_active]`` (those with residual demand) take part.
    ``demand_sum``, ``value``, ``slope``, ``todo`` are work arrays, one value per group.
    """
    n_groups = len(target)
    demand_sum[:] = 0.0
    for k in range(n_active):
        i = active[k]
        demand_sum[board_of[i]] += residual[i]
    todo[:] = bound
    for b in range(n_groups):
        g[b] = target[b] / demand_sum[b] if bound[b] else 1.0
    for _ in range(_NEWTON_MAX_ITERATIONS):
        value[:] = 0.0
        slope[:] = 0.0
        for k in range(n_active):
            i = active[k]
            b = board_of[i]
            if todo[b]:
                x = g[b] * residual[i]
                if x < cap[i]:
                    value[b] += x
                    slope[b] += residual[i]
                else:
                    value[b] += cap[i]
        again = False
        for b in range(n_groups):
            if todo[b]:
                gap = target[b] - value[b]
                if gap > _RELATIVE_TOLERANCE * target[b] and slope[b] > 0:
                    g[b] += gap / slope[b]
                    again = True
                else:
                    todo[b] = False
        if not again:
            break


@kernel
def _share_step(residual, cap, board_cap, source, fixed, board_of, given, active, reach, nation, work, flags):
    """Shared water for one priority step: writes ``given``, uses up ``cap`` and ``board_cap``
    in place and returns what the source has left and the national fraction ``f`` (inf where
    the source did not bind).

    ``fixed``, when not NaN, is ``f`` as the national pass found it: the districts passed
    (part of the network) then get exactly what they got in the national pass, and ``source``
    is not used. ``active``, ``reach``, ``work`` and ``flags`` are work arrays (see
    :func:`_allocate_days`); ``nation`` zeros, one per district (the source as one group)."""
    n_boards = len(board_cap)
    n_active = 0
    board_reach, g, used = work[_W_BOARD_REACH, :n_boards], work[_W_G, :n_boards], work[_W_USED, :n_boards]
    board_bound = flags[_F_BOARD_BOUND, :n_boards]
    board_reach[:] = 0.0
    for i in range(len(residual)):
        given[i] = 0.0
        if residual[i] > 0.0:
            active[n_active] = i
            n_active += 1
            reach[i] = min(residual[i], cap[i])
            board_reach[board_of[i]] += reach[i]
    if n_active == 0:
        return source, np.inf
    any_bound = False
    for b in range(n_boards):
        board_bound[b] = board_reach[b] > board_cap[b]
        any_bound |= board_bound[b]
    g[:] = 1.0
    if any_bound:
        _fill_fraction(residual, cap, board_of, active, n_active, board_cap, board_bound, g,
                       work[_W_SUM, :n_boards], work[_W_VALUE, :n_boards], work[_W_SLOPE, :n_boards],
                       flags[_F_TODO, :n_boards])
        for k in range(n_active):
            i = active[k]
            reach[i] = min(cap[i], g[board_of[i]] * residual[i])
    if np.isnan(fixed):
        total = 0.0
        for k in range(n_active):
            total += reach[active[k]]
        source_bound = total > source
        fraction = np.inf
        if source_bound:
            # The national source is one group holding every district, capped by its reach.
            target, bound, f = work[_W_TARGET, :1], flags[_F_NATION, :1], work[_W_F, :1]
            target[0], bound[0] = source, True
            _fill_fraction(residual, reach, nation, active, n_active, target, bound, f,
                           work[_W_SUM, :1], work[_W_VALUE, :1], work[_W_SLOPE, :1], flags[_F_TODO, :1])
            fraction = f[0]
    else:
        fraction = fixed
        source_bound = fixed < np.inf
    if source_bound:
        for k in range(n_active):
            i = active[k]
            given[i] = min(fraction * residual[i], reach[i])
        for b in range(n_boards):
            if board_bound[b]:
                board_bound[b] = fraction >= g[b]  # a board whose fraction the source undercuts is not full
    else:
        for k in range(n_active):
            i = active[k]
            given[i] = reach[i]
    # Exhausted capacities become exactly zero so no later step can take a rounding crumb.
    used[:] = 0.0
    total = 0.0
    for k in range(n_active):
        i = active[k]
        cap[i] = 0.0 if given[i] >= cap[i] else max(cap[i] - given[i], 0.0)
        used[board_of[i]] += given[i]
        total += given[i]
    for b in range(n_boards):
        board_cap[b] = 0.0 if board_bound[b] else max(board_cap[b] - used[b], 0.0)
    return (0.0 if source_bound else max(source - total, 0.0)), fraction


@kernel
def _share_day(residual, supply, board_of, district_cap, board_cap, no_inlet, follow, fraction, given, limit,
               cap, active, reach, nation, work, flags):
    """Shared water for all steps of one day; ``residual``, ``given``, ``limit`` are (use, district).

    Writes the national fraction of each step to ``fraction`` (use,): NaN for all steps on a
    day when every demand fitted every capacity, inf for a step the source did not bind, 0
    once the source is empty. With ``follow`` the fractions are read instead (see
    :func:`_share_step`); the other arguments are work arrays (see :func:`_allocate_days`)."""
    n_use, n = residual.shape
    n_boards = len(board_cap)
    limit[:] = NONE
    if follow:
        fits = n_use == 0 or np.isnan(fraction[0])
    else:
        # Most days nothing binds: one check instead of a step-by-step solve.
        fits = True
        board_total = work[_W_BOARD_TOTAL, :n_boards]
        board_total[:] = 0.0
        national = 0.0
        for i in range(n):
            total = 0.0
            for u in range(n_use):
                total += residual[u, i]
            fits &= total <= district_cap[i]
            board_total[board_of[i]] += total
            national += total
        fits &= national <= supply
        for b in range(n_boards):
            fits &= board_total[b] <= board_cap[b]
    if fits:
        given[:] = residual
        fraction[:] = np.nan
        return
    cap[:] = district_cap
    bcap, source = work[_W_BOARD_CAP, :n_boards], supply
    bcap[:] = board_cap
    for u in range(n_use):
        r, got = residual[u], given[u]
        if (fraction[u] > 0) if follow else (source > 0):
            fixed = fraction[u] if follow else np.nan
            source, f = _share_step(r, cap, bcap, source, fixed, board_of, got, active, reach, nation, work, flags)
            fraction[u] = f
        else:
            got[:] = 0.0
            fraction[u] = 0.0
        for i in range(n):
            if r[i] - got[i] > 1e-9 * r[i]:
                if no_inlet[i]:
                    limit[u, i] = OWN_STORAGE
                elif cap[i] <= 0:
                    limit[u, i] = DISTRICT_INLET
                elif bcap[board_of[i]] <= 0:
                    limit[u, i] = BOARD_INLET
                else:
                    limit[u, i] = SOURCE


@kernel
def _allocate_days(
    demand, local_inflow, evaporation, supply, board_of, district_cap, board_cap, storage_max, storage,
    follow, source_fraction, allocated, allocated_shared, limit, storage_out, inlet, evaporated, spill,
    residual, given, day_limit, cap, active, reach, nation, work, flags,
):
    """The day loop: local water first, then shared water; writes the output arrays and, unless
    ``follow``, the national fractions ``source_fraction`` (time, use).

    The arguments after ``spill`` are work arrays from :func:`kernel_work`, made once for a
    whole run of chunks: a day allocates nothing. (A Dask worker hands freed memory back to
    the system at once, and asking for it again for every step of every day made a member
    half as slow again.)
    """
    n_time, n, n_use = demand.shape
    no_inlet = district_cap <= 0
    storage = storage.copy()
    local = np.empty(n_use)
    for t in range(n_time):
        for i in range(n):
            available = storage[i] + local_inflow[t, i]
            ev = min(evaporation[t, i], available)
            available = available - ev
            before = 0.0  # demand of the higher-priority uses
            used = 0.0
            for u in range(n_use):
                d = demand[t, i, u]
                local[u] = min(max(available - before, 0.0), d)
                before += d
                used += local[u]
                residual[u, i] = d - local[u]
                allocated[t, i, u] = local[u]
            left = max(available - used, 0.0)
            spill[t, i] = max(left - storage_max[i], 0.0)
            storage[i] = left - spill[t, i]
            storage_out[t, i] = storage[i]
            evaporated[t, i] = ev
        _share_day(residual, supply[t], board_of, district_cap, board_cap, no_inlet, follow, source_fraction[t], given, day_limit,
                   cap, active, reach, nation, work, flags)
        for i in range(n):
            total = 0.0
            for u in range(n_use):
                allocated[t, i, u] += given[u, i]
                allocated_shared[t, i, u] = given[u, i]
                limit[t, i, u] = day_limit[u, i]
                total += given[u, i]
            inlet[t, i] = total


def kernel_work(n_district: int, n_use: int, n_boards: int) -> tuple:
    """The work arrays of :func:`_allocate_days`: ``residual``, ``given`` (use, district),
    ``day_limit`` (use, district) int8; ``cap``, ``active``, ``reach`` one value per district;
    ``nation`` zeros (every district in the one group of the source); ``work`` and ``flags``
    one row per board-sized quantity (rows ``_W_*``, ``_F_*``)."""
    n, width = n_district, max(n_boards, 1)
    return (
        np.empty((n_use, n)), np.empty((n_use, n)), np.empty((n_use, n), np.int8),
        np.empty(n), np.empty(n, np.intp), np.empty(n), np.zeros(n, np.intp),
        np.empty((_W_ROWS, width)), np.zeros((_F_ROWS, width), np.bool_),
    )


def _finite_and_not_negative(values: np.ndarray) -> bool:
    # Two reductions instead of a mask of the size of the array: NaN makes the minimum NaN,
    # and a sum of values that are all >= 0 is infinite only if one of them is.
    return values.size == 0 or bool(values.min() >= 0 and np.isfinite(values.sum()))


def allocate_arrays(network: Network, demand, local_inflow, evaporation, supply, storage_initial=None, *,
                    source_fraction=None, out=None, work=None):
    """The allocation on plain arrays; ``demand`` (time, district, use) in priority order.

    Returns a dict of numpy arrays: ``allocated``, ``allocated_shared``, ``limit`` (time,
    district, use), ``storage``, ``inlet``, ``evaporation``, ``spill`` (time, district) and
    ``source_fraction`` (time, use), the national fraction of every step (NaN on days when
    all demand fitted, inf for steps the source did not bind, 0 once it was empty).

    ``source_fraction`` given (from a run of the whole network) allocates ``network`` as a
    part of that network, a water board say: its districts get exactly, bit for bit, what
    they got in the whole run, and ``supply`` is not used (pass None).

    ``out``, such a dict from an earlier call of the same shape, is filled instead of new
    arrays, and ``work`` (:func:`kernel_work`) is used instead of new work arrays: a loop over
    chunks of days then allocates no memory.
    """
    demand = np.asarray(demand, dtype=float)
    n_time, n_district, n_use = demand.shape
    local_inflow = np.asarray(local_inflow, dtype=float)
    evaporation = np.asarray(evaporation, dtype=float)
    follow = source_fraction is not None
    if follow:
        source_fraction = np.array(source_fraction, dtype=float)  # a copy: the kernel writes it back
        if source_fraction.shape != (n_time, n_use):
            raise ValueError(f"source_fraction must have shape (time, use) = {(n_time, n_use)}, got {source_fraction.shape}")
        supply = np.zeros(n_time)
    else:
        source_fraction = np.empty((n_time, n_use))
    supply = np.broadcast_to(np.asarray(supply, dtype=float), (n_time,))
    for name, values, shape in (
        ("local_inflow", local_inflow, (n_time, n_district)),
        ("evaporation", evaporation, (n_time, n_district)),
    ):
        if values.shape != shape:
            raise ValueError(f"{name} must have shape (time, district) = {shape}, got {values.shape}")
    for name, values in (("demand", demand), ("local_inflow", local_inflow), ("evaporation", evaporation)):
        if not _finite_and_not_negative(values):
            raise ValueError(f"{name} must be finite and >= 0 (m3/day)")
    if np.isnan(supply).any() or (supply < 0).any():
        raise ValueError("supply must be >= 0 m3/day (inf: unlimited)")
    if n_district != len(network.districts):
        raise ValueError(f"demand has {n_district} districts, the network {len(network.districts)}")

    if out is None or out["allocated"].shape != demand.shape:
        out = {name: np.empty(demand.shape) for name in ("allocated", "allocated_shared")}
        out["limit"] = np.empty(demand.shape, np.int8)
        for name in ("storage", "inlet", "evaporation", "spill"):
            out[name] = np.empty((n_time, n_district))
    storage = network.storage_initial_m3 if storage_initial is None else storage_initial
    _allocate_days(
        np.ascontiguousarray(demand), np.ascontiguousarray(local_inflow), np.ascontiguousarray(evaporation),
        np.ascontiguousarray(supply), np.asarray(network.board_of_district, np.intp),
        np.asarray(network.district_inlet_m3_day, float), np.asarray(network.board_inlet_m3_day, float),
        np.asarray(network.storage_max_m3, float), np.ascontiguousarray(np.broadcast_to(np.asarray(storage, dtype=float), (n_district,))),
        follow, source_fraction, out["allocated"], out["allocated_shared"], out["limit"], out["storage"], out["inlet"],
        out["evaporation"], out["spill"],
        *(kernel_work(n_district, n_use, len(network.boards)) if work is None else work),
    )
    out["source_fraction"] = source_fraction
    return out


def allocate_in_chunks(network: Network, table: pd.DataFrame, order: PriorityOrder, precipitation_mm,
                       evaporation_mm, supply, *, storage=None, deficit_initial_mm=0.0, source_fraction=None,
                       days_per_chunk: int = DAYS_PER_CHUNK):
    """Demand, local water and allocation from P and E (time, district; mm/day), a few days
    at a time, carrying the storage along; yields ``(days, demand, out)`` per chunk.

    ``days`` is the chunk's slice of the time axis, ``demand`` and ``out`` as for
    :func:`allocate_arrays`; both are buffers the next chunk overwrites, so whatever the
    caller keeps it copies. ``supply`` (m³/day per day) and ``source_fraction`` as for
    :func:`allocate_arrays`.
    """
    p, e = np.asarray(precipitation_mm, dtype=float), np.asarray(evaporation_mm, dtype=float)
    deficit = running_deficit(p, e, deficit_initial_mm)
    inflow, evaporation = local_water_arrays(p, e, table)
    model = DemandModel(table, order)
    demand = out = None
    work = kernel_work(len(network.districts), len(order), len(network.boards))
    for first in range(0, len(p), days_per_chunk):
        days = slice(first, first + days_per_chunk)
        demand = model.demand(p[days], e[days], deficit[days], out=demand)
        if source_fraction is None:
            out = allocate_arrays(network, demand, inflow[days], evaporation[days], supply[days], storage,
                                  out=out, work=work)
        else:
            out = allocate_arrays(network, demand, inflow[days], evaporation[days], None, storage,
                                  source_fraction=source_fraction[days], out=out, work=work)
        storage = out["storage"][-1].copy()  # the buffer is overwritten by the next days
        yield days, demand, out


def allocation_dataset(network: Network, order: PriorityOrder, time, demand, out) -> xr.Dataset:
    """The Dataset of docs/contracts.md section 5 from the arrays of :func:`allocate_arrays`."""
    tdu, td = ("time", "district", "use"), ("time", "district")
    m3 = "m3/day"
    shortage = np.maximum(demand - out["allocated"], 0.0)
    ds = xr.Dataset(
        {
            "demand": (tdu, demand, {"units": m3, "long_name": "water demand"}),
            "allocated": (tdu, out["allocated"], {"units": m3, "long_name": "water allocated (local and shared)"}),
            "allocated_shared": (tdu, out["allocated_shared"], {"units": m3, "long_name": "water allocated from the shared national source"}),
            "shortage": (tdu, shortage, {"units": m3, "long_name": "demand not met"}),
            "limit": (tdu, out["limit"], {"units": "1", "long_name": "what limited a short use", "flag_values": list(LIMITS), "flag_meanings": " ".join(v.replace(" ", "_") for v in LIMITS.values())}),
            "storage": (td, out["storage"], {"units": "m3", "long_name": "storage at the end of the day"}),
            "inlet": (td, out["inlet"], {"units": m3, "long_name": "shared water let into the district"}),
            "evaporation": (td, out["evaporation"], {"units": m3, "long_name": "open-water evaporation (actual)"}),
            "spill": (td, out["spill"], {"units": m3, "long_name": "overflow above storage_max, lost"}),
        },
        coords={
            "time": time,
            "district": list(network.districts),
            "use": list(order.uses),
            "category": ("use", list(order.categories)),
            "water_board": ("district", [network.boards[k] for k in network.board_of_district]),
        },
        attrs={"title": "droogte allocation by the verdringingsreeks"},
    )
    # xarray cannot hold a dimension and a non-index coordinate of one name, so the board
    # dimension is ``board`` while ``water_board`` stays the coordinate on ``district``.
    board_shortage = xr.DataArray(
        np.stack([shortage[:, network.board_of_district == k].sum(axis=1) for k in range(len(network.boards))], axis=1),
        dims=("time", "board", "use"),
        coords={"board": list(network.boards)},
    )
    ds["board_shortage"] = board_shortage.assign_attrs(units=m3, long_name="shortage per water board")
    # numpy's sum: shortage has no NaN, and xarray's NaN-skipping sum copies the whole array.
    ds["national_shortage"] = (("time", "use"), shortage.sum(axis=1), {"units": m3, "long_name": "national shortage"})
    return ds


# The outlook's members and summary as they were before issue 19 (models/allocation/outlook.py
# of the time): each member's weather spread over the districts, the demand and local water
# of the whole horizon made by numpy, a (time, district, use) array of booleans per member,
# summed into the summary one member at a time.

from models.allocation.outlook import ShortageSummary as _TodaySummary  # noqa: E402 - before any patching

FRACTION_BINS = 100


@kernel
def _add_shortage(demand, allocated, short, shortage_m3, demand_m3):
    n_time, n_district, n_use = demand.shape
    for t in range(n_time):
        for i in range(n_district):
            for u in range(n_use):
                d = demand[t, i, u]
                shortage = max(d - allocated[t, i, u], 0.0)
                short[t, i, u] = shortage > 1e-9 * d + 1e-9
                shortage_m3[i, u] += shortage
                demand_m3[i, u] += d


def run_members(items, *, table, network, order, supply, storage, deficit_initial_mm, district_station,
                of_district=None):
    """The members of one task as the outlook ran them before (``of_district`` given: the
    windows are (time, column) arrays)."""
    members = []
    for year, window, _, *own in items:
        member_supply = supply if not own or own[0] is None else own[0]
        p, e = (np.ascontiguousarray(x[:, of_district]) for x in window)
        short = np.empty(p.shape + (len(order),), bool)
        shortage_m3 = np.zeros(short.shape[1:])
        demand_m3 = np.zeros(short.shape[1:])
        for days, demand, out in allocate_in_chunks(network, table, order, p, e, member_supply, storage=storage,
                                                    deficit_initial_mm=deficit_initial_mm):
            _add_shortage(demand, out["allocated"], short[days], shortage_m3, demand_m3)
        members.append({"year": year, "short": short, "shortage_m3": shortage_m3, "demand_m3": demand_m3})
    return members


class ShortageSummary:
    """The summary as it was; :meth:`to_dataset` is today's (only the adding changed)."""

    def __init__(self):
        self.members, self.short_days = [], None

    def add(self, member: dict):
        short = member["short"]
        if self.short_days is None:
            self.short_days = np.zeros(short.shape, np.uint16)
            self.short_any = np.zeros(short.shape[1:], np.uint16)
            self.shortage_sum = np.zeros(short.shape[1:])
            self.histogram = np.zeros(short.shape[1:] + (FRACTION_BINS + 1,), np.uint16)
        self.members.append(member["year"])
        self.short_days += short
        self.short_any += short.any(axis=0)
        self.shortage_sum += member["shortage_m3"]
        fraction = np.divide(member["shortage_m3"], member["demand_m3"], out=np.zeros_like(member["shortage_m3"]), where=member["demand_m3"] > 0)
        bins = np.where(short.any(axis=0), np.clip(np.ceil(fraction * FRACTION_BINS), 1, FRACTION_BINS), 0)
        flat = self.histogram.reshape(-1, FRACTION_BINS + 1)
        flat[np.arange(flat.shape[0]), bins.ravel().astype(np.intp)] += 1
        return self

    def to_dataset(self, *args):
        # today's summary counts (time, use, district)
        today = _TodaySummary(members=self.members, short_days=self.short_days.transpose(0, 2, 1), short_any=self.short_any,
                      shortage_sum=self.shortage_sum, histogram=self.histogram)
        return today.to_dataset(*args)


def combine_members(summary: ShortageSummary, members: list[dict]) -> ShortageSummary:
    for member in members:
        summary.add(member)
    return summary
