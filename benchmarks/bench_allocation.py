"""Benchmark: the allocation stage at national scale (21 water boards, 10,000 districts, a
183-day season, then 50 outlook members of 183 days).

Synthetic but realistic-sized input: districts spread over 21 boards, weather from 11
stations over past years, a national source that binds on dry days. Runs the stage as
``pipelines.allocation.run`` does, on the stage's own local Dask cluster
(:func:`pipelines.dask_cluster.dask_client`, 1 and 2 worker processes): the national pass over
the season in this process, then the 21 water-board tasks and the outlook members (a few
tasks of several members per worker) side by side, the boards' results taken and placed
by a thread of this process as they finish, then the season's allocation put together (a
748 MiB Dataset). Prints, in this order:

- the check that the stage's results (allocation, outlook, national fractions) are bit for
  bit those of the previous kernel (``benchmarks/allocation_previous.py``) at a reduced size
  (2,000 districts, 4 members, 61 days, the source at 2, 0.5 and 0.1 of its supply);
- one member's parts in one process;
- the kernel over one member's horizon against a memory-bound pass over the same arrays
  (its inputs read once, its seven outputs written once, nothing computed), in CPU time of
  the thread, and their ratio;
- per number of workers: wall time per part and of the whole stage, peak memory (resident
  set of this process, the nannies and the workers), CPU time (user, system) of all of them,
  the load average, and the compute time per kind of task as the workers report it.

Figures at the stated size on this machine's 2 cores, nearly quiet (load average 1.1-1.4,
30 November 2026), the code before issue 19 and today's run one after the other:

| | before issue 19 | today |
|---|---|---|
| whole stage, 1 worker | 37.6 s | 17.5 s (CPU 18.6 s user + 4.6 s system) |
| whole stage, 2 workers | 20.6 s | 14.7 s (CPU 20.6 s user + 5.6 s system) |
| boards' wait and assembly after the members, 1 / 2 workers | 4.4 / 3.7 s | 0.0 / 0.0 s |
| peak memory, 1 / 2 workers | 3.13 / 4.03 GiB | 2.42 / 3.84 GiB |
| one member in one process (kernel part) | 0.31 s (0.24 s) | 0.25 s (0.18 s) |
| kernel over one member's 183 days / memory-bound pass | (not measured) | 132-152 ms / 27-28 ms = 4.6-5.6x; after the kernel's round (below) 89-106 ms / 27-29 ms = 3.2-4.0x |

The issue's own figures were 17.7 s / 14.8 s and 4.45 GiB; this docstring said 41.6 s / 27.3 s
before. Under a load average of 13-17 (six lines of work on the 2 cores) the same stage took
248-289 s of wall time for 49-65 s of CPU: wall times are only comparable on a quiet machine.

On the same shared machine earlier the same day (load average 5-13) the stage as it was
took 254 s (1 worker) and 233 s (2 workers), peak memory 3.28 / 4.25 GiB, 12.9 / 45.1 s of
it waiting for and assembling the boards after the members. Where the time went before: about 3 s assembling the boards'
results after the members, about 0.08 s of task overhead per member (now a few tasks per
worker sharing buffers), 15 s of system time from page faults (the local workers now keep
arrays of up to 32 MiB on the heap, ``pipelines.dask_cluster.WORKER_MALLOC``: a member faulted
in 0.1 GiB instead of 0.5 GiB), Python checks and pandas 3 string iteration around the
kernel (the national pass's set-up took 1.1 s of it). The kernel's own day: one pass over the
districts for local water, the check of the demand and the lists of districts short per use,
then per priority step only the districts listed, one pass each unless a board inlet or the
source binds (4 in 100 steps here). The kernel's round of issue 19, measured in thread CPU
time on the shared machine under a load average of 4-5 (six lines of work on 2 cores), best
of 11 to 15 alternated runs: the kernel over one member 131-150 ms before, 88-106 ms after
(the local-water pass about 52 ms of it, the priority steps about 40 ms; on a season where
every demand fits 68 ms, before 85 ms); the memory-bound pass 27-29 ms. Where it went: the
input checks moved into the kernel (two numpy passes over the 176 MB of demand, 13 ms),
unsigned district and board numbers (numba's code for negative indices in every inner loop,
about 16 ms), one pass per priority step instead of three (gather, final pass, limit codes).
The first numpy implementation of a member took 13 s.

    python benchmarks/bench_allocation.py                    # national scale
    python benchmarks/bench_allocation.py --districts 2000 --members 10 --days 183
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from contextlib import contextmanager

import numpy as np
import pandas as pd
import psutil
import xarray as xr

import allocation_previous
from models.allocation import board_split
from models.allocation import network as network_module
from models.allocation.network import Network, allocate_arrays, allocation_dataset
from models.allocation.demand import DemandModel, district_table, local_water_arrays, running_deficit
from models.allocation.outlook import _member_weather, member_window, outlook, run_member
from models.allocation.verdringingsreeks import PriorityOrder
from models.jit import kernel
from pipelines.dask_cluster import dask_client

STATIONS = ("249", "251", "257", "269", "273", "277", "278", "279", "286", "340", "348")
START = "2026-04-01"


def setup(n_districts: int, n_members: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = n_districts
    boards = pd.DataFrame({"water_board": [f"WB{k:02d}" for k in range(21)]})
    board = rng.integers(0, 21, n)
    area = rng.uniform(1e6, 2e7, n)
    districts = pd.DataFrame(
        {
            "district_id": [f"{boards.water_board[b]}-{k:05d}" for k, b in enumerate(board)],
            "name": [f"district {k}" for k in range(n)],
            "water_board": boards.water_board.to_numpy()[board],
            "area_m2": area,
            "inlet_capacity_m3_day": area * rng.uniform(0.5e-3, 3e-3, n),
            "storage_max_m3": area * rng.uniform(0.01, 0.05, n),
            "storage_initial_m3": area * 0.02,
            "open_water_share": rng.uniform(0.02, 0.12, n),
            "irrigated_share": rng.uniform(0.0, 0.6, n),
            "high_value_share": rng.uniform(0.0, 0.1, n),
            "peat_share": rng.uniform(0.0, 0.5, n) * (rng.random(n) < 0.4),
            "nature_share": rng.uniform(0.0, 0.2, n),
            "dike_flushing_m3_day": rng.uniform(0, 500, n),
            "drinking_water_m3_day": rng.uniform(0, 3000, n) * (rng.random(n) < 0.3),
            "cooling_water_m3_day": rng.uniform(0, 20000, n) * (rng.random(n) < 0.05),
            "process_water_m3_day": rng.uniform(0, 2000, n) * (rng.random(n) < 0.2),
            "industry_m3_day": rng.uniform(0, 2000, n) * (rng.random(n) < 0.2),
            "shipping_m3_day": rng.uniform(0, 5000, n) * (rng.random(n) < 0.1),
            "recreation_m3_day": rng.uniform(0, 200, n),
            "nature_other_m3_day": rng.uniform(0, 500, n),
            "target_level_m_nap": -1.0,
            "critical_level_m_nap": -1.3,
            "station": rng.choice(STATIONS, n),
        }
    )
    district_inlets = districts.groupby("water_board")["inlet_capacity_m3_day"].sum()
    boards["inlet_capacity_m3_day"] = district_inlets.reindex(boards.water_board).to_numpy() * 0.6
    years = range(2026 - n_members, 2026)  # the past years; 2026 is the outlook year
    t = pd.date_range(f"{years[0]}-01-01", f"{years[-1]}-12-31")
    doy = t.day_of_year.to_numpy()
    e_mean = 0.3 + 3.2 * np.clip(np.sin(np.pi * (doy - 30) / 300), 0, None)
    shape = (len(t), len(STATIONS))
    history = xr.Dataset(
        {
            "precipitation_mm": (("time", "station"), rng.gamma(0.5, 4.4, shape)),
            "evaporation_mm": (("time", "station"), e_mean[:, None] * rng.uniform(0.6, 1.4, shape)),
        },
        coords={"time": t, "station": list(STATIONS)},
    )
    supply = float(boards.inlet_capacity_m3_day.sum() * 0.5)
    return districts, boards, history, supply


class PeakMemory:
    """Peak resident memory of this process and its children, sampled every 50 ms."""

    def __enter__(self):
        self.peak, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        me = psutil.Process()
        while not self._stop.is_set():
            rss = me.memory_info().rss
            for child in me.children(recursive=True):
                try:
                    rss += child.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, rss)
            time.sleep(0.05)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def one_member_profile(districts, boards, history, supply, days, order):
    """The parts of one member as :func:`models.allocation.outlook.run_member` runs them, timed apart."""
    table = district_table(districts)
    network = Network.from_tables(table, boards)
    stations = districts.set_index("district_id")["station"].astype(str).reindex(table.index).to_numpy()
    start = pd.Timestamp(START.replace("2026", str(history.time.dt.year.values[0])))
    item = (start.year, member_window(history, start.year, start, days).load(), None)
    timings = {}
    t0 = time.perf_counter()
    p, e = _member_weather(item[1], table.index, stations)
    deficit = running_deficit(p, e)
    inflow, evaporation = local_water_arrays(p, e, table)
    timings["weather and local water"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    demand = DemandModel(table, order).demand(p, e, deficit)
    timings["demand"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = allocate_arrays(network, demand, inflow, evaporation, np.full(days, supply))
    timings["allocation"] = time.perf_counter() - t0
    short = (demand - out["allocated"] > 1e-6).any(axis=(1, 2)).mean()
    t0 = time.perf_counter()
    run_member(item, table=table, network=network, order=order, supply=np.full(days, supply), storage=None, deficit_initial_mm=0.0, district_station=stations)
    timings["whole member (in chunks of days)"] = time.perf_counter() - t0
    return timings, short


@kernel
def _memory_pass(demand, local_inflow, evaporation, allocated, allocated_shared, limit, storage, inlet, evaporated, spill):
    """Reads the kernel's inputs once and writes its outputs once, computing nothing: the
    yardstick of a pass over the same arrays at memory speed."""
    n_time, n, n_use = demand.shape
    for t in range(n_time):
        for i in range(n):
            total = 0.0
            for u in range(n_use):
                d = demand[t, i, u]
                allocated[t, i, u] = d
                allocated_shared[t, i, u] = d
                limit[t, i, u] = 0
                total += d
            inlet[t, i] = total
            storage[t, i] = local_inflow[t, i]
            evaporated[t, i] = evaporation[t, i]
            spill[t, i] = 0.0


def kernel_against_memory(districts, boards, history, supply, days, order, repeat=11):
    """The allocation kernel over one member's horizon and a memory-bound pass over the same
    arrays (demand, local water in; the seven outputs out), in this process, best of ``repeat``
    alternated runs each, in CPU time of this thread (on a busy machine, time waiting for a
    core would otherwise count)."""
    table = district_table(districts)
    network = Network.from_tables(table, boards)
    stations = districts.set_index("district_id")["station"].astype(str).reindex(table.index).to_numpy()
    start = pd.Timestamp(START.replace("2026", str(history.time.dt.year.values[0])))
    p, e = _member_weather(member_window(history, start.year, start, days).load(), table.index, stations)
    inflow, evaporation = local_water_arrays(p, e, table)
    demand = DemandModel(table, order).demand(p, e, running_deficit(p, e))
    supply = np.full(days, supply)
    out = allocate_arrays(network, demand, inflow, evaporation, supply)
    kernel_s, pass_s = [], []
    for _ in range(repeat):
        t0 = time.thread_time()
        allocate_arrays(network, demand, inflow, evaporation, supply, out=out)
        kernel_s.append(time.thread_time() - t0)
        t0 = time.thread_time()
        _memory_pass(demand, inflow, evaporation, out["allocated"], out["allocated_shared"], out["limit"],
                     out["storage"], out["inlet"], out["evaporation"], out["spill"])
        pass_s.append(time.thread_time() - t0)
    size = (demand.nbytes * 3 + out["limit"].nbytes + inflow.nbytes * 6) / 2**20
    return min(kernel_s), min(pass_s), size


@contextmanager
def previous_kernel():
    """The allocation as it was before issue 19: the previous kernel (benchmarks/allocation_previous.py)
    behind the same chunking, and the water boards put together as before."""
    saved = (network_module.allocate_arrays, network_module.kernel_work, board_split.allocate_arrays,
             board_split.BoardRuns.dataset)

    def dataset(self):
        n_time, n, n_use = len(self.time), len(self.network.districts), len(self.order)
        whole = {}
        for board, result in zip(self._boards, self._submitted.results(), strict=True):
            for name, values in result.items():
                if name == "source_fraction":
                    continue
                if name not in whole:
                    whole[name] = np.zeros((n_time, n, n_use) if values.ndim == 3 else (n_time, n), values.dtype)
                whole[name][:, board.where] = values
        return allocation_dataset(self.network, self.order, self.time, whole.pop("demand"), whole)

    network_module.allocate_arrays = board_split.allocate_arrays = allocation_previous.allocate_arrays
    network_module.kernel_work = allocation_previous.kernel_work
    board_split.BoardRuns.dataset = dataset
    try:
        yield
    finally:
        (network_module.allocate_arrays, network_module.kernel_work, board_split.allocate_arrays,
         board_split.BoardRuns.dataset) = saved


def check_identical(order, n_districts=2000, n_members=4, days=61):
    """The stage (season and outlook, in this process) with today's kernel and with the previous
    one at a reduced size, at three levels of the national source: the results must be equal
    bit for bit. Returns a line for the report; raises AssertionError where they differ."""
    districts, boards, history, supply = setup(n_districts, n_members, seed=1)
    stations = districts.set_index("district_id")["station"]
    for factor in (2.0, 0.5, 0.1):  # hardly binding, binding, very short
        results = []
        for previous in (False, True):
            with previous_kernel() if previous else contextmanager(lambda: (yield))():
                weather = season_weather(districts, history, days)
                supply_season = xr.DataArray(np.full(days, supply * factor), dims="time", coords={"time": weather.time.values})
                national, runs = board_split.start(districts, boards, weather, supply_season, order)
                ensemble = outlook(districts, boards, history, order, start=START, supply_m3_day=supply * factor,
                                   horizon_days=days, storage=national.storage_end_m3,
                                   deficit_initial_mm=national.deficit_end_mm, district_station=stations)
                results.append((runs.dataset(), ensemble, national))
        (allocation, ensemble, national), (allocation0, ensemble0, national0) = results
        xr.testing.assert_identical(allocation, allocation0)
        xr.testing.assert_identical(ensemble, ensemble0)
        np.testing.assert_array_equal(national.source_fraction, national0.source_fraction)
    return (f"results bit-identical to the previous kernel ({n_districts} districts, {n_members} members, "
            f"{days} days, the source at 2, 0.5 and 0.1 of its supply)")


def season_weather(districts, history, days):
    """The weather of the season before the outlook (``days`` from 1 April of the last past
    year) per district, mm/day: what the daily run's national pass and boards work on."""
    first = pd.Timestamp(history.time.values[-1]).year
    window = history.sel(time=pd.date_range(f"{first}-04-01", periods=days))
    weather = window.sel(station=xr.DataArray(districts["station"].to_numpy(), dims="district")).drop_vars("station")
    return weather.assign_coords(district=districts["district_id"].to_numpy()).load()


