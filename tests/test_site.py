"""Publishing the site: atomic switch, a failed build leaves the old site served, archive,
and no page or asset that refers to anything outside the site."""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import re
import threading
import urllib.request
from pathlib import Path

import pytest

from dashboards.site import publish_site
from tests.synthetic import synthetic_districts, synthetic_metadata

# URLs that appear in the shipped Leaflet files but are never loaded: the SVG namespace name,
# Leaflet's attribution link (an <a href>, followed only if a person clicks it) and two bug
# tracker links inside CSS comments.
NOT_LOADED = {
    "http://www.w3.org/2000/svg",
    "https://leafletjs.com",
    "https://bugs.chromium.org/p/chromium/issues/detail?id=600120",
    "https://bugzilla.mozilla.org/show_bug.cgi?id=888319",
}
ABSOLUTE_URL = re.compile(r"https?://[^\s\"'<>)]+", re.I)
PROTOCOL_RELATIVE = re.compile(r"""(?:src|href|url|import)\s*[=(]\s*["']?//""", re.I)


def _serve(site_dir: Path):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site_dir))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def test_site_refers_to_nothing_outside_itself(tmp_path):
    site = publish_site(synthetic_districts(6), synthetic_metadata(), tmp_path / "site",
                        extra_pages={"dashboard.html": "<!DOCTYPE html><title>x</title>"})
    scanned = 0
    for path in site.rglob("*"):
        if path.suffix not in (".html", ".js", ".css"):
            continue
        text = path.read_text(encoding="utf-8")
        scanned += 1
        external = set(ABSOLUTE_URL.findall(text)) - NOT_LOADED
        assert external == set(), f"{path.relative_to(site)} refers to {sorted(external)}"
        assert not PROTOCOL_RELATIVE.search(text), f"{path.relative_to(site)} loads a //host URL"
    assert scanned >= 5  # index.html, dashboard.html, leaflet.js/.css, droogte-map.js, droogte.css


def test_tiles_are_the_only_way_to_a_third_party_and_are_off_by_default(tmp_path):
    site = publish_site(synthetic_districts(4), synthetic_metadata(), tmp_path / "site",
                        tiles={"url": "https://service.pdok.nl/brt/{z}/{x}/{y}.png",
                               "attribution": "Kaart: <b>PDOK</b>"})
    page = (site / "index.html").read_text(encoding="utf-8")
    assert "https://service.pdok.nl/brt/{z}/{x}/{y}.png" in page
    assert "<b>PDOK</b>" not in page  # the attribution is escaped text
    assert "De achtergrondkaart komt van Kaart: &lt;b&gt;PDOK&lt;/b&gt;" in page  # named in the privacy line
    plain = (publish_site(synthetic_districts(4), synthetic_metadata(), tmp_path / "plain") / "index.html")
    assert "Deze pagina laadt niets van andere websites." in plain.read_text(encoding="utf-8")


