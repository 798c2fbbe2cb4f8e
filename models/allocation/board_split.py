"""The allocation of a season: the national pass, and the water boards apart when wanted.

The water boards of a network share one thing, the national source: on a day it binds, a
priority step gets the national fraction ``f`` of its demand wherever the capacities on the
way allow (see :mod:`models.allocation.network`). Everything else (local water, storage, a board's
inlets, its districts' inlets) belongs to one board.

1. **National pass** (:func:`national_pass`): the whole network, day by day, a few days of
   (day, district, use) arrays at a time (:func:`allocate_in_chunks`). It keeps ``f`` per day
   and step (``source_fraction``, time × use), the state at the end (storage, running
   deficit: where the outlook starts) and, in the stage, the season's allocation itself:
   each chunk is written straight into the season's arrays (:func:`season_arrays`), its
   shortage and the boards' totals taken while it is in cache. :func:`start` returns it as a
   :class:`Season`, whose :meth:`Season.dataset` is the Dataset of
   :func:`models.allocation.network.allocation_dataset` (docs/contracts.md section 5).
2. **Water boards apart** (:func:`allocate_board`, ``start(..., board_tasks=True)``): one
   task per water board with its districts' weather and the national fractions. A board
   allocated this way gets exactly, bit for bit, what it got in the national pass
   (``tests/test_board_split.py``): the fractions are all a board needs from the rest of the
   country. The stage does not use this any more: the national pass computes every board's
   allocation anyway; keeping it costs the pass about 0.1-0.2 s of CPU more at 10,000
   districts × 183 days (the season's 748 MiB written once, in a thread beside the outlook
   members), where the 21 board tasks took 1.6 s of CPU to compute it again and sent their
   748 MiB back to be put together (peak memory 2.4-3.8 GiB then; 1.6-1.7 GiB now with worker
   threads).
   :class:`BoardRuns` puts the boards' results together in the network's district order.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from models.allocation import parallel
from models.allocation.network import Network, allocation_dataset, allocate_arrays, allocate_in_chunks, storage_in_chunks
from models.allocation.demand import DemandModel, district_table, local_water_arrays, running_deficit, weather_arrays
from models.allocation.verdringingsreeks import PriorityOrder
from models.jit import kernel


@dataclass(frozen=True)
class NationalPass:
    """What the whole network's run hands on to the water boards and the outlook."""

    source_fraction: np.ndarray  # (time, use): NaN all fitted, inf source not binding, else f
    storage_end_m3: np.ndarray  # (district,): storage at the end of the last day, m³
    deficit_end_mm: np.ndarray  # (district,): running precipitation deficit then, mm
    # The state at the start of the last day (the end of the day before), m³ and mm: the
    # outlook starts from it, so its first day is the last day of this run again.
    storage_last_start_m3: np.ndarray | None = None
    deficit_last_start_mm: np.ndarray | None = None


def national_pass(network: Network, table: pd.DataFrame, order: PriorityOrder, precipitation_mm,
                  evaporation_mm, supply, *, storage=None, deficit_initial_mm=0.0,
                  into: dict | None = None) -> NationalPass:
    """The national fractions of every day and step, from P and E (time, district; mm/day)
    and the source's ``supply`` (m³/day per day).

    ``into`` (:func:`season_arrays`): the season's arrays, filled as the pass goes (every
    output of :func:`models.allocation.network.allocate_arrays`, ``demand``, ``shortage``
    and ``board_shortage``), each chunk of days written where it belongs."""
    n_time = len(precipitation_mm)
    fraction = np.empty((n_time, len(order))) if into is None else into["source_fraction"]
    end = network.storage_initial_m3 if storage is None else storage
    last_start = end
    board_of = np.asarray(network.board_of_district, np.intp)
    for days, demand, out in allocate_in_chunks(network, table, order, precipitation_mm, evaporation_mm, supply,
                                                storage=storage, deficit_initial_mm=deficit_initial_mm, into=into):
        if into is None:
            fraction[days] = out["source_fraction"]
        else:
            _shortage_of_days(demand, out["allocated"], board_of, into["shortage"][days], into["board_shortage"][days])
        n = len(range(*days.indices(n_time)))
        last_start = out["storage"][n - 2].copy() if n >= 2 else np.array(end, dtype=float)
        end = out["storage"][n - 1].copy()
    return _with_deficit(fraction, end, last_start, precipitation_mm, evaporation_mm, deficit_initial_mm,
                         len(network.districts))


