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


def kernel_calling(*modules: str):
    """:func:`kernel` for a kernel that calls kernels of other ``modules`` (their names).

    numba keys a cached function on its own source file only: a cached caller would go on
    running its compiled copy of a callee that was edited in another file. Here the cache is
    keyed on the files of ``modules`` as well (:class:`_DependentSourcesLocator`)."""

    def decorate(func):
        func._kernel_sources = modules
        return kernel(func)

    return decorate


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


if _numba_njit is not None:
    import sys
    from pathlib import Path

    from numba.core import caching as _caching

    class _DependentSourcesLocator(_caching.InTreeCacheLocator):
        """The cache next to the module, stamped with its file and its callees' files."""

        @classmethod
        def from_function(cls, py_func, py_file):
            if not getattr(py_func, "_kernel_sources", None):
                return None
            return super().from_function(py_func, py_file)

        def __init__(self, py_func, py_file):
            super().__init__(py_func, py_file)
            self._sources = [py_file] + [sys.modules[name].__file__ for name in py_func._kernel_sources]

        def get_source_stamp(self):
            return tuple(_caching._hash_source_file(path, Path(path).stat().st_mtime, Path(path).stat().st_size)
                         for path in self._sources)

    _caching.CacheImpl._locator_classes.insert(0, _DependentSourcesLocator)
