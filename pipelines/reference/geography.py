"""The national reference geography the project carries: water boards, provinces, municipalities.

Read from the GeoJSON files beside this module (EPSG:4326, see ``README.md`` here for source
and licence). Invalid rings (self-touching, as the generalised boundaries have a few) are
repaired with :func:`shapely.make_valid` on reading, keeping only the polygonal parts.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

REFERENCE_FOLDER = Path(__file__).resolve().parent
LAYERS = {"water_boards": "waterschappen", "provinces": "provincies", "municipalities": "gemeenten"}


@cache
def _read(layer: str) -> gpd.GeoDataFrame:
    frame = gpd.read_file(REFERENCE_FOLDER / f"{LAYERS[layer]}.geojson")
    repaired = shapely.make_valid(frame.geometry.values)
    frame["geometry"] = gpd.GeoSeries(repaired, crs=frame.crs).apply(_polygonal)
    return frame


def _polygonal(geometry):
    """The polygons of a repaired geometry (make_valid can add stray lines or points)."""
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    parts = [g for g in getattr(geometry, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts)


def reference_layer(layer: str, crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    """One reference layer (``water_boards``, ``provinces`` or ``municipalities``): ``code``,
    ``name`` and valid polygon geometry, in ``crs`` (EPSG:4326 as stored, or EPSG:28992)."""
    if layer not in LAYERS:
        raise ValueError(f"unknown reference layer {layer!r}; expected one of {sorted(LAYERS)}")
    return _read(layer).to_crs(crs)


PLACES = "plaatsen.csv"
WATERS = "wateren.geojson"


@cache
def _read_places() -> gpd.GeoDataFrame:
    path = REFERENCE_FOLDER / PLACES
    frame = pd.read_csv(path, dtype={"name": str, "municipality": str, "alternates": str},
                        keep_default_na=False, encoding="utf-8")
    missing = {"geonameid", "name", "lat", "lon", "population", "municipality", "alternates"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: lacks column(s) {sorted(missing)}")
    return gpd.GeoDataFrame(frame.drop(columns=["lat", "lon"]),
                            geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326")


def reference_places(crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    """The places (woonplaatsen) with at least 500 inhabitants, from GeoNames (``plaatsen.csv``,
    made by ``make_places.py``): ``geonameid``, ``name`` (Dutch), ``population``,
    ``municipality``, ``alternates`` (``|``-separated other names) and the point, in ``crs``."""
    return _read_places().to_crs(crs)


@cache
def _read_waters() -> gpd.GeoDataFrame:
    return gpd.read_file(REFERENCE_FOLDER / WATERS)


def reference_waters(crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    """The large lakes in and around the Netherlands (Natural Earth 10m, ``wateren.geojson``,
    made by ``make_waters.py``): ``name`` (Dutch, "" where unnamed) and polygons, in ``crs``."""
    return _read_waters().to_crs(crs)
