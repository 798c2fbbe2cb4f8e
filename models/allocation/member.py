"""An outlook member's horizon, day by day, in one compiled loop.

A member (:mod:`models.allocation.outlook`) replays the weather of one past year through the
demand model and the allocation, and keeps only what the outlook's summary reads: per
district and use, whether and how much it was short. The national pass writes every day's
full allocation (:func:`models.allocation.network._allocate_days`); a member writes none of
it, and lays its day out by use, not by district:

- the day's demand and local water are made from the stations' weather as the allocation
  reads them (:func:`models.allocation.demand._inputs_days`, same float operations);
- local water is handed out per use over all districts (``before``, ``used`` and ``total``
  carried per district from use to use), so no district waits for its previous use's sum:
  the districts of a use are independent and the compiler makes vector instructions of the
  loop, where the national kernel's district-by-district pass waits on a chain of twelve
  additions per district; a use few districts have is run over those districts only
  (:func:`districts_with_use`);
- the shared water of each priority step is the national kernel's own step
  (:func:`models.allocation.network._share_step`) on the same lists of districts short;
- what a step gives goes straight into the member's counts of shortage
  (:func:`_count_step`), not into (district, use) arrays of allocation.

Every quantity is the same float operation in the same order as in the national kernel, so a
member's shortages are bit for bit those of :func:`models.allocation.network.allocate_arrays`
on the same demand (``tests/test_outlook.py``, ``benchmarks/bench_allocation.py``). At
national size (10,000 districts, 12 uses, 183 days) a member takes about 55 ms of CPU here,
against 107-110 ms through the national kernel (``benchmarks/bench_allocation.py``).
"""

from __future__ import annotations

import numpy as np

from models.allocation.demand import (
    _CONSTANT,
    _WEATHER,
    IRRIGATION_FULL_DEFICIT_MM,
    OPEN_WATER_FACTOR,
    RUNOFF_SHARE,
)
from models.allocation.network import _A_GOT, _share_step, kernel_work
from models.jit import kernel, kernel_calling, kernel_inline

# Rows of the per-district work array of a member's day (:func:`member_work`).
_D_AVAILABLE, _D_SURPLUS, _D_IRRIGATING, _D_BEFORE, _D_USED, _D_TOTAL, _D_P, _D_E = range(8)
_D_ROWS = 8


def member_work(n_district: int, n_use: int, n_boards: int) -> tuple:
    """The work arrays of :func:`member_days`: the day's demand and local water per use
    (``day`` (2, use, district)), the per-district quantities of a day (rows ``_D_*``) and
    board totals, then the national kernel's own (:func:`models.allocation.network.kernel_work`)."""
    return (np.empty((2, n_use, n_district)), np.empty((_D_ROWS, n_district)), np.empty(max(n_boards, 1)),
            *kernel_work(n_district, n_use, n_boards))


@kernel_inline
def _count_step(t, u, active, n_active, got, demand, local, short_days, short_any, shortage_m3):
    """A priority step's result for the member's summary: use ``u`` of the listed districts
    got its local water and ``got``; what it still lacks (m³) is added to ``shortage_m3``, and
    where it is short (more than 1e-9 of its demand, plus 1e-9 m³) it is counted on day ``t``
    of ``short_days`` and marked in ``short_any`` (all (use, district) but ``short_days``
    (time, use, district)). A district not listed got all its demand locally: no shortage."""
    days, any_row, sums = short_days[t, u], short_any[u], shortage_m3[u]
    for k in range(n_active):
        i = active[k]
        d = demand[i]
        shortage = max(d - (local[i] + got[k]), 0.0)
        short = shortage > 1e-9 * d + 1e-9
        days[i] += short
        any_row[i] |= short
        sums[i] += shortage


# The loops over the districts of a use. A district whose coefficient of a use is zero asks
# nothing of it (zero times checked finite values), and a demand of zero changes nothing
# below (adding 0.0 to sums that are >= 0 leaves their bits as they are, and nothing is
# listed): a use that few districts have (cooling water, shipping, peat, ...) is run over
# those districts only (``at``), the others over all districts in order (``whole``). The
# compiler makes two loops of each (``whole`` does not change inside), and vector
# instructions of the one over all districts.
@kernel
def _weather_demand(surplus, coefficient, area_m2, row, at, whole):
    """Demand (m³/day) of a use that follows the weather (:func:`models.allocation.demand._inputs_days`)."""
    for j in range(len(row) if whole else len(at)):
        i = j if whole else np.intp(at[j])
        row[i] = surplus[i] * coefficient[i] * area_m2[i] / 1000.0


