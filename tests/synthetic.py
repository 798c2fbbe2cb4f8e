"""Synthetic district tables for tests and the page-size benchmark.

A grid of square districts in RD New (EPSG:28992) that share borders, as real districts tile
a water board's area, with every column the publisher reads and a seeded mix of restrictions.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import shapely

from dashboards.restriction_styles import RESTRICTIONS

_MEANING = {
    "none": ("U mag water gebruiken zoals gewoonlijk.", "You may use water as usual."),
    "watch": ("Nog geen verbod; wees zuinig met water.", "No ban yet; use water sparingly."),
    "daytime_sprinkling_ban": ("Niet sproeien uit sloten tussen 07:00 en 19:00.",
                               "No sprinkling from ditches between 07:00 and 19:00."),
    "surface_water_ban": ("Geen water uit sloten en vaarten halen.", "Do not take water from ditches and canals."),
}
_EXEMPTIONS = ("Drinkwater voor vee; kapitaalintensieve teelten met ontheffing.",
               "Drinking water for cattle; capital-intensive crops with a permit.")


def synthetic_districts(n: int, *, seed: int = 0, cell_m: float = 2_000.0,
                        origin=(150_000.0, 450_000.0)) -> gpd.GeoDataFrame:
    """Return ``n`` square districts of ``cell_m`` metres on a grid (EPSG:28992), seeded."""
    rng = np.random.default_rng(seed)
    columns = int(np.ceil(np.sqrt(n)))
    i = np.arange(n)
    x0 = origin[0] + (i % columns) * cell_m
    y0 = origin[1] + (i // columns) * cell_m
    geometry = shapely.box(x0, y0, x0 + cell_m, y0 + cell_m)
    codes = [s.code for s in RESTRICTIONS if s.level >= 0]  # decisions, not the unknown state
    restriction = rng.choice(codes, size=n, p=[0.4, 0.2, 0.25, 0.15])
    boards = np.array([f"WB{k:02d}" for k in range(21)])[i * 21 // max(n, 1)]
    valid_from = [dt.date(2026, 7, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 14, size=n)]
    return gpd.GeoDataFrame(
        {
            "district_id": [f"{b}-{k:05d}" for b, k in zip(boards, i)],
            "name": [f"Polder {k}" for k in i],
            "water_board": boards,
            "restriction": restriction,
            "groundwater_ban": rng.random(n) < 0.1,
            "valid_from": valid_from,
            "rule": [f"rule-{r}" for r in restriction],
            "reason_nl": ["Waterpeil onder het kritieke peil." if r != "none" else "" for r in restriction],
            "reason_en": ["Water level below the critical level." if r != "none" else "" for r in restriction],
            "meaning_nl": [_MEANING[r][0] for r in restriction],
            "meaning_en": [_MEANING[r][1] for r in restriction],
            "exemptions_nl": [_EXEMPTIONS[0] if r != "none" else "" for r in restriction],
            "exemptions_en": [_EXEMPTIONS[1] if r != "none" else "" for r in restriction],
        },
        geometry=geometry,
        crs="EPSG:28992",
    )


def synthetic_metadata(issued_at: dt.datetime | None = None) -> dict:
    """Return publication metadata matching ``synthetic_districts``."""
    issued_at = issued_at or dt.datetime(2026, 7, 14, 6, 0, tzinfo=dt.UTC)
    return {
        "issued_at": issued_at,
        "valid_from": dt.date(2026, 7, 15),
        # keys as the pipeline names its inputs; daily inputs are labelled by their UT day (midnight)
        "data_ages": {"meteo": dt.datetime(2026, 7, 13, tzinfo=dt.UTC),
                      "groundwater": dt.datetime(2026, 7, 9, tzinfo=dt.UTC),
                      "sensors": dt.datetime(2026, 7, 14, 4, 50, tzinfo=dt.UTC)},
        "software_version": "0.1.0",
        "setup_name": "demo",
    }


def synthetic_dashboard_inputs(districts: gpd.GeoDataFrame, *, seed: int = 0) -> dict:
    """Return seeded ``indicators``, ``board_shortage`` and ``escalation`` for ``districts``."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    n = len(districts)
    indicators = pd.DataFrame({
        "district_id": districts["district_id"].to_numpy(),
        "precipitation_deficit_mm": rng.uniform(0, 300, n),
        "groundwater_low_share": rng.uniform(0, 1, n),
        "shortage_probability": rng.uniform(0, 1, n),
    })
    boards = sorted(set(districts["water_board"]))
    days = pd.date_range("2026-07-08", periods=7, freq="D")
    board_shortage = pd.DataFrame(
        [{"date": d, "water_board": b, "category": c, "shortage_m3_day": float(rng.uniform(0, 5e4))}
         for d in days for b in boards for c in ("3", "4")]
    )
    escalation = {"national": 1, "boards": {b: int(rng.integers(0, 3)) for b in boards}}
    return {"indicators": indicators, "board_shortage": board_shortage, "escalation": escalation}


