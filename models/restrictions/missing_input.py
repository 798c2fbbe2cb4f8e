"""Decisions whose input is missing altogether: kept from the decision log, or unknown.

A station, well or sensor that falls silent leaves its district's indicator NaN from that day
on, and a NaN neither starts nor lifts a restriction (:mod:`models.restrictions.rules`): the
state of the last day with data stands. When a whole source holds no row at all (a first run
with its files broken, or its processed table lost), the indicators it feeds are NaN for the
whole season (``without_data`` of ``indicators.nc``, :mod:`models.indicators.dataset`), so
the rules recomputed from the season start would find nothing to start a restriction with:
every ban that rested on that source would be withdrawn because its input vanished.

Here, per district and track (surface water, groundwater) that a rule on such an indicator
feeds:

* **an earlier decision exists** (the decision log decided the district on or before the
  day): the log's decisions stand for the days it decided, and its state on its last decided
  day is carried to the new days. Other rules of the track (whose inputs are whole) may still
  make it stricter, never lighter: :func:`hold_decisions`.
* **no earlier decision** (a first run): the decisions of the other rules are kept, and the
  district's state for that track is *unknown* where a rule without input could have made it
  stricter than they did (:func:`uncertain_tracks`); the published pages and open data say
  "onbekend" / "unknown" (:func:`mark_unknown`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr

from models.restrictions.rules import DECISION_COLUMNS, Restriction, RuleTable
from models.wording import source_name

TRACKS = ("surface_water", "groundwater")


def unknown_indicators(indicators: xr.Dataset) -> dict[str, set[str]]:
    """Per indicator variable: the districts where it is unknown because its whole source holds
    no data (from the ``without_data`` variable and each variable's ``source`` attribute)."""
    if "without_data" not in indicators:
        return {}
    mask = indicators["without_data"]
    out: dict[str, set[str]] = {}
    for name, variable in indicators.data_vars.items():
        source = variable.attrs.get("source")
        if source is not None and source in mask["source"].values and "district" in variable.dims:
            row = mask.sel(source=source)
            out[str(name)] = set(row["district"].values[row.values.astype(bool)].astype(str))
    return out


def affected_tracks(unknown: Mapping[str, set[str]], rules: RuleTable,
                    water_board: Mapping[str, str]) -> dict[tuple[str, str], int]:
    """``{(district, track): severity}`` for every district and track that a rule on an
    unknown indicator feeds; the severity is the highest such a rule could set."""
    out: dict[tuple[str, str], int] = {}
    for district, board in water_board.items():
        for rule in rules.for_board(board):
            if district in unknown.get(rule.indicator, ()):
                key = (district, rule.restriction.track)
                out[key] = max(out.get(key, 0), rule.restriction.severity)
    return out


def _track_of(restrictions: pd.Series) -> np.ndarray:
    return np.where(restrictions == Restriction.GROUNDWATER_BAN.value, "groundwater", "surface_water")


def _severity(restriction: str) -> int:
    return Restriction(restriction).severity


def has_earlier_decision(log: pd.DataFrame, district: str, last: pd.Timestamp | None,
                         first: pd.Timestamp) -> bool:
    """Whether the log decided ``district`` on ``last`` (its last decided day, on or after the
    evaluated period's ``first`` day): the surface-water track has a record for every decided
    day, so a district without one on that day was never decided."""
    if last is None or last < first:
        return False
    rows = log[(log["district_id"] == district) & (log["restriction"] != Restriction.GROUNDWATER_BAN.value)]
    covers = (rows["valid_from"] <= last) & (rows["valid_until"].isna() | (rows["valid_until"] >= last))
    return bool(covers.any())


def without_earlier_decision(new: pd.DataFrame, log: pd.DataFrame, affected: Mapping[tuple[str, str], int], *,
                             last_decided: pd.Timestamp | None, day: pd.Timestamp,
                             before: set[tuple[str, str]] = frozenset()) -> set[tuple[str, str]]:
    """The affected district tracks that have no valid earlier decision: the log never decided
    the district, or the track was already without one in the run before (``before``, kept in
    ``unknown_decisions.parquet``): what the log holds for it then rests on the rules with input
    alone, a lower bound, not a state to keep."""
    day = pd.Timestamp(day).normalize()
    last = None if last_decided is None else min(pd.Timestamp(last_decided).normalize(), day)
    out = set()
    for key in affected:
        rows = new[new["district_id"] == key[0]]
        if key in before or rows.empty or not has_earlier_decision(log, key[0], last, rows["valid_from"].min()):
            out.add(key)
    return out


def hold_decisions(new: pd.DataFrame, log: pd.DataFrame, affected: Mapping[tuple[str, str], int], *,
                   last_decided: pd.Timestamp | None, until: pd.Timestamp,
                   undecided: set[tuple[str, str]] = frozenset()) -> pd.DataFrame:
    """``new`` decisions (from :func:`~models.restrictions.rules.decide`) with the tracks in
    ``affected`` taken from the decision log where it decided them.

    ``log``: the current decisions of the log (:func:`~models.restrictions.decision_log.current_decisions`);
    ``last_decided``: the last day the log decided (``timeline.json``); ``until``: the last day
    of ``new``. Day by day, the log's state stands unless the new decisions are stricter; after
    the log's last day its state on that day is carried. A district the log never decided keeps
    its new decisions (see :func:`uncertain_tracks`), and so does every track in ``undecided``
    (:func:`without_earlier_decision`).
    """
    if not affected or new.empty:
        return new
    until = pd.Timestamp(until).normalize()
    last = None if last_decided is None else min(pd.Timestamp(last_decided).normalize(), until)
    new_track = _track_of(new["restriction"])
    log_track = _track_of(log["restriction"]) if len(log) else np.array([], dtype=str)
    keep = np.ones(len(new), dtype=bool)
    rebuilt: list[dict] = []
    for (district, track) in sorted(set(affected) - set(undecided)):
        of_new = (new["district_id"] == district).to_numpy()
        if not of_new.any():
            continue
        first = new.loc[of_new, "valid_from"].min()
        if not has_earlier_decision(log, district, last, first):
            continue
        days = pd.date_range(first, until)
        new_rows = new[of_new & (new_track == track)]
        log_rows = log[((log["district_id"] == district).to_numpy() & (log_track == track))
                       & (log["valid_from"] >= first).to_numpy()]
        new_level, new_index = _daily(new_rows, days, end=until)
        log_level, log_index = _daily(log_rows, days, end=last)
        if track == "groundwater":  # no record: no ban, a decided state all the same
            log_level = np.where((days <= last) & (log_level < 0), 0, log_level)
        at_last = days.get_loc(last)
        log_level[at_last + 1:] = log_level[at_last]  # the last decided state is carried
        log_index[at_last + 1:] = log_index[at_last]
        from_log = (log_level >= 0) & (log_level >= new_level)
        keep &= ~(of_new & (new_track == track))
        rebuilt += _segments(days, from_log, log_level, log_index, log_rows, new_level, new_index, new_rows)
    if not rebuilt and keep.all():
        return new
    out = pd.concat([new[keep], pd.DataFrame(rebuilt, columns=list(DECISION_COLUMNS))], ignore_index=True)
    for column in ("valid_from", "valid_until", "triggered_on"):
        out[column] = pd.to_datetime(out[column]).astype("datetime64[us]")
    return out.sort_values(["district_id", "valid_from", "restriction"], ignore_index=True)


def _daily(rows: pd.DataFrame, days: pd.DatetimeIndex, *, end: pd.Timestamp | None):
    """Per day of ``days``: the severity of the row in force (-1 none) and its position in ``rows``;
    an open row runs to ``end``."""
    level = np.full(len(days), -1, dtype=np.int64)
    index = np.full(len(days), -1, dtype=np.int64)
    if end is None:
        return level, index
    for i, row in enumerate(rows.itertuples(index=False)):
        stop = end if pd.isna(row.valid_until) else min(row.valid_until, end)
        on = (days >= row.valid_from) & (days <= stop)
        level[on] = _severity(row.restriction)
        index[on] = i
    return level, index


def _segments(days, from_log, log_level, log_index, log_rows, new_level, new_index, new_rows) -> list[dict]:
    """Decision rows for the runs of days with the same chosen record (log or new)."""
    choice = [("log", int(log_index[t]), int(log_level[t])) if from_log[t] else ("new", int(new_index[t]), int(new_level[t]))
              for t in range(len(days))]
    rows = []
    start = 0
    for t in range(1, len(days) + 1):
        if t < len(days) and choice[t] == choice[start]:
            continue
        origin, position, level = choice[start]
        if position >= 0:  # a day without a record (no groundwater ban) adds no row
            table = log_rows if origin == "log" else new_rows
            row = {c: table.iloc[position][c] for c in DECISION_COLUMNS}
            if days[start] != row["valid_from"]:
                row["valid_from"] = days[start]
            row["valid_until"] = pd.NaT if t == len(days) else days[t - 1]
            rows.append(row)
        start = t
    return rows


def uncertain_tracks(decisions: pd.DataFrame, affected: Mapping[tuple[str, str], int],
                     undecided: set[tuple[str, str]], *, day: pd.Timestamp) -> dict[tuple[str, str], int]:
    """The ``undecided`` district tracks whose state on ``day`` is below what a rule without
    input could set, so the true state is unknown: ``{(district, track): severity the rules with
    input decided}``."""
    day = pd.Timestamp(day).normalize()
    out = {}
    for key in sorted(undecided):
        district, track = key
        rows = decisions[decisions["district_id"] == district]
        on = rows[(rows["valid_from"] <= day) & (rows["valid_until"].isna() | (rows["valid_until"] >= day))]
        on = on[_track_of(on["restriction"]) == track]
        level = max((_severity(r) for r in on["restriction"]), default=0)
        if level < affected[key]:
            out[key] = level
    return out


#: What is certain all the same: the level the rules with input decided (not said for none).
KNOWN_LEVEL = (" Wel geldt zeker: {known_nl}.", " What does apply for certain: {known_en}.")
#: Why a state is unknown, per track: (Dutch, English) with ``{source}`` the missing data.
UNKNOWN_REASON = {
    "surface_water": ("Metingen van {source_nl} ontbreken. Daarom weten we nu niet of u hier water uit sloten "
                      "en vaarten mag halen.",
                      "Measurements of {source_en} are missing. So we do not know now whether you may take "
                      "water from ditches and canals here."),
    "groundwater": ("Metingen van {source_nl} ontbreken. Daarom weten we nu niet of u hier mag beregenen "
                    "met grondwater.",
                    "Measurements of {source_en} are missing. So we do not know now whether you may irrigate "
                    "with groundwater here."),
}
UNKNOWN_MEANING = ("Vraag het waterschap of u water mag halen, tot de metingen er weer zijn.",
                   "Ask the water board whether you may take water, until the measurements are back.")


def mark_unknown(in_force: pd.DataFrame, uncertain: Mapping[tuple[str, str], int],
                 sources: Mapping[str, str]) -> pd.DataFrame:
    """The decisions in force (one row per district, :func:`~models.restrictions.proposal.decisions_on`)
    with the uncertain tracks marked: ``restriction`` ``unknown`` (surface water) and
    ``groundwater_ban_unknown`` (bool). ``sources``: per track the source whose data are missing."""
    from models.wording import restriction_name

    out = in_force.copy()
    out["groundwater_ban_unknown"] = False
    for (district, track), level in uncertain.items():
        row = out["district_id"] == district
        source = sources.get(track, "")
        names = {lang: source_name(source, lang=lang) for lang in ("nl", "en")}
        if track == "surface_water":
            decided = str(out.loc[row, "restriction"].iloc[0])
            known = {lang: restriction_name(decided, lang=lang) for lang in ("nl", "en")}
            for k, lang in enumerate(("nl", "en")):
                text = UNKNOWN_REASON[track][k] + (KNOWN_LEVEL[k] if decided != "none" else "")
                out.loc[row, f"reason_{lang}"] = text.format(
                    source_nl=names["nl"], source_en=names["en"], known_nl=known["nl"].lower(),
                    known_en=known["en"].lower())
                out.loc[row, f"meaning_{lang}"] = UNKNOWN_MEANING[k]
                out.loc[row, f"exemptions_{lang}"] = ""
            out.loc[row, "restriction"] = "unknown"
            out.loc[row, "rule"] = ""
        else:
            out.loc[row, "groundwater_ban_unknown"] = True
            for k, lang in enumerate(("nl", "en")):
                out.loc[row, f"groundwater_reason_{lang}"] = UNKNOWN_REASON[track][k].format(
                    source_nl=names["nl"], source_en=names["en"])
    return out
