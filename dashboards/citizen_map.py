"""The citizen page: "May I take water here, today? Since when, until when, and why?"

One self-contained page (``index.html``) in Dutch (language level B1) and English, phone
first: what changed since the previous issue; one search box for places (GeoNames, answered
by the district around the place's point), municipalities, provinces, water boards and
districts (case and diacritics ignored) and a "use my location" button (the
browser's position is compared with the districts inside the page and never sent anywhere);
the answer as a card (the restriction in one sentence, since when and the next update, what
it means, the exemptions, why, the water board by name with its announcement, the data age);
the map with municipality and province borders, large waters and place names
(``dashboards/orientation.py``); and
the full list, collapsed and grouped by restriction, with each type's texts said once.

No rule id, source key, setup id or district or board code is shown: boards are named from
the configuration, inputs by ``models.wording``. Dates and numbers are written by
``models.wording`` (Babel). The districts travel once, as a compact JSON block (shared strings
stored once, geometry delta-encoded, see ``dashboards/geometry.py``); ``assets/citizen.js``
builds everything from it, inserting text only through ``textContent``.

``page_data``, ``UI_TEXT`` and ``data_ages`` serve the policymaker dashboard, which draws its
map with the same pieces.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from dashboards.changes import compare_issues
from dashboards.escape import json_for_script
from dashboards.geometry import WGS84, encode_compact, simplify_districts
from dashboards.leaflet_map import SelfContainedMap, add_tiles, render_map_parts
from dashboards.orientation import orientation_data
from dashboards.public_record import local_time
from dashboards.restriction_styles import (
    GROUNDWATER_LABEL_EN,
    GROUNDWATER_LABEL_NL,
    GROUNDWATER_OUTLINE,
    PATTERN_SVG,
    RESTRICTIONS,
)
from models.wording import SOURCE_NAMES, format_date, format_moment, source_name

TEMPLATES = Path(__file__).parent / "templates"
COORDINATE_DECIMALS = 5  # about 1 m in WGS84: finer than a simplified border shows
SIMPLIFY_TOLERANCE_M = 25.0

# Words of the popups and the list, in both languages ({shown}/{total} filled in by script).
UI_TEXT = {
    "nl": {
        "water_board": "Waterschap", "restriction": "Beperking", "since": "Sinds",
        "meaning": "Wat betekent dit", "exemptions": "Uitzonderingen", "reason": "Waarom",
        "groundwater": GROUNDWATER_LABEL_NL, "groundwater_yes": GROUNDWATER_LABEL_NL + ": ja",
        "groundwater_no": "nee", "groundwater_unknown": "onbekend (metingen ontbreken)", "show_on_map": "Toon op de kaart", "count": "{shown} van {total} gebieden",
        "show_all": "Toon alle {n} gebieden",
        "class": "Klasse", "no_value": "geen waarde",
    },
    "en": {
        "water_board": "Water board", "restriction": "Restriction", "since": "Since",
        "meaning": "What it means", "exemptions": "Exemptions", "reason": "Why",
        "groundwater": GROUNDWATER_LABEL_EN, "groundwater_yes": GROUNDWATER_LABEL_EN + ": yes",
        "groundwater_no": "no", "groundwater_unknown": "unknown (measurements missing)", "show_on_map": "Show on the map", "count": "{shown} of {total} districts",
        "show_all": "Show all {n} districts",
        "class": "Class", "no_value": "no value",
    },
}

_COLUMNS = ("name", "water_board", "restriction", "groundwater", "since_nl", "since_en", "reason_nl",
            "reason_en", "meaning_nl", "meaning_en", "exemptions_nl", "exemptions_en")

TEMPLATE_ENVIRONMENT = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=False, lstrip_blocks=False,
)


def page_data(public: gpd.GeoDataFrame, *, tolerance_m: float = SIMPLIFY_TOLERANCE_M,
              values: dict | None = None) -> dict:
    """Return the districts as the page's compact data block (a JSON-ready dict).

    ``public`` is the output of ``public_record.public_districts`` (EPSG:28992). ``values``
    optionally adds numeric layers for the dashboard: ``{key: {"label_nl", "label_en",
    "unit", "numbers": [one float or None per district, in ``public`` order], "classes":
    [{"below", "colour", "label_nl", "label_en"}, …]}}``.
    """
    geometry = simplify_districts(public.geometry, tolerance_m=tolerance_m).to_crs(WGS84)
    strings: list[str] = []
    index: dict[str, int] = {}

    def ref(text: str) -> int:
        if text not in index:
            index[text] = len(strings)
            strings.append(text)
        return index[text]

    rows = []
    for record in public.itertuples(index=False):
        since = record.valid_from
        fields = {
            "name": record.name, "water_board": record.water_board, "restriction": record.restriction,
            "since_nl": _date_nl(since), "since_en": _date_en(since),
            "reason_nl": record.reason_nl, "reason_en": record.reason_en,
            "meaning_nl": record.meaning_nl, "meaning_en": record.meaning_en,
            "exemptions_nl": record.exemptions_nl, "exemptions_en": record.exemptions_en,
        }
        rows.append([groundwater_state(record) if c == "groundwater" else ref(fields[c]) for c in _COLUMNS])
    return {
        "scale": 10**COORDINATE_DECIMALS,
        "columns": list(_COLUMNS),
        "strings": strings,
        "rows": rows,
        "shapes": encode_compact(geometry, decimals=COORDINATE_DECIMALS),
        "styles": {s.code: {"level": s.level, "badge": s.badge, "colour": s.colour, "pattern": s.pattern,
                            "label_nl": s.label_nl, "label_en": s.label_en} for s in RESTRICTIONS},
        "values": values or {},
        "ui": UI_TEXT,
        "bounds": [float(v) for v in geometry.total_bounds] if len(geometry) else [3.3, 50.7, 7.3, 53.6],
    }


def render_citizen_page(public: gpd.GeoDataFrame, metadata: dict, *, tiles: dict | None = None,
                        extra_links: tuple[str, ...] = (), boards: dict | None = None,
                        orientation: dict | None = None, previous: pd.DataFrame | None = None,
                        previous_issued_at: dt.datetime | None = None, groundwater: dict | None = None,
                        next_update: dt.date | None = None, feeds: list[dict] | None = None) -> str:
    """Return the HTML of the citizen page: "May I take water here, today?"

    ``public``: output of ``public_record.public_districts``; ``metadata``: output of
    ``public_record.checked_metadata``; ``tiles``: optional background tiles
    (``{"url", "attribution"}``), off by default; ``extra_links``: names of further pages of
    the site to link to. ``boards``: ``{water-board id: {"name", "announcement_url",
    "contact_url"}}`` (the URLs optional); the page shows names, never ids.
    ``orientation``: ``{"municipalities": gdf, "provinces": gdf}`` in EPSG:28992 (see
    ``dashboards/orientation.py``). ``previous``: the previous issue's district states
    (``dashboards.changes.read_issue``), ``None`` for the first issue. ``groundwater``: the
    texts of the groundwater irrigation ban (``meaning_nl/_en``, ``exemptions_nl/_en``,
    ``;``-separated). ``next_update``: the day of the next issue (default: the day after
    ``valid_from``). ``feeds``: links to the Atom feeds, ``[{"href", "label_nl", "label_en"}]``.
    """
    board_table = _board_table(public, boards or {})
    changes = {c.district_id: c.direction
               for c in compare_issues(previous, public, metadata["issued_at"])} if previous is not None else {}
    next_day = next_update or metadata["valid_from"] + dt.timedelta(days=1)
    data = citizen_data(public, board_table, changes=changes, orientation=orientation,
                        groundwater=groundwater, metadata=metadata, next_update=next_day)
    west, south, east, north = data.pop("bounds")
    m = SelfContainedMap(aria_label="Kaart van de beperkingen", location=[(south + north) / 2, (west + east) / 2],
                         zoom_start=8, control_scale=True)
    add_tiles(m, tiles)
    parts = render_map_parts(m)

    counts = public["restriction"].value_counts()
    legend = [{"level": s.badge, "label_nl": s.label_nl, "label_en": s.label_en,
               "fill": f"url(#{s.pattern})" if s.pattern else s.colour, "count": int(counts.get(s.code, 0))}
              for s in RESTRICTIONS if s.level >= 0 or counts.get(s.code, 0)]
    issued = local_time(metadata["issued_at"])
    directions = pd.Series(list(changes.values()), dtype=str).value_counts()
    template = TEMPLATE_ENVIRONMENT.get_template("citizen.html.j2")
    return template.render(
        map=parts, map_name=Markup(m.get_name()), patterns=Markup(PATTERN_SVG),
        data_json=Markup(json_for_script(data)), legend=legend,
        groundwater_nl=GROUNDWATER_LABEL_NL, groundwater_en=GROUNDWATER_LABEL_EN,
        groundwater_outline=GROUNDWATER_OUTLINE, groundwater_count=int(public["groundwater_ban"].sum()),
        software_version=metadata["software_version"], district_count=len(public),
        valid_from_nl=_date_nl(metadata["valid_from"]), valid_from_en=_date_en(metadata["valid_from"]),
        issued_nl=format_moment(issued, lang="nl"), issued_en=format_moment(issued, lang="en"),
        next_nl=_date_nl(next_day), next_en=_date_en(next_day),
        first_issue=previous is None,
        previous_nl=_date_nl(local_time(previous_issued_at).date()) if previous_issued_at else "",
        previous_en=_date_en(local_time(previous_issued_at).date()) if previous_issued_at else "",
        stricter=int(directions.get("stricter", 0)), lighter=int(directions.get("lighter", 0)),
        otherwise=int(directions.get("changed", 0)),
        ages=input_ages(metadata), boards=board_table, tiles=tiles, feeds=feeds or [],
        extra_links=extra_links, notices=metadata.get("notices", []),
        has_places=bool(data["orientation"].get("places", {}).get("near") or data["orientation"].get("places", {}).get("far")),
        has_waters=bool(data["orientation"].get("waters")),
    )


# What the citizen page says, in both languages ({…} filled in by the page's script).
CITIZEN_TEXT = {
    "nl": {
        "since_label": "Sinds wanneer", "meaning": "Wat betekent dit?", "exemptions": "Uitzonderingen",
        "exemptions_groundwater": "Uitzonderingen op het verbod voor grondwater", "reason": "Waarom?",
        "water_board": "Waterschap", "data_age": "Hoe oud zijn de gegevens?",
        "since_text": "Sinds {since}. Dit geldt tot het waterschap het opheft. Wij bekijken de situatie elke dag; "
                      "de volgende update is op {next}.",
        "since_none": "Zo is het sinds {since}. Wij bekijken de situatie elke dag; de volgende update is op {next}.",
        "since_unknown": "Dit blijft zo tot de metingen er weer zijn. Wij bekijken de situatie elke dag; de volgende update is op "
                         "{next}.",
        "since_short": "sinds {since}", "announcement": "Officiële bekendmaking", "contact": "Contact",
        "change_stricter": "Nieuw: strenger dan bij de vorige update.",
        "change_lighter": "Nieuw: minder streng dan bij de vorige update.",
        "change_changed": "Nieuw: anders dan bij de vorige update.",
        "change_short_stricter": "strenger", "change_short_lighter": "minder streng", "change_short_changed": "gewijzigd",
        "area_intro": "In deze {kind} liggen {n} gebieden. De regels kunnen per gebied verschillen. Kies uw gebied:",
        "kind_district": "gebied", "kind_municipality": "gemeente", "kind_province": "provincie",
        "kind_water_board": "waterschap", "kind_place": "plaats", "kind_place_far": "plaats buiten deze kaart",
        "place_of": "plaats in de gemeente {municipality}",
        "place_in": "{name} ligt in het gebied {district}.",
        "place_outside": "{name} ligt niet in het gebied van deze kaart.",
        "place_outside_hint": "Deze kaart toont alleen de gebieden waarvoor deze beperkingen gelden. Vraag het "
                              "waterschap van uw plaats wat daar geldt.",
        "one_district": "1 gebied", "n_districts": "{n} gebieden", "show_all": "Toon alle {n} gebieden",
        "no_results": "Niets gevonden. Probeer een plaats, gemeente, gebied of waterschap.",
        "one_result": "1 resultaat. Kies met pijltje omlaag en Enter.",
        "n_results": "{n} resultaten. Kies met pijltje omlaag en Enter.",
        "chosen": "{name}: {what}",
        "locating": "Uw locatie wordt bepaald …",
        "locate_failed": "Uw locatie is niet bekend. Zoek uw plaats of gemeente in het zoekvak.",
        "locate_unsupported": "Deze browser kan uw locatie niet bepalen. Zoek uw plaats of gemeente in het zoekvak.",
        "outside": "Uw locatie ligt buiten de gebieden van deze kaart.",
        "zoom_in": "Inzoomen", "zoom_out": "Uitzoomen", "map_label": "Kaart van de beperkingen",
    },
    "en": {
        "since_label": "Since when", "meaning": "What does this mean?", "exemptions": "Exemptions",
        "exemptions_groundwater": "Exemptions from the groundwater ban", "reason": "Why?",
        "water_board": "Water board", "data_age": "How old is the data?",
        "since_text": "Since {since}. This applies until the water board lifts it. We review the situation every "
                      "day; the next update is on {next}.",
        "since_none": "This has been so since {since}. We review the situation every day; the next update is on {next}.",
        "since_unknown": "This stays so until the measurements are back. We review the situation every day; the next "
                         "update is on {next}.",
        "since_short": "since {since}", "announcement": "Official announcement", "contact": "Contact",
        "change_stricter": "New: stricter than at the last update.",
        "change_lighter": "New: less strict than at the last update.",
        "change_changed": "New: different from the last update.",
        "change_short_stricter": "stricter", "change_short_lighter": "less strict", "change_short_changed": "changed",
        "area_intro": "This {kind} has {n} districts. The rules can differ per district. Choose your district:",
        "kind_district": "district", "kind_municipality": "municipality", "kind_province": "province",
        "kind_water_board": "water board", "kind_place": "place", "kind_place_far": "place outside this map",
        "place_of": "place in the municipality of {municipality}",
        "place_in": "{name} lies in the district {district}.",
        "place_outside": "{name} is not in the area of this map.",
        "place_outside_hint": "This map only shows the districts these restrictions apply to. Ask the water board "
                              "of your place what applies there.",
        "one_district": "1 district", "n_districts": "{n} districts", "show_all": "Show all {n} districts",
        "no_results": "Nothing found. Try a place, municipality, district or water board.",
        "one_result": "1 result. Choose with arrow down and Enter.",
        "n_results": "{n} results. Choose with arrow down and Enter.",
        "chosen": "{name}: {what}",
        "locating": "Finding your location …",
        "locate_failed": "Your location is not known. Search for your town or municipality in the search box.",
        "locate_unsupported": "This browser cannot find your location. Search for your town or municipality.",
        "outside": "Your location is outside the districts of this map.",
        "zoom_in": "Zoom in", "zoom_out": "Zoom out", "map_label": "Map of the restrictions",
    },
}

# One sentence per restriction: the answer to "may I take water here?".
HEADLINES = {
    "none": ("Hier geldt geen beperking voor water uit sloten en vaarten.",
             "There is no restriction here on water from ditches and canals."),
    "watch": ("Hier geldt nog geen verbod. Wees wel zuinig met water.",
              "No ban applies here yet. Please use water sparingly."),
    "daytime_sprinkling_ban": ("Hier mag u overdag (07:00 tot 19:00 uur) niet sproeien met water uit sloten en vaarten.",
                               "Here you may not sprinkle with water from ditches and canals during the day "
                               "(07:00 to 19:00)."),
    "surface_water_ban": ("Hier mag u geen water uit sloten en vaarten halen.",
                          "Here you may not take water from ditches and canals."),
    "unknown": ("We weten nu niet of u hier water uit sloten en vaarten mag halen. Er ontbreken metingen.",
                "We do not know now whether you may take water from ditches and canals here. "
                "Measurements are missing."),
}
GROUNDWATER_HEADLINE = ("Ook mag u niet beregenen met grondwater.", "You may also not irrigate with groundwater.")
GROUNDWATER_ONLY_HEADLINE = ("Wel mag u niet beregenen met grondwater.", "But you may not irrigate with groundwater.")
GROUNDWATER_UNKNOWN_HEADLINE = ("Of u mag beregenen met grondwater, weten we nu niet: metingen van het grondwater "
                                "ontbreken.", "Whether you may irrigate with groundwater, we do not know now: "
                                "groundwater measurements are missing.")
GROUNDWATER_UNKNOWN_SHORT = ("grondwater: onbekend", "groundwater: unknown")


def groundwater_state(record) -> int:
    """The groundwater ban of a district for the pages' data: 0 none, 1 in force, 2 unknown
    (the measurements it rests on are missing)."""
    if bool(getattr(record, "groundwater_ban_unknown", False)):
        return 2
    return int(record.groundwater_ban)

# Inputs whose values are whole days (labelled by their UT day, docs/contracts.md): shown as
# a date, never with the 02:00 that midnight UTC is in Amsterdam. Names: models.wording.
DAILY_SOURCES = frozenset({"meteo", "groundwater"})
OTHER_SOURCE = ("andere metingen", "other measurements")


def _source_names(source: str) -> tuple[str, str]:
    """The input by what people know it as; the pipeline's source keys stay off the page."""
    if source not in SOURCE_NAMES:
        return OTHER_SOURCE
    return source_name(source, lang="nl"), source_name(source, lang="en")


