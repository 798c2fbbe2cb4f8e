"""The policymaker dashboard (``dashboard.html``): where we stand, who is short, what may come.

One self-contained page in Dutch and English: a map with one layer at a time (restrictions,
precipitation deficit, groundwater standing, and the outlook's probability of shortage for
each category of the verdringingsreeks), the escalation levels, a summary per water board, the
KNMI-style precipitation-deficit chart for the whole setup and per water board, and per water
board the shortage per category over the season so far (a chart with a table beside it).

The *verdringingsreeks* is the legal priority order for water in shortage: categories 1a, 1b,
1c (safety and irreversible damage), 2a, 2b (utilities), 3 (small-scale high-value use) and 4
(other interests), highest first. An *escalation level* is the stage of the national drought
protocol a water board (or the country) is in: 0 normal … 3 (threatening) crisis.

Built from the same pieces as the citizen page (``SelfContainedMap``, ``DistrictLayer``, the
compact data block, ``droogte-map.js``), so nothing is loaded from elsewhere; every value from
data reaches the page escaped (Jinja autoescaping, ``dashboards/escape.py`` for the inline
charts and the data block).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from markupsafe import Markup
from PIL import Image

from dashboards.citizen_map import TEMPLATE_ENVIRONMENT, data_ages, page_data
from dashboards.escape import html_text, json_for_script
from dashboards.leaflet_map import DistrictLayer, SelfContainedMap, add_tiles, render_map_parts
from dashboards.public_record import local_time
from dashboards.restriction_styles import GROUNDWATER_LABEL_EN, GROUNDWATER_LABEL_NL, PATTERN_SVG, RESTRICTIONS
from models.allocation.verdringingsreeks import CATEGORIES
from models.wording import CATEGORY_NAMES, LEVEL_NAMES, format_date, format_moment, format_number, month_abbreviation

_SEQUENTIAL = ("#fde725", "#7ad151", "#22a884", "#2a788e", "#414487", "#440154")  # viridis, light = good
_TOP = 1e12  # upper bound of the last class (JSON has no infinity)
# One colour and one dash pattern per category in the shortage charts (Okabe-Ito colours;
# the dashes keep the lines apart where colours are not seen).
_CATEGORY_LINES: dict[str, tuple[str, str]] = {
    "1a": ("#000000", ""), "1b": ("#8c5a00", "8 3"), "1c": ("#009e73", "2 2"), "2a": ("#0072b2", ""),
    "2b": ("#56b4e9", "8 3 2 3"), "3": ("#d55e00", "4 2"), "4": ("#cc79a7", ""),
}


@dataclass(frozen=True)
class NumericLayer:
    """A map layer coloured by a numeric indicator per district, in classes.

    ``key`` names the column of ``indicators``; values are multiplied by ``scale`` before they
    are shown (a share 0–1 becomes a percentage); ``legend`` names the legend the layer uses.
    """

    key: str
    label_nl: str
    label_en: str
    unit: str
    bounds: tuple[float, ...]  # upper bounds of all classes but the last, in shown units
    decimals: int
    legend: str
    scale: float = 1.0

    def classes(self) -> list[dict]:
        edges = (None, *self.bounds, None)
        out = []
        for k in range(len(edges) - 1):
            low, high = edges[k], edges[k + 1]
            labels = {}
            for lang in ("nl", "en"):
                def fmt(value, lang=lang):
                    return _fmt(value, self.decimals, lang)
                labels[lang] = (f"< {fmt(high)}" if low is None else f"≥ {fmt(low)}" if high is None
                                else f"{fmt(low)} – {fmt(high)}") + f" {self.unit}"
            out.append({"below": _TOP if high is None else high, "colour": _SEQUENTIAL[k],
                        "label_nl": labels["nl"], "label_en": labels["en"]})
        return out


DEFICIT_LAYER = NumericLayer("precipitation_deficit_mm", "Neerslagtekort sinds 1 april",
                             "Precipitation deficit since 1 April", "mm", (50, 100, 150, 200, 250), 0, "deficit")
GROUNDWATER_LAYER = NumericLayer("groundwater_low_share", "Aandeel peilbuizen onder ondergrens",
                                 "Share of wells below their lower limit", "%", (20, 40, 60, 80), 0, "groundwater",
                                 scale=100)


def outlook_layer(category: str) -> NumericLayer:
    """The map layer of the outlook's probability that a use of ``category`` runs short."""
    return NumericLayer(f"shortage_probability_{category}", f"Kans op tekort, categorie {category}",
                        f"Probability of shortage, category {category}", "%", (20, 40, 60, 80), 0, "outlook",
                        scale=100)


