"""Benchmark: SPI-3 and the precipitation deficit for many daily series of 40 years.

Serial (numpy in this process) and on a local Dask cluster of two single-threaded worker
processes (series split into chunks, time in one chunk). Reports wall time and peak memory:
serial as the peak of traced allocations (tracemalloc), Dask as the workers' peak resident
memory. Synthetic gamma-distributed precipitation, seeded.

    python -m benchmarks.bench_indicators --series 1000   (from the checkout root)
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from models.deficit import precipitation_deficit
from models.spi import spi


def synthetic(series: int, years: int, chunk: int | None) -> tuple[xr.DataArray, xr.DataArray]:
    days = pd.date_range("1985-01-01", periods=int(round(365.25 * years)), freq="D")
    shape = (series, len(days))
    if chunk:
        state = da.random.RandomState(42)
        p = state.gamma(0.5, 4.0, size=shape, chunks=(chunk, -1))
        e = state.uniform(0.0, 4.0, size=shape, chunks=(chunk, -1))
    else:
        rng = np.random.default_rng(42)
        p, e = rng.gamma(0.5, 4.0, shape), rng.uniform(0.0, 4.0, shape)
    coords = {"series": np.arange(series), "time": days}
    as_array = lambda values: xr.DataArray(values, dims=("series", "time"), coords=coords, attrs={"units": "mm/day"})  # noqa: E731
    return as_array(p), as_array(e)


def run(p: xr.DataArray, e: xr.DataArray) -> tuple[float, float]:
    start = time.perf_counter()
    spi(p, window_days=91).data.sum().compute() if p.chunks else spi(p, window_days=91).sum().item()
    spi_seconds = time.perf_counter() - start
    start = time.perf_counter()
    result = precipitation_deficit(p, e)
    result.data.sum().compute() if p.chunks else float(np.nansum(result.values))
    return spi_seconds, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--years", type=int, default=40)
    parser.add_argument("--chunk", type=int, default=250, help="series per Dask chunk")
    args = parser.parse_args()
    gigabytes = args.series * 365.25 * args.years * 8 / 1e9
    print(f"{args.series} series x {args.years} years (one input array {gigabytes:.2f} GB)")

    tracemalloc.start()
    p, e = synthetic(args.series, args.years, None)
    spi_s, deficit_s = run(p, e)
    peak = tracemalloc.get_traced_memory()[1] / 1e9
    tracemalloc.stop()
    print(f"serial : SPI-3 {spi_s:7.2f} s, deficit {deficit_s:7.2f} s, peak traced memory {peak:.2f} GB")
    del p, e

    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
        p, e = synthetic(args.series, args.years, args.chunk)
        spi_s, deficit_s = run(p, e)
        peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6)  # kB → GB
        print(f"dask x2: SPI-3 {spi_s:7.2f} s, deficit {deficit_s:7.2f} s, "
              f"worker peak RSS {', '.join(f'{v:.2f}' for v in peaks.values())} GB")


if __name__ == "__main__":
    main()
