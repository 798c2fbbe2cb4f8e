"""Benchmark: the allocation stage at national scale (21 water boards, 10,000 districts, a
183-day season, then 50 outlook members of 183 days).

Synthetic but realistic-sized input: districts spread over 21 boards, weather from 11
stations over past years, a national source that binds on dry days. Runs the stage as
``pipelines.allocation.run`` does, on the stage's own local Dask cluster
(:func:`pipelines.dask_cluster.dask_client`, 1 and 2 workers; threads of this process, the
stage's default, or processes with ``--cluster processes``): today's state from the
districts' own water, then the national pass over the season in a thread of this process
(it writes the season's allocation, a 748 MiB Dataset, as it goes) while the outlook members
run on the workers (a few tasks of several members per worker thread, each member its own
compiled loop over its days, ``models/allocation/member.py``), then the season's Dataset.
Prints, in this order:

- the check that the stage's results (allocation, outlook, national fractions and state)
  are bit for bit those of the stage before issue 19 (``benchmarks/allocation_previous.py``:
  the previous kernel and chunking, the water boards as tasks, the members and summary as
  they were) at a reduced size (2,000 districts, 4 members, 61 days, the source at 2, 0.5
  and 0.1 of its supply);
- one member as a task runs it, CPU time of the thread;
- members in one thread, then in two threads at once (no national pass, no Dask), CPU time
  per member of the threads, at 2,000 districts and at the stated size;
- the national kernel over one member's horizon against a memory-bound pass over the same arrays
  (its inputs read once, its seven outputs written once, nothing computed), in CPU time of
  the thread, and their ratio;
- per cluster: wall time per part and of the whole stage, peak memory (resident set of this
  process and any worker processes and nannies), CPU time (user, system) of all of them,
  the load average, the compute time of the member tasks as the workers report it (wall
  time: it includes waiting for a core), and the CPU time by thread of this process.

The national kernel (``network._allocate_days``) runs the season; the members run their own
day loop (``member.py``), which shares the kernel's priority step and writes no allocation.

Figures at the stated size on this machine's 2 cores, 30 November 2026, each column on a
nearly quiet machine (load average 0.6-1.4): the code before issue 19; after its first round
(water-board results placed as they came, members a few to a task); after its second (no
water-board tasks: the national pass keeps the season in a thread beside the members; worker
threads; each member one compiled loop through the national kernel); and now (each member its
own day loop, by use over all districts, uses few districts have over those only, shortage
counted straight from the shared step; the local cluster without its dashboard's profiler;
the daily probability's array made while the members run):

| | before issue 19 | first round | second round | now (load 1.0-1.3, two runs) |
|---|---|---|---|---|
| whole stage, 1 worker | 37.6 s | 17.5-19.7 s | 7.5-8.1 s | 3.5 s (CPU 3.7 s user + 1.2-1.3 s system) |
| whole stage, 2 workers | 20.6 s | 14.7 s | 5.9-6.1 s | 2.3-2.4 s (CPU 3.8-4.2 s user + 0.3 s system) |
| peak memory, 1 / 2 workers | 3.13 / 4.03 GiB | 2.42-2.51 / 3.84 GiB | 1.48-1.49 / 1.54-1.61 GiB | 1.52-1.58 / 1.61-1.64 GiB (0.38-0.58 before the stage) |
| member tasks' compute on the workers, 1 / 2 workers | | 15.4 s / | 6.3-7.3 s / 9.2-9.5 s | 3.2 s / 3.6-4.1 s (wall time of the tasks) |
| one member in one process | 0.31 s | 0.25-0.26 s | 0.107-0.110 s | 54-57 ms (CPU of the thread) |
| members one / two threads at once, 10,000 districts | | | 109-139 / 125-172 ms | 56-59 / 55-63 ms |
| national kernel over one member's 183 days / memory-bound pass | (not measured) | 132-152 ms / 27-29 ms = 4.6-5.6x | 87-91 ms / 26-28 ms = 3.2-3.3x | 84 ms / 26-27 ms = 3.1-3.2x |

The issue's own figures were 17.7 s / 14.8 s and 4.45 GiB; its targets 6 s / 3 s and 2 GiB:
all met now. Where the stage's time goes (CPU by thread, two workers): the worker threads
3.2-3.5 s (50 members, 63-71 ms each: a member beside the other worker, the national pass
and the gathering thread costs a little more than alone), the gathering main thread 0.4-0.5 s
(today's state, the outlook's setup, adding each task's counts, the summary), the national
pass 0.3-0.4 s, Dask's event loop 0.15 s; about 4.5 s of CPU in all, of which about 0.3 s at
the start (today's state, the outlook's setup, the first tasks on their way) and 0.1 s at the
end (the last task's counts, the summary's quantiles and daily shares, the season's Dataset)
run alone on one core. System time is mostly memory faulted in where a new array is first
written (the season's 748 MiB, the outlook's 176 MB of daily probabilities): 1.2-1.3 s in the
first stage of the process (one worker), 0.3 s in the next.

Where the member's time went (CPU of one member at national size, alone): through the
national kernel 107-110 ms, of which its first pass (the local water of each district, use
after use, a chain of twelve dependent additions per district; the outputs written) 40-48
ms, the priority steps (each writing its allocation, inlet and limit codes across a
(district, use) array) about 30 ms, the day's demand 19 ms and the count of short uses 19 ms
(two more passes over 120,000 values a day). The member's own loop takes the local water per
use over all districts (no chain between districts: the compiler makes vector instructions
of it; about 14 ms in a profile), runs a use that fewer than half of the districts have over
those only (cooling water, shipping, industry...: a zero demand changes nothing), spreads
the day's weather to the districts before the vectorised local-water arithmetic (about 8
ms), shares the kernel's step but writes only what each listed district got (about 10 ms),
and counts shortage straight from it (about 7 ms): 54-57 ms, bit for bit the same shortages.
Tasks that shrink towards the end ("guided") were tried: 2.2-3.3 s against 2.2-2.6 s for
equal tasks (the client takes results in the members' order, two per worker thread at most,
so a large first task held the others back).

Earlier rounds, for the record: the 21 water-board tasks recomputed the season the national
pass had already computed (1.6 s of CPU) and sent 748 MiB back to the client (system time
from page faults, the peak memory); the outlook members now start from today's state
computed from the districts' own water (storage never holds shared water; checked against
the national pass when it ends), so the national pass runs beside them. A member was about
0.08 s of task overhead, its weather spread to 10,000 districts, its demand in numpy
temporaries and its checks per chunk of days (then one compiled loop reading the stations'
columns, checked once). The national kernel's second round moved the input checks into the
kernel (two numpy passes over the 176 MB of demand, 13 ms), stored district and board numbers
unsigned (numba's code for negative indices in every inner loop, about 16 ms) and made one
pass per priority step instead of three. Two worker threads were never held back by the GIL
(at 2,000 districts members cost the same CPU in one thread or two); at 10,000 districts the
members through the national kernel slowed each other (a member's day then worked on about
10 MB of arrays, sharing the L3 and the memory bus), the member's own loop hardly does
(55-63 ms in pairs against 56-59 ms alone). Wall times are only comparable on a quiet
machine: under a load average of 13-17 the stage of the first round took 248-289 s of wall
time for 49-65 s of CPU. With worker processes (``--cluster processes``, the first round's
kernel, load 12-15) CPU and peak memory were 15.8 + 5.1 s and 2.08 GiB with one worker,
22.8 + 6.6 s and 2.54 GiB with two. The first numpy implementation of a member took 13 s.

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
from models.allocation import outlook as outlook_module
from models.allocation.outlook import _member_weather, _weather_columns, member_window, outlook, run_members
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


def resident() -> int:
    """Resident set of this process and its children (the Dask workers), bytes."""
    me = psutil.Process()
    rss = me.memory_info().rss
    for child in me.children(recursive=True):
        try:
            rss += child.memory_info().rss
        except psutil.Error:
            pass
    return rss


class PeakMemory:
    """Peak resident memory of this process and its children, sampled every 50 ms; and the
    CPU time (user + system) of this process's threads meanwhile, by thread name."""

    def __enter__(self):
        self.peak, self._stop = 0, threading.Event()
        self._start = self._cpu()
        self._thread = threading.Thread(target=self._sample, daemon=True, name="benchmark sampler")
        self._thread.start()
        return self

    @staticmethod
    def _cpu() -> tuple[float, dict[int, float]]:
        me = psutil.Process()
        times = me.cpu_times()
        return times.user + times.system, {t.id: t.user_time + t.system_time for t in me.threads()}

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, resident())
            time.sleep(0.05)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._end = self._cpu()
        self._names = {t.native_id: t.name for t in threading.enumerate()}

    def cpu_by_thread(self) -> dict[str, float]:
        """CPU seconds per kind of thread (Dask worker threads together), largest first. A
        thread that ended in between (the national pass, the sampler) is not listed by the
        system any more: the process's CPU time less that of the listed threads is theirs."""
        (total0, start), (total1, end) = self._start, self._end
        by_name: dict[str, float] = {}
        for tid, cpu in end.items():
            name = self._names.get(tid, "other threads")
            kind = "Dask worker threads" if "Dask-Default-Threads" in name else name
            by_name[kind] = by_name.get(kind, 0.0) + cpu - start.get(tid, 0.0)
        by_name["threads that ended (the national pass, the sampler)"] = (total1 - total0) - sum(by_name.values())
        return dict(sorted(((k, v) for k, v in by_name.items() if v >= 0.05), key=lambda kv: -kv[1]))


