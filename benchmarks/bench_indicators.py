"""Benchmark: SPI-3 and the precipitation deficit for many daily series of 40 years.

Sizes: 10,000 series (districts or grid cells) x 14,610 days (40 years, 1985-2024). The
input is synthetic and seeded: daily precipitation gamma(shape 0.5, scale 4 mm), reference
evaporation uniform 0-4 mm/day, float32 (0.58 GB per variable; the results are float64,
1.17 GB each). It is generated in blocks of ``--chunk`` series, each block from its own
seed, so the serial run and the Dask run see the same numbers and compare their checksums.

- serial: one process, numpy and the compiled kernels of ``models.indicators.spi`` / ``models.indicators.deficit``;
  peak memory is the process's peak resident set (``getrusage``).
- dask: a local cluster of two single-threaded worker processes; series in chunks of
  ``--chunk``, time in one chunk. Each worker generates its own blocks (nothing large is
  shipped from the client) and keeps them (``persist``); SPI and deficit are reduced to a sum on the
  workers, as a real run writes its blocks to storage instead of gathering them. Memory:
  each worker's peak (``VmHWM``) and final resident set, and the client's peak; run the two
  modes as separate commands so that the client's peak is the Dask run's alone.

Each step is timed on its own (generation, SPI-3, deficit; in serial mode also the
calendar-month totals and the monthly SPI-3 of them); the compiled kernels are loaded
from numba's cache before the clock starts.

Measured on 30 November 2026 (issue 19), serial, 10,000 series x 14,610 days, on the 2
cores shared with five other developers' work (load average 12-16 during the run, so wall
times were 4-8 times the CPU times; the CPU times are the figure to compare):

    serial : generate 63.6 s (8.4 s CPU), SPI-3 125.0 s (16.6 s CPU), deficit 13.2 s
             (1.6 s CPU); peak RSS 2.65 GB
             monthly totals 12.7 s (1.7 s CPU), monthly SPI-3 of the 480 months 5.0 s
             (0.7 s CPU)

The daily SPI-3 took 23.9 s CPU before (figures below): the gamma CDF afresh now takes
ln Γ of the fit computed once and its upper-tail continued fraction by the Wallis
recurrence, the density is computed only where a step to carry follows, and the shape's
Newton steps are a compiled loop. The Dask mode was not run again; its figures below are
from before.

Earlier (2 vCPUs shared with other work: CPU pressure 20-45 %
during the first runs, so wall times vary by ±30 %), 10,000 series x 14,610 days, chunks of
250 series:

    serial : generate 13.3 s, SPI-3 24.7 s (23.9 s CPU), deficit 1.9 s (1.8 s CPU);
             peak RSS 2.63 GB (input 1.17 GB + one result 1.17 GB + interpreter)
    dask x2: generate 11.4 s, SPI-3 21.2 s (26.5 s CPU of both workers), deficit 2.5 s
             (3.5 s CPU); worker peak RSS 1.12 and 1.06 GB (0.91 GB each at the end),
             client 0.29 GB; same checksums as serial. A second run, at CPU pressure
             45-57 %: SPI-3 28.7 s (27.4 s CPU), deficit 2.5 s

The SPI work splits evenly (40 tasks of about 0.6 s CPU, 13 s CPU per worker), but the two
workers got only about 60 % of a core each from the shared machine (26.5 s CPU in 21.2 s);
a test at 4,000 series showed the same (each worker busy 20 s for 6.3 s CPU), and two plain
Python processes ran only 1.4 times as fast as one at the time. On two free cores the
cluster should take about half the serial time (not measured here). The deficit is too
little work (45 ms per task) to gain from the cluster: there its time is scheduling and
memory traffic.

Where the time went before (per value, one core): SPI-3 about 165 ns: the gamma CDF carried from
day to day ~110 ns (of which the density ~27 ns and the CDF afresh at each month's start
~15 ns), ``ndtri`` ~20 ns, window sums, per-month sums and fit ~25 ns; scipy's ``gammainc``
alone took 200-500 ns at these shapes. The deficit about 13 ns, mostly memory traffic.
Generating the synthetic input (13 s) costs half as much as the SPI.
Before: 500 series took 12.3 s serial (SPI ~900 ns per value) and 24.2 s on the cluster;
now 1.5 s serial.

    python benchmarks/bench_indicators.py --series 10000 --mode serial
    python benchmarks/bench_indicators.py --series 10000 --mode dask
"""

from __future__ import annotations

import argparse
import resource
import time

import dask.array as da
import numpy as np
import pandas as pd
import psutil
import xarray as xr
from dask import delayed

from models.indicators.deficit import precipitation_deficit
from models.indicators.spi import monthly_totals, spi, spi_monthly

FIRST_DAY = "1985-01-01"


def days(years: int) -> pd.DatetimeIndex:
    return pd.date_range(FIRST_DAY, periods=int(round(365.25 * years)), freq="D")


def synthetic_block(block: int, size: int, n_days: int, variable: str) -> np.ndarray:
    """``size`` series of ``n_days`` of one variable (mm/day, float32), from block ``block``'s seed."""
    rng = np.random.default_rng([42, block, 0 if variable == "precipitation" else 1])
    if variable == "precipitation":
        return 4.0 * rng.standard_gamma(0.5, (size, n_days), dtype=np.float32)  # mean 2 mm/day
    return rng.uniform(0.0, 4.0, (size, n_days)).astype(np.float32)