def _with_deficit(fraction, end, last_start, precipitation_mm, evaporation_mm, deficit_initial_mm,
                  n: int) -> NationalPass:
    initial = np.broadcast_to(np.asarray(deficit_initial_mm, dtype=float), (n,))
    deficit, deficit_last_start = initial, initial
    if len(precipitation_mm):
        running = running_deficit(precipitation_mm, evaporation_mm, deficit_initial_mm)
        deficit = running[-1]
        deficit_last_start = running[-2] if len(running) >= 2 else initial
    return NationalPass(source_fraction=fraction, storage_end_m3=np.array(end, dtype=float),
                        deficit_end_mm=np.array(deficit, dtype=float),
                        storage_last_start_m3=np.array(last_start, dtype=float),
                        deficit_last_start_mm=np.array(deficit_last_start, dtype=float))


def season_end_state(network: Network, table: pd.DataFrame, order: PriorityOrder, precipitation_mm,
                     evaporation_mm, *, storage, deficit_initial_mm, source_fraction) -> NationalPass:
    """The state :func:`national_pass` ends in (storage and deficit at the end and at the start
    of the last day), bit for bit, without allocating: storage depends on each district's own
    water only (:func:`models.allocation.network.storage_in_chunks`). ``source_fraction`` is
    handed on as it is (the array the national pass will fill)."""
    end = last_start = np.array(storage, dtype=float)
    if len(precipitation_mm):
        storage_days = storage_in_chunks(network, table, order, precipitation_mm, evaporation_mm, storage=storage,
                                         deficit_initial_mm=deficit_initial_mm)
        end = storage_days[-1]
        last_start = storage_days[-2] if len(storage_days) >= 2 else last_start
    return _with_deficit(source_fraction, end, last_start, precipitation_mm, evaporation_mm, deficit_initial_mm,
                         len(network.districts))


def season_arrays(n_time: int, network: Network, order: PriorityOrder) -> dict[str, np.ndarray]:
    """Empty arrays of a season's allocation, for :func:`national_pass` to fill: (time,
    district, use) ``demand``, ``allocated``, ``allocated_shared``, ``shortage`` (m³/day) and
    ``limit`` (int8); (time, district) ``storage`` (m³), ``inlet``, ``evaporation``, ``spill``
    (m³/day); ``board_shortage`` (time, board, use), m³/day; ``source_fraction`` (time, use)."""
    n, n_use = len(network.districts), len(order)
    whole = {name: np.empty((n_time, n, n_use)) for name in ("demand", "allocated", "allocated_shared", "shortage")}
    whole["limit"] = np.empty((n_time, n, n_use), np.int8)
    whole.update({name: np.empty((n_time, n)) for name in ("storage", "inlet", "evaporation", "spill")})
    whole["board_shortage"] = np.zeros((n_time, len(network.boards), n_use))
    whole["source_fraction"] = np.empty((n_time, n_use))
    return whole


@kernel
def _shortage_of_days(demand, allocated, board_of, shortage, board_shortage):
    """Shortage ``max(demand - allocated, 0)`` (m³/day) of some days and each board's total
    per day and use, its districts summed in ascending order as
    ``shortage[:, board].sum(axis=1)`` sums them, so the totals are numpy's bit for bit (one
    pass over days still in cache instead of numpy's pass per board over the season)."""
    n_time, n, n_use = demand.shape
    for t in range(n_time):
        for i in range(n):
            b = board_of[i]
            for u in range(n_use):
                short = max(demand[t, i, u] - allocated[t, i, u], 0.0)
                shortage[t, i, u] = short
                board_shortage[t, b, u] += short


class Season:
    """The season's allocation kept by the national pass; :meth:`dataset` gives its Dataset.

    ``national`` (a function running the national pass into ``whole``, returning its
    :class:`NationalPass`), when given, runs in a thread of this process from now on (its
    kernels release the GIL): the outlook's members run meanwhile; :meth:`dataset` waits for
    it, and checks that it ended in ``expected_end`` (the state the outlook started from)."""

    def __init__(self, network: Network, order: PriorityOrder, time, whole: dict[str, np.ndarray], *,
                 national=None, expected_end: NationalPass | None = None):
        self.network, self.order, self.time, self._whole = network, order, time, whole
        self._expected, self._result, self._error, self._thread = expected_end, None, None, None
        if national is not None:
            def run():
                try:
                    self._result = national()
                except BaseException as exc:  # noqa: BLE001 - raised again by dataset()
                    self._error = exc

            self._thread = threading.Thread(target=run, name="national pass", daemon=True)
            self._thread.start()

    def dataset(self) -> xr.Dataset:
        if self._thread is not None:
            self._thread.join()
            if self._error is not None:
                raise self._error
            for name in ("storage_end_m3", "storage_last_start_m3"):
                if not np.array_equal(getattr(self._result, name), getattr(self._expected, name)):
                    raise RuntimeError(f"allocation: the national pass ended in another {name} than the own-water "
                                       "pass gave the outlook (models.allocation.network.storage_in_chunks)")
        whole, self._whole = self._whole, None
        whole.pop("source_fraction")
        shortage, board_shortage = whole.pop("shortage"), whole.pop("board_shortage")
        return allocation_dataset(self.network, self.order, self.time, whole.pop("demand"), whole,
                                  shortage=shortage, board_shortage=board_shortage)


