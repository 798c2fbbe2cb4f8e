"""The allocation on a real Dask cluster: a ``dask scheduler`` and two ``dask worker`` processes.

This is how a water board scales out (docs/runbook.md): the daily run is pointed at an
existing scheduler by address. The results must be those of a run in one process, also
when a worker dies while it holds tasks.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
import time
import uuid

import geopandas as gpd
import pandas as pd
import pytest
import xarray as xr
from distributed import Client

from models.indicators.dataset import district_weather
from models.allocation.outlook import outlook
from models.allocation.verdringingsreeks import PriorityOrder
from pipelines import allocation
from pipelines.inputs import read_districts, water_boards
from pipelines.store import ALLOCATION, OUTLOOK, WEATHER
from pipelines.config import load_config
from pipelines.demo import DEMO_DATE, write_demo
from pipelines.ingest.sources.knmi import read_knmi_daily
from pipelines.store import write_netcdf
from tests.integration_helpers import BIN, Services, free_port, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and two single-thread workers on 127.0.0.1; yields (address, services, workers)."""
    services = Services(tmp_path_factory.mktemp("dask-logs"))
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    try:
        scheduler = services.start("scheduler", [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1",
                                                 "--port", str(port), "--no-dashboard"])
        workers = {name: services.start(name, [str(BIN / "dask"), "worker", address, "--name", name,
                                               "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"])
                   for name in ("worker-a", "worker-b")}
        with Client(address, timeout="30s") as client:
            try:
                client.wait_for_workers(2, timeout=60)
            except TimeoutError:
                pytest.fail(f"two Dask workers did not register\n{services.log('scheduler')}\n"
                            f"{services.log('worker-a')}")
        assert scheduler.poll() is None, services.log("scheduler")
        yield address, services, workers
    finally:
        left = services.stop_all()
        assert not left, f"processes left behind: {left}"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo setup with the areal weather per district that the allocation stage reads."""
    root = tmp_path_factory.mktemp("demo")
    config = load_config(write_demo(root / "raw", processed_dir=root / "processed", site_dir=root / "site",
                                    archive_dir=root / "archive"))
    meteo = pd.concat([read_knmi_daily(s.file) for s in config.stations], ignore_index=True)
    stations = gpd.GeoDataFrame(
        {"station": [s.id for s in config.stations], "name": [s.name for s in config.stations]},
        geometry=gpd.points_from_xy([s.x for s in config.stations], [s.y for s in config.stations]),
        crs="EPSG:28992")
    districts = read_districts(config)
    weather = district_weather(meteo, stations, districts)
    write_netcdf(weather, config.processed_dir / WEATHER)
    return config, districts, weather


def _stage_outputs(config, dask_address):
    """``allocation.nc`` and ``outlook.nc`` of the allocation stage for the demo day, loaded."""
    allocation.run(config, DEMO_DATE, dask_address=dask_address)
    loaded = {}
    for name in (ALLOCATION, OUTLOOK):
        with xr.open_dataset(config.processed_dir / name, engine="netcdf4") as ds:
            loaded[name] = ds.load()
    return loaded


def test_allocation_by_address_equals_the_local_run(cluster, demo):
    address, _, _ = cluster
    config = demo[0]
    on_cluster = _stage_outputs(config, address)
    local = _stage_outputs(config, None)  # the default of `droogte run`: a local cluster
    assert float(on_cluster[ALLOCATION]["shortage"].sum()) > 0, "the demo season has shortages"
    assert on_cluster[OUTLOOK]["member"].size > 20
    for name in (ALLOCATION, OUTLOOK):
        xr.testing.assert_identical(on_cluster[name], local[name])


def _outlook(config, districts, weather, client):
    # Every past year twelve times over, each over half a year: 408 members, so that the run
    # lasts long enough on two workers to kill one of them while it holds members. (A demo
    # member of the setup's six weeks takes about 0.3 ms: 102 of them, as this test had,
    # were done in 0.03 s, and the run could end before the kill.)
    years = list(range(1991, 2025)) * 12
    return outlook(districts, water_boards(config), weather, PriorityOrder.from_config(config.priorities),
                   start=DEMO_DATE + dt.timedelta(days=1), horizon_days=183,
                   supply_m3_day=1.0e6, years=years, client=client)


def test_outlook_survives_a_killed_worker(cluster, demo):
    address, services, workers = cluster
    config, districts, weather = demo
    serial = _outlook(config, districts, weather, client=None)

    with Client(address, timeout="30s") as client:
        by_name = {info["name"]: addr for addr, info in client.scheduler_info()["workers"].items()}
        victim = by_name["worker-b"]
        result: dict = {}
        run = threading.Thread(target=lambda: result.update(ds=_outlook(config, districts, weather, client)))
        run.start()
        # what the poll saw: asking the scheduler again may find worker-b between two members
        in_flight = wait_until(lambda: client.processing().get(victim), timeout=60, interval=0.01,
                               what="worker-b holds a member of the outlook")
        os.killpg(workers["worker-b"].pid, signal.SIGKILL)  # nanny and worker at once: no goodbye
        killed_mid_run = run.is_alive()
        run.join(timeout=120)
        assert not run.is_alive(), "the outlook did not finish on the remaining worker"
        assert killed_mid_run, "the outlook had finished before the worker was killed: make it longer"
        assert victim not in client.scheduler_info()["workers"]
    assert in_flight
    assert len(result["ds"]["member"]) == len(serial["member"]) == 408
    xr.testing.assert_identical(result["ds"], serial)


def _two_workers(cluster) -> dict[str, str]:
    """Start workers until two are registered (an earlier test may have killed one); return
    {name: address} of the registered ones."""
    address, services, workers = cluster
    with Client(address, timeout="30s") as client:
        while len(client.scheduler_info()["workers"]) < 2:
            name = f"worker-{uuid.uuid4().hex[:6]}"
            workers[name] = services.start(name, [str(BIN / "dask"), "worker", address, "--name", name,
                                                  "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"])
            client.wait_for_workers(len(client.scheduler_info()["workers"]) + 1, timeout=60)
        return {info["name"]: addr for addr, info in client.scheduler_info()["workers"].items()}


def _task_on_a_worker(client, prefix: str):
    """(worker address, key) of a task whose key starts with ``prefix`` now running somewhere."""
    for worker, keys in client.processing().items():
        for key in keys:
            name = key if isinstance(key, str) else str(key[0] if isinstance(key, tuple) else key)
            if name.startswith(prefix):
                return worker, name
    return None


@pytest.mark.parametrize("moment", ["scatter", "run_member"])
def test_the_allocation_stage_survives_a_worker_killed(cluster, demo, moment):
    """SIGKILL of a worker at the start (while the shared inputs are scattered) or while it
    runs outlook members: the stage completes on the remaining worker with the results of the
    local run, bit for bit. (The season's allocation is the national pass in the run's own
    process: no worker holds any of it.)"""
    address, _, workers = cluster
    config = demo[0]
    local = _stage_outputs(config, None)
    by_name = _two_workers(cluster)
    by_address = {a: n for n, a in by_name.items()}
    result: dict = {}

    def run():
        try:
            result["outputs"] = _stage_outputs(config, address)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            result["error"] = exc

    thread = threading.Thread(target=run)
    with Client(address, timeout="30s") as client:
        if moment == "scatter":
            victim_name = sorted(by_name)[-1]
            thread.start()
            # the stage's own client connects and scatters within the first second or so
            wait_until(lambda: len(client.who_has()) > 0 or not thread.is_alive(), timeout=60, interval=0.005,
                       what="the stage has data on the cluster")
        else:
            thread.start()
            found = wait_until(lambda: _task_on_a_worker(client, moment) or (not thread.is_alive() and "done"),
                               timeout=120, interval=0.005, what=f"a worker runs {moment}")
            assert found != "done", f"the stage finished before a worker ran {moment}"
            victim_name = by_address[found[0]]
        os.killpg(workers[victim_name].pid, signal.SIGKILL)  # nanny and worker at once: no goodbye
        killed_at = time.monotonic()
        killed_mid_run = thread.is_alive()
        thread.join(timeout=300)
    assert not thread.is_alive(), "the stage did not finish on the remaining worker"
    assert killed_mid_run, "the stage had finished before the worker was killed"
    assert "error" not in result, f"the stage failed after a worker was killed at {moment}: {result.get('error')!r}"
    for name in (ALLOCATION, OUTLOOK):
        xr.testing.assert_identical(result["outputs"][name], local[name])
    print(f"worker killed during {moment}: the stage finished {time.monotonic() - killed_at:.1f} s later, "
          "results identical to the local run")
