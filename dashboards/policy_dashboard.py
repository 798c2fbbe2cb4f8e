"""The policymaker dashboard (``dashboard.html``): where we stand, who is short, what may come.

One self-contained page: a map with switchable layers (restrictions, precipitation deficit,
groundwater standing, outlook shortage probability), the precipitation-deficit chart, the
shortage per category of the verdringingsreeks over time per water board, the escalation
levels and a summary per water board. The *verdringingsreeks* is the legal priority order
for water in shortage (categories 1a … 4, highest first).

Built from the same pieces as the citizen page (``SelfContainedMap``, ``DistrictLayer``,
the compact data block), so nothing is loaded from elsewhere and every value is escaped.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import folium
import geopandas as gpd
import pandas as pd
from markupsafe import Markup

from dashboards.citizen_map import TEMPLATE_ENVIRONMENT, data_ages, page_data
from dashboards.escape import json_for_script
from dashboards.leaflet_map import DistrictLayer, SelfContainedMap, add_tiles, render_map_parts
from dashboards.public_record import date_nl, local_time
from dashboards.restriction_styles import GROUNDWATER_LABEL_NL, PATTERN_SVG, RESTRICTIONS

ESCALATION_NL = {0: "0 – normaal", 1: "1 – dreigend watertekort", 2: "2 – feitelijk watertekort",
                 3: "3 – (dreigende) crisis"}
_SEQUENTIAL = ("#fde725", "#7ad151", "#22a884", "#2a788e", "#414487", "#440154")  # viridis, light = good
_TOP = 1e12  # upper bound of the last class (JSON has no infinity)


@dataclass(frozen=True)
class NumericLayer:
    """A map layer coloured by a numeric indicator per district, in classes."""

    key: str  # column of ``indicators``
    label_nl: str
    unit: str
    bounds: tuple[float, ...]  # upper bounds of all classes but the last
    decimals: int

    def classes(self) -> list[dict]:
        edges = (None, *self.bounds, None)
        out = []
        for k in range(len(edges) - 1):
            low, high = edges[k], edges[k + 1]
            fmt = f"{{:.{self.decimals}f}}"
            label = (f"< {fmt.format(high)}" if low is None else f"≥ {fmt.format(low)}" if high is None
                     else f"{fmt.format(low)} – {fmt.format(high)}") + f" {self.unit}"
            out.append({"below": _TOP if high is None else high, "colour": _SEQUENTIAL[k], "label_nl": label,
                        "label_en": label})
        return out


LAYERS = (
    NumericLayer("precipitation_deficit_mm", "Neerslagtekort sinds 1 april", "mm", (50, 100, 150, 200, 250), 0),
    NumericLayer("groundwater_low_share", "Aandeel peilbuizen onder ondergrens", "", (0.2, 0.4, 0.6, 0.8), 1),
    NumericLayer("shortage_probability", "Kans op watertekort (verwachting)", "", (0.2, 0.4, 0.6, 0.8), 1),
)


def render_policy_dashboard(districts: gpd.GeoDataFrame, metadata: dict, *, indicators: pd.DataFrame,
                            board_shortage: pd.DataFrame, escalation: dict,
                            deficit_chart_png: bytes | None = None, tiles: dict | None = None) -> str:
    """Return the HTML of ``dashboard.html``.

    - ``districts``/``metadata``: as for ``public_record.public_districts``/``checked_metadata``
      (already checked).
    - ``indicators``: one row per district: ``district_id``, ``precipitation_deficit_mm``
      (mm since 1 April), ``groundwater_low_share`` (0–1 share of wells below their lower
      limit), ``shortage_probability`` (0–1, share of outlook members with a shortage).
      Missing districts or NaN show as "no value".
    - ``board_shortage``: long table ``date`` (day), ``water_board``, ``category`` (``"1a"`` …
      ``"4"``), ``shortage_m3_day`` (m³/day); the last 7 days are shown.
    - ``escalation``: ``{"national": level, "boards": {water_board: level}}``, levels 0–3.
    - ``deficit_chart_png``: the precipitation-deficit chart as PNG bytes (embedded).
    """
    missing = [c for c in ("district_id", *(layer.key for layer in LAYERS)) if c not in indicators.columns]
    if missing:
        raise ValueError(f"indicators lack column(s) {', '.join(missing)}")
    for key in ("date", "water_board", "category", "shortage_m3_day"):
        if key not in board_shortage.columns:
            raise ValueError(f"board_shortage lacks column {key!r}")
    if deficit_chart_png is not None and not deficit_chart_png.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError("deficit_chart_png must be PNG bytes")

    by_id = indicators.set_index("district_id")
    values = {}
    for layer in LAYERS:
        column = by_id[layer.key].reindex(districts["district_id"])
        values[layer.key] = {
            "label_nl": layer.label_nl, "label_en": layer.label_nl, "unit": layer.unit,
            "numbers": [None if pd.isna(v) else round(float(v), 3) for v in column],
            "classes": layer.classes(),
        }
    data = page_data(districts, values=values)
    west, south, east, north = data.pop("bounds")
    m = SelfContainedMap(aria_label="Kaart met lagen", location=[(south + north) / 2, (west + east) / 2],
                         zoom_start=8, control_scale=True)
    add_tiles(m, tiles)
    # One layer at a time (radio buttons): the fills would otherwise blend into nonsense.
    restrictions = folium.FeatureGroup(name="Beperkingen", overlay=False, show=True).add_to(m)
    DistrictLayer("district-data", value="restriction", fit=True).add_to(restrictions)
    for layer in LAYERS:
        group = folium.FeatureGroup(name=layer.label_nl, overlay=False, show=False).add_to(m)
        DistrictLayer("district-data", value=layer.key, fit=False).add_to(group)
    folium.LayerControl(collapsed=False).add_to(m)

    template = TEMPLATE_ENVIRONMENT.get_template("dashboard.html.j2")
    issued = local_time(metadata["issued_at"])
    return template.render(
        map=render_map_parts(m), patterns=Markup(PATTERN_SVG), data_json=Markup(json_for_script(data)),
        setup_name=metadata["setup_name"], software_version=metadata["software_version"],
        issued=f"{date_nl(issued.date())} om {issued:%H:%M}", valid_from=date_nl(metadata["valid_from"]),
        restriction_legend=[{"fill": f"url(#{s.pattern})" if s.pattern else s.colour, "label": f"{s.level} – {s.label_nl}"}
                            for s in RESTRICTIONS],
        groundwater_label=GROUNDWATER_LABEL_NL,
        numeric_legends=[{"title": layer.label_nl, "classes": layer.classes()} for layer in LAYERS],
        chart=None if deficit_chart_png is None else "data:image/png;base64," + base64.b64encode(deficit_chart_png).decode(),
        national=ESCALATION_NL.get(int(escalation.get("national", 0)), str(escalation.get("national"))),
        summary=_board_summary(districts, indicators, escalation.get("boards", {})),
        shortage=_shortage_table(board_shortage), data_ages=data_ages(metadata),
    )


def _board_summary(districts: gpd.GeoDataFrame, indicators: pd.DataFrame, levels: dict) -> list[dict]:
    joined = pd.DataFrame(districts.drop(columns="geometry")).merge(indicators, on="district_id", how="left")
    rows = []
    for board, group in joined.groupby("water_board", sort=True):
        counts = group["restriction"].value_counts()
        rows.append({
            "board": board,
            "escalation": ESCALATION_NL.get(int(levels.get(board, 0)), str(levels.get(board))),
            "districts": len(group),
            "counts": [int(counts.get(s.code, 0)) for s in RESTRICTIONS],
            "groundwater": int(group["groundwater_ban"].sum()),
            "deficit": _fmt(group["precipitation_deficit_mm"].mean(), 0),
            "probability": _fmt(group["shortage_probability"].max(), 2),
        })
    return rows


def _shortage_table(board_shortage: pd.DataFrame) -> dict:
    if board_shortage.empty:
        return {"dates": [], "rows": []}
    frame = board_shortage.assign(date=pd.to_datetime(board_shortage["date"]).dt.date)
    dates = sorted(frame["date"].unique())[-7:]
    frame = frame[frame["date"].isin(dates)]
    pivot = frame.pivot_table(index=["water_board", "category"], columns="date", values="shortage_m3_day",
                              aggfunc="sum").reindex(columns=dates)
    return {
        "dates": [f"{d.day}-{d.month}" for d in dates],
        "rows": [{"board": board, "category": category, "values": [_fmt(v, 0) for v in row]}
                 for (board, category), row in zip(pivot.index, pivot.to_numpy())],
    }


def _fmt(value, decimals: int) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:,.{decimals}f}".replace(",", " ")