@dataclass(frozen=True)
class Board:
    """One water board's share of the work: its part of the network and its districts' inputs."""

    name: str
    network: Network
    where: np.ndarray  # positions of its districts in the whole network
    table: pd.DataFrame
    precipitation_mm: np.ndarray  # (time, district)
    evaporation_mm: np.ndarray
    storage_initial_m3: np.ndarray
    deficit_initial_mm: np.ndarray


def allocate_board(board: Board, *, order: PriorityOrder, source_fraction: np.ndarray) -> dict:
    """Demand and allocation of one water board's districts under the national fractions:
    the arrays of :func:`models.allocation.network.allocate_arrays` plus ``demand``."""
    p, e = board.precipitation_mm, board.evaporation_mm
    demand = DemandModel(board.table, order).demand(p, e, running_deficit(p, e, board.deficit_initial_mm))
    inflow, evaporation = local_water_arrays(p, e, board.table)
    out = allocate_arrays(board.network, demand, inflow, evaporation, None, board.storage_initial_m3,
                          source_fraction=source_fraction)
    return {"demand": demand, **out}


class BoardRuns:
    """The water boards' tasks, started; :meth:`dataset` waits for them and puts them together.

    On a cluster a thread of this process takes each board's results as soon as they are
    done and puts them in place, while the workers go on with the outlook members: the
    748 MiB of a national season then travel and are placed beside the members' work instead
    of after it, and no worker holds its boards' results for long. (The boards fill disjoint
    districts and a column of the board totals each, so the order they arrive in does not
    change a bit of the result.)"""

    _VARIABLES_3D = ("demand", "allocated", "allocated_shared", "shortage")
    _VARIABLES_2D = ("storage", "inlet", "evaporation", "spill")

    def __init__(self, network: Network, order: PriorityOrder, time, boards: list[Board], submitted: parallel.Submitted):
        self.network, self.order, self.time = network, order, time
        self._boards, self._submitted = boards, submitted
        self._whole: dict[str, np.ndarray] | None = None
        self._error: BaseException | None = None
        self._thread = None
        if submitted.on_cluster:
            self._thread = threading.Thread(target=self._collect_guarded, name="water boards' results", daemon=True)
            self._thread.start()

    def _collect_guarded(self) -> None:
        try:
            self._collect()
        except BaseException as exc:  # noqa: BLE001 - raised again by dataset()
            self._error = exc

    def _collect(self) -> None:
        n_time, n, n_use = len(self.time), len(self.network.districts), len(self.order)
        # Every district belongs to one board, so every value is written: no zeros needed.
        whole = {name: np.empty((n_time, n, n_use)) for name in self._VARIABLES_3D}
        whole["limit"] = np.empty((n_time, n, n_use), np.int8)
        for name in self._VARIABLES_2D:
            whole[name] = np.empty((n_time, n))
        whole["board_shortage"] = np.zeros((n_time, len(self.network.boards), n_use))
        board_index = {name: k for k, name in enumerate(self.network.boards)}
        for board, result in zip(self._boards, self._submitted.each(), strict=True):
            where = np.asarray(board.where, np.intp)
            _place_board(where, result["demand"], result["allocated"], result["allocated_shared"], result["limit"],
                         whole["demand"], whole["allocated"], whole["allocated_shared"], whole["limit"],
                         whole["shortage"], whole["board_shortage"][:, board_index[board.name]])
            for name in self._VARIABLES_2D:
                whole[name][:, where] = result[name]
        self._whole = whole

    def dataset(self) -> xr.Dataset:
        if self._thread is None:
            self._collect()
        else:
            self._thread.join()
            if self._error is not None:
                raise self._error
        whole, self._whole = self._whole, None
        shortage, board_shortage = whole.pop("shortage"), whole.pop("board_shortage")
        return allocation_dataset(self.network, self.order, self.time, whole.pop("demand"), whole,
                                  shortage=shortage, board_shortage=board_shortage)


