"""Running independent allocations (water boards, outlook members) on a Dask cluster.

The caller passes a ``distributed.Client`` (a ``LocalCluster`` on one machine, a real
scheduler when the users outgrow it) or ``None`` to run in this process. Workers run plain
functions of ``models``; they need neither Prefect nor ``pipelines``.

Results are combined in the order of the items, never in the order they finish, so a run on
a cluster gives bit-for-bit the result of a serial run; at most ``window`` results wait on
the workers, which bounds memory however many items there are.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Any


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
    district table) are scattered to every worker once.
    """
    result = initial
    if client is None:
        for item in items:
            result = combine(result, func(item, **shared))
        return result
    if window is None:
        window = 2 * max(sum(client.nthreads().values()), 1)
    shared_futures = _scatter(client, shared)
    pending: deque = deque()
    for item in items:
        # pure=False: two members may have equal inputs but are still two members
        pending.append(client.submit(func, item, pure=False, **shared_futures))
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
        self._futures = None
        if client is not None:
            shared_futures = _scatter(client, shared)
            self._futures = [client.submit(func, item, pure=False, **shared_futures) for item in self._items]

    def results(self) -> list:
        """The results in the order of the items."""
        if self._futures is None:
            return [self._func(item, **self._shared) for item in self._items]
        return [future.result() for future in self._futures]


def _scatter(client, shared: dict[str, Any]) -> dict[str, Any]:
    """Every shared argument sent to every worker once, as futures to pass to the tasks."""
    return {k: client.scatter(v, broadcast=True) for k, v in shared.items()}
