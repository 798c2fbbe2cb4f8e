"""The national reference geography the project carries: water boards, provinces, municipalities.

Read from the GeoJSON files beside this module (EPSG:4326, see ``README.md`` here for source
and licence). Invalid rings (self-touching, as the generalised boundaries have a few) are
repaired with :func:`shapely.make_valid` on reading, keeping only the polygonal parts.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

import geopandas as gpd
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
