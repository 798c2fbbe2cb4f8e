"""The orientation layer of the citizen map: municipality and province borders with names.

Tiles are off by default (no third party may learn who looks at the page), so without this
layer the districts float on grey and nobody can see where they live. The borders come from
the national reference geography the pipeline carries (``pipelines/reference/``) and are
passed in as GeoDataFrames; this module only makes them light enough to ship inside the page:

* kept: the areas that touch the setup's districts (with a margin), whole, so no border ends
  in a cut line at the edge of a clipping box;
* simplified in RD New (EPSG:28992, metres), then encoded like the districts
  (``geometry.encode_compact``) in EPSG:4326 with 4 decimals (about 10 m, finer than a
  simplified municipality border shows).

Place names (woonplaatsen), postcodes and main waters are not in the reference geography the
project carries; the page names what its search covers.
"""

from __future__ import annotations

import geopandas as gpd
import shapely

from dashboards.geometry import RD_NEW, WGS84, encode_compact

DECIMALS = 4
MARGIN_M = 5_000.0  # areas within this distance of a district are kept
TOLERANCE_M = {"municipalities": 80.0, "provinces": 250.0}
MIN_OVERLAP_SHARE = 0.05  # a district "lies in" an area when this share of it does


def _checked(layer: gpd.GeoDataFrame, key: str) -> gpd.GeoDataFrame:
    if not isinstance(layer, gpd.GeoDataFrame):
        raise ValueError(f"orientation[{key!r}] must be a GeoDataFrame; got {type(layer).__name__}")
    if "name" not in layer.columns:
        raise ValueError(f"orientation[{key!r}] lacks column 'name'")
    if layer.crs is None or not layer.crs.equals(RD_NEW):
        raise ValueError(f"orientation[{key!r}] must be in {RD_NEW}; got {layer.crs}")
    return layer


def orientation_data(layers: dict[str, gpd.GeoDataFrame] | None,
                     districts: gpd.GeoDataFrame) -> dict:
    """Return the page's orientation block and the districts lying in each named area.

    ``layers``: ``{"municipalities": gdf, "provinces": gdf}`` (either may be absent), each in
    EPSG:28992 with a ``name`` column. ``districts``: the published districts, EPSG:28992, in
    page order. Returns ``{"municipalities": [{"name", "label": [lon, lat], "shape"}],
    "provinces": [...], "scale": 10**DECIMALS}`` plus, per layer, ``"members"``: for each
    area the indices of the districts of which at least ``MIN_OVERLAP_SHARE`` of the area lies
    in it (what a search for that municipality answers with).
    """
    out: dict = {"scale": 10**DECIMALS}
    if not layers or len(districts) == 0:
        return out
    area = shapely.box(*districts.total_bounds).buffer(MARGIN_M)
    for key in ("municipalities", "provinces"):
        if key not in layers or layers[key] is None:
            continue
        layer = _checked(layers[key], key)
        kept = layer[layer.intersects(area)].reset_index(drop=True)
        if kept.empty:
            continue
        simplified = kept.geometry.simplify(TOLERANCE_M[key], preserve_topology=True)
        wgs = simplified.to_crs(WGS84)
        labels = kept.geometry.representative_point().to_crs(WGS84)
        shapes = encode_compact(_polygonal(wgs), decimals=DECIMALS)
        members = _members(kept, districts)
        out[key] = [{"name": str(name), "label": [round(p.x, DECIMALS), round(p.y, DECIMALS)],
                     "shape": shape, "districts": member}
                    for name, p, shape, member in zip(kept["name"], labels, shapes, members, strict=True)]
    return out


def _polygonal(series: gpd.GeoSeries) -> gpd.GeoSeries:
    """Polygonal parts only (simplification can leave slivers as other types)."""
    def keep(g):
        if g is None or g.geom_type in ("Polygon", "MultiPolygon"):
            return g
        parts = [p for p in getattr(g, "geoms", []) if p.geom_type in ("Polygon", "MultiPolygon")]
        return shapely.union_all(parts) if parts else shapely.Polygon()
    return series.apply(keep)


def _members(areas: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> list[list[int]]:
    """For each area, the page indices of the districts that lie in it for a real share."""
    frame = gpd.GeoDataFrame({"district": range(len(districts))}, geometry=districts.geometry.values,
                             crs=districts.crs)
    pairs = gpd.sjoin(frame, gpd.GeoDataFrame({"area": range(len(areas))}, geometry=areas.geometry.values,
                                              crs=areas.crs), predicate="intersects")
    members: list[list[int]] = [[] for _ in range(len(areas))]
    if pairs.empty:
        return members
    shared = shapely.intersection(frame.geometry.values[pairs["district"].to_numpy()],
                                  areas.geometry.values[pairs["area"].to_numpy()])
    share = shapely.area(shared) / shapely.area(frame.geometry.values[pairs["district"].to_numpy()])
    for district, area, s in zip(pairs["district"], pairs["area"], share, strict=True):
        if s >= MIN_OVERLAP_SHARE:
            members[int(area)].append(int(district))
    return [sorted(m) for m in members]