def synthetic(series: int, years: int, chunk: int, *, lazy: bool) -> tuple[xr.DataArray, xr.DataArray]:
    """Precipitation and evaporation (``series``, ``time``), generated per block of ``chunk``
    series: on the workers when ``lazy`` (dask), at once here otherwise."""
    time_index = days(years)
    sizes = [min(chunk, series - start) for start in range(0, series, chunk)]
    arrays = []
    for variable in ("precipitation", "evaporation"):
        if lazy:
            blocks = [
                da.from_delayed(
                    delayed(synthetic_block, pure=True)(block, size, len(time_index), variable),
                    shape=(size, len(time_index)),
                    dtype=np.float32,
                )
                for block, size in enumerate(sizes)
            ]
            values = da.concatenate(blocks, axis=0)
        else:
            values = np.concatenate(
                [synthetic_block(block, size, len(time_index), variable) for block, size in enumerate(sizes)]
            )
        arrays.append(
            xr.DataArray(values, dims=("series", "time"), coords={"time": time_index}, attrs={"units": "mm/day"})
        )
    return arrays[0], arrays[1]


def total(result: xr.DataArray) -> float:
    """Sum of a result, NaN (outside the season, before the first full window) left out."""
    data = result.data
    if isinstance(data, da.Array):
        return float(da.nansum(data).compute())
    # Block by block: np.nansum copies its input, which would add a result's size to the peak.
    return float(sum(np.nansum(block) for block in np.array_split(data, max(1, len(data) // 250))))


def cpu_seconds() -> float:
    """CPU time (user + system) of this process so far."""
    times = psutil.Process().cpu_times()
    return times.user + times.system


def timed(step, cpu=cpu_seconds):
    """``(value, wall seconds, CPU seconds)`` of ``step()``; ``cpu`` reads the CPU clock(s)."""
    cpu_start, start = cpu(), time.perf_counter()
    value = step()
    return value, time.perf_counter() - start, cpu() - cpu_start


def _report(mode: str, generate, spi_step, deficit_step, memory: str) -> None:
    print(f"{mode}: " + ", ".join(
        f"{name} {wall:6.1f} s ({cpu:6.1f} s CPU)"
        for name, (_, wall, cpu) in (("generate", generate), ("SPI-3", spi_step), ("deficit", deficit_step))
    ) + f"; {memory}; checksums {spi_step[0]:.6e} {deficit_step[0]:.6e}")


def warm_up() -> None:
    """Load (or compile) the kernels: a few series through both indicators."""
    p, e = synthetic(2, 3, 2, lazy=False)
    spi(p, window_days=91).values, precipitation_deficit(p, e).values
    spi_monthly(monthly_totals(p), scale_months=3).values


def peak_rss_gb() -> float:
    """Peak resident memory of this process (GB): ``getrusage``'s ``ru_maxrss``."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB on Linux


def own_peak_rss_gb() -> float:
    """Peak resident memory of this process image (GB), from ``VmHWM`` in /proc/self/status.

    For the workers: Linux carries ``ru_maxrss`` over ``fork`` and ``exec``, so a worker
    spawned by a client that had grown would report the client's peak as its own."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1e6  # kB
    return peak_rss_gb()


def run_serial(args) -> None:
    warm_up()
    generate = timed(lambda: synthetic(args.series, args.years, args.chunk, lazy=False))
    p, e = generate[0]
    spi_step = timed(lambda: total(spi(p, window_days=91)))
    deficit_step = timed(lambda: total(precipitation_deficit(p, e)))
    _report("serial ", generate, spi_step, deficit_step, f"peak RSS {peak_rss_gb():.2f} GB")
    totals = timed(lambda: monthly_totals(p).compute())
    monthly = timed(lambda: total(spi_monthly(totals[0], scale_months=3)))
    print(f"serial : monthly totals {totals[1]:6.1f} s ({totals[2]:6.1f} s CPU), monthly SPI-3 {monthly[1]:6.1f} s "
          f"({monthly[2]:6.1f} s CPU) of {totals[0].sizes['time']} months; checksum {monthly[0]:.6e}")


def run_dask(args) -> None:
    from distributed import Client, LocalCluster, wait

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as client:
        client.run(warm_up)

        def workers_cpu() -> float:  # CPU seconds of both workers together
            return sum(client.run(cpu_seconds).values())

        p, e = synthetic(args.series, args.years, args.chunk, lazy=True)

        def generate_on_workers():
            persisted = client.persist([p, e])
            wait(persisted)
            return persisted

        generate = timed(generate_on_workers, workers_cpu)
        p, e = generate[0]
        spi_step = timed(lambda: total(spi(p, window_days=91)), workers_cpu)
        deficit_step = timed(lambda: total(precipitation_deficit(p, e)), workers_cpu)
        peaks = client.run(own_peak_rss_gb)
        now = client.run(lambda: psutil.Process().memory_info().rss / 1e9)
        _report("dask x2", generate, spi_step, deficit_step,
                f"worker peak RSS {', '.join(f'{v:.2f}' for v in peaks.values())} GB "
                f"(at the end {', '.join(f'{v:.2f}' for v in now.values())} GB), "
                f"client peak RSS {own_peak_rss_gb():.2f} GB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--years", type=int, default=40)
    parser.add_argument("--chunk", type=int, default=250, help="series per block (and Dask chunk)")
    parser.add_argument("--mode", choices=("serial", "dask", "both"), default="both")
    args = parser.parse_args()
    n_days = len(days(args.years))
    print(f"{args.series} series x {n_days} days ({args.years} years); float32 input "
          f"{args.series * n_days * 4 / 1e9:.2f} GB per variable, float64 results "
          f"{args.series * n_days * 8 / 1e9:.2f} GB each; chunks of {args.chunk} series")
    if args.mode in ("serial", "both"):
        run_serial(args)
    if args.mode in ("dask", "both"):
        run_dask(args)


if __name__ == "__main__":
    main()
