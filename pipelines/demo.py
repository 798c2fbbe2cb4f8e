"""The embedded demo: a fictional but plausible setup written in the real file formats.

``write_demo(folder, seed=...)`` writes, deterministically from the seed:

- ``districts.geojson`` — 64 districts (Voronoi cells of a jittered grid, so neighbours share
  borders exactly) in EPSG:28992 around the centre of the Netherlands, split over two water
  boards, with the properties of ``docs/contracts.md`` section 3;
- ``knmi/etmgeg_9NN.txt`` — six KNMI-like stations, daily 1991-01-01 up to the demo date, in
  the KNMI daily station text format (legend block, ``# STN,YYYYMMDD,...`` header, fixed-width
  comma-separated, 0.1 mm units, ``-1`` for < 0.05 mm, blanks for missing, CRLF). Station 906
  has no EV24 values at all, like the real station 340;
- ``groundwater/B9*.csv`` — DINOloket groundwater exports (the quoted 2024 layout), twice a month;
- ``sensors/oppervlaktewaterpeilen.xml`` — Delft-FEWS PI-XML hourly surface-water levels
  (``H.meting``, m NAP) with ``timeZone`` 1.0;
- ``source/supply.csv`` — the national supply available for the regions (m³/day), derived from
  a synthetic Rhine discharge at Lobith;
- ``droogte.yaml`` — the configuration that ties it together.

The weather is a seeded stochastic generator (wet/dry Markov chain, gamma amounts, a seasonal
Makkink evaporation) with a dry spring and summer in 2018 and in the demo year 2025, so the
demo season produces real shortages. Nothing here is real data: names and numbers are
invented; the formats are real, so the demo runs through the same readers as real data.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPoint, box

DEMO_DATE = dt.date(2025, 8, 15)
DEMO_SEED = 20250815
RECORD_START = dt.date(1991, 1, 1)
DRY_YEARS = {2018: 0.45, 2025: 0.40, 2003: 0.6, 1995: 0.65}
REGION = (115_000.0, 425_000.0, 185_000.0, 485_000.0)  # xmin, ymin, xmax, ymax in EPSG:28992 (m)

STATIONS = [
    ("901", "Demo-Noordwest", 125_000, 475_000),
    ("902", "Demo-Noordoost", 172_000, 478_000),
    ("903", "Demo-Midden", 150_000, 455_000),
    ("904", "Demo-Zuidwest", 122_000, 432_000),
    ("905", "Demo-Zuidoost", 178_000, 430_000),
    ("906", "Demo-Polder", 140_000, 440_000),  # no EV24, like KNMI station 340
]
WATER_BOARDS = [
    ("WBW", "Waterschap Demo-West", 1_500_000.0),
    ("WBO", "Waterschap Demo-Oost", 2_200_000.0),
]

KNMI_LEGEND = """BRON: KONINKLIJK NEDERLANDS METEOROLOGISCH INSTITUUT (KNMI) -- DEMO: fictieve gegevens / fictional data
Opmerking: dit bestand is gegenereerd voor de droogte-demo in het formaat van de KNMI daggegevens.
SOURCE: DEMO GENERATOR OF DROOGTE, IN THE FORMAT OF KNMI DAILY STATION DATA

