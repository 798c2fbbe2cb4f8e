"""The setup's source files read ahead, in a forked process, while the daily run starts.

Reading and parsing the KNMI, DINO and FEWS files is the largest part of the three ingest
tasks (about 1.2 s of CPU on the demo's 23 files), and it depends on nothing but the files
and the setup. The run's own process is busy on one core throughout (imports, Prefect, then
the stages one after another), while the machine's other core has little to do once
Prefect's server answers. So ``droogte run`` forks a reader (:func:`start`) as soon as it has
loaded its setup: the child parses each file the ingest would read, with the same reader and
settings, and leaves the result in a private temporary folder; the ingest task
(``pipelines/ingest/flows.py: _read_files``) takes it from there (:func:`take`) instead of
parsing the file again, and parses the file itself wherever the child has no result for the
same bytes.

What the analyst sees does not change: the ingest tasks archive, check, quality-flag, store
and report every file as before, in their own task runs and logs. A result is used only for
the exact bytes the task archived (SHA-256 of the file before and after the child read it,
equal to the task's); a file the child could not read (a ``SourceFormatError`` or anything
else) is read again by the task, which then reports the error as it always did. Files whose
bytes were ingested before are skipped by the child as by the task.

Why a fork, not a pool: a new interpreter would first spend about 1.5 s importing pandas and
the readers; the forked child has them already. It is forked only while the run's process
has a single thread (before Prefect, Dask or any log handler starts one), where forking is
safe; otherwise nothing is read ahead. The child ends with ``os._exit`` (no exit handlers of
the run: they would stop Prefect's server), and it is a descendant of the run, so the run's
stop handlers and orphan guard (``pipelines/lifecycle.py``) end it with the run.
"""

from __future__ import annotations

import atexit
import os
import pickle
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pipelines.ingest.archive import sha256_of

#: What :func:`take` returns when no result read ahead fits (the task reads the file itself).
MISSING = object()

#: Seconds an ingest task waits for the child's result of one file before it ends the child
#: and reads the file itself (the demo's files take 0.01-0.2 s each).
PATIENCE_S = 60.0

#: The child's results are left in ``<temporary folder>/<_PREFIX><run's process id>-*``.
_PREFIX = "droogte-read-ahead-"

#: Set ``DROOGTE_READ_AHEAD=0`` to read every file inside the ingest tasks (as before).
_SWITCH = "DROOGTE_READ_AHEAD"


class _ReadAhead:
    def __init__(self, folder: Path, pid: int, jobs: list[tuple[str, Path]]) -> None:
        self.folder = folder
        self.pid = pid
        self.index = {key: i for i, key in enumerate(jobs)}
        self.exited = False
        self.closed = False

    def _child_alive(self) -> bool:
        if self.exited:
            return False
        try:
            done, _status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            done = self.pid
        if done:
            self.exited = True
        return not self.exited

    def take(self, source: str, path: Path, sha256: str):
        i = self.index.get((source, str(path)))
        if i is None or self.closed:
            return MISSING
        result_file = self.folder / f"{i}.pickle"
        skipped = self.folder / f"{i}.none"
        # The child works through the files in the order the tasks ask for them; wait for this
        # one (it is being read, or next) unless the child has ended without it, or seems stuck
        # (then it is ended, and the tasks read every file from here on themselves).
        deadline = time.monotonic() + PATIENCE_S
        while not (result_file.exists() or skipped.exists()):
            if not self._child_alive():
                if result_file.exists():
                    break
                return MISSING
            if time.monotonic() > deadline:
                self.close()
                return MISSING
            time.sleep(0.002)
        if not result_file.exists():
            return MISSING
        with result_file.open("rb") as stream:
            read_sha, result = pickle.load(stream)
        result_file.unlink()
        return result if read_sha == sha256 else MISSING

    def close(self) -> None:
        self.closed = True
        if self._child_alive():
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        shutil.rmtree(self.folder, ignore_errors=True)


_current: _ReadAhead | None = None


def start(jobs: list[tuple[str, Path, Callable, Callable[[str], bool]]]) -> bool:
    """Fork a child that reads ``jobs`` in order: ``(source, path, reader, known)``, where
    ``reader(path)`` is the ingest's reader of the file and ``known(sha256)`` tells whether
    those bytes were ingested before (then the file is skipped). Returns whether the child
    was started (not where the process has other threads, cannot fork, or the switch is off)."""
    global _current
    if (_current is not None or not jobs or not hasattr(os, "fork") or threading.active_count() != 1
            or os.environ.get(_SWITCH, "1") == "0"):
        return False
    keys = [(source, str(path)) for source, path, _, _ in jobs]
    jobs = [job for job, key in zip(jobs, keys, strict=True) if keys.count(key) == 1]  # a file listed twice: read by its task
    _remove_stale()
    folder = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-"))
    pid = os.fork()
    if pid == 0:  # the child: read, leave the results, end without the run's exit handlers
        code = 0
        try:
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, signal.SIG_DFL)
            _read(folder, jobs)
        except BaseException:  # noqa: BLE001 - the tasks read what is missing themselves
            code = 1
        finally:
            os._exit(code)
    _current = _ReadAhead(folder, pid, [(source, str(path)) for source, path, _, _ in jobs])
    atexit.register(close)
    return True


def _remove_stale() -> None:
    """Remove the folders of runs that ended without removing theirs (killed: SIGKILL, or the
    stop handlers' hard stop); the run's process id is in the folder's name."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*"):
        owner = folder.name.removeprefix(_PREFIX).split("-", 1)[0]
        if not owner.isdigit() or int(owner) == os.getpid():
            continue
        try:
            os.kill(int(owner), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:  # another user's live process
            continue


def _read(folder: Path, jobs) -> None:
    for i, (_source, path, reader, known) in enumerate(jobs):
        try:
            before = sha256_of(path)
            if known(before):
                raise LookupError("ingested before")
            result = reader(path)
            if sha256_of(path) != before:  # changed while read: the task reads it anew
                raise LookupError("changed")
            temporary = folder / f"{i}.tmp"
            with temporary.open("wb") as stream:
                pickle.dump((before, result), stream, protocol=pickle.HIGHEST_PROTOCOL)
            temporary.rename(folder / f"{i}.pickle")
        except Exception:  # noqa: BLE001 - an unreadable file is read (and reported) by its task
            (folder / f"{i}.none").touch()


def take(source: str, path: Path, sha256: str):
    """The result of the reader of ``source`` for ``path`` read ahead from the bytes with
    ``sha256``, waiting for the child where it is still reading; :data:`MISSING` where there
    is none (no child, another file, other bytes, or the child could not read it)."""
    if _current is None:
        return MISSING
    return _current.take(source, path, sha256)


def close() -> None:
    """End the child (if it still runs) and remove its folder."""
    global _current
    current, _current = _current, None
    if current is not None:
        current.close()