def test_publishing_switches_the_served_site_in_one_step(tmp_path):
    site_dir = tmp_path / "site"
    first = publish_site(synthetic_districts(4), synthetic_metadata(), site_dir)
    httpd, base = _serve(site_dir)
    try:
        assert b"Polder 3" in _fetch(base + "/index.html")
        districts = synthetic_districts(4).assign(name=lambda d: d["name"].str.replace("Polder", "Weide"))
        second = publish_site(districts, synthetic_metadata(), site_dir)
        assert second != first and site_dir.is_symlink() and site_dir.resolve() == second
        assert b"Weide 3" in _fetch(base + "/index.html")
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_build_failing_midway_leaves_the_previous_site_whole_and_served(tmp_path):
    site_dir = tmp_path / "site"
    old = publish_site(synthetic_districts(4), synthetic_metadata(), site_dir)
    before = {p.relative_to(old): p.read_bytes() for p in old.rglob("*") if p.is_file()}
    httpd, base = _serve(site_dir)
    try:
        # The page value is not text: the build fails after index.html and open data exist.
        with pytest.raises(TypeError, match="dashboard.html"):
            publish_site(synthetic_districts(9, seed=5), synthetic_metadata(), site_dir,
                         extra_pages={"dashboard.html": 42})
        assert site_dir.resolve() == old
        after = {p.relative_to(old): p.read_bytes() for p in old.rglob("*") if p.is_file()}
        assert after == before
        assert _fetch(base + "/index.html") == before[Path("index.html")]
        assert not list(tmp_path.glob("*.building"))
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_each_issue_is_archived_by_validity_date_and_issue_time_and_never_overwritten(tmp_path):
    site_dir = tmp_path / "site"
    day1 = synthetic_metadata(dt.datetime(2026, 7, 13, 6, 0, tzinfo=dt.UTC)) | {"valid_from": dt.date(2026, 7, 13)}
    day2 = synthetic_metadata(dt.datetime(2026, 7, 14, 23, 30, tzinfo=dt.UTC))  # valid from 15 July
    first = publish_site(synthetic_districts(4), day1, site_dir)
    archived = (first / "archive" / "2026-07-13" / "20260713T060000000000Z" / "restrictions.csv").read_bytes()
    second = publish_site(synthetic_districts(5), day2, site_dir)
    assert sorted(p.name for p in (second / "archive").iterdir()) == ["2026-07-13", "2026-07-15"]
    assert (second / "archive" / "2026-07-13" / "20260713T060000000000Z" / "restrictions.csv").read_bytes() == archived
    # A second issue for the same validity date (a correction, a back-dated run) is archived beside the
    # first: nothing is overwritten.
    again = day2 | {"issued_at": dt.datetime(2026, 7, 15, 9, 0, tzinfo=dt.UTC)}
    publish_site(synthetic_districts(6), again, site_dir)
    issues = site_dir / "archive" / "2026-07-15"
    assert sorted(p.name for p in issues.iterdir()) == ["20260714T233000000000Z", "20260715T090000000000Z"]
    assert (issues / "20260714T233000000000Z" / "restrictions.csv").read_bytes().count(b"\r\n") == 6
    assert (issues / "20260715T090000000000Z" / "restrictions.csv").read_bytes().count(b"\r\n") == 7
    # Even the same issue time twice overwrites nothing: the second is kept beside the first.
    publish_site(synthetic_districts(3), again, site_dir)
    assert sorted(p.name for p in issues.iterdir()) == [
        "20260714T233000000000Z", "20260715T090000000000Z", "20260715T090000000000Z-2"]
    assert (issues / "20260715T090000000000Z" / "restrictions.csv").read_bytes().count(b"\r\n") == 7


def test_old_versions_are_pruned_but_the_live_one_kept(tmp_path):
    site_dir = tmp_path / "site"
    for _ in range(4):
        live = publish_site(synthetic_districts(2), synthetic_metadata(), site_dir, keep=2)
    versions = sorted(p for p in tmp_path.iterdir()
                      if p.name.startswith("site.") and p.is_dir() and not p.is_symlink())
    assert len(versions) == 2 and live in versions


def test_extra_page_names_must_be_plain_file_names(tmp_path):
    for name in ("../evil.html", "index.html", "sub/page.html", "page.js"):
        with pytest.raises(ValueError, match="extra_pages"):
            publish_site(synthetic_districts(2), synthetic_metadata(), tmp_path / "site", extra_pages={name: ""})
    assert not (tmp_path / "site").exists()


def test_policy_dashboard_is_published_with_layers_chart_and_tables(tmp_path):
    from dashboards.policy_dashboard import render_policy_dashboard
    from dashboards.public_record import checked_metadata, public_districts
    from tests.synthetic import synthetic_briefing, synthetic_dashboard_inputs

    districts = synthetic_districts(8, seed=6)
    districts.loc[0, "water_board"] = "<script>alert(1)</script>"
    public, meta = public_districts(districts), checked_metadata(synthetic_metadata())
    html = render_policy_dashboard(public, meta, **synthetic_dashboard_inputs(public), **synthetic_briefing(public))
    site = publish_site(districts, synthetic_metadata(), tmp_path / "site", extra_pages={"dashboard.html": html})
    page = (site / "dashboard.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count('<div class="chart-box nl" role="img"') >= 3  # charts drawn into the page, no images
    assert page.count("droogte.districtLayer(") == 4 and "droogte.layerSwitch(" in page
    assert "Kans op tekort, categorie 4" in page and "dreigend watertekort" in page
    assert 'href="dashboard.html"' in (site / "index.html").read_text(encoding="utf-8")


def test_an_existing_folder_is_never_moved_aside_to_become_the_site(tmp_path):
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "notes.txt").write_text("somebody's own files")
    with pytest.raises(FileExistsError, match="is not a published site"):
        publish_site(synthetic_districts(2), synthetic_metadata(), folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # nothing built, nothing moved
    assert (folder / "notes.txt").read_text() == "somebody's own files"
