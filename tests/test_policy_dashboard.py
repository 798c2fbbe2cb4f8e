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

from dashboards.charts import deficit_chart, river_chart, Threshold
from dashboards.policy_dashboard import CATEGORIES, render_policy_dashboard
from dashboards.public_record import checked_metadata, public_districts
from tests.synthetic import synthetic_districts, synthetic_metadata
from pipelines.publication.publish import _board_shortage, _dashboard_indicators, _escalation_levels

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
    indicators["still_short_probability_4"] = np.linspace(0, 0.7, len(indicators))
    frame = inputs["board_shortage"]
    last = frame["date"].max()
    frame.loc[(frame["date"] == last) & (frame["water_board"] == "A") & (frame["category"] == "4"),
              "shortage_m3_day"] = 400.0
    page = _parse(_render(districts, **inputs))
    rows = {r[0]: r for r in page.tables["summary-caption"][1:]}
    a, b = rows["A"], rows["B"]
    assert len(a) == 7  # seven columns: they fit beside each other at 1366 px, as cards on a phone
    assert a[1] == "1 dreigend watertekort: 1 gebied met beperking"
    assert b[1] == "2 feitelijk watertekort: verbod op oppervlaktewater in 50% van het oppervlak"
    assert a[2] == "3 van 4 (3 onttrekkingsverbod oppervlaktewater)"
    assert b[2] == "1 van 4 (1 let op: zuinig met water); 1 beregeningsverbod grondwater"
    assert a[3] == "75" and b[3] == "0"  # % of the area under a surface-water ban
    on_a = indicators["district_id"].str.startswith("A")
    assert a[4] == f"{indicators.loc[on_a, 'precipitation_deficit_mm'].mean():.0f}"
    assert a[5] == "40" and b[5] == "0"  # category 4 not supplied today, % of demand
    assert b[6] == f"{100 * indicators.loc[~on_a, 'still_short_probability_4'].max():.0f}"


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
    assert rows["B"] == ["0"] * 6 + ["25"]
    assert rows["A"][0] == "–"  # no demand, no share


def _svgs(section: str) -> dict[str, list[str]]:
    """The inline SVGs of a page part, per language of the box that holds them."""
    return {lang: re.findall(rf'<div class="chart-box {lang}"[^>]*>(<svg.*?</svg>)</div>', section, re.S)
            for lang in ("nl", "en")}


def test_shortage_chart_and_weekly_table_per_board():
    districts = _districts()
    inputs = _inputs(districts, days=14)
    frame = inputs["board_shortage"]
    on_b4 = (frame["water_board"] == "B") & (frame["category"] == "4")
    frame.loc[on_b4, "shortage_m3_day"] = np.arange(on_b4.sum(), dtype=float) * 50  # 0 … 650 of 1000
    page = _render(districts, **inputs)
    parsed = _parse(page)
    sections = re.split(r'<section class="board"', page)[1:]
    assert len(sections) == 2
    assert "geen tekort in enige categorie" in sections[0]
    svgs = _svgs(sections[1])
    assert len(svgs["nl"]) == len(svgs["en"]) == 1
    # Drawn in the page's language: Dutch axis and legend in the Dutch chart, English in the other.
    assert "% niet geleverd" in svgs["nl"][0] and "categorie 4" in svgs["nl"][0] and ">jul<" in svgs["nl"][0]
    assert "% not supplied" in svgs["en"][0] and "category 4" in svgs["en"][0]
    assert "not supplied" not in svgs["nl"][0]
    assert "categorie 4: hoogst 65 % op 14 jul, nu 65 %" in sections[1]
    weekly = parsed.tables["board-2-shortage"]
    assert [r[0] for r in weekly[1:]] == ["1 jul", "8 jul"]
    assert weekly[1][-1] == "15" and weekly[2][-1] == "50"  # weekly means of 0…30 % and 35…65 %


