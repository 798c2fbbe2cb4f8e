"""The citizen page as HTML source: structure, escaping, allow-list, legend, compact data."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboards.citizen_map import page_data, render_citizen_page
from dashboards.escape import html_text, js_template_literal, json_for_script
from dashboards.public_record import checked_metadata, public_districts
from dashboards.restriction_styles import RESTRICTIONS
from tests.synthetic import synthetic_districts, synthetic_metadata

HOSTILE = "<img src=x onerror=alert(1)>"


def _page(districts):
    return render_citizen_page(public_districts(districts), checked_metadata(synthetic_metadata()))


def _data_block(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="citizen-data">(.*?)</script>', page, re.S)
    return json.loads(match.group(1))


def test_page_declares_language_title_and_a_zoomable_viewport():
    page = _page(synthetic_districts(4))
    assert '<html lang="nl">' in page
    assert re.search(r"<title>[^<]+</title>", page)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "user-scalable=no" not in page and "maximum-scale" not in page


def test_hostile_values_reach_the_page_only_as_escaped_text():
    districts = synthetic_districts(4)
    districts.loc[0, "name"] = HOSTILE
    districts.loc[1, "reason_en"] = "</script><script>alert(2)</script>"
    districts.loc[2, "water_board"] = "`${alert(3)}`"
    boards = {"`${alert(3)}`": {"name": '"><svg onload=alert(4)>', "announcement_url": "https://example.org/a?b=1&c=2"}}
    page = render_citizen_page(public_districts(districts), checked_metadata(synthetic_metadata()), boards=boards)
    assert HOSTILE not in page
    assert "<script>alert(2)" not in page
    assert "<svg onload" not in page
    assert "&#34;&gt;&lt;svg onload=alert(4)&gt;" in page  # a board's name is shown as text
    data = _data_block(page)  # the data block still carries the exact text
    assert HOSTILE in data["strings"] and '"><svg onload=alert(4)>' in [b["name_nl"] for b in data["boards"]]
    with pytest.raises(ValueError, match="announcement_url"):
        render_citizen_page(public_districts(districts), checked_metadata(synthetic_metadata()),
                            boards={"WB00": {"name": "x", "announcement_url": "javascript:alert(5)"}})


def test_only_allow_listed_columns_are_published():
    districts = synthetic_districts(4)
    districts["permit_holder"] = "J. Jansen, Dorpsstraat 1"
    page = _page(districts)
    assert "Jansen" not in page and "permit_holder" not in page


def test_legend_names_every_restriction_in_both_languages_with_counts():
    districts = synthetic_districts(40, seed=3)
    page = _page(districts)
    counts = districts["restriction"].value_counts()
    for style in RESTRICTIONS:
        assert style.label_nl in page and style.label_en in page
        n = int(counts.get(style.code, 0))
        assert f"{n} {'gebied' if n == 1 else 'gebieden'}" in page
    assert "Beregeningsverbod grondwater" in page and "Groundwater irrigation ban" in page


def test_page_shows_decision_time_in_amsterdam_and_the_age_of_each_source():
    page = _page(synthetic_districts(4))
    # issued 06:00 UTC on 14 July (summer time) is 08:00 in Amsterdam, for 15 July
    assert "14 juli 2026 om 08:00" in page and "14 July 2026 at 08:00" in page
    assert "Geldt op 15 juli 2026" in page and "Volgende update: 16 juli 2026" in page
    # daily inputs are days (not 02:00), aged from the day decided for, named for people
    assert "Neerslag en verdamping: 13 juli 2026 (2 dagen oud)" in page
    assert "Precipitation and evaporation: 13 July 2026 (2 days old)" in page
    assert "Grondwaterstanden: 9 juli 2026 (6 dagen oud)" in page
    # a sub-daily input keeps its time, in Europe/Amsterdam
    assert "Waterpeilen in sloten en vaarten: 14 juli 2026 om 06:50 (1 dag oud)" in page
    assert "meteo" not in page.split('id="citizen-data"')[0]


def test_compact_geometry_decodes_to_the_district_shapes():
    districts = synthetic_districts(9, seed=2)
    public = public_districts(districts)
    data = page_data(public, tolerance_m=0.0)
    expected = public.geometry.to_crs("EPSG:4326")
    for flat_polygons, geom in zip(data["shapes"], expected.values):
        ring = np.cumsum(np.array(flat_polygons[0][0]).reshape(-1, 2), axis=0) / data["scale"]
        decoded = shapely.Polygon(ring)
        assert decoded.hausdorff_distance(geom) <= 1e-5  # one unit of the 5-decimal grid
    rows = [dict(zip(data["columns"], r)) for r in data["rows"]]
    assert [data["strings"][r["name"]] for r in rows] == list(public["name"])
    assert [r["groundwater"] == 1 for r in rows] == list(public["groundwater_ban"])


def test_bad_input_is_reported_by_column_and_key():
    districts = synthetic_districts(3)
    with pytest.raises(ValueError, match="restriction"):
        public_districts(districts.assign(restriction=["none", "drought", "watch"]))
    with pytest.raises(ValueError, match="reason_en"):
        public_districts(districts.drop(columns="reason_en"))
    with pytest.raises(ValueError, match="EPSG:28992"):
        public_districts(districts.to_crs("EPSG:4326"))
    with pytest.raises(ValueError, match="district_id"):
        public_districts(districts.assign(district_id="same"))
    metadata = synthetic_metadata()
    metadata["issued_at"] = metadata["issued_at"].replace(tzinfo=None)
    with pytest.raises(ValueError, match="issued_at"):
        checked_metadata(metadata)


@settings(max_examples=60, deadline=None)
@given(st.text())
def test_escapers_leave_nothing_that_ends_a_script_or_starts_markup(text):
    assert "<" not in html_text(text) and ">" not in html_text(text) and '"' not in html_text(text)
    as_json = json_for_script(text)
    assert json.loads(as_json) == text
    assert not set("<>&\u2028\u2029") & set(as_json)
    literal = js_template_literal(text)
    assert not set("<>&") & set(literal)
    assert "${" not in literal.replace("\\${", "")
    assert re.search(r"(?<!\\)(\\\\)*`", literal) is None


def test_notices_about_late_or_failed_data_are_shown_and_escaped():
    public = public_districts(synthetic_districts(3))
    quiet = render_citizen_page(public, checked_metadata(synthetic_metadata()))
    assert "data-notice" not in quiet and "Let op: niet alle gegevens" not in quiet
    notices = [{"nl": "De gegevens over neerslag (meteo) lopen tot en met 15 augustus 2025 <b>.",
                "en": "The data on precipitation (meteo) run up to 15 August 2025 <b>."}]
    page = render_citizen_page(public, checked_metadata(synthetic_metadata() | {"notices": notices}))
    assert page.count('class="notice data-notice"') == 1
    assert "lopen tot en met 15 augustus 2025 &lt;b&gt;." in page and "<b>." not in page
    assert 'href="#data-title"' in page and "Let op: niet alle gegevens zijn actueel." in page
    with pytest.raises(ValueError, match="notices must be a list"):
        checked_metadata(synthetic_metadata() | {"notices": ["plain text"]})
