"""Wall and CPU time of the demo's daily run as an analyst starts it (``droogte run``), split
into what comes before the flow (imports, the setup, Prefect's temporary server), the stages,
and what comes after it (stopping the server, the exit); the size of the published page.

Size: the embedded demo (2 water boards, 64 districts, 6 stations with daily data 1991-2025,
16 wells, 24 hourly sensors over 60 days), run for 15 August 2025 with the setup's defaults
(a local Dask cluster of two workers: threads at this size, ``dask.process_workers_from_districts``).
Each run is ``droogte run --config demo.yaml --date 2025-08-15`` in a fresh process with a
fresh processed folder, so it pays the Prefect start-up and a cold ingest each time, as a
scheduled run does. The first run uses a new Prefect home (it creates the Prefect database)
and is reported apart; the warm runs share that home, as on an analyst's machine.

    .venv/bin/python benchmarks/bench_demo.py [--repeat 3] [--server] [--droogte PATH]

``--server``: the runs report to a Prefect server started once before them (``prefect server
start`` on a free loopback port over the benchmark's Prefect home, ``PREFECT_API_URL`` set),
as a water board that schedules its runs has it; the server's CPU during each run is counted
beside the run's, and the "first run" is the first against that new server. ``--droogte``:
another checkout's ``droogte`` command (e.g. a script putting that checkout first on
``sys.path``), for A/B comparisons on the same machine and minute.

Prints, per run and as the median of the warm runs: the whole run (wall, process start to
exit), CPU seconds of the run and the processes it waited for (user + system: Prefect's
server, Dask workers) and their split by process, the load average before the run, and per
stage the Prefect task run's time (read from the Prefect database after the runs). "Warm"
means the Prefect home and its database exist already; each run still starts and stops
Prefect's temporary server, as ``droogte run`` does out of the box (no ``PREFECT_API_URL``).

Where the time goes (issue 19, point 4; profiled with py-spy, cProfile and ``-X importtime``).
Before the flow: the temporary server is ready only after it has imported the whole Prefect
server, about 4 s of CPU, so it is now launched first thing, before Prefect is imported in
the run (``pipelines/prefect_api.py``); while it starts, the run imports its pipeline, reads
its setup and imports what the stages would import later, loads numba's compiler contexts
and compiles the pages' templates (``pipelines/daily_run.py: import_stages``). After the
flow: Prefect's join of its flow-run heartbeat thread (up to 1 s; no heartbeats against the
temporary server) and Python's teardown of the imported modules (about 1 s of CPU; the
process now ends with ``os._exit`` after every exit handler has run, ``pipelines/cli.py:
entry``) are gone; the server's graceful stop stays (a SIGKILL loses its last events, which
``tests/test_prefect_api.py`` checks). First run on a new home: the temporary server no
longer registers Prefect's block types (about 2 s of its CPU, before it answers). In the flow: the bulletin reuses the dashboard's
chart drawings (``dashboards/charts.py``), the late-data check and the DINO reader lost
their pandas overhead. What remains is mostly the stages' own work in one process (about
6 s of CPU: the readers, indicators, restrictions, the charts and pages) and the server's
start (about 4 s of CPU, in parallel).

Third round (branch issue-19j). Profiled again (py-spy at 100 Hz over the process tree,
``-X importtime``, cProfile of the stages), a warm run's own process on a busy machine:
imports and setup before the flow about 4.5 s (Prefect 1.1 s, the pipeline 1.2 s, the setup
0.7 s, ``import_stages`` 1.4 s), then in the flow the ingest tasks 1.7 s (the DINO reader
0.48 s, PI-XML 0.44 s, KNMI 0.24 s, the rest QC and writing), publish-site 1.6 s (matplotlib's
SVG drawing 0.9 s, of which the deficit charts 0.6 s; the dashboard 0.4 s), indicators 0.8 s,
bulletin 0.2-0.5 s, restrictions 0.4 s, allocation 0.2 s, Prefect's engine 0.5 s of which
0.35 s FastAPI's import for serialising the flow's parameters. The server: 4.0-4.3 s of CPU to
answer when alone on a core (imports 67 %: the Prefect SDK 0.9 s, its background-task queue
docket 0.5 s, the API's models and database 0.8 s). Cuts taken: (1) the source files are
parsed in a child forked from the run just before it waits for the server
(``pipelines/ingest/prefetch.py``; about 1 s of CPU moved off the run's process; the three
ingest tasks 1.4-1.7 s -> 0.7 s with the temporary server, 0.9 s against a running server,
where the flow starts before the child is done); (2) against a configured server the flow
no longer waits for Prefect's heartbeat thread at its end (0.82 s measured, 0.5 s on average; heartbeats are
still sent); (3) FastAPI's encoder is imported while the temporary server starts (0.35 s
out of the flow). Not taken: the charts (about 0.1 s a drawing, 0.3-0.6 s in all; drawing
them in the child would need work handed to it mid-run), the readers' own code (spread over
pandas calls, no single cost above 0.1 s), Prefect's task-result persistence (only the
cached climatology persists), a child with a lower priority (no clear gain in an A/B).

Measured on 30 November 2026 on this 2-core machine, shared with other sessions; the same
demo and day, ``droogte run`` from process start to exit:

    quieter spell (load average 1.2-2.3), --repeat 3 (after) and 2 (before):
      before (main e2d00e0)  warm 33.5 s wall, 29.0 s CPU: before the flow 10.2 s, flow 19.8 s
                             (ingest-all 5.2 s, allocate-water 6.0 s), after the flow 3.5 s;
                             first run on a new Prefect home 39.2 s wall, 37.4 s CPU
      after                  warm 20.8 s wall, 21.9 s CPU: before the flow 7.5 s, flow 10.4 s
                             (the three ingests 2.0 s, allocate-water 0.8 s), after the flow 2.4 s;
                             first run on a new Prefect home 36.0 s wall, 33.2 s CPU
    busy spell (load average 11-18), --repeat 2: before warm 177 s wall, 37.6 s CPU;
      after warm 137 s wall, 23.2 s CPU
    nearly quiet (load average 1.0-1.2, after the last merges of the day), --repeat 3:
      warm 16.9-18.8 s wall (runs of 15.6-17.1 s), 18.1-20.6 s CPU: before the flow 7.7 s,
      flow 8.7 s (the three ingests 1.9 s, indicators 1.0 s, allocate-water 0.4 s,
      restrictions 0.9 s, publish-site 2.7 s, bulletin 0.8 s), after the flow 2.6 s;
      first run on a new Prefect home 27.8 s wall, 28.3 s CPU (15.9 s before the flow)

    issue 19 point 4 (branch issue-19f), A/B interleaved against main 7fce3aa (``droogte``
    of each in turn, the same demo and day, a Prefect home each), 3 warm runs:
      load average 3.6-4.6    main   warm 25.2-35.2 s wall (median 29.4), 17.9-21.3 s CPU (the
                                     run's own process 12.4-14.8 s, the server 5.3-6.4 s);
                                     first run 37.5 s wall, 25.7 s CPU
                              19f    warm 19.9-26.7 s wall (median 23.0), 15.7-16.8 s CPU (the
                                     run's own process 10.0-10.8 s, the server 5.6-5.9 s);
                                     first run 34.8 s wall, 23.1 s CPU
      load average 8-11       main   warm 20.4-20.8 s CPU (own process 14.1-14.4 s); first 25.4 s
                              19f    warm 17.2-18.8 s CPU (own process 11.1-12.1 s); first 22.7 s
    issue-19f alone, --repeat 3, load average 3.1-4.2 (minutes before the A/B above):
      warm 11.6-17.3 s wall (median 13.0), 15.1-16.3 s CPU (own process 10.2 s, server 5.4 s):
      before the flow 6.5 s, flow 6.1 s (the three ingests 2.0 s, indicators 0.7 s,
      allocate-water 0.7 s, restrictions 0.5 s, publish-site 1.4 s, bulletin 0.3 s, between
      the tasks 0.4 s), after the flow 0.4 s (was 2.4-2.6 s);
      first run on a new Prefect home 27.3 s wall, 22.9 s CPU (20.2 s before the flow)

    issue-19f final (block types not registered by the temporary server), --repeat 3, load
    average 1.6-2.2: warm 12.1-18.2 s wall (median 13.4), 14.6-18.3 s CPU (own process 10.0 s,
      server 5.3 s): before the flow 7.9 s, flow 6.0 s, after the flow 0.4 s;
      first run on a new Prefect home 20.2 s wall, 20.0 s CPU (14.0 s before the flow, server
      9.5 s of CPU)

    nearly quiet (load average 1.3-1.5), main after the day's merges of issue 19, --repeat 3:
      warm 9.9-13.2 s wall (median 12.9), 13.7-18.3 s CPU (own process 11.3 s, server 5.7 s):
      before the flow 5.3 s, flow 5.9 s (the three ingests 2.1 s, indicators 0.9 s,
      allocate-water 0.3 s, restrictions 0.4 s, publish-site 1.4 s, bulletin 0.2 s, between
      the tasks 0.3 s), after the flow 0.4 s; first run on a new Prefect home 17.8 s wall,
      22.3 s CPU (11.8 s before the flow, server 11.4 s of CPU)

    issue 19 point 4, second round (branch issue-19i), load average 3.4-4.6 (a CI run of the
    whole suite and another session on the machine), --repeat 3:
      warm 21.7 s wall (median), 14.9 s CPU (own process 9.3 s, server 5.4 s): before the flow
      14.7 s wall (the server's start on a contended core), flow 6.7 s (ingest-meteo 0.8 s,
      groundwater 0.8 s, sensors 0.5 s, indicators 0.8 s, allocate-water 0.3 s, restrictions
      0.5 s, publish-site 2.2 s, bulletin 0.4 s), after the flow 0.5 s; first run on a new
      Prefect home 26.6 s wall, 20.5 s CPU (server 9.8 s). Wall figures are the load's.
      Minutes later, load average 2.0-2.2 (another session still busy), --repeat 3: warm
      11.2-12.2 s wall (median 11.7), 12.9-13.3 s CPU (own process 8.3 s, server 4.6 s):
      before the flow 6.6 s, flow 4.5 s (ingest-meteo 0.5 s, groundwater 0.5 s, sensors
      0.4 s, indicators 0.5 s, allocate-water 0.3 s, restrictions 0.4 s, publish-site 1.3 s,
      bulletin 0.2 s, between the tasks 0.3 s), after the flow 0.4 s; first run on a new
      Prefect home 17.7 s wall, 17.3 s CPU (12.4 s before the flow, server 8.4 s).
      Profiled (py-spy, 50 Hz, whole process tree, one warm run): of the server's samples 67 %
      are imports (the Prefect SDK and server, FastAPI, SQLAlchemy, alembic; docket's import
      chain (the background-task queue, with beartype) 13 %), 8 % building the app, 3 % alembic's migration check,
      about 20 % answering the run (task-run states through the task-run recorder, events,
      logs); nothing there the run could skip without losing what the Prefect UI shows. The
      KNMI reader now matches a well-formed record whole with one compiled pattern and parses
      the columns as arrays (other records field by field, as before): the demo's six station
      files (75,876 records) 0.46 -> 0.28 s of CPU, identical frames and quarantine on every
      shared KNMI file, the demo's and 300 randomly damaged files.

    nearly quiet (load average 0.9-1.1), main after both rounds, --repeat 3: warm 9.9-13.4 s
      wall (median 11.9), 13.7-18.1 s CPU (own process 9.8 s, server 5.9 s): before the flow
      5.6 s, flow 6.0 s (ingest-meteo 0.9 s, groundwater 0.6 s, sensors 0.4 s, indicators
      0.8 s, allocate-water 0.4 s, restrictions 0.4 s, publish-site 1.9 s, bulletin 0.2 s,
      between the tasks 0.3 s), after the flow 0.4 s; first run on a new Prefect home 19.7 s
      wall, 23.4 s CPU

    issue 19 point 4, third round (branch issue-19j), A/B against main addc0fa (``--droogte``
    of each in turn, a Prefect home each), --repeat 3:
      load average 1.3-1.6 (the machine shared, another session mostly idle):
      temporary server   main   warm 10.9 s wall (10.2-11.2), 15.2 s CPU (own process 9.5 s,
                                server 5.4 s): before the flow 5.6 s, flow 5.0 s (the three
                                ingests 1.4 s, publish-site 1.2 s); first run 16.4 s wall
                         19j    warm 9.9 s wall (9.8-10.0), 14.1 s CPU (own process 8.4 s,
                                read-ahead child 0.9 s, server 4.6 s): before the flow 5.4 s,
                                flow 4.1 s (the three ingests 0.7 s, publish-site 1.3 s); first
                                run 17.1 s wall, 20.9 s CPU
      running server     main   warm 9.3 s wall (9.2-10.0), 9.8 s CPU (own process 8.9 s,
      (--server)                server 0.8 s): before the flow 2.8 s, flow 6.2 s, after 0.4 s;
                                first run 12.0 s wall
                         19j    warm 8.5 s wall (8.4-9.1), 9.7 s CPU (own process 8.0 s,
                                read-ahead child 0.9 s, server 0.7 s): before the flow 2.9 s,
                                flow 5.4 s (the three ingests 0.9 s), after 0.2 s; first run
                                8.9 s wall
      load average 2.1-4.6 (another session busy; wall times are the load's): temporary server
      main warm 14.4 s wall, 14.3 s CPU (own process 9.1 s); 19j 11.0 s wall, 13.6 s CPU (own
      process 7.8 s); running server main 14.3 s wall, 9.8 s CPU (own process 8.9 s), 19j
      9.8 s wall, 9.4 s CPU (own process 7.6 s). The best warm run with the temporary server:
      9.2 s wall at load average 1.7. Forking the read-ahead child before the pipeline's
      imports instead of after them was tried and measured worse (running server, quiet:
      before the flow 2.9-3.0 -> 3.7-4.3 s, the run's own process about 1 s more CPU).
      After merging main (issue-19k's outlook members), load average 1.1-1.3, --repeat 3:
      temporary server warm 9.1 s wall (8.6-9.3), 13.0 s CPU (own process 7.5 s, read-ahead
      child 0.8 s, server 4.4 s): before the flow 5.3 s, flow 3.4 s, after 0.4 s; first run
      on a new Prefect home 16.6 s wall, 20.4 s CPU. Running server warm 8.0 s wall (7.8-8.5),
      9.3 s CPU (own process 7.5 s, child 0.9 s, server 0.7 s): before the flow 2.8 s, flow
      5.1 s, after 0.1 s; first run against the new server 8.7 s wall.
      Final main (all three rounds, the allocation's members in their own loop), load average
      1.2-1.6, --repeat 3, twice: temporary server warm 9.2 s wall (median; 13.9 s CPU: own
      process 7.8 s, child 0.9 s, server 4.9 s; before the flow 5.3 s, flow 3.7 s, after
      0.4 s) and 10.1-10.3 s (15.4 s CPU) minutes later; first run on a new Prefect home
      15.8 s wall, 19.9 s CPU. Running server (--server): warm 7.6 s wall (median), 8.8 s
      CPU (before the flow 2.7 s, flow 4.7 s, after 0.1 s); first run against the new server
      8.7 s wall, 10.1 s CPU.

    issue 19 point 4, fourth round (branch issue-19m). A timeline of the process tree's CPU
    (/proc, every 0.1 s) showed both cores busy before the flow and the second core idle in
    it; ``gc.callbacks`` showed where CPU went that no profile of functions shows: full
    garbage collections over the objects of the imported modules, 1.2 s of the run's 7.3 s
    and 1.1 s of the server's start (Prefect's ``create_app`` asks for one itself). Cuts: (1)
    ``droogte`` pauses the collector while it imports and freezes the imports' objects once
    they are done (``pipelines/cli.py: entry, _imports_done``), and so does the temporary
    server's factory (``pipelines/prefect_api.py: server_app``; its start 3.4 -> 2.3 s of CPU
    alone); (2) ``make install`` compiles the project's bytecode (pip does not compile an
    editable checkout; where ``PYTHONDONTWRITEBYTECODE`` is set, as on this machine, every run
    compiled the project's 20,000 lines again); (3) the charts are drawn by a worker forked
    before the flow (``dashboards/chart_worker.py``) while the run writes the pages
    (publish-site 1.3 -> 0.8-1.0 s). Tried and not taken: the pages' imports in a thread while
    the flow starts, and a spawned (not forked) chart worker: both cost what they saved on two
    busy cores (A/B, 6 pairs each). Quiet machine (load average 0.9-1.2), --repeat 5: warm
    7.2 s wall (median; runs of 7.2-7.4 s), 10.8 s CPU (own process 5.7 s, server 3.3 s, the
    forked read-ahead and chart worker 1.7 s): before the flow 3.9 s, flow 2.9 s
    (publish-site 0.8 s), after 0.4 s; first run on a new Prefect home 12.7 s wall, 16.0 s
    CPU. Interleaved with main (5ffa517) on the same minutes, 6 pairs: 7.6 s against 8.9 s.
    Against a running server (--server), --repeat 5: warm 6.7 s wall (median), 8.6 s CPU
    (before the flow 2.4 s, flow 4.1 s: the stages start while the forked read-ahead and chart
    worker still work, after 0.1 s). A fresh clone after ``make install`` (which now also
    compiles numba's kernels by one demo run in a temporary folder; without it the first run
    on a fresh install spent about 16 s of CPU compiling them, 29 s in all), --repeat 3:
    first run on a new Prefect home 14.4 s wall, warm 7.2 s (7.0-7.3 s).

Issue 19 measured 15.7 s warm before with the previous version of this script (the time
inside the process after its interpreter started, up to the flow's end, without the exit).
Both targets of its point 4 are met on a quiet machine: warm 7.2 s (at most 8 s) and the
first run on a new Prefect home 12.7 s (at most 20 s). On two cores about 11 s of CPU are
left for a warm run: the run's own process about 6 s (about 3 s of imports and setup while
the temporary server starts, the stages one after another), the server about 3 s, the forked
read-ahead and chart worker about 2 s. Wall times follow the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DAY = "2025-08-15"

#: The daily run's stages in order (the ingests are tasks of the daily run; before issue 19
#: they were sub-flows under an ``ingest-all`` sub-flow, which shows as one task run).
STAGES = ("ingest-all", "ingest-meteo", "ingest-groundwater", "ingest-sensors", "find-data-day", "compute-indicators",
          "allocate-water", "deficit-climatology", "decide-restrictions", "publish-site", "write-bulletin")


def one_run(config: Path, env: dict[str, str], droogte: Path | None = None, server=None) -> dict:
    """``droogte run`` once in a fresh process (``droogte``: the command, default this
    environment's): wall and CPU seconds, UTC start and end, CPU by process. ``server``: the
    running Prefect server (a ``psutil.Process``) the run reports to, whose CPU during the
    run is counted beside the run's own."""
    droogte = droogte or Path(sys.executable).with_name("droogte")
    load = os.getloadavg()[0]
    server_cpu = _tree_cpu(server) if server is not None else 0.0
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started_utc = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen([str(droogte), "run", "--config", str(config), "--date", DAY],
                                   stdout=stdout, stderr=stderr, text=True, env=env)
        split = _cpu_by_process(process)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if process.returncode != 0:
            stdout.seek(0)
            stderr.seek(0)
            print(stdout.read()[-2000:], stderr.read()[-4000:], file=sys.stderr)
            raise SystemExit(f"droogte run ended with exit code {process.returncode}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if server is not None:
        split["Prefect's server (running)"] = _tree_cpu(server) - server_cpu
        cpu += split["Prefect's server (running)"]
    return {"wall_s": wall, "cpu_s": cpu, "load": load, "started": started_utc,
            "ended": started_utc + dt.timedelta(seconds=wall), "cpu_split": split}


def _cpu_by_process(process: subprocess.Popen) -> dict[str, float]:
    """Wait for ``process``; CPU seconds (user + system) of it and of what it started, by
    kind, as last seen every 0.1 s (the last tenth of a second of each may be missed)."""
    import psutil

    seen: dict[int, tuple[str, float]] = {}
    root = psutil.Process(process.pid)
    run_command = None
    while process.poll() is None:
        try:
            family = [root, *root.children(recursive=True)]
        except psutil.Error:
            family = []
        for member in family:
            try:
                times = member.cpu_times()
                command = " ".join(member.cmdline())
            except psutil.Error:
                continue
            if member.pid == process.pid:
                run_command = command
            kind = ("the run (droogte)" if member.pid == process.pid else
                    # forked by the run (the same command line): pipelines/ingest/prefetch.py and
                    # dashboards/chart_worker.py
                    "the forked read-ahead and chart worker" if command and command == run_command else
                    "Prefect's server" if "uvicorn" in command else
                    "the orphan guard" if "--guard" in command else "others (Dask workers...)")
            # a child seen before its exec (then with the run's command line) takes the kind of
            # what it executes; one seen as a zombie keeps the kind it was seen with
            earlier = seen.get(member.pid, (kind, 0.0))[0]
            kind = kind if earlier in ("others (Dask workers...)", "the forked read-ahead and chart worker") and command else earlier
            seen[member.pid] = (kind, max(times.user + times.system, seen.get(member.pid, ("", 0.0))[1]))
        time.sleep(0.1)
    split: dict[str, float] = {}
    for kind, cpu in seen.values():
        split[kind] = split.get(kind, 0.0) + cpu
    return split


def _tree_cpu(process) -> float:
    """CPU seconds (user + system) of ``process`` and its children so far."""
    import psutil

    total = 0.0
    for member in [process, *process.children(recursive=True)]:
        try:
            times = member.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def start_server(env: dict[str, str]):
    """``prefect server start`` on a free loopback port with the Prefect home of ``env``, as a
    water board that schedules its runs keeps it running; returns the process and its API URL
    once ``/api/health`` answers."""
    import socket
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    prefect = Path(sys.executable).with_name("prefect")
    process = subprocess.Popen([str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"prefect server start ended with exit code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return process, url
        except OSError:
            pass
        time.sleep(0.2)
    stop_server(process)
    raise SystemExit("prefect server start did not answer within 120 s")


def stop_server(process: subprocess.Popen) -> None:
    """SIGTERM to the server's process group (the server and its services), SIGKILL after 10 s."""
    import signal

    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


async def flow_runs(n: int) -> list[dict]:
    """The last ``n`` drought-run flow runs of the current Prefect home, oldest first, with
    their start and end and the time of each task run."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName, FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import FlowRunSort

    async with get_client() as client:
        runs = await client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["drought-run"])),
                                           sort=FlowRunSort.START_TIME_DESC, limit=n)
        found = []
        for run in reversed(runs):
            tasks = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])))
            found.append({"start": run.start_time, "end": run.end_time,
                          "tasks": {t.name.rsplit("-", 1)[0]: t.total_run_time.total_seconds() for t in tasks
                                    if t.total_run_time is not None}})
        return found


def stage_times(home: Path, runs: list[dict], env: dict[str, str]) -> None:
    """Add the flow's and the stages' times from the Prefect database of ``home`` to ``runs``."""
    os.environ.update({k: v for k, v in env.items() if k.startswith("PREFECT_")})
    for k in [k for k in os.environ if k.startswith("PREFECT_") and k not in env]:
        del os.environ[k]
    recorded = asyncio.run(flow_runs(len(runs)))
    for run, flow in zip(runs, recorded):
        run["before_flow_s"] = (flow["start"] - run["started"]).total_seconds()
        run["flow_s"] = (flow["end"] - flow["start"]).total_seconds()
        run["after_flow_s"] = (run["ended"] - flow["end"]).total_seconds()
        run["tasks"] = flow["tasks"]


def report(label: str, runs: list[dict]) -> None:
    def median(get):
        return statistics.median(get(r) for r in runs)

    loads = ", ".join(f"{r['load']:.1f}" for r in runs)
    print(f"\n{label} (median of {len(runs)}; load average before the runs {loads}):")
    print(f"  whole run (wall)        {median(lambda r: r['wall_s']):6.1f} s   CPU {median(lambda r: r['cpu_s']):6.1f} s")
    print(f"  before the flow         {median(lambda r: r['before_flow_s']):6.1f} s   "
          "(imports, setup, Prefect's server start)")
    print(f"  the flow                {median(lambda r: r['flow_s']):6.1f} s")
    for name in (n for n in STAGES if any(n in r["tasks"] for r in runs)):
        print(f"    {name:<22}{median(lambda r: r['tasks'].get(name, 0.0)):6.1f} s")
    rest = median(lambda r: r["flow_s"] - sum(r["tasks"].get(n, 0.0) for n in STAGES))
    print(f"    {'between the tasks':<22}{rest:6.1f} s   (flow and task bookkeeping, approval, artifacts)")
    print(f"  after the flow          {median(lambda r: r['after_flow_s']):6.1f} s   (server stop, exit)")
    kinds = sorted({k for r in runs for k in r["cpu_split"]})
    print("  CPU by process          " + ", ".join(
        f"{k} {median(lambda r, k=k: r['cpu_split'].get(k, 0.0)):.1f} s" for k in kinds))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--droogte", type=Path, default=None,
                        help="the droogte command to run (default: this environment's), e.g. another checkout's")
    parser.add_argument("--server", action="store_true",
                        help="run against a Prefect server started once before the runs (prefect server start, "
                        "PREFECT_API_URL) instead of each run's temporary server")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="droogte-bench-") as tmp:
        root = Path(tmp)
        home = root / "prefect-home"  # one Prefect home, as on an analyst's machine
        home.mkdir()
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")},
               "PREFECT_HOME": str(home), "PREFECT_LOGGING_LEVEL": "WARNING",
               "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        server = watched = None
        if args.server:
            import psutil

            server, url = start_server(env)
            watched = psutil.Process(server.pid)
            env["PREFECT_API_URL"] = url
            print(f"Prefect server running at {url}", flush=True)
        try:
            runs, sites = _runs(root, env, args.repeat, args.droogte, watched)
            stage_times(home, runs, env)
        finally:
            if server is not None:
                stop_server(server)
        first = "first run against the new server" if args.server else "first run on a new Prefect home"
        report(first, runs[:1])
        report("warm runs" + (" against the running server" if args.server else ""), runs[1:])
        page = statistics.median((s / "index.html").stat().st_size for s in sites)
        site = statistics.median(sum(p.stat().st_size for p in s.resolve().rglob("*") if p.is_file()) for s in sites)
        print(f"\n  citizen page            {page / 1024:6.0f} KiB (index.html)")
        print(f"  whole site              {site / 1024:6.0f} KiB")
    return 0


def _runs(root: Path, env: dict[str, str], repeat: int, droogte: Path | None, server) -> tuple[list, list]:
    """The first run and ``repeat`` warm runs, each on a freshly written demo."""
    from pipelines.demo import write_demo

    runs, sites = [], []
    for i in range(-1, repeat):  # run -1 creates the Prefect database (or meets a new server): reported apart
        run = root / f"run{i}"
        config = write_demo(run / "raw", processed_dir=run / "processed", site_dir=run / "site",
                            archive_dir=run / "archive")
        result = one_run(config, env, droogte, server)
        runs.append(result)
        sites.append(run / "site")
        kind = "first run" if i < 0 else f"warm run {i + 1}"
        print(f"{kind}: {result['wall_s']:.1f} s wall, {result['cpu_s']:.1f} s CPU "
              f"(load average {result['load']:.1f})", flush=True)
    return runs, sites


if __name__ == "__main__":
    sys.exit(main())
