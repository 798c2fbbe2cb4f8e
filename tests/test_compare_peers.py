"""The allocation's peer comparison: pywr (``benchmarks/pywr_side.py``, in its own environment)
and the project give the same per-rank totals on the shared network.

pywr runs in ``.venv-pywr`` (``make peers``); without it these tests skip. Small network
(30 districts x 7 ranks x 20 days): the figures at 100 and 1,000 districts are the
benchmark's, ``benchmarks/compare_peers.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from compare_peers import PywrSide, project_allocation, pywr_python, shared_network  # noqa: E402

PYTHON, WHY_NOT = pywr_python()
pytestmark = pytest.mark.skipif(PYTHON is None, reason=WHY_NOT or "pywr is not installed")


@pytest.fixture(scope="module")
def side():
    side = PywrSide(PYTHON)
    yield side
    side.close()


@pytest.mark.parametrize("solver", ["glpk-edge", "glpk"])
def test_pywr_and_the_project_agree_per_rank_and_day(side, solver, tmp_path):
    arrays = shared_network(30, n_time=20)
    np.savez(tmp_path / "network.npz", **arrays)
    built = side.ask({"network": str(tmp_path / "network.npz"), "solver": solver})
    assert built["setup_cpu_s"] >= 0 and built["construct_cpu_s"] >= 0
    answer = side.ask({"run": str(tmp_path / "totals.npy")})
    theirs = np.load(tmp_path / "totals.npy")
    ours = project_allocation(arrays)()
    assert theirs.shape == ours.shape == (20, 7)
    # Every limit binds somewhere: the comparison is about the order of the ranks, not
    # about a network wide enough to serve everyone.
    assert (ours.sum(axis=1) < arrays["demand"].sum(axis=(1, 2)) - 1).all()
    np.testing.assert_allclose(theirs, ours, rtol=0, atol=1e-9 * np.abs(ours).max())
    assert 0 <= answer["recorder_s"] <= answer["wall_s"]
    assert 0 <= answer["lp_solve_s"] <= answer["wall_s"]


def test_a_second_run_of_the_same_model_gives_the_same_totals(side, tmp_path):
    arrays = shared_network(30, n_time=20)
    np.savez(tmp_path / "network.npz", **arrays)
    side.ask({"network": str(tmp_path / "network.npz")})
    side.ask({"run": str(tmp_path / "first.npy")})
    side.ask({"run": str(tmp_path / "second.npy")})
    np.testing.assert_array_equal(np.load(tmp_path / "first.npy"), np.load(tmp_path / "second.npy"))
