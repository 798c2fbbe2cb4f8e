"""Changes between issues and the Atom feeds published beside the citizen page.

The feeds are read back with ``feedparser`` (a well-kept, independent Atom reader) and checked
against RFC 4287's rules for every feed and entry (one id, title and updated each; a self
link), so a malformed feed fails here and not in a reader's app.
"""

from __future__ import annotations

import datetime as dt

import feedparser
import pytest
from lxml import etree

from dashboards.changes import compare_issues, direction, read_issue
from dashboards.site import publish_site
from tests.synthetic import synthetic_citizen_inputs, synthetic_districts, synthetic_metadata

ATOM = "{http://www.w3.org/2005/Atom}"


def _publish(site_dir, districts, day: int, citizen):
    metadata = synthetic_metadata(dt.datetime(2026, 7, day, 6, 0, tzinfo=dt.UTC))
    metadata["valid_from"] = dt.date(2026, 7, day + 1)
    return publish_site(districts, metadata, site_dir, citizen=citizen)


@pytest.fixture()
def three_issues(tmp_path):
    """Issue 1; issue 2 a day later with two districts changed; issue 3 unchanged."""
    districts = synthetic_districts(30, seed=4)
    citizen = synthetic_citizen_inputs(districts)
    site_dir = tmp_path / "site"
    first = _publish(site_dir, districts, 12, citizen)
    none = districts.index[districts["restriction"] == "none"]
    ban = districts.index[districts["restriction"] == "surface_water_ban"]
    districts.loc[none[0], ["restriction", "valid_from"]] = ["surface_water_ban", dt.date(2026, 7, 14)]
    districts.loc[ban[0], ["restriction", "valid_from"]] = ["none", dt.date(2026, 7, 14)]
    second = _publish(site_dir, districts, 13, citizen)
    third = _publish(site_dir, districts, 14, citizen)
    return {"versions": (first, second, third), "districts": districts, "changed": (none[0], ban[0]),
            "citizen": citizen}


def _check_atom(path):
    """RFC 4287 rules a reader relies on, and feedparser reading it without complaint."""
    root = etree.parse(str(path)).getroot()
    assert root.tag == f"{ATOM}feed"
    for element in (root, *root.findall(f"{ATOM}entry")):
        for child in ("id", "title", "updated"):
            assert len(element.findall(f"{ATOM}{child}")) == 1, f"{path.name}: one atom:{child} per element"
        dt.datetime.fromisoformat(element.findtext(f"{ATOM}updated"))
    assert root.findall(f"{ATOM}author"), "a feed without authors needs an author"
    assert any(link.get("rel") == "self" for link in root.findall(f"{ATOM}link"))
    ids = [e.findtext(f"{ATOM}id") for e in root.findall(f"{ATOM}entry")]
    assert len(ids) == len(set(ids)), "entry ids are unique"
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def test_direction_of_a_change():
    assert direction(("none", False), ("watch", False)) == "stricter"
    assert direction(("watch", False), ("watch", True)) == "stricter"
    assert direction(("surface_water_ban", True), ("none", True)) == "lighter"
    assert direction(("watch", True), ("surface_water_ban", False)) == "changed"
    assert direction(("watch", False), ("watch", False)) == ""


def test_feeds_are_valid_atom_with_stable_ids_per_setup_and_per_water_board(three_issues):
    first, second, third = three_issues["versions"]
    districts = three_issues["districts"]
    feeds = {}
    for version in (first, second, third):
        feeds[version] = _check_atom(version / "feed.atom")
        _check_atom(version / "feed-en.atom")
    first_ids = {e.id for e in feeds[first].entries}
    restricted = districts[(districts["restriction"] != "none") | districts["groundwater_ban"]]
    assert len(feeds[first].entries) >= len(restricted) - 1  # the first issue announces what is in force
    second_ids = {e.id for e in feeds[second].entries}
    assert first_ids <= second_ids, "an entry keeps its id in later issues"
    assert len(second_ids - first_ids) == 2, "two districts changed"
    assert {e.id for e in feeds[third].entries} == second_ids, "no change, no new entry"
    new = [e for e in feeds[second].entries if e.id not in first_ids]
    names = {districts.loc[i, "name"] for i in three_issues["changed"]}
    assert {e.title.split(":")[0] for e in new} == names
    assert any("strenger" in e.title for e in new) and any("lichter" in e.title for e in new)
    assert all(e.id.startswith("urn:uuid:") for e in feeds[second].entries)
    # one feed per water board, holding only its own districts
    board = districts.loc[three_issues["changed"][0], "water_board"]
    name = three_issues["citizen"]["boards"][board]["name"]
    slug = name.lower().replace(" ", "-")
    per_board = _check_atom(second / "feeds" / f"{slug}.atom")
    own = set(districts.loc[districts["water_board"] == board, "name"])
    assert per_board.entries and {e.title.split(":")[0] for e in per_board.entries} <= own
    assert name in per_board.feed.title


def test_page_opens_with_what_changed_since_the_previous_issue(three_issues):
    first, second, third = three_issues["versions"]
    assert "Dit is de eerste update van deze kaart." in (first / "index.html").read_text(encoding="utf-8")
    page = (second / "index.html").read_text(encoding="utf-8")
    assert "Sinds de vorige update (12 juli 2026):" in page
    assert "strenger in 1 gebied." in page and "Minder streng in 1 gebied." in page
    assert "Niets. De regels zijn dezelfde als bij de vorige update (13 juli 2026)." in \
        (third / "index.html").read_text(encoding="utf-8")


def test_an_unreadable_previous_issue_is_reported_and_not_compared(tmp_path, caplog):
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "restrictions.csv").write_text("district_id,name\nA,B\n", encoding="utf-8")
    assert read_issue(folder) is None
    assert "cannot be read as an earlier issue" in caplog.text and "restrictions.csv" in caplog.text
    districts = synthetic_districts(5, seed=1)
    changes = compare_issues(None, districts, dt.datetime(2026, 7, 1, tzinfo=dt.UTC))
    assert {c.district_id for c in changes} == set(
        districts.loc[(districts["restriction"] != "none") | districts["groundwater_ban"], "district_id"])
