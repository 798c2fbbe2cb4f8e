"""The one table of Dutch and English words, and numbers and dates in each language's form."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboards.restriction_styles import RESTRICTIONS
from models import wording
from models.allocation.verdringingsreeks import CATEGORIES
from models.restrictions.rules import Restriction


def test_month_names_from_one_table():
    assert [wording.month_name(m, lang="nl") for m in (1, 3, 8)] == ["januari", "maart", "augustus"]
    assert [wording.month_name(m, lang="en") for m in (1, 3, 8)] == ["January", "March", "August"]
    # CLDR's abbreviation of maart is "mrt", not the first three letters
    assert wording.month_abbreviation(3, lang="nl") == "mrt"
    assert wording.month_abbreviation(5, lang="en") == "May"


def test_dates_in_both_languages():
    assert wording.format_date(dt.date(2022, 8, 3), lang="nl") == "3 augustus 2022"
    assert wording.format_date(dt.date(2022, 8, 3), lang="en") == "3 August 2022"
    moment = dt.datetime(2026, 7, 14, 9, 5)
    assert wording.format_moment(moment, lang="nl") == "14 juli 2026 om 09:05"
    assert wording.format_moment(moment, lang="en") == "14 July 2026 at 09:05"


def test_numbers_in_each_languages_form():
    assert wording.format_number(12.34, 1, lang="nl") == "12,3"
    assert wording.format_number(12.34, 1, lang="en") == "12.3"
    assert wording.format_number(1234567.5, 0, lang="nl", grouping=True) == "1.234.568"
    assert wording.format_number(1234567.5, 0, lang="en", grouping=True) == "1,234,568"
    assert wording.format_number(1234.5, 1, lang="nl") == "1234,5"  # no grouping unless asked


@given(st.floats(min_value=-1e7, max_value=1e7, allow_nan=False), st.integers(0, 3))
def test_numbers_round_exactly_as_python_formats(value, decimals):
    # Texts stored in the decision log before Babel wrote them must not change by a digit.
    assert wording.format_number(value, decimals, lang="en") == f"{value:.{decimals}f}"
    assert wording.format_number(value, decimals, lang="nl") == f"{value:.{decimals}f}".replace(".", ",")


def test_level_names_are_the_draaiboek_names():
    assert wording.level_name(2, lang="nl") == "feitelijk watertekort"
    assert wording.level_name(0, lang="en") == "normal situation"
    with pytest.raises(ValueError, match="escalation level 7 has no name"):
        wording.level_name(7, lang="nl")


def test_every_restriction_and_category_has_a_name_in_both_languages():
    for code in [r.value for r in Restriction] + ["groundwater_ban"]:
        assert wording.restriction_name(code, lang="nl") and wording.restriction_name(code, lang="en")
    assert [s.label_en for s in RESTRICTIONS] == [wording.restriction_name(s.code, lang="en") for s in RESTRICTIONS]
    assert list(wording.CATEGORY_NAMES) == list(CATEGORIES)
    assert wording.category_name("2a", lang="nl") == "drinkwater"


def test_sources_in_plain_words():
    assert wording.source_name("meteo", lang="nl") == "neerslag en verdamping"
    assert wording.source_name("groundwater", lang="en") == "groundwater levels"
    assert wording.source_name("rain_gauges", lang="en") == "rain_gauges"  # unknown: its own name


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="language 'de' is not supported"):
        wording.format_date(dt.date(2026, 1, 1), lang="de")