@kernel
def _irrigation_demand(irrigating, surplus, coefficient, area_m2, row, at, whole):
    """Demand (m³/day) of an irrigation use (:func:`models.allocation.demand._inputs_days`)."""
    for j in range(len(row) if whole else len(at)):
        i = j if whole else np.intp(at[j])
        row[i] = irrigating[i] * surplus[i] * coefficient[i] * area_m2[i] / 1000.0


@kernel
def _local_water(row, available, before, used, total, local, demand_sum, at, whole):
    """A use's share of each district's local water (``local``, m³), given what the uses
    before it asked (``before``, carried on) and took (``used``); ``total`` sums what the uses
    still lack, ``demand_sum`` the use's demand over the horizon. The same float operations as
    the first pass of :func:`models.allocation.network._allocate_days`."""
    for j in range(len(row) if whole else len(at)):
        i = j if whole else np.intp(at[j])
        d = row[i]
        given = min(max(available[i] - before[i], 0.0), d)
        before[i] += d
        used[i] += given
        total[i] += d - given
        local[i] = given
        demand_sum[i] += d


@kernel
def _list_short(row, local, listed, rest, at, whole) -> int:
    """The districts whose local water fell short of the use's demand, in ascending order,
    with what they lack (``listed``, ``rest``); returns how many."""
    k = 0
    for j in range(len(row) if whole else len(at)):
        i = j if whole else np.intp(at[j])
        r = row[i] - local[i]
        # Without a branch (whether a district is short is a coin toss for the processor):
        # the slot is always written, and kept only where r > 0.
        listed[k] = i
        rest[k] = r
        k += r > 0.0
    return k


