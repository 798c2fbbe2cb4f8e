"""The source files parsed ahead in a forked child (``pipelines/ingest/prefetch.py``): a result
is used only for the bytes the ingest task archived, everything else is read by the task, and
a daily run stores and reports the same with and without reading ahead."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Run in a fresh interpreter: the pytest process has threads (Prefect's harness), where
#: reading ahead is refused on purpose.
MECHANICS = textwrap.dedent("""
    import json, sys, threading, time
    from pathlib import Path
    from pipelines.ingest import prefetch
    from pipelines.ingest.archive import sha256_of

    folder = Path(sys.argv[1])
    files = {name: folder / f"{name}.txt" for name in "abcd"}
    for name, path in files.items():
        path.write_text(f"file {name}\\n")

    def reader(path):
        if path.name == "c.txt":
            raise ValueError("unreadable")
        return {"text": path.read_text().upper()}

    known = lambda sha: sha == sha256_of(files["d"])
    jobs = [("test", path, reader, known) for path in files.values()]
    # the folder a killed run left (its process id no longer in use) is removed at the next start
    import subprocess, tempfile
    gone = subprocess.Popen([sys.executable, "-c", "pass"]); gone.wait()
    stale = Path(tempfile.gettempdir()) / f"{prefetch._PREFIX}{gone.pid}-test"
    stale.mkdir()
    out = {"started": prefetch.start(jobs)}
    out["stale removed"] = not stale.exists()
    while prefetch._current._child_alive():
        time.sleep(0.01)
    files["b"].write_text("file b, changed after it was read\\n")
    take = lambda name: prefetch.take("test", files[name], sha256_of(files[name]))
    out["taken"] = {name: (None if (r := take(name)) is prefetch.MISSING else r["text"]) for name in "abcd"}
    out["other source"] = prefetch.take("other", files["a"], sha256_of(files["a"])) is prefetch.MISSING
    folder_of_child = prefetch._current.folder
    prefetch.close()
    out["folder removed"] = not folder_of_child.exists()
    # a child stuck on a file: ended after PATIENCE_S, the task reads the file itself
    prefetch.PATIENCE_S = 0.5
    hang = lambda path: time.sleep(3600)
    prefetch.start([("test", files["a"], hang, lambda sha: False)])
    child = prefetch._current.pid
    out["stuck"] = prefetch.take("test", files["a"], sha256_of(files["a"])) is prefetch.MISSING
    out["stuck child ended"] = not prefetch._current._child_alive()
    prefetch.close()
    # a second thread: no fork
    stop = threading.Event()
    threading.Thread(target=stop.wait).start()
    out["started with a thread"] = prefetch.start(jobs)
    stop.set()
    print(json.dumps(out))
""")


def test_read_ahead_results_only_for_the_same_bytes(tmp_path):
    out = subprocess.run([sys.executable, "-c", MECHANICS, str(tmp_path)], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["started"] is True
    assert found["stale removed"] is True
    assert found["taken"] == {"a": "FILE A\n",  # read ahead, same bytes: used
                              "b": None,  # changed since: the task reads it
                              "c": None,  # the reader failed: the task reads it (and reports the error)
                              "d": None}  # ingested before: skipped
    assert found["other source"] is True
    assert found["folder removed"] is True
    assert found["stuck"] is True and found["stuck child ended"] is True
    assert found["started with a thread"] is False


def _run(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--config", str(config),
                           "--date", "2025-08-15"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)


def _messages(stderr: str, run: Path) -> list[str]:
    """The run's messages without their time, task-run suffix and run folder."""
    text = re.sub(r"\d\d:\d\d:\d\d\.\d+", "", stderr.replace(str(run), ""))
    text = re.sub(r"Flow run '[a-z-]+'", "Flow run", text)
    text = re.sub(r"Task run '([a-z-]+)-[0-9a-f]+'", r"\1", text)
    return [line for line in text.splitlines() if "| WARNING |" in line or "| ERROR " in line]


def _damage(raw: Path) -> None:
    """A KNMI record with letters (quarantined), a DINO file that is no DINO file (failed)."""
    knmi = raw / "knmi" / "etmgeg_901.txt"
    lines = knmi.read_text().splitlines(keepends=True)
    fields = lines[-20].split(",")
    lines[-20] = ",".join([*fields[:2], " 1x5", *fields[3:]])
    knmi.write_text("".join(lines))
    (raw / "groundwater" / "B90A0001001.csv").write_text("this is not a DINOloket export\n")


@pytest.mark.integration
def test_daily_run_stores_and_reports_the_same_with_and_without_reading_ahead(tmp_path):
    from pipelines.demo import write_demo

    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_LOGGING_LEVEL="INFO",
               PREFECT_SERVER_ANALYTICS_ENABLED="false")
    runs = {}
    for mode, switch in (("ahead", "1"), ("in the tasks", "0")):
        run = tmp_path / mode.replace(" ", "-")
        config = write_demo(run / "raw", processed_dir=run / "processed", site_dir=run / "site",
                            archive_dir=run / "archive")
        _damage(run / "raw")
        out = _run(config, {**env, "DROOGTE_READ_AHEAD": switch})
        runs[mode] = (run, out)
    (ahead, out_ahead), (inside, out_inside) = runs["ahead"], runs["in the tasks"]
    assert out_ahead.returncode == out_inside.returncode == 3, out_ahead.stdout[-2000:] + out_ahead.stderr[-2000:]
    assert _messages(out_ahead.stderr, ahead) == _messages(out_inside.stderr, inside)
    parsed_ahead = re.findall(r"(\w+): (\d+) file\(s\) parsed ahead", out_ahead.stdout + out_ahead.stderr)
    # all but the failed DINO file (read again by its task, which reports it) and the
    # quarantined record's file (parsed ahead, its record quarantined from the child's result)
    assert dict(parsed_ahead) == {"meteo": "6", "groundwater": "15", "sensors": "1"}, parsed_ahead
    assert "parsed ahead" not in out_inside.stdout + out_inside.stderr

    for table in ("meteo", "groundwater", "sensors", "stations", "wells", "sensors_meta", "quarantine"):
        stored_ahead = pd.read_parquet(ahead / "processed" / f"{table}.parquet")
        stored_inside = pd.read_parquet(inside / "processed" / f"{table}.parquet")
        for frame, run in ((stored_ahead, ahead), (stored_inside, inside)):
            for column in frame.columns[frame.dtypes == "str"]:
                frame[column] = frame[column].str.replace(str(run), "", regex=False)
        at = [c for c in stored_ahead.columns if c.endswith("_at")]
        pd.testing.assert_frame_equal(stored_ahead.drop(columns=at), stored_inside.drop(columns=at), obj=table)
    quarantine = pd.read_parquet(ahead / "processed" / "quarantine.parquet")
    assert (quarantine["source"] == "meteo").any(), quarantine  # the damaged record is there, read ahead

    for source in ("meteo", "groundwater", "sensors"):
        (report_ahead,) = (ahead / "processed" / "qc").glob(f"{source}-*.json")
        (report_inside,) = (inside / "processed" / "qc").glob(f"{source}-*.json")
        assert (report_ahead.read_text().replace(str(ahead), "")
                == report_inside.read_text().replace(str(inside), "")), source
