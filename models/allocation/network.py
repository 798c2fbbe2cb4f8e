"""Water balance and priority allocation over the network national source → water boards → districts.

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
:mod:`models.allocation.board_split` can run the water boards apart after a national pass.

The day loop is a compiled kernel (:mod:`models.jit`). A day makes one pass over all
districts: local water, the check of the day's demand, and per use a list of the districts
that still lack water. Then, per priority step, it works only on the districts listed: one
pass gives each of them min(residual demand, inlet capacity left) and takes the sums that
show whether a board inlet or the source binds; only a step where one does (4 in 100 in the
benchmark's dry season) solves for the fractions and makes a second pass that gives again
from the capacities it kept. What the step gave goes into the day's outputs
(:func:`_write_step`), or, in an outlook member, straight into its counts of shortage
(:mod:`models.allocation.member`, which shares the step and writes no allocation). Every sum is taken in
ascending district order, as the first compiled kernel took it, so the results are the same
bit for bit (``tests/test_allocation_kernel.py`` and ``benchmarks/bench_allocation.py`` check
them against ``benchmarks/allocation_previous.py``; the benchmark gives the time per national
day and the ratio to a pass over the same arrays at memory speed).
``tests/test_allocation_reference.py`` keeps the first, numpy implementation and holds the
kernel to its results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from models.allocation.demand import DemandModel, check_weather
from models.jit import kernel, kernel_inline
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
_W_BOARD_TOTAL, _W_BOARD_CAP, _W_USED, _W_BOARD_REACH, _W_G, _W_SUM, _W_VALUE, _W_SLOPE = range(8)
_W_ROWS = 8
_F_BOARD_BOUND, _F_TODO = range(2)
_F_ROWS = 2
_RELATIVE_TOLERANCE = 1e-13
_NEGATIVE_ZERO_BITS, _INFINITY_BITS = np.uint64(0x8000000000000000), np.uint64(0x7FF0000000000000)
#: What :func:`_allocate_days` returns: 0 when all went well, otherwise the position of the
#: input that was not finite and >= 0 in this tuple plus one (the kernel stops at that day).
_CHECKED_INPUTS = ("demand", "local_inflow", "evaporation")


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
        # tolist() first: iterating a pandas 3 string column element by element is slow
        return cls(
            districts=tuple(districts.index.tolist()),
            boards=tuple(board_ids),
            board_of_district=np.array([position[b] for b in districts["water_board"].tolist()], dtype=np.intp),
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


# The kernel: plain loops over districts (models.jit). A priority step keeps the capacities
# its first pass uses up and what each district gets in contiguous arrays (``_A_*`` rows of
# ``active_values``), and a step that needs a solve gathers the reaches and boards of its
# districts there too: the Newton steps read them without indirection. Every sum is taken in ascending district order, per board
# and over the nation, so the results are bit for bit those of the first compiled kernel
# (``benchmarks/allocation_previous.py``, checked by ``tests/test_allocation_kernel.py`` and
# ``benchmarks/bench_allocation.py``).
_A_CAP, _A_REACH, _A_GOT = range(3)
_A_ROWS = 3
# District and board numbers the kernel stores and reads back as indices are unsigned: numba
# then leaves out the code for negative indices (counted from the end), which made several
# instructions more per district and use in the kernel's inner loops.
_INDEX = np.uint32


@kernel
def _board_fractions(residual, cap, active_board, n_active, target, bound, g, demand_sum, value, slope, todo):
    """Board fractions ``g_b`` with ``Σ_{i∈b} min(g_b·residual_i, cap_i) = target_b`` for bound boards.

    Requires ``Σ min(residual, cap) > target`` where ``bound``. Newton's method on this
    concave, piecewise-linear function, started from the lower bound ``target / Σ residual``
    (``demand_sum``, per board), never overshoots and reaches the exact root after crossing a
    few breakpoints. ``residual`` and ``cap`` are the residual demand and capacity of the
    districts with residual demand (contiguous), ``active_board`` their boards;
    ``value``, ``slope``, ``todo`` are work arrays, one value per board.
    """
    n_groups = len(target)
    todo[:] = bound
    for b in range(n_groups):
        g[b] = target[b] / demand_sum[b] if bound[b] else 1.0
    for _ in range(_NEWTON_MAX_ITERATIONS):
        value[:] = 0.0
        slope[:] = 0.0
        for k in range(n_active):
            b = active_board[k]
            if todo[b]:
                x = g[b] * residual[k]
                below = x < cap[k]
                value[b] += x if below else cap[k]
                slope[b] += residual[k] if below else 0.0
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
def _national_fraction(residual, reach, n_active, source, demand_sum):
    """The national fraction ``f`` with ``Σ_i min(f·residual_i, reach_i) = source`` (requires
    ``Σ reach > source``): Newton's method from below as in :func:`_board_fractions`, the
    source being one group holding every district with residual demand."""
    f = source / demand_sum
    for _ in range(_NEWTON_MAX_ITERATIONS):
        value = 0.0
        slope = 0.0
        for k in range(n_active):
            # Without branches (which way each district goes is a coin toss for the
            # processor): adding min(x, reach) and adding 0.0 give the same sums bit for bit.
            x = f * residual[k]
            below = x < reach[k]
            value += x if below else reach[k]
            slope += residual[k] if below else 0.0
        gap = source - value
        if gap > _RELATIVE_TOLERANCE * source and slope > 0:
            f += gap / slope
        else:
            break
    return f


@kernel_inline
def _limit_code(residual, given, district_cap, cap_left, board_cap_left):
    """What kept a use short after its step (:data:`LIMITS`), ``NONE`` when it got its
    ``residual`` (to 1e-9). Without branches: whether a use is short is a coin toss for the
    processor, and a missed guess costs more than the few comparisons."""
    code = SOURCE
    code = BOARD_INLET if board_cap_left <= 0 else code
    code = DISTRICT_INLET if cap_left <= 0 else code
    code = OWN_STORAGE if district_cap <= 0 else code
    return code if residual - given > 1e-9 * residual else NONE


@kernel
def _share_step(active, residual, n_active, cap, board_cap, source, fixed, board_of, active_values, active_board,
                work, flags):
    """Shared water for one priority step of a day: writes what each listed district gets to
    ``active_values[_A_GOT, :n_active]``, uses up ``cap`` and ``board_cap`` in place and
    returns what the source has left and the national fraction ``f`` (inf where the source
    did not bind). What is given is written to the outputs by the caller: the day's
    allocation (:func:`_write_step`) or an outlook member's count of shortages
    (:mod:`models.allocation.member`).

    ``active[:n_active]`` are the districts with residual demand in this step, in ascending
    order, ``residual`` their residual demand. ``fixed``, when not NaN, is ``f`` as the
    national pass found it: the districts passed (part of the network) then get exactly what
    they got in the national pass, and ``source`` is not used. ``active_values``,
    ``active_board``, ``work`` and ``flags`` are work arrays (see :func:`kernel_work`)."""
    if n_active == 0:
        return source, np.inf
    n_boards = len(board_cap)
    board_reach, g, used = work[_W_BOARD_REACH, :n_boards], work[_W_G, :n_boards], work[_W_USED, :n_boards]
    board_sum = work[_W_SUM, :n_boards]
    board_bound = flags[_F_BOARD_BOUND, :n_boards]
    a_cap, a_reach, a_got = active_values[_A_CAP], active_values[_A_REACH], active_values[_A_GOT]
    # Most steps bind neither a board inlet nor the source (in the benchmark's dry season 96
    # in 100 do not): every district then gets min(residual, capacity). The first pass over
    # the districts takes that guess and every sum the solves need; where a solve is needed
    # after all, the final pass below gives again from the capacities kept (the residual
    # demand is contiguous in its list already). A water board following a national fraction
    # below inf is never guessed.
    guess = np.isnan(fixed) or fixed == np.inf
    board_reach[:] = 0.0
    board_sum[:] = 0.0
    national_sum = 0.0  # Σ residual, the national solve's starting point
    total = 0.0  # Σ reach
    for k in range(n_active):
        i = active[k]
        b = board_of[i]
        r = residual[k]
        c = cap[i]
        reach = min(r, c)
        a_cap[k] = c
        board_reach[b] += reach
        board_sum[b] += r
        national_sum += r
        total += reach
        if guess:
            a_got[k] = reach
            cap[i] = 0.0 if reach >= c else max(c - reach, 0.0)
    any_bound = False
    for b in range(n_boards):
        board_bound[b] = board_reach[b] > board_cap[b]
        any_bound |= board_bound[b]
    if guess and not any_bound and not (np.isnan(fixed) and total > source):
        # As guessed: what each board used is its reach, summed in the same order.
        for b in range(n_boards):
            board_cap[b] = max(board_cap[b] - board_reach[b], 0.0)
        return max(source - total, 0.0), np.inf
    # The solves and the final pass read contiguous copies.
    for k in range(n_active):
        active_board[k] = board_of[active[k]]
        a_reach[k] = min(residual[k], a_cap[k])
    g[:] = 1.0
    if any_bound:
        _board_fractions(residual, a_cap, active_board, n_active, board_cap, board_bound, g, board_sum,
                         work[_W_VALUE, :n_boards], work[_W_SLOPE, :n_boards], flags[_F_TODO, :n_boards])
        total = 0.0
        for k in range(n_active):
            reach = min(a_cap[k], g[active_board[k]] * residual[k])
            a_reach[k] = reach
            total += reach
    if np.isnan(fixed):
        source_bound = total > source
        fraction = np.inf
        if source_bound:
            fraction = _national_fraction(residual, a_reach, n_active, source, national_sum)
    else:
        fraction = fixed
        source_bound = fixed < np.inf
    # Exhausted capacities become exactly zero so no later step can take a rounding crumb.
    used[:] = 0.0
    total = 0.0
    for k in range(n_active):
        r = residual[k]
        got = min(fraction * r, a_reach[k]) if source_bound else a_reach[k]
        a_got[k] = got
        c = a_cap[k]
        cap[active[k]] = 0.0 if got >= c else max(c - got, 0.0)
        used[active_board[k]] += got
        total += got
    if source_bound:
        for b in range(n_boards):
            if board_bound[b]:
                board_bound[b] = fraction >= g[b]  # a board whose fraction the source undercuts is not full
    for b in range(n_boards):
        board_cap[b] = 0.0 if board_bound[b] else max(board_cap[b] - used[b], 0.0)
    return (0.0 if source_bound else max(source - total, 0.0)), fraction


@kernel_inline
def _write_step(u, active, residual, n_active, got, cap, board_cap, board_of, district_cap, allocated,
                allocated_shared, inlet, limit):
    """What a priority step ``u`` gave (``got``, per listed district) into the day's outputs:
    added to ``allocated`` (which holds the local water) and ``inlet``, written to
    ``allocated_shared``, and the ``limit`` code of every listed district from the capacities
    the step left (:func:`_limit_code`, :func:`_board_inlet_limits`)."""
    for k in range(n_active):
        i = active[k]
        given = got[k]
        allocated[i, u] += given
        allocated_shared[i, u] = given
        inlet[i] += given
        limit[i, u] = _limit_code(residual[k], given, district_cap[i], cap[i], 1.0)
    _board_inlet_limits(u, active, n_active, board_of, board_cap, limit)


@kernel_inline
def _board_inlet_limits(u, active, n_active, board_of, board_cap, limit):
    """A short use whose board inlet the step exhausted was limited by that inlet (the step
    wrote ``SOURCE``): rare, so the pass is made only when a board inlet is exhausted."""
    exhausted = False
    for b in range(len(board_cap)):
        exhausted |= board_cap[b] <= 0
    if exhausted:
        for k in range(n_active):
            i = active[k]
            if limit[i, u] == SOURCE and board_cap[board_of[i]] <= 0:
                limit[i, u] = BOARD_INLET


@kernel_inline
def _finite_and_not_negative_day(values):
    """Whether every value of ``values`` (1-d, float64) is finite and >= 0, -0.0 included.

    On the bits: a float that is >= 0 and finite is below the bits of +inf as an unsigned
    integer (-0.0 counted as 0.0); the largest of them is a reduction the compiler vectorizes,
    where a count of float comparisons ran four times slower."""
    bits = values.view(np.uint64)
    top = np.uint64(0)
    for x in bits:
        top = max(top, np.uint64(0) if x == _NEGATIVE_ZERO_BITS else x)
    return top < _INFINITY_BITS


@kernel
def _allocate_days(
    demand, local_inflow, evaporation, supply, board_of, district_cap, board_cap, storage_max, storage,
    follow, source_fraction, allocated, allocated_shared, limit, storage_out, inlet, evaporated, spill,
    active, residual, n_active, cap, active_values, active_board, work, flags,
):
    """The day loop: local water first, then shared water; writes the output arrays and, unless
    ``follow``, the national fractions ``source_fraction`` (time, use).

    Each day makes one pass over all districts (local water; what each use still lacks is
    listed per use in ``active``, ``residual``, ``n_active``) and then works per priority
    step on the districts listed (:func:`_share_step`, then :func:`_write_step`).
    On a day when all residual demand fits every capacity, the listed get it all in priority
    order and no step is solved. The national fraction
    of each step goes to ``source_fraction``: NaN for all steps on a day when every demand
    fitted every capacity, inf for a step the source did not bind, 0 once the source is
    empty; with ``follow`` the fractions are read instead (see :func:`_share_step`).

    Returns 0, or where ``demand``, ``local_inflow`` or ``evaporation`` has a value that is
    not finite and >= 0, the position of that input in :data:`_CHECKED_INPUTS` plus one: the
    kernel checks each day's inputs before it uses them and stops at the first bad day.

    The arguments after ``spill`` are work arrays from :func:`kernel_work`, made once for a
    whole run of chunks: a day allocates nothing. (A Dask worker hands freed memory back to
    the system at once, and asking for it again for every step of every day made a member
    half as slow again.)
    """
    n_time, n, n_use = demand.shape
    n_boards = len(board_cap)
    storage = storage.copy()
    board_total = work[_W_BOARD_TOTAL, :n_boards]
    bcap = work[_W_BOARD_CAP, :n_boards]
    for t in range(n_time):
        # The inputs of the day are checked before the day's shared water is computed: a bad
        # value stops the kernel before it is used. The local water of the day is checked
        # here; the demand on the way through it (below).
        if not _finite_and_not_negative_day(local_inflow[t]):
            return 2
        if not _finite_and_not_negative_day(evaporation[t]):
            return 3
        # Local water, and on the way whether all residual demand fits every capacity (most
        # days in a wet spell: then no step needs solving).
        fits = True
        board_total[:] = 0.0
        national = 0.0
        n_active[:] = 0
        demand_ok = True
        for i in range(n):
            available = storage[i] + local_inflow[t, i]
            ev = min(evaporation[t, i], available)
            available = available - ev
            before = 0.0  # demand of the higher-priority uses
            used = 0.0
            total = 0.0
            # The demand check: a negative demand is the smallest local use (it gets all it
            # asks), and a NaN or infinite one makes the sum of all demands not finite.
            lowest = 0.0
            for u in range(n_use):
                d = demand[t, i, u]
                local = min(max(available - before, 0.0), d)
                lowest = min(lowest, local)
                before += d
                used += local
                rest = d - local
                # Listed without a branch (whether a use lacks water is a coin toss for the
                # processor): the slot is always written, and kept only where rest > 0.
                k = n_active[u]
                active[u, k] = i
                residual[u, k] = rest
                n_active[u] = k + (rest > 0.0)
                total += rest
                allocated[t, i, u] = local
                allocated_shared[t, i, u] = 0.0
                limit[t, i, u] = NONE
            demand_ok &= (lowest >= 0.0) & (before < np.inf)
            fits &= total <= district_cap[i]
            board_total[board_of[i]] += total
            national += total
            left = max(available - used, 0.0)
            s = max(left - storage_max[i], 0.0)
            spill[t, i] = s
            storage[i] = left - s
            storage_out[t, i] = storage[i]
            evaporated[t, i] = ev
            inlet[t, i] = 0.0
        if not demand_ok:
            return 1
        fits &= national <= supply[t]
        for b in range(n_boards):
            fits &= board_total[b] <= board_cap[b]
        fraction = source_fraction[t]
        if follow:
            fits = n_use == 0 or np.isnan(fraction[0])
        if fits:
            # Everything asked for is let in: the inlet sums the uses in priority order.
            for u in range(n_use):
                for k in range(n_active[u]):
                    i, r = active[u, k], residual[u, k]
                    allocated[t, i, u] += r
                    allocated_shared[t, i, u] = r
                    inlet[t, i] += r
            fraction[:] = np.nan
            continue
        cap[:] = district_cap
        bcap[:] = board_cap
        source = supply[t]
        for u in range(n_use):
            listed, rest = active[u], residual[u]
            if (fraction[u] > 0) if follow else (source > 0):
                fixed = fraction[u] if follow else np.nan
                source, f = _share_step(listed, rest, n_active[u], cap, bcap, source, fixed, board_of,
                                        active_values, active_board, work, flags)
                _write_step(u, listed, rest, n_active[u], active_values[_A_GOT], cap, bcap, board_of, district_cap,
                            allocated[t], allocated_shared[t], inlet[t], limit[t])
                fraction[u] = f
            else:
                # No water for this step: every listed district is short of all its residual demand.
                fraction[u] = 0.0
                for k in range(n_active[u]):
                    i = listed[k]
                    limit[t, i, u] = _limit_code(rest[k], 0.0, district_cap[i], cap[i], bcap[board_of[i]])
    return 0


@kernel
def _own_water_days(demand, local_inflow, evaporation, storage_max, storage, storage_out):
    """Storage (m³) at the end of each day (``storage_out``, time × district) from ``storage``
    at the start: the first pass of :func:`_allocate_days` without the shared water, float
    operation for float operation, so the same bits. Storage never depends on the shared
    water (it is used where delivered, it does not fill storage), so the storage of a whole
    season is known without allocating it: the outlook can start from it while the national
    pass is still running. ``tests/test_board_split.py`` holds it to the kernel's storage."""
    n_time, n, n_use = demand.shape
    for t in range(n_time):
        for i in range(n):
            available = storage[i] + local_inflow[t, i]
            ev = min(evaporation[t, i], available)
            available = available - ev
            before = 0.0
            used = 0.0
            for u in range(n_use):
                d = demand[t, i, u]
                local = min(max(available - before, 0.0), d)
                before += d
                used += local
            left = max(available - used, 0.0)
            s = max(left - storage_max[i], 0.0)
            storage[i] = left - s
            storage_out[t, i] = storage[i]


