"""Optional compilation of the numerical kernels with numba.

The kernels of the allocation, the demand model and the outlook are plain loops over days,
districts and uses. numba compiles them to machine code (one pass where numpy would make
ten, and no temporary arrays); without numba the same functions run as Python, with the
same results, only far slower. Compiled code is cached next to the modules, so a Dask
worker loads it instead of compiling again.
"""

from __future__ import annotations

try:
    from numba import njit as _numba_njit
except ImportError:  # numba is optional
    _numba_njit = None


def kernel(func):
    """Compile ``func`` with numba (cached, releasing the GIL) where numba is installed.

    Never with ``fastmath``: it lets the compiler reorder sums and fuse a*b+c into one
    rounding, which changes the results' bits (the allocation is held to its previous bits)."""
    if _numba_njit is None:
        return func
    return _numba_njit(cache=True, nogil=True)(func)


def kernel_inline(func):
    """:func:`kernel` for a small helper of other kernels: numba inlines it where it is called
    (its own compiled version is never called from Python)."""
    if _numba_njit is None:
        return func
    return _numba_njit(cache=True, nogil=True, inline="always")(func)


def load_compiler() -> None:
    """Load numba's typing and target contexts now (where numba is installed).

    The first kernel a process loads from the cache pays for them (about 0.4 s of CPU here,
    once per process); a caller with time to spare, such as a run waiting for its Prefect
    server (``pipelines/daily_run.py``), loads them beforehand.
    """
    if _numba_njit is None:
        return
    from numba.core.registry import cpu_target

    cpu_target.typing_context.refresh()
    cpu_target.target_context.refresh()
