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

import numpy as np
import pandas as pd

from dashboards.issue_cache import IssueCache
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


def read_issue(folder: Path, *, cache: IssueCache | None = None) -> pd.DataFrame | None:
    """The district states of the issue published in ``folder``; ``None`` when there is none.

    An issue that cannot be read (a damaged or foreign file) is logged and treated as absent:
    the page then says it has nothing to compare with, rather than inventing changes.
    ``cache``: where the state columns of issues read before are kept
    (``dashboards.issue_cache``); they are checked as if read from the CSV.
    """
    states = _read_states(Path(folder), cache)
    return None if states is None else pd.DataFrame(states, columns=list(STATE_COLUMNS))


def _read_states(folder: Path, cache: IssueCache | None) -> dict[str, list] | None:
    """:func:`read_issue` as columns of plain values (name: list). The history compares about a
    hundred issues a run; a DataFrame's overhead per column was most of its time at a board's
    size, so it works on lists."""
    path = folder / "restrictions.csv"
    if not path.is_file():
        return None
    try:
        raw = cache.read(path) if cache is not None else None
        cached = raw is not None
        if not cached:
            table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8",
                                usecols=lambda column: column in STATE_COLUMNS)
            raw = {column: table[column].tolist() for column in table.columns}
        missing = [c for c in STATE_COLUMNS if c not in raw]
        if missing:
            raise ValueError(f"lacks column(s) {', '.join(missing)}")
        states = {column: raw[column] for column in STATE_COLUMNS}
        ban = {"true": True, "false": False}
        if not set(states["groundwater_ban"]) <= set(ban):
            raise ValueError("column groundwater_ban: expected true or false")
        states["groundwater_ban"] = [ban[v] for v in states["groundwater_ban"]]
        unknown = sorted(set(states["restriction"]) - set(BY_CODE))
        if unknown:
            raise ValueError(f"column restriction: unknown value(s) {unknown}")
        states["valid_from"] = _parsed(states["valid_from"], dt.date.fromisoformat)
        states["issued_at"] = _parsed(states["issued_at"], dt.datetime.fromisoformat)
    except (ValueError, TypeError, OSError, pd.errors.ParserError) as error:
        log.warning("%s: cannot be read as an earlier issue (%s); changes are not shown against it", path, error)
        return None
    if cache is not None and not cached:
        cache.write(path, {column: raw[column] for column in STATE_COLUMNS})
    return states


def _parsed(values: list[str], parse) -> list:
    """``parse`` applied to every one of ``values``, once per distinct value (an issue has a few
    dozen dates over thousands of districts, and one issue time)."""
    known = {value: parse(value) for value in set(values)}
    return [known[value] for value in values]


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
    """The districts of ``current`` whose state differs from ``previous``, in ``current``'s order.

    With no previous issue, every district with a restriction or groundwater ban counts as a
    change from "no restriction" (the first issue announces all restrictions in force).
    A district new to the setup is compared with "no restriction".
    """
    return _compare(None if previous is None else _columns(previous), _columns(current), issued_at)


_COMPARED = ("district_id", "name", "water_board", "restriction", "groundwater_ban", "valid_from")


def _columns(table: pd.DataFrame) -> dict[str, list]:
    """The columns of ``table`` that a comparison reads, as plain values."""
    return {column: table[column].tolist() for column in _COMPARED}


def _compare(previous: dict[str, list] | None, current: dict[str, list], issued_at: dt.datetime) -> list[Change]:
    """:func:`compare_issues` on columns of plain values (see :func:`_read_states`)."""
    ids, restrictions, bans = current["district_id"], current["restriction"], current["groundwater_ban"]
    if previous is not None and previous["district_id"] == ids:
        # the same districts in the same order, as from one day to the next: compared as whole
        # columns, and only the few districts that changed are looked at one by one
        differ = ((np.asarray(previous["restriction"], dtype=object) != np.asarray(restrictions, dtype=object))
                  | (np.asarray(previous["groundwater_ban"], dtype=bool) != np.asarray(bans, dtype=bool)))
        rows = np.flatnonzero(differ).tolist()
        before = {ids[i]: (previous["restriction"][i], bool(previous["groundwater_ban"][i])) for i in rows}
    else:
        rows = range(len(ids))
        before = {} if previous is None else {
            district: (restriction, bool(ban))
            for district, restriction, ban in zip(previous["district_id"], previous["restriction"],
                                                  previous["groundwater_ban"], strict=True)}
    changes = []
    for i in rows:
        district = ids[i]
        now = (restrictions[i], bool(bans[i]))
        was = before.get(district, ("none", False))
        way = direction(was, now)
        if way:
            changes.append(Change(district_id=district, name=current["name"][i], water_board=current["water_board"][i],
                                  restriction=now[0], groundwater_ban=now[1], valid_from=_day(current["valid_from"][i]),
                                  was_restriction=was[0], was_groundwater_ban=was[1], direction=way,
                                  issued_at=issued_at))
    return changes


def change_history(archive: Path, current: pd.DataFrame, issued_at: dt.datetime, *,
                   cache: IssueCache | None = None) -> list[Change]:
    """Every change over the archived issues and the current one, newest first.

    ``archive``: the site's ``archive/`` folder of earlier issues, one folder per issue
    (``archive/<valid_from>/<issued_at UTC stamp>/``, see ``dashboards.site.archive_name``).
    Only the newest ``MAX_ARCHIVED_ISSUES`` readable issues are compared, taken by the issue
    time in their folder's name, plus the one before them as the state the oldest of them is
    compared with: a season of daily issues costs each run no more than ``MAX_ARCHIVED_ISSUES``
    reads, and the window's oldest issue does not announce every restriction again as if it
    were the first. ``cache``: as for :func:`read_issue`.
    """
    folders = sorted((p.parent for p in Path(archive).glob("*/*/restrictions.csv")), key=_issue_order)
    issues = []
    for folder in reversed(folders):
        states = _read_states(folder, cache)
        if states is not None and states["district_id"]:
            issues.append(states)
            if len(issues) > MAX_ARCHIVED_ISSUES:
                break
    issues.sort(key=lambda states: states["issued_at"][0])
    previous = issues.pop(0) if len(issues) > MAX_ARCHIVED_ISSUES else None
    timeline = [(states, states["issued_at"][0]) for states in issues]
    timeline.append((_columns(current), issued_at))
    history: list[Change] = []
    for states, when in timeline:
        history.extend(_compare(previous, states, when))
        previous = states
    history.sort(key=lambda c: (c.issued_at, c.district_id), reverse=True)
    return history


def _issue_order(folder: Path) -> tuple[str, int, str]:
    """Sort key of an archived issue's folder: its UTC issue stamp (``YYYYMMDDTHHMMSSffffffZ``,
    which sorts as text in time order), then the ``-N`` of the same time published again."""
    stamp, _, repeat = folder.name.partition("-")
    return stamp, int(repeat) if repeat.isdigit() else 1, folder.parent.name


def _day(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
