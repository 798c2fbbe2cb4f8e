"""The policymaker dashboard page and the glue that feeds it from the stored run outputs.

Pages are rendered from small synthetic districts (square cells of known area) and read back
with the standard library's HTML parser, Dutch text only (the ``class="en"`` halves skipped).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from dashboards.policy_dashboard import CATEGORIES, DeficitChart, render_policy_dashboard, shortage_chart_svg
from dashboards.public_record import checked_metadata, public_districts
from tests.synthetic import synthetic_districts, synthetic_metadata
from pipelines.publication.publish import _board_shortage, _dashboard_indicators, _escalation_levels

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
HOSTILE = "<img src=x onerror=alert(1)>"


class _Tables(HTMLParser):
    """Rows of cell texts per table (keyed by caption id), Dutch text only; and ``<img alt>``s."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self.images: list[dict] = []
        self._table = None
        self._row = None
        self._cell = None
        self._skip = 0  # depth inside an English span

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self._skip:
            self._skip += tag == "span"
            return
        if tag == "span" and attrs.get("class") == "en":
            self._skip = 1
        elif tag == "table":
            self._table = []
        elif tag == "caption" and self._table is not None:
            self.tables[attrs.get("id", str(len(self.tables)))] = self._table
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "img":
            self.images.append(attrs)

    def handle_endtag(self, tag):
        if self._skip:
            self._skip -= tag == "span"
            return
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(re.sub(r"[ \t\r\n]+", " ", "".join(self._cell)).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None and not self._skip:
            self._cell.append(data)


def _parse(page: str) -> _Tables:
    parser = _Tables()
    parser.feed(page)
    return parser


def _districts(n: int = 8):
    """``n`` equal 2 km squares, half on board A, half on board B (ids sort A before B)."""
    districts = synthetic_districts(n, seed=3)
    districts["water_board"] = ["A"] * (n // 2) + ["B"] * (n - n // 2)
    districts["district_id"] = [f"{b}-{k:02d}" for k, b in enumerate(districts["water_board"])]
    districts["restriction"] = "none"
    districts["groundwater_ban"] = False
    return districts


def _inputs(districts, *, categories=tuple(CATEGORIES), days=14, seed=0):
    rng = np.random.default_rng(seed)
    n = len(districts)
    indicators = pd.DataFrame({"district_id": districts["district_id"].to_numpy(),
                               "precipitation_deficit_mm": rng.uniform(0, 300, n),
                               "groundwater_low_share": rng.uniform(0, 1, n)})
    for category in categories:
        indicators[f"shortage_probability_{category}"] = rng.uniform(0, 1, n)
    dates = pd.date_range("2026-07-01", periods=days, freq="D")
    board_shortage = pd.DataFrame([{"date": d, "water_board": b, "category": c, "shortage_m3_day": 0.0,
                                    "demand_m3_day": 1000.0}
                                   for d in dates for b in sorted(set(districts["water_board"])) for c in CATEGORIES])
    escalation = pd.DataFrame({
        "scope": ["water_board", "water_board", "national"], "water_board": ["A", "B", "NL"], "level": [1, 2, 2],
        "level_name_nl": ["dreigend watertekort", "feitelijk watertekort", "feitelijk watertekort"],
        "level_name_en": ["threatening water shortage", "actual water shortage", "actual water shortage"],
        "reason_nl": ["1 gebied met beperking", "verbod op oppervlaktewater in 50% van het oppervlak", "2 waterschappen"],
        "reason_en": ["1 district restricted", "surface-water ban over 50% of the area", "2 water boards"],
    })
    return {"indicators": indicators, "board_shortage": board_shortage, "escalation": escalation}


def _render(districts, **inputs) -> str:
    return render_policy_dashboard(public_districts(districts), checked_metadata(synthetic_metadata()), **inputs)


def _data_block(page: str) -> dict:
    text = re.search(r'<script type="application/json" id="district-data">(.*?)</script>', page, re.S).group(1)
    return json.loads(text)


def test_one_outlook_layer_per_category_with_demand_and_the_rest_named():
    districts = _districts()
    inputs = _inputs(districts, categories=("1b", "2a", "3", "4"))
    page = _render(districts, **inputs)
    data = _data_block(page)
    keys = [k for k in data["values"] if k.startswith("shortage_probability_")]
    assert keys == ["shortage_probability_1b", "shortage_probability_2a", "shortage_probability_3",
                    "shortage_probability_4"]
    # The layer shows the probability in percent, district by district in the page's order.
    shown = data["values"]["shortage_probability_3"]["numbers"]
    expected = inputs["indicators"].set_index("district_id")["shortage_probability_3"]
    ordered = expected.reindex(sorted(districts["district_id"]))
    assert shown == [round(100 * v) for v in ordered]
    radios = re.findall(r'<input type="radio" name="map-layer" value="([^"]+)"', page)
    assert radios == ["restriction", "precipitation_deficit_mm", "groundwater_low_share", *keys]
    assert "Geen kanslaag voor categorie 1a, 1c, 2b" in page
    # Every layer has a group on the map, and the switch knows each of them.
    assert page.count("droogte.districtLayer(") == len(radios)
    assert all(f'"{key}": feature_group_' in page for key in radios)


def test_a_lone_shortage_probability_column_is_category_4():
    districts = _districts()
    inputs = _inputs(districts, categories=())
    inputs["indicators"]["shortage_probability"] = 0.5
    data = _data_block(_render(districts, **inputs))
    assert [k for k in data["values"] if k.startswith("shortage_probability")] == ["shortage_probability_4"]
    assert set(data["values"]["shortage_probability_4"]["numbers"]) == {50}


def test_summary_per_board_counts_area_deficit_and_outlook():
    districts = _districts(8)
    districts.loc[[0, 1, 2], "restriction"] = "surface_water_ban"  # 3 of A's 4 equal squares
    districts.loc[4, "restriction"] = "watch"
    districts.loc[5, "groundwater_ban"] = True
    inputs = _inputs(districts)
    indicators = inputs["indicators"]
    page = _parse(_render(districts, **inputs))
    rows = {r[0]: r for r in page.tables["summary-caption"][1:]}
    a, b = rows["A"], rows["B"]
    assert a[1] == "1 dreigend watertekort" and a[2] == "1 gebied met beperking"
    assert b[1] == "2 feitelijk watertekort"
    assert a[3:7] == ["1", "0", "0", "3"] and b[3:7] == ["3", "1", "0", "0"]  # per restriction level 0-3
    assert a[7] == "0" and b[7] == "1"  # groundwater bans
    assert a[8] == "75" and b[8] == "0"  # % of the area under a surface-water ban
    on_a = indicators["district_id"].str.startswith("A")
    assert a[9] == f"{indicators.loc[on_a, 'precipitation_deficit_mm'].mean():.0f}"
    assert b[10] == f"{100 * indicators.loc[~on_a, 'shortage_probability_4'].max():.0f}"


def test_share_of_demand_short_today_per_category():
    districts = _districts()
    inputs = _inputs(districts)
    frame = inputs["board_shortage"]
    last = frame["date"].max()
    frame.loc[(frame["date"] == last) & (frame["water_board"] == "B") & (frame["category"] == "4"),
              "shortage_m3_day"] = 250.0
    frame.loc[(frame["water_board"] == "A") & (frame["category"] == "1a"), "demand_m3_day"] = 0.0
    table = _parse(_render(districts, **inputs)).tables["demand-caption"]
    assert table[0] == ["Waterschap", *CATEGORIES]
    rows = {r[0]: r[1:] for r in table[1:]}
    assert rows["B"] == ["0,0"] * 6 + ["25,0"]  # the Dutch text writes a decimal comma
    assert rows["A"][0] == "–"  # no demand, no share


def test_shortage_chart_and_weekly_table_per_board():
    districts = _districts()
    inputs = _inputs(districts, days=14)
    frame = inputs["board_shortage"]
    on_b4 = (frame["water_board"] == "B") & (frame["category"] == "4")
    frame.loc[on_b4, "shortage_m3_day"] = np.arange(on_b4.sum(), dtype=float) * 100  # 0 … 1300
    page = _render(districts, **inputs)
    parsed = _parse(page)
    sections = re.split(r'<section class="board"', page)[1:]
    assert len(sections) == 2
    assert "<polyline" not in sections[0] and "geen tekort in enige categorie" in sections[0]
    assert sections[1].count("<polyline") == 1
    assert "categorie 4: hoogste tekort 1.300 m³/dag op 14 juli 2026" in sections[1]
    weekly = parsed.tables["board-2-caption"]
    assert [r[0] for r in weekly[1:]] == ["1 juli 2026", "8 juli 2026"]
    assert weekly[1][-1] == "300" and weekly[2][-1] == "1.000"  # weekly means of 0…600, 700…1300


def test_shortage_chart_svg_scales_the_peak_to_the_axis_top():
    days = pd.date_range("2026-04-01", periods=61, freq="D")
    daily = pd.DataFrame({"3": np.zeros(61), "4": np.linspace(0, 800, 61)}, index=days)
    svg = str(shortage_chart_svg(daily, width=640, height=220))
    lines = re.findall(r'<polyline points="([^"]+)"', svg)
    assert len(lines) == 2
    last_x, last_y = map(float, lines[1].split()[-1].split(","))
    assert last_x == pytest.approx(630.0)  # right edge: width minus the right margin
    # 800 on an axis topped at 1000: 80 % of the plot height up from the bottom (y 194).
    assert last_y == pytest.approx(194 - 0.8 * 170, abs=0.1)
    assert ">mei<" in svg and ">May<" in svg and ">1.000<" in svg and ">1,000<" in svg


def test_deficit_charts_state_their_figures_in_both_languages():
    from dashboards.deficit_chart import deficit_chart

    days = pd.date_range("2026-04-01", "2026-07-14", freq="D")
    current = pd.Series(np.linspace(0, 180, len(days)), index=days)
    season_days = pd.date_range("2001-04-01", "2001-09-30", freq="D").strftime("%m-%d")
    climatology = pd.DataFrame({"median": np.linspace(0, 100, len(season_days)),
                                "driest_5pct": np.linspace(0, 250, len(season_days))}, index=season_days)
    climatology.attrs["reference_years"] = "1991-2024"
    chart = DeficitChart.from_series(deficit_chart(current, climatology, title="A", dpi=40), current, climatology)
    assert chart.day == dt.date(2026, 7, 14) and chart.deficit_mm == pytest.approx(180)
    assert chart.median_mm == pytest.approx(climatology.loc["07-14", "median"])
    districts = _districts()
    page = _render(districts, **_inputs(districts), deficit_chart=chart, board_deficit_charts={"B": chart})
    images = _parse(page).images
    assert len(images) == 2
    for image in images:
        assert image["src"].startswith("data:image/png;base64,iVBORw0KGgo")
        assert "op 14 juli 2026 180 mm" in image["alt"] and image["alt"] == image["data-alt-nl"]
        assert "180 mm on 14 July 2026" in image["data-alt-en"] and "(1991-2024)" in image["data-alt-en"]
    assert "waterschap B" in images[1]["alt"]


def test_values_from_data_are_escaped():
    districts = _districts()
    districts["water_board"] = [HOSTILE] * 4 + ["B"] * 4
    inputs = _inputs(districts)
    inputs["board_shortage"]["water_board"] = inputs["board_shortage"]["water_board"].replace("A", HOSTILE)
    inputs["escalation"].loc[0, ["water_board", "reason_nl"]] = [HOSTILE, "</script><script>alert(2)</script>"]
    page = _render(districts, **inputs, deficit_chart_png=PNG)
    assert HOSTILE not in page and "<script>alert(2)" not in page
    assert html.escape(HOSTILE) in page and "&lt;/script&gt;&lt;script&gt;alert(2)" in page
    assert 'lang="nl"' in page and "<title>Droogte-dashboard demo – Drought dashboard</title>" in page
    assert not re.search(r'(src|href)="(https?:)?//', page)


@pytest.mark.parametrize("key, change, message", [
    ("indicators", lambda f: f.drop(columns="groundwater_low_share"), "groundwater_low_share"),
    ("indicators", lambda f: f.assign(shortage_probability_5=0.1), "shortage_probability_5"),
    ("board_shortage", lambda f: f.assign(category="5"), "unknown category"),
    ("escalation", lambda f: f.drop(columns="level"), "level"),
])
def test_bad_inputs_are_named(key, change, message):
    districts = _districts()
    inputs = _inputs(districts)
    inputs[key] = change(inputs[key])
    with pytest.raises(ValueError, match=message):
        _render(districts, **inputs)


# --- the glue in pipelines/publication/publish.py ----------------------------------------------------------


def _allocation() -> xr.Dataset:
    """Two days, three districts on two boards, uses of categories 1a, 4 and 4."""
    time = pd.date_range("2025-08-14", periods=2, freq="D")
    uses = ["dike_stability", "agriculture", "shipping"]
    shortage = np.zeros((2, 3, 3))
    shortage[1, 0, 1], shortage[1, 1, 2], shortage[1, 2, 1] = 10.0, 5.0, 7.0
    demand = np.full((2, 3, 3), 100.0)
    demand[:, :, 0] = 0.0  # nobody needs dike flushing
    coords = {"time": time, "district": ["A-1", "A-2", "B-1"], "use": uses,
              "category": ("use", ["1a", "4", "4"]), "water_board": ("district", ["A", "A", "B"])}
    dims = ("time", "district", "use")
    return xr.Dataset({"shortage": (dims, shortage), "demand": (dims, demand)}, coords=coords)


def test_board_shortage_sums_districts_and_uses_per_category():
    frame = _board_shortage(_allocation())
    last = frame[frame["date"] == pd.Timestamp("2025-08-15")].set_index(["water_board", "category"])
    assert last.loc[("A", "4"), "shortage_m3_day"] == 15.0 and last.loc[("B", "4"), "shortage_m3_day"] == 7.0
    assert last.loc[("A", "4"), "demand_m3_day"] == 400.0 and last.loc[("A", "1a"), "demand_m3_day"] == 0.0
    assert list(frame.columns) == ["date", "water_board", "category", "shortage_m3_day", "demand_m3_day"]


def test_dashboard_indicators_have_a_probability_per_category_with_demand():
    allocation = _allocation()
    ensemble = xr.Dataset({"shortage_probability": (("district", "use"),
                                                     [[0.9, 0.1, 0.3], [0.0, 0.2, 0.6], [0.0, 0.0, 0.0]])},
                          coords={"district": ["A-1", "A-2", "B-1"], "use": allocation["use"].values,
                                  "category": ("use", ["1a", "4", "4"])})
    time = pd.date_range("2025-08-14", periods=2, freq="D")
    indicators = xr.Dataset({"precipitation_deficit": (("district", "time"), [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])},
                            coords={"district": ["A-1", "A-2", "B-1"], "time": time})
    frame = _dashboard_indicators(indicators, ensemble, allocation, dt.date(2025, 8, 15))
    assert "shortage_probability_1a" not in frame  # no demand, no layer
    assert frame["shortage_probability_4"].tolist() == [0.3, 0.6, 0.0]  # the largest over the uses
    assert frame["precipitation_deficit_mm"].tolist() == [2.0, 4.0, 6.0]
    assert frame["groundwater_low_share"].isna().all()


def test_escalation_levels_keep_the_contract_columns():
    table = pd.DataFrame({"date": [pd.Timestamp("2025-08-15")], "scope": ["national"], "water_board": ["NL"],
                          "level": [1], "level_name_nl": ["x"], "level_name_en": ["y"], "reason_nl": ["r"],
                          "reason_en": ["s"], "restricted_districts": [3]})
    assert list(_escalation_levels(table).columns) == ["scope", "water_board", "level", "level_name_nl",
                                                       "level_name_en", "reason_nl", "reason_en"]
    assert _escalation_levels(None).empty
