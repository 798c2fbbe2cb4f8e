"""The history of changes over a season of archived issues: the window of compared issues and
the cache of their district states beside the site (``dashboards/changes.py``,
``dashboards/issue_cache.py``).

A season of daily issues is built with ``publish_site`` itself, each issue changing a few
districts, so the archive is the one a water board's site accumulates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os

import numpy as np
import pandas as pd
import pytest

from dashboards import changes
from dashboards.changes import change_history, read_issue
from dashboards.issue_cache import IssueCache
from dashboards.site import publish_site
from tests.synthetic import synthetic_citizen_inputs, synthetic_districts, synthetic_metadata

LEVELS = ["none", "watch", "daytime_sprinkling_ban", "surface_water_ban"]


@pytest.fixture(scope="module")
def season(tmp_path_factory):
    """A site with 8 daily issues; every day three districts get another restriction."""
    site = tmp_path_factory.mktemp("season") / "site"
    districts = synthetic_districts(30, seed=7)
    citizen = synthetic_citizen_inputs(districts)
    rng = np.random.default_rng(11)
    for day in range(1, 9):
        for i in rng.choice(len(districts), size=3, replace=False):
            districts.loc[districts.index[i], ["restriction", "valid_from"]] = [
                rng.choice(LEVELS), dt.date(2026, 6, day + 1)]
        metadata = synthetic_metadata(dt.datetime(2026, 6, day, 4, 15, tzinfo=dt.UTC))
        metadata["valid_from"] = dt.date(2026, 6, day + 1)
        publish_site(districts, metadata, site, citizen=citizen)
    return site, districts


def _history(site, districts, cache=None):
    return change_history(site / "archive", districts, dt.datetime(2026, 6, 9, 4, 15, tzinfo=dt.UTC), cache=cache)


def test_the_window_holds_the_newest_issues_compared_with_the_one_before(season, monkeypatch):
    site, districts = season
    whole = _history(site, districts)
    assert {c.issued_at.day for c in whole} == set(range(1, 9)), "every archived issue (the current one is the last)"
    monkeypatch.setattr(changes, "MAX_ARCHIVED_ISSUES", 3)
    window = _history(site, districts)
    oldest = dt.datetime(2026, 6, 6, 4, 15, tzinfo=dt.UTC)  # the third-newest of the 8 archived issues
    # the same changes as over the whole archive, from the window's oldest issue on: the oldest
    # is compared with the issue before it, not announced as if it were the first
    assert window == [c for c in whole if c.issued_at >= oldest]
    assert 0 < len([c for c in window if c.issued_at == oldest]) <= 3


def test_the_window_is_taken_by_the_issue_time_in_the_folder_names(season, monkeypatch):
    site, districts = season
    monkeypatch.setattr(changes, "MAX_ARCHIVED_ISSUES", 2)
    read = []
    original = changes._read_states
    monkeypatch.setattr(changes, "_read_states",
                        lambda folder, cache: read.append(folder.name) or original(folder, cache))
    _history(site, districts)
    assert read == ["20260608T041500000000Z", "20260607T041500000000Z", "20260606T041500000000Z"]


def test_a_cached_issue_gives_the_same_history_and_an_unusable_entry_is_read_again(season, tmp_path, caplog):
    site, districts = season
    plain = _history(site, districts)
    folder = tmp_path / "cache"
    assert _history(site, districts, IssueCache(folder)) == plain  # entries written
    entries = sorted(folder.iterdir())
    assert len(entries) == 8 and all(p.suffix == ".parquet" for p in entries)
    assert _history(site, districts, IssueCache(folder)) == plain  # entries read
    entries[0].write_bytes(b"not parquet")  # a damaged entry: read from the CSV and written again
    assert _history(site, districts, IssueCache(folder)) == plain
    assert entries[0].read_bytes()[:4] == b"PAR1"
    assert "cannot be read" not in caplog.text


def test_a_cached_issue_is_checked_like_the_csv(season, tmp_path, caplog):
    site, _ = season
    issue = next((site / "archive").glob("*/*"))
    cache = IssueCache(tmp_path / "cache")
    states = read_issue(issue, cache=cache)
    entry = next(cache.folder.iterdir())
    bad = {c: list(v) for c, v in IssueCache(cache.folder).read(issue / "restrictions.csv").items()}
    bad["restriction"][0] = "total_ban"
    cache.write(issue / "restrictions.csv", bad)
    assert read_issue(issue, cache=IssueCache(cache.folder)) is None
    assert "unknown value(s) ['total_ban']" in caplog.text
    entry.unlink()
    assert read_issue(issue, cache=IssueCache(cache.folder)).equals(states)


def test_a_rewritten_csv_is_not_taken_from_the_cache(tmp_path):
    districts = synthetic_districts(30, seed=2)
    site = tmp_path / "site"
    publish_site(districts, synthetic_metadata(), site, citizen=synthetic_citizen_inputs(districts))
    issue = tmp_path / "copy"
    issue.mkdir()
    text = (site / "restrictions.csv").read_text(encoding="utf-8")
    (issue / "restrictions.csv").write_text(text, encoding="utf-8")
    cache = IssueCache(tmp_path / "cache")
    assert (read_issue(issue, cache=cache)["restriction"] != "surface_water_ban").any()
    table = pd.read_csv(issue / "restrictions.csv", dtype=str, keep_default_na=False)
    table["restriction"] = "surface_water_ban"
    (issue / "restrictions.csv").unlink()
    table.to_csv(issue / "restrictions.csv", index=False)
    os.utime(issue / "restrictions.csv", ns=(1, 1))  # another time as well as another inode
    assert (read_issue(issue, cache=cache)["restriction"] == "surface_water_ban").all()


def test_the_cache_keeps_what_the_last_publication_used(season, tmp_path, monkeypatch):
    site, districts = season
    folder = tmp_path / "cache"
    _history(site, districts, IssueCache(folder))
    (folder / ".left-by-a-crash.tmp").write_bytes(b"x")
    monkeypatch.setattr(changes, "MAX_ARCHIVED_ISSUES", 3)
    cache = IssueCache(folder)
    _history(site, districts, cache)
    cache.prune()
    assert len(list(folder.iterdir())) == 4  # the window and the issue before it


def test_publishing_keeps_the_cache_beside_the_site_and_works_without_it(season, tmp_path):
    site, districts = season
    cache = site.with_name(".site.issues")
    assert len(list(cache.iterdir())) == 8  # the last publication read 7 archived issues and the live one
    assert not list(site.resolve().rglob("*.parquet")), "the cache is never published"
    # a cache that cannot be written (here: a file where its folder should be) costs nothing but time
    copy = tmp_path / "site"
    publish_site(districts, synthetic_metadata(dt.datetime(2026, 6, 20, tzinfo=dt.UTC)), copy,
                 citizen=synthetic_citizen_inputs(districts))
    copy.with_name(".site.issues").write_text("not a folder", encoding="utf-8")
    publish_site(districts, synthetic_metadata(dt.datetime(2026, 6, 21, tzinfo=dt.UTC)), copy,
                 citizen=synthetic_citizen_inputs(districts))
    assert (copy / "feed.atom").is_file()


def test_compare_issues_keeps_the_order_and_the_last_row_of_a_repeated_district():
    districts = synthetic_districts(8, seed=3)
    previous = districts.copy()
    previous.loc[previous.index[2], "restriction"] = "watch"
    previous = previous.iloc[[0, 1, 2, 2, 3, 4, 5, 6, 7]].reset_index(drop=True)
    previous.loc[3, "restriction"] = districts.loc[districts.index[2], "restriction"]  # the last row wins
    current = districts.copy()
    current.loc[current.index[5], "groundwater_ban"] = not bool(current.loc[current.index[5], "groundwater_ban"])
    when = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    found = changes.compare_issues(previous, current, when)
    assert [c.district_id for c in found] == [districts.loc[districts.index[5], "district_id"]]
    same_order = changes.compare_issues(districts, current, when)
    assert [dataclasses.astuple(c) for c in same_order] == [dataclasses.astuple(c) for c in found]