@dataclass(frozen=True)
class DeficitChart:
    """A rendered precipitation-deficit chart (PNG) and the figures its text alternative states.

    All in mm on ``day``: this season's deficit, the climatological median and the 5 %-driest
    line (exceeded in one year in twenty) over ``reference_years``.
    """

    png: bytes
    day: dt.date
    deficit_mm: float
    median_mm: float
    driest_5pct_mm: float
    reference_years: str

    @classmethod
    def from_series(cls, png: bytes, current: pd.Series, climatology: pd.DataFrame) -> DeficitChart:
        """Take the figures from what the chart was drawn from: ``current`` (mm by date) and the
        climatology table of ``models.indicators.climatology.deficit_climatology`` (index ``"MM-DD"``)."""
        current = current.dropna()
        if current.empty:
            raise ValueError("current: no deficit values")
        day = pd.Timestamp(current.index[-1])
        row = climatology.reindex([day.strftime("%m-%d")]).iloc[0]
        return cls(png=png, day=day.date(), deficit_mm=float(current.iloc[-1]),
                   median_mm=float(row.get("median", np.nan)), driest_5pct_mm=float(row.get("driest_5pct", np.nan)),
                   reference_years=str(climatology.attrs.get("reference_years", "")))

    def data_uri(self) -> str:
        return _png_data_uri(self.png)

    def alt(self, scope_nl: str, scope_en: str) -> dict[str, str]:
        """The chart in words, in both languages."""
        ref = f" ({self.reference_years})" if self.reference_years else ""
        return {
            "nl": (f"Grafiek van het neerslagtekort in {scope_nl}, {self.day.year}: op {format_date(self.day, lang='nl')} "
                   f"{_fmt(self.deficit_mm, 0, 'nl')} mm, tegen een mediaan van {_fmt(self.median_mm, 0, 'nl')} mm en "
                   f"{_fmt(self.driest_5pct_mm, 0, 'nl')} mm in een 5 %-droogste jaar{ref}."),
            "en": (f"Chart of the precipitation deficit in {scope_en}, {self.day.year}: {_fmt(self.deficit_mm, 0, 'en')} mm "
                   f"on {format_date(self.day, lang='en')}, against a median of {_fmt(self.median_mm, 0, 'en')} mm and "
                   f"{_fmt(self.driest_5pct_mm, 0, 'en')} mm in a 5 %-driest year{ref}."),
        }