def run_stage(districts, boards, history, supply, days, order, client):
    """As pipelines.allocation.run: the national pass, then the water boards and the
    outlook members side by side on the cluster. Returns the times of the parts."""
    weather = season_weather(districts, history, days)
    supply_season = xr.DataArray(np.full(days, supply), dims="time", coords={"time": weather.time.values})
    t0 = time.perf_counter()
    national, board_runs = board_split.start(districts, boards, weather, supply_season, order, client=client)
    t_national = time.perf_counter()
    ensemble = outlook(
        districts, boards, history, order, start=START, supply_m3_day=supply, horizon_days=days,
        storage=national.storage_end_m3, deficit_initial_mm=national.deficit_end_mm,
        district_station=districts.set_index("district_id")["station"], client=client,
    )
    t_members = time.perf_counter()
    allocation = board_runs.dataset()
    t_end = time.perf_counter()
    return {
        "national pass": t_national - t0,
        f"{ensemble.attrs['members']} members (boards alongside)": t_members - t_national,
        "boards' remaining wait and assembly": t_end - t_members,
        "whole stage": t_end - t0,
    }, allocation


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def cpu_seconds() -> tuple[float, float]:
    """User and system CPU time of this process and its children (the Dask workers) so far."""
    me = psutil.Process()
    user, system = me.cpu_times().user, me.cpu_times().system
    for child in me.children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.Error:
            continue
        user, system = user + times.user, system + times.system
    return user, system


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--districts", type=int, default=10_000)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--days", type=int, default=183)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-check", action="store_true", help="skip the bit-identity check against the previous kernel")
    args = parser.parse_args()
    from distributed import get_task_stream

    order = PriorityOrder.default()
    print(load())
    if not args.no_check:
        print(check_identical(order))
    districts, boards, history, supply = setup(args.districts, args.members)
    print(f"{args.districts} districts, 21 boards, {args.members} members, {args.days} days")
    one_member_profile(districts, boards, history, supply, args.days, order)  # compiles or loads the kernels
    timings, short = one_member_profile(districts, boards, history, supply, args.days, order)
    print("one member, serial: " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()) + f" (shortage on {short:.0%} of days)")
    kernel_s, pass_s, size = kernel_against_memory(districts, boards, history, supply, args.days, order)
    print(f"kernel over one member's {args.days} days {kernel_s * 1e3:.0f} ms ({kernel_s / args.days * 1e3:.2f} ms per national day); "
          f"a memory-bound pass over the same arrays ({size:.0f} MiB) {pass_s * 1e3:.0f} ms: "
          f"kernel/memory pass = {kernel_s / pass_s:.1f}x")
    for workers in args.workers:
        with dask_client(None, workers=workers) as client:
            client.run(lambda: __import__("models.allocation.outlook"))  # the workers import the models once
            cpu_before = cpu_seconds()
            with PeakMemory() as memory, get_task_stream(client) as stream:
                parts, allocation = run_stage(districts, boards, history, supply, args.days, order, client)
            user, system = (after - before for after, before in zip(cpu_seconds(), cpu_before, strict=True))
        sizes = f"allocation {allocation.nbytes / 2**20:.0f} MiB"
        print(f"{workers} worker(s): " + ", ".join(f"{k} {v:.1f} s" for k, v in parts.items())
              + f"; peak memory {memory.peak / 2**30:.2f} GiB ({sizes}); CPU user {user:.1f} s, system {system:.1f} s; {load()}")
        print("  on the workers: " + task_times(stream.data))


def task_times(tasks) -> str:
    """Compute time per kind of task (a water board, a member) as the workers report it."""
    by_kind: dict[str, list[float]] = {}
    for task in tasks:
        compute = sum(s["stop"] - s["start"] for s in task["startstops"] if s["action"] == "compute")
        by_kind.setdefault(task["key"].split("-", 1)[0], []).append(compute)
    return ", ".join(f"{kind} {len(v)} tasks, {sum(v):.1f} s in all, {np.mean(v):.2f} s each"
                     for kind, v in sorted(by_kind.items()) if kind in ("allocate_board", "run_members"))


if __name__ == "__main__":
    main()