def districts_with_use(coefficient: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per use (rows of ``coefficient``, (use, district)), the districts whose coefficient is
    not zero, ascending (``at`` (use, district), the first ``count[u]`` of row u), and whether
    the use is run over all districts instead (``whole``: more than half of them have it)."""
    n_use, n = coefficient.shape
    at = np.zeros((n_use, n), np.uint32)
    count = np.zeros(n_use, np.int64)
    for u in range(n_use):
        where = np.flatnonzero(coefficient[u] != 0)
        at[u, :len(where)] = where
        count[u] = len(where)
    return at, count, 2 * count > n


@kernel
def _day_water(precipitation_mm, evaporation_mm, column_of, deficit_mm, open_water_share, area_m2, storage, districts):
    """A day's weather per district (P and E of its column, mm/day): the running deficit
    (mm, carried on in ``deficit_mm``), the local water left after open-water evaporation
    (m³, row ``_D_AVAILABLE``), E - P where positive and the irrigation factor (rows
    ``_D_SURPLUS``, ``_D_IRRIGATING``), as :func:`models.allocation.demand._inputs_days` and
    :func:`models.allocation.network._allocate_days` compute them; the day's sums over uses
    (rows ``_D_BEFORE``, ``_D_USED``, ``_D_TOTAL``) start at zero. The weather is first spread
    to the districts: the loop over districts then reads contiguous rows only, and the
    compiler makes vector instructions of it."""
    p, e = districts[_D_P], districts[_D_E]
    for i in range(len(column_of)):
        column = column_of[i]
        p[i] = precipitation_mm[column]
        e[i] = evaporation_mm[column]
    available, surplus, irrigating = districts[_D_AVAILABLE], districts[_D_SURPLUS], districts[_D_IRRIGATING]
    before, used, total = districts[_D_BEFORE], districts[_D_USED], districts[_D_TOTAL]
    for i in range(len(column_of)):
        rain, evaporation = p[i], e[i]
        deficit = max(deficit_mm[i] + evaporation - rain, 0.0)
        deficit_mm[i] = deficit
        ow = open_water_share[i]
        a = area_m2[i]
        inflow = (max(rain - evaporation, 0.0) * (1 - ow) * RUNOFF_SHARE + rain * ow) * a / 1000.0
        potential = OPEN_WATER_FACTOR * evaporation * ow * a / 1000.0
        water = storage[i] + inflow
        available[i] = water - min(potential, water)
        surplus[i] = max(evaporation - rain, 0.0)
        irrigating[i] = min(deficit / IRRIGATION_FULL_DEFICIT_MM, 1.0)
        before[i] = 0.0
        used[i] = 0.0
        total[i] = 0.0


@kernel_calling("models.allocation.network", "models.allocation.demand")
def member_days(precipitation_mm, evaporation_mm, column_of, deficit_mm, kind, coefficient, at, count, whole, area_m2,
                open_water_share, board_of, district_cap, board_cap, storage_max, storage, supply,
                day, districts, board_total, active, residual, n_active, cap, active_values, active_board, work, flags,
                short_days, short_any, shortage_m3, demand_m3):
    """A member's horizon: P and E (time, column), mm/day, district i reading column
    ``column_of[i]``; ``deficit_mm`` and ``storage`` (m³) per district at the start, carried
    on in place; ``kind`` and ``coefficient`` (use, district) the demand model
    (:class:`models.allocation.demand.DemandModel`), ``at``, ``count`` and ``whole`` the
    districts that have each use (:func:`districts_with_use`); the network's arrays as the national
    kernel reads them; ``supply`` (time,) m³/day; then the work arrays of :func:`member_work`.

    Adds to ``short_days`` (time, use, district; members counted) and ``short_any``,
    ``shortage_m3`` and ``demand_m3`` (use, district; m³ over the horizon). Returns 0, or 1
    where a day's demand is not finite (the table and the weather are checked beforehand,
    :func:`models.allocation.demand.check_weather`, so demand is >= 0)."""
    n_time = precipitation_mm.shape[0]
    n_use, n = coefficient.shape
    n_boards = len(board_cap)
    demand, local = day[0], day[1]
    available, surplus, irrigating = districts[_D_AVAILABLE], districts[_D_SURPLUS], districts[_D_IRRIGATING]
    before, used, total = districts[_D_BEFORE], districts[_D_USED], districts[_D_TOTAL]
    got = active_values[_A_GOT]
    bcap = np.empty(n_boards)
    for t in range(n_time):
        _day_water(precipitation_mm[t], evaporation_mm[t], column_of, deficit_mm, open_water_share, area_m2, storage,
                   districts)
        # Local water, use by use over all districts, then the list of districts that still
        # lack water.
        for u in range(n_use):
            row, own, of_use, dense = demand[u], local[u], at[u, :count[u]], whole[u]
            if kind[u] == _CONSTANT:
                row = coefficient[u]
            elif kind[u] == _WEATHER:
                _weather_demand(surplus, coefficient[u], area_m2, row, of_use, dense)
            else:  # an irrigation use
                _irrigation_demand(irrigating, surplus, coefficient[u], area_m2, row, of_use, dense)
            _local_water(row, available, before, used, total, own, demand_m3[u], of_use, dense)
            n_active[u] = _list_short(row, own, active[u], residual[u], of_use, dense)
        # Storage at the end of the day, and whether all residual demand fits every capacity
        # (the sums per board and over the nation only where every district's fits).
        fits = True
        ok = True
        for i in range(n):
            fits &= total[i] <= district_cap[i]
            ok &= before[i] < np.inf
            left = max(available[i] - used[i], 0.0)
            storage[i] = left - max(left - storage_max[i], 0.0)
        if not ok:
            return 1
        if fits:
            national = 0.0
            board_total[:] = 0.0
            for i in range(n):
                board_total[board_of[i]] += total[i]
                national += total[i]
            fits &= national <= supply[t]
            for b in range(n_boards):
                fits &= board_total[b] <= board_cap[b]
        if fits:
            for u in range(n_use):
                got[:n_active[u]] = residual[u, :n_active[u]]
                _count_step(t, u, active[u], n_active[u], got, coefficient[u] if kind[u] == _CONSTANT else demand[u],
                            local[u], short_days, short_any, shortage_m3)
            continue
        cap[:] = district_cap
        bcap[:] = board_cap
        source = supply[t]
        for u in range(n_use):
            if source > 0:
                source, _ = _share_step(active[u], residual[u], n_active[u], cap, bcap, source, np.nan, board_of,
                                        active_values, active_board, work, flags)
            else:
                got[:n_active[u]] = 0.0  # no water left for this step
            _count_step(t, u, active[u], n_active[u], got, coefficient[u] if kind[u] == _CONSTANT else demand[u],
                        local[u], short_days, short_any, shortage_m3)
    return 0