def one_member_profile(districts, boards, history, supply, days, order, repeat=3):
    """One member as an outlook task runs it (:func:`models.allocation.outlook.run_members`:
    each day's demand and local water straight from the stations' weather, the kernel, the
    count of short uses, in one compiled loop), in this thread: CPU time, best of ``repeat``,
    and the share of days with a shortage somewhere."""
    table = district_table(districts)
    network = Network.from_tables(table, boards)
    stations = districts.set_index("district_id")["station"].astype(str).reindex(table.index).to_numpy()
    start = pd.Timestamp(START.replace("2026", str(history.time.dt.year.values[0])))
    p, e, of_district = _weather_columns(member_window(history, start.year, start, days).load(), table.index, stations)
    shared = dict(table=table, network=network, order=order, supply=np.full(days, supply), storage=None,
                  deficit_initial_mm=0.0, district_station=stations, of_district=of_district)
    item = (start.year, (p, e), None)
    whole = []
    for _ in range(repeat):
        t0 = time.thread_time()
        _, short_days = run_members([item], **shared)
        whole.append(time.thread_time() - t0)
    return {"whole member": min(whole)}, short_days.any(axis=(1, 2)).mean()


def members_in_threads(districts, boards, history, supply, days, order, n_members=10, repeat=2):
    """``n_members`` members run as an outlook task runs them (:func:`run_members`), in one
    thread, then half of them in each of two threads at once; no national pass, no Dask:
    the CPU time per member of the threads themselves (``time.thread_time``), ``repeat``
    times alternated. Two threads that needed the GIL would wait (wall time), not spend CPU;
    what rises here is the members' own compiled code slowing down beside each other."""
    table = district_table(districts)
    network = Network.from_tables(table, boards)
    stations = districts.set_index("district_id")["station"].astype(str).reindex(table.index).to_numpy()
    p_all, e_all, of_district = _weather_columns(history, table.index, stations)
    history_days = pd.DatetimeIndex(history["time"].values)
    start = pd.Timestamp(START)
    items = []
    for year in sorted(set(history_days.year)):
        window = outlook_module._window_arrays(p_all, e_all, history_days, year, start, days)
        if window is not None and len(items) < n_members:
            items.append((year, window, None))
    shared = dict(table=table, network=network, order=order, supply=np.full(days, supply), storage=None,
                  deficit_initial_mm=0.0, district_station=stations, of_district=of_district.astype(np.intp))

    def run(batch, cpu, k):
        t0 = time.thread_time()
        run_members(batch, **shared)
        cpu[k] = time.thread_time() - t0

    per_member = {1: [], 2: []}
    for _ in range(repeat):
        for threads in (1, 2):
            cpu: dict[int, float] = {}
            half = len(items) // 2
            batches = [items] if threads == 1 else [items[:half], items[half:]]
            running = [threading.Thread(target=run, args=(batch, cpu, k)) for k, batch in enumerate(batches)]
            for thread in running:
                thread.start()
            for thread in running:
                thread.join()
            per_member[threads].append(sum(cpu.values()) / len(items))
    return per_member


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
def previous_stage():
    """The allocation stage as it was before issue 19 (benchmarks/allocation_previous.py):
    the previous kernel and chunking in the national pass, the water boards as tasks of their
    own put together as before, the outlook's members and summary as before."""
    saved = (board_split.allocate_in_chunks, board_split.allocate_arrays, board_split.BoardRuns.dataset,
             board_split.running_deficit, outlook_module.run_members, outlook_module.combine_members,
             outlook_module.ShortageSummary)

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
        return allocation_previous.allocation_dataset(self.network, self.order, self.time, whole.pop("demand"), whole)

    def national_chunks(*args, into=None, **kwargs):
        assert into is None
        return allocation_previous.allocate_in_chunks(*args, **kwargs)

    board_split.allocate_in_chunks, board_split.allocate_arrays = national_chunks, allocation_previous.allocate_arrays
    board_split.BoardRuns.dataset = dataset
    board_split.running_deficit = allocation_previous.running_deficit
    outlook_module.run_members = allocation_previous.run_members
    outlook_module.combine_members = allocation_previous.combine_members
    outlook_module.ShortageSummary = allocation_previous.ShortageSummary
    try:
        yield
    finally:
        (board_split.allocate_in_chunks, board_split.allocate_arrays, board_split.BoardRuns.dataset,
         board_split.running_deficit, outlook_module.run_members, outlook_module.combine_members,
         outlook_module.ShortageSummary) = saved


