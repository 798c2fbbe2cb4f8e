"""Prefect's temporary API server for a run from the command line, started first.

Without a Prefect API configured (``PREFECT_API_URL``), Prefect starts a temporary local API
server (uvicorn over the SQLite database in ``PREFECT_HOME``) when the first flow runs, and
waits for it to answer. Measured on the demo's daily run, that start is the largest part of
the run before its first stage: the server process imports the whole Prefect server and checks
its database (about 4 s of CPU), and, to start it, the run itself first imports the server
package (about 2.4 s of CPU) that it otherwise never needs.

So ``droogte`` starts the same server itself as its first step (:func:`start`): the same
command as Prefect's (``SubprocessASGIServer``: ``uvicorn --factory
prefect.server.api.server:create_app`` with ``PREFECT__SERVER_EPHEMERAL``, no UI; the factory
is :func:`server_app`, the same app made with the garbage collector paused), on a free
loopback port, and points this process's Prefect settings at it. The server then starts on one
core while the run imports the pipeline, loads its setup or writes the demo on the other;
:func:`wait` waits for it to answer just before the flow starts, and :func:`stop` stops it
when the process exits (the orphan guard of ``pipelines/lifecycle.py`` covers a SIGKILL, as for
Prefect's own temporary server). Nothing changes where an API is configured (a Prefect server
or Cloud, a worker's flow run, the tests' harness): then no server is started here.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib.util
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

#: uvicorn's exit code when it cannot start: its port was taken since we chose it (then
#: another port is tried, at most ``_LAUNCHES`` times in all), or its app failed to load.
_PORT_IN_USE = 3
_LAUNCHES = 3

#: The server does not register Prefect's block types (the UI's block catalogue) in a new
#: database: about 2 s of its CPU before it answers on the first run on a new Prefect home,
#: for a catalogue nobody browses on a server that lives for one run. A block saved by a
#: flow registers its own type, and ``prefect server start`` on the same home registers them
#: all. Set ``PREFECT_SERVER_REGISTER_BLOCKS_ON_START`` to decide otherwise.
_BLOCK_REGISTRATION = ("PREFECT_SERVER_REGISTER_BLOCKS_ON_START", "PREFECT_API_BLOCKS_REGISTER_ON_START")


def _server_defaults() -> dict[str, str]:
    """Settings of the temporary server that the environment may override."""
    if any(name in os.environ for name in _BLOCK_REGISTRATION):
        return {}
    return {_BLOCK_REGISTRATION[0]: "false"}


class TemporaryApiError(RuntimeError):
    """The temporary Prefect API server did not start."""


class _Server:
    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.launches = 0
        self.saved_env: dict[str, str | None] = {}

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def launch(self) -> None:
        self.port = _free_port()
        self.launches += 1
        prefect_dir = Path(importlib.util.find_spec("prefect").origin).parent
        # -P: the working directory is not on the server's module path (a folder `pipelines`
        # or `prefect` there would be imported instead of the installed one).
        self.process = subprocess.Popen(
            [sys.executable, "-P", "-m", "uvicorn", "--app-dir", str(prefect_dir.parent), "--factory",
             "pipelines.prefect_api:server_app", "--host", "127.0.0.1", "--port", str(self.port),
             "--log-level", "error", "--lifespan", "on"],
            env={**_server_defaults(), **os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
                 "PREFECT__SERVER_FINAL": "1"},
            stdin=subprocess.DEVNULL)

    def end(self) -> None:
        """SIGTERM, SIGKILL after 5 s as Prefect does: uvicorn's graceful stop lets the
        server's services write what they hold (the last events) before it exits."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


_server: _Server | None = None


def server_app():
    """Prefect's API app (``prefect.server.api.server:create_app``), the temporary server's
    uvicorn factory, made with the cyclic garbage collector paused: the server imports about
    2,200 modules first, whose objects each full collection would traverse again (0.8 s of its
    start's 3.4 s of CPU, measured with ``gc.callbacks``). What the imports made is left out of
    later collections (:func:`gc.freeze`) before the app is made, so the one full collection
    Prefect asks for while making it (``PREFECT__SERVER_FINAL``) looks at the app alone
    (0.25 s of CPU otherwise)."""
    gc.disable()
    try:
        from prefect.server.api.server import create_app

        gc.freeze()
        return create_app()
    finally:
        gc.freeze()
        gc.enable()


