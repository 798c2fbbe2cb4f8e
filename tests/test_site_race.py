"""Two publishers of one site at the same time: the lock lets one build at a time, a build in
progress is never pruned, and the site is always whole and, at the end, the newest."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import queue
import threading
import time
from pathlib import Path

import pytest

from dashboards.site import PublicationBusy, publication_lock, publish_site
from tests.synthetic import synthetic_districts, synthetic_metadata

ROUNDS = 8  # per publisher; each round both publish at once


def _publisher(site_dir: str, tag: str, rounds: int, start, results) -> None:
    start.wait()
    versions = []
    for i in range(rounds):
        districts = synthetic_districts(4).assign(name=lambda d, i=i: d["name"] + f" {tag}{i}")
        versions.append(str(publish_site(districts, synthetic_metadata(), Path(site_dir), keep=2)))
    results.put((tag, versions))


def _whole(version: Path) -> bool:
    meta = json.loads((version / "metadata.json").read_text(encoding="utf-8"))
    for name, described in meta["files"].items():
        if hashlib.sha256((version / name).read_bytes()).hexdigest() != described["sha256"]:
            return False
    return (version / "index.html").stat().st_size > 0 and (version / "assets").is_dir()


def test_two_publishers_racing_always_leave_a_whole_newest_site(tmp_path):
    site_dir = tmp_path / "site"
    publish_site(synthetic_districts(4), synthetic_metadata(), site_dir)  # a live site to start from
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    publishers = [context.Process(target=_publisher, args=(str(site_dir), tag, ROUNDS, start, results))
                  for tag in ("a", "b")]
    for p in publishers:
        p.start()
    broken: list[str] = []
    done = threading.Event()

    def watch() -> None:  # a reader, like a web server: the live link must always lead to a whole site
        while not done.is_set():
            try:
                live = site_dir.resolve(strict=True)
                if not (live / "index.html").is_file():
                    broken.append(f"{live.name} has no index.html")
            except (FileNotFoundError, OSError) as exc:
                broken.append(repr(exc))

    reader = threading.Thread(target=watch)
    reader.start()
    start.set()
    published: dict = {}
    try:
        deadline = time.monotonic() + 600
        while len(published) < len(publishers) and time.monotonic() < deadline:
            try:
                tag, versions = results.get(timeout=1)
                published[tag] = versions
            except queue.Empty:
                crashed = [p.exitcode for p in publishers if p.exitcode not in (None, 0)]
                assert not crashed, f"a publisher crashed (exit code {crashed})"
        for p in publishers:
            p.join(timeout=60)
            assert p.exitcode == 0, "a publisher crashed"
    finally:
        done.set()
        reader.join()
        for p in publishers:
            if p.is_alive():
                p.kill()

    assert not broken, broken[:3]
    everything = sorted(Path(v).name for versions in published.values() for v in versions)
    assert len(everything) == 2 * ROUNDS and len(set(everything)) == 2 * ROUNDS
    live = site_dir.resolve(strict=True)
    assert live.name == everything[-1], "the live site is not the newest version published"
    assert _whole(live)
    assert not list(tmp_path.glob("site.*.building")), "a build folder was left behind"
    kept = sorted(p.name for p in tmp_path.glob("site.2*") if p.is_dir())
    assert len(kept) == 2 and kept[-1] == live.name


def test_a_second_publisher_waits_then_refuses_with_a_clear_message(tmp_path):
    site_dir = tmp_path / "site"
    first = publish_site(synthetic_districts(4), synthetic_metadata(), site_dir)
    leftover = tmp_path / "site.20200101T000000000000Z.building"
    with publication_lock(site_dir):  # another publisher at work, with its build in progress
        leftover.mkdir()
        with pytest.raises(PublicationBusy, match="another publication of this site is in progress"):
            publish_site(synthetic_districts(4), synthetic_metadata(), site_dir, lock_timeout_s=0.3)
        assert leftover.is_dir(), "another publisher's build was pruned"
    assert site_dir.resolve() == first
    # once the other publisher is gone, its leftover is a crashed build and is removed
    publish_site(synthetic_districts(4), synthetic_metadata(), site_dir)
    assert not leftover.exists()
