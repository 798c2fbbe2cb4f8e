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
root of the last one), vectorised over districts and boards. Step r+1 only gets what step r
left; a short use keeps the code of what limited it (:data:`LIMITS`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from models.demand import district_table, local_water, water_demand
from models.verdringingsreeks import PriorityOrder

#: Codes of the ``limit`` variable: what kept a short use from its demand.
LIMITS = {
    0: "none",
    1: "source",
    2: "water-board inlet capacity",
    3: "district inlet capacity",
    4: "own storage",
}
NONE, SOURCE, BOARD_INLET, DISTRICT_INLET, OWN_STORAGE = range(5)

_REASONS = {
    SOURCE: "the national source had no water left for this priority",
    BOARD_INLET: "the water board's inlets from the national system were full",
    DISTRICT_INLET: "the district's inlet was full",
    OWN_STORAGE: "the district has no inlet and its own storage ran out",
}
_NEWTON_MAX_ITERATIONS = 200
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
        """From :func:`models.demand.district_table` and a table
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


def allocate_arrays(network: Network, demand, local_inflow, evaporation, supply, storage_initial=None):
    """The allocation on plain arrays; ``demand`` (time, district, use) in priority order.

    Returns a dict of numpy arrays: ``allocated``, ``allocated_shared``, ``limit`` (time,
    district, use) and ``storage``, ``inlet``, ``evaporation``, ``spill`` (time, district).
    """
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


def _values(x, dims: tuple[str, ...]) -> np.ndarray:
    if isinstance(x, xr.DataArray):
        return x.transpose(*dims).values
    return np.asarray(x)


def allocate(
    network: Network,
    demand: np.ndarray | xr.DataArray,
    local_inflow: np.ndarray | xr.DataArray,
    evaporation: np.ndarray | xr.DataArray,
    supply: np.ndarray | xr.DataArray,
    order: PriorityOrder,
    *,
    time=None,
    storage_initial=None,
) -> xr.Dataset:
    """Allocate water per day, district and use: the Dataset of docs/contracts.md section 5.

    ``demand`` (time, district, use; uses in ``order``), ``local_inflow`` and potential
    open-water ``evaporation`` (time, district) and ``supply`` (time,) are m³/day.
    ``time`` labels the days (taken from ``demand`` when it is a DataArray).
    """
    if isinstance(demand, xr.DataArray):
        if "use" in demand.dims:
            demand = demand.sel(use=list(order.uses))
        time = demand["time"].values if time is None else time
    d = _values(demand, ("time", "district", "use"))
    if d.ndim != 3 or d.shape[2] != len(order):
        raise ValueError(f"demand must be (time, district, use) with {len(order)} uses, got {d.shape}")
    out = allocate_arrays(
        network, d, _values(local_inflow, ("time", "district")), _values(evaporation, ("time", "district")),
        _values(supply, ("time",)), storage_initial,
    )
    time = np.arange(d.shape[0]) if time is None else np.asarray(time)
    return _dataset(network, order, time, d, out)


def _dataset(network: Network, order: PriorityOrder, time, demand, out) -> xr.Dataset:
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
    ds["national_shortage"] = ds["shortage"].sum("district").assign_attrs(units=m3, long_name="national shortage")
    return ds


def run_allocation(
    districts: pd.DataFrame,
    boards: pd.DataFrame,
    weather: xr.Dataset,
    supply_m3_day: xr.DataArray,
    order: PriorityOrder,
    *,
    storage_initial=None,
    deficit_initial_mm=0.0,
) -> xr.Dataset:
    """Demand and local water from the weather, then :func:`allocate`.

    ``districts``: ``districts.geojson`` as a GeoDataFrame (EPSG:28992) or a DataFrame with
    ``area_m2``; ``boards``: ``water_board, inlet_capacity_m3_day``; ``weather``:
    ``precipitation_mm``, ``evaporation_mm`` (time, district) mm/day; ``supply_m3_day``: the
    national source per day (``time``), m³/day.
    """
    table = district_table(districts)
    network = Network.from_tables(table, boards)
    demand = water_demand(weather, table, order, deficit_initial_mm=deficit_initial_mm)
    inflow, evaporation = local_water(weather, table)
    if "time" not in supply_m3_day.dims:
        raise ValueError("supply_m3_day must have a 'time' dimension (m3/day)")
    supply = supply_m3_day.reindex(time=weather["time"].values)
    if bool(supply.isnull().any()):
        raise ValueError("supply_m3_day: no value for some days of the weather")
    return allocate(network, demand, inflow, evaporation, supply, order, storage_initial=storage_initial)


def explain(ds: xr.Dataset, district: str, day) -> list[dict]:
    """Which uses of ``district`` were short on ``day``, by how much, and what limited them."""
    at = ds.sel(district=district, time=day)
    lines = []
    for use in at["use"].values:
        u = at.sel(use=use)
        shortage = float(u["shortage"])
        if shortage <= 0:
            continue
        code = int(u["limit"])
        demand = float(u["demand"])
        lines.append(
            {
                "use": str(use),
                "category": str(u["category"].values),
                "demand_m3": demand,
                "allocated_m3": float(u["allocated"]),
                "shortage_m3": shortage,
                "limit": LIMITS[code],
                "text": (
                    f"{use} (category {u['category'].values}) got {float(u['allocated']):,.0f} of "
                    f"{demand:,.0f} m³: {shortage / demand:.0%} short because "
                    f"{_REASONS.get(code, 'of rounding')}."
                ),
            }
        )
    return lines
