"""Reconciling files that overlap: one value per key, chosen by a stated rule, never silently.

Several files of one setup can hold the same well, sensor or station on the same day or
time: DINOloket exports a well in two layouts (``_0`` and ``_1``), an export is delivered
again with a longer period, two PI files share a sensor. Before anything is stored, the rows
of all files read in one ingest are reconciled on the table's natural key:

* **exact duplicates** (every value equal, or both missing) are dropped: they are one reading;
* **conflicting values**: the row of the file with the higher precedence is kept and each
  other row is quarantined, naming both files and both values.

Precedence is the order in which the caller lists the files: the ingest flows list them in
the order of the configuration, except that for groundwater a file giving levels in m NAP
itself goes before one whose NAP levels were derived from depths below the surface (DINO's
``_0`` layout), since the derivation uses a rounded surface level. Readings that differ
only in a clock time the format does not really carry are made one reading by the reader
(the DINO reader keeps the day), so they meet here as equal keys.

Across runs the processed store's upsert applies: a newer delivery of a file replaces the
values stored from an older one (see :mod:`pipelines.store`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.ingest.sources.errors import Quarantined


def reconcile(
    parts: list[tuple[Path, pd.DataFrame]], key: list[str], values: list[str]
) -> tuple[pd.DataFrame, list[Quarantined], int]:
    """Rows of ``parts`` (file, rows) with one row per ``key``, the first part winning.

    Returns the reconciled rows (columns of the parts), the quarantined conflicting rows and
    the number of exact duplicates dropped. ``values`` are the columns compared.
    """
    frames = [frame.assign(_part=rank) for rank, (_, frame) in enumerate(parts) if len(frame)]
    if not frames:
        empty = parts[0][1].iloc[0:0] if parts else pd.DataFrame()
        return empty.reset_index(drop=True), [], 0
    rows = pd.concat(frames, ignore_index=True).sort_values("_part", kind="stable")
    repeated = rows.duplicated(key, keep="first").to_numpy()
    if not repeated.any():
        return rows.drop(columns="_part").reset_index(drop=True), [], 0
    winners = rows.loc[~repeated].set_index(key)
    losers = rows.loc[repeated]
    kept = winners.loc[pd.MultiIndex.from_frame(losers[key]) if len(key) > 1 else losers[key[0]]]
    same = np.ones(len(losers), dtype=bool)
    for column in values:
        a = losers[column].to_numpy(dtype=object)
        b = kept[column].to_numpy(dtype=object)
        same &= np.array([_equal(x, y) for x, y in zip(a, b)], dtype=bool)
    quarantined = []
    for (_, loser), (_, winner) in zip(losers.loc[~same].iterrows(), kept.loc[~same].reset_index().iterrows()):
        loser_path, winner_path = parts[int(loser["_part"])][0], parts[int(winner["_part"])][0]
        where = ", ".join(f"{k}={loser[k]}" for k in key)
        theirs = {c: _show(winner[c]) for c in values}
        ours = {c: _show(loser[c]) for c in values}
        quarantined.append(Quarantined(
            Path(loser_path), None,
            f"{where} is also in {Path(winner_path).name} with other values ({ours} here, {theirs} there);"
            f" the value of {Path(winner_path).name} is kept (it comes first; see pipelines.ingest.reconcile)",
            f"{where} {ours}"))
    result = rows.loc[~repeated].drop(columns="_part").reset_index(drop=True)
    return result, quarantined, int(same.sum())


def _equal(a: object, b: object) -> bool:
    if _missing(a) and _missing(b):
        return True
    if _missing(a) or _missing(b):
        return False
    if isinstance(a, (float, np.floating)) or isinstance(b, (float, np.floating)):
        try:
            return bool(np.isclose(float(a), float(b), rtol=0, atol=1e-9))
        except (TypeError, ValueError):
            return False
    return a == b


def _missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _show(value: object) -> object:
    if _missing(value):
        return None
    if isinstance(value, (np.floating, float)):
        return round(float(value), 6)
    if isinstance(value, np.integer):
        return int(value)
    return str(value) if not isinstance(value, (int, float)) else value