def _climatology():
    season_days = pd.date_range("2001-04-01", "2001-09-30", freq="D").strftime("%m-%d")
    climatology = pd.DataFrame({"median": np.linspace(0, 100, len(season_days)),
                                "driest_5pct": np.linspace(0, 250, len(season_days)),
                                "1976": np.linspace(0, 300, len(season_days)),
                                "2018": np.linspace(0, 280, len(season_days))}, index=season_days)
    climatology.attrs["reference_years"] = "1991-2024"
    return climatology


def test_deficit_charts_state_their_figures_in_both_languages():
    days = pd.date_range("2026-04-01", "2026-07-14", freq="D")
    current = pd.Series(np.linspace(0, 180, len(days)), index=days)
    climatology = _climatology()
    chart = deficit_chart(current, climatology, scope_nl="het gebied", scope_en="the area")
    assert chart.facts["day"] == dt.date(2026, 7, 14) and chart.facts["deficit_mm"] == pytest.approx(180)
    assert chart.facts["median_mm"] == pytest.approx(climatology.loc["07-14", "median"])
    assert chart.facts["year_1976_mm"] == pytest.approx(climatology.loc["07-14", "1976"])
    assert "neerslagtekort (mm)" in chart.svg["nl"] and "mediaan" in chart.svg["nl"] and ">mei<" in chart.svg["nl"]
    assert "precipitation deficit (mm)" in chart.svg["en"] and "median" in chart.svg["en"]
    assert "op 14 jul 180 mm" in chart.alt["nl"] and "180 mm on 14 Jul" in chart.alt["en"]
    assert "(1991-2024)" in chart.alt["en"] and "1976: " in chart.alt["nl"]
    # Its table: the first of each month and today, with the references beside this year.
    assert chart.table.header[1:4] == [("2026", "2026"), ("mediaan", "median"), ("5 % droogste", "5 % driest")]
    assert [r[0][1] for r in chart.table.rows] == ["1 Apr", "1 May", "1 Jun", "1 Jul", "14 Jul"]
    districts = _districts()
    page = _render(districts, **_inputs(districts), deficit_chart=chart, board_deficit_charts={"B": chart})
    assert len(_svgs(page)["nl"]) == 2 + 2  # the setup's, board B's, and the two shortage charts
    facts = page[page.index('id="facts-title"'):page.index('id="summary-title"')]
    assert "180 mm op 14 juli 2026" in facts and "mediaan" in facts and "1976: 300 mm" not in facts


def test_key_facts_come_first_with_levels_deficit_river_and_outlook():
    districts = _districts()
    inputs = _inputs(districts)
    days = pd.date_range("2026-04-01", "2026-07-14", freq="D")
    river = pd.Series(np.linspace(2000, 1100, len(days)), index=days)
    chart = river_chart(river, [Threshold(1400, "dreigend watertekort", "threatening water shortage"),
                                Threshold(1200, "coördinatie grijpt in", "coordination acts")],
                        title_nl="Rijnafvoer bij Lobith", title_en="Rhine discharge at Lobith", unit="m³/s")
    history = pd.DataFrame({"date": [pd.Timestamp("2026-07-13")] * 3 + [pd.Timestamp("2026-07-14")] * 3,
                            "water_board": ["A", "B", "NL"] * 2, "level": [1, 1, 0, 1, 2, 2]})
    outlook = pd.DataFrame({"water_board": ["A", "B"], "category": ["4", "4"], "short_today": [0.25, 0.67],
                            "p_any": [1.0, 1.0], "p_end": [0.1, 0.4], "horizon_days": [42, 42],
                            "members": ["1991-2024"] * 2})
    weather = {"recent_mm_day": 3.14, "ahead_mm_day": -0.4, "drier_members": 1, "members": 34, "weeks": 6,
               "recent_days": 14}
    page = _render(districts, **inputs, river_chart=chart, level_history=history, outlook_summary=outlook,
                   outlook_weather=weather)
    order = [page.index(marker) for marker in ('id="facts-title"', 'id="summary-title"', 'class="map-box"',
                                               'id="outlook-title"', 'id="season-title"')]
    assert order == sorted(order)
    facts = _parse(page[page.index('id="facts-title"'):page.index('id="summary-title"')])
    text = page[page.index('id="facts-title"'):page.index('id="summary-title"')]
    assert "Landelijk niveau 2: feitelijk watertekort." in text
    assert "B: niveau 1 → 2 sinds gisteren." in text and "landelijk: niveau 0 → 2 sinds gisteren." in text
    assert "1 100 m³/s op 14 juli 2026, onder 1 400 m³/s (dreigend watertekort)" in text
    assert "B: kans dat categorie 4 over 6 weken nog tekort heeft 40 % (vandaag 67 % niet geleverd)." in text
    assert facts is not None
    # The outlook says what each probability is of, so it cannot read as a contradiction of today.
    outlook_part = page[page.index('id="outlook-title"'):page.index('id="season-title"')]
    assert "op minstens één dag, vandaag meegerekend" in outlook_part
    assert "Kans dat er over 6 weken nog tekort is" in outlook_part
    assert "in de meeste jaren valt er in de komende weken meer regen" in outlook_part
    assert ("In de afgelopen 14 dagen verdampte er gemiddeld 3,1 mm per dag meer dan er regende; in de weerjaren "
            "van de verwachting is dat de komende 6 weken gemiddeld -0,4 mm per dag, en in 1 van de 34 jaren even "
            "droog of droger dan nu.") in outlook_part
    # The season at a glance: the levels per board, as a chart and its table.
    levels = _parse(page).tables
    assert any(t[0][:2] == ["", "veranderingen van niveau"] for t in levels.values())