STN         LON(east)   LAT(north)  ALT(m)      NAME
{stations}
YYYYMMDD  = Datum (YYYY=jaar MM=maand DD=dag) / Date (YYYY=year MM=month DD=day)
TG        = Etmaalgemiddelde temperatuur (in 0.1 graden Celsius) / Daily mean temperature in (0.1 degrees Celsius)
RH        = Etmaalsom van de neerslag (in 0.1 mm) (-1 voor <0.05 mm) / Daily precipitation amount (in 0.1 mm) (-1 for <0.05 mm)
EV24      = Referentiegewasverdamping (Makkink) (in 0.1 mm) / Potential evapotranspiration (Makkink) (in 0.1 mm)
"""


def write_demo(folder: Path, *, processed_dir: Path, site_dir: Path, archive_dir: Path,
               seed: int = DEMO_SEED, date: dt.date = DEMO_DATE) -> Path:
    """Write the demo setup into ``folder`` and return the path of its configuration file.

    ``processed_dir``, ``site_dir`` and ``archive_dir`` are where the pipeline run on this setup
    will write; the configuration refers to them relative to ``folder``.
    """
    folder = Path(folder).resolve()
    rng = np.random.default_rng(seed)
    days = pd.date_range(RECORD_START, date, freq="D")
    weather = _regional_weather(rng, days)
    station_weather = {sid: _station_weather(rng, weather) for sid, *_ in STATIONS}
    districts = _districts(rng)

    for sub in ("knmi", "groundwater", "sensors", "source"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for sid, name, x, y in STATIONS:
        _write_knmi(folder / "knmi" / f"etmgeg_{sid}.txt", sid, station_weather[sid], rng,
                    no_evaporation=(sid == "906"))
    wells = _write_wells(folder / "groundwater", rng, districts, station_weather)
    _write_sensors(folder / "sensors" / "oppervlaktewaterpeilen.xml", rng, districts,
                   station_weather, date)
    _write_supply(folder / "source" / "supply.csv", rng, weather)
    _write_districts(folder / "districts.geojson", districts)
    outputs = {"processed": processed_dir, "site": site_dir, "raw_archive": archive_dir}
    # The folders' parents resolved, never the folders: a published site is a symlink to its
    # current version, and the configuration must name the link, not the version it points at.
    return _write_config(folder / "droogte.yaml", date, wells,
                         {k: os.path.relpath(Path(v).parent.resolve() / Path(v).name, folder)
                          for k, v in outputs.items()})


# --- weather -------------------------------------------------------------------------------


def _regional_weather(rng: np.random.Generator, days: pd.DatetimeIndex) -> pd.DataFrame:
    """Regional daily precipitation and Makkink evaporation (mm/day) shared by all stations."""
    doy = days.day_of_year.to_numpy()
    season = np.exp(-(((doy - 180) / 58.0) ** 2))  # 0 in winter, 1 at the end of June
    dryness = np.ones(len(days))
    for year, factor in DRY_YEARS.items():
        dry = (days.year == year) & (days.month >= 3) & (days.month <= 9)
        dryness[dry] = factor
    p_wet_after_dry = (0.42 - 0.08 * season) * dryness
    p_wet_after_wet = (0.68 - 0.12 * season) * np.sqrt(dryness)
    wet = np.zeros(len(days), dtype=bool)
    u = rng.random(len(days))
    for i in range(1, len(days)):
        wet[i] = u[i] < (p_wet_after_wet[i] if wet[i - 1] else p_wet_after_dry[i])
    amount = rng.gamma(shape=0.75, scale=4.2 + 2.0 * season, size=len(days)) * np.where(wet, 1.0, 0.0)
    evaporation = (0.25 + 3.3 * season) * np.where(wet, 0.65, 1.1) * (1 + 0.25 * (1 - dryness))
    evaporation = np.clip(evaporation * rng.lognormal(0.0, 0.15, len(days)), 0.0, 6.5)
    return pd.DataFrame({"precipitation_mm": amount, "evaporation_mm": evaporation}, index=days)


def _station_weather(rng: np.random.Generator, regional: pd.DataFrame) -> pd.DataFrame:
    """A station's own record: the regional weather with local variation in rain and evaporation."""
    n = len(regional)
    rain = regional["precipitation_mm"].to_numpy() * rng.lognormal(0.0, 0.35, n)
    showers = (rng.random(n) < 0.06) * rng.gamma(0.6, 2.5, n)  # local showers the region missed
    missed = rng.random(n) < 0.08  # regional rain that missed the station
    rain = np.where(missed, 0.0, rain) + showers
    evaporation = regional["evaporation_mm"].to_numpy() * rng.lognormal(0.0, 0.05, n)
    temperature = 10.0 + 8.0 * np.sin(2 * np.pi * (regional.index.day_of_year.to_numpy() - 110) / 365.25)
    return pd.DataFrame({"precipitation_mm": rain, "evaporation_mm": evaporation,
                         "temperature_c": temperature + rng.normal(0, 2.5, n)}, index=regional.index)