_CITIZEN_COLUMNS = ("name", "board", "restriction", "groundwater", "since_nl", "since_en", "reason_nl",
                    "reason_en", "meaning_nl", "meaning_en", "exemptions_nl", "exemptions_en", "change")


def citizen_data(public: gpd.GeoDataFrame, boards: list[dict], *, changes: dict[str, str],
                 orientation: dict | None, groundwater: dict | None, metadata: dict,
                 next_update: dt.date, tolerance_m: float = SIMPLIFY_TOLERANCE_M) -> dict:
    """Return the citizen page's data block (a JSON-ready dict): districts, places, texts.

    Strings shared by many districts (meanings, exemptions, dates) are stored once. ``boards``
    is ``_board_table``'s list; each district refers to its board by position.
    """
    geometry = simplify_districts(public.geometry, tolerance_m=tolerance_m).to_crs(WGS84)
    strings: list[str] = []
    index: dict[str, int] = {}

    def ref(text: str) -> int:
        if text not in index:
            index[text] = len(strings)
            strings.append(text)
        return index[text]

    board_position = {b["id"]: i for i, b in enumerate(boards)}
    rows = []
    for record in public.itertuples(index=False):
        since = record.valid_from
        fields = {
            "name": record.name, "restriction": record.restriction,
            "since_nl": _date_nl(since), "since_en": _date_en(since),
            "reason_nl": record.reason_nl, "reason_en": record.reason_en,
            "meaning_nl": record.meaning_nl, "meaning_en": record.meaning_en,
            "exemptions_nl": record.exemptions_nl, "exemptions_en": record.exemptions_en,
            "change": changes.get(record.district_id, ""),
        }
        row = []
        for column in _CITIZEN_COLUMNS:
            if column == "groundwater":
                row.append(groundwater_state(record))
            elif column == "board":
                row.append(board_position[record.water_board])
            else:
                row.append(ref(fields[column]))
        rows.append(row)
    texts = groundwater or {}
    places = [{"kind": "water_board", "name": b["name_nl"],
               "districts": [i for i, w in enumerate(public["water_board"]) if w == b["id"]]} for b in boards]
    oriented = orientation_data(orientation, public)
    for layer, kind in (("municipalities", "municipality"), ("provinces", "province")):
        for area in oriented.get(layer, []):
            if area["districts"]:
                places.append({"kind": kind, "name": area["name"], "districts": area.pop("districts")})
            else:
                area.pop("districts")
    return {
        "scale": 10**COORDINATE_DECIMALS,
        "columns": list(_CITIZEN_COLUMNS),
        "strings": strings,
        "rows": rows,
        "shapes": encode_compact(geometry, decimals=COORDINATE_DECIMALS),
        "styles": {s.code: {"level": s.level, "badge": s.badge, "colour": s.colour, "pattern": s.pattern,
                            "label_nl": s.label_nl, "label_en": s.label_en,
                            "headline_nl": HEADLINES[s.code][0], "headline_en": HEADLINES[s.code][1]}
                   for s in RESTRICTIONS},
        "groundwater": {"label_nl": GROUNDWATER_LABEL_NL, "label_en": GROUNDWATER_LABEL_EN,
                        "headline_nl": GROUNDWATER_HEADLINE[0], "headline_en": GROUNDWATER_HEADLINE[1],
                        "headline_only_nl": GROUNDWATER_ONLY_HEADLINE[0],
                        "headline_only_en": GROUNDWATER_ONLY_HEADLINE[1],
                        "headline_unknown_nl": GROUNDWATER_UNKNOWN_HEADLINE[0],
                        "headline_unknown_en": GROUNDWATER_UNKNOWN_HEADLINE[1],
                        "unknown_short_nl": GROUNDWATER_UNKNOWN_SHORT[0], "unknown_short_en": GROUNDWATER_UNKNOWN_SHORT[1],
                        **{k: str(texts.get(k, "")) for k in ("meaning_nl", "meaning_en", "exemptions_nl",
                                                              "exemptions_en")}},
        "boards": [{k: v for k, v in b.items() if k != "id"} for b in boards],
        "places": places,
        "orientation": oriented,
        "dates": {"next_nl": _date_nl(next_update), "next_en": _date_en(next_update),
                  "ages_nl": ages_sentence(metadata, "nl"), "ages_en": ages_sentence(metadata, "en")},
        "ui": CITIZEN_TEXT,
        "bounds": [float(v) for v in geometry.total_bounds] if len(geometry) else [3.3, 50.7, 7.3, 53.6],
    }