def test_every_shortage_today_is_explained():
    from models.allocation.shortage_reasons import ShortageReason

    districts = _districts()
    reason = ShortageReason("B", "1b", 50.0, 100.0, {4: ["Polder 5"]}, {4: 1.0},
                            "Categorie 1b: 50 % van de vraag niet geleverd. Oorzaak: eigen voorraad op.",
                            "Category 1b: 50 % of demand not supplied. Cause: own storage ran out.")
    page = _render(districts, **_inputs(districts), reasons=[reason])
    part = page[page.index('id="shortage-title"'):]
    assert '<li class="priority">' in part and "Oorzaak: eigen voorraad op." in part
    assert "Cause: own storage ran out." in part


def test_change_layer_shows_what_changed_since_the_previous_issue():
    districts = _districts()
    inputs = _inputs(districts)
    inputs["indicators"]["change"] = [1, 0, 0, -1, 0, 0, 1, np.nan]
    page = _render(districts, **inputs)
    data = _data_block(page)
    assert data["values"]["change"]["numbers"][:7] == [1, 0, 0, -1, 0, 0, 1]
    assert [c["label_nl"] for c in data["values"]["change"]["classes"]] == [
        "lichtere beperking", "niet veranderd", "strengere beperking"]
    assert "2 gebied(en) strenger, 1 lichter" in page


def test_drought_layers_run_from_light_to_dark_red():
    from matplotlib.colors import to_rgb

    def lightness(colour):
        r, g, b = to_rgb(colour)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    districts = _districts()
    data = _data_block(_render(districts, **_inputs(districts)))
    for key in ("precipitation_deficit_mm", "groundwater_low_share", "shortage_probability_4"):
        colours = [c["colour"] for c in data["values"][key]["classes"]]
        shades = [lightness(c) for c in colours]
        assert shades == sorted(shades, reverse=True), key  # light to dark
        assert min(a - b for a, b in zip(shades, shades[1:])) > 0.05, key  # classes that can be told apart
        assert all(to_rgb(c)[0] >= max(to_rgb(c)[1:]) for c in colours), key  # reds


def test_values_from_data_are_escaped():
    districts = _districts()
    districts["water_board"] = [HOSTILE] * 4 + ["B"] * 4
    inputs = _inputs(districts)
    inputs["board_shortage"]["water_board"] = inputs["board_shortage"]["water_board"].replace("A", HOSTILE)
    inputs["escalation"].loc[0, ["water_board", "reason_nl"]] = [HOSTILE, "</script><script>alert(2)</script>"]
    page = _render(districts, **inputs)
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