def _write_knmi(path: Path, sid: str, weather: pd.DataFrame, rng: np.random.Generator,
                *, no_evaporation: bool) -> None:
    """Write one station in the KNMI daily text format (0.1 mm, -1 for < 0.05 mm, blanks missing)."""
    rh = np.round(weather["precipitation_mm"].to_numpy() * 10).astype(int)
    rh = np.where((rh == 0) & (weather["precipitation_mm"].to_numpy() > 0.005), -1, rh)
    ev = np.round(weather["evaporation_mm"].to_numpy() * 10).astype(int)
    tg = np.round(weather["temperature_c"].to_numpy() * 10).astype(int)
    gaps = rng.random(len(rh)) < 0.002  # the odd missing day, as in real records

    def cell(value: int, missing: bool) -> str:
        return "     " if missing else f"{value:>5d}"

    name = next(n for s, n, *_ in STATIONS if s == sid)
    x, y = next((sx, sy) for s, _, sx, sy in STATIONS if s == sid)
    lon, lat = _rd_to_wgs84(x, y)
    legend = KNMI_LEGEND.format(stations=f"{sid:>3}:         {lon:.3f}       {lat:.3f}     0.00        {name}")
    lines = [*legend.splitlines(), "", "# STN,YYYYMMDD,   TG,   RH, EV24", ""]
    dates = weather.index.strftime("%Y%m%d")
    for i, day in enumerate(dates):
        lines.append(f"  {sid},{day},{cell(tg[i], gaps[i])},{cell(rh[i], gaps[i])},"
                     f"{cell(ev[i], gaps[i] or no_evaporation)}")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))


def _rd_to_wgs84(x: float, y: float) -> tuple[float, float]:
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(28992, 4326, always_xy=True).transform(x, y)
    return float(lon), float(lat)


# --- districts -----------------------------------------------------------------------------


def _districts(rng: np.random.Generator) -> pd.DataFrame:
    """64 Voronoi districts sharing borders, with their properties (contracts section 3)."""
    xmin, ymin, xmax, ymax = REGION
    nx, ny = 8, 8
    gx = np.linspace(xmin, xmax, nx + 1)[:-1] + (xmax - xmin) / nx / 2
    gy = np.linspace(ymin, ymax, ny + 1)[:-1] + (ymax - ymin) / ny / 2
    pts = np.array([(x, y) for y in gy for x in gx])
    pts += rng.uniform(-0.3, 0.3, pts.shape) * [(xmax - xmin) / nx, (ymax - ymin) / ny]
    frame = box(*REGION)
    cells = shapely.voronoi_polygons(MultiPoint([tuple(p) for p in pts]), extend_to=frame)
    polygons = [shapely.intersection(c, frame) for c in cells.geoms]
    # voronoi_polygons returns cells in no guaranteed order: pair each with its seed point
    order = [next(i for i, p in enumerate(pts) if poly.contains(shapely.Point(p))) for poly in polygons]
    polygons = [polygons[order.index(i)] for i in range(len(pts))]
    polygons = [shapely.set_precision(p, 1.0) for p in polygons]  # whole metres, borders stay shared

    names_west = ["Zuiderveen", "Oudeland", "Kromme Wetering", "Lagewaard", "Polder Nieuwkoop-Oost",
                  "Bovenkerk", "De Ronde Venen", "Molenpolder", "Achterwetering", "Hoogeveld",
                  "Groote Polder", "Vlietland", "Zegveld", "Kamerik", "Rietveld", "Lange Ruige Weide"]
    names_east = ["Heuvelrug", "Beekdal", "Veenendaal-Noord", "Gelderse Vallei", "Kootwijk",
                  "Barneveld-West", "Ede-Zuid", "Renswoude", "Scherpenzeel", "Woudenberg",
                  "Leusden", "Achterveld", "Voorthuizen", "Lunteren", "Wekerom", "Otterlo"]
    rows = []
    for i, poly in enumerate(polygons):
        cx = poly.centroid.x
        board = "WBW" if cx < (xmin + xmax) / 2 else "WBO"
        west = board == "WBW"
        pool = names_west if west else names_east
        name = f"{pool[i % len(pool)]} {['I', 'II', 'III', 'IV'][i // 16]}"
        area = poly.area
        open_water = rng.uniform(0.04, 0.09) if west else rng.uniform(0.015, 0.04)
        target = rng.uniform(-2.6, -0.4) if west else rng.uniform(0.5, 8.0)
        rows.append({
            "district_id": f"{board}-{i + 1:03d}",
            "name": name,
            "water_board": board,
            "inlet_capacity_m3_day": float(np.round(area * rng.uniform(0.0008, 0.0016), -2)),
            "storage_max_m3": float(np.round(area * open_water * 0.25, -2)),
            "storage_initial_m3": float(np.round(area * open_water * 0.25 * 0.85, -2)),
            "open_water_share": round(open_water, 3),
            "irrigated_share": round(rng.uniform(0.05, 0.15) if west else rng.uniform(0.1, 0.3), 3),
            "high_value_share": round(rng.uniform(0.0, 0.05), 3),
            "peat_share": round(rng.uniform(0.05, 0.2) if west else rng.uniform(0.0, 0.02), 3),
            "nature_share": round(rng.uniform(0.02, 0.06), 3),
            "dike_flushing_m3_day": float(np.round(rng.uniform(500, 3000), -1)) if rng.random() < 0.3 else 0.0,
            "drinking_water_m3_day": float(np.round(rng.uniform(4000, 20000), -2)) if rng.random() < 0.15 else 0.0,
            "cooling_water_m3_day": 60000.0 if i in (19, 44) else 0.0,
            "process_water_m3_day": float(np.round(rng.uniform(1000, 8000), -2)) if rng.random() < 0.25 else 0.0,
            "target_level_m_nap": round(target, 2),
            "critical_level_m_nap": round(target - 0.20, 2),
            "geometry": poly,
        })
    return pd.DataFrame(rows)


