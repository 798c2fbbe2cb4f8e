"""The national source from the river: the water the main system can pass to the regions,
as a function of the Rhine discharge at Lobith.

The Rhine enters the Netherlands at Lobith and splits over the Waal, the Nederrijn/Lek and the
IJssel; the IJssel feeds the IJsselmeer, and the IJsselmeer and the Lek/Amsterdam-Rijnkanaal feed
most regional inlets (Rijkswaterstaat, "Waterverdeling Rijn en Maas"). In a dry summer a part
of the discharge must stay in the rivers: for navigation and, above all, to hold the salt of
the sea back from the inlets of the western delta. What is above that minimum is shared: only a
part of it can reach the regional inlets, and the inlets together cannot take more than their
capacity. The model is that chain, one parameter per link:

    supply_m3_day = setup_share · min(max_regional_m3_s,
                                      regional_fraction · max(0, Q_lobith − minimum_flow_m3_s)) · 86 400

Q in m³/s (daily mean at Lobith); the result is m³/day, the unit of the allocation's
``supply_m3_day``. ``setup_share`` is the part of the national regional supply that belongs to
this setup (1 for a national setup; ``droogte init`` writes the setup's share of the area of
the 21 water boards for a smaller one).

The defaults (``PARAMETERS``) are assumptions of the right order of magnitude, not calibrated values: they say so
in ``SupplyParameter.source``, and a setup that keeps them is marked so in its outputs. The
national committee's public criteria (LCW: a threatening shortage when Lobith is expected below
about 1,400 m³/s; in summer it acts around 1,200 m³/s) are used by the escalation rules
(:mod:`models.restrictions.escalation`), not here.

Outlook: :func:`discharge_members` gives each past year's course of the discharge for the
coming weeks, scaled to today's value (each year's relative change applied to today's
discharge), so that a river that is low today stays low in every member and recovers only as
fast as it did in past years.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class SupplyParameter:
    """A documented parameter of the river supply model: unit, typical range, where it comes from."""

    default: float
    unit: str
    typical: tuple[float, float]
    source: str


#: The parameters of :class:`RiverSupplyModel`, with the documentation the setup file repeats.
PARAMETERS: dict[str, SupplyParameter] = {
    "minimum_flow_m3_s": SupplyParameter(
        200.0, "m3/s", (0.0, 800.0),
        "assumed: the part of the Lobith discharge that gives the regions nothing: the IJssel share of "
        "200 m3/s (about 50 m3/s) is what the IJsselmeer loses to its own evaporation in a dry summer "
        "(1,100 km2 x 4 mm/day); raise it where the rivers must keep more against salt intrusion"),
    "regional_fraction": SupplyParameter(
        0.24, "1", (0.1, 0.35),
        "assumed: the IJssel's share of Lobith at low flow (Driel weir closed: Waal about 2/3, IJssel about "
        "a quarter, Nederrijn the minimum); the IJssel fills the IJsselmeer, the main source of the regions"),
    "max_regional_m3_s": SupplyParameter(
        500.0, "m3/s", (250.0, 800.0),
        "assumed: all regional inlets from the main system together (IJsselmeer to the north and "
        "Noord-Holland, Lek and Hollandse IJssel to the west, river inlets of Rivierenland and the "
        "eastern canals: a few hundred m3/s)"),
    "setup_share": SupplyParameter(
        1.0, "1", (0.0, 1.0),
        "share of the national regional supply that belongs to this setup; 1 for the whole country, "
        "else written by 'droogte init' as the setup's share of the area of the 21 water boards"),
}


@dataclass(frozen=True)
class RiverSupplyModel:
    """Supply to the regional systems (m³/day) from the Lobith discharge (m³/s); see the module."""

    minimum_flow_m3_s: float = PARAMETERS["minimum_flow_m3_s"].default
    regional_fraction: float = PARAMETERS["regional_fraction"].default
    max_regional_m3_s: float = PARAMETERS["max_regional_m3_s"].default
    setup_share: float = PARAMETERS["setup_share"].default

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"{f.name}: must be a finite number >= 0, got {value!r}")
        for name in ("regional_fraction", "setup_share"):
            if getattr(self, name) > 1:
                raise ValueError(f"{name}: must be between 0 and 1, got {getattr(self, name)!r}")

    def supply_m3_day(self, discharge_m3_s):
        """Supply (m³/day) for a discharge at Lobith (m³/s): scalar, array or Series alike.
        A missing discharge gives a missing supply (the caller decides what that means)."""
        q = np.asarray(discharge_m3_s, dtype=float)
        regional = np.minimum(self.max_regional_m3_s,
                              self.regional_fraction * np.maximum(q - self.minimum_flow_m3_s, 0.0))
        out = self.setup_share * regional * SECONDS_PER_DAY
        out = np.where(np.isnan(q), np.nan, out)
        if isinstance(discharge_m3_s, pd.Series):
            return pd.Series(out, index=discharge_m3_s.index, name="supply_m3_day")
        return out if out.ndim else float(out)

    def assumed(self, given: set[str]) -> list[str]:
        """The parameters left at their defaults (not in ``given``): assumptions, to be shown."""
        return [f.name for f in fields(self) if f.name not in given]


def discharge_members(discharge_m3_s: pd.Series, *, start: pd.Timestamp, horizon_days: int,
                      years) -> dict[int, np.ndarray]:
    """Each past year's relative course of the Lobith discharge applied to today's value.

    ``discharge_m3_s``: daily series (m³/s) indexed by day; ``start``: the first outlook day
    (today + 1); today's discharge is the last value on or before ``start - 1 day``. For year Y
    the member is ``Q_today · Q_Y(d) / Q_Y(today's calendar day in Y)`` for the horizon's
    days d: the river keeps today's level and changes only as it did in Y, so a dry river stays
    dry (low flow persists; a wet year lifts it by its own ratio). Years whose window is
    incomplete are left out. Returns ``{year: array of horizon_days values in m³/s}``.
    """
    series = discharge_m3_s.dropna()
    today = start - pd.Timedelta(days=1)
    known = series.loc[:today]
    if known.empty:
        raise ValueError(f"discharge: no value on or before {today.date()} to start the outlook from")
    q_today = float(known.iloc[-1])
    out: dict[int, np.ndarray] = {}
    for year in years:
        try:
            base_day = today.replace(year=int(year))
        except ValueError:  # 29 February in a year without it
            base_day = pd.Timestamp(int(year), 2, 28)
        window = pd.date_range(base_day, periods=horizon_days + 1, freq="D")
        values = series.reindex(window).to_numpy()
        if np.isnan(values).any() or values[0] <= 0:
            continue
        out[int(year)] = q_today * values[1:] / values[0]
    return out
