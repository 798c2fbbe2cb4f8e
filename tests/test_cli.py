"""The ``droogte`` command line: help, the demo generator, and errors that name file and key."""

from __future__ import annotations

import subprocess
import sys

import yaml


def _droogte(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def test_help_names_every_command():
    result = _droogte("--help")
    assert result.returncode == 0
    for command in ("demo", "run", "outlook", "ingest"):
        assert command in result.stdout
    run_help = _droogte("run", "--help").stdout
    assert "--config" in run_help and "--date" in run_help and "--dask-address" in run_help


def test_demo_generates_the_setup_in_the_project_folders(tmp_path):
    result = _droogte("demo", "--root", str(tmp_path), "--generate-only")
    assert result.returncode == 0, result.stderr
    config = tmp_path / "data" / "raw" / "demo" / "droogte.yaml"
    data = yaml.safe_load(config.read_text())
    assert data["output"] == {"processed": "../../processed/demo", "site": "../../../dashboards/site",
                              "raw_archive": "../archive"}
    assert len(list((tmp_path / "data" / "raw" / "demo" / "knmi").glob("etmgeg_*.txt"))) == 6


def test_demo_written_again_names_the_site_link_not_its_version(tmp_path):
    """After a publication ``dashboards/site`` is a symlink to ``site.<stamp>``; writing the demo
    again (every ``droogte demo`` does) must keep naming the link, or each run would publish
    into a version folder and chain new ones onto it."""
    version = tmp_path / "dashboards" / "site.20250815T061500Z"
    version.mkdir(parents=True)
    (tmp_path / "dashboards" / "site").symlink_to(version.name)
    result = _droogte("demo", "--root", str(tmp_path), "--generate-only")
    assert result.returncode == 0, result.stderr
    data = yaml.safe_load((tmp_path / "data" / "raw" / "demo" / "droogte.yaml").read_text())
    assert data["output"]["site"] == "../../../dashboards/site"


def test_a_configuration_error_stops_before_any_work(tmp_path):
    _droogte("demo", "--root", str(tmp_path), "--generate-only")
    config = tmp_path / "data" / "raw" / "demo" / "droogte.yaml"
    data = yaml.safe_load(config.read_text())
    data["water_boards"][0]["inlet_capacity_m3_day"] = "lots"
    config.write_text(yaml.safe_dump(data))
    result = _droogte("run", "--config", str(config))
    assert result.returncode == 2
    assert f"{config}: water_boards[0].inlet_capacity_m3_day: expected a number, got 'lots'" in result.stderr
    assert not (tmp_path / "data" / "processed" / "demo").exists()


def test_a_bad_date_is_refused_with_the_expected_form(tmp_path):
    result = _droogte("run", "--config", str(tmp_path / "x.yaml"), "--date", "15-08-2025")
    assert result.returncode == 2 and "expected a date YYYY-MM-DD" in result.stderr


def test_the_garbage_collector_paused_for_the_imports_is_resumed_once_they_are_done():
    """``droogte`` pauses the cyclic garbage collector while it imports (pipelines/cli.py:
    entry); once the command's imports are done it runs again, with what the imports made
    left out of its collections (frozen)."""
    import gc

    from pipelines.cli import _imports_done

    assert gc.isenabled()
    gc.disable()
    try:
        _imports_done()
        assert gc.isenabled() and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()
    _imports_done()  # not paused (a library caller, the tests): nothing changes
    assert gc.isenabled() and gc.get_freeze_count() == 0