@kernel
def _place_board(where, demand, allocated, shared, limit, all_demand, all_allocated, all_shared, all_limit,
                 all_shortage, board_shortage):
    """Puts one board's (time, district, use) results at its districts' places ``where`` in
    the whole network's arrays and, in the same pass, its shortage ``max(demand - allocated,
    0)`` (m³/day) and the board's total shortage per day and use. The board's districts are
    summed in ascending order, as ``shortage[:, board].sum(axis=1)`` sums them, so the totals
    are those of numpy bit for bit. (One compiled pass instead of numpy's fancy indexing of
    each array and a masked copy of the shortage per board: the 748 MiB of a national season
    took about 3 s that way.)"""
    n_time, n_local, n_use = demand.shape
    for t in range(n_time):
        for k in range(n_local):
            i = where[k]
            for u in range(n_use):
                d, a = demand[t, k, u], allocated[t, k, u]
                short = max(d - a, 0.0)
                all_demand[t, i, u] = d
                all_allocated[t, i, u] = a
                all_shared[t, i, u] = shared[t, k, u]
                all_limit[t, i, u] = limit[t, k, u]
                all_shortage[t, i, u] = short
                board_shortage[t, u] += short


def start(districts: pd.DataFrame, boards: pd.DataFrame, weather: xr.Dataset, supply_m3_day: xr.DataArray,
          order: PriorityOrder, *, storage_initial=None, deficit_initial_mm=0.0, client=None,
          board_tasks: bool = False, background: bool = False) -> tuple[NationalPass, Season | BoardRuns]:
    """The national pass, here and now, keeping the season's allocation (a :class:`Season`);
    with ``board_tasks`` it keeps only the national fractions and the water boards are
    started on ``client`` (a ``distributed.Client``, or None to run them in this process when
    their results are asked for) as :class:`BoardRuns`. Both give the same Dataset bit for
    bit. With ``background`` (not with ``board_tasks``) the national pass runs in a thread
    and the state returned comes from a pass over the districts' own water
    (:func:`season_end_state`, about a tenth of the national pass): the caller starts the
    outlook from it at once; the returned ``source_fraction`` is complete once
    :meth:`Season.dataset` has returned. Arguments: ``districts`` (GeoDataFrame in EPSG:28992 or a DataFrame with ``area_m2``), ``boards`` (``water_board, inlet_capacity_m3_day``), ``weather`` (``precipitation_mm``, ``evaporation_mm`` per time and district, mm/day), ``supply_m3_day`` (per ``time``, m³/day), ``storage_initial`` (m³) and ``deficit_initial_mm`` per district or one value for all."""
    table = district_table(districts)
    network = Network.from_tables(table, boards)
    p, e = (np.ascontiguousarray(x.values) for x in weather_arrays(weather, table))  # whole days in a row
    if "time" not in supply_m3_day.dims:
        raise ValueError("supply_m3_day must have a 'time' dimension (m3/day)")
    supply = supply_m3_day.reindex(time=weather["time"].values)
    if bool(supply.isnull().any()):
        raise ValueError("supply_m3_day: no value for some days of the weather")
    supply = supply.values.astype(float)
    if np.isnan(supply).any() or (supply < 0).any():
        raise ValueError("supply_m3_day must be >= 0 m3/day (inf: unlimited)")
    n = len(network.districts)
    storage = network.storage_initial_m3 if storage_initial is None else np.broadcast_to(np.asarray(storage_initial, dtype=float), (n,))
    deficit = np.broadcast_to(np.asarray(deficit_initial_mm, dtype=float), (n,))
    if not board_tasks:
        whole = season_arrays(len(p), network, order)

        def national():
            return national_pass(network, table, order, p, e, supply, storage=storage, deficit_initial_mm=deficit,
                                 into=whole)

        if not background:
            return national(), Season(network, order, weather["time"].values, whole)
        state = season_end_state(network, table, order, p, e, storage=storage, deficit_initial_mm=deficit,
                                 source_fraction=whole["source_fraction"])
        return state, Season(network, order, weather["time"].values, whole, national=national, expected_end=state)
    national = national_pass(network, table, order, p, e, supply, storage=storage, deficit_initial_mm=deficit)
    parts = []
    for name in network.boards:
        part, where = network.part(name)
        if len(where):
            parts.append(Board(name, part, where, table.iloc[where], np.ascontiguousarray(p[:, where]),
                               np.ascontiguousarray(e[:, where]), storage[where].copy(), deficit[where].copy()))
    submitted = parallel.Submitted(client, allocate_board, parts, order=order, source_fraction=national.source_fraction)
    return national, BoardRuns(network, order, weather["time"].values, parts, submitted)
