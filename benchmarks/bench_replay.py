"""Wall and CPU time of one national season replay, as a user runs it.

Size: the real national setup that ``droogte init --boards all --data ../shared/data`` builds
(21 water boards, 450 districts, 11 KNMI stations, the DINO wells and FEWS sensors found, the
Lobith series, KNMI's national deficit series), one season of 183 days (1 April - 30 September)
with an outlook ensemble every 7 days (one member per earlier year since 1986).

It runs ``droogte replay`` as a separate process (Prefect's temporary server, the ingest into
the replay's own store, the days) and prints wall time, the CPU time of the process and its
children, and the machine's load (``uptime``) before and after: on a shared machine the wall
time follows the load, the CPU time much less. The target is 2 minutes of wall time on a
quiet machine.

Measured on the shared 2-core machine (other sessions running, so not quiet): season 2022,
51.8 s wall and 27.2 s CPU at load 4-5; 103-164 s wall and 28-33 s CPU for 2003-2024 at
load 9-20. Before the escalation was gathered as arrays and the outlooks' history cut once,
the days alone of 2022 took 201 s wall and 50 s CPU (load 10-14).
After the last merges of the day, at load 2.6-3.2: season 2018, 26.4 s wall and 22.8 s CPU;
after issue 19's third round (outlook members in their own compiled loop), load 1.2-1.3:
season 2018, 20.0 s wall and 18.8 s CPU.

    .venv/bin/python benchmarks/bench_replay.py [--season 2018] [--data ../shared/data] [--work DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--season", type=int, default=2018)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--work", type=Path, default=None, help="folder for the setup (default: a temporary one)")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"{args.data}: not found; give --data with the shared data folder", file=sys.stderr)
        return 2
    droogte = str(Path(sys.executable).parent / "droogte")
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-replay-"))
    setup = work / "nl"
    if not (setup / "droogte.yaml").exists():
        subprocess.run([droogte, "init", "--out", str(setup), "--boards", "all", "--data", str(args.data)],
                       check=True, stdout=subprocess.DEVNULL)
    print(f"load before: {_uptime()}")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([droogte, "replay", "--config", str(setup / "droogte.yaml"),
                    "--from", f"{args.season}-04-01", "--to", f"{args.season}-09-30"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "PREFECT_LOGGING_LEVEL": "WARNING"})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"load after:  {_uptime()}")
    print(f"season {args.season}: wall {wall:.1f} s, CPU {cpu:.1f} s (replay process and its children)")
    print(f"outputs: {setup / 'replays' / f'{args.season}-04-01_{args.season}-09-30'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