def storage_in_chunks(network: Network, table: pd.DataFrame, order: PriorityOrder, precipitation_mm,
                      evaporation_mm, *, storage=None, deficit_initial_mm=0.0,
                      days_per_chunk: int = DAYS_PER_CHUNK) -> np.ndarray:
    """Storage at the end of each day (time, district), m³, as :func:`allocate_in_chunks`
    would give it, without allocating: P and E (time, district; mm/day) as there."""
    p = np.ascontiguousarray(precipitation_mm, dtype=float)
    e = np.ascontiguousarray(evaporation_mm, dtype=float)
    n_time, n, n_use = len(p), len(network.districts), len(order)
    check_weather(p, e)
    state = np.array(np.broadcast_to(np.asarray(network.storage_initial_m3 if storage is None else storage,
                                                dtype=float), (n,)))
    deficit = np.array(np.broadcast_to(np.asarray(deficit_initial_mm, dtype=float), (n,)))
    model = DemandModel(table, order)
    column_of = np.arange(n, dtype=np.intp)
    storage_max = np.asarray(network.storage_max_m3, float)
    demand, inflow, evaporation = np.empty((days_per_chunk, n, n_use)), np.empty((days_per_chunk, n)), np.empty((days_per_chunk, n))
    out = np.empty((n_time, n))
    for first in range(0, n_time, days_per_chunk):
        length = min(days_per_chunk, n_time - first)
        model.inputs(p, e, column_of, first, deficit, demand[:length], inflow[:length], evaporation[:length],
                     constants_written=first > 0)
        _own_water_days(demand[:length], inflow[:length], evaporation[:length], storage_max, state,
                        out[first:first + length])
    return out