def check_identical(order, n_districts=2000, n_members=4, days=61):
    """The stage (season and outlook, in this process) as it is today and as it was before
    issue 19 (:func:`previous_stage`) at a reduced size, at three levels of the national
    source: the results must be equal bit for bit. Returns a line for the report; raises
    AssertionError where they differ."""
    districts, boards, history, supply = setup(n_districts, n_members, seed=1)
    stations = districts.set_index("district_id")["station"]
    for factor in (2.0, 0.5, 0.1):  # hardly binding, binding, very short
        results = []
        for previous in (False, True):
            with previous_stage() if previous else contextmanager(lambda: (yield))():
                weather = season_weather(districts, history, days)
                supply_season = xr.DataArray(np.full(days, supply * factor), dims="time", coords={"time": weather.time.values})
                national, runs = board_split.start(districts, boards, weather, supply_season, order,
                                                   board_tasks=previous, background=not previous)
                ensemble = outlook(districts, boards, history, order, start=START, supply_m3_day=supply * factor,
                                   horizon_days=days, storage=national.storage_end_m3,
                                   deficit_initial_mm=national.deficit_end_mm, district_station=stations)
                results.append((runs.dataset(), ensemble, national))
        (allocation, ensemble, national), (allocation0, ensemble0, national0) = results
        xr.testing.assert_identical(allocation, allocation0)
        xr.testing.assert_identical(ensemble, ensemble0)
        np.testing.assert_array_equal(national.source_fraction, national0.source_fraction)
        np.testing.assert_array_equal(national.storage_end_m3, national0.storage_end_m3)
        assert (allocation["limit"] == network_module.SOURCE).any() or factor > 1
    return (f"results bit-identical to the stage before issue 19 ({n_districts} districts, {n_members} members, "
            f"{days} days, the source at 2, 0.5 and 0.1 of its supply)")