def _write_districts(path: Path, districts: pd.DataFrame) -> None:
    features = []
    for row in districts.to_dict("records"):
        geom = shapely.geometry.mapping(row.pop("geometry"))
        features.append({"type": "Feature", "properties": row, "geometry": geom})
    doc = {
        "type": "FeatureCollection",
        "name": "demo_districts",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
        "features": features,
    }
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


# --- groundwater ---------------------------------------------------------------------------


def _nearest_station(x: float, y: float) -> str:
    return min(STATIONS, key=lambda s: (s[2] - x) ** 2 + (s[3] - y) ** 2)[0]


def _write_wells(folder: Path, rng: np.random.Generator, districts: pd.DataFrame,
                 station_weather: dict[str, pd.DataFrame]) -> list[dict]:
    """DINOloket CSVs (2024 quoted layout) for 16 wells; returns their config entries."""
    chosen = rng.choice(len(districts), size=16, replace=False)
    wells = []
    for n, idx in enumerate(sorted(chosen)):
        poly = districts.loc[idx, "geometry"]
        pt = poly.representative_point()
        x, y = round(pt.x), round(pt.y)
        weather = station_weather[_nearest_station(x, y)]
        surface_cm = int(round((districts.loc[idx, "target_level_m_nap"] + rng.uniform(0.6, 1.6)) * 100))
        surplus = (weather["precipitation_mm"] - weather["evaporation_mm"]).rolling(120, min_periods=1).sum()
        doy = weather.index.day_of_year.to_numpy()
        level_cm = (surface_cm - 120 + 35 * np.cos(2 * np.pi * (doy - 45) / 365.25)
                    + 0.25 * (surplus.to_numpy() - np.nanmean(surplus.to_numpy()))
                    + rng.normal(0, 4, len(doy)))
        days = weather.index
        take = (days.year >= 1995) & days.day.isin([14, 28])
        location = f"B9{n // 8}A{n:04d}"
        lines = _dino_header(location, x, y, surface_cm, days[take][0].date(), days[take][-1].date())
        for day, value in zip(days[take], level_cm[take], strict=True):
            mv = surface_cm + 10  # measuring point 10 cm above the surface
            lines.append(_quoted([location, "001", day.strftime("%d-%m-%Y"), str(int(round(mv - value))),
                                  str(int(round(surface_cm - value))), str(int(round(value))), "", "",
                                  "", "", "", "", ""]))
        path = folder / f"{location}001.csv"
        path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
        august = level_cm[take & (days.month == 8) & (days.year < 2025)]
        wells.append({"file": f"groundwater/{path.name}",
                      "lower_limit_m_nap": round(float(np.quantile(august, 0.2)) / 100.0, 2)})
    return wells


