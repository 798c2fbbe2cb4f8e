"""Texts that explain a restriction decision to a citizen, in Dutch and in English.

Every decision carries four kinds of text, each in both languages:

* **reason** — which rule fired, the indicator's value against its threshold, and since when;
* **meaning** — what the restriction means for someone who wants to take water today;
* **exemptions** — who may still take water (configurable per restriction type);
and the escalation takes its level names from :mod:`models.wording`.

The functions here work on plain values (strings, numbers, dates), so they can be used and
tested without a rule table. Numbers are written with their unit in each language's form
(:func:`models.wording.format_number`: a decimal comma in Dutch); shares (0–1) are written as
percentages.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from models.wording import LANGUAGES, check_language, format_date, format_number, pick



@dataclass(frozen=True)
class Exemptions:
    """Who may still take water under a restriction, as lines of text in Dutch and English."""

    nl: tuple[str, ...] = ()
    en: tuple[str, ...] = ()

    def text(self, lang: str) -> str:
        """The exemptions as one line, separated by semicolons; empty when there are none."""
        return "; ".join(self.nl if check_language(lang) == "nl" else self.en)


_STREAMS = ("wateren die altijd water voeren", "streams and waters that always carry water")
_CROPS = (
    "kapitaalintensieve teelten met een ontheffing van het waterschap",
    "capital-intensive crops with a permit from the water board",
)
_CATTLE = ("drinkwater voor vee", "drinking water for cattle")
_CAN = ("water geven met een gieter", "hand watering with a watering can")


def _exemptions(*pairs: tuple[str, str]) -> Exemptions:
    return Exemptions(nl=tuple(p[0] for p in pairs), en=tuple(p[1] for p in pairs))


#: The usual exemptions of Dutch water boards' announcements, used where the configuration
#: names none. A watch level restricts nothing, so it has no exemptions.
DEFAULT_EXEMPTIONS: Mapping[str, Exemptions] = {
    "none": Exemptions(),
    "watch": Exemptions(),
    "daytime_sprinkling_ban": _exemptions(_STREAMS, _CROPS, _CATTLE, _CAN),
    "surface_water_ban": _exemptions(_STREAMS, _CROPS, _CATTLE, _CAN),
    "groundwater_ban": _exemptions(_CROPS, _CATTLE, _CAN),
}

_MEANING = {
    "none": (
        "Er geldt geen beperking voor het onttrekken van oppervlaktewater.",
        "There is no restriction on taking water from ditches, canals and other surface water.",
    ),
    "watch": (
        "Er geldt nog geen verbod, maar het waterschap houdt de droogte extra in de gaten. "
        "Ga zuinig om met water; een verbod kan volgen.",
        "No ban applies yet, but the water board is watching the drought closely. "
        "Please use water sparingly; a ban may follow.",
    ),
    "daytime_sprinkling_ban": (
        "Beregenen en sproeien met oppervlaktewater is verboden tussen 07:00 en 19:00 uur "
        "(Nederlandse tijd). 's Avonds en 's nachts mag het wel.",
        "Irrigating and sprinkling with surface water is not allowed between 07:00 and 19:00 "
        "(Dutch time). It is allowed in the evening and at night.",
    ),
    "surface_water_ban": (
        "U mag geen water uit sloten, vaarten en ander oppervlaktewater halen, ook niet om te "
        "beregenen of te sproeien, tot het verbod wordt opgeheven.",
        "You may not take water from ditches, canals or other surface water, also not for "
        "irrigating or sprinkling, until the ban is lifted.",
    ),
    "groundwater_ban": (
        "U mag niet beregenen of sproeien met grondwater (uit een put of pomp) tot het verbod "
        "wordt opgeheven.",
        "You may not irrigate or sprinkle with groundwater (from a well or pump) until the ban "
        "is lifted.",
    ),
}

_INDICATOR_PHRASE = {
    "shortage_fraction_4": (
        "het deel van de watervraag voor landbouw, natuur en andere gebruikers (categorie 4) "
        "dat niet geleverd kan worden",
        "the share of the water demand of agriculture, nature and other users (category 4) "
        "that cannot be supplied",
    ),
    "shortage_fraction_3": (
        "het deel van de watervraag voor kapitaalintensieve teelten en proceswater "
        "(categorie 3) dat niet geleverd kan worden",
        "the share of the water demand of capital-intensive crops and process water "
        "(category 3) that cannot be supplied",
    ),
    "groundwater_low_share": (
        "het deel van de grondwatermeetpunten onder hun ondergrens",
        "the share of groundwater monitoring wells below their lower limit",
    ),
    "surface_level_below_critical": (
        "hoe ver het oppervlaktewaterpeil onder het kritieke peil staat",
        "how far the surface-water level is below its critical level",
    ),
    "deficit_anomaly_mm": (
        "het neerslagtekort vergeleken met een normaal jaar (mediaan)",
        "the precipitation deficit compared with a normal year (median)",
    ),
    "outlook_shortage_probability": (
        "de kans op watertekort voor landbouw en natuur (categorie 4) in de komende weken",
        "the probability of a water shortage for agriculture and nature (category 4) in the "
        "coming weeks",
    ),
}

# The reason as whole sentences for the public (Dutch at language level B1: short sentences,
# everyday words), one per indicator: {day} the day the trigger held, {value} the indicator
# then. Written out per indicator rather than assembled from a phrase and a number, because
# "was <phrase> <number>" does not make a sentence in either language.
_REASON_SENTENCE = {
    "shortage_fraction_4": (
        "Op {day} was er te weinig water voor landbouw, natuur en andere gebruikers: "
        "{value} van het water dat zij nodig hadden, kon niet worden geleverd.",
        "On {day} there was not enough water for farming, nature and other users: "
        "{value} of the water they needed could not be supplied.",
    ),
    "shortage_fraction_3": (
        "Op {day} was er te weinig water voor dure teelten en voor bedrijven: "
        "{value} van het water dat zij nodig hadden, kon niet worden geleverd.",
        "On {day} there was not enough water for high-value crops and for businesses: "
        "{value} of the water they needed could not be supplied.",
    ),
    "groundwater_low_share": (
        "Op {day} stond het grondwater bij {value} van de meetpunten te laag.",
        "On {day} the groundwater was too low at {value} of the measuring points.",
    ),
    "surface_level_below_critical": (
        "Op {day} stond het water in sloten en vaarten {value} onder het laagste peil dat "
        "mag.",
        "On {day} the water in ditches and canals was {value} below the lowest level "
        "allowed.",
    ),
    "deficit_anomaly_mm": (
        "Op {day} was het neerslagtekort {value} groter dan in een gewoon jaar. Er is dus "
        "veel minder regen gevallen dan er is verdampt.",
        "On {day} the rainfall deficit was {value} larger than in a normal year. Much less "
        "rain has fallen than has evaporated.",
    ),
    "outlook_shortage_probability": (
        "Op {day} was de kans {value} dat er de komende weken te weinig water is voor "
        "landbouw en natuur.",
        "On {day} the chance that there will be too little water for farming and nature in "
        "the coming weeks was {value}.",
    ),
}

# The limit of a rule, as a sentence per indicator ({limit} the threshold, {more} "of meer" /
# "or more" for ">=" and "of minder" / "or less" for "<=").
_LIMIT_SENTENCE = {
    "shortage_fraction_4": ("Bij een tekort van {limit} {more} geldt deze maatregel.",
                            "This measure applies at a shortfall of {limit} {more}."),
    "shortage_fraction_3": ("Bij een tekort van {limit} {more} geldt deze maatregel.",
                            "This measure applies at a shortfall of {limit} {more}."),
    "groundwater_low_share": ("Bij {limit} {more} van de meetpunten geldt deze maatregel.",
                              "This measure applies at {limit} {more} of the measuring points."),
    "surface_level_below_critical": ("Bij {limit} {more} onder dat peil geldt deze maatregel.",
                                     "This measure applies at {limit} {more} below that level."),
    "deficit_anomaly_mm": ("Bij {limit} {more} boven normaal geldt deze maatregel.",
                           "This measure applies at {limit} {more} above normal."),
    "outlook_shortage_probability": ("Bij een kans van {limit} {more} geldt deze maatregel.",
                                     "This measure applies at a chance of {limit} {more}."),
}
_MORE = {">=": ("of meer", "or more"), "<=": ("of minder", "or less")}

def format_value(value: float, unit: str, *, lang: str) -> str:
    """An indicator value with its unit, as a citizen reads it.

    ``unit`` is the indicator's unit: ``"1"`` for a share or probability (0–1, written as a
    percentage), ``"m"`` (two decimals) or ``"mm"`` (whole millimetres).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "onbekend" if check_language(lang) == "nl" else "unknown"
    if unit == "1":
        return f"{format_number(100 * value, 0, lang=lang)}%"
    if unit == "m":
        return f"{format_number(value, 2, lang=lang)} m"
    if unit == "mm":
        return f"{format_number(value, 0, lang=lang)} mm"
    raise ValueError(f"unit {unit!r} has no format; expected '1', 'm' or 'mm'")


