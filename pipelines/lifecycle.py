"""Clean stops: a run ends on one Ctrl+C or SIGTERM, and nothing it started outlives it.

What a run starts besides itself: Prefect's temporary API server (a subprocess, when no
``PREFECT_API_URL`` is set) and the worker processes of a local Dask cluster. On an ordinary
exit they are stopped by their owners. Three things are added here for the other exits:

- **SIGTERM and SIGINT** raise :class:`Stopped` (a ``KeyboardInterrupt``) in the main thread,
  so ``finally`` blocks and context managers run: the Dask cluster closes, Prefect marks the
  run and stops its server, temporary files are removed. Python's default for SIGTERM ends
  the process at once and skips all of that.
- **A deadline for stopping** (``STOP_GRACE_S``): should the main thread not get there (a
  read blocked in C, a second signal ignored), a timer thread ends every process the run
  started and then the run itself, ``STOP_GRACE_S`` seconds after the first signal.
- **The orphan guard**: a small process (``python -m pipelines.lifecycle --guard PID``) that
  watches the run. A SIGKILL cannot be caught, and its children (Prefect's server above all)
  would be left running; the guard remembers the run's descendants every half second and,
  when the run is gone, ends those still alive (SIGTERM, then SIGKILL after a few seconds).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time

import psutil

#: Seconds from the first SIGTERM/SIGINT to the end of the run, whatever it is doing.
STOP_GRACE_S = 10.0
#: How often the guard looks at the run's descendants, in seconds.
GUARD_INTERVAL_S = 0.5


class Stopped(KeyboardInterrupt):
    """The run was asked to stop by a signal (SIGTERM or SIGINT)."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")


def end_processes(processes: list[psutil.Process], *, grace_s: float = 3.0) -> None:
    """SIGTERM ``processes``, then SIGKILL those still alive after ``grace_s`` seconds."""
    alive = []
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.terminate()
            alive.append(process)
    _, still = psutil.wait_procs(alive, timeout=grace_s)
    for process in still:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(still, timeout=grace_s)


def _descendants(pid: int, *, exclude: set[int] = frozenset()) -> list[psutil.Process]:
    try:
        return [p for p in psutil.Process(pid).children(recursive=True) if p.pid not in exclude]
    except psutil.Error:
        return []


def install_stop_handlers(*, grace_s: float = STOP_GRACE_S) -> None:
    """Make SIGTERM and SIGINT stop the run cleanly, and surely within ``grace_s`` seconds.

    Call it once from the main thread of the command-line process.
    """
    guard = os.getpid()
    stopping = threading.Event()

    def hard_stop(signum: int) -> None:
        own_guard = {p.pid for p in _descendants(guard) if _is_guard(p)}
        end_processes(_descendants(guard, exclude=own_guard), grace_s=2.0)
        print(f"droogte: stopped by {signal.Signals(signum).name}; the run did not end within "
              f"{grace_s:g} s and was ended", file=sys.stderr, flush=True)
        os._exit(128 + signum)

    def handler(signum, _frame):
        if not stopping.is_set():
            stopping.set()
            timer = threading.Timer(grace_s, hard_stop, args=(signum,))
            timer.daemon = True
            timer.start()
        raise Stopped(signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _is_guard(process: psutil.Process) -> bool:
    with contextlib.suppress(psutil.Error):
        cmdline = process.cmdline()
        return "pipelines.lifecycle" in cmdline and "--guard" in cmdline
    return False


def start_orphan_guard() -> subprocess.Popen:
    """Start the guard for this process (see the module's docstring); it ends by itself after
    this process has ended. Its own session: a Ctrl+C in the terminal does not reach it."""
    return subprocess.Popen([sys.executable, "-m", "pipelines.lifecycle", "--guard", str(os.getpid())],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, close_fds=True)


def guard(pid: int) -> None:
    """Watch process ``pid``; when it is gone, end the descendants it had when last seen."""
    try:
        watched = psutil.Process(pid)
    except psutil.Error:
        return
    me = os.getpid()
    known: dict[int, psutil.Process] = {}
    while True:
        try:
            alive = watched.is_running() and watched.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            alive = False
        if not alive:
            break
        for process in _descendants(pid, exclude={me}):
            known.setdefault(process.pid, process)
        time.sleep(GUARD_INTERVAL_S)
    # psutil.Process compares creation times: a pid reused by an unrelated process is skipped
    left = [p for p in known.values() if _still(p)]
    if left:
        end_processes(left, grace_s=5.0)


def _still(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def run_supervised(args: list[str], *, grace_s: float = STOP_GRACE_S) -> int:
    """Run ``args`` (``prefect worker start ...``) as a child and stop it, and everything it
    started, on one SIGINT or SIGTERM; return its exit code (128 + signal when stopped).

    Why: ``prefect worker start`` (prefect 3.8.8) answers the first Ctrl+C or SIGTERM by
    sending SIGINT to itself and keeps running (PrefectHQ/prefect#13868 shows the same for
    the server); only a second signal kills it. Here one signal asks it to stop (SIGINT),
    and ``grace_s`` seconds later whatever is left of it and its flow runs is ended.
    """
    child = subprocess.Popen(args, start_new_session=True)  # our signals reach it only through us
    stop = threading.Event()
    received: list[int] = []

    def handler(signum, _frame):
        received.append(signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    while child.poll() is None and not stop.wait(0.2):
        pass
    if child.poll() is not None:
        return child.returncode
    signum = received[0]
    print(f"droogte: {signal.Signals(signum).name} received; stopping the worker (at most {grace_s:g} s)",
          file=sys.stderr, flush=True)
    family = [psutil.Process(child.pid), *_descendants(child.pid)]
    with contextlib.suppress(ProcessLookupError):
        os.kill(child.pid, signal.SIGINT)
    try:
        child.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        pass
    family += _descendants(child.pid)
    end_processes([p for p in family if _still(p)], grace_s=2.0)
    child.wait(timeout=10)
    return 128 + signum


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--guard":
        guard(int(sys.argv[2]))
    else:
        sys.exit("usage: python -m pipelines.lifecycle --guard PID")