def kernel_work(n_district: int, n_use: int, n_boards: int) -> tuple:
    """The work arrays of :func:`_allocate_days`: per use the districts with residual demand
    (``active`` (use, district) unsigned, ``residual`` their residual demand, ``n_active``
    how many); ``cap`` one value per district; ``active_values`` (rows ``_A_*``: capacity,
    reach, allocated and inlet of the districts of one step as the step found them) and
    ``active_board`` (their boards);
    ``work`` and ``flags`` one row per board-sized quantity (rows ``_W_*``, ``_F_*``)."""
    n, width = n_district, max(n_boards, 1)
    return (
        np.empty((n_use, n), _INDEX), np.empty((n_use, n)), np.zeros(n_use, np.uint64),
        np.empty(n), np.empty((_A_ROWS, n)), np.empty(n, _INDEX),
        np.empty((_W_ROWS, width)), np.zeros((_F_ROWS, width), np.bool_),
    )


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

    Raises ValueError where an input is out of range. ``demand``, ``local_inflow`` and
    ``evaporation`` (finite, >= 0) are checked by the kernel as it goes: after that error
    ``out`` holds the days before the bad one and nothing to use.
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
    # demand, local_inflow and evaporation are checked by the kernel, day by day as it reads
    # them (a separate check here read the 176 MB of a member's demand twice more).
    bad = _allocate_days(
        np.ascontiguousarray(demand), np.ascontiguousarray(local_inflow), np.ascontiguousarray(evaporation),
        np.ascontiguousarray(supply), np.asarray(network.board_of_district, _INDEX),
        np.asarray(network.district_inlet_m3_day, float), np.asarray(network.board_inlet_m3_day, float),
        np.asarray(network.storage_max_m3, float), np.ascontiguousarray(np.broadcast_to(np.asarray(storage, dtype=float), (n_district,))),
        follow, source_fraction, out["allocated"], out["allocated_shared"], out["limit"], out["storage"], out["inlet"],
        out["evaporation"], out["spill"],
        *(kernel_work(n_district, n_use, len(network.boards)) if work is None else work),
    )
    if bad:
        raise ValueError(f"{_CHECKED_INPUTS[bad - 1]} must be finite and >= 0 (m3/day)")
    out["source_fraction"] = source_fraction
    return out


