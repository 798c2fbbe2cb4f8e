"""Clean stops: SIGTERM ends a run within seconds wherever it is, SIGKILL leaves no process
behind (Prefect's temporary server included), and a later run removes the temporary files of
writes that a kill interrupted."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import pytest
import yaml

from pipelines.demo import write_demo
from pipelines.store import remove_interrupted_writes, temporary_prefix, write_parquet
from tests.integration_helpers import BIN, Services, wait_until


def test_a_later_run_removes_temporary_files_of_interrupted_writes_only(tmp_path):
    import pandas as pd

    write_parquet(pd.DataFrame({"a": [1]}), tmp_path / "meteo.parquet")
    gone = subprocess.run(["true"])  # a process that has ended: its pid is free
    dead = subprocess.Popen(["true"])
    dead.wait()
    crashed = tmp_path / f".meteo.parquet.pid{dead.pid}-k3j4.tmp"
    crashed.write_bytes(b"half a table")
    (tmp_path / "archive" / "knmi" / "ab").mkdir(parents=True)
    incoming = tmp_path / "archive" / "knmi" / "ab" / f".incoming-pid{dead.pid}-x9"
    incoming.write_bytes(b"half a download")
    busy = tmp_path / f"{temporary_prefix('groundwater.parquet')}busy.tmp"  # this process is writing it
    busy.write_bytes(b"in progress")
    other = tmp_path / ".not-ours"
    other.write_bytes(b"keep")
    removed = remove_interrupted_writes(tmp_path)
    assert sorted(removed) == sorted([crashed, incoming])
    assert busy.exists() and other.exists() and (tmp_path / "meteo.parquet").exists()
    assert gone.returncode == 0


class SilentService:
    """A loopback server that accepts connections and never answers: a read blocks."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.listen(8)
        self.accepted: list[socket.socket] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/daggegevens"

    def connected(self) -> bool:
        self.sock.settimeout(0.1)
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return bool(self.accepted)
        self.accepted.append(conn)
        return True

    def close(self) -> None:
        for conn in self.accepted:
            conn.close()
        self.sock.close()


@pytest.fixture
def blocked_run_setup(tmp_path):
    """The demo setup whose KNMI service never answers (deadline 10 minutes: a run waits in the read)."""
    config_path = write_demo(tmp_path / "raw", processed_dir=tmp_path / "processed", site_dir=tmp_path / "site",
                             archive_dir=tmp_path / "archive")
    service = SilentService()
    setup = yaml.safe_load(config_path.read_text())
    setup["services"] = {"deadline_s": 600, "task_timeout_s": 3600,
                         "knmi_daggegevens": {"stations": ["260"], "first_day": "2025-08-01", "url": service.url}}
    config_path.write_text(yaml.safe_dump(setup))
    yield config_path, service
    service.close()


def _start_run(services: Services, config_path, tmp_path, name: str) -> subprocess.Popen:
    env = {"PREFECT_HOME": str(tmp_path / f"prefect-{name}"), "PREFECT_LOGGING_LEVEL": "WARNING"}
    return services.start(name, [str(BIN / "droogte"), "run", "--config", str(config_path)],
                          env=env)


@pytest.mark.integration
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=lambda s: s.name)
def test_a_run_blocked_in_a_service_read_stops_and_leaves_no_process(blocked_run_setup, tmp_path, sig):
    config_path, service = blocked_run_setup
    services = Services(tmp_path / "logs")
    try:
        run = _start_run(services, config_path, tmp_path, "run")
        wait_until(service.connected, timeout=240, interval=0.2, proc=run, what="the run asks the KNMI service",
                   log=services.log("run"))
        time.sleep(1.0)  # well inside the blocked read
        descendants = [p for p in services.marked() if p.pid != run.pid]
        assert descendants, "the run should have started Prefect's temporary server"
        sent = time.monotonic()
        os.kill(run.pid, sig)  # the run only, as a terminal or a supervisor would
        run.wait(timeout=60)
        took = time.monotonic() - sent
        # the guard ends what the run left; give it its few seconds
        wait_until(lambda: not services.marked(), timeout=30, interval=0.5,
                   what="every process of the run has ended")
    finally:
        left = services.stop_all()
    assert not left, f"processes left behind: {left}"
    if sig != signal.SIGKILL:
        assert took < 15, f"the run took {took:.1f} s to stop after {sig.name}"
        assert run.returncode != 0
    print(f"{sig.name}: the run ended {took:.1f} s after the signal; no process left")


@pytest.mark.integration
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_the_worker_stops_on_one_signal(tmp_path, sig):
    """``droogte worker`` on a real ``prefect server``: one Ctrl+C or SIGTERM ends it and the
    Prefect worker it runs (``prefect worker start`` alone keeps running after one)."""
    from tests.integration_helpers import free_port, http_ok

    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {"PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_API_URL": api, "PREFECT_LOGGING_LEVEL": "WARNING"}
    services = Services(tmp_path / "logs", env=env)
    try:
        server = services.start("server", [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1",
                                           "--port", str(port)])
        wait_until(lambda: http_ok(f"{api}/health"), timeout=180, proc=server, what="the Prefect server answers",
                   log=services.log("server"))
        services.run("pool", [str(BIN / "prefect"), "work-pool", "create", "p15", "--type", "process"])
        worker = services.start("worker", [str(BIN / "droogte"), "worker", "--pool", "p15"])
        wait_until(lambda: "started" in (tmp_path / "logs" / "worker.log").read_text(errors="replace"),
                   timeout=120, proc=worker, what="the worker has started", log=services.log("worker"))
        prefect_worker = [p for p in services.marked() if "worker" in " ".join(p.cmdline()) and p.pid != worker.pid]
        assert prefect_worker, "droogte worker runs prefect worker start"
        sent = time.monotonic()
        os.kill(worker.pid, sig)  # one signal, to droogte only, as a terminal's Ctrl+C or systemd would
        worker.wait(timeout=60)
        took = time.monotonic() - sent
        wait_until(lambda: not [p for p in prefect_worker if p.is_running() and p.status() != "zombie"],
                   timeout=10, interval=0.2, what="the prefect worker has ended")
    finally:
        left = [d for d in services.stop_all() if "server" not in d]
    assert not left, f"processes left behind: {left}"
    assert took < 20, f"the worker took {took:.1f} s to stop"
    print(f"worker: {sig.name} once, stopped after {took:.1f} s")
