"""pywr's side of ``benchmarks/compare_peers.py``: the shared network as a pywr model (GLPK).

Runs in its own environment (``make peers`` makes ``.venv-pywr``): pywr 1.31.1 requires
pandas < 3, the project pandas 3.1.1, so the two cannot share one. It imports nothing of the
project. It reads requests, one JSON object a line, on standard input and answers each
with one JSON line on standard output, so that ``compare_peers.py`` can run the project
and pywr turn about on the same inputs:

- ``{"network": "<file>.npz", "solver": "glpk-edge"}``: build the model of that network
  (arrays ``supply`` (time,) m³/day, ``board_of`` (district,), ``district_cap`` (district,),
  ``board_cap`` (board,) m³/day and ``demand`` (time, district, rank) m³/day) and set it
  up (``Model.setup``: the solver builds its linear program); answers the wall and CPU
  seconds of both together and the CPU seconds of each (``construct_cpu_s``,
  ``setup_cpu_s``). ``solver`` is ``glpk-edge`` (default) or ``glpk``.
- ``{"run": "<totals>.npy"}``: run the built model over all its days, write the per-rank
  totals (time, rank) m³/day there; answers the run's wall and CPU seconds, and of these
  the seconds in GLPK's simplex (``lp_solve_s``) and in the per-rank recorder
  (``recorder_s``).

The model: one ``Input`` (the national source, at most ``supply`` a day), a ``Link`` per
water board and per district (their inlet capacities) and an ``Output`` per district and
rank (at most that day's demand) with cost ``-2^(ranks - rank)``: every rank is worth more
than all the ranks below it together can gain from it, so each day's linear program serves
the ranks in order, as the verdringingsreeks does.

Built the way that scales in pywr 1.31.1, the same nodes, capacities and costs (so the same
linear program and per-rank totals) as a first, naive build that needed 327 s of CPU for its
build at 1,000 districts and did not finish its run in 40 minutes:

- **Solver ``glpk-edge``** (pywr's edge formulation: a column per edge, a mass balance per
  link). The default ``glpk`` solver has a column per route from an input to an output and
  finds the routes in ``Model.setup`` with ``Model.find_all_routes``, which calls
  ``networkx.all_simple_paths(source, output)`` once per output: each call walks the whole
  graph from the source, so setup costs outputs x nodes, quadratic in the districts.
  Measured under cProfile (one run each, shared machine): 6.3 s at 100 districts, 24 s at
  200, 98 s at 400, 99 % of it in ``all_simple_paths``; without the profiler 2.4 s at 100
  and 41 s of CPU at 400; with ``glpk-edge`` 0.02 s at 100, 0.24 s at 400 and 0.36 s at
  1,000. The two formulations' runs cost about the same (GLPK's simplex is most of either:
  at 400 districts 9.1 s of CPU per route, about 10 s per edge). pywr's maintainers point
  to the edge solver for this (pywr issues #688, #964). ``{"solver": "glpk"}`` keeps the
  route formulation for comparison at small sizes.
- **One recorder for the per-rank totals** instead of a ``NumpyArrayNodeRecorder`` per
  output: every pywr recorder has a name, and ``Component``'s name setter checks it against
  ``model.components``, a list of all components made afresh on each call, so 7,000
  recorders (beside 7,000 parameters) cost about 15 s of CPU to construct at 1,000
  districts (the construction took 20.7 s with them, 5.4 s without).
  :class:`RankTotalsRecorder` reads each output's flow after each day; its time is
  reported apart (``recorder_s``: 3 % of the run at 1,000 districts, 13 % at 100;
  ``compare_peers.py`` also prints the ratio without it).
- ``set_fixed_costs_once`` and ``set_fixed_flows_once`` (pywr's solver options for costs
  and capacities that do not change over time: they are set once, not every day; the
  linear program is the same).

What stays quadratic: ``Node``'s name setter checks the name against ``model.nodes.keys()``,
a walk over all nodes, so constructing the 8,000 nodes is most of the 5.4 s of CPU the
construction takes at 1,000 districts (0.7 s at 400, 0.06 s at 100). pywr offers no way around it (``Model.load`` from a dict builds
the same nodes); it is in the build time, which ``compare_peers.py`` reports apart from
the run.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pandas as pd
from pywr.core import Input, Link, Model, Output, Timestepper
from pywr.parameters import ArrayIndexedParameter
from pywr.recorders import Recorder

SOLVERS = ("glpk-edge", "glpk")
# Costs and capacities are constant or parameters that pywr evaluates each day either way;
# these options only skip re-sending the constant ones to GLPK every day.
SOLVER_ARGS = {"set_fixed_costs_once": True, "set_fixed_flows_once": True}


class RankTotalsRecorder(Recorder):
    """Per day and rank, the total flow (m³/day) of that rank's outputs: ``totals`` (day, rank).

    One scenario. ``seconds`` accumulates the time spent in :meth:`after`, so that the cost
    of reading the results is known apart from pywr's own.
    """

    def __init__(self, model, outputs_by_rank: list[list], **kwargs):
        super().__init__(model, name="rank_totals", **kwargs)
        self.outputs_by_rank = outputs_by_rank
        self.totals = np.zeros((0, len(outputs_by_rank)))
        self.seconds = 0.0

    def setup(self):
        self.totals = np.zeros((len(self.model.timestepper), len(self.outputs_by_rank)))

    def reset(self):
        self.totals[...] = 0.0
        self.seconds = 0.0

    def after(self):
        start = time.perf_counter()
        day = self.model.timestepper.current.index
        for rank, outputs in enumerate(self.outputs_by_rank):
            self.totals[day, rank] = sum([output.flow[0] for output in outputs])
        self.seconds += time.perf_counter() - start
        return 0


def build(path: str, solver: str = "glpk-edge") -> tuple[Model, RankTotalsRecorder]:
    if solver not in SOLVERS:
        raise ValueError(f"pywr_side.py: solver {solver!r}, expected one of {', '.join(SOLVERS)}")
    data = np.load(path)
    supply, board_of = data["supply"], data["board_of"]
    district_cap, board_cap, demand = data["district_cap"], data["board_cap"], data["demand"]
    n_time, n_district, n_rank = demand.shape
    model = Model(solver=solver, solver_args=SOLVER_ARGS)
    start = pd.Timestamp("2026-04-01")
    model.timestepper = Timestepper(start, start + pd.Timedelta(days=n_time - 1), 1)
    source = Input(model, "source", max_flow=ArrayIndexedParameter(model, supply.tolist()))
    boards = [Link(model, f"board_{b}", max_flow=float(cap)) for b, cap in enumerate(board_cap)]
    for board in boards:
        source.connect(board)
    outputs_by_rank = [[] for _ in range(n_rank)]
    for i in range(n_district):
        inlet = Link(model, f"district_{i}", max_flow=float(district_cap[i]))
        boards[board_of[i]].connect(inlet)
        for r in range(n_rank):
            use = Output(model, f"use_{i}_{r}", max_flow=ArrayIndexedParameter(model, demand[:, i, r].tolist()),
                         cost=-float(2 ** (n_rank - r)))
            inlet.connect(use)
            outputs_by_rank[r].append(use)
    return model, RankTotalsRecorder(model, outputs_by_rank)


def main() -> None:
    model = recorder = None
    for line in sys.stdin:
        request = json.loads(line)
        wall, cpu = time.perf_counter(), time.process_time()
        if "network" in request:
            model, recorder = build(request["network"], request.get("solver", "glpk-edge"))
            constructed = time.process_time()
            model.setup()
            extra = {"construct_cpu_s": constructed - cpu, "setup_cpu_s": time.process_time() - constructed}
        else:
            solved_before = model.solver.stats["lp_solve"] if model.solver.stats else 0.0
            model.run()
            np.save(request["run"], recorder.totals)
            extra = {"lp_solve_s": model.solver.stats["lp_solve"] - solved_before, "recorder_s": recorder.seconds}
        answer = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu, **extra}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