def render_policy_dashboard(districts: gpd.GeoDataFrame, metadata: dict, *, indicators: pd.DataFrame,
                            board_shortage: pd.DataFrame, escalation: pd.DataFrame | Mapping,
                            deficit_chart: DeficitChart | None = None,
                            board_deficit_charts: Mapping[str, DeficitChart] | None = None,
                            deficit_chart_png: bytes | None = None, tiles: dict | None = None) -> str:
    """Return the HTML of ``dashboard.html``.

    - ``districts``/``metadata``: as for ``public_record.public_districts``/``checked_metadata``
      (already checked; districts in EPSG:28992).
    - ``indicators``: one row per district: ``district_id``, ``precipitation_deficit_mm`` (mm
      since 1 April), ``groundwater_low_share`` (0–1 share of wells below their lower limit),
      and ``shortage_probability_<category>`` (0–1, outlook probability that a use of that
      category runs short) for each category with demand; a category without a column gets
      no layer, and the page says so. A lone ``shortage_probability`` column is read as
      category 4. Missing districts or NaN show as "no value".
    - ``board_shortage``: long table over the season so far: ``date`` (day), ``water_board``,
      ``category`` (``"1a"`` … ``"4"``), ``shortage_m3_day`` (m³/day), and optionally
      ``demand_m3_day`` (m³/day; gives the share of demand short on the last day).
    - ``escalation``: the escalation table of ``docs/contracts.md`` section 6 (``scope``,
      ``water_board``, ``level``, ``reason_nl``, ``reason_en``; the national row has scope
      ``national``), or ``{"national": level, "boards": {water_board: level}}`` (levels 0–3).
    - ``deficit_chart``: the precipitation-deficit chart of the whole setup;
      ``board_deficit_charts``: the same per water board. ``deficit_chart_png``: the whole
      setup's chart as bare PNG bytes, when its figures are not at hand (used when
      ``deficit_chart`` is not given).
    - ``tiles``: optional background tiles, as for the citizen page.
    """
    indicators = _checked_indicators(indicators)
    for key in ("date", "water_board", "category", "shortage_m3_day"):
        if key not in board_shortage.columns:
            raise ValueError(f"board_shortage lacks column {key!r}; expected date, water_board, category, "
                             "shortage_m3_day (m³/day)")
    unknown = sorted(set(board_shortage["category"].astype(str)) - set(CATEGORIES))
    if unknown:
        raise ValueError(f"board_shortage: unknown category {unknown}; expected one of {list(CATEGORIES)}")
    for chart in [deficit_chart, *(board_deficit_charts or {}).values()]:
        if chart is not None and not chart.png.startswith(b"\x89PNG\r\n\x1a\n"):
            raise ValueError("deficit charts must be PNG bytes")
    if deficit_chart_png is not None and not deficit_chart_png.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError("deficit_chart_png must be PNG bytes")

    outlook_categories = [c for c in CATEGORIES if f"shortage_probability_{c}" in indicators.columns]
    layers = (DEFICIT_LAYER, GROUNDWATER_LAYER, *(outlook_layer(c) for c in outlook_categories))
    national, boards = _escalation(escalation)
    data, parts, switch = _map(districts, indicators, layers, tiles)

    issued = local_time(metadata["issued_at"])
    setup = metadata["setup_name"]
    shortage = board_shortage.assign(date=pd.to_datetime(board_shortage["date"]).dt.normalize(),
                                     category=board_shortage["category"].astype(str),
                                     water_board=board_shortage["water_board"].astype(str))
    board_ids = sorted(set(districts["water_board"]) | set(shortage["water_board"]))
    # Fragment ids by position: water-board ids are data and may hold any character.
    anchors = {board: f"board-{k}" for k, board in enumerate(board_ids, start=1)}
    template = TEMPLATE_ENVIRONMENT.get_template("dashboard.html.j2")
    return template.render(
        map=parts, patterns=Markup(PATTERN_SVG), data_json=Markup(json_for_script(data)), layer_switch=switch,
        setup_name=setup, software_version=metadata["software_version"],
        notices=metadata.get("notices") or [],
        issued_nl=format_moment(issued, lang="nl"), issued_en=format_moment(issued, lang="en"),
        valid_from_nl=format_date(metadata["valid_from"], lang="nl"), valid_from_en=format_date(metadata["valid_from"], lang="en"),
        restriction_legend=[{"fill": f"url(#{s.pattern})" if s.pattern else s.colour, "level": s.level,
                             "label_nl": s.label_nl, "label_en": s.label_en} for s in RESTRICTIONS],
        groundwater_nl=GROUNDWATER_LABEL_NL, groundwater_en=GROUNDWATER_LABEL_EN,
        numeric_legends=_numeric_legends(layers),
        categories=[{"code": c, "nl": nl, "en": en} for c, (nl, en) in CATEGORY_NAMES.items()],
        outlook_missing=[c for c in CATEGORIES if c not in outlook_categories],
        levels_nl=", ".join(f"{k} {nl}" for k, (nl, _) in LEVEL_NAMES.items()),
        levels_en=", ".join(f"{k} {en}" for k, (_, en) in LEVEL_NAMES.items()),
        national=national, escalation_boards=[boards.get(b, _level_record(None)) | {"board": b, "anchor": anchors[b]}
                           for b in board_ids],
        setup_chart=_setup_chart(deficit_chart, deficit_chart_png, setup),
        summary=_board_summary(districts, indicators, boards, anchors),
        demand_short=_demand_short_today(shortage, board_ids),
        boards=[_board_section(b, anchors[b], shortage, (board_deficit_charts or {}).get(b)) for b in board_ids],
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
    default_nl, default_en = LEVEL_NAMES.get(level, (str(level), str(level)))
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
              "outlook": ("Kans op tekort in de komende weken (verwachting)",
                          "Probability of shortage in the coming weeks (outlook)")}
    for layer in layers:
        if layer.legend not in legends:
            nl, en = titles[layer.legend]
            legends[layer.legend] = {"key": layer.legend, "title_nl": nl, "title_en": en, "classes": layer.classes()}
    return list(legends.values())


# --- per water board ------------------------------------------------------------------------