def _date_nl(day: dt.date) -> str:
    return format_date(day, lang="nl")


def _date_en(day: dt.date) -> str:
    return format_date(day, lang="en")


def _board_table(public: gpd.GeoDataFrame, boards: dict) -> list[dict]:
    """The water boards of the districts, by name: ``[{"id", "name_nl", "name_en", "announcement_url",
    "contact_url"}]``. A board the configuration does not name is called "het waterschap": a
    public page never shows a board's code."""
    table = []
    for board in sorted(set(public["water_board"])):
        given = boards.get(board) or {}
        name = str(given.get("name") or "")
        table.append({"id": board, "name_nl": name or "Het waterschap", "name_en": name or "The water board",
                      "announcement_url": _safe_url(given.get("announcement_url"), f"boards[{board!r}].announcement_url"),
                      "contact_url": _safe_url(given.get("contact_url"), f"boards[{board!r}].contact_url")})
    return table


def _safe_url(value, where: str) -> str:
    """An http(s) or mailto address, else ``ValueError``: a ``javascript:`` link never reaches a page."""
    if value in (None, ""):
        return ""
    text = str(value)
    if not text.startswith(("https://", "http://", "mailto:", "tel:")):
        raise ValueError(f"{where}: expected an https://, http://, mailto: or tel: address; got {text!r}")
    return text


