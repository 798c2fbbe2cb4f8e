"""pywr's side of ``benchmarks/compare_peers.py``: the shared network as a pywr model (GLPK).

Runs in its own environment (``make peers`` makes ``.venv-pywr``): pywr 1.31.1 requires
pandas < 3, the project pandas 3.1.1, so the two cannot share one. It imports nothing of the
project. It reads requests, one JSON object a line, on standard input and answers each
with one JSON line on standard output, so that ``compare_peers.py`` can run the project
and pywr turn about on the same inputs:

- ``{"network": "<file>.npz"}``: build the model of that network (arrays ``supply``
  (time,) m³/day, ``board_of`` (district,), ``district_cap`` (district,), ``board_cap``
  (board,) m³/day and ``demand`` (time, district, rank) m³/day); answers the build's wall
  and CPU seconds.
- ``{"run": "<totals>.npy"}``: run the built model over all its days, write the per-rank
  totals (time, rank) m³/day there; answers the run's wall and CPU seconds.

The model: one ``Input`` (the national source, at most ``supply`` a day), a ``Link`` per
water board and per district (their inlet capacities) and an ``Output`` per district and
rank (at most that day's demand) with cost ``-2^(ranks - rank)``: every rank is worth more
than all the ranks below it together can gain from it, so each day's linear program serves
the ranks in order, as the verdringingsreeks does. A ``NumpyArrayNodeRecorder`` per output
keeps what it delivered, as a pywr user would read results.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pandas as pd
from pywr.core import Input, Link, Model, Output, Timestepper
from pywr.parameters import ArrayIndexedParameter
from pywr.recorders import NumpyArrayNodeRecorder


def build(path: str):
    data = np.load(path)
    supply, board_of = data["supply"], data["board_of"]
    district_cap, board_cap, demand = data["district_cap"], data["board_cap"], data["demand"]
    n_time, n_district, n_rank = demand.shape
    model = Model(solver="glpk")
    start = pd.Timestamp("2026-04-01")
    model.timestepper = Timestepper(start, start + pd.Timedelta(days=n_time - 1), 1)
    source = Input(model, "source", max_flow=ArrayIndexedParameter(model, supply.tolist()))
    boards = [Link(model, f"board_{b}", max_flow=float(cap)) for b, cap in enumerate(board_cap)]
    for board in boards:
        source.connect(board)
    recorders = []
    for i in range(n_district):
        inlet = Link(model, f"district_{i}", max_flow=float(district_cap[i]))
        boards[board_of[i]].connect(inlet)
        for r in range(n_rank):
            use = Output(model, f"use_{i}_{r}", max_flow=ArrayIndexedParameter(model, demand[:, i, r].tolist()),
                         cost=-float(2 ** (n_rank - r)))
            inlet.connect(use)
            recorders.append((r, NumpyArrayNodeRecorder(model, use)))
    return model, recorders, n_rank


def main() -> None:
    model = recorders = None
    n_rank = 0
    for line in sys.stdin:
        request = json.loads(line)
        wall, cpu = time.perf_counter(), time.process_time()
        if "network" in request:
            model, recorders, n_rank = build(request["network"])
            model.setup()
        else:
            model.run()
            totals = np.zeros((len(recorders[0][1].data), n_rank))
            for r, recorder in recorders:
                totals[:, r] += np.asarray(recorder.data)[:, 0]
            np.save(request["run"], totals)
        answer = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