def season_weather(districts, history, days):
    """The weather of the season before the outlook (``days`` from 1 April of the last past
    year) per district, mm/day: what the daily run's national pass and boards work on."""
    first = pd.Timestamp(history.time.values[-1]).year
    window = history.sel(time=pd.date_range(f"{first}-04-01", periods=days))
    weather = window.sel(station=xr.DataArray(districts["station"].to_numpy(), dims="district")).drop_vars("station")
    return weather.assign_coords(district=districts["district_id"].to_numpy()).load()


def run_stage(districts, boards, history, supply, days, order, client):
    """As pipelines.allocation.run: today's state from the districts' own water, then the
    national pass over the season (which keeps the season's allocation) in a thread of this
    process while the outlook members run on the cluster, then the season's Dataset. Returns
    the times of the parts and the Dataset."""
    weather = season_weather(districts, history, days)
    supply_season = xr.DataArray(np.full(days, supply), dims="time", coords={"time": weather.time.values})
    t0 = time.perf_counter()
    national, season = board_split.start(districts, boards, weather, supply_season, order, background=True)
    t_national = time.perf_counter()
    ensemble = outlook(
        districts, boards, history, order, start=START, supply_m3_day=supply, horizon_days=days,
        storage=national.storage_end_m3, deficit_initial_mm=national.deficit_end_mm,
        district_station=districts.set_index("district_id")["station"], client=client,
    )
    t_members = time.perf_counter()
    allocation = season.dataset()
    t_end = time.perf_counter()
    return {
        "today's state": t_national - t0,
        f"{ensemble.attrs['members']} members (the national pass alongside)": t_members - t_national,
        "national pass's remaining wait and the season's Dataset": t_end - t_members,
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
    parser.add_argument("--cluster", choices=("threads", "processes"), nargs="+", default=["threads"],
                        help="the local cluster's workers: threads of this process or processes")
    parser.add_argument("--no-check", action="store_true", help="skip the bit-identity check against the stage before issue 19")
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
    print("one member, serial, CPU time: " + ", ".join(f"{k} {v * 1e3:.0f} ms" for k, v in timings.items())
          + f" (shortage on {short:.0%} of days)")
    # At 2,000 districts a member's day (about 2 MB of arrays) fits a core's 1 MiB L2 nearly;
    # at 10,000 (about 10 MB) the two threads share the L3 and the memory bus.
    for n_districts in sorted({2000, args.districts}):
        sized = (districts, boards, history, supply) if n_districts == args.districts else setup(n_districts, args.members)
        threads = members_in_threads(*sized, args.days, order, n_members=10 if n_districts > 2000 else 40)
        print(f"members in 1 / 2 threads at once, {n_districts} districts (no national pass, no Dask), CPU per member "
              "of the threads: " + ", ".join(f"{a * 1e3:.0f} / {b * 1e3:.0f} ms" for a, b in
                                               zip(threads[1], threads[2], strict=True)))
    kernel_s, pass_s, size = kernel_against_memory(districts, boards, history, supply, args.days, order)
    print(f"kernel over one member's {args.days} days {kernel_s * 1e3:.0f} ms ({kernel_s / args.days * 1e3:.2f} ms per national day); "
          f"a memory-bound pass over the same arrays ({size:.0f} MiB) {pass_s * 1e3:.0f} ms: "
          f"kernel/memory pass = {kernel_s / pass_s:.1f}x")
    for workers, kind in ((w, k) for k in args.cluster for w in args.workers):
        with dask_client(None, workers=workers, processes=kind == "processes") as client:
            client.run(lambda: __import__("models.allocation.outlook"))  # the workers import the models once
            cpu_before = cpu_seconds()
            before = resident()
            with PeakMemory() as memory, get_task_stream(client) as stream:
                parts, allocation = run_stage(districts, boards, history, supply, args.days, order, client)
            user, system = (after - before for after, before in zip(cpu_seconds(), cpu_before, strict=True))
        sizes = f"allocation {allocation.nbytes / 2**20:.0f} MiB"
        print(f"{workers} worker {kind}: " + ", ".join(f"{k} {v:.1f} s" for k, v in parts.items())
              + f"; peak memory {memory.peak / 2**30:.2f} GiB ({before / 2**30:.2f} GiB before the stage; {sizes}); CPU user {user:.1f} s, system {system:.1f} s; {load()}")
        print("  on the workers: " + task_times(stream.data))
        print("  CPU by thread of this process: " + ", ".join(f"{k} {v:.2f} s" for k, v in memory.cpu_by_thread().items()))
        del allocation  # not counted in the next run's memory


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
