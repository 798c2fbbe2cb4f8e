"""Why a category is short: what limits it, where, in words (Dutch and English).

The allocation keeps, per district, day and use, the code of what kept a short use from its
demand (``limit``, :data:`models.allocation.network.LIMITS`): the national **source** had no
water left for that priority, the **water board's inlets** from the national system were
full, the **district's inlet** was full, or the district has no inlet and its **own storage**
ran out. Here those codes are summed per water board and category of the verdringingsreeks
on one day, with the districts where each applies, and put into sentences.

A priority order that looks broken needs its reason most: a category 1 or 2 use short while
category 4 is (partly) served in the same water board. The verdringingsreeks orders the
*shared* water; it cannot move water that cannot reach a district. So category 4 is served
where an inlet still lets water in (or the district's own storage holds), while a higher
category is short in districts whose inlet is full or that have no inlet at all.
:func:`shortage_reasons` says so where it happens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from models.allocation.network import BOARD_INLET, DISTRICT_INLET, OWN_STORAGE, SOURCE

#: What each limit means, in Dutch and English.
LIMIT_WORDS = {
    SOURCE: ("de bron (het hoofdwatersysteem) had geen water meer voor deze categorie",
             "the source (the national main system) had no water left for this category"),
    BOARD_INLET: ("de inlaten van het waterschap uit het hoofdwatersysteem zaten vol",
                  "the water board's inlets from the national system were at capacity"),
    DISTRICT_INLET: ("de inlaat van het gebied zat vol", "the district's inlet was at capacity"),
    OWN_STORAGE: ("het gebied heeft geen inlaat en zijn eigen voorraad was op",
                  "the district has no inlet and its own storage had run out"),
}
SHORT_TOLERANCE = 0.01  # a category counts as short above 1 % of its demand (rounding aside)
PRIORITY = ("1a", "1b", "1c", "2a", "2b")


@dataclass(frozen=True)
class ShortageReason:
    """One water board's category short on a day: how much, what limits it and where."""

    water_board: str
    category: str
    shortage_m3_day: float
    demand_m3_day: float
    by_limit: dict[int, list[str]]  # limit code → names of the districts it limits, largest shortage first
    share_by_limit: dict[int, float]  # limit code → share of the category's shortage (0–1)
    text_nl: str
    text_en: str

    @property
    def share(self) -> float:
        return self.shortage_m3_day / self.demand_m3_day if self.demand_m3_day > 0 else 0.0


def _names(names: list[str], lang: str, most: int = 4) -> str:
    shown = names[:most]
    rest = len(names) - len(shown)
    text = ", ".join(shown)
    if rest:
        text += f" en {rest} andere" if lang == "nl" else f" and {rest} more"
    return text


def shortage_reasons(allocation: xr.Dataset, day, names: pd.Series | None = None) -> list[ShortageReason]:
    """Every (water board, category) short on ``day``, with what limits it, where, and why.

    ``allocation``: the Dataset of docs/contracts.md section 5 (``demand``, ``shortage``,
    ``limit`` on (time, district, use), ``category`` on use, ``water_board`` on district);
    ``names``: display name per district id (the id where absent). Sorted by water board and
    the verdringingsreeks.
    """
    at = allocation[["demand", "shortage", "limit"]].sel(time=pd.Timestamp(day))
    district_ids = at["district"].values.astype(str)
    boards = at["water_board"].values.astype(str)
    categories = at["category"].values.astype(str)
    shortage = at["shortage"].transpose("district", "use").values
    demand = at["demand"].transpose("district", "use").values
    limit = at["limit"].transpose("district", "use").values
    label = {d: (str(names.get(d, d)) if names is not None else d) for d in district_ids}
    order = list(dict.fromkeys(categories))
    out = []
    for board in sorted(set(boards)):
        rows = boards == board
        served_4 = _served(demand[rows][:, categories == "4"], shortage[rows][:, categories == "4"])
        for category in order:
            cols = categories == category
            short = shortage[rows][:, cols]
            asked = demand[rows][:, cols]
            total_short, total_demand = float(short.sum()), float(asked.sum())
            if total_short <= SHORT_TOLERANCE * total_demand or total_short <= 0:
                continue
            codes = limit[rows][:, cols]
            by_limit: dict[int, list[tuple[float, str]]] = {}
            amounts: dict[int, float] = {}
            for i, district in enumerate(district_ids[rows]):
                for j in range(short.shape[1]):
                    if short[i, j] > 0:
                        code = int(codes[i, j])
                        amounts[code] = amounts.get(code, 0.0) + float(short[i, j])
                        by_limit.setdefault(code, [])
                        if district not in [d for _, d in by_limit[code]]:
                            by_limit[code].append((float(short[i].sum()), district))
            named = {code: [label[d] for _, d in sorted(items, key=lambda t: -t[0])] for code, items in by_limit.items()}
            shares = {code: amount / total_short for code, amount in amounts.items()}
            text_nl, text_en = _words(category, total_short, total_demand, named, shares, served_4)
            out.append(ShortageReason(board, category, total_short, total_demand, named, shares, text_nl, text_en))
    return out