def _board_summary(districts: gpd.GeoDataFrame, indicators: pd.DataFrame, levels: dict,
                   anchors: dict[str, str]) -> list[dict]:
    """One row per water board: level and reason, districts per restriction, ban area, deficit, outlook."""
    area = districts.geometry.to_crs(28992).area  # m², in RD New whatever the input's CRS
    joined = pd.DataFrame(districts.drop(columns="geometry")).assign(area_m2=area.to_numpy())
    joined = joined.merge(indicators, on="district_id", how="left")
    rows = []
    for board, group in joined.groupby("water_board", sort=True):
        counts = group["restriction"].value_counts()
        banned = group.loc[group["restriction"] == "surface_water_ban", "area_m2"].sum()
        total = group["area_m2"].sum()
        outlook = group["shortage_probability_4"].max() if "shortage_probability_4" in group else np.nan
        rows.append({
            "board": board,
            "anchor": anchors[board],
            "escalation": levels.get(board, _level_record(None)),
            "districts": len(group),
            "counts": [int(counts.get(s.code, 0)) for s in RESTRICTIONS],
            "groundwater": int(group["groundwater_ban"].sum()),
            "ban_area": _both(100 * banned / total if total > 0 else np.nan, 0),
            "deficit": _both(group[DEFICIT_LAYER.key].mean(), 0),
            "outlook": _both(100 * outlook, 0),
        })
    return rows


def _demand_short_today(shortage: pd.DataFrame, boards: list[str]) -> dict:
    """Per water board and category: the share (%) of demand not met on the last day."""
    if shortage.empty or "demand_m3_day" not in shortage.columns:
        return {"date_nl": "", "date_en": "", "rows": []}
    last = shortage["date"].max()
    today = shortage[shortage["date"] == last].groupby(["water_board", "category"])[
        ["shortage_m3_day", "demand_m3_day"]].sum()
    rows = []
    for board in boards:
        cells = []
        for category in CATEGORIES:
            short, demand = today.reindex([(board, category)]).iloc[0]
            cells.append(_both(100 * short / demand if demand > 0 else np.nan, 1))
        rows.append({"board": board, "cells": cells})
    return {"date_nl": format_date(last.date(), lang="nl"), "date_en": format_date(last.date(), lang="en"), "rows": rows}


def _board_section(board: str, anchor: str, shortage: pd.DataFrame, chart: DeficitChart | None) -> dict:
    """A water board's deficit chart, its shortage chart and the table behind that chart."""
    own = shortage[shortage["water_board"] == board]
    daily = own.pivot_table(index="date", columns="category", values="shortage_m3_day", aggfunc="sum")
    daily = daily.reindex(columns=list(CATEGORIES)).fillna(0.0).sort_index()
    section = {"board": board, "anchor": anchor, "deficit": None, "shortage": None}
    if chart is not None:
        section["deficit"] = {"src": chart.data_uri(), "alt": chart.alt(f"waterschap {board}", f"water board {board}")}
    if not daily.empty:
        section["shortage"] = _shortage_view(daily, board)
    return section


def _shortage_view(daily: pd.DataFrame, board: str) -> dict:
    """The chart, its words and the weekly table of one board's shortage per category (m³/day)."""
    short = [c for c in CATEGORIES if daily[c].max() > 0]
    first, last = daily.index[0].date(), daily.index[-1].date()
    if short:
        peaks = [(c, daily[c].max(), daily[c].idxmax().date()) for c in short]
        words_nl = "; ".join(f"categorie {c}: hoogste tekort {_fmt(v, 0, 'nl')} m³/dag op {format_date(d, lang='nl')}" for c, v, d in peaks)
        words_en = "; ".join(f"category {c}: largest shortage {_fmt(v, 0, 'en')} m³/day on {format_date(d, lang='en')}" for c, v, d in peaks)
    else:
        words_nl, words_en = "geen tekort in enige categorie", "no shortage in any category"
    weekly = daily.resample("7D", origin="start").mean()  # weeks counted from the season's first day
    return {
        "svg": shortage_chart_svg(daily[short]) if short else None,
        "alt": {"nl": f"Grafiek van het tekort per categorie in waterschap {board}, {format_date(first, lang='nl')} tot en met "
                      f"{format_date(last, lang='nl')}: {words_nl}.",
                "en": f"Chart of the shortage per category in water board {board}, {format_date(first, lang='en')} to "
                      f"{format_date(last, lang='en')}: {words_en}."},
        "lines": [{"code": c, "colour": _CATEGORY_LINES[c][0], "dash": _CATEGORY_LINES[c][1]} for c in short],
        "not_short": [c for c in CATEGORIES if c not in short],
        "table": {
            "weeks": [{"nl": format_date(d.date(), lang="nl"), "en": format_date(d.date(), lang="en")} for d in weekly.index],
            "rows": [[_both(v, 0) for v in row] for row in weekly.to_numpy()],
        },
    }