def input_ages(metadata: dict) -> list[dict]:
    """Per input, by its public name: the newest value and its age counted from the day decided for.

    Daily inputs (``DAILY_SOURCES``) are shown as a day, sub-daily ones with their time in
    Europe/Amsterdam. The age is in whole days before ``valid_from`` ("van dezelfde dag" when
    the newest value is of that day itself). A source of ``input_status`` without any data is
    listed too, saying so; ``points_nl``/``points_en`` name its stale and missing stations,
    wells or sensors ("" when none).
    """
    day = metadata["valid_from"]
    status = metadata.get("input_status") or {}
    ages = []
    for source in sorted(set(metadata["data_ages"]) | set(status)):
        newest = metadata["data_ages"].get(source)
        name_nl, name_en = (n[0].upper() + n[1:] for n in _source_names(source))
        points = status.get(source)
        points_nl = points_en = ""
        if points and (points["stale"] or points["missing"]):
            points_nl = _points(points, "van", "meetpunten verouderd", "zonder gegevens")
            points_en = _points(points, "of", "measuring points out of date", "without data")
        if newest is None:
            ages.append({"name_nl": name_nl, "name_en": name_en, "when_nl": "geen gegevens",
                         "when_en": "no data", "age_nl": "besluiten die hierop steunen blijven zoals ze waren, of zijn onbekend",
                         "age_en": "decisions that rest on it stay as they were, or are unknown",
                         "points_nl": points_nl, "points_en": points_en})
            continue
        daily = source in DAILY_SOURCES
        # A daily value is labelled by its UT day (midnight UTC): its date is that UT day.
        shown = newest.astimezone(dt.UTC).date() if daily else local_time(newest).date()
        days = (day - shown).days
        if daily:
            when_nl, when_en = _date_nl(shown), _date_en(shown)
        else:
            local = local_time(newest)
            when_nl, when_en = f"{_date_nl(shown)} om {local:%H:%M}", f"{_date_en(shown)} at {local:%H:%M}"
        if days == 0:
            age_nl, age_en = "van dezelfde dag", "of the same day"
        elif days < 0:  # a sub-daily reading late on the UT day can fall on the next local day
            age_nl, age_en = "nieuwer dan die dag", "newer than that day"
        else:
            age_nl = f"{days} {'dag' if days == 1 else 'dagen'} oud"
            age_en = f"{days} {'day' if days == 1 else 'days'} old"
        ages.append({"name_nl": name_nl, "name_en": name_en, "when_nl": when_nl, "when_en": when_en,
                     "age_nl": age_nl, "age_en": age_en, "points_nl": points_nl, "points_en": points_en})
    return ages