def _quoted(fields: list[str]) -> str:
    return ",".join(f'"{f}"' if f != "" or i < 8 else '""' for i, f in enumerate(fields))


def _dino_header(location: str, x: int, y: int, surface_cm: int, start: dt.date, end: dt.date) -> list[str]:
    fmt = "%d-%m-%Y"
    blank = "," * 12
    return [
        '"Titel:",,,,,,,,,,,,',
        '"Gebruikersnaam:",,,,,,,,,,,,',
        f'"Periode aangevraagd:","01-01-1800","tot:","{end.strftime(fmt)}",,,,,,,,,',
        f'"Gegevens beschikbaar:","{start.strftime(fmt)}","tot:","{end.strftime(fmt)}",,,,,,,,,',
        f'"Datum:","{end.strftime(fmt)}",,,,,,,,,,,',
        '"Referentie:","NAP",,,,,,,,,,,',
        blank,
        '"NAP:","Normaal Amsterdams Peil",,,,,,,,,,,',
        '"MV:","Maaiveld",,,,,,,,,,,',
        '"MP:","Meetpunt",,,,,,,,,,,',
        blank,
        _quoted(["Locatie", "Filternummer", "Externe aanduiding", "X-coordinaat", "Y-coordinaat",
                 "Maaiveld (cm t.o.v. NAP)", "Datum maaiveld gemeten", "Startdatum", "Einddatum",
                 "Meetpunt (cm t.o.v. NAP)", "Meetpunt (cm t.o.v. MV)", "Bovenkant filter (cm t.o.v. NAP)",
                 "Onderkant filter (cm t.o.v. NAP)"]),
        _quoted([location, "001", f"9{location[3:]}", str(x), str(y), str(surface_cm), start.strftime(fmt),
                 start.strftime(fmt), end.strftime(fmt), str(surface_cm + 10), "10", str(surface_cm - 300),
                 str(surface_cm - 400)]),
        blank,
        _quoted(["Locatie", "Filternummer", "Peildatum", "Stand (cm t.o.v. MP)", "Stand (cm t.o.v. MV)",
                 "Stand (cm t.o.v NAP)", "Bijzonderheid", "Opmerking", "", "", "", "", ""]),
    ]


# --- surface-water sensors -------------------------------------------------------------------


def _write_sensors(path: Path, rng: np.random.Generator, districts: pd.DataFrame,
                   station_weather: dict[str, pd.DataFrame], date: dt.date) -> None:
    """PI-XML hourly water levels (m NAP) for 24 districts over the 60 days up to ``date``.

    Times in the file are in the document's time zone, UTC+1 (``<timeZone>1.0</timeZone>``),
    as Delft-FEWS exports usually are.
    """
    chosen = sorted(rng.choice(len(districts), size=24, replace=False))
    end = pd.Timestamp(date) + pd.Timedelta(hours=23)
    hours = pd.date_range(end - pd.Timedelta(days=60) + pd.Timedelta(hours=1), end, freq="h")
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<TimeSeries xmlns="http://www.wldelft.nl/fews/PI" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.wldelft.nl/fews/PI '
        'http://fews.wldelft.nl/schemas/version1.0/pi-schemas/pi_timeseries.xsd" version="1.26">',
        "    <timeZone>1.0</timeZone>",
    ]
    for idx in chosen:
        row = districts.loc[idx]
        pt = row["geometry"].representative_point()
        weather = station_weather[_nearest_station(pt.x, pt.y)]
        surplus = (weather["precipitation_mm"] - weather["evaporation_mm"]).rolling(45, min_periods=1).sum()
        daily_drop = np.clip(-surplus.reindex(hours.normalize()).to_numpy() / 400.0, 0.0, 0.5)
        level = (row["target_level_m_nap"] - daily_drop * rng.uniform(0.5, 1.3)
                 + 0.02 * np.sin(np.arange(len(hours)) * 2 * np.pi / 24) + rng.normal(0, 0.005, len(hours)))
        missing = rng.random(len(hours)) < 0.01
        location = f"PEIL_{row['district_id']}"
        parts += [
            "    <series>",
            "        <header>",
            "            <type>instantaneous</type>",
            f"            <locationId>{location}</locationId>",
            "            <parameterId>H.meting</parameterId>",
            '            <timeStep unit="second" multiplier="3600"/>',
            f'            <startDate date="{hours[0]:%Y-%m-%d}" time="{hours[0]:%H:%M:%S}"/>',
            f'            <endDate date="{hours[-1]:%Y-%m-%d}" time="{hours[-1]:%H:%M:%S}"/>',
            "            <missVal>-999.0</missVal>",
            f"            <stationName>Gemaal {_xml_text(row['name'])}</stationName>",
            f"            <x>{pt.x:.1f}</x>",
            f"            <y>{pt.y:.1f}</y>",
            "            <units>m</units>",
            "        </header>",
        ]
        for t, value, miss in zip(hours, level, missing, strict=True):
            v, flag = ("-999.0", 9) if miss else (f"{value:.3f}", 0)
            parts.append(f'        <event date="{t:%Y-%m-%d}" time="{t:%H:%M:%S}" value="{v}" flag="{flag}"/>')
        parts.append("    </series>")
    parts.append("</TimeSeries>")
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- national source -------------------------------------------------------------------------


