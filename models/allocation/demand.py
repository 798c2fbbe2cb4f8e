"""Water demand and local water per district and day, from the weather and district properties.

Inputs are the district properties of ``districts.geojson`` (docs/contracts.md section 3) and
the weather per district that the indicators stage delivers: an xarray Dataset with
``precipitation_mm`` P and ``evaporation_mm`` E (Makkink reference evaporation), dims
``time`` (UT days) and ``district``, mm/day. A is the district's area in m² (from the geometry
in EPSG:28992), ``/1000`` turns mm over m² into m³.

Local water (m³/day)::

    local_inflow     = max(P - E, 0)/1000 · A · (1 - open_water_share) · RUNOFF_SHARE
                       + P/1000 · A · open_water_share
    open_water_evap  = E_open/1000 · A · open_water_share,  E_open = OPEN_WATER_FACTOR · E

Only the surplus of rain over evaporation on land reaches the ditches, and of that only the
share that runs off quickly (RUNOFF_SHARE, the rest recharges the soil); rain on open water
is all inflow. Open water evaporates more than the Makkink reference (grass); 1.25 is the
usual summer factor for open water.

Demand per use (m³/day)::

    dike_stability        = dike_flushing_m3_day                      (1a, constant)
    peat                  = max(E - P, 0)/1000 · A · peat_share        (1b)
    nature_soil           = max(E - P, 0)/1000 · A · nature_share      (1c)
    drinking_water        = drinking_water_m3_day                     (2a, constant)
    cooling_water         = cooling_water_m3_day                      (2b, constant)
    high_value_irrigation = w(D) · max(E - P, 0)/1000 · A · high_value_share          (3)
    process_water         = process_water_m3_day                      (3, constant)
    agriculture           = w(D) · max(E - P, 0)/1000 · A
                            · max(irrigated_share - high_value_share, 0)               (4)
    industry, shipping, recreation, nature_other = <use>_m3_day       (4, constant, optional)

Peat and soil-bound nature need the evaporation surplus replaced to hold the water levels
(against subsidence and drying out). D is the running precipitation deficit in mm,
``D_t = max(D_{t-1} + E_t - P_t, 0)`` (KNMI's method, started from ``deficit_initial_mm``),
and ``w(D) = min(D / IRRIGATION_FULL_DEFICIT_MM, 1)`` the share of the irrigable area that is
being irrigated: farmers start as the soil dries and all irrigate from a deficit of 100 mm.
The capital-intensive crops are part of the irrigable area, so agriculture irrigates the rest.
The category-4 constants are optional district properties (0 where absent).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from models.jit import kernel
from models.allocation.verdringingsreeks import PriorityOrder

RUNOFF_SHARE = 0.3
OPEN_WATER_FACTOR = 1.25
IRRIGATION_FULL_DEFICIT_MM = 100.0

SHARES = ("open_water_share", "irrigated_share", "high_value_share", "peat_share", "nature_share")
CONSTANT_DEMANDS = {
    "dike_stability": "dike_flushing_m3_day",
    "drinking_water": "drinking_water_m3_day",
    "cooling_water": "cooling_water_m3_day",
    "process_water": "process_water_m3_day",
}
OPTIONAL_DEMANDS = {
    "industry": "industry_m3_day",
    "shipping": "shipping_m3_day",
    "recreation": "recreation_m3_day",
    "nature_other": "nature_other_m3_day",
}
REQUIRED = (
    "district_id",
    "water_board",
    "inlet_capacity_m3_day",
    "storage_max_m3",
    "storage_initial_m3",
    *SHARES,
    *CONSTANT_DEMANDS.values(),
)


def district_table(districts: pd.DataFrame) -> pd.DataFrame:
    """The district properties the allocation needs, indexed by ``district_id``, validated.

    ``districts`` is the GeoDataFrame of ``districts.geojson`` (area from the geometry, which
    must be in EPSG:28992) or a plain DataFrame with an ``area_m2`` column.
    """
    missing = [name for name in REQUIRED if name not in districts.columns]
    if missing:
        raise ValueError(f"districts: missing properties {missing}; required: {list(REQUIRED)}")
    table = pd.DataFrame(index=pd.Index(districts["district_id"].astype(str), name="district"))
    if "area_m2" in districts.columns:
        table["area_m2"] = np.asarray(districts["area_m2"], dtype=float)
    elif "geometry" in districts.columns and hasattr(districts, "crs"):
        if districts.crs is None or districts.crs.to_epsg() != 28992:
            raise ValueError(f"districts: geometry must be in EPSG:28992 (metres), got {districts.crs}")
        table["area_m2"] = np.asarray(districts.geometry.area, dtype=float)
    else:
        raise ValueError("districts: need a geometry in EPSG:28992 or an 'area_m2' column")
    if table.index.has_duplicates:
        raise ValueError(f"districts: duplicate district_id {sorted(table.index[table.index.duplicated()])}")
    table["water_board"] = districts["water_board"].astype(str).to_numpy()
    numeric = [n for n in REQUIRED if n not in ("district_id", "water_board")]
    numeric += [n for n in OPTIONAL_DEMANDS.values() if n in districts.columns]
    for name in numeric:
        values = np.asarray(districts[name], dtype=float)
        bad = ~np.isfinite(values) | (values < 0)
        if name in SHARES:
            bad |= values > 1
        if bad.any():
            where = list(table.index[bad][:5])
            expected = "a share between 0 and 1" if name in SHARES else "a finite number >= 0"
            raise ValueError(f"districts: {name} must be {expected}; bad in districts {where}")
        table[name] = values
    for name in OPTIONAL_DEMANDS.values():
        if name not in table:
            table[name] = 0.0
    return table


def weather_arrays(weather: xr.Dataset, table: pd.DataFrame) -> tuple[xr.DataArray, xr.DataArray]:
    """P and E (time, district), mm/day, in the order of ``table``; checked complete."""
    for name in ("precipitation_mm", "evaporation_mm"):
        if name not in weather:
            raise ValueError(f"weather: missing variable {name!r} (mm/day, dims time, district)")
    # Positions by one indexer instead of label lookups (``sel`` with 10,000 labels took 0.4 s).
    position = pd.Index(np.asarray(weather["district"]).astype(str)).get_indexer(table.index)
    if (position < 0).any():
        raise ValueError(f"weather: no data for districts {sorted(table.index[position < 0].tolist())[:5]}")
    p = weather["precipitation_mm"].transpose("time", "district").isel(district=position)
    e = weather["evaporation_mm"].transpose("time", "district").isel(district=position)
    if bool(p.isnull().any()) or bool(e.isnull().any()):
        raise ValueError("weather: precipitation_mm/evaporation_mm contain NaN; fill gaps first")
    return p, e


def _m3(values: np.ndarray, weather: xr.Dataset, table: pd.DataFrame, long_name: str) -> xr.DataArray:
    return xr.DataArray(
        values,
        dims=("time", "district"),
        coords={"time": weather["time"].values, "district": list(table.index)},
        attrs={"units": "m3/day", "long_name": long_name},
    )


def check_weather(precipitation_mm: np.ndarray, evaporation_mm: np.ndarray) -> None:
    """P and E (mm/day) finite and >= 0: then so are the demand and local water made of them
    (the district table's values are, :func:`district_table`), and the allocation need not
    check those again day by day."""
    for name, values in (("precipitation_mm", precipitation_mm), ("evaporation_mm", evaporation_mm)):
        # NaN makes the minimum NaN; a sum of values >= 0 is infinite only if one of them is.
        if values.size and not (values.min() >= 0 and np.isfinite(values.sum())):
            raise ValueError(f"{name} must be finite and >= 0 (mm/day)")


def running_deficit(precipitation_mm: np.ndarray, evaporation_mm: np.ndarray, initial_mm=0.0) -> np.ndarray:
    """Running potential precipitation deficit D (mm), ``D_t = max(D_{t-1} + E_t - P_t, 0)``."""
    p = np.asarray(precipitation_mm, dtype=float)
    deficit = np.empty(p.shape)
    d = np.broadcast_to(np.asarray(initial_mm, dtype=float), deficit.shape[1:]).copy()
    if p.ndim == 2:
        _running_deficit_days(p, np.asarray(evaporation_mm, dtype=float), d, deficit)
        return deficit
    for t in range(deficit.shape[0]):
        d = np.maximum(d + evaporation_mm[t] - precipitation_mm[t], 0.0)
        deficit[t] = d
    return deficit


@kernel
def _running_deficit_days(precipitation_mm, evaporation_mm, deficit_mm, out):
    """:func:`running_deficit` of (time, district) arrays, compiled: numpy's loop over the days
    took about 0.1 s for a season of 10,000 districts. ``x if x >= 0 or x is NaN else 0`` is
    how ``np.maximum(x, 0.0)`` decides, so the same bits (and NaN stays NaN)."""
    n_time, n = precipitation_mm.shape
    for t in range(n_time):
        for i in range(n):
            x = deficit_mm[i] + evaporation_mm[t, i] - precipitation_mm[t, i]
            deficit_mm[i] = x if (x >= 0.0 or np.isnan(x)) else 0.0
            out[t, i] = deficit_mm[i]


def local_water_arrays(precipitation_mm, evaporation_mm, table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Local inflow and potential open-water evaporation (m³/day) from P and E (time, district), mm/day."""
    p, e = precipitation_mm, evaporation_mm
    area = table["area_m2"].to_numpy()
    ow = table["open_water_share"].to_numpy()
    inflow = (np.maximum(p - e, 0.0) * (1 - ow) * RUNOFF_SHARE + p * ow) * area / 1000.0
    evaporation = OPEN_WATER_FACTOR * e * ow * area / 1000.0
    return inflow, evaporation


def local_water(weather: xr.Dataset, table: pd.DataFrame) -> tuple[xr.DataArray, xr.DataArray]:
    """Local inflow and potential open-water evaporation per district and day, m³/day."""
    p, e = weather_arrays(weather, table)
    inflow, evaporation = local_water_arrays(p.values, e.values, table)
    return (
        _m3(inflow, weather, table, "local inflow (runoff and rain on open water)"),
        _m3(evaporation, weather, table, "potential open-water evaporation"),
    )


_CONSTANT, _WEATHER, _IRRIGATION = range(3)  # how a use's demand follows the weather


@kernel
def _demand_days(precipitation_mm, evaporation_mm, deficit_mm, kind, coefficient, area_m2, out):
    """The formulas above, day by day; ``coefficient`` (use, district) is the share or the constant."""
    n_time, n_district = precipitation_mm.shape
    for t in range(n_time):
        for i in range(n_district):
            surplus_mm = max(evaporation_mm[t, i] - precipitation_mm[t, i], 0.0)
            irrigating = min(deficit_mm[t, i] / IRRIGATION_FULL_DEFICIT_MM, 1.0)
            for u in range(len(kind)):
                c = coefficient[u, i]
                if kind[u] == _CONSTANT:
                    out[t, i, u] = c
                elif kind[u] == _WEATHER:
                    out[t, i, u] = surplus_mm * c * area_m2[i] / 1000.0
                else:  # only the share of farmers already irrigating
                    out[t, i, u] = irrigating * surplus_mm * c * area_m2[i] / 1000.0


@kernel
def _inputs_days(precipitation_mm, evaporation_mm, column_of, first, deficit_mm, kind, coefficient, area_m2,
                 open_water_share, constants_written, demand, local_inflow, open_water_evaporation):
    """Demand, local inflow and potential open-water evaporation (m³/day) of the days
    ``first, first + 1, ...`` (as many as ``demand`` has) from P and E per weather column
    (time, column; mm/day), district i reading column ``column_of[i]``; ``deficit_mm``
    (district,) is the running deficit before the first day and is carried on in place.

    The same float operations in the same order as :func:`running_deficit`,
    :func:`local_water_arrays` and :func:`_demand_days`, so the same bits: written by hand
    because one pass over a few days in cache replaces the (time, district) arrays of spread
    weather, deficit and local water that numpy would make for a whole horizon (an outlook
    member is 183 days × 10,000 districts). ``coefficient`` is (district, use) here. With
    ``constants_written`` the constant uses are not written: ``demand`` already holds them (a
    buffer reused day after day; 8 of the 12 uses of the default order are constant)."""
    n_days, n_district, n_use = demand.shape
    for t in range(n_days):
        for i in range(n_district):
            column = column_of[i]
            p = precipitation_mm[first + t, column]
            e = evaporation_mm[first + t, column]
            d = max(deficit_mm[i] + e - p, 0.0)
            deficit_mm[i] = d
            ow = open_water_share[i]
            a = area_m2[i]
            local_inflow[t, i] = (max(p - e, 0.0) * (1 - ow) * RUNOFF_SHARE + p * ow) * a / 1000.0
            open_water_evaporation[t, i] = OPEN_WATER_FACTOR * e * ow * a / 1000.0
            surplus_mm = max(e - p, 0.0)
            irrigating = min(d / IRRIGATION_FULL_DEFICIT_MM, 1.0)
            for u in range(n_use):
                c = coefficient[i, u]
                if kind[u] == _CONSTANT:
                    if not constants_written:
                        demand[t, i, u] = c
                elif kind[u] == _WEATHER:
                    demand[t, i, u] = surplus_mm * c * a / 1000.0
                else:
                    demand[t, i, u] = irrigating * surplus_mm * c * a / 1000.0


class DemandModel:
    """The demand formulas above for one set of districts and one priority order.

    Built once from the district table; :meth:`demand` then turns the weather of any days
    into demand without touching pandas, so a long horizon can be computed a few days at a
    time (the running deficit of those days comes from :func:`running_deficit`);
    :meth:`inputs` gives a few days' demand and local water straight from the weather
    columns (stations) with the deficit carried along.
    """

    def __init__(self, table: pd.DataFrame, order: PriorityOrder):
        def column(name: str) -> np.ndarray:
            return table[name].to_numpy(float)

        weather = {"peat": column("peat_share"), "nature_soil": column("nature_share")}
        irrigation = {
            "high_value_irrigation": column("high_value_share"),
            "agriculture": np.maximum(column("irrigated_share") - column("high_value_share"), 0.0),
        }
        constants = CONSTANT_DEMANDS | OPTIONAL_DEMANDS
        kind, coefficient = [], []
        for use in order:
            if use in weather:
                kind.append(_WEATHER)
                coefficient.append(weather[use])
            elif use in irrigation:
                kind.append(_IRRIGATION)
                coefficient.append(irrigation[use])
            else:
                kind.append(_CONSTANT)
                coefficient.append(column(constants[use]))
        self.table, self.order = table, order  # what it was built from (a caller may reuse it)
        self.area_m2 = column("area_m2")
        self.open_water_share = column("open_water_share")
        self.kind = np.array(kind, np.int64)
        self.coefficient = np.stack(coefficient)  # (use, district)
        self.coefficient_by_district = np.ascontiguousarray(self.coefficient.T)  # (district, use)

    def inputs(self, precipitation_mm, evaporation_mm, column_of, first: int, deficit_mm, demand, local_inflow,
               open_water_evaporation, *, constants_written: bool = False) -> None:
        """Demand (days, district, use), m³/day, local inflow and potential open-water
        evaporation (days, district), m³/day, written into the given arrays for the days from
        ``first`` of P and E (time, column), mm/day, district i on column ``column_of[i]``
        (intp); ``deficit_mm`` (district,) the running deficit before that day, mm, carried on
        in place. The caller checks P and E (finite, >= 0) once for the whole horizon: the
        results are then finite and >= 0 as the allocation requires (the table's values are,
        :func:`district_table`). ``constants_written``: ``demand`` holds this model's constant
        uses from an earlier call; they are not written again."""
        _inputs_days(precipitation_mm, evaporation_mm, column_of, first, deficit_mm, self.kind,
                     self.coefficient_by_district, self.area_m2, self.open_water_share, constants_written, demand,
                     local_inflow, open_water_evaporation)

    def demand(self, precipitation_mm, evaporation_mm, deficit_mm, *, out=None) -> np.ndarray:
        """Demand (time, district, use in priority order), m³/day, from P, E and the running
        deficit D (time, district), mm/day and mm; written into ``out`` when given."""
        p, e, d = (np.ascontiguousarray(x, dtype=float) for x in (precipitation_mm, evaporation_mm, deficit_mm))
        if out is None or out.shape != p.shape + (len(self.kind),):
            out = np.empty(p.shape + (len(self.kind),))
        _demand_days(p, e, d, self.kind, self.coefficient, self.area_m2, out)
        return out


def water_demand(
    weather: xr.Dataset, table: pd.DataFrame, order: PriorityOrder, *, deficit_initial_mm=0.0
) -> xr.DataArray:
    """Demand per district, day and use (``time``, ``district``, ``use`` in priority order), m³/day."""
    p, e = weather_arrays(weather, table)
    p, e = p.values, e.values
    demand = DemandModel(table, order).demand(p, e, running_deficit(p, e, deficit_initial_mm))
    return xr.DataArray(
        demand,
        dims=("time", "district", "use"),
        coords={
            "time": weather["time"].values,
            "district": list(table.index),
            "use": list(order.uses),
            "category": ("use", list(order.categories)),
        },
        attrs={"units": "m3/day", "long_name": "water demand"},
    )
