"""The local Dask cluster of the allocation: worker threads by default, processes from a configured size."""

from __future__ import annotations

import os

from pipelines.dask_cluster import dask_client


def test_small_setups_get_worker_threads_in_the_run_s_own_process():
    with dask_client(workers=2, processes=False) as client:
        assert client.scheduler.address.startswith("inproc://")  # no socket at all
        pids = client.run(os.getpid)
        assert len(pids) == 2 and set(pids.values()) == {os.getpid()}


def test_large_setups_get_worker_processes_on_loopback():
    with dask_client(workers=2, processes=True) as client:
        assert client.scheduler.address.startswith("tcp://127.0.0.1:")
        pids = client.run(os.getpid)
        assert len(pids) == 2 and os.getpid() not in set(pids.values())


def test_the_threshold_is_a_setting_with_a_documented_default(tmp_path):
    from pipelines.config import load_config
    from pipelines.demo import write_demo

    config = load_config(write_demo(tmp_path / "demo", processed_dir=tmp_path / "processed",
                                    site_dir=tmp_path / "site", archive_dir=tmp_path / "archive"))
    assert config.dask_process_workers_from_districts == 1_000_000  # dask.process_workers_from_districts: threads
    text = config.path.read_text(encoding="utf-8")
    assert "\ndask:\n" in text
    config.path.write_text(text.replace("\ndask:\n", "\ndask:\n  process_workers_from_districts: 0\n", 1),
                           encoding="utf-8")
    assert load_config(config.path).dask_process_workers_from_districts == 0
