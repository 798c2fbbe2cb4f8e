"""Start and stop real services (Prefect server and worker, Dask scheduler and workers) in tests.

Every service runs in a process group of its own (``start_new_session``), so stopping it
stops whatever it started too. Every process started carries a marker in its environment,
which its children inherit (also those that start a session of their own, like the flow-run
processes of a Prefect worker); on exit ``Services`` finds every process with the marker,
ends it, and reports it as left behind. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import uuid
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the virtual environment's bin: prefect, dask


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path: Path, lines: int = 40) -> str:
    """The last lines of a log file, for failure messages."""
    if not path.exists():
        return f"({path} not written)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


class Services:
    """Processes started for one test; ``stop_all`` ends them and proves none survived."""

    def __init__(self, log_dir: Path, env: dict[str, str] | None = None):
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.marker = uuid.uuid4().hex
        self.env = {**os.environ, **(env or {}), "DROOGTE_TEST_SERVICES": self.marker}
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, args: list[str], *, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.Popen:
        """Start ``args`` in a new process group; its output goes to ``<log_dir>/<name>.log``."""
        log = open(self.log_dir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(args, cwd=cwd, env={**self.env, **(env or {})}, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()  # the child holds its own descriptor
        self.procs.append((name, proc))
        return proc

    def run(self, name: str, args: list[str], *, timeout: float = 120, cwd: Path = ROOT) -> str:
        """Run a command to its end; its output, or a failure naming the command and its output."""
        result = subprocess.run(args, cwd=cwd, env=self.env, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise AssertionError(f"{name}: {' '.join(args)} exited {result.returncode}\n"
                                 f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return result.stdout

    def marked(self) -> list[psutil.Process]:
        """Every live process that carries this instance's marker (started here, or by those)."""
        found = []
        for p in psutil.process_iter():
            try:
                if p.pid != os.getpid() and p.environ().get("DROOGTE_TEST_SERVICES") == self.marker \
                        and p.status() != psutil.STATUS_ZOMBIE:
                    found.append(p)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        return found

    def log(self, name: str) -> str:
        return tail(self.log_dir / f"{name}.log")

    def stop(self, proc: subprocess.Popen, *, grace: float = 15) -> None:
        """SIGTERM the process group, then SIGKILL what is still there after ``grace`` seconds."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                continue
        proc.wait(timeout=grace)

    def stop_all(self) -> list[str]:
        """Stop every started process (last first); describe (and kill) any that survived."""
        for _, proc in reversed(self.procs):
            self.stop(proc)
        time.sleep(0.5)  # let processes on their way out finish
        left = self.marked()
        described = [_describe(p) for p in left]
        for p in left:
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()
        return described


def _describe(p: psutil.Process) -> str:
    try:
        return f"{p.pid} {' '.join(p.cmdline())[:160]}"
    except psutil.Error:
        return str(p.pid)


def wait_until(check, *, timeout: float, what: str, proc: subprocess.Popen | None = None, log: str = "",
               interval: float = 0.5):
    """Call ``check()`` until it returns something truthy; fail after ``timeout`` seconds or when
    ``proc`` has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what}: the process exited with {proc.returncode}\n{log}")
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what}: not reached within {timeout} s\n{log}")


def http_ok(url: str) -> bool:
    """True when ``url`` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def start_prefect_server(tmp_path: Path, *, pool: str, **env: str) -> tuple[Services, str]:
    """A real ``prefect server start`` on a free 127.0.0.1 port with its own ``PREFECT_HOME``,
    healthy, and a process work pool ``pool`` on it. Returns the services (stop them with
    ``stop_all``) and the API URL; ``env`` adds settings (e.g. the scheduler's loop)."""
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    services = Services(tmp_path / "logs", env={
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "INFO",
        "DROOGTE_HOME": str(ROOT),
        **env,
    })
    prefect = str(BIN / "prefect")
    try:
        server = services.start("server", [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)])
        wait_until(lambda: http_ok(f"{api}/health"), timeout=120, what="Prefect server health",
                   proc=server, log=services.log("server"))
        services.run("pool", [prefect, "work-pool", "create", pool, "--type", "process"])
    except BaseException:
        services.stop_all()
        raise
    return services, api