def _served(demand: np.ndarray, shortage: np.ndarray) -> float:
    """Share (0–1) of category-4 demand that is met."""
    total = float(demand.sum())
    return 1.0 - float(shortage.sum()) / total if total > 0 else 0.0


def _words(category: str, short: float, demand: float, named: dict[int, list[str]], shares: dict[int, float],
           served_4: float) -> tuple[str, str]:
    pct_nl = f"{100 * short / demand:.0f}".replace(".", ",")
    pct_en = f"{100 * short / demand:.0f}"
    parts_nl, parts_en = [], []
    for code in sorted(shares, key=lambda c: -shares[c]):
        where = named[code]
        nl, en = LIMIT_WORDS.get(code, ("onbekend", "unknown"))
        share = f"{100 * shares[code]:.0f}"
        if code in (DISTRICT_INLET, OWN_STORAGE):
            parts_nl.append(f"{nl} ({share} % van het tekort; in {_names(where, 'nl')})")
            parts_en.append(f"{en} ({share} % of the shortage; in {_names(where, 'en')})")
        else:
            parts_nl.append(f"{nl} ({share} % van het tekort; {len(where)} gebied(en))")
            parts_en.append(f"{en} ({share} % of the shortage; {len(where)} district(s))")
    text_nl = f"Categorie {category}: {pct_nl} % van de vraag niet geleverd. Oorzaak: " + "; ".join(parts_nl) + "."
    text_en = f"Category {category}: {pct_en} % of demand not supplied. Cause: " + "; ".join(parts_en) + "."
    if category in PRIORITY and served_4 > 0.005:
        local = any(code in (DISTRICT_INLET, OWN_STORAGE) for code in shares)
        served = f"{100 * served_4:.0f}"
        if local:
            text_nl += (f" Categorie 4 krijgt in dit waterschap toch {served} % van zijn vraag: de verdringingsreeks "
                        "verdeelt het water dat een gebied kan bereiken. Gebieden met ruimte in hun inlaat of met "
                        "eigen voorraad bedienen hun categorie 4, maar dat water kan de gebieden hierboven, met een "
                        "volle of zonder inlaat, niet bereiken.")
            text_en += (f" Category 4 still gets {served} % of its demand in this water board: the priority order "
                        "shares the water that can reach a district. Districts with room in their inlet or with "
                        "their own storage serve their category 4, but that water cannot reach the districts named "
                        "above, whose inlet is full or who have none.")
        else:
            text_nl += (f" Categorie 4 krijgt in dit waterschap nog {served} % van zijn vraag, uit de eigen voorraad "
                        "van gebieden: dat water blijft in het gebied waar het staat.")
            text_en += (f" Category 4 still gets {served} % of its demand in this water board, from districts' own "
                        "storage: that water stays in the district that holds it.")
    return text_nl, text_en
