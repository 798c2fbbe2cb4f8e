"""District shapes made light for the web: simplified, reprojected, rounded, encoded.

Districts tile a water board's area, so neighbours share borders. Simplifying each polygon on
its own would open slivers and overlaps along those borders; ``simplify_coverage`` simplifies
every shared edge once, so neighbours stay edge-matched. Work is done in RD New (EPSG:28992,
metres) so the tolerance is in metres; only the result goes to WGS84 (EPSG:4326) for the web.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import shapely

RD_NEW = "EPSG:28992"
WGS84 = "EPSG:4326"

log = logging.getLogger(__name__)


def simplify_districts(geometry: gpd.GeoSeries, *, tolerance_m: float = 25.0) -> gpd.GeoSeries:
    """Return the district polygons simplified by ``tolerance_m`` metres, borders kept shared.

    ``geometry`` must be in EPSG:28992. Where the polygons do not form a valid coverage
    (they overlap or their shared edges do not match), each polygon is simplified on its own
    with topology preserved, and a warning says so.
    """
    if geometry.crs is None or not geometry.crs.equals(RD_NEW):
        raise ValueError(f"district geometry must be in {RD_NEW} (metres); got {geometry.crs}")
    if tolerance_m <= 0:
        return geometry
    if shapely.coverage_is_valid(geometry.values):
        return geometry.simplify_coverage(tolerance_m)
    log.warning("districts do not form a valid coverage; simplifying each polygon on its own")
    return geometry.simplify(tolerance_m, preserve_topology=True)


def round_coordinates(geometry: gpd.GeoSeries, *, decimals: int) -> gpd.GeoSeries:
    """Return ``geometry`` with every coordinate rounded to ``decimals`` decimals."""
    rounded = shapely.transform(geometry.values, lambda xy: np.round(xy, decimals))
    return gpd.GeoSeries(rounded, index=geometry.index, crs=geometry.crs)


def encode_compact(geometry: gpd.GeoSeries, *, decimals: int = 5) -> list[list[list[list[int]]]]:
    """Return each (multi)polygon as integer rings with delta-encoded coordinates.

    ``geometry`` must be in EPSG:4326. A feature becomes a list of polygons, a polygon a list
    of rings, a ring a flat list ``[lon0, lat0, dlon1, dlat1, …]`` in units of
    ``10**-decimals`` degrees: the first point absolute, every next one as the difference to
    the one before. The closing point and repeated points are left out. Five decimals are
    about 1 m, below what a simplified district border shows. The page's script
    (``assets/droogte-map.js``, ``decodeGeometry``) reverses this.
    """
    if geometry.crs is None or not geometry.crs.equals(WGS84):
        raise ValueError(f"geometry to encode must be in {WGS84}; got {geometry.crs}")
    scale = 10**decimals
    encoded = []
    for geom in geometry.values:
        if geom is None or geom.is_empty:
            encoded.append([])
            continue
        polygons = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
        if any(p.geom_type != "Polygon" for p in polygons):
            raise ValueError(f"district geometry must be Polygon or MultiPolygon; got {geom.geom_type}")
        encoded.append([[_encode_ring(ring, scale) for ring in (p.exterior, *p.interiors)] for p in polygons])
    return encoded


def _encode_ring(ring: shapely.LinearRing, scale: int) -> list[int]:
    xy = np.rint(np.asarray(ring.coords)[:-1, :2] * scale).astype(np.int64)
    keep = np.ones(len(xy), dtype=bool)
    keep[1:] = np.any(np.diff(xy, axis=0) != 0, axis=1)
    xy = xy[keep]
    deltas = np.vstack([xy[:1], np.diff(xy, axis=0)])
    return deltas.ravel().tolist()
