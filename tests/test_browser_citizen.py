"""The citizen page in a real browser (headless Chromium driven by Playwright), used as a
citizen would: at 390×844 (a phone) and 1366×900, in Dutch and English, by search, by "my
location" (the test browser's geolocation), by keyboard alone, with axe-core.

Screenshots are kept in ``tests/artifacts/`` as test outputs. Skipped (with the reason) where
/usr/bin/chromium or the Python package ``playwright`` is absent.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from dashboards.site import publish_site
from tests.browser_helpers import CHROMIUM, CHROMIUM_ARGS, serve_directory
from tests.synthetic import (
    PLACE_ALTERNATE,
    PLACE_DISTRICT,
    PLACE_FAR,
    PLACE_IN_DISTRICT,
    PLACE_NEAR,
    synthetic_citizen_inputs,
    synthetic_districts,
    synthetic_metadata,
)

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
DIACRITIC_NAME = "Bûtenpolder Één"
SIZES = {"phone": (390, 844), "desktop": (1366, 900)}
MAX_PHONE_SCREENS = 6
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

playwright_sync = pytest.importorskip("playwright.sync_api", reason="Python package playwright is not installed")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is absent (Debian package chromium; see .ci/install-browser)", allow_module_level=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Two issues of 64 districts, a day apart, with three districts made stricter in the second
    and a notice about the data."""
    districts = synthetic_districts(64, seed=7)
    districts.loc[0, "name"] = HOSTILE_NAME
    districts.loc[1, "name"] = DIACRITIC_NAME
    site_dir = tmp_path_factory.mktemp("published") / "site"
    citizen = synthetic_citizen_inputs(districts)
    first = synthetic_metadata(dt.datetime(2026, 7, 13, 6, 0, tzinfo=dt.UTC))
    publish_site(districts, first, site_dir, citizen=citizen)
    changed = districts.index[districts["restriction"] == "none"][:3]
    districts.loc[changed, "restriction"] = "surface_water_ban"
    second = synthetic_metadata()
    second["notices"] = [{"nl": "De grondwaterstanden zijn 6 dagen oud.", "en": "The groundwater levels are 6 days old."}]
    publish_site(districts, second, site_dir, citizen=citizen)
    return site_dir, districts, citizen


