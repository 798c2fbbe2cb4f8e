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

from distributed import Client, LocalCluster

log = logging.getLogger(__name__)


@contextlib.contextmanager
def dask_client(address: str | None = None, *, workers: int = 2) -> Iterator[Client]:
    """A ``Client`` to the scheduler at ``address``, or to a fresh loopback ``LocalCluster``.

    The local cluster uses worker processes (one thread each) so that numpy work on two cores
    really runs in parallel; it listens on 127.0.0.1 only and has no dashboard.
    """
    # The cluster's own start/stop chatter (and the benign "Batched Comm Closed" trace when
    # workers close) would drown the run's progress lines; its warnings still show.
    logging.getLogger("distributed").setLevel(logging.WARNING)
    if address:
        log.info("allocation on the Dask scheduler at %s", address)
        with Client(address, timeout="30s") as client:
            yield client
        return
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as client:
        log.info("allocation on a local Dask cluster of %d workers", workers)
        yield client
