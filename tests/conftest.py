"""Shared fixtures: the location of ``../shared/data``, and an isolated Prefect for flow tests.

Prefect is pointed at a fresh ``PREFECT_HOME`` before anything imports it, so a developer's
own profile, ``.env`` or ``PREFECT_API_URL`` never leaks into the tests; flows run against a
temporary local API started once per session (``prefect_harness``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ.pop("PREFECT_API_URL", None)
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="droogte-prefect-home-")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the checkout; tests that need it skip where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not available: {SHARED_DATA} does not exist")
    return SHARED_DATA


@pytest.fixture(scope="session")
def prefect_harness():
    """A temporary Prefect API (SQLite in a temporary folder) for tests that run flows."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def demo_daily_run(tmp_path_factory, prefect_harness):
    """One real daily run of the embedded demo (Prefect flow, local Dask cluster), shared by
    the end-to-end tests and those that copy its processed store: ``(config, result)``.
    Tests that change the store must say so; the others copy it."""
    from pipelines.config import load_config
    from pipelines.daily_run import drought_run
    from pipelines.demo import write_demo

    root = tmp_path_factory.mktemp("demo")
    config_path = write_demo(root / "raw" / "demo", processed_dir=root / "processed",
                             site_dir=root / "site", archive_dir=root / "raw" / "archive")
    result = drought_run(config_path=str(config_path))
    return load_config(config_path), result
