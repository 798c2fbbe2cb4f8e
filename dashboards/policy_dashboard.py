"""The policymaker dashboard (``dashboard.html``): the morning briefing on the drought.

One self-contained page in Dutch and English, key facts first: the national and water-board
escalation levels and what changed since the previous issue, the precipitation deficit
against normal and against 1976 and 2018, the river discharge (or national supply) against
its thresholds, and the outlook. Then a map with one layer at a time (restrictions, what
changed, precipitation deficit, groundwater, the outlook's probability of shortage per
category of the verdringingsreeks), a summary per water board, every shortage of today with
what limits it, the outlook with what each probability is of, and the season at a glance
(escalation levels per board, deficit, discharge, shortage per category).

The *verdringingsreeks* is the legal priority order for water in shortage: categories 1a, 1b,
1c (safety and irreversible damage), 2a, 2b (utilities), 3 (small-scale high-value use) and 4
(other interests), highest first. An *escalation level* is the stage of the national drought
protocol a water board (or the country) is in: 0 normal … 3 (threatening) crisis.

Charts come from :mod:`dashboards.charts` (matplotlib, SVG in the page's language, each with a
table as its text alternative). Built from the same pieces as the citizen page
(``SelfContainedMap``, ``DistrictLayer``, the compact data block, ``droogte-map.js``), so
nothing is loaded from elsewhere; every value from data reaches the page escaped (Jinja
autoescaping; matplotlib escapes the text it writes into SVG).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from markupsafe import Markup

from dashboards.charts import REDS_5, REDS_6, Chart, levels_chart, shortage_chart
from dashboards.citizen_map import TEMPLATE_ENVIRONMENT, data_ages, page_data
from dashboards.escape import json_for_script
from dashboards.leaflet_map import DistrictLayer, SelfContainedMap, add_tiles, render_map_parts
from dashboards.public_record import local_time
from dashboards.restriction_styles import GROUNDWATER_LABEL_EN, GROUNDWATER_LABEL_NL, PATTERN_SVG, RESTRICTIONS
from models.allocation.verdringingsreeks import CATEGORIES as VERDRINGINGSREEKS_CATEGORIES
from models.wording import CATEGORY_NAMES, LEVEL_NAMES, format_date, format_moment, format_number

# The categories of the verdringingsreeks, highest priority first, with what they protect,
# and the escalation levels, each named in Dutch and English (models/wording.py).
CATEGORIES: dict[str, tuple[str, str]] = {c: CATEGORY_NAMES[c] for c in VERDRINGINGSREEKS_CATEGORIES}
ESCALATION: dict[int, tuple[str, str]] = dict(LEVEL_NAMES)
_TOP = 1e12  # upper bound of the last class (JSON has no infinity)
# What changed since the previous issue is not a drought quantity but a direction: lighter
# (blue), the same (grey), stricter (red), told apart by lightness too.
_CHANGE_COLOURS = ("#6baed6", "#f2f2f2", "#cb181d")


@dataclass(frozen=True)
class NumericLayer:
    """A map layer coloured by a numeric indicator per district, in classes.

    ``key`` names the column of ``indicators``; values are multiplied by ``scale`` before they
    are shown (a share 0–1 becomes a percentage); ``legend`` names the legend the layer uses;
    ``colours`` one colour per class (light to dark red for drought quantities); ``labels``
    optional ``(nl, en)`` names of the classes (else made from the bounds).
    """

    key: str
    label_nl: str
    label_en: str
    unit: str
    bounds: tuple[float, ...]  # upper bounds of all classes but the last, in shown units
    decimals: int
    legend: str
    scale: float = 1.0
    colours: tuple[str, ...] = REDS_6
    labels: tuple[tuple[str, str], ...] = ()

    def classes(self) -> list[dict]:
        edges = (None, *self.bounds, None)
        out = []
        fmt = f"{{:.{self.decimals}f}}"
        for k in range(len(edges) - 1):
            low, high = edges[k], edges[k + 1]
            label = (f"< {fmt.format(high)}" if low is None else f"≥ {fmt.format(low)}" if high is None
                     else f"{fmt.format(low)} – {fmt.format(high)}") + f" {self.unit}"
            nl, en = self.labels[k] if self.labels else (label, label)
            out.append({"below": _TOP if high is None else high, "colour": self.colours[k],
                        "label_nl": nl, "label_en": en})
        return out


DEFICIT_LAYER = NumericLayer("precipitation_deficit_mm", "Neerslagtekort sinds 1 april",
                             "Precipitation deficit since 1 April", "mm", (50, 100, 150, 200, 250), 0, "deficit")
GROUNDWATER_LAYER = NumericLayer("groundwater_low_share", "Aandeel peilbuizen onder ondergrens",
                                 "Share of wells below their lower limit", "%", (20, 40, 60, 80), 0, "groundwater",
                                 scale=100, colours=REDS_5)
STILL_SHORT_LAYER = NumericLayer("still_short_probability_4", "Kans dat categorie 4 over 6 weken nog tekort heeft",
                                 "Chance that category 4 is still short in 6 weeks", "%", (20, 40, 60, 80), 0,
                                 "outlook", scale=100, colours=REDS_5)
CHANGE_LAYER = NumericLayer("change", "Veranderd sinds de vorige uitgave", "Changed since the previous issue", "",
                            (-0.5, 0.5), 0, "change", colours=_CHANGE_COLOURS,
                            labels=(("lichtere beperking", "lighter restriction"), ("niet veranderd", "unchanged"),
                                    ("strengere beperking", "stricter restriction")))


def outlook_layer(category: str) -> NumericLayer:
    """The map layer of the outlook's probability that a use of ``category`` is short on at
    least one day of the coming weeks (today included)."""
    return NumericLayer(f"shortage_probability_{category}", f"Kans op tekort, categorie {category}",
                        f"Chance of shortage, category {category}", "%", (20, 40, 60, 80), 0, "outlook",
                        scale=100, colours=REDS_5)


def render_policy_dashboard(districts: gpd.GeoDataFrame, metadata: dict, *, indicators: pd.DataFrame,
                            board_shortage: pd.DataFrame, escalation: pd.DataFrame | Mapping,
                            deficit_chart: Chart | None = None,
                            board_deficit_charts: Mapping[str, Chart] | None = None,
                            river_chart: Chart | None = None,
                            level_history: pd.DataFrame | None = None,
                            reasons: list | None = None,
                            outlook_summary: pd.DataFrame | None = None,
                            outlook_weather: Mapping | None = None,
                            board_names: Mapping[str, str] | None = None,
                            tiles: dict | None = None) -> str:
    """Return the HTML of ``dashboard.html``.

    - ``districts``/``metadata``: as for ``public_record.public_districts``/``checked_metadata``
      (already checked; districts in EPSG:28992).
    - ``indicators``: one row per district: ``district_id``, ``precipitation_deficit_mm`` (mm
      since 1 April), ``groundwater_low_share`` (0–1 share of wells below their lower limit),
      ``shortage_probability_<category>`` (0–1, outlook probability that a use of that
      category is short on at least one day of the horizon, today included) for each
      category with demand; optionally ``still_short_probability_4`` (0–1, the probability
      that category 4 is still short on the horizon's last day) and ``change`` (-1 lighter,
      0 the same, 1 stricter restrictions than in the previous issue). A category without a
      column gets no layer, and the page says so. A lone ``shortage_probability`` column is
      read as category 4. Missing districts or NaN show as "no value".
    - ``board_shortage``: long table over the season so far: ``date`` (day), ``water_board``,
      ``category`` (``"1a"`` … ``"4"``), ``shortage_m3_day`` (m³/day), and optionally
      ``demand_m3_day`` (m³/day; gives the shares of demand short).
    - ``escalation``: the escalation table of ``docs/contracts.md`` section 6 (``scope``,
      ``water_board``, ``level``, ``reason_nl``, ``reason_en``; the national row has scope
      ``national``), or ``{"national": level, "boards": {water_board: level}}`` (levels 0–3).
    - ``deficit_chart``: the precipitation-deficit chart of the whole setup
      (:func:`dashboards.charts.deficit_chart`); ``board_deficit_charts``: the same per water
      board; ``river_chart``: the river discharge (or national supply) against its thresholds
      (:func:`dashboards.charts.river_chart`).
    - ``level_history``: escalation levels over the season (``date``, ``water_board``,
      ``level``; the national row ``"NL"``), from ``escalation_history.parquet``.
    - ``reasons``: :class:`models.allocation.shortage_reasons.ShortageReason` of today.
    - ``outlook_summary``: per ``water_board`` and ``category``: ``short_today`` (0–1 share of
      demand unmet today), ``p_any`` (0–1, highest over the board's districts of the
      probability of a shortage on at least one day of the horizon), ``p_end`` (the same for
      the horizon's last day), ``horizon_days``, ``members`` (e.g. "1991-2024").
    - ``outlook_weather``: why the outlook may differ from today, in numbers
      (:func:`pipelines.briefing.outlook_weather`: ``recent_mm_day``, ``ahead_mm_day``,
      ``drier_members``, ``members``, ``weeks``, ``recent_days``; E − P in mm/day).
    - ``board_names``: display name per water-board id. ``tiles``: as for the citizen page.
    """
    indicators = _checked_indicators(indicators)
    for key in ("date", "water_board", "category", "shortage_m3_day"):
        if key not in board_shortage.columns:
            raise ValueError(f"board_shortage lacks column {key!r}; expected date, water_board, category, "
                             "shortage_m3_day (m³/day)")
    unknown = sorted(set(board_shortage["category"].astype(str)) - set(CATEGORIES))
    if unknown:
        raise ValueError(f"board_shortage: unknown category {unknown}; expected one of {list(CATEGORIES)}")
    for chart in [deficit_chart, river_chart, *(board_deficit_charts or {}).values()]:
        if chart is not None and not isinstance(chart, Chart):
            raise ValueError(f"charts must be dashboards.charts.Chart; got {type(chart).__name__}")

    outlook_categories = [c for c in CATEGORIES if f"shortage_probability_{c}" in indicators.columns]
    layers = [DEFICIT_LAYER, GROUNDWATER_LAYER, *(outlook_layer(c) for c in outlook_categories)]
    if "still_short_probability_4" in indicators.columns:
        layers.append(STILL_SHORT_LAYER)
    if "change" in indicators.columns:
        layers.insert(0, CHANGE_LAYER)
    national, boards = _escalation(escalation)
    data, parts, switch = _map(districts, indicators, layers, tiles)

    issued = local_time(metadata["issued_at"])
    setup = metadata["setup_name"]
    names = {str(k): str(v) for k, v in (board_names or {}).items()}
    headings = {b: _heading(b, names) for b in set(districts["water_board"].astype(str)) | set(names)}
    shortage = board_shortage.assign(date=pd.to_datetime(board_shortage["date"]).dt.normalize(),
                                     category=board_shortage["category"].astype(str),
                                     water_board=board_shortage["water_board"].astype(str))
    board_ids = sorted(set(districts["water_board"]) | set(shortage["water_board"]))
    # Fragment ids by position: water-board ids are data and may hold any character.
    anchors = {board: f"board-{k}" for k, board in enumerate(board_ids, start=1)}
    demand_short = _demand_short_today(shortage, board_ids, names)
    history_chart = None
    if level_history is not None and len(level_history):
        history_chart = levels_chart(level_history, names=names)
    template = TEMPLATE_ENVIRONMENT.get_template("dashboard.html.j2")
    return template.render(
        map=parts, patterns=Markup(PATTERN_SVG), data_json=Markup(json_for_script(data)), layer_switch=switch,
        setup_name=setup, software_version=metadata["software_version"],
        notices=metadata.get("notices") or [],
        issued_nl=format_moment(issued, lang="nl"), issued_en=format_moment(issued, lang="en"),
        valid_from_nl=format_date(metadata["valid_from"], lang="nl"), valid_from_en=format_date(metadata["valid_from"], lang="en"),
        restriction_legend=[{"fill": f"url(#{s.pattern})" if s.pattern else s.colour, "level": s.badge,
                             "label_nl": s.label_nl, "label_en": s.label_en} for s in RESTRICTIONS
                            if s.level >= 0 or (districts["restriction"] == s.code).any()],
        groundwater_nl=GROUNDWATER_LABEL_NL, groundwater_en=GROUNDWATER_LABEL_EN,
        numeric_legends=_numeric_legends(layers),
        categories=[{"code": c, "nl": nl, "en": en} for c, (nl, en) in CATEGORIES.items()],
        outlook_missing=[c for c in CATEGORIES if c not in outlook_categories],
        levels_nl=", ".join(f"{k} {nl}" for k, (nl, _) in LEVEL_NAMES.items()),
        levels_en=", ".join(f"{k} {en}" for k, (_, en) in LEVEL_NAMES.items()),
        national=national, escalation_boards=[boards.get(b, _level_record(None)) | {
            "board": b, "name": names.get(b, b), "anchor": anchors[b]} for b in board_ids],
        key_facts=key_facts(national, boards, names, level_history, indicators, deficit_chart, river_chart,
                            outlook_summary, setup),
        setup_chart=deficit_chart, river_chart=river_chart, history_chart=history_chart,
        summary=_board_summary(districts, indicators, boards, anchors, names, demand_short),
        demand_short=demand_short,
        reasons=[entry | headings.get(entry["board"], _heading(entry["board"], names))
                 for entry in _reasons_view(reasons or [], names)],
        outlook=_outlook_view(outlook_summary, names, outlook_weather),
        boards=[_board_section(b, anchors[b], names.get(b, b), shortage, (board_deficit_charts or {}).get(b))
                | _heading(b, names) for b in board_ids],
        data_ages=data_ages(metadata),
    )


# --- inputs ---------------------------------------------------------------------------------


def _checked_indicators(indicators: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("district_id", DEFICIT_LAYER.key, GROUNDWATER_LAYER.key) if c not in indicators.columns]
    if missing:
        raise ValueError(f"indicators lack column(s) {', '.join(missing)}; expected district_id, "
                         "precipitation_deficit_mm, groundwater_low_share, shortage_probability_<category>")
    per_category = [c for c in indicators.columns if c.startswith("shortage_probability_")]
    if not per_category and "shortage_probability" in indicators.columns:
        indicators = indicators.rename(columns={"shortage_probability": "shortage_probability_4"})
    unknown = [c for c in indicators.columns
               if c.startswith("shortage_probability_") and c.removeprefix("shortage_probability_") not in CATEGORIES]
    if unknown:
        raise ValueError(f"indicators: unknown category column(s) {unknown}; expected "
                         f"shortage_probability_<category> with category one of {list(CATEGORIES)}")
    return indicators


def _level_record(level, name_nl: str = "", name_en: str = "", reason_nl: str = "", reason_en: str = "") -> dict:
    """One escalation level with its name and reason in both languages ("–" when unknown)."""
    if level is None or pd.isna(level):
        return {"level": "–", "name_nl": "onbekend", "name_en": "unknown", "reason_nl": "", "reason_en": ""}
    level = int(level)
    default_nl, default_en = ESCALATION.get(level, (str(level), str(level)))
    return {"level": level, "name_nl": name_nl or default_nl, "name_en": name_en or default_en,
            "reason_nl": reason_nl, "reason_en": reason_en}


def _escalation(escalation: pd.DataFrame | Mapping) -> tuple[dict, dict[str, dict]]:
    """The national level and the level per water board, each with name and reason."""
    if isinstance(escalation, pd.DataFrame):
        missing = [c for c in ("scope", "water_board", "level") if c not in escalation.columns]
        if missing:
            raise ValueError(f"escalation lacks column(s) {', '.join(missing)}; expected the escalation "
                             "table (scope, water_board, level, reason_nl, reason_en)")

        def record(row) -> dict:
            return _level_record(row["level"], *(str(row.get(k, "") or "") for k in
                                                 ("level_name_nl", "level_name_en", "reason_nl", "reason_en")))

        rows = escalation.to_dict("records")
        national = next((record(r) for r in rows if r["scope"] == "national"), _level_record(None))
        boards = {str(r["water_board"]): record(r) for r in rows if r["scope"] != "national"}
        return national, boards
    national = _level_record(escalation.get("national"))
    return national, {str(b): _level_record(level) for b, level in escalation.get("boards", {}).items()}


# --- the map --------------------------------------------------------------------------------


def _map(districts: gpd.GeoDataFrame, indicators: pd.DataFrame, layers, tiles):
    """The page data block, the rendered map and the entries of the layer switch."""
    by_id = indicators.drop_duplicates("district_id").set_index("district_id")
    values = {}
    for layer in layers:
        column = by_id[layer.key].reindex(districts["district_id"]) * layer.scale
        values[layer.key] = {
            "label_nl": layer.label_nl, "label_en": layer.label_en, "unit": layer.unit,
            "numbers": [None if pd.isna(v) else round(float(v), layer.decimals) for v in column],
            "classes": layer.classes(),
        }
    data = page_data(districts, values=values)
    west, south, east, north = data.pop("bounds")
    m = SelfContainedMap(aria_label="Kaart met lagen / Map with layers", location=[(south + north) / 2, (west + east) / 2],
                         zoom_start=8, control_scale=True)
    add_tiles(m, tiles)
    # One layer at a time, chosen by the radio buttons beside the map (droogte.layerSwitch):
    # the fills would otherwise blend into nonsense. Groups start off the map but the first.
    switch = [{"key": "restriction", "label_nl": "Beperkingen", "label_en": "Restrictions", "legend": "restriction",
               "group": None}]
    switch += [{"key": layer.key, "label_nl": layer.label_nl, "label_en": layer.label_en, "legend": layer.legend,
                "group": None} for layer in layers]
    for entry in switch:
        group = folium.FeatureGroup(name=entry["key"], control=False, show=entry["key"] == "restriction").add_to(m)
        DistrictLayer("district-data", value=entry["key"], fit=entry["key"] == "restriction").add_to(group)
        entry["group"] = group.get_name()
    parts = render_map_parts(m)
    parts["switch_script"] = Markup(
        f"droogte.layerSwitch({m.get_name()}, {{"
        + ", ".join(f"{json_for_script(e['key'])}: {e['group']}" for e in switch)
        + '}, document.getElementById("layer-switch"));')
    return data, parts, switch


def _numeric_legends(layers) -> list[dict]:
    legends: dict[str, dict] = {}
    titles = {"deficit": (DEFICIT_LAYER.label_nl + " (mm)", DEFICIT_LAYER.label_en + " (mm)"),
              "groundwater": (GROUNDWATER_LAYER.label_nl, GROUNDWATER_LAYER.label_en),
              "outlook": ("Kans op tekort (verwachting)", "Chance of shortage (outlook)"),
              "change": (CHANGE_LAYER.label_nl, CHANGE_LAYER.label_en)}
    for layer in layers:
        if layer.legend not in legends:
            nl, en = titles[layer.legend]
            legends[layer.legend] = {"key": layer.legend, "title_nl": nl, "title_en": en, "classes": layer.classes()}
    return list(legends.values())


# --- key facts ------------------------------------------------------------------------------


def key_facts(national: dict, boards: dict, names: dict, level_history: pd.DataFrame | None,
              indicators: pd.DataFrame, deficit: Chart | None, river: Chart | None,
              outlook_summary: pd.DataFrame | None, setup: str) -> list[dict]:
    """The four facts a briefing starts with, each a title and sentences in both languages:
    the levels and what changed, the deficit, the river (or supply), the outlook."""
    facts = []
    changed_nl, changed_en = level_changes(level_history, names)
    if "change" in indicators.columns:
        stricter, lighter = int((indicators["change"] > 0).sum()), int((indicators["change"] < 0).sum())
        changed_nl.append(f"Sinds de vorige uitgave: {stricter} gebied(en) strenger, {lighter} lichter.")
        changed_en.append(f"Since the previous issue: {stricter} district(s) stricter, {lighter} lighter.")
    level_words = [(names.get(b, b), r) for b, r in sorted(boards.items())]
    facts.append({
        "key": "levels", "title_nl": "Escalatie", "title_en": "Escalation",
        "nl": [f"Landelijk niveau {national['level']}: {national['name_nl']}."]
              + ["; ".join(f"{n}: {r['level']} ({r['name_nl']})" for n, r in level_words) + "."] + changed_nl,
        "en": [f"National level {national['level']}: {national['name_en']}."]
              + ["; ".join(f"{n}: {r['level']} ({r['name_en']})" for n, r in level_words) + "."] + changed_en,
    })
    if deficit is not None:
        f = deficit.facts
        years_nl = ", ".join(f"{y[5:9]}: {_fmt(v, 0)} mm" for y, v in f.items() if y.startswith("year_"))
        versus = f["deficit_mm"] - f["median_mm"]
        facts.append({
            "key": "deficit", "title_nl": "Neerslagtekort", "title_en": "Precipitation deficit",
            "nl": [f"{_fmt(f['deficit_mm'], 0)} mm op {format_date(f['day'], lang='nl')} in het gebied van {setup}: "
                   f"{_fmt(abs(versus), 0)} mm {'boven' if versus >= 0 else 'onder'} normaal "
                   f"(mediaan {_fmt(f['median_mm'], 0)} mm; 5 % droogste jaren {_fmt(f['driest_5pct_mm'], 0)} mm)."]
                  + ([f"Op dezelfde dag in {years_nl}."] if years_nl else []),
            "en": [f"{_fmt(f['deficit_mm'], 0)} mm on {format_date(f['day'], lang='en')} in the area of {setup}: "
                   f"{_fmt(abs(versus), 0)} mm {'above' if versus >= 0 else 'below'} normal "
                   f"(median {_fmt(f['median_mm'], 0)} mm; 5 % driest years {_fmt(f['driest_5pct_mm'], 0)} mm)."]
                  + ([f"On the same day in {years_nl}."] if years_nl else []),
        })
    if river is not None:
        f = river.facts
        below = [t for t in f["thresholds"] if f["now"] < t.value]
        facts.append({
            "key": "river", "title_nl": f["title_nl"], "title_en": f["title_en"],
            "nl": [f"{_fmt(f['now'], 0)} {f['unit']} op {format_date(f['day'], lang='nl')}"
                   + (", onder " + " en ".join(f"{_fmt(t.value, 0)} {f['unit']} ({t.label_nl})" for t in below)
                      if below else ", boven alle drempels") + "."],
            "en": [f"{_fmt(f['now'], 0)} {f['unit']} on {format_date(f['day'], lang='en')}"
                   + (", below " + " and ".join(f"{_fmt(t.value, 0)} {f['unit']} ({t.label_en})" for t in below)
                      if below else ", above every threshold") + "."],
        })
    if outlook_summary is not None and len(outlook_summary):
        four = outlook_summary[outlook_summary["category"] == "4"]
        if len(four):
            weeks = int(round(int(four["horizon_days"].iloc[0]) / 7))
            facts.append({
                "key": "outlook", "title_nl": "Verwachting", "title_en": "Outlook",
                "nl": [f"{names.get(r.water_board, r.water_board)}: kans dat categorie 4 over {weeks} weken nog "
                       f"tekort heeft {_fmt(100 * r.p_end, 0)} % (vandaag {_fmt(100 * r.short_today, 0)} % niet "
                       "geleverd)." for r in four.itertuples()],
                "en": [f"{names.get(r.water_board, r.water_board)}: chance that category 4 is still short in {weeks} "
                       f"weeks {_fmt(100 * r.p_end, 0)} % (today {_fmt(100 * r.short_today, 0)} % not supplied)."
                       for r in four.itertuples()],
            })
    return facts


def level_changes(level_history: pd.DataFrame | None, names: dict) -> tuple[list[str], list[str]]:
    """Sentences on the levels that changed since the day before, from the level history."""
    if level_history is None or level_history.empty:
        return [], []
    history = level_history.assign(date=pd.to_datetime(level_history["date"]).dt.normalize())
    days = sorted(history["date"].unique())
    if len(days) < 2:
        return [], []
    today = history[history["date"] == days[-1]].set_index("water_board")["level"]
    before = history[history["date"] == days[-2]].set_index("water_board")["level"]
    nl, en = [], []
    for board, level in today.items():
        was = before.get(board)
        if was is not None and int(was) != int(level):
            name_nl = "landelijk" if board == "NL" else names.get(board, board)
            name_en = "national" if board == "NL" else names.get(board, board)
            nl.append(f"{name_nl}: niveau {int(was)} → {int(level)} sinds gisteren.")
            en.append(f"{name_en}: level {int(was)} → {int(level)} since yesterday.")
    if not nl:
        nl, en = ["Geen niveau veranderd sinds gisteren."], ["No level changed since yesterday."]
    return nl, en


# --- per water board ------------------------------------------------------------------------


def _board_summary(districts: gpd.GeoDataFrame, indicators: pd.DataFrame, levels: dict,
                   anchors: dict[str, str], names: dict, demand_short: dict) -> list[dict]:
    """One row per water board: level and reason, restricted districts, ban area, deficit,
    category-4 shortage today and its outlook."""
    area = districts.geometry.to_crs(28992).area  # m², in RD New whatever the input's CRS
    joined = pd.DataFrame(districts.drop(columns="geometry")).assign(area_m2=area.to_numpy())
    joined = joined.merge(indicators, on="district_id", how="left")
    today = {row["board"]: row for row in demand_short["rows"]}
    rows = []
    for board, group in joined.groupby("water_board", sort=True):
        counts = group["restriction"].value_counts()
        banned = group.loc[group["restriction"] == "surface_water_ban", "area_m2"].sum()
        total = group["area_m2"].sum()
        outlook = group["shortage_probability_4"].max() if "shortage_probability_4" in group else np.nan
        still = group["still_short_probability_4"].max() if "still_short_probability_4" in group else np.nan
        restricted = int((group["restriction"] != "none").sum())
        parts = [(int(counts.get(s.code, 0)), s) for s in reversed(RESTRICTIONS) if s.code != "none"]
        rows.append({
            "board": board, "name": names.get(board, board),
            "anchor": anchors[board],
            "escalation": levels.get(board, _level_record(None)),
            "districts": len(group),
            "restricted": restricted,
            "breakdown_nl": ", ".join(f"{n} {s.label_nl.lower()}" for n, s in parts if n),
            "breakdown_en": ", ".join(f"{n} {s.label_en.lower()}" for n, s in parts if n),
            "groundwater": int(group["groundwater_ban"].sum()),
            "ban_area": _fmt(100 * banned / total if total > 0 else np.nan, 0),
            "deficit": _fmt(group[DEFICIT_LAYER.key].mean(), 0),
            "short_4": today.get(board, {}).get("by_category", {}).get("4", "–"),
            "outlook": _fmt(100 * outlook, 0),
            "still": _fmt(100 * still, 0),
        })
    return rows


def _demand_short_today(shortage: pd.DataFrame, boards: list[str], names: dict) -> dict:
    """Per water board and category: the share (%) of demand not met on the last day."""
    if shortage.empty or "demand_m3_day" not in shortage.columns:
        return {"date_nl": "", "date_en": "", "rows": []}
    last = shortage["date"].max()
    today = shortage[shortage["date"] == last].groupby(["water_board", "category"])[
        ["shortage_m3_day", "demand_m3_day"]].sum()
    rows = []
    for board in boards:
        cells = {}
        for category in CATEGORIES:
            short, demand = today.reindex([(board, category)]).iloc[0]
            cells[category] = _fmt(100 * short / demand, 0) if demand > 0 else "–"
        rows.append({"board": board, "name": names.get(board, board), "cells": list(cells.values()),
                     "by_category": cells})
    return {"date_nl": format_date(last.date(), lang="nl"), "date_en": format_date(last.date(), lang="en"), "rows": rows}


def _reasons_view(reasons: list, names: dict) -> list[dict]:
    """Today's shortages per water board, each with what limits it, in words."""
    out: dict[str, dict] = {}
    for r in reasons:
        entry = out.setdefault(r.water_board, {"board": r.water_board, "name": names.get(r.water_board, r.water_board),
                                               "items": []})
        entry["items"].append({"category": r.category, "nl": r.text_nl, "en": r.text_en,
                               "priority": r.category[0] in "12"})
    return list(out.values())


def _outlook_view(summary: pd.DataFrame | None, names: dict, weather: Mapping | None = None) -> dict | None:
    """The outlook per water board and category short today or later, with what it is of."""
    if summary is None or summary.empty:
        return None
    horizon = int(summary["horizon_days"].iloc[0])
    rows = []
    for r in summary.itertuples():
        if r.p_any <= 0 and r.short_today <= 0:
            continue
        rows.append({"board": names.get(r.water_board, r.water_board), "category": r.category,
                     "today": _fmt(100 * r.short_today, 0), "any": _fmt(100 * r.p_any, 0),
                     "end": _fmt(100 * r.p_end, 0)})
    why = None
    if weather:
        w = weather
        why = {
            "nl": (f"In de afgelopen {w['recent_days']} dagen verdampte er gemiddeld "
                   f"{format_number(w['recent_mm_day'], 1, lang='nl')} mm per dag meer dan er regende; in de "
                   f"weerjaren van de verwachting is dat de komende {w['weeks']} weken gemiddeld "
                   f"{format_number(w['ahead_mm_day'], 1, lang='nl')} mm per dag, en in {w['drier_members']} van "
                   f"de {w['members']} jaren even droog of droger dan nu."),
            "en": (f"In the last {w['recent_days']} days evaporation exceeded rain by "
                   f"{format_number(w['recent_mm_day'], 1, lang='en')} mm a day on average; in the weather years "
                   f"of the outlook it does so by {format_number(w['ahead_mm_day'], 1, lang='en')} mm a day over the "
                   f"coming {w['weeks']} weeks, and {w['drier_members']} of the {w['members']} years are as dry as "
                   "now or drier."),
        }
    return {"horizon_days": horizon, "weeks": int(round(horizon / 7)), "members": str(summary["members"].iloc[0]),
            "rows": rows, "why": why}


def _board_section(board: str, anchor: str, name: str, shortage: pd.DataFrame, chart: Chart | None) -> dict:
    """A water board's deficit chart and its chart (and table) of shortage per category."""
    own = shortage[shortage["water_board"] == board]
    section = {"board": board, "name": name, "anchor": anchor, "deficit": chart, "shortage": None}
    if own.empty:
        return section
    short = own.pivot_table(index="date", columns="category", values="shortage_m3_day", aggfunc="sum")
    if "demand_m3_day" in own.columns:
        demand = own.pivot_table(index="date", columns="category", values="demand_m3_day", aggfunc="sum")
        with_demand = [c for c in CATEGORIES if c in demand.columns and demand[c].max() > 0]
        share = (100 * short[with_demand] / demand[with_demand].where(demand[with_demand] > 0)).sort_index()
    else:  # no demand known: the share cannot be drawn; show the categories short at all
        share = (100 * short.gt(0).astype(float)).reindex(columns=[c for c in CATEGORIES if c in short.columns])
    section["shortage"] = shortage_chart(share, scope_nl=f"waterschap {name}", scope_en=f"water board {name}",
                                         categories=CATEGORIES)
    return section


def _heading(board: str, names: dict) -> dict:
    """A water board's heading: its name where the setup gives one (it says "Waterschap …"
    itself), else "Waterschap <id>" / "Water board <id>"."""
    if board in names and names[board] != board:
        return {"heading_nl": names[board], "heading_en": names[board]}
    return {"heading_nl": f"Waterschap {board}", "heading_en": f"Water board {board}"}


# --- formatting -----------------------------------------------------------------------------


def _fmt(value, decimals: int) -> str:
    """A number with a thin space between thousands (Dutch and English readers both read it);
    "–" for a missing value."""
    if value is None or pd.isna(value):
        return "–"
    return f"{value:,.{decimals}f}".replace(",", "\u202f")