def synthetic_briefing(districts: gpd.GeoDataFrame, *, seed: int = 0, board_charts: bool = True) -> dict:
    """Seeded charts, level history, shortage reasons and outlook for the dashboard and the
    bulletin of ``districts`` (as :func:`synthetic_dashboard_inputs`, season 1 April - 14 July 2026)."""
    import pandas as pd

    from dashboards.charts import Threshold, deficit_chart, river_chart
    from models.allocation.shortage_reasons import ShortageReason

    rng = np.random.default_rng(seed)
    boards = sorted(set(districts["water_board"]))
    days = pd.date_range("2026-04-01", "2026-07-14", freq="D")
    season = pd.date_range("2001-04-01", "2001-09-30", freq="D").strftime("%m-%d")
    climatology = pd.DataFrame({"median": np.linspace(0, 110, len(season)),
                                "driest_5pct": np.linspace(0, 260, len(season)),
                                "1976": np.linspace(0, 330, len(season)),
                                "2018": np.linspace(0, 300, len(season))}, index=season)
    climatology.attrs["reference_years"] = "1906-2019"
    current = pd.Series(np.cumsum(rng.uniform(0, 3.2, len(days))), index=days)
    charts = {"deficit_chart": deficit_chart(current, climatology, scope_nl="het gebied", scope_en="the area")}
    charts["board_deficit_charts"] = {
        b: deficit_chart(current * rng.uniform(0.8, 1.2), climatology, scope_nl=f"waterschap {b}",
                         scope_en=f"water board {b}") for b in boards} if board_charts else {}
    discharge = pd.Series(np.linspace(2400, 1050, len(days)) + rng.normal(0, 60, len(days)), index=days)
    charts["river_chart"] = river_chart(
        discharge, [Threshold(1400, "dreigend watertekort", "threatening water shortage"),
                    Threshold(1200, "landelijke coördinatie grijpt in", "national coordination acts")],
        title_nl="Rijnafvoer bij Lobith", title_en="Rhine discharge at Lobith", unit="m³/s")
    history = pd.DataFrame([{"date": d, "water_board": b, "level": int(min(3, max(0, (k - 40) // 20 + (j % 2))))}
                            for k, d in enumerate(days) for j, b in enumerate([*boards, "NL"])])
    reasons = [ShortageReason(boards[0], "1b", 120.0, 1000.0, {4: ["Polder 1"]}, {4: 1.0},
                              "Categorie 1b: 12 % van de vraag niet geleverd. Oorzaak: het gebied heeft geen inlaat "
                              "en zijn eigen voorraad was op (100 % van het tekort; in Polder 1).",
                              "Category 1b: 12 % of demand not supplied. Cause: the district has no inlet and its "
                              "own storage had run out (100 % of the shortage; in Polder 1).")]
    outlook = pd.DataFrame([{"water_board": b, "category": "4", "short_today": rng.uniform(0, 0.7), "p_any": 1.0,
                             "p_end": rng.uniform(0, 0.5), "horizon_days": 42, "members": "1991-2025"}
                            for b in boards])
    return {**charts, "level_history": history, "reasons": reasons, "outlook_summary": outlook}


PLACE_IN_DISTRICT = "Nieuw-Ééndorp"  # lies in district PLACE_DISTRICT (page order)
PLACE_DISTRICT = 7
PLACE_ALTERNATE = "Oud Eendorp"
PLACE_NEAR = "Buitenhuizen"  # 1.5 km east of the grid, in no district
PLACE_FAR = "Verweg"  # 100 km away: known by name only


def synthetic_citizen_inputs(districts: gpd.GeoDataFrame) -> dict:
    """What ``publish_site(citizen=...)`` takes, made up to match ``synthetic_districts``: a name
    and links per water board, municipalities of 3×3 districts and one province around all, a
    place in every 7th district and two outside (``PLACE_*``), and a lake west of the grid."""
    boards = sorted(set(districts["water_board"]))
    xmin, ymin, xmax, ymax = districts.total_bounds
    size = 3 * float(np.sqrt(districts.geometry.area.iloc[0])) if len(districts) else 6_000.0
    cells = [shapely.box(x, y, x + size, y + size)
             for y in np.arange(ymin, ymax, size) for x in np.arange(xmin, xmax, size)]
    municipalities = gpd.GeoDataFrame({"name": [f"Gemeente {chr(65 + k % 26)}{k // 26 or ''}" for k in range(len(cells))]},
                                      geometry=cells, crs="EPSG:28992")
    provinces = gpd.GeoDataFrame({"name": ["Provincie Midden"]},
                                 geometry=[shapely.box(xmin, ymin, xmax, ymax).buffer(1_000)], crs="EPSG:28992")
    # Places: one in the middle of every 7th district from the 8th on (the first is
    # PLACE_IN_DISTRICT); one just outside the grid (shipped with its point, in no district);
    # one far away (shipped by name only).
    inside = districts.geometry.iloc[PLACE_DISTRICT::7].centroid
    places = gpd.GeoDataFrame(
        {"name": [PLACE_IN_DISTRICT] + [f"Dorp {k}" for k in range(1, len(inside))] + [PLACE_NEAR, PLACE_FAR],
         "population": [12_000] + [1_000 + k for k in range(1, len(inside))] + [800, 50_000],
         "municipality": ["Gemeente A"] * (len(inside) + 1) + ["Elders"],
         "alternates": [PLACE_ALTERNATE] + [""] * (len(inside) - 1) + ["", "Ver-Weg"]},
        geometry=list(inside) + [shapely.Point(xmax + 1_500.0, (ymin + ymax) / 2),
                                 shapely.Point(xmin - 100_000.0, ymin)], crs="EPSG:28992")
    lake = shapely.box(xmin - 4_000.0, ymin, xmin - 500.0, ymax)
    label = gpd.GeoSeries([lake.centroid], crs="EPSG:28992").to_crs("EPSG:4326").iloc[0]
    waters = gpd.GeoDataFrame({"name": ["Grote Plas"], "label_lon": [label.x], "label_lat": [label.y]},
                              geometry=[lake], crs="EPSG:28992")
    return {
        "boards": {b: {"name": f"Waterschap {b[-2:]}-land",
                       "announcement_url": f"https://zoek.officielebekendmakingen.nl/wsb-{k}",
                       "contact_url": "tel:+31000000000"} for k, b in enumerate(boards)},
        "orientation": {"municipalities": municipalities, "provinces": provinces, "places": places, "waters": waters},
        "groundwater": {"meaning_nl": "U mag niet beregenen met grondwater.",
                        "meaning_en": "You may not irrigate with groundwater.",
                        "exemptions_nl": "drinkwater voor vee; water geven met een gieter",
                        "exemptions_en": "drinking water for cattle; hand watering with a watering can"},
        "next_update": dt.date(2026, 7, 16),
    }
