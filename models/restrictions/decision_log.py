"""The decision log: every restriction decision ever issued, never rewritten silently.

The log is an append-only table of *records*. Each record is one decision (the columns of
:data:`models.restrictions.rules.DECISION_COLUMNS`) plus

* ``record_id`` (str): a stable id, a hash of the record's content, ``issued_at`` and what it
  corrects;
* ``issued_at`` (datetime64, UTC): when the run that issued it merged it into the log;
* ``corrects`` (str or missing): the ``record_id`` of the record this one replaces;
* ``change`` (str): ``new`` (a decision not seen before), ``closed`` (an open record got its
  last day, nothing else changed), ``corrected`` (anything else about it changed, e.g. after
  late or corrected input data) or ``withdrawn`` (the decision no longer follows from the
  inputs; the record repeats the old content).

A record is *current* when no later record corrects it; the decisions in force are the current
records that are not ``withdrawn`` (:func:`current_decisions`). Re-running a day with the same
inputs adds nothing, so runs are idempotent.

:func:`merge_decisions` compares per district only the records that start on or after the
first day of the new decisions for that district (their evaluated period; the surface-water
track always has a record starting there). So decide from a fixed start, the season start,
each day: records that began before the evaluated period are left as they are.

Stored as Parquet by the processed store (``pipelines/store.py``, ``Store.write_decision_log``),
through its one atomic writer, after :func:`checked_for_saving`; read back through
:func:`checked_log`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import pandas as pd

from models.restrictions.rules import DECISION_COLUMNS, Restriction

LOG_COLUMNS = ("record_id", "issued_at", "corrects", "change", *DECISION_COLUMNS)
CHANGES = ("new", "closed", "corrected", "withdrawn")
_DATE_COLUMNS = ("valid_from", "valid_until", "triggered_on")
_FLOAT_COLUMNS = ("value", "threshold")


def empty_log() -> pd.DataFrame:
    """A log with no records, with the columns and dtypes of every log."""
    return _typed(pd.DataFrame({c: [] for c in LOG_COLUMNS}), where="empty log")


def _typed(df: pd.DataFrame, *, where: str, columns: tuple[str, ...] = LOG_COLUMNS):
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{where}: missing columns {missing}; expected {list(columns)}")
    df = df.loc[:, list(columns)].copy()
    for c in columns:
        if c in _DATE_COLUMNS:
            df[c] = pd.to_datetime(df[c]).astype("datetime64[us]")
        elif c in _FLOAT_COLUMNS:
            df[c] = df[c].astype("float64")
        elif c == "issued_at":
            df[c] = pd.to_datetime(df[c], utc=True).astype("datetime64[us, UTC]")
        elif c == "corrects":
            df[c] = df[c].astype("str")  # missing stays missing: nothing corrected
        else:
            df[c] = df[c].astype("str")
    return df


def current_decisions(log: pd.DataFrame) -> pd.DataFrame:
    """The decisions in force: records no later record corrects, minus withdrawn ones.

    Sorted by district, first day and restriction.
    """
    corrected = set(log["corrects"].dropna())
    keep = ~log["record_id"].isin(corrected) & (log["change"] != "withdrawn")
    order = ["district_id", "valid_from", "restriction"]
    return log.loc[keep].sort_values(order, ignore_index=True)


def merge_decisions(
    log: pd.DataFrame, new: pd.DataFrame, *, issued_at: datetime | pd.Timestamp
) -> pd.DataFrame:
    """The log with the records that ``new`` decisions (from :func:`decide`) add to it.

    ``issued_at`` must be time-zone aware; it is stored in UTC. A decision equal to a current
    record adds nothing; one that differs from a current record of the same district, track
    and (overlapping) period adds a ``closed`` or ``corrected`` record naming it in
    ``corrects``; a current record within the evaluated period that no new decision matches
    gets a ``withdrawn`` record. Old records are kept unchanged.
    """
    stamp = pd.Timestamp(issued_at)
    if stamp.tzinfo is None:
        raise ValueError(f"issued_at: {stamp} has no time zone; expected an aware time, "
                         "e.g. pd.Timestamp.now(tz='UTC')")
    stamp = stamp.tz_convert("UTC")
    log = _typed(log, where="log")
    new = _typed(new, where="new decisions", columns=DECISION_COLUMNS)
    key = ["district_id", "restriction", "valid_from"]
    dup = new.duplicated(key)
    if dup.any():
        first = new.loc[dup, key].iloc[0].to_dict()
        raise ValueError(f"new decisions: more than one record for {first}")

    current = current_decisions(log)
    window = new.groupby("district_id")["valid_from"].min()
    start = current["district_id"].map(window)
    in_scope = current.loc[start.notna() & (current["valid_from"] >= start)]

    added: list[dict] = []
    olds = {_key(r): r for r in in_scope.to_dict("records")}
    unmatched_new = []
    for rec in new.to_dict("records"):
        old = olds.pop(_key(rec), None)
        if old is None:
            unmatched_new.append(rec)
        elif not _same(old, rec):
            added.append(_record(rec, stamp, corrects=old["record_id"], change=_change(old, rec)))
    for rec in unmatched_new:
        old = next((o for o in olds.values() if _overlaps(o, rec)), None)
        if old is None:
            added.append(_record(rec, stamp, corrects=None, change="new"))
        else:
            del olds[_key(old)]
            added.append(_record(rec, stamp, corrects=old["record_id"], change="corrected"))
    for old in olds.values():
        content = {c: old[c] for c in DECISION_COLUMNS}
        added.append(_record(content, stamp, corrects=old["record_id"], change="withdrawn"))
    if not added:
        return log
    additions = _typed(pd.DataFrame(added), where="new records")
    additions = additions.sort_values(["district_id", "valid_from", "restriction"])
    return pd.concat([log, additions], ignore_index=True)


def close_before(log: pd.DataFrame, start: pd.Timestamp, *, issued_at: datetime | pd.Timestamp,
                 last_day=None) -> pd.DataFrame:
    """The log with every decision still open from before ``start`` closed (``closed`` records).

    Decisions are made season by season: a season's hysteresis starts afresh at its first day
    (``start``), so a restriction left open by an earlier season (or an earlier back-test in
    the same folder) must not stay in force in this one. It ends on ``last_day`` (the last day
    its timeline decided) when that is before ``start``, else on the day before ``start``.
    """
    stamp = pd.Timestamp(issued_at)
    if stamp.tzinfo is None:
        raise ValueError(f"issued_at: {stamp} has no time zone; expected an aware time")
    start = pd.Timestamp(start).normalize()
    end = start - pd.Timedelta(days=1)
    if last_day is not None and pd.Timestamp(last_day) < start:
        end = pd.Timestamp(last_day).normalize()
    log = _typed(log, where="log")
    current = current_decisions(log)
    stale = current[(current["valid_from"] < start) & current["valid_until"].isna()]
    if stale.empty:
        return log
    added = []
    for old in stale.to_dict("records"):
        content = {c: old[c] for c in DECISION_COLUMNS}
        content["valid_until"] = max(end, old["valid_from"])
        added.append(_record(content, stamp.tz_convert("UTC"), corrects=old["record_id"], change="closed"))
    return pd.concat([log, _typed(pd.DataFrame(added), where="closed records")], ignore_index=True)


def _key(rec: dict) -> tuple:
    return rec["district_id"], rec["restriction"], rec["valid_from"]


def _track(restriction: str) -> str:
    return Restriction(restriction).track


def _overlaps(old: dict, new: dict) -> bool:
    """Same district and track, and periods that share at least one day."""
    if old["district_id"] != new["district_id"]:
        return False
    if _track(old["restriction"]) != _track(new["restriction"]):
        return False
    far = pd.Timestamp.max
    old_end = far if pd.isna(old["valid_until"]) else old["valid_until"]
    new_end = far if pd.isna(new["valid_until"]) else new["valid_until"]
    return old["valid_from"] <= new_end and new["valid_from"] <= old_end


def _equal(a: object, b: object) -> bool:
    if pd.isna(a) and pd.isna(b):
        return True
    if pd.isna(a) or pd.isna(b):
        return False
    return a == b


def _same(old: dict, new: dict) -> bool:
    return all(_equal(old[c], new[c]) for c in DECISION_COLUMNS)


def _change(old: dict, new: dict) -> str:
    others = [c for c in DECISION_COLUMNS if c != "valid_until"]
    closing = pd.isna(old["valid_until"]) and not pd.isna(new["valid_until"])
    return "closed" if closing and all(_equal(old[c], new[c]) for c in others) else "corrected"


def _record(content: dict, stamp: pd.Timestamp, *, corrects: str | None, change: str) -> dict:
    rec = {c: content[c] for c in DECISION_COLUMNS}
    rec |= {"issued_at": stamp, "corrects": corrects, "change": change}
    text = "\x1f".join(
        "" if pd.isna(v) else (v.isoformat() if hasattr(v, "isoformat") else repr(v))
        for v in (stamp, corrects, change, *(rec[c] for c in DECISION_COLUMNS))
    )
    rec["record_id"] = hashlib.sha256(text.encode()).hexdigest()[:16]
    return rec


def checked_for_saving(df: pd.DataFrame, *, where: str) -> pd.DataFrame:
    """The log typed and checked before it is stored: ``ValueError`` naming ``where`` when a
    column has the wrong type or a ``record_id`` occurs twice."""
    df = _typed(df, where=where)
    if df["record_id"].duplicated().any():
        dup = df.loc[df["record_id"].duplicated(), "record_id"].iloc[0]
        raise ValueError(f"{where}: record_id {dup!r} occurs more than once")
    return df


def checked_log(df: pd.DataFrame, *, where: str) -> pd.DataFrame:
    """A stored log read back, typed; ``ValueError`` naming ``where`` when it is malformed."""
    log = _typed(df, where=where)
    bad = sorted(set(log["change"]) - set(CHANGES))
    if bad:
        raise ValueError(f"{where}: column 'change' has {bad}; expected one of {list(CHANGES)}")
    return log


__all__ = [
    "LOG_COLUMNS",
    "CHANGES",
    "empty_log",
    "current_decisions",
    "merge_decisions",
    "close_before",
    "checked_for_saving",
    "checked_log",
]
