"""The published site in a real browser: headless Chromium driven by Playwright.

This file covers the policymaker dashboard; the citizen page has its own,
``tests/test_browser_citizen.py``.

The site is served by ``http.server`` on 127.0.0.1 from a thread; every request the page
makes is recorded, and any that leaves loopback or fails fails the test. Skipped (with the
reason) where /usr/bin/chromium or the Python package ``playwright`` is absent;
``.ci/install-browser`` installs both.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import pytest

from dashboards.policy_dashboard import render_policy_dashboard
from dashboards.public_record import checked_metadata, public_districts
from dashboards.site import publish_site
from dashboards.bulletin import bulletin_name, render_bulletin
from tests.browser_helpers import CHROMIUM, CHROMIUM_ARGS, serve_directory
from tests.synthetic import (synthetic_briefing, synthetic_dashboard_inputs, synthetic_districts,
                                  synthetic_metadata)

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
QUOTED_NAME = "Polder \"'`${alert(2)}`"

playwright_sync = pytest.importorskip("playwright.sync_api", reason="Python package playwright is not installed")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is absent (Debian package chromium; see .ci/install-browser)", allow_module_level=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    districts = synthetic_districts(36, seed=7)
    # Three water boards (not the fixture's 21): every part of the pages shows, at a size the
    # browser and axe check in seconds.
    districts["water_board"] = np.array(["WB00", "WB01", "WB02"])[np.arange(len(districts)) * 3 // len(districts)]
    districts.loc[0, "name"] = HOSTILE_NAME
    districts.loc[1, "name"] = QUOTED_NAME
    districts.loc[1, "reason_nl"] = "</script><script>alert(3)</script>"
    site_dir = tmp_path_factory.mktemp("published") / "site"
    public, meta = public_districts(districts), checked_metadata(synthetic_metadata())
    briefing = synthetic_briefing(public)
    inputs = _dashboard_inputs(public)
    dashboard = render_policy_dashboard(public, meta, **inputs, **briefing)
    publish_site(districts, synthetic_metadata(), site_dir, extra_pages={"dashboard.html": dashboard})
    # The weekly bulletin is archived beside the site; served from the same folder here.
    day = dt.date(2026, 7, 14)
    escalation = pd.DataFrame(
        [{"scope": "water_board", "water_board": b, "level": lvl, "level_name_nl": "dreigend watertekort",
          "level_name_en": "threatening water shortage", "reason_nl": "beperkingen in 3 van 2 gebieden",
          "reason_en": "restrictions in 3 of 2 districts"} for b, lvl in inputs["escalation"]["boards"].items()]
        + [{"scope": "national", "water_board": "NL", "level": 1, "level_name_nl": "dreigend watertekort",
            "level_name_en": "threatening water shortage", "reason_nl": "3 waterschappen", "reason_en": "3 boards"}])
    for lang, other in (("nl", "en"), ("en", "nl")):
        page = render_bulletin(lang, setup_name="demo", day=day, issued_at=meta["issued_at"], software_version="0.1.0",
                               escalation=escalation, restrictions=pd.DataFrame(districts.drop(columns="geometry")),
                               board_shortage=inputs["board_shortage"], board_names={},
                               other_language_href=bulletin_name("demo", day, other),
                               **{k: v for k, v in briefing.items() if k != "board_deficit_charts"})
        (site_dir / bulletin_name("demo", day, lang)).write_text(page, encoding="utf-8")
    return site_dir, districts


def _dashboard_inputs(public) -> dict:
    """The synthetic dashboard inputs with an outlook layer per category of the verdringingsreeks,
    the category-4 chance of still being short, what changed, and demand beside the shortage."""
    inputs = synthetic_dashboard_inputs(public)
    indicators = inputs["indicators"].drop(columns="shortage_probability")
    for k, category in enumerate(("1a", "1b", "1c", "2a", "2b", "3", "4")):
        indicators[f"shortage_probability_{category}"] = (indicators["precipitation_deficit_mm"] / 300) ** (k + 1)
    indicators["still_short_probability_4"] = indicators["shortage_probability_4"] / 2
    indicators["change"] = np.resize([0, 1, 0, -1], len(indicators))
    inputs["indicators"] = indicators
    inputs["board_shortage"] = inputs["board_shortage"].assign(demand_m3_day=1e5)
    return inputs


@pytest.fixture(scope="module")
def server(site):
    site_dir, _ = site
    with serve_directory(site_dir) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with playwright_sync.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _open(browser, url: str, *, width: int, height: int):
    """Open ``url``; return the page and what it requested, failed and alerted."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    record = {"requests": [], "failed": [], "dialogs": [], "errors": []}
    page.on("request", lambda r: record["requests"].append(r.url))
    page.on("requestfailed", lambda r: record["failed"].append(r.url))
    page.on("response", lambda r: r.status >= 400 and record["failed"].append(f"{r.status} {r.url}"))
    page.on("dialog", lambda d: (record["dialogs"].append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: record["errors"].append(str(e)))
    page.goto(url, wait_until="load")
    return context, page, record


def test_dashboard_switches_layers_and_legends_and_passes_axe(browser, server, site):
    _, districts = site
    context, page, record = _open(browser, server + "/dashboard.html", width=1280, height=900)
    try:
        expect = playwright_sync.expect
        assert record["failed"] == [] and record["errors"] == []
        assert {urlsplit(u).hostname for u in record["requests"] if not u.startswith("data:")} == {"127.0.0.1"}
        assert page.locator("path.leaflet-interactive").count() == len(districts)
        expect(page.locator("div[data-legend='restriction']")).to_be_visible()
        page.get_by_label("Neerslagtekort sinds 1 april").check()  # one layer at a time
        assert page.locator("path.leaflet-interactive").count() == len(districts)
        assert page.locator("path[fill='#a50f15'], path[fill='#fee5d9']").count() > 0  # deficit: light to dark red
        expect(page.locator("div[data-legend='deficit']")).to_be_visible()
        expect(page.locator("div[data-legend='restriction']")).to_be_hidden()
        page.get_by_label("Kans op tekort, categorie 2a").check()  # an outlook layer per category
        assert page.locator("path.leaflet-interactive").count() == len(districts)
        expect(page.locator("div[data-legend='outlook']")).to_be_visible()
        assert page.locator(".chart-box.nl svg").first.is_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard-desktop.png"))
        axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
        results = axe_module.Axe().run(page, options={
            "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
        assert results.response["violations"] == [], results.generate_report()
    finally:
        context.close()


def test_dashboard_in_english_on_a_phone(browser, server, site):
    _, districts = site
    context, page, record = _open(browser, server + "/dashboard.html#en", width=390, height=844)
    try:
        assert record["errors"] == [] and record["dialogs"] == []
        assert page.evaluate("document.documentElement.lang") == "en"
        assert page.get_by_role("heading", name="Drought dashboard demo").is_visible()
        expect = playwright_sync.expect
        expect(page.locator(".chart-box.en").first).to_be_visible()  # the chart drawn in English
        expect(page.locator(".chart-box.nl").first).to_be_hidden()
        page.get_by_label("Chance of shortage, category 4").check()
        assert page.locator("path.leaflet-interactive").count() == len(districts)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling on a phone"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard-phone-en.png"), full_page=True)
        page.get_by_role("button", name="Nederlands").click()
        expect(page.locator(".chart-box.nl").first).to_be_visible()
        expect(page.locator(".chart-box.en").first).to_be_hidden()
        axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
        page.get_by_role("button", name="English").click()
        results = axe_module.Axe().run(page, options={
            "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
        assert results.response["violations"] == [], results.generate_report()
    finally:
        context.close()


# Elements whose right edge must stay inside the window: text, tables, charts, cards.
_OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  return Array.from(document.querySelectorAll('main p, main li, main table, main figure, main svg, main h2, main h3, .fact, caption, td, th'))
    .filter(e => !e.closest('.leaflet-container'))  // the map clips its own panes
    .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > width + 0.5)
    .map(e => e.tagName + '.' + (e.getAttribute('class') || '') + ' right=' + Math.round(e.getBoundingClientRect().right));
}"""
# The smallest chart text as drawn on screen: font size times the SVG's scale.
_CHART_TEXT_JS = """() => {
  let smallest = Infinity;
  document.querySelectorAll('svg.chart-svg text').forEach(t => {
    if (!t.getClientRects().length) return;
    const size = parseFloat(getComputedStyle(t).fontSize) * t.ownerSVGElement.getScreenCTM().a;
    smallest = Math.min(smallest, size);
  });
  return smallest;
}"""
PAGES = {"dashboard-nl": "/dashboard.html", "dashboard-en": "/dashboard.html#en",
         "bulletin-nl": "/" + bulletin_name("demo", dt.date(2026, 7, 14), "nl"),
         "bulletin-en": "/" + bulletin_name("demo", dt.date(2026, 7, 14), "en")}


@pytest.mark.parametrize("size", [(1366, 900), (390, 844)], ids=["desktop", "phone"])
@pytest.mark.parametrize("name", list(PAGES))
def test_dashboard_and_bulletin_fit_read_and_pass_axe(browser, server, name, size):
    """No sideways overflow, chart text of at least 11 px on a phone, in the page's language,
    nothing from elsewhere, 0 axe violations (WCAG 2.1 A and AA); a screenshot is kept."""
    width, height = size
    context, page, record = _open(browser, server + PAGES[name], width=width, height=height)
    try:
        assert record["failed"] == [] and record["errors"] == [] and record["dialogs"] == []
        assert {urlsplit(u).hostname for u in record["requests"] if not u.startswith("data:")} == {"127.0.0.1"}
        lang = name.rsplit("-", 1)[1]
        assert page.evaluate("document.documentElement.lang") == lang
        assert page.evaluate("document.documentElement.scrollWidth") <= width, "no sideways scrolling"
        assert page.evaluate(_OVERFLOW_JS) == []
        assert page.locator("svg.chart-svg").count() >= 3
        smallest = page.evaluate(_CHART_TEXT_JS)
        assert smallest >= 11, f"chart text of {smallest:.1f} px"
        # The visible charts speak the page's language.
        visible = page.evaluate("() => Array.from(document.querySelectorAll('svg.chart-svg')).filter("
                                "s => s.getClientRects().length).map(s => s.textContent).join(' ')")
        assert ("neerslagtekort (mm)" in visible) == (lang == "nl")
        assert ("precipitation deficit (mm)" in visible) == (lang == "en")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}x{height}.png"), full_page=True)
        axe_module = pytest.importorskip("axe_playwright_python.sync_playwright",
                                         reason="Python package axe-playwright-python is not installed")
        results = axe_module.Axe().run(page, options={
            "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
        assert results.response["violations"] == [], results.generate_report()
    finally:
        context.close()
