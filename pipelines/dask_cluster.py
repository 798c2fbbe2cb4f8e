"""Where the allocation runs: a local Dask cluster by default, an existing scheduler when named.

The flow does not use ``prefect_dask.DaskTaskRunner``: that would put Prefect tasks on the
Dask workers, which then need Prefect installed and a reachable Prefect API. Instead one
ordinary Prefect task opens a ``distributed.Client`` and hands plain numpy/xarray work to the
workers (``models/allocation/parallel.py``), so a Dask cluster of any kind — a ``dask scheduler`` on a
set of VMs, Kubernetes, a cloud service — needs only this package's ``models`` importable.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import dask
from distributed import Client, LocalCluster

log = logging.getLogger(__name__)

#: glibc malloc settings of the local workers, set before they start. Dask sets
#: ``MALLOC_TRIM_THRESHOLD_`` to 64 KiB so a worker hands freed memory back at once; with that
#: setting glibc also stops raising its mmap threshold, so every array above 128 KiB is a fresh
#: mapping, faulted in page by page and unmapped when freed. The allocation's tasks make and
#: drop arrays of 10-30 MB over and over (a member's weather, demand and results): at national
#: size that was about 8 GB of page faults and 15 s of system time per stage. Served from the
#: heap up to 32 MiB (glibc's largest mmap threshold) and keeping up to 256 MiB free for the
#: next task, a member on a worker faulted in 0.1 GiB instead of 0.5 GiB
#: (``benchmarks/bench_allocation.py``).
WORKER_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(32 * 2**20), "MALLOC_TRIM_THRESHOLD_": str(256 * 2**20)}

#: Dask settings of the local cluster. Its workers' statistical profiler (a look at every
#: worker thread's stack every 10 ms) and the host-wide disk counters of its system monitor
#: feed only its dashboard, which the local cluster does not show (a random loopback port,
#: never logged): they cost about 0.1 s of CPU in an allocation stage of 4-5 s at national size
#: (``benchmarks/bench_allocation.py``). A scheduler named in the setup keeps its own settings.
LOCAL_CLUSTER_CONFIG = {"distributed.worker.profile.enabled": False, "distributed.admin.system-monitor.disk": False}


@contextlib.contextmanager
def dask_client(address: str | None = None, *, workers: int = 2, processes: bool = True) -> Iterator[Client]:
    """A ``Client`` to the scheduler at ``address``, or to a fresh loopback ``LocalCluster``.

    The local cluster has ``workers`` workers of one thread each, listens on 127.0.0.1 only
    and has no dashboard. Without ``processes`` (the default of the stage at every size,
    ``dask.process_workers_from_districts``) the workers are threads of this process: they
    start in milliseconds instead of seconds (a worker process imports numpy, xarray and the
    models and loads the compiled kernels, and takes seconds to close), share this process's
    imports and inputs and hand their results over without copies; the compiled kernels,
    nearly all of a member's time, run in parallel as they release the GIL (``models/jit.py``).
    At national size two worker threads took about 1.7 GiB at peak against 2.5 GiB for two
    processes (``benchmarks/bench_allocation.py --cluster threads processes``). With
    ``processes`` each worker is a process.
    """
    # The cluster's own start/stop chatter (and the benign "Batched Comm Closed" trace when
    # workers close) would drown the run's progress lines; its warnings still show.
    logging.getLogger("distributed").setLevel(logging.WARNING)
    if address:
        log.info("allocation on the Dask scheduler at %s", address)
        with Client(address, timeout="30s") as client:
            yield client
        return
    # Worker threads talk to the scheduler in memory (inproc://, no socket at all); worker
    # processes over TCP on loopback, started with the malloc settings above (threads share
    # this process's allocator: the settings apply to worker processes only).
    where = {"host": "127.0.0.1"} if processes else {"protocol": "inproc"}
    environ = {f"distributed.nanny.pre-spawn-environ.{k}": v for k, v in WORKER_MALLOC.items()}
    with dask.config.set({**environ, **LOCAL_CLUSTER_CONFIG}), LocalCluster(n_workers=workers, threads_per_worker=1, processes=processes,
                                                **where, dashboard_address="127.0.0.1:0") as cluster, \
            Client(cluster) as client:
        log.info("allocation on a local Dask cluster of %d worker %s", workers, "processes" if processes else "threads")
        yield client
