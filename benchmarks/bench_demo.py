"""Wall time of the demo's daily run, split into Prefect start-up and the stages; page size.

Size: the embedded demo (2 water boards, 64 districts, 6 stations with daily data 1991-2025,
16 wells, 24 hourly sensors over 60 days), run for 15 August 2025 with a local Dask cluster
of two workers. Each repetition runs in a fresh Python process on a warm machine (packages
in the page cache, the Prefect home with its database already created by a first run that is
reported apart, demo files written), with a fresh processed folder, so it pays the Prefect
start-up and a cold ingest each time, as a scheduled run does.

    .venv/bin/python benchmarks/bench_demo.py [--repeat 3]

Prints the median over the repetitions of: the whole run, Prefect's start-up (a trivial
flow run before the real one starts the temporary local API), each task, and the size of
the published page.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ONE_RUN = textwrap.dedent(
    """
    import json, sys, time, asyncio
    t0 = time.perf_counter()
    from prefect import flow
    from prefect.client.orchestration import get_client

    @flow(name="bench-warm-up")
    def warm_up():
        return 1

    warm_up()
    t1 = time.perf_counter()
    from pipelines.daily_run import drought_run
    state = drought_run(config_path=sys.argv[1], return_state=True)
    t2 = time.perf_counter()

    async def task_times(flow_run_id):
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId
        async with get_client() as client:
            runs = await client.read_task_runs()
            return {r.name.rsplit("-", 1)[0]: r.total_run_time.total_seconds() for r in runs
                    if r.total_run_time is not None}

    print(json.dumps({"total_s": t2 - t0, "prefect_startup_s": t1 - t0, "flow_s": t2 - t1,
                      "tasks_s": asyncio.run(task_times(state.state_details.flow_run_id)),
                      "ok": state.is_completed()}))
    """
)


#: The daily run's stages in order (Prefect records a subflow as a task run of its parent).
STAGES = ("ingest-all", "compute-indicators", "allocate-water", "deficit-climatology", "decide-restrictions",
          "publish-site")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from pipelines.demo import write_demo

    results = []
    with tempfile.TemporaryDirectory(prefix="droogte-bench-") as tmp:
        root = Path(tmp)
        env_home = root / "prefect-home"  # one Prefect home, as on an analyst's machine
        env_home.mkdir()
        for i in range(-1, args.repeat):  # run -1 creates the Prefect database: reported apart
            run = root / f"run{i}"
            config = write_demo(run / "raw", processed_dir=run / "processed", site_dir=run / "site",
                                archive_dir=run / "archive")
            out = subprocess.run(
                [sys.executable, "-c", ONE_RUN, str(config)], capture_output=True, text=True,
                env={**_clean_env(), "PREFECT_HOME": str(env_home), "PREFECT_LOGGING_LEVEL": "WARNING",
                     "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                     "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"},
            )
            if out.returncode != 0:
                print(out.stderr[-4000:], file=sys.stderr)
                return 1
            result = json.loads(out.stdout.strip().splitlines()[-1])
            result["page_bytes"] = (run / "site" / "index.html").stat().st_size
            result["site_bytes"] = sum(p.stat().st_size for p in (run / "site").resolve().rglob("*") if p.is_file())
            if i < 0:
                print(f"first run on a new Prefect home: {result['total_s']:.1f} s "
                      f"(Prefect start-up with database creation {result['prefect_startup_s']:.1f} s)", flush=True)
                continue
            results.append(result)
            print(f"run {i + 1}: {result['total_s']:.1f} s (Prefect start-up {result['prefect_startup_s']:.1f} s)",
                  flush=True)

    def median(key):
        return statistics.median(r[key] for r in results)

    print(f"\nmedian of {len(results)} runs of the demo (64 districts, 15 August 2025):")
    print(f"  whole run           {median('total_s'):6.1f} s")
    print(f"  Prefect start-up    {median('prefect_startup_s'):6.1f} s")
    print(f"  flow (all stages)   {median('flow_s'):6.1f} s")
    def task(name):
        return statistics.median(r["tasks_s"].get(name, 0.0) for r in results)

    for name in STAGES:
        print(f"    {name:<26}{task(name):6.1f} s")
        if name == "ingest-all":
            for part in ("ingest-meteo", "ingest-groundwater", "ingest-sensors"):
                print(f"      {part:<24}{task(part):6.1f} s")
    rest = statistics.median(r["flow_s"] - sum(r["tasks_s"].get(n, 0.0) for n in STAGES) for r in results)
    print(f"    {'flow overhead':<26}{rest:6.1f} s")
    print(f"  citizen page        {median('page_bytes') / 1024:6.0f} KiB (index.html)")
    print(f"  whole site          {median('site_bytes') / 1024:6.0f} KiB")
    return 0


def _clean_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}


if __name__ == "__main__":
    sys.exit(main())
