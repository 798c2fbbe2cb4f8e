"""A process of its own that draws the charts while the run writes its pages.

matplotlib's SVG drawing is most of the publication's time (on the demo 14 drawings of about
60 ms, 0.85 s of publish-site's 1.3 s) and holds the GIL, while the machine's other core has
little to do once Prefect's server has answered. So ``droogte run`` starts one worker process
(:func:`start`) before its flow; ``dashboards.charts`` hands it each drawing and returns at
once, the run's process goes on with the pages, and a chart's SVG is waited for where a page
first reads it. The drawings are the same bytes as drawn in the run's process.

Why a fork, as for the read-ahead of the source files (``pipelines/ingest/prefetch.py``): a
new interpreter would first import pandas and matplotlib again (about 1.2 s of CPU); the
forked worker has pandas already and imports matplotlib while Prefect's server starts. It is
forked only while the run has a single thread, where forking is safe; otherwise there is no
worker. Without one (the tests, a library caller, a machine with one core) each drawing is
made where it is asked for, as before. A worker that dies is replaced by drawing in the run's
process; a drawing that fails raises its error in the run, as it would have there. The worker
is a descendant of the run: its stop handlers and orphan guard (``pipelines/lifecycle.py``)
end it with the run.
"""

from __future__ import annotations

import atexit
import gc
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

# The drawing functions are closures over their data (dashboards/charts.py), which the
# standard pickle cannot send; cloudpickle (dask's) sends them by value.
import cloudpickle

log = logging.getLogger(__name__)

_pool: ProcessPoolExecutor | None = None

#: Set ``DROOGTE_CHART_WORKER=0`` to draw every chart in the run's own process (as before).
_SWITCH = "DROOGTE_CHART_WORKER"


def start() -> bool:
    """Fork the worker (once; not with a single core or where this process runs threads) and
    let it import matplotlib now. Returns whether a worker runs."""
    global _pool
    if _pool is not None:
        return True
    if (len(os.sched_getaffinity(0)) < 2 or threading.active_count() != 1 or not hasattr(os, "fork")
            or os.environ.get(_SWITCH, "1") == "0"):
        return False
    _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"),
                                initializer=_worker_ready)
    _pool.submit(int)  # forks now (with this single thread), not at the first chart
    atexit.register(stop)
    return True


def stop() -> None:
    """Stop the worker, dropping drawings nobody waits for (at the end of the run)."""
    global _pool
    pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def submit(height_pt: float, draw: Callable) -> Future | None:
    """The worker's drawing of ``draw`` in every language (a future of ``{lang: svg}``), or
    None without a worker (the caller draws it)."""
    if _pool is None:
        return None
    try:
        return _pool.submit(_draw, cloudpickle.dumps((height_pt, draw)))
    except (BrokenProcessPool, RuntimeError) as exc:  # gone, or shut down at exit
        log.warning("chart worker unavailable (%s); charts are drawn in the run's process", exc)
        stop()
        return None


def _worker_ready() -> None:
    """In the worker, first: the default signal handling (a Ctrl+C ends it; the run's handlers
    are the run's), matplotlib and the charts' style imported, garbage collection as usual
    (``droogte`` pauses it while it imports: pipelines/cli.py)."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)
    import dashboards.charts  # noqa: F401

    gc.freeze()
    gc.enable()


def _draw(payload: bytes) -> dict[str, str]:
    from dashboards.charts import drawn_in_every_language

    height_pt, draw = cloudpickle.loads(payload)
    return drawn_in_every_language(height_pt, draw)