def _allocate_prepared(network_arrays: tuple, demand, local_inflow, evaporation, supply, storage, follow: bool,
                       source_fraction, out: dict, work: tuple) -> None:
    """:func:`allocate_arrays` without its conversions and shape checks: the kernel on inputs
    that :func:`allocate_in_chunks` made itself (contiguous float64 of the right shapes).
    ``network_arrays`` as from :func:`_network_arrays`."""
    bad = _allocate_days(demand, local_inflow, evaporation, supply, *network_arrays, storage, follow, source_fraction,
                         out["allocated"], out["allocated_shared"], out["limit"], out["storage"], out["inlet"],
                         out["evaporation"], out["spill"], *work)
    if bad:  # the kernel checks each day's inputs as it reads them
        raise ValueError(f"{_CHECKED_INPUTS[bad - 1]} must be finite and >= 0 (m3/day)")


def _network_arrays(network: Network) -> tuple:
    """Board of each district, district and board inlet capacities and storage_max as the
    kernel reads them (in the order of :func:`_allocate_days`'s arguments)."""
    # Board numbers in the kernel's own index type (that of its work arrays): the same compiled
    # kernel as allocate_arrays calls, not a second one for another integer type.
    index = kernel_work(1, 1, 1)[0].dtype
    return (np.asarray(network.board_of_district, index), np.asarray(network.district_inlet_m3_day, float),
            np.asarray(network.board_inlet_m3_day, float), np.asarray(network.storage_max_m3, float))