def indicator_phrase(indicator: str, *, lang: str) -> str:
    """What an indicator measures, in words (Dutch or English)."""
    try:
        return pick(_INDICATOR_PHRASE[indicator], lang)
    except KeyError:
        raise ValueError(
            f"indicator {indicator!r} has no text; expected one of {sorted(_INDICATOR_PHRASE)}"
        ) from None


def reason(
    *,
    rule_id: str,
    indicator: str,
    unit: str,
    operator: str,
    threshold: float,
    value: float,
    triggered_on: date,
    since: date,
    lang: str,
) -> str:
    """Why a restriction applies, in whole sentences for the public: the value against the
    limit on the day the trigger held, and since when the restriction applies.

    ``triggered_on`` is the day the rule's trigger held with ``value``; ``since`` the first
    day of this restriction (later than ``triggered_on`` when a more severe restriction
    applied in between; the text then says so, so the two dates never contradict each
    other). ``rule_id`` is kept in the decision's ``rule`` column, never in this text: a
    public page shows no internal ids.
    """
    del rule_id  # in the decision record, not in the words
    if indicator not in _REASON_SENTENCE:
        indicator_phrase(indicator, lang=lang)  # raises the error naming the valid indicators
    if operator not in _MORE:
        raise ValueError(f"operator {operator!r} has no text; expected one of {sorted(_MORE)}")
    shown = format_value(value, unit, lang=lang)
    limit = format_value(threshold, unit, lang=lang)
    day = format_date(triggered_on, lang=lang)
    first = format_date(since, lang=lang)
    measured = pick(_REASON_SENTENCE[indicator], lang).format(day=day, value=shown)
    rule = pick(_LIMIT_SENTENCE[indicator], lang).format(limit=limit, more=pick(_MORE[operator], lang))
    if triggered_on < since:
        start = (f"Sinds {first} geldt deze lichtere maatregel; daarvoor gold een strengere."
                 if lang == "nl" else
                 f"This lighter measure has applied since {first}; a stricter one applied before.")
        return f"{measured} {rule} {start}"
    start = (f"Daarom geldt deze maatregel sinds {first}." if lang == "nl"
             else f"That is why this measure has applied since {first}.")
    return f"{measured} {rule} {start}"