def _free_port() -> int:
    """A free TCP port on 127.0.0.1, chosen by the kernel."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _point_prefect_at(env: dict[str, str | None]) -> None:
    """Set (or, with None, remove) Prefect settings in the environment and make this process's
    Prefect read them again (its settings are read once, when it is imported)."""
    for key, value in env.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    from prefect.context import refresh_global_settings_context

    refresh_global_settings_context()


def start() -> None:
    """Start the temporary API server if this process has no Prefect API configured; returns
    at once (the server answers a few seconds later, :func:`wait`)."""
    global _server
    if _server is not None or os.environ.get("PREFECT_API_URL"):
        return
    # The server is the longest path to the flow's start (it imports the whole Prefect server),
    # and reading Prefect's settings (a profile, .env or prefect.toml may name an API) first
    # means importing Prefect here, about 1 s. So a process that has not imported Prefect yet
    # (the command line, first thing) launches the server before reading them, and stops it
    # again at once where they name an API or turn the temporary server off.
    server = None
    if "prefect" not in sys.modules:
        server = _Server()
        server.launch()
    try:
        from prefect.settings import get_current_settings  # also reads a profile's or .env's settings

        settings = get_current_settings()
    except BaseException:
        if server is not None:
            server.end()
        raise
    if settings.api.url or not settings.server.ephemeral.enabled:
        if server is not None:
            server.end()
        return
    if server is None:
        server = _Server()
        server.launch()
    server.saved_env = {key: os.environ.get(key) for key in ("PREFECT_API_URL", "PREFECT_UI_URL")}
    env = {"PREFECT_API_URL": server.api_url}
    if settings.ui_url is None:
        env["PREFECT_UI_URL"] = ""  # the temporary server serves no UI: no "View at" links that lead nowhere
    _point_prefect_at(env)
    _server = server
    # At exit, and registered before Prefect registers its own handlers: atexit runs them in
    # reverse order, so Prefect first sends its last logs and events, then the server stops.
    atexit.register(stop)
    log.info("temporary Prefect API server starting on %s", server.api_url)


def wait(meanwhile: Callable[[], None] | None = None) -> None:
    """Wait until the server of :func:`start` answers on ``/api/health`` (at most
    ``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS``); raise :class:`TemporaryApiError`
    naming its exit code when it does not. Without such a server, return at once.

    ``meanwhile``: work for the time the server still needs (called once, only when it does
    not answer yet), e.g. importing what the run needs later
    (:func:`pipelines.daily_run.import_stages`)."""
    server = _server
    if server is None:
        return
    from prefect.settings import get_current_settings

    timeout_s = get_current_settings().server.ephemeral.startup_timeout_seconds
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        code = server.process.poll()
        if code == _PORT_IN_USE and server.launches < _LAUNCHES:  # the port was taken between choosing and binding it
            server.launch()
            _point_prefect_at({"PREFECT_API_URL": server.api_url})
            continue
        if code is not None:
            raise TemporaryApiError(f"Prefect's temporary API server (PREFECT_HOME {os.environ.get('PREFECT_HOME', '~/.prefect')}) "
                                    f"exited with code {code} before it answered; its error is printed above")
        try:
            with urllib.request.urlopen(f"{server.api_url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if meanwhile is not None:
            meanwhile, work = None, meanwhile
            work()
            continue
        time.sleep(0.05)
    stop()
    raise TemporaryApiError(f"Prefect's temporary API server did not answer within {timeout_s} s "
                            "(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS)")


def flow_settings() -> contextlib.AbstractContextManager:
    """The Prefect settings for flows run from the command line (a context manager).

    Against the server of :func:`start`: no flow-run heartbeats. They let a server notice a
    run that crashed, but this server ends with the run itself, so nothing would read them,
    and Prefect (3.8.8) waits up to a second for its heartbeat thread at the end of every flow
    run (``prefect.flow_engine._send_heartbeats``).

    Against a configured server (``PREFECT_API_URL``) the heartbeats stay (the server's
    automations may watch them), but the flow does not wait for the heartbeat thread to end:
    :func:`_heartbeats_not_joined`."""
    if _server is None:
        return _heartbeats_not_joined()
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    return temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None})


@contextlib.contextmanager
def _heartbeats_not_joined():
    """Flow runs whose heartbeat thread is stopped but not waited for at their end.

    Prefect (3.8.8) sends a flow run's heartbeats from a daemon thread that sleeps in steps of
    one second and, at the end of a synchronous flow run, joins it: 0.5 s on average (0.82 s
    measured) between the flow's work and its final state, in every run. The thread sends
    nothing once it is told to stop (it checks before each step and before each heartbeat),
    so it is left to end on its own, as Prefect's asynchronous flow runs do
    (``join_on_exit=False``). Where Prefect's function no longer has that parameter, nothing
    is changed."""
    import inspect

    import prefect.flow_engine as engine

    original = getattr(engine, "_send_heartbeats", None)
    if original is None or "join_on_exit" not in inspect.signature(original).parameters:
        yield
        return

    def not_joined(flow_engine, join_on_exit: bool = True):
        return original(flow_engine, join_on_exit=False)

    engine._send_heartbeats = not_joined
    try:
        yield
    finally:
        engine._send_heartbeats = original


def stop() -> None:
    """Stop the server of :func:`start` (SIGTERM, SIGKILL after 5 s as Prefect does) and give
    this process its own Prefect settings back."""
    global _server
    server, _server = _server, None
    if server is None:
        return
    server.end()
    _point_prefect_at(server.saved_env)