@pytest.fixture(scope="module")
def server(site):
    site_dir, _, _ = site
    with serve_directory(site_dir) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with playwright_sync.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _open(browser, url: str, *, size: str, geolocation: dict | None = None):
    """Open ``url``; return the context, the page and what it requested, failed and alerted."""
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height}, geolocation=geolocation,
                                  permissions=["geolocation"] if geolocation else [])
    page = context.new_page()
    record = {"requests": [], "failed": [], "dialogs": [], "errors": []}
    page.on("request", lambda r: record["requests"].append(r.url))
    page.on("requestfailed", lambda r: record["failed"].append(r.url))
    page.on("response", lambda r: r.status >= 400 and record["failed"].append(f"{r.status} {r.url}"))
    page.on("dialog", lambda d: (record["dialogs"].append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: record["errors"].append(str(e)))
    page.goto(url, wait_until="load")
    return context, page, record


def _shot(page, name: str, *, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=full_page)


@pytest.mark.parametrize("size", SIZES)
def test_page_loads_nothing_from_elsewhere_fits_the_screen_and_the_height_budget(browser, server, site, size):
    _, districts, _ = site
    context, page, record = _open(browser, server + "/index.html", size=size)
    try:
        width, height = SIZES[size]
        assert record["errors"] == [] and record["failed"] == []
        hosts = {urlsplit(u).hostname for u in record["requests"] if not u.startswith("data:")}
        assert hosts == {"127.0.0.1"}, "a request left the machine"
        assert page.locator("path.leaflet-interactive").count() == len(districts)
        assert page.locator(".place-label").count() > 0, "the orientation layer names places"
        assert page.evaluate("document.documentElement.scrollWidth") <= width, "no sideways scrolling"
        page_height = page.evaluate("document.documentElement.scrollHeight")
        if size == "phone":
            assert page_height <= MAX_PHONE_SCREENS * height, f"{page_height} px is over {MAX_PHONE_SCREENS} screens"
        _shot(page, f"citizen-{size}.png")
        page.locator("#all-districts summary").click()  # the list, once opened, carries every district
        surface = page.locator("#district-groups .group:not(.groundwater-group) .district-list button")
        playwright_sync.expect(surface).to_have_count(len(districts))  # built on the details' toggle event
        ground = page.locator("#district-groups .groundwater-group .district-list button")
        playwright_sync.expect(ground).to_have_count(int(districts["groundwater_ban"].sum()))
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        _shot(page, f"citizen-{size}-list.png")
    finally:
        context.close()


def test_keyboard_reaches_a_districts_restriction_in_at_most_five_presses(browser, server, site):
    _, districts, _ = site
    target = districts.iloc[12]
    context, page, _ = _open(browser, server + "/index.html", size="phone")
    try:
        presses = 0
        for key in ("Tab", "Enter"):  # the skip link, then into the search box
            page.keyboard.press(key)
            presses += 1
        assert page.evaluate("document.activeElement.id") == "place-search"
        page.keyboard.type(target["name"])
        page.locator("#place-suggestions li").first.wait_for()
        page.keyboard.press("Enter")
        presses += 1
        card = page.locator("#answer-card")
        playwright_sync.expect(card.locator("h2")).to_have_text(target["name"])
        assert page.evaluate("document.activeElement.id") == "card-title", "the answer gets the focus"
        assert card.locator(".headline").is_visible()
        assert presses <= 5
        box = card.bounding_box()
        assert box["y"] >= 0, "the card's top is on screen"
        _shot(page, "citizen-phone-keyboard-card.png", full_page=False)
    finally:
        context.close()


def test_district_shapes_are_out_of_the_tab_order(browser, server):
    context, page, _ = _open(browser, server + "/index.html", size="desktop")
    try:
        focusable = page.evaluate("""() => Array.from(document.querySelectorAll('path.leaflet-interactive'))
            .filter(p => p.tabIndex >= 0).length""")
        assert focusable == 0
        assert page.locator(".skip-link").get_attribute("href") == "#place-search"
    finally:
        context.close()


def test_search_ignores_case_and_diacritics_announces_results_and_answers_for_a_municipality(browser, server):
    context, page, _ = _open(browser, server + "/index.html", size="desktop")
    try:
        expect = playwright_sync.expect
        search = page.get_by_role("combobox")
        search.fill("BUTENPOLDER een")
        expect(page.get_by_role("option")).to_have_count(1)
        expect(page.locator("#search-status")).to_have_text(re.compile(r"^1 resultaat"))
        page.get_by_role("option").click()
        expect(page.locator("#answer-card h2")).to_have_text(DIACRITIC_NAME)
        search.fill("gemeente b")
        expect(page.get_by_role("option").first).to_contain_text("gemeente")
        search.press("Enter")
        expect(page.locator("#answer-card h2")).to_have_text("Gemeente B")
        assert page.locator("#answer-card .district-list button").count() == 9  # 3×3 districts
        page.get_by_role("button", name="English").click()
        expect(page.locator("#answer-card .headline")).to_contain_text("This municipality has 9 districts")
        search.fill("zzzz")
        expect(page.locator("#search-status")).to_have_text(re.compile(r"^Nothing found"))
    finally:
        context.close()


def test_a_place_answers_with_the_district_around_it_by_any_of_its_names(browser, server, site):
    _, districts, _ = site
    target = districts.iloc[PLACE_DISTRICT]["name"]
    context, page, record = _open(browser, server + "/index.html", size="phone")
    try:
        expect = playwright_sync.expect
        search = page.get_by_role("combobox")
        search.fill("NIEUW eendorp")  # case, hyphen and diacritics ignored
        expect(page.get_by_role("option").first).to_contain_text(PLACE_IN_DISTRICT)
        expect(page.get_by_role("option").first).to_contain_text("plaats in de gemeente")
        search.press("Enter")
        expect(page.locator("#answer-card h2")).to_have_text(target)
        expect(page.locator("#answer-card .place-note")).to_have_text(f"{PLACE_IN_DISTRICT} ligt in het gebied {target}.")
        expect(page.locator("#answer-card dl")).to_contain_text("Waarom?")  # the whole card, not a stub
        expect(page.locator("#search-status")).to_have_text(re.compile(f"^{PLACE_IN_DISTRICT} ligt in het gebied {target}. Hier "))
        search.fill(PLACE_ALTERNATE[:6].lower())  # another name of the same place
        expect(page.get_by_role("option").first).to_contain_text(f"({PLACE_ALTERNATE})")
        page.get_by_role("option").first.click()
        expect(page.locator("#answer-card h2")).to_have_text(target)
        _shot(page, "citizen-phone-place.png", full_page=False)
        page.get_by_role("button", name="English").click()
        expect(page.locator("#answer-card .place-note")).to_have_text(f"{PLACE_IN_DISTRICT} lies in the district {target}.")
        assert {urlsplit(u).hostname for u in record["requests"]} == {"127.0.0.1"}
        assert not record["errors"], record["errors"]
    finally:
        context.close()


@pytest.mark.parametrize(("query", "kind"), [(PLACE_NEAR.upper(), "plaats in de gemeente"),
                                             (PLACE_FAR.lower(), "plaats buiten deze kaart")])
def test_a_place_outside_every_district_gets_a_plain_sentence(browser, server, query, kind):
    context, page, record = _open(browser, server + "/index.html", size="desktop")
    try:
        expect = playwright_sync.expect
        search = page.get_by_role("combobox")
        search.fill(query)
        expect(page.get_by_role("option")).to_have_count(1)
        expect(page.get_by_role("option")).to_contain_text(kind)
        search.press("Enter")
        name = PLACE_NEAR if query == PLACE_NEAR.upper() else PLACE_FAR
        expect(page.locator("#answer-card h2")).to_have_text(name)
        expect(page.locator("#answer-card .headline")).to_have_text(f"{name} ligt niet in het gebied van deze kaart.")
        expect(page.locator("#search-status")).to_have_text(f"{name} ligt niet in het gebied van deze kaart.")
        page.get_by_role("button", name="English").click()
        expect(page.locator("#answer-card .headline")).to_have_text(f"{name} is not in the area of this map.")
        assert not record["errors"], record["errors"]
    finally:
        context.close()


def test_my_location_finds_the_district_in_the_page(browser, server, site):
    _, districts, _ = site
    target = districts.iloc[20]
    point = target.geometry.centroid
    import geopandas as gpd

    lonlat = gpd.GeoSeries([point], crs="EPSG:28992").to_crs("EPSG:4326").iloc[0]
    context, page, record = _open(browser, server + "/index.html", size="phone",
                                  geolocation={"latitude": lonlat.y, "longitude": lonlat.x})
    try:
        page.get_by_role("button", name="Gebruik mijn locatie").click()
        playwright_sync.expect(page.locator("#answer-card h2")).to_have_text(target["name"])
        assert {urlsplit(u).hostname for u in record["requests"]} == {"127.0.0.1"}, "the position stays here"
        _shot(page, "citizen-phone-location.png", full_page=False)
    finally:
        context.close()


def test_tapping_a_shape_shows_the_whole_answer(browser, server, site):
    _, districts, _ = site
    context, page, _ = _open(browser, server + "/index.html", size="phone")
    try:
        page.locator("path.leaflet-interactive").nth(30).dispatch_event("click")
        card = page.locator("#answer-card")
        playwright_sync.expect(card).to_be_visible()
        box = card.bounding_box()
        assert 0 <= box["y"] < SIZES["phone"][1], "the answer starts on screen"
    finally:
        context.close()


def _visible_text(page) -> str:
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    page.wait_for_timeout(100)
    return page.locator("body").inner_text()


def test_no_internal_word_on_the_page_in_either_language(browser, server, site):
    _, districts, citizen = site
    context, page, _ = _open(browser, server + "/index.html", size="desktop")
    try:
        restricted = districts[districts["restriction"] == "surface_water_ban"].iloc[0]
        page.get_by_role("combobox").fill(restricted["name"])
        page.get_by_role("combobox").press("Enter")
        texts = {"nl": _visible_text(page)}
        page.get_by_role("button", name="English").click()
        texts["en"] = _visible_text(page)
        internal = set(districts["rule"]) | set(districts["district_id"]) | set(districts["water_board"])
        internal |= {synthetic_metadata()["setup_name"], "meteo", "sensors"}
        for lang, text in texts.items():
            words = set(re.findall(r"[\w-]+", text))
            assert words & internal == set(), f"{lang}: internal words on the page"
            assert "Waterschap 03-land" in text or "Waterschap" in text
        assert "groundwater" not in texts["nl"]
        assert "regel" not in texts["nl"].lower().split()
    finally:
        context.close()


def test_hostile_names_show_as_text_and_run_nothing(browser, server):
    context, page, record = _open(browser, server + "/index.html", size="desktop")
    try:
        page.get_by_role("combobox").fill("onerror")
        page.get_by_role("option").first.click()
        playwright_sync.expect(page.locator("#answer-card h2")).to_have_text(HOSTILE_NAME)
        page.locator("#all-districts summary").click()
        playwright_sync.expect(page.locator("#district-groups").get_by_text(HOSTILE_NAME, exact=True).first).to_be_visible()
        assert page.locator("img[src='x']").count() == 0
        assert record["dialogs"] == [] and record["errors"] == []
    finally:
        context.close()


def test_the_page_opens_with_what_changed(browser, server):
    context, page, _ = _open(browser, server + "/index.html", size="phone")
    try:
        section = page.locator(".what-changed")
        playwright_sync.expect(section).to_contain_text("Sinds de vorige update (13 juli 2026)")
        playwright_sync.expect(section).to_contain_text("strenger in 3 gebieden")
        section.locator("summary").click()
        assert section.locator(".district-list button").count() == 3
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("size", SIZES)
def test_axe_finds_no_wcag_a_or_aa_violation(browser, server, site, size, lang):
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright",
                                     reason="Python package axe-playwright-python is not installed")
    _, districts, _ = site
    context, page, _ = _open(browser, server + "/index.html" + ("#en" if lang == "en" else ""), size=size)
    try:
        assert page.evaluate("document.documentElement.lang") == lang
        page.get_by_role("combobox").fill(districts.iloc[5]["name"])  # suggestions open …
        page.get_by_role("combobox").press("ArrowDown")
        results = axe_module.Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
        assert results.response["violations"] == [], results.generate_report()
        page.get_by_role("combobox").press("Enter")  # … then the card and the opened list
        page.locator("#all-districts summary").click()
        page.locator("#district-groups .district-list button").first.wait_for()
        results = axe_module.Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
        assert results.response["violations"] == [], results.generate_report()
    finally:
        context.close()