def _write_supply(path: Path, rng: np.random.Generator, regional: pd.DataFrame) -> None:
    """Supply for the regions (m³/day) from a synthetic Rhine discharge at Lobith (m³/s).

    The share of the Rhine that the main system can pass on to the regional inlets grows with
    the discharge above a navigation reserve of 500 m³/s and is capped at 8.0e6 m³/day.
    """
    surplus = (regional["precipitation_mm"] - regional["evaporation_mm"]).rolling(60, min_periods=1).mean()
    doy = regional.index.day_of_year.to_numpy()
    lobith = 2000 + 700 * np.cos(2 * np.pi * (doy - 40) / 365.25) + 120 * surplus.to_numpy()
    lobith = np.clip(lobith * rng.lognormal(0, 0.05, len(doy)), 650, 9000)
    supply = np.clip((lobith - 500.0) * 86400 * 0.08, 0.0, 8.0e6)
    lines = [
        "# droogte demo: national supply available to the regional inlets, m3/day",
        "# derived from a synthetic Rhine discharge at Lobith (m3/s): 8 % of the discharge above 500 m3/s",
        "date,lobith_m3_s,supply_m3_day",
    ]
    lines += [f"{d:%Y-%m-%d},{q:.0f},{s:.0f}" for d, q, s in zip(regional.index, lobith, supply, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# --- configuration ---------------------------------------------------------------------------


def _write_config(path: Path, date: dt.date, wells: list[dict], outputs: dict[str, str]) -> Path:
    import yaml

    config = {
        "name": "demo",
        "date": date.isoformat(),
        "districts": "districts.geojson",
        "stations": [{"id": s, "name": n, "x": x, "y": y, "file": f"knmi/etmgeg_{s}.txt"}
                     for s, n, x, y in STATIONS],
        "wells": wells,
        "sensors": [{"file": "sensors/oppervlaktewaterpeilen.xml", "format": "pi-xml"}],
        # The boards are fictional: their announcement link is the official-announcements site
        # (where real boards publish theirs in the Waterschapsblad), to show where it goes.
        "water_boards": [{"id": b, "name": n, "inlet_capacity_m3_day": c,
                          "announcement_url": "https://www.officielebekendmakingen.nl/"} for b, n, c in WATER_BOARDS],
        "source": {"file": "source/supply.csv"},
        "priorities": {
            "category_3": ["high_value_irrigation", "process_water"],
            "category_4": ["agriculture", "nature_other", "industry", "shipping", "recreation"],
        },
        "rules": {},
        "output": outputs,
        "publication": {"approval": "auto", "bulletin_weekday": "friday"},  # the demo day, 15 August 2025, is a Friday
        "dask": {"workers": 2},
        "outlook": {"horizon_days": 42},
    }
    header = ("# droogte configuration of the embedded demo (fictional water boards, real file formats).\n"
              "# Paths are relative to this file. Every key: docs/configuration.md (droogte config reference).\n")
    path.write_text(header + yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path
