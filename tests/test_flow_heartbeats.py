"""Flow runs from the command line against a configured Prefect server keep their heartbeats
but do not wait for the heartbeat thread at their end (``pipelines/prefect_api.py``)."""

from __future__ import annotations

import contextlib

import prefect.flow_engine as engine
from prefect import flow
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

from pipelines import prefect_api


@flow(name="heartbeat-probe")
def _probe() -> int:
    return 42


def test_heartbeats_are_sent_but_not_joined(prefect_harness, monkeypatch):
    calls = []
    original = engine._send_heartbeats

    @contextlib.contextmanager
    def recorded(flow_engine, join_on_exit: bool = True):
        calls.append(join_on_exit)
        with original(flow_engine, join_on_exit=join_on_exit):
            yield

    monkeypatch.setattr(engine, "_send_heartbeats", recorded)
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: 30}):
        assert prefect_api._server is None  # the configured (here: the harness's) server
        with prefect_api.flow_settings():
            assert _probe() == 42
    assert calls == [False]  # heartbeats started, the thread not waited for
    assert engine._send_heartbeats is recorded  # Prefect's own again after the run
    assert _probe() == 42
    assert calls == [False, True]
