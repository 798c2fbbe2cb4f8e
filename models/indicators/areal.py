"""Areal values: from point stations to districts, and the national mean.

Method: **inverse distance weighting** (IDW) in RD New (EPSG:28992, metres). Each district
takes the ``neighbours`` stations nearest to its centroid, weighted by ``1 / distance**power``.
Those stations are the ones that *feed* the district. A station inside 1 m of the centroid
takes the whole weight.

Stations have gaps, and some publish no evaporation at all (KNMI station 340 Woensdrecht),
so the weights are renormalised **per day and per variable** over the feeding stations that
have a value that day: a district's precipitation and its evaporation can come from different
subsets of its stations. A day on which none of its stations has a value is NaN.

The precipitation deficit of a district is the weighted mean of its stations' *deficits*,
not the deficit of its areal precipitation and evaporation: the running sum is clipped at
zero at different days at different stations, so the deficit of a mean can fall below every
station's deficit (it did for the Limburg and Brabant boards in August 2018 by up to 15 mm).

The national value follows KNMI (13 stations, "P13" and "EV24-13"): the plain mean over the
stations that have a value that day, for each variable separately.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr

RD_NEW = "EPSG:28992"


def idw_weights(
    stations: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    *,
    id_column: str = "district_id",
    power: float = 2.0,
    neighbours: int = 4,
) -> xr.DataArray:
    """Weights (``district``, ``station``) of each station for each district, rows summing to 1.

    ``stations`` needs ``station`` and Point geometry, ``districts`` needs ``id_column`` and
    polygon geometry; both must have a CRS and are reprojected to EPSG:28992 when in another.
    Stations other than the ``neighbours`` nearest to a district's centroid get weight 0.
    """
    stations = _in_rd_new(stations, "stations", ["station"])
    districts = _in_rd_new(districts, "districts", [id_column])
    if neighbours < 1:
        raise ValueError(f"neighbours must be at least 1, got {neighbours}")
    centroids = districts.geometry.centroid
    dx = centroids.x.to_numpy()[:, None] - stations.geometry.x.to_numpy()[None, :]
    dy = centroids.y.to_numpy()[:, None] - stations.geometry.y.to_numpy()[None, :]
    distance = np.maximum(np.hypot(dx, dy), 1.0)  # metres; 1 m floor avoids division by zero
    weights = distance ** -power
    keep = min(neighbours, distance.shape[1])
    nearest = np.argsort(distance, axis=1)[:, :keep]
    mask = np.zeros_like(weights, dtype=bool)
    np.put_along_axis(mask, nearest, True, axis=1)
    weights = np.where(mask, weights, 0.0)
    weights /= weights.sum(axis=1, keepdims=True)
    return xr.DataArray(
        weights,
        dims=("district", "station"),
        coords={
            "district": districts[id_column].astype(str).to_numpy(),
            "station": stations["station"].astype(str).to_numpy(),
        },
        name="station_weight",
        attrs={
            "units": "1",
            "long_name": "inverse-distance weight of a station for a district",
            "method": f"IDW in EPSG:28992 from the district centroid, power {power}, "
            f"{keep} nearest stations, renormalised per day over stations with a value",
        },
    )


def areal_mean(values: xr.DataArray, weights: xr.DataArray) -> xr.DataArray:
    """Weighted mean of station ``values`` (``station``, ...) per district.

    The weights are renormalised at every position (e.g. every day) over the stations whose
    value is present; where no weighted station has a value the result is NaN.
    """
    missing = sorted(set(weights.station.values) - set(values.station.values))
    if missing:
        raise KeyError(f"weights name stations without values: {missing}")
    values = values.sel(station=weights.station)
    present = values.notnull()
    total = xr.dot(weights, values.fillna(0.0), dim="station")
    norm = xr.dot(weights, present.astype(float), dim="station")
    result = (total / norm.where(norm > 0)).transpose("district", ...)
    result.attrs = dict(values.attrs)
    return result


def national_mean(values: xr.DataArray) -> xr.DataArray:
    """Mean over the stations that have a value, per position (KNMI's national average)."""
    result = values.mean("station", skipna=True)
    result.attrs = dict(values.attrs)
    return result


def feeding_stations(weights: xr.DataArray) -> dict[str, list[str]]:
    """The stations with a non-zero weight, per district."""
    return {
        str(district): [str(s) for s in row.station.values[row.values > 0]]
        for district, row in zip(weights.district.values, weights)
    }


def _in_rd_new(frame: gpd.GeoDataFrame, what: str, columns: list[str]) -> gpd.GeoDataFrame:
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise KeyError(f"{what}: expected column(s) {absent}; found {list(frame.columns)}")
    if frame.crs is None:
        raise ValueError(f"{what}: the GeoDataFrame has no CRS; expected EPSG:28992 (RD New)")
    return frame if frame.crs.to_epsg() == 28992 else frame.to_crs(RD_NEW)


def district_of_points(
    points: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, *, key: str, id_column: str = "district_id"
) -> pd.Series:
    """District id per point (index: the points' ``key`` column, e.g. ``well`` or ``sensor``),
    for points inside a district polygon; compared in EPSG:28992. A point on a shared border
    counts for the first district found."""
    if points.crs is None or districts.crs is None:
        raise ValueError(f"{key}s and districts need a CRS; expected EPSG:28992 (RD New)")
    joined = gpd.sjoin(
        points[[key, "geometry"]].to_crs(28992),
        districts[[id_column, "geometry"]].to_crs(28992),
        predicate="within",
        how="inner",
    ).drop_duplicates(key)
    return pd.Series(joined[id_column].astype(str).to_numpy(), index=joined[key].astype(str))