def test_real_places_den_bosch_by_its_common_name_and_den_haag_outside(browser, tmp_path):
    """The carried GeoNames places under a grid of districts over 's-Hertogenbosch: "den bosch"
    (an alternate name) answers with the district around the city's point; Den Haag, far
    away, is known by name and said to lie outside the map."""
    import geopandas as gpd

    from pipelines.reference.geography import reference_places

    places = reference_places(crs="EPSG:28992")
    bosch = places[places["name"] == "'s-Hertogenbosch"].geometry.iloc[0]
    districts = synthetic_districts(16, seed=3, origin=(bosch.x - 3_000.0, bosch.y - 5_000.0))
    target = districts[districts.contains(bosch)]["name"].iloc[0]
    citizen = synthetic_citizen_inputs(districts)
    citizen["orientation"]["places"] = places
    site_dir = publish_site(districts, synthetic_metadata(), tmp_path / "site", citizen=citizen)
    with serve_directory(site_dir) as url:
        context, page, record = _open(browser, f"{url}/index.html", size="desktop")
        try:
            expect = playwright_sync.expect
            search = page.get_by_role("combobox")
            search.fill("den bosch")
            first = page.get_by_role("option").first
            expect(first).to_contain_text("'s-Hertogenbosch")
            expect(first).to_contain_text("(Den Bosch)")
            search.press("Enter")
            expect(page.locator("#answer-card h2")).to_have_text(target)
            search.fill("S-HERTOGENBOSCH")
            expect(page.get_by_role("option").first).to_contain_text("'s-Hertogenbosch")
            search.fill("den haag")
            expect(page.get_by_role("option").first).to_contain_text("Den Haag plaats buiten deze kaart")
            search.press("Enter")
            expect(page.locator("#answer-card .headline")).to_have_text("Den Haag ligt niet in het gebied van deze kaart.")
            page.get_by_role("button", name="English").click()
            search.fill("the hague")
            expect(page.get_by_role("option").first).to_contain_text("Den Haag place outside this map (The Hague)")
            assert not record["errors"], record["errors"]
            assert gpd.GeoSeries([bosch], crs="EPSG:28992").within(districts.union_all()).all()
        finally:
            context.close()