#: The arrays :func:`allocate_in_chunks` writes for every day: (time, district, use) and (time, district).
CHUNK_ARRAYS_3D = ("demand", "allocated", "allocated_shared", "limit")
CHUNK_ARRAYS_2D = ("storage", "inlet", "evaporation", "spill")


def allocate_in_chunks(network: Network, table: pd.DataFrame, order: PriorityOrder, precipitation_mm,
                       evaporation_mm, supply, *, storage=None, deficit_initial_mm=0.0, source_fraction=None,
                       days_per_chunk: int = DAYS_PER_CHUNK, buffers: dict | None = None,
                       column_of: np.ndarray | None = None, into: dict | None = None):
    """Demand, local water and allocation from P and E (time, district; mm/day), a few days
    at a time, carrying the storage and the running deficit along; yields
    ``(days, demand, out)`` per chunk.

    ``days`` is the chunk's slice of the time axis, ``demand`` and ``out`` as for
    :func:`allocate_arrays`; both are buffers the next chunk overwrites, so whatever the
    caller keeps it copies. ``supply`` (m³/day per day) and ``source_fraction`` as for
    :func:`allocate_arrays`. ``buffers``, a dict kept by the caller, carries the chunk buffers
    and work arrays over to the next call on a network of the same size (the members of one
    outlook task), so a run of members makes them once.

    ``column_of``: P and E are given per weather column (time, column; the stations), district
    i taking column ``column_of[i]``; each chunk reads them straight from there, so no
    (time, district) weather is made. ``into``: whole-horizon arrays to write every chunk into
    instead of buffers (``demand``, ``allocated``, ``allocated_shared``, ``limit`` (time,
    district, use), ``storage``, ``inlet``, ``evaporation``, ``spill`` (time, district),
    ``source_fraction`` (time, use)); ``demand`` and ``out`` are then views of them.

    P and E are checked once here (finite, >= 0), the chunks' own inputs are not checked
    again: they are made here from checked values (:meth:`DemandModel.inputs`).
    """
    p = np.ascontiguousarray(precipitation_mm, dtype=float)
    e = np.ascontiguousarray(evaporation_mm, dtype=float)
    n_time, n, n_use = len(p), len(network.districts), len(order)
    column_of = np.arange(n, dtype=np.intp) if column_of is None else np.asarray(column_of, np.intp)
    if p.ndim != 2 or p.shape != e.shape or column_of.shape != (n,) or \
            (n and (column_of.min() < 0 or column_of.max() >= p.shape[1])):
        raise ValueError(f"precipitation_mm and evaporation_mm must be (time, column) arrays of one shape, got "
                         f"{p.shape} and {e.shape}, with a column for each of the {n} districts")
    check_weather(p, e)
    follow = source_fraction is not None
    if follow:
        source_fraction = np.asarray(source_fraction, dtype=float)
        if source_fraction.shape != (n_time, n_use):
            raise ValueError(f"source_fraction must have shape (time, use) = {(n_time, n_use)}, got {source_fraction.shape}")
        supply = np.zeros(n_time)
    else:
        supply = np.ascontiguousarray(np.broadcast_to(np.asarray(supply, dtype=float), (n_time,)))
        if np.isnan(supply).any() or (supply < 0).any():
            raise ValueError("supply must be >= 0 m3/day (inf: unlimited)")
    state = np.array(np.broadcast_to(np.asarray(network.storage_initial_m3 if storage is None else storage,
                                                dtype=float), (n,)))
    deficit = np.array(np.broadcast_to(np.asarray(deficit_initial_mm, dtype=float), (n,)))
    model = buffers.get("model") if buffers is not None else None
    if model is None or model.table is not table or model.order is not order:
        model = DemandModel(table, order)
    arrays = _network_arrays(network)
    buffers = {} if buffers is None else buffers
    size = (n, n_use, len(network.boards), days_per_chunk)
    if buffers.get("size") != size:
        buffers.clear()
        buffers.update(size=size, work=kernel_work(*size[:3]), chunk=None,
                       inputs=(np.empty((days_per_chunk, n)), np.empty((days_per_chunk, n))))
    if buffers.get("model") is not model:
        buffers.update(model=model, constants=False)  # the demand buffer holds no constant uses yet
    if into is None and buffers["chunk"] is None:
        chunk = {name: np.empty((days_per_chunk, n, n_use)) for name in CHUNK_ARRAYS_3D if name != "limit"}
        chunk["limit"] = np.empty((days_per_chunk, n, n_use), np.int8)
        chunk.update({name: np.empty((days_per_chunk, n)) for name in CHUNK_ARRAYS_2D})
        chunk["source_fraction"] = np.empty((days_per_chunk, n_use))
        buffers["chunk"] = chunk
    work = buffers["work"]
    inflow, evaporation = buffers["inputs"]
    whole, outputs = (buffers["chunk"] if into is None else into), (*CHUNK_ARRAYS_2D, *CHUNK_ARRAYS_3D[1:])
    out = None
    for first in range(0, n_time, days_per_chunk):
        days = slice(first, min(first + days_per_chunk, n_time))
        length = days.stop - first
        # A chunk's arrays are views of the whole-horizon arrays, or of the buffers (the same
        # views for every chunk of full length: one day a chunk makes many chunks).
        if into is not None or out is None or length != days_per_chunk:
            part = days if into is not None else slice(0, length)
            out = {name: whole[name][part] for name in outputs}
            demand, fraction = whole["demand"][part], whole["source_fraction"][part]
            out["source_fraction"] = fraction
            if length != days_per_chunk:
                inflow, evaporation = inflow[:length], evaporation[:length]
        if follow:
            fraction[:] = source_fraction[days]  # the kernel writes it back
        # A buffer keeps the constant uses' demand from day to day and member to member.
        model.inputs(p, e, column_of, first, deficit, demand, inflow, evaporation,
                     constants_written=into is None and buffers["constants"])
        buffers["constants"] = into is None and (buffers["constants"] or length == days_per_chunk)
        _allocate_prepared(arrays, demand, inflow, evaporation, supply[days], state, follow, fraction, out, work)
        state[:] = out["storage"][length - 1]
        yield days, demand, out


def allocation_dataset(network: Network, order: PriorityOrder, time, demand, out, *, shortage=None,
                       board_shortage=None) -> xr.Dataset:
    """The Dataset of docs/contracts.md section 5 from the arrays of :func:`allocate_arrays`.

    ``shortage`` (time, district, use) and ``board_shortage`` (time, board, use), m³/day, when
    the caller already has them (:mod:`models.allocation.board_split` takes them while it puts
    the water boards together); otherwise they are computed here."""
    tdu, td = ("time", "district", "use"), ("time", "district")
    m3 = "m3/day"
    if shortage is None:
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
    if board_shortage is None:
        board_shortage = np.stack([shortage[:, network.board_of_district == k].sum(axis=1)
                                   for k in range(len(network.boards))], axis=1)
    board_shortage = xr.DataArray(
        board_shortage,
        dims=("time", "board", "use"),
        coords={"board": list(network.boards)},
    )
    ds["board_shortage"] = board_shortage.assign_attrs(units=m3, long_name="shortage per water board")
    # numpy's sum: shortage has no NaN, and xarray's NaN-skipping sum copies the whole array.
    ds["national_shortage"] = (("time", "use"), shortage.sum(axis=1), {"units": m3, "long_name": "national shortage"})
    return ds