def no_restriction_reason(*, since: date, lang: str) -> str:
    """The reason text of a ``none`` record: no surface-water rule is in force."""
    day = format_date(since, lang=lang)
    if check_language(lang) == "nl":
        return f"Er is nu geen reden voor een beperking. Dat is zo sinds {day}."
    return f"There is no reason for a restriction now. This has been so since {day}."


def meaning(restriction: str, *, lang: str) -> str:
    """What a restriction type means for a citizen who wants to take water today."""
    try:
        return pick(_MEANING[restriction], lang)
    except KeyError:
        raise ValueError(
            f"restriction {restriction!r} has no text; expected one of {sorted(_MEANING)}"
        ) from None


class ExemptionsError(ValueError):
    """Exemption texts that cannot be used: ``key`` is the key path, ``message`` what is wrong."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.message = message
        super().__init__(f"{key}: {message}")


def exemptions_from_config(
    mapping: Mapping[str, Mapping[str, Sequence[str]]], *, where: str
) -> dict[str, Exemptions]:
    """Exemptions per restriction type from ``{type: {nl: [...], en: [...]}}``.

    Types not named keep :data:`DEFAULT_EXEMPTIONS`. ``where`` prefixes error messages
    (e.g. ``"config.yaml: exemptions"``).
    """
    result = dict(DEFAULT_EXEMPTIONS)
    if not isinstance(mapping, Mapping):
        raise ExemptionsError(where, "expected a mapping of restriction type to {nl, en} lists")
    for kind, texts in mapping.items():
        if kind not in DEFAULT_EXEMPTIONS:
            raise ExemptionsError(
                f"{where}.{kind}", "unknown restriction type; expected one of "
                f"{sorted(DEFAULT_EXEMPTIONS)}"
            )
        if not isinstance(texts, Mapping) or set(texts) != set(LANGUAGES):
            raise ExemptionsError(f"{where}.{kind}", "expected a mapping with exactly keys 'nl' and 'en'")
        lines = {}
        for lang in LANGUAGES:
            items = texts[lang]
            if not isinstance(items, list) or not all(isinstance(s, str) for s in items):
                raise ExemptionsError(f"{where}.{kind}.{lang}", "expected a list of texts")
            lines[lang] = tuple(items)
        if len(lines["nl"]) != len(lines["en"]):
            raise ExemptionsError(
                f"{where}.{kind}", f"'nl' has {len(lines['nl'])} lines and 'en' has "
                f"{len(lines['en'])}; each exemption needs both languages"
            )
        result[kind] = Exemptions(nl=lines["nl"], en=lines["en"])
    return result
