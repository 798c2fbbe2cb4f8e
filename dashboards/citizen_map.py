"""The citizen restriction map: "May I use water here, today? Since when, and why?"

One self-contained page (``index.html``) in Dutch and English: a folium/Leaflet map with every
district coloured *and* patterned by its restriction, a legend in words, a popup per district,
the time of the decisions and the age of the data, and a text alternative (a searchable list
of all districts carrying the same facts as the popups) for screen readers and keyboards.

The districts travel to the page once, as a compact JSON block (shared strings stored once,
geometry delta-encoded; see ``dashboards/geometry.py``); the page's script draws the map
layer and the list from it, inserting text only through ``textContent``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from dashboards.escape import json_for_script
from dashboards.geometry import WGS84, encode_compact, simplify_districts
from dashboards.leaflet_map import DistrictLayer, SelfContainedMap, add_tiles, render_map_parts
from dashboards.public_record import local_time
from dashboards.restriction_styles import (
    GROUNDWATER_LABEL_EN,
    GROUNDWATER_LABEL_NL,
    GROUNDWATER_OUTLINE,
    PATTERN_SVG,
    RESTRICTIONS,
)
from models.wording import format_date, format_moment, source_name

TEMPLATES = Path(__file__).parent / "templates"
COORDINATE_DECIMALS = 5  # about 1 m in WGS84: finer than a simplified border shows
SIMPLIFY_TOLERANCE_M = 25.0

# Words of the popups and the list, in both languages ({shown}/{total} filled in by script).
UI_TEXT = {
    "nl": {
        "water_board": "Waterschap", "restriction": "Beperking", "since": "Sinds",
        "meaning": "Wat betekent dit", "exemptions": "Uitzonderingen", "reason": "Waarom",
        "groundwater": GROUNDWATER_LABEL_NL, "groundwater_yes": GROUNDWATER_LABEL_NL + ": ja",
        "groundwater_no": "nee", "show_on_map": "Toon op de kaart", "count": "{shown} van {total} gebieden",
        "show_all": "Toon alle {n} gebieden",
        "class": "Klasse", "no_value": "geen waarde",
    },
    "en": {
        "water_board": "Water board", "restriction": "Restriction", "since": "Since",
        "meaning": "What it means", "exemptions": "Exemptions", "reason": "Why",
        "groundwater": GROUNDWATER_LABEL_EN, "groundwater_yes": GROUNDWATER_LABEL_EN + ": yes",
        "groundwater_no": "no", "show_on_map": "Show on the map", "count": "{shown} of {total} districts",
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
            "since_nl": format_date(since, lang="nl"), "since_en": format_date(since, lang="en"),
            "reason_nl": record.reason_nl, "reason_en": record.reason_en,
            "meaning_nl": record.meaning_nl, "meaning_en": record.meaning_en,
            "exemptions_nl": record.exemptions_nl, "exemptions_en": record.exemptions_en,
        }
        rows.append([int(record.groundwater_ban) if c == "groundwater" else ref(fields[c]) for c in _COLUMNS])
    return {
        "scale": 10**COORDINATE_DECIMALS,
        "columns": list(_COLUMNS),
        "strings": strings,
        "rows": rows,
        "shapes": encode_compact(geometry, decimals=COORDINATE_DECIMALS),
        "styles": {s.code: {"level": s.level, "colour": s.colour, "pattern": s.pattern,
                            "label_nl": s.label_nl, "label_en": s.label_en} for s in RESTRICTIONS},
        "values": values or {},
        "ui": UI_TEXT,
        "bounds": [float(v) for v in geometry.total_bounds] if len(geometry) else [3.3, 50.7, 7.3, 53.6],
    }


def render_citizen_page(public: gpd.GeoDataFrame, metadata: dict, *, tiles: dict | None = None,
                        extra_links: tuple[str, ...] = ()) -> str:
    """Return the HTML of the citizen map page.

    ``public``: output of ``public_record.public_districts``; ``metadata``: output of
    ``public_record.checked_metadata``; ``tiles``: optional background tiles
    (``{"url", "attribution"}``), off by default; ``extra_links``: names of further pages of
    the site to link to.
    """
    data = page_data(public)
    west, south, east, north = data.pop("bounds")
    m = SelfContainedMap(aria_label="Kaart van de beperkingen / Map of the restrictions",
                         location=[(south + north) / 2, (west + east) / 2], zoom_start=8,
                         control_scale=True)
    add_tiles(m, tiles)
    DistrictLayer("district-data").add_to(m)
    parts = render_map_parts(m)

    counts = public["restriction"].value_counts()
    legend = [{"level": s.level, "label_nl": s.label_nl, "label_en": s.label_en,
               "fill": f"url(#{s.pattern})" if s.pattern else s.colour, "count": int(counts.get(s.code, 0))}
              for s in RESTRICTIONS]
    issued = local_time(metadata["issued_at"])
    template = TEMPLATE_ENVIRONMENT.get_template("citizen.html.j2")
    return template.render(
        map=parts, map_name=Markup(m.get_name()), patterns=Markup(PATTERN_SVG),
        data_json=Markup(json_for_script(data)), legend=legend,
        groundwater_nl=GROUNDWATER_LABEL_NL, groundwater_en=GROUNDWATER_LABEL_EN,
        groundwater_outline=GROUNDWATER_OUTLINE, groundwater_count=int(public["groundwater_ban"].sum()),
        setup_name=metadata["setup_name"], software_version=metadata["software_version"],
        valid_from_nl=format_date(metadata["valid_from"], lang="nl"),
        valid_from_en=format_date(metadata["valid_from"], lang="en"),
        issued_nl=format_moment(issued, lang="nl"), issued_en=format_moment(issued, lang="en"),
        data_ages=data_ages(metadata), extra_links=extra_links, notices=metadata.get("notices", []),
    )


def data_ages(metadata: dict) -> list[dict]:
    """Return, per source, the time of its newest input (Europe/Amsterdam) and its age at issue."""
    issued_at = metadata["issued_at"]
    ages = []
    for source, newest in sorted(metadata["data_ages"].items()):
        local = local_time(newest)
        hours = max((issued_at - newest) / dt.timedelta(hours=1), 0.0)
        ages.append({
            "source": source,
            "source_nl": source_name(source, lang="nl"), "source_en": source_name(source, lang="en"),
            "time_nl": f"{format_date(local.date(), lang='nl')} {local:%H:%M}",
            "time_en": f"{format_date(local.date(), lang='en')} {local:%H:%M}",
            "age_nl": _age(hours, "uur", "uur", "dag", "dagen"), "age_en": _age(hours, "hour", "hours", "day", "days"),
        })
    return ages


def _age(hours: float, hour: str, hours_word: str, day: str, days_word: str) -> str:
    if hours < 48:
        whole = round(hours)
        return f"{whole} {hour if whole == 1 else hours_word}"
    days = round(hours / 24)
    return f"{days} {day if days == 1 else days_word}"
