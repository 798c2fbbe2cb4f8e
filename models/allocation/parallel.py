"""Running independent allocations (water boards, outlook members) on a Dask cluster.

The caller passes a ``distributed.Client`` (a ``LocalCluster`` on one machine, a real
scheduler when the users outgrow it) or ``None`` to run in this process. Workers run plain
functions of ``models``; they need neither Prefect nor ``pipelines``.

Results are combined in the order of the items, never in the order they finish, so a run on
a cluster gives bit-for-bit the result of a serial run; at most ``window`` results wait on
the workers, which bounds memory however many items there are.

A worker may die at any moment (killed, out of memory, its machine gone). Dask reschedules a
task that was running on it, but data *scattered* to the workers is not recomputable: when
the copies are lost with the worker the tasks that need them are cancelled ("already
forgotten"), and a broadcast scatter to a worker that dies while it receives fails or hangs
in the scheduler's replication. So the shared inputs are not scattered: each is the result
of a small task that holds the value in its own definition (:func:`_hold`), which the
scheduler recomputes on another worker when the copy is lost; the workers fetch it from each
other as tasks need it. Should a result still be lost (a task cancelled, a worker killed too
often), the item is submitted again, with the shared inputs held afresh, up to
``MAX_ATTEMPTS`` times. The functions are deterministic, so a resubmitted item gives the
same result. An error raised by the function itself is never retried: it is raised as it is.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import CancelledError
from typing import Any

log = logging.getLogger(__name__)

#: How often an item is submitted in all before a lost result fails the run.
MAX_ATTEMPTS = 4


def _lost_errors() -> tuple[type[BaseException], ...]:
    """The exceptions by which the client learns that a result or an input was lost with a
    worker (or the connection to it), as opposed to an error of the task itself."""
    from distributed.comm.core import CommClosedError
    from distributed.scheduler import KilledWorker

    return (CancelledError, KilledWorker, CommClosedError)


class _Shared:
    """The shared arguments, held in the client and scattered again when copies were lost."""

    def __init__(self, client, shared: dict[str, Any]):
        self.client, self.values = client, shared
        self.generation = 0
        self._futures: dict[str, Any] | None = None

    def futures(self) -> dict[str, Any]:
        if self._futures is None:
            self._futures = {k: self.client.submit(_hold, v, pure=False) for k, v in self.values.items()}
        return self._futures

    def lost(self, generation: int) -> None:
        """A task submitted with scatter ``generation`` lost its result: scatter afresh once."""
        if generation == self.generation:
            self.generation += 1
            self._futures = None


class _Item:
    """One item on the cluster: its future, the scatter it used, how often it was submitted."""

    def __init__(self, client, func, item, shared: _Shared):
        self.client, self.func, self.item, self.shared = client, func, item, shared
        self.attempts = 0
        self.future = None
        self.generation = 0
        self.submit()

    def submit(self) -> None:
        self.attempts += 1
        self.generation = self.shared.generation
        # pure=False: two members may have equal inputs but are still two members
        self.future = self.client.submit(self.func, self.item, pure=False, **self.shared.futures())

    def result(self):
        lost = _lost_errors()
        while True:
            try:
                return self.future.result()
            except lost as exc:
                if self.attempts >= MAX_ATTEMPTS:
                    raise
                log.warning("a Dask worker was lost with a result of %s (%s: %s); submitting it again "
                            "(attempt %d of %d)", getattr(self.func, "__name__", self.func), type(exc).__name__,
                            exc, self.attempts + 1, MAX_ATTEMPTS)
                self.shared.lost(self.generation)
                self.submit()


def map_ordered(
    client,
    func: Callable[..., Any],
    items: Iterable[Any],
    combine: Callable[[Any, Any], Any],
    initial: Any,
    *,
    window: int | None = None,
    **shared: Any,
) -> Any:
    """``combine(... combine(combine(initial, func(item_0, **shared)), func(item_1, **shared)) ...)``.

    With a client, ``func`` runs on the workers; ``shared`` arguments (the network, the
    district table) go to the cluster once (again after a worker was lost).
    """
    result = initial
    if client is None:
        for item in items:
            result = combine(result, func(item, **shared))
        return result
    if window is None:
        window = 2 * max(sum(client.nthreads().values()), 1)
    held = _Shared(client, shared)
    pending: deque[_Item] = deque()
    for item in items:
        pending.append(_Item(client, func, item, held))
        if len(pending) >= window:
            result = combine(result, pending.popleft().result())
    while pending:
        result = combine(result, pending.popleft().result())
    return result


class Submitted:
    """``func(item, **shared)`` for every item, started on the cluster at once so other work
    (the outlook members) can run beside it; without a client they run in this process when
    :meth:`results` asks for them."""

    def __init__(self, client, func: Callable[..., Any], items: Iterable[Any], **shared: Any):
        self._func, self._items, self._shared = func, list(items), shared
        self._started = None
        if client is not None:
            held = _Shared(client, shared)
            self._started = [_Item(client, func, item, held) for item in self._items]

    @property
    def on_cluster(self) -> bool:
        return self._started is not None

    def results(self) -> list:
        """The results in the order of the items."""
        return list(self.each())

    def each(self) -> Iterator[Any]:
        """The results one by one in the order of the items; on a cluster each result is let go
        there as soon as it is here, so the workers do not hold them all."""
        if self._started is None:
            for item in self._items:
                yield self._func(item, **self._shared)
            return
        for k, started in enumerate(self._started):
            result = started.result()
            self._started[k] = None  # the last reference to the future: the worker drops the result
            yield result


def _hold(value: Any) -> Any:
    """The shared input itself: a task whose definition holds the value can be recomputed."""
    return value