def shortage_chart_svg(daily: pd.DataFrame, *, width: int = 640, height: int = 220) -> Markup:
    """An inline SVG line chart of shortage (m³/day) per category over time.

    ``daily``: index days, one column per category (``"1a"`` … ``"4"``). Month labels come in
    both languages (``class="nl"``/``"en"``; the page shows one). The chart carries no text
    alternative itself: the page labels it and gives the numbers in a table.
    """
    left, right, top, bottom = 64, 10, 24, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    days = (daily.index - daily.index[0]).days.to_numpy(dtype=float)
    span = max(days[-1], 1.0)
    peak = _nice_ceiling(float(np.nanmax(daily.to_numpy())))

    def x(day: float) -> float:
        return left + plot_w * day / span

    def y(value: float) -> float:
        return top + plot_h * (1 - value / peak)

    out = [f'<svg class="line-chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
           'aria-hidden="true" focusable="false">']
    for tick in (0, peak / 2, peak):
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" class="grid"/>'
                   f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{_tspans(_both(tick, 0))}</text>')
    out.append(f'<text x="{left - 6}" y="12" text-anchor="end">m³/d</text>')
    start = daily.index[0]
    for month in pd.date_range(start.normalize() - pd.offsets.MonthBegin(1), daily.index[-1], freq="MS"):
        if month < start:
            continue
        px = x((month - start).days)
        out.append(f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{top}" y2="{top + plot_h}" class="grid"/>'
                   f'<text x="{px + 3:.1f}" y="{height - 8}">{_tspans({lang: month_abbreviation(month.month, lang=lang) for lang in ("nl", "en")})}</text>')
    for category in daily.columns:
        colour, dash = _CATEGORY_LINES[category]
        points = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in zip(days, daily[category].to_numpy()))
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"{dash_attr}/>')
    out.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" class="frame"/></svg>')
    return Markup("".join(out))


# --- formatting -----------------------------------------------------------------------------


def _setup_chart(chart: DeficitChart | None, png: bytes | None, setup: str) -> dict | None:
    if chart is not None:
        return {"src": chart.data_uri(), "alt": chart.alt(f"het gebied van {setup}", f"the area of {setup}")}
    if png is not None:
        return {"src": _png_data_uri(png),
                "alt": {"nl": f"Grafiek van het neerslagtekort in het gebied van {setup}, dit jaar tegen de mediaan "
                              "en het 5 %-droogste jaar.",
                        "en": f"Chart of the precipitation deficit in the area of {setup}, this year against the "
                              "median and the 5 %-driest year."}}
    return None


def _png_data_uri(png: bytes) -> str:
    """``png`` as a data URI, re-encoded with a palette of 64 colours where it decodes: a line
    chart keeps its look at about a quarter of the bytes, which keeps the page light."""
    try:
        with Image.open(io.BytesIO(png)) as image:
            buffer = io.BytesIO()
            image.convert("RGB").quantize(colors=64, method=Image.Quantize.FASTOCTREE).save(
                buffer, format="PNG", optimize=True)
        smaller = buffer.getvalue()
        png = smaller if len(smaller) < len(png) else png
    except (OSError, ValueError):
        pass  # not decodable here: embed the bytes as given (they start with the PNG signature)
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above ``value`` (an axis top that reads well)."""
    if not np.isfinite(value) or value <= 0:
        return 1.0
    power = 10 ** np.floor(np.log10(value))
    return float(next(s * power for s in (1, 2, 2.5, 5, 10) if s * power >= value))


def _fmt(value, decimals: int, lang: str) -> str:
    """A number in ``lang``'s form (:func:`models.wording.format_number`, thousands grouped);
    "–" for a missing value."""
    if value is None or pd.isna(value):
        return "–"
    return format_number(value, decimals, lang=lang, grouping=True)


def _both(value, decimals: int) -> dict[str, str]:
    """A number in Dutch and in English form, for a table cell (the page shows one language)."""
    return {lang: _fmt(value, decimals, lang) for lang in ("nl", "en")}


def _tspans(text: dict[str, str]) -> str:
    """Inline SVG text in both languages: one ``<tspan>`` each, plain text when they agree."""
    if text["nl"] == text["en"]:
        return html_text(text["nl"])
    return "".join(f'<tspan class="{lang}">{html_text(text[lang])}</tspan>' for lang in ("nl", "en"))
