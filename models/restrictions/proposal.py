"""What the rules propose for a day: the restrictions in force per district, and how that
differs from what is published (the changes an analyst approves)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd


@dataclass
class Proposal:
    """What the rules propose for a day, and how it differs from what is published."""

    day: dt.date
    decisions: pd.DataFrame  # one row per district: the restrictions in force on ``day``
    changes: list[dict] = field(default_factory=list)
    escalation: pd.DataFrame | None = None
    computed_until: dt.date | None = None  # the data day the rules ran to (pipelines/late_data.py); None: ``day``

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def decisions_on(log: pd.DataFrame, day: dt.date, districts: gpd.GeoDataFrame) -> pd.DataFrame:
    """One row per district: its surface-water level and groundwater ban in force on ``day``,
    from the current records of the decision log."""
    stamp = pd.Timestamp(day)
    valid = log[(log["valid_from"] <= stamp) & (log["valid_until"].isna() | (log["valid_until"] >= stamp))]
    surface = valid[valid["restriction"] != "groundwater_ban"].drop_duplicates("district_id", keep="last")
    ground = valid[valid["restriction"] == "groundwater_ban"].drop_duplicates("district_id", keep="last")
    base = pd.DataFrame(districts[["district_id", "name", "water_board"]])
    out = base.merge(surface.drop(columns=["water_board"]), on="district_id", how="left")
    out["restriction"] = out["restriction"].fillna("none")
    out["groundwater_ban"] = out["district_id"].isin(ground["district_id"])
    gw = ground.set_index("district_id")
    for column in ("reason_nl", "reason_en", "meaning_nl", "meaning_en", "exemptions_nl", "exemptions_en",
                   "valid_from", "rule"):
        out[f"groundwater_{column}"] = out["district_id"].map(gw[column]) if len(gw) else pd.NA
    return out


def compare(published: pd.DataFrame | None, proposed: pd.DataFrame) -> list[dict]:
    """The districts whose restriction or groundwater ban would change by publishing ``proposed``."""
    before = ({} if published is None else
              {r["district_id"]: (r["restriction"], bool(r["groundwater_ban"])) for r in published.to_dict("records")})
    changes = []
    for r in proposed.to_dict("records"):
        now = (r["restriction"], bool(r["groundwater_ban"]))
        was = before.get(r["district_id"], ("none", False))
        if now != was:
            changes.append({"district_id": r["district_id"], "name": r["name"], "water_board": r["water_board"],
                            "was": _describe(was), "becomes": _describe(now)})
    return changes


def _describe(state: tuple[str, bool]) -> str:
    restriction, groundwater = state
    return restriction + (" + groundwater_ban" if groundwater else "")
