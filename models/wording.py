"""One home for the project's words in Dutch and English, and for numbers and dates in each.

Everything a person reads — the citizen page, the policymaker dashboard, the explanation
texts stored with each decision, the escalation table and the Prefect artifacts — takes its
names from here, so the two languages never disagree between places:

* month names (:func:`month_name`, :func:`month_abbreviation`), from the CLDR data of Babel;
* escalation level names of the Landelijk Draaiboek Waterverdeling en Droogte (``LEVEL_NAMES``);
* restriction type names (``RESTRICTION_NAMES``, including the separate groundwater ban);
* the categories of the verdringingsreeks (``CATEGORY_NAMES``);
* the data sources in plain words (``SOURCE_NAMES``).

Numbers and dates are written in each language's own form through Babel: ``1.234,5`` and
``14 juli 2026`` in Dutch, ``1,234.5`` and ``14 July 2026`` in English. A number is rounded
half-to-even on its exact binary value, exactly as Python's ``format`` rounds, so a text
stored yesterday and one written today agree digit for digit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from functools import cache

from babel.dates import format_date as _babel_date
from babel.dates import get_month_names
from babel.numbers import format_decimal

LANGUAGES: tuple[str, ...] = ("nl", "en")

#: The escalation levels 0–3 of the national drought protocol (Landelijk Draaiboek
#: Waterverdeling en Droogte), as (Dutch, English).
LEVEL_NAMES: Mapping[int, tuple[str, str]] = {
    0: ("normale situatie", "normal situation"),
    1: ("dreigend watertekort", "threatening water shortage"),
    2: ("feitelijk watertekort", "actual water shortage"),
    3: ("(dreigende) crisis", "(threatening) crisis"),
}

#: The restriction types of the decisions table (docs/contracts.md section 6), as (Dutch,
#: English) names shown to citizens. ``groundwater_ban`` can come on top of any other.
RESTRICTION_NAMES: Mapping[str, tuple[str, str]] = {
    "none": ("Geen beperking", "No restriction"),
    "watch": ("Let op: zuinig met water", "Watch: use water sparingly"),
    "daytime_sprinkling_ban": ("Sproeiverbod overdag", "Daytime sprinkling ban"),
    "surface_water_ban": ("Onttrekkingsverbod oppervlaktewater", "Surface-water withdrawal ban"),
    "groundwater_ban": ("Beregeningsverbod grondwater", "Groundwater irrigation ban"),
    # not a decision: the state cannot be known while the measurements it rests on are missing
    "unknown": ("Onbekend: metingen ontbreken", "Unknown: measurements missing"),
}

#: The categories of the verdringingsreeks, highest priority first, with what they protect.
CATEGORY_NAMES: Mapping[str, tuple[str, str]] = {
    "1a": ("stabiliteit van waterkeringen", "stability of water defences"),
    "1b": ("klink en zetting (veen)", "subsidence of peat and settlement"),
    "1c": ("bodemgebonden natuur", "nature bound to soil conditions"),
    "2a": ("drinkwater", "drinking water"),
    "2b": ("energievoorziening (koelwater)", "energy supply (cooling water)"),
    "3": ("kleinschalig hoogwaardig gebruik", "small-scale high-value use"),
    "4": ("overige belangen (landbouw, scheepvaart, …)", "other interests (agriculture, shipping, …)"),
}

#: The ingest sources (``meteo``, ``groundwater``, ``sensors``) in plain words.
SOURCE_NAMES: Mapping[str, tuple[str, str]] = {
    "meteo": ("neerslag en verdamping", "precipitation and evaporation"),
    "groundwater": ("grondwaterstanden", "groundwater levels"),
    "sensors": ("waterpeilen in sloten en vaarten", "water levels in ditches and canals"),
    "supply": ("aanvoer uit het hoofdwatersysteem", "supply from the national water system"),
}


def check_language(lang: str) -> str:
    """``lang`` when it is one of ``LANGUAGES``; ``ValueError`` naming the valid ones otherwise."""
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r} is not supported; expected one of {LANGUAGES}")
    return lang


def pick(pair: tuple[str, str], lang: str) -> str:
    """The Dutch or the English text of a ``(nl, en)`` pair."""
    return pair[0] if check_language(lang) == "nl" else pair[1]


def _name(table: Mapping, key, what: str, lang: str) -> str:
    try:
        pair = table[key]
    except KeyError:
        raise ValueError(f"{what} {key!r} has no name; expected one of {list(table)}") from None
    return pick(pair, lang)


def level_name(level: int, *, lang: str) -> str:
    """The draaiboek's name of an escalation level 0–3."""
    return _name(LEVEL_NAMES, int(level), "escalation level", lang)


def restriction_name(restriction: str, *, lang: str) -> str:
    """The name of a restriction type (``none`` … ``surface_water_ban``, ``groundwater_ban``)."""
    return _name(RESTRICTION_NAMES, restriction, "restriction", lang)


def category_name(category: str, *, lang: str) -> str:
    """What a category of the verdringingsreeks (``"1a"`` … ``"4"``) protects."""
    return _name(CATEGORY_NAMES, str(category), "category", lang)


def source_name(source: str, *, lang: str) -> str:
    """An ingest source in plain words; an unknown source keeps its own name."""
    return pick(SOURCE_NAMES[source], lang) if source in SOURCE_NAMES else source


@cache
def _months(lang: str, width: str) -> tuple[str, ...]:
    names = get_month_names(width, locale=lang)
    return tuple(names[m] for m in range(1, 13))


def month_name(month: int, *, lang: str) -> str:
    """``juli`` / ``July`` for month 7 (CLDR: Dutch month names are written in lower case)."""
    return _months(check_language(lang), "wide")[month - 1]


def month_abbreviation(month: int, *, lang: str) -> str:
    """``mrt`` / ``Mar`` for month 3 (CLDR's abbreviated form, for chart axes)."""
    return _months(check_language(lang), "abbreviated")[month - 1]


def format_number(value: float, decimals: int, *, lang: str, grouping: bool = False) -> str:
    """``value`` rounded to ``decimals``: a decimal comma in Dutch, a point in English; with
    ``grouping``, thousands separated as the language does (``1.234`` / ``1,234``).

    The exact binary value is rounded half-to-even, as ``f"{value:.{decimals}f}"`` rounds.
    """
    pattern = ("#,##0" if grouping else "0") + ("." + "0" * decimals if decimals > 0 else "")
    return format_decimal(Decimal(float(value)), format=pattern, locale=check_language(lang),
                          decimal_quantization=True, group_separator=grouping)


def format_date(day: dt.date, *, lang: str) -> str:
    """``14 juli 2026`` in Dutch, ``14 July 2026`` in English."""
    return _babel_date(day, "d MMMM y", locale=check_language(lang))


def format_moment(moment: dt.datetime, *, lang: str) -> str:
    """A date with its clock time as it stands (convert to Europe/Amsterdam first):
    ``14 juli 2026 om 10:05`` / ``14 July 2026 at 10:05``."""
    word = "om" if check_language(lang) == "nl" else "at"
    return f"{format_date(moment.date(), lang=lang)} {word} {moment:%H:%M}"
