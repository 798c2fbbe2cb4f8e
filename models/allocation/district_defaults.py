"""Documented default values of the district properties (docs/contracts.md section 3).

A new setup rarely knows all fourteen properties of every district on day one. Each property
here has a default with its unit, a typical range and where the number comes from, so that a
setup runs at once and every assumed value can be found and replaced. The defaults are
national averages of the right order of magnitude, not values of any particular district:
whatever is defaulted is listed per district in the property ``assumed`` and the published
pages say that they rest on assumed values.

Quantities that scale with the district are given per unit of area and multiplied by the
district's area A (m², EPSG:28992); the storage follows from the open water and the allowed
level range. Sources:

* Land use: CBS Bodemgebruik / Statline "Oppervlakte; bodemgebruik" (inland water about 7 %
  of the land area outside the large lakes; agricultural land about 54 %, of which irrigated
  in dry years roughly a third, half of it from surface water; glasshouse, bulbs, fruit and tree nurseries 2-3 % of the land),
  Alterra/WUR "Veengebieden in Nederland" (peat soils about 8 % of the land), Natura 2000 and
  the Natuurnetwerk Nederland (10-15 %, of which roughly a third wet nature fed by surface water).
* Water: drinking water from surface water about 1.2 million m³/day for 41,500 km² of land
  (Vewin, Drinkwaterstatistieken: 1.1 billion m³/year, ~40 % from surface water) → 3e-5 m/day;
  water-board inlet capacities typically 1-3 mm/day of the area they supply (the water boards'
  water-supply plans, "wateraanvoer" in the Deltaprogramma Zoetwater); the allowed summer
  level range of ditches 0.2-0.5 m (peilbesluiten).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class PropertyDefault:
    """How a district property is defaulted: ``value`` per ``per`` ("district", or "m2" of
    area, or "open water storage"), its unit, typical range (in the property's own unit, or
    per m² where ``per == "m2"``) and where the number comes from."""

    value: float
    unit: str
    typical: tuple[float, float]
    per: str
    source: str


DEFAULTS: dict[str, PropertyDefault] = {
    "open_water_share": PropertyDefault(0.07, "1", (0.02, 0.2), "district",
                                        "CBS land use: inland water about 7 % of the land outside the large lakes"),
    "irrigated_share": PropertyDefault(0.08, "1", (0.0, 0.5), "district",
                                       "CBS: agriculture about 54 % of the land, a third of it irrigated in dry years, "
                                       "about half of that from surface water (the rest from groundwater)"),
    "high_value_share": PropertyDefault(0.025, "1", (0.0, 0.3), "district",
                                        "CBS: glasshouse, bulbs, fruit and nurseries 2-3 % of the land"),
    "peat_share": PropertyDefault(0.08, "1", (0.0, 0.8), "district",
                                  "WUR: peat soils about 8 % of the land (far more in the west and north)"),
    "nature_share": PropertyDefault(0.05, "1", (0.0, 0.4), "district",
                                    "Natuurnetwerk Nederland covers 10-15 % of the land; about a third of it "
                                    "is wet nature that depends on surface-water supply"),
    "inlet_capacity_m3_day": PropertyDefault(0.001, "m3/day", (0.0, 0.003), "m2",
                                             "1 mm/day of the district's area: inlets of supplied polders are sized "
                                             "at 1-3 mm/day, the higher sandy soils have none"),
    "storage_max_m3": PropertyDefault(0.3, "m3", (0.1, 0.6), "open water storage",
                                      "open water area x 0.3 m, the allowed summer level range (peilbesluiten: 0.2-0.5 m)"),
    "storage_initial_m3": PropertyDefault(0.8, "m3", (0.5, 1.0), "share of storage_max_m3",
                                          "80 % of storage_max_m3 at the start of the season (levels held high in spring)"),
    "dike_flushing_m3_day": PropertyDefault(2e-6, "m3/day", (0.0, 1e-5), "m2",
                                            "2 m3/day per km2 for peat dikes and quays; small next to other uses"),
    "drinking_water_m3_day": PropertyDefault(3e-5, "m3/day", (0.0, 1e-4), "m2",
                                             "Vewin: ~1.2 million m3/day from surface water over 41,500 km2"),
    "cooling_water_m3_day": PropertyDefault(0.0, "m3/day", (0.0, 1e6), "district",
                                            "0: power plants take cooling water from the main rivers, not the regional system"),
    "process_water_m3_day": PropertyDefault(5e-6, "m3/day", (0.0, 5e-5), "m2",
                                            "5 m3/day per km2: industry taking regional surface water, order of magnitude"),
    # Water levels belong to each district's own level decision (peilbesluit): no national
    # default makes sense. Unknown (NaN) keeps the surface-water level rule from starting or
    # lifting a restriction in that district until the board gives them.
    "target_level_m_nap": PropertyDefault(float("nan"), "m NAP", (-7.0, 50.0), "district",
                                          "unknown until given: the district's peilbesluit (summer target level)"),
    "critical_level_m_nap": PropertyDefault(float("nan"), "m NAP", (-7.0, 50.0), "district",
                                            "unknown until given: the level below which withdrawal must stop"),
}

#: The board inlet capacity, as a share of the sum of its districts' inlet capacities: the
#: board's inlets from the main system are smaller than the sum of what its districts could
#: take at once (not every district draws at full capacity at the same time).
BOARD_INLET_SHARE = PropertyDefault(0.8, "1", (0.5, 1.0), "sum of district inlet capacities",
                                    "assumed: 80 % of the sum of the districts' inlet capacities")


def fill_defaults(districts: pd.DataFrame, area_m2) -> tuple[pd.DataFrame, pd.Series]:
    """The districts with every property of :data:`DEFAULTS` present and filled.

    ``area_m2``: the districts' areas (m², EPSG:28992). Values given by the user (present and
    not missing) are kept; the others get their default. Returns ``(districts, assumed)``,
    ``assumed`` listing per district the properties that were defaulted (comma-separated,
    ``""`` when none), which callers store as the property ``assumed``.
    """
    out = districts.copy()
    area = np.asarray(area_m2, dtype=float)
    assumed = [[] for _ in range(len(out))]
    order = [p for p in DEFAULTS if p not in ("storage_max_m3", "storage_initial_m3")]
    order += ["storage_max_m3", "storage_initial_m3"]  # these follow from the open water share
    for name in order:
        spec = DEFAULTS[name]
        given = (pd.to_numeric(out[name], errors="coerce").to_numpy(dtype=float) if name in out.columns
                 else np.full(len(out), np.nan))
        if name == "storage_max_m3":
            default = out["open_water_share"].to_numpy(dtype=float) * area * spec.value
        elif name == "storage_initial_m3":
            default = out["storage_max_m3"].to_numpy(dtype=float) * spec.value
        elif spec.per == "m2":
            default = area * spec.value
        else:
            default = np.full(len(out), spec.value)
        missing = np.isnan(given)
        out[name] = np.where(missing, default, given)
        for i in np.flatnonzero(missing):
            assumed[i].append(name)
    return out, pd.Series([",".join(a) for a in assumed], index=out.index, name="assumed")


def describe_defaults() -> list[str]:
    """One line per property: name, default, unit, typical range, source (for the setup file)."""
    lines = []
    for name, spec in DEFAULTS.items():
        per = "" if spec.per == "district" else f" per {spec.per}" if spec.per == "m2" else f" x {spec.per}"
        value = "unknown" if np.isnan(spec.value) else f"{spec.value:g}{per}"
        lines.append(f"{name}: {value} ({spec.unit}; typical {spec.typical[0]:g}-{spec.typical[1]:g}); "
                     f"{spec.source}")
    return lines
