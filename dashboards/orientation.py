"""The orientation layer of the citizen map: borders, places and large waters, with names.

Tiles are off by default (no third party may learn who looks at the page), so without this
layer the districts float on grey and nobody can see where they live. The borders come from
the national reference geography the pipeline carries (``pipelines/reference/``) and are
passed in as GeoDataFrames; this module only makes them light enough to ship inside the page:

* kept: the areas that touch the setup's districts (with a margin), whole, so no border ends
  in a cut line at the edge of a clipping box;
* simplified in RD New (EPSG:28992, metres), then encoded like the districts
  (``geometry.encode_compact``) in EPSG:4326 with 4 decimals (about 10 m, finer than a
  simplified municipality border shows).

Places (woonplaatsen, GeoNames) travel as points with their other names, for the search and as
labels at close zoom: those within ``PLACE_MARGIN_M`` of a district with their point (the page
finds the district around the point itself, as for "my location"); the larger towns of the
rest of the country (``FAR_MIN_POPULATION``) by name only, so that a search for a town
elsewhere says it lies outside this map instead of finding nothing, while the page stays light
(about 11 kB for those names). Large lakes and the sea (Natural Earth) are clipped to a wider
box (``WATER_MARGIN_M``) and drawn under the districts. Postcodes are not carried: no open
postcode-area (PC4) data is reachable here.
"""

from __future__ import annotations

import geopandas as gpd
import shapely

from dashboards.geometry import RD_NEW, WGS84, encode_compact

DECIMALS = 4
MARGIN_M = 5_000.0  # areas within this distance of a district are kept
TOLERANCE_M = {"municipalities": 80.0, "provinces": 250.0}
MIN_OVERLAP_SHARE = 0.05  # a district "lies in" an area when this share of it does
PLACE_MARGIN_M = 3_000.0  # places this close to a district travel with their point
FAR_MIN_POPULATION = 5_000  # farther places this large travel by name (about 550 of 1,966)
WATER_TOLERANCE_M = 150.0
WATER_MARGIN_M = 25_000.0  # waters are clipped this far out: a lake at the edge still reads as one


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

    ``layers``: ``{"municipalities": gdf, "provinces": gdf, "places": gdf, "waters": gdf}``
    (any may be absent), each in EPSG:28992 with a ``name`` column; places are points with
    ``population``, ``municipality`` and ``alternates`` (``|``-separated), waters polygons.
    ``districts``: the published districts, EPSG:28992, in page order. Returns
    ``{"municipalities": [{"name", "label": [lon, lat], "shape", "districts"}], "provinces":
    [...], "places": {"near", "far"} (see ``_places``), "waters": {"shapes", "labels"} (``_waters``),
    "scale": 10**DECIMALS}``; an area's ``districts`` are the indices of the districts of which
    at least ``MIN_OVERLAP_SHARE`` lies in it (what a search for that municipality answers with).
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
    if layers.get("places") is not None:
        out["places"] = _places(_checked(layers["places"], "places"), districts)
    if layers.get("waters") is not None:
        waters = _waters(_checked(layers["waters"], "waters"),
                         shapely.box(*districts.total_bounds).buffer(WATER_MARGIN_M))
        if waters:
            out["waters"] = waters
    return out


def _places(places: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> dict:
    """``{"near": [[name, lon, lat, population, municipality, alternates], …], "far": ["name|alt|…"]}``:
    places within ``PLACE_MARGIN_M`` of a district with their point (EPSG:4326, 5 decimals),
    largest first; others of at least ``FAR_MIN_POPULATION`` inhabitants by their names only."""
    for column in ("population", "municipality", "alternates"):
        if column not in places.columns:
            raise ValueError(f"orientation['places'] lacks column {column!r}")
    places = places.sort_values("population", ascending=False, kind="stable").reset_index(drop=True)
    hits = districts.sindex.query(places.geometry.values, predicate="dwithin", distance=PLACE_MARGIN_M)
    near = set(hits[0].tolist())
    wgs = places.geometry.to_crs(WGS84)
    out: dict = {"near": [], "far": []}
    for i, record in enumerate(places.itertuples(index=False)):
        names = [str(record.name)] + [a for a in str(record.alternates or "").split("|") if a]
        if i in near:
            point = wgs.iloc[i]
            out["near"].append([str(record.name), round(point.x, 5), round(point.y, 5), int(record.population),
                                str(record.municipality or ""), "|".join(names[1:])])
        elif record.population >= FAR_MIN_POPULATION:
            out["far"].append("|".join(names))
    return out


def _waters(waters: gpd.GeoDataFrame, area) -> dict:
    """Waters within the area, clipped to it and simplified, and the names whose label point
    (``label_lon``/``label_lat``, EPSG:4326) lies in it: ``{"shapes": [...], "labels": [[name,
    lon, lat], ...]}``; empty when nothing lies in the area."""
    shown = waters[~waters.geometry.is_empty & waters.intersects(area)]
    clipped = shown.geometry.intersection(area).simplify(WATER_TOLERANCE_M, preserve_topology=True)
    clipped = clipped[~clipped.is_empty]
    labels = []
    if {"label_lon", "label_lat"} <= set(waters.columns):
        named = waters[waters["name"].fillna("").astype(str).ne("") & waters["label_lon"].notna()]
        points = gpd.GeoSeries(gpd.points_from_xy(named["label_lon"], named["label_lat"]), crs=WGS84)
        inside = points.to_crs(waters.crs).within(area).to_numpy()
        labels = [[str(n), round(float(x), DECIMALS), round(float(y), DECIMALS)]
                  for n, x, y, keep in zip(named["name"], named["label_lon"], named["label_lat"], inside, strict=True)
                  if keep]
    if clipped.empty and not labels:
        return {}
    return {"shapes": encode_compact(_polygonal(clipped.to_crs(WGS84)), decimals=DECIMALS), "labels": labels}


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
