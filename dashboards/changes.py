"""What changed between two issues of the published restrictions.

An *issue* is one publication: the ``restrictions.csv`` of a site version (its open data,
``docs/contracts.md`` section 7). The previous issue is read from the site that is live
before the switch, earlier ones from the site's own ``archive/<valid_from>/<issued_at>/``
folders: the publisher reads back what it published itself, never a raw input.

A district's *state* is its surface-water restriction plus whether the groundwater ban is in
force. A change is ``stricter`` (a higher level, or the groundwater ban added, and nothing
lighter), ``lighter`` (the reverse), or ``changed`` (one stricter, the other lighter).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dashboards.restriction_styles import BY_CODE

log = logging.getLogger(__name__)

STATE_COLUMNS = ("district_id", "name", "water_board", "restriction", "groundwater_ban", "valid_from",
                 "issued_at")
MAX_ARCHIVED_ISSUES = 120  # the feed looks back over at most this many archived issues


@dataclass(frozen=True)
class Change:
    """One district whose state differs from the issue before."""

    district_id: str
    name: str
    water_board: str
    restriction: str
    groundwater_ban: bool
    valid_from: dt.date
    was_restriction: str
    was_groundwater_ban: bool
    direction: str  # stricter | lighter | changed
    issued_at: dt.datetime  # the issue that first showed the new state


def read_issue(folder: Path) -> pd.DataFrame | None:
    """The district states of the issue published in ``folder``; ``None`` when there is none.

    An issue that cannot be read (a damaged or foreign file) is logged and treated as absent:
    the page then says it has nothing to compare with, rather than inventing changes.
    """
    path = Path(folder) / "restrictions.csv"
    if not path.is_file():
        return None
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        missing = [c for c in STATE_COLUMNS if c not in table.columns]
        if missing:
            raise ValueError(f"lacks column(s) {', '.join(missing)}")
        table["groundwater_ban"] = table["groundwater_ban"].map({"true": True, "false": False})
        if table["groundwater_ban"].isna().any():
            raise ValueError("column groundwater_ban: expected true or false")
        unknown = sorted(set(table["restriction"]) - set(BY_CODE))
        if unknown:
            raise ValueError(f"column restriction: unknown value(s) {unknown}")
        table["valid_from"] = [dt.date.fromisoformat(v) for v in table["valid_from"]]
        table["issued_at"] = [dt.datetime.fromisoformat(v) for v in table["issued_at"]]
    except (ValueError, OSError, pd.errors.ParserError) as error:
        log.warning("%s: cannot be read as an earlier issue (%s); changes are not shown against it", path, error)
        return None
    return table[list(STATE_COLUMNS)]


def direction(was: tuple[str, bool], now: tuple[str, bool]) -> str:
    """``stricter``, ``lighter``, ``changed`` or ``""`` (the same) from one state to the next."""
    if was == now:
        return ""
    if "unknown" in (was[0], now[0]):  # to or from an unknown state: neither stricter nor lighter
        return "changed"
    level = BY_CODE[now[0]].level - BY_CODE[was[0]].level
    ground = int(now[1]) - int(was[1])
    if level >= 0 and ground >= 0:
        return "stricter"
    if level <= 0 and ground <= 0:
        return "lighter"
    return "changed"


def compare_issues(previous: pd.DataFrame | None, current: pd.DataFrame,
                   issued_at: dt.datetime) -> list[Change]:
    """The districts of ``current`` whose state differs from ``previous``.

    With no previous issue, every district with a restriction or groundwater ban counts as a
    change from "no restriction" (the first issue announces all restrictions in force).
    A district new to the setup is compared with "no restriction".
    """
    before = {} if previous is None else {
        r.district_id: (r.restriction, bool(r.groundwater_ban)) for r in previous.itertuples(index=False)}
    changes = []
    for r in current.itertuples(index=False):
        now = (r.restriction, bool(r.groundwater_ban))
        was = before.get(r.district_id, ("none", False))
        way = direction(was, now)
        if way:
            changes.append(Change(district_id=r.district_id, name=r.name, water_board=r.water_board,
                                  restriction=now[0], groundwater_ban=now[1], valid_from=_day(r.valid_from),
                                  was_restriction=was[0], was_groundwater_ban=was[1], direction=way,
                                  issued_at=issued_at))
    return changes


def change_history(archive: Path, current: pd.DataFrame, issued_at: dt.datetime) -> list[Change]:
    """Every change over the archived issues and the current one, newest first.

    ``archive``: the site's ``archive/`` folder of earlier issues, one folder per issue
    (``archive/<valid_from>/<issued_at UTC stamp>/``, see ``dashboards.site.archive_name``),
    taken in the order they were issued; at most the last ``MAX_ARCHIVED_ISSUES``.
    """
    issues = [issue for issue in map(read_issue, sorted(p.parent for p in Path(archive).glob("*/*/restrictions.csv")))
              if issue is not None and len(issue)]
    issues.sort(key=lambda table: table["issued_at"].iloc[0])
    timeline = [(table, table["issued_at"].iloc[0]) for table in issues[-MAX_ARCHIVED_ISSUES:]]
    timeline.append((current, issued_at))
    history: list[Change] = []
    previous = None
    for table, when in timeline:
        history.extend(compare_issues(previous, table, when))
        previous = table
    history.sort(key=lambda c: (c.issued_at, c.district_id), reverse=True)
    return history


def _day(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