def ages_sentence(metadata: dict, lang: str) -> str:
    """All inputs' ages in one sentence, for the answer card."""
    ages = input_ages(metadata)
    if not ages:
        return "Er zijn geen metingen bekend." if lang == "nl" else "No measurements are known."
    if lang == "nl":
        parts = [f"{a['name_nl'].lower()}: {a['when_nl']} ({a['age_nl']})" for a in ages]
        return "Nieuwste metingen – " + "; ".join(parts) + "."
    parts = [f"{a['name_en'].lower()}: {a['when_en']} ({a['age_en']})" for a in ages]
    return "Newest measurements – " + "; ".join(parts) + "."


def data_ages(metadata: dict) -> list[dict]:
    """Return, per source, the time of its newest input (Europe/Amsterdam) and its age at
    issue, and which of its measuring points are stale or without data (``input_status``);
    a source without any data is listed too, saying so."""
    issued_at = metadata["issued_at"]
    status = metadata.get("input_status") or {}
    ages = []
    for source in sorted(set(metadata["data_ages"]) | set(status)):
        newest = metadata["data_ages"].get(source)
        entry = {"source": source,
                 "source_nl": source_name(source, lang="nl"), "source_en": source_name(source, lang="en"),
                 "time_nl": "", "time_en": "", "age_nl": "", "age_en": "", "points_nl": "", "points_en": ""}
        if newest is not None:
            local = local_time(newest)
            hours = max((issued_at - newest) / dt.timedelta(hours=1), 0.0)
            entry.update({
                "time_nl": f"{format_date(local.date(), lang='nl')} {local:%H:%M}",
                "time_en": f"{format_date(local.date(), lang='en')} {local:%H:%M}",
                "age_nl": _age(hours, "uur", "uur", "dag", "dagen"),
                "age_en": _age(hours, "hour", "hours", "day", "days"),
            })
        points = status.get(source)
        if points and (points["stale"] or points["missing"]):
            entry["points_nl"] = _points(points, "van", "meetpunten verouderd", "zonder gegevens")
            entry["points_en"] = _points(points, "of", "measuring points out of date", "without data")
        ages.append(entry)
    return ages


def _points(points: dict, of: str, stale: str, missing: str) -> str:
    """``3 van 16 meetpunten verouderd: P1, P2, P3; 1 zonder gegevens: P9`` (at most 10 ids each)."""
    def named(ids: list[str]) -> str:
        return ", ".join(ids[:10]) + (" …" if len(ids) > 10 else "")

    parts = []
    if points["stale"]:
        parts.append(f"{len(points['stale'])} {of} {points['count']} {stale}: {named(points['stale'])}")
    if points["missing"]:
        parts.append(f"{len(points['missing'])} {missing}: {named(points['missing'])}")
    return "; ".join(parts)


def _age(hours: float, hour: str, hours_word: str, day: str, days_word: str) -> str:
    if hours < 48:
        whole = round(hours)
        return f"{whole} {hour if whole == 1 else hours_word}"
    days = round(hours / 24)
    return f"{days} {day if days == 1 else days_word}"
